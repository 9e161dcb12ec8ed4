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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_lock = threading.Lock()  # pdfium is not thread-safe


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


def page_view(data: bytes, max_pages: int = 5000) -> DocumentView:
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
    width, height = page.get_size()  # type: ignore[attr-defined]
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    objects = []
    failure = pdfium.PdfiumError  # type: ignore[attr-defined]
    for obj in page.get_objects(max_depth=2):  # type: ignore[attr-defined]
        # pypdfium2 5 calls it get_bounds, 4 get_pos; anything else is a programming error,
        # never a reason to compare pages without their objects' positions
        bounds_of = getattr(obj, "get_bounds", None) or obj.get_pos
        try:
            bounds = tuple(round(v, 2) for v in bounds_of())
        except failure:
            bounds = ()  # pdfium has no bounds for this object (the same in both views)
        digest = ""
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE:  # type: ignore[attr-defined]
            try:
                digest = hashlib.sha256(bytes(obj.get_data(decode_simple=False))).hexdigest()
            except failure:
                digest = "?"
        objects.append((int(obj.type), bounds, digest))
    return PageView(
        round(width, 2), round(height, 2), int(page.get_rotation()),  # type: ignore[attr-defined]
        text, tuple(objects),
    )


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
