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

**Hold events** (schema 4): the entries of the events that place or release a hold
(:data:`HOLD_EVENT_ACTIONS`) are also kept apart, so that every change a hold blocks can read
the holds a record's history placed (a handful of events) instead of its whole history
(thousands of views): review z3 (a hold object deleted from the store is not a release). An
index of schema 3 is emptied and rebuilt by one scan of the log, so holds placed before are
kept.

**Head** (schema 5): the position and hash of the last event indexed (the one before
:meth:`~RecordIndex.next_seq`), so that a reader finds by itself an index built from another
timeline of the log (a store put back to an older copy and written on, or a cut tail
acknowledged and written past): the witness names that position with another hash, or the event
after it does not chain to it (review rv23). The anchor (event 0's hash) alone did not see it:
the index kept the entries of events that are no longer in the log, skipped the positions the
new events took (their holds unseen), and its secrecy map kept what the lost versions said. An
index of schema 4 is emptied and rebuilt by one scan, so every index has a head.

**Newest object versions named** (schema 6, review s18): for each account, the highest version
number an event names (``details.object`` ``accounts/<name>/v<n>``; Kho writes a version before
its events, :meth:`repository.audit.AuditLog.append_many` ``before``). The account service
refuses an account whose newest stored version is below it (``ACCOUNT_ROLLED_BACK``): its newest
version(s) were deleted from the store (a rollback of its ended tokens, lock or password, which
no seal can tell). The file lives beside the derived data, outside the store, and is rebuilt from
the log like the rest. An index of schema 5 is emptied and rebuilt by one scan.

Schema 7 (review rv44): the same table, filled only from events a reader may act on
(:meth:`repository.audit.AuditLog.trusted`): schema 6 also took the number from an unsealed
event a writer of the store appended after sealed ones, which made a genuine account refused.
An index of schema 6 may hold such a number, so it is emptied and rebuilt by one scan.
Schema 8 (review s20): units too (``units/<id>/v<n>``), refused as ``UNIT_ROLLED_BACK`` where
the unit tree is read (:meth:`repository.accounts.AccountService.units`); an index of schema 7
has no unit rows, so it is emptied and rebuilt by one scan.

**Secrecy map** (schema 3): for each record, the secrecy level of one stored version of it, so
that the whole log can be shown to a kiểm toán viên below the highest clearance without loading
every record it names (``Repository.audit_events``). A record version never changes once
written, so ``(version, secrecy)`` is a fact; what can go stale is only *which* version is the
newest. Each row therefore also keeps ``pending``: the highest version announced as written
(by the writer, before it stores the version: :meth:`SqliteRecordIndex.expect_versions`; and
by every event read or appended that names a record version, so writers in other processes
count too). A row is *settled*, and its secrecy used, only while ``pending`` is not above its
version; any other record is loaded from the store and its version noted
(:meth:`SqliteRecordIndex.note_secrecy`). The map never decides alone that an event may be
shown: when in doubt, the record itself is read. :class:`MemoryRecordIndex` keeps no map (a
process cannot know what another one wrote), so every record is loaded there.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Protocol, TypeVar

from repository.storage.group import start_after_fork

SCHEMA_VERSION = "8"

HOLD_EVENT_ACTIONS: frozenset[str] = frozenset({"hold:place", "recall:place", "hold:release"})
"""Events that place a hold or a recall freeze on their record, or release a hold
(``repository.records.HOLD_PLACED`` and ``hold:release``): indexed apart (see the module)."""


_SQLITE_INT = range(-(2**63), 2**63)
_Row = TypeVar("_Row", bound=tuple[object, ...])


def _storable(rows: Iterable[_Row]) -> list[_Row]:
    """The rows whose integers SQLite can hold. An event read from the log names the numbers it
    was stored with; one planted in the store past the log's end with ``"seq": 2**64`` (no Kho
    writes such a number: positions have 12 digits) made every catch-up, hence every record's
    history, fail with OverflowError (review rv19). The index is derived: such an entry is left
    out (``verify`` names the event)."""
    return [row for row in rows if all(not isinstance(v, int) or v in _SQLITE_INT for v in row)]


def entry_bytes(seq: int, home: int, record_id: str) -> bytes:
    """One index entry as :meth:`SqliteRecordIndex.digests` hashes it; ``kho fsck`` hashes the
    log's events the same way, in the same (sequence) order, to find an index edited by hand."""
    return f"{seq}\x1f{home}\x1f{record_id}\n".encode()


class RecordIndex(Protocol):
    def next_seq(self) -> int:
        """Every event before this sequence number is indexed."""

    def add(
        self,
        entries: Iterable[tuple[str, int, int]],
        first: int,
        end: int,
        versions: Iterable[tuple[str, int]] = (),
        holds: Iterable[tuple[str, int, int]] = (),
        last: tuple[int, str] | None = None,
        named: Iterable[tuple[str, int]] = (),
    ) -> None:
        """Index ``(record id, seq, home)`` entries read or written for the events ``first`` ≤
        seq < ``end`` (all of them, with or without a record); moves :meth:`next_seq` to ``end``
        when the run joins it. ``versions``: the ``(record id, version)`` those events name
        (:meth:`expect_versions`). ``holds``: the entries among them of hold events
        (:data:`HOLD_EVENT_ACTIONS`). ``last``: the position and hash of the run's last event
        read, kept as :meth:`head` when it is the event before ``end``. ``named``: the
        ``(object, version number)`` of the account versions those events name (the module)."""

    def newest_named(self, obj: str) -> int | None:
        """The highest version number of ``obj`` (``accounts/<name>``) an indexed event names."""

    def named_under(self, prefix: str) -> dict[str, int]:
        """:meth:`newest_named` of every object whose name starts with ``prefix``."""

    def head(self) -> tuple[int, str] | None:
        """The position and hash of the event before :meth:`next_seq`, as indexed (None: not
        known, e.g. that position held no readable event)."""

    def expect_versions(self, versions: Iterable[tuple[str, int]]) -> None:
        """Versions of records written (or about to be): the secrecy noted for an older version
        is not used any more until a version at least as new is noted."""

    def note_secrecy(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """``(record id, version, secrecy)`` read from the store."""

    def secrecy(self, record_ids: Iterable[str]) -> dict[str, int]:
        """The settled secrecy levels of those of ``record_ids`` the map knows (see the module)."""

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        """The indexed ``(seq, home)`` of a record's events, ascending."""

    def hold_seqs(self, record_id: str) -> list[tuple[int, int]]:
        """The indexed ``(seq, home)`` of a record's hold events, ascending."""

    def hold_records(self) -> list[str]:
        """Every record with an indexed hold event (a few: holds are rare)."""

    def anchor(self) -> str | None:
        """The hash of event 0 the index was built from (None: empty index)."""

    def reset(self, anchor: str | None, *, keep_named: bool = False) -> None:
        """Forget everything (the log is not the one indexed); remember ``anchor``.
        ``keep_named``: but the account versions named (review rv44): a log found shorter than
        indexed, or of another timeline, may be a store put back to an older copy or a writer
        of the store who cut the events naming a version together with that version; the names
        are kept (the check fails closed), and only ``kho reindex`` forgets them."""

    def close(self) -> None:
        """Release what the index holds open (a SQLite connection): at the repository's close,
        not at the garbage collector's, whose late close checkpoints the WAL into a folder that
        may be being copied or removed by then. The next use opens it again."""


class MemoryRecordIndex:
    """Kept in the process only."""

    def __init__(self) -> None:
        self._seqs: dict[str, dict[int, int]] = {}
        self._holds: dict[str, dict[int, int]] = {}
        self._next = 0
        self._anchor: str | None = None
        self._head: tuple[int, str] | None = None
        self._named: dict[str, int] = {}

    def next_seq(self) -> int:
        return self._next

    def newest_named(self, obj: str) -> int | None:
        return self._named.get(obj)

    def named_under(self, prefix: str) -> dict[str, int]:
        return {obj: n for obj, n in self._named.items() if obj.startswith(prefix)}

    def head(self) -> tuple[int, str] | None:
        return self._head

    def add(
        self,
        entries: Iterable[tuple[str, int, int]],
        first: int,
        end: int,
        versions: Iterable[tuple[str, int]] = (),
        holds: Iterable[tuple[str, int, int]] = (),
        last: tuple[int, str] | None = None,
        named: Iterable[tuple[str, int]] = (),
    ) -> None:
        for obj, number in named:
            self._named[obj] = max(number, self._named.get(obj, number))
        for record_id, seq, home in entries:
            self._seqs.setdefault(record_id, {})[seq] = home
        for record_id, seq, home in holds:
            self._holds.setdefault(record_id, {})[seq] = home
        if first <= self._next < end:
            self._next = end
            self._head = last if last is not None and last[0] == end - 1 else None

    def expect_versions(self, versions: Iterable[tuple[str, int]]) -> None:
        """No secrecy map in memory: another process may have written any record."""

    def note_secrecy(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """No secrecy map in memory (see :meth:`expect_versions`)."""

    def secrecy(self, record_ids: Iterable[str]) -> dict[str, int]:
        return {}

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        return sorted(self._seqs.get(record_id, {}).items())

    def hold_seqs(self, record_id: str) -> list[tuple[int, int]]:
        return sorted(self._holds.get(record_id, {}).items())

    def hold_records(self) -> list[str]:
        return sorted(self._holds)

    def anchor(self) -> str | None:
        return self._anchor

    def reset(self, anchor: str | None, *, keep_named: bool = False) -> None:
        self._seqs, self._holds, self._next, self._anchor, self._head = {}, {}, 0, anchor, None
        if not keep_named:
            self._named = {}

    def close(self) -> None:
        """Nothing is held open (the entries stay: they are this process's)."""


_EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events(record_id TEXT NOT NULL, seq INTEGER NOT NULL,
  home INTEGER NOT NULL, PRIMARY KEY(record_id, seq)) WITHOUT ROWID"""
_HOLDS_TABLE = """CREATE TABLE IF NOT EXISTS holds(record_id TEXT NOT NULL, seq INTEGER NOT NULL,
  home INTEGER NOT NULL, PRIMARY KEY(record_id, seq)) WITHOUT ROWID"""
_SECRECY_TABLE = """CREATE TABLE IF NOT EXISTS secrecy(record_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL, secrecy INTEGER NOT NULL, pending INTEGER NOT NULL) WITHOUT ROWID"""
_NAMED_TABLE = """CREATE TABLE IF NOT EXISTS named(object TEXT PRIMARY KEY, newest INTEGER NOT NULL)
  WITHOUT ROWID"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
{_EVENTS_TABLE};
{_HOLDS_TABLE};
{_SECRECY_TABLE};
{_NAMED_TABLE};
"""
_NAME = """INSERT INTO named(object, newest) VALUES(?, ?)
  ON CONFLICT(object) DO UPDATE SET newest = max(newest, excluded.newest)"""
# A version written or announced: the row's secrecy is not used until that version is noted.
_EXPECT = """INSERT INTO secrecy(record_id, version, secrecy, pending) VALUES(?, 0, 0, ?)
  ON CONFLICT(record_id) DO UPDATE SET pending = max(pending, excluded.pending)
  WHERE excluded.pending > version"""
# A version read from the store: kept if it is the newest noted; settles what it reaches.
_NOTE = """INSERT INTO secrecy(record_id, version, secrecy, pending) VALUES(?, ?, ?, 0)
  ON CONFLICT(record_id) DO UPDATE SET
    secrecy = CASE WHEN excluded.version >= version THEN excluded.secrecy ELSE secrecy END,
    pending = CASE WHEN excluded.version >= pending THEN 0 ELSE pending END,
    version = max(version, excluded.version)"""
_SECRECY_CHUNK = 500
"""Record ids per query of the secrecy map (below SQLite's limit of bound parameters)."""


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
                        conn.execute("DROP TABLE IF EXISTS holds")
                        conn.execute("DROP TABLE IF EXISTS secrecy")
                        conn.execute("DROP TABLE IF EXISTS named")
                        conn.execute("DELETE FROM meta")
                        conn.execute(_EVENTS_TABLE)
                        conn.execute(_HOLDS_TABLE)
                        conn.execute(_SECRECY_TABLE)
                        conn.execute(_NAMED_TABLE)
                        conn.execute("INSERT INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
            self._conn = conn
        return self._conn

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def next_seq(self) -> int:
        with self._lock:
            return int(self._meta("next_seq") or 0)

    def add(
        self,
        entries: Iterable[tuple[str, int, int]],
        first: int,
        end: int,
        versions: Iterable[tuple[str, int]] = (),
        holds: Iterable[tuple[str, int, int]] = (),
        last: tuple[int, str] | None = None,
        named: Iterable[tuple[str, int]] = (),
    ) -> None:
        rows, versioned, held = _storable(entries), _storable(versions), _storable(holds)
        objects = _storable(named)
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_NAME, objects)
                db.executemany("INSERT OR IGNORE INTO events(record_id, seq, home) VALUES(?, ?, ?)", rows)
                db.executemany("INSERT OR IGNORE INTO holds(record_id, seq, home) VALUES(?, ?, ?)", held)
                db.executemany(_EXPECT, versioned)
                current = int(self._meta("next_seq") or 0)
                if first <= current < end:
                    db.execute("INSERT OR REPLACE INTO meta VALUES('next_seq', ?)", (str(end),))
                    if last is not None and last[0] == end - 1:
                        db.execute("INSERT OR REPLACE INTO meta VALUES('head', ?)", (f"{last[0]}:{last[1]}",))
                    else:
                        db.execute("DELETE FROM meta WHERE key='head'")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        rows = _storable(rows)
        if not rows:
            return
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def expect_versions(self, versions: Iterable[tuple[str, int]]) -> None:
        self._write(_EXPECT, list(versions))

    def note_secrecy(self, rows: Iterable[tuple[str, int, int]]) -> None:
        self._write(_NOTE, list(rows))

    def secrecy(self, record_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(record_ids))
        out: dict[str, int] = {}
        with self._lock:
            db = self._db()
            for start in range(0, len(wanted), _SECRECY_CHUNK):
                chunk = wanted[start : start + _SECRECY_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT record_id, secrecy FROM secrecy WHERE record_id IN ({marks})"
                    " AND version > 0 AND pending <= version",
                    chunk,
                ).fetchall()
                out.update((row[0], int(row[1])) for row in rows)
        return out

    def settled_secrecy(self) -> list[tuple[str, int, int]]:
        """Every ``(record id, version, secrecy)`` row of the secrecy map that :meth:`secrecy`
        would answer (``kho fsck`` compares them with the records)."""
        sql = "SELECT record_id, version, secrecy FROM secrecy WHERE version > 0 AND pending <= version"
        with self._lock, closing(self._db().execute(sql + " ORDER BY record_id")) as cursor:
            return [(row[0], int(row[1]), int(row[2])) for row in cursor]

    def seqs(self, record_id: str) -> list[tuple[int, int]]:
        with self._lock, closing(
            self._db().execute("SELECT seq, home FROM events WHERE record_id=? ORDER BY seq", (record_id,))
        ) as cursor:
            return [(row[0], row[1]) for row in cursor]

    def hold_seqs(self, record_id: str) -> list[tuple[int, int]]:
        with self._lock, closing(
            self._db().execute("SELECT seq, home FROM holds WHERE record_id=? ORDER BY seq", (record_id,))
        ) as cursor:
            return [(row[0], row[1]) for row in cursor]

    def hold_records(self) -> list[str]:
        with self._lock, closing(
            self._db().execute("SELECT DISTINCT record_id FROM holds ORDER BY record_id")
        ) as cursor:
            return [row[0] for row in cursor]

    def anchor(self) -> str | None:
        with self._lock:
            return self._meta("anchor")

    def newest_named(self, obj: str) -> int | None:
        with self._lock:
            row = self._db().execute("SELECT newest FROM named WHERE object=?", (obj,)).fetchone()
        return int(row[0]) if row else None

    def named_under(self, prefix: str) -> dict[str, int]:
        sql = "SELECT object, newest FROM named WHERE object >= ? AND object < ?"  # the key's range
        with self._lock:
            rows = self._db().execute(sql, (prefix, prefix + "\U0010ffff")).fetchall()
        return {str(obj): int(n) for obj, n in rows}

    def head(self) -> tuple[int, str] | None:
        with self._lock:
            value = self._meta("head")
        if value is None:
            return None
        seq, _, digest = value.partition(":")
        try:
            return int(seq), digest
        except ValueError:  # edited by hand: not known
            return None

    def digests(self, end: int) -> tuple[str, str]:
        """SHA-256 of the entries of the events, and of the hold events, below sequence number
        ``end``, in sequence order (:func:`entry_bytes`). Entries below :meth:`next_seq` never
        change once written, so ``kho fsck`` compares them with the log's (review rv19: a row
        deleted by a hand in the data folder hides an act from the record's history, and a hold
        row deleted with its hold object lets a destruction through)."""
        found: list[str] = []
        with self._lock:
            db = self._db()
            for table in ("events", "holds"):
                digest = hashlib.sha256()
                sql = f"SELECT seq, home, record_id FROM {table} WHERE seq < ? ORDER BY seq, record_id"
                with closing(db.execute(sql, (end,))) as cursor:
                    for seq, home, record_id in cursor:
                        digest.update(entry_bytes(seq, home, record_id))
                found.append(digest.hexdigest())
        return found[0], found[1]

    def reset(self, anchor: str | None, *, keep_named: bool = False) -> None:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM events")
                db.execute("DELETE FROM holds")
                db.execute("DELETE FROM secrecy")
                if not keep_named:
                    db.execute("DELETE FROM named")
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
