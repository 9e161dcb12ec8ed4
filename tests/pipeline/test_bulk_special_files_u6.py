"""A FIFO or a socket (or a device) found while walking a folder for ``kho ingest`` is reported,
not skipped without a word: one ``SOURCE_NOT_FILE`` line each (the message of the file named on
the command line), counted in the total and among the refused files, and never opened (a FIFO
opened for reading would block the walk until someone writes to it)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_fifo_watch import readers_of
from kho_people import make_people

from ingest.bulk import import_paths
from kho.config import Settings
from web.cli import main
from web.context import Kho


def _folder(tmp_path: Path) -> tuple[Path, list[Path], socket.socket]:
    folder = tmp_path / "in"
    (folder / "so-2").mkdir(parents=True)
    (folder / "cong-van.txt").write_text("Công văn số 7 về việc tiếp nhận hồ sơ.\n", encoding="utf-8")
    fifos = [folder / "ong-dan.pdf", folder / "so-2" / "ong-dan-2.txt"]
    for fifo in fifos:
        os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(folder / "o-cam.sock"))
    return folder, fifos, sock


def test_special_files_in_an_imported_folder_are_reported_not_opened(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder, fifos, sock = _folder(tmp_path)
    try:
        with readers_of(fifos) as opened:
            report = import_paths([folder], settings=Settings.from_env(), workers=1)
    finally:
        sock.close()
    assert opened == []  # never opened: the walk did not wait on them
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["cong-van.txt"].state == "xong"
    for name in ("ong-dan.pdf", "ong-dan-2.txt", "o-cam.sock"):
        item = by_name[name]
        assert (item.state, item.reason_code, item.record_id) == ("lỗi", "SOURCE_NOT_FILE", None), item
        assert item.reason == (
            f"“{name}” không phải tệp thông thường (ống dẫn FIFO, thiết bị hoặc socket):"
            " Kho chỉ nhập tệp, không đọc nó."
        )
    assert (report.total, report.done, report.failed) == (4, 1, 3)


def test_kho_ingest_of_a_folder_prints_each_special_file_and_counts_it(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, fifos, sock = _folder(tmp_path)
    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    try:
        with readers_of(fifos) as opened:
            took = CliRunner().invoke(main, ["ingest", str(folder), "--workers", "1"])
    finally:
        sock.close()
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert opened == [] and took.exit_code == 1, printed
    # (``output`` may hold stderr too, as ``printed`` adds it: each line counted once)
    failures = sorted({ln for ln in printed.splitlines() if ln.startswith("  lỗi [")})
    assert len(failures) == 3 and all(ln.startswith("  lỗi [SOURCE_NOT_FILE]") for ln in failures), printed
    for name in ("ong-dan.pdf", "ong-dan-2.txt", "o-cam.sock"):
        assert any(name in ln and "không phải tệp thông thường" in ln for ln in failures), printed
    assert "Xong: 1, lỗi: 3" in printed, printed
