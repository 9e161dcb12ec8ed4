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


def _page_on(page: object, textpage: object) -> PageView:
    """The view of an open page through its open text page (the caller closes both)."""
    width, height = page.get_size()  # type: ignore[attr-defined]
    text = textpage.get_text_range()  # type: ignore[attr-defined]
    return PageView(
        round(width, 2), round(height, 2), int(page.get_rotation()),  # type: ignore[attr-defined]
        text, page_objects(page.raw),  # type: ignore[attr-defined]
    )


def page_view_with(
    data: bytes, also: Callable[[object, object, int], T], max_pages: int
) -> tuple[DocumentView, list[T]]:
    """:func:`page_view` of a document of 1 to ``max_pages`` pages (at most
    :func:`page_view`'s own page bound, so the view is the same), and ``also(page, textpage,
    number)`` read from every page while it is open: each page and text page loaded once for
    both readings. :class:`Unrenderable` when pdfium cannot open it or the page count is
    outside the bounds; anything ``also`` raises is raised."""
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
                    pages.append(_page_on(page, textpage))
                    extra.append(also(page, textpage, index + 1))
                finally:
                    textpage.close()
            finally:
                page.close()
        return DocumentView(tuple(pages)), extra


def page_objects(raw_page: object, max_depth: int = 2) -> tuple[tuple[int, tuple[float, ...], str], ...]:
    """Every page object pdfium resolves on the page, in the order (and to the depth) of
    pypdfium2's ``page.get_objects(max_depth)``: a form XObject, then what it holds. Each is
    its type, its bounds rounded to 2 decimals (``()`` where pdfium has none: the same in both
    views) and, for an image, the SHA-256 of its raw (undecoded) stream data. The caller keeps
    the page (``raw_page`` is its handle) open meanwhile.

    Read through pdfium's C API: a Python wrapper object per page object was about a fifth of
    the view of a text page (tests/signatures/test_sig_viewer.py compares both readings)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    image, form = pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM
    unknown = pdfium_c.FPDF_PAGEOBJ_UNKNOWN
    get_type, get_bounds = pdfium_c.FPDFPageObj_GetType, pdfium_c.FPDFPageObj_GetBounds
    image_data = pdfium_c.FPDFImageObj_GetImageDataRaw
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    objects: list[tuple[int, tuple[float, ...], str]] = []

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
            if get_bounds(obj, left, bottom, right, top):
                bounds: tuple[float, ...] = (
                    round(left.value, 2), round(bottom.value, 2),
                    round(right.value, 2), round(top.value, 2),
                )
            else:
                bounds = ()  # pdfium has no bounds for this object (the same in both views)
            digest = ""
            if kind == image:
                size = image_data(obj, None, 0)
                buffer = (ctypes.c_ubyte * size)()
                image_data(obj, buffer, size)
                digest = hashlib.sha256(bytes(buffer)).hexdigest()
            objects.append((kind, bounds, digest))
            if kind == form and level < max_depth - 1:
                visit(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, level + 1)

    visit(raw_page, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, 0)
    return tuple(objects)


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


def drawn_over_content(signed_data: bytes, signed: DocumentView, final_data: bytes) -> tuple[int, ...]:
    """The pages (numbered from 1) on which what is drawn on top of the page (annotations:
    comments, stamps, drawings, field and signature appearances) shows otherwise in
    ``final_data`` than in the signed revision ``signed_data`` (``signed`` is its view)
    within the bounds of what the signed page shows (its page objects).

    :func:`differences` leaves annotations out, since PAdES lets them follow a signature; a
    comment added after signing whose appearance paints an opaque box with other text over
    the signed text changed what every viewer shows (the shadow attack by annotation). Both
    revisions are rendered by pdfium with their annotations, the same page size (the caller
    found no :func:`differences`), and compared pixel by pixel inside each signed page
    object's box (less one pixel on each side, for anti-aliasing at its edge); a comment
    beside the signed content changes no pixel there."""
    import pypdfium2 as pdfium

    pages: list[int] = []
    with _lock, _opened(pdfium, signed_data) as before, _opened(pdfium, final_data) as after:
        count = min(len(before), len(after), len(signed.pages))  # type: ignore[arg-type]
        for index in range(count):
            boxes = [bounds for _, bounds, _ in signed.pages[index].objects if bounds]
            if boxes and _drawn_over(before[index], after[index], boxes):  # type: ignore[index]
                pages.append(index + 1)
    return tuple(pages)


def _drawn_over(before: object, after: object, boxes: list[tuple[float, ...]]) -> bool:
    """Whether any pixel inside ``boxes`` (page coordinates) differs between the two pages,
    each rendered at 72 dpi with its annotations (no form environment: widgets as their
    appearance streams say)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    try:
        old = before.render(scale=1, may_draw_forms=False)  # type: ignore[attr-defined]
        new = after.render(scale=1, may_draw_forms=False)  # type: ignore[attr-defined]
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

        for box in boxes:
            (x1, y1), (x2, y2) = device(box[0], box[1]), device(box[2], box[3])
            left, right = max(min(x1, x2) + 1, 0), min(max(x1, x2) - 1, width)
            top, bottom = max(min(y1, y2) + 1, 0), min(max(y1, y2) - 1, height)
            for row in range(top, bottom):
                start, end = row * stride + left * step, row * stride + right * step
                if old_bytes[start:end] != new_bytes[start:end]:
                    return True
        return False
    finally:
        for page in (before, after):
            page.close()  # type: ignore[attr-defined]
