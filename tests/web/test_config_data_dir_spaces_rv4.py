"""``KHO_DATA_DIR`` is trimmed like every variable. When the folder *with* the spaces is the one
that exists (``/srv/kho `` made by a script that quoted its spaces), trimming silently opened a
second, empty Kho beside it: refused by name instead. A stray space around a value whose
trimmed folder is the real one is still taken, as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from kho.config import Settings
from kho.errors import ConfigError

AGENCY = {"KHO_AGENCY_ID": "000.00.18.H40"}


@pytest.mark.parametrize("tail", [" ", "  ", "\t"])
def test_a_data_dir_whose_trailing_spaces_are_part_of_the_real_folder_is_refused(
    tmp_path: Path, tail: str
) -> None:
    real = tmp_path / f"kho{tail}"
    real.mkdir()
    (real / "store").mkdir()  # the installation's data
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({"KHO_DATA_DIR": str(real), **AGENCY})
    assert refusal.value.code == "CONFIG_INVALID"
    assert refusal.value.details["variable"] == "KHO_DATA_DIR"
    assert not (tmp_path / "kho").exists()  # no second Kho beside it


def test_a_relative_data_dir_with_a_leading_space_that_exists_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / " kho").mkdir()
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env({"KHO_DATA_DIR": " kho", **AGENCY})
    assert refusal.value.details["variable"] == "KHO_DATA_DIR"


def test_a_stray_space_around_the_real_folder_is_still_trimmed(tmp_path: Path) -> None:
    real = tmp_path / "kho"
    real.mkdir()
    settings = Settings.from_env({"KHO_DATA_DIR": f" {real}  ", **AGENCY})
    assert settings.data_dir == real
