"""``kho search`` reads the index where everything else writes it: ``KHO_DATA_DIR`` and
``KHO_ELASTICSEARCH_URL`` as :class:`kho.config.Settings` reads them (trimmed, ``~`` expanded,
refused when empty), not as the raw environment has them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import search_command
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend
from search.query import Principal


class Identity:
    def __init__(self) -> None:
        self.principal = Principal("u", units=("A",))

    def search_identity(self):
        return self.principal, lambda text, total, filters: None

    def shown_hits(self, result):
        return result


def _indexed(data_dir: Path) -> None:
    with EmbeddedBackend(data_dir / "index") as backend:
        backend.index([
            IndexDocument(id="a", version=1, direction="den", title="Quyết định ban hành quy chế",
                          owner_unit="A", ngay_ban_hanh=date(2024, 1, 2)),
        ])


@pytest.mark.parametrize("spelling", ["{dir}  ", "  {dir}", "{dir}\t", "~/kho-data"])
def test_search_opens_the_index_that_settings_name(tmp_path, monkeypatch, spelling):
    home = tmp_path / "home"
    data_dir = home / "kho-data"
    _indexed(data_dir)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KHO_ELASTICSEARCH_URL", raising=False)
    monkeypatch.setenv("KHO_DATA_DIR", spelling.format(dir=data_dir))
    before = sorted(p.name for p in tmp_path.iterdir())
    out = CliRunner().invoke(search_command, ["quy che", "--json"], obj=Identity())
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["total"] == 1  # the index ingest wrote, not a new empty one
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # and no second index made


def test_search_with_an_empty_data_dir_is_refused_and_makes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KHO_ELASTICSEARCH_URL", raising=False)
    monkeypatch.setenv("KHO_DATA_DIR", "")
    out = CliRunner().invoke(search_command, ["quy che", "--json"], obj=Identity())
    assert out.exit_code == 2
    assert json.loads(out.output)["error"]["code"] == "CONFIG_INVALID"
    assert list(tmp_path.iterdir()) == []  # no ./index made in the current folder


def test_search_with_a_blank_elasticsearch_url_uses_the_data_dir(tmp_path, monkeypatch):
    _indexed(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KHO_ELASTICSEARCH_URL", "  ")  # blank means unset, as Settings reads it
    out = CliRunner().invoke(search_command, ["quy che", "--json"], obj=Identity())
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["total"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
