"""Results of text extraction: frozen, NFC, each page or part tagged with the way its text came."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Format(StrEnum):
    """A file format recognised from content (not from the file name)."""

    PDF = "pdf"
    DOC = "doc"
    DOCX = "docx"
    ODT = "odt"
    RTF = "rtf"
    TXT = "txt"
    CSV = "csv"
    XLS = "xls"
    XLSX = "xlsx"
    ODS = "ods"
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    BMP = "bmp"
    GIF = "gif"
    WEBP = "webp"
    OOXML_ENCRYPTED = "ooxml-encrypted"
    """An Office 2007+ file protected by a password (an OLE2 container holding EncryptedPackage)."""
    EMPTY = "empty"
    UNKNOWN = "unknown"
    """Not one of the formats the regulations allow (or not recognisable)."""


MIME_TYPES: dict[Format, str] = {
    Format.PDF: "application/pdf",
    Format.DOC: "application/msword",
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.ODT: "application/vnd.oasis.opendocument.text",
    Format.RTF: "application/rtf",
    Format.TXT: "text/plain",
    Format.CSV: "text/csv",
    Format.XLS: "application/vnd.ms-excel",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    Format.JPEG: "image/jpeg",
    Format.PNG: "image/png",
    Format.TIFF: "image/tiff",
    Format.BMP: "image/bmp",
    Format.GIF: "image/gif",
    Format.WEBP: "image/webp",
    Format.OOXML_ENCRYPTED: "application/x-tika-ooxml-protected",
    Format.EMPTY: "application/x-empty",
    Format.UNKNOWN: "application/octet-stream",
}

IMAGE_FORMATS = frozenset(
    {Format.JPEG, Format.PNG, Format.TIFF, Format.BMP, Format.GIF, Format.WEBP}
)
OFFICE_FORMATS = frozenset(
    {Format.DOC, Format.DOCX, Format.ODT, Format.RTF, Format.TXT, Format.CSV, Format.XLS,
     Format.XLSX, Format.ODS}
)
ZIP_FORMATS = frozenset({Format.DOCX, Format.XLSX, Format.ODT, Format.ODS})


@dataclass(frozen=True)
class FileFormat:
    """What the bytes are, and whether the declared file name agrees."""

    format: Format
    """Format recognised from the content."""
    declared_extension: str | None = None
    """Lower-case extension of the given file name without the dot, if any."""
    declared_format: Format | None = None
    """Format that extension claims; ``None`` when there is no name or the extension is unknown."""

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def mismatch(self) -> bool:
        """The extension names a known format and the content is a different one."""
        if self.declared_format is None or self.format in (Format.EMPTY, Format.UNKNOWN):
            return False
        if self.format is Format.OOXML_ENCRYPTED:
            return self.declared_format not in (Format.DOCX, Format.XLSX)
        return self.declared_format is not self.format


class TextSource(StrEnum):
    """The way a page's or part's text came."""

    TEXT_LAYER = "text-layer"
    """The PDF's own text layer (pdfium), exact."""
    OCR = "ocr"
    """Tesseract on the rendered page or the image."""
    NATIVE = "native"
    """A Python or Debian parser of an office or text format."""
    TIKA = "tika"
    """An Apache Tika server."""
    NONE = "none"
    """No text: an empty page, or a page whose OCR did not finish or was not allowed."""


@dataclass(frozen=True)
class TextWarning:
    """Something a person should know about the extraction of one document."""

    code: str
    message: str
    """Vietnamese, for a person."""
    page: int | None = None


@dataclass(frozen=True)
class TextPart:
    """Text of one page (paginated formats) or one part (a sheet, a body)."""

    number: int
    """1-based page or part number."""
    text: str
    """NFC-normalised text."""
    source: TextSource
    label: str | None = None
    """Sheet name or embedded resource name, when the part has one."""


@dataclass(frozen=True)
class ExtractedText:
    """Text of one document. It is derived data: the original file is never changed."""

    format: Format
    parts: tuple[TextPart, ...]
    page_count: int | None
    """Pages of a paginated format (PDF, multi-page TIFF); ``None`` for reflowable formats."""
    language: str | None
    """``"vi"`` when the text is recognisably Vietnamese, else ``None`` (undetermined)."""
    extractor: str
    """``"native"`` or ``"tika"``: the backend that ran."""
    ocr_language: str | None = None
    """Tesseract language actually used, when any page was OCR'd (``vie``, or ``eng`` fallback)."""
    warnings: tuple[TextWarning, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """All parts, separated by a blank line (pages by a form feed)."""
        sep = "\f" if self.page_count is not None else "\n\n"
        return sep.join(p.text for p in self.parts)

    @property
    def sources(self) -> frozenset[TextSource]:
        return frozenset(p.source for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, to be stored beside the original."""
        return {
            "format": self.format.value,
            "page_count": self.page_count,
            "language": self.language,
            "extractor": self.extractor,
            "ocr_language": self.ocr_language,
            "parts": [
                {"number": p.number, "text": p.text, "source": p.source.value, "label": p.label}
                for p in self.parts
            ],
            "warnings": [
                {"code": w.code, "message": w.message, "page": w.page} for w in self.warnings
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractedText:
        return cls(
            format=Format(data["format"]),
            parts=tuple(
                TextPart(
                    number=p["number"], text=p["text"], source=TextSource(p["source"]),
                    label=p.get("label"),
                )
                for p in data["parts"]
            ),
            page_count=data.get("page_count"),
            language=data.get("language"),
            extractor=data["extractor"],
            ocr_language=data.get("ocr_language"),
            warnings=tuple(
                TextWarning(code=w["code"], message=w["message"], page=w.get("page"))
                for w in data.get("warnings", ())
            ),
        )


_CONTROL = {c: None for c in range(32) if c not in (9, 10, 12)} | {0x7F: None}
_CONTROL_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_CONTROL)) + "]")
"""Any character of :data:`_CONTROL`: ``str.translate`` with a dict looks every character up
(~0.2 ms a page of Vietnamese text), a search for one of them runs at C speed, and a text
layer rarely holds one once its ``\\r`` are line ends."""
_VI_LETTERS = frozenset(
    "ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)


def clean_text(text: str) -> str:
    """NFC, ``\\n`` line ends, no control characters other than tab, newline and form feed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL_RE.search(text):  # else translate would copy the text unchanged
        text = text.translate(_CONTROL)
    return unicodedata.normalize("NFC", text)


_WORD_WITH_LETTER_RE = re.compile(r"(?<!\S)\S*?[^\W\d_]")
_WORD_WITH_VI_LETTER_RE = re.compile(r"(?<!\S)\S*?[" + "".join(sorted(_VI_LETTERS)) + r"]")
"""One match for each word (a run of non-space characters) holding a letter / a Vietnamese
letter: from the word's start to that letter's first one. Matches start only where a word does,
so a word without one is read once: ``\\S*[...]\\S*`` tried it again from each of its
characters, a time quadratic in its length (a text layer with one 20,000-digit word took 5 s
here, 10 million characters days, in the pipeline's own process, which has no time limit)."""


def detect_language(text: str) -> str | None:
    """``"vi"`` when at least a fifth of the words carry Vietnamese letters, else ``None``."""
    lowered = text.lower()
    words = len(_WORD_WITH_LETTER_RE.findall(lowered))
    if words < 3:
        return None
    marked = len(_WORD_WITH_VI_LETTER_RE.findall(lowered))
    return "vi" if marked * 5 >= words else None
