"""The leaf shortcut of the one-pass stream reading (``_flat._patterns().leaf``, ``_read_leaves``): where it
answers, the answer is the per-object reader's (``flat_object_at``) and pyHanko's parse of the
same bytes; near misses (every part of the shape changed, a byte flipped, inserted or deleted,
hostile tails, offsets moved) are left to the general reading; and the shortcut is taken for
the structure elements of the corpus's large tagged document."""

from __future__ import annotations

import os
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import _flat
from ingest.signatures._flat import Flat, FlatArray, flat_dict_at, flat_dicts, flat_object_at
from ingest.signatures._objparse import parse_object
from ingest.signatures._reader import CachingPdfReader, _collect_edges

EXAMPLES = int(os.environ.get("KHO_HYPOTHESIS_EXAMPLES", "150"))
BIG = "vn-gov__03-vbhn-bkhcn.pdf"

pytestmark = pytest.mark.usefixtures("quiet_logging")


def _got(flat: Flat | None) -> tuple[Any, ...] | None:
    if flat is None:
        return None
    if isinstance(flat, FlatArray):
        return type(flat), flat.edges, flat.edges_in_struct, flat.type_name, flat.k, flat.items
    return type(flat), flat.edges, flat.edges_in_struct, flat.type_name, flat.k


def _stock(text: bytes) -> tuple[Any, ...]:
    """What pyHanko's parse of a dictionary gives the walk (as test_sig_flat._expected)."""
    ref = generic.Reference(7, 0, PdfFileReader.__new__(PdfFileReader))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # anything irregular would have had to be declined
        obj = generic.read_object(BytesIO(text), ref)
    assert isinstance(obj, generic.DictionaryObject) and not isinstance(obj, generic.StreamObject)
    edges: list[Any] = []
    _collect_edges(obj, (), False, edges)
    struct_edges: list[Any] = []
    _collect_edges(obj, (), True, struct_edges)
    k_value = dict.get(obj, "/K")
    assert not isinstance(k_value, generic.IndirectObject)
    assert not (
        isinstance(k_value, generic.ArrayObject)
        and any(isinstance(item, generic.IndirectObject) for item in k_value)
    )
    return (
        Flat,
        tuple((rel, key) for rel, _, key in edges),
        tuple((rel, key) for rel, _, key in struct_edges),
        str(dict.__getitem__(obj, "/Type")),
        None,
    )


def _leaf(parts: dict[str, bytes]) -> bytes:
    return (
        b"<</P " + parts["p"] + b"/S" + parts["s"] + b"/Type" + parts["type"] + parts["lang"]
        + b"/K" + parts["k"] + parts["sep"] + b"/Pg " + parts["pg"] + b">>" + parts["tail"]
    )


_REFS = st.one_of(
    st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(lambda t: b"%d %d R" % t),
    st.sampled_from([b"0 0 R", b"12345678 0 R", b"5 123456 R", b"5  0 R", b"5 0 R5", b"05 0 R",
                     b"5 0 Rx", b"-5 0 R", b"5\n0 R", b"5 0 obj", b"7010 0 R"]),
)
_ANY_PARTS = st.fixed_dictionaries({
    "p": _REFS,
    "s": st.sampled_from([b"/Span", b"/P", b"/H1", b"/A#20B", b"/", b"(x)", b" /Span", b"/Type",
                          b"/K", b"/Span/Alt(a)"]),
    "type": st.sampled_from([b"/StructElem", b"/StructElem ", b"/StructElemX", b"/Pages", b"(S)",
                             b"/StructElem/Type/X"]),
    "lang": st.sampled_from([b"", b"/Lang(vi)", b"/Lang(vi) ", b"/Lang()", b"/Lang(a)b)",
                             b"/Lang(a\\)b)", b"/Lang(<<x>>)", b"/Lang<7669>", b"/Lang(vi)  ",
                             b"/Lang/vi", b"/Lang(v\ni)"]),
    "k": st.sampled_from([b"[ 5]", b"[5]", b"[ 5 ]", b"[ 12345]", b"[ 5 0 R]", b"[ -5]", b"[ 5.]",
                          b"[ 5 6]", b"[]", b" [ 5]", b"[  5]", b"5", b"[ 5 0 R 6 0 R]", b"[ +5]"]),
    "sep": st.sampled_from([b" ", b"", b"  ", b"\n"]),
    "pg": _REFS,
    "tail": st.sampled_from([b"", b"\r\n", b"\r\n<</K 1>>", b" stream\n", b"stream", b"s", b"%x",
                             b"\n%x", b"endobj", b"\x00", b" \x00 s", b">", b"\r\n  "]),
})
# a leaf of the shape the shortcut reads (each part in a form _Patterns.leaf accepts)
_VALID_PARTS = st.fixed_dictionaries({
    "p": st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(lambda t: b"%d %d R" % t),
    "s": st.sampled_from([b"/Span", b"/P", b"/H1", b"/Span!~"]),
    "type": st.just(b"/StructElem"),
    "lang": st.sampled_from([b"", b"/Lang(vi)", b"/Lang(vi) ", b"/Lang()", b"/Lang(<<x>>)"]),
    "k": st.sampled_from([b"[ 5]", b"[5]", b"[ 5 ]", b"[ 12345]", b"[0]"]),
    "sep": st.sampled_from([b" ", b""]),
    "pg": st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(lambda t: b"%d %d R" % t),
    "tail": st.sampled_from([b"", b"\r\n", b"\r\n<</K 1>>", b"endobj", b"\r\n  "]),
})


@st.composite
def _one_part_off(draw: st.DrawFn) -> dict[str, bytes]:
    """A valid leaf with one part taken from the near misses: the boundary of the shortcut."""
    parts = dict(draw(_VALID_PARTS))
    key = draw(st.sampled_from(sorted(parts)))
    parts[key] = draw(_ANY_PARTS)[key]
    return parts


# half valid leaves, half one part off; the independent mix for pairs of odd parts
_PARTS = st.one_of(_VALID_PARTS, _one_part_off(), _ANY_PARTS)


def _mutated(text: bytes, how: int, where: int, byte: int) -> bytes:
    if how == 0 or not text:
        return text
    at = where % len(text)
    if how == 1:
        return text[:at] + bytes([byte]) + text[at + 1 :]
    if how == 2:
        return text[:at] + bytes([byte]) + text[at:]
    return text[:at] + text[at + 1 :]


@settings(max_examples=EXAMPLES * 6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_PARTS, st.integers(0, 3), st.integers(0, 200), st.sampled_from(b" /()<>[]0159RSsK\n%#\\"),
       st.binary(max_size=2))
def test_leaves_read_as_the_per_object_reader_and_pyhanko(
    parts: dict[str, bytes], how: int, where: int, byte: int, prefix: bytes
) -> None:
    text = _mutated(_leaf(parts), how, where, byte)
    data = prefix + text
    at = len(prefix)
    expected = flat_object_at(data, at)
    assert _got(flat_dicts(data, [at])[0]) == _got(expected), data
    leaf = _flat._patterns().leaf.match(data, at)
    if leaf is None:
        return
    # the shortcut answers here: the general reader must read the same, and so must pyHanko
    assert expected is not None, data
    assert _got(expected) == _stock(text), data
    assert _got(flat_dict_at(data, at)) == _got(
        _flat_of_parsed(parse_object(data, at, generic.Reference(7, 0, None)))
    )


def _flat_of_parsed(obj: Any) -> Flat:
    edges: list[Any] = []
    _collect_edges(obj, (), False, edges)
    struct_edges: list[Any] = []
    _collect_edges(obj, (), True, struct_edges)
    return Flat(
        tuple((rel, key) for rel, _, key in edges),
        tuple((rel, key) for rel, _, key in struct_edges),
        str(dict.__getitem__(obj, "/Type")),
        None,
    )


def _assert_stream_reads_as_one_by_one(objects: list[bytes], shifts: list[int], ws: bytes) -> None:
    """``objects`` one after another (``ws`` between), read at their offsets, each moved by its
    ``shifts`` entry: the stream's reading gives what reading each offset alone gives."""
    data = b""
    positions: list[int] = []
    for ix, text in enumerate(objects):
        shift = shifts[ix] if ix < len(shifts) else 0
        positions.append(max(0, min(len(data) + shift, len(data) + len(text))))
        data += text + ws
    positions = sorted(set(positions))
    expected = [_got(flat_object_at(data, position)) for position in positions]
    assert [_got(flat) for flat in flat_dicts(data, positions)] == expected, (data, positions)


@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.one_of(_PARTS.map(_leaf), st.sampled_from(
        [b"<</P 3 0 R/S/P/Type/StructElem/K[ 4 0 R] /Pg 9 0 R>>", b"[1 0 R]", b"12", b"(<</P 1 0 R)",
         b"<</A(<</P 1 0 R/S/Span/Type/StructElem/K[ 5] /Pg 2 0 R>>)>>", b"%<<\n", b"<<"])),
        min_size=1, max_size=8),
    st.lists(st.integers(-4, 4), max_size=8),
    st.sampled_from([b"\r\n", b" ", b"", b"\n"]),
)
def test_streams_of_leaves_read_as_one_by_one(
    objects: list[bytes], shifts: list[int], ws: bytes
) -> None:
    # leaves among other objects (a leaf's text inside another object's string too), some
    # offsets moved into, before or after their object
    _assert_stream_reads_as_one_by_one(objects, shifts, ws)


def test_a_leaf_inside_a_string_is_not_taken_for_an_object() -> None:
    inner = b"<</P 1 0 R/S/Span/Type/StructElem/K[ 5] /Pg 2 0 R>>"
    data = b"<</A(" + inner + b")/K 3 0 R>>\n" + inner
    second = data.rindex(b"<</P")
    answers = flat_dicts(data, [0, second])
    assert _got(answers[0]) == _got(flat_dict_at(data, 0))
    assert answers[0] is not None and answers[0].k == ("ref", (3, 0))
    assert _got(answers[1]) == (Flat, ((("/P",), (1, 0)), (("/Pg",), (2, 0))),
                                ((("/Pg",), (2, 0)),), "/StructElem", None)


@pytest.mark.parametrize(
    "text",
    [
        b"<</P 1 0 R/S/Span/Type/StructElem/K[ 5] /Pg 2 0 R>>stream\n",  # a stream's dictionary
        b"<</P 1 0 R/S/Span/Type/StructElem/K[ 5] /Pg 2 0 R>>%c\n",  # a comment after it
        b"<</P 1 0 R/S/Span/Type/StructElem/K[ 5 0 R] /Pg 2 0 R>>",  # a child under /K
        b"<</P 1 0 R/S/Sp#61n/Type/StructElem/K[ 5] /Pg 2 0 R>>",  # an escaped name
        b"<</P 1 0 R/S/Span/Type/StructElem/Lang(a\\)b) /K[ 5] /Pg 2 0 R>>",  # an escape
        b"<</P 12345678 0 R/S/Span/Type/StructElem/K[ 5] /Pg 2 0 R>>",  # beyond _REF's window
    ],
)
def test_near_misses_are_left_to_the_general_reading(text: bytes) -> None:
    assert _flat._patterns().leaf.match(text) is None
    assert _got(flat_dicts(text, [0])[0]) == _got(flat_object_at(text, 0))


def test_the_big_documents_leaves_are_read_by_the_shortcut(corpus_pdf_dir: Path) -> None:
    data = (corpus_pdf_dir / BIG).read_bytes()
    reader = CachingPdfReader(BytesIO(data), strict=False)
    leaves = objects = 0
    seen: set[int] = set()
    for section in reader.xrefs._xref_sections:
        part = section
        while part is not None:
            for marker in part.xref_data.xrefs_in_objstm.values():
                stream = marker.obj_stream_id
                if stream in seen:
                    continue
                seen.add(stream)
                index = reader._objstm_index(stream)
                positions = sorted(index.first + offset for _, offset in index.entries.values())
                slot_of = {position: slot for slot, position in enumerate(positions)}
                answers: list[Flat | None] = [None] * len(positions)
                _flat._read_leaves(index.data, positions[0], slot_of, answers, _flat._patterns().leaf)
                leaves += len(positions) - len(slot_of)
                objects += len(positions)
                for position, answer in zip(positions, answers, strict=True):
                    if position not in slot_of:  # answered by the shortcut
                        assert _got(answer) == _got(flat_object_at(index.data, position))
            part = part.xref_data.hybrid
    assert objects > 6000 and leaves > 5000, (objects, leaves)


# -- the parent shortcut (``_flat._patterns().parent``, ``_read_parents``): the leaf's shape with
# references and numbers under /K --


def _stock_parent(text: bytes) -> tuple[Any, ...]:
    """What pyHanko's parse of a parent element gives the walk (warnings are errors)."""
    ref = generic.Reference(7, 0, PdfFileReader.__new__(PdfFileReader))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obj = generic.read_object(BytesIO(text), ref)
    assert isinstance(obj, generic.DictionaryObject) and not isinstance(obj, generic.StreamObject)
    edges: list[Any] = []
    _collect_edges(obj, (), False, edges)
    struct_edges: list[Any] = []
    _collect_edges(obj, (), True, struct_edges)
    k_value = dict.__getitem__(obj, "/K")
    assert isinstance(k_value, generic.ArrayObject)
    items = tuple(
        (item.idnum, item.generation) if isinstance(item, generic.IndirectObject) else None
        for item in k_value
    )
    k = ("array", items) if any(item is not None for item in items) else None
    return (
        Flat,
        tuple((rel, key) for rel, _, key in edges),
        tuple((rel, key) for rel, _, key in struct_edges),
        str(dict.__getitem__(obj, "/Type")),
        k,
    )


_VALID_REF = st.tuples(st.integers(1, 9_999_999), st.integers(0, 99_999)).map(
    lambda t: b"%d %d R" % t
)
_K_ITEM = st.one_of(_VALID_REF, st.integers(0, 99_999).map(lambda n: b"%d" % n))
_ODD_K_ITEM = st.sampled_from(
    [b"0 0 R", b"12345678 0 R", b"5 123456 R", b"5  0 R", b"5 0 RX", b"05 0 R", b"-5", b"+5",
     b"5.5", b".5", b"5.", b"(x)", b"/N", b"<<>>", b"[1 0 R]", b"null", b"true", b"5 0 obj",
     b"5\n0 R", b"%c\n", b"1 0 R5", b"<41>", b"5 0"]
)


@st.composite
def _parent_k(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(st.one_of(_K_ITEM, _K_ITEM, _K_ITEM, _ODD_K_ITEM), max_size=8))
    seps = draw(st.lists(st.sampled_from([b" ", b"", b"  ", b"\n"]), min_size=len(items) + 1,
                         max_size=len(items) + 1))
    body = b"".join(sep + item for sep, item in zip(seps, items, strict=False)) + seps[-1]
    return b"[" + body + b"]"


_PARENT_PARTS = st.fixed_dictionaries({
    "p": st.one_of(_VALID_REF, _REFS),
    "s": st.sampled_from([b"/P", b"/LI", b"/H4", b"/A#20B", b"/Span/Alt(a)", b"/"]),
    "type": st.sampled_from([b"/StructElem", b"/StructElem", b"/StructElemX", b"(S)"]),
    "lang": st.sampled_from([b"", b"", b"/Lang(vi)", b"/Lang(vi) ", b"/Lang(a\\)b)"]),
    "k": st.one_of(_parent_k(), st.sampled_from([b"5 0 R", b"[ 5 0 R", b"5"])),
    "sep": st.sampled_from([b" ", b"", b" ", b"\n"]),
    "pg": st.one_of(_VALID_REF, _REFS),
    "tail": st.sampled_from([b"", b"\r\n", b"\r\n<</K 1>>", b" stream\n", b"s", b"%x", b"endobj",
                             b"\r\n  "]),
})


@settings(max_examples=EXAMPLES * 6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_PARENT_PARTS, st.integers(0, 3), st.integers(0, 300),
       st.sampled_from(b" /()<>[]0159RSsK\n%#\\"), st.binary(max_size=2))
def test_parents_read_as_the_per_object_reader_and_pyhanko(
    parts: dict[str, bytes], how: int, where: int, byte: int, prefix: bytes
) -> None:
    text = _mutated(_leaf(parts), how, where, byte)
    data = prefix + text
    at = len(prefix)
    expected = flat_object_at(data, at)
    assert _got(flat_dicts(data, [at])[0]) == _got(expected), data
    if _flat._patterns().parent.match(data, at) is None:
        return
    # the shortcut answers here: the general reader must read the same, and so must pyHanko
    assert expected is not None, data
    assert _got(expected) == _stock_parent(text), data


@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.one_of(_PARENT_PARTS.map(_leaf), _PARTS.map(_leaf), st.sampled_from(
        [b"<</P 3 0 R/S/P/Type/StructElem/K[ 4 0 R 5] /Pg 9 0 R>>", b"[1 0 R]", b"12",
         b"(<</P 1 0 R/S/P/Type/StructElem/K[ 4 0 R] /Pg 2 0 R>>)",
         b"<</A(<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R] /Pg 2 0 R>>)>>", b"%<<\n", b"<<"])),
        min_size=1, max_size=8),
    st.lists(st.integers(-4, 4), max_size=8),
    st.sampled_from([b"\r\n", b" ", b"", b"\n"]),
)
def test_streams_of_parents_read_as_one_by_one(
    objects: list[bytes], shifts: list[int], ws: bytes
) -> None:
    _assert_stream_reads_as_one_by_one(objects, shifts, ws)


@pytest.mark.parametrize(
    ("text", "general"),
    [
        # declined by both readers (pyHanko's own parse decides): a sloppy scanner would read
        # an edge here
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 0 0 R] /Pg 2 0 R>>", None),  # object number 0
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 12345678 0 R] /Pg 2 0 R>>", None),  # too long
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 RX] /Pg 2 0 R>>", None),  # no reference
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R] /Pg 2 0 R>>stream\n", None),  # a stream
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R] /Pg 2 0 R>>%c\n", None),  # a comment
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R [6 0 R]] /Pg 2 0 R>>", None),  # nested
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R<</Obj 6 0 R>>] /Pg 2 0 R>>", None),
        # read by the general reader, not the shortcut (another shape)
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R(>> 6 0 R)] /Pg 2 0 R>>", "flat"),
        (b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R] /Pg 2 0 R/Alt(x)>>", "flat"),
        (b"<</P 1 0 R/S/P/Type/StructElem/K 5 0 R/Pg 2 0 R>>", "flat"),
        (b"<</P 1 0 R/S/Sp#61n/Type/StructElem/K[ 5 0 R] /Pg 2 0 R>>", None),  # an escape
    ],
)
def test_parent_near_misses_are_left_to_the_general_reading(text: bytes, general: str | None) -> None:
    assert _flat._patterns().parent.match(text) is None
    answer = flat_dicts(text, [0])[0]
    assert _got(answer) == _got(flat_object_at(text, 0))
    assert (answer is not None) == (general is not None)


def test_a_parent_inside_a_string_is_not_taken_for_an_object() -> None:
    inner = b"<</P 1 0 R/S/P/Type/StructElem/K[ 5 0 R 6 0 R] /Pg 2 0 R>>"
    data = b"<</A(" + inner + b")/K 3 0 R>>\n" + inner
    second = data.rindex(b"<</P")
    answers = flat_dicts(data, [0, second, 5])
    assert _got(answers[0]) == _got(flat_dict_at(data, 0))
    assert answers[0] is not None and answers[0].k == ("ref", (3, 0))
    # an offset pointing into the string: what the per-object reader reads there
    assert _got(answers[2]) == _got(flat_object_at(data, 5))
    assert _got(answers[1]) == (
        Flat,
        ((("/P",), (1, 0)), (("/K", 0), (5, 0)), (("/K", 1), (6, 0)), (("/Pg",), (2, 0))),
        ((("/K", 0), (5, 0)), (("/K", 1), (6, 0)), (("/Pg",), (2, 0))),
        "/StructElem",
        ("array", ((5, 0), (6, 0))),
    )


def test_the_big_documents_parents_are_read_by_the_shortcut(corpus_pdf_dir: Path) -> None:
    data = (corpus_pdf_dir / BIG).read_bytes()
    reader = CachingPdfReader(BytesIO(data), strict=False)
    parents = with_children = 0
    patterns = _flat._patterns()
    for stream in sorted({m.obj_stream_id for _, m in reader._newest_objstm_slots().values()}):
        index = reader._objstm_index(stream)
        positions = sorted(index.first + offset for _, offset in index.entries.values())
        slot_of = {position: slot for slot, position in enumerate(positions)}
        answers: list[Flat | None] = [None] * len(positions)
        _flat._read_leaves(index.data, positions[0], slot_of, answers, patterns.leaf)
        left = set(slot_of)
        _flat._read_parents(index.data, slot_of, answers, patterns.parent)
        for position in left - set(slot_of):  # answered by the parent shortcut
            parents += 1
            answer = answers[positions.index(position)]
            assert answer is not None
            with_children += answer.k is not None
            assert _got(answer) == _got(flat_object_at(index.data, position))
    assert parents > 700 and with_children > 600, (parents, with_children)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "body",
    [
        b" 1" * 100_000,  # a huge array of numbers, never closed
        b" 1 0 R" * 50_000 + b" 0 0 R]",  # references, then one the shortcut declines
        b" " + b"1" * 50_000 + b"]",  # one very long digit run
        b" 1" * 30 + b"1" * 30 + b" x]",  # digits that a careless pattern splits many ways
        b" 1 0" * 50_000,  # reference-like numbers without R
    ],
)
def test_a_huge_or_unclosed_parent_array_is_read_in_bounded_time(body: bytes) -> None:
    # one match per object at its position, with one way to split the items (each number or
    # reference must end at a delimiter): linear time, no exponential backtracking
    text = b"<</P 1 0 R/S/P/Type/StructElem/K[" + body + b" /Pg 2 0 R>>"
    answers = flat_dicts(text, [0])
    assert _got(answers[0]) == _got(flat_object_at(text, 0))
