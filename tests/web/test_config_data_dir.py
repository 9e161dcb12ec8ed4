"""``KHO_DATA_DIR`` set but empty, or not UTF-8: refused by name at start-up. Before, an empty
value was ``Path("")``, the current folder: every command opened (and wrote: ``store/``,
``keys/``, the audit log) a second, empty Kho wherever it was started, and said nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kho.config import Settings
from kho.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value", ["", "   ", os.fsdecode(b"/srv/kho-d\xf5-li\xea\xf5u"), "a\nb"])
def test_a_data_dir_that_is_empty_or_not_text_is_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({"KHO_DATA_DIR": value, "KHO_AGENCY_ID": "000.00.18.H40"})
    assert refusal.value.code == "CONFIG_INVALID"
    assert refusal.value.details["variable"] == "KHO_DATA_DIR"
    assert "KHO_DATA_DIR" in refusal.value.message
    refusal.value.message.encode("utf-8")  # printable: no lone surrogates
    assert unicodedata.is_normalized("NFC", refusal.value.message)


def test_the_program_with_an_empty_data_dir_writes_nothing_where_it_runs(tmp_path: Path) -> None:
    env = {**os.environ, "KHO_DATA_DIR": "", "KHO_AGENCY_ID": "000.00.18.H40", "KHO_TOKEN": "",
           "PYTHONPATH": str(ROOT)}
    env.pop("KHO_STORE_URL", None)
    env.pop("KHO_KEYSTORE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "status"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "CONFIG_INVALID" in done.stderr and "KHO_DATA_DIR" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no store/, keys/ made here
