"""A record destroyed by one process is unreadable in every other, even one that has its key
cached (review u7: a gunicorn or Celery worker that had read a record went on decrypting its
original after another worker shredded the key, until its cache dropped the key or it
restarted)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository

from kho.errors import KeyDestroyed, NotFound
from repository import keys as keys_module
from repository.records import Actor, Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

ARCHIVIST = Actor(user="system:retention", source="test", system=True)
DECISION = "Quyết định số 12/QĐ-UBND ngày 20/11/2026"
SECRET = b"%PDF-1.4 " + bytes([7]) * 64


@pytest.fixture(params=["local", "s3"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ObjectStore, ObjectStore]:
    return make_store(request.param, tmp_path, "s"), make_store(request.param, tmp_path, "k")


def _two_processes(stores: tuple[ObjectStore, ObjectStore]) -> tuple[Repository, Repository]:
    """Two repositories on the same stores, each with its own key cache (two workers)."""
    return new_repository(*stores), new_repository(*stores)


def test_a_cached_key_does_not_read_a_record_another_process_destroyed(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    reader, archivist = _two_processes(stores)
    record_id = reader.create_document(
        "den", incoming(code_number="7"), SECRET, "cv.pdf", CLERK
    ).record_id
    _, data = reader.read_content(record_id, actor=CLERK)  # the reader's cache now holds the key
    assert data == SECRET
    # a copy of the sealed original as a backup, or a store version the destruction left, holds it
    copy = reader.keys.seal(record_id, SECRET, "copy")
    assert reader.keys.open(record_id, copy, "copy") == SECRET
    archivist.destroy(record_id, decision=DECISION, actor=ARCHIVIST)
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)
    with pytest.raises(KeyDestroyed):
        reader.keys.open(record_id, copy, "copy")
    with pytest.raises(KeyDestroyed):  # and stays refused: the cached key was dropped
        reader.keys.open(record_id, copy, "copy")
    with pytest.raises((KeyDestroyed, NotFound)):
        reader.read_content(record_id, actor=CLERK)


def test_the_store_is_asked_once_per_record_within_the_recheck_interval(tmp_path: Path) -> None:
    """Many objects of one record opened at once cost one existence check, not one each."""
    keystore = LocalStore(tmp_path / "k")
    calls: list[str] = []
    exists = keystore.exists

    def counted(key: str) -> bool:
        calls.append(key)
        return exists(key)

    keystore.exists = counted  # type: ignore[method-assign]
    ring = keys_module.KeyRing(keystore)
    ring.create("r1")
    sealed = [ring.seal("r1", f"object {n}".encode(), f"c{n}") for n in range(20)]
    assert [ring.open("r1", s, f"c{n}") for n, s in enumerate(sealed)] == [
        f"object {n}".encode() for n in range(20)
    ]
    assert calls == ["keys/r1"]


def test_a_key_just_read_from_the_store_is_not_checked_again(tmp_path: Path) -> None:
    """The first open of a key this process has not cached reads it from the store (a GET): that
    read is the check, so no existence check (a HEAD on S3) follows it."""
    keystore = LocalStore(tmp_path / "k")
    writer = keys_module.KeyRing(keystore)
    writer.create("r1")
    sealed = writer.seal("r1", b"object", "c")
    calls: list[str] = []
    exists = keystore.exists

    def counted(key: str) -> bool:
        calls.append(key)
        return exists(key)

    keystore.exists = counted  # type: ignore[method-assign]
    reader = keys_module.KeyRing(keystore)
    assert reader.open("r1", sealed, "c") == b"object"
    assert calls == []


def test_a_cached_key_does_not_seal_anything_for_a_record_another_process_destroyed_rv7(
    stores: tuple[ObjectStore, ObjectStore],
) -> None:
    """The write path too (review rv7): a worker that read a record before another destroyed
    it (a long OCR job, a rendition) wrote its derived text sealed with the destroyed key from
    its cache, after the destruction had removed the record's derived data."""
    worker, archivist = _two_processes(stores)
    record_id = worker.create_document(
        "den", incoming(code_number="8"), SECRET, "cv.pdf", CLERK
    ).record_id
    assert worker.read_content(record_id, actor=CLERK)[1] == SECRET  # the worker caches the key
    archivist.destroy(record_id, decision=DECISION, actor=ARCHIVIST)
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)
    with pytest.raises(KeyDestroyed):
        worker.put_derived(record_id, "text.json", b'{"text": "n\\u1ed9i dung"}')
    assert list(stores[0].list(f"records/{record_id}/derived/")) == []
    with pytest.raises(KeyDestroyed):
        worker.keys.seal(record_id, b"more", "c")
