"""Tesseract's memory is bounded (review a21; its time always was, ``KHO_OCR_TIMEOUT``): each
Tesseract runs under ``RLIMIT_AS`` = ``KHO_OCR_MEMORY_MB``. A scan past it ends ``lỗi`` with
FILE_TOO_COMPLEX and a Vietnamese message naming the page, the original kept; the other
documents of the batch are read as before. Real Tesseract (Vietnamese model), real scans of
the corpus, the real bulk import."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from kho_testing import CLERK
from textdocs import CORPUS_PDF, large_text_png, scan_png

from ingest.bulk import import_paths
from ingest.status import JobStore
from ingest.text import TextSettings, extract_text
from ingest.text.errors import FileTooComplex
from kho.config import Settings
from kho.errors import ConfigError
from repository.service import open_repository

BOUND_MB = 300
"""Below what a 144-megapixel page takes (790 MB), above an A4 scan's (under 100 MB)."""


def _huge_png() -> bytes:
    """A 12000 × 12000 page (144 MP, under ``max_image_pixels``) of a few text lines: 200 KB of
    PNG that Tesseract needs 790 MB for."""
    return large_text_png(12000)


def test_a_page_past_the_bound_is_file_too_complex_and_the_next_one_is_read() -> None:
    settings = TextSettings(ocr_memory_mb=BOUND_MB, ocr_jobs=1)
    with pytest.raises(FileTooComplex) as refused:
        extract_text(_huge_png(), "lon.png", settings=settings)
    err = refused.value
    assert err.code == "FILE_TOO_COMPLEX"
    assert err.details["page"] == 1 and err.details["reason"] == "memory"
    assert "trang 1" in err.message and "bộ nhớ" in err.message and f"{BOUND_MB} MB" in err.message
    assert unicodedata.is_normalized("NFC", err.message)
    read = extract_text(scan_png(), "scan.png", settings=settings)  # the same bound: read
    folded = unicodedata.normalize("NFD", read.text).encode("ascii", "ignore").decode().upper()
    assert "CONG HOA XA HOI CHU NGHIA VIET NAM" in folded


@pytest.mark.parametrize("value", ["abc", "0", "127", "-5", "2048MB", "1048577"])
def test_a_bad_memory_setting_is_refused_at_start_with_its_name(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        TextSettings.from_env({"KHO_OCR_MEMORY_MB": value})
    assert refused.value.code == "CONFIG_INVALID"
    assert refused.value.details["variable"] == "KHO_OCR_MEMORY_MB"
    assert "không hợp lệ" in refused.value.message


def test_the_setting_reaches_the_text_step() -> None:
    assert TextSettings.from_env({}).ocr_memory_mb == 2048
    assert TextSettings.from_env({"KHO_OCR_MEMORY_MB": " 512 "}).ocr_memory_mb == 512


def test_a_scan_past_the_bound_fails_alone_and_the_batch_goes_on(
    tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("KHO_OCR_MEMORY_MB", str(BOUND_MB))
    folder = tmp_path / "in"
    folder.mkdir()
    inputs = {
        "a-good.pdf": (signed["valid-1"], "xong"),
        "b-scan.png": (scan_png(), "xong"),
        "c-lon.png": (_huge_png(), "FILE_TOO_COMPLEX"),
        "d-scan.pdf": ((CORPUS_PDF / "vn-gov__194-ttg.signed.pdf").read_bytes(), "xong"),
    }
    for name, (data, _) in inputs.items():
        (folder / name).write_bytes(data)

    report = import_paths([folder], settings=Settings.from_env(), workers=2)

    by_name = {Path(i.path).name: i for i in report.items}
    got = {name: (i.state if i.state == "xong" else i.reason_code) for name, i in by_name.items()}
    assert got == {name: want for name, (_, want) in inputs.items()}
    repo = open_repository(Settings.from_env())
    failed = JobStore(repo.store).get(by_name["c-lon.png"].job_id)
    assert failed.reason and "bộ nhớ" in failed.reason and "trang 1" in failed.reason
    record_id = by_name["c-lon.png"].record_id
    assert record_id is not None  # stored before the text step: kept, unchanged
    _, data = repo.read_content(record_id, actor=CLERK)
    assert data == inputs["c-lon.png"][0]
