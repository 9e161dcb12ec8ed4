"""Whole documents whose structure elements are written as Microsoft Word writes them (the
bytes of the leaf and parent shortcuts of :mod:`ingest.signatures._flat`), with hostile
variants beside them: references, ``>>`` and ``R`` inside strings, comments, a nested
dictionary (an OBJR) and an object number 0 under ``/K``, an indirect ``/K`` array. The fast
reader's path map must equal stock pyHanko's on every revision, and the shortcuts must have
been taken for the plain elements (so that the comparison covers them)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pdf_equality import fast_path_map, signed_twice_both_ways, stock_path_map, with_page_rotated
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from ingest.signatures import Indication, TrustStore, _flat
from ingest.signatures._reader import CachingPdfReader, _PathMapResolver
from ingest.testpki import TestPKI

N = generic.NameObject

pytestmark = pytest.mark.usefixtures("quiet_logging")


class _Raw(generic.PdfObject):
    """An object written as the given bytes (the way another producer wrote it)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def write_to_stream(self, stream: Any, handler: Any = None, container_ref: Any = None) -> None:
        stream.write(self.raw)


# (name, body of /K with {c0}, {c1}: the two leaves, {a}: the annotation, {arr}: an array)
_HOSTILE = [
    ("plain parent", b"[ {c0} 0 R {c1} 0 R]"),
    ("parent with mcids", b"[ {c0} 0 R 4 {c1} 0 R 5]"),
    ("string with a reference", b"[ {c0} 0 R ({a} 0 R >> /Pg 1 0 R) {c1} 0 R]"),
    ("string with a bracket", b"[ {c0} 0 R (a] {a} 0 R) {c1} 0 R]"),
    ("comment", b"[ {c0} 0 R %{a} 0 R]\n {c1} 0 R]"),
    ("objr", b"[ {c0} 0 R<</Type/OBJR/Obj {a} 0 R>> {c1} 0 R]"),
    ("object number 0", b"[ 0 0 R {c0} 0 R {c1} 0 R]"),
    ("indirect array", b"{arr} 0 R"),
]


def _document(k_body: bytes) -> tuple[bytes, bytes]:
    """The document and its parent element's bytes."""
    writer = PdfFileWriter(stream_xrefs=True)
    stream = writer.prepare_object_stream()
    annot = writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/Annot"), N("/Subtype"): N("/Square"),
        N("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 5, 5)]),
    }))
    page = generic.DictionaryObject({
        N("/Type"): N("/Page"), N("/Parent"): writer.root.raw_get("/Pages"),
        N("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 10, 10)]),
        N("/Annots"): generic.ArrayObject([annot]),
    })
    page_ref = writer.add_object(page)
    pages = writer.root["/Pages"]
    pages[N("/Kids")] = generic.ArrayObject([page_ref])
    pages[N("/Count")] = generic.NumberObject(1)
    root_ref = writer.allocate_placeholder()
    parent = writer.allocate_placeholder()
    leaves = [writer.allocate_placeholder() for _ in range(2)]
    array = writer.allocate_placeholder()
    pg = page_ref.idnum
    for ix, leaf in enumerate(leaves):
        raw = b"<</P %d 0 R/S/Span/Type/StructElem/Lang(vi) /K[ %d] /Pg %d 0 R>>" % (
            parent.idnum, ix, pg)
        writer.add_object(_Raw(raw), obj_stream=stream, idnum=leaf.idnum)
    numbers = {"c0": leaves[0].idnum, "c1": leaves[1].idnum, "a": annot.idnum, "arr": array.idnum}
    body = k_body
    for name, value in numbers.items():
        body = body.replace(b"{%s}" % name.encode(), b"%d" % value)
    parent_raw = b"<</P %d 0 R/S/P/Type/StructElem/K%s /Pg %d 0 R>>" % (root_ref.idnum, body, pg)
    writer.add_object(_Raw(parent_raw), obj_stream=stream, idnum=parent.idnum)
    writer.add_object(
        _Raw(b"[ %d 0 R %d 0 R]" % (leaves[0].idnum, leaves[1].idnum)), obj_stream=stream,
        idnum=array.idnum,
    )
    writer.add_object(generic.DictionaryObject({
        N("/Type"): N("/StructTreeRoot"), N("/K"): generic.ArrayObject([parent]),
        N("/ParentTree"): generic.DictionaryObject({N("/Nums"): generic.ArrayObject(
            [generic.NumberObject(0), generic.ArrayObject([*leaves, parent])])}),
    }), obj_stream=stream, idnum=root_ref.idnum)
    writer.root[N("/StructTreeRoot")] = root_ref
    return with_page_rotated(writer, page_ref), parent_raw


# upstream's walk stops with an error on these: the parent element cannot be parsed (an
# object number 0 under /K; "/K9 0 R" is a key /K9), reads as a null that was never in the
# file, and copying it for the map raises
_UPSTREAM_FAILS = ("object number 0", "indirect array")


@pytest.mark.parametrize(("name", "k_body"), _HOSTILE, ids=[name for name, _ in _HOSTILE])
def test_word_style_elements_walk_as_upstream(name: str, k_body: bytes) -> None:
    data, parent_raw = _document(k_body)
    stock = PdfFileReader(BytesIO(data), strict=False)
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert fast.total_revisions == 2
    for revision in range(2):
        expected = stock_path_map(stock, revision)
        assert fast_path_map(fast, revision) == expected, (name, revision)
        assert (expected[1] is not None) == (name in _UPSTREAM_FAILS), expected
    if name in _UPSTREAM_FAILS:
        return
    resolver = fast.get_historical_resolver(0)
    assert isinstance(resolver, _PathMapResolver)
    flats = [node for node in resolver._node_cache.values() if type(node) is _flat.Flat]
    # the two leaves are read by the leaf shortcut in every variant, the parent by the parent
    # shortcut where its bytes have the plain shape (so the comparison above covers both)
    assert sum(node.k is None and node.type_name == "/StructElem" for node in flats) >= 2
    shortcut = _flat._patterns().parent.match(parent_raw) is not None
    assert shortcut == (name in ("plain parent", "parent with mcids")), name
    if shortcut:
        assert any(node.type_name == "/StructElem" and node.k is not None for node in flats)


def test_an_unparsable_element_stops_the_walk_as_upstream() -> None:
    # without the check in _PathMapResolver._raw the fast walk read the unparsable element as
    # null and went on: a path map (and a difference analysis) where upstream has an error
    data, _ = _document(b"[ 0 0 R {c0} 0 R]")
    fast = CachingPdfReader(BytesIO(data), strict=False)
    found, error = fast_path_map(fast, 0)
    assert found is None and error is not None
    assert error[0].__name__ == "PdfReadError" and "No container reference" in error[1]


def test_a_signed_document_with_an_unparsable_element_gets_stock_pyhankos_verdict(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    # signed twice; the structure tree holds an element that cannot be parsed. Stock pyHanko's
    # difference analysis fails on it; before the check in _PathMapResolver._raw, the fast
    # reader's analysis went on and both signatures passed
    data, _ = _document(b"[ 0 0 R {c0} 0 R {c1} 0 R]")
    fast, stock = signed_twice_both_ways(data, pki, pki_trust)
    assert [s.verdict for s in fast.signatures] == [s.verdict for s in stock.signatures]
    assert fast.verdict.indication is stock.verdict.indication
    assert fast.verdict.indication is not Indication.TOTAL_PASSED
