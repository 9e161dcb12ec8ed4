"""m24 (issue 14): a record's catalog marker is written with its key and original as one step,
none of them first (one request round less a creation on S3). A crash or a power loss there may
keep any subset of the three; ``kho fsck`` finds each (a key alone too: ``key-orphan``), leaves
it while it may still be in flight (the grace period), removes it past that, and the same
creation run again is never blocked by it. The states are those a crash leaves, written with the
repository's own objects (``_marker_object``, ``keys.new_object``, the sealed original); the
SIGKILLed writer on S3 is ``test_group_kill``'s.
"""

from __future__ import annotations

import hashlib
import threading
from itertools import combinations
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

from kho.errors import Duplicate
from repository.fsck import fsck
from repository.records import Record, Repository, claim_body, content_key, new_record_id
from repository.registers import register_prefix
from repository.storage.base import ObjectInfo, ObjectStore
from repository.storage.durability import Durability
from repository.storage.group import NewObject, write_group
from repository.storage.local import LocalStore

NUMBER = "5151"
PARTS = ("marker", "key", "original")
SUBSETS = [set(c) for n in (1, 2, 3) for c in combinations(PARTS, n)]
BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


def _create(repo: Repository, content: bytes, number: str = NUMBER) -> Record:
    return repo.create_document("den", incoming(code_number=number), content, "qd.pdf", CLERK)


def _left_by_a_crash(repo: Repository, earlier: Record, content: bytes, parts: set[str]) -> str:
    """The objects of a creation of ``content`` that stopped in its first step: ``parts`` of
    marker (naming the register the creation numbers in), key and original."""
    record_id = new_record_id()
    reg = earlier.registration
    assert reg is not None
    key_object = repo.keys.new_object(record_id)  # (caches the key: the original is sealed with it)
    key = content_key(record_id, hashlib.sha256(content).hexdigest())
    objects = {
        "marker": repo._marker_object(record_id, "den", register_prefix(reg.organ_id, reg.year, reg.series)),
        "key": key_object,
        "original": NewObject(repo.store, key, repo.keys.seal(record_id, content, key), fresh=True),
    }
    write_group([objects[p] for p in PARTS if p in parts])
    return record_id


def _ids(store: ObjectStore, keys: ObjectStore) -> tuple[set[str], set[str], set[str]]:
    return (
        {i.key.rsplit("/", 1)[1] for i in store.list("catalog/records/")},
        {i.key.split("/")[1] for i in keys.list("keys/")},
        {i.key.split("/")[1] for i in store.list("records/")},
    )


@pytest.mark.parametrize("parts", SUBSETS, ids=["+".join(p for p in PARTS if p in s) for s in SUBSETS])
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_subset_an_interrupted_creation_leaves_is_cleaned_and_blocks_nothing(
    backend: str, parts: set[str], tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "mnf"), make_store(backend, tmp_path, "mnfk")
    repo = new_repository(store, keys)
    earlier = _create(repo, pdf_bytes("earlier"), "1")
    content = pdf_bytes(f"interrupted {sorted(parts)}", size=100_000)
    killed = _left_by_a_crash(repo, earlier, content, parts)

    # In flight (younger than the grace period): reported by nothing, touched by nothing.
    young = fsck(new_repository(store, keys), repair=True, grace_seconds=300)
    assert not [i for i in young.issues if killed in i.subject], young.issues
    assert killed in set().union(*_ids(store, keys))

    # The same file with the same số goes in, and takes the next number.
    again = _create(new_repository(store, keys), content)
    assert again.registration is not None and again.registration.number == 2

    # Past the grace period: found, and removed by --repair.
    found = fsck(new_repository(store, keys), grace_seconds=0)
    mine = [i for i in found.issues if killed in i.subject]
    assert mine and all(i.repairable for i in mine), found.issues
    expected = "key-orphan" if parts == {"key"} else "uncommitted"
    assert [i.kind for i in mine] == [expected]
    fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert fsck(new_repository(store, keys), grace_seconds=0).clean
    live = {earlier.record_id, again.record_id}
    assert _ids(store, keys) == (live, live, live)  # nothing of it left; no committed key touched
    _, data = new_repository(store, keys).read_content(again.record_id, actor=CLERK)
    assert data == content
    with pytest.raises(Duplicate):  # the guards are the committed record's
        _create(new_repository(store, keys), content, "5152")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_key_whose_record_has_a_history_is_kept(backend: str, tmp_path: Path) -> None:
    """A key whose marker, folder and register entry are gone but whose record the log knows (a
    committed record lost in the store, or one a backup cut holds the events of: not a
    creation that stopped) is never removed: a restored copy of the record needs it."""
    store, keys = make_store(backend, tmp_path, "mnh"), make_store(backend, tmp_path, "mnhk")
    repo = new_repository(store, keys)
    lost = _create(repo, pdf_bytes("lost"), "1")
    for prefix in (f"records/{lost.record_id}/", f"catalog/records/{lost.record_id}", "registers/"):
        for info in list(store.list(prefix)):
            store.delete(info.key)
    report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert not [i for i in report.issues if i.kind == "key-orphan"], report.issues
    assert keys.exists(f"keys/{lost.record_id}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_guard_whose_record_has_no_marker_yet_is_in_flight_not_stale(backend: str, tmp_path: Path) -> None:
    """A guard is taken only once marker, key and original are durable; should one still be
    found with a key and an original but no marker (removed by a hand meanwhile), its live,
    fresh writer keeps it: the same file is refused as a duplicate, not taken over."""
    store, keys = make_store(backend, tmp_path, "mng"), make_store(backend, tmp_path, "mngk")
    repo = new_repository(store, keys)
    earlier = _create(repo, pdf_bytes("earlier"), "1")
    content = pdf_bytes("guarded", size=50_000)
    writer = _left_by_a_crash(repo, earlier, content, {"key", "original"})
    guard = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    store.put_if_absent(guard, claim_body(writer, repo.clock()))  # this process: alive, fresh
    with pytest.raises(Duplicate) as refused:
        _create(new_repository(store, keys), content, "7")
    assert refused.value.details.get("existing_record_id") == writer
    assert store.exists(guard) and keys.exists(f"keys/{writer}")


@pytest.mark.s3
def test_on_s3_the_marker_is_sent_with_the_key_and_the_original(tmp_path: Path) -> None:
    """One request round less per creation: the key and the original are sent while the marker's
    PUT is still on its way (the marker is held here until both have landed; before m24 the
    marker had to land first, so they never did and the wait ran out)."""
    store, keys = make_store("s3", tmp_path, "mnr"), make_store("s3", tmp_path, "mnrk")
    repo = new_repository(store, keys)
    _create(repo, pdf_bytes("earlier"), "1")
    landed: set[str] = set()
    both = threading.Event()
    waited: list[bool] = []
    real_store_put_new, real_keys_put_new = store.put_new, keys.put_new

    def note(kind: str) -> None:
        landed.add(kind)
        if {"key", "original"} <= landed:
            both.set()

    def store_put_new(key: str, data: bytes) -> ObjectInfo:
        if key.startswith("catalog/records/"):
            waited.append(both.wait(timeout=30))  # generous: never a matter of speed
            return real_store_put_new(key, data)
        info = real_store_put_new(key, data)
        if "/content/" in key:
            note("original")
        return info

    def keys_put_new(key: str, data: bytes) -> ObjectInfo:
        info = real_keys_put_new(key, data)
        note("key")
        return info

    store.put_new = store_put_new  # type: ignore[method-assign]
    keys.put_new = keys_put_new  # type: ignore[method-assign]
    record = _create(repo, pdf_bytes("concurrent", size=100_000), "2")
    del store.put_new, keys.put_new
    assert waited == [True]  # key and original landed while the marker was held
    assert record.registration is not None and record.registration.number == 2
    assert fsck(new_repository(store, keys), grace_seconds=0).clean


def test_on_the_local_folder_the_marker_is_synced_with_the_key_and_the_original(tmp_path: Path) -> None:
    """One directory-sync round less per creation: the marker's directory is synced once the key
    and the original are linked too, with theirs (before m24 it was synced alone, before the key
    was linked); no guard is linked before that sync."""
    rec = _Recorder()
    store = LocalStore(tmp_path / "s", durability=rec)
    keys = LocalStore(tmp_path / "k", durability=rec)
    rec.watched = [keys.root / "objects" / "keys", store.root / "objects" / "claims" / "sha256"]
    repo = new_repository(store, keys)
    _create(repo, pdf_bytes("earlier"), "1")  # the store's folders exist
    rec.calls.clear()
    content = pdf_bytes("synced", size=100_000)
    record = _create(repo, content, "2")
    catalog = str(store.root / "objects" / "catalog" / "records")
    (seen,) = [seen for path, seen in rec.calls if path == catalog]  # synced once
    assert record.record_id in seen  # the key was linked before the marker was made durable
    assert hashlib.sha256(content).hexdigest() not in seen  # and no guard yet


class _Recorder(Durability):
    """Syncs for real; records each directory sync with the names in ``watched`` (folders)
    visible when it began."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, set[str]]] = []
        self.watched: list[Path] = []

    def directory(self, path: Path) -> None:
        names = {p.name for folder in self.watched if folder.exists() for p in folder.iterdir()}
        self.calls.append((str(path), names))
        super().directory(path)
