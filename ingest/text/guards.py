"""Checks run before any parser sees the bytes: size, zip and PDF stream bombs, password
protection."""

from __future__ import annotations

import binascii
import bisect
import io
import itertools
import re
import struct
import zlib
from collections.abc import Iterable, Iterator

import olefile

from ingest.text.errors import FileBomb, FileCorrupt, FileEncrypted
from ingest.text.model import Format
from ingest.text.settings import TextSettings
from kho.zips import DAMAGED_ENTRY_ERRORS, READABLE_METHODS, entries_at_most, open_zip

_BIG_ENTRY = 10 * 1024 * 1024


def check_zip(data: bytes, fmt: Format, settings: TextSettings) -> None:
    """Refuse zip packages that would expand past the limits, or that are encrypted.

    Python's zipfile never inflates an entry past its declared size, so capping the declared
    sizes caps what the Office parsers can decompress.
    """
    if not entries_at_most(io.BytesIO(data), settings.max_zip_entries):  # before zipfile builds them
        raise FileBomb(
            f"Tệp nén chứa quá nhiều thành phần (> {settings.max_zip_entries}).",
            limit=settings.max_zip_entries,
        )
    try:
        with open_zip(io.BytesIO(data)) as zf:
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
    except DAMAGED_ENTRY_ERRORS as exc:  # (a local name marked UTF-8 that is not: UnicodeDecodeError)
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


_STREAM = re.compile(rb"stream(?:\r\n|\r|\n)")
"""The keyword and its end of line: pdfium also takes a lone CR, which ``stream\r?\n`` missed."""
_CHUNK = 1 << 16
_MAX_NESTED = 4
_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX = b"0123456789abcdefABCDEF"
_A85 = bytes(range(ord("!"), ord("u") + 1))
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_SPACE = re.compile(rb"\s")
_ENDSTREAM = re.compile(rb"endstream")
_SCAN_FACTOR = 8
"""How many times its own size a file's layered stream text may be read in all: stream bodies
of a sound PDF do not overlap (each is read once); ``stream`` keywords inside stream data make
them overlap, and past this the file is refused rather than read again and again."""
"""zlib data inflated inside zlib data ([/FlateDecode /FlateDecode]: 1 KB -> 1 MB -> 1 GB)."""


_A85_IGNORED = b" \t\n\r\v"
"""What :func:`base64.a85decode` skips by default (not form feed or NUL: those are errors)."""
_A85_DIGIT_VALUES = bytes(range(256)).translate(bytes((x - 33) % 256 for x in range(256)))
"""Each ASCII85 digit ``!``..``u`` to its value 0..84 (for :meth:`bytes.translate`)."""


def _a85_group(group: bytes) -> bytes:
    """The four bytes of one whole ASCII85 group (five digits ``!``..``u``, as the callers have
    checked): :func:`_a85decode` of it, the same :class:`ValueError` for a group over
    2**32 - 1, without its general machinery. The guard probes the first group of every
    uncompressed stream (26 a document in the bench) only to learn whether it opens zlib or
    LZW data."""
    d0, d1, d2, d3, d4 = group.translate(_A85_DIGIT_VALUES)
    value = (((d0 * 85 + d1) * 85 + d2) * 85 + d3) * 85 + d4
    if value > 0xFFFFFFFF:
        raise ValueError("Ascii85 overflow")
    return value.to_bytes(4, "big")


def _a85decode(data: bytes, *, adobe: bool = False) -> bytes:
    """:func:`base64.a85decode` (default ``ignorechars``, no ``foldspaces``): the same bytes,
    and a :class:`ValueError` for exactly the inputs it refuses (a character that is neither a
    digit, ``z`` nor skipped white space; ``z`` inside a group; a group over 2**32 - 1, the
    last one padded with ``u`` included; with ``adobe``, no closing ``~>``). The standard
    library decodes one character at a time in Python (~0.1 ms per kilobyte); here each of a
    group's five digits is spread into its own 40-bit lane of one integer, so the groups are
    computed together by four multiplications, and the lanes cut back to 32 bits."""
    if adobe:
        if not data.endswith(b"~>"):
            raise ValueError("Ascii85 encoded byte sequences must end with b'~>'")
        data = data[2:-2] if data.startswith(b"<~") else data[:-2]
    digits = data.translate(None, _A85_IGNORED)
    if digits.translate(None, _A85 + b"z"):
        raise ValueError("Non-Ascii85 digit found")
    if b"z" in digits:  # only where a group may start: every run of digits before one is whole
        runs = digits.split(b"z")
        if any(len(run) % 5 for run in runs[:-1]):
            raise ValueError("z inside Ascii85 5-tuple")
        digits = digits.replace(b"z", b"!!!!!")
    tail = len(digits) % 5
    if tail:
        digits += b"u" * (5 - tail)  # as the standard library pads the last group (and checks it)
    groups = len(digits) // 5
    values = digits.translate(_A85_DIGIT_VALUES)
    total = 0
    for place in range(5):
        lanes = bytearray(5 * groups)
        lanes[4::5] = values[place::5]
        total = total * 85 + int.from_bytes(lanes, "big")
    wide = total.to_bytes(5 * groups, "big")
    if wide[0::5].count(0) != groups:
        raise ValueError("Ascii85 overflow")
    out = bytearray(4 * groups)
    for place in range(4):
        out[place::4] = wide[place + 1 :: 5]
    return bytes(out[: len(out) - (5 - tail) if tail else len(out)])


class _Over(Exception):
    """The inflated bytes passed the budget."""


class _Uncounted(Exception):
    """A filter chain the guard cannot count to its end (deeper than it follows, or given by a
    reference it cannot find): refused. Its argument is the reason code."""

    def __init__(self, reason: str = "filter_chain_too_deep") -> None:
        super().__init__(reason)
        self.reason = reason


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def add(self, size: int) -> None:
        self.total += size
        if self.total > self.limit:
            raise _Over


def _zlib_head(head: bytes) -> bool:
    """Whether ``head`` opens a zlib stream (RFC 1950: deflate, a window of at most 32 KiB, a
    header check that divides by 31): what pdfium's Flate decoder needs to inflate anything."""
    if len(head) < 2:
        return False
    return head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and ((head[0] << 8) | head[1]) % 31 == 0


def _slices(data: bytes | memoryview) -> Iterator[bytes | memoryview]:
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        yield view[start : start + _CHUNK]


def _inflated(chunks: Iterator[bytes | memoryview], budget: _Budget) -> Iterator[bytes]:
    """The output of one zlib stream, chunk by chunk, each counted; data that stops being zlib
    ends it (pdfium keeps what inflated before the error)."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            data: bytes | memoryview = chunk
            while data and not inflater.eof:
                out = inflater.decompress(data, _CHUNK * 16)
                budget.add(len(out))
                if out:
                    yield out
                data = inflater.unconsumed_tail
            if inflater.eof:
                return
    except zlib.error:
        return


def _peek(chunks: Iterator[bytes | memoryview], size: int) -> tuple[bytes, Iterator[bytes | memoryview]]:
    """The first ``size`` bytes of ``chunks`` (fewer at its end), and the same stream whole."""
    head = b""
    taken: list[bytes | memoryview] = []
    for chunk in chunks:
        taken.append(chunk)
        head += bytes(chunk[: size - len(head)])
        if len(head) >= size:
            break
    return head, itertools.chain(taken, chunks)


_HEAD = 64
"""Bytes of a layer's data read to know the next layer by."""


def _count_layers(
    chunks: Iterator[bytes | memoryview], budget: _Budget, depth: int = 0, *, lzw: bool = False
) -> None:
    """Count a stream's filter chain layer by layer, each layer's output streamed into the next
    and counted in one ``budget`` over all of them; nothing is kept whole. A layer is known by
    its first bytes (:func:`_layer_of`), as pdfium decodes whatever the dictionary names:
    zlib data (Flate), LZW data opening with its clear-table code (``lzw``: or named LZW by the
    stream's dictionary), and ASCIIHex or ASCII85 text whose bytes open one of those. At most
    :data:`_MAX_NESTED` layers deep, the last one counted without being decoded; a chain that
    still opens another layer there is refused (:class:`_Uncounted`), not passed (review m2).
    RunLength is known inside another layer too (a literal run opening one of those)."""
    head, chunks = _peek(chunks, _HEAD)
    kind = "lzw" if lzw and not _zlib_head(head[:2]) else _layer_of(head)
    if kind is None:  # plain data: the layer above is read to its end (each chunk counted)
        for _chunk in chunks:
            pass
        return
    if kind == "lzw" and (depth >= _MAX_NESTED or _layer_of(_lzw_head(head)) is None):
        _count_lzw(chunks, budget)  # the last layer: lengths only (no output made)
        return
    output = _DECODERS[kind](chunks, budget)
    if depth >= _MAX_NESTED:
        head, output = _peek(output, _HEAD)
        if _layer_of(head) is not None:  # yet another layer under it: not counted, so refused
            raise _Uncounted("filter_chain_too_deep")
        for _chunk in output:
            pass
        return
    _count_layers(output, budget, depth + 1)


def _layer_of(head: bytes) -> str | None:
    """Which layer data opening with ``head`` is: "zlib", "lzw" (the clear-table code first),
    "rl" (RunLength whose first literal run opens zlib or LZW data), "hex" or "a85" (text whose
    first bytes decode to zlib or LZW data), else None."""
    if _zlib_head(head[:2]):
        return "zlib"
    if head[:1] == b"\x80":
        return "lzw"
    if len(head) >= 3 and head[0] < 128 and _binary_head(head[1:3]):
        return "rl"  # a literal run whose bytes open zlib or LZW data
    text = head.translate(None, _WHITESPACE)
    try:
        if len(text) >= 4 and not text[:4].strip(_HEX) and _binary_head(binascii.unhexlify(text[:4])):
            return "hex"
    except ValueError:
        pass
    group = text.removeprefix(b"<~")[:5]
    try:
        if len(group) == 5 and not group.strip(_A85) and _binary_head(_a85_group(group)):
            return "a85"
    except ValueError:
        pass
    return None


def _binary_head(head: bytes) -> bool:
    """Whether ``head`` opens zlib data or LZW data with its clear-table code."""
    return _zlib_head(head[:2]) or head[:1] == b"\x80"


def _hex_decoded(chunks: Iterator[bytes | memoryview], budget: _Budget) -> Iterator[bytes]:
    """ASCIIHexDecode, chunk by chunk, each counted: up to ``>``, other characters skipped."""
    carry = b""
    for chunk in chunks:
        data = bytes(chunk)
        stop = data.find(b">")
        digits = carry + _NOT_HEX.sub(b"", data if stop < 0 else data[:stop])
        even = len(digits) // 2 * 2
        out, carry = binascii.unhexlify(digits[:even]), digits[even:]
        budget.add(len(out))
        if out:
            yield out
        if stop >= 0:
            return


def _a85_decoded(chunks: Iterator[bytes | memoryview], budget: _Budget) -> Iterator[bytes]:
    """ASCII85Decode, chunk by chunk, each counted: up to ``~>``; data that stops being
    ASCII85 ends it."""
    carry = b""
    first = True
    for chunk in chunks:
        data = bytes(chunk)
        if first:
            data, first = data.lstrip(_WHITESPACE).removeprefix(b"<~"), False
        stop = data.find(b"~>")
        text = carry + _SPACE.sub(b"", data if stop < 0 else data[:stop]).replace(b"z", b"!!!!!")
        whole = len(text) if stop >= 0 else len(text) // 5 * 5
        try:
            out = _a85decode(text[:whole])
        except ValueError:
            return
        carry = text[whole:]
        budget.add(len(out))
        if out:
            yield out
        if stop >= 0:
            return


def _rl_decoded(chunks: Iterator[bytes | memoryview], budget: _Budget) -> Iterator[bytes]:
    """RunLengthDecode of a layer's output, chunk by chunk, each counted (a run may straddle
    two chunks: the bytes of an unfinished run are carried)."""
    carry = b""
    for chunk in chunks:
        data = carry + bytes(chunk)
        end = _rl_whole(data)
        out = b"".join(_run_length(data[:end]))
        budget.add(len(out))
        if out:
            yield out
        if end < len(data) and data[end] == 128:  # end of data
            return
        carry = data[end:]


def _rl_whole(data: bytes) -> int:
    """Where the last whole run of RunLength ``data`` ends (or its end-of-data byte is)."""
    i = 0
    while i < len(data):
        length = data[i]
        if length == 128:
            return i
        step = 2 + length if length < 128 else 2
        if i + step > len(data):
            return i
        i += step
    return i


def _run_length(body: bytes | memoryview) -> Iterator[bytes]:
    """RunLengthDecode, chunk by chunk (at most 128 bytes per 2 read)."""
    out = bytearray()
    i = 0
    while i < len(body):
        length = body[i]
        if length == 128:
            break
        if length < 128:
            out += body[i + 1 : i + 2 + length]
            i += 2 + length
        else:
            out += bytes(body[i + 1 : i + 2]) * (257 - length)
            i += 2
        if len(out) >= _CHUNK:
            yield bytes(out)
            out.clear()
    if out:
        yield bytes(out)


_LZW_CLEAR = 256
_LZW_END = 257
_LZW_FIRST = 258
_LZW_CODES = 4096
_LZW_FILTER = re.compile(rb"/LZW(?:Decode)?\b|/Filter\s*\[?\s*\d+\s+\d+\s+R")
"""A stream dictionary that names LZW (the full or the inline image's short name), or whose
/Filter is an indirect object (which may name it): its data is counted as LZW."""
_DICTIONARY_BACK = 4096


def _count_lzw(chunks: Iterable[bytes | memoryview], budget: _Budget) -> None:
    """Count what LZWDecode (EarlyChange 1, PDF's default) makes of ``body``, without making
    it: the table keeps each code's length only. LZW reaches ~2,500:1 (a code of 12 bits for a
    run of ~3,800 bytes), Flate ~1,000:1. Data that stops being LZW (a code past the table)
    ends the count, as it ends pdfium's decoding: data that is not LZW stops within a few
    codes."""
    lengths = [1] * _LZW_FIRST
    width, buffer, bits = 9, 0, 0
    previous = -1
    pending = 0
    for byte in itertools.chain.from_iterable(chunks):
        buffer = ((buffer << 8) | byte) & 0xFFFFFF
        bits += 8
        while bits >= width:
            bits -= width
            code = (buffer >> bits) & ((1 << width) - 1)
            if code == _LZW_CLEAR:
                del lengths[_LZW_FIRST:]
                width, previous = 9, -1
                continue
            if code == _LZW_END:
                budget.add(pending)
                return
            size = len(lengths)
            if code < size:
                out = lengths[code]
            elif code == size and previous >= 0:
                out = lengths[previous] + 1
            else:
                budget.add(pending)
                return
            if previous >= 0 and size < _LZW_CODES:
                lengths.append(lengths[previous] + 1)
                if len(lengths) + 1 >= 1 << width and width < 12:
                    width += 1
            previous = code
            pending += out
            if pending >= _CHUNK * 16:
                budget.add(pending)
                pending = 0
    budget.add(pending)


def _lzw_decoded(chunks: Iterable[bytes | memoryview], budget: _Budget) -> Iterator[bytes]:
    """LZWDecode (EarlyChange 1), chunk by chunk, each counted: the same reading as
    :func:`_count_lzw`, with the table's strings, for a layer under it to be counted in turn
    (``[/LZWDecode /FlateDecode]``). A string is at most 4,096 codes long: the table is at most
    ~8 MiB."""
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    width, buffer, bits = 9, 0, 0
    previous = b""
    out = bytearray()
    for byte in itertools.chain.from_iterable(chunks):
        buffer = ((buffer << 8) | byte) & 0xFFFFFF
        bits += 8
        while bits >= width:
            bits -= width
            code = (buffer >> bits) & ((1 << width) - 1)
            if code == _LZW_CLEAR:
                del table[_LZW_FIRST:]
                width, previous = 9, b""
                continue
            size = len(table)
            if code == _LZW_END:
                size = -1
            elif code < size:
                entry = table[code]
            elif code == size and previous:
                entry = previous + previous[:1]
            else:
                size = -1
            if size < 0:  # the end code, or data that is not LZW
                budget.add(len(out))
                if out:
                    yield bytes(out)
                return
            if previous and size < _LZW_CODES:
                table.append(previous + entry[:1])
                if len(table) + 1 >= 1 << width and width < 12:
                    width += 1
            previous = entry
            out += entry
            if len(out) >= _CHUNK * 16:
                budget.add(len(out))
                yield bytes(out)
                out.clear()
    budget.add(len(out))
    if out:
        yield bytes(out)


def _lzw_head(data: bytes) -> bytes:
    """What the first bytes of LZW data decode to (a few dozen codes: at most a few KiB)."""
    return b"".join(_lzw_decoded([data], _Budget(1 << 62)))


_DECODERS = {
    "zlib": _inflated, "lzw": _lzw_decoded, "hex": _hex_decoded, "a85": _a85_decoded, "rl": _rl_decoded,
}
"""Each layer's decoder: its output chunk by chunk, each chunk counted in the budget."""


def _names_lzw(data: bytes, keyword: int) -> bool:
    """Whether the dictionary before the ``stream`` keyword at ``keyword`` names LZW, or
    gives its /Filter by reference."""
    opening = data.rfind(b"obj", max(0, keyword - _DICTIONARY_BACK), keyword)
    return _LZW_FILTER.search(data, max(0, opening, keyword - _DICTIONARY_BACK), keyword) is not None


_FILTER_NAMES = {
    b"FlateDecode": "zlib", b"Fl": "zlib", b"LZWDecode": "lzw", b"LZW": "lzw",
    b"ASCIIHexDecode": "hex", b"AHx": "hex", b"ASCII85Decode": "a85", b"A85": "a85",
    b"RunLengthDecode": "rl", b"RL": "rl",
}
"""The filters the guard decodes, by their names and inline-image short names; any other (DCT,
JPX, JBIG2, CCITT, Crypt) ends what it follows of a chain: its output is an image or ciphertext."""
_MAX_NAMED = 8
"""The longest /Filter chain the guard follows (a sound PDF names one, two or three). A longer
chain of filters it decodes is refused as a bomb: it could not be counted at a bounded memory
(each LZW layer keeps a table of up to ~8 MiB)."""
_NAME_CHARS = rb"[^\s()<>\[\]{}/%]"
"""A byte of a PDF name (ISO 32000-1 7.3.5: anything but white space and delimiters)."""
_GAP = rb"(?:\s|%[^\r\n]*[\r\n])*"
"""White space and comments, which may stand between any two tokens (pdfium skips both). Each
part can be read one way only (a comment runs to its line's end): no backtracking blow-up."""
_REF = rb"\d+(?:\s|%[^\r\n]*[\r\n])+\d+" + _GAP + rb"R"
"""A reference ``6 0 R`` (white space between the numbers: "60 R" is not "6 0 R")."""
_FILTER_VALUE = re.compile(
    rb"/Filter" + _GAP + rb"(\[(?:" + _GAP + rb"(?:/" + _NAME_CHARS + rb"*|" + _REF + rb"))*" + _GAP
    + rb"\]|/" + _NAME_CHARS + rb"*|" + _REF + rb")"
)
"""A /Filter and its value: a name, an array of names or references, or a reference."""
_FILTER_ITEM = re.compile(rb"/(" + _NAME_CHARS + rb"*)|(\d+)(?:\s|%[^\r\n]*[\r\n])+(\d+)" + _GAP + rb"R")
_VALUE_AT = re.compile(_GAP + rb"(\[[^\]]*\]|/" + _NAME_CHARS + rb"*)")
_NAME = re.compile(rb"/" + _NAME_CHARS + rb"*")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _unescaped_names(text: bytes) -> bytes:
    """``text`` with each name's ``#xx`` escapes decoded (``/RunLength#44ecode`` is the name
    RunLengthDecode, and pdfium reads it so: ISO 32000-1 7.3.5), the names only."""
    if b"#" not in text:
        return text
    return _NAME.sub(lambda m: _NAME_ESCAPE.sub(lambda e: bytes([int(e.group(1), 16)]), m.group()), text)


class _Objects:
    """The objects of a file by number and generation (every definition: an update may define one
    again), found once, when a /Filter first names one by reference."""

    _HEADER = re.compile(rb"(?<![0-9])(\d+)\s+(\d+)\s+obj\b")
    """(No comment between its tokens: a comment runs to the line's end, and searching the whole
    file with one was quadratic on ASCII85 text, which holds "%" and digits and no line end.)"""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at: dict[tuple[int, int], list[int]] | None = None

    def values(self, number: int, generation: int) -> list[bytes]:
        """The name or array each definition of the object opens with (refused: none)."""
        if self._at is None:
            self._at = {}
            for m in self._HEADER.finditer(self._data):
                self._at.setdefault((int(m.group(1)), int(m.group(2))), []).append(m.end())
        found = [m.group(1) for at in self._at.get((number, generation), [])
                 if (m := _VALUE_AT.match(self._data, at)) is not None]
        if not found:  # in an object stream, or nowhere: the guard cannot tell the chain
            raise _Uncounted("filter_chain_unresolved")
        return [_unescaped_names(value) for value in found]


_OPENER = re.compile(rb"[(%]")
"""Outside strings and comments, what changes the state: a string or a comment opening (a
``)`` or a backslash there changes nothing)."""
_STRING_BODY = re.compile(rb"[^()\\]*(?:\\[\s\S][^()\\]*)*")
"""Inside a literal string, the bytes up to its next parenthesis that is not escaped: each
backslash takes the byte after it (the escapes of a UTF-16 string are one match, not one
search each)."""
_LINE_END = re.compile(rb"[\r\n]")


def _lexical_state(data: bytes, start: int, end: int, depth: int, comment: bool) -> tuple[int, bool]:
    """How deep in literal strings, and whether in a comment, ``end`` is, reading from ``start``
    in that state (``depth``, ``comment``): the caller carries it from one keyword to the next.
    Inside a string a backslash escapes the next byte (whatever it is) and ``%`` is text;
    outside, ``(`` opens a string, ``%`` a comment to the line's end, and ``)`` or ``\\`` do
    nothing."""
    at = start
    while at < end:
        if comment:  # to the end of its line
            line = _LINE_END.search(data, at, end)
            if line is None:
                return depth, True
            at, comment = line.end(), False
        elif depth:
            at = _STRING_BODY.match(data, at, end).end()  # type: ignore[union-attr]  # matches ""
            if at >= end:
                break
            token = data[at]
            if token == 0x5C:  # a backslash before ``end``: the byte it escapes lies beyond
                break
            at += 1
            depth += 1 if token == 0x28 else -1
        else:
            m = _OPENER.search(data, at, end)
            if m is None:
                break
            at = m.end()
            if m.group() == b"(":
                depth = 1
            else:
                comment = True
    return depth, comment


class _Dictionaries:
    """The /Filter chains written before each ``stream`` keyword: in the bytes since the previous
    stream's end (every /Filter there, so that a decoy in a nested dictionary, a long dictionary
    or a string in it does not hide the real one), read once each (a keyword in a string or a
    comment, or with no ``endstream`` after it, does not end the span; the chains found so far are
    kept, and only the bytes after the last keyword read)."""

    def __init__(self, data: bytes, ends: _Ends) -> None:
        self._data, self._ends = data, ends
        self._objects = _Objects(data)
        self._read = 0
        self._previous: int | None = None
        self._chains: list[list[str]] = []
        self._state = (0, False)

    def chains_before(self, keyword: int, start: int) -> list[list[str]]:
        """The chains written before the keyword at ``keyword`` (its data at ``start``)."""
        if self._previous is not None and (closed := self._ends.after(self._previous)) < keyword:
            self._read, self._chains, self._state = closed, [], (0, False)
        self._chains = self._chains + _named_chains(self._data, (self._read, keyword), self._objects)
        self._state = _lexical_state(self._data, self._read, keyword, *self._state)
        self._read = keyword
        if self._state == (0, False):
            self._previous = start
        return self._chains


def _filter_names(value: bytes, objects: _Objects, depth: int = 0) -> list[list[bytes]]:
    """The filter names a /Filter ``value`` gives (one list for each definition its references
    may have), a reference followed to its object: the value's own and, one level down, an
    item of a referenced array. A reference deeper than that is refused (:class:`_Uncounted`)."""
    chains: list[list[bytes]] = [[]]
    for item in _FILTER_ITEM.finditer(value):
        if item.group(1) is not None:
            options = [[item.group(1)]]
        elif depth < 2:
            options = [names for found in objects.values(int(item.group(2)), int(item.group(3)))
                       for names in _filter_names(found, objects, depth + 1)]
        else:
            raise _Uncounted("filter_chain_unresolved")
        chains = [chain + more for chain in chains for more in options][:_MAX_NAMED]
    return chains


def _named_chains(data: bytes, region: tuple[int, int], objects: _Objects) -> list[list[str]]:
    """Each /Filter written in ``region`` (:class:`_Dictionaries`), its names decoded and its
    references followed, as the layers the guard decodes, outermost first, cut at the first
    filter it does not decode."""
    text = _unescaped_names(data[region[0] : region[1]])
    chains = []
    for match in _FILTER_VALUE.finditer(text):
        for names in _filter_names(match.group(1), objects):
            layers = []
            for name in names:
                if (layer := _FILTER_NAMES.get(name)) is None:
                    break
                layers.append(layer)
            chains.append(layers)
    return chains


def _beyond_sniffing(layers: list[str]) -> bool:
    """Whether a named chain holds what reading layers by their first bytes cannot count: a
    RunLength layer (any data is RunLength data: only the dictionary says it is one), or more
    layers than :data:`_MAX_NESTED`."""
    return "rl" in layers or len(layers) > _MAX_NESTED


def _count_named(chunks: Iterator[bytes | memoryview], layers: list[str], budget: _Budget) -> None:
    """Decode ``layers`` (a /Filter chain, outermost first) in order, each layer's output
    streamed into the next and counted in ``budget``; a last LZW layer is counted by lengths."""
    if len(layers) > _MAX_NAMED:
        raise _Uncounted("filter_chain_too_deep")
    *outer, last = layers
    for layer in outer:
        chunks = _DECODERS[layer](chunks, budget)
    if last == "lzw":
        _count_lzw(chunks, budget)
        return
    for _chunk in _DECODERS[last](chunks, budget):
        pass


class _Ends:
    """Where the stream that starts at a position ends: the next ``endstream`` (the file's end
    when none follows), found by bisection in one list made once. Searching the file again from
    every ``stream`` keyword was quadratic: 280 KB of ``stream\n`` took 2.8 s, a few MB hours."""

    def __init__(self, data: bytes) -> None:
        self._ends = [m.start() for m in _ENDSTREAM.finditer(data)]
        self._size = len(data)

    def after(self, start: int) -> int:
        at = bisect.bisect_left(self._ends, start)
        return self._ends[at] if at < len(self._ends) else self._size


def _under_layer(
    data: bytes, start: int, end: int, scanned: _Budget, *, lzw: bool = False
) -> Iterator[bytes | memoryview] | None:
    """The bytes under an ASCIIHex, ASCII85 or RunLength layer when they open a zlib stream or
    LZW data with its clear-table code (the layer is known by its first bytes, not by the
    dictionary: a /Filter given as an indirect object, or a padded dictionary, hides nothing),
    or whatever they open when the dictionary names LZW (``lzw``); None otherwise. ``end``: where the
    stream ends; ``scanned`` counts the bytes a layer's text is copied from (keywords inside
    stream data make bodies overlap: the count keeps the work linear in the file)."""
    head = data[start : start + 64].translate(None, _WHITESPACE)
    body = memoryview(data)[start:end]
    try:
        if not head[:4].strip(_HEX) and (
            _binary_head(binascii.unhexlify(head[:4])) or (lzw and not head.strip(_HEX))
        ):
            stop = data.find(b">", start, end)
            stop = end if stop < 0 else stop
            scanned.add(stop - start)
            digits = _NOT_HEX.sub(b"", data[start:stop])
            return _slices(binascii.unhexlify(digits[: len(digits) // 2 * 2]))
    except ValueError:
        pass
    try:
        group = head.removeprefix(b"<~")[:5]
        if len(group) == 5 and not group.strip(_A85) and (
            _binary_head(_a85_group(group)) or (lzw and not head.removeprefix(b"<~").strip(_A85))
        ):
            stop = data.find(b"~>", start, end)
            stop = end if stop < 0 else stop
            scanned.add(stop - start)
            text = _SPACE.sub(b"", data[start:stop]).removeprefix(b"<~")
            return _slices(_a85decode(text + b"~>", adobe=True))
    except ValueError:
        pass
    if len(body) >= 3 and body[0] < 128 and _binary_head(bytes(body[1:3])):
        return _run_length(body)
    return None


def _decrypted_streams(data: bytes) -> Iterator[bytes]:
    """The streams of a PDF encrypted without a user password (permissions only, as official
    documents often are), decrypted but not decoded: pdfium decrypts them and inflates, while
    the bytes in the file are ciphertext to the guard. Nothing when pypdf cannot read the file
    or a password is needed (pdfium refuses it then: FILE_ENCRYPTED)."""
    from pypdf import PdfReader
    from pypdf.generic import StreamObject

    try:
        reader = PdfReader(io.BytesIO(data))
        if not reader.is_encrypted or not reader.decrypt(""):
            return
        numbers = sorted({number for entries in reader.xref.values() for number in entries})
    except Exception:  # pypdf raises many kinds on a damaged file; pdfium judges it
        return
    for number in numbers:  # a stream is never inside an object stream: the xref table has them all
        try:
            obj = reader.get_object(number)
        except Exception:  # one unreadable object
            continue
        if isinstance(obj, StreamObject):
            yield bytes(obj._data)


def check_pdf_streams(data: bytes, settings: TextSettings) -> None:
    """Refuse a PDF whose Flate or LZW streams inflate past the limits, before pdfium inflates
    any of them whole. Every stream is read by its first bytes first: zlib data, zlib data under
    an ASCIIHex, ASCII85 or RunLength layer, zlib data inside zlib data, and LZW data opening
    with its clear-table code (ISO 32000-1 7.4.4.2: the encoder's first code) are counted.
    LZW data without that code is counted where its dictionary names LZW or gives its /Filter
    by reference; other data (JPEG, JBIG2, plain) is passed over at once."""
    limit = max(settings.max_pdf_inflated_bytes, settings.max_pdf_inflate_ratio * len(data))
    view = memoryview(data)
    budget = _Budget(limit)
    named = _Budget(limit)
    scanned = _Budget(_SCAN_FACTOR * len(data) + _CHUNK)
    try:
        ends = _Ends(data)
        dictionaries = _Dictionaries(data, ends)
        for match in _STREAM.finditer(data):
            start = match.end()
            chains = dictionaries.chains_before(match.start(), start)
            zlib = _zlib_head(data[start : start + 2])
            if zlib:
                _count_layers(_slices(view[start:]), budget)
            # (also after zlib: "80", the hex of LZW's clear code, is a zlib header as well)
            if (layer := _under_layer(data, start, ends.after(start), scanned)) is not None:
                _count_layers(layer, budget)
            elif zlib:
                pass
            elif (data[start : start + 1] == b"\x80" or _names_lzw(data, match.start())
                  or any("lzw" in layers for layers in chains)):
                end = ends.after(start)
                # LZW named, no clear code: under an ASCII layer ([/ASCIIHexDecode /LZWDecode])?
                layer = _under_layer(data, start, end, scanned, lzw=True)
                if layer is None:
                    scanned.add(end - start)
                    layer = _slices(view[start:end])
                _count_layers(layer, budget, lzw=True)
            # A chain whose dictionary names RunLength, or more layers than the first bytes are
            # followed: decoded as named, each layer counted (review m2), in a budget of its own
            # (the same stream's layers may be counted above too).
            for layers in chains:
                if _beyond_sniffing(layers):
                    end = ends.after(start)
                    scanned.add(end - start)
                    _count_named(_slices(view[start:end]), layers, named)
        if b"/Encrypt" in data:
            for stream in _decrypted_streams(data):
                zlib = _zlib_head(stream[:2])
                if zlib:
                    _count_layers(_slices(stream), budget)
                if (layer := _under_layer(stream, 0, len(stream), scanned)) is not None:
                    _count_layers(layer, budget)
                elif zlib:
                    pass
                elif stream[:1] == b"\x80":
                    _count_layers(_slices(stream), budget, lzw=True)
    except _Uncounted as uncounted:
        why = (
            "chuỗi bộ lọc nén ghi qua tham chiếu không tìm thấy trong tệp"
            if uncounted.reason == "filter_chain_unresolved"
            else f"chuỗi bộ lọc nén quá dài (hơn {_MAX_NESTED} lớp lồng nhau, hoặc hơn {_MAX_NAMED} bộ lọc)"
        )
        raise FileBomb(
            f"Tệp PDF có luồng dữ liệu qua {why}, không đếm được dung lượng giải nén: nghi là bom"
            " giải nén.",
            format="pdf", limit=limit, reason=uncounted.reason,
        ) from None
    except _Over:
        if scanned.total > scanned.limit:
            raise FileCorrupt(
                "Tệp PDF có cấu trúc luồng dữ liệu bất thường (các luồng chồng lên nhau, phải đọc"
                f" lại hơn {_SCAN_FACTOR} lần kích thước tệp): không xử lý.",
                format="pdf",
            ) from None
        raise FileBomb(
            f"Tệp PDF có luồng dữ liệu nén giải nén ra hơn {limit // (1024 * 1024)} MiB "
            f"(gấp hơn {settings.max_pdf_inflate_ratio} lần kích thước tệp): nghi là bom "
            "giải nén.",
            format="pdf", limit=limit,
        ) from None


def refuse_pdf_bomb(data: bytes) -> None:
    """:func:`check_pdf_streams` with the default limits, for a stored original about to be
    opened outside the text step (page images, page counts, the print copy): a bomb is in the
    store when it was registered before the guard existed, or stored by ingest and then refused
    by it (the original is kept)."""
    check_pdf_streams(data, TextSettings())
