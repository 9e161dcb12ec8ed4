"""A full disk gives STORE_FULL, writes nothing half-way and loses nothing already stored."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

from kho.errors import StoreFull
from repository.fsck import fsck
from repository.storage.local import LocalStore


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_store_is_reported_and_nothing_is_lost(small_disk: Path, tmp_path: Path) -> None:
    repo = new_repository(LocalStore(small_disk / "s"), LocalStore(tmp_path / "k"))
    kept = repo.create_document("den", incoming(), pdf_bytes("a", 100_000), "a.pdf", CLERK)
    with pytest.raises(StoreFull) as info:
        repo.create_document("den", incoming(code_number="77"), pdf_bytes("b", 3_000_000), "b.pdf", CLERK)
    assert info.value.code == "STORE_FULL"
    assert "đầy" in info.value.message
    # What was stored is intact; the failed document left no number and no visible record.
    _, data = repo.read_content(kept.record_id, actor=CLERK)
    assert data == pdf_bytes("a", 100_000)
    assert [r.record_id for r in repo.register("den", kept.registration.year, actor=CLERK)] == [
        kept.record_id
    ]  # type: ignore[union-attr]
    report = fsck(repo, repair=True, grace_seconds=0)
    assert {i.kind for i in report.issues} <= {"uncommitted", "stale-claim", "temp-file"}
    assert fsck(repo, grace_seconds=0).clean
