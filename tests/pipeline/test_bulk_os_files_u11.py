"""u11: the rest of what an operating system or Office leaves in a folder given to ``kho ingest``
is ``bỏ qua`` [SOURCE_SYSTEM_FILE] like u10's system files: an empty ``.DS_Store``, Office's
``~$name.docx`` owner files, and the folders macOS writes on a disk (``.Spotlight-V100``,
``.fseventsd``, ``.Trashes``), a folder skipped as a whole. Never a document: a folder with such a
name that is not the OS's, or that holds anything a document could be (a file named with a format
Kho takes, a document mark, a link; in the Trash, any file of a person) keeps its old line
(SOURCE_HIDDEN, an error: rv13's rule), and an owner-file name on a document is read."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import make_people
from kho_testing import pdf_bytes

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository
from web.cli import main
from web.context import Kho

FINDER = b"\x00\x00\x00\x01Bud1" + b"\x00" * 40


def _owner_file(user: str, size: int) -> bytes:
    """Office's owner file as Word (162 bytes) or Excel (165) writes it."""
    ansi = user.encode("cp1258", "replace")
    if size == 162:
        head = bytes([len(user)]) + ansi.ljust(53, b"\x00")
    else:
        head = bytes([len(user)]) + ansi.ljust(54, b" ")
    data = head + bytes([len(user), 0]) + user.encode("utf-16-le")
    return data.ljust(size, b"\x00" if size == 162 else b" ")


def _os_folders(root: Path) -> None:
    store = root / ".Spotlight-V100" / "Store-V2" / "0B1E53A4-52C7-4C1C-9C5B-7E1D5C0F1A2B"
    store.mkdir(parents=True)
    (store / "store.db").write_bytes(b"8tsd" + bytes(range(256)) * 16)
    (store / ".store.db").write_bytes(b"8tsd" + b"\x00" * 512)
    (root / ".Spotlight-V100" / "VolumeConfiguration.plist").write_bytes(
        b"bplist00\xd1\x01\x02" + b"\x00" * 40
    )
    events = root / ".fseventsd"
    events.mkdir()
    (events / "fseventsd-uuid").write_bytes(b"8E2C6F3A-1D4B-4F0E-9A7C-2B5D8E1F4A6C")
    (events / "0000000000a1b2c3").write_bytes(gzip.compress(b"1SLD" + b"/Volumes/USB/a\x00" * 20))
    trash = root / ".Trashes" / "501"
    trash.mkdir(parents=True)
    (trash / ".DS_Store").write_bytes(FINDER)


def _folder(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    folder = tmp_path / "usb"
    (folder / "con").mkdir(parents=True)
    (folder / "a-cong-van.txt").write_text("Công văn số 41 về việc nhận hồ sơ.\n", encoding="utf-8")
    files = {
        ".DS_Store": b"",
        "~$o-cao-quy.docx": _owner_file("Nguyễn Văn An", 162),
        "~$bang-luong.xlsx": _owner_file("van_thu", 165),
    }
    for name, data in files.items():
        (folder / ("con" if name.endswith("xlsx") else "") / name).write_bytes(data)
    _os_folders(folder)
    return folder, files


FOLDERS = (".Spotlight-V100", ".fseventsd", ".Trashes")


def test_os_files_and_folders_are_skipped_not_failed(tmp_path: Path, env: dict[str, str]) -> None:
    folder, files = _folder(tmp_path)
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    got = {str(Path(i.path).relative_to(folder)): (i.state, i.reason_code, i.job_id) for i in report.items}
    skipped = ("bỏ qua", "SOURCE_SYSTEM_FILE", None)
    assert got == {
        "a-cong-van.txt": ("xong", None, got["a-cong-van.txt"][2]),
        ".DS_Store": skipped,
        "~$o-cao-quy.docx": skipped,
        "con/~$bang-luong.xlsx": skipped,
        **dict.fromkeys(FOLDERS, skipped),  # one line each, nothing inside listed
    }, got
    reasons = {Path(i.path).name: i.reason or "" for i in report.items}
    for name in FOLDERS:
        assert f"“{name}” là thư mục hệ thống" in reasons[name], reasons[name]
    assert (
        "là tệp hệ thống" in reasons["~$o-cao-quy.docx"] and "Microsoft Office" in reasons["~$o-cao-quy.docx"]
    )
    assert (report.total, report.done, report.failed, report.system) == (7, 1, 0, 6)
    jobs = JobStore(open_repository(Settings.from_env()).store)
    for data in files.values():
        assert jobs.find(hashlib.sha256(data).hexdigest()) is None


def test_kho_ingest_exits_0_beside_os_files(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = _folder(tmp_path)
    people = make_people(Kho(Settings.from_env(), follow_index=False))
    monkeypatch.setenv("KHO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.setenv("KHO_TOKEN", people.tokens["van_thu"])
    took = CliRunner().invoke(main, ["ingest", str(folder), "--workers", "1"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert took.exit_code == 0, printed
    lines = printed.splitlines()
    skipped = [ln for ln in lines if ln.startswith("  bỏ qua [SOURCE_SYSTEM_FILE]")]
    assert len(skipped) == 6 and not any(ln.startswith("  lỗi [") for ln in lines), printed
    assert "Xong: 1, lỗi: 0" in printed and "tệp hệ thống bỏ qua: 6" in printed, printed


def test_a_document_behind_an_os_name_is_an_error_line_never_a_skip(
    tmp_path: Path, env: dict[str, str]
) -> None:
    pdf = pdf_bytes("u11 behind an OS name")
    cases: dict[str, Path] = {}
    for case in (
        "pdf-in-spotlight",
        "txt-in-fseventsd",
        "mark-in-fseventsd",
        "file-in-trash",
        "link-in-spotlight",
        "not-the-os-s",
        "empty-trash-file",
    ):
        root = tmp_path / case
        root.mkdir()
        _os_folders(root)
        cases[case] = root
    (cases["pdf-in-spotlight"] / ".Spotlight-V100" / "Store-V2" / "quyet-dinh.pdf").write_bytes(pdf)
    (cases["txt-in-fseventsd"] / ".fseventsd" / "to-trinh.txt").write_text(
        "Tờ trình số 7.\n", encoding="utf-8"
    )
    (cases["mark-in-fseventsd"] / ".fseventsd" / "0000000000a1b2c4").write_bytes(b"\x00" * 9 + pdf)
    (cases["file-in-trash"] / ".Trashes" / "501" / "cong-van-da-xoa").write_bytes(b"Cong van so 8\n")
    (cases["link-in-spotlight"] / ".Spotlight-V100" / "Store-V2" / "x").symlink_to(tmp_path / "elsewhere")
    (cases["not-the-os-s"] / ".fseventsd" / "fseventsd-uuid").unlink()  # not the OS's shape
    (cases["empty-trash-file"] / ".Trashes" / "notes").write_bytes(b"")  # not a uid folder
    expected = {
        "pdf-in-spotlight": ".Spotlight-V100",
        "txt-in-fseventsd": ".fseventsd",
        "mark-in-fseventsd": ".fseventsd",
        "file-in-trash": ".Trashes",
        "link-in-spotlight": ".Spotlight-V100",
        "not-the-os-s": ".fseventsd",
        "empty-trash-file": ".Trashes",
    }
    for case, root in cases.items():
        report = import_paths([root], settings=Settings.from_env(), workers=1)
        got = {str(Path(i.path).relative_to(root)): (i.state, i.reason_code) for i in report.items}
        want = {name: ("bỏ qua", "SOURCE_SYSTEM_FILE") for name in FOLDERS}
        want[expected[case]] = ("lỗi", "SOURCE_HIDDEN")
        assert got == want, (case, got)
        assert (report.failed, report.system) == (1, 2), case
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(pdf).hexdigest()) is None  # hidden: listed, never read


def test_an_owner_file_name_on_a_document_is_read(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    doc = ("1" + " Cong van so 9 ve viec luu ten la." * 10).encode()[:161] + b"\n"  # 162 B, byte 0 = 49
    (folder / "~$ghi-chu.txt").write_bytes(doc)
    owner_like = bytearray(_owner_file("van_thu", 162))
    owner_like[60:65] = b"%PDF-"  # an owner file's shape that carries a document mark
    (folder / "~$quyet-dinh.docx").write_bytes(bytes(owner_like))
    report = import_paths([folder], settings=Settings.from_env(), workers=1)
    got = {Path(i.path).name: (i.state, i.reason_code) for i in report.items}
    assert got["~$ghi-chu.txt"] == ("xong", None), got
    assert got["~$quyet-dinh.docx"][0] == "lỗi" and report.system == 0, got
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(doc).hexdigest()) is not None
