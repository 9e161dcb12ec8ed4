"""rv32 (rv23's open 6, rv28's proposal): planted checkpoint names no longer hide a newer signed
checkpoint in the store.

Without a checkpoint folder outside the store, the first write of a process checks the log
against the newest signed checkpoint in the store (one kept under object lock outlives a store
put back). Readers read at most ``CHECKPOINT_TRIES`` (16) names, newest first, so a writer of the
store who planted 16 junk names above the genuine checkpoint hid it: the store put back to
before the checkpoint was appended to, and the numbers given since were given again. Now a
process with the seal key (``KHO_MASTER_KEY``) names each checkpoint it writes
``<number>-<tag>.json``, the tag a MAC of the number under a key derived from the master key; a
reader with the key skips a tagged name whose tag does not check without reading it, and reads
the names whose tag checks on a budget of their own. Old names (``<number>.json``) are still
read as before. Local folder and real Ceph S3."""

from __future__ import annotations

from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, make_store

from kho.errors import AuditHistoryBehind
from repository.anchor import (
    CHECKPOINTS_PREFIX,
    Anchor,
    generate_key,
    make_checkpoint,
    newest_store_checkpoint,
)
from repository.audit import WITNESS_KEY
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

MASTER = bytes(range(32))


def _process(store: ObjectStore, keystore: ObjectStore, anchor: Anchor) -> Repository:
    """A Kho process with the master key started now on the store."""
    repo = Repository(store, keystore, agency_id=AGENCY, agency_name=AGENCY_NAME, master_key=MASTER)
    repo.anchor = anchor
    return repo


def _plant_junk(store: ObjectStore, above: int) -> None:
    """What a writer of the store can plant: 16 old-style names and 16 tagged ones (a tag it
    cannot compute), all numbered above the genuine checkpoint."""
    for n in range(above + 1, above + 17):
        store.put(f"{CHECKPOINTS_PREFIX}{n:012d}.json", b'{"junk": true}')
        store.put(f"{CHECKPOINTS_PREFIX}{n + 16:012d}-{'0' * 31}{n % 10}.json", b'{"junk": true}')


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_planted_names_do_not_hide_a_newer_signed_checkpoint_in_the_store(kind: str, tmp_path: Path) -> None:
    store = make_store(kind, tmp_path, "rv32-names")
    keystore = make_store(kind, tmp_path, "rv32-names-keys")
    signing = tmp_path / "outside" / "audit.key"
    signing.parent.mkdir()
    generate_key(signing)
    anchor = Anchor(signing_key=signing)  # no checkpoint folder: the store's checkpoints count
    repo = _process(store, keystore, anchor)
    repo.create_document("den", incoming(code_number="101"), None, None, CLERK)
    put_back = tamper.snapshot(store, tmp_path / "old-copy")
    repo.create_document("den", incoming(code_number="102"), None, None, CLERK)
    cp = make_checkpoint(store, anchor, sealer=repo.audit.sealer)
    (name,) = [i.key for i in store.list(CHECKPOINTS_PREFIX)]
    assert name.startswith(f"{CHECKPOINTS_PREFIX}{cp['number']:012d}-")  # tagged
    locked = store.get(name)

    put_back()  # the store put back to before the checkpoint; the checkpoint is under object lock
    if isinstance(store, LocalStore):
        store = LocalStore(store.root)  # (a new handle: the folder was replaced under the old one)
    store.put(name, locked)
    _plant_junk(store, int(cp["number"]))

    fresh = _process(store, keystore, anchor)
    assert tamper.register_numbers(fresh) == [1]
    before, witness = tamper.store_keys(store), store.get(WITNESS_KEY)
    with pytest.raises(AuditHistoryBehind) as refused:
        fresh.create_document("den", incoming(code_number="103"), None, None, CLERK)
    assert refused.value.code == "AUDIT_HISTORY_BEHIND"
    assert f"điểm mốc ký số số {cp['number']}" in refused.value.message
    assert tamper.store_keys(store) == before and store.get(WITNESS_KEY) == witness  # số 2 not again
    key = anchor.public_key()
    assert key is not None
    assert newest_store_checkpoint(store, key, sealer=repo.audit.sealer) == cp  # found, junk unread


def test_old_checkpoint_names_are_still_read_and_untagged_writers_still_name_them_so(tmp_path: Path) -> None:
    """A checkpoint written before rv32 (or by a process without the seal key) keeps its name
    ``<number>.json`` and is still the newest a reader with the key finds; the next one written
    with the key is tagged and numbered after it."""
    store = make_store("local", tmp_path, "rv32-old-names")
    keystore = make_store("local", tmp_path, "rv32-old-names-keys")
    signing = tmp_path / "outside" / "audit.key"
    signing.parent.mkdir()
    generate_key(signing)
    anchor = Anchor(signing_key=signing)
    keyless = tamper.fresh_process(store, keystore, anchor)  # as a Kho before rv32 names them
    keyless.create_document("den", incoming(code_number="101"), None, None, CLERK)
    old = make_checkpoint(store, anchor)  # no seal key: the old name
    repo = _process(store, keystore, anchor)
    assert [i.key for i in store.list(CHECKPOINTS_PREFIX)] == [
        f"{CHECKPOINTS_PREFIX}{old['number']:012d}.json"
    ]
    key = anchor.public_key()
    assert key is not None
    assert newest_store_checkpoint(store, key, sealer=repo.audit.sealer) == old
    repo.create_document("den", incoming(code_number="102"), None, None, CLERK)
    new = make_checkpoint(store, anchor, sealer=repo.audit.sealer)
    assert new["number"] == old["number"] + 1
    assert newest_store_checkpoint(store, key, sealer=repo.audit.sealer) == new
    assert newest_store_checkpoint(store, key) == new  # a reader without the key reads it too


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_older_checkpoint_copied_over_a_higher_name_is_not_the_newest(kind: str, tmp_path: Path) -> None:
    """Checkpoints reordered: a writer of the store copies the genuine checkpoint 1 (signed, an
    old name) to a name above checkpoint 2, then puts the store back to between the two. The
    reader took the first name whose body's signature held as the newest: checkpoint 1, which
    the put-back store holds, so a fresh process appended to the past."""
    store = make_store(kind, tmp_path, "rv32-moved")
    keystore = make_store(kind, tmp_path, "rv32-moved-keys")
    signing = tmp_path / "outside" / "audit.key"
    signing.parent.mkdir()
    generate_key(signing)
    anchor = Anchor(signing_key=signing)  # no checkpoint folder
    repo = _process(store, keystore, anchor)
    repo.create_document("den", incoming(code_number="101"), None, None, CLERK)
    first = make_checkpoint(store, anchor, sealer=repo.audit.sealer)
    (first_name,) = [i.key for i in store.list(CHECKPOINTS_PREFIX)]
    first_bytes = store.get(first_name)
    repo.create_document("den", incoming(code_number="102"), None, None, CLERK)
    put_back = tamper.snapshot(store, tmp_path / "old-copy")
    repo.create_document("den", incoming(code_number="103"), None, None, CLERK)
    second = make_checkpoint(store, anchor, sealer=repo.audit.sealer)
    (second_name,) = [i.key for i in store.list(CHECKPOINTS_PREFIX) if i.key != first_name]
    locked = store.get(second_name)

    put_back()
    if isinstance(store, LocalStore):
        store = LocalStore(store.root)
    store.put(second_name, locked)  # under object lock
    store.put(f"{CHECKPOINTS_PREFIX}{int(second['number']) + 5:012d}.json", first_bytes)  # moved up

    fresh = _process(store, keystore, anchor)
    assert tamper.register_numbers(fresh) == [1, 2]
    before = tamper.store_keys(store)
    with pytest.raises(AuditHistoryBehind) as refused:
        fresh.create_document("den", incoming(code_number="104"), None, None, CLERK)
    assert f"điểm mốc ký số số {second['number']}" in refused.value.message
    assert tamper.store_keys(store) == before
    assert first["number"] < second["number"]
