"""Text extraction for ingest: PDF text layers, Tesseract OCR of scans, office formats through
native parsers or an Apache Tika server. See :func:`extract_text`."""

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
