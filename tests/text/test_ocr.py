"""Real Tesseract (``vie``) on real scanned pages of the corpus; words checked by eye on the
rendered pages."""

from __future__ import annotations

import io
import unicodedata

import pypdf
import pypdfium2 as pdfium
import pytest
import textdocs as docs
from PIL import Image

from ingest.text import (
    FileTooManyPages,
    OcrTimeout,
    PageImage,
    TextSettings,
    TextSource,
    extract_text,
    ocr_pages,
)
from ingest.text.ocr import encode_page

SCAN_2_PAGES = docs.CORPUS_PDF / "vn-gov__194-ttg.signed.pdf"  # Công điện 194/CĐ-TTg
SCAN_143 = docs.CORPUS_PDF / "vn-gov__143-qd.signed.pdf"


def _header_png(dpi: int = 200) -> bytes:
    """The top quarter of page 1 of 143/QĐ-UBQGNCT as a PNG file (an image-only input)."""
    pdf = pdfium.PdfDocument(SCAN_143.read_bytes())
    try:
        image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    crop = image.crop((0, 0, image.width, image.height // 4))
    out = io.BytesIO()
    crop.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def test_scanned_government_pdf_is_ocrd_in_vietnamese_on_both_cores() -> None:
    original = SCAN_2_PAGES.read_bytes()
    result = extract_text(original, SCAN_2_PAGES.name, settings=TextSettings(ocr_jobs=2))
    assert result.page_count == 2
    assert [p.source for p in result.parts] == [TextSource.OCR, TextSource.OCR]
    assert result.ocr_language == "vie"
    assert result.language == "vi"
    page1, page2 = (p.text for p in result.parts)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page1
    assert "Độc lập - Tự do - Hạnh phúc" in page1
    assert "CÔNG ĐIỆN" in page1
    assert "Bộ Tài chính" in page2
    assert "Văn phòng Chính phủ theo dõi, đôn đốc" in page2
    assert unicodedata.is_normalized("NFC", result.text)
    assert SCAN_2_PAGES.read_bytes() == original


def test_each_page_records_the_way_its_text_came() -> None:
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(io.BytesIO(docs.pdf_with_text())).pages[0])
    writer.add_page(pypdf.PdfReader(SCAN_2_PAGES).pages[1])
    out = io.BytesIO()
    writer.write(out)
    result = extract_text(out.getvalue(), "ghep.pdf", settings=TextSettings())
    assert [p.source for p in result.parts] == [TextSource.TEXT_LAYER, TextSource.OCR]
    assert result.parts[0].text.splitlines() == list(docs.LINES)
    assert "Bộ Tài chính" in result.parts[1].text
    stored = result.to_dict()
    assert [p["source"] for p in stored["parts"]] == ["text-layer", "ocr"]
    assert type(result).from_dict(stored) == result


def test_image_file_is_ocrd() -> None:
    result = extract_text(_header_png(), "anh-quet.png", settings=TextSettings())
    assert result.parts[0].source is TextSource.OCR
    assert result.page_count == 1
    assert "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" in result.text
    assert "Ban hành Quy chế hoạt động" in result.text


def test_missing_language_model_falls_back_to_english_with_a_warning() -> None:
    result = extract_text(_header_png(), "anh.png", settings=TextSettings(ocr_lang="xyz"))
    assert result.ocr_language == "eng"
    assert [w.code for w in result.warnings] == ["OCR_LANG_FALLBACK"]
    folded = unicodedata.normalize("NFD", result.text).encode("ascii", "ignore").decode()
    assert "CONG HOA XA HOI CHU NGHIA VIET NAM" in folded


def test_ocr_timeout_reports_the_page_and_keeps_the_partial_text() -> None:
    """One page at a time: after a page times out no further page is started."""
    with pytest.raises(OcrTimeout) as info:
        extract_text(SCAN_2_PAGES.read_bytes(), "a.pdf",
                     settings=TextSettings(ocr_page_timeout=0.05, ocr_jobs=1))
    err = info.value
    assert err.code == "OCR_TIMEOUT"
    assert err.details["pages"] == [1]
    assert "giây" in err.message
    assert err.partial is not None
    assert [p.source for p in err.partial.parts] == [TextSource.NONE, TextSource.NONE]
    assert {w.code for w in err.partial.warnings} == {"OCR_TIMEOUT", "OCR_NOT_RUN"}


def test_ocr_timeout_with_pages_in_parallel_reports_every_page_in_flight() -> None:
    """Pages spread over the cores (the default): both pages were running; both time out."""
    with pytest.raises(OcrTimeout) as info:
        extract_text(SCAN_2_PAGES.read_bytes(), "a.pdf",
                     settings=TextSettings(ocr_page_timeout=0.05, ocr_jobs=2))
    err = info.value
    assert err.code == "OCR_TIMEOUT"
    assert err.details["pages"] == [1, 2]
    assert err.partial is not None
    assert [p.source for p in err.partial.parts] == [TextSource.NONE, TextSource.NONE]
    assert {w.code for w in err.partial.warnings} == {"OCR_TIMEOUT"}


def test_too_many_pages_to_ocr_is_refused_before_ocr() -> None:
    with pytest.raises(FileTooManyPages) as info:
        extract_text(SCAN_2_PAGES.read_bytes(), "a.pdf", settings=TextSettings(max_ocr_pages=1))
    assert info.value.details == {"pages": 2, "limit": 1}


def test_ocr_disabled_leaves_scanned_pages_empty_with_a_warning() -> None:
    result = extract_text(SCAN_2_PAGES.read_bytes(), "a.pdf",
                          settings=TextSettings(ocr_enabled=False))
    assert result.sources == {TextSource.NONE}
    assert [w.code for w in result.warnings] == ["OCR_DISABLED"]


def test_ocr_pages_returns_results_in_input_order_with_two_jobs() -> None:
    image = Image.open(io.BytesIO(_header_png(100)))
    pages = [PageImage(n, encode_page(image), 100) for n in (3, 1, 2)]
    results = list(ocr_pages(pages, lang="vie", timeout=60, jobs=2))
    assert [r.number for r in results] == [3, 1, 2]
    assert all(not r.timed_out for r in results)
    assert len({r.text for r in results}) == 1


def test_machine_slots_bound_tesseracts_across_processes_and_free_on_exit(tmp_path) -> None:
    """Two slots: a third holder waits until one is released, also when the first two are
    other processes; a holder that dies (killed) frees its slot."""
    import subprocess
    import sys
    import threading
    import time

    from ingest.text.ocr import OcrSlots

    hold = (
        "import sys, time; from pathlib import Path; from ingest.text.ocr import OcrSlots\n"
        "with OcrSlots(2, Path(sys.argv[1])).hold() as n:\n"
        "    print(n, flush=True); time.sleep(60)\n"
    )
    holders = [subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], stdout=subprocess.PIPE,
                                text=True) for _ in range(2)]
    try:
        assert sorted(int(h.stdout.readline()) for h in holders) == [0, 1]
        got: list[int] = []
        waiter = threading.Thread(
            target=lambda: got.extend([n for n in [OcrSlots(2, tmp_path).hold().__enter__()]])
        )
        waiter.start()
        time.sleep(0.5)
        assert got == []  # both slots are taken by the other processes
        holders[1].kill()
        holders[1].wait()
        waiter.join(10)
        assert len(got) == 1 and got[0] in (0, 1)
    finally:
        for h in holders:
            h.kill()
            h.wait()


def test_extract_text_spreads_pages_over_the_cores_by_default(monkeypatch) -> None:
    settings = TextSettings()
    assert settings.ocr_jobs >= 1 and settings.ocr_jobs == (__import__("os").cpu_count() or 1)
    assert settings.ocr_slots == settings.ocr_jobs
    monkeypatch.setenv("KHO_OCR_SLOTS", "0")
    monkeypatch.setenv("KHO_OCR_JOBS", "3")
    from_env = TextSettings.from_env()
    assert (from_env.ocr_jobs, from_env.ocr_slots) == (3, 0)


def test_page_reaches_tesseract_as_a_private_file_with_the_baseline_text(
    tmp_path, monkeypatch
) -> None:
    """The encoded page gives the same text as ``tesseract <page>.png`` on the same pixels,
    and its temporary file is gone afterwards."""
    import subprocess
    import tempfile

    from ingest.text.ocr import ocr_image, tesseract_command, tesseract_env

    png = tmp_path / "page.png"
    png.write_bytes(_header_png(200))
    with Image.open(png) as image:
        page = PageImage(1, encode_page(image), 200)
    assert page.data.startswith(b"BM")
    raw = subprocess.run(tesseract_command("vie", 200, source=str(png)), env=tesseract_env(),
                         capture_output=True, check=True).stdout.decode()
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    result = ocr_image(page, lang="vie", timeout=60)
    assert result.text == raw
    assert "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" in unicodedata.normalize("NFC", result.text)
    assert list(work.iterdir()) == []


def test_timed_out_page_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    import tempfile

    from ingest.text.ocr import ocr_image

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with Image.open(io.BytesIO(_header_png(200))) as image:
        page = PageImage(1, encode_page(image), 200)
    assert ocr_image(page, lang="vie", timeout=0.05).timed_out
    assert list(tmp_path.iterdir()) == []


def test_bytes_that_are_not_an_image_never_reach_tesseract(tmp_path) -> None:
    """Tesseract reads an input it cannot identify as a list of file names and OCRs each:
    a page whose bytes name a readable image on the server is refused, not OCR'd."""
    from ingest.text import OcrFailed
    from ingest.text.ocr import ocr_image

    secret = tmp_path / "secret.png"
    secret.write_bytes(_header_png(200))
    with pytest.raises(OcrFailed) as info:
        ocr_image(PageImage(7, f"{secret}\n".encode(), 200), lang="vie", timeout=60)
    assert info.value.code == "OCR_FAILED"
    assert info.value.details == {"page": 7, "reason": "not-an-image"}
    assert "trang 7" in info.value.message
