"""What Python's zipfile can read, shared by every reader of zip containers from outside (SIP
packages, Office documents): one list of methods and one list of errors for damaged entries."""

from __future__ import annotations

import lzma
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import BinaryIO

READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
"""Compression methods zipfile reads; any other (Deflate64 = 9, AES = 99) raises
NotImplementedError when the entry is opened, so it is refused before."""

DAMAGED_ENTRY_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)
"""What reading a damaged or unreadable entry raises, by method (bz2 raises OSError, a password
RuntimeError), a local header whose name is marked UTF-8 and is not (``UnicodeDecodeError``, a
``ValueError``, from ``ZipFile.open``), and an entry whose header offset lies before the start of
a zip held in memory (``BytesIO.seek`` of a negative value is a ``ValueError`` where a file's
is an ``OSError``: an end record whose directory offset is too large, review rv46)."""


class ZipNameNotUtf8(zipfile.BadZipFile):
    """An entry's name marked UTF-8 (bit 11 of its flags) whose bytes are not UTF-8: what it
    would be extracted as depends on the unzip tool."""


def open_zip(file: str | os.PathLike[str] | BinaryIO) -> zipfile.ZipFile:
    """``zipfile.ZipFile(file)`` for a zip from outside, where every zip zipfile cannot open is a
    :class:`zipfile.BadZipFile` (chained): zipfile itself raises ``UnicodeDecodeError`` for a name
    marked UTF-8 that is not (:class:`ZipNameNotUtf8`) and ``NotImplementedError`` for a header
    that claims a later version of the format (``zip file version 15.9``); both went past the
    readers' ``except BadZipFile`` (a 500 on a nộp lưu package, review rv45)."""
    try:
        return zipfile.ZipFile(file)
    except UnicodeDecodeError as exc:
        raise ZipNameNotUtf8(f"entry name marked UTF-8 is not UTF-8: {exc.object[:200]!r}") from exc
    except NotImplementedError as exc:
        raise zipfile.BadZipFile(str(exc)) from exc


_END = struct.Struct("<4s4H2LH")
"""End of central directory record: signature, disk numbers, entry counts, size and offset."""
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_ENTRY = struct.Struct("<4s6H3L5H2L")
"""A central directory header; its name, extra and comment lengths are fields 10 to 12."""


def entries_at_most(fp: BinaryIO, limit: int) -> bool:
    """Whether the zip in ``fp`` has at most ``limit`` entries, counted by walking the headers of
    its central directory, found as ``zipfile`` finds it, and never more than ``limit + 1`` of
    them. ``zipfile.ZipFile`` builds an object for every entry as it opens a file, before any
    caller can count them: 950,000 empty entries fit in a 51 MB upload and cost 450 MB of
    memory and 5 s of CPU to open. The counts the end record states are not read (zipfile does
    not read them either, so they may lie). True for what is not a zip: zipfile refuses it."""
    fp.seek(0, 2)
    size = fp.tell()
    tail_start = max(0, size - _END.size - 0xFFFF)
    fp.seek(tail_start)
    tail = fp.read()
    if len(tail) >= _END.size and tail[-_END.size : -_END.size + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0":
        at = len(tail) - _END.size  # no comment: zipfile looks there first
    else:
        at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        return True
    end = tail_start + at
    size_cd = _END.unpack_from(tail, at)[5]
    start = end - size_cd
    # zipfile takes a ZIP64 end record whenever its locator sits just before the end record.
    if end >= _END64_LOCATOR.size + _END64.size:
        fp.seek(end - _END64_LOCATOR.size - _END64.size)
        record, locator = fp.read(_END64.size), fp.read(_END64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            size_cd = _END64.unpack(record)[8]
            start = end - _END64_LOCATOR.size - _END64.size - size_cd
    if size_cd // _ENTRY.size <= limit:
        return True
    fp.seek(max(0, start))
    position, count = 0, 0
    while position < size_cd:
        header = fp.read(_ENTRY.size)
        if len(header) < _ENTRY.size or header[:4] != b"PK\x01\x02":
            return True  # a central directory zipfile cannot read: it refuses the file itself
        count += 1
        if count > limit:
            return False
        skip = sum(_ENTRY.unpack(header)[10:13])
        fp.seek(skip, 1)
        position += _ENTRY.size + skip
    return True


UNICODE_PATH = 0x7075
"""The Info-ZIP Unicode Path extra field: a second name for an entry, in UTF-8, which 7-Zip and
libarchive extract under instead of the header's name. Python's zipfile ignores it."""


def unicode_paths(extra: bytes) -> list[str]:
    """The names an entry's extra field ``extra`` gives it in Unicode Path fields (UTF-8; bytes
    that are not are shown as U+FFFD, so such a name never equals a real one)."""
    names, at = [], 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<2H", extra, at)
        body = extra[at + 4 : at + 4 + size]
        if kind == UNICODE_PATH and len(body) >= 5:
            names.append(body[5:].decode("utf-8", "replace"))  # after its version and CRC-32
        at += 4 + size
    return names


def local_extra(fp: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """The extra field of ``info``'s local header (what a tool that streams the archive reads,
    which need not be the central directory's); empty when there is no local header there."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return b""
    name_length, extra_length = struct.unpack_from("<2H", header, 26)
    fp.seek(name_length, 1)
    return fp.read(extra_length)


_LOCAL = struct.Struct("<4s5H3L2H")
"""A local file header: signature, version, flags, method, time, date, CRC-32, sizes, name and
extra lengths."""
LOCAL_SIGNATURE = b"PK\x03\x04"
_DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
_ZIP64_EXTRA = 0x0001
_DESCRIPTOR = {False: struct.Struct("<3L"), True: struct.Struct("<L2Q")}
"""A data descriptor after its optional signature: CRC-32, compressed and uncompressed size
(8 bytes each when the entry's local header has a ZIP64 field)."""
_STREAM_SIGNATURES = (LOCAL_SIGNATURE, _DESCRIPTOR_SIGNATURE, b"PK\x01\x02")
"""What a stream reader looks for to find the end of a stored entry with a data descriptor."""


def hidden_local_entry(fp: BinaryIO, infos: list[zipfile.ZipInfo], central_start: int) -> int | None:
    """The offset of the first entry a tool that reads the zip front to back (Java's
    ``ZipInputStream``, ``unzip -`` on a pipe, a stream extractor) would find and the central
    directory does not name, or None. Such a tool reads local headers in order, so every byte
    before the central directory must be a named entry: its local header, its data of the size
    the central directory gives, and its data descriptor. A local header signature in any byte
    outside them (before the first entry, between two, after the last), an entry whose local
    header states another compressed size than the central directory, or two entries sharing
    bytes, is a place where the two readings disagree. Prefixed bytes without a local header
    (a self-extracting stub) are not judged: no reader takes an entry from them."""
    spans = []
    for info in infos:
        fp.seek(info.header_offset)
        header = fp.read(_LOCAL.size)
        if len(header) < _LOCAL.size or header[:4] != LOCAL_SIGNATURE:
            continue  # zipfile refuses the entry when it is opened
        fields = _LOCAL.unpack(header)
        flags, local_compressed, name_length, extra_length = fields[2], fields[7], fields[9], fields[10]
        extra = fp.read(name_length + extra_length)[name_length:]
        zip64 = _has_field(extra, _ZIP64_EXTRA)
        if not flags & 0x08 and local_compressed not in (info.compress_size, 0xFFFFFFFF):
            return info.header_offset  # a stream reader takes another length than zipfile
        wide = _field(extra, _ZIP64_EXTRA)
        if (
            not flags & 0x08
            and local_compressed == 0xFFFFFFFF
            and (wide is None or len(wide) < 16 or struct.unpack_from("<2Q", wide)[1] != info.compress_size)
        ):
            return info.header_offset  # its ZIP64 field states another length than zipfile reads (rv27)
        start = info.header_offset + _LOCAL.size + name_length + extra_length
        end = start + info.compress_size
        if flags & 0x08:  # a data descriptor: CRC-32 and two sizes, 4 or 8 bytes each, signed or not
            fp.seek(end)
            signed = fp.read(4) == _DESCRIPTOR_SIGNATURE
            fp.seek(end + (4 if signed else 0))
            size = 20 if zip64 else 12
            stated = fp.read(size)
            if len(stated) < size or _DESCRIPTOR[zip64].unpack(stated) != (
                info.CRC,
                info.compress_size,
                info.file_size,
            ):
                return end  # a stream reader takes this entry's CRC or sizes from here (rv27)
            if info.compress_type == zipfile.ZIP_STORED:
                # A stored entry's end is found by a stream reader scanning for the next
                # signature: one inside its data that a reader can take for a record ends the
                # entry there, and the rest is read as entries.
                found = _record_in(fp, start, end)
                if found is not None:
                    return found
            end += (4 if signed else 0) + size
        spans.append((info.header_offset, end))
    spans.sort()
    position = 0
    for start, end in [*spans, (central_start, central_start)]:
        if start < position:
            return start  # two entries share bytes: each reader sees another file there
        found = _signature_in(fp, position, start)
        if found is not None:
            return found
        position = max(position, end)
    return None


def _record_in(fp: BinaryIO, start: int, end: int) -> int | None:
    """The offset of the first zip record a stream reader can take for one in a stored
    entry's data (bytes ``start`` to ``end``), or None. A signature alone is not one: the
    4 bytes of each of the three occur by chance once in 4 GiB of compressed or random data,
    so about 7 % of honest 100 MB stored PDFs hold one (rv27 refused them all). A reader
    that scans a stored entry for its end takes the bytes after a signature as what it
    names, so a record is a signature followed by what it names: a data descriptor whose
    compressed size is the number of bytes before it, or a local or central header of a
    known version and method (a CRC-32 or a size of 32 bits that matches, or a header of one of
    64 versions and 19 methods): by chance, about once in 2^21 signatures."""
    at = start
    while at < end:
        found = _signature_in(fp, at, end, _STREAM_SIGNATURES)
        if found is None:
            return None
        fp.seek(found)
        if _is_record(fp.read(_ENTRY.size), found - start, lambda end=found: _crc_of(fp, start, end)):
            return found
        at = found + 1
    return None


_KNOWN_VERSION = 63
"""The highest "version needed to extract" of the zip specification (6.3)."""
_KNOWN_METHODS = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 19, 93, 95, 96, 97, 98, 99})
"""Compression methods the zip specification names (APPNOTE 4.4.5, 99 = AES)."""


def _is_record(data: bytes, before: int, crc: Callable[[], int]) -> bool:
    """Whether ``data``, which starts with a stream signature ``before`` bytes into a stored
    entry's data, is a record a stream reader takes (:func:`_record_in`): a descriptor whose
    size is ``before`` or whose CRC-32 is that of the bytes before it (``crc``, computed only
    then: a reader that checks only the CRC ends the entry there too), or a header."""
    signature = data[:4]
    if signature == _DESCRIPTOR_SIGNATURE:
        stated_crc, narrow = struct.unpack_from("<2L", data.ljust(12, b"\0"), 4)
        wide = struct.unpack_from("<Q", data.ljust(16, b"\0"), 8)[0]
        return before in (narrow, wide) or stated_crc == crc()
    if signature == LOCAL_SIGNATURE:
        version, method = struct.unpack_from("<H2xH", data.ljust(10, b"\0"), 4)
    else:  # a central header: after its "version made by"
        version, method = struct.unpack_from("<H2xH", data.ljust(12, b"\0"), 6)
    return version <= _KNOWN_VERSION and method in _KNOWN_METHODS


def _crc_of(fp: BinaryIO, start: int, end: int) -> int:
    """The CRC-32 of bytes ``start`` to ``end`` of ``fp``, read in chunks."""
    crc, at = 0, start
    while at < end:
        fp.seek(at)
        data = fp.read(min(1 << 20, end - at))
        if not data:
            break
        crc = zlib.crc32(data, crc)
        at += len(data)
    return crc


def _has_field(extra: bytes, wanted: int) -> bool:
    return _field(extra, wanted) is not None


def _field(extra: bytes, wanted: int) -> bytes | None:
    """The data of the first ``wanted`` field of an extra block, or None."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<2H", extra, at)
        if kind == wanted:
            return extra[at + 4 : at + 4 + size]
        at += 4 + size
    return None


def _signature_in(
    fp: BinaryIO, start: int, end: int, signatures: tuple[bytes, ...] = (LOCAL_SIGNATURE,)
) -> int | None:
    """The offset of the first of ``signatures`` (4 bytes each; a local header's by default)
    in bytes ``start`` to ``end``, or None (read in chunks: a prefix may be large)."""
    chunk = 1 << 20
    at = start
    while at < end:
        fp.seek(at)
        data = fp.read(min(chunk + 3, end - at))
        hits = [i for i in (data.find(s) for s in signatures) if i >= 0]
        if hits:
            return at + min(hits)
        if len(data) <= 3:
            return None
        at += len(data) - 3
    return None
