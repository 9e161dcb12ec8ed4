"""Field-by-field equality of cross-reference sections and of what a reader's constructor
sets, for the bulk cross-reference reader's differential tests (:mod:`ingest.signatures._xref`)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefSection, XRefSectionData

from ingest.signatures._reader import CachingPdfReader


def _ref(ref: Any, reader: Any) -> Any:
    if ref is None:
        return None
    if isinstance(ref, generic.TrailerReference):
        return ("trailer", ref.reader is reader)
    if isinstance(ref, generic.Reference):
        return ("ref", ref.idnum, ref.generation, ref.pdf is reader)
    return ("other", type(ref).__name__)


def normal_form(obj: Any, reader: Any) -> Any:
    """An object as comparable data: types, values, dictionary order, container references
    (with "the reader itself" in place of the reader), recursively."""
    head = (type(obj).__name__, _ref(getattr(obj, "container_ref", None), reader))
    if isinstance(obj, generic.StreamObject):
        head += (obj.encoded_data,)
    if isinstance(obj, generic.DictionaryObject):
        return (*head, [(type(k).__name__, str(k), normal_form(obj.raw_get(k), reader)) for k in obj])
    if isinstance(obj, generic.ArrayObject):
        return (*head, [normal_form(x, reader) for x in list.__iter__(obj)])
    if isinstance(obj, generic.IndirectObject):
        return (*head, _ref(obj.reference, reader))
    if isinstance(obj, generic.TextStringObject):
        return (*head, str(obj), obj.autodetected_encoding)
    if isinstance(obj, generic.NullObject):
        return head
    if isinstance(obj, (generic.FloatObject, generic.BooleanObject)):
        return (*head, str(obj))
    return (*head, obj)


def section_data_differences(a: XRefSectionData, b: XRefSectionData) -> list[str]:
    """Where two ``XRefSectionData`` differ: every field, dictionary order and key types too."""
    found = []
    for name in ("freed", "standard_xrefs", "xrefs_in_objstm"):
        x, y = getattr(a, name), getattr(b, name)
        if list(x.items()) != list(y.items()) or [type(k) for k in x] != [type(k) for k in y]:
            found.append(name)
    for name in ("explicit_refs_in_revision", "obj_streams_used"):
        if getattr(a, name) != getattr(b, name):
            found.append(name)
    if (a.hybrid is None) != (b.hybrid is None):
        found.append("hybrid")
    elif a.hybrid is not None:
        found.extend("hybrid." + d for d in section_differences(a.hybrid, b.hybrid))
    return found


def section_differences(a: XRefSection, b: XRefSection) -> list[str]:
    found = [] if a.meta_info == b.meta_info else ["meta_info"]
    return found + section_data_differences(a.xref_data, b.xref_data)


def open_both(data: bytes, strict: bool = False) -> tuple[Any, Any]:
    """(stock reader or its exception, caching reader or its exception)."""
    out = []
    for cls in (PdfFileReader, CachingPdfReader):
        try:
            out.append(cls(BytesIO(data), strict=strict))
        except Exception as exc:
            out.append(exc)
    return out[0], out[1]


_CACHING_ONLY = {
    "_objstm_cache",
    "_located_cache",
    "_edge_cache",
    "_file_bytes",
    "_unencrypted",
    "_last_change",
    "_current",
    "_section_ids",
    "_changed",
    "_struct_memo",
    "_path_memo",
    "_flat_cache",
    "_current_marker",
    "_objstm_slots",
    "_stream_flat_cache",
    "_newest_first",
    "_memo_groups",
    "_memo_reads",
    "_memo_keysets",
    "_page_tables",
    "_struct_tables",
}


def reader_differences(stock: Any, fast: Any) -> list[str]:
    """Where the caching reader's constructor result differs from the stock reader's: the same
    exception (type and message), or the same attributes, sections, trailers and marks."""
    if isinstance(stock, Exception) or isinstance(fast, Exception):
        if type(stock) is not type(fast) or str(stock) != str(fast):
            return [f"outcome: {stock!r} / {fast!r}"]
        return []
    found = []
    stock_vars = set(vars(stock))
    fast_vars = set(vars(fast)) - _CACHING_ONLY
    if stock_vars != fast_vars:
        found.append(f"attributes {sorted(stock_vars ^ fast_vars)}")
    for name in (
        "strict",
        "last_startxref",
        "has_xref_stream",
        "_header_version",
        "_input_version",
        "_embedded_signatures",
        "_security_handler",
    ):
        if getattr(stock, name) != getattr(fast, name):
            found.append(name)
    if stock.resolved_objects.keys() != fast.resolved_objects.keys():
        found.append("resolved_objects")
    for name in ("_decode_context",):
        if vars(getattr(stock, name)) != vars(getattr(fast, name)):
            found.append(name)
    a, b = stock.xrefs._xref_sections, fast.xrefs._xref_sections
    if len(a) != len(b):
        return [*found, "section count"]
    for ix, (x, y) in enumerate(zip(a, b, strict=True)):
        found.extend(f"section {ix}: {d}" for d in section_differences(x, y))
    if stock.xrefs.xref_stream_refs != fast.xrefs.xref_stream_refs:
        found.append("xref_stream_refs")
    ta, tb = stock.trailer._trailer_revisions, fast.trailer._trailer_revisions
    if [normal_form(x, stock) for x in ta] != [normal_form(x, fast) for x in tb]:
        found.append("trailer revisions")
    if _ref(stock.trailer.container_ref, stock) != _ref(fast.trailer.container_ref, fast):
        found.append("trailer container_ref")
    if list(stock.trailer._new_changes) != list(fast.trailer._new_changes):
        found.append("trailer changes")
    return found


def _outcome(call: Any, *args: Any) -> Any:
    try:
        return ("ok", call(*args))
    except KeyError as exc:
        return ("KeyError", exc.args)


def lookup_differences(sections: list[XRefSection], limit: int | None = None) -> list[str]:
    """Where ``ListedXRefCache``'s look-ups differ from ``XRefCache``'s over the same sections:
    every listed object number (the first ``limit`` of them) and two unlisted ones, at the
    generations the sections give and at 0, 1 and 65535, in every revision."""
    from pyhanko.pdf_utils.generic import Reference
    from pyhanko.pdf_utils.xref import XRefCache

    from ingest.signatures._xref import ListedXRefCache

    stock, listed = XRefCache(None, sections), ListedXRefCache(None, sections)
    generations: dict[int, set[int]] = {}
    for section in sections:
        part: Any = section
        while part is not None:
            data = part.xref_data
            for idnum, (generation, _) in data.standard_xrefs.items():
                generations.setdefault(idnum, set()).add(generation)
            for idnum, generation in data.freed.items():
                generations.setdefault(idnum, set()).update((generation, generation - 1))
            for idnum in data.xrefs_in_objstm:
                generations.setdefault(idnum, set())
            part = data.hybrid
    idnums = sorted(generations)[:limit]
    top = max(generations, default=0)
    found = []
    for idnum in [*idnums, top + 1, top + 1000]:
        for generation in sorted(generations.get(idnum, set()) | {0, 1, 65535}):
            if generation < 0:
                continue
            ref = Reference(idnum, generation)
            calls: list[tuple[str, Any, Any]] = [
                ("last", stock.get_last_change, listed.get_last_change),
                ("introducing", stock.get_introducing_revision, listed.get_introducing_revision),
                ("current", stock.__getitem__, listed.__getitem__),
            ]
            for name, a, b in calls:
                if _outcome(a, ref) != _outcome(b, ref):
                    found.append(f"{name} {idnum} {generation}")
            for revision in range(-len(sections) - 1, len(sections) + 1):
                a = _outcome(stock.get_historical_ref, ref, revision)
                b = _outcome(listed.get_historical_ref, ref, revision)
                if a != b:
                    found.append(f"historical {idnum} {generation} {revision}")
    return found
