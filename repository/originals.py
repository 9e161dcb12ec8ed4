"""Rules for original files: allowed formats, size limit, conforming file names. Pure."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from kho.errors import BadFile
from repository.vocabulary import has_hidden_characters

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_NAME_LENGTH = 50

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"

# Formats the regulations allow for electronic documents and attachments, by extension:
# (media type, accepted leading bytes; None = text, checked as UTF-8).
PDF_MEDIA_TYPE = "application/pdf"
"""The one format whose signatures ingest verifies (the registration gate asks for its verdict)."""

FORMATS: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": (PDF_MEDIA_TYPE, (b"%PDF-",)),
    "doc": ("application/msword", (_OLE,)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (_ZIP,),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (_ZIP,)),
    "rtf": ("application/rtf", (b"{\\rtf",)),
    "txt": ("text/plain", None),
    "xls": ("application/vnd.ms-excel", (_OLE,)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (_ZIP,)),
    "csv": ("text/csv", None),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    "tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "bmp": ("image/bmp", (b"BM",)),
    "webp": ("image/webp", (b"RIFF",)),
}


@dataclass(frozen=True)
class OriginalInfo:
    """What Kho records of an original when it arrives."""

    sha256: str
    size: int
    original_name: str
    stored_name: str
    extension: str
    media_type: str


def extension_of(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def conforming_name(name: str, sha256: str) -> str:
    """A file name that follows the rule: ≤ 50 ASCII characters, no diacritics or specials.

    ``Quyết định số 12.pdf`` → ``Quyet_dinh_so_12.pdf``. Falls back to the digest when nothing
    is left of the name.
    """
    ext = extension_of(name)
    stem = name[: -(len(ext) + 1)] if ext else name
    stem = unicodedata.normalize("NFD", stem.replace("đ", "d").replace("Đ", "D"))
    stem = "".join(ch for ch in stem if not unicodedata.combining(ch))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    stem = re.sub(r"_+", "_", stem)
    if not stem:
        stem = sha256[:16]
    suffix = f".{ext}" if ext else ""
    return stem[: MAX_NAME_LENGTH - len(suffix)] + suffix


def name_conforms(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(re.fullmatch(r"[A-Za-z0-9._-]+", name))


def check_original(data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> OriginalInfo:
    """Accept or refuse an original; raise :class:`BadFile` with a specific code."""
    if not name or "/" in name or "\\" in name or has_hidden_characters(name, line_breaks=True):
        raise BadFile(
            "Tên tệp không hợp lệ: không được chứa “/”, “\\”, ký tự điều khiển, xuống dòng hay ký tự"
            " đảo chiều văn bản.",
            code="FILE_NAME_INVALID",
            name=name,
        )
    if len(data) == 0:
        raise BadFile(f"Tệp “{name}” rỗng (0 byte).", code="FILE_EMPTY", name=name)
    if len(data) > max_bytes:
        raise BadFile(
            f"Tệp “{name}” có dung lượng {len(data) / 1048576:.1f} MB, vượt giới hạn"
            f" {max_bytes / 1048576:.0f} MB.",
            code="FILE_TOO_LARGE",
            name=name,
            size=len(data),
            limit=max_bytes,
        )
    ext = extension_of(name)
    if ext not in FORMATS:
        allowed = ", ".join(sorted(FORMATS))
        raise BadFile(
            f"Định dạng tệp “.{ext}” không được phép. Các định dạng được phép: {allowed}."
            if ext
            else f"Tệp “{name}” không có phần mở rộng; không xác định được định dạng.",
            code="FILE_FORMAT_NOT_ALLOWED",
            name=name,
        )
    media_type, magics = FORMATS[ext]
    if magics is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadFile(
                f"Tệp văn bản “{name}” không phải UTF-8 (TCVN 6909:2001).",
                code="FILE_TYPE_MISMATCH",
                name=name,
            ) from exc
    elif not any(data.startswith(m) for m in magics):
        raise BadFile(
            f"Nội dung tệp “{name}” không đúng định dạng .{ext} như phần mở rộng khai báo.",
            code="FILE_TYPE_MISMATCH",
            name=name,
        )
    digest = hashlib.sha256(data).hexdigest()
    return OriginalInfo(
        sha256=digest,
        size=len(data),
        original_name=unicodedata.normalize("NFC", name),
        stored_name=name if name_conforms(name) else conforming_name(name, digest),
        extension=ext,
        media_type=media_type,
    )
