"""The path-map memo (``_PathMemo``) is reused only where the walk below it would be the same.

A walk reused from another revision stands for its records there. It reads the value of every
object it records that it does not pass over by its path alone: an object it enters, and an
object it finds not to be a container (a number, a null, a name). If one of the latter is a
dictionary or an array in the other revision, the walk goes below it there, so the memo must
not be reused. Before the fix, the memo kept only the objects it entered: a number turned into
a dictionary in a later revision hid every path below it from the later revision's map, where
stock pyHanko records them (a verdict could then miss a change to an object reachable only
through it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pdf_equality import fast_path_map, fresh_stock_path_map, small_page, written
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from ingest.signatures import Indication, TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.signing import sign_pdf
from ingest.testpki import TestPKI

_HOLES = 4  # the catalog's /KhoD dictionary holds /X0 .. /X3, each a reference to an object


def _base() -> tuple[bytes, list[int]]:
    """One page; the catalog's ``/KhoD`` (an indirect dictionary, so that the walk below it is
    memoised) refers to ``_HOLES`` indirect numbers."""
    writer = PdfFileWriter()
    writer.insert_page(
        small_page()
    )
    holes = [writer.add_object(generic.NumberObject(ix)) for ix in range(_HOLES)]
    holder = writer.add_object(
        generic.DictionaryObject(
            {generic.NameObject(f"/X{ix}"): ref for ix, ref in enumerate(holes)}
        )
    )
    writer.root[generic.NameObject("/KhoD")] = holder
    writer.update_root()
    return written(writer), [ref.idnum for ref in holes]


# what an object of the holder becomes in a revision
_ATOM, _NULL, _DICT, _ARRAY, _NAME = range(5)


def _revise(data: bytes, changes: list[tuple[int, int]], holes: list[int]) -> bytes:
    """A revision overwriting the holder's objects: a number, a null, a name, or a dictionary
    or array with a reference to a new object (reachable only through it)."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    for hole, kind in changes:
        idnum = holes[hole % len(holes)]
        value: generic.PdfObject
        if kind == _ATOM:
            value = generic.NumberObject(idnum)
        elif kind == _NULL:
            value = generic.NullObject()
        elif kind == _NAME:
            value = generic.NameObject("/Kho")
        else:
            below = writer.add_object(
                generic.DictionaryObject({generic.NameObject("/Below"): generic.NumberObject(1)})
            )
            if kind == _DICT:
                value = generic.DictionaryObject({generic.NameObject("/Y"): below})
            else:
                value = generic.ArrayObject([generic.NumberObject(0), below])
        writer.objects[(0, idnum)] = value
    return written(writer)


def _assert_maps_equal_stock(data: bytes, order: list[int]) -> None:
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert fast._plain_objects()
    for revision in order:
        assert fast_path_map(fast, revision) == fresh_stock_path_map(data, revision), (order, revision)


def _below_paths(data: bytes, revision: int, reader: CachingPdfReader) -> set[str]:
    found, error = fast_path_map(reader, revision)
    assert error is None and found is not None
    return {str(path) for paths in found.values() for path in paths if ".Y" in str(path)}


def test_a_number_that_becomes_a_dictionary_is_walked_in_the_later_revision() -> None:
    base, holes = _base()
    data = _revise(base, [(0, _DICT)], holes)
    stock = PdfFileReader(BytesIO(data), strict=False)
    assert stock.total_revisions == 2
    # the older revision first: its walk below /KhoD is memoised, then offered to the newer one
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert _below_paths(data, 0, fast) == set()
    assert _below_paths(data, 1, fast) == {".Root.KhoD.X0.Y"}
    for order in ([0, 1], [1, 0]):
        _assert_maps_equal_stock(data, order)


def test_a_dictionary_that_becomes_a_number_is_not_walked_in_the_later_revision() -> None:
    base, holes = _base()
    data = _revise(_revise(base, [(1, _DICT)], holes), [(1, _ATOM)], holes)
    for order in ([1, 2], [2, 1], [0, 1, 2, 1, 0]):
        _assert_maps_equal_stock(data, order)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # shrinking whole documents takes long
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, _HOLES - 1), st.integers(0, 4)), min_size=1, max_size=3),
        min_size=1,
        max_size=4,
    )
)
def test_path_maps_equal_stock_when_objects_change_kind(
    revisions: list[list[tuple[int, int]]],
) -> None:
    data, holes = _base()
    for changes in revisions:
        data = _revise(data, changes, holes)
    count = len(revisions) + 1
    # oldest first (as a verification computes them), newest first, and back and forth: each
    # map may reuse the memos of the maps before it
    _assert_maps_equal_stock(data, list(range(count)))
    _assert_maps_equal_stock(data, list(reversed(range(count))))
    _assert_maps_equal_stock(data, [*range(count), *reversed(range(count))])


def _overwrite_below(data: bytes, holes: list[int]) -> bytes:
    """A revision that changes the object below the holder's first object (``/X0/Y``)."""
    reader = PdfFileReader(BytesIO(data), strict=False)
    below = reader.get_object(generic.Reference(holes[0], 0, reader)).raw_get("/Y")  # type: ignore[attr-defined]
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    writer.objects[(0, below.idnum)] = generic.DictionaryObject(
        {generic.NameObject("/Below"): generic.NumberObject(2)}
    )
    return written(writer)


@pytest.mark.usefixtures("quiet_logging")
def test_a_change_below_an_object_that_became_a_dictionary_gets_stock_pyhankos_verdict(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    # signed by a person over a number; the number made a dictionary with an object below it;
    # signed by the organisation; then the object below it changed. Before the fix the fast
    # path map of the organisation's revision (reusing the walk of the person's) lacked that
    # object's path; the verdicts were the same all the same (both INDETERMINATE /
    # SIG_CONSTRAINTS_FAILURE): this test passes on the old code too, and guards the verdict
    base, holes = _base()
    one = sign_pdf(base, pki.personal, revocation=pki.revocation_for(pki.personal))
    two = sign_pdf(
        _revise(one, [(0, _DICT)], holes),
        pki.organisation,
        revocation=pki.revocation_for(pki.organisation),
    )
    data = _overwrite_below(two, holes)
    moment = datetime.now(UTC)
    fast = _verify_pdf(data, pki_trust, False, moment, CachingPdfReader)
    stock = _verify_pdf(data, pki_trust, False, moment, PdfFileReader)
    assert [s.to_dict() for s in fast.signatures] == [s.to_dict() for s in stock.signatures]
    assert fast.verdict.indication is stock.verdict.indication
    assert fast.verdict.indication is not Indication.TOTAL_PASSED


# -- the pages' memos (each page of a one-level page tree has its own) -----------------------
_PAGES = 4


def _pages_base() -> tuple[bytes, list[int], list[int]]:
    """``_PAGES`` pages, each referring (``/Kho``) to an indirect number of its own and to a
    shared one (``/Shared``)."""
    writer = PdfFileWriter()
    shared = writer.add_object(generic.NumberObject(-1))
    holes = []
    for ix in range(_PAGES):
        hole = writer.add_object(generic.NumberObject(ix))
        holes.append(hole.idnum)
        writer.insert_page(
            small_page(Kho=hole, Shared=shared)
        )
    data = written(writer)
    reader = PdfFileReader(BytesIO(data), strict=False)
    kids = reader.root["/Pages"]["/Kids"]
    pages = [kid.idnum for kid in kids]  # type: ignore[attr-defined]
    return data, pages, [*holes, shared.idnum]


def _revise_pages(
    data: bytes, changes: list[tuple[int, int, int]], pages: list[int], holes: list[int]
) -> bytes:
    """A revision that rotates a page (as a signature field changes its page), points a page at
    another page's object, or turns one of the pages' objects into another kind."""
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    for op, a, b in changes:
        if op == 0:
            page = writer.get_object(generic.Reference(pages[a % len(pages)], 0, writer.prev))
            page[generic.NameObject("/Rotate")] = generic.NumberObject(90 * (b % 4))
            writer.update_container(page)
        elif op == 1:
            page = writer.get_object(generic.Reference(pages[a % len(pages)], 0, writer.prev))
            page[generic.NameObject("/Kho")] = generic.IndirectObject(
                holes[b % len(holes)], 0, writer
            )
            writer.update_container(page)
        else:
            idnum = holes[a % len(holes)]
            value: generic.PdfObject
            if b % 3 == 0:
                value = generic.NumberObject(b)
            elif b % 3 == 1:
                below = writer.add_object(
                    generic.DictionaryObject({generic.NameObject("/Below"): generic.NumberObject(b)})
                )
                value = generic.DictionaryObject({generic.NameObject("/Y"): below})
            else:  # a cycle back to a page: pruned off the page's canonical path
                value = generic.ArrayObject(
                    [generic.IndirectObject(pages[b % len(pages)], 0, writer)]
                )
            writer.objects[(0, idnum)] = value
    return written(writer)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 7), st.integers(0, 7)),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_path_maps_equal_stock_when_pages_change_between_revisions(
    revisions: list[list[tuple[int, int, int]]],
) -> None:
    data, pages, holes = _pages_base()
    for changes in revisions:
        data = _revise_pages(data, changes, pages, holes)
    count = len(revisions) + 1
    _assert_maps_equal_stock(data, list(range(count)))
    _assert_maps_equal_stock(data, [*reversed(range(count)), *range(count)])


def test_an_unchanged_pages_walk_is_reused_by_a_later_revision() -> None:
    # the later revision rotates the first page: the walks below the other pages are reused
    data, pages, holes = _pages_base()
    data = _revise_pages(data, [(0, 0, 1)], pages, holes)
    fast = CachingPdfReader(BytesIO(data), strict=False)
    fast_path_map(fast, 0)
    fast_path_map(fast, 1)
    _, memos = fast.get_historical_resolver(1)._path_group  # type: ignore[misc]
    reused: list[tuple[object, ...]] = []
    pending = list(memos)
    while pending:
        memo = pending.pop()
        if memo.revision == 0:
            reused.append(next(r for r in memo.records if type(r) is tuple)[1])
        else:
            pending.extend(r for r in memo.records if type(r) is not tuple)
    assert sorted(p for p in reused if p[:3] == ("/Root", "/Pages", "/Kids")) == [
        ("/Root", "/Pages", "/Kids", ix) for ix in range(1, _PAGES)
    ]
    _assert_maps_equal_stock(data, [0, 1])
