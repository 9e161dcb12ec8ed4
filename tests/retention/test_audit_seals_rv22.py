"""Review rv22: the open items of the audit event seals (rv20, rv21), on the local folder and the
Ceph S3 bucket.

1. A process without ``KHO_MASTER_KEY`` wrote unsealed events into a sealed log: every keyed
   ``verify`` named them (``seal``) and the hold check ignored them (a genuine ``hold:place``
   from such a process did not hold). It now refuses before writing anything
   (``AUDIT_SEAL_KEY_MISSING``); a log never sealed keeps working without a key.
2. ``make_checkpoint`` signed a log in which ``verify`` names a forged (unsealed-after-sealed)
   event: it now refuses (``AUDIT_SEAL_BROKEN``, the first bad position named) until an auditor
   has acknowledged the finding.
3. A writer of the store who rewrites the whole log from event 0 without seals made every event
   legacy: the readers acted on a forged ``hold:release``. The signed checkpoint (format 2) now
   says from which event the log is sealed (``sealed_since``), and ``verify`` and the readers
   that act on events honour it even when no sealed event is left in the store."""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_forged_holds import assert_still_held, forge_release, placed_hold
from kho_people import make_people
from kho_retention import Clock, kho_env, open_kho, s3_env

from kho.errors import AuditSealBroken, AuditSealKeyMissing
from repository import formats
from repository.anchor import CHECKPOINTS_PREFIX, generate_key, make_checkpoint, verify_anchored
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditEvent, AuditLog
from repository.fsck import fsck
from repository.storage.local import LocalStore
from web.context import Kho

MASTER = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(params=["local", "s3"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """A sealed installation's settings (``KHO_MASTER_KEY``, a checkpoint signing key outside
    the store) on the local folder or a new Ceph S3 bucket."""
    base = kho_env(tmp_path) if request.param == "local" else s3_env(tmp_path)
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    return {**base, "KHO_MASTER_KEY": MASTER, "KHO_AUDIT_SIGNING_KEY": str(key)}


@pytest.fixture
def sealed(env: dict[str, str], clock: Clock) -> Iterator[Kho]:
    installation = open_kho(env, clock)
    yield installation
    installation.close()


@pytest.fixture
def keyless(env: dict[str, str], clock: Clock, sealed: Kho) -> Iterator[Kho]:
    """Another process of the same installation started without ``KHO_MASTER_KEY``."""
    installation = open_kho({k: v for k, v in env.items() if k != "KHO_MASTER_KEY"}, clock)
    yield installation
    installation.close()


def _log_state(kho: Kho) -> tuple[list[str], bytes]:
    store = kho.repo.store
    return [i.key for i in store.list(EVENTS_PREFIX)], store.get(WITNESS_KEY)


# -- 1. a process without the master key ------------------------------------------------------------
def test_a_process_without_the_master_key_writes_nothing_into_a_sealed_log(sealed: Kho, keyless: Kho) -> None:
    people = make_people(sealed)
    record_id, _ = placed_hold(sealed, people)
    before = _log_state(sealed)
    with pytest.raises(AuditSealKeyMissing) as refused:  # on main: an unsealed event written
        keyless.repo.audit.append("hunglq", "hold:place", record_id=record_id, details={"hold_id": "h2"})
    error = refused.value
    assert error.code == "AUDIT_SEAL_KEY_MISSING" and error.http_status == 503
    assert "KHO_MASTER_KEY" in error.message and "niêm phong" in error.message
    assert unicodedata.is_normalized("NFC", error.message)
    assert _log_state(sealed) == before  # no event, the witness untouched
    with pytest.raises(AuditSealKeyMissing), keyless.repo.audit.batch():  # every act, not only the first
        keyless.repo.audit.append("vanthu", "record:view", record_id=record_id, source="test")
    assert _log_state(sealed) == before
    assert sealed.repo.audit.verify().ok  # no `seal` finding for an auditor to clear


def test_a_log_never_sealed_keeps_working_without_a_key(tmp_path: Path, clock: Clock) -> None:
    plain = open_kho(kho_env(tmp_path), clock)
    try:
        people = make_people(plain)
        record_id, placed = placed_hold(plain, people)
        assert placed.seal is None
        plain.repo.audit.append("vanthu", "record:view", record_id=record_id, source="test")
        assert plain.repo.audit.verify().ok
    finally:
        plain.close()


def test_the_first_append_reads_the_head_once_not_per_act(tmp_path: Path) -> None:
    """The check rides on the read of the log's head that a process's first append makes anyway:
    later acts of the process read no event object (group commit: one object per act)."""
    store = _CountingStore(tmp_path)
    AuditLog(store).append("vanthu", "record:view", record_id="r0")  # a log never sealed
    log = AuditLog(store)
    log.append("vanthu", "record:view", record_id="r1")
    store.event_gets = 0
    for n in range(5):
        log.append("vanthu", "record:view", record_id=f"r{n}")
    assert store.event_gets == 0


class _CountingStore(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root, fsync=False)
        self.event_gets = 0

    def get(self, key: str) -> bytes:  # type: ignore[override]
        if key.startswith(EVENTS_PREFIX):
            self.event_gets += 1
        return super().get(key)


# -- 2. no checkpoint signed over a forged event ----------------------------------------------------
def test_a_checkpoint_is_not_signed_over_a_forged_event_until_an_auditor_acknowledges_it(
    sealed: Kho,
) -> None:
    people = make_people(sealed)
    repo = sealed.repo
    record_id, placed = placed_hold(sealed, people)
    assert repo.anchor is not None
    make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)  # a sound log: signed
    forged = forge_release(sealed, record_id, placed)
    signed_before = [i.key for i in repo.store.list(CHECKPOINTS_PREFIX)]
    with pytest.raises(AuditSealBroken) as refused:  # on main: signed over the forgery
        make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)
    assert refused.value.code == "AUDIT_SEAL_BROKEN"
    assert refused.value.details["seq"] == forged.seq and f"#{forged.seq}" in refused.value.message
    assert [i.key for i in repo.store.list(CHECKPOINTS_PREFIX)] == signed_before
    # The auditor looks and acknowledges the finding (signed outside the store): signing resumes.
    report = repo.audit_verify(actor=people.actor("kiem_toan"))
    assert [(f.kind, f.seq) for f in report.open_findings] == [("seal", forged.seq)]
    from repository.acknowledge import findings_digest

    login = {"method": "password", "source": "test"}
    repo.audit_acknowledge(
        actor=people.actor("kiem_toan"),
        digest=findings_digest(report.open_findings),
        reason="Đã xem xét sự kiện giả mạo.",
        login=login,
    )
    cp = make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)
    assert cp["seq"] > forged.seq
    assert_still_held(sealed, people, record_id)  # acknowledged, the forgery is still not acted on


def test_a_process_without_the_master_key_signs_no_checkpoint_of_a_sealed_log(
    sealed: Kho, keyless: Kho
) -> None:
    make_people(sealed)
    anchor = keyless.repo.anchor
    assert anchor is not None
    with pytest.raises(AuditSealKeyMissing):  # it cannot tell a forged event from a genuine one
        make_checkpoint(keyless.repo.store, anchor, sealer=keyless.repo.audit.sealer)
    assert not list(keyless.repo.store.list(CHECKPOINTS_PREFIX))


# -- 3. "sealed since" in the signed checkpoint -----------------------------------------------------
def test_a_log_rewritten_from_its_start_without_seals_is_caught_between_checkpoints(
    sealed: Kho, env: dict[str, str], clock: Clock
) -> None:
    people = make_people(sealed)
    repo = sealed.repo
    record_id, placed = placed_hold(sealed, people)
    assert repo.anchor is not None
    cp = make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)
    assert cp[formats.FORMAT_KEY] == 2 and cp["sealed_since"] == 0  # sealed from its first event
    # The writer of the store: every seal stripped, the log rehashed and rechained from event 0,
    # a forged release appended, the hold object deleted. No sealed event is left.
    tamper.rewrite_consistently(repo.store, set(), strip_seals=True)
    forged = forge_release(sealed, record_id, placed)
    assert all("seal" not in raw for o in tamper.layout(repo.store) for raw in o.events)
    fresh = open_kho(env, clock)  # a process started after the rewrite (it never saw a seal)
    try:
        report = fresh.repo.audit.verify()  # the chain's own check, no checkpoint compared
        assert not report.ok  # on main: ok, every event legacy
        kinds = {f.kind for f in report.open_findings}
        assert kinds == {"seal"} and forged.seq in {f.seq for f in report.open_findings}
        assert "điểm mốc đã ký" in report.open_findings[0].message
        assert not fresh.repo.audit.trusted(tamper.event_at(repo.store, forged.seq))
        # The genuine hold:place lost its seal too: it still holds (a placement counts untrusted,
        # a release only trusted), so the deleted hold object is HOLD_MISSING.
        assert_still_held(fresh, people, record_id)  # on main: the held document was edited
        issues = fsck(fresh.repo).issues
        assert any(i.kind == "audit" for i in issues)  # the seal findings
        assert any(i.kind == "hold-missing" for i in issues)  # the stripped placement still counts
    finally:
        fresh.close()


# -- found on the way: a forged event that claims an early position -------------------------------
def test_a_forged_release_claiming_a_position_before_the_first_seal_is_not_legacy(sealed: Kho) -> None:
    """An unsealed event is legacy when no sealed event comes before it, judged by the ``seq``
    its body claims. A writer of the store appended a ``hold:release`` whose body says ``"seq":
    0`` (the log's first event, which is sealed) at the next key: on main ``trusted`` took it for
    a legacy event (nothing sealed *below* 0), for every reader that asks it. The hold check
    still refused the edit on main (another guard held; kept here as a regression check); the
    judgement itself is what fails there."""
    people = make_people(sealed)
    repo = sealed.repo
    record_id, placed = placed_hold(sealed, people)
    before = tamper.layout(repo.store)
    last = AuditEvent.from_raw(before[-1].events[-1])
    body = {
        "seq": 0,  # claimed; stored at last.seq + 1
        "at": last.at,
        "actor": placed.actor,
        "action": "hold:release",
        "record_id": record_id,
        "version": None,
        "source": "cli",
        "details": {"hold_id": placed.details["hold_id"], "reason": "Kết thúc điều tra"},
        "prev": last.hash,
        "format_version": formats.AUDIT_EVENT.current,
    }
    forged = AuditEvent(**body)
    forged = AuditEvent(**{**body, "hash": forged.compute_hash()})
    after = [*before, tamper.Stored(last.seq + 1, [forged.stored()], False)]
    tamper.save(repo.store, before, after)
    for info in list(repo.store.list(f"holds/{record_id}/")):
        repo.store.delete(info.key)
    assert not repo.audit.trusted(forged)
    assert_still_held(sealed, people, record_id)


def test_a_process_without_the_master_key_writes_no_acknowledgement_into_a_sealed_log(
    sealed: Kho, keyless: Kho
) -> None:
    """``kho audit acknowledge`` chains its event after the log's end by listing, not by the
    first-append check: it asks the same rule before it writes (on main an unsealed
    ``audit:acknowledge`` was written after sealed events: a ``seal`` finding for the next
    auditor, which acknowledged nothing)."""
    from repository.acknowledge import findings_digest

    people = make_people(sealed)
    sealed.repo.store.delete(WITNESS_KEY)  # a finding even a process without the key sees
    report = verify_anchored(keyless.repo.audit, keyless.repo.anchor)  # (audit_verify is an act)
    assert report.open_findings
    before = [i.key for i in sealed.repo.store.list(EVENTS_PREFIX)]
    with pytest.raises(AuditSealKeyMissing):
        keyless.repo.audit_acknowledge(
            actor=people.actor("kiem_toan"),
            digest=findings_digest(report.open_findings),
            reason="Đã xem xét.",
            login={"method": "password", "source": "test"},
        )
    assert [i.key for i in sealed.repo.store.list(EVENTS_PREFIX)] == before


def test_the_signed_floor_is_asked_once_per_process_and_judges_without_a_sealed_event(
    tmp_path: Path,
) -> None:
    """``sealed_since`` comes from the newest signed checkpoints (a LIST and a GET or two): a
    process asks once, whatever it judges after. Legacy events below the floor stay legacy; an
    unsealed event at the floor is a finding and not acted on, though no sealed event is in the
    store at all."""
    from repository.seals import Sealer

    store = LocalStore(tmp_path, fsync=False)
    legacy = AuditLog(store)
    for n in range(3):
        legacy.append("vanthu", "hold:place", record_id=f"r{n}", details={"hold_id": f"h{n}"})
    asked: list[int] = []

    def floor() -> int:
        asked.append(1)
        return 3

    log = AuditLog(store, sealer=Sealer.from_master_key(bytes(range(32))), sealed_since=floor)
    events = list(log.events())
    for event in [*events, *events]:
        assert log.trusted(event)
    forged = tamper.append_forged(store, {"actor": "x", "action": "hold:release", "record_id": "r0"})
    assert not log.trusted(forged)
    assert [(f.kind, f.seq) for f in log.verify().open_findings] == [("seal", 3)]
    assert asked == [1]


def test_the_offline_verifier_names_an_unsealed_event_where_a_signed_checkpoint_says_sealed(
    sealed: Kho, tmp_path: Path
) -> None:
    """``verify_audit.py`` has no seal key, but an event with no seal at all after the signed
    ``sealed_since`` was not written by Kho: a forged event appended after the last checkpoint
    (on main the export verified clean)."""
    from repository import audit_offline
    from repository.anchor import export

    make_people(sealed)
    repo = sealed.repo
    assert repo.anchor is not None
    make_checkpoint(repo.store, repo.anchor, sealer=repo.audit.sealer)
    forged = tamper.append_forged(repo.store, {"actor": "x", "action": "content:download", "record_id": "r"})
    export(repo.audit, repo.anchor, tmp_path / "export")
    public = repo.anchor.public_key()
    assert public is not None
    findings = audit_offline.verify_export(tmp_path / "export", public)
    assert [(f.kind, f.seq) for f in findings] == [("seal", forged.seq)]
