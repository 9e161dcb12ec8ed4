"""Annotations after signing: what PAdES permits, and what replaces signed content.

:class:`AnnotationRule` is a pyHanko difference-analysis rule (public ``WhitelistRule`` API)
that clears, at ``ModificationLevel.ANNOTATIONS``, revisions that only add, change or remove
*markup* annotations (comments, highlights, stamps, ink...) on pages whose content is
otherwise untouched. pyHanko's standard policy has no such rule (a ``TODO`` in its form
rules), so a comment added to a signed document was "changed after signing, cannot tell".
DSS classifies the same changes as annotation changes (``PdfObjectModificationsFilter``),
permitted by an approval signature and by a certification signature with DocMDP P=3, and
forbidden by P=1 and P=2 (the verdict rules compare the level with the DocMDP permission).

Only revisions that write, drop from a page's ``/Annots`` or free at least one markup
annotation are looked at (which keeps the rule off the page tree of revisions that only add
a signature). A removed comment is an annotation change as DSS counts it (an ``/Annots``
deletion), whether the annotation is only dropped from the page or also freed in the
cross-reference section: :class:`CommentFreeingPolicy` lets a revision free objects only when
every one of them was a markup annotation in the revision before (pyHanko's standard policy
rejects all freeing), and :class:`AnnotationRule` then clears those freed comments. Only
what cannot hide signed content is cleared: widget
annotations (form fields, signature appearances), links and any annotation with an action
stay unexplained; an annotation may
not be drawn over a form field or signature appearance (the overlap DSS reports); a page
dictionary may change in its ``/Annots`` only. Whether the page content itself still shows
what was signed is checked independently by the viewer comparison (:mod:`._viewer`).

:func:`replaced_appearances` finds the opposite: a field of the signed revision that shows
other text after signing while its value stayed the same (the DSS-2236 "replace" shadow
attack): no form filling explains that, the signed content was replaced.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    DiffResult,
    ReferenceUpdate,
    StandardDiffPolicy,
    SuspiciousModification,
    WhitelistRule,
)
from pyhanko.sign.diff_analysis.commons import compare_dicts

MARKUP_SUBTYPES = frozenset({
    "/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine",
    "/Highlight", "/Underline", "/Squiggly", "/StrikeOut", "/Caret", "/Ink", "/Popup",
    "/Stamp",
})
_MAX_PAGES = 5000
_MAX_SHOWN = 64 * 1024  # bytes of an appearance stream read for its shown text


class AnnotationRule(WhitelistRule):
    """Clear revisions that only add, change or remove markup annotations."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        changed = new.explicit_refs_in_revision()
        freed = freed_comments(new)
        if not (
            freed
            or any(_is_markup_ref(new, ref) for ref in changed)
            or _drops_markup(old, new, changed)
        ):
            return  # no comment written, dropped or freed in this revision
        # a freed comment is gone from every view; the page that listed it is judged below
        yield from (ReferenceUpdate(ref) for ref in freed)
        try:
            pairs = list(_page_pairs(old, new))
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            return  # page tree changed or unreadable: other rules (or nobody) explain it
        for old_page, new_page, page_ref in pairs:
            try:
                updates = _page_updates(old, new, old_page, new_page, page_ref, changed)
            except Exception:  # any surprise: this page is not cleared
                continue
            yield from updates


class CommentFreeingPolicy(StandardDiffPolicy):
    """pyHanko's ``StandardDiffPolicy``, except that a revision may free objects that were
    markup annotations in the revision before it (a deleted comment, as Acrobat writes it);
    freeing anything else is refused as the standard policy refuses all freeing. The freed
    comments still need a rule to clear them (:class:`AnnotationRule` does, at
    ``ModificationLevel.ANNOTATIONS``), and the pages that listed them are judged as any
    annotation change."""

    def __init__(self, global_rules: list[Any], form_rule: Any) -> None:
        super().__init__(global_rules, form_rule, reject_object_freeing=False)

    def apply(
        self,
        old: HistoricalResolver,
        new: HistoricalResolver,
        field_mdp_spec: Any = None,
        doc_mdp: Any = None,
    ) -> DiffResult:
        freed = set(new.refs_freed_in_revision())
        if freed:
            comments = freed_comments(new)
            others = {ref for ref in freed if ref not in comments or _used_otherwise(old, ref)}
            if others:
                raise SuspiciousModification(
                    f"The refs {sorted(others, key=lambda r: r.idnum)} were freed in the "
                    "revision provided; only markup annotations (comments), used nowhere but "
                    "in a page's /Annots or another comment, may be freed."
                )
        lock = None if field_mdp_spec is None else _WatchedLock(field_mdp_spec)
        try:
            return super().apply(old, new, lock, doc_mdp)
        except SuspiciousModification as exc:
            if lock is not None and lock.breached is not None:
                raise FieldLockBreached(lock.breached, str(exc)) from exc
            raise


class FieldLockBreached(SuspiciousModification):
    """A revision after signing changed a form field the signature locks (FieldMDP): proof
    of a modification the signer forbade, as a DocMDP breach is, not an unexplained change."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class _WatchedLock:
    """The signature's FieldMDP lock, remembering the locked field pyHanko's standard policy
    asked about. The policy asks only for a field whose change a lock forbids (an update not
    ``valid_when_locked``) and raises at once when the answer is yes, so a remembered field is
    the reason of that ``SuspiciousModification``: no reading of its message."""

    def __init__(self, spec: Any) -> None:
        self._spec = spec
        self.breached: str | None = None

    def is_locked(self, field_name: str) -> bool:
        locked = bool(self._spec.is_locked(field_name))
        if locked and self.breached is None:
            self.breached = field_name
        return locked


_COMMENT_LINKS = frozenset({"/Popup", "/Parent", "/IRT"})


def _used_otherwise(old: HistoricalResolver, ref: generic.Reference) -> bool:
    """Whether the signed revision reaches ``ref`` other than as an entry of a page's
    ``/Annots`` or a comment's ``/Popup``/``/Parent``/``/IRT`` (a "comment" that is also,
    say, a resource of the page: freeing it would change what the page shows).

    Reads pyHanko's reverse reference map of the signed revision (internal API, the same map
    its standard policy loads for every revision it reviews)."""
    if old.is_ref_unassignable(ref):
        return False  # written after signing: never part of what was signed
    old._load_reverse_xref_cache()
    for path in old._get_usages_of_ref(ref):
        steps = list(path)
        if len(steps) >= 2 and steps[-2] == "/Annots" and isinstance(steps[-1], int):
            continue
        if steps and steps[-1] in _COMMENT_LINKS:
            continue
        return True
    return False


def freed_comments(new: HistoricalResolver) -> set[generic.Reference]:
    """The references ``new``'s revision frees that were markup annotations just before."""
    try:
        freed = new.refs_freed_in_revision()
    except Exception:
        return set()
    if not freed or new.revision < 1:
        return set()
    previous = new.reader.get_historical_resolver(new.revision - 1)
    return {ref for ref in freed if _is_markup_ref(previous, ref)}


def _drops_markup(
    old: HistoricalResolver, new: HistoricalResolver, changed: set[generic.Reference]
) -> bool:
    """Whether a page (or ``/Annots`` array) of ``old`` rewritten in ``new`` no longer lists
    a markup annotation it listed."""
    for ref in changed:
        try:
            after = new(ref)  # already read by the markup check: only pages and arrays
            if isinstance(after, generic.DictionaryObject) and after.get("/Type") == "/Page":
                before = old(ref)
                if not isinstance(before, generic.DictionaryObject):
                    continue
                old_refs, _ = _annots(old, before)
                new_refs, _ = _annots(new, after)
            elif isinstance(after, generic.ArrayObject):
                before = old(ref)
                if not isinstance(before, generic.ArrayObject):
                    continue
                old_refs = [i.reference for i in before if isinstance(i, generic.IndirectObject)]
                new_refs = [i.reference for i in after if isinstance(i, generic.IndirectObject)]
            else:
                continue
        except Exception:
            continue
        kept = set(new_refs)
        if any(r not in kept and _is_markup_ref(old, r) for r in old_refs):
            return True
    return False


def _page_pairs(
    old: HistoricalResolver, new: HistoricalResolver
) -> Iterator[tuple[generic.DictionaryObject, generic.DictionaryObject, generic.Reference]]:
    """(old page, new page, its reference) for a page tree whose structure did not change."""
    stack = [(old.root.raw_get("/Pages"), new.root.raw_get("/Pages"))]
    seen: set[generic.Reference] = set()
    while stack:
        old_node_ref, new_node_ref = stack.pop()
        if not isinstance(new_node_ref, generic.IndirectObject) or old_node_ref != new_node_ref:
            raise ValueError("page tree node moved")
        ref = new_node_ref.reference
        if ref in seen or len(seen) > _MAX_PAGES:
            raise ValueError("page tree loop")
        seen.add(ref)
        old_node, new_node = old(ref), new(ref)
        if old_node.get("/Type") == "/Pages":
            old_kids, new_kids = old_node["/Kids"], new_node["/Kids"]
            if list(old_kids) != list(new_kids):
                raise ValueError("page tree changed")
            stack.extend(zip(reversed(list(old_kids)), reversed(list(new_kids)), strict=True))
        else:
            yield old_node, new_node, ref


def _annots(resolver: HistoricalResolver, page: generic.DictionaryObject) -> tuple[
    list[generic.Reference], generic.Reference | None
]:
    raw = page.raw_get("/Annots") if "/Annots" in page else None
    if raw is None:
        return [], None
    array_ref = raw.reference if isinstance(raw, generic.IndirectObject) else None
    array = resolver(array_ref) if array_ref is not None else raw
    if not isinstance(array, generic.ArrayObject):
        raise ValueError("/Annots is not an array")
    refs = []
    for item in array:
        if not isinstance(item, generic.IndirectObject):
            raise ValueError("direct annotation")
        refs.append(item.reference)
    return refs, array_ref


def _is_markup(annot: Any) -> bool:
    return (
        isinstance(annot, generic.DictionaryObject)
        and annot.get("/Subtype") in MARKUP_SUBTYPES
        and "/FT" not in annot
        and "/A" not in annot
        and "/AA" not in annot
    )


def _is_markup_ref(resolver: HistoricalResolver, ref: generic.Reference) -> bool:
    try:
        return _is_markup(resolver(ref))
    except Exception:
        return False


def _rect(annot: generic.DictionaryObject) -> tuple[float, float, float, float] | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    except Exception:
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _page_updates(
    old: HistoricalResolver,
    new: HistoricalResolver,
    old_page: generic.DictionaryObject,
    new_page: generic.DictionaryObject,
    page_ref: generic.Reference,
    changed: set[generic.Reference],
) -> list[ReferenceUpdate]:
    old_refs, old_array_ref = _annots(old, old_page)
    new_refs, new_array_ref = _annots(new, new_page)
    touched = [r for r in new_refs if r in changed]
    if page_ref not in changed and new_array_ref not in changed and not touched:
        return []
    if page_ref in changed and not compare_dicts(
        old_page, new_page, frozenset({"/Annots"}), raise_exc=False
    ):
        return []  # the page itself changed: not an annotation change
    old_set, new_set = set(old_refs), set(new_refs)
    widgets = [
        rect for ref in old_refs
        if isinstance(annot := old(ref), generic.DictionaryObject)
        and annot.get("/Subtype") == "/Widget"
        and (rect := _rect(annot)) is not None and rect[2] > rect[0] and rect[3] > rect[1]
    ]
    updates: list[ReferenceUpdate] = []
    for ref in old_set - new_set:  # removed: only markup annotations
        if not _is_markup(old(ref)):
            return []
    for ref in new_refs:
        if ref in old_set and ref not in changed:
            continue
        annot = new(ref)
        if not _is_markup(annot):
            return []
        if ref in old_set and old(ref).get("/Subtype") != annot.get("/Subtype"):
            return []
        if ref not in old_set and not old.is_ref_unassignable(ref):
            return []  # an "added" annotation that reuses a number of the signed revision
        rect = _rect(annot)
        if rect is None or any(_overlaps(rect, w) for w in widgets):
            return []  # drawn over a form field or a signature appearance
        updates.append(ReferenceUpdate(ref))
        deps = new.collect_dependencies(annot, since_revision=old.revision + 1)
        if any(not old.is_ref_unassignable(dep) for dep in deps if dep != ref):
            return []  # reaches a rewritten object of the signed revision
        updates.extend(ReferenceUpdate(dep) for dep in deps if dep != ref)
    if page_ref in changed:
        updates.append(ReferenceUpdate(page_ref))
    if new_array_ref is not None and new_array_ref in changed:
        if new_array_ref != old_array_ref and not old.is_ref_unassignable(new_array_ref):
            return []
        updates.append(ReferenceUpdate(new_array_ref))
    return updates


# --- annotations added after signing, cleared or not --------------------------------------


def adds_annotations(reader: PdfFileReader, signed_revision: int) -> bool:
    """Whether a revision after ``signed_revision`` adds, to a page it rewrites, an annotation
    other than a widget (a comment, a link, a markup annotation with an action...): what DSS
    counts as an annotation change, which DocMDP P=1 and P=2 forbid, whether or not
    :class:`AnnotationRule` could clear it. Widgets (form fields, signatures, document
    timestamps) are never counted: they are form filling or signing."""
    total = reader.xrefs.total_revisions
    for revision in range(signed_revision + 1, min(total, signed_revision + 1 + _MAX_REVISIONS)):
        try:
            if _adds_annotation(reader, revision):
                return True
        except Exception:  # unreadable: proves nothing (the change stays unexplained)
            continue
    return False


_MAX_REVISIONS = 64


def _adds_annotation(reader: PdfFileReader, revision: int) -> bool:
    new = reader.get_historical_resolver(revision)
    previous = reader.get_historical_resolver(revision - 1)
    for ref in new.explicit_refs_in_revision():
        page = new(ref)
        if not isinstance(page, generic.DictionaryObject) or page.get("/Type") != "/Page":
            continue
        refs, _ = _annots(new, page)
        for annot_ref in refs:
            if not previous.is_ref_unassignable(annot_ref):
                continue  # existed before: not added here
            annot = new(annot_ref)
            if (
                isinstance(annot, generic.DictionaryObject)
                and isinstance(annot.get("/Subtype"), generic.NameObject)
                and annot.get("/Subtype") != "/Widget"
                and "/FT" not in annot
                and "/Rect" in annot
            ):
                return True
    return False


# --- appearances replaced after signing ---------------------------------------------------

_SHOWN = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>")


def _field_value(resolver: HistoricalResolver, widget: generic.DictionaryObject) -> Any:
    node: Any = widget
    for _ in range(32):
        if "/V" in node:
            value = node.raw_get("/V")
            if isinstance(value, generic.IndirectObject):
                return resolver(value.reference)
            return value
        parent = node.raw_get("/Parent") if "/Parent" in node else None
        if not isinstance(parent, generic.IndirectObject):
            return None
        node = resolver(parent.reference)
        if not isinstance(node, generic.DictionaryObject):
            return None
    return None


def _field_type(resolver: HistoricalResolver, widget: generic.DictionaryObject) -> Any:
    node: Any = widget
    for _ in range(32):
        if "/FT" in node:
            return node.get("/FT")
        parent = node.raw_get("/Parent") if "/Parent" in node else None
        if not isinstance(parent, generic.IndirectObject):
            return None
        node = resolver(parent.reference)
    return None


def _normal_appearance(widget: generic.DictionaryObject) -> Any:
    try:
        normal = widget["/AP"]["/N"]
    except (KeyError, TypeError):
        return None
    if isinstance(normal, generic.DictionaryObject) and not isinstance(
        normal, generic.StreamObject
    ):
        state = widget.get("/AS")
        normal = normal.get(state) if state is not None else None
    return normal if isinstance(normal, generic.StreamObject) else None


_ESCAPES = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    if code[:1].isdigit():
        return bytes([int(code, 8) & 0xFF])
    return _ESCAPED.get(code, code)


def _stream_bytes(stream: generic.StreamObject) -> bytes | None:
    """The decoded content of ``stream``, ``None`` when it cannot be decoded."""
    try:
        return stream.data
    except Exception:
        try:
            return zlib.decompress(stream.encoded_data)
        except Exception:
            return None


def _shown_text(stream: generic.StreamObject) -> str | None:
    """The text an appearance stream writes, when its strings are plain one-byte text (a
    simple font); ``None`` when unreadable or glyph-coded (a subset CID font: the same text
    can be coded differently after re-subsetting, so it proves nothing)."""
    data = _stream_bytes(stream)
    if data is None:
        return None
    parts = []
    for match in _SHOWN.finditer(data[:_MAX_SHOWN]):
        raw = match.group(0)
        if raw.startswith(b"("):
            text = _ESCAPES.sub(_unescape, raw[1:-1])
        else:
            digits = re.sub(rb"\s", b"", raw[1:-1])
            try:
                text = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
            except ValueError:
                return None
        if any((c < 0x20 and c not in (9, 10, 13)) or 0x7F <= c < 0xA0 for c in text):
            return None
        parts.append(text.decode("latin-1"))
    return " ".join(" ".join(parts).split())


def replaced_appearances(reader: PdfFileReader, signed_revision: int) -> list[str]:
    """Fields of ``signed_revision`` whose appearance in the final revision writes other text
    (or, for a signature field, draws anything else) while the field's value is unchanged."""
    found: list[str] = []
    for old, new, number, ref in _annotations_after(reader, signed_revision, final=False):
        try:
            problem = _replaced(old, new, ref)
        except Exception:
            continue
        if problem:
            found.append(f"{problem} (trang {number}, đối tượng {ref.idnum} {ref.generation}).")
            if len(found) >= 5:
                break
    return found


def _annotations_after(
    reader: PdfFileReader, signed_revision: int, *, final: bool
) -> Iterator[tuple[HistoricalResolver, HistoricalResolver, int, generic.Reference]]:
    """(signed revision, final revision, page number, annotation) for every annotation the
    signed revision lists (``final=False``) or the final revision lists (``final=True``) on
    each page; nothing when no revision follows or the page tree changed (the viewer
    comparison judges that). A page whose ``/Annots`` cannot be read is skipped."""
    last = reader.xrefs.total_revisions - 1
    if signed_revision >= last:
        return
    old = reader.get_historical_resolver(signed_revision)
    new = reader.get_historical_resolver(last)
    try:
        pairs = list(_page_pairs(old, new))
    except Exception:
        return
    for number, (old_page, new_page, _ref) in enumerate(pairs, 1):
        try:
            refs, _ = _annots(new, new_page) if final else _annots(old, old_page)
        except Exception:
            continue
        for ref in refs:
            yield old, new, number, ref


def _replaced(old: HistoricalResolver, new: HistoricalResolver, ref: generic.Reference) -> str | None:
    before, after = old(ref), new(ref)
    if not isinstance(before, generic.DictionaryObject) or before.get("/Subtype") != "/Widget":
        return None
    if not isinstance(after, generic.DictionaryObject):
        return None
    value = _field_value(old, before)
    if value != _field_value(new, after) or before.get("/AS") != after.get("/AS"):
        return None  # form filling (a new value, a checked box): the appearance may follow
    if value is None:
        return None  # no value to compare the shown text with (tools draw such fields freely)
    if "/AA" in before or "/AA" in after:
        return None  # a format action may legitimately show the same value otherwise
    ap_before, ap_after = _normal_appearance(before), _normal_appearance(after)
    if ap_before is None or ap_after is None:
        return None
    name = before.get("/T") or ""
    if _field_type(new, after) == "/Sig":
        if ap_before.data != ap_after.data:
            return f"hình chữ ký của trường {name} đã được vẽ lại"
        return None
    shown_before, shown_after = _shown_text(ap_before), _shown_text(ap_after)
    if shown_before is None or shown_after is None or shown_before == shown_after:
        return None
    return f"trường {name} hiển thị nội dung khác mà giá trị không đổi"


# --- signature fields that only show a picture ----------------------------------------------

# content-stream operators that put marks on the page: text shown, an XObject (image, form)
# or inline image drawn, a path filled or stroked, a shading painted; a word inside a string
# may match too (counted: the safe side)
_PAINTS = re.compile(
    rb"(?<![^\s\[\]()<>/{}%])(?:Tj|TJ|'|\"|Do|f\*?|F|B\*?|b\*?|S|s|sh|BI)(?![^\s\[\]()<>/{}%])"
)


def unsigned_signature_appearances(reader: PdfFileReader, signed_revision: int) -> list[str]:
    """Signature fields of the final revision that hold no signature (no value) and whose
    normal appearance, added or changed after ``signed_revision``, draws something: a
    picture of a handwritten signature or a red seal that no cryptographic signature stands
    behind (an "appearance-only signature"). Each as "name (trang N)", at most 5.

    A placeholder field a later signer will sign normally shows nothing until it is signed;
    one the signed revision already showed is what the signer saw and is left out."""
    return _named_drawings(reader, signed_revision, _picture_only)


def _named_drawings(
    reader: PdfFileReader,
    signed_revision: int,
    judge: Callable[[HistoricalResolver, HistoricalResolver, generic.Reference], str | None],
) -> list[str]:
    """"name (trang N)" for each annotation of the final revision that ``judge`` names (at
    most 5; one ``judge`` cannot read is left to the other checks)."""
    found: list[str] = []
    for old, new, number, ref in _annotations_after(reader, signed_revision, final=True):
        try:
            name = judge(old, new, ref)
        except Exception:
            continue
        if name is not None:
            found.append(f"{name} (trang {number})")
            if len(found) >= 5:
                break
    return found


def _drawn_since(
    old: HistoricalResolver, ref: generic.Reference, annotation: generic.DictionaryObject
) -> tuple[generic.StreamObject, bytes] | None:
    """``annotation``'s normal appearance and its content when it draws something and the
    signed revision (``old``) did not show the same drawing for that object."""
    appearance = _normal_appearance(annotation)
    drawing = None if appearance is None else _stream_bytes(appearance)
    if drawing is None or not _PAINTS.search(drawing[:_MAX_SHOWN]):
        return None  # nothing drawn (or nothing Kho can read: pdfium's views judge that)
    try:
        before = old(ref)
    except Exception:
        before = None
    if isinstance(before, generic.DictionaryObject):
        shown = _normal_appearance(before)
        if shown is not None and _stream_bytes(shown) == drawing:
            return None  # the signer saw it so
    return appearance, drawing


def _picture_only(old: HistoricalResolver, new: HistoricalResolver, ref: generic.Reference) -> str | None:
    widget = new(ref)
    if not isinstance(widget, generic.DictionaryObject) or widget.get("/Subtype") != "/Widget":
        return None
    if _field_type(new, widget) != "/Sig" or _field_value(new, widget) is not None:
        return None
    if _drawn_since(old, ref, widget) is None:
        return None
    return str(widget.get("/T") or "(không tên)")


# --- pictures and stamps added as comments -------------------------------------------------

_MAX_XOBJECTS = 64  # XObjects of one appearance looked into for a picture
_MAX_DEPTH = 4  # form XObjects inside form XObjects


def pictures_added(reader: PdfFileReader, signed_revision: int) -> list[str]:
    """Markup annotations of the final revision, added or redrawn after ``signed_revision``,
    that show a picture: a raster image (inline or an image XObject, at any depth of its form
    XObjects), a ring drawn with text in it (Bézier curves and shown text: a seal drawn as
    vectors), or any drawing of a rubber stamp (``/Stamp``, ISO 32000-2 12.5.6.12: "intended
    to look as if they were stamped on the page"). A red seal or a handwritten signature shown
    as a comment has no signature behind it. Each as "Stamp (trang N)", at most 5. Text
    notes, highlights, boxes, strokes and free text are left out (the ordinary review
    comments; a comment over signed ink is :mod:`._viewer`'s to judge)."""
    return _named_drawings(reader, signed_revision, _picture)


def _picture(old: HistoricalResolver, new: HistoricalResolver, ref: generic.Reference) -> str | None:
    annotation = new(ref)
    if not isinstance(annotation, generic.DictionaryObject):
        return None
    subtype = annotation.get("/Subtype")
    if subtype not in MARKUP_SUBTYPES or subtype == "/Popup":
        return None
    drawn = _drawn_since(old, ref, annotation)
    if drawn is None:
        return None
    if subtype != "/Stamp":
        marks = _marks(*drawn, _MAX_DEPTH)
        if "image" not in marks and not {"curve", "text"} <= marks:
            return None
    return str(subtype)[1:]


def _operator(*names: bytes) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(name) for name in names)
    return re.compile(rb"(?<![^\s\[\]()<>/{}%])(?:" + alternatives + rb")(?![^\s\[\]()<>/{}%])")


_OPERATORS = {
    "image": _operator(b"BI"),
    "curve": _operator(b"c", b"v", b"y"),
    "text": _operator(b"Tj", b"TJ", b"'", b'"'),
}


_LITERAL = re.compile(rb"\((?:\\.|[^\\()])*\)", re.DOTALL)  # innermost (…) of a string
_HEX = re.compile(rb"<[0-9A-Fa-f\s]*>")


def _without_strings(drawing: bytes) -> bytes:
    """``drawing`` with its strings blanked, so that a letter shown ("(y kien)") is not read
    as an operator. Nested parentheses are removed innermost first (at most 8 levels)."""
    for _ in range(8):
        drawing, count = _LITERAL.subn(b" _ ", drawing)
        if not count:
            break
    return _HEX.sub(b" _ ", drawing)


def _marks(stream: generic.StreamObject, drawing: bytes, depth: int) -> set[str]:
    """What ``stream`` (its decoded ``drawing``) and the form XObjects it may paint
    (``depth`` levels) draw: "image" (inline or an image XObject), "curve", "text". An
    XObject Kho cannot read counts as an image (the safe side)."""
    head = _without_strings(drawing[:_MAX_SHOWN])
    marks = {kind for kind, pattern in _OPERATORS.items() if pattern.search(head)}
    if b"Do" not in head:
        return marks
    try:
        xobjects = stream["/Resources"]["/XObject"]
        entries = list(xobjects.items())[:_MAX_XOBJECTS]
    except (KeyError, TypeError, AttributeError):
        return marks
    for _name, xobject in entries:
        try:
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Image":
                marks.add("image")
            elif xobject.get("/Subtype") == "/Form" and depth > 0:
                inner = _stream_bytes(xobject)
                marks |= {"image"} if inner is None else _marks(xobject, inner, depth - 1)
        except Exception:
            marks.add("image")
    return marks


def need_appearances_turned_on(reader: PdfFileReader, signed_revision: int) -> bool:
    """Whether the interactive form's ``/NeedAppearances`` is true in the final revision but
    was not in ``signed_revision``. With it, viewers (pdfium among them) draw each field from
    its value instead of showing the appearance the signer saw and signed: a field whose value
    was prepared to differ from its appearance shows other text after signing, although no
    signed object changed (a shadow attack; ISO 32000-2 12.7.3 deprecates the entry)."""
    last = reader.xrefs.total_revisions - 1
    if signed_revision >= last:
        return False
    return _need_appearances(reader.get_historical_resolver(last)) and not _need_appearances(
        reader.get_historical_resolver(signed_revision)
    )


def _need_appearances(resolver: HistoricalResolver) -> bool:
    try:
        form = resolver.root.get("/AcroForm")
        value = form.get_object().get("/NeedAppearances") if form is not None else None
        return bool(value.get_object()) if value is not None else False
    except Exception:
        return False
