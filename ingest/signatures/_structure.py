"""What a strict reader finds in the revisions added after the first signature.

pyHanko reads documents leniently (``strict=False``): a cross-reference entry it cannot parse
is skipped, an entry whose generation does not match any reference is never read, and an
object the newest revision fails to list is taken from an older revision. A viewer rebuilds
the cross-reference data by scanning instead, and shows the newer objects. Where the two
disagree, the difference analysis judged a document nobody sees.

:func:`audit` reads, independently of pyHanko's lenient reader, every revision that starts
after ``start`` (the end of the earliest signed revision) and lists every place where only
lenient recovery could read it:

- the ``startxref`` / ``/Prev`` chain does not reach every revision, or points at no
  cross-reference section;
- a cross-reference table entry or subsection header is malformed;
- an in-use entry points at a place where that object (number *and* generation) does not
  start;
- an object is defined in the appended bytes but no cross-reference entry of those revisions
  points at it (it can only be found by scanning, as viewers do);
- one cross-reference section lists an object number twice (in two subsections, or twice in
  a stream's ``/Index``) - in *any* revision, the signed ones too: pyHanko and pdfium take
  the last entry, poppler, qpdf and pypdf the first, so the page a person sees can be another
  object than the one the signature was checked against;
- a hybrid-reference section's table lists an object in use that its ``/XRefStm`` stream
  lists in use too: readers that go by the table (pyHanko, pdfium) and readers that take the
  stream's entry read different objects (only the revisions after ``start``).

Cross-reference streams of those revisions are decoded with pyHanko's parser in strict mode.
Bytes after the last ``%%EOF`` are measured (:func:`appended_after_eof`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

_WS = rb"[ \t\r\n\f\x00]"
_STARTXREF = re.compile(rb"startxref" + _WS + rb"+(\d+)" + _WS + rb"+%%EOF")
_OBJ_HEADER = re.compile(rb"(?<![0-9])(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+obj(?![A-Za-z])")
# the digits and whitespace that end just before an ``obj`` keyword, as _OBJ_HEADER reads them
_HEADER_BEFORE = re.compile(rb"(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+\Z")
_DIGIT_OR_WS = frozenset(b"0123456789 \t\r\n\f\x00")
_HEADER_LOOKBACK = 64
_HEADER_AT = re.compile(_WS + rb"*(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+obj(?![A-Za-z])")
_SUBSECTION = re.compile(rb"(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?:\r\n| \r| \n|\r|\n)")
_TRAILER = re.compile(_WS + rb"*trailer" + _WS + rb"*<<")
_PREV = re.compile(rb"/Prev" + _WS + rb"+(\d+)")
_XREFSTM = re.compile(rb"/XRefStm" + _WS + rb"+(\d+)")
_STREAM_OR_END = re.compile(rb"stream(?:\r\n|\n)|endobj")
_ENDSTREAM = re.compile(rb"endstream")
_MAX_FINDINGS = 5
_BYTE_RANGE = re.compile(
    rb"/ByteRange" + _WS + rb"*\[" + _WS + rb"*(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+(\d+)"
    + _WS + rb"+(\d+)" + _WS + rb"*\]"
)


@dataclass
class Audit:
    """Problems found in the revisions after ``start`` (Vietnamese, for people)."""

    start: int
    problems: list[str] = field(default_factory=list)
    # offsets of the cross-reference sections read after ``start``
    sections: list[int] = field(default_factory=list)
    # object numbers listed twice in one section or object stream header (also found in the
    # sections before ``start``)
    duplicates: list[str] = field(default_factory=list)
    # object streams the stream sections read point into
    object_streams: set[int] = field(default_factory=set)
    # only look for object numbers listed twice (the signed revisions: see _check_listed_once)
    listing_only: bool = False

    def add(self, text: str) -> None:
        if len(self.problems) < _MAX_FINDINGS and text not in self.problems:
            self.problems.append(text)

    def listed(self, listed: set[int], idnum: int, where: str) -> None:
        """Note that ``where`` (a cross-reference section or an object stream's header, in
        Vietnamese) lists ``idnum`` (``listed``: what it listed so far); twice is a problem."""
        if idnum not in listed:
            listed.add(idnum)
            return
        text = (
            f"{where} khai báo đối tượng {idnum} nhiều lần: các trình đọc PDF chọn các định "
            "nghĩa khác nhau, nên nội dung được hiển thị có thể khác nội dung đã được kiểm tra."
        )
        if text not in self.duplicates:
            self.duplicates.append(text)
            self.add(text)


def appended_after_eof(data: bytes) -> int:
    """Bytes after the last ``%%EOF`` other than end-of-line whitespace (0 if none, or no
    ``%%EOF`` at all)."""
    last = data.rfind(b"%%EOF")
    if last < 0:
        return 0
    return len(data[last + 5:].strip(b" \t\r\n\f\x00"))


def audit(data: bytes, start: int, handler: Any = None) -> Audit:
    """Read the revisions after byte ``start`` strictly; ``handler`` is a pyHanko reader of
    the same bytes, used only to decode cross-reference streams."""
    result = Audit(start=start)
    if start >= len(data):
        _check_listed_once(data, _last_startxref(data, len(data)), set(), result, handler)
        return result
    in_use: dict[int, tuple[int, int]] = {}  # offset -> (object number, generation)
    # from ``start`` on: the pattern has no look-behind, and a match starting before ``start``
    # cannot contain one that starts after it (it holds a single "startxref")
    startxrefs = list(_STARTXREF.finditer(data, start))
    if not startxrefs:
        if _OBJ_HEADER.search(data, start):
            result.add(
                "Phần bổ sung sau khi ký có đối tượng PDF nhưng không có bảng tham chiếu chéo "
                "(startxref) hợp lệ."
            )
        _check_listed_once(data, _last_startxref(data, start), set(), result, handler)
        return result
    offset: int | None = int(startxrefs[-1].group(1))
    seen: set[int] = set()
    while offset is not None and offset >= start:
        if offset in seen or offset >= len(data):
            result.add("Chuỗi bảng tham chiếu chéo (startxref, /Prev) bị lặp hoặc trỏ ra ngoài tệp.")
            break
        seen.add(offset)
        result.sections.append(offset)
        offset = _read_section(data, offset, result, in_use, handler)
    declared = {int(m.group(1)) for m in startxrefs}
    if not declared <= seen | {o for o in declared if o < start}:
        result.add(
            "Chuỗi bảng tham chiếu chéo (startxref, /Prev) không đi qua mọi phiên bản bổ sung "
            "sau khi ký: có phiên bản chỉ đọc được bằng cách dò tìm."
        )
    _check_definitions(data, start, result, in_use)
    _check_object_streams(result, result, handler)
    _check_listed_once(data, offset, seen, result, handler)
    return result


def _header_bytes(stream: Any, first: int) -> bytes:
    """The first ``first`` decoded bytes of an object stream: a plain Flate stream (the usual
    case) is inflated only that far, anything else is decoded by pyHanko."""
    import zlib

    if stream.get("/Filter") == "/FlateDecode" and "/DecodeParms" not in stream:
        return zlib.decompressobj().decompress(stream.encoded_data, first)
    return bytes(stream.data[:first])


def _check_object_streams(found: Audit, result: Audit, handler: Any) -> None:
    """Each object stream ``found``'s stream sections point into lists each object number
    once in its header: readers that go by the header (pyHanko: its first entry) and readers
    that go by the cross-reference index (pdfium, poppler) otherwise read different objects.
    A stream that cannot be read is left to the reader's own errors."""
    if handler is None:
        return
    from pyhanko.pdf_utils import generic

    for number in sorted(found.object_streams):
        try:
            stream = handler.get_object(generic.Reference(number, 0, handler))
            first, count = int(stream["/First"]), int(stream["/N"])
            numbers = [int(token) for token in _header_bytes(stream, first).split()[0:2 * count:2]]
        except Exception:
            continue
        listed: set[int] = set()
        for idnum in numbers:
            result.listed(listed, idnum, f"Luồng đối tượng (object stream) số {number}")


def _last_startxref(data: bytes, end: int) -> int | None:
    """The offset the last ``startxref`` before ``end`` gives, if any."""
    last = data.rfind(b"startxref", 0, end)
    found = _STARTXREF.match(data, last) if last >= 0 else None
    return int(found.group(1)) if found else None


def _check_listed_once(
    data: bytes, offset: int | None, seen: set[int], result: Audit, handler: Any
) -> None:
    """The sections from ``offset`` down the ``/Prev`` chain (the signed revisions) are only
    checked for object numbers listed twice: whatever else is irregular there, the
    signatures' own checks judge it. Only the sections themselves: object stream headers of
    the signed revisions are not read (listing their entries was ~50 ms on the largest
    corpus document)."""
    before = Audit(start=0, listing_only=True)
    while offset is not None and 0 <= offset < len(data) and offset not in seen:
        seen.add(offset)
        offset = _read_section(data, offset, before, {}, handler)
    for text in before.duplicates:
        result.add(text)


def _read_section(
    data: bytes,
    offset: int,
    result: Audit,
    in_use: dict[int, tuple[int, int]],
    handler: Any,
) -> int | None:
    """Read the section at ``offset``; return its ``/Prev`` (or ``None``). Whitespace before
    the section is tolerated, as by every reader (pyHanko even in strict mode)."""
    offset = _skip_ws(data, offset)
    if data.startswith(b"xref", offset):
        return _read_table(data, offset + 4, result, in_use)
    header = _HEADER_AT.match(data, offset)
    if header is None:
        result.add(
            "startxref hoặc /Prev của một phiên bản bổ sung sau khi ký không trỏ tới bảng tham "
            "chiếu chéo."
        )
        return None
    return _read_stream_section(data, offset, result, in_use, handler)


def _read_table(
    data: bytes, pos: int, result: Audit, in_use: dict[int, tuple[int, int]]
) -> int | None:
    section = pos - 4
    listed: set[int] = set()
    used: set[int] = set()  # listed in use: the /XRefStm of a hybrid section may not list them
    pos = _skip_ws(data, pos)
    while True:
        sub = _SUBSECTION.match(data, pos)
        if sub is None:
            break
        first, count = int(sub.group(1)), int(sub.group(2))
        pos = sub.end()
        for i in range(count):
            entry = _ENTRY.match(data, pos)
            if entry is None:
                result.add(
                    f"Bảng tham chiếu chéo của phiên bản bổ sung sau khi ký có mục sai định dạng "
                    f"(đối tượng {first + i}, vị trí {pos})."
                )
                return _trailer_prev(data, pos, result, in_use, lenient=True)
            pos = entry.end()
            result.listed(listed, first + i, f"Bảng tham chiếu chéo tại vị trí {section}")
            if entry.group(3) == b"n" and first + i != 0 and not result.listing_only:
                used.add(first + i)
                _note_entry(data, int(entry.group(1)), first + i, int(entry.group(2)), result, in_use)
        pos = _skip_ws(data, pos)
    return _trailer_prev(data, pos, result, in_use, lenient=False, table=(section, used))


def _trailer_prev(
    data: bytes,
    pos: int,
    result: Audit,
    in_use: dict[int, tuple[int, int]],
    *,
    lenient: bool,
    table: tuple[int, set[int]] | None = None,
) -> int | None:
    trailer = _TRAILER.match(data, pos)
    if trailer is None:
        if not lenient:
            result.add(
                "Bảng tham chiếu chéo của phiên bản bổ sung sau khi ký không kết thúc bằng "
                "trailer hợp lệ."
            )
        found = data.find(b"trailer", pos)
        if found < 0:
            return None
        trailer = _TRAILER.match(data, found)
        if trailer is None:
            return None
    end = data.find(b"startxref", trailer.end())
    body = data[trailer.end(): end if end >= 0 else len(data)]
    stm = _XREFSTM.search(body)
    if stm is not None:  # hybrid file: the stream's entries belong to this revision
        listed_in_use = table if table is not None else (pos, set())
        _read_stream_section(data, int(stm.group(1)), result, in_use, None, hybrid=listed_in_use)
    prev = _PREV.search(body)
    return int(prev.group(1)) if prev is not None else None


def _read_stream_section(
    data: bytes,
    offset: int,
    result: Audit,
    in_use: dict[int, tuple[int, int]],
    handler: Any,
    *,
    hybrid: tuple[int, set[int]] | None = None,
) -> int | None:
    """Read the cross-reference stream at ``offset``; ``hybrid``: it is the ``/XRefStm`` of the
    table at that offset, which listed those object numbers in use."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.xref import ObjStreamRef, XRefType, parse_xref_stream

    header = _HEADER_AT.match(data, offset)
    if header is None:
        result.add("Vị trí luồng tham chiếu chéo của phiên bản bổ sung sau khi ký không hợp lệ.")
        return None
    idnum, generation = int(header.group(1)), int(header.group(2))
    in_use.setdefault(header.start(1), (idnum, generation))
    try:
        stream = BytesIO(data)
        stream.seek(_skip_comments(data, header.end()))
        obj = generic.read_object(stream, generic.Reference(idnum, generation, handler))
        if not isinstance(obj, generic.StreamObject) or obj.get("/Type") != "/XRef":
            raise ValueError("not an /XRef stream")
        if result.listing_only:
            _check_index(obj, offset, result)
            prev = None if hybrid is not None else obj.get("/Prev")
            return int(prev) if isinstance(prev, int) else None
        entries = list(parse_xref_stream(obj, strict=True))
    except Exception as exc:
        result.add(
            "Luồng tham chiếu chéo của phiên bản bổ sung sau khi ký không đọc được khi đọc chặt "
            f"chẽ ({type(exc).__name__})."
        )
        return None
    listed: set[int] = set()
    for entry in entries:
        result.listed(listed, entry.idnum, f"Bảng tham chiếu chéo tại vị trí {offset}")
        if entry.xref_type is XRefType.IN_OBJ_STREAM and isinstance(entry.location, ObjStreamRef):
            result.object_streams.add(entry.location.obj_stream_id)
        if entry.xref_type is XRefType.STANDARD and entry.idnum != 0:
            _note_entry(data, int(entry.location), entry.idnum, entry.generation, result, in_use)
        if (
            hybrid is not None
            and entry.idnum in hybrid[1]
            and entry.xref_type in (XRefType.STANDARD, XRefType.IN_OBJ_STREAM)
        ):
            result.add(
                f"Bảng tham chiếu chéo tại vị trí {hybrid[0]} và luồng tham chiếu chéo /XRefStm "
                f"của nó (vị trí {offset}) cùng khai báo đối tượng {entry.idnum}: các trình đọc "
                "PDF chọn các định nghĩa khác nhau, nên nội dung được hiển thị có thể khác nội "
                "dung đã được kiểm tra."
            )
    if hybrid is not None:
        return None
    prev = obj.get("/Prev")
    return int(prev) if isinstance(prev, int) else None


def _check_index(obj: Any, offset: int, result: Audit) -> None:
    """An object number that two subsections of a stream's ``/Index`` both cover (what
    listing its entries finds, without reading them)."""
    index = obj.get("/Index")
    values = [int(v) for v in index] if index is not None else [0, int(obj["/Size"])]
    ranges = sorted(zip(values[0::2], values[1::2], strict=False))
    for (first, count), (following, _) in itertools.pairwise(ranges):
        if following < first + count:
            listed = {following}
            result.listed(listed, following, f"Bảng tham chiếu chéo tại vị trí {offset}")


def _note_entry(
    data: bytes,
    offset: int,
    idnum: int,
    generation: int,
    result: Audit,
    in_use: dict[int, tuple[int, int]],
) -> None:
    header = _HEADER_AT.match(data, offset)
    if header is None:
        result.add(
            f"Mục tham chiếu chéo của đối tượng {idnum} trong phiên bản bổ sung sau khi ký trỏ "
            "tới vị trí không có đối tượng."
        )
        return
    found = (int(header.group(1)), int(header.group(2)))
    if found != (idnum, generation):
        result.add(
            f"Mục tham chiếu chéo {idnum} {generation} trong phiên bản bổ sung sau khi ký trỏ tới "
            f"đối tượng {found[0]} {found[1]} (sai số hiệu hoặc số thế hệ)."
        )
        return
    in_use.setdefault(header.start(1), found)


def _check_definitions(
    data: bytes, start: int, result: Audit, in_use: dict[int, tuple[int, int]]
) -> None:
    """Every object defined after ``start`` must be listed by a later cross-reference entry."""
    pos = start
    while True:
        match = _search_header(data, pos)
        if match is None:
            return
        where = match.start(1)
        if where not in in_use:
            result.add(
                f"Đối tượng {int(match.group(1))} {int(match.group(2))} (vị trí {where}) trong "
                "phần bổ sung sau khi ký không có trong bảng tham chiếu chéo: chỉ tìm được bằng "
                "cách dò tìm, trình xem PDF có thể hiển thị nó."
            )
        pos = match.end()
        payload = _stream_payload_start(data, pos)
        if payload is not None:
            end = _ENDSTREAM.search(data, payload)
            pos = end.end() if end is not None else len(data)


# The two scans below answer what a regular-expression search answers (``_OBJ_HEADER.search``,
# ``_STREAM_OR_END.search``) from the places ``bytes.find`` gives for their literal keywords:
# ~10x faster on the appended revisions of the corpus, where the regular expressions were
# tried at every byte. tests/signatures/test_sig_structure_scan.py compares them with the
# regular expressions on the corpus and on generated bytes.


def _search_header(data: bytes, pos: int) -> re.Match[bytes] | None:
    """``_OBJ_HEADER.search(data, pos)``.

    A header ends with an ``obj`` keyword, and everything between its start and that keyword
    is digits and whitespace; so each ``obj`` from ``pos`` on is a candidate, in order, and its
    header (if any) starts where the last two digit groups before it start. Headers of
    successive keywords start in the same order as the keywords (a header's span holds no
    ``o``), so the first candidate whose header starts at or after ``pos`` is the first match."""
    at = pos
    while (keyword := data.find(b"obj", at)) >= 0:
        at = keyword + 1
        low = keyword
        while low > 0 and data[low - 1] in _DIGIT_OR_WS:
            low -= 1
            if keyword - low > _HEADER_LOOKBACK:  # a very long run: let the expression decide
                return _OBJ_HEADER.search(data, pos)
        before = _HEADER_BEFORE.search(data, max(low, pos), keyword)
        if before is None:
            continue
        match = _OBJ_HEADER.match(data, before.start())
        if match is not None:  # None: a letter follows the keyword
            return match
    return None


def _stream_payload_start(data: bytes, pos: int) -> int | None:
    """Where a stream's data starts when the first ``stream`` + end of line or ``endobj`` at
    or after ``pos`` is the former (the end of ``_STREAM_OR_END.search(data, pos)`` when it
    found ``stream``), else ``None``. Searched in growing windows, so that an object without
    ``endobj`` costs the distance to the next keyword, not the rest of the file."""
    at, window, size = pos, 4096, len(data)
    while at < size:
        stop = min(size, at + window)  # keywords starting in [at, stop)
        end = data.find(b"endobj", at, stop + 5)
        limit = end if end >= 0 else stop  # "stream" cannot overlap "endobj"
        found = data.find(b"stream", at, limit + 5)
        while found >= 0:
            if data.startswith(b"\r\n", found + 6):
                return found + 8
            if data.startswith(b"\n", found + 6):
                return found + 7
            found = data.find(b"stream", found + 1, limit + 5)
        if end >= 0:
            return None
        at, window = stop, window * 2
    return None


def _skip_comments(data: bytes, pos: int) -> int:
    pos = _skip_ws(data, pos)
    while data.startswith(b"%", pos):
        newline = re.compile(rb"[\r\n]").search(data, pos)
        pos = _skip_ws(data, newline.end() if newline else len(data))
    return pos


def _skip_ws(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in b" \t\r\n\f\x00":
        pos += 1
    return pos


def _byte_ranges(data: bytes) -> Iterator[re.Match[bytes]]:
    """``_BYTE_RANGE.finditer(data)``, found with ``bytes.find`` of its literal start (the
    regular-expression search is ~2x slower on a 4 MB document): the same matches, since each
    is tried at every place the literal occurs, from the end of the previous match on."""
    pos = 0
    while (at := data.find(b"/ByteRange", pos)) >= 0:
        match = _BYTE_RANGE.match(data, at)
        if match is None:
            pos = at + 1
        else:
            yield match
            pos = match.end()


def signed_revisions(data: bytes) -> int:
    """How many distinct signed revisions the bytes hold: ``/ByteRange [0 b c d]`` arrays that
    fit the file, lie inside the bytes they cover (as a signature dictionary's does) and end
    at an ``%%EOF`` (a revision's end: not the offsets of a signed PDF attached inside this
    one), whatever the final revision's form lists."""
    found: set[tuple[int, int, int, int]] = set()
    for match in _byte_ranges(data):
        a, b, c, d = (int(match.group(i)) for i in range(1, 5))
        at, end = match.start(), c + d
        if (
            a == 0 and 0 < b < c <= end <= len(data) and (at < b or c <= at < end)
            and data.rfind(b"%%EOF", max(0, end - 16), end) >= 0
        ):
            found.add((a, b, c, d))
    return len(found)


def replaced_signature_dictionaries(data: bytes) -> list[str]:
    """Signed signature dictionaries that bytes after their signed revision replace
    (Vietnamese, one line each): another dictionary with the same ``/ByteRange`` written
    later (the DSS spoofing attack: a forged dictionary whose reason, name or contents a
    viewer shows instead), or the signed dictionary's object number defined again later.

    Read from the bytes alone, so it also judges a file pyHanko cannot open. The signed
    dictionary is the one whose ``/ByteRange`` lies in the bytes it covers."""
    positions: dict[tuple[int, int, int, int], list[int]] = {}
    for match in _byte_ranges(data):
        key = (int(match.group(1)), int(match.group(2)), int(match.group(3)), int(match.group(4)))
        positions.setdefault(key, []).append(match.start())
    found: list[str] = []
    for (a, b, c, d), where in positions.items():
        end = c + d
        if a != 0 or not 0 < b < c <= end <= len(data):
            continue
        signed = [p for p in where if p < b or c <= p < end]
        if not signed:
            continue
        later = [p for p in where if p >= end]
        if later:
            found.append(
                f"một từ điển chữ ký khác có cùng vùng ký /ByteRange [{a} {b} {c} {d}] được ghi "
                f"sau khi ký (vị trí {later[0]})."
            )
            continue
        header = _header_before(data, signed[0])
        if header is None:
            continue
        again = _defined_again(data, header.group(1), header.group(2), end)
        if again is not None:
            found.append(
                f"đối tượng {int(header.group(1))} {int(header.group(2))} chứa từ điển chữ ký "
                f"được định nghĩa lại sau khi ký (vị trí {again})."
            )
    return found[:_MAX_FINDINGS]


_HEADER_TAIL = re.compile(rb"(?<![0-9])(\d+)" + _WS + rb"+(\d+)" + _WS + rb"+obj$")


def _header_before(data: bytes, pos: int) -> re.Match[bytes] | None:
    """The ``N G obj`` header of the object that contains ``pos`` (searched backwards for
    ``obj`` keywords, at most 64 KiB back)."""
    low = max(0, pos - 65536)
    end = pos
    while True:
        at = data.rfind(b"obj", low, end)
        if at < 0:
            return None
        header = _HEADER_TAIL.search(data, max(low, at - 48), at + 3)
        if header is not None:
            return header
        end = at


def _defined_again(data: bytes, number: bytes, generation: bytes, start: int) -> int | None:
    """Where ``number generation obj`` starts after ``start``. The pattern starts with the
    literal number (a regular expression starting with a look-behind would be tried at every
    byte); a hit preceded by a digit is part of a longer number."""
    pattern = re.compile(
        re.escape(number) + _WS + rb"+" + re.escape(generation) + _WS + rb"+obj(?![A-Za-z])"
    )
    for match in pattern.finditer(data, start):
        if match.start() == 0 or data[match.start() - 1] not in b"0123456789":
            return match.start()
    return None
