"""The flat-dictionary reader of the path walk (:mod:`ingest.signatures._flat`) answers exactly
what the parsed object gives - its references with their paths (``/Parent`` left out, ``/P``
too inside the structure tree), its ``/Type`` and its ``/K`` - or declines: on every object of
the corpus's object streams and on generated dictionaries, against pyHanko's own parser. The
one-pass reading of a whole object stream (``flat_dicts``, ``CachingPdfReader._stream_flats``)
answers what the per-object reader answers for every object: on every object stream of the
corpus and on generated streams with hostile contents and offsets."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures._flat import Flat, flat_dict_at, flat_dicts
from ingest.signatures._objparse import parse_object
from ingest.signatures._reader import CachingPdfReader, _collect_edges
from ingest.signatures.evaluation import read_manifest

EXAMPLES = int(os.environ.get("KHO_HYPOTHESIS_EXAMPLES", "150"))


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


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
    return flat.edges, flat.edges_in_struct, flat.type_name, flat.k


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
            expected = flat_dict_at(index.data, index.first + offset)
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
    expected = _answers([flat_dict_at(data, position) for position in positions])
    assert _answers(flat_dicts(data, positions)) == expected, (data, positions)
