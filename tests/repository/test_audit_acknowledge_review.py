"""Review r5 of ``kho audit acknowledge``: an acknowledgement covers the findings as the auditor
saw them (the stored event at the finding's position, pinned), so a later edit of an event whose
``changed`` finding was acknowledged is a fresh finding; and an unsigned ``audit:acknowledge``
(a forged one, or the auditor's own whose signing failed) can itself be acknowledged by a valid
one, which does not make it cover anything."""

from __future__ import annotations

import json
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

from kho.errors import AcknowledgeRefused, AuditChainBroken
from repository import formats
from repository.acknowledge import FORGED, findings_digest
from repository.anchor import Anchor, make_checkpoint, verify_anchored
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    EVENTS_PREFIX,
    WITNESS_KEY,
    AuditLog,
    EventDraft,
    event_key,
    parse_object,
)
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.base import ObjectStore

REASON = "Đã đối chiếu sự kiện bị sửa với bản sao lưu: lỗi ghi đĩa, không phải can thiệp."


def _repo(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> Repository:
    repo = new_repository(store, keys)
    repo.anchor = anchor
    return repo


def _create(repo: Repository, number: int) -> None:
    repo.create_document("den", incoming(code_number=str(number)), pdf_bytes(f"r5 {number}"), "cv.pdf", CLERK)


def _edit_event(store: ObjectStore, seq: int, actor: str) -> None:
    """Rewrite the content of the event at ``seq`` in place, its stored hash left as it was."""
    key = next(i.key for i in store.list(EVENTS_PREFIX) if _holds(store, i.key, seq))
    raw = json.loads(store.get(key))
    events = raw.get("events", [raw])
    next(e for e in events if e["seq"] == seq)["actor"] = actor
    store.put(key, json.dumps(raw, ensure_ascii=False).encode())


def _holds(store: ObjectStore, key: str, seq: int) -> bool:
    return any(e.seq == seq for e in parse_object(store.get(key)))


def _digest(repo: Repository) -> str:
    return findings_digest(verify_anchored(repo.audit, repo.anchor).findings)


def _changed_and_acknowledged(backend: str, tmp_path: Path) -> tuple[ObjectStore, ObjectStore, Anchor]:
    store, keys = make_store(backend, tmp_path, "pin"), make_store(backend, tmp_path, "pink")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2, 3):
        _create(repo, n)
    _edit_event(store, 1, "nguoi.khac")
    before = verify_anchored(repo.audit, anchor)
    assert [(f.kind, f.seq) for f in before.open_findings] == [("changed", 1)]
    repo.audit_acknowledge(actor=AUDITOR, digest=_digest(repo), reason=REASON, login=LOGIN)
    assert verify_anchored(_repo(store, keys, anchor).audit, anchor).ok
    return store, keys, anchor


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_further_edit_of_an_event_whose_change_was_acknowledged_is_a_fresh_finding(
    backend: str, tmp_path: Path
) -> None:
    """The auditor acknowledged event #1 as it read then; one who writes the store rewrites it
    again (the same ``changed`` finding by kind, position and message): that is not what the
    auditor saw, so it is open again, and fsck names it."""
    store, keys, anchor = _changed_and_acknowledged(backend, tmp_path)
    _edit_event(store, 1, "ke.gia.mao")
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not report.ok
    assert [(f.kind, f.seq) for f in report.open_findings] == [("changed", 1)]
    issues = fsck(_repo(store, keys, anchor), repair=True, grace_seconds=0).issues
    assert [(i.kind, i.subject) for i in issues if i.kind == "audit"] == [("audit", "#1")]


def test_an_edit_between_the_look_and_the_acknowledgement_changes_the_digest(tmp_path: Path) -> None:
    """The digest the auditor repeats names what they looked at: an edit of the changed event
    after the look is refused with FINDINGS_CHANGED, not acknowledged unseen."""
    store, keys = make_store("local", tmp_path, "lk"), make_store("local", tmp_path, "lkk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2):
        _create(repo, n)
    _edit_event(store, 1, "nguoi.khac")
    seen = _digest(repo)
    _edit_event(store, 1, "ke.gia.mao")
    with pytest.raises(AcknowledgeRefused) as refused:
        repo.audit_acknowledge(actor=AUDITOR, digest=seen, reason=REASON, login=LOGIN)
    assert refused.value.code == "FINDINGS_CHANGED"


def test_the_acknowledged_event_unchanged_stays_acknowledged(tmp_path: Path) -> None:
    """Guard: the pin does not reopen what nobody touched (appends and a new process after)."""
    store, keys, anchor = _changed_and_acknowledged("local", tmp_path)
    for n in (11, 12):
        _create(_repo(store, keys, anchor), n)
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert report.ok and [(f.kind, f.seq) for f in report.findings] == [("changed", 1)]


def _forge_acknowledgement(store: ObjectStore) -> int:
    last = parse_object(store.get([i.key for i in store.list(EVENTS_PREFIX)][-1]))[-1]
    details = formats.stamp(
        formats.AUDIT_ACKNOWLEDGEMENT.name,
        {
            "findings": [], "digest": "0" * 64, "reason": "giả", "witness": {"state": "present"},
            "head": {"seq": last.seq, "hash": last.hash}, "checkpoints": [], "login": {},
        },
    )
    draft = EventDraft(AUDITOR.user, ACKNOWLEDGE_ACTION, details=details)
    forged = AuditLog._chain(last.seq + 1, last.hash, "2026-12-02T00:00:00Z", [draft])[0]
    store.put(event_key(forged.seq), forged.to_json())
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": forged.seq, "hash": forged.hash}))
    return forged.seq


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unsigned_acknowledgement_can_be_acknowledged_and_still_covers_nothing(
    backend: str, tmp_path: Path
) -> None:
    """An ``audit:acknowledge`` no checkpoint signs (written by one who can write the store, or
    the auditor's own whose signing failed) is an open finding: the auditor must be able to
    acknowledge it, or verify and fsck --repair stay refused for good. After that it is listed
    as acknowledged, and an edit of it is a fresh finding."""
    store, keys = make_store(backend, tmp_path, "uf"), make_store(backend, tmp_path, "ufk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2):
        _create(repo, n)
    make_checkpoint(store, anchor)
    forged = _forge_acknowledgement(store)
    repo = _repo(store, keys, anchor)
    assert [f.kind for f in verify_anchored(repo.audit, anchor).open_findings] == [FORGED]

    repo.audit_acknowledge(actor=AUDITOR, digest=_digest(repo), reason=REASON, login=LOGIN)

    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert report.ok, report.findings
    assert [(f.kind, f.seq) for f in report.findings] == [(FORGED, forged)]
    assert not any(i.refused for i in fsck(_repo(store, keys, anchor), repair=True, grace_seconds=0).issues)
    make_checkpoint(store, anchor)
    _edit_event(store, forged, "ke.gia.mao")
    assert not verify_anchored(_repo(store, keys, anchor).audit, anchor).ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_running_since_before_the_cut_append_after_the_acknowledgement(
    backend: str, tmp_path: Path
) -> None:
    """Two processes that were running before the tail was cut (their own idea of the log's
    end) and a new one all append after another process acknowledged; verify stays ok. Failed
    before a2: the first stale process wrote past the acknowledgement at its cached number (a
    gap), the second one's batch collided with the acknowledgement and was written one number
    on, overlapping the first's: three ``inserted`` findings, open. Now each act checks its
    cached end against the witness before it writes (``AuditLog._cached_head``)."""
    store, keys = make_store(backend, tmp_path, "rp"), make_store(backend, tmp_path, "rpk")
    anchor = outside_anchor(tmp_path)
    running = [_repo(store, keys, anchor), _repo(store, keys, anchor)]
    for n, repo in enumerate(running):
        _create(repo, 10 + n)
    _create(running[0], 19)
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    auditor = _repo(store, keys, anchor)
    auditor.audit_acknowledge(actor=AUDITOR, digest=_digest(auditor), reason=REASON, login=LOGIN)
    for n, repo in enumerate([*running, _repo(store, keys, anchor), *running]):
        _create(repo, 20 + n)
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert report.ok and not report.open_findings, report.findings


def _cut_below_checkpoint_acknowledged(
    backend: str, tmp_path: Path
) -> tuple[ObjectStore, ObjectStore, Anchor, int]:
    store, keys = make_store(backend, tmp_path, "mv"), make_store(backend, tmp_path, "mvk")
    anchor = outside_anchor(tmp_path)
    repo = _repo(store, keys, anchor)
    for n in (1, 2, 3):
        _create(repo, n)
    make_checkpoint(store, anchor)
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    repo = _repo(store, keys, anchor)
    event, _, _ = repo.audit_acknowledge(actor=AUDITOR, digest=_digest(repo), reason=REASON, login=LOGIN)
    return store, keys, anchor, event.seq


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledgement_copied_to_a_later_position_covers_nothing_there(
    backend: str, tmp_path: Path
) -> None:
    """The signed acknowledgement's bytes copied past a new cut (as the next event, witness at
    it): the copy is a finding (its number is not its position) and the new cut stays open."""
    store, keys, anchor, ack = _cut_below_checkpoint_acknowledged(backend, tmp_path)
    for n in (11, 12):
        _create(_repo(store, keys, anchor), n)
    make_checkpoint(store, anchor)
    for n in (13, 14):
        _create(_repo(store, keys, anchor), n)
    keys_now = [i.key for i in store.list(EVENTS_PREFIX)]
    store.delete(keys_now[-1])  # a new cut, then the old decision replayed at the new end
    end = max(e.seq for e in parse_object(store.get(keys_now[-2])))
    copied = store.get(event_key(ack))
    store.put(event_key(end + 1), copied)
    raw = json.loads(copied)
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": end + 1, "hash": raw["hash"]}))
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not report.ok
    kinds = {f.kind for f in report.open_findings}
    assert FORGED in kinds and "moved" in kinds


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_old_acknowledgement_does_not_cover_a_new_cut_below_a_later_checkpoint(
    backend: str, tmp_path: Path
) -> None:
    """After the acknowledgement the log grows and a new checkpoint is signed; a new cut below
    it with a consistent witness (right hash), the store's copy of that checkpoint deleted: the
    folder's copy still contradicts the chain, open, and no checkpoint is signed over it."""
    store, keys, anchor, _ = _cut_below_checkpoint_acknowledged(backend, tmp_path)
    for n in (11, 12, 13):
        _create(_repo(store, keys, anchor), n)
    later = make_checkpoint(store, anchor)
    keys_now = [i.key for i in store.list(EVENTS_PREFIX)]
    store.delete(keys_now[-1])
    last = parse_object(store.get(keys_now[-2]))[-1]
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": last.seq, "hash": last.hash}))
    store.delete(f"audit/checkpoints/{later['number']:012d}.json")
    report = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not report.ok
    assert any(f.seq == later["seq"] or "#" + str(later["number"]) in f.message for f in report.open_findings)
    with pytest.raises(AuditChainBroken):
        make_checkpoint(store, anchor)
