"""Cross-reference sections read in bulk, for the caching reader only.

pyHanko reads a cross-reference table or stream one entry at a time (``parse_xref_table`` reads
20 bytes, splits them and builds an ``XRefEntry``; ``parse_xref_stream`` reads each field
through ``DictionaryObject.__getitem__`` and ``struct``), then ``XRefSectionData.process_entries``
files each entry. On a tagged government document (7,403 table entries and a hybrid stream of
7,402 more) that is ~100 ms of CPU before anything else happens. Here a section in its plain,
canonical form is validated and taken apart with one regular expression (tables) or one slice
per field (streams), and the same ``XRefSectionData`` is filled in the same order.

This reader may only ever be *stricter* than pyHanko's: the cross-reference region is where the
attack of issue 9 lives (a malformed byte in an appended table made a modified document pass).
Anything other than the canonical form - a malformed or short entry, a marker other than ``n``
or ``f``, 21-byte or space-padded entries, comments, a generation above 65535, overlapping
subsections, an indirect or odd ``/Index`` or ``/W``, a zero or wider-than-8 width, a negative
value, an unknown entry type, a stream shorter or longer than its entries - is *declined*: the
whole table is handed to pyHanko's own ``XRefBuilder`` code, and a stream's entries to pyHanko's
``parse_xref_stream`` over the same (already decoded, so never charged twice to the document's
decode budget) stream object. Everything around the entries (the ``/Prev`` chain and its loop
detection, the startxref correction, the trailer, ``/XRefStm``, ``/Size``, strict-mode checks)
is pyHanko's code or a line-for-line copy of it, so every recovery pyHanko makes, and every
mark it sets, is the same. ``tests/signatures/test_sig_xref.py`` compares the sections field by
field with pyHanko's on every corpus revision and on generated and mutated sections.
"""

from __future__ import annotations

import os
import re
import struct
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodeContext, DecodeLimits, DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader, _read_header_version, process_data_at_eof
from pyhanko.pdf_utils.xref import (
    ObjStreamRef,
    XRefBuilder,
    XRefCache,
    XRefSection,
    XRefSectionData,
    XRefSectionMetaInfo,
    XRefSectionType,
    _expected_xref_stream_size,
    _prev,
    parse_xref_stream,
)

__all__ = ["BulkXRefBuilder", "ListedXRefCache", "init_reader", "read_stream_entries", "read_table_entries"]

_WS = rb"[ \n\r\t\f\x00]"
# a subsection header as parse_xref_table reads it when nothing is unusual: (whitespace) digits,
# whitespace, digits, whitespace (ending at the first entry, or at "trailer" when it is empty)
_SUBSECTION = re.compile(_WS + rb"*([0-9]+)" + _WS + rb"+([0-9]+)" + _WS + rb"+")
# canonical 20-byte entries (ISO 32000-1, 7.5.4): what parse_xref_table reads as exactly
# (offset, generation, marker) without adjusting its position
_ENTRIES = re.compile(rb"(?:[0-9]{10} [0-9]{5} [nf](?: \r| \n|\r\n))*")
_ENTRY = re.compile(rb"([0-9]{10}) ([0-9]{5}) ([nf])")
_TRAILER_END = re.compile(rb"trailer" + _WS + rb"*")
_MAX_GENERATION = 0xFFFF


def read_table_entries(data: bytes, pos: int) -> tuple[XRefSectionData, int, int] | None:
    """``process_entries(parse_xref_table(stream))`` for a table whose entries start at
    ``pos`` (where ``parse_xref_table`` starts): ``(section data, highest object number,
    position after "trailer" and the whitespace after it)``, or ``None`` (declined) for anything
    not in the canonical form, including every case where ``parse_xref_table`` adjusts its
    position, skips an entry or skips a comment."""
    section = XRefSectionData()
    standard = section.standard_xrefs
    freed = section.freed
    explicit = section.explicit_refs_in_revision
    highest = 0
    last_end = 0
    while True:
        header = _SUBSECTION.match(data, pos)
        if header is None:
            return None
        first, count = int(header.group(1)), int(header.group(2))
        if first < last_end:  # overlapping or decreasing subsections
            return None
        pos = header.end()
        end = pos + 20 * count
        if end > len(data) or _ENTRIES.match(data, pos, end).end() != end:
            return None
        rows = _ENTRY.findall(data, pos, end)
        if len(rows) != count:
            return None
        if count:
            highest = max(highest, first + count - 1)
            generations = [int(gen) for _, gen, _ in rows]
            if max(generations) > _MAX_GENERATION:
                return None  # upstream skips the entry (non-strict) or raises: its call
            # the first object number of a subsection is pyHanko's NumberObject, the others
            # plain ints (num += 1), as upstream; object 0 is skipped, as upstream
            idnums = [generic.NumberObject(first), *range(first + 1, first + count)]
            entries = [
                (idnum, generation, marker == b"n", offset)
                for idnum, generation, (offset, _, marker) in zip(idnums, generations, rows, strict=True)
                if idnum
            ]
            # in entry order, so that every dictionary and set is filled as by upstream's loop
            standard.update({i: (g, int(o)) for i, g, used, o in entries if used})
            freed.update({i: g for i, g, used, _ in entries if not used})
            explicit.update([(i, g if used else g - 1) for i, g, used, _ in entries])
        last_end = first + count
        pos = end
        while pos < len(data) and data[pos] in b" \n\r\t\f\x00":
            pos += 1
        if data.startswith(b"trailer", pos):
            trailer = _TRAILER_END.match(data, pos)
            assert trailer is not None
            pos = trailer.end()
            # upstream skips comments here and raises at the end of the file
            if pos >= len(data) or data[pos] == 0x25:  # "%"
                return None
            return section, highest, pos


def _direct_numbers(value: Any) -> list[int] | None:
    """The items of a direct array of non-negative integers (``None`` for anything else)."""
    if type(value) is not generic.ArrayObject:
        return None
    items = list.__iter__(value)
    numbers = [item for item in items if type(item) is generic.NumberObject and item >= 0]
    return numbers if len(numbers) == len(value) else None


_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "q"}


def _rows(data: bytes, widths: list[int]) -> Any:
    """The stream's rows as (type, field 2, field 3) integers, each field read as
    ``convert_to_int`` reads it (big-endian; 8 bytes signed, as its ``struct`` format ">q")."""
    codes = [_STRUCT_CODES.get(width) for width in widths]
    if None not in codes:
        return struct.iter_unpack(">" + "".join(codes), data)  # type: ignore[arg-type]
    row = sum(widths)
    columns = []
    offset = 0
    for width in widths:
        columns.append(
            [
                int.from_bytes(data[i : i + width], "big", signed=width == 8)
                for i in range(offset, len(data), row)
            ]
        )
        offset += width
    return zip(*columns, strict=True)


def read_stream_entries(xref_stream: generic.StreamObject) -> tuple[XRefSectionData, int] | None:
    """``process_entries(parse_xref_stream(xref_stream))``: ``(section data, highest object
    number)`` or ``None`` (declined, before or after decoding) when the stream is not a plain
    one: ``/Index`` and ``/Size`` (or ``/W``) must be direct arrays of non-negative integers
    (``/Index`` in increasing, non-overlapping pairs; ``/W`` three widths of 1 to 8 bytes), the
    data exactly as long as its entries, every type 0, 1 or 2, every generation at most 65535,
    no negative value. The stream is decoded by the same call as in ``parse_xref_stream`` (its
    errors propagate as upstream's), and a declined stream keeps its decoded data, so that
    upstream's reading is not charged to the document's decode budget a second time."""
    raw_index = dict.get(xref_stream, "/Index")
    if raw_index is None:
        size = dict.get(xref_stream, "/Size")
        if type(size) is not generic.NumberObject or size < 0:
            return None
        index = [0, int(size)]
    else:
        index = _direct_numbers(raw_index)
        if index is None or len(index) % 2:
            return None
    widths = _direct_numbers(dict.get(xref_stream, "/W"))
    if widths is None or len(widths) != 3 or not all(1 <= w <= 8 for w in widths):
        return None
    pairs = list(zip(index[0::2], index[1::2], strict=True))
    last_end = 0
    for start, size in pairs:
        if start < last_end:
            return None
        last_end = start + size
    # upstream's own calls, with the same arguments (direct objects: no side effect)
    idx_pairs = xref_stream.get("/Index", [0, xref_stream.get("/Size")])
    entry_sizes = xref_stream.get("/W")
    data = xref_stream.read_data(
        DecodePurpose.XREF_STREAM,
        expected_size=_expected_xref_stream_size(idx_pairs, entry_sizes),
    )
    row = sum(widths)
    total = sum(size for _, size in pairs)
    if len(data) != total * row:
        return None
    rows = list(_rows(data, widths))
    if {row[0] for row in rows} - {0, 1, 2}:
        return None  # an unknown type, which upstream skips
    if max((second for kind, _, second in rows if kind != 2), default=0) > _MAX_GENERATION:
        return None  # upstream skips the entry (non-strict) or raises: its call
    if 8 in widths and any(value < 0 for row in rows for value in row):
        return None  # an 8-byte field with its high bit set: negative for upstream's ">q"
    idnums = [idnum for start, size in pairs for idnum in range(start, start + size)]
    entries = [(idnum, *row) for idnum, row in zip(idnums, rows, strict=True) if idnum]
    # in entry order, so that every dictionary and set is filled as by upstream's loop
    section = XRefSectionData()
    section.standard_xrefs.update({i: (b, a) for i, kind, a, b in entries if kind == 1})
    section.xrefs_in_objstm.update({i: ObjStreamRef(a, b) for i, kind, a, b in entries if kind == 2})
    section.freed.update({i: b for i, kind, _, b in entries if kind == 0})
    section.obj_streams_used.update([a for _, kind, a, _ in entries if kind == 2])
    section.explicit_refs_in_revision.update(
        [(i, 0 if kind == 2 else b if kind == 1 else b - 1) for i, kind, _, b in entries]
    )
    highest = max(idnums, default=0)
    return section, highest


class BulkXRefBuilder(XRefBuilder):
    """pyHanko's ``XRefBuilder`` with the entries of each section read by
    :func:`read_table_entries` / :func:`read_stream_entries`. The two methods below are
    upstream's (pyHanko 0.38), with only the entry reading replaced; a declined table is read by
    upstream's method from its start, a declined stream's entries by ``parse_xref_stream``."""

    def __init__(self, handler: Any, stream: BytesIO, strict: bool, last_startxref: int) -> None:
        super().__init__(handler, stream, strict, last_startxref)
        self._data = stream.getvalue()

    def _stream_section_data(
        self, xrefstream: generic.StreamObject, strict: bool
    ) -> tuple[XRefSectionData, int]:
        fast = read_stream_entries(xrefstream)
        if fast is not None:
            return fast
        data = XRefSectionData()
        highest = data.process_entries(parse_xref_stream(xrefstream, strict=strict), strict=self.strict)
        return data, highest

    def _read_xref_stream(self, declared_startxref: int) -> Any:
        stream = self.stream
        start_location = stream.tell()
        xrefstream_ref, xrefstream = self._read_xref_stream_object()

        xref_section_data, _ = self._stream_section_data(xrefstream, self.strict)
        xref_meta_info = XRefSectionMetaInfo(
            xref_section_type=XRefSectionType.STREAM,
            size=int(xrefstream.raw_get("/Size")),
            declared_startxref=declared_startxref,
            start_location=start_location,
            end_location=stream.tell(),
            stream_ref=xrefstream_ref,
        )
        self.sections.append(XRefSection(xref_meta_info, xref_section_data))

        self.trailer.add_trailer_revision(xrefstream)
        return _prev(xrefstream)

    def _read_xref_table(self, declared_startxref: int) -> Any:
        stream = self.stream
        xref_start = stream.tell()
        fast = read_table_entries(self._data, xref_start)
        if fast is None:
            return super()._read_xref_table(declared_startxref)
        xref_section_data, highest, xref_end = fast
        stream.seek(xref_end)

        new_trailer = generic.DictionaryObject.read_from_stream(
            stream, generic.TrailerReference(self.handler)
        )
        assert isinstance(new_trailer, generic.DictionaryObject)
        declared_size = int(new_trailer.raw_get("/Size"))

        if self.strict and highest >= declared_size:
            raise misc.PdfStrictReadError(
                f"Xref table size mismatch: table allocated object with id "
                f"{highest}, but according to the trailer {declared_size - 1} "
                f"is the maximal allowed object id."
            )

        try:
            hybrid_xref_stm_loc = int(new_trailer.raw_get("/XRefStm"))
        except (KeyError, ValueError):
            hybrid_xref_stm_loc = None

        if hybrid_xref_stm_loc is not None:
            stream_pos = stream.tell()
            stream.seek(hybrid_xref_stm_loc)
            stream_ref, xrefstream = self._read_xref_stream_object()
            hybrid_stream_meta = XRefSectionMetaInfo(
                xref_section_type=XRefSectionType.HYBRID_STREAM,
                size=int(xrefstream.raw_get("/Size")),
                declared_startxref=hybrid_xref_stm_loc,
                start_location=hybrid_xref_stm_loc,
                end_location=stream.tell(),
                stream_ref=stream_ref,
            )
            # upstream: process_hybrid_entries(parse_xref_stream(xrefstream), ...), which
            # parses the stream strictly
            hybrid_data, _ = self._stream_section_data(xrefstream, True)
            xref_section_data.hybrid = XRefSection(hybrid_stream_meta, hybrid_data)
            stream.seek(stream_pos)
            xref_type = XRefSectionType.HYBRID_MAIN
        else:
            stream_ref = None
            xref_type = XRefSectionType.STANDARD

        xref_meta_info = XRefSectionMetaInfo(
            xref_section_type=xref_type,
            size=declared_size,
            declared_startxref=declared_startxref,
            start_location=xref_start,
            end_location=xref_end,
            stream_ref=stream_ref,
        )
        self.sections.append(XRefSection(xref_meta_info, xref_section_data))

        self.trailer.add_trailer_revision(new_trailer)
        return _prev(new_trailer)


class ListedXRefCache(XRefCache):
    """``XRefCache`` whose look-ups ask only the sections that list the object number.

    Upstream's ``get_last_change``, ``get_introducing_revision`` and ``get_historical_ref`` call
    ``try_resolve`` on every section in turn, and a section (with its hybrid part) that does not
    list the number at all answers by raising ``KeyError``: ~8,000 raised and caught exceptions
    per verification of a document with seven revisions. Skipping exactly those sections gives
    the same answers (and the same ``KeyError`` where upstream raises one), in the same order."""

    def __init__(self, reader: Any, xref_sections: list[XRefSection]) -> None:
        super().__init__(reader, xref_sections)
        self._section_idnums: list[frozenset[int]] = []
        for section in xref_sections:
            idnums: set[int] = set()
            part: XRefSection | None = section
            while part is not None:
                data = part.xref_data
                idnums.update(data.xrefs_in_objstm, data.standard_xrefs, data.freed)
                part = data.hybrid
            self._section_idnums.append(frozenset(idnums))
        self._listed: dict[int, list[int]] = {}

    def _listing(self, idnum: int) -> list[int]:
        """The revisions whose sections list ``idnum``, oldest first."""
        try:
            return self._listed[idnum]
        except KeyError:
            pass
        found = [rev for rev, idnums in enumerate(self._section_idnums) if idnum in idnums]
        self._listed[idnum] = found
        return found

    def get_last_change(self, ref: generic.Reference) -> int:
        sections = self._xref_sections
        for revision in reversed(self._listing(ref.idnum)):
            try:
                sections[revision].xref_data.try_resolve(ref)
                return revision
            except KeyError:
                pass
        raise KeyError(ref)

    def get_introducing_revision(self, ref: generic.Reference) -> int:
        sections = self._xref_sections
        for revision in self._listing(ref.idnum):
            try:
                if sections[revision].xref_data.try_resolve(ref) is not None:
                    return revision
            except KeyError:
                pass
        raise KeyError(ref)

    def get_historical_ref(self, ref: Any, revision: int) -> int | ObjStreamRef | None:
        if revision < 0:  # upstream slices sections[: revision + 1]: leave that to it
            return super().get_historical_ref(ref, revision)
        sections = self._xref_sections
        for listed in reversed(self._listing(ref.idnum)):
            if listed > revision:
                continue
            try:
                return sections[listed].xref_data.try_resolve(ref)
            except KeyError:
                continue
        return None


def init_reader(reader: Any, stream: BytesIO, strict: bool) -> None:
    """``PdfFileReader.__init__`` (pyHanko 0.38, default decode limits) with the cross-reference
    sections read by :class:`BulkXRefBuilder`; the tests compare every attribute it sets with a
    stock reader's. Anything but an in-memory stream is read by ``PdfFileReader.__init__``."""
    if not isinstance(stream, BytesIO):
        PdfFileReader.__init__(reader, stream, strict=strict)
        return
    reader._security_handler = None
    reader.strict = strict
    stream.seek(0, os.SEEK_END)
    reader._decode_context = DecodeContext(DecodeLimits(), input_size=stream.tell())
    reader.resolved_objects = {}
    reader._header_version = None
    reader._input_version = None
    reader._historical_resolver_cache = {}
    reader.stream = stream
    reader._header_version = _read_header_version(stream)
    # _read_xrefs_and_trailer
    stream.seek(-1, os.SEEK_END)
    last_startxref = process_data_at_eof(stream)
    builder = BulkXRefBuilder(reader, stream, strict, last_startxref)
    reader.xrefs = ListedXRefCache(reader, builder.read_xrefs())
    reader.last_startxref = builder.last_startxref
    reader.trailer = builder.trailer
    reader.has_xref_stream = builder.has_xref_stream
    reader._embedded_signatures = None
