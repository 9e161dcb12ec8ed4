"""A folder brought in from elsewhere may hold symbolic links: each is refused with its code
(SOURCE_SYMLINK), never followed, and the rest of the folder goes on."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.bulk import import_paths
from ingest.status import JobStore
from kho.config import Settings
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
