"""The fast reader's historical views copy objects for the rules exactly as pyHanko does
(``_PathMapResolver._subsume_object`` against upstream's ``HistoricalResolver._subsume_object``):
the same types, values, key order, container references and bound views, atoms shared, and
the same errors for objects that upstream refuses to copy."""

from __future__ import annotations

import logging
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pdf_objects import pdf_from_objects
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver

from ingest.signatures._reader import CachingPdfReader, _PathMapResolver
from ingest.signatures.evaluation import read_manifest


def upstream_copy(view: HistoricalResolver, obj: Any) -> Any:
    """Upstream's copy, with upstream's recursion (not the fast method) all the way down."""

    class Stock(HistoricalResolver):
        pass

    stock = Stock.__new__(Stock)
    stock.__dict__.update(view.__dict__)
    copy = HistoricalResolver._subsume_object(stock, obj)
    _rebind(copy, stock, view)
    return copy


def _rebind(obj: Any, old: Any, new: Any) -> None:
    # the stock copy is bound to a twin of the view; bind it to the view itself for comparing
    if isinstance(obj, generic.IndirectObject):
        assert obj.reference.pdf is old
        object.__setattr__(obj.reference, "pdf", new)
        return
    if isinstance(obj, generic.DictionaryObject | generic.ArrayObject):
        if isinstance(obj.container_ref, generic.Reference) and obj.container_ref.pdf is old:
            object.__setattr__(obj.container_ref, "pdf", new)
        for value in obj.values() if isinstance(obj, generic.DictionaryObject) else obj:
            _rebind(value, old, new)


def assert_same_copy(fast: Any, stock: Any, original: Any, view: HistoricalResolver) -> None:
    assert type(fast) is type(stock)
    if isinstance(stock, generic.IndirectObject):
        assert fast is not original
        assert fast.reference == stock.reference
        assert fast.reference.pdf is view and stock.reference.pdf is view
        assert fast.container_ref == stock.container_ref
        return
    if isinstance(stock, generic.DictionaryObject | generic.ArrayObject):
        assert fast is not original
        assert type(fast.container_ref) is type(stock.container_ref)
        assert fast.container_ref == stock.container_ref
        assert fast.container_ref is not original.container_ref
        if isinstance(stock.container_ref, generic.Reference):
            assert fast.container_ref.pdf is view and stock.container_ref.pdf is view
        if isinstance(stock, generic.DictionaryObject):
            assert list(fast.keys()) == list(stock.keys())
            assert [type(k) for k in fast] == [type(k) for k in stock]
            for key in stock:
                assert_same_copy(
                    dict.__getitem__(fast, key),
                    dict.__getitem__(stock, key),
                    dict.__getitem__(original, key),
                    view,
                )
            if isinstance(stock, generic.StreamObject):
                assert fast._encoded_data == stock._encoded_data
                assert fast._data == stock._data
                assert fast._handler is stock._handler
        else:
            assert len(fast) == len(stock)
            for a, b, c in zip(fast, stock, original, strict=True):
                assert_same_copy(a, b, c, view)
        return
    # atoms (and anything upstream returns as it is): the very object
    assert fast is stock is original


def _corpus_files(corpus_pdf_dir: Path) -> list[str]:
    return [entry.file for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv")]


def test_copies_equal_upstream_on_every_corpus_object(corpus_pdf_dir: Path) -> None:
    logging.disable(logging.CRITICAL)
    copied = 0
    containers = 0
    try:
        for name in _corpus_files(corpus_pdf_dir):
            data = (corpus_pdf_dir / name).read_bytes()
            try:
                reader = CachingPdfReader(BytesIO(data), strict=False)
            except Exception:
                continue
            if not reader._plain_objects():
                continue
            sections = reader.xrefs._xref_sections
            # the first and the last revision: every object of the file as of each
            for revision in sorted({0, len(sections) - 1}):
                view = reader.get_historical_resolver(revision)
                assert isinstance(view, _PathMapResolver)
                refs: set[generic.Reference] = set()
                for r in range(revision + 1):
                    refs |= set(reader.xrefs.explicit_refs_in_revision(r))
                for ref in sorted(refs, key=lambda ref: (ref.idnum, ref.generation)):
                    try:
                        raw = view._raw(generic.Reference(ref.idnum, ref.generation, reader))
                    except Exception:
                        continue  # an object that does not read: never copied
                    try:
                        stock = upstream_copy(view, raw)
                    except Exception as exc:
                        with pytest.raises(type(exc)):
                            view._subsume_object(raw)
                        continue
                    fast = view._subsume_object(raw)
                    assert_same_copy(fast, stock, raw, view)
                    copied += 1
                    containers += isinstance(raw, generic.DictionaryObject | generic.ArrayObject)
    finally:
        logging.disable(logging.NOTSET)
    assert copied > 20_000 and containers > 10_000


@pytest.fixture
def view(corpus_pdf_dir: Path) -> _PathMapResolver:
    data = (corpus_pdf_dir / "vn-quangngai__09_TTR.signed_20250219_012025.pdf").read_bytes()
    found = CachingPdfReader(BytesIO(data), strict=False).get_historical_resolver(1)
    assert isinstance(found, _PathMapResolver)
    return found


def _read(view: HistoricalResolver, source: bytes) -> Any:
    return generic.read_object(BytesIO(source), generic.Reference(7, 0, view.reader))


def test_nested_objects_copied_as_upstream(view: _PathMapResolver) -> None:
    raw = _read(
        view,
        b"<</Type/Page/Kids[1 0 R 2 0 R [3 0 R (s) <ab> 1.5 -2 true null]]"
        b"/Res<</Font<</F1 4 0 R>>/N 5>>/Empty<<>>/A[]>>",
    )
    assert_same_copy(view._subsume_object(raw), upstream_copy(view, raw), raw, view)


class _OddDict(generic.DictionaryObject):
    pass


class _OddName(generic.NameObject):
    pass


@pytest.mark.parametrize("where", ["child", "grandchild"])
def test_atom_without_container_ref_raises_as_upstream(view: _PathMapResolver, where: str) -> None:
    raw = _read(view, b"<</A 1/B[2 3]/C 4 0 R>>")
    orphan = generic.NameObject("/X")  # never read from a file: no container_ref
    if where == "child":
        dict.__setitem__(raw, generic.NameObject("/B"), orphan)
    else:
        raw["/B"].append(orphan)
    with pytest.raises(misc.PdfReadError) as stock:
        upstream_copy(view, raw)
    with pytest.raises(misc.PdfReadError) as fast:
        view._subsume_object(raw)
    assert str(fast.value) == str(stock.value)


def test_trailer_container_ref_raises_as_upstream(view: _PathMapResolver) -> None:
    raw = _read(view, b"<</A 1/B 2 0 R>>")
    dict.__getitem__(raw, "/B").container_ref = generic.TrailerReference(view.reader)
    with pytest.raises(AttributeError):
        upstream_copy(view, raw)
    with pytest.raises(AttributeError):
        view._subsume_object(raw)


def test_unusual_types_go_to_upstream(view: _PathMapResolver) -> None:
    raw = _read(view, b"<</A 1/B[2 0 R]>>")
    odd = _OddDict(raw)
    odd.container_ref = raw.container_ref
    name = _OddName("/N")
    name.container_ref = raw.container_ref
    dict.__setitem__(odd, generic.NameObject("/C"), name)
    outer = _read(view, b"[1 2]")
    outer.append(odd)
    copy = view._subsume_object(outer)
    assert_same_copy(copy, upstream_copy(view, outer), outer, view)
    # upstream copies a subclass as a plain dictionary; the odd name is kept as it is
    assert type(copy[2]) is generic.DictionaryObject and dict.__getitem__(copy[2], "/C") is name


def test_stream_copied_as_upstream(view: _PathMapResolver) -> None:
    raw = generic.read_object(
        BytesIO(b"<</Length 3/R 9 0 R/D[1 2]>>stream\nabc\nendstream"),
        generic.Reference(8, 0, view.reader),
    )
    assert isinstance(raw, generic.StreamObject)
    copy = view._subsume_object(raw)
    assert_same_copy(copy, upstream_copy(view, raw), raw, view)
    assert copy.encoded_data == b"abc"


def _one_page_pdf(value: bytes) -> bytes:
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 1 1]/X " + value + b">>",
    ]
    return pdf_from_objects(objects)


def _page_copy_outcome(reader_class: type, value: bytes) -> str:
    """Read the page in revision 0's view, as the rules do: 'ok' or the exception's name."""
    try:
        reader = reader_class(BytesIO(_one_page_pdf(value)), strict=False)
        reader.get_historical_resolver(0).get_object(generic.Reference(3, 0, reader))
    except RecursionError:
        return "RecursionError"
    except Exception as exc:  # the outcome is what is compared
        return type(exc).__name__
    return "ok"


def _first_failing_depth(reader_class: type, nest: Any, low: int = 10, high: int = 2000) -> int:
    """The shallowest nesting in (``low``, ``high``] whose page ``reader_class`` cannot read
    (from this frame)."""
    assert _page_copy_outcome(reader_class, nest(low)) == "ok"
    assert _page_copy_outcome(reader_class, nest(high)) != "ok"
    while high - low > 1:
        middle = (low + high) // 2
        if _page_copy_outcome(reader_class, nest(middle)) == "ok":
            low = middle
        else:
            high = middle
    return high


def _outcomes(reader_class: type, nest: Any, depths: tuple[int, ...]) -> list[str]:
    """``_page_copy_outcome`` at each depth, called from the frame depth ``_first_failing_depth``
    calls it from (a loop, not a comprehension, which would be a frame of its own)."""
    outcomes = []
    for depth in depths:
        outcomes.append(_page_copy_outcome(reader_class, nest(depth)))
    return outcomes


def _frames_below(extra: int, call: Any, *args: Any) -> Any:
    """``call(*args)`` made ``extra`` Python frames deeper than this function's caller."""
    return call(*args) if extra == 0 else _frames_below(extra - 1, call, *args)


@pytest.mark.parametrize(
    "nest",
    [
        pytest.param(lambda d: b"[" * d + b"1" + b"]" * d, id="arrays"),
        pytest.param(lambda d: b"<</A " * d + b"1" + b">>" * d, id="dictionaries"),
        pytest.param(lambda d: b"[<</A " * d + b"1" + b">>]" * d, id="mixed"),
    ],
)
def test_deep_nesting_fails_at_the_depth_where_upstream_fails(nest: Any) -> None:
    # The copy recurses once per level, as upstream's does; a copy that used fewer frames per
    # level would read a page upstream cannot read, and the fast and stock verdicts would differ.
    # Upstream's parser spends two frames per level, and where the fast parser gives a too deep
    # object back to it, it runs one frame below upstream's own call (CachingPdfReader's
    # _read_object calls super()): from a frame of one parity the two fail at the same depth,
    # from the other the copy fails one level sooner (stricter, never more lenient). Both
    # parities are tried, so the outcome does not depend on how deep pytest calls the test.
    from pyhanko.pdf_utils.reader import PdfFileReader

    logging.disable(logging.CRITICAL)
    try:
        gaps = []
        near = _first_failing_depth(PdfFileReader, nest)
        for extra in (0, 1):
            low, high = near - 8, near + 8
            stock = _frames_below(extra, _first_failing_depth, PdfFileReader, nest, low, high)
            copy = _frames_below(extra, _first_failing_depth, CachingPdfReader, nest, low, high)
            gaps.append(stock - copy)
            depths = (stock - 2, stock - 1, stock, stock + 1)
            upstream = _frames_below(extra, _outcomes, PdfFileReader, nest, depths)
            ours = _frames_below(extra, _outcomes, CachingPdfReader, nest, depths)
            for depth, theirs, mine in zip(depths, upstream, ours, strict=True):
                if theirs != "ok":  # never more lenient, and failing the same way
                    assert mine == theirs, (extra, depth, theirs, mine)
                elif mine != "ok":  # stricter only by the one frame of the override
                    assert depth == copy == stock - 1, (extra, depth, stock, copy, mine)
        assert sorted(gaps) == [0, 1] or gaps == [0, 0], gaps
    finally:
        logging.disable(logging.NOTSET)
