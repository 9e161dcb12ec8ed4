"""A process killed mid-write leaves a consistent store; fsck cleans what it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, exit_code_in_child, incoming, new_repository, outgoing, pdf_bytes

from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore

ROOT = Path(__file__).resolve().parents[2]


def _two_creations_dying_at(tmp_path: Path, die_at: int, n: int) -> None:  # pragma: no cover - the child
    """In a forked child: two creations on the local folder; the process dies (os._exit: no
    cleanup, like SIGKILL) at its ``die_at``-th store write."""
    writes = [0]

    def count() -> None:
        writes[0] += 1
        if writes[0] == die_at:
            os._exit(137)

    class Dying(LocalStore):
        def put_if_absent(self, key: str, data: bytes) -> Any:
            count()
            return super().put_if_absent(key, data)

        def put(self, key: str, data: bytes) -> Any:
            count()
            return super().put(key, data)

    repo = new_repository(Dying(tmp_path / "s"), Dying(tmp_path / "k"))
    repo.create_document("den", incoming(code_number=str(100 + n)), pdf_bytes(str(n)), "a.pdf", CLERK)
    repo.create_document("di", outgoing(), None, None, CLERK)


def _run_child(tmp_path: Path, die_at: int, n: int) -> int:
    return exit_code_in_child(lambda: _two_creations_dying_at(tmp_path, die_at, n))


def _assert_consistent(repo: Repository) -> None:
    report = fsck(repo, repair=True, grace_seconds=0)
    after = fsck(repo, grace_seconds=0)
    assert after.clean, after.issues
    for series in ("den", "hanh-chinh"):
        for year_dir in (repo.store.root / "objects" / "registers" / repo.agency_id).glob("*"):  # type: ignore[attr-defined]
            numbers = [
                r.registration.number
                for r in repo.register(series, int(year_dir.name), actor=CLERK)
                if r.registration
            ]
            assert numbers == list(range(1, len(numbers) + 1))
    # Every record that readers can see is whole: metadata, number, original.
    for record in repo.records():
        if record.kind in ("den", "di"):
            assert record.registration is not None
        for stored in record.files:
            _, data = repo.read_content(record.record_id, actor=CLERK)
            assert len(data) == stored.size
    assert repo.audit.verify().ok
    del report


def test_death_at_every_write_leaves_a_consistent_store(tmp_path: Path) -> None:
    # Count the writes of one clean run first.
    total_writes = 0
    die_at = 1
    while True:
        code = _run_child(tmp_path, die_at, die_at)
        if code == 0:
            total_writes = die_at - 1
            break
        assert code == 137
        repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
        _assert_consistent(repo)
        die_at += 1
    assert total_writes >= 10  # the two creations really were cut at every step


@pytest.mark.slow
def test_sigkill_during_a_stream_of_writes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests" / "support")!r}]
        from kho_testing import CLERK, incoming, outgoing, new_repository, pdf_bytes
        from repository.storage.local import LocalStore
        repo = new_repository(LocalStore({str(tmp_path / "s")!r}), LocalStore({str(tmp_path / "k")!r}))
        first = n = int(sys.argv[1])  # each round writes new documents (not duplicates of the last)
        while True:
            n += 1
            data = pdf_bytes(str(n), 50_000)
            repo.create_document("den", incoming(code_number=str(1000 + n)), data, "a.pdf", CLERK)
            repo.create_document("di", outgoing(), None, None, CLERK)
            if n == first + 1:
                print("writing", flush=True)
        """
    )
    written = 0
    for round_ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(100_000 * round_)], stdout=subprocess.PIPE
        )
        # Kill mid-stream, not mid-import: under load the child's start-up alone can take
        # longer than any fixed delay, and a kill before the first write tests nothing.
        assert child.stdout is not None and child.stdout.readline() == b"writing\n"
        time.sleep(0.4 + 0.37 * round_)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
        _assert_consistent(repo)
        count = sum(1 for _ in repo.records())
        assert count > written  # every round wrote (before, rounds 2 and 3 died on a duplicate)
        written = count
