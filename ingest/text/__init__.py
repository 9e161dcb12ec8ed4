"""Text extraction for ingest: PDF text layers, Tesseract OCR of scans, office formats through
native parsers or an Apache Tika server. See :func:`extract_text`.

The names below are imported on first use (PEP 562): a bounded pdfium worker
(``python -m ingest.text._worker``) imports this package on its way to :mod:`ingest.text.pdf`
and should not pay for the extractor, Tika's HTTP client or the office parsers at start."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.text.errors import (
        ExtractionFailed,
        FileBomb,
        FileCorrupt,
        FileEmpty,
        FileEncrypted,
        FileTextTooLarge,
        FileTooComplex,
        FileTooLarge,
        FileTooManyPages,
        FileTypeMismatch,
        FileUnsupported,
        OcrFailed,
        OcrTimeout,
        OcrUnavailable,
        TikaUnavailable,
    )
    from ingest.text.extractor import (
        Extractor,
        NativeExtractor,
        TikaExtractor,
        check_file,
        extract_text,
        get_extractor,
    )
    from ingest.text.model import (
        ExtractedText,
        FileFormat,
        Format,
        TextPart,
        TextSource,
        TextWarning,
    )
    from ingest.text.ocr import OcrResult, PageImage, ocr_pages
    from ingest.text.settings import TextSettings
    from ingest.text.sniff import sniff_format

_EXPORTS = {
    "ExtractedText": "ingest.text.model",
    "ExtractionFailed": "ingest.text.errors",
    "Extractor": "ingest.text.extractor",
    "FileBomb": "ingest.text.errors",
    "FileCorrupt": "ingest.text.errors",
    "FileEmpty": "ingest.text.errors",
    "FileEncrypted": "ingest.text.errors",
    "FileFormat": "ingest.text.model",
    "FileTextTooLarge": "ingest.text.errors",
    "FileTooComplex": "ingest.text.errors",
    "FileTooLarge": "ingest.text.errors",
    "FileTooManyPages": "ingest.text.errors",
    "FileTypeMismatch": "ingest.text.errors",
    "FileUnsupported": "ingest.text.errors",
    "Format": "ingest.text.model",
    "NativeExtractor": "ingest.text.extractor",
    "OcrFailed": "ingest.text.errors",
    "OcrResult": "ingest.text.ocr",
    "OcrTimeout": "ingest.text.errors",
    "OcrUnavailable": "ingest.text.errors",
    "PageImage": "ingest.text.ocr",
    "TextPart": "ingest.text.model",
    "TextSettings": "ingest.text.settings",
    "TextSource": "ingest.text.model",
    "TextWarning": "ingest.text.model",
    "TikaExtractor": "ingest.text.extractor",
    "TikaUnavailable": "ingest.text.errors",
    "check_file": "ingest.text.extractor",
    "extract_text": "ingest.text.extractor",
    "get_extractor": "ingest.text.extractor",
    "ocr_pages": "ingest.text.ocr",
    "sniff_format": "ingest.text.sniff",
}
"""Public name → the module that defines it."""


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ExtractedText",
    "ExtractionFailed",
    "Extractor",
    "FileBomb",
    "FileCorrupt",
    "FileEmpty",
    "FileEncrypted",
    "FileFormat",
    "FileTextTooLarge",
    "FileTooComplex",
    "FileTooLarge",
    "FileTooManyPages",
    "FileTypeMismatch",
    "FileUnsupported",
    "Format",
    "NativeExtractor",
    "OcrFailed",
    "OcrResult",
    "OcrTimeout",
    "OcrUnavailable",
    "PageImage",
    "TextPart",
    "TextSettings",
    "TextSource",
    "TextWarning",
    "TikaExtractor",
    "TikaUnavailable",
    "check_file",
    "extract_text",
    "get_extractor",
    "ocr_pages",
    "sniff_format",
]
