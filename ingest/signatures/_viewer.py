"""The document as a viewer shows it, read by pdfium independently of pyHanko.

:func:`page_view` describes every page as pdfium resolves it (size, rotation, extracted text,
and every page object's type, position and, for images, a digest of the raw image data).
Annotations (form fields, signature widgets, comments) are not part of it: they are what
the permitted changes after signing may add. Comparing the view of the final document with
the view of a signed revision tells whether what a person sees is what was signed, whatever
the modification analysis read.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

_lock = threading.Lock()  # pdfium is not thread-safe
T = TypeVar("T")


@dataclass(frozen=True)
class PageView:
    width: float
    height: float
    rotation: int
    text: str
    objects: tuple[tuple[int, tuple[float, ...], str], ...]
    # where annotations are drawn over the page (:func:`overlay_rects`); not compared by
    # :func:`differences`, read by :func:`drawn_over_content`
    overlays: tuple[tuple[float, float, float, float], ...] = ()


@dataclass(frozen=True)
class DocumentView:
    pages: tuple[PageView, ...]


class Unrenderable(Exception):
    """pdfium could not open the document."""


VIEW_MAX_PAGES = 5000
"""Pages a view describes one by one (a longer document: those, then one line)."""


def page_view(data: bytes, max_pages: int = VIEW_MAX_PAGES) -> DocumentView:
    """The view of ``data``; :class:`Unrenderable` when pdfium cannot open it."""
    import pypdfium2 as pdfium

    with _lock, _opened(pdfium, data) as doc:
        count = len(doc)
        pages = []
        for index in range(min(count, max_pages)):
            page = doc[index]
            try:
                pages.append(_page(pdfium, page))
            finally:
                page.close()
        if count > max_pages:
            pages.append(PageView(0, 0, 0, f"... {count - max_pages} more pages", ()))
        return DocumentView(tuple(pages))


@contextmanager
def _opened(pdfium: object, data: bytes) -> Iterator[object]:
    try:
        doc = pdfium.PdfDocument(data)  # type: ignore[attr-defined]
    except Exception as exc:
        raise Unrenderable(str(exc)) from exc
    try:
        yield doc
    finally:
        doc.close()


def _page(pdfium: object, page: object) -> PageView:
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        return _page_on(page, textpage)
    finally:
        textpage.close()


def _page_on(page: object, textpage: object, read: ObjectsRead | None = None) -> PageView:
    """The view of an open page through its open text page (the caller closes both);
    ``read``: its objects already walked (:func:`read_page_objects`)."""
    width, height = page.get_size()  # type: ignore[attr-defined]
    text = textpage.get_text_range()  # type: ignore[attr-defined]
    objects = (read if read is not None else read_page_objects(page.raw)).objects  # type: ignore[attr-defined]
    return PageView(
        round(width, 2), round(height, 2), int(page.get_rotation()),  # type: ignore[attr-defined]
        text, objects,
        overlay_rects(page.raw),  # type: ignore[attr-defined]
    )


def page_view_with(
    data: bytes, also: Callable[[object, object, int, ObjectsRead], T], max_pages: int
) -> tuple[DocumentView, list[T]]:
    """:func:`page_view` of a document of 1 to ``max_pages`` pages (at most
    :func:`page_view`'s own page bound, so the view is the same), and ``also(page, textpage,
    number, read)`` read from every page while it is open: each page and text page loaded once
    for both readings, and the page's objects walked once (``read``: :func:`read_page_objects`,
    the walk the view is made from). :class:`Unrenderable` when pdfium cannot open it or the
    page count is outside the bounds; anything ``also`` raises is raised."""
    import pypdfium2 as pdfium

    with _lock, _opened(pdfium, data) as doc:
        count = len(doc)  # type: ignore[arg-type]
        if not 1 <= count <= max_pages:
            raise Unrenderable(f"{count} pages, outside 1..{max_pages}")
        pages, extra = [], []
        for index in range(count):
            page = doc[index]  # type: ignore[index]
            try:
                textpage = page.get_textpage()
                try:
                    read = read_page_objects(page.raw)  # type: ignore[attr-defined]
                    pages.append(_page_on(page, textpage, read))
                    extra.append(also(page, textpage, index + 1, read))
                finally:
                    textpage.close()
            finally:
                page.close()
        return DocumentView(tuple(pages)), extra


@dataclass(frozen=True)
class ObjectsRead:
    """One walk of a page's objects (:func:`read_page_objects`)."""

    objects: tuple[tuple[int, tuple[float, ...], str], ...]
    """What the view compares: :func:`page_objects`."""
    image_bounds: tuple[tuple[float, float, float, float] | None, ...]
    """Every image object's bounds as pdfium gives them (not rounded), in the walk's order;
    ``None`` where pdfium gives none. The text layer's rule reads them
    (:func:`ingest.text.pdf.page_info_on`: how much of the page images cover)."""


def page_objects(raw_page: object, max_depth: int = 2) -> tuple[tuple[int, tuple[float, ...], str], ...]:
    """Every page object pdfium resolves on the page, in the order (and to the depth) of
    pypdfium2's ``page.get_objects(max_depth)``: a form XObject, then what it holds. Each is
    its type, its bounds rounded to 2 decimals (``()`` where pdfium has none: the same in both
    views) and, for an image, the SHA-256 of its raw (undecoded) stream data. The caller keeps
    the page (``raw_page`` is its handle) open meanwhile.

    Read through pdfium's C API: a Python wrapper object per page object was about a fifth of
    the view of a text page (tests/signatures/test_sig_viewer.py compares both readings)."""
    return read_page_objects(raw_page, max_depth).objects


def read_page_objects(raw_page: object, max_depth: int = 2) -> ObjectsRead:
    """:func:`page_objects`, and the unrounded bounds of its images, from one walk: the
    combined read (:func:`page_view_with`) gives both the view and the text layer's rule what
    they need without walking the page's objects twice (issue #14)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    image, form = pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM
    unknown = pdfium_c.FPDF_PAGEOBJ_UNKNOWN
    get_type, get_bounds = pdfium_c.FPDFPageObj_GetType, pdfium_c.FPDFPageObj_GetBounds
    image_data = pdfium_c.FPDFImageObj_GetImageDataRaw
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    objects: list[tuple[int, tuple[float, ...], str]] = []
    images: list[tuple[float, float, float, float] | None] = []

    def visit(parent: object, count: object, get: object, level: int) -> None:
        n_objects = count(parent)  # type: ignore[operator]
        if n_objects < 0:
            raise pdfium.PdfiumError("Failed to get number of pageobjects.")
        for index in range(n_objects):
            obj = get(parent, index)  # type: ignore[operator]
            if not obj:
                raise pdfium.PdfiumError("Failed to get pageobject.")
            kind = int(get_type(obj))
            if kind == unknown:  # pypdfium2's wrapper refuses it: so does this reading
                raise pdfium.PdfiumError("Page object of unknown type.")
            located = get_bounds(obj, left, bottom, right, top)
            if located:
                bounds: tuple[float, ...] = (
                    round(left.value, 2), round(bottom.value, 2),
                    round(right.value, 2), round(top.value, 2),
                )
            else:
                bounds = ()  # pdfium has no bounds for this object (the same in both views)
            digest = ""
            if kind == image:
                images.append((left.value, bottom.value, right.value, top.value) if located else None)
                size = image_data(obj, None, 0)
                buffer = (ctypes.c_ubyte * size)()
                image_data(obj, buffer, size)
                digest = hashlib.sha256(bytes(buffer)).hexdigest()
            objects.append((kind, bounds, digest))
            if kind == form and level < max_depth - 1:
                visit(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, level + 1)

    visit(raw_page, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, 0)
    return ObjectsRead(tuple(objects), tuple(images))


def differences(signed: DocumentView, final: DocumentView) -> str | None:
    """What a person sees differently in ``final`` (Vietnamese), ``None`` when nothing."""
    if len(signed.pages) != len(final.pages):
        return (
            f"trình xem PDF hiển thị {len(final.pages)} trang, phiên bản đã ký có "
            f"{len(signed.pages)} trang"
        )
    for number, (before, after) in enumerate(zip(signed.pages, final.pages, strict=True), 1):
        if (before.width, before.height, before.rotation) != (
            after.width, after.height, after.rotation
        ):
            return f"trang {number} có kích thước hoặc hướng khác phiên bản đã ký"
        if before.text != after.text:
            return f"chữ trên trang {number} khác phiên bản đã ký"
        if before.objects != after.objects:
            return f"nội dung hiển thị của trang {number} khác phiên bản đã ký"
    return None


def drawn_over_content(
    signed_data: bytes, signed: DocumentView, final_data: bytes, final: DocumentView
) -> tuple[int, ...]:
    """The pages (numbered from 1) on which an annotation of ``final_data`` (a comment, a
    stamp, a drawing, a form field) shows otherwise than the signed revision ``signed_data``
    where the signed page shows content (``signed`` and ``final`` are their views).

    :func:`differences` leaves annotations out, since PAdES lets comments and form filling
    follow a signature; but an annotation or a field filled after signing whose appearance
    paints an opaque box with other text over the signed text changed what every viewer
    shows (the shadow attacks "overlay" and "hide"). Only where an annotation of the final
    page (:attr:`PageView.overlays`) lies over a signed page object is anything rendered:
    both revisions by pdfium as a viewer shows them (annotations and form fields), compared
    pixel by pixel there (:func:`_pixels_differ`). Signed signature fields are left out (a
    later signature's own appearance, such as an agency's seal over the signer's name, is
    vouched for by that signature's own verdict), as are comments and fields beside the
    signed content: most documents render nothing here. The caller found no
    :func:`differences` (same pages, same sizes)."""
    import pypdfium2 as pdfium

    candidates: dict[int, list[tuple[float, float, float, float]]] = {}
    for index, (before, after) in enumerate(zip(signed.pages, final.pages, strict=False)):
        regions = [
            cut
            for rect in after.overlays
            for _, box, _ in before.objects
            if box and (cut := _intersection(rect, box)) is not None
        ]
        if regions:
            candidates[index] = regions
    if not candidates:
        return ()
    pages: list[int] = []
    with _lock, _opened(pdfium, signed_data) as old, _opened(pdfium, final_data) as new:
        for document in (old, new):
            document.init_forms()  # type: ignore[attr-defined]
        for index, regions in candidates.items():
            if _pixels_differ(old[index], new[index], regions):  # type: ignore[index]
                pages.append(index + 1)
    return tuple(pages)


def overlay_rects(raw_page: object) -> tuple[tuple[float, float, float, float], ...]:
    """The rectangles of the annotations on an open page (``raw_page`` is its handle), but
    signed signature fields (``/FT /Sig`` with a value: each has its own verdict) and popups
    (drawn only when opened, beside the page)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    signature_value = (pdfium_c.FPDF_OBJECT_DICTIONARY, pdfium_c.FPDF_OBJECT_REFERENCE)
    field_type = ctypes.create_string_buffer(16)
    rects = []
    for number in range(pdfium_c.FPDFPage_GetAnnotCount(raw_page)):
        annot = pdfium_c.FPDFPage_GetAnnot(raw_page, number)
        if not annot:
            continue
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_POPUP:
                continue
            size = pdfium_c.FPDFAnnot_GetStringValue(
                annot, b"FT", ctypes.cast(field_type, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), 16
            )
            if (
                size == 8  # "Sig" in UTF-16LE and its terminator
                and field_type.raw[:6] == "Sig".encode("utf-16-le")
                and pdfium_c.FPDFAnnot_GetValueType(annot, b"V") in signature_value
            ):
                continue
            rect = pdfium_c.FS_RECTF()
            if pdfium_c.FPDFAnnot_GetRect(annot, rect):
                rects.append((
                    round(min(rect.left, rect.right), 2), round(min(rect.bottom, rect.top), 2),
                    round(max(rect.left, rect.right), 2), round(max(rect.bottom, rect.top), 2),
                ))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return tuple(rects)


def _intersection(
    a: tuple[float, ...], b: tuple[float, ...]
) -> tuple[float, float, float, float] | None:
    left, bottom, right, top = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (left, bottom, right, top) if left < right and bottom < top else None


_PAPER = 250  # a pixel whose colour channels are all at least this is blank paper


def _ink_changed(old: bytes, new: bytes, start: int, end: int, step: int) -> bool:
    """Whether a pixel between ``start`` and ``end`` that is ink in ``old`` (not blank
    paper) shows otherwise in ``new``: signed content covered, erased or recoloured. Ink
    added on blank paper (a comment's text, a field's value, a highlight's colour around
    the letters it leaves readable) is not."""
    colours = min(step, 3)  # B, G, R; a fourth byte is alpha
    for at in range(start, end, step):
        before = old[at:at + colours]
        if before != new[at:at + colours] and min(before) < _PAPER:
            return True
    return False


def _pixels_differ(before: object, after: object, regions: list[tuple[float, float, float, float]]) -> bool:
    """Whether a pixel of signed ink inside ``regions`` (page coordinates, less one pixel on
    each side for anti-aliasing at their edges) shows otherwise (:func:`_ink_changed`)
    between the two pages, each rendered at 72 dpi as a viewer shows it (annotations and
    form fields); both pages are closed."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    try:
        old = before.render(scale=1, may_draw_forms=True)  # type: ignore[attr-defined]
        new = after.render(scale=1, may_draw_forms=True)  # type: ignore[attr-defined]
        try:
            width, height, stride = old.width, old.height, old.stride
            if (width, height, stride) != (new.width, new.height, new.stride):
                return True
            step = old.n_channels  # bytes per pixel
            old_bytes, new_bytes = bytes(old.buffer), bytes(new.buffer)
        finally:
            old.close()
            new.close()
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw = before.raw  # type: ignore[attr-defined]

        def device(x: float, y: float) -> tuple[int, int]:
            pdfium_c.FPDF_PageToDevice(raw, 0, 0, width, height, 0, x, y, dx, dy)
            return dx.value, dy.value

        for region in regions:
            (x1, y1), (x2, y2) = device(region[0], region[1]), device(region[2], region[3])
            left, right = max(min(x1, x2) + 1, 0), min(max(x1, x2) - 1, width)
            top, bottom = max(min(y1, y2) + 1, 0), min(max(y1, y2) - 1, height)
            for row in range(top, bottom):
                start, end = row * stride + left * step, row * stride + right * step
                if old_bytes[start:end] != new_bytes[start:end] and _ink_changed(
                    old_bytes, new_bytes, start, end, step
                ):
                    return True
        return False
    finally:
        for page in (before, after):
            page.close()  # type: ignore[attr-defined]
