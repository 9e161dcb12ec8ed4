"""What a folder brought in from elsewhere may hold besides documents: a file far larger than
any original Kho accepts (sparse, or still growing), and names that are not UTF-8 (an old
machine's TCVN3 / Windows-1258 share). Each is refused with its code, never read whole, and
the rest of the folder goes on."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository

ROOT = Path(__file__).resolve().parents[2]

IMPORT = """
import json, resource, sys
from ingest.bulk import import_paths
from kho.config import Settings
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
report = import_paths([sys.argv[1]], settings=Settings.from_env(), workers=1)
print(json.dumps(report.to_dict(), ensure_ascii=False))
"""


def test_a_file_larger_than_the_size_rule_is_refused_without_reading_it_whole(
    tmp_path: Path, signed: dict[str, bytes], make_env
) -> None:
    """A 4 GB sparse file (nothing on disk, 4 GB to read) in a folder, imported under a 2 GB
    address-space limit with KHO_MAX_FILE_MB=1. Before: read whole into memory before the size
    rule, so the import died with MemoryError (without the limit: 4 GB per worker, the OOM
    killer); now refused as FILE_TOO_LARGE and the good file is stored."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.pdf").write_bytes(signed["valid-1"])
    with open(folder / "b-lon.txt", "wb") as fh:
        fh.truncate(4 * 1024**3)
    env = make_env(tmp_path / "kho", KHO_MAX_FILE_MB="1")
    limit = 2 * 1024**3
    out = subprocess.run(
        [sys.executable, "-c", IMPORT, str(folder), str(limit)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    by_name = {Path(i["path"]).name: i for i in report["items"]}
    assert by_name["a-good.pdf"]["state"] == "xong"
    big = by_name["b-lon.txt"]
    assert (big["state"], big["reason_code"], big["record_id"]) == ("lỗi", "FILE_TOO_LARGE", None)
    assert "vượt giới hạn" in big["reason"]


def test_a_file_growing_past_the_limit_after_the_listing_is_refused(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], monkeypatch
) -> None:
    """A file small when listed that grows past the limit before it is read (a log still being
    written) is refused by the bounded read, not taken whole: no job is made of its bytes.
    Before: read whole, a job opened for it and failed only at the store's size rule."""
    monkeypatch.setenv("KHO_MAX_FILE_MB", "1")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.pdf").write_bytes(signed["valid-1"])
    (folder / "b-nhat-ky.txt").write_text("Nhật ký.\n", encoding="utf-8")

    def grow(done: int, total: int, rate: float, item: object) -> None:
        if done == 1:
            with open(folder / "b-nhat-ky.txt", "ab") as fh:
                fh.write(b"x" * (2 * 1024 * 1024))

    report = import_paths([folder], settings=Settings.from_env(), workers=1, progress=grow)
    by_name = {Path(i.path).name: i for i in report.items}
    assert by_name["a-good.pdf"].state == "xong"
    assert (by_name["b-nhat-ky.txt"].state, by_name["b-nhat-ky.txt"].reason_code) == (
        "lỗi", "FILE_TOO_LARGE"
    )
    grown = hashlib.sha256((folder / "b-nhat-ky.txt").read_bytes()).hexdigest()
    assert JobStore(open_repository(Settings.from_env()).store).find(grown) is None


def test_a_name_that_is_not_utf8_is_refused_and_the_rest_goes_on(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    """A file and a folder named in Windows-1258 bytes (``c\\xf4ng-v\\xe3n``). Before: the job's
    JSON could not be written (UnicodeEncodeError: surrogates not allowed) and the whole import
    ended in a traceback, the good files after it never taken; now each such file is refused as
    SOURCE_NAME_NOT_UTF8 (its name shown with \\xNN), not read, and the good file is stored."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"a-c\xf4ng-v\xe3n.txt")).write_text("Công văn số 1.\n", encoding="utf-8")
    sub = folder / os.fsdecode(b"b-th\xb4 m\xf5c")
    sub.mkdir()
    (sub / "cong-van-2.txt").write_text("Công văn số 2.\n", encoding="utf-8")
    (folder / "c-good.pdf").write_bytes(signed["valid-1"])

    report = import_paths([folder], settings=Settings.from_env(), workers=1)

    assert (report.total, report.done, report.failed) == (3, 1, 2)
    refused = [i for i in report.items if i.state == "lỗi"]
    assert {i.reason_code for i in refused} == {"SOURCE_NAME_NOT_UTF8"}
    for item in refused:
        item.path.encode("utf-8")  # printable, storable: no lone surrogates
        assert "\\x" in item.path and "UTF-8" in (item.reason or "")
        json.dumps(item.to_dict(), ensure_ascii=False).encode("utf-8")
    good = next(i for i in report.items if Path(i.path).name == "c-good.pdf")
    assert good.state == "xong" and good.record_id
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256("Công văn số 1.\n".encode()).hexdigest()) is None


def test_a_file_rewritten_with_its_old_size_and_mtime_is_read_again(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Between two runs, whoever writes the folder rewrites an imported file with other bytes
    of the same length and puts its modification time back. Before: the re-run matched the
    manifest (path, size, mtime), skipped it unread and reported the old record; the new bytes
    never reached Kho. Now the change time (which no one sets) differs: it is read."""
    folder = tmp_path / "in"
    folder.mkdir()
    doc = folder / "cong-van.txt"
    doc.write_text("Công văn số 1 về việc A.\n", encoding="utf-8")
    (folder / "khac.txt").write_text("Công văn số 2.\n", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    first = import_paths([folder], settings=Settings.from_env(), workers=1, manifest_path=manifest)
    assert first.done == 2

    before = os.stat(doc)
    doc.write_text("Công văn số 1 về việc B.\n", encoding="utf-8")  # same length
    os.utime(doc, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (os.stat(doc).st_size, os.stat(doc).st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    again = import_paths([folder], settings=Settings.from_env(), workers=1, manifest_path=manifest)
    by_name = {Path(i.path).name: i for i in again.items}
    assert by_name["khac.txt"].skipped  # untouched: still skipped unread
    assert not by_name["cong-van.txt"].skipped and by_name["cong-van.txt"].state == "xong"
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256(doc.read_bytes()).hexdigest()) is not None


def test_a_manifest_line_that_is_not_an_entry_is_passed_over(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A manifest edited by hand (a number, a list, an object without its key or state): before,
    a KeyError/TypeError traceback ended the import before any file; now such lines are passed
    over like a line cut short, and their files are read again."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cong-van.txt").write_text("Công văn số 1.\n", encoding="utf-8")
    manifest = tmp_path / "m.jsonl"
    import_paths([folder], settings=Settings.from_env(), workers=1, manifest_path=manifest)
    line = json.loads(manifest.read_text(encoding="utf-8").splitlines()[0])
    del line["state"]
    manifest.write_text(
        "1\n[]\n" + json.dumps({"path": "x"}) + "\n" + json.dumps(line) + "\n", encoding="utf-8"
    )
    again = import_paths([folder], settings=Settings.from_env(), workers=1, manifest_path=manifest)
    assert (again.total, again.done, again.skipped) == (1, 1, 0)
