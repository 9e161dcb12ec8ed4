"""A folder named on the command line in an old code page (a share copied from a TCVN3 /
Windows-1258 machine, ``kho ingest /mnt/h\\xf4-s\\xf5``): its files are refused by name, each
with SOURCE_NAME_NOT_UTF8 as a13 refuses such names inside a folder, and the other folders of
the same run are taken. Before: the resume manifest's name was hashed from the roots' text,
which cannot be encoded, and the whole import ended in a UnicodeEncodeError traceback before
any file was looked at."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ingest.bulk import Manifest, import_paths
from ingest.status import JobStore
from kho.config import Settings
from repository.service import open_repository


def test_a_root_folder_named_not_in_utf8_is_refused_by_name_and_the_run_goes_on(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    old = tmp_path / os.fsdecode(b"h\xf4-s\xf5")
    old.mkdir()
    (old / "cong-van.txt").write_text("Công văn số 9.\n", encoding="utf-8")
    good = tmp_path / "moi"
    good.mkdir()
    (good / "a-good.pdf").write_bytes(signed["valid-1"])

    report = import_paths([old, good], settings=Settings.from_env(), workers=1)

    assert (report.total, report.done, report.failed) == (2, 1, 1)
    refused = next(i for i in report.items if i.state == "lỗi")
    assert refused.reason_code == "SOURCE_NAME_NOT_UTF8"
    assert "\\xf4" in refused.path
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    stored = next(i for i in report.items if i.state == "xong")
    assert Path(stored.path).name == "a-good.pdf" and stored.record_id
    jobs = JobStore(open_repository(Settings.from_env()).store)
    assert jobs.find(hashlib.sha256("Công văn số 9.\n".encode()).hexdigest()) is None


def test_the_manifest_of_utf8_roots_keeps_its_name(tmp_path: Path, env: dict[str, str]) -> None:
    """The manifest's file name for roots in UTF-8 is the one earlier releases used (a resume
    after upgrading finds its manifest)."""
    roots = [tmp_path / "hồ-sơ", tmp_path / "b"]
    digest = hashlib.sha256("\n".join(sorted(str(r) for r in roots)).encode()).hexdigest()[:16]
    assert Manifest.default_path(Settings.from_env(), roots).name == f"{digest}.jsonl"
