"""``kho audit acknowledge``: an auditor's signed way out of a refused audit log, which one who
can only write the store cannot use. Each lock-up (a cut tail with its witness, a witness deleted
by mistake, two first acts whose writers were killed, a cut below a signed checkpoint) is
acknowledged, after which appends, checkpoints and ``fsck --repair`` work again and verify lists
the findings as acknowledged; every way around it stays a finding. Local folder and S3."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from kho_testing import (
    AUDITOR,
    BACKENDS,
    CLERK,
    LOGIN,
    incoming,
    make_store,
    new_repository,
    outside_anchor,
    pdf_bytes,
)

from kho.errors import AcknowledgeRefused, AuditChainBroken, AuditKeyMissing, PermissionDenied
from kho.timeutil import utcnow
from repository import formats
from repository.acknowledge import FORGED, findings_digest
from repository.anchor import Anchor, make_checkpoint, verify_anchored
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    EVENTS_PREFIX,
    WITNESS_KEY,
    AuditEvent,
    AuditLog,
    EventDraft,
    event_key,
    parse_object,
    read_witness,
)
from repository.fsck import fsck
from repository.records import SYSTEM, Actor, Repository
from repository.storage.base import ObjectStore

REASON = "Ổ đĩa lỗi khi sao lưu; đã đối chiếu với bản sao lưu ngày 01/12, không có dấu hiệu can thiệp."


def _create(repo: Repository, number: int) -> str:
    content = pdf_bytes(f"ack {number}")
    return repo.create_document("den", incoming(code_number=str(number)), content, "cv.pdf", CLERK).record_id


def _event_keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


def _repo(store: ObjectStore, keys: ObjectStore, anchor: Anchor | None) -> Repository:
    repo = new_repository(store, keys)
    repo.anchor = anchor
    return repo


def _digest(repo: Repository) -> str:
    return findings_digest(verify_anchored(repo.audit, repo.anchor).findings)


def _acknowledge(repo: Repository) -> tuple[AuditEvent, dict, object]:
    return repo.audit_acknowledge(actor=AUDITOR, digest=_digest(repo), reason=REASON, login=LOGIN)


def _cut_tail(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> list[str]:
    repo = _repo(store, keys, anchor)
    ids = [_create(repo, n) for n in (1, 2, 3)]
    store.delete(_event_keys(store)[-1])
    store.delete(WITNESS_KEY)
    return ids


def _witness_deleted(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> list[str]:
    repo = _repo(store, keys, anchor)
    ids = [_create(repo, n) for n in (1, 2)]
    store.delete(WITNESS_KEY)
    return ids


def _two_killed_first_acts(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> list[str]:
    """Two acts at two moments on a new store, both writers killed before their witness write
    (the stored state: events, no witness)."""
    first = AuditLog(store)
    first.append_many([EventDraft("system", "store:init")], at=utcnow() - timedelta(seconds=5))
    store.delete(WITNESS_KEY)
    second = AuditLog(store)
    second.append_many([EventDraft("system", "store:init")])
    store.delete(WITNESS_KEY)
    return []


def _cut_below_checkpoint(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> list[str]:
    repo = _repo(store, keys, anchor)
    ids = [_create(repo, n) for n in (1, 2, 3)]
    make_checkpoint(store, anchor)
    store.delete(_event_keys(store)[-1])
    store.delete(WITNESS_KEY)
    return ids


LOCK_UPS = {
    "cut-tail": _cut_tail,
    "witness-deleted": _witness_deleted,
    "two-killed-first-acts": _two_killed_first_acts,
    "cut-below-checkpoint": _cut_below_checkpoint,
}


@pytest.mark.parametrize("lockup", list(LOCK_UPS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledged_lock_up_works_again_and_stays_listed(
    backend: str, lockup: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "ak"), make_store(backend, tmp_path, "akk")
    anchor = outside_anchor(tmp_path)
    LOCK_UPS[lockup](store, keys, anchor)
    repo = _repo(store, keys, anchor)
    with pytest.raises(AuditChainBroken):
        _create(repo, 9)
    before = verify_anchored(repo.audit, anchor)
    assert not before.ok
    assert any(i.refused for i in fsck(_repo(store, keys, anchor), repair=True, grace_seconds=0).issues) or (
        lockup == "two-killed-first-acts"
    )

    event, cp, after = _acknowledge(_repo(store, keys, anchor))

    assert event.action == ACKNOWLEDGE_ACTION and event.actor == AUDITOR.user
    details = formats.upcast(formats.AUDIT_ACKNOWLEDGEMENT.name, event.details)
    assert details["reason"] == REASON and details["login"] == LOGIN
    assert [(f["kind"], f["seq"]) for f in details["findings"]] == [(f.kind, f.seq) for f in before.findings]
    assert details["witness"] == {"state": "missing"}
    assert cp["acknowledges"] == {"seq": event.seq, "hash": event.hash}
    assert (anchor.checkpoint_dir / f"{cp['number']:012d}.json").exists()  # type: ignore[operator]
    assert read_witness(store)["seq"] == event.seq
    # Verify still lists every finding, each marked with the decision; and is ok.
    assert after.ok, after.findings
    listed = {(f.kind, f.seq, f.message) for f in after.findings}
    assert {(f.kind, f.seq, f.message) for f in before.findings} <= listed
    assert all(f.acknowledged and f.acknowledged["event"] == event.seq for f in after.findings)
    assert all(f.acknowledged["by"] == AUDITOR.user for f in after.findings)  # type: ignore[index]
    # Appends (a new process too), a login-like event, a checkpoint, fsck --repair work again.
    fresh = _repo(store, keys, anchor)
    _create(fresh, 10)
    fresh.audit.append("kiemtoan.le", "account:login", source="test")
    assert make_checkpoint(store, anchor)["number"] == cp["number"] + 1
    report = fsck(_repo(store, keys, anchor), repair=True, grace_seconds=0)
    assert not any(i.refused for i in report.issues), report.issues
    assert all(i.repaired for i in report.issues if i.repairable), report.issues
    final = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert final.ok and final.findings  # still listed


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_cut_below_a_checkpoint_keeps_that_checkpoint_listed_as_acknowledged(
    backend: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "ac"), make_store(backend, tmp_path, "ack")
    anchor = outside_anchor(tmp_path)
    _cut_below_checkpoint(store, keys, anchor)
    repo = _repo(store, keys, anchor)
    with pytest.raises(AuditChainBroken):
        make_checkpoint(store, anchor)
    _acknowledge(repo)
    for n in (11, 12, 13):  # the chain grows past the old checkpoint's head: "rewritten" now
        _create(_repo(store, keys, anchor), n)
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert report.ok
    assert any(f.kind in ("truncated", "rewritten") and f.seq > 0 and f.acknowledged for f in report.findings)
    make_checkpoint(store, anchor)


def test_acknowledging_without_the_signing_key_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "nk"), make_store("local", tmp_path, "nkk")
    _cut_tail(store, keys, outside_anchor(tmp_path))
    repo = _repo(store, keys, Anchor(checkpoint_dir=tmp_path / "cps"))
    objects = sorted(i.key for i in store.list(""))
    with pytest.raises(AuditKeyMissing) as refused:
        _acknowledge(repo)
    assert refused.value.code == "AUDIT_KEY_MISSING" and refused.value.http_status != 500
    assert "KHO_AUDIT_SIGNING_KEY" in refused.value.message
    assert sorted(i.key for i in store.list("")) == objects


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledgement_written_straight_into_the_store_unlocks_nothing(
    backend: str, tmp_path: Path
) -> None:
    """One who can write the store (not the key) chains an ``audit:acknowledge`` event after
    the cut, with a valid hash and the witness at it: verify is not ok and names it, the old
    findings are not acknowledged, no checkpoint is signed over an earlier one it contradicts,
    fsck still refuses."""
    store, keys = make_store(backend, tmp_path, "fg"), make_store(backend, tmp_path, "fgk")
    anchor = outside_anchor(tmp_path)
    _cut_below_checkpoint(store, keys, anchor)
    repo = _repo(store, keys, anchor)
    report = verify_anchored(repo.audit, anchor)
    last = parse_object(store.get(_event_keys(store)[-1]))[-1]
    details = formats.stamp(
        formats.AUDIT_ACKNOWLEDGEMENT.name,
        {
            "findings": [{"kind": f.kind, "seq": f.seq, "message": f.message} for f in report.findings],
            "digest": findings_digest(report.findings),
            "reason": "giả",
            "witness": {"state": "missing"},
            "head": {"seq": last.seq, "hash": last.hash},
            "checkpoints": [1],
            "login": {},
        },
    )
    forged = AuditLog._chain(last.seq + 1, last.hash, "2026-12-02T00:00:00Z", [
        EventDraft(AUDITOR.user, ACKNOWLEDGE_ACTION, details=details)
    ])[0]
    store.put(event_key(forged.seq), forged.to_json())
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": forged.seq, "hash": forged.hash}))
    after = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not after.ok
    assert [f.seq for f in after.open_findings if f.kind == FORGED] == [forged.seq]
    assert not any(f.acknowledged for f in after.findings)
    with pytest.raises(AuditChainBroken):
        make_checkpoint(store, anchor)
    assert any(i.refused for i in fsck(_repo(store, keys, anchor), repair=True, grace_seconds=0).issues)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stale_digest_is_refused(backend: str, tmp_path: Path) -> None:
    store, keys = make_store(backend, tmp_path, "sd"), make_store(backend, tmp_path, "sdk")
    anchor = outside_anchor(tmp_path)
    _witness_deleted(store, keys, anchor)
    repo = _repo(store, keys, anchor)
    seen = _digest(repo)
    store.delete(_event_keys(store)[0])  # the findings change after the auditor looked
    with pytest.raises(AcknowledgeRefused) as refused:
        repo.audit_acknowledge(actor=AUDITOR, digest=seen, reason=REASON, login=LOGIN)
    assert refused.value.code == "FINDINGS_CHANGED"
    assert not store.exists(WITNESS_KEY)
    assert not any(ACKNOWLEDGE_ACTION in store.get(k).decode() for k in _event_keys(store))


def test_the_reason_is_required_and_bounded(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "rs"), make_store("local", tmp_path, "rsk")
    anchor = outside_anchor(tmp_path)
    _witness_deleted(store, keys, anchor)
    repo = _repo(store, keys, anchor)
    for reason in ("   ", "x" * 2001):
        with pytest.raises(AcknowledgeRefused) as refused:
            repo.audit_acknowledge(actor=AUDITOR, digest=_digest(repo), reason=reason, login=LOGIN)
        assert refused.value.code == "REASON_INVALID" and refused.value.http_status == 422
    assert not store.exists(WITNESS_KEY)


def test_a_non_auditor_is_refused_with_permission_denied_not_the_chain_refusal(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "na"), make_store("local", tmp_path, "nak")
    anchor = outside_anchor(tmp_path)
    _witness_deleted(store, keys, anchor)
    repo = _repo(store, keys, anchor)
    for who in (CLERK, repo_system_actor()):
        with pytest.raises(PermissionDenied) as refused:
            repo.audit_acknowledge(actor=who, digest=_digest(repo), reason=REASON, login=LOGIN)
        assert refused.value.http_status == 403
    assert not store.exists(WITNESS_KEY)


def repo_system_actor() -> Actor:
    return SYSTEM


def test_nothing_to_acknowledge_is_refused(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "no"), make_store("local", tmp_path, "nok")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    _create(repo, 1)
    with pytest.raises(AcknowledgeRefused) as refused:
        _acknowledge(repo)
    assert refused.value.code == "NOTHING_TO_ACKNOWLEDGE"


def test_acknowledging_a_whole_chain_gone_is_refused(tmp_path: Path) -> None:
    """Every event deleted: there is nothing to chain the decision after; starting a new chain
    would bless the loss of the whole history."""
    store, keys = make_store("local", tmp_path, "wh"), make_store("local", tmp_path, "whk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2):
        _create(repo, n)
    make_checkpoint(store, anchor)
    for key in _event_keys(store):
        store.delete(key)
    with pytest.raises(AcknowledgeRefused) as refused:
        _acknowledge(_repo(store, keys, anchor))
    assert refused.value.code == "NOTHING_TO_CHAIN_AFTER"
    assert _event_keys(store) == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tamper", ["edit-ack", "remove-ack", "cut-after", "edit-before"])
def test_a_tamper_after_the_acknowledgement_is_a_fresh_finding(
    backend: str, tamper: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "ta"), make_store(backend, tmp_path, "tak")
    anchor = outside_anchor(tmp_path)
    _cut_tail(store, keys, anchor)
    event, _, _ = _acknowledge(_repo(store, keys, anchor))
    for n in (21, 22):
        _create(_repo(store, keys, anchor), n)
    assert verify_anchored(_repo(store, keys, anchor).audit, anchor).ok
    if tamper == "edit-ack":
        raw = json.loads(store.get(event_key(event.seq)))
        raw["details"]["reason"] = "lý do khác"
        store.put(event_key(event.seq), json.dumps(raw, ensure_ascii=False).encode())
    elif tamper == "remove-ack":
        store.delete(event_key(event.seq))
    elif tamper == "cut-after":
        store.delete(_event_keys(store)[-1])
        store.delete(WITNESS_KEY)
    else:
        first = _event_keys(store)[0]
        raw = json.loads(store.get(first))
        events = raw.get("events", [raw])
        events[0]["actor"] = "ai.do"
        store.put(first, json.dumps(raw, ensure_ascii=False).encode())
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not report.ok
    assert report.open_findings



def test_the_quick_check_does_not_vouch_for_an_acknowledgement_after_its_mark(tmp_path: Path) -> None:
    """``kho audit verify --quick`` reads only the events after the last verified checkpoint: an
    unsigned ``audit:acknowledge`` among them is left to the full walk, which names it."""
    store, keys = make_store("local", tmp_path, "qk"), make_store("local", tmp_path, "qkk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    _create(repo, 1)
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor).ok  # the mark is saved
    repo.audit.append(AUDITOR.user, ACKNOWLEDGE_ACTION, details={"reason": "giả"})
    quick = verify_anchored(_repo(store, keys, anchor).audit, anchor, incremental=True)
    assert not quick.ok
    assert [f.kind for f in quick.open_findings] == [FORGED]
