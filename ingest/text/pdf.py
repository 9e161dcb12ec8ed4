"""PDF text: pdfium's text layer where it is usable, Tesseract on rendered pages where not."""

from __future__ import annotations

import ctypes
import math
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.text import box
from ingest.text.box import BoxLimit
from ingest.text.errors import FileCorrupt, FileEncrypted, FileTooComplex, FileTooManyPages, OcrTimeout
from ingest.text.model import (
    ExtractedText,
    Format,
    TextPart,
    TextSource,
    TextWarning,
    clean_text,
    detect_language,
)
from ingest.text.ocr import (
    PageImage,
    encode_page,
    machine_slots,
    ocr_pages,
    resolve_language,
    retry_warning,
)
from ingest.text.settings import TextSettings

# pdfium is not thread-safe: every call into it in this process goes through this lock.
PDFIUM_LOCK = threading.RLock()
_FPDF_ERR_PASSWORD = 4
_FPDF_ERR_SECURITY = 5
_GARBAGE_MAX = 0.10
_FULL_PAGE_IMAGE = 0.5


@dataclass(frozen=True)
class _PageInfo:
    number: int
    text: str
    needs_ocr: bool
    empty: bool


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (_FPDF_ERR_PASSWORD, _FPDF_ERR_SECURITY):
            raise FileEncrypted(
                "Tệp PDF được bảo vệ bằng mật khẩu, không thể đọc nội dung.", format="pdf"
            ) from exc
        raise FileCorrupt(
            "Tệp PDF bị hỏng hoặc không đúng cấu trúc PDF.", format="pdf", reason=str(exc)
        ) from exc


_GARBAGE_RE = re.compile("[\ufffd\ue000-\uf8ff\x00-\x1f]")


def _usable(text: str, min_chars: int) -> bool:
    # str.split() cuts at exactly the characters \s matches (str.isspace, tested), ~3 times
    # faster than the pattern's substitution on a page of Vietnamese text
    visible = "".join(text.split())
    if len(visible) < min_chars:
        return False
    bad = len(_GARBAGE_RE.findall(visible))
    return bad <= _GARBAGE_MAX * len(visible)


def _page_info(page: pdfium.PdfPage, number: int, settings: TextSettings) -> _PageInfo:
    textpage = page.get_textpage()
    try:
        return page_info_on(page, textpage, number, settings)
    finally:
        textpage.close()


def page_info_on(
    page: pdfium.PdfPage,
    textpage: pdfium.PdfTextPage,
    number: int,
    settings: TextSettings,
    content: tuple[bool, Sequence[tuple[float, float, float, float] | None]] | None = None,
) -> _PageInfo:
    """The text layer's reading of an open page and its open text page (the caller closes
    both): the one rule of :func:`read_text_layer` and of the verification worker's single
    read of a document (:mod:`ingest.signatures.combined`). ``content``: whether the page has
    objects and its images' bounds, from a walk of its objects the caller has already made
    (the viewer's, ``_viewer.read_page_objects``: same order and depth as
    :func:`_objects_and_image_area`); else the objects are walked here."""
    text = clean_text(textpage.get_text_bounded())
    width, height = page.get_size()
    area = max(width * height, 1.0)
    if content is None:
        has_objects, image_area = _objects_and_image_area(page)
    else:
        has_objects, image_area = content[0], image_area_of(content[1])
    usable = _usable(text, settings.min_text_layer_chars)
    # A scan with a short stamped text line (a receipt stamp, a signature label) is still a scan.
    scanned = image_area >= _FULL_PAGE_IMAGE * area and len(text.strip()) < 200
    needs_ocr = has_objects and (not usable or scanned)
    return _PageInfo(number, text, needs_ocr, empty=not has_objects and not text.strip())


def image_area_of(bounds: Iterable[tuple[float, float, float, float] | None]) -> float:
    """The area the images of a page cover, from their bounds (left, bottom, right, top) in
    :func:`_objects_and_image_area`'s order and sum; an image pdfium could not locate
    (``None``) raises what that walk raises."""
    area = 0.0
    for located in bounds:
        if located is None:
            raise pdfium.PdfiumError("Failed to locate pageobject.")
        left, bottom, right, top = located
        area += max(right - left, 0) * max(top - bottom, 0)
    return area


def _objects_and_image_area(page: pdfium.PdfPage, max_depth: int = 2) -> tuple[bool, float]:
    """Whether the page has content objects, and the area its images cover: the objects
    ``page.get_objects(max_depth=2)`` yields, read through the raw API (a Python wrapper
    per object, on text-heavy pages, was a seventh of the text step)."""
    bounds = [ctypes.c_float() for _ in range(4)]
    found = False
    images: list[tuple[float, float, float, float] | None] = []

    def visit(parent: Any, count: Any, get: Any, level: int) -> None:
        nonlocal found
        n_objects = count(parent)
        if n_objects < 0:
            raise pdfium.PdfiumError("Failed to get number of pageobjects.")
        for i in range(n_objects):
            obj = get(parent, i)
            if not obj:
                raise pdfium.PdfiumError("Failed to get pageobject.")
            found = True
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                if not pdfium_c.FPDFPageObj_GetBounds(obj, *bounds):
                    raise pdfium.PdfiumError("Failed to locate pageobject.")
                left, bottom, right, top = (b.value for b in bounds)
                images.append((left, bottom, right, top))
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and level < max_depth - 1:
                visit(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, level + 1)

    visit(page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, 0)
    return found, image_area_of(images)


def render_page(
    page: pdfium.PdfPage, number: int, settings: TextSettings
) -> tuple[PageImage, TextWarning | None]:
    """Render a page in grayscale at ``ocr_dpi``, lowered to stay under ``max_render_pixels``."""
    width, height = page.get_size()
    dpi = settings.ocr_dpi
    pixels = (width / 72 * dpi) * (height / 72 * dpi)
    warning = None
    if pixels > settings.max_render_pixels:
        dpi = max(1, int(dpi * math.sqrt(settings.max_render_pixels / pixels)))
        warning = TextWarning(
            code="PAGE_RENDERED_SMALLER",
            message=(
                f"Trang {number} quá khổ ({width / 72 * 25.4:.0f}×{height / 72 * 25.4:.0f} mm); "
                f"đã nhận dạng ở {dpi} dpi thay vì {settings.ocr_dpi} dpi."
            ),
            page=number,
        )
    bitmap = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=True)
    try:
        image = bitmap.to_pil()
        data = encode_page(image)
    finally:
        bitmap.close()
    return PageImage(number=number, data=data, dpi=dpi), warning


_SCAN_COLORSPACES = frozenset({
    pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_DEVICERGB,
    pdfium_c.FPDF_COLORSPACE_ICCBASED,
})
_FIT = 0.02
"""How far (a fraction of the page side) a scan may be from covering the page exactly."""


def page_image(
    page: pdfium.PdfPage, number: int, settings: TextSettings
) -> tuple[PageImage, TextWarning | None]:
    """What Tesseract reads for a page: its own scan (:func:`scan_image`) where the page is only
    that, else the page rendered (:func:`render_page`). Call with ``PDFIUM_LOCK`` held."""
    scan = scan_image(page, number, settings)
    return (scan, None) if scan is not None else render_page(page, number, settings)


def scan_image(page: pdfium.PdfPage, number: int, settings: TextSettings) -> PageImage | None:
    """The page's one image decoded at its own resolution, or ``None`` when the page is
    anything more than an upright scan that covers it.

    ``None`` (so the page is rendered) when ``ocr_scan_images`` is off, and for: a rotated
    page; any other content object; a visible annotation (a signature's stamp is text on the
    page); an image that is rotated, skewed, cropped or does not cover the page; an unusual
    colour space or bit depth; a resolution below ``ocr_min_scan_dpi``, above ``ocr_dpi``
    (rendering then shrinks it) or not the same across and down; more pixels than
    ``max_render_pixels``; an image pdfium cannot decode. Pixels are counted before anything
    is decoded. (pdfium does not say whether an image has a soft mask; scans carry none.)"""
    if not settings.ocr_scan_images:
        return None
    raw = page.raw
    if page.get_rotation() % 360 or pdfium_c.FPDFPage_CountObjects(raw) != 1:
        return None
    if _visible_annotations(raw):
        return None
    obj = pdfium_c.FPDFPage_GetObject(raw, 0)
    if not obj or pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    matrix = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, matrix):
        return None
    width, height = page.get_size()
    left, bottom = _page_origin(page)
    if (matrix.b or matrix.c or matrix.a <= 0 or matrix.d <= 0
            or abs(matrix.a - width) > _FIT * width or abs(matrix.d - height) > _FIT * height
            or abs(matrix.e - left) > _FIT * width or abs(matrix.f - bottom) > _FIT * height):
        return None
    meta = pdfium_c.FPDF_IMAGEOBJ_METADATA()
    if not pdfium_c.FPDFImageObj_GetImageMetadata(obj, raw, meta):
        return None
    pixels_x, pixels_y = meta.width, meta.height
    if (meta.colorspace not in _SCAN_COLORSPACES or meta.bits_per_pixel not in (1, 8, 24)
            or pixels_x <= 0 or pixels_y <= 0
            or pixels_x * pixels_y > settings.max_render_pixels):
        return None
    dpi_x, dpi_y = pixels_x / (matrix.a / 72), pixels_y / (matrix.d / 72)
    if (abs(dpi_x - dpi_y) > _FIT * dpi_x or dpi_x < settings.ocr_min_scan_dpi
            or dpi_x > settings.ocr_dpi * (1 + _FIT)):
        return None
    handle = pdfium_c.FPDFImageObj_GetBitmap(obj)
    if not handle:
        return None
    bitmap = pdfium.PdfBitmap.from_raw(handle)
    try:
        if (bitmap.width, bitmap.height) != (pixels_x, pixels_y):
            return None
        data = encode_page(bitmap.to_pil())
    finally:
        # Safe: nothing derived from its buffer outlives encode_page (which copies it).
        bitmap.warn_on_close = False
        bitmap.close()
    return PageImage(number=number, data=data, dpi=round(dpi_x))


def _page_origin(page: pdfium.PdfPage) -> tuple[float, float]:
    """Lower-left corner of the page's crop box (where a full-page scan is placed)."""
    left, bottom, _, _ = page.get_cropbox()
    return left, bottom


def _visible_annotations(raw: Any) -> bool:
    for index in range(pdfium_c.FPDFPage_GetAnnotCount(raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(raw, index)
        if not annot:
            return True
        try:
            rect = pdfium_c.FS_RECTF()
            hidden = pdfium_c.FPDFAnnot_GetFlags(annot) & (
                pdfium_c.FPDF_ANNOT_FLAG_HIDDEN | pdfium_c.FPDF_ANNOT_FLAG_NOVIEW
            )
            if not pdfium_c.FPDFAnnot_GetRect(annot, rect):
                return True
            if not hidden and rect.right > rect.left and rect.top > rect.bottom:
                return True
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return False


def extract_pdf(
    data: bytes, settings: TextSettings, *, extractor: str, infos: list[_PageInfo] | None = None
) -> ExtractedText:
    """The text of a PDF. ``infos``: its text layer already read by :func:`page_info_on` in a
    bounded worker (the verification worker's single read, :mod:`ingest.signatures.combined`),
    so the text worker is not asked again."""
    if infos is not None:
        return _extract(infos, data, settings, extractor)
    # pdfium opens the file first in a pre-started worker bounded in memory and time, whatever
    # threads this process has: opening alone inflates a cross-reference stream whole (300 MiB
    # of one: 658 MB), and the text layer expands every form a page draws, however deep and
    # however often. Pages for OCR are drawn there too (:func:`render_for_ocr`): this process
    # never opens the file.
    try:
        infos = box.run(
            "text", data, (settings,),
            timeout=settings.text_layer_timeout, memory_mb=settings.text_layer_memory_mb,
        )
    except BoxLimit as exc:
        raise FileTooComplex(
            "Tệp PDF quá phức tạp: đọc lớp chữ vượt giới hạn "
            + ("thời gian" if exc.why == "timeout" else "bộ nhớ")
            + " cho phép. Bản gốc vẫn được lưu; hãy kiểm tra tệp hoặc gửi bản in lại.",
            format="pdf", reason=str(exc),
        ) from exc
    return _extract(infos, data, settings, extractor)


def read_text_layer(data: bytes, settings: TextSettings) -> list[_PageInfo]:
    """The text layer of every page, with what each needs (OCR or not), after the checks of the
    page count: pdfium's part of the extraction, which :func:`extract_pdf` runs in a bounded
    worker (:mod:`ingest.text.box`)."""
    pdf = open_pdf(data)
    infos: list[_PageInfo] = []
    try:
        with PDFIUM_LOCK:
            count = len(pdf)
        if count > settings.max_pages:
            raise FileTooManyPages(
                f"Tệp PDF có {count} trang, vượt giới hạn {settings.max_pages} trang.",
                pages=count, limit=settings.max_pages,
            )
        if count == 0:
            raise FileCorrupt("Tệp PDF không có trang nào.", format="pdf")
        with PDFIUM_LOCK:
            for i in range(count):
                page = pdf[i]
                try:
                    infos.append(_page_info(page, i + 1, settings))
                finally:
                    page.close()
    except pdfium.PdfiumError as exc:
        raise FileCorrupt("Không đọc được trang của tệp PDF.", reason=str(exc)) from exc
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    return infos


def render_for_ocr(
    data: bytes, number: int, settings: TextSettings
) -> tuple[PageImage, TextWarning | None]:
    """Page ``number`` as Tesseract reads it (:func:`page_image`): run in the text worker
    (:func:`rendered_in_worker`), never in the pipeline's process."""
    pdf = open_pdf(data)
    try:
        with PDFIUM_LOCK:
            page = pdf[number - 1]
            try:
                return page_image(page, number, settings)
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise FileCorrupt("Không đọc được trang của tệp PDF.", reason=str(exc)) from exc
    finally:
        with PDFIUM_LOCK:
            pdf.close()


def rendered_in_worker(
    data: bytes, number: int, settings: TextSettings
) -> tuple[PageImage, TextWarning | None]:
    """:func:`render_for_ocr` in a worker bounded by ``ocr_render_memory_mb`` and
    ``ocr_render_timeout`` (the text layer's workers when the bounds are the same): opening a
    scan whose cross-reference stream inflates to 300 MiB, or decoding a page's one huge image,
    costs the worker and no more. Past a bound: FILE_TOO_COMPLEX naming the page."""
    try:
        dpi, image, note = box.run(
            "render", data, (number, settings),
            timeout=settings.ocr_render_timeout, memory_mb=settings.ocr_render_memory_mb,
            max_reply=box.render_reply_cap(settings.max_render_pixels),
        )
    except BoxLimit as exc:
        raise FileTooComplex(
            f"Tệp PDF quá phức tạp: dựng ảnh trang {number} để nhận dạng chữ vượt giới hạn "
            + ("thời gian" if exc.why == "timeout" else "bộ nhớ")
            + " cho phép. Bản gốc vẫn được lưu; hãy kiểm tra tệp hoặc gửi bản in lại.",
            format="pdf", page=number, reason=str(exc),
        ) from exc
    warning = None if note is None else TextWarning(
        code="PAGE_RENDERED_SMALLER", message=note, page=number
    )
    return PageImage(number=number, data=image, dpi=dpi), warning


def _extract(
    infos: list[_PageInfo], data: bytes, settings: TextSettings, extractor: str,
) -> ExtractedText:
    """The text of every page from the worker's ``infos``; the pages that need OCR drawn in the
    worker too, one request per page (so drawing overlaps Tesseract on earlier pages)."""
    count = len(infos)
    warnings: list[TextWarning] = []
    texts: dict[int, tuple[str, TextSource]] = {
        info.number: (info.text, TextSource.TEXT_LAYER if not info.empty else TextSource.NONE)
        for info in infos
        if not info.needs_ocr
    }
    to_ocr = [info.number for info in infos if info.needs_ocr]
    ocr_lang: str | None = None
    timed_out: list[int] = []
    if to_ocr and not settings.ocr_enabled:
        warnings.append(TextWarning(
            code="OCR_DISABLED",
            message=f"{len(to_ocr)} trang là ảnh quét nhưng chức năng nhận dạng chữ đang tắt.",
        ))
        for number in to_ocr:
            texts[number] = ("", TextSource.NONE)
    elif to_ocr:
        if len(to_ocr) > settings.max_ocr_pages:
            raise FileTooManyPages(
                f"Tệp PDF có {len(to_ocr)} trang ảnh cần nhận dạng chữ, vượt giới hạn "
                f"{settings.max_ocr_pages} trang.",
                pages=len(to_ocr), limit=settings.max_ocr_pages,
            )
        ocr_lang, lang_warning = resolve_language(settings.ocr_lang)
        if lang_warning:
            warnings.append(lang_warning)

        def rendered() -> Iterator[PageImage]:
            for number in to_ocr:
                image, warning = rendered_in_worker(data, number, settings)
                if warning:
                    warnings.append(warning)
                yield image

        for result in ocr_pages(
            rendered(), lang=ocr_lang, timeout=settings.ocr_page_timeout, jobs=settings.ocr_jobs,
            slots=machine_slots(settings.ocr_slots) if settings.ocr_slots else None,
            memory_mb=settings.ocr_memory_mb,
        ):
            if result.timed_out:
                timed_out.append(result.number)
            else:
                texts[result.number] = (clean_text(result.text).strip("\n"), TextSource.OCR)
                if retried := retry_warning(result):
                    warnings.append(retried)
        for number in to_ocr:
            if number not in texts:
                texts[number] = ("", TextSource.NONE)
                warnings.append(TextWarning(
                    code="OCR_TIMEOUT" if number in timed_out else "OCR_NOT_RUN",
                    message=(
                        f"Trang {number}: nhận dạng chữ quá {settings.ocr_page_timeout:g} giây."
                        if number in timed_out
                        else f"Trang {number}: chưa nhận dạng chữ vì trang trước quá thời gian."
                    ),
                    page=number,
                ))

    parts = tuple(
        TextPart(number=n, text=texts[n][0], source=texts[n][1]) for n in range(1, count + 1)
    )
    result = ExtractedText(
        format=Format.PDF,
        parts=parts,
        page_count=count,
        language=detect_language(" ".join(p.text for p in parts)),
        extractor=extractor,
        ocr_language=ocr_lang,
        warnings=tuple(warnings),
    )
    if timed_out:
        raise OcrTimeout(
            f"Nhận dạng chữ trang {timed_out[0]} vượt quá {settings.ocr_page_timeout:g} giây.",
            partial=result, pages=timed_out, timeout_seconds=settings.ocr_page_timeout,
        )
    return result
