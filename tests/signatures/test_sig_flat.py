"""The flat-dictionary reader of the path walk (:mod:`ingest.signatures._flat`) answers exactly
what the parsed object gives - its references with their paths (``/Parent`` left out, ``/P``
too inside the structure tree), its ``/Type`` and its ``/K`` - or declines: on every object of
the corpus's object streams and on generated dictionaries, against pyHanko's own parser. The
one-pass reading of a whole object stream (``flat_dicts``, ``CachingPdfReader._stream_flats``)
answers what the per-object reader answers for every object: on every object stream of the
corpus and on generated streams with hostile contents and offsets."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures._flat import (
    Flat,
    FlatArray,
    flat_array_at,
    flat_dict_at,
    flat_dicts,
    flat_object_at,
)
from ingest.signatures._objparse import parse_object
from ingest.signatures._reader import CachingPdfReader, _collect_edges
from ingest.signatures.evaluation import read_manifest

EXAMPLES = int(os.environ.get("KHO_HYPOTHESIS_EXAMPLES", "150"))


pytestmark = pytest.mark.usefixtures("quiet_logging")


def _expected(obj: generic.DictionaryObject) -> tuple[Any, ...] | None:
    """What a Flat must hold for ``obj``; None where the reader must decline (a /Type that is
    no name)."""
    edges: list[Any] = []
    _collect_edges(obj, (), False, edges)
    struct_edges: list[Any] = []
    _collect_edges(obj, (), True, struct_edges)
    type_value = dict.get(obj, "/Type")
    if type_value is None or isinstance(type_value, generic.NullObject):
        type_name = None
    elif isinstance(type_value, generic.NameObject):
        type_name = str(type_value)
    else:
        return None
    k_value = dict.get(obj, "/K")
    k: Any = None
    if isinstance(k_value, generic.IndirectObject):
        k = ("ref", (k_value.idnum, k_value.generation))
    elif isinstance(k_value, generic.ArrayObject):
        items = tuple(
            (item.idnum, item.generation) if isinstance(item, generic.IndirectObject) else None
            for item in k_value
        )
        k = ("array", items) if any(items) else None  # no reference: no child either way
    return (
        tuple((rel, key) for rel, _, key in edges),
        tuple((rel, key) for rel, _, key in struct_edges),
        type_name,
        k,
    )


def _got(flat: Flat) -> tuple[Any, ...]:
    if isinstance(flat, FlatArray):
        return flat.edges, flat.edges_in_struct, flat.type_name, flat.k, flat.items
    return flat.edges, flat.edges_in_struct, flat.type_name, flat.k


def _expected_array(obj: generic.ArrayObject) -> tuple[Any, ...]:
    """What a FlatArray must hold for ``obj``."""
    edges: list[Any] = []
    _collect_edges(obj, (), False, edges)
    struct_edges: list[Any] = []
    _collect_edges(obj, (), True, struct_edges)
    items = tuple(
        (item.idnum, item.generation) if isinstance(item, generic.IndirectObject) else None
        for item in obj
    )
    return (
        tuple((rel, key) for rel, _, key in edges),
        tuple((rel, key) for rel, _, key in struct_edges),
        None,
        None,
        items,
    )


def _corpus_object_streams(corpus_pdf_dir: Path) -> Iterator[tuple[str, Any, int, Any]]:
    """(file name, reader, object-stream number, its parsed index) for every object stream
    any revision of a corpus file lists (files or streams pyHanko cannot open are passed over)."""
    for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv"):
        try:
            reader = CachingPdfReader(BytesIO((corpus_pdf_dir / entry.file).read_bytes()), strict=False)
        except Exception:
            continue
        streams = set()
        for revision in range(reader.xrefs.total_revisions):
            section = reader.xrefs.get_xref_data(revision)
            while section is not None:
                streams.update(ref.obj_stream_id for ref in section.xrefs_in_objstm.values())
                section = section.hybrid.xref_data if section.hybrid is not None else None
        for stream in streams:
            try:
                index = reader._objstm_index(stream)
            except Exception:
                continue
            yield entry.file, reader, stream, index


def test_flat_objects_of_the_corpus_read_as_parsed(corpus_pdf_dir: Path) -> None:
    answered = declined = 0
    for name, reader, _stream, index in _corpus_object_streams(corpus_pdf_dir):
        for idnum, (_, offset) in index.entries.items():
            at = index.first + offset
            flat = flat_dict_at(index.data, at)
            if flat is None:
                declined += 1
                continue
            parsed = parse_object(index.data, at, generic.Reference(idnum, 0, reader))
            assert isinstance(parsed, generic.DictionaryObject), (name, idnum)
            assert not isinstance(parsed, generic.StreamObject), (name, idnum)
            assert _got(flat) == _expected(parsed), (name, idnum)
            answered += 1
    # most of them are structure elements and other flat dictionaries
    assert answered > 8000 and answered > 3 * declined, (answered, declined)


def test_flat_arrays_of_the_corpus_read_as_parsed(corpus_pdf_dir: Path) -> None:
    answered = 0
    for name, reader, _stream, index in _corpus_object_streams(corpus_pdf_dir):
        for idnum, (_, offset) in index.entries.items():
            at = index.first + offset
            flat = flat_object_at(index.data, at)
            parsed = parse_object(index.data, at, generic.Reference(idnum, 0, reader))
            if isinstance(flat, FlatArray):
                assert isinstance(parsed, generic.ArrayObject), (name, idnum)
                assert _got(flat) == _expected_array(parsed), (name, idnum)
                answered += 1
            elif flat is not None:
                assert _got(flat) == _got(flat_dict_at(index.data, at))  # type: ignore[arg-type]
    # the /ParentTree's arrays of references, /Nums arrays, ...
    assert answered > 100, answered


# -- generated dictionaries -------------------------------------------------------------------
_WS = st.sampled_from([b" ", b"", b"\n", b"\r\n", b"\x00", b"  ", b"\t"])
_KEYS = st.one_of(
    st.sampled_from([b"P", b"Parent", b"K", b"Type", b"Pg", b"S", b"Obj", b"Kids"]),
    st.binary(min_size=0, max_size=4).map(
        lambda raw: b"".join(
            bytes([c]) if 0x21 <= c < 0x7F and c not in b"()<>[]{}/%" else b"#%02x" % c for c in raw
        )
    ),
)
_REFS = st.one_of(
    st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(lambda t: b"%d %d R" % t),
    st.sampled_from(
        [b"0 0 R", b"5  0 R", b"5 0  R", b"5\n0 R", b"007 0 R", b"5 00 R", b"5 0 Rx", b"5 0R",
         b"12345678901 0 R", b"5 0 R5", b"+5 0 R", b"5 0 obj"]
    ),
)
_ATOMS = st.one_of(
    _REFS,
    st.sampled_from(
        [b"/StructElem", b"/Span", b"/", b"/A#20B", b"0", b"7", b"-3", b"+4", b"1.5", b".5", b"4.",
         b"1.2.3", b"(vi)", b"(a]b)", b"(a\\)b)", b"(x(y)z)", b"<>", b"<4142>", b"<41 42>", b"true",
         b"false", b"null", b"nulls", b"%c\n", b"{", b"<<>>", b"<</S/X>>"]
    ),
)
_VALUES = st.one_of(
    _ATOMS,
    st.lists(st.tuples(_WS, _ATOMS), max_size=6).map(
        lambda items: b"[" + b"".join(ws + item for ws, item in items) + b"]"
    ),
    st.sampled_from([b"[[1 0 R]]", b"[/A 2 0 R]", b"[1 2 R 3]"]),
)
_DICTS = st.tuples(
    st.lists(st.tuples(_WS, _KEYS, _WS, _VALUES), max_size=7),
    _WS,
    st.sampled_from([b"", b"\r\n<</K 1>>", b" stream\n", b"s", b"%x", b"endobj", b"\x00"]),
).map(lambda t: b"<<" + b"".join(w1 + b"/" + k + w2 + v for w1, k, w2, v in t[0]) + t[1] + b">>" + t[2])


@settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_DICTS, st.binary(max_size=3))
def test_generated_dictionaries_read_as_pyhanko_parses_them_or_are_declined(
    text: bytes, prefix: bytes
) -> None:
    data = prefix + text
    flat = flat_dict_at(data, len(prefix))
    if flat is None:
        return
    ref = generic.Reference(7, 0, PdfFileReader.__new__(PdfFileReader))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning (duplicate key, ...) is irregular: must decline
        stock = generic.read_object(BytesIO(text), ref)
    assert isinstance(stock, generic.DictionaryObject) and not isinstance(stock, generic.StreamObject)
    assert _got(flat) == _expected(stock), text
    # and the fast parser, which the rest of the reader uses, reads the same object
    assert _expected(parse_object(data, len(prefix), ref)) == _got(flat), text


_ARRAYS = st.one_of(
    st.lists(st.tuples(_WS, _ATOMS), max_size=8).map(
        lambda items: b"[" + b"".join(ws + item for ws, item in items)
    ).flatmap(lambda head: st.sampled_from([head + b"]", head + b" ]", head, head + b"]x"])),
    st.sampled_from([b"[[1 0 R]]", b"[/A 2 0 R]", b"[1 2 R 3]", b"[1 0 R<</A 2 0 R>>]", b"[(a]b) 1 0 R]",
                     b"[1 0 R%c\n]", b"[ 5827 0 R 5829 0 R]"]),
)


@settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_ARRAYS, st.binary(max_size=3))
@example(b"[ 0true]", b"")  # a number glued to a keyword: two objects for pyHanko (found in round 7)
def test_generated_arrays_read_as_pyhanko_parses_them_or_are_declined(
    text: bytes, prefix: bytes
) -> None:
    data = prefix + text
    flat = flat_object_at(data, len(prefix))
    assert flat is None or isinstance(flat, FlatArray)
    assert (None if flat is None else _got(flat)) == (
        None if flat_array_at(data, len(prefix)) is None else _got(flat_array_at(data, len(prefix)))  # type: ignore[arg-type]
    )
    if flat is None:
        return
    ref = generic.Reference(7, 0, PdfFileReader.__new__(PdfFileReader))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stock = generic.read_object(BytesIO(text), ref)
    assert isinstance(stock, generic.ArrayObject), text
    assert _got(flat) == _expected_array(stock), text
    fast = parse_object(data, len(prefix), ref)
    assert isinstance(fast, generic.ArrayObject) and _expected_array(fast) == _got(flat), text


def test_plain_dictionaries_of_references_are_always_read() -> None:
    answered: list[bool] = []

    plain_refs = st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(
        lambda t: b"%d %d R" % t
    )
    plain_keys = _KEYS.filter(lambda k: b"#" not in k and k != b"Type" and k)

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(st.tuples(plain_keys, plain_refs), max_size=5, unique_by=lambda kv: kv[0]))
    def run(entries: list[tuple[bytes, bytes]]) -> None:
        text = b"<<" + b"".join(b"/" + k + b" " + v for k, v in entries) + b">>"
        answered.append(flat_dict_at(text, 0) is not None)

    run()
    assert all(answered)  # plain keys (no /Type) and plain references: always read


# -- whole object streams read in one pass ------------------------------------------------------
def _answers(flats: list[Flat | None]) -> list[tuple[Any, ...] | None]:
    return [None if flat is None else _got(flat) for flat in flats]


def test_object_streams_of_the_corpus_read_in_one_pass_as_one_by_one(corpus_pdf_dir: Path) -> None:
    streams_read = objects = 0
    for name, reader, stream, index in _corpus_object_streams(corpus_pdf_dir):
        one_pass = reader._stream_flats(stream)
        if one_pass is None:
            continue
        streams_read += 1
        count, by_idnum = one_pass
        assert count == index.count
        assert set(by_idnum) == set(index.entries), (name, stream)
        for idnum, (_, offset) in index.entries.items():
            expected = flat_object_at(index.data, index.first + offset)
            got = by_idnum[idnum]
            assert (None if got is None else _got(got)) == (
                None if expected is None else _got(expected)
            ), (name, stream, idnum)
            objects += 1
    assert streams_read > 20 and objects > 10_000, (streams_read, objects)


_OTHER_OBJECTS = st.sampled_from(
    [b"[1 0 R 2 0 R]", b"12", b"(<<)", b"(a>>b<<c)", b"<</A<</K 3 0 R>>>>", b"<</K[[4 0 R]]>>",
     b"<</A(x\\)<<)/K 5 0 R>>", b"<</A 1 0 R%c\n>>", b"<</N#41 2 0 R>>", b"null", b"<<",
     b">>", b"<</A(()>>", b"<</K 6 0 R>>stream", b"%<<\n", b"<4142>"]
)
_STREAM_OBJECTS = st.lists(
    st.tuples(st.one_of(_DICTS, _OTHER_OBJECTS, st.binary(max_size=4)), _WS), min_size=1, max_size=8
)


@settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_STREAM_OBJECTS, st.lists(st.integers(-3, 3), max_size=8), st.binary(max_size=3))
def test_generated_streams_read_in_one_pass_as_one_by_one(
    objects: list[tuple[bytes, bytes]], shifts: list[int], prefix: bytes
) -> None:
    # the objects one after the other, as in an object stream; some offsets moved into, before
    # or after their object (a header that disagrees with the contents)
    data = prefix
    positions: list[int] = []
    for ix, (text, ws) in enumerate(objects):
        shift = shifts[ix] if ix < len(shifts) else 0
        positions.append(max(0, min(len(data) + shift, len(data) + len(text))))
        data += text + ws
    positions = sorted(set(positions))
    expected = _answers([flat_object_at(data, position) for position in positions])
    assert _answers(flat_dicts(data, positions)) == expected, (data, positions)


# -- top-level objects (at a file offset) read flat ---------------------------------------------
def _top_level_offsets(reader: CachingPdfReader) -> Iterator[tuple[generic.Reference, int]]:
    """Every (reference, file offset) that a cross-reference section of the file lists."""
    seen: set[tuple[int, int, int]] = set()
    for revision in range(reader.xrefs.total_revisions):
        section = reader.xrefs.get_xref_data(revision)
        while section is not None:
            for idnum, (generation, offset) in section.standard_xrefs.items():
                if (idnum, generation, offset) not in seen:
                    seen.add((idnum, generation, offset))
                    yield generic.Reference(idnum, generation, reader), offset
            section = section.hybrid.xref_data if section.hybrid is not None else None


def _stock_read(
    data: bytes | PdfFileReader, idnum: int, generation: int, offset: int
) -> Any:
    """pyHanko's own reading of the object at ``offset`` (no fast parser, non-strict), by a
    reader of ``data`` (or that reader)."""
    stock = data if isinstance(data, PdfFileReader) else PdfFileReader(BytesIO(data), strict=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return stock._read_object(generic.Reference(idnum, generation, stock), offset)


def test_top_level_objects_of_the_corpus_read_flat_as_parsed(corpus_pdf_dir: Path) -> None:
    # wherever the flat reading answers, the full read of the same bytes succeeds without any
    # irregularity (the fast parser answers, pyHanko's own reading does not raise) and gives
    # the same references, /Type and /K
    answered = declined = streams = 0
    for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv"):
        data = (corpus_pdf_dir / entry.file).read_bytes()
        try:
            reader = CachingPdfReader(BytesIO(data), strict=False)
            stock_reader = PdfFileReader(BytesIO(data), strict=False)
        except Exception:
            continue
        for ref, offset in _top_level_offsets(reader):
            flat = reader._top_level_flat(ref, offset)
            if flat is None:
                declined += 1
                continue
            fast = reader._fast_top_level_object(ref, offset)
            assert isinstance(fast, generic.DictionaryObject), (entry.file, ref)
            stock = _stock_read(stock_reader, ref.idnum, ref.generation, offset)
            assert _got(flat) == _expected(fast) == _expected(stock), (entry.file, ref)
            streams += isinstance(stock, generic.StreamObject)
            answered += 1
        reader.release()
    # image XObjects, content streams, fonts, annotations, ...
    assert answered > 1500 and streams > 800, (answered, declined, streams)


_HEADERS = st.sampled_from(
    [b"1 0 obj", b"1 0 obj\n", b"1 0 obj\r\n", b"1 0 obj ", b"1  0 obj", b"01 0 obj", b" 1 0 obj",
     b"1 0 obj%c\n", b"1 0 objx", b"2 0 obj", b"1 1 obj", b"1 0 ob", b"1\n0 obj"]
)
_PAYLOADS = st.sampled_from([b"", b"abc", b"q 1 0 0 1 0 0 cm Q", b"endstream", b"\r\n"])


@st.composite
def _top_level_objects(draw: Any) -> tuple[bytes, int]:
    """A top-level object (header, dictionary, maybe a stream with a right, wrong, indirect or
    missing /Length, an end) and its offset: the source of the object-1 slot of a small file."""
    header = draw(_HEADERS)
    body = draw(_DICTS)
    if draw(st.booleans()):
        payload = draw(_PAYLOADS)
        length = draw(st.sampled_from(
            [b"%d" % len(payload), b"%d" % (len(payload) + 1), b"%d" % (len(payload) + 3),
             b"%d" % max(len(payload) - 1, 0), b"9 0 R", b"-1", b"+%d" % len(payload),
             b"%d.0" % len(payload), b""]
        ))
        length_entry = b"/Length " + length if length else b""
        body = b"<<" + length_entry + body[2:] if body.startswith(b"<<") else body
        eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b" \n", b""]))
        end = draw(st.sampled_from([b"\nendstream", b"endstream", b"\r\nendstream", b"\nendstrea",
                                    b" \nendstream"]))
        body = body + draw(st.sampled_from([b"stream", b" stream", b"streamx"])) + eol + payload + end
    tail = draw(st.sampled_from([b"\nendobj\n", b"endobj\n", b"\n", b"\nendobj", b"%c\nendobj\n",
                                 b" endobj\n%%EOF"]))
    return header + body + tail, 0


def _small_file(obj: bytes) -> tuple[bytes, int]:
    """A file whose object 1 is ``obj`` (its offset returned), with a catalog and a page tree."""
    out = b"%PDF-1.7\n"
    offsets = {}
    offsets[2] = len(out)
    out += b"2 0 obj\n<</Type/Catalog/Pages 3 0 R>>\nendobj\n"
    offsets[3] = len(out)
    out += b"3 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n"
    offsets[1] = len(out)
    out += obj
    out += b"\n9 0 obj\n12\nendobj\n"
    offsets[9] = len(out) - len(b"9 0 obj\n12\nendobj\n")
    xref_at = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n"
    for idnum in (1, 2, 3):
        out += b"%010d 00000 n \n" % offsets[idnum]
    out += b"9 1\n%010d 00000 n \n" % offsets[9]
    out += b"trailer\n<</Size 10/Root 2 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return out, offsets[1]


@settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_top_level_objects())
def test_generated_top_level_objects_read_flat_only_where_the_full_read_is_regular(
    generated: tuple[bytes, int],
) -> None:
    obj, _ = generated
    data, offset = _small_file(obj)
    try:
        reader = CachingPdfReader(BytesIO(data), strict=False)
    except Exception:
        return
    ref = generic.Reference(1, 0, reader)
    flat = reader._top_level_flat(ref, offset)
    if flat is None:
        return
    fast = reader._fast_top_level_object(ref, offset)
    assert isinstance(fast, generic.DictionaryObject), obj
    stock = _stock_read(data, 1, 0, offset)  # raises where pyHanko would: the test fails
    assert type(stock) is type(fast), obj
    assert _got(flat) == _expected(stock) == _expected(fast), obj
    if isinstance(stock, generic.StreamObject):
        assert isinstance(fast, generic.StreamObject) and stock.encoded_data == fast.encoded_data


def test_plain_top_level_streams_are_read_flat() -> None:
    # the common shapes are answered (so the walk saves the parse), the irregular ones are not
    answers = {}
    for label, obj in {
        "image": b"1 0 obj\n<</Type/XObject/Subtype/Image/Width 2/Height 2/Length 3/SMask 9 0 R>>"
        b"stream\r\nabc\r\nendstream\nendobj\n",
        "dictionary": b"1 0 obj<</Type/Font/FontDescriptor 9 0 R>>endobj\n",
        "indirect length": b"1 0 obj\n<</Length 9 0 R>>stream\nabc\nendstream\nendobj\n",
        "length too long": b"1 0 obj\n<</Length 7>>stream\nabc\nendstream\nendobj\n",
        "comment": b"1 0 obj %c\n<</A 9 0 R>>\nendobj\n",
        "other number": b"1 0 obj\n<</Length 3>>stream\nabc\nendstream\nendobj\n".replace(
            b"1 0 obj", b"2 0 obj"
        ),
    }.items():
        data, offset = _small_file(obj)
        reader = CachingPdfReader(BytesIO(data), strict=False)
        flat = reader._top_level_flat(generic.Reference(1, 0, reader), offset)
        answers[label] = None if flat is None else _got(flat)
    assert answers == {
        "image": (((("/SMask",), (9, 0)),), ((("/SMask",), (9, 0)),), "/XObject", None),
        "dictionary": (
            ((("/FontDescriptor",), (9, 0)),), ((("/FontDescriptor",), (9, 0)),), "/Font", None
        ),
        "indirect length": None,
        "length too long": None,
        "comment": None,
        "other number": None,
    }


def test_a_strict_reader_reads_no_top_level_object_flat(corpus_pdf_dir: Path) -> None:
    # a strict read raises on irregularities the flat reading does not look for: never flat
    data = (corpus_pdf_dir / "vn-gov__03-vbhn-bkhcn.pdf").read_bytes()
    lenient = CachingPdfReader(BytesIO(data), strict=False)
    strict = CachingPdfReader(BytesIO(data), strict=True)
    offsets = list(_top_level_offsets(lenient))[:200]
    assert any(lenient._top_level_flat(ref, offset) is not None for ref, offset in offsets)
    assert all(strict._top_level_flat(ref, offset) is None for ref, offset in offsets)
    lenient.release()
    strict.release()
