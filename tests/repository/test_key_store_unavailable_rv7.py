"""A key store that cannot be reached is answered STORE_UNAVAILABLE, never as damaged data nor
as a destroyed key (review rv7 of c960812: the recheck of a cached key asks the key store once
a second, and any error of that request, or of the key's first read, came out of
``KeyRing.open`` as ``INTEGRITY_FAILED`` — "the stored data was changed or damaged" — which
the read paths treat as a record nobody may see (``UNOPENABLE``) and fixity as damage).

The key store is the real S3 gateway reached through a TCP relay this test cuts: a real
outage of the connection, nothing in Kho replaced."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kho_buckets import new_bucket
from kho_relay import Relay
from kho_testing import CLERK, incoming, make_store, new_repository, s3_options_or_skip

from kho.errors import StoreUnavailable
from repository import keys as keys_module
from repository.storage import open_store

SECRET = b"%PDF-1.4 " + bytes([9]) * 64


@pytest.fixture
def relayed(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(data store, key store reached through a relay, the relay) on the real S3 gateway."""
    options = s3_options_or_skip()
    relay = Relay(options["endpoint"]).start()
    bucket = new_bucket("kun", options)
    keystore = open_store(f"s3://{bucket}", **{**options, "endpoint": relay.address})
    yield make_store("s3", tmp_path, "s"), keystore, relay
    relay.stop()


def test_a_cached_key_rechecked_while_the_key_store_is_down_is_store_unavailable(relayed) -> None:  # type: ignore[no-untyped-def]
    store, keystore, relay = relayed
    repo = new_repository(store, keystore)
    record_id = repo.create_document("den", incoming(code_number="3"), SECRET, "cv.pdf", CLERK).record_id
    assert repo.read_content(record_id, actor=CLERK)[1] == SECRET  # key cached and checked
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)
    relay.stop()
    with pytest.raises(StoreUnavailable) as down:
        repo.read_content(record_id, actor=CLERK)
    assert down.value.code == "STORE_UNAVAILABLE"
    relay.start()
    # nothing was taken for destroyed or damaged: the record reads again once the store is back
    assert repo.read_content(record_id, actor=CLERK)[1] == SECRET


def test_a_key_first_read_while_the_key_store_is_down_is_store_unavailable(relayed) -> None:  # type: ignore[no-untyped-def]
    store, keystore, relay = relayed
    writer = new_repository(store, keystore)
    record_id = writer.create_document("den", incoming(code_number="4"), SECRET, "cv.pdf", CLERK).record_id
    reader = new_repository(store, keystore)  # another worker: nothing cached
    relay.stop()
    with pytest.raises(StoreUnavailable) as down:
        reader.read_content(record_id, actor=CLERK)
    assert down.value.code == "STORE_UNAVAILABLE"
    with pytest.raises(StoreUnavailable):  # a listing says so too, rather than leave it out
        reader.may_see_listed(CLERK, record_id)
    relay.start()
    assert reader.read_content(record_id, actor=CLERK)[1] == SECRET


def test_a_fixity_run_during_a_key_store_outage_fails_instead_of_naming_originals_damaged(relayed) -> None:  # type: ignore[no-untyped-def]
    """An outage of the key store is not damage: the run ends STORE_UNAVAILABLE (the scheduled
    job alerts that it failed), records no ``fixity:check`` naming damaged originals, and the
    next run once the store is back finds everything intact. Before, each original whose
    record could not be loaded was reported damaged and unverifiable (a false tamper alarm
    sent to every quản trị and lưu trữ viên), and a cached key's recheck during the outage
    made the original itself count as damaged."""
    from repository.records import Actor
    from retention.fixity import audit_fixity

    operator = Actor(user="system:fixity", source="test", system=True)
    store, keystore, relay = relayed
    writer = new_repository(store, keystore)
    for n in (5, 6):
        writer.create_document("den", incoming(code_number=f"{n}"), SECRET + bytes([n]), "cv.pdf", CLERK)
    warm = new_repository(store, keystore)
    assert audit_fixity(warm, actor=operator).damaged == ()  # keys cached and checked
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)
    cold = new_repository(store, keystore)  # another worker: nothing cached
    relay.stop()
    for repo in (cold, warm):
        with pytest.raises(StoreUnavailable):
            audit_fixity(repo, actor=operator)
    relay.start()
    checks = [e for e in writer.audit.events() if e.action == "fixity:check"]
    assert len(checks) == 1 and checks[0].details["damaged"] == []
    report = audit_fixity(new_repository(store, keystore), actor=operator)
    assert report.checked == 2 and report.damaged == () and report.unverifiable == ()


def test_a_key_store_folder_that_is_gone_is_store_unavailable_not_a_destroyed_key(tmp_path: Path) -> None:
    """The local key store's folder gone (a mount that vanished, a disk not mounted): every key
    looked "absent", so a cached key's recheck answered KEY_DESTROYED and a fresh reader the
    same, a record shown as destroyed (and counted damaged by fixity) while its key is safe on
    the disk that is not there. Now STORE_UNAVAILABLE, and the record reads once it is back."""
    from repository.storage.local import LocalStore

    keys = tmp_path / "k"
    store = LocalStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(keys))
    record_id = repo.create_document("den", incoming(code_number="7"), SECRET, "cv.pdf", CLERK).record_id
    assert repo.read_content(record_id, actor=CLERK)[1] == SECRET  # key cached and checked
    fresh = new_repository(store, LocalStore(keys))  # another worker: nothing cached
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)
    keys.rename(tmp_path / "k-unmounted")
    for reader in (repo, fresh):
        with pytest.raises(StoreUnavailable):
            reader.read_content(record_id, actor=CLERK)
    (tmp_path / "k-unmounted").rename(keys)
    for reader in (repo, fresh):
        assert reader.read_content(record_id, actor=CLERK)[1] == SECRET

