"""A rebuild's commit (the last step of ``kho reindex``) while another process keeps the staging
index open (review rv8, found not fixed): a web or Celery worker that indexed a document during
the rebuild wrote the staging index too (:meth:`SearchBackend.index`) and keeps its connection.
The commit was refused with SQLite's raw ``database is locked`` (``PRAGMA journal_mode=DELETE``
on the staging file); it must go through, the worker's document must be searchable afterwards in
both processes, and the worker's later writes must reach the new live index.

The worker is a real process (its own SQLite connections, locks, ``-wal``/``-shm`` mappings)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend, _EmbeddedRebuild
from search.query import Principal, Query

EVERYONE = Principal("kt1", everything=True)
ROOT = Path(__file__).resolve().parents[2]

WORKER = r"""
import sys
from datetime import date
from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend
from search.query import Principal, Query

def doc(n, word):
    return IndexDocument(
        id=f"doc-{n:06d}", version=1, direction="den", owner_unit="UNIT-A",
        ngay_ban_hanh=date(2024, 1, 1), title=f"Công văn số {n}", so_ky_hieu=f"{n}/UBND-VP",
        text=f"quyết định số {n} {word}",
    )

backend = EmbeddedBackend(sys.argv[1])
everyone = Principal("kt1", everything=True)
for line in sys.stdin:
    command, *arg = line.split()
    if command == "index":
        backend.index([doc(int(arg[0]), arg[1])])
        print("indexed", flush=True)
    elif command == "search":
        print(backend.search(Query(principal=everyone, terms=(arg[0],))).total, flush=True)
    elif command == "quit":
        break
backend.close()
print("closed", flush=True)
"""


def _doc(n: int, word: str = "") -> IndexDocument:
    return IndexDocument(
        id=f"doc-{n:06d}", version=1, direction="den", owner_unit="UNIT-A",
        ngay_ban_hanh=date(2024, 1, 1), title=f"Công văn số {n}", so_ky_hieu=f"{n}/UBND-VP",
        text=f"quyết định số {n} {word}",
    )


class _Worker:
    def __init__(self, where: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(where)], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer, f"the worker died on {line!r} (exit {self.proc.poll()})"
        return answer

    def quit(self) -> None:
        assert self.ask("quit") == "closed"
        assert self.proc.wait(30) == 0


def _total(backend: EmbeddedBackend, word: str) -> int:
    return backend.search(Query(principal=EVERYONE, terms=(word,))).total


def test_the_commit_goes_through_while_a_worker_process_holds_the_staging_index(
    tmp_path: Path,
) -> None:
    where = tmp_path / "index"
    reindexing = EmbeddedBackend(where)
    docs = [_doc(n) for n in range(20)]
    reindexing.index(docs)
    worker = _Worker(where)
    try:
        rebuild = reindexing.begin_rebuild()
        rebuild.index(docs)
        # the worker indexes during the rebuild: it opens the staging index and keeps it
        assert worker.ask("index 100 trongkhidung") == "indexed"
        assert worker.ask("search trongkhidung") == "1"

        rebuild.commit()  # refused with sqlite3.OperationalError: database is locked before s11

        assert not reindexing.staging_path.exists()
        assert _total(reindexing, "trongkhidung") == 1  # staged by the worker: not lost
        assert _total(reindexing, "quyết") == 21
        assert worker.ask("search trongkhidung") == "1"  # the worker reads the new live index
        assert worker.ask("search quyết") == "21"
        # the worker's next write reaches the new live index (not the old staging file)
        assert worker.ask("index 101 saukhidung") == "indexed"
        assert _total(reindexing, "saukhidung") == 1
        assert _total(reindexing, "quyết") == 22
        worker.quit()  # its connection to the old staging file closes: the live one is unharmed
    finally:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()
    reindexing.close()

    after = EmbeddedBackend(where)
    try:
        assert _total(after, "quyết") == 22
        assert _total(after, "trongkhidung") == 1 and _total(after, "saukhidung") == 1
    finally:
        after.close()
    with sqlite3.connect(where / "search.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(where.glob("search.sqlite3.rebuild*-wal"))
    assert not list(where.glob("search.sqlite3.swap-*"))


def test_a_write_that_waits_for_the_commit_reaches_the_new_live_index(tmp_path: Path) -> None:
    """Another process's write blocked by the commit (which holds the staging index's write
    lock while it copies and renames) finds the staging file gone and writes the new live
    index: nothing written during the rebuild is lost."""
    where = tmp_path / "index"
    reindexing, web = EmbeddedBackend(where), EmbeddedBackend(where)
    docs = [_doc(n) for n in range(20)]
    reindexing.index(docs)
    rebuild = reindexing.begin_rebuild()
    rebuild.index(docs)
    web.index([_doc(100, "truockhithay")])  # the web backend holds the staging index now
    assert isinstance(rebuild, _EmbeddedRebuild)
    copy = rebuild._durable_copy
    writes: list[threading.Thread] = []

    def copy_while_a_write_waits() -> Path:
        thread = threading.Thread(target=web.index, args=([_doc(101, "trongkhithay")],))
        thread.start()
        writes.append(thread)
        thread.join(0.5)
        assert thread.is_alive()  # it waits for the staging index's write lock
        return copy()

    rebuild._durable_copy = copy_while_a_write_waits  # type: ignore[method-assign]
    rebuild.commit()
    writes[0].join(30)
    assert not writes[0].is_alive()
    for backend in (reindexing, web):
        assert _total(backend, "truockhithay") == 1
        assert _total(backend, "trongkhithay") == 1
        assert _total(backend, "quyết") == 22
    web.close()
    reindexing.close()


HOLD_PURGE_LOCK = r"""
import fcntl, sys
with open(sys.argv[1], "a+b") as handle:
    fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # what EmbeddedBackend.purge_deleted holds
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_commit_during_another_process_s_purge_is_a_clear_refusal_and_resumes(
    tmp_path: Path,
) -> None:
    where = tmp_path / "index"
    reindexing = EmbeddedBackend(where)
    docs = [_doc(n) for n in range(20)]
    reindexing.index(docs[:10])
    rebuild = reindexing.begin_rebuild()
    rebuild.index(docs)
    purge = subprocess.Popen(
        [sys.executable, "-c", HOLD_PURGE_LOCK, str(reindexing.lock_path)], text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert purge.stdout is not None and purge.stdout.readline().strip() == "held"
        try:
            rebuild.commit()
        except StoreUnavailable as refused:
            assert refused.code == "SEARCH_INDEX_UNAVAILABLE"
            assert "kho reindex" in refused.message and "xóa hẳn" in refused.message
        else:
            raise AssertionError("the commit swapped in a staging index a purge had not purged")
        assert reindexing.staging_path.exists()  # kept: the next run resumes it
        assert _total(reindexing, "quyết") == 10
    finally:
        purge.communicate("\n", timeout=30)
    resumed = reindexing.begin_rebuild()
    assert dict(resumed.ids_and_versions()) == {d.id: 1 for d in docs}
    resumed.commit()
    assert _total(reindexing, "quyết") == 20
    reindexing.close()
