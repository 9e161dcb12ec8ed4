"""The by-record index of the audit log: which sequence numbers hold a record's events.

Derived data, never authoritative (the hash chain in the store is; ``verify`` reads the store):
it lets a record's history read that record's own events instead of the whole log. Two kinds
behind one small interface:

* :class:`MemoryRecordIndex`: in the process, built by one scan of the log on first use;
* :class:`SqliteRecordIndex`: a SQLite file beside the other derived data
  (``<data>/audit-index.sqlite``), kept across processes: a fresh process reads a record's
  history without scanning the log. Every process adds the events it appends; reads first catch
  up from :meth:`next_seq` to the head (events other processes wrote). Deleting the file loses
  nothing: the next use rebuilds it by one scan, as does ``kho reindex``.

``next_seq`` only ever moves over a contiguous run of indexed events, so an event whose writer
died before indexing it is picked up by the next catch-up, never skipped.

Each entry also names its *home*: the sequence number of the key of the stored object holding
the event (itself, or the first event of its audit batch), so a fresh process reads an event
inside a batch with one GET, not a listing. Schema 1 (no home) is emptied and rebuilt.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Protocol

from repository.storage.group import start_after_fork

SCHEMA_VERSION = "2"


class RecordIndex(Protocol):
    def next_seq(self) -> int:
        """Every event before this sequence number is indexed."""

    def add(self, entries: Iterable[tuple[str, int, int]], first: int, end: int) -> None:
        """Index ``(record id, seq, home)`` entries read or written for the events ``first`` ≤
        seq < ``end`` (all of them, with or without a record); moves :meth:`next_seq` to ``end``
        when the run joins it."""

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        """The indexed ``(seq, home)`` of a record's events, ascending."""

    def anchor(self) -> str | None:
        """The hash of event 0 the index was built from (None: empty index)."""

    def reset(self, anchor: str | None) -> None:
        """Forget everything (the log is not the one indexed); remember ``anchor``."""


class MemoryRecordIndex:
    """Kept in the process only."""

    def __init__(self) -> None:
        self._seqs: dict[str, dict[int, int]] = {}
        self._next = 0
        self._anchor: str | None = None

    def next_seq(self) -> int:
        return self._next

    def add(self, entries: Iterable[tuple[str, int, int]], first: int, end: int) -> None:
        for record_id, seq, home in entries:
            self._seqs.setdefault(record_id, {})[seq] = home
        if first <= self._next < end:
            self._next = end

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        return sorted(self._seqs.get(record_id, {}).items())

    def anchor(self) -> str | None:
        return self._anchor

    def reset(self, anchor: str | None) -> None:
        self._seqs, self._next, self._anchor = {}, 0, anchor


_EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events(record_id TEXT NOT NULL, seq INTEGER NOT NULL,
  home INTEGER NOT NULL, PRIMARY KEY(record_id, seq)) WITHOUT ROWID"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
{_EVENTS_TABLE};
"""


class SqliteRecordIndex:
    """A SQLite file shared by the processes of one installation (WAL; each write is one
    transaction). An index of another schema version is emptied and rebuilt."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._inherited: list[sqlite3.Connection] = []
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        """In the child of a ``fork`` (``storage.group.start_after_fork``): a new lock, and the
        child opens its own connection (SQLite's must not be used across a fork; the parent's is
        kept unused, never closed here: closing acts on the parent's file locks)."""
        self._lock = threading.Lock()
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            version = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    again = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                    if again is None or again[0] != SCHEMA_VERSION:  # not done by another process
                        conn.execute("DROP TABLE IF EXISTS events")
                        conn.execute("DELETE FROM meta")
                        conn.execute(_EVENTS_TABLE)
                        conn.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
            self._conn = conn
        return self._conn

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def next_seq(self) -> int:
        with self._lock:
            return int(self._meta("next_seq") or 0)

    def add(self, entries: Iterable[tuple[str, int, int]], first: int, end: int) -> None:
        rows = list(entries)
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR IGNORE INTO events(record_id, seq, home) VALUES(?, ?, ?)", rows)
                current = int(self._meta("next_seq") or 0)
                if first <= current < end:
                    db.execute("INSERT OR REPLACE INTO meta VALUES('next_seq', ?)", (str(end),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        with self._lock, closing(
            self._db().execute("SELECT seq, home FROM events WHERE record_id=? ORDER BY seq", (record_id,))
        ) as cursor:
            return [(row[0], row[1]) for row in cursor]

    def anchor(self) -> str | None:
        with self._lock:
            return self._meta("anchor")

    def reset(self, anchor: str | None) -> None:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM events")
                db.execute("DELETE FROM meta WHERE key != 'schema'")
                if anchor is not None:
                    db.execute("INSERT INTO meta VALUES('anchor', ?)", (anchor,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
