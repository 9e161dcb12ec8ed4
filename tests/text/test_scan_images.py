"""A PDF page that is only one upright scan is OCR'd from that scan at its own resolution;
every other page, and every odd or hostile image, is rendered as before. Real corpus pages,
real Tesseract (``vie``)."""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable

import pypdf
import pypdfium2 as pdfium
import pytest
import textdocs as docs
from PIL import Image

from ingest.text import TextSettings, TextSource, extract_text
from ingest.text.pdf import page_image, scan_image

SCAN_194 = docs.CORPUS_PDF / "vn-gov__194-ttg.signed.pdf"  # CCITT G4, 200 dpi
SCAN_19 = docs.CORPUS_PDF / "vn-gov__19-bkhcn.pdf"  # JPEG, 200 dpi
SCAN_100_DPI = docs.CORPUS_PDF / "vn-quangngai__01CT_20250509_154257.pdf"

ON = TextSettings(ocr_scan_images=True)


def _one_page(path, index: int, change: Callable[[pypdf.PageObject], None] | None = None
              ) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(path).pages[index])
    if change is not None:
        change(writer.pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _scan(data: bytes, settings: TextSettings = ON):
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0]
        try:
            return scan_image(page, 1, settings)
        finally:
            page.close()
    finally:
        pdf.close()


def test_a_page_that_is_one_scan_is_read_at_the_scans_own_resolution() -> None:
    scan = _scan(_one_page(SCAN_194, 1))
    assert scan is not None
    assert scan.dpi == 200
    with Image.open(io.BytesIO(scan.data)) as image:
        assert (image.mode, image.size) == ("L", (1668, 2350))
    jpeg = _scan(_one_page(SCAN_19, 1))
    assert jpeg is not None and jpeg.dpi == 200


def test_the_scan_gives_the_rendered_pages_text_on_a_corpus_page() -> None:
    data = _one_page(SCAN_194, 1)
    scanned = extract_text(data, "p2.pdf", settings=ON)
    rendered = extract_text(data, "p2.pdf", settings=TextSettings(ocr_scan_images=False))
    assert scanned.sources == rendered.sources == {TextSource.OCR}
    for text in (scanned.text, rendered.text):
        assert "Bộ Tài chính" in text
        assert "Văn phòng Chính phủ theo dõi, đôn đốc" in text
    similarity = difflib.SequenceMatcher(None, scanned.text, rendered.text, autojunk=False)
    assert similarity.ratio() > 0.97


def _rotate(page: pypdf.PageObject) -> None:
    page.rotate(90)


def _enlarge(page: pypdf.PageObject) -> None:
    """The scan covers two thirds of the page."""
    box = page.mediabox
    page.mediabox = pypdf.generic.RectangleObject(
        [box.left, box.bottom, box.right * 1.5, box.top]
    )


def _stamp(page: pypdf.PageObject) -> None:
    """A second content object (text) drawn over the scan."""
    page.merge_page(pypdf.PdfReader(io.BytesIO(docs.pdf_with_text())).pages[0])


def _garble(page: pypdf.PageObject) -> None:
    """The JPEG's bytes replaced by bytes no decoder reads."""
    for ref in page["/Resources"]["/XObject"].values():
        ref.get_object()._data = b"\xff\xd8\xff\xe0" + b"\x00kho" * 64


@pytest.mark.parametrize(
    ("path", "index", "change", "settings"),
    [
        pytest.param(SCAN_194, 0, None, ON, id="visible-signature-stamp"),
        pytest.param(SCAN_194, 1, _rotate, ON, id="rotated-page"),
        pytest.param(SCAN_194, 1, _enlarge, ON, id="scan-not-covering-the-page"),
        pytest.param(SCAN_194, 1, _stamp, ON, id="text-over-the-scan"),
        pytest.param(SCAN_19, 1, _garble, ON, id="undecodable-image"),
        pytest.param(SCAN_100_DPI, 1, None, ON, id="coarser-than-200-dpi"),
        pytest.param(SCAN_194, 1, None, TextSettings(ocr_scan_images=True, ocr_dpi=150),
                     id="finer-than-ocr-dpi"),
        pytest.param(SCAN_194, 1, None, TextSettings(ocr_scan_images=True,
                                                      max_render_pixels=1_000_000),
                     id="more-pixels-than-the-limit"),
        pytest.param(SCAN_194, 1, None, TextSettings(), id="off-by-default"),
    ],
)
def test_anything_but_a_plain_scan_is_rendered(path, index, change, settings) -> None:
    data = _one_page(path, index, change)
    assert _scan(data, settings) is None
    pdf = pdfium.PdfDocument(data)
    try:
        image, _ = page_image(pdf[0], 1, settings)
    finally:
        pdf.close()
    page = pdfium.PdfDocument(data)[0]
    width, height = page.get_size()
    expected = settings.ocr_dpi
    if width / 72 * expected * height / 72 * expected > settings.max_render_pixels:
        assert image.dpi < expected  # the render's own limit still applies
    else:
        assert image.dpi == expected


def test_an_undecodable_scan_still_gives_a_result_not_an_error() -> None:
    result = extract_text(_one_page(SCAN_19, 1, _garble), "hong.pdf", settings=ON)
    assert result.page_count == 1
    assert result.parts[0].source in (TextSource.OCR, TextSource.NONE)


def test_the_switch_is_read_from_the_environment() -> None:
    assert TextSettings.from_env({}).ocr_scan_images is False
    assert TextSettings.from_env({"KHO_OCR_SCAN_IMAGES": "1"}).ocr_scan_images is True
    assert TextSettings.from_env({"KHO_OCR_SCAN_IMAGES": "no"}).ocr_scan_images is False
