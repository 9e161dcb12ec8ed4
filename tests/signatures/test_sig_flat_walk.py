"""The path walk over flat arrays and flat top-level objects gives upstream's path map and
upstream's errors: generated tagged documents whose structure tree reaches arrays in object
streams (a ``/K`` that is an indirect array, an array among an element's children, the
``/ParentTree``'s arrays, an array as the structure-tree root, an element listed twice) and
image XObjects at file offsets, compared with stock pyHanko's walk on every revision."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pdf_equality import fast_path_map, stock_path_map
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from ingest.signatures._flat import Flat, FlatArray
from ingest.signatures._reader import (
    CachingPdfReader,
    _PathMapResolver,
    _PathMemo,
    _record_key_list,
)

N = generic.NameObject


pytestmark = pytest.mark.usefixtures("quiet_logging")


def _element(kind: str, **entries: generic.PdfObject) -> generic.DictionaryObject:
    obj = generic.DictionaryObject({N("/S"): N("/" + kind)})
    for key, value in entries.items():
        obj[N("/" + key)] = value
    return obj


def _tagged(variant: str) -> bytes:
    """A one-page tagged document, its structure elements and arrays in an object stream, an
    image XObject at a file offset, then an incremental update that changes one element."""
    writer = PdfFileWriter(stream_xrefs=True)
    stream = writer.prepare_object_stream()

    def add(obj: generic.PdfObject, in_stream: bool = True) -> generic.IndirectObject:
        return writer.add_object(obj, obj_stream=stream if in_stream else None)

    image = generic.StreamObject(
        {N("/Type"): N("/XObject"), N("/Subtype"): N("/Image"), N("/Width"): generic.NumberObject(1),
         N("/Height"): generic.NumberObject(1), N("/ColorSpace"): N("/DeviceGray"),
         N("/BitsPerComponent"): generic.NumberObject(8)},
        stream_data=b"\x00",
    )
    image_ref = add(image, in_stream=False)
    page = generic.DictionaryObject({
        N("/Type"): N("/Page"), N("/Parent"): writer.root.raw_get("/Pages"),
        N("/MediaBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 10, 10)]),
        N("/Resources"): generic.DictionaryObject(
            {N("/XObject"): generic.DictionaryObject({N("/Im0"): image_ref})}
        ),
    })
    page_ref = add(page, in_stream=False)
    pages = writer.root["/Pages"]
    pages[N("/Kids")] = generic.ArrayObject([page_ref])
    pages[N("/Count")] = generic.NumberObject(1)

    root = generic.DictionaryObject({N("/Type"): N("/StructTreeRoot")})
    root_ref = add(root)
    leaf = add(_element("Span", Type=N("/StructElem"), P=root_ref, Pg=page_ref, K=generic.NumberObject(0)))
    deep_element = _element("Span", K=generic.NumberObject(1))
    deep = add(deep_element)
    under = add(generic.ArrayObject([deep, generic.NumberObject(2)]))  # /K of `middle`
    # a nested dictionary: not flat, so its /K (an array in the stream) is read from the parsed
    # element
    middle = add(_element(
        "P", Type=N("/StructElem"), P=root_ref, K=under, Obj=image_ref,
        A=generic.DictionaryObject({N("/O"): N("/Layout")}),
    ))
    # followed only outside the structure tree (from the /ParentTree), where an element is
    # not entered: records for `middle` under that path would show `deep` taken for no element
    deep_element[N("/P")] = middle
    lone = add(generic.ArrayObject([leaf]))  # an array among children: never an element
    kids: list[generic.PdfObject] = [leaf, middle, lone, generic.NumberObject(7)]
    if variant == "listed twice":
        kids.append(leaf)
    kids_ref = add(generic.ArrayObject(kids))
    parent_array = add(generic.ArrayObject([leaf, deep, middle]))
    root[N("/K")] = kids_ref
    root[N("/ParentTree")] = add(generic.DictionaryObject(
        {N("/Nums"): generic.ArrayObject([generic.NumberObject(0), parent_array])}
    ))
    if variant == "array as root":
        writer.root[N("/StructTreeRoot")] = kids_ref
    else:
        writer.root[N("/StructTreeRoot")] = root_ref
    out = BytesIO()
    writer.write(out)

    update = IncrementalPdfFileWriter(out)
    changed = update.get_object(generic.Reference(deep.idnum, deep.generation, update.prev))
    changed[N("/Alt")] = generic.TextStringObject("x")
    update.update_container(changed)
    update.write_in_place()
    return out.getvalue()


@pytest.mark.parametrize("variant", ["plain", "listed twice", "array as root"])
def test_flat_arrays_and_top_level_objects_walk_as_upstream(variant: str) -> None:
    data = _tagged(variant)
    stock = PdfFileReader(BytesIO(data), strict=False)
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert fast.total_revisions == 2
    for revision in range(2):
        expected = stock_path_map(stock, revision)
        assert fast_path_map(fast, revision) == expected, (variant, revision)
        if variant == "listed twice":
            assert expected[1] is not None and "Circular reference in structure tree" in expected[1][1]
        elif variant == "array as root":  # upstream asks the array for its /K
            assert expected[1] is not None and expected[1][0] is TypeError
        else:
            assert expected[1] is None, expected
    # the shortcuts were taken: flat arrays from the object stream, the image read flat
    resolver = fast.get_historical_resolver(0)
    assert isinstance(resolver, _PathMapResolver)
    nodes = list(resolver._node_cache.values())
    if variant != "array as root":
        assert any(type(node) is FlatArray for node in nodes)
    if variant == "plain":  # (the others stop in the structure tree)
        assert any(type(node) is Flat and node.type_name == "/XObject" for node in nodes)


# -- the replay of a reused walk memo ------------------------------------------------------------
def _replay_by_position(memo: _PathMemo, changed: frozenset[int]) -> list[tuple[int, int]]:
    """The replay order by its definition: every key recorded below the memo (nested memos
    included) whose object number changed, at the position of its first record in the walk."""
    first: dict[tuple[int, int], int] = {}
    for position, key in enumerate(_record_key_list(memo.records)):
        first.setdefault(key, position)
    return sorted((key for key in first if key[0] in changed), key=first.__getitem__)


def _memo(records: tuple[object, ...]) -> _PathMemo:
    return _PathMemo(revision=0, depends_on=frozenset(), records=records, page_tree_nodes={},
                     struct_tree_nodes=frozenset(), path_limit=1000)


def test_replayed_reads_follow_the_first_records_of_the_walk() -> None:
    inner = _memo((((9, 0), ("/A",)), ((4, 2), ("/B",)), ((5, 0), ("/C",))))
    outer = _memo((
        ((5, 0), ("/X",)), inner, ((4, 0), ("/Y",)), ((9, 0), ("/Z",)), ((4, 2), ("/W",)),
        ((7, 1), ("/V",)), inner, ((3, 0), ("/U",)),
    ))
    reader = CachingPdfReader.__new__(CachingPdfReader)
    reader._memo_reads = {}
    for changed in (frozenset(), frozenset({4}), frozenset({9, 5}), frozenset({3, 4, 5, 7, 9, 11})):
        for memo in (inner, outer):
            assert reader._replayed_reads(memo, changed) == _replay_by_position(memo, changed)
    assert reader._replayed_reads(outer, frozenset({4, 7, 9})) == [(9, 0), (4, 2), (4, 0), (7, 1)]


def test_replayed_reads_of_the_big_document_follow_the_walk(corpus_pdf_dir: Path) -> None:
    data = (corpus_pdf_dir / "vn-gov__03-vbhn-bkhcn.pdf").read_bytes()
    reader = CachingPdfReader(BytesIO(data), strict=False)
    reader.get_historical_resolver(2)._load_reverse_xref_cache()
    memos = [memo for found in reader._path_memo.values() for memo in found]
    assert len(memos) > 5
    compared = 0
    for memo in memos:
        for revision in range(reader.total_revisions):
            changed = reader._changed_between(memo.revision, revision)
            expected = _replay_by_position(memo, changed)
            assert reader._replayed_reads(memo, changed) == expected
            compared += bool(expected)
    assert compared > 0
    reader.release()
