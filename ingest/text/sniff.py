"""Recognise a file's format from its bytes, and check the declared extension against it."""

from __future__ import annotations

import io

import olefile

from ingest.text.model import ZIP_FORMATS, FileFormat, Format
from ingest.text.settings import TextSettings
from kho.zips import DAMAGED_ENTRY_ERRORS, entries_at_most, open_zip

EXTENSIONS: dict[str, Format] = {
    "pdf": Format.PDF, "doc": Format.DOC, "docx": Format.DOCX, "odt": Format.ODT,
    "rtf": Format.RTF, "txt": Format.TXT, "text": Format.TXT, "csv": Format.CSV,
    "xls": Format.XLS, "xlsx": Format.XLSX, "ods": Format.ODS, "jpg": Format.JPEG,
    "jpeg": Format.JPEG, "jpe": Format.JPEG, "png": Format.PNG, "tif": Format.TIFF,
    "tiff": Format.TIFF, "bmp": Format.BMP, "gif": Format.GIF, "webp": Format.WEBP,
}
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": Format.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": Format.ODS,
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def declared_extension(filename: str | None) -> str | None:
    if not filename or "." not in filename.rsplit("/", 1)[-1]:
        return None
    ext = filename.rsplit(".", 1)[-1].strip().lower()
    return ext or None


def sniff_format(data: bytes, filename: str | None = None) -> FileFormat:
    """Format of ``data`` from its content; ``filename`` only supplies the claim to check.

    Never raises: empty input is ``Format.EMPTY``, anything unrecognised ``Format.UNKNOWN``.
    Plain text is ``TXT``, or ``CSV`` when the name says ``.csv`` (the two are not told apart
    by content).
    """
    ext = declared_extension(filename)
    declared = EXTENSIONS.get(ext) if ext else None
    fmt = _sniff(data, declared)
    if fmt is Format.TXT and declared is Format.CSV:
        fmt = Format.CSV
    return FileFormat(format=fmt, declared_extension=ext, declared_format=declared)


def _sniff(data: bytes, declared: Format | None) -> Format:
    if not data:
        return Format.EMPTY
    head = data[:1024]
    if b"%PDF-" in head:
        return Format.PDF
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, declared)
    if data.startswith(_OLE_MAGIC):
        return _sniff_ole(data, declared)
    if data.lstrip()[:5] == b"{\\rtf":
        return Format.RTF
    if data.startswith(b"\xff\xd8\xff"):
        return Format.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Format.PNG
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return Format.TIFF
    if data.startswith(b"BM") and len(data) > 26:
        return Format.BMP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return Format.GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Format.WEBP
    if _looks_like_text(data[:65536]):
        return Format.TXT
    return Format.UNKNOWN


SNIFF_ZIP_ENTRIES = TextSettings().max_zip_entries
"""Above this many entries a zip is not opened to be recognised (zipfile builds an object per
entry as it opens it): it is what its name claims, and :func:`~ingest.text.guards.check_zip`
refuses it as a bomb."""


def _sniff_zip(data: bytes, declared: Format | None) -> Format:
    if not entries_at_most(io.BytesIO(data), SNIFF_ZIP_ENTRIES):
        return declared if declared in ZIP_FORMATS else Format.UNKNOWN
    try:
        with open_zip(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 200:
                    return _ODF_MIMETYPES.get(zf.read(info).strip(), Format.UNKNOWN)
            if "word/document.xml" in names:
                return Format.DOCX
            if "xl/workbook.xml" in names:
                return Format.XLSX
    except (*DAMAGED_ENTRY_ERRORS, KeyError):  # (the ``mimetype`` entry encrypted, Deflate64: rv46)
        # A damaged package still is what its name claims if that is a zip-based format;
        # extraction then reports it corrupt.
        if declared in ZIP_FORMATS:
            return declared
    return Format.UNKNOWN


def _sniff_ole(data: bytes, declared: Format | None) -> Format:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("EncryptedPackage"):
                return Format.OOXML_ENCRYPTED
            if ole.exists("WordDocument"):
                return Format.DOC
            if ole.exists("Workbook") or ole.exists("Book"):
                return Format.XLS
    except (OSError, ValueError, IndexError, TypeError):
        # A damaged container still is what its name claims; extraction reports it corrupt.
        if declared in (Format.DOC, Format.XLS):
            return declared
    return Format.UNKNOWN


def _looks_like_text(sample: bytes) -> bool:
    if sample.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls * 100 <= len(sample)
