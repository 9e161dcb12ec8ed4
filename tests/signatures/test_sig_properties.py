"""Property tests (hypothesis) for the fast path's three pieces of private-API code:

* the object parser (:mod:`ingest.signatures._objparse`) builds exactly pyHanko's objects or
  declines, on generated PDF object syntax and on arbitrary mutations of it;
* the name memo (:mod:`ingest.signatures._names`) answers as asn1crypto does, and raises
  where it raises, also for byte-identical names that RFC 4518 preparation rejects;
* the path maps of the fast reader (:mod:`ingest.signatures._reader`, reused across
  revisions) equal stock pyHanko's on every revision of generated incremental updates.

Seeded (``derandomize``) so a CI run is reproducible; ``KHO_HYPOTHESIS_EXAMPLES`` runs deeper.
"""

from __future__ import annotations

import os
import warnings
from io import BytesIO
from typing import Any

import pytest
from asn1crypto import x509
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pdf_equality import fast_path_map, same_object, stock_path_map
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import _names
from ingest.signatures._objparse import parse_object
from ingest.signatures._reader import CachingPdfReader
from ingest.testpki import TestPKI, make_variant

EXAMPLES = int(os.environ.get("KHO_HYPOTHESIS_EXAMPLES", "150"))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


pytestmark = pytest.mark.usefixtures("quiet_logging")


# -- the object parser ------------------------------------------------------------------------
_WS = st.sampled_from([b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\f", b"  "])
_NAME_BYTES = st.binary(min_size=0, max_size=8).map(
    lambda raw: b"".join(
        bytes([c]) if 0x21 <= c < 0x7F and c not in b"()<>[]{}/%#" else b"#%02x" % c for c in raw
    )
)
_NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12).map(lambda n: str(n).encode()),
    st.decimals(-(10**6), 10**6, places=3, allow_nan=False, allow_infinity=False).map(
        lambda d: format(d, "f").encode()
    ),
    st.sampled_from([b".5", b"-.25", b"4.", b"+3", b"-0", b"007"]),
)
_LITERAL_PIECES = st.one_of(
    st.binary(max_size=6).filter(lambda b: b"(" not in b and b")" not in b and b"\\" not in b),
    st.sampled_from(
        [b"\\n", b"\\r", b"\\t", b"\\b", b"\\f", b"\\\\", b"\\(", b"\\)", b"\\101", b"\\7", b"\\12",
         b"\\\n", b"\\\r\n", b"\xfe\xff", b"\xc3\xa1", b"()", b"(a)"]
    ),
)
_SCALARS = st.one_of(
    st.builds(lambda n: b"/" + n, _NAME_BYTES),
    _NUMBERS,
    st.lists(_LITERAL_PIECES, max_size=6).map(lambda parts: b"(" + b"".join(parts) + b")"),
    st.binary(max_size=8).map(lambda b: b"<" + b.hex().encode() + b">"),
    st.sampled_from([b"true", b"false", b"null"]),
    st.tuples(st.integers(1, 500), st.integers(0, 3)).map(lambda t: b"%d %d R" % t),
)


def _containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    array = st.lists(st.tuples(_WS, children), max_size=5).map(
        lambda items: b"[" + b"".join(ws + item for ws, item in items) + b"]"
    )
    dictionary = st.lists(st.tuples(_NAME_BYTES, _WS, children), max_size=5).map(
        lambda items: b"<<" + b"".join(b"/" + k + ws + v for k, ws, v in items) + b">>"
    )
    return st.one_of(array, dictionary)


PDF_OBJECTS = st.recursive(_SCALARS, _containers, max_leaves=20)


def _reader_ref() -> generic.Reference:
    return generic.Reference(7, 0, PdfFileReader.__new__(PdfFileReader))


class _Ending(BytesIO):
    """A stream that ends: stock pyHanko reads a comment one byte at a time until a line end
    and never checks for the end of the stream (``generic.read_object``), so a mutation that
    leaves ``%`` with no line break after it looped for ever (a CI run hung 15 minutes in this
    test). Reading on at the end raises instead: stock pyHanko fails on that text, which the
    property then treats as any stock failure (the fast parser must have declined it)."""

    _empty_reads = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if not chunk and size != 0:
            self._empty_reads += 1
            if self._empty_reads > 64:
                raise EOFError("read past the end of the object")
        return chunk


def _both(text: bytes) -> tuple[Any, Any, BaseException | None]:
    ref = _reader_ref()
    fast = parse_object(text, 0, ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stock = generic.read_object(_Ending(text), ref)
        except Exception as exc:
            return fast, None, exc
    return fast, stock, None


def _check(text: bytes) -> bool:
    """The fast parser declines or agrees; whether it parsed."""
    fast, stock, error = _both(text)
    if fast is None:
        return False
    assert error is None, (text, error)
    assert same_object(fast, stock), text
    return True


@PROFILE
@given(PDF_OBJECTS, _WS)
def test_generated_objects_parse_as_pyhanko_parses_them(text: bytes, tail: bytes) -> None:
    _check(text + tail)


@PROFILE
@given(PDF_OBJECTS, st.integers(0, 10_000), st.binary(min_size=0, max_size=3), _WS)
def test_mutated_objects_are_parsed_as_pyhanko_or_declined(
    text: bytes, where: int, replacement: bytes, tail: bytes
) -> None:
    at = where % (len(text) + 1)
    _check(text[:at] + replacement + text[at + 1:] + tail)


def test_a_comment_left_open_at_the_end_is_declined_and_ends() -> None:
    """The input that hung CI (a ``%`` with no line break after it, as a mutation makes it):
    the fast parser declines it, and the stock reading ends with an error instead of looping."""
    for text in (b"%", b"% never ends", b"<< /A %x", b"[1 2 %"):
        fast, _stock, error = _both(text)
        assert fast is None and error is not None, text
        assert not _check(text)


@pytest.mark.parametrize(
    "text", [b"(\x00)", b"<</A (\x00)>>", b"<</#00 []/#01 <<>>/ (\x00)>>\r\n", b"(a\\000b)"]
)
def test_a_string_with_a_byte_pdfdocencoding_does_not_define_stays_bytes(text: bytes) -> None:
    """Byte 0 is not in PDFDocEncoding: pyHanko keeps such a string as bytes, and so must the
    fast parser (it made a text string of it; found by the generated-objects property)."""
    assert _check(text)


def test_the_generated_syntax_is_mostly_parsed_not_declined() -> None:
    """Guard against a vacuous property: most generated objects take the fast path."""
    parsed = []

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(PDF_OBJECTS)
    def collect(text: bytes) -> None:
        parsed.append(_check(text + b" "))

    collect()
    assert sum(parsed) > len(parsed) * 0.6


# -- the name memo ----------------------------------------------------------------------------
_NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("ĐđƯưƠơÂâÊêÔôĂăÁÀẢÃẠỦỶỸỳ Uỷyý  \u00ad\u200b\u0301\u0300\u0323")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(["\ue000", "\U000f0000", "\u0378", "\u202e", "\ufffd", "\u2028"]),
    ),
    min_size=1,
    max_size=12,
)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name.build({"common_name": common, "organization_name": organisation})


def _outcome(function: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", function(*args)
    except Exception as exc:
        return "raises", type(exc)


@PROFILE
@given(_NAME_TEXT, _NAME_TEXT, _NAME_TEXT)
def test_the_name_memo_answers_and_raises_as_asn1crypto(a: str, b: str, c: str) -> None:
    _names.install()
    left = _name(a, b)
    # byte-identical, but separately parsed (nothing cached on the objects)
    twin = x509.Name.load(left.dump())
    other = _name(a, c)
    for right in (twin, other, x509.Name.load(other.dump())):
        first = x509.Name.load(left.dump())
        expected = _outcome(_names.original_names_equal, first, x509.Name.load(right.dump()))
        for _ in range(2):  # the second answer comes from the memo
            assert _outcome(lambda x, y: x == y, x509.Name.load(left.dump()), right) == expected
    assert _outcome(lambda n: n.hashable, x509.Name.load(left.dump())) == _outcome(
        _names.original_hashable, x509.Name.load(left.dump())
    )
    for value in (a, b, c):
        stock = _outcome(_names.original_string_prep, value)
        for _ in range(2):
            assert _outcome(x509.NameTypeAndValue()._ldap_string_prep, value) == stock


def test_a_byte_identical_name_that_preparation_rejects_is_not_equal_by_memo() -> None:
    """Stock asn1crypto raises comparing a name it cannot prepare, even with itself; the memo
    must not answer True from the bytes alone."""
    _names.install()
    name = _name("Tên\ue000riêng", "Cơ quan")
    with pytest.raises(ValueError):
        _names.original_names_equal(name, x509.Name.load(name.dump()))
    for _ in range(3):
        with pytest.raises(ValueError):
            _ = x509.Name.load(name.dump()) == x509.Name.load(name.dump())


# -- the path maps ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_pdf(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)  # a signed document: pages, fonts, a form


_OPS = st.lists(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=5),
    min_size=1,
    max_size=4,
)


def _obj(writer: IncrementalPdfFileWriter, idnum: int) -> generic.DictionaryObject:
    return generic.IndirectObject(idnum, 0, writer).get_object()  # type: ignore[return-value]


def _revise(data: bytes, ops: list[tuple[int, int, int]], made: list[int]) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
    root = writer.root
    fresh: set[int] = set()  # added by this writer: changed in place, never "updated"

    def touched(idnum: int) -> None:
        if idnum not in fresh:
            writer.mark_update(generic.Reference(idnum, 0, writer))
    for op, a, b in ops:
        if op == 0 or not made:  # a new object, reachable from the catalog
            ref = writer.add_object(generic.DictionaryObject({"/N": generic.NumberObject(len(made))}))
            root[f"/Kho{a % 4}"] = ref
            writer.update_root()
            made.append(ref.idnum)
            fresh.add(ref.idnum)
        elif op == 1:  # a new object hung under an older one
            ref = writer.add_object(generic.DictionaryObject({"/N": generic.NumberObject(-a)}))
            target = made[a % len(made)]
            holder = _obj(writer, target)
            if not isinstance(holder, generic.DictionaryObject):
                raise AssertionError(f"object {target} unreadable in its own writer")
            holder["/Next"] = ref
            touched(target)
            made.append(ref.idnum)
            fresh.add(ref.idnum)
        elif op == 2:  # link two older objects (shared paths, cycles)
            source, target = made[a % len(made)], made[b % len(made)]
            _obj(writer, source)[f"/L{b % 3}"] = generic.IndirectObject(target, 0, writer)
            touched(source)
        elif op == 3:  # add a page
            pages_ref = root.raw_get("/Pages")
            pages = pages_ref.get_object()
            page = generic.DictionaryObject({
                "/Type": generic.NameObject("/Page"),
                "/Parent": pages_ref,
                "/MediaBox": generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 100, 100)]),
            })
            if made:
                page["/Kho"] = generic.IndirectObject(made[a % len(made)], 0, writer)
            page_ref = writer.add_object(page)
            kids = pages.raw_get("/Kids")
            if isinstance(kids, generic.IndirectObject):
                kids.get_object().append(page_ref)
                writer.mark_update(kids)
            else:
                kids.append(page_ref)
            pages["/Count"] = generic.NumberObject(int(pages["/Count"]) + 1)
            writer.mark_update(pages_ref)
        elif op == 4:  # drop a catalog entry
            root.pop(f"/Kho{a % 4}", None)
            writer.update_root()
        else:  # an array of older objects under the catalog
            array = generic.ArrayObject(
                [generic.IndirectObject(made[(a + i) % len(made)], 0, writer) for i in range(b % 4 + 1)]
            )
            root["/KhoArr"] = writer.add_object(array)
            writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@settings(max_examples=max(EXAMPLES // 5, 10), deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],  # shrinking whole documents takes minutes
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_OPS)
def test_path_maps_equal_stock_pyhanko_on_every_revision(
    base_pdf: bytes, revisions: list[list[tuple[int, int, int]]]
) -> None:
    data, made = base_pdf, []
    for ops in revisions:
        data = _revise(data, ops, made)
    stock = PdfFileReader(BytesIO(data), strict=False)
    fast = CachingPdfReader(BytesIO(data), strict=False)
    assert fast._plain_objects()
    assert stock.total_revisions == PdfFileReader(BytesIO(base_pdf)).total_revisions + len(revisions)
    # newest first, so the older revisions reuse the memo of the later ones, and back again
    order = [*reversed(range(stock.total_revisions)), *range(stock.total_revisions)]
    for revision in order:
        assert fast_path_map(fast, revision) == stock_path_map(stock, revision), revision
