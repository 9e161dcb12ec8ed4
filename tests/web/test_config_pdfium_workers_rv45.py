"""``KHO_TEXT_WORKERS`` and ``KHO_VIEW_WORKERS`` (the pdfium pools' sizes, read by
ingest/text/box.py when a process reads its first PDF) are checked at start-up with every other
setting. Before review rv45 they were in no table: ``abc`` was a ValueError at the first page
image (a 500) or upload (INGEST_STEP_FAILED, a logged traceback), and ``100000`` a pool of that
many processes."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kho.config import Settings, configuration_table
from kho.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def base_env(folder: Path) -> dict[str, str]:
    return {"KHO_DATA_DIR": str(folder / "data"), "KHO_AGENCY_ID": "000.00.18.H40"}


@pytest.mark.parametrize("value", ["abc", "0", "-1", "65", "100000", "１", "1.5", ""])
@pytest.mark.parametrize("name", ["KHO_TEXT_WORKERS", "KHO_VIEW_WORKERS"])
def test_a_bad_pool_size_is_refused_at_start_up_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({**base_env(tmp_path), name: value})
    assert refusal.value.code == "CONFIG_INVALID" and refusal.value.details["variable"] == name
    assert f"{name}=“{value}”" in refusal.value.message and "từ 1 đến 64" in refusal.value.message
    assert unicodedata.is_normalized("NFC", refusal.value.message)


def test_a_good_pool_size_is_taken_and_listed(tmp_path: Path) -> None:
    Settings.from_env({**base_env(tmp_path), "KHO_TEXT_WORKERS": "4", "KHO_VIEW_WORKERS": "64"})
    listed = str(configuration_table())
    assert "KHO_TEXT_WORKERS" in listed and "KHO_VIEW_WORKERS" in listed


def test_the_program_refuses_it_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "register", "list"],
        cwd=ROOT,
        env={**env, **base_env(tmp_path), "KHO_VIEW_WORKERS": "abc"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Lỗi [CONFIG_INVALID]: Biến cấu hình KHO_VIEW_WORKERS=“abc”" in done.stderr
