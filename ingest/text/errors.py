"""Errors of text extraction: one class per kind, each with a stable code and a Vietnamese message.

File problems are :class:`kho.errors.BadFile` (HTTP 422): the document is kept, its text status
records the code. ``OcrTimeout`` and ``TikaUnavailable`` are retryable conditions of the
machinery, not of the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kho.errors import BadFile, KhoError

if TYPE_CHECKING:
    from ingest.text.model import ExtractedText


class FileEmpty(BadFile):
    code = "FILE_EMPTY"


class FileTooLarge(BadFile):
    code = "FILE_TOO_LARGE"
    http_status = 413


class FileUnsupported(BadFile):
    code = "FILE_UNSUPPORTED"
    http_status = 415


class FileTypeMismatch(BadFile):
    code = "FILE_TYPE_MISMATCH"


class FileEncrypted(BadFile):
    code = "FILE_ENCRYPTED"


class FileCorrupt(BadFile):
    code = "FILE_CORRUPT"


class FileTooManyPages(BadFile):
    code = "FILE_TOO_MANY_PAGES"


class FileTextTooLarge(BadFile):
    """More text than :attr:`TextSettings.max_text_chars` (nothing of it is kept)."""

    code = "FILE_TEXT_TOO_LARGE"


def text_too_large(limit: int, **details: Any) -> FileTextTooLarge:
    """The refusal of a file with more than ``limit`` characters of text."""
    shown = f"{limit:,}".replace(",", ".")
    return FileTextTooLarge(
        f"Tệp chứa quá nhiều văn bản (hơn {shown} ký tự), không trích xuất được nội dung; "
        "hãy tách tệp thành nhiều phần.",
        limit=limit, **details,
    )


class FileBomb(BadFile):
    """Content that would expand far beyond its size (zip, image or page-size bombs)."""

    code = "FILE_BOMB"


class FileTooComplex(BadFile):
    """Reading the PDF's text layer went past its memory or time bound (forms drawn inside
    forms, a content stream of millions of text objects): ``TextSettings.text_layer_memory_mb``,
    ``text_layer_timeout``."""

    code = "FILE_TOO_COMPLEX"


class OcrUnavailable(KhoError):
    code = "OCR_UNAVAILABLE"
    http_status = 503


class OcrFailed(KhoError):
    code = "OCR_FAILED"
    http_status = 500


class OcrKilled(OcrFailed):
    """Tesseract was killed from outside (SIGKILL: the kernel's out-of-memory killer, most
    often) on a page, and again when the page was read once more at a lower resolution: the
    document ends ``lỗi`` with this code, never with the page's text silently empty."""

    code = "OCR_KILLED"
    http_status = 503


class OcrTimeout(KhoError):
    """A page took longer than the per-page OCR limit.

    ``partial`` holds what was extracted before the limit was hit (pages that did not finish
    have source ``none`` and a warning), so a caller may keep it while it records the status.
    """

    code = "OCR_TIMEOUT"
    http_status = 504

    def __init__(
        self, message: str, *, partial: ExtractedText | None = None, **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.partial = partial


class TikaUnavailable(KhoError):
    code = "TIKA_UNAVAILABLE"
    http_status = 503


class ExtractionFailed(KhoError):
    """An external tool (antiword, Tika) failed in a way that says nothing about the file."""

    code = "TEXT_EXTRACTION_FAILED"
    http_status = 500
