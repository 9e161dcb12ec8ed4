"""A folder brought in from elsewhere may hold symbolic links: each is refused with its code
(SOURCE_SYMLINK), never followed, and the rest of the folder goes on."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ingest.bulk import import_paths
from ingest.source_files import read_source
from ingest.status import JobStore
from kho.config import Settings
from kho.errors import KhoError
from repository.service import open_repository


def test_a_symlink_in_an_imported_folder_is_refused_not_followed(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    secret = tmp_path / "outside" / "khoa-bi-mat.txt"
    secret.parent.mkdir()
    secret.write_bytes("Khóa bí mật của máy chủ, không phải văn bản của cơ quan.\n".encode())
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.pdf").write_bytes(signed["valid-1"])
    (folder / "cong-van.txt").symlink_to(secret)

    report = import_paths([folder], settings=Settings.from_env(), workers=1)

    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-good.pdf"].state == "xong"
    link = by_name["cong-van.txt"]
    assert (link.state, link.reason_code, link.record_id) == ("lỗi", "SOURCE_SYMLINK", None)
    assert "liên kết" in (link.reason or "") and str(secret) in (link.reason or "")
    assert (report.total, report.done, report.failed) == (2, 1, 1)
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(secret.read_bytes()).hexdigest()) is None  # never read


def test_files_replaced_after_the_folder_was_listed_are_refused_not_read(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    """A batch reads its files long after it listed them: a file swapped meanwhile for a link to
    a secret, a subfolder swapped for a link to another folder, and a FIFO (which would hang a
    plain read) are each refused, and the secret is never read. Before: the link was followed
    and the secret registered as a document; the FIFO hung the import."""
    secret_dir = tmp_path / "outside"
    secret_dir.mkdir()
    secret = secret_dir / "b-cong-van.txt"
    secret.write_bytes("Khóa bí mật của máy chủ, không phải văn bản của cơ quan.\n".encode())
    other = secret_dir / "c-sub"
    other.mkdir()
    (other / "d.txt").write_bytes("Mật khẩu quản trị.\n".encode())
    folder = tmp_path / "in"
    (folder / "c-sub").mkdir(parents=True)
    (folder / "a-good.pdf").write_bytes(signed["valid-1"])
    (folder / "b-cong-van.txt").write_text("Công văn số 1.\n", encoding="utf-8")
    (folder / "c-sub" / "d.txt").write_text("Công văn số 2.\n", encoding="utf-8")
    (folder / "e-bao-cao.txt").write_text("Báo cáo số 3.\n", encoding="utf-8")

    def swap(done: int, total: int, rate: float, item: object) -> None:
        if done != 1:
            return
        (folder / "b-cong-van.txt").unlink()
        (folder / "b-cong-van.txt").symlink_to(secret)
        (folder / "c-sub" / "d.txt").unlink()
        (folder / "c-sub").rmdir()
        (folder / "c-sub").symlink_to(other)
        (folder / "e-bao-cao.txt").unlink()
        os.mkfifo(folder / "e-bao-cao.txt")

    report = import_paths([folder], settings=Settings.from_env(), workers=1, progress=swap)

    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-good.pdf"].state == "xong"
    outcome = {name: (i.state, i.reason_code) for name, i in by_name.items()}
    assert outcome["b-cong-van.txt"] == ("lỗi", "SOURCE_SYMLINK")
    assert outcome["d.txt"] == outcome["e-bao-cao.txt"] == ("lỗi", "SOURCE_CHANGED")
    assert "thay thế" in (by_name["d.txt"].reason or "")
    assert all(i.record_id is None for name, i in by_name.items() if name != "a-good.pdf")
    jobs = JobStore(open_repository(Settings.from_env()).store)
    for read in (secret, other / "d.txt"):
        assert jobs.find(hashlib.sha256(read.read_bytes()).hexdigest()) is None


def test_a_queued_job_does_not_read_a_source_replaced_by_a_link_or_a_fifo(tmp_path: Path) -> None:
    """The store step of a queued job reads its source again: never through a link, never a
    FIFO (a Celery worker would hang on it), as a Vietnamese error with a code."""
    secret = tmp_path / "secret.txt"
    secret.write_text("bí mật", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(secret)
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(KhoError) as info:
        read_source(link)
    assert info.value.code == "SOURCE_SYMLINK" and str(secret) in info.value.message
    with pytest.raises(KhoError) as info:
        read_source(fifo)
    assert info.value.code == "SOURCE_CHANGED"
    assert read_source(secret) == "bí mật".encode()
