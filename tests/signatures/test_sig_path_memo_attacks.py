"""Path maps with the memos of other revisions equal stock pyHanko's, on revision sequences an
attacker can write after a signature.

The documents are written here byte by byte (classic cross-reference tables), so that a
revision can free an object, re-use its number with a new generation, and point references at
any generation. A revision rotates pages, reorders ``/Kids``, moves a page to another parent,
edits ``/Parent``, turns an object into another kind (number, null, name, dictionary, array, a
reference to a page or to another object, a cycle), makes an indirect dictionary direct and
back, and changes attributes inherited from intermediate page-tree nodes. Every map is compared
with stock pyHanko's in several orders, so each may reuse the memos of the maps built before it.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
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

# a value of the model: int, None (null), ("/Name",), ("ref", idnum, generation), dict, list
_Value = Any
_PAGES = 6
_HOLES = 6


def _ref(idnum: int, generation: int = 0) -> tuple[str, int, int]:
    return ("ref", idnum, generation)


def _render(value: _Value) -> bytes:
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, tuple) and value[0] == "ref":
        return f"{value[1]} {value[2]} R".encode()
    if isinstance(value, tuple):
        return value[0].encode()
    if isinstance(value, list):
        return b"[" + b" ".join(_render(v) for v in value) + b"]"
    assert isinstance(value, dict)
    return b"<<" + b"".join(k.encode() + b" " + _render(v) + b" " for k, v in value.items()) + b">>"


class _Doc:
    """The newest state of a document and its bytes, revision by revision."""

    def __init__(self, two_level: bool) -> None:
        self.objects: dict[int, tuple[int, _Value]] = {}
        self.free_generation: dict[int, int] = {}
        self.next_id = 1
        self.data = b""
        self.last_xref = 0
        self.changed: set[int] = set()
        self.freed: set[int] = set()
        self.two_level = two_level
        self.catalog = self._new({"/Type": ("/Catalog",)})
        self.root = self._new({"/Type": ("/Pages",), "/Kids": [], "/Count": _PAGES})
        self.shared = self._new({"/Kho": 1})
        font = self._new({"/Type": ("/Font",)})
        self.objects[self.shared] = (0, {"/Font": _ref(font)})
        self.holes = [self._new(ix) for ix in range(_HOLES)]
        if two_level:
            self.nodes = [
                self._new(
                    {
                        "/Type": ("/Pages",),
                        "/Parent": _ref(self.root),
                        "/Kids": [],
                        "/Count": _PAGES // 2,
                        "/Resources": _ref(self.shared),
                    }
                )
                for _ in range(2)
            ]
            self.objects[self.root][1]["/Kids"] = [_ref(n) for n in self.nodes]
        else:
            self.nodes = [self.root]
        self.pages = []
        for ix in range(_PAGES):
            parent = self.nodes[ix * len(self.nodes) // _PAGES]
            res = self._new({"/Font": _ref(font)})
            page = self._new(
                {
                    "/Type": ("/Page",),
                    "/Parent": _ref(parent),
                    "/MediaBox": [0, 0, 10, 10],
                    "/Kho": _ref(self.holes[ix]),
                    "/Shared": _ref(self.shared),
                    "/Res": _ref(res),
                }
            )
            self.pages.append(page)
            self.objects[parent][1]["/Kids"].append(_ref(page))
        self.objects[self.catalog] = (
            0,
            {
                "/Type": ("/Catalog",),
                "/Pages": _ref(self.root),
                "/KhoD": {f"/X{ix}": _ref(h) for ix, h in enumerate(self.holes[:4])},
            },
        )
        self.write()

    def _new(self, value: _Value) -> int:
        idnum = self.next_id
        self.next_id += 1
        self.objects[idnum] = (0, value)
        self.changed.add(idnum)
        return idnum

    def value(self, idnum: int) -> _Value:
        return self.objects[idnum][1]

    def set(self, idnum: int, value: _Value) -> None:
        generation = self.objects[idnum][0] if idnum in self.objects else self.free_generation[idnum]
        self.objects[idnum] = (generation, value)
        self.free_generation.pop(idnum, None)
        self.freed.discard(idnum)
        self.changed.add(idnum)

    def ref(self, idnum: int) -> tuple[str, int, int]:
        if idnum in self.objects:
            return _ref(idnum, self.objects[idnum][0])
        return _ref(idnum, self.free_generation.get(idnum, 0))

    def free(self, idnum: int) -> None:
        if idnum not in self.objects:
            return
        generation, _ = self.objects.pop(idnum)
        self.free_generation[idnum] = generation + 1
        self.freed.add(idnum)
        self.changed.discard(idnum)

    def write(self) -> None:
        if not self.changed and not self.freed:
            self.changed.add(self.catalog)  # no empty cross-reference section
        out = bytearray(self.data or b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets: dict[int, int] = {}
        for idnum in sorted(self.changed):
            generation, value = self.objects[idnum]
            offsets[idnum] = len(out)
            out += f"{idnum} {generation} obj\n".encode() + _render(value) + b"\nendobj\n"
        xref = len(out)
        entries: dict[int, bytes] = {}
        if not self.data:
            entries[0] = b"0000000000 65535 f\r\n"
        for idnum, offset in offsets.items():
            entries[idnum] = f"{offset:010d} {self.objects[idnum][0]:05d} n\r\n".encode()
        for idnum in self.freed:
            entries[idnum] = f"0000000000 {self.free_generation[idnum]:05d} f\r\n".encode()
        out += b"xref\n"
        for idnum in sorted(entries):
            out += f"{idnum} 1\n".encode() + entries[idnum]
        trailer: dict[str, _Value] = {"/Size": self.next_id, "/Root": _ref(self.catalog)}
        if self.data:
            trailer["/Prev"] = self.last_xref
        out += b"trailer\n" + _render(trailer) + f"\nstartxref\n{xref}\n%%EOF\n".encode()
        self.data, self.last_xref = bytes(out), xref
        self.changed, self.freed = set(), set()

    # -- the changes a revision makes --

    def apply(self, op: int, a: int, b: int) -> None:
        page = self.pages[a % _PAGES]
        hole = self.holes[a % _HOLES]
        if op == 0:  # rotate a page
            if page in self.objects:
                self.value(page)["/Rotate"] = 90 * (b % 4)
                self.set(page, self.value(page))
        elif op == 1:  # reorder the kids of a node
            node = self.nodes[b % len(self.nodes)]
            kids = self.value(node)["/Kids"]
            if len(kids) > 1:
                i, j = a % len(kids), (a + 1 + b) % len(kids)
                kids[i], kids[j] = kids[j], kids[i]
                self.set(node, self.value(node))
        elif op == 2:  # move a page to the other parent (two levels), else to the end
            for node in self.nodes:
                kids = self.value(node)["/Kids"]
                kids[:] = [k for k in kids if not (isinstance(k, tuple) and k[1] == page)]
                self.set(node, self.value(node))
            target = self.nodes[b % len(self.nodes)]
            self.value(target)["/Kids"].append(_ref(page))
            if page in self.objects:
                self.value(page)["/Parent"] = _ref(target)
                self.set(page, self.value(page))
        elif op == 3:  # an object changes kind
            other = self.holes[b % _HOLES]
            kinds: list[_Value] = [
                b,
                None,
                ("/Kho",),
                {"/Y": _ref(self._new({"/Below": b}))},
                [0, self.ref(self.pages[b % _PAGES])],
                self.ref(other),
                {"/Y": self.ref(other)},
                {"/Y": _ref(self.shared)},
                [self.ref(self.nodes[b % len(self.nodes)])],
            ]
            if hole in self.objects or hole in self.free_generation:
                self.set(hole, kinds[b % len(kinds)])
        elif op == 4:  # a page points at another object
            if page in self.objects:
                self.value(page)["/Kho"] = self.ref(self.holes[b % _HOLES])
                self.set(page, self.value(page))
        elif op == 5:  # a page's indirect dictionary made direct, or a direct one indirect
            if page in self.objects:
                res = self.value(page).get("/Res")
                if isinstance(res, tuple) and res[1] in self.objects:
                    self.value(page)["/Res"] = dict(self.value(res[1]))
                else:
                    self.value(page)["/Res"] = _ref(self._new({"/Font": _ref(self.shared)}))
                self.set(page, self.value(page))
        elif op == 6:  # an attribute inherited from a page-tree node
            node = self.nodes[b % len(self.nodes)]
            self.value(node)["/Resources"] = self.ref(self.holes[a % _HOLES])
            self.set(node, self.value(node))
        elif op == 7:  # /Parent edited
            if page in self.objects:
                targets = [*self.nodes, self.holes[b % _HOLES], self.pages[b % _PAGES]]
                self.value(page)["/Parent"] = self.ref(targets[b % len(targets)])
                self.set(page, self.value(page))
        elif op == 8:  # an object freed (references to it now dangle)
            self.free(hole if b % 2 else self.holes[b % _HOLES])
        elif op == 9:  # a number re-used with the next generation
            target = hole if b % 3 else page
            if target in self.objects:
                self.free(target)
                self.write()
            if target in self.free_generation:
                self.set(
                    target,
                    {"/Type": ("/Page",), "/Res": _ref(self.shared), "/Kho": self.ref(hole)},
                )
                if b % 2 and page in self.objects and target != page:
                    self.value(page)["/Kho"] = self.ref(target)
                    self.set(page, self.value(page))
                if b % 2 and target == page:  # the page tree follows the new generation
                    for node in self.nodes:
                        kids = self.value(node)["/Kids"]
                        kids[:] = [self.ref(page) if k[1] == page else k for k in kids]
                        self.set(node, self.value(node))
        elif op == 10:  # a page's object replaced by a direct dictionary
            if page in self.objects:
                self.value(page)["/Kho"] = {"/Y": self.ref(self.holes[b % _HOLES])}
                self.set(page, self.value(page))
        elif op == 11:  # the catalog refers to a page or a node from outside the page tree
            targets = [*self.pages, *self.nodes]
            self.value(self.catalog)["/KhoD"][f"/X{a % 4}"] = self.ref(targets[b % len(targets)])
            self.set(self.catalog, self.value(self.catalog))
        elif op == 12 and page in self.objects:  # a page shares another page's object
            other = self.pages[b % _PAGES]
            if other in self.objects and "/Res" in self.value(other):
                self.value(page)["/Res"] = self.value(other)["/Res"]
                self.set(page, self.value(page))


_OPS = 13


def _document(two_level: bool, revisions: list[list[tuple[int, int, int]]]) -> bytes:
    doc = _Doc(two_level)
    for changes in revisions:
        for op, a, b in changes:
            doc.apply(op, a, b)
        doc.write()
    return doc.data


def _maps_equal_stock(data: bytes, order: list[int]) -> None:
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert fast._plain_objects()
    for revision in order:
        assert fast_path_map(fast, revision) == fresh_stock_path_map(data, revision), (order, revision)


def _revision_count(data: bytes) -> int:
    return len(re.findall(rb"startxref", data))


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.booleans(),
    st.lists(
        st.lists(
            st.tuples(st.integers(0, _OPS - 1), st.integers(0, 11), st.integers(0, 11)),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    ),
    st.randoms(use_true_random=False),
)
# the fault s6 fixed: a number (not entered) that becomes a dictionary in a later revision
@example(False, [[(3, 0, 3)]], random.Random(0))
@pytest.mark.usefixtures("quiet_logging")
def test_path_maps_equal_stock_on_crafted_revision_sequences(
    two_level: bool, revisions: list[list[tuple[int, int, int]]], rnd: Any
) -> None:
    data = _document(two_level, revisions)
    count = _revision_count(data)
    shuffled = list(range(count)) * 2
    rnd.shuffle(shuffled)
    for order in (list(range(count)), list(reversed(range(count))), shuffled):
        _maps_equal_stock(data, order)


# -- object streams -------------------------------------------------------------------------------
def _objstm_base() -> tuple[bytes, list[int], int]:
    """Four pages whose objects (``/Kho``, a number each) sit in one object stream; the pages
    and the catalog's ``/KhoD`` refer to them."""
    writer = PdfFileWriter(stream_xrefs=True)
    stream = writer.prepare_object_stream(compress=False)
    holes = [writer.add_object(generic.NumberObject(ix), obj_stream=stream) for ix in range(4)]
    for hole in holes:
        writer.insert_page(
            small_page(Kho=hole)
        )
    writer.root[generic.NameObject("/KhoD")] = generic.DictionaryObject(
        {generic.NameObject(f"/X{ix}"): hole for ix, hole in enumerate(holes)}
    )
    writer.update_root()
    data = written(writer)
    reader = PdfFileReader(BytesIO(data), strict=False)
    container = reader.xrefs[generic.Reference(holes[0].idnum, 0, reader)]
    return data, [hole.idnum for hole in holes], container.obj_stream_id


def _objstm_revise(data: bytes, op: int, a: int, b: int, holes: list[int], container: int) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    idnum = holes[a % len(holes)]
    below = generic.DictionaryObject({generic.NameObject("/Below"): generic.NumberObject(b)})
    value: generic.PdfObject = [
        generic.NumberObject(b),
        generic.DictionaryObject({generic.NameObject("/Y"): writer.add_object(below)}),
        generic.ArrayObject([generic.IndirectObject(holes[b % len(holes)], 0, writer)]),
        generic.NullObject(),
    ][b % 4]
    if op == 0:  # the object moves to a new object stream, with a new value
        stream = writer.prepare_object_stream(compress=False)
        stream.add_object(idnum, value)
        writer.objs_in_streams[idnum] = value
    elif op == 1:  # the object becomes a top-level object
        writer.objects[(0, idnum)] = value
    else:  # the container is replaced; its members keep their cross-reference entries
        members = b" ".join(f"{h} {20 * ix}".encode() for ix, h in enumerate(holes))
        first = len(members) + 1
        body = b"".join(
            (b"<</Y %d 0 R>>" % holes[(ix + b) % len(holes)] if ix == a % len(holes) else b"%d" % ix).ljust(
                20
            )
            for ix in range(len(holes))
        )
        writer.objects[(0, container)] = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/ObjStm"),
                generic.NameObject("/N"): generic.NumberObject(len(holes)),
                generic.NameObject("/First"): generic.NumberObject(first),
            },
            stream_data=members + b" " + body,
        )
    return written(writer)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=4))
@pytest.mark.usefixtures("quiet_logging")
def test_path_maps_equal_stock_when_object_streams_change(
    revisions: list[tuple[int, int, int]],
) -> None:
    data, holes, container = _objstm_base()
    for op, a, b in revisions:
        data = _objstm_revise(data, op, a, b, holes, container)
    count = _revision_count(data)
    for order in (list(range(count)), list(reversed(range(count))), [*range(count)] * 2):
        _maps_equal_stock(data, order)


# -- verdicts -------------------------------------------------------------------------------------
def _incremental(data: bytes, change: Any) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    change(writer)
    return written(writer)


def _page(writer: IncrementalPdfFileWriter, idnum: int) -> Any:
    return writer.get_object(generic.Reference(idnum, 0, writer.prev))


def _move_first_page(doc: _Doc) -> Any:
    """A page moved from the first intermediate node to the second (its /Parent too)."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        page, source, target = doc.pages[0], doc.nodes[0], doc.nodes[1]
        for node, keep in ((source, False), (target, True)):
            node_obj = _page(writer, node)
            kids = [k for k in node_obj["/Kids"] if k.idnum != page]  # type: ignore[attr-defined]
            if keep:
                kids.append(generic.IndirectObject(page, 0, writer))
            node_obj[generic.NameObject("/Kids")] = generic.ArrayObject(kids)
            node_obj[generic.NameObject("/Count")] = generic.NumberObject(len(kids))
            writer.update_container(node_obj)
        page_obj = _page(writer, page)
        page_obj[generic.NameObject("/Parent")] = generic.IndirectObject(target, 0, writer)
        writer.update_container(page_obj)

    return change


def _hole_to_dictionary(doc: _Doc) -> Any:
    """The first page's number (/Kho) turned into a dictionary with an object below it."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        below = writer.add_object(
            generic.DictionaryObject({generic.NameObject("/Below"): generic.NumberObject(1)})
        )
        writer.objects[(0, doc.holes[0])] = generic.DictionaryObject({generic.NameObject("/Y"): below})

    return change


def _tamper_below(doc: _Doc) -> Any:
    """The object below the first page's /Kho dictionary overwritten."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        holder = writer.prev.get_object(generic.Reference(doc.holes[0], 0, writer.prev))
        below = holder.raw_get("/Y")  # type: ignore[attr-defined]
        writer.objects[(0, below.idnum)] = generic.DictionaryObject(
            {generic.NameObject("/Below"): generic.NumberObject(2)}
        )

    return change


def _tamper_moved_page(doc: _Doc) -> Any:
    """The moved page's shared object overwritten (reachable from every page)."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        writer.objects[(0, doc.shared)] = generic.DictionaryObject(
            {generic.NameObject("/Font"): generic.NumberObject(0)}
        )

    return change


@pytest.mark.parametrize(
    ("between", "after"),
    [
        (_hole_to_dictionary, _tamper_below),
        (_move_first_page, _tamper_moved_page),
        (lambda doc: lambda w: (_move_first_page(doc)(w), _hole_to_dictionary(doc)(w)), _tamper_below),
    ],
    ids=["kind-change", "page-moved", "both"],
)
@pytest.mark.usefixtures("quiet_logging")
def test_a_change_after_two_signatures_gets_stock_pyhankos_verdict(
    between: Any, after: Any, pki: TestPKI, pki_trust: TrustStore
) -> None:
    # a two-level page tree signed by a person; pages moved or an object's kind changed;
    # signed by the organisation; then an object reachable through what changed is
    # overwritten. Each signature's map may reuse the memos of the other's
    doc = _Doc(two_level=True)
    one = sign_pdf(doc.data, pki.personal, revocation=pki.revocation_for(pki.personal))
    two = sign_pdf(
        _incremental(one, between(doc)),
        pki.organisation,
        revocation=pki.revocation_for(pki.organisation),
    )
    data = _incremental(two, after(doc))
    moment = datetime.now(UTC)
    fast = _verify_pdf(data, pki_trust, False, moment, CachingPdfReader)
    stock = _verify_pdf(data, pki_trust, False, moment, PdfFileReader)
    assert [s.to_dict() for s in fast.signatures] == [s.to_dict() for s in stock.signatures]
    assert fast.verdict.indication is stock.verdict.indication
    assert fast.verdict.indication is not Indication.TOTAL_PASSED
