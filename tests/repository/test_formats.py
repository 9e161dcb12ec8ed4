"""Stored formats are versioned (ARCHITECTURE invariant 10): fixtures of every format Kho ever
wrote load forever; a newer-than-known version is refused with FORMAT_UNSUPPORTED."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import audit_tamper as tamper
import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import CLERK, incoming, new_repository

from ingest.signatures import PdfVerification
from ingest.status import JobStatus, JobStore
from ingest.text import ExtractedText
from kho.errors import FormatInvalid, FormatUnsupported, KhoError
from repository import formats
from repository.accounts import (
    Account,
    AccountService,
    LockReason,
    Notification,
    Status,
    Token,
    Unit,
    account_key,
    pending_events,
)
from repository.audit import AuditEvent, parse_object, read_witness
from repository.fsck import check_formats, fsck
from repository.installation import manifest_installation, parse_installation
from repository.records import Record, Repository, version_key
from repository.registers import RegisterEntry, RegisterFloor
from repository.registration import PdfIdentity
from repository.saved_searches import SavedSearch
from repository.storage.local import LocalStore
from repository.storage.s3 import guard_from_claim, is_moved_marker, pointer_from_envelope
from repository.workflow import Step
from retention.fileplan import plan_from_dict
from retention.schedule import schedule_from_dict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def _read_signatures(data: dict[str, Any]) -> object:
    return PdfVerification.from_dict(formats.upcast(formats.DERIVED_SIGNATURES.name, data))


def _read_event(data: dict[str, Any]) -> object:
    event = AuditEvent.from_json(json.dumps(data, ensure_ascii=False).encode())
    assert event.compute_hash() == event.hash, "an old event must still verify"
    return event


def _read_batch(data: dict[str, Any]) -> object:
    events = parse_object(json.dumps(data, ensure_ascii=False).encode())
    assert len(events) > 1 and all(e.compute_hash() == e.hash for e in events)
    assert all(b.prev == a.hash for a, b in itertools.pairwise(events))
    return events


def _read_checkpoint(data: dict[str, Any]) -> object:
    from repository import audit_offline

    read = formats.upcast(formats.AUDIT_CHECKPOINT.name, data)  # a newer format is refused first
    # Each fixture was signed with its own key, only the public half kept: the one it names.
    pems = FIXTURES.glob("v*/audit-checkpoint/*.pub.pem")
    keys = [audit_offline.load_public_key(p) for p in pems]
    (key,) = [k for k in keys if audit_offline.key_id(k) == data["key_id"]]
    assert audit_offline.signature_valid(data, key), "an old checkpoint must still verify"
    if "acknowledges" in data:  # signed by ``kho audit acknowledge``: the field is under the signature
        assert {"seq", "hash"} <= set(read["acknowledges"])
        stripped = {k: v for k, v in data.items() if k != "acknowledges"}
        assert not audit_offline.signature_valid(stripped, key)
    if "sealed_since" in data:  # format 2 (review rv22): the field is under the signature
        assert data[formats.FORMAT_KEY] == 2 and read["sealed_since"] == data["sealed_since"]
        assert not audit_offline.signature_valid({**data, "sealed_since": None}, key)
    else:  # format 1 says nothing of seals: read as "not said"
        assert read["sealed_since"] is None
    return read["head"]


def read_pointer_witness(envelope: dict[str, Any]) -> dict[str, Any]:
    """The witness an S3 store keeps in its companion bucket, out of its envelope."""
    return formats.loads(formats.WITNESS.name, pointer_from_envelope(json.dumps(envelope).encode())[0])


def read_claim_guard(claim: dict[str, Any]) -> object:
    """A claim in an S3 store's companion bucket: the record its guard names (version 1, m43),
    or, for a writer's stamp alone (version 0: the guard is in the data bucket), its writer."""
    data = guard_from_claim(json.dumps(claim).encode())
    if data is None:
        return formats.upcast(formats.S3_CLAIM.name, claim)["writer"]
    return formats.upcast(formats.CLAIM.name, json.loads(data))["record_id"]


READERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "audit-checkpoint": _read_checkpoint,
    "audit-acknowledgement": lambda d: formats.upcast(formats.AUDIT_ACKNOWLEDGEMENT.name, d)["findings"],
    "fsck-acknowledgement": lambda d: formats.upcast(formats.FSCK_ACKNOWLEDGEMENT.name, d)["facts"],
    "backup-manifest": lambda d: formats.upcast(formats.BACKUP_MANIFEST.name, d)["objects"][0]["sha256"],
    "installation": lambda d: parse_installation(json.dumps(d).encode()).installation_id,
    "destruction-tombstone": lambda d: formats.upcast(formats.DESTRUCTION_TOMBSTONE.name, d)["record_id"],
    "destroyed": lambda d: Record.from_dict(formats.upcast(formats.DESTROYED.name, d)["record"]),
    "record": Record.from_dict,
    "saved-search": lambda d: SavedSearch.from_dict(d).params(),
    "register-entry": lambda d: RegisterEntry.from_json(json.dumps(d).encode()),
    "register-floor": lambda d: RegisterFloor.from_json(json.dumps(d).encode()).lost,
    "register-restoring": lambda d: formats.upcast(formats.REGISTER_RESTORING.name, d)["backup_id"],
    "audit-event": _read_event,
    "audit-batch": _read_batch,
    "job": JobStatus.from_dict,
    "derived-text": lambda d: ExtractedText.from_dict(formats.upcast(formats.DERIVED_TEXT.name, d)),
    "derived-signatures": _read_signatures,
    "derived-metadata": lambda d: formats.upcast(formats.DERIVED_METADATA.name, d)["so_ky_hieu"],
    "derived-destruction-dossier": lambda d: formats.load_derived(
        json.dumps(d).encode(), "destruction-dossier.json"
    )["thuyet_minh"],
    # PdfIdentity.read keeps a newer format as ``unreadable`` (it does not raise): the format's
    # refusal is checked on the upcast (sampled by the future-version test since rv39's fixture).
    "signature-agencies": lambda d: formats.upcast(formats.SIGNATURE_AGENCIES.name, d)
    and PdfIdentity.read({"signature_agencies": d}, {}).agencies[0].cn,
    "witness": lambda d: formats.upcast(formats.WITNESS.name, d)["seq"],
    "catalog-marker": lambda d: formats.upcast(formats.CATALOG_MARKER.name, d)["kind"],
    "agency": lambda d: formats.upcast(formats.AGENCY.name, d)["organ_id"],
    "claim": lambda d: formats.upcast(formats.CLAIM.name, d)["record_id"],
    "s3-pointer": lambda d: read_pointer_witness(d)["seq"],
    "s3-claim": read_claim_guard,
    "s3-pointer-moved": lambda d: (
        is_moved_marker(json.dumps(d).encode())
        and formats.upcast(formats.S3_POINTER_MOVED.name, d)["moved_to"]["key"]
    ),
    "unit": Unit.from_dict,
    "unit-code": lambda d: formats.upcast(formats.UNIT_CODE.name, d)["unit_id"],
    "account": Account.from_dict,
    "notification": Notification.from_dict,
    "token": Token.from_dict,
    "token-revocation": lambda d: formats.upcast(formats.TOKEN_REVOCATION.name, d)["digest"],
    "token-index": lambda d: formats.upcast(formats.TOKEN_INDEX.name, d)["digest"],
    "workflow-step": lambda d: Step.from_dict(
        formats.unstamped(formats.WORKFLOW_STEP.name, formats.upcast(formats.WORKFLOW_STEP.name, d))
    ),
    "workflow-seen": lambda d: formats.upcast(formats.WORKFLOW_SEEN.name, d)["seq"],
    "workflow-withheld": lambda d: formats.upcast(formats.WORKFLOW_WITHHELD.name, d)["users"],
    "file-plan": lambda d: plan_from_dict(formats.upcast(formats.FILE_PLAN.name, d)),
    "retention-schedule": lambda d: schedule_from_dict(formats.upcast(formats.RETENTION_SCHEDULE.name, d)),
    "submission": lambda d: formats.upcast(formats.SUBMISSION.name, d)["history"][-1]["state"],
    "legal-hold": lambda d: formats.upcast(formats.LEGAL_HOLD.name, d)["hold_id"],
    "hold-order": lambda d: formats.upcast(formats.HOLD_ORDER.name, d)["targets"],
    "destruction-case": lambda d: formats.upcast(formats.DESTRUCTION_CASE.name, d)["items"][0]["record_id"],
    "transfer-receipt": lambda d: formats.upcast(formats.TRANSFER_RECEIPT.name, d)["sha256"],
    "sip-import": lambda d: formats.upcast(formats.SIP_IMPORT.name, d)["files"],
    "sip-content": lambda d: formats.upcast(formats.SIP_CONTENT.name, d)["import_id"],
    "recall": lambda d: formats.upcast(formats.RECALL.name, d)["order_ref"],
}
ACCOUNT_CLASSES: dict[str, type[Unit | Account | Notification | Token]] = {
    "unit": Unit,
    "account": Account,
    "notification": Notification,
    "token": Token,
}

FIXTURE_FILES = sorted(p for p in FIXTURES.glob("v*/*/*.json"))


def test_every_kind_has_fixtures_of_the_first_format() -> None:
    kinds = {p.parent.name for p in FIXTURE_FILES if p.parent.parent.name == "v0"}
    assert kinds == set(READERS)
    assert set(READERS) == set(formats.KINDS)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}"[:60])
def test_every_fixture_loads_forever(path: Path) -> None:
    data = json.loads(path.read_text())
    assert READERS[path.parent.name](data) is not None


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("v*/record/*.json")), ids=lambda p: p.name)
def test_a_record_fixture_round_trips_in_the_current_format(path: Path) -> None:
    record = Record.from_dict(json.loads(path.read_text()))
    stored = record.to_dict()
    assert stored[formats.FORMAT_KEY] == formats.RECORD.current
    assert Record.from_dict(stored) == record


@pytest.mark.parametrize(
    "path",
    [p for kind in ACCOUNT_CLASSES for p in sorted(FIXTURES.glob(f"v0/{kind}/*.json"))],
    ids=lambda p: p.name,
)
def test_an_account_object_stamped_format_1_round_trips_in_the_current_format(path: Path) -> None:
    kind = path.parent.name
    data = json.loads(path.read_text())
    assert data["format"] == 1, "these objects were written with the accounts' own stamp"
    obj = ACCOUNT_CLASSES[kind].from_dict(data)
    stored = obj.to_dict()
    assert stored[formats.FORMAT_KEY] == formats.KINDS[kind].current and "format" not in stored
    assert ACCOUNT_CLASSES[kind].from_dict(stored) == obj


@pytest.mark.parametrize("kind", ["unit", "unit-code", "account", "notification", "token", "token-index"])
def test_an_account_object_with_an_unknown_legacy_stamp_is_refused(kind: str) -> None:
    path = next(FIXTURES.glob(f"v0/{kind}/*.json"))
    with pytest.raises(FormatUnsupported) as info:
        READERS[kind]({**json.loads(path.read_text()), "format": 2})
    assert info.value.code == "FORMAT_UNSUPPORTED"


def test_an_account_with_a_pending_reset_is_refused_by_a_kho_that_reads_accounts_of_format_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pending reset keeps only the second half's hash as the password hash. A Kho that
    knows accounts of format 1 (no ``reset``) must refuse such a version (FORMAT_UNSUPPORTED),
    not read it and let the second half alone log in."""
    data = json.loads((FIXTURES / "v2" / "account" / "accounts_annv.vpub_v000004.json").read_text())
    account = Account.from_dict(data)
    assert account.reset is not None and account.reset.confirmed_by == "hoalt.ubnd"
    assert not account.reset.new_account  # format 2 knew only resets
    stored = account.to_dict()
    assert stored == {  # every field, stamped anew
        **data,
        formats.FORMAT_KEY: formats.ACCOUNT.current,
        "reset": {**data["reset"], "new_account": False},
    }
    older = formats.Kind("account", "phiên bản tài khoản", (formats.legacy_stamp("format", 1, "x"),))
    monkeypatch.setitem(formats.KINDS, "account", older)  # the reader of the previous release
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"
    # What that reader wrote (format 1) is still read, with no reset.
    monkeypatch.undo()
    v1 = json.loads((FIXTURES / "v1" / "account" / "accounts_annv.vpub_v000001.json").read_text())
    assert v1[formats.FORMAT_KEY] == 1 and Account.from_dict(v1).reset is None


def test_a_new_account_awaiting_its_second_person_is_refused_by_a_kho_that_reads_accounts_of_format_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 3 marks a new account's two-person initial password (``reset.new_account``). It
    reads back whole; a Kho of the previous release (format 2) refuses it (FORMAT_UNSUPPORTED)
    rather than taking it for a reset; what that Kho wrote (format 2) is still read."""
    data = json.loads((FIXTURES / "v3" / "account" / "accounts_annv.vpub_v000001.json").read_text())
    account = Account.from_dict(data)
    assert account.reset is not None and account.reset.new_account and account.reset.by == "vienqt.ubnd"
    assert account.awaiting_confirmation and account.must_change_password
    assert account.to_dict() == {**data, formats.FORMAT_KEY: formats.ACCOUNT.current}
    assert "first_hash" not in json.dumps(account.public_dict())
    older = formats.Kind(
        "account", "phiên bản tài khoản", (formats.legacy_stamp("format", 1, "x"), formats._same)
    )
    monkeypatch.setitem(formats.KINDS, "account", older)  # the reader of the previous release
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(data)
    assert info.value.code == "FORMAT_UNSUPPORTED"
    monkeypatch.undo()
    v2 = json.loads((FIXTURES / "v2" / "account" / "accounts_annv.vpub_v000004.json").read_text())
    assert v2[formats.FORMAT_KEY] == 2 and not Account.from_dict(v2).awaiting_confirmation


def test_an_account_version_carrying_its_audit_events_is_refused_by_a_kho_that_reads_accounts_of_format_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 4 carries the events of the change a version made (``audit``), which ``kho fsck
    --repair`` appends when the writer died before the log took them. It reads back with its
    events; a Kho of the previous release (format 3) refuses it, and what that Kho wrote is
    still read (with no events to repair)."""
    data = json.loads((FIXTURES / "v4" / "account" / "accounts_khoalt.vpub_v000004.json").read_text())
    account = Account.from_dict(data)
    assert account.username == "khoalt.vpub" and account.lock_reason is LockReason.ADMIN
    assert [e.action for e in pending_events(formats.upcast("account", data))] == ["account:lock"]
    same, legacy = formats._same, formats.legacy_stamp("format", 1, "x")
    older = formats.Kind("account", "phiên bản tài khoản", (legacy, same, same))
    monkeypatch.setitem(formats.KINDS, "account", older)  # the reader of the previous release
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(data)
    assert info.value.code == "FORMAT_UNSUPPORTED"
    monkeypatch.undo()
    v3 = json.loads((FIXTURES / "v3" / "account" / "accounts_annv.vpub_v000001.json").read_text())
    assert v3[formats.FORMAT_KEY] == 3 and pending_events(formats.upcast("account", v3)) == []


@pytest.mark.parametrize("name", ["accounts_doctg.vpub_v000008.json", "accounts_niemlt.vpub_v000004.json"])
def test_an_account_version_carrying_lock_instants_is_refused_by_a_kho_that_reads_accounts_of_format_5(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Format 6 may carry the lock instants of NOTES-a18 (review rv10). A Kho of the previous
    release (format 5) would ignore them and drop them in the next version it writes (a run of
    wrong passwords ended by a login there; an admin lock's ``sessions_valid_from`` lost, so its
    unlock revives the old tokens): it refuses what this Kho writes; what it wrote is still read."""
    from repository.seals import Sealer, Verdict

    path = FIXTURES / "v6" / "account" / name
    data = json.loads(path.read_text())
    key = _fixture_key(path)
    sealer = Sealer.from_master_key(bytes(range(32)))
    assert sealer.verdict("account", key, data, formats.version_of("account", data)) is Verdict.SEALED
    account = Account.from_dict(data)
    assert account.status is Status.LOCKED
    if account.lock_reason is LockReason.FAILED_LOGINS:
        assert account.failures_since is not None and account.last_failed_at is not None
        assert account.lock_until is not None and account.lock_until > account.failures_since
        assert account.sessions_valid_from is None
    else:
        assert account.lock_reason is LockReason.ADMIN and account.lock_until is None
        assert account.sessions_valid_from is not None
    stored = account.to_dict()  # what this Kho writes of it
    for field in ("lock_until", "failures_since", "last_failed_at", "sessions_valid_from"):
        assert stored.get(field) == data.get(field)
    previous = formats.Kind("account", "phiên bản tài khoản", formats.ACCOUNT.upcasters[:5])
    monkeypatch.setitem(formats.KINDS, "account", previous)  # the reader of the release before a18
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"
    monkeypatch.undo()
    v5_data = json.loads((FIXTURES / "v5" / "account" / "accounts_niemlt.vpub_v000004.json").read_text())
    v5 = Account.from_dict(v5_data)
    assert (v5.lock_until, v5.failures_since, v5.last_failed_at, v5.sessions_valid_from) == (None,) * 4


SEALED_FIXTURES = [
    *sorted(FIXTURES.glob("v5/account/*.json")),
    *sorted(FIXTURES.glob("v3/token/*.json")),
    *sorted(FIXTURES.glob("v4/token/*.json")),
    *sorted(FIXTURES.glob("v10/account/*.json")),
]


def test_a_token_of_format_3_reads_read_write_for_365_days_and_format_4_keeps_its_terms() -> None:
    """Token format 4 (review a28) carries ``expires_at``, ``scope`` and, once revoked,
    ``revoked_at``/``revoked_by`` (``generate_token_v4.py``); a token of format 3 had no expiry
    and every right: it reads ``read-write``, expiring 365 days after it was issued."""
    from datetime import timedelta

    from repository.policy import TokenScope

    (v3,) = [Token.from_dict(json.loads(p.read_text())) for p in FIXTURES.glob("v3/token/*.json")]
    assert v3.scope is TokenScope.READ_WRITE and not v3.revoked
    assert v3.expires_at == v3.created_at + timedelta(days=365)
    (v4,) = [Token.from_dict(json.loads(p.read_text())) for p in FIXTURES.glob("v4/token/*.json")]
    assert v4.scope is TokenScope.READ and v4.revoked and v4.revoked_by == "vienqt.ubnd"
    assert v4.expires_at == v4.created_at + timedelta(days=30)
    assert Token.from_dict(v4.to_dict()) == v4


def _fixture_key(path: Path) -> str:
    """The store key a sealed fixture was written at (its file name, ``/`` → ``_``)."""
    name = path.name.removesuffix(".json")
    if path.parent.name == "token":
        return f"{name.replace('_', '/', 1)}.json"
    prefix, username, version = name.rsplit("_", 2)  # accounts_<name>_v000004 (names have no _)
    return f"{prefix}/{username}/{version}"


@pytest.mark.parametrize("path", SEALED_FIXTURES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_a_sealed_fixture_checks_with_its_key_and_is_refused_by_the_release_before_seals(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Account format 5 and token format 3 carry ``seal`` (review z3): it checks with the fixture
    master key (``generate_sealed.py``) at the key the object was written at, not at another,
    nor with another master key, nor once a field is changed; a Kho of the release before seals
    refuses the format rather than ignore the seal."""
    from repository.seals import Sealer, Verdict

    kind = path.parent.name
    data = json.loads(path.read_text())
    key = _fixture_key(path)
    written_in = formats.version_of(kind, data)
    sealer = Sealer.from_master_key(bytes(range(32)))
    assert sealer.verdict(kind, key, data, written_in) is Verdict.SEALED
    assert sealer.verdict(kind, key + "x", data, written_in) is Verdict.BROKEN
    assert Sealer.from_master_key(bytes(32)).verdict(kind, key, data, written_in) is Verdict.BROKEN
    assert sealer.verdict(kind, key, {**data, "username": "vienqt.ubnd"}, written_in) is Verdict.BROKEN
    assert Sealer().verdict(kind, key, data, written_in) is Verdict.UNCHECKED
    assert ACCOUNT_CLASSES[kind].from_dict(data) is not None
    from repository.seals import SEALED_SINCE

    # The reader of the release before seals: of the format before the first sealed one (not
    # merely the format before the current one: account format 6 came after seals, review rv10).
    before_seals = SEALED_SINCE[kind] - 1 - formats.KINDS[kind].unversioned
    older = formats.Kind(kind, "x", formats.KINDS[kind].upcasters[:before_seals])
    monkeypatch.setitem(formats.KINDS, kind, older)  # the reader of the release before seals
    with pytest.raises(FormatUnsupported):
        ACCOUNT_CLASSES[kind].from_dict(data)


def test_grants_kept_in_extra_by_the_oldest_records_become_fields() -> None:
    data = json.loads((FIXTURES / "v0" / "record" / "legacy-grants-in-extra.json").read_text())
    record = Record.from_dict(data)
    assert record.grant_users == ("lananh.vp",)
    assert record.grant_units == ("VP",)
    assert "grant_users" not in record.extra
    assert data["extra"]["grant_users"] == ["lananh.vp"], "upcasting must not change its input"


def _future(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    k = formats.KINDS[kind]
    return {**data, k.key: k.current + 1}


@pytest.mark.parametrize("path", [p for p in FIXTURE_FILES if p.parent.parent.name == "v0"][::3], ids=str)
def test_a_future_version_is_refused_with_its_code(path: Path) -> None:
    kind = path.parent.name
    with pytest.raises(FormatUnsupported) as info:
        READERS[kind](_future(kind, json.loads(path.read_text())))
    assert info.value.code == "FORMAT_UNSUPPORTED"
    assert "nâng cấp Kho" in info.value.message
    assert info.value.details["version"] == formats.KINDS[kind].current + 1


@pytest.mark.parametrize("bad", ["2", -1, 1.5, True, None])
def test_a_format_version_that_is_not_one_is_invalid(bad: object) -> None:
    with pytest.raises(FormatInvalid):
        formats.upcast("job", {formats.FORMAT_KEY: bad})
    with pytest.raises(FormatInvalid):
        formats.upcast("job", [1, 2])


def test_stamp_and_upcast_are_pure() -> None:
    data = {"seq": 1, "hash": "x"}
    assert formats.stamp("witness", data) == {**data, formats.FORMAT_KEY: 1}
    assert formats.upcast("witness", data) == {**data, formats.FORMAT_KEY: 1}
    assert data == {"seq": 1, "hash": "x"}


# -- a store written by the code before formats were versioned -----------------------------------
@pytest.fixture
def old_store(tmp_path: Path) -> Repository:
    shutil.copytree(FIXTURES / "store-v0", tmp_path / "kho")
    return new_repository(LocalStore(tmp_path / "kho" / "store"), LocalStore(tmp_path / "kho" / "keys"))


def test_a_store_written_before_versioning_loads(old_store: Repository) -> None:
    repo = old_store
    records = list(repo.records())
    assert len(records) == 6
    for record in records:
        versions = [v.version for v in repo.history(record.record_id, actor=CLERK)]
        assert versions == list(range(1, record.version + 1))
    assert len(repo.register("den", 2026, actor=CLERK)) >= 2
    assert len(repo.register("hanh-chinh", 2026, actor=CLERK)) == 1
    assert repo.agencies() == [{"organ_id": "000.00.00.G22", "name": "Văn phòng Chính phủ"}]
    jobs = list(JobStore(repo.store).all())
    assert len(jobs) == 1 and jobs[0].state.value == "xong"
    ingested = repo.get(jobs[0].record_id, actor=CLERK)
    text = formats.load_derived(repo.get_derived(ingested.record_id, "text.json"), "text.json")
    assert ExtractedText.from_dict(text).page_count == 1
    assert repo.audit.verify().ok
    assert check_formats(repo) == []
    assert_clean_but_for_plaintext_jobs(repo)


def test_an_old_store_takes_new_writes_and_stays_verifiable(old_store: Repository) -> None:
    repo = old_store
    den = next(r for r in repo.records() if r.kind == "den" and r.registration is not None)
    changes = {"subject": "Trích yếu mới"}
    repo.update_metadata(den.record_id, changes, expected_version=den.version, actor=CLERK)
    repo.create_document("den", incoming(code_number="4321"), None, None, CLERK)
    report = repo.audit.verify()
    assert report.ok, report.findings
    assert report.last_seq is not None
    newest = tamper.event_at(repo.store, report.last_seq)  # the second event of the newest batch
    assert newest.format_version == formats.AUDIT_EVENT.current
    newest_key = list(repo.store.list("audit/events/"))[-1].key
    newest_object = json.loads(repo.store.get(newest_key))
    assert newest_object[formats.FORMAT_KEY] == formats.AUDIT_BATCH.current
    assert read_witness(repo.store)[formats.FORMAT_KEY] == formats.WITNESS.current
    assert_clean_but_for_plaintext_jobs(repo)


def assert_clean_but_for_plaintext_jobs(repo: Repository) -> None:
    """An old store's ingest job keeps its file name and description in plaintext (before a3's
    fix and job format 2): fsck names it (m6), and the audited scrub leaves the store clean."""
    from repository.ingest_jobs import scrub_audited

    found = fsck(repo, deep=True).issues
    assert found and {i.kind for i in found} == {"job-plaintext"}, found
    assert scrub_audited(repo.store, repo.audit, "system:test", "test").scrubbed
    assert fsck(repo, deep=True).clean


# -- what is written now carries its version -------------------------------------------------
@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))


def test_new_objects_carry_their_format_version(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK)
    repo.add_agency("000.00.00.G22", "Văn phòng Chính phủ", CLERK)
    store = repo.store
    key = version_key(record.record_id, 1)
    plain = repo.keys.open(record.record_id, store.get(key), key)
    assert json.loads(plain)[formats.FORMAT_KEY] == formats.RECORD.current
    entry_info = next(iter(store.list("registers/")))
    assert json.loads(store.get(entry_info.key))[formats.FORMAT_KEY] == formats.REGISTER_ENTRY.current
    marker = json.loads(store.get(f"catalog/records/{record.record_id}"))
    assert marker[formats.FORMAT_KEY] == formats.CATALOG_MARKER.current
    agency = json.loads(store.get("catalog/agencies/000.00.00.G22.json"))
    assert agency[formats.FORMAT_KEY] == formats.AGENCY.current
    batches = 0
    for stored in tamper.layout(store):
        batches += stored.batch
        for event in stored.events:
            assert event[formats.FORMAT_KEY] == formats.AUDIT_EVENT.current
    assert batches == 1  # the record's two events; the batch wrapper carries its own version
    for info in store.list("audit/events/"):
        wrapper = json.loads(store.get(info.key))
        assert "action" in wrapper or wrapper[formats.FORMAT_KEY] == formats.AUDIT_BATCH.current
    assert repo.audit.verify().ok
    JobStore(store).put(JobStatus.from_dict(json.loads((next(FIXTURES.glob("v0/job/*.json"))).read_text())))
    job = json.loads(store.get(next(iter(store.list("ingest/jobs/"))).key))
    assert job[formats.FORMAT_KEY] == formats.JOB.current


def test_the_format_version_of_a_new_event_is_covered_by_its_hash(repo: Repository) -> None:
    repo.create_document("den", incoming(), None, None, CLERK)
    for seq in (0, 1):  # both events of the batch

        def downgrade(raw: dict[str, Any]) -> None:
            raw[formats.FORMAT_KEY] = 0

        before = tamper.layout(repo.store)
        tamper.edit_event(repo.store, seq, downgrade)
        assert ("changed", seq) in [(f.kind, f.seq) for f in repo.audit.verify().findings]
        tamper.save(repo.store, tamper.layout(repo.store), before)
        assert repo.audit.verify().ok


def test_reading_a_future_record_gives_the_code_not_a_traceback(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK)
    future = {**record.to_dict(), formats.FORMAT_KEY: formats.RECORD.current + 1, "renamed": 1}
    key = version_key(record.record_id, 2)
    repo.store.put(key, repo.keys.seal(record.record_id, json.dumps(future).encode(), key))
    with pytest.raises(KhoError) as info:
        repo.get(record.record_id, actor=CLERK)
    assert info.value.code == "FORMAT_UNSUPPORTED"


def test_fsck_deep_names_every_object_that_does_not_load(repo: Repository) -> None:
    record = repo.create_document("den", incoming(), None, None, CLERK)
    repo.create_document("den", incoming(code_number="99"), None, None, CLERK)
    store = repo.store
    entries = [info.key for info in store.list("registers/")]
    first = json.loads(store.get(entries[0]))
    store.put(entries[0], json.dumps({**first, formats.FORMAT_KEY: 99}).encode())
    store.put("ingest/jobs/" + "ab" * 32 + ".json", b"not json")
    key = version_key(record.record_id, 2)
    future = {**record.to_dict(), "version": 2, formats.FORMAT_KEY: 42}
    store.put(key, repo.keys.seal(record.record_id, json.dumps(future).encode(), key))
    report = fsck(repo, deep=True)
    broken = {i.subject: i.message for i in report.issues if i.kind == "format"}
    assert set(broken) == {entries[0], "ingest/jobs/" + "ab" * 32 + ".json", key}
    assert "FORMAT_UNSUPPORTED" in broken[entries[0]]
    assert "mục sổ đăng ký" in broken[entries[0]]
    assert "trạng thái lượt tiếp nhận" in broken["ingest/jobs/" + "ab" * 32 + ".json"]
    # Without --deep the register entries and each record's newest version are read (to check
    # them against each other); originals, derived data and the rest are left to --deep.
    shallow = [i.subject for i in fsck(repo).issues if i.kind == "format"]
    assert shallow == [entries[0], key]


def test_fsck_deep_opens_every_account_object_and_names_each_that_does_not_load(repo: Repository) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    svc = AccountService(repo.store, repo.audit, repo.clock, hasher=cheap)
    _, admin, _ = svc.bootstrap("000.00.18.H40", "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.create_unit("000.01.18.H40", "Văn phòng", "vp", "000.00.18.H40", admin)
    an, _ = create_person(
        svc, "Nguyễn Văn An", "000.01.18.H40", ["chuyen_vien"], 0, None, admin, password=None
    )
    svc.issue_token(an.username, "api", an)
    (token,) = svc.tokens_of(an.username)
    svc.revoke_token(an.username, token.digest, admin)
    store = repo.store
    prefixes = ("units/", "catalog/unit-codes/", "accounts/", "tokens/", "token-index/", "notifications/")
    assert {p for p in prefixes for info in store.list(p)} == set(prefixes)
    assert check_formats(repo) == []

    version = account_key(an.username, 1)
    future = formats.ACCOUNT.current + 1  # (was 7: account format 7 is a20's)
    store.put(version, json.dumps({**json.loads(store.get(version)), formats.FORMAT_KEY: future}).encode())
    store.put(f"tokens/{token.digest}.json", b"{not json")
    broken = {i.subject: i.message for i in fsck(repo, deep=True).issues if i.kind == "format"}
    assert set(broken) == {version, f"tokens/{token.digest}.json"}
    assert "FORMAT_UNSUPPORTED" in broken[version] and "phiên bản tài khoản" in broken[version]
    assert "FORMAT_INVALID" in broken[f"tokens/{token.digest}.json"]
    assert "mã truy cập" in broken[f"tokens/{token.digest}.json"]


def test_fsck_deep_names_an_account_version_stored_under_another_key(repo: Repository) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    svc = AccountService(repo.store, repo.audit, repo.clock, hasher=cheap)
    _, admin, _ = svc.bootstrap("000.00.18.H40", "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    moved = account_key(admin.username, 2)
    repo.store.put(moved, repo.store.get(account_key(admin.username, 1)))
    (issue,) = check_formats(repo)
    assert issue.subject == moved and "holds" in issue.message


def test_an_account_version_carrying_when_its_lock_ended_is_refused_by_a_kho_that_reads_accounts_of_format_6(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 7 may carry ``lock_ended_at`` (review a20: a run that begins within one lock period
    of it re-locks and spares no session). A Kho of format 6 would drop it from the next version
    it writes, so a thief's re-lock there would spare their session again: it refuses format 7."""
    v6_data = json.loads((FIXTURES / "v6" / "account" / "accounts_niemlt.vpub_v000004.json").read_text())
    v6 = Account.from_dict(v6_data)
    assert v6.lock_ended_at is None  # what format 6 wrote reads as before
    ended = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    stored = replace(v6, lock_ended_at=ended).to_dict()
    assert stored[formats.FORMAT_KEY] == formats.ACCOUNT.current >= 7  # (was == 7: format 8 is a21's)
    assert Account.from_dict(stored).lock_ended_at == ended
    previous = formats.Kind("account", "phiên bản tài khoản", formats.ACCOUNT.upcasters[:6])
    monkeypatch.setitem(formats.KINDS, "account", previous)  # the reader of the release before a20
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"


def test_an_account_version_carrying_device_trust_is_refused_by_a_kho_that_reads_accounts_of_format_7(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 8 may carry ``device_key`` and the untrusted-browser lock (review a21: wrong passwords
    from a browser without a device token lock only such browsers). A Kho of format 7 would count
    them towards the account's lock again and drop the key from the next version it writes: it
    refuses format 8. What format 7 wrote reads as before (no key, no untrusted failures)."""
    v6_data = json.loads((FIXTURES / "v6" / "account" / "accounts_niemlt.vpub_v000004.json").read_text())
    old = Account.from_dict(v6_data)
    assert (old.device_key, old.untrusted_failures, old.untrusted_lock_until) == (None, 0, None)
    until = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
    stored = replace(old, device_key="ab" * 32, untrusted_failures=5, untrusted_lock_until=until).to_dict()
    assert stored[formats.FORMAT_KEY] == formats.ACCOUNT.current >= 8
    again = Account.from_dict(stored)
    assert (again.device_key, again.untrusted_failures, again.untrusted_lock_until) == ("ab" * 32, 5, until)
    assert "device_key" not in again.public_dict()
    previous = formats.Kind("account", "phiên bản tài khoản", formats.ACCOUNT.upcasters[:7])
    monkeypatch.setitem(formats.KINDS, "account", previous)  # the reader of the release before a21
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"


def test_an_account_version_carrying_known_networks_is_refused_by_a_kho_that_reads_accounts_of_format_8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 9 may carry ``known_networks`` and the known network's own new-browser lock (review
    a22). A Kho of format 8 would count such wrong passwords towards every new browser's lock
    and drop the lock in force: it refuses format 9. What format 8 wrote reads as before."""
    v6_data = json.loads((FIXTURES / "v6" / "account" / "accounts_niemlt.vpub_v000004.json").read_text())
    old = Account.from_dict(v6_data)
    assert (old.known_networks, old.network_failures, old.network_lock_until) == ((), 0, None)
    until = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
    networks = ("10.0.0.1", "2001:db8:1:2::/64")
    stored = replace(old, known_networks=networks, network_failures=5, network_lock_until=until).to_dict()
    assert stored[formats.FORMAT_KEY] == formats.ACCOUNT.current >= 9  # (was == 9: format 10 is a30's)
    again = Account.from_dict(stored)
    assert (again.known_networks, again.network_failures, again.network_lock_until) == (networks, 5, until)
    assert "known_networks" not in again.public_dict()
    previous = formats.Kind("account", "phiên bản tài khoản", formats.ACCOUNT.upcasters[:8])
    monkeypatch.setitem(formats.KINDS, "account", previous)  # the reader of the release before a22
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"


def test_an_account_version_naming_ended_tokens_is_refused_by_a_kho_that_reads_accounts_of_format_9(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 10 may carry ``ended_tokens`` (review a30: the tokens the account's acts ended,
    sealed in the version every token request reads). A Kho of format 9 would ignore them and,
    writing the next version, drop them (reviving a token whose files a writer of the store put
    back): it refuses format 10. What format 9 and before wrote reads with none."""
    from repository.accounts import token_ended_in

    v6_path = FIXTURES / "v6" / "account" / "accounts_niemlt.vpub_v000004.json"
    v6 = Account.from_dict(json.loads(v6_path.read_text()))
    assert v6.ended_tokens == ()
    (path,) = FIXTURES.glob("v10/account/*.json")
    stored = json.loads(path.read_text())
    assert stored[formats.FORMAT_KEY] == 10
    v10 = Account.from_dict(stored)
    ((short, until),) = v10.ended_tokens
    assert len(short) == 16 and token_ended_in(v10, short + "0" * 48) and not token_ended_in(v10, "0" * 64)
    assert until.tzinfo is not None and "ended_tokens" not in v10.public_dict()
    assert Account.from_dict(v10.to_dict()) == v10
    previous = formats.Kind("account", "phiên bản tài khoản", formats.ACCOUNT.upcasters[:9])
    monkeypatch.setitem(formats.KINDS, "account", previous)  # the reader of the release before a30
    with pytest.raises(FormatUnsupported) as info:
        Account.from_dict(stored)
    assert info.value.code == "FORMAT_UNSUPPORTED"


SEALED_EVENT_FIXTURES = [
    *sorted(FIXTURES.glob("v2/audit-event/*_sealed.json")),
    *sorted(FIXTURES.glob("v1/audit-batch/*_sealed.json")),
]


@pytest.mark.parametrize("path", SEALED_EVENT_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_sealed_event_fixture_checks_with_its_key_only_at_its_position(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit event format 2 carries ``seal`` inside the hashed body (review rv20,
    ``generate_sealed_events.py``): it checks with the fixture master key, not at another
    position, nor with another key, nor once a field is changed (the hash recomputed); without a
    key nothing is checked; the release before seals refuses the format."""
    from repository.seals import Sealer, Verdict

    events = parse_object(path.read_bytes())
    sealer = Sealer.from_master_key(bytes(range(32)))
    for event in events:
        assert event.format_version == 2 and event.seal is not None
        assert event.compute_hash() == event.hash
        assert sealer.event_verdict(event.body(), after_sealed=True) is Verdict.SEALED
        moved = replace(event, seq=event.seq + 1)
        assert sealer.event_verdict(moved.body(), after_sealed=False) is Verdict.BROKEN
        edited = replace(event, actor="kiemtoan.ubnd")
        assert sealer.event_verdict(edited.body(), after_sealed=False) is Verdict.BROKEN
        other = Sealer.from_master_key(bytes(32))
        assert other.event_verdict(event.body(), after_sealed=False) is Verdict.BROKEN
        assert Sealer().event_verdict(event.body(), after_sealed=True) is Verdict.UNCHECKED
        unsealed = replace(event, seal=None)
        assert sealer.event_verdict(unsealed.body(), after_sealed=True) is Verdict.BROKEN
        assert sealer.event_verdict(unsealed.body(), after_sealed=False) is Verdict.LEGACY
    kind = formats.AUDIT_EVENT.name
    older = formats.Kind(kind, "x", formats.KINDS[kind].upcasters[:1])
    monkeypatch.setitem(formats.KINDS, kind, older)  # the reader of the release before seals
    with pytest.raises(FormatUnsupported):
        parse_object(path.read_bytes())


def test_the_sealed_event_fixtures_verify_as_one_log(tmp_path: Path) -> None:
    from repository.audit import AuditLog
    from repository.seals import Sealer

    store = LocalStore(tmp_path, fsync=False)
    for path in SEALED_EVENT_FIXTURES:
        key = path.name.removesuffix("_sealed.json").replace("_", "/") + ".json"
        store.put(key, path.read_bytes())
    events = [e for p in SEALED_EVENT_FIXTURES for e in parse_object(p.read_bytes())]
    store.put(
        "audit/witness.json",
        formats.dumps(formats.WITNESS.name, {"seq": events[-1].seq, "hash": events[-1].hash}),
    )
    log = AuditLog(store, sealer=Sealer.from_master_key(bytes(range(32))))
    report = log.verify()
    assert report.ok and report.events == 3, report.findings
    assert all(log.trusted(e) for e in events)


def test_a_backup_manifest_names_its_installation_from_format_4_rv39() -> None:
    """Format 4 names the installation the backup is of; every older manifest reads as
    pre-identity (None: restored as before), a format-4 one without the field as a blank id
    (another installation's), never as pre-identity."""
    newest = json.loads((FIXTURES / "v4" / "backup-manifest" / "manifest.json").read_text())
    read = formats.upcast(formats.BACKUP_MANIFEST.name, newest)
    assert manifest_installation(read) == "6f1c2b9e-3d4a-4b5c-8e7f-0a1b2c3d4e5f"
    for path in sorted(FIXTURES.glob("v[0-3]/backup-manifest/*.json")):
        old = formats.upcast(formats.BACKUP_MANIFEST.name, json.loads(path.read_text()))
        assert manifest_installation(old) is None, path
    stripped = {k: v for k, v in newest.items() if k != "installation"}
    assert manifest_installation(formats.upcast(formats.BACKUP_MANIFEST.name, stripped)) == ""
    with pytest.raises(FormatUnsupported):
        formats.upcast(formats.BACKUP_MANIFEST.name, {**newest, formats.FORMAT_KEY: 5})


@pytest.mark.parametrize(
    "found",
    ["", "   ", "\u200b", "not-a-uuid", "6F1C2B9E-3D4A-4B5C-8E7F-0A1B2C3D4E5F", None, 7,
     " 6f1c2b9e-3d4a-4b5c-8e7f-0a1b2c3d4e5f"],
)
def test_a_blank_or_malformed_installation_id_is_refused_not_read_as_none_rv39(found: object) -> None:
    data = json.loads((FIXTURES / "v0" / "installation" / "installation.json").read_text())
    with pytest.raises(KhoError) as info:
        parse_installation(json.dumps({**data, "installation": found}).encode())
    assert info.value.code == "INSTALLATION_INVALID"
    with pytest.raises(KhoError) as info:
        parse_installation(b"{not json")
    assert info.value.code == "INSTALLATION_INVALID"
