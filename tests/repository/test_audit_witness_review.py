"""Review r4 of f1: the witness rule is the same for ``verify`` (and so fsck and the audit page)
as for an append, and a cut end never turns into a 500. On the local folder and on S3."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, outside_anchor, pdf_bytes

from kho.errors import AuditChainBroken
from repository import formats
from repository.anchor import make_checkpoint, stored_checkpoints, verify_anchored
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, event_key, parse_object, read_witness
from repository.fsck import REFUSED_CHAIN_BROKEN, fsck
from repository.records import Repository
from repository.storage.base import ObjectStore

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


def _create(repo: Repository, number: int) -> str:
    content = pdf_bytes(f"review {number}")
    return repo.create_document("den", incoming(code_number=str(number)), content, "cv.pdf", CLERK).record_id


def _event_keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


def _put_witness(store: ObjectStore, seq: int, digest: str) -> None:
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": seq, "hash": digest}))


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_names_a_witness_that_does_not_match_its_event(backend: str, tmp_path: Path) -> None:
    """The tail cut and the witness lowered to the new end with a hash that is not that event's:
    an append refuses it (AUDIT_CHAIN_BROKEN), so ``verify`` must not call the history whole, and
    fsck must not run the repairs that append (it would meet the refusal half-way)."""
    store, keys = make_store(backend, tmp_path, "wr"), make_store(backend, tmp_path, "wrk")
    repo = new_repository(store, keys)
    ids = [_create(repo, n) for n in (1, 2, 3)]
    tail = _event_keys(store)[-1]
    store.delete(tail)
    end = parse_object(store.get(_event_keys(store)[-1]))[-1]
    _put_witness(store, end.seq, "0" * 64)
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("x", "probe")
    report = new_repository(store, keys).audit.verify()
    assert not report.ok
    assert [f.kind for f in report.findings] == ["truncated"]
    checked = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    (unaudited,) = [i for i in checked.issues if i.kind == "unaudited"]
    assert unaudited.subject == ids[2] and unaudited.refused == REFUSED_CHAIN_BROKEN
    assert read_witness(store)["hash"] == "0" * 64  # nothing moved it


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_accepts_a_witness_behind_that_matches(backend: str, tmp_path: Path) -> None:
    """Guard: a witness one act behind (a writer killed before its witness write) stays fine."""
    store, keys = make_store(backend, tmp_path, "wb"), make_store(backend, tmp_path, "wbk")
    repo = new_repository(store, keys)
    _create(repo, 1)
    behind = read_witness(store)
    _create(repo, 2)
    _put_witness(store, behind["seq"], behind["hash"])
    assert new_repository(store, keys).audit.verify().ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreadable_object_after_the_witness_is_a_refusal_not_a_format_error(
    backend: str, tmp_path: Path
) -> None:
    """An object forged just past the witnessed end: the next process's head lookup and the
    running process's collision both meet it. AUDIT_CHAIN_BROKEN (503), not FORMAT_INVALID (500)."""
    store, keys = make_store(backend, tmp_path, "wf"), make_store(backend, tmp_path, "wfk")
    repo = new_repository(store, keys)
    _create(repo, 1)
    witness = read_witness(store)
    store.put(event_key(witness["seq"] + 1), b"{not json")
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("x", "probe")
    with pytest.raises(AuditChainBroken):
        repo.audit.append("x", "probe")  # the running process: its next number is taken


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_checkpoint_is_not_signed_over_a_chain_an_earlier_checkpoint_contradicts(
    backend: str, tmp_path: Path
) -> None:
    """The tail cut below a signed checkpoint and the witness lowered to the new end (the hash
    copied: consistent, so the append check passes). ``kho audit checkpoint`` must not sign the
    shortened history: an auditor who keeps only the newest checkpoint would take it as whole."""
    store, keys = make_store(backend, tmp_path, "wc"), make_store(backend, tmp_path, "wck")
    anchor = outside_anchor(tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2, 3):
        _create(repo, n)
    first = make_checkpoint(store, anchor)
    tail = _event_keys(store)[-1]
    store.delete(tail)
    end = parse_object(store.get(_event_keys(store)[-1]))[-1]
    _put_witness(store, end.seq, end.hash)
    assert end.seq < first["seq"]
    with pytest.raises(AuditChainBroken):
        make_checkpoint(store, anchor)
    assert [cp["number"] for cp in stored_checkpoints(store)[0]] == [first["number"]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_checkpoint_after_an_earlier_one_that_still_holds_is_signed(backend: str, tmp_path: Path) -> None:
    """Guard: the ordinary sequence (records, checkpoint, more records, checkpoint) still signs."""
    store, keys = make_store(backend, tmp_path, "wg"), make_store(backend, tmp_path, "wgk")
    anchor = outside_anchor(tmp_path)
    repo = new_repository(store, keys)
    _create(repo, 1)
    make_checkpoint(store, anchor)
    _create(repo, 2)
    second = make_checkpoint(store, anchor)
    assert second["number"] == 2
    assert verify_anchored(repo.audit, anchor).ok


def test_the_quick_check_does_not_vouch_for_a_witness_that_does_not_match(tmp_path: Path) -> None:
    """``kho audit verify --quick`` (from the last verified checkpoint) after the tail past that
    checkpoint was cut and the witness lowered with a wrong hash: the full walk's finding, not ok."""
    store, keys = make_store("local", tmp_path, "wq"), make_store("local", tmp_path, "wqk")
    anchor = outside_anchor(tmp_path)
    repo = new_repository(store, keys)
    _create(repo, 1)
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor).ok  # leaves the mark the quick check starts from
    for n in (2, 3):
        _create(repo, n)
    store.delete(_event_keys(store)[-1])
    end = parse_object(store.get(_event_keys(store)[-1]))[-1]
    _put_witness(store, end.seq, "0" * 64)
    report = verify_anchored(new_repository(store, keys).audit, anchor, incremental=True)
    assert not report.ok
    assert [f.kind for f in report.findings] == ["truncated"]
