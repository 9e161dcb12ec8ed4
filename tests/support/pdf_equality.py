"""Equality of the fast path's results with stock pyHanko's: parsed objects and path maps; and
the small builders the path-map tests make their documents with."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import Reference
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader, _PathMapResolver
from ingest.signatures.model import PdfVerification
from ingest.signatures.verify import _verify_pdf
from ingest.signing import sign_pdf
from ingest.testpki import TestPKI


def same_object(a: Any, b: Any) -> bool:
    """Same type, value, dictionary order and container reference, recursively."""
    if type(a) is not type(b) or a.container_ref != b.container_ref:
        return False
    if isinstance(a, generic.StreamObject) and a.encoded_data != b.encoded_data:
        return False
    if isinstance(a, generic.DictionaryObject):
        if list(a) != list(b) or any(type(k) is not generic.NameObject for k in [*a, *b]):
            return False
        if any(k.container_ref is not None for k in [*a, *b]):
            return False
        return all(same_object(a.raw_get(k), b.raw_get(k)) for k in a)
    if isinstance(a, generic.ArrayObject):
        return len(a) == len(b) and all(same_object(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, generic.IndirectObject):
        return a.reference == b.reference and a.reference.pdf is b.reference.pdf
    if isinstance(a, generic.TextStringObject):
        return str(a) == str(b) and a.autodetected_encoding == b.autodetected_encoding
    if isinstance(a, generic.FloatObject):
        return str(a) == str(b)
    if isinstance(a, generic.BooleanObject):
        return a.value == b.value
    if isinstance(a, generic.NullObject):
        return True
    return bool(a == b)


def stock_path_map(
    reader: PdfFileReader, revision: int
) -> tuple[dict[object, set[RawPdfPath]] | None, tuple[type, str] | None]:
    resolver = HistoricalResolver(reader, revision)
    try:
        resolver._load_reverse_xref_cache()
    except Exception as exc:
        return None, (type(exc), str(exc))
    return resolver._indirect_object_access_cache, None


@functools.lru_cache(maxsize=32)
def fresh_stock_path_map(
    data: bytes, revision: int
) -> tuple[dict[object, set[RawPdfPath]] | None, tuple[type, str] | None]:
    """:func:`stock_path_map` of ``revision`` by a fresh stock reader of ``data``: the oracle,
    a function of the bytes alone, made once for the several orders in which a test compares a
    fast reader's maps with it (each order with a fast reader of its own). Read only."""
    return stock_path_map(PdfFileReader(BytesIO(data), strict=False), revision)


def fast_path_map(
    reader: CachingPdfReader, revision: int
) -> tuple[dict[object, set[RawPdfPath]] | None, tuple[type, str] | None]:
    resolver = reader.get_historical_resolver(revision)
    assert isinstance(resolver, _PathMapResolver)
    try:
        resolver._load_reverse_xref_cache()
    except Exception as exc:
        return None, (type(exc), str(exc))
    refs = [Reference(idnum, generation) for idnum, generation in resolver._mapped_keys()]
    return {ref: resolver._get_usages_of_ref(ref) for ref in refs}, None


def with_page_rotated(writer: BasePdfFileWriter, page_ref: Reference) -> bytes:
    """The document ``writer`` holds, and a later revision that changes the page ``page_ref``
    (as a signature added to it would): the difference rules then ask for every path to the
    page, among them those through structure elements' ``/Pg``."""
    out = BytesIO()
    writer.write(out)
    update = IncrementalPdfFileWriter(out)
    changed = update.get_object(Reference(page_ref.idnum, 0, update.prev))
    changed[generic.NameObject("/Rotate")] = generic.NumberObject(0)
    update.update_container(changed)
    update.write_in_place()
    return out.getvalue()


def signed_twice_both_ways(
    data: bytes, pki: TestPKI, trust: TrustStore
) -> tuple[PdfVerification, PdfVerification]:
    """``data`` signed by a person, then by the organisation, and verified at one moment with
    the fast reader and with stock pyHanko's: (fast, stock)."""
    one = sign_pdf(data, pki.personal, revocation=pki.revocation_for(pki.personal))
    two = sign_pdf(one, pki.organisation, revocation=pki.revocation_for(pki.organisation))
    moment = datetime.now(UTC)
    fast = _verify_pdf(two, trust, False, moment, CachingPdfReader)
    stock = _verify_pdf(two, trust, False, moment, PdfFileReader)
    return fast, stock


def small_page(**entries: generic.PdfObject) -> generic.DictionaryObject:
    """A 10 by 10 page dictionary with ``entries`` added (``Kho=ref`` becomes ``/Kho``)."""
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (0, 0, 10, 10)]
            ),
        }
    )
    for name, value in entries.items():
        page[generic.NameObject(f"/{name}")] = value
    return page


def written(writer: BasePdfFileWriter) -> bytes:
    """What ``writer`` writes: a whole document, or the document with its new revision."""
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
