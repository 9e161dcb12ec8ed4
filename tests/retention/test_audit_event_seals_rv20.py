"""Review rv19, open item 0 (High): anyone who can write the store computes a correct hash and
``prev``, appends an event at the next key (a ``hold:release`` in the placer's name), moves the
witness and deletes the hold object: ``verify`` said ok, ``fsck`` nothing, the held document was
edited, and the next checkpoint signed the forgery. With ``KHO_MASTER_KEY`` every event Kho
writes is sealed (:mod:`repository.seals`, format 2 of ``audit-event``): the forged event is a
``seal`` finding, fsck reports it, and the hold check does not act on it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import audit_tamper as tamper
import pytest
from kho_forged_holds import assert_still_held, forge_release, placed_hold
from kho_people import People, PeopleTemplates, people_in
from kho_retention import Clock, kho_env, open_kho, s3_env

from kho.config import Settings
from repository import audit_offline, formats, sealing
from repository.audit import AuditEvent, AuditLog
from repository.fsck import fsck
from repository.seals import Sealer, Verdict
from repository.storage.local import LocalStore
from web.context import Kho

MASTER = base64.b64encode(bytes(range(32))).decode()


def _env(where: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path)
    return {**env, **extra}


COPIED = pytest.StashKey[dict[str, str]]()
"""The usernames of the people :func:`sealed_kho` copied into the test's installation, if it did."""


@pytest.fixture(params=["local", "s3"])
def sealed_kho(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, people_templates: PeopleTemplates
) -> Iterator[Kho]:
    """For a test that asks for :func:`staff` too, a local installation's data folder starts as
    a copy of the accounts ``make_accounts`` makes with this master key at the clock's time
    (:class:`PeopleTemplates`); on S3 they are made in the test (``make_people``)."""
    env = _env(request.param, tmp_path, KHO_MASTER_KEY=MASTER)
    if "staff" in request.fixturenames:
        usernames = people_templates.copy_into(Settings.from_env(env), clock.now)
        if usernames is not None:
            request.node.stash[COPIED] = usernames
    installation = open_kho(env, clock)
    yield installation
    installation.close()


@pytest.fixture
def staff(sealed_kho: Kho, request: pytest.FixtureRequest) -> People:
    """One person per role of ``sealed_kho`` (``make_people``), tokens issued at the clock's time."""
    return people_in(sealed_kho, request.node.stash.get(COPIED, None))


def _assert_caught_and_still_held(kho: Kho, people: People, record_id: str, forged: AuditEvent) -> None:
    report = kho.repo.audit.verify()
    assert not report.ok
    assert [(f.kind, f.seq) for f in report.open_findings] == [("seal", forged.seq)]
    assert "niêm phong" in report.open_findings[0].message
    issues = fsck(kho.repo).issues
    assert any(i.kind == "audit" and i.subject == f"#{forged.seq}" for i in issues)
    assert any(i.kind == "hold-missing" for i in issues)  # the hold was not released
    assert_still_held(kho, people, record_id)  # on main: a new version written


def test_a_forged_hold_release_appended_at_the_next_key_is_caught_and_the_document_stays_held(
    sealed_kho: Kho, staff: People,
) -> None:
    """rv19's reproduction, on the local store and the Ceph S3 bucket (witness in its companion)."""
    people = staff
    record_id, placed = placed_hold(sealed_kho, people)
    forged = forge_release(sealed_kho, record_id, placed)
    _assert_caught_and_still_held(sealed_kho, people, record_id, forged)
    assert getattr(placed, "seal", None) is not None and placed.format_version == 2


def test_a_forged_event_inside_the_last_batch_is_caught(sealed_kho: Kho, staff: People) -> None:
    people = staff
    record_id, placed = placed_hold(sealed_kho, people)
    with sealed_kho.repo.audit.batch():  # a genuine act of two events: the log's last object
        for _ in range(2):
            sealed_kho.repo.audit.append("hunglq.ubnd", "record:view", record_id=record_id, source="test")
    assert tamper.layout(sealed_kho.repo.store)[-1].batch
    forged = forge_release(sealed_kho, record_id, placed, into_last_batch=True)
    assert tamper.layout(sealed_kho.repo.store)[-1].batch  # it went inside the batch
    _assert_caught_and_still_held(sealed_kho, people, record_id, forged)


def test_a_seal_copied_from_another_event_does_not_check(sealed_kho: Kho, staff: People) -> None:
    """The placer's own sealed event's seal, put on the forged release: it binds its body and
    position, so it checks nowhere else."""
    people = staff
    record_id, placed = placed_hold(sealed_kho, people)
    forged = forge_release(sealed_kho, record_id, placed, seal=placed.seal)
    _assert_caught_and_still_held(sealed_kho, people, record_id, forged)
    assert "không khớp" in sealed_kho.repo.audit.verify().open_findings[0].message


def test_a_genuine_event_copied_to_another_position_with_its_seal_does_not_check(
    sealed_kho: Kho, staff: People,
) -> None:
    """A whole genuine event (a download, say) replayed at the log's end: its seq and prev must
    change to chain, and the seal no longer checks."""
    people = staff
    _, placed = placed_hold(sealed_kho, people)
    fields = {k: v for k, v in placed.stored().items() if k not in {"seq", "prev", "hash", "at", "seal"}}
    forged = tamper.append_forged(sealed_kho.repo.store, fields, seal=placed.seal)
    report = sealed_kho.repo.audit.verify()
    assert [(f.kind, f.seq) for f in report.open_findings] == [("seal", forged.seq)]


def test_without_a_seal_key_then_with_one_the_legacy_events_count_and_later_forgeries_do_not(
    tmp_path: Path,
) -> None:
    """A log written without ``KHO_MASTER_KEY``: its events carry no seal and nothing is checked
    (a forgery appended then cannot be told: README). Once the key is configured, the events
    before the first sealed one are legacy (verify ok, a hold placed then is still read); an event
    appended unsealed after a sealed one is a finding and the hold readers skip it."""
    store = LocalStore(tmp_path / "store", fsync=False)
    plain = AuditLog(store)
    placed = plain.append("hunglq.ubnd", "hold:place", record_id="r1", details={"hold_id": "h1"})
    assert placed is not None and placed.seal is None and placed.format_version == 2
    early = tamper.append_forged(store, {"actor": "x", "action": "record:view", "record_id": "r1"})
    assert AuditLog(store).verify().ok  # without a key: a forgery cannot be told (documented)

    keyed = AuditLog(store, sealer=Sealer.from_master_key(bytes(range(32))))
    assert keyed.verify().ok  # legacy events (the early forgery among them: cannot be told)
    assert keyed.trusted(placed) and keyed.trusted(early)
    assert [e.action for e in keyed.hold_events(["r1"])["r1"]] == ["hold:place"]
    sealed = keyed.append("vanthu.ubnd", "record:view", record_id="r1")
    assert sealed is not None and sealed.seal is not None and keyed.trusted(sealed)
    assert keyed.verify().ok
    release = {"actor": "hunglq.ubnd", "action": "hold:release", "record_id": "r1"}
    release["details"] = {"hold_id": "h1"}
    forged = tamper.append_forged(store, release)
    fresh = AuditLog(store, sealer=Sealer.from_master_key(bytes(range(32))))  # another process
    assert [(f.kind, f.seq) for f in fresh.verify().open_findings] == [("seal", forged.seq)]
    assert not fresh.trusted(forged) and fresh.trusted(placed)
    assert [e.action for e in fresh.hold_events(["r1"])["r1"]] == ["hold:place"]  # still held
    assert [e.action for e in fresh.record_events("r1", trusted_only=True)] == [
        "hold:place",
        "record:view",
        "record:view",
    ]


def test_a_forged_acknowledgement_acknowledges_nothing(sealed_kho: Kho, staff: People) -> None:
    """An ``audit:acknowledge`` a writer of the store appends is itself a ``seal`` finding and is
    not read as an auditor's decision."""
    people = staff
    placed_hold(sealed_kho, people)
    forged = tamper.append_forged(sealed_kho.repo.store, {"actor": "kiemtoan", "action": "audit:acknowledge"})
    _, _, acknowledgements = sealed_kho.repo.audit.verify_parts()
    assert acknowledgements == []
    assert [(f.kind, f.seq) for f in sealed_kho.repo.audit.verify().open_findings] == [("seal", forged.seq)]


def test_the_offline_verifier_says_it_cannot_check_seals(sealed_kho: Kho, staff: People) -> None:
    people = staff
    placed_hold(sealed_kho, people)
    positions = [(e.seq, e.stored()) for e in sealed_kho.repo.audit.events()]
    note = audit_offline.seals_note(positions)
    assert f"{len(positions)} sự kiện mang dấu niêm phong" in note
    assert "không kiểm tra được dấu niêm phong" in note
    assert formats.AUDIT_EVENT.current == 2


@pytest.mark.parametrize(
    "seal",
    ["é" * 64, "zz" * 32, "0" * 1_000_000, 12345, ["00"], {"seal": "00"}],
    ids=["non-ascii", "non-hex", "huge", "int", "list", "object"],
)
def test_a_malformed_seal_is_a_finding_not_a_crash(sealed_kho: Kho, staff: People, seal: object) -> None:
    """Review rv21: a seal a writer of the store makes up (not hex, not ASCII, not a string, a
    megabyte long) is a ``seal`` finding; the hold check, verify and fsck do not crash on it. On
    rv20 a non-ASCII seal raised ``TypeError`` from ``hmac.compare_digest`` (verify, fsck and
    every change of the held document failed)."""
    people = staff
    record_id, placed = placed_hold(sealed_kho, people)
    forged = forge_release(sealed_kho, record_id, placed, seal=seal)  # type: ignore[arg-type]
    _assert_caught_and_still_held(sealed_kho, people, record_id, forged)


def test_a_lone_surrogate_in_a_sealed_events_body_is_broken_not_a_crash() -> None:
    """Review rv21: JSON may spell a lone surrogate (``"\\ud800"``), which does not encode as
    UTF-8. The hold check judges a forged event's seal before anything hashes it, so a seal over
    such a body is ``BROKEN``, not a ``UnicodeEncodeError`` (on rv20 it raised)."""
    sealer = Sealer.from_master_key(base64.b64decode(MASTER))
    body = {"seq": 7, "action": "hold:release", "details": {"reason": "\ud800"}, "seal": "00" * 32}
    assert sealer.event_verdict(body, after_sealed=True) is Verdict.BROKEN
    genuine = {"seq": 7, "action": "hold:release", "details": {"reason": "\ud800"}}
    assert sealer.event_verdict({**genuine, "seal": sealer.seal_event(genuine)}, after_sealed=True) is (
        Verdict.SEALED
    )


def test_a_non_ascii_seal_on_an_account_version_is_broken_not_a_crash() -> None:
    """Review rv21: the same comparison judges account and unit versions (the read path of every
    login): a non-ASCII seal there raised ``TypeError`` from ``hmac.compare_digest``."""
    sealer = Sealer.from_master_key(base64.b64decode(MASTER))
    stored = {"username": "a", "seal": "é" * 64}
    verdict = sealer.verdict(formats.ACCOUNT.name, "accounts/a/v000001", stored, formats.ACCOUNT.current)
    assert verdict is Verdict.BROKEN


def test_kho_account_seal_takes_no_forged_event_for_evidence(sealed_kho: Kho, staff: People) -> None:
    """Review rv21: ``kho account seal`` seals an unsealed account version the log vouches for,
    after verify says the chain is ok — which it says once an auditor acknowledges a ``seal``
    finding. Its reading of the log then took a forged ``account:create`` (appended after sealed
    events) for evidence, as fsck's repairs and the hold check do not: on rv20 the forged
    username was among the created accounts."""
    assert staff.usernames  # the people made (their account:create events)
    before = sealing._read_log(sealed_kho.repo)
    assert before.created  # the genuine (sealed) account:create events vouch
    tamper.append_forged(
        sealed_kho.repo.store,
        {
            "actor": "quantri",
            "action": "account:create",
            "details": {"username": "ke_gia", "object": "accounts/ke_gia/v000001"},
        },
    )
    log = sealing._read_log(sealed_kho.repo)
    assert "ke_gia" not in log.created
    assert "accounts/ke_gia/v000001" not in log.named
    assert log == before  # the forged event adds nothing


class _CountingStore(LocalStore):
    """A local store that counts its listings and reads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, fsync=False)
        self.lists = self.gets = 0

    def list(self, *args: Any, **kwargs: Any) -> Any:
        self.lists += 1
        return super().list(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.gets += 1
        return super().get(*args, **kwargs)


def test_a_legacy_event_is_judged_from_the_log_once_per_process(tmp_path: Path) -> None:
    """Review rv21 (the upgrade path): the hold check judges every hold event of a record before
    each change. A legacy (unsealed) event is trusted when no sealed event lies below it, which
    the first judgement reads from the log; on rv20 every later judgement listed the log again
    (one listing and one read per legacy hold event per change: 12 ms of CPU at 30,000 events on
    a local store, a LIST request on S3)."""
    legacy = AuditLog(LocalStore(tmp_path, fsync=False))
    for n in range(5):
        legacy.append("vanthu", "hold:place", record_id=f"r{n}", details={"hold_id": f"h{n}"})
    sealer = Sealer.from_master_key(base64.b64decode(MASTER))
    AuditLog(LocalStore(tmp_path, fsync=False), sealer=sealer).append("vanthu", "record:view", record_id="r0")
    store = _CountingStore(tmp_path)
    log = AuditLog(store, sealer=sealer)
    events = [e for e in log.events() if e.action == "hold:place"]
    assert [e.seal for e in events] == [None] * 5
    assert log.trusted(events[-1])  # legacy: nothing sealed below it
    store.lists = store.gets = 0
    for event in [*events, *events]:
        assert log.trusted(event)
    assert (store.lists, store.gets) == (0, 0)


def test_a_running_process_takes_no_forged_acknowledgement_as_leave_to_write_past_a_cut(
    sealed_kho: Kho, staff: People,
) -> None:
    """A process that knew the log's end finds it cut (the last act deleted with the witness):
    it appends past the cut only after an auditor's acknowledgement written since
    (``AuditLog._acknowledged_since``). A writer of the store without the seal key appends an
    unsealed ``audit:acknowledge`` there (review rv21, open): before, its recomputed hash was
    enough and the running process wrote on over the cut; now the acknowledgement must be one a
    reader may act on (its seal checks), so the act is refused."""
    from kho.errors import AuditChainBroken
    from repository.audit import EVENTS_PREFIX, WITNESS_KEY

    # people of this installation (the ``people`` fixture opens another, local one in the same
    # data folder, whose written head in the shared checkpoint folder this store never held)
    record_id, _placed = placed_hold(sealed_kho, staff)
    repo = sealed_kho.repo
    repo.audit.append("clerk", "content:read", record_id=record_id)  # the end this process knows
    store = repo.store
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    forged = tamper.append_forged(
        store,
        {"actor": "kiemtoan", "action": "audit:acknowledge", "details": {"reason": "Chấp nhận"}},
        at="2999-12-31T23:59:59Z",
    )
    assert forged.seal is None
    events = [i.key for i in store.list(EVENTS_PREFIX)]
    with pytest.raises(AuditChainBroken):
        repo.audit.append("clerk", "content:read", record_id=record_id)
    assert [i.key for i in store.list(EVENTS_PREFIX)] == events  # nothing written past the cut
