"""One rule for symbolic links, wherever they come from (u8): a link named on the command line
and a link found in a folder are both listed as themselves and refused as ``SOURCE_SYMLINK``,
never followed, whatever they point to (a file, a folder, a FIFO, nothing). Before, a link to a
FIFO, a link to a folder and a dangling link inside a folder were left out without a word (not
in the report, not in the total), and a link named on the command line was followed to its
target (a file this process may read was then imported as the agency's)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_fifo_watch import readers_of
from kho_people import make_people

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository
from web.cli import main
from web.context import Kho

SECRET = "Khóa bí mật của máy chủ, không phải văn bản của cơ quan.\n".encode()


def _outside(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A secret file, a FIFO and a folder holding a file, all outside the import folder."""
    out = tmp_path / "outside"
    (out / "thu-muc").mkdir(parents=True)
    secret = out / "khoa-bi-mat.txt"
    secret.write_bytes(SECRET)
    (out / "thu-muc" / "mat-khau.txt").write_text("Mật khẩu quản trị.\n", encoding="utf-8")
    fifo = out / "ong-dan"
    os.mkfifo(fifo)
    return secret, fifo, out / "thu-muc"


def _never_read(secret: Path) -> None:
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(secret.read_bytes()).hexdigest()) is None
    assert jobs.find(hashlib.sha256("Mật khẩu quản trị.\n".encode()).hexdigest()) is None


LINKS = ("b-toi-ong-dan.pdf", "c-toi-thu-muc", "d-gay.pdf", "e-toi-tep.txt")


def _links(folder: Path, secret: Path, fifo: Path, other: Path) -> list[Path]:
    made = [folder / name for name in LINKS]
    made[0].symlink_to(fifo)
    made[1].symlink_to(other, target_is_directory=True)
    made[2].symlink_to(folder / "khong-co.pdf")
    made[3].symlink_to(secret)
    return made


def _assert_refused_as_links(report: object, names: tuple[str, ...]) -> None:
    by_name = {Path(i.path).name: i for i in report.items}  # type: ignore[attr-defined]
    for name in names:
        item = by_name.get(name)
        assert item is not None, f"{name} left out of the report: {sorted(by_name)}"
        assert (item.state, item.reason_code, item.record_id) == ("lỗi", "SOURCE_SYMLINK", None), item
        assert "liên kết tượng trưng" in (item.reason or "")


def test_every_link_in_an_imported_folder_is_reported_as_a_link_never_followed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    secret, fifo, other = _outside(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-cong-van.txt").write_text("Công văn số 8 về việc nhận hồ sơ.\n", encoding="utf-8")
    _links(folder, secret, fifo, other)

    with readers_of([fifo]) as opened:
        report = import_paths([folder], settings=Settings.from_env(), workers=1)

    assert opened == []
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-cong-van.txt"].state == "xong"
    _assert_refused_as_links(report, LINKS)
    assert "mat-khau.txt" not in by_name  # the linked folder was not walked
    assert (report.total, report.done, report.failed) == (5, 1, 4)
    _never_read(secret)


def test_a_link_named_on_the_command_line_follows_the_same_rule(
    tmp_path: Path, env: dict[str, str]
) -> None:
    secret, fifo, other = _outside(tmp_path)
    here = tmp_path / "named"
    here.mkdir()
    good = here / "a-cong-van.txt"
    good.write_text("Công văn số 9 về việc nhận hồ sơ.\n", encoding="utf-8")
    links = _links(here, secret, fifo, other)

    with readers_of([fifo]) as opened:
        report = import_paths([good, *links], settings=Settings.from_env(), workers=1)

    assert opened == []
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-cong-van.txt"].state == "xong"
    _assert_refused_as_links(report, LINKS)
    assert "mat-khau.txt" not in by_name and "khoa-bi-mat.txt" not in by_name
    assert (report.total, report.done, report.failed) == (5, 1, 4)
    _never_read(secret)


def test_kho_ingest_prints_a_link_to_a_fifo_in_a_folder_and_counts_it(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _secret, fifo, _other = _outside(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-cong-van.txt").write_text("Công văn số 10.\n", encoding="utf-8")
    (folder / "b-toi-ong-dan.pdf").symlink_to(fifo)
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])

    with readers_of([fifo]) as opened:
        took = CliRunner().invoke(main, ["ingest", str(folder), "--workers", "1"])

    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert opened == [] and took.exit_code == 1, printed
    failures = sorted({ln for ln in printed.splitlines() if ln.startswith("  lỗi [")})
    assert len(failures) == 1 and failures[0].startswith("  lỗi [SOURCE_SYMLINK]"), printed
    assert "b-toi-ong-dan.pdf" in failures[0], printed
    assert "Xong: 1, lỗi: 1" in printed, printed
