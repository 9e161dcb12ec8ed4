"""``kho verify`` on every corpus sample (the spoofing and broken ones too) and on junk: a
verdict or a Vietnamese error for each file, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verify_cli import run_kho_verify

from ingest.signatures import trustlist


@pytest.fixture(scope="module")
def samples(corpus_pdf_dir: Path) -> list[Path]:
    files = sorted(corpus_pdf_dir.glob("*.pdf"))
    assert any("spoofing" in f.name for f in files)
    return files


def test_every_corpus_sample_gets_a_verdict_and_no_traceback(samples: list[Path], tmp_path: Path) -> None:
    done = run_kho_verify(*map(str, samples), tmp_path=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert done.returncode == 1  # some samples are tampered
    heads = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert [h.split(": ", 1)[0] for h in heads] == [str(s) for s in samples]
    assert all("(" in h and ")" in h for h in heads)  # an indication on every file


def test_json_output_has_one_verdict_per_sample_and_the_spoofing_one_never_passes(
    samples: list[Path], tmp_path: Path
) -> None:
    done = run_kho_verify("--json", *map(str, samples), tmp_path=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    results = {Path(r["file"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert len(results) == len(samples)
    assert all(r["trust_store"] == trustlist.default_store().fingerprint for r in results.values())
    spoof = results["dss__pdf-spoofing-attack.pdf"]["verdict"]
    assert spoof["indication"] != "TOTAL-PASSED" and spoof["sub_indication"]
    assert results["vn-gov__143-qd.signed.pdf"]["verdict"]["indication"] == "TOTAL-PASSED"


def test_junk_and_missing_files_get_vietnamese_reasons(tmp_path: Path, samples: list[Path]) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    text = tmp_path / "note.pdf"
    text.write_text("không phải PDF", encoding="utf-8")
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(samples[0].read_bytes()[:5000])
    done = run_kho_verify(str(empty), str(text), str(cut), str(tmp_path / "absent.pdf"), tmp_path=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 1
    assert "Không đọc được tệp" in done.stdout
    assert "không phải là tài liệu PDF" in done.stdout
    assert done.stdout.count(": ") >= 4
