"""rv43: attacks on fsck's ``key-orphan`` repair (m24). Destroying a key makes its record's
encrypted original unreadable for ever (crypto-shredding), so ``kho fsck --repair`` may destroy
only a key no live or future record can need.

- A writer whose clock lags the fsck host's (up to :data:`kho.process.CLOCK_SKEW_SECONDS`, the
  skew Kho allows between hosts of one store) mints record ids that look minutes old the moment
  they are made. Its key may land before its marker (m24: none of them first); a repair run then
  must not take the key for a crash leftover.
- A records store whose folder is gone (a mount that vanished) must not read as "no record names
  this key".
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

import repository.records as records_module
from kho.errors import KhoError
from kho.process import CLOCK_SKEW_SECONDS
from repository.fsck import fsck
from repository.records import Record, Repository
from repository.storage.base import ObjectInfo

LAG_SECONDS = 600.0  # within the skew Kho allows, well past fsck's 300 s grace
assert 300 < LAG_SECONDS < CLOCK_SKEW_SECONDS


def _create(repo: Repository, content: bytes, number: str) -> Record:
    return repo.create_document("den", incoming(code_number=number), content, "qd.pdf", CLERK)


def _lagging_record_id() -> str:
    """A record id as a host whose clock is ``LAG_SECONDS`` behind mints it."""
    return f"{int((time.time() - LAG_SECONDS) * 1000):012x}{os.urandom(6).hex()}"


@pytest.mark.s3
def test_a_repair_while_a_lagging_writers_marker_is_on_its_way_keeps_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's key has landed, its marker is still on its way (held here until the repair
    has run), and its id looks ten minutes old to the fsck host: the repair must leave the key,
    and the record, once committed, reads back and fsck finds nothing."""
    store, keys = make_store("s3", tmp_path, "rvk"), make_store("s3", tmp_path, "rvkk")
    repo = new_repository(store, keys)
    _create(repo, pdf_bytes("earlier"), "1")
    key_landed = threading.Event()
    repaired: list[object] = []
    real_store_put_new, real_keys_put_new = store.put_new, keys.put_new

    def store_put_new(key: str, data: bytes) -> ObjectInfo:
        if key.startswith("catalog/records/") and not repaired:
            assert key_landed.wait(timeout=60)  # generous: never a matter of speed
            # Another host's `kho fsck --repair` (default grace) while the marker is in flight.
            repaired.append(fsck(new_repository(store, keys), repair=True))
        return real_store_put_new(key, data)

    def keys_put_new(key: str, data: bytes) -> ObjectInfo:
        info = real_keys_put_new(key, data)
        key_landed.set()
        return info

    monkeypatch.setattr(records_module, "new_record_id", _lagging_record_id)
    store.put_new = store_put_new  # type: ignore[method-assign]
    keys.put_new = keys_put_new  # type: ignore[method-assign]
    content = pdf_bytes("lagging writer", size=60_000)
    record = _create(repo, content, "2")
    del store.put_new, keys.put_new
    monkeypatch.undo()
    assert len(repaired) == 1
    assert repaired[0].clean, repaired[0].issues  # type: ignore[attr-defined]  # nothing is left over
    assert keys.exists(f"keys/{record.record_id}")
    _, data = new_repository(store, keys).read_content(record.record_id, actor=CLERK)
    assert data == content
    assert fsck(new_repository(store, keys)).clean


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_a_repair_just_before_a_lagging_writers_commit_point_keeps_its_record(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marker, key and original are durable, the register entry (the commit point) is next, and
    the writer's id looks ten minutes old to the fsck host: a repair run there must not take the
    record for one that stopped (it would remove its original and shred its key, and the writer
    would then commit a record nobody can read)."""
    store, keys = make_store(backend, tmp_path, "rvc"), make_store(backend, tmp_path, "rvck")
    repo = new_repository(store, keys)
    _create(repo, pdf_bytes("earlier"), "1")
    repaired: list[object] = []
    real_allocate = repo._allocate

    def allocate(*args: object, **kwargs: object) -> object:
        repaired.append(fsck(new_repository(store, keys), repair=True))  # default grace
        return real_allocate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records_module, "new_record_id", _lagging_record_id)
    monkeypatch.setattr(repo, "_allocate", allocate)
    content = pdf_bytes("lagging writer before its entry", size=60_000)
    record = _create(repo, content, "2")
    monkeypatch.undo()
    assert len(repaired) == 1
    assert repaired[0].clean, repaired[0].issues  # type: ignore[attr-defined]
    assert keys.exists(f"keys/{record.record_id}")
    _, data = new_repository(store, keys).read_content(record.record_id, actor=CLERK)
    assert data == content
    assert fsck(new_repository(store, keys)).clean


def test_a_repair_of_a_records_store_whose_folder_is_gone_destroys_no_key(tmp_path: Path) -> None:
    """The records store's folder vanished (an unmounted disk): its listings find nothing. A
    repair then either refuses or touches nothing; every key is still there when the folder is
    back, and the records read."""
    store, keys = make_store("local", tmp_path, "rvg"), make_store("local", tmp_path, "rvgk")
    repo = new_repository(store, keys)
    made = [_create(repo, pdf_bytes(f"kept {n}"), str(n)) for n in (1, 2)]
    objects = tmp_path / "rvg" / "objects"
    away = tmp_path / "rvg-away"
    shutil.move(objects, away)
    try:
        try:
            fsck(new_repository(store, keys), repair=True, grace_seconds=0)
        except KhoError:
            pass  # refused: nothing done
    finally:
        if objects.exists():
            shutil.rmtree(objects)
        shutil.move(away, objects)
    for record in made:
        assert keys.exists(f"keys/{record.record_id}")
        _, data = new_repository(store, keys).read_content(record.record_id, actor=CLERK)
        assert data.startswith(b"%PDF")


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_objects_of_the_key_store_that_are_no_records_key_are_never_removed(
    backend: str, tmp_path: Path
) -> None:
    """Only a key Kho could have made (``keys/<record id>``) is ever destroyed as a crash
    leftover. An object under ``keys/`` that is not one (an operator's note, a name in capitals,
    on S3 an object nested under a real key's name) is not a record's key: a repair leaves it,
    and every real key too."""
    store, keys = make_store(backend, tmp_path, "rvp"), make_store(backend, tmp_path, "rvpk")
    repo = new_repository(store, keys)
    made = _create(repo, pdf_bytes("real"), "1")
    old_id = f"{int((time.time() - 86_400) * 1000):012x}{os.urandom(6).hex()}"
    planted = ["keys/GHI-CHU.txt", f"keys/{old_id.upper()}"]
    if backend == "s3":
        planted.append(f"keys/{made.record_id}/{old_id}")
    for key in planted:
        keys.put_if_absent(key, b"not a record's key")
    fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    for key in planted:
        assert keys.exists(key), key
    assert keys.exists(f"keys/{made.record_id}")
    _, data = new_repository(store, keys).read_content(made.record_id, actor=CLERK)
    assert data.startswith(b"%PDF")
