"""A record's objects are encoded once (issue 14, m32): the audit events of an act are written
from the bodies just hashed, not rebuilt from the events (``AuditEvent.stored``); a record's
metadata is made JSON without deep-copying each date and enum first. What is stored does not
change: the plain bytes of a fixed record's first version and the bytes of its events are the
ones main wrote (digests taken from main's code, 2026-12-06, e773fc01)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, AGENCY_NAME, CLERK, ManualClock, incoming, outgoing, pdf_bytes

from repository import audit, records
from repository.audit import AuditEvent, EventDraft, batch_bytes, build_events, event_key
from repository.metadata import DocumentMetadata, FileMetadata, Recipient, _to_jsonable
from repository.records import Repository, version_key
from repository.registers import RegisterEntry
from repository.seals import Sealer
from repository.storage.local import LocalStore
from repository.vocabulary import Direction, Secrecy, Urgency

MOMENT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
MASTER_KEY = bytes(range(32))


def _fixed_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, master_key: bytes | None = None
) -> Repository:
    """A repository on real local folders whose record ids and moments are fixed, so that what
    it stores is the same from run to run (but for the random nonces of encryption)."""
    ids = iter(f"{n:012x}0123456789ab" for n in range(1, 100))
    monkeypatch.setattr(records, "new_record_id", lambda: next(ids))
    monkeypatch.setattr(audit, "utcnow", lambda: MOMENT)
    return Repository(
        LocalStore(tmp_path / "store"),
        LocalStore(tmp_path / "keys"),
        agency_id=AGENCY,
        agency_name=AGENCY_NAME,
        clock=ManualClock(MOMENT),
        master_key=master_key,
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored_digests(repo: Repository, record_id: str, first_event: int) -> dict[str, str]:
    """SHA-256 of the plain first version, of the version the register entry carries, and of
    the stored object holding the record's events."""
    store = repo.store
    sealed = store.get(version_key(record_id, 1))
    plain = repo.keys.open(record_id, sealed, version_key(record_id, 1))
    (entry_info,) = [i for i in store.list("registers/") if i.key.endswith(".json")][-1:]
    entry = RegisterEntry.from_json(store.get(entry_info.key))
    carried = repo.keys.open(record_id, base64.b64decode(entry.sealed_version), version_key(record_id, 1))
    return {
        "version": _digest(plain),
        "entry_version": _digest(carried),
        "events": _digest(store.get(event_key(first_event))),
    }


# Taken by running this file's digest tests against main's repository/ (e773fc01); the events'
# again when m59 added the version's unit to the event that writes a version (``record_unit``,
# session 49), and when m61 added the agency to ``register:assign`` (``organ_id``, session 50):
# the versions' digests are main's of e773fc01, unchanged.
MAIN_DIGESTS = {
    "den": {
        "version": "767ff3261901edcbb3e24ac114874032b94ab6ac2bd0f7f200827357f53b46a1",
        "entry_version": "767ff3261901edcbb3e24ac114874032b94ab6ac2bd0f7f200827357f53b46a1",
        "events": "ec44ad04e9e6d5625da63a278dcfc4557d494a2ead4251808c9c1e5516a1308d",
    },
    "di": {
        "version": "1d15c8c2d9894de76a46ca7e5816828f980e75c0ce35a01ac8dc323008c00b34",
        "entry_version": "1d15c8c2d9894de76a46ca7e5816828f980e75c0ce35a01ac8dc323008c00b34",
        "events": "ddc969e76bc9af3445df27c463609ef8d8029574eaf95aa1d39d6d09d166d0b3",
    },
    "den-sealed": {
        "version": "767ff3261901edcbb3e24ac114874032b94ab6ac2bd0f7f200827357f53b46a1",
        "entry_version": "767ff3261901edcbb3e24ac114874032b94ab6ac2bd0f7f200827357f53b46a1",
        "events": "63f8b4ae6489a74e721b18676d6d0f7c498e3454a2b895d1fb552f73522bdbe3",
    },
}


@pytest.mark.parametrize("sealed", [False, True], ids=["no-seal-key", "seal-key"])
def test_a_fixed_records_stored_bytes_are_those_main_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sealed: bool
) -> None:
    repo = _fixed_repository(tmp_path, monkeypatch, master_key=MASTER_KEY if sealed else None)
    den = repo.create_document("den", incoming(), pdf_bytes("m32-golden"), "a.pdf", CLERK)
    got = {"den" + ("-sealed" if sealed else ""): _stored_digests(repo, den.record_id, 0)}
    if not sealed:
        di = repo.create_document("di", outgoing(), None, None, CLERK)
        got["di"] = _stored_digests(repo, di.record_id, 2)
    print(json.dumps(got, indent=1))  # (how the digests above were taken)
    assert got == {name: MAIN_DIGESTS[name] for name in got}
    assert repo.audit.verify().ok
    [creation] = [e for e in repo.audit.record_events(den.record_id) if e.action == "record:create"]
    assert creation.details[records.RECORD_UNIT] == AGENCY  # what changed the events' bytes (m59)
    [assign] = [e for e in repo.audit.record_events(den.record_id) if e.action == "register:assign"]
    assert assign.details["organ_id"] == AGENCY  # and then (m61)


def _drafts() -> list[EventDraft]:
    return [
        EventDraft("văn-thư", "record:create", record_id="r1", version=1, source="10.0.0.7",
                   details={"kind": "den", "files": ["ab" * 32], "nested": {"pair": ("a", 1), "x": None}}),
        EventDraft("văn-thư", "register:assign", record_id="r1", version=1, source="10.0.0.7",
                   details={"series": "CV", "year": 2026, "number": 7}),
        EventDraft("hệ-thống", "agency:add", details=None),
    ]


def _old_bytes(events: list[AuditEvent]) -> bytes:
    """What main wrote for ``events`` (its ``_write_object``), made here from
    ``dataclasses.asdict``."""
    if len(events) == 1:
        return events[0].to_json()
    return batch_bytes(events)


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("sealer", [Sealer(), Sealer.from_master_key(MASTER_KEY)], ids=["plain", "sealed"])
def test_the_bytes_written_for_an_act_are_those_of_its_events(count: int, sealer: Sealer) -> None:
    events, data = audit.built_events(12, "cd" * 32, "2026-12-05T01:02:03.456789Z", _drafts()[:count], sealer)
    assert events == build_events(12, "cd" * 32, "2026-12-05T01:02:03.456789Z", _drafts()[:count], sealer)
    assert data == _old_bytes(events)
    written = json.loads(data)
    written = written["events"] if count > 1 else [written]
    for event, item in zip(events, written, strict=True):
        stored = dataclasses.asdict(event)
        if stored["seal"] is None:
            del stored["seal"]
        assert ("seal" in stored) is sealer.active
        assert event.hash == event.compute_hash()
        assert item == json.loads(json.dumps(stored))


def test_an_act_is_written_without_rebuilding_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events of a record's creation are encoded from the bodies their hashes were computed
    over: ``AuditEvent.stored`` (a copy of every field and of the details) is not called to
    write them. Main called it once per event (two per registered record)."""
    repo = _fixed_repository(tmp_path, monkeypatch)
    repo.create_document("den", incoming(), pdf_bytes("warm"), "w.pdf", CLERK)
    calls = []
    real = AuditEvent.stored

    def counted(self: AuditEvent) -> dict[str, Any]:
        calls.append(self.action)
        return real(self)

    monkeypatch.setattr(AuditEvent, "stored", counted)
    repo.create_document("den", incoming(code_number="77"), pdf_bytes("counted"), "c.pdf", CLERK)
    repo.create_document("di", outgoing(), None, None, CLERK)
    assert calls == []
    monkeypatch.undo()
    assert repo.audit.verify().ok
    assert [e.action for e in repo.audit.events()][-4:] == ["record:create", "register:assign"] * 2


def test_a_records_metadata_is_made_json_without_deep_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DocumentMetadata.to_dict`` (every version sealed) turns each date and enum into its
    JSON value directly: main deep-copied each first (``formats.as_dict``), then converted the
    copy. Same result, value for value and type for type."""
    meta = DocumentMetadata(
        direction=Direction.DEN, type_name="Công văn", code_notation="BNV-VP", organ_name="Bộ Nội vụ",
        subject="Về việc thử nghiệm", signer_position="Chánh Văn phòng", signer_full_name="Trần Thị Hoà",
        issued_date=date(2026, 3, 2), code_number="12", organ_id="G09.01", page_amount=4,
        recipients=(Recipient("Sở Nội vụ", "G09.02"), Recipient("UBND tỉnh")),
        urgency=Urgency.KHAN, secrecy=Secrecy.MAT, due_date=date(2026, 4, 1), arrival_date=date(2026, 3, 3),
    )
    folder = FileMetadata("G09", 1, "HS-01", "Hồ sơ", "Vĩnh viễn", "vp", date(2026, 1, 1), date(2026, 12, 31))
    expected = [_to_jsonable(dataclasses.asdict(m)) for m in (meta, folder)]
    copies = []
    real = copy.deepcopy

    def counted(value: Any, memo: Any = None) -> Any:
        copies.append(type(value).__name__)
        return real(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counted)
    got = [meta.to_dict(), folder.to_dict()]
    monkeypatch.undo()
    assert copies == []
    for a, b in zip(got, expected, strict=True):
        assert json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(
            b, sort_keys=True, ensure_ascii=False
        )
        for key in b:
            assert type(a[key]) is type(b[key]), key
