"""u9: hidden entries of a folder imported with ``kho ingest`` (a name starting with ".") are
reported, not left out without a word: one ``SOURCE_HIDDEN`` line each (a hidden folder as one
line, not walked), counted in the total and among the files not imported, never read; so a văn
thư can tell from the report that nothing in the folder was lost. A hidden name typed on the
command line is read as any other file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import make_people

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository
from web.cli import main
from web.context import Kho

HIDDEN_TEXT = "Ghi chú ẩn của trình soạn thảo, không phải văn bản.\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "con" / ".git" / "objects").mkdir(parents=True)
    (folder / "a-cong-van.txt").write_text("Công văn số 19 về việc nhận hồ sơ.\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "con" / ".~lock.b.docx#").write_text(HIDDEN_TEXT, encoding="utf-8")
    (folder / "con" / ".git" / "objects" / "ab12").write_text(HIDDEN_TEXT + "1", encoding="utf-8")
    return folder


# u10: Finder's own .DS_Store (its first bytes are "\0\0\0\1Bud1") is a system file, listed
# "bỏ qua" [SOURCE_SYSTEM_FILE] and no longer an error; the other hidden entries are unchanged.
HIDDEN = (".~lock.b.docx#", ".git")


def test_hidden_entries_of_an_imported_folder_are_reported_each_with_its_code(
    tmp_path: Path, env: dict[str, str]
) -> None:
    report = import_paths([_folder(tmp_path)], settings=Settings.from_env(), workers=1)
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-cong-van.txt"].state == "xong"
    for name in HIDDEN:
        item = by_name.get(name)
        assert item is not None, f"{name} left out of the report: {sorted(by_name)}"
        assert (item.state, item.reason_code, item.record_id) == ("lỗi", "SOURCE_HIDDEN", None), item
        assert "ẩn" in (item.reason or "")
    system = by_name[".DS_Store"]
    assert (system.state, system.reason_code, system.record_id) == ("bỏ qua", "SOURCE_SYSTEM_FILE", None)
    assert "ab12" not in by_name  # the hidden folder is one line, not walked
    assert (report.total, report.done, report.failed) == (4, 1, 2)
    jobs = JobStore(open_repository(Settings.from_env()).store)
    for text in (HIDDEN_TEXT, HIDDEN_TEXT + "1"):
        assert jobs.find(hashlib.sha256(text.encode()).hexdigest()) is None  # never read


def test_a_hidden_name_typed_on_the_command_line_is_read(tmp_path: Path, env: dict[str, str]) -> None:
    named = tmp_path / ".cong-van-an.txt"
    named.write_text("Công văn số 20 về việc nhận hồ sơ.\n", encoding="utf-8")
    report = import_paths([named], settings=Settings.from_env(), workers=1)
    assert [(Path(i.path).name, i.state) for i in report.items] == [(".cong-van-an.txt", "xong")]


def test_kho_ingest_prints_each_hidden_entry(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    people = make_people(Kho(Settings.from_env(), follow_index=False))
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    took = CliRunner().invoke(main, ["ingest", str(folder), "--workers", "1"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    failures = sorted({ln for ln in printed.splitlines() if ln.startswith("  lỗi [")})
    assert len(failures) == 2, printed
    for name in HIDDEN:
        assert any(ln.startswith("  lỗi [SOURCE_HIDDEN]") and name in ln for ln in failures), printed
    assert any(ln.startswith("  bỏ qua [SOURCE_SYSTEM_FILE]") and ".DS_Store" in ln
               for ln in printed.splitlines()), printed
    assert "Xong: 1, lỗi: 2" in printed and took.exit_code == 1, printed
