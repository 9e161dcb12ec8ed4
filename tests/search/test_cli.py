"""``kho search`` on the command line: same query path, permissions, JSON, clear errors."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from search.cli import search_command
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend
from search.query import Principal


class Identity:
    """What ``kho`` hands the search command: who searches, and where the search is audited."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.audited: list[tuple[str, int]] = []

    def search_identity(self):
        return self.principal, lambda text, total, filters: self.audited.append((text, total))

    def shown_hits(self, result):
        return result  # no store here: the index is the whole truth of these tests


UNIT_A = Identity(Principal("u", units=("A",)))


def _runner(tmp_path, monkeypatch) -> CliRunner:
    monkeypatch.delenv("KHO_ELASTICSEARCH_URL", raising=False)
    monkeypatch.setenv("KHO_DATA_DIR", str(tmp_path))
    with EmbeddedBackend(tmp_path / "index") as backend:
        backend.index(
            [
                IndexDocument(
                    id="a",
                    version=1,
                    direction="den",
                    title="Quyết định ban hành quy chế",
                    so_ky_hieu="123/QĐ-UBND",
                    owner_unit="A",
                    ngay_ban_hanh=date(2024, 1, 2),
                    text="Ban hành quy chế văn bản điện tử.",
                ),
                IndexDocument(
                    id="b", version=1, direction="den", title="Quy chế của đơn vị B", owner_unit="B"
                ),
            ]
        )
    return CliRunner()


def test_json_output_obeys_permissions(tmp_path, monkeypatch):
    runner = _runner(tmp_path, monkeypatch)
    who = Identity(Principal("u", units=("A",)))
    out = runner.invoke(search_command, ["quy", "che", "--json"], obj=who)
    assert out.exit_code == 0, out.output
    assert who.audited == [("quy che", 1)]
    data = json.loads(out.output)
    assert [h["id"] for h in data["hits"]] == ["a"]
    assert data["total"] == 1
    assert data["hits"][0]["ngay_ban_hanh"] == "2024-01-02"
    assert any("«quy chế»" in h["marked"] or "«quy»" in h["marked"] for h in data["hits"][0]["highlights"])
    both = runner.invoke(
        search_command, ["quy che", "--json"], obj=Identity(Principal("k", units=("A", "B")))
    )
    assert json.loads(both.output)["total"] == 2
    nobody = runner.invoke(search_command, ["quy che", "--json"], obj=Identity(Principal("qt")))
    assert json.loads(nobody.output)["total"] == 0


def test_text_output_and_so_ky_hieu(tmp_path, monkeypatch):
    runner = _runner(tmp_path, monkeypatch)
    out = runner.invoke(search_command, ["123/qd-ubnd"], obj=UNIT_A)
    assert out.exit_code == 0
    assert "1 kết quả" in out.output and "123/QĐ-UBND" in out.output


def test_bad_date_is_a_vietnamese_error_with_code(tmp_path, monkeypatch):
    runner = _runner(tmp_path, monkeypatch)
    out = runner.invoke(search_command, ["x", "--ban-hanh-tu", "30/02/2024", "--json"], obj=UNIT_A)
    assert out.exit_code == 2
    assert json.loads(out.output)["error"]["code"] == "SEARCH_DATE_INVALID"
