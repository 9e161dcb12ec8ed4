"""The local folder makes a name durable (POSIX: fsync of its directory) before it returns and
before anything that depends on it becomes visible.

Both stores of a repository are built with one recording :class:`Durability`: each call (a file
or a directory) is recorded with what was visible in both folders when it began (every file and
directory, with its inode, so a replaced witness counts as new). From that trace: every object
and directory a creation made is under a directory synced after it appeared, and that sync came
before any object of a later step (which refers to it) appeared.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

from kho.errors import StoreUnavailable
from repository.records import Repository
from repository.storage import group, local
from repository.storage.durability import Durability
from repository.storage.group import NewObject, Settling, write_group, written
from repository.storage.local import LocalStore
from repository.storage.overlap import ALWAYS, NEVER, OverlapPolicy

Seen = frozenset[tuple[str, int]]


class Recorder(Durability):
    """Syncs for real and records (kind, path, what was visible when the call began)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Seen]] = []
        self.roots: list[Path] = []

    def visible(self) -> Seen:
        out: set[tuple[str, int]] = set()
        for root in self.roots:
            for here, dirs, files in os.walk(root / "objects"):
                for name in [*dirs, *files]:
                    path = os.path.join(here, name)
                    try:
                        out.add((path, os.stat(path).st_ino))
                    except FileNotFoundError:
                        continue
        return frozenset(out)

    def file(self, fd: int, path: Path) -> None:
        self.calls.append(("file", str(path), frozenset()))
        super().file(fd, path)

    def directory(self, path: Path) -> None:
        self.calls.append(("directory", str(path), self.visible()))
        super().directory(path)

    def directory_calls(self) -> list[str]:
        return [path for kind, path, _ in self.calls if kind == "directory"]


def _stores(tmp_path: Path) -> tuple[LocalStore, LocalStore, Recorder]:
    rec = Recorder()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    rec.roots = [store.root, keys.root]
    rec.calls.clear()
    return store, keys, rec


# m24: the marker is one step with the key and the original (it was a step of its own, made
# durable before them): kho fsck finds any subset of the three a power loss keeps.
STEPS = ("marker+key+original", "guards", "entry", "version+event", "witness")


def _step(path: str) -> int:
    rel = path.split("/objects/", 1)[1]
    if rel.startswith("catalog/records/"):
        return 0
    if rel.startswith("keys/") or "/content/" in rel or rel.endswith("/content"):
        return 0
    if rel.startswith("claims/"):
        return 1
    if rel.startswith("registers/"):
        return 2
    if rel.startswith("audit/events/") or rel.startswith("records/"):
        return 3  # the first version (and the record's folder, made with the original: see below)
    if rel == "audit/witness.json":
        return 4
    raise AssertionError(f"an object no step names: {rel}")


def _second_record(
    repo: Repository, rec: Recorder, *, forget: Callable[[], None]
) -> tuple[Seen, Seen, dict[str, int]]:
    """Create a record after a first one (so the store's folders exist), ``forget`` what was
    recorded in between; what was visible before, the names it made, each name's step."""
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("earlier"), "a.pdf", CLERK)
    before = rec.visible()
    forget()
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("second", size=200_000), "b.pdf", CLERK)
    new = rec.visible() - before
    steps = {path: _step(path) for path, _ in new}
    # The record's folder records/<id>/ is made with its original (content/ inside it).
    for path in steps:
        if path.endswith("/content"):
            steps[str(Path(path).parent)] = 0
    return before, new, steps


def test_a_registered_creation_syncs_each_name_before_what_depends_on_it(tmp_path: Path) -> None:
    store, keys, rec = _stores(tmp_path)
    before, new, steps = _second_record(new_repository(store, keys), rec, forget=rec.calls.clear)
    assert set(steps.values()) == set(range(len(STEPS))), steps
    for name in new:
        path, _ = name
        synced = [
            i for i, (kind, where, seen) in enumerate(rec.calls)
            if kind == "directory" and where == str(Path(path).parent) and name in seen
        ]
        assert synced, f"{path} ({STEPS[steps[path]]}) was never made durable (its directory not synced)"
        first = synced[0]
        seen = rec.calls[first][2]
        later = [p for p, _ in seen - before if steps.get(p, -1) > steps[path]]
        assert not later, f"{path} ({STEPS[steps[path]]}) became durable only after {later} appeared"


def test_a_put_syncs_the_directories_it_made_and_keeps_the_old_version_first(tmp_path: Path) -> None:
    store, _, rec = _stores(tmp_path)
    objects = store.root / "objects"
    store.put_if_absent("a/b/c", b"one")
    assert sorted(rec.directory_calls()) == sorted(str(p) for p in (objects, objects / "a", objects / "a/b"))
    rec.calls.clear()
    store.put("a/b/c", b"two")  # the old version is archived (linked) and must be durable first
    calls = rec.directory_calls()
    vdir = str(store.root / "versions" / "a/b/c")
    assert vdir in calls and str(objects / "a/b") in calls
    assert calls.index(vdir) < calls.index(str(objects / "a/b"))
    assert store.get("a/b/c") == b"two"


def test_a_directory_found_already_made_is_synced_in_its_parent_by_an_archive_and_a_retention(
    tmp_path: Path,
) -> None:
    # A writer that crashed after mkdir and before syncing the parent left these directories:
    # their entries may not survive a power loss, so the first write into each syncs the parent.
    LocalStore(tmp_path / "s").put_if_absent("a/b", b"one")
    for crashed in ("versions/a/b", "meta/a"):
        (tmp_path / "s" / crashed).mkdir(parents=True)
    store, _, rec = _stores(tmp_path)  # a new process: it made none of them
    store.put("a/b", b"two")  # the old version is archived into versions/a/b
    store.set_legal_hold("a/b", True)  # the retention file goes into meta/a
    calls = rec.directory_calls()
    for parent in ("versions/a", "versions", "meta"):
        assert str(store.root / parent) in calls, parent
    assert store.get("a/b") == b"two" and store.get_legal_hold("a/b")
    rec.calls.clear()
    store.set_legal_hold("a/b", False)  # known durable now: only the directories written into
    store.put("a/b", b"three")
    assert sorted(rec.directory_calls()) == sorted(
        str(store.root / d) for d in ("versions/a/b", "objects/a", "meta/a")
    )


def test_a_group_syncs_each_directory_once_and_its_lead_first(tmp_path: Path) -> None:
    store, keys, rec = _stores(tmp_path)
    store.put_if_absent("d/0", b"x")
    keys.put_if_absent("d/0", b"x")
    rec.calls.clear()
    group = [NewObject(store, f"d/{i}", b"y" * 100) for i in range(1, 4)] + [NewObject(keys, "d/1", b"k")]
    assert all(o is not None and not isinstance(o, BaseException) for o in write_group(group))
    expected = [str(store.root / "objects/d"), str(keys.root / "objects/d")]
    assert sorted(rec.directory_calls()) == sorted(expected)  # one sync per directory, not per file
    rec.calls.clear()
    # A group that depends on an earlier one (the product's path, records.py: the key and the
    # original, then the marker and the rest with ``lead=True, after=``): the earlier group's
    # directory is synced before any link of the later one is made (m33: ``durable_lead``,
    # which had no product caller left since m24, is gone).
    with Settling() as first:
        write_group([NewObject(store, "m/0", b"m")], settling=first)
        later = [NewObject(store, f"d/{i}", b"y") for i in range(4, 6)]
        with Settling() as second:
            outcomes = write_group(later, lead=True, after=first, settling=second)
    assert all(written(o) for o in outcomes)
    calls = [(p, seen) for kind, p, seen in rec.calls if kind == "directory"]
    m_dir = str(store.root / "objects/m")
    assert [p for p, _ in calls].count(str(store.root / "objects/d")) == 1
    (at_m,) = [seen for p, seen in calls if p == m_dir]
    assert not any(p.endswith("/d/4") or p.endswith("/d/5") for p, _ in at_m)  # earlier group durable first


class _FailOnce(Recorder):
    """Fails the first sync of one directory (EIO), syncs and records the rest."""

    def __init__(self, fail: Path | None) -> None:
        super().__init__()
        self.fail: Path | None = fail

    def directory(self, path: Path) -> None:
        if path == self.fail:
            self.fail = None
            raise OSError(5, "Input/output error")
        super().directory(path)


def test_a_directory_whose_entry_failed_to_sync_is_not_trusted_later(tmp_path: Path) -> None:
    rec = _FailOnce(None)
    store = LocalStore(tmp_path / "s", durability=rec)
    rec.fail = store.root / "objects"
    try:
        store.put_if_absent("n/x", b"x")  # makes objects/n; the sync of its entry fails
    except Exception:
        pass
    rec.calls.clear()
    store.put_if_absent("n/y", b"y")
    # objects/n's own entry is still not durable: this write must sync it before it returns.
    assert str(store.root / "objects") in rec.directory_calls()


class _Held(Recorder):
    """Holds the first sync of one directory until released (a writer paused between its
    mkdir and the sync of the directory's entry)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold: Path | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self.by_thread: list[tuple[int, str]] = []

    def directory(self, path: Path) -> None:
        if path == self.hold:
            self.hold = None
            self.reached.set()
            self.release.wait(30)
        self.by_thread.append((threading.get_ident(), str(path)))
        super().directory(path)


def test_a_directory_another_thread_made_is_synced_before_a_write_into_it_returns(tmp_path: Path) -> None:
    rec = _Held()
    store = LocalStore(tmp_path / "s", durability=rec)
    rec.hold = store.root / "objects"
    first = threading.Thread(target=store.put_if_absent, args=("n/x", b"x"))
    first.start()
    try:
        assert rec.reached.wait(30)  # objects/n made; its entry (in objects/) not synced yet
        store.put_if_absent("n/y", b"y")
        mine = [p for who, p in rec.by_thread if who == threading.get_ident()]
        # Acknowledged: n/y survives a power loss only if objects/n does.
        assert str(store.root / "objects") in mine
    finally:
        rec.release.set()
        first.join()


class _Ends(Recorder):
    """Records each directory sync with what was visible when it began and when it ended (the
    end is seen before the sync returns, so before anything waiting for it goes on)."""

    def __init__(self) -> None:
        super().__init__()
        self.syncs: list[tuple[str, Seen, Seen]] = []

    def directory(self, path: Path) -> None:
        began = self.visible()
        super().directory(path)
        self.syncs.append((str(path), began, self.visible()))


def test_no_step_links_a_name_before_the_syncs_of_the_step_before_it_ended(tmp_path: Path) -> None:
    # A step's directory syncs may still run while the next step writes its temp files; its
    # links must wait for them: a power loss in between never keeps a name without what it
    # depends on.
    rec = _Ends()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    rec.roots = [store.root, keys.root]
    before, new, steps = _second_record(new_repository(store, keys), rec, forget=rec.syncs.clear)
    for name in new:
        path, _ = name
        ended = [end for where, began, end in rec.syncs if where == str(Path(path).parent) and name in began]
        assert ended, f"{path} ({STEPS[steps[path]]}) was never made durable (its directory not synced)"
        later = [p for p, _ in ended[0] - before if steps.get(p, -1) > steps[path]]
        assert not later, f"{path} ({STEPS[steps[path]]}) was not durable yet when {later} appeared"


class _HeldContent(Recorder):
    """Holds the sync of a record's content/ directory (the original's step) until a temp file
    is fsync'd meanwhile (or 10 s), noting what was visible then."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.overlapped = threading.Event()
        self.seen_then: Seen = frozenset()

    def file(self, fd: int, path: Path) -> None:
        if self.holding.is_set() and not self.overlapped.is_set():
            self.seen_then = self.visible()
            self.overlapped.set()
        super().file(fd, path)

    def directory(self, path: Path) -> None:
        if path.name == "content" and not self.overlapped.is_set():
            self.holding.set()
            self.overlapped.wait(10)
            self.holding.clear()
        super().directory(path)


def test_the_guards_are_staged_while_the_originals_directories_sync_and_linked_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", ALWAYS)  # slow syncs: overlapped (m28)
    rec = _HeldContent()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    rec.roots = [store.root, keys.root]
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("one", size=200_000), "b.pdf", CLERK)
    # The next step's temp file (a guard) was written and fsync'd during the held sync...
    assert rec.overlapped.is_set(), "the guards waited for the original's directory syncs to stage"
    # ...but nothing of it was visible yet.
    assert not [p for p, _ in rec.seen_then if "/claims/" in p]
    assert [p for p, _ in rec.visible() if "/claims/sha256/" in p]


@pytest.mark.parametrize("pool", [True, False], ids=["pool running", "no pool"])
def test_a_put_keeps_the_old_version_durable_before_the_new_one_replaces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: bool
) -> None:
    """The archive's directory sync ends before the replace, whether it runs beside the put
    (this process runs the write pool already) or in the put itself (no pool: none is started
    for it, the case of an audited command's one witness write)."""
    if pool:
        group._executor(True)
    else:  # as in a process that has written no group yet
        monkeypatch.setattr(group, "_pools", {})
        monkeypatch.setattr(group, "_pool_pid", 0)
    rec = _Ends()
    store = LocalStore(tmp_path / "s", durability=rec)
    rec.roots = [store.root]
    store.put_if_absent("a/b/c", b"one")
    old = (store.root / "objects/a/b/c").stat().st_ino
    rec.syncs.clear()
    store.put("a/b/c", b"two")
    vdir = str(store.root / "versions" / "a/b/c")
    ((_, _, end),) = [(p, b, e) for p, b, e in rec.syncs if p == vdir]
    assert (str(store.root / "objects/a/b/c"), old) in end  # not yet replaced when it ended
    assert store.get("a/b/c") == b"two"
    assert (group._pools != {}) is pool  # no pool started for one sync


def test_a_group_after_a_step_whose_directory_failed_to_sync_links_nothing(tmp_path: Path) -> None:
    rec = _FailOnce(None)
    store = LocalStore(tmp_path / "s", durability=rec)
    store.put_if_absent("a/0", b"x")
    store.put_if_absent("b/0", b"x")
    rec.fail = store.root / "objects/a"
    settling = Settling()
    outcomes = write_group([NewObject(store, "a/1", b"y"), NewObject(store, "a/2", b"y")], settling=settling)
    assert all(not isinstance(o, BaseException) for o in outcomes)  # linked; the sync still pending
    with pytest.raises(StoreUnavailable):
        write_group([NewObject(store, "b/1", b"z")], after=settling)  # depends on a/1, a/2
    assert not (store.root / "objects/b/1").exists()
    assert not list((store.root / "tmp").iterdir())  # its staged temp file given up
    rec.fail = None
    settling.wait()  # nothing left pending


class _HeldEvents(Recorder):
    """Once armed (``before``: what was visible before the act): notes when the witness's temp
    file is fsync'd after the act's event object became visible and what was visible then, and holds
    the sync of the events' shard directory until that happens (or 5 s), noting whether the
    sync ended first."""

    def __init__(self) -> None:
        super().__init__()
        self.before: Seen | None = None
        self.staged = threading.Event()
        self.seen_then: Seen = frozenset()
        self.sync_ended_first = False

    def _events_visible(self, seen: Seen) -> bool:
        assert self.before is not None
        return any("/audit/events/" in p and p.endswith(".json") for p, _ in seen - self.before)

    def file(self, fd: int, path: Path) -> None:
        witness = path.read_bytes()[:256].startswith(b'{"seq": ')  # the witness's temp file
        if self.before is not None and witness and not self.staged.is_set():
            seen = self.visible()
            if self._events_visible(seen):
                self.seen_then = seen
                self.staged.set()
        super().file(fd, path)

    def directory(self, path: Path) -> None:
        shard = self.before is not None and path.parent.name == "events"
        if shard:
            self.staged.wait(5)
        super().directory(path)
        if shard and not self.staged.is_set():
            self.sync_ended_first = True


def test_the_witness_is_staged_while_the_events_directories_sync_and_replaced_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", ALWAYS)  # slow syncs: overlapped (m28)
    # One fsync round less per act: the witness's temp file is written and fsync'd (and its
    # old version archived) while the events' directory syncs run, and renamed into place only
    # after they ended (a witness never names an event that a power loss can take away).
    rec = _HeldEvents()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    rec.roots = [store.root, keys.root]
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("one"), "a.pdf", CLERK)
    witness = str(store.root / "objects" / "audit" / "witness.json")
    old = os.stat(witness).st_ino
    rec.before = rec.visible()
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("two", size=200_000), "b.pdf", CLERK)
    assert rec.staged.is_set()
    assert not rec.sync_ended_first, "the witness was staged only after its events' directory synced"
    assert (witness, old) in rec.seen_then, "the witness was replaced before its events were durable"
    assert os.stat(witness).st_ino != old
    assert repo.audit.verify().ok


@pytest.mark.parametrize("pool", [True, False], ids=["pool running", "no pool"])
def test_an_event_alone_stages_the_witness_while_it_syncs_where_the_pool_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: bool
) -> None:
    # An act with one event (an update, an audited read in a server): where this process runs
    # the write pool already, the event's directory sync runs while the witness is staged (one
    # round less), the witness renamed after it. Elsewhere (a command whose one write is this
    # event) it is synced in the write itself and no pool is started for it.
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", ALWAYS)  # slow syncs: overlapped (m28)
    if pool:
        group._executor(True)
    else:  # as in a process that has written no group yet
        monkeypatch.setattr(group, "_pools", {})
        monkeypatch.setattr(group, "_pool_pid", 0)
    rec = _HeldEvents()
    store = LocalStore(tmp_path / "s", durability=rec)
    rec.roots = [store.root]
    log = new_repository(store, LocalStore(tmp_path / "k")).audit
    log.append("u", "content:read", details={"n": 1})
    witness = str(store.root / "objects" / "audit" / "witness.json")
    old = os.stat(witness).st_ino
    rec.before = rec.visible()
    log.append("u", "content:read", details={"n": 2})
    assert rec.staged.is_set()
    assert rec.sync_ended_first is not pool
    assert (witness, old) in rec.seen_then, "the witness was replaced before its event was durable"
    assert os.stat(witness).st_ino != old
    assert log.verify().ok
    assert (group._pools != {}) is pool  # no pool started for one event


class _Threads(Recorder):
    """Records every sync's start and end with its thread (nothing else: no listing)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def _note(self, what: str, path: Path) -> None:
        with self._lock:
            self.events.append((what, str(path), threading.get_ident()))

    def file(self, fd: int, path: Path) -> None:
        self._note("file", path)
        os.fsync(fd)
        self._note("file-end", path)

    def directory(self, path: Path) -> None:
        self._note("directory", path)
        Durability.directory(self, path)
        self._note("directory-end", path)


def test_where_syncs_are_fast_a_records_syncs_run_in_the_writers_thread_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """m28 (issue 14): where the store's fsyncs are fast (``OverlapPolicy.sync_seconds``: the usual
    case on the test machine's disk, ~0.16 ms) every file and directory sync of a record runs
    in the writer's thread, each ending before the next begins: main overlapped them in pool
    threads, 16 thread hand-offs a record, more CPU than the syncs they overlapped. Links still
    wait for the step before (``test_no_step_links_a_name_before_the_syncs_of_the_step_before_it_ended``)."""
    monkeypatch.setattr(local, "DEFAULT_OVERLAP", NEVER)
    rec = _Threads()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("zero"), "a.pdf", CLERK)
    rec.events.clear()
    repo.create_document("den", incoming(code_number="2"), pdf_bytes("one", size=200_000), "b.pdf", CLERK)
    assert {who for _, _, who in rec.events} == {threading.get_ident()}
    starts, ends = rec.events[0::2], rec.events[1::2]  # never two at once:
    assert [(what + "-end", p) for what, p, _ in starts] == [(what, p) for what, p, _ in ends]
    assert any(what == "directory" and p.endswith("/content") for what, p, _ in starts)
    assert len([what for what, _, _ in starts if what == "file"]) == 9  # 8 objects and the key


def test_a_store_overlaps_its_syncs_only_while_they_are_slow(tmp_path: Path) -> None:
    """The moving average of the store's syncs decides (``OverlapPolicy.sync_seconds``, with no
    idle core looked at here: ``test_overlap_m33``): measured, not assumed; a store without
    fsync or whose creates a subclass replaces never overlaps."""
    store = LocalStore(tmp_path / "s", overlap=OverlapPolicy(sync_seconds=0.001, idle_cores=0.0))
    store._sync_seconds = 0.0
    assert not store.overlaps_syncs()
    for _ in range(30):
        store._timed(time.perf_counter() - 0.005)  # syncs of 5 ms
    assert store.overlaps_syncs()
    store._sync_seconds = 0.0008  # between half the threshold and it: the mode is kept
    assert store.overlaps_syncs()
    for _ in range(30):
        store._timed(time.perf_counter() - 0.0001)  # then of 0.1 ms
    assert not store.overlaps_syncs()
    store._sync_seconds = 0.0008  # kept again, the other way
    assert not store.overlaps_syncs()
    unsynced = LocalStore(tmp_path / "n", fsync=False, overlap=ALWAYS)
    assert not unsynced.overlaps_syncs()
