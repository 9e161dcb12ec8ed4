"""u10: the files a computer writes beside documents by itself (macOS Finder's ``.DS_Store`` and
AppleDouble ``._*``, Windows' ``Thumbs.db`` and ``desktop.ini``) found in a folder given to
``kho ingest`` are listed ``bỏ qua`` [SOURCE_SYSTEM_FILE], never read into Kho and never errors:
a folder of good documents beside them exits 0. Name and first bytes must both be the format's:
a real document bearing such a name keeps the rule of its name (a hidden one SOURCE_HIDDEN, a
visible one is read), and a link is never followed to decide."""

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

DS_STORE = b"\x00\x00\x00\x01Bud1" + b"\x00" * 40
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 40
THUMBS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40
DESKTOP_INI = "\ufeff[.ShellClassInfo]\r\nIconResource=C:\\x.ico,0\r\n".encode("utf-16-le")
SYSTEM = {".DS_Store": DS_STORE, "._a-cong-van.txt": APPLE_DOUBLE, "Thumbs.db": THUMBS,
          "desktop.ini": DESKTOP_INI}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "con").mkdir(parents=True)
    (folder / "a-cong-van.txt").write_text("Công văn số 31 về việc nhận hồ sơ.\n", encoding="utf-8")
    (folder / "con" / "b-to-trinh.txt").write_text("Tờ trình số 32 về việc mua sắm.\n", encoding="utf-8")
    for name, data in SYSTEM.items():
        (folder / ("con" if name == "desktop.ini" else "") / name).write_bytes(data)
    return folder


def _never_read(*contents: bytes) -> None:
    jobs = JobStore(open_repository(Settings.from_env()).store)
    for data in contents:
        assert jobs.find(hashlib.sha256(data).hexdigest()) is None


def test_system_files_beside_documents_are_listed_skipped_not_failed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    report = import_paths([_folder(tmp_path)], settings=Settings.from_env(), workers=1)
    by_name = {Path(i.path).name: i for i in report.items}
    assert {n: by_name[n].state for n in ("a-cong-van.txt", "b-to-trinh.txt")} == {
        "a-cong-van.txt": "xong", "b-to-trinh.txt": "xong"}
    for name in SYSTEM:
        item = by_name.get(name)
        assert item is not None, f"{name} left out of the report: {sorted(by_name)}"
        assert (item.state, item.reason_code, item.record_id, item.job_id) == (
            "bỏ qua", "SOURCE_SYSTEM_FILE", None, None), item
        assert "tệp hệ thống" in (item.reason or "") and name in (item.reason or "")
    assert (report.total, report.done, report.failed, report.system) == (6, 2, 0, 4)
    assert report.to_dict()["system"] == 4
    _never_read(*SYSTEM.values())


def test_kho_ingest_exits_0_for_documents_beside_system_files(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)
    people = make_people(Kho(Settings.from_env(), follow_index=False))
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    took = CliRunner().invoke(main, ["ingest", str(folder), "--workers", "1"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert took.exit_code == 0, printed
    skipped = [ln for ln in printed.splitlines() if ln.startswith("  bỏ qua [SOURCE_SYSTEM_FILE]")]
    assert sorted(name for name in SYSTEM if any(name in ln for ln in skipped)) == sorted(SYSTEM), printed
    assert len(skipped) == 4 and not any(ln.startswith("  lỗi [") for ln in printed.splitlines()), printed
    assert "Xong: 2, lỗi: 0" in printed and "tệp hệ thống bỏ qua: 4" in printed, printed


def test_a_document_bearing_a_system_name_keeps_the_rule_of_its_name(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hidden_doc = "Công văn số 33 lưu nhầm tên ẩn.\n".encode()
    visible_doc = "Công văn số 34 mang tên Thumbs.db.\n".encode()
    (folder / "._cong-van.txt").write_bytes(hidden_doc)  # not AppleDouble: a hidden document
    (folder / ".DS_Store").write_bytes(b"not Finder's")  # not Finder's either (an empty one is: u11)
    (folder / "Thumbs.db").write_bytes(visible_doc)  # not Windows': read as any file (.db refused)
    real = tmp_path / "outside.db"
    real.write_bytes(THUMBS)
    (folder / "desktop.ini").symlink_to(real)  # a link is refused as a link, never followed
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    got = {Path(i.path).name: (i.state, i.reason_code) for i in report.items}
    assert got == {
        "._cong-van.txt": ("lỗi", "SOURCE_HIDDEN"),
        ".DS_Store": ("lỗi", "SOURCE_HIDDEN"),
        "Thumbs.db": ("lỗi", "FILE_FORMAT_NOT_ALLOWED"),
        "desktop.ini": ("lỗi", "SOURCE_SYMLINK"),
    }, got
    assert (report.total, report.failed, report.system) == (4, 4, 0)
    _never_read(hidden_doc)
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(visible_doc).hexdigest()) is not None  # it was read
