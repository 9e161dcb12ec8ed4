"""A ``fork`` child of a process that writes records can write at once (``storage.group``'s one
fork hook).

A child has only the thread that forked: a lock another thread held at that instant is held for
ever in the child, and the pool threads that were to finish a :class:`Settling`'s directory
syncs are gone. Each test forks for real while another thread of the parent holds one of the
write path's locks (the audit log's, the key ring's, the registers') or while a
:class:`Settling` has a sync still running; the child must create a registered document within a
time limit (and, for the Settling, be told at once that it cannot wait for the parent's syncs).

Where a test depends on whether a group's syncs run on the pool or in the writer's thread, it
pins that (``storage.overlap.ALWAYS``, ``NEVER``): left to the store, it follows the disk's
fsync times and the idle cores of the moment (m51: on a fast disk the import test's child never
took the pool path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_testing import CLERK, held_by_another_thread, in_child, incoming, new_repository

from kho.errors import StoreUnavailable
from repository.records import Repository
from repository.storage.durability import Durability
from repository.storage.group import (
    FORK_SYNC_UNKNOWN,
    POOL_MODULES,
    NewObject,
    Settling,
    write_group,
    written,
)
from repository.storage.local import LocalStore
from repository.storage.overlap import ALWAYS

CHILD_LIMIT_S = 60.0
"""Generous for a loaded machine: the child writes one record on a local folder."""


def _in_child(work: Callable[[], None]) -> str:
    return in_child(work, CHILD_LIMIT_S)


def _create(repo: Repository, number: str) -> Callable[[], None]:
    def work() -> None:
        content = b"%PDF-1.4 child " + number.encode()
        repo.create_document("den", incoming(code_number=number), content, "a.pdf", CLERK)

    return work


@pytest.mark.parametrize("owner", ["audit", "keys", "registers"])
def test_a_child_forked_while_another_thread_holds_a_write_lock_writes_a_record(
    tmp_path: Path, owner: str
) -> None:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    _create(repo, "1")()  # the parent has written: its log knows its head, its pools run
    with held_by_another_thread(getattr(repo, owner)._lock, CHILD_LIMIT_S):
        report = _in_child(_create(repo, "2"))
    assert report == "ok"
    numbers = [entry.number for entry in repo.registers.all_entries()]
    assert numbers == [1, 2]
    assert repo.audit.verify().ok


class _HeldSync(Durability):
    """Holds every directory sync under ``held`` until released (a slow disk)."""

    def __init__(self) -> None:
        self.held: str | None = None
        self.holding = threading.Event()
        self.holder = ""
        """The name of the thread that met the held sync."""
        self.release = threading.Event()

    def directory(self, path: Path) -> None:
        if self.held is not None and self.held in str(path):
            self.holder = threading.current_thread().name
            self.holding.set()
            self.release.wait(CHILD_LIMIT_S * 2)
        super().directory(path)


def test_a_child_forked_while_a_settling_runs_is_refused_at_once_and_writes(tmp_path: Path) -> None:
    rec = _HeldSync()
    # The group's two directory syncs go to the pool (slow syncs, pinned): in the writer's
    # thread, the held sync would hold the test itself, not a thread the child lacks.
    store = LocalStore(tmp_path / "s", durability=rec, overlap=ALWAYS)
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    _create(repo, "1")()
    settling = Settling()
    rec.held = "/objects/held/"
    outcomes = write_group(
        [NewObject(store, "held/a/one", b"1"), NewObject(store, "held/b/two", b"2")], settling=settling
    )
    assert all(written(o) for o in outcomes)
    assert rec.holding.wait(10)
    assert rec.holder.startswith("kho-group-small"), rec.holder  # a pool thread of the parent

    def work() -> None:
        rec.held = None  # the child's own syncs are not held
        with pytest.raises(StoreUnavailable) as refused:
            settling.wait()
        # A code of its own: the store is reachable, only the parent's outcome is unknown here.
        assert refused.value.code == FORK_SYNC_UNKNOWN != StoreUnavailable.code
        assert "Tiến trình con (fork)" in refused.value.message
        settling.wait()  # refused once: nothing is left pending
        _create(repo, "2")()

    try:
        report = _in_child(work)
    finally:
        rec.release.set()
        settling.wait()  # the parent's own wait ends normally
    assert report == "ok"
    assert [entry.number for entry in repo.registers.all_entries()] == [1, 2]


_IMPORTING_AT_FORK = r"""
import json, os, signal, sys, threading, time
from pathlib import Path
from kho_testing import CLERK, incoming, new_repository
from repository.storage.local import LocalStore
from repository.storage.overlap import ALWAYS, NEVER

root, module, limit = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
policy = {"pool": ALWAYS, "inline": NEVER}[sys.argv[5]]  # where the child's groups run
repo = new_repository(LocalStore(root / "s", overlap=policy), LocalStore(root / "k", overlap=policy))
# (nothing written yet)
if sys.argv[4] == "pools":
    import concurrent.futures.thread  # as a process that has made its pools
inside = threading.Event()


class SlowFinder:
    # Another thread's import of a module the write path imports lazily, caught half-way (its
    # import lock held) when the main thread forks.
    def find_spec(self, name, path=None, target=None):
        if name == module and threading.current_thread().name == "importer":
            inside.set()
            time.sleep(2)
        return None


sys.meta_path.insert(0, SlowFinder())
threading.Thread(target=__import__, args=(module,), name="importer").start()
assert inside.wait(30)
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    signal.alarm(limit)  # a child stuck on the import lock is killed (SIGALRM)
    before = set(sys.modules)
    repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4 x", "a.pdf", CLERK)
    imported = sorted(set(sys.modules) - before)
    from repository.storage.group import pool_running  # (loaded: no import)
    os.write(write_end, json.dumps({"imported": imported, "pool": pool_running()}).encode())
    os._exit(0)
os.close(write_end)
_, status = os.waitpid(pid, 0)
report = os.read(read_end, 65536).decode()
print(json.dumps({"status": status, **(json.loads(report) if report else {})}))
"""


@pytest.mark.parametrize(
    ("module", "pools", "groups", "imports"),
    [
        pytest.param("repository.anchor", "pools", "pool", [], id="anchor-pools-pool"),
        pytest.param("cryptography.hazmat.primitives.keywrap", "pools", "pool", [], id="keywrap-pools-pool"),
        pytest.param("repository.anchor", "none", "pool", sorted(POOL_MODULES), id="anchor-none-pool"),
        pytest.param("repository.anchor", "none", "inline", [], id="anchor-none-inline"),
    ],
)
def test_a_child_forked_while_another_thread_imports_a_write_path_module_writes_a_record(
    tmp_path: Path, module: str, pools: str, groups: str, imports: list[str]
) -> None:
    """A fresh process (nothing written yet) forks while another thread is half-way through
    importing a module that the write path imports lazily: the child inherits that module's
    import lock held by a thread it does not have. The child still creates a record. In a
    process that has its pools' modules, the child needs no import of its own for it (every
    other lazy import of the write path was finished before the fork); in one that has not,
    exactly those, when its groups go to the pool, and none when they run in the writer's
    thread (pinned both ways: left to the store, the path follows the disk's fsync times)."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "tests" / "support")])}
    limit = str(int(CHILD_LIMIT_S) // 3)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTING_AT_FORK, str(tmp_path), module, limit, pools, groups],
        env=env, capture_output=True, text=True, timeout=CHILD_LIMIT_S * 2, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0, (result, done.stderr[-2000:])
    assert result["pool"] == (groups == "pool"), result  # the child's groups went where pinned
    assert result["imported"] == imports, result
    assert "release unlocked lock" not in done.stderr  # the pools' own fork hooks stay balanced
