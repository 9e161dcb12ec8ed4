"""The extractor interface, its two backends and :func:`extract_text`.

PDFs and images always go through the same path (pdfium text layer, Tesseract OCR) in both
backends; office and plain-text formats go to Apache Tika when ``KHO_TIKA_URL`` is set and to
native parsers otherwise.
"""

from __future__ import annotations

from typing import Protocol

from ingest.text.errors import (
    FileEmpty,
    FileEncrypted,
    FileTooLarge,
    FileTypeMismatch,
    FileUnsupported,
    text_too_large,
)
from ingest.text.guards import check_pdf_streams, check_zip
from ingest.text.images import extract_image
from ingest.text.model import (
    IMAGE_FORMATS,
    OFFICE_FORMATS,
    ZIP_FORMATS,
    ExtractedText,
    FileFormat,
    Format,
    TextPart,
    TextSource,
    TextWarning,
    clean_text,
    detect_language,
)
from ingest.text.office import extract_office
from ingest.text.pdf import extract_pdf
from ingest.text.settings import TextSettings
from ingest.text.sniff import sniff_format


class Extractor(Protocol):
    """A text-extraction backend. ``fmt`` has been checked by :func:`check_file`."""

    name: str

    def extract(self, data: bytes, fmt: FileFormat) -> ExtractedText: ...


def _assemble(
    fmt: Format, raw: list[tuple[str | None, str]], source: TextSource, extractor: str,
    warnings: list[TextWarning],
) -> ExtractedText:
    parts = tuple(
        TextPart(number=i, text=clean_text(text).strip(), source=source, label=label)
        for i, (label, text) in enumerate(raw, start=1)
    )
    return ExtractedText(
        format=fmt, parts=parts, page_count=None,
        language=detect_language(" ".join(p.text for p in parts)),
        extractor=extractor, warnings=tuple(warnings),
    )


class NativeExtractor:
    """The embedded default: no service needed."""

    name = "native"

    def __init__(self, settings: TextSettings | None = None) -> None:
        self.settings = settings or TextSettings()

    def extract(self, data: bytes, fmt: FileFormat) -> ExtractedText:
        if fmt.format is Format.PDF:
            return extract_pdf(data, self.settings, extractor=self.name)
        if fmt.format in IMAGE_FORMATS:
            return extract_image(data, fmt.format, self.settings, extractor=self.name)
        raw, warnings = extract_office(data, fmt.format, self.settings)
        return _assemble(fmt.format, raw, TextSource.NATIVE, self.name, warnings)


class TikaExtractor:
    """Office formats through an Apache Tika server; PDFs and images as the native path."""

    name = "tika"

    def __init__(self, url: str, settings: TextSettings | None = None) -> None:
        # Imported here, not with this module: its HTTP client (requests, urllib3: ~80 ms of
        # CPU) is needed only where a Tika URL is set, and every bulk import's parent paid it
        # before forking its workers (bench/NOTES-m18.md).
        from ingest.text.tika import TikaClient

        self.settings = settings or TextSettings(tika_url=url)
        self.client = TikaClient(url, timeout=self.settings.tika_timeout,
                                 max_text_chars=self.settings.max_text_chars)
        self._native = NativeExtractor(self.settings)

    def extract(self, data: bytes, fmt: FileFormat) -> ExtractedText:
        if fmt.format is Format.PDF:
            return extract_pdf(data, self.settings, extractor=self.name)
        if fmt.format in IMAGE_FORMATS:
            return extract_image(data, fmt.format, self.settings, extractor=self.name)
        from ingest.text.tika import tika_parts

        items = self.client.rmeta_text(data, fmt)
        return _assemble(fmt.format, tika_parts(items), TextSource.TIKA, self.name, [])


def get_extractor(settings: TextSettings) -> Extractor:
    """Tika when ``settings.tika_url`` is set, else native."""
    if settings.tika_url:
        return TikaExtractor(settings.tika_url, settings)
    return NativeExtractor(settings)


def check_file(data: bytes, filename: str | None, settings: TextSettings) -> FileFormat:
    """Checks every backend relies on: size, format, extension, zip bombs, encryption."""
    if not data:
        raise FileEmpty("Tệp rỗng (0 byte), không có nội dung để trích xuất.", filename=filename)
    if len(data) > settings.max_file_bytes:
        raise FileTooLarge(
            f"Tệp dài {len(data) // (1024 * 1024)} MiB, vượt giới hạn "
            f"{settings.max_file_bytes // (1024 * 1024)} MiB.",
            bytes=len(data), limit=settings.max_file_bytes,
        )
    fmt = sniff_format(data, filename)
    if fmt.mismatch:
        raise FileTypeMismatch(
            f"Tên tệp có đuôi .{fmt.declared_extension} nhưng nội dung là tệp "
            f"{fmt.format.value}.",
            filename=filename, declared=fmt.declared_extension, detected=fmt.format.value,
        )
    if fmt.format is Format.OOXML_ENCRYPTED:
        raise FileEncrypted(
            "Tệp Office được bảo vệ bằng mật khẩu, không thể đọc nội dung.", filename=filename
        )
    if fmt.format is Format.UNKNOWN or not (
        fmt.format is Format.PDF or fmt.format in IMAGE_FORMATS or fmt.format in OFFICE_FORMATS
    ):
        raise FileUnsupported(
            "Định dạng tệp không được hỗ trợ (chấp nhận: pdf, doc, docx, odt, rtf, txt, xls, "
            "xlsx, ods, csv, jpg, png, tif, bmp, gif, webp).",
            filename=filename, declared=fmt.declared_extension,
        )
    if fmt.format in ZIP_FORMATS:
        check_zip(data, fmt.format, settings)
    if fmt.format is Format.PDF:
        check_pdf_streams(data, settings)
    return fmt


def extract_text(
    data: bytes, filename: str | None = None, *, settings: TextSettings | None = None,
    extractor: Extractor | None = None,
) -> ExtractedText:
    """Text of one document, NFC, each page or part tagged with the way its text came.

    ``settings`` defaults to :meth:`TextSettings.from_env`; ``extractor`` to
    :func:`get_extractor` of those settings. Raises a :class:`kho.errors.KhoError` subclass
    (see ``ingest.text.errors``) for every bad input; ``data`` is never modified.
    """
    settings = settings or TextSettings.from_env()
    fmt = check_file(data, filename, settings)
    result = (extractor or get_extractor(settings)).extract(data, fmt)
    # One bound for every format and backend (Tika is asked for no more than it, too): the
    # text is kept beside the original and sent whole to the index.
    found = sum(len(part.text) for part in result.parts)
    if found > settings.max_text_chars:
        raise text_too_large(settings.max_text_chars, chars=found, filename=filename)
    return result
