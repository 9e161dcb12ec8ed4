"""The bulk cross-reference reader (:mod:`ingest.signatures._xref`) builds exactly the sections
pyHanko builds, or declines and lets pyHanko read them: on every revision of the corpus, on
generated tables and streams (hypothesis), on byte flips, insertions and deletions in the
cross-reference region of the corpus files, and on hand-built documents with every unusual
shape it must decline (21-byte entries, odd markers, generations above 65535, overlapping
subsections, comments, zero or 8-byte widths, unknown types, short or long streams, hybrid
files). The whole reader is compared too: same sections field by field, same trailers, same
decode budget spent, same exception where pyHanko raises."""

from __future__ import annotations

import os
import random
import struct
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import (
    XRefSectionData,
    XRefSectionType,
    parse_xref_stream,
    parse_xref_table,
)

from ingest.signatures import _xref
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.evaluation import read_manifest
from tests.support.xref_equality import (
    lookup_differences,
    open_both,
    reader_differences,
    section_data_differences,
)

EXAMPLES = int(os.environ.get("KHO_HYPOTHESIS_EXAMPLES", "150"))


pytestmark = pytest.mark.usefixtures("quiet_logging")


# -- the entry readers against pyHanko's generators --


def _stock_table(data: bytes, pos: int, strict: bool) -> Any:
    stream = BytesIO(data)
    stream.seek(pos)
    section = XRefSectionData()
    try:
        highest = section.process_entries(parse_xref_table(stream, strict), strict=strict)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("ok", section, highest, stream.tell())


def _table_agrees(data: bytes, pos: int) -> bool:
    """Assert that the bulk table reader equals pyHanko's (lenient and strict) or declines;
    whether it read the table."""
    fast = _xref.read_table_entries(data, pos)
    if fast is None:
        return False
    section, highest, end = fast
    for strict in (False, True):
        stock = _stock_table(data, pos, strict)
        assert stock[0] == "ok", (strict, stock)
        assert section_data_differences(stock[1], section) == []
        assert (stock[2], stock[3]) == (highest, end)
    return True


def _stream_object(entries: dict[str, Any], data: bytes) -> generic.StreamObject:
    return generic.StreamObject({generic.NameObject(k): v for k, v in entries.items()}, stream_data=data)


def _stock_stream(entries: dict[str, Any], data: bytes, strict: bool) -> Any:
    section = XRefSectionData()
    try:
        highest = section.process_entries(
            parse_xref_stream(_stream_object(entries, data), strict=strict), strict=strict
        )
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("ok", section, highest)


def _stream_agrees(entries: dict[str, Any], data: bytes) -> bool:
    fast = _xref.read_stream_entries(_stream_object(entries, data))
    if fast is None:
        return False
    section, highest = fast
    for strict in (False, True):
        stock = _stock_stream(entries, data, strict)
        assert stock[0] == "ok", (strict, stock)
        assert section_data_differences(stock[1], section) == []
        assert stock[2] == highest
    return True


def _numbers(values: list[int]) -> generic.ArrayObject:
    return generic.ArrayObject(generic.NumberObject(v) for v in values)


# -- the corpus --


def _corpus(corpus_pdf_dir: Path) -> list[tuple[str, bytes]]:
    return [
        (entry.file, (corpus_pdf_dir / entry.file).read_bytes())
        for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv")
    ]


def test_every_corpus_revision_reads_as_pyhanko_reads_it(corpus_pdf_dir: Path) -> None:
    tables = streams = read = 0
    for name, data in _corpus(corpus_pdf_dir):
        try:
            stock = PdfFileReader(BytesIO(data), strict=False)
        except ValueError:  # one file pyHanko cannot open at all (compared whole below)
            continue
        for section in stock.xrefs._xref_sections:
            parts = [section]
            if section.xref_data.hybrid is not None:
                parts.append(section.xref_data.hybrid)
            for part in parts:
                meta = part.meta_info
                if meta.xref_section_type in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
                    tables += 1
                    read += _table_agrees(data, meta.start_location)
                else:
                    streams += 1
                    obj = stock.get_object(meta.stream_ref)
                    if not isinstance(obj, generic.StreamObject):
                        continue  # a clobbered stream object: compared in the whole reader
                    entries = {str(k): v for k, v in dict.items(obj)}
                    ok = _stream_agrees(entries, obj.data)
                    read += ok
                    if name.startswith("vn-"):
                        assert ok, name  # the real documents' streams are read in bulk
        if name.startswith("vn-gov__03"):
            # the document this reader is for: every section read in bulk, none declined
            assert all(
                _xref.read_table_entries(data, s.meta_info.start_location) is not None
                for s in stock.xrefs._xref_sections
            )
    assert tables > 100 and streams > 20
    assert read >= 0.9 * (tables + streams)


def test_every_corpus_file_opens_as_with_the_stock_reader(corpus_pdf_dir: Path) -> None:
    for name, data in _corpus(corpus_pdf_dir):
        for strict in (False, True):
            stock, fast = open_both(data, strict)
            assert reader_differences(stock, fast) == [], (name, strict)
            if not isinstance(stock, Exception):
                stock.stream.close()


def test_look_ups_ask_only_the_sections_that_list_the_object(corpus_pdf_dir: Path) -> None:
    """``ListedXRefCache`` answers every look-up (last change, introducing revision, location
    as of each revision, current location) as ``XRefCache`` does, KeyErrors included, for every
    object number of every corpus file."""
    compared = 0
    for name, data in _corpus(corpus_pdf_dir):
        try:
            stock = PdfFileReader(BytesIO(data), strict=False)
        except ValueError:
            continue
        assert lookup_differences(stock.xrefs._xref_sections) == [], name
        compared += 1
    assert compared > 40


def _xref_regions(data: bytes) -> list[tuple[int, int]]:
    """The byte ranges of the cross-reference sections (tables with their trailers, streams)."""
    reader = PdfFileReader(BytesIO(data), strict=False)
    regions = []
    for section in reader.xrefs._xref_sections:
        for part in (section, section.xref_data.hybrid):
            if part is not None:
                meta = part.meta_info
                regions.append((max(0, meta.start_location - 6), min(len(data), meta.end_location + 160)))
    return regions


_INTERESTING = b" \r\n\t\x000123456789nfFtx%<>-+.R"


def _mutate(data: bytes, rng: random.Random, start: int, end: int) -> bytes:
    pos = rng.randrange(start, max(start + 1, end))
    kind = rng.random()
    byte = bytes([rng.choice(_INTERESTING) if rng.random() < 0.7 else rng.randrange(256)])
    if kind < 0.5:
        return data[:pos] + byte + data[pos + 1 :]
    if kind < 0.75:
        return data[:pos] + byte + data[pos:]
    return data[:pos] + data[pos + rng.randrange(1, 3) :]


def test_mutated_cross_reference_regions_read_as_with_the_stock_reader(corpus_pdf_dir: Path) -> None:
    """Byte flips, insertions and deletions in the cross-reference sections of every signed
    corpus file (seeded): the caching reader opens each mutant exactly as the stock reader
    does, or raises what it raises; and a mutated table is read as pyHanko reads it, or
    declined."""
    rng = random.Random(9)
    mutants = read_in_bulk = 0
    for name, data in _corpus(corpus_pdf_dir):
        if b"/ByteRange" not in data:
            continue
        try:
            regions = _xref_regions(data)
        except ValueError:
            continue
        per_file = 4 if len(data) > 2_000_000 else 12
        for _ in range(per_file):
            start, end = rng.choice(regions)
            mutant = _mutate(data, rng, start, end)
            stock, fast = open_both(mutant)
            assert reader_differences(stock, fast) == [], (name, start, end)
            if not isinstance(stock, Exception):
                assert lookup_differences(stock.xrefs._xref_sections, limit=60) == []
            if data[start + 6 : start + 6 + 1] not in (b"",) and b"xref" in data[start : start + 8]:
                read_in_bulk += _table_agrees(mutant, data.index(b"xref", start) + 5)
            mutants += 1
    assert mutants > 300
    assert read_in_bulk > 0


# -- generated tables --

_EOLS = [b" \r", b" \n", b"\r\n", b"\n", b" \r\n", b"\r", b"", b"  "]


@st.composite
def _tables(draw: Any) -> bytes:
    """A table with its trailer: canonical (then read in bulk) or with unusual shapes, and
    sometimes one byte flipped, inserted or deleted."""
    plain = draw(st.booleans())

    def pick(canonical: list[Any], unusual: list[Any]) -> Any:
        return draw(st.sampled_from(canonical if plain else canonical + unusual))

    out = [pick([b"", b"\r\n", b"\n", b" "], [b"\n%c\n"])]
    first = 0
    for _ in range(draw(st.integers(1, 3))):
        first = (
            draw(st.one_of(st.integers(first, first + 4), st.integers(0, 8)))
            if not plain
            else draw(st.integers(first, first + 4))
        )
        count = draw(st.integers(0, 6))
        sep = pick([b" "], [b"  ", b"\t", b" %x\n"])
        header_count = count + pick([0], [1, -1])
        out.append(
            b"%d%s%d%s" % (first, sep, max(header_count, 0), pick([b"\r\n", b"\n", b" \n"], [b"\r", b""]))
        )
        for _ in range(count):
            offset = draw(st.integers(0, 10**10 - 1))
            generation = pick([0, 0, 1, 65535], [65536, 99999])
            marker = pick([b"n", b"n", b"f"], [b"x", b"N"])
            if not plain and draw(st.integers(0, 5)) == 0:
                line = b"%10d %5d %s" % (offset, generation, marker)  # space-padded
            else:
                line = b"%010d %05d %s" % (offset, generation, marker)
            out.append(line + pick([b" \r", b" \n", b"\r\n"], [b"\n", b" \r\n", b"\r", b"", b"  "]))
        first += count
    out.append(
        pick(
            [b"trailer\n<< /Size 9 >>", b"trailer<<>>", b"\ntrailer \r\n<<>>"],
            [b"trailer %c\n<<>>", b"trailer", b"xref"],
        )
    )
    data = b"".join(out)
    if draw(st.booleans()):
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        byte = bytes([draw(st.sampled_from(list(_INTERESTING)))])
        if action == "flip":
            data = data[:pos] + byte + data[pos + 1 :]
        elif action == "insert":
            data = data[:pos] + byte + data[pos:]
        else:
            data = data[:pos] + data[pos + 1 :]
    return data


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(_tables())
def test_generated_tables_read_as_pyhanko_reads_them_or_declined(table: bytes) -> None:
    _table_agrees(b"%PDF-1.4\nxref\n" + table, len(b"%PDF-1.4\nxref\n"))


def test_canonical_tables_are_read_in_bulk() -> None:
    table = (
        b"0 3\r\n0000000000 65535 f\r\n0000000017 00000 n\r\n0000000099 00002 f\r\n"
        b"5 1\n0000000120 00001 n \ntrailer\n<<>>"
    )
    assert _table_agrees(table, 0)
    section, highest, end = _xref.read_table_entries(table, 0)  # type: ignore[misc]
    assert section.standard_xrefs == {1: (0, 17), 5: (1, 120)}
    assert section.freed == {2: 2}
    assert highest == 5 and table[end:] == b"<<>>"


@pytest.mark.parametrize(
    "table",
    [
        b"0 2\n0000000000 65535 f \r\n0000000017 00000 n \r\ntrailer\n<<>>",  # 21-byte entries
        b"0 2\n0000000000 65535 f \n0000000017 00000 x \ntrailer\n<<>>",  # unknown marker
        b"0 2\n0000000000 65535 f \n0000000017 70000 n \ntrailer\n<<>>",  # generation > 65535
        b"0 2\n0000000000 65535 f \n0000000017 00000 n\ntrailer\n<<>>",  # 19-byte entry
        b"0 2\n0000000000 65535 f \n      17 00000 n \ntrailer\n<<>>",  # space-padded
        b"0 3\n0000000000 65535 f \n0000000017 00000 n \ntrailer\n<<>>",  # header says 3
        b"0 2\n0000000000 65535 f \n0000000017 00000 n \n1 1\n0000000030 00000 n \ntrailer<<>>",
        b"0 2\n0000000000 65535 f \n0000000017 00000 n \n%c\ntrailer\n<<>>",  # comment
        b"0 2\n0000000000 65535 f \n0000000017 00000 n \ntrailer %c\n<<>>",
        b"0 2\n0000000000 65535 f \n0000000017 00000 n \ntrailer",  # ends after "trailer"
        b"+0 2\n0000000000 65535 f \n0000000017 00000 n \ntrailer\n<<>>",
    ],
)
def test_unusual_tables_are_declined(table: bytes) -> None:
    assert _xref.read_table_entries(table, 0) is None


# -- generated streams --


@st.composite
def _streams(draw: Any) -> tuple[dict[str, Any], bytes]:
    """A stream's dictionary and decoded data: plain (then read in bulk) or with unusual widths,
    /Index pairs, types, values or lengths."""
    plain = draw(st.booleans())

    def pick(canonical: list[Any], unusual: list[Any]) -> Any:
        return draw(st.sampled_from(canonical if plain else canonical + unusual))

    widths = [pick([1, 2, 3, 4, 8], [0, 9]) for _ in range(pick([3], [2, 4]))]
    pairs = []
    start = 0
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(start, start + 5) if plain else st.integers(max(0, start - 2), start + 5))
        size = draw(st.integers(0, 6))
        pairs.append((start, size))
        start += size
    entries: dict[str, Any] = {"/Type": generic.NameObject("/XRef"), "/W": _numbers(widths)}
    entries["/Size"] = generic.NumberObject(max((s + n for s, n in pairs), default=0))
    if not (len(pairs) == 1 and pairs[0][0] == 0 and draw(st.booleans())):
        entries["/Index"] = _numbers([v for pair in pairs for v in pair])
    rows = []
    for _ in range(sum(n for _, n in pairs)):
        row = b""
        for i, width in enumerate(widths):
            if i == 0:
                value = pick([0, 1, 2, 2], [3, 255])
            elif plain:
                value = draw(st.integers(0, min(65535, 256**width - 1)))
            else:
                value = draw(st.one_of(st.integers(0, 70000), st.integers(0, 2**72 - 1)))
            row += (value % (256**width)).to_bytes(width, "big") if width else b""
        rows.append(row)
    data = b"".join(rows)
    tail = pick([""], ["extra", "short"])
    if tail == "extra":
        data += b"\x00"
    elif tail == "short" and data:
        data = data[:-1]
    return entries, data


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(_streams())
def test_generated_streams_read_as_pyhanko_reads_them_or_declined(
    stream: tuple[dict[str, Any], bytes],
) -> None:
    _stream_agrees(*stream)


def test_plain_streams_are_read_in_bulk() -> None:
    rows = struct.pack(">BIH", 0, 0, 65535) + struct.pack(">BIH", 1, 17, 0) + struct.pack(">BIH", 2, 9, 4)
    entries = {
        "/Type": generic.NameObject("/XRef"),
        "/W": _numbers([1, 4, 2]),
        "/Size": generic.NumberObject(3),
    }
    assert _stream_agrees(entries, rows)
    wide = struct.pack(">BqH", 1, 17, 0)
    assert _stream_agrees({**entries, "/W": _numbers([1, 8, 2]), "/Index": _numbers([4, 1])}, wide)


@pytest.mark.parametrize(
    ("widths", "index", "data"),
    [
        ([1, 4, 0], None, struct.pack(">BI", 1, 17) * 3),  # zero width
        ([1, 4, 2], None, struct.pack(">BIH", 1, 17, 0) * 3 + b"\x00"),  # trailing data
        ([1, 4, 2], None, struct.pack(">BIH", 1, 17, 0) * 2),  # short stream
        ([1, 4, 2], None, struct.pack(">BIH", 3, 17, 0) * 3),  # unknown type
        ([1, 4, 2], None, struct.pack(">BIH", 1, 17, 0) * 2 + struct.pack(">BIH", 0, 0, 65535)),
        ([1, 4, 4], None, struct.pack(">BII", 1, 17, 70000) * 3),  # generation > 65535
        ([1, 8, 2], None, struct.pack(">BqH", 1, -5, 0) * 3),  # negative 8-byte field
        ([1, 9, 2], None, (b"\x01" + bytes(9) + b"\x00\x00") * 3),  # wider than 8
        ([1, 4, 2], [2, 2, 3, 1], struct.pack(">BIH", 1, 17, 0) * 3),  # overlapping /Index
        ([1, 4, 2], [0, 2, 5], struct.pack(">BIH", 1, 17, 0) * 2),  # odd /Index
        ([1, 4], None, struct.pack(">BI", 1, 17) * 3),  # two widths
    ],
)
def test_unusual_streams_are_declined(widths: list[int], index: list[int] | None, data: bytes) -> None:
    entries: dict[str, Any] = {
        "/Type": generic.NameObject("/XRef"),
        "/W": _numbers(widths),
        "/Size": generic.NumberObject(3),
    }
    if index is not None:
        entries["/Index"] = _numbers(index)
    if data == struct.pack(">BIH", 1, 17, 0) * 2 + struct.pack(">BIH", 0, 0, 65535):
        assert _stream_agrees(entries, data)  # a free entry with generation 65535 is plain
        return
    assert _xref.read_stream_entries(_stream_object(entries, data)) is None


def test_indirect_stream_parameters_are_declined() -> None:
    entries = {
        "/Type": generic.NameObject("/XRef"),
        "/W": generic.IndirectObject(5, 0, None),
        "/Size": generic.NumberObject(1),
    }
    assert _xref.read_stream_entries(_stream_object(entries, b"\x01\x00\x11\x00")) is None
    entries = {
        "/Type": generic.NameObject("/XRef"),
        "/W": _numbers([1, 2, 1]),
        "/Size": generic.IndirectObject(5, 0, None),
    }
    assert _xref.read_stream_entries(_stream_object(entries, b"\x01\x00\x11\x00")) is None


# -- whole documents: plain, declined and hybrid sections through the reader --


def _document(xref: str, variant: str) -> bytes:
    """A small document whose one cross-reference section (``table``, ``stream`` or
    ``hybrid``) is written plainly or with one unusual shape (``variant``)."""
    out = bytearray(b"%PDF-1.5\n")
    offsets = {}
    for num, body in (
        (1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        (2, b"<< /Type /Pages /Kids [] /Count 0 >>"),
    ):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)

    def stream_object(num: int, size: int) -> None:
        widths = [1, 8, 2] if variant == "wide" else [1, 4, 0] if variant == "zero-width" else [1, 4, 2]
        fmt = ">" + {1: "B", 2: "H", 4: "I", 8: "q"}[widths[1]] + ("H" if widths[2] else "")
        rows = b""
        for obj in range(size):
            if obj == 0:
                values: tuple[int, ...] = (0, 0, 65535)
            elif obj in offsets:
                values = (1, offsets[obj], 0)
            else:
                values = (1, len(out), 0)  # this stream itself
            if variant == "unknown-type" and obj == 1:
                values = (7, *values[1:])
            rows += struct.pack(">B", values[0]) + struct.pack(fmt, *values[1:][: len(fmt) - 1])
        if variant == "trailing":
            rows += b"\x00"
        if variant == "short":
            rows = rows[:-1]
        offsets[num] = len(out)
        w = " ".join(map(str, widths)).encode()
        out.extend(
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [%s] /Root 1 0 R /Length %d >>\nstream\n"
            % (num, size, w, len(rows))
        )
        out.extend(rows + b"\nendstream\nendobj\n")

    if xref == "stream":
        stream_object(3, 4)
        out += b"startxref\n%d\n%%%%EOF\n" % offsets[3]
        return bytes(out)
    stm = b""
    if xref == "hybrid":
        stream_object(3, 4)
        stm = b" /XRefStm %d" % offsets[3]
    start = len(out)
    eol = {"21-byte": b" \r\n", "bad-eol": b"\n"}.get(variant, b" \n")
    marker = b"x" if variant == "marker" else b"n"
    gen = b"70000" if variant == "generation" else b"00000"
    if xref == "hybrid":
        table = b"xref\n0 1\n0000000000 65535 f" + eol
    else:
        table = b"xref\n0 3\n0000000000 65535 f" + eol
        table += b"%010d 00000 n" % offsets[1] + eol + b"%010d %s %s" % (offsets[2], gen, marker) + eol
    if variant == "comment":
        table += b"% a comment\n"
    out += table + b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        4 if xref == "hybrid" else 3,
        stm,
        start,
    )
    return bytes(out)


@pytest.mark.parametrize(
    ("xref", "variant"),
    [
        ("table", "plain"),
        ("table", "21-byte"),
        ("table", "bad-eol"),
        ("table", "marker"),
        ("table", "generation"),
        ("table", "comment"),
        ("stream", "plain"),
        ("stream", "wide"),
        ("stream", "zero-width"),
        ("stream", "trailing"),
        ("stream", "short"),
        ("stream", "unknown-type"),
        ("hybrid", "plain"),
        ("hybrid", "trailing"),
        ("hybrid", "unknown-type"),
        ("hybrid", "21-byte"),
    ],
)
def test_documents_open_as_with_the_stock_reader(xref: str, variant: str) -> None:
    data = _document(xref, variant)
    for strict in (False, True):
        stock, fast = open_both(data, strict)
        assert reader_differences(stock, fast) == [], (strict, stock, fast)
    if variant == "plain":
        stock, fast = open_both(data)
        assert isinstance(fast, CachingPdfReader)
        assert fast.root["/Type"] == "/Catalog"
        # the decode budget is charged once per stream, as by the stock reader
        assert vars(fast._decode_context) == vars(stock._decode_context)
