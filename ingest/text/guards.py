"""Checks run before any parser sees the bytes: size, zip bombs, password protection."""

from __future__ import annotations

import io
import struct
import zipfile

import olefile

from ingest.text.errors import FileBomb, FileCorrupt, FileEncrypted
from ingest.text.model import Format
from ingest.text.settings import TextSettings

_BIG_ENTRY = 10 * 1024 * 1024


def check_zip(data: bytes, fmt: Format, settings: TextSettings) -> None:
    """Refuse zip packages that would expand past the limits, or that are encrypted.

    Python's zipfile never inflates an entry past its declared size, so capping the declared
    sizes caps what the Office parsers can decompress.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > settings.max_zip_entries:
                raise FileBomb(
                    f"Tệp nén chứa quá nhiều thành phần ({len(infos)} > "
                    f"{settings.max_zip_entries}).",
                    entries=len(infos), limit=settings.max_zip_entries,
                )
            total = 0
            for info in infos:
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _BIG_ENTRY and ratio > settings.max_zip_ratio:
                    raise FileBomb(
                        f"Thành phần “{info.filename}” giải nén lớn gấp {ratio:.0f} lần kích "
                        "thước nén: nghi là bom giải nén.",
                        entry=info.filename, ratio=round(ratio), limit=settings.max_zip_ratio,
                    )
                if info.flag_bits & 0x1:
                    raise FileEncrypted(
                        "Tệp được bảo vệ bằng mật khẩu, không thể đọc nội dung.",
                        format=fmt.value,
                    )
            if total > settings.max_unzipped_bytes:
                raise FileBomb(
                    f"Tệp giải nén ra {total // (1024 * 1024)} MiB, vượt giới hạn "
                    f"{settings.max_unzipped_bytes // (1024 * 1024)} MiB.",
                    unzipped_bytes=total, limit=settings.max_unzipped_bytes,
                )
            if fmt in (Format.ODT, Format.ODS) and "META-INF/manifest.xml" in zf.namelist():
                manifest = zf.getinfo("META-INF/manifest.xml")
                if manifest.file_size < 4 * 1024 * 1024 and b"encryption-data" in zf.read(
                    manifest
                ):
                    raise FileEncrypted(
                        "Tệp OpenDocument được bảo vệ bằng mật khẩu, không thể đọc nội dung.",
                        format=fmt.value,
                    )
    except zipfile.BadZipFile as exc:
        raise FileCorrupt(
            f"Tệp {fmt.value} bị hỏng (gói zip không đọc được).", format=fmt.value
        ) from exc


def check_doc_encrypted(data: bytes) -> None:
    """Word 97-2003: the FIB flag fEncrypted (bit 8 of the word at offset 0x0A)."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            stream = ole.openstream("WordDocument").read(12)
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise FileCorrupt("Tệp .doc bị hỏng (cấu trúc OLE không đọc được).") from exc
    if len(stream) < 12:
        raise FileCorrupt("Tệp .doc bị hỏng (thiếu phần đầu FIB).")
    (flags,) = struct.unpack_from("<H", stream, 0x0A)
    if flags & 0x0100:
        raise FileEncrypted("Tệp .doc được bảo vệ bằng mật khẩu, không thể đọc nội dung.")
