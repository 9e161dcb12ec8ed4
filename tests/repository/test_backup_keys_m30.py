"""m30: the key store's backup, taken after the records store's, leaves out the key of a young
record the records copy holds nothing of (written after it, or in flight and left out whole by
the settle), so a backup taken under writes restores to a store fsck calls clean without a
``key-orphan`` (m24's fsck step 3c). Every other key-store object is copied as before."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from repository.fsck import fsck
from repository.records import Actor
from repository.storage.local import LocalStore
from retention.backup import RecordsHeld, backup, key_left_out, read_manifest, restore

OPERATOR = Actor(user="operator", source="test", system=True)
GRACE = 300.0


def _id_aged(seconds: float) -> str:
    """A record id minted ``seconds`` ago (its first 12 hex digits are the milliseconds)."""
    return f"{int((time.time() - seconds) * 1000):012x}{os.urandom(6).hex()}"


def _copied(destination: LocalStore) -> set[str]:
    return {entry["key"] for entry in read_manifest(destination)["objects"]}


def test_the_rule_leaves_out_only_young_keys_of_records_the_copy_holds_nothing_of() -> None:
    now = time.time()
    young, held_young, old = _id_aged(5), _id_aged(5), _id_aged(GRACE + 60)
    held = frozenset({held_young, old})
    left = {
        key for key in (
            f"keys/{young}",  # young, nothing held: written after the copy or left out whole
            f"keys/{held_young}",  # young but held: kept
            f"keys/{old}",  # held and old
            f"keys/{_id_aged(GRACE + 60)}",  # old, held nothing of: a crash leftover, kept
            f"keys/{young.upper()}",  # not an id of new_record_id's form
            f"keys/{young}/extra",
            "keys/",
            f"other/{young}",
            young,
            "installation.json",
        )
        if key_left_out(key, held, now=now, grace_s=GRACE)
    }
    assert left == {f"keys/{young}"}
    # the grace decides, measured from the id's own clock
    assert not key_left_out(f"keys/{young}", frozenset(), now=now + GRACE, grace_s=GRACE)
    assert key_left_out(f"keys/{young}", frozenset(), now=now, grace_s=GRACE)
    # two records copies: a key either holds is kept
    assert (RecordsHeld(frozenset({young})) | RecordsHeld(frozenset({old}))).record_ids == {young, old}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_young_key_of_a_record_committed_in_the_records_copy_is_never_left_out(
    tmp_path: Path, backend: str
) -> None:
    """Records made a moment ago (well inside the grace) and committed in the records copy, one
    of them destroyed in it (its "đã hủy" row copied) but its key put back as a destruction
    interrupted before ``keys.destroy`` leaves it: every key is in the key copy."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    ids = [
        repo.create_document("den", incoming(code_number=str(n + 1)), b"%PDF-1.4\n" + bytes([n]) * 700,
                             f"cv{n}.pdf", CLERK).record_id
        for n in range(3)
    ]
    repo.destroy(ids[2], decision="QĐ 12/QĐ-UBND", actor=OPERATOR)
    repo.keys.store.put(f"keys/{ids[2]}", os.urandom(32))  # the destruction stopped before its key
    copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
    made = backup(repo.store, copy, label="store")
    assert set(ids) <= made.records.record_ids
    keys = backup(repo.keys.store, key_copy, label="keys", records=made.records)
    assert keys.keys_left_out == 0
    assert {f"keys/{rid}" for rid in ids} <= _copied(key_copy)


def test_a_record_made_between_the_two_copies_restores_to_a_clean_store(tmp_path: Path) -> None:
    """The records copy, then a new record, then the key copy: the new record's key is left out
    (its record is not in the records copy), so the restored store is clean with no repair.
    Without ``records=`` every key is copied, as before m30 (fsck names it ``key-orphan``)."""
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    first = repo.create_document("den", incoming(code_number="1"), b"%PDF-1.4\nfirst", "a.pdf", CLERK)
    copy = LocalStore(tmp_path / "b-store")
    made = backup(repo.store, copy, label="store")
    late = repo.create_document("den", incoming(code_number="2"), b"%PDF-1.4\nlate", "b.pdf", CLERK)

    key_copy, plain = LocalStore(tmp_path / "b-keys"), LocalStore(tmp_path / "b-keys-plain")
    keys = backup(repo.keys.store, key_copy, label="keys", records=made.records)
    assert keys.keys_left_out == 1
    assert _copied(key_copy) == {f"keys/{first.record_id}"}
    backup(repo.keys.store, plain, label="keys")  # no records copy beside it: every key
    assert f"keys/{late.record_id}" in _copied(plain)

    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    assert set(fresh.record_ids()) == {first.record_id}
    assert fresh.read_content(first.record_id, actor=CLERK)[1] == b"%PDF-1.4\nfirst"

    # An old key no record names (a crash leftover) and a key-store object that is not
    # keys/<id> are copied as they are: fsck names the leftover on the restored store too.
    old = _id_aged(GRACE + 60)
    repo.keys.store.put(f"keys/{old}", os.urandom(32))
    repo.keys.store.put("keys/not-an-id", b"x")
    again = LocalStore(tmp_path / "b-keys-again")
    keys = backup(repo.keys.store, again, label="keys", records=made.records)
    assert keys.keys_left_out == 1
    assert _copied(again) == {f"keys/{first.record_id}", f"keys/{old}", "keys/not-an-id"}
