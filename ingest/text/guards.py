"""Checks run before any parser sees the bytes: size, zip and PDF stream bombs, password
protection."""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import zipfile
import zlib

import olefile

from ingest.text.errors import FileBomb, FileCorrupt, FileEncrypted
from ingest.text.model import Format
from ingest.text.settings import TextSettings
from kho.zips import READABLE_METHODS

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
                if info.compress_type not in READABLE_METHODS:
                    raise FileCorrupt(
                        f"Thành phần “{info.filename}” của tệp {fmt.value} dùng phương pháp nén "
                        f"không được hỗ trợ (mã {info.compress_type}).",
                        format=fmt.value, entry=info.filename, method=info.compress_type,
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


_STREAM = re.compile(rb"stream\r?\n")
_FILTERS = re.compile(rb"/(FlateDecode|Fl|ASCIIHexDecode|AHx|ASCII85Decode|A85)(?![A-Za-z0-9])")
_DICT_WINDOW = 4096
_CHUNK = 1 << 16


def _inflated_size(raw: bytes | memoryview, budget: int) -> int:
    """Bytes one zlib stream inflates to, counted without keeping them; stops past ``budget``.
    Data that is not zlib counts what inflated before the error (pdfium does the same)."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        for start in range(0, len(raw), _CHUNK):
            chunk = inflater.decompress(raw[start : start + _CHUNK], min(budget - size + 1, _CHUNK * 16))
            size += len(chunk)
            while inflater.unconsumed_tail and not inflater.eof and size <= budget:
                chunk = inflater.decompress(inflater.unconsumed_tail, min(budget - size + 1, _CHUNK * 16))
                size += len(chunk)
            if size > budget or inflater.eof:
                break
    except zlib.error:
        pass
    return size


def _ascii_decoded(body: bytes, hex_first: bool) -> bytes:
    """The bytes under an ASCIIHex or ASCII85 layer (empty when they do not decode)."""
    try:
        if hex_first:
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", body.split(b">", 1)[0])
            return binascii.unhexlify(digits[: len(digits) // 2 * 2])
        text = body.split(b"~>", 1)[0]
        return base64.a85decode(re.sub(rb"\s", b"", text.removeprefix(b"<~")) + b"~>", adobe=True)
    except ValueError:
        return b""


def check_pdf_streams(data: bytes, settings: TextSettings) -> None:
    """Refuse a PDF whose Flate streams (also under an ASCIIHex/ASCII85 layer) inflate past the
    limits, before pdfium inflates any of them whole. Every stream is tried as zlib data, so a
    dictionary too long to read back to does not hide one; other data (JPEG, JBIG2, plain)
    fails zlib's header at once. The dictionary is read only for the ASCII layers."""
    limit = max(settings.max_pdf_inflated_bytes, settings.max_pdf_inflate_ratio * len(data))
    view = memoryview(data)
    total = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        head = data.rfind(b"obj", max(0, match.start() - _DICT_WINDOW), match.start())
        filters = _FILTERS.findall(data, head, match.start()) if head >= 0 else []
        if filters and filters[0] not in (b"FlateDecode", b"Fl") and (
            b"FlateDecode" in filters or b"Fl" in filters
        ):
            end = data.find(b"endstream", start)
            body = data[start : end if end >= 0 else len(data)]
            layer = _ascii_decoded(body, filters[0] in (b"ASCIIHexDecode", b"AHx"))
            total += _inflated_size(layer, limit - total)
        else:
            total += _inflated_size(view[start:], limit - total)
        if total > limit:
            raise FileBomb(
                f"Tệp PDF có luồng dữ liệu nén giải nén ra hơn {limit // (1024 * 1024)} MiB "
                f"(gấp hơn {settings.max_pdf_inflate_ratio} lần kích thước tệp): nghi là bom "
                "giải nén.",
                format="pdf", limit=limit,
            )


def refuse_pdf_bomb(data: bytes) -> None:
    """:func:`check_pdf_streams` with the default limits, for a stored original about to be
    opened outside the text step (page images, page counts, the print copy): a bomb is in the
    store when it was registered before the guard existed, or stored by ingest and then refused
    by it (the original is kept)."""
    check_pdf_streams(data, TextSettings())
