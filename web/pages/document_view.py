"""A document shown in its page: rendered PDF pages, the print with a mark, what changed between
versions. Pure layout and comparison; who may see what is decided by the repository's policy
before any of these run.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from ingest.text import box
from ingest.text.box import BoxLimit
from ingest.text.errors import FileBomb
from ingest.text.guards import refuse_pdf_bomb
from ingest.text.settings import TextSettings
from kho.errors import KhoError, NotFound
from repository.metadata import LABELS
from repository.originals import PDF_MEDIA_TYPE
from repository.records import KIND_FILE, Record
from repository.vocabulary import Secrecy, Urgency
from retention.service import FILE_STATE_LABELS as HOSO_STATE_LABELS
from search.labels import VERDICT_LABELS

PAGE_SCALE = 1.5
"""Rendered page size: 1.5 × 72 dpi = 108 dpi, legible on a screen and a few hundred kB."""
MAX_PAGES_SHOWN = 50

EXTRA_LABELS = {
    "state": "Trạng thái",
    "registration": "Số vào sổ",
    "grant_users": "Người được cấp quyền",
    "grant_units": "Đơn vị được cấp quyền",
    "documents": "Văn bản trong hồ sơ",
    "files": "Tệp đính kèm",
    "signature_verdict": "Chữ ký số",
}


NOT_CHECKED_YET = "Chưa kiểm tra xong"
"""A PDF whose signatures ingest has not verified yet (its job still running or queued)."""


def verdict_label(verdict: str | None, record: Record) -> str:
    """The signature verdict as a person reads it. A PDF without a verdict is not checked yet
    (registration refuses it, SIGNATURES_NOT_CHECKED), not "không áp dụng": that is for an
    original that has no signatures to check (not a PDF)."""
    if verdict:
        return VERDICT_LABELS.get(verdict, verdict)
    if any(f.media_type == PDF_MEDIA_TYPE for f in record.files):
        return NOT_CHECKED_YET
    return "Không áp dụng"


DOCUMENT_STATE_LABELS = {
    "intake": "Chờ kiểm tra, vào sổ",
    "active": "Đã tiếp nhận",
    "submitted": "Chờ tiếp nhận nộp lưu",
    "archived": "Lưu trữ cơ quan",
    "destroyed": "Đã hủy",
}
FILE_STATE_LABELS = {**DOCUMENT_STATE_LABELS, **HOSO_STATE_LABELS}
"""A record's state as people read it; a hồ sơ's ``active`` is one being built."""


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class VersionChanges:
    version: int
    created_at: str
    actor: str
    note: str | None
    changes: tuple[FieldChange, ...]


def _show(name: str, value: Any) -> str:
    if value is None or value == "" or value == [] or value == ():
        return "—"
    if name == "urgency" and isinstance(value, int) and value in Urgency._value2member_map_:
        return Urgency(value).label
    if name == "secrecy" and isinstance(value, int) and value in Secrecy._value2member_map_:
        return Secrecy(value).label
    if isinstance(value, list | tuple):
        return "; ".join(_show("", v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(k, v)}" for k, v in value.items() if v not in (None, "", []))
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # ISO date -> dd/mm/yyyy
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return text


def state_label(record: Record) -> str:
    """The record's state in Vietnamese (a code no table names is shown as it is)."""
    labels = FILE_STATE_LABELS if record.kind == KIND_FILE else DOCUMENT_STATE_LABELS
    return labels.get(record.state, record.state)


def _facets(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = dict(record.metadata.to_dict()) if record.metadata is not None else {}
    out.pop("direction", None)
    out["state"] = state_label(record)
    out["registration"] = record.registration.display_number if record.registration else None
    out["grant_users"] = list(record.grant_users)
    out["grant_units"] = list(record.grant_units)
    out["documents"] = len(record.documents) or None
    out["files"] = [f.original_name for f in record.files]
    verdict = record.extra.get("signature_verdict")
    out["signature_verdict"] = VERDICT_LABELS.get(verdict, verdict) if isinstance(verdict, str) else verdict
    return out


def diff_versions(before: Record | None, after: Record) -> tuple[FieldChange, ...]:
    """The fields whose shown value differs between two versions (metadata, state, number,
    grants, files), labelled in Vietnamese. ``before`` None: the first version, nothing changed."""
    if before is None:
        return ()
    old, new = _facets(before), _facets(after)
    changes = []
    for name in dict.fromkeys([*old, *new]):
        a, b = _show(name, old.get(name)), _show(name, new.get(name))
        if a != b:
            label = LABELS.get(name) or EXTRA_LABELS.get(name) or name
            changes.append(FieldChange(name, label, a, b))
    return tuple(changes)


def version_changes(versions: list[Record]) -> list[VersionChanges]:
    """Each version (newest first) with what changed from the one before it."""
    out = []
    previous: Record | None = None
    for record in versions:
        out.append(
            VersionChanges(
                record.version, record.created_at, record.actor, record.note, diff_versions(previous, record)
            )
        )
        previous = record
    return out[::-1]


def page_count(pdf: bytes, *, settings: TextSettings | None = None) -> int:
    """Pages of the PDF; 0 for a decompression bomb, a file pdfium cannot open (a legacy or
    damaged original) or one whose opening goes past the view worker's bound: no page images
    are offered for it, the download still is. pdfium opens the file in the view worker
    (:func:`count_pages`): opening alone inflates a cross-reference stream whole (300 MiB of
    one took 658 MB), which the web process must not pay."""
    limits = settings or TextSettings()
    try:
        refuse_pdf_bomb(pdf)
    except FileBomb:
        return 0
    try:
        count: int = box.run(
            "pages", pdf, (),
            timeout=limits.view_timeout, memory_mb=limits.view_memory_mb, max_reply=4096,
        )
    except BoxLimit:
        return 0
    return count


def count_pages(pdf: bytes) -> int:
    """:func:`page_count`'s work, in the bounded view worker."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError:
        return 0
    try:
        return len(document)
    finally:
        document.close()


def render_page(
    pdf: bytes, number: int, scale: float = PAGE_SCALE, *, settings: TextSettings | None = None
) -> bytes:
    """Page ``number`` (1-based) of a PDF as PNG. Raises ``PAGE_NOT_FOUND`` outside the document.

    The page is drawn for the web process, so its size is bounded before pdfium allocates the
    bitmap (:func:`view_scale`), and the drawing runs in a pre-started worker bounded by
    ``view_timeout`` and ``view_memory_mb`` (:func:`ingest.text.box.run`); a page that
    cannot be drawn within them is ``PAGE_NOT_RENDERED`` (the download still works), never a
    500 nor a web worker held or killed."""
    limits = settings or TextSettings()
    refuse_pdf_bomb(pdf)
    try:
        png: bytes = box.run(
            "view", pdf, (number, scale, limits),
            timeout=limits.view_timeout, memory_mb=limits.view_memory_mb,
            # a PNG of at most max_view_pixels RGBA pixels, stored raw, and its chunk headers
            max_reply=limits.max_view_pixels * 4 + (1 << 20),
        )
    except BoxLimit as exc:
        raise _not_rendered(number) from exc
    return png


def draw_page(pdf: bytes, number: int, scale: float, limits: TextSettings) -> bytes:
    """:func:`render_page`'s work, in the bounded worker: pdfium draws forms inside forms as
    often as they are drawn (14 deep, 2.9 KB: 1.9 GB), which no pixel bound limits."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise NotFound("Tệp này không hiển thị được như PDF: hãy tải bản gốc.", code="NOT_A_PDF") from exc
    try:
        if not 1 <= number <= len(document):
            raise NotFound(f"Văn bản không có trang {number}.", code="PAGE_NOT_FOUND", page=number)
        page = document[number - 1]
        try:
            width, height = page.get_size()
            bounded = view_scale(width, height, scale, limits)
            if bounded is None:
                raise _not_rendered(number)
            try:
                image = page.render(scale=bounded).to_pil()
            except (pdfium.PdfiumError, MemoryError) as exc:
                raise _not_rendered(number) from exc
        finally:
            page.close()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        document.close()


def view_scale(width: float, height: float, scale: float, settings: TextSettings) -> float | None:
    """``scale``, lowered so a ``width`` × ``height`` point page draws at most
    ``max_view_pixels`` pixels and no side longer than ``max_view_side``; ``None`` when a side
    would then be under one pixel (or the size is not a number)."""
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        return None
    bounded = min(
        scale,
        math.sqrt(settings.max_view_pixels / (width * height)),
        settings.max_view_side / max(width, height),
    )
    if min(width, height) * bounded < 1:
        return None
    # pdfium rounds each side up: step down until the rounded bitmap is within the bounds.
    while (math.ceil(width * bounded) * math.ceil(height * bounded) > settings.max_view_pixels
           or math.ceil(max(width, height) * bounded) > settings.max_view_side):
        bounded *= 0.99
    return bounded


def _not_rendered(number: int) -> NotFound:
    return NotFound(
        f"Trang {number} không hiển thị được thành ảnh: hãy tải bản gốc.",
        code="PAGE_NOT_RENDERED", page=number,
    )


def print_mark(full_name: str, when: str) -> str:
    """The line printed on every page of a print and as its PDF title: one line, shown by
    :func:`kho.xmltext.shown_line` (a full name stored with U+202E would print reversed, one with
    a control character drew nothing where it was)."""
    from kho.xmltext import shown_line

    return shown_line(f"In bởi {full_name} lúc {when}")


def stamp_pdf(pdf: bytes, mark: str, *, settings: TextSettings | None = None) -> bytes:
    """A copy of the PDF with ``mark`` in the footer of every page (the original is untouched;
    a signed original's signature no longer covers the copy, which is the point of a print).

    pypdf makes it in a pre-started worker (the page images' workers, :mod:`ingest.text.box`)
    bounded by ``print_timeout`` and ``print_memory_mb``, at most ``print_max_pages`` pages and a
    copy of at most ``print_max_bytes``: 2,000 blank pages (a 204 KB original) took 11.5 s and
    350 MB of the web process and made a 45 MB copy; a 122 KB page of one 40 MB content stream a
    42 MB copy. Past a bound: PRINT_TOO_COMPLEX (the download of the original still works)."""
    limits = settings or TextSettings()
    refuse_pdf_bomb(pdf)
    try:
        copy: bytes = box.run(
            "print", pdf, (mark, limits.print_max_pages),
            timeout=limits.print_timeout, memory_mb=limits.print_memory_mb,
            max_reply=limits.print_max_bytes + (1 << 20),
        )
    except BoxLimit as exc:
        raise KhoError(
            "Không tạo được bản in của tệp PDF này: vượt giới hạn "
            + ("thời gian" if exc.why == "timeout" else "bộ nhớ hoặc dung lượng")
            + " cho phép. Hãy tải bản gốc.",
            code="PRINT_TOO_COMPLEX", reason=exc.why,
        ) from exc
    return copy


def stamp_in_worker(pdf: bytes, mark: str, max_pages: int) -> bytes:
    """:func:`stamp_pdf`'s work, in the bounded worker; any failure of pypdf on a damaged or
    hostile file (its own limits, a page tree too deep for its recursion, a wrong type where a
    dictionary should be) is PRINT_UNAVAILABLE, never a 500."""
    from pypdf import PdfReader

    from kho.sheets import fonts as _fonts

    regular, _bold = _fonts()
    try:
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        if pages > max_pages:
            raise KhoError(
                f"Tệp PDF có {pages} trang, vượt giới hạn {max_pages} trang của bản in: "
                "hãy tải bản gốc.",
                code="PRINT_TOO_COMPLEX", reason="pages", pages=pages, limit=max_pages,
            )
        return _stamped(pdf, mark, regular)
    except KhoError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # pypdf's own limits (a stream over 75 MB inflated) or damage
        raise KhoError(
            "Không tạo được bản in của tệp PDF này (tệp quá lớn hoặc hỏng): hãy tải bản gốc.",
            code="PRINT_UNAVAILABLE",
            reason=type(exc).__name__,
        ) from exc


def _stamped(pdf: bytes, mark: str, regular: str) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    from kho.sheets import draw_line

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        overlay = io.BytesIO()
        sheet = canvas.Canvas(overlay, pagesize=(width, height))
        sheet.setFillGray(0.25)
        draw_line(sheet, float(box.left) + 28, float(box.bottom) + 14, mark, regular, 8)
        sheet.save()
        stamp = PdfReader(io.BytesIO(overlay.getvalue())).pages[0]
        page.merge_page(stamp)
    writer.add_metadata({"/Title": mark, "/Producer": "Kho"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_headers(stop: Any, **_view_args: Any) -> Any:
    """What a ``GET`` of a page image sends besides the PNG (API and page), for its ``HEAD``
    (:mod:`web.heads`). A HEAD ran the view: the page was rendered and a ``content:view`` written
    for an image never sent (r27). Its length is unknown without rendering, so none is given."""
    from web.heads import FileHeaders

    return FileHeaders("image/png")
