"""Generated NĐ 30 documents: exact page count and a text layer that extracts exactly."""

from __future__ import annotations

import unicodedata
from datetime import date

import pypdfium2 as pdfium
import pytest

from ingest.pdfgen import OfficialDocument, render_pdf, sample_document
from repository.vocabulary import parse_so_ky_hieu


@pytest.mark.parametrize("pages", [1, 2, 3, 5])
def test_sample_document_fills_exactly_the_requested_pages(pages: int) -> None:
    rendered = render_pdf(sample_document(11, pages))
    assert len(rendered.pages) == pages
    assert len(pdfium.PdfDocument(rendered.data)) == pages


def test_text_layer_extracts_back_exactly_with_diacritics() -> None:
    rendered = render_pdf(sample_document(3, 3))
    pdf = pdfium.PdfDocument(rendered.data)
    for index, page in enumerate(rendered.pages):
        text = pdf[index].get_textpage().get_text_range()
        flat = " ".join(text.split())
        for line in page.texts:
            assert line in flat, (index, line)
    first = " ".join(pdf[0].get_textpage().get_text_range().split())
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "QUYẾT ĐỊNH", "Căn cứ", "ỦY BAN NHÂN DÂN"):
        assert expected in first
    last = " ".join(pdf[2].get_textpage().get_text_range().split())
    assert "Nơi nhận:" in last and "Nguyễn Văn An" in last and "TM. ỦY BAN NHÂN DÂN" in last
    assert unicodedata.is_normalized("NFC", first)


def test_document_parts_follow_nd30_formats() -> None:
    doc = sample_document(42, 1)
    parsed = parse_so_ky_hieu(doc.so_ky_hieu)
    assert parsed is not None and parsed.type_name == "Quyết định"
    assert doc.ngay_thang_nam == "Thử Nghiệm, ngày 05 tháng 3 năm 2026"
    assert doc.trich_yeu.startswith("Về việc ")
    assert all(line.startswith(("Căn cứ", "Theo đề nghị")) for line in doc.can_cu)


def test_day_and_month_get_leading_zeros_as_nd30_requires() -> None:
    doc = OfficialDocument(
        co_quan="BỘ NỘI VỤ", so_ky_hieu="05/BNV-VP", dia_danh="Hà Nội", ngay=date(2026, 2, 7),
        ten_loai="CÔNG VĂN", trich_yeu="V/v thử nghiệm", chuc_vu="BỘ TRƯỞNG",
        nguoi_ky="Phạm Thị Dung",
    )
    assert doc.ngay_thang_nam == "Hà Nội, ngày 07 tháng 02 năm 2026"
    assert OfficialDocument(**{**doc.__dict__, "ngay": date(2026, 11, 21)}).ngay_thang_nam == (
        "Hà Nội, ngày 21 tháng 11 năm 2026"
    )


def test_rendering_is_deterministic_and_varies_with_the_seed() -> None:
    assert render_pdf(sample_document(9, 2)).data == render_pdf(sample_document(9, 2)).data
    assert sample_document(9, 2).body != sample_document(10, 2).body
