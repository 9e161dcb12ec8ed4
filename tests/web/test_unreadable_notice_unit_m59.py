"""The notice of a record that cannot be opened reaches the archivists of its unit (m59, rv59's
open item 1).

A record whose key is lost or whose stored version is damaged has no readable unit; before m59
its notice (a fixity run's alert, a read's finding: ``Kho.report_unreadable``) took it as the
agency's own: a phòng's lưu trữ viên never learnt that a record of their phòng was damaged. The
unit now comes from the record's audit events whose seal checks (``RECORD_UNIT`` in the event
that wrote each version), so the people the policy lets know of a record of that unit are told;
a record whose unit the sealed log does not say for sure is still the agency's.

Real installation (local store, accounts, sealed events where marked), real fixity runs and API
reads; the damage is done in the store and the key store as the existing fixity and unreadable
tests do it. Nothing of Kho is mocked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import audit_tamper as tamper
import pytest
from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People
from kho_testing import incoming, pdf_bytes

from repository.audit import AuditEvent
from repository.policy import Role
from repository.records import Record, version_key
from retention.operations import run_fixity
from web.app import create_app
from web.context import Kho

UNIT_C = "000.02.18.H40"
"""A unit beside phòng B, under the agency."""


def _staff(kho: Kho, people: People) -> None:
    """Phòng C, and a lưu trữ viên of phòng B and of phòng C."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.create_unit(UNIT_C, "Phòng Kế hoạch", "pkh", AGENCY, admin)
    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0)
    people.add("luu_tru_c", "Cao Văn Cường", UNIT_C, ("luu_tru",), 0)


def _phong_b_record(kho: Kho, people: People, number: str) -> Record:
    record = kho.repo.create_document(
        "den", incoming(code_number=number), pdf_bytes(f"m59-{number}"), "b.pdf", people.actor("van_thu_b")
    )
    assert kho.repo.facts(record).unit == UNIT_B
    return record


def _damage_version(kho: Kho, record: Record) -> None:
    """One bit of its stored (sealed) newest version flipped."""
    path = Path(kho.settings.data_dir) / "store" / "objects" / version_key(record.record_id, record.version)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))


def _lose_key(kho: Kho, record: Record) -> None:
    """Its data key gone from the key store (not a destruction: no "đã hủy" row)."""
    kho.repo.keys.store.delete(f"keys/{record.record_id}")


def _garble_key(kho: Kho, record: Record) -> None:
    """Its wrapped data key overwritten in the key store (it no longer unwraps)."""
    kho.repo.keys.store.put(f"keys/{record.record_id}", bytes(40))


def _notes(kho: Kho, people: People, who: str, record_id: str) -> list[str]:
    return [
        n.message
        for n in kho.accounts.notifications(people.usernames[who])
        if n.kind == "fixity" and record_id in n.message
    ]


def _fixity(kho: Kho, people: People) -> None:
    run_fixity(kho.repo, kho.settings, people.actor("luu_tru"), today=date(2026, 12, 7), period_days=1)


def _told_to_phong_b(kho: Kho, people: People, record_id: str) -> None:
    """Phòng B's lưu trữ viên and the agency's quản trị are told of it, in Vietnamese; phòng C's
    lưu trữ viên is not, nor the agency's (who would not see a phòng B record either)."""
    phong_b = _notes(kho, people, "luu_tru_b", record_id)
    assert len(phong_b) == 1, phong_b  # before: none (taken as the agency's record)
    assert "không" in phong_b[0] or "hỏng" in phong_b[0], phong_b
    assert len(_notes(kho, people, "quan_tri", record_id)) == 1
    assert _notes(kho, people, "luu_tru_c", record_id) == []
    assert _notes(kho, people, "luu_tru", record_id) == []  # before: told


def _told_to_agency_only(kho: Kho, people: People, record_id: str) -> None:
    assert len(_notes(kho, people, "quan_tri", record_id)) == 1
    assert len(_notes(kho, people, "luu_tru", record_id)) == 1
    assert _notes(kho, people, "luu_tru_b", record_id) == []
    assert _notes(kho, people, "luu_tru_c", record_id) == []


@pytest.mark.sealed
@pytest.mark.parametrize(
    "damage", [_damage_version, _lose_key, _garble_key], ids=["version-damaged", "key-lost", "key-garbled"]
)
def test_a_fixity_alert_of_a_phongs_unopenable_record_reaches_its_archivist(
    kho: Kho, people: People, damage: object
) -> None:
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5901")
    fine = _phong_b_record(kho, people, "5902")
    assert callable(damage)
    damage(kho, record)
    fresh = Kho(kho.settings)  # a new process: no key cached
    try:
        _fixity(fresh, people)
        _told_to_phong_b(fresh, people, record.record_id)
        phong_b = _notes(fresh, people, "luu_tru_b", record.record_id)[0]
        assert fine.record_id not in phong_b and "CHƯA SỬA ĐƯỢC 1" in phong_b, phong_b
    finally:
        fresh.close()


@pytest.mark.sealed
@pytest.mark.parametrize("damage", [_damage_version, _garble_key], ids=["version-damaged", "key-garbled"])
def test_a_read_finding_of_a_phongs_unopenable_record_reaches_its_archivist(
    kho: Kho, people: People, damage: object
) -> None:
    """``Kho.report_unreadable``, through the API read that meets the record (a key gone is
    ``KEY_DESTROYED``, 410, not a finding of a read: the fixity run finds it)."""
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5903")
    assert callable(damage)
    damage(kho, record)
    fresh = Kho(kho.settings)
    try:
        client: FlaskClient = create_app(fresh.settings, kho=fresh).test_client()
        answer = client.get(f"/api/records/{record.record_id}", headers=people.headers("van_thu_b"))
        assert answer.status_code == 503 and answer.json["error"]["code"] == "RECORD_UNREADABLE", answer.json
        _told_to_phong_b(fresh, people, record.record_id)
    finally:
        fresh.close()


@pytest.mark.sealed
def test_a_record_moved_to_another_phong_is_told_to_the_phong_that_holds_it(kho: Kho, people: People) -> None:
    """The unit of the newest version counts, not the one the record was made in."""
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5904")
    both = people.add("van_thu_bc", "Lý Thị Hai", UNIT_B, ("van_thu",), 0)  # văn thư of B and of C
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(both.username, [(UNIT_B, Role.VAN_THU), (UNIT_C, Role.VAN_THU)], admin)
    moved = kho.repo.update_metadata(
        record.record_id, {"unit": UNIT_C}, expected_version=record.version, actor=people.actor("van_thu_bc"),
        note="Chuyển cho Phòng Kế hoạch",
    )
    assert kho.repo.facts(moved).unit == UNIT_C
    _damage_version(kho, moved)
    fresh = Kho(kho.settings)
    try:
        _fixity(fresh, people)
        assert len(_notes(fresh, people, "luu_tru_c", record.record_id)) == 1  # before: none
        assert _notes(fresh, people, "luu_tru_b", record.record_id) == []
        assert len(_notes(fresh, people, "quan_tri", record.record_id)) == 1
    finally:
        fresh.close()


@pytest.mark.sealed
def test_a_version_the_log_does_not_name_leaves_the_record_to_the_agency(kho: Kho, people: People) -> None:
    """A writer of the store who puts a version of their own beside the record (it does not open:
    they have no key, and the log names no such version) does not choose who is told: the
    sources disagree, the agency's people are told, phòng B's and C's are not."""
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5905")
    kho.repo.store.put(version_key(record.record_id, record.version + 1), b"\x00" * 64)
    fresh = Kho(kho.settings)
    try:
        _fixity(fresh, people)
        _told_to_agency_only(fresh, people, record.record_id)
    finally:
        fresh.close()


@pytest.mark.sealed
@pytest.mark.parametrize(
    "copied_seal", ["none", "own", "other"], ids=["no-seal", "seal-copied", "other-records-event"]
)
def test_a_forged_event_does_not_send_the_notice_to_a_unit_of_the_forgers_choosing(
    kho: Kho, people: People, copied_seal: str
) -> None:
    """A writer of the store (no seal key) damages phòng B's record and appends, with a correct
    hash and ``prev``, an event saying its next version is phòng C's (unsealed, or carrying the
    creation event's seal, or a phòng C record's sealed creation event copied whole, its seal and
    ``record_unit`` included, naming phòng B's record and its next version: review rv61): the
    event's seal does not check, it is not acted on; phòng B's lưu trữ viên is told, phòng C's
    is not."""
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5907")
    [made] = [e for e in kho.repo.audit.record_events(record.record_id) if e.action == "record:create"]
    forged = {
        "actor": made.actor, "action": "record:update", "record_id": record.record_id, "version": 2,
        "details": {"fields": ["unit"], "record_unit": UNIT_C},
    }
    seal = made.seal if copied_seal == "own" else None
    if copied_seal == "other":
        people.add("van_thu_c", "Hà Văn Chín", UNIT_C, ("van_thu",), 0)
        in_c = kho.repo.create_document(
            "den", incoming(code_number="5917"), pdf_bytes("m59-5917"), "c.pdf", people.actor("van_thu_c")
        )
        [other] = [e for e in kho.repo.audit.record_events(in_c.record_id) if e.action == "record:create"]
        assert other.details["record_unit"] == UNIT_C and kho.repo.audit.seal_checks(other)
        forged = {
            "actor": other.actor, "action": other.action, "record_id": record.record_id, "version": 2,
            "details": other.details,
        }
        seal = other.seal
    tamper.append_forged(kho.repo.store, forged, seal=seal)
    _damage_version(kho, record)
    fresh = Kho(kho.settings)
    try:
        _fixity(fresh, people)
        assert _notes(fresh, people, "luu_tru_c", record.record_id) == []
        _told_to_phong_b(fresh, people, record.record_id)
    finally:
        fresh.close()


def test_without_sealed_events_an_unopenable_record_stays_the_agencys(kho: Kho, people: People) -> None:
    """No seal key: every event is a writer of the store's to forge, none says a unit for sure;
    the notice goes to the agency's people only, as before m59 (a guard: unchanged behaviour)."""
    _staff(kho, people)
    record = _phong_b_record(kho, people, "5906")
    _damage_version(kho, record)
    fresh = Kho(kho.settings)
    try:
        _fixity(fresh, people)
        _told_to_agency_only(fresh, people, record.record_id)
    finally:
        fresh.close()


def _event(
    seq: int, version: int | None, details: dict[str, object], action: str = "record:update"
) -> AuditEvent:
    return AuditEvent(
        seq=seq, at="2026-12-07T00:00:00Z", actor="x", action=action, record_id="a" * 24, version=version,
        source=None, details=details, prev="", hash="",
    )


def test_the_unit_rule_of_a_records_events() -> None:
    """:func:`unit_in_events`: the newest version named, its sealed writing events agreeing."""
    from repository.records import RECORD_UNIT, unit_in_events

    made = _event(0, 1, {RECORD_UNIT: UNIT_B}, "record:create")
    moved = _event(2, 2, {RECORD_UNIT: UNIT_C})
    view = _event(3, 2, {})
    every = lambda _e: True  # noqa: E731
    assert unit_in_events([made], every) == (1, UNIT_B)
    assert unit_in_events([made, _event(1, 1, {}), moved, view], every) == (2, UNIT_C)
    assert unit_in_events([moved, made], every) == (2, UNIT_C), "by version, not by place in the log"
    assert unit_in_events([], every) is None
    assert unit_in_events([_event(0, None, {RECORD_UNIT: UNIT_B})], every) is None
    legacy = _event(1, 2, {"fields": ["unit"]})
    assert unit_in_events([made, legacy], every) is None, "a version of no stated unit"
    assert unit_in_events([made, view], every) is None, "a view names a version no sealed event states"
    assert unit_in_events([made, replace(made, seq=1, details={RECORD_UNIT: UNIT_C})], every) is None
    assert unit_in_events([made], lambda _e: False) is None, "not sealed"
    assert unit_in_events([_event(0, 1, {RECORD_UNIT: ""})], every) is None
    assert unit_in_events([_event(0, 1, {RECORD_UNIT: 7})], every) is None
