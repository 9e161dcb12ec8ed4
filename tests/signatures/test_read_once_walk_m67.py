"""The verification worker's combined read walks each page's objects once (issue #14, m67).

The combined request (``ingest.signatures.combined.read_once``) reads the viewer's view of the
final document and its text layer from one load of each page. The view walks the page's
objects (type, bounds, image digests) and the text layer's rule (does the page have objects,
how much of it do images cover) used to walk them a second time. Now the rule reads the
view's walk. What must not change, on every page of the corpus (real pdfium): the view is
:func:`_viewer.page_view`'s, the text layer is :func:`ingest.text.pdf.read_text_layer`'s (the
text worker's own reading), and an image pdfium cannot locate still fails the combined read
(the caller then reads and verifies separately, as before).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import textdocs

from ingest.signatures import _viewer
from ingest.signatures.combined import read_once
from ingest.text.pdf import read_text_layer
from ingest.text.settings import TextSettings

SETTINGS = TextSettings(ocr_enabled=False)


def _readable(corpus_pdf_dir: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(corpus_pdf_dir.glob("*.pdf"))}
    files.update(text_3=textdocs.pdf_with_text(pages=3), blank_2=textdocs.blank_pdf(2))
    return files


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(pdfium_c, name)

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(pdfium_c, name, counted)
    return calls


def test_the_combined_read_walks_each_page_s_objects_once(monkeypatch: pytest.MonkeyPatch) -> None:
    data = textdocs.pdf_with_text(pages=3)
    walks = _counting(monkeypatch, "FPDFPage_CountObjects")
    fetched = _counting(monkeypatch, "FPDFPage_GetObject")
    view, pages = read_once(data, SETTINGS)
    assert len(pages) == len(view.pages) == 3
    top_level = sum(1 for page in view.pages for _ in page.objects)  # no form XObject here
    assert top_level > 0
    # one walk per page (before: the view's and the text layer rule's, 6), each object once
    assert len(walks) == 3
    assert len(fetched) == top_level


def test_the_combined_read_gives_the_view_and_the_text_layer_of_the_separate_readings(
    corpus_pdf_dir: Path,
) -> None:
    compared = with_images = 0
    for name, data in _readable(corpus_pdf_dir).items():
        try:
            expected_pages = read_text_layer(data, SETTINGS)
            expected_view = _viewer.page_view(data)
        except Exception:
            continue  # unreadable, or refused by the text layer's checks: not compared
        if not 1 <= len(expected_view.pages) <= SETTINGS.max_pages:
            continue
        view, pages = read_once(data, SETTINGS)
        assert view == expected_view, name
        assert pages == expected_pages, name
        compared += 1
        with_images += any(p.needs_ocr for p in pages)
    assert compared >= 52 and with_images >= 30


def test_an_image_pdfium_cannot_locate_still_fails_the_combined_read(
    monkeypatch: pytest.MonkeyPatch, corpus_pdf_dir: Path
) -> None:
    scanned = next(
        data
        for data in _readable(corpus_pdf_dir).values()
        if _has_image(data)
    )
    real = pdfium_c.FPDFPageObj_GetBounds

    def no_bounds_for_images(obj: Any, *out: Any) -> Any:
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return 0
        return real(obj, *out)

    monkeypatch.setattr(pdfium_c, "FPDFPageObj_GetBounds", no_bounds_for_images)
    with pytest.raises(pdfium.PdfiumError, match="Failed to locate pageobject"):
        read_once(scanned, SETTINGS)
    # the view alone still reads such a page (no bounds: the same in both views)
    assert any(bounds == () for page in _viewer.page_view(scanned).pages for _, bounds, _ in page.objects)


def test_image_area_of_sums_in_the_walk_s_order_and_refuses_an_unlocated_image() -> None:
    from ingest.text.pdf import image_area_of

    assert image_area_of([]) == 0.0
    assert image_area_of([(0.0, 0.0, 10.0, 20.0), (5.0, 5.0, 1.0, 9.0)]) == 200.0
    with pytest.raises(pdfium.PdfiumError):
        image_area_of([(0.0, 0.0, 1.0, 1.0), None])


def _has_image(data: bytes) -> bool:
    try:
        view = _viewer.page_view(data)
    except Exception:
        return False
    return 1 <= len(view.pages) <= SETTINGS.max_pages and any(
        kind == pdfium_c.FPDF_PAGEOBJ_IMAGE for page in view.pages for kind, _, _ in page.objects
    )
