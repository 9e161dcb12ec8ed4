"""Page classification reads the same objects as pypdfium2's own iteration."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.text.pdf import _objects_and_image_area


def _reference(page: pdfium.PdfPage) -> tuple[bool, float]:
    found, area = False, 0.0
    for obj in page.get_objects(max_depth=2):
        found = True
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            left, bottom, right, top = obj.get_bounds()
            area += max(right - left, 0) * max(top - bottom, 0)
    return found, area


def test_raw_object_walk_equals_get_objects_on_every_corpus_page(corpus_pdf_dir: Path) -> None:
    pages = with_images = 0
    for path in sorted(corpus_pdf_dir.glob("*.pdf")):
        try:
            pdf = pdfium.PdfDocument(path.read_bytes())
        except pdfium.PdfiumError:
            continue
        try:
            for i in range(min(len(pdf), 5)):
                page = pdf[i]
                try:
                    expected = _reference(page)
                    assert _objects_and_image_area(page) == expected, (path.name, i)
                    pages += 1
                    with_images += expected[1] > 0
                finally:
                    page.close()
        finally:
            pdf.close()
    assert pages > 50 and with_images > 10
