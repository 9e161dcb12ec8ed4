"""Regression floors on the shared corpus (corpora/meta/records.jsonl, silver labels).

Floors are the accuracies printed by ``bench/eval_metadata.py`` when this test was written,
minus a small margin; a change that lowers a field below its floor fails here.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from ingest.metadata import extract_metadata

ROOT = Path(__file__).resolve().parents[2]
RECORDS = Path(os.environ.get("KHO_SHARED_DIR", ROOT / ".." / "shared")) / "corpora/meta/records.jsonl"

# Measured on the 42 records: so_ky_hieu 36/42, ngay 36/42, co_quan 29/30, loai 34/38,
# trich_yeu fuzzy 19/30, nguoi_ky 13/23 usable labels.
FLOORS = {
    "so_ky_hieu": 0.80,
    "ngay_ban_hanh": 0.80,
    "co_quan_ban_hanh": 0.90,
    "loai_van_ban": 0.84,
    "nguoi_ky": 0.50,
}
TRICH_YEU_FUZZY_FLOOR = 0.56


def _load_eval():
    spec = importlib.util.spec_from_file_location("eval_metadata", ROOT / "bench/eval_metadata.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def scored():
    if not RECORDS.exists():
        pytest.skip(f"corpus not found: {RECORDS}")
    ev = _load_eval()
    records = [json.loads(line) for line in RECORDS.read_text("utf-8").splitlines() if line]
    totals = {f: [0, 0] for f in ev.LABELLED}
    fuzzy = 0
    for record in records:
        result = extract_metadata(record["text"]).to_dict()
        for field in ev.LABELLED:
            pred, label = result[field]["value"], record["labels"].get(field)
            usable, correct = ev.compare(field, pred, label)
            if usable:
                totals[field][0] += 1
                totals[field][1] += correct
                if field == "trich_yeu" and pred and ev.fuzzy_equal(pred, label):
                    fuzzy += 1
    return totals, fuzzy


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_field_accuracy_stays_above_its_floor(scored, field):
    totals, _ = scored
    labels, correct = totals[field]
    assert labels > 0
    assert correct / labels >= FLOORS[field], f"{field}: {correct}/{labels}"


def test_trich_yeu_fuzzy_accuracy_stays_above_its_floor(scored):
    totals, fuzzy = scored
    assert fuzzy / totals["trich_yeu"][0] >= TRICH_YEU_FUZZY_FLOOR


def test_eval_script_prints_every_field_and_exits_zero(capsys):
    if not RECORDS.exists():
        pytest.skip(f"corpus not found: {RECORDS}")
    assert _load_eval().main([str(RECORDS)]) == 0
    out = capsys.readouterr().out
    for field in ("so_ky_hieu", "ngay_ban_hanh", "co_quan_ban_hanh", "loai_van_ban",
                  "trich_yeu", "nguoi_ky", "missing"):
        assert field in out
