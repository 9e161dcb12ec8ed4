"""Who hears of a record nobody can open when its phòng has no lưu trữ viên (m62, m59's open
item 2).

Before: the notice (a fixity run's alert) went to the quản trị and to the lưu trữ viên who may
know of the record (rv59): a phòng with no lưu trữ viên of its own heard nothing of its record.
Now (``policy.notice_recipients``) the phòng's văn thư is told, who registered it and keeps it
until its hồ sơ is submitted; a unit with neither, the lãnh đạo of the nearest unit at or above
it. Nobody who may not know of the record is told (rv59): not the agency's lưu trữ viên or văn
thư of a phòng's record, not the phòng's chuyên viên.

Real installation (local store, accounts, sealed events), real fixity runs; the damage done in
the store as m59's tests do it. Nothing of Kho is mocked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from kho_people import AGENCY, UNIT_B, People
from kho_testing import incoming, pdf_bytes

from repository.policy import Principal, RecordFacts, Role
from repository.records import Record, version_key
from retention.operations import run_fixity
from web.context import Kho

UNIT_C = "000.02.18.H40"
"""A phòng beside phòng B, under the agency."""
UNIT_B1 = "000.03.18.H40"
"""A unit (tổ) under phòng B."""
EVERYONE = ("quan_tri", "lanh_dao", "van_thu", "luu_tru", "chuyen_vien", "van_thu_b", "chuyen_vien_b")


def _record(kho: Kho, people: People, who: str, unit: str, number: str) -> Record:
    record = kho.repo.create_document(
        "den", incoming(code_number=number), pdf_bytes(f"m62-{number}"), "x.pdf", people.actor(who)
    )
    assert kho.repo.facts(record).unit == unit
    return record


def _damage(kho: Kho, record: Record) -> None:
    """One bit of its stored (sealed) newest version flipped: it cannot be opened."""
    path = Path(kho.settings.data_dir) / "store" / "objects" / version_key(record.record_id, record.version)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))


def _told(kho: Kho, people: People, record: Record) -> set[str]:
    """Who got a fixity notice naming the record, after a fixity run in a new process."""
    _damage(kho, record)
    fresh = Kho(kho.settings)
    try:
        actor = people.actor("luu_tru")
        run_fixity(fresh.repo, fresh.settings, actor, today=date(2026, 12, 7), period_days=1)
        notes = {w: fresh.accounts.notifications(name) for w, name in people.usernames.items()}
        rid = record.record_id
        return {w for w, ns in notes.items() for n in ns if n.kind == "fixity" and rid in n.message}
    finally:
        fresh.close()


def _unit(kho: Kho, people: People, unit: str, name: str, code: str, parent: str) -> None:
    kho.accounts.create_unit(unit, name, code, parent, kho.accounts.get(people.usernames["quan_tri"]))


def _made_by_one_who_leaves(kho: Kho, people: People, unit: str, number: str) -> Record:
    """A record of ``unit`` registered by its văn thư, who then moves to phòng B: the unit is
    left with nobody who keeps records."""
    clerk = people.add(f"van_thu_{number}", "Vũ Thị Tạm", unit, ("van_thu",), 0)
    record = _record(kho, people, f"van_thu_{number}", unit, number)
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.set_roles(clerk.username, [(UNIT_B, Role.VAN_THU)], admin)
    return record


@pytest.mark.sealed
def test_a_phong_without_an_archivist_hears_through_its_van_thu(kho: Kho, people: People) -> None:
    """Phòng B has a văn thư and a chuyên viên, no lưu trữ viên: its văn thư is told (before:
    only the quản trị), nobody of the agency but the quản trị."""
    record = _record(kho, people, "van_thu_b", UNIT_B, "6201")
    assert _told(kho, people, record) == {"quan_tri", "van_thu_b"}


@pytest.mark.sealed
def test_a_phong_with_its_own_archivist_hears_through_it_only(kho: Kho, people: People) -> None:
    """Phòng B with a lưu trữ viên: told as m59 tells (its văn thư is not: the archivist keeps
    the records)."""
    people.add("luu_tru_b", "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 0)
    record = _record(kho, people, "van_thu_b", UNIT_B, "6202")
    assert _told(kho, people, record) & {*EVERYONE, "luu_tru_b"} == {"quan_tri", "luu_tru_b"}


@pytest.mark.sealed
def test_a_phong_with_nobody_who_keeps_records_hears_through_the_nearest_head(
    kho: Kho, people: People
) -> None:
    """Phòng C, its văn thư gone: the agency's lãnh đạo (who leads every unit below) is told
    (before: only the quản trị); the agency's văn thư and lưu trữ viên are not (they may not
    know of a phòng's record)."""
    _unit(kho, people, UNIT_C, "Phòng Kế hoạch", "pkh", AGENCY)
    record = _made_by_one_who_leaves(kho, people, UNIT_C, "6203")
    assert _told(kho, people, record) & set(EVERYONE) == {"quan_tri", "lanh_dao"}


@pytest.mark.sealed
def test_a_nested_unit_hears_through_the_head_of_the_unit_above_not_the_agencys(
    kho: Kho, people: People
) -> None:
    """Tổ B1 under phòng B, with nobody who keeps records; phòng B has a head: that head is told,
    not the agency's lãnh đạo; phòng B's văn thư is not (B1's records are not theirs to see)."""
    _unit(kho, people, UNIT_B1, "Tổ Một cửa", "tmc", UNIT_B)
    people.add("lanh_dao_b", "Trịnh Văn Bình", UNIT_B, ("lanh_dao",), 0)
    record = _made_by_one_who_leaves(kho, people, UNIT_B1, "6204")
    assert _told(kho, people, record) & {*EVERYONE, "lanh_dao_b"} == {"quan_tri", "lanh_dao_b"}


def _person(user: str, *roles: tuple[str, Role], led: tuple[str, ...] = ()) -> Principal:
    return Principal(user=user, roles=frozenset(roles), led_units=frozenset(led))


def test_the_rule_of_who_is_told_of_a_record() -> None:
    """:func:`notice_recipients` (pure), unit tree A > B > B1, A > C."""
    from repository.policy import notice_recipients
    from retention.operations import unit_line

    parents = {"A": None, "B": "A", "B1": "B", "C": "A"}
    admin = _person("admin", ("A", Role.QUAN_TRI))
    head_a = _person("head_a", ("A", Role.LANH_DAO), led=("A", "B", "B1", "C"))
    head_b = _person("head_b", ("B", Role.LANH_DAO), led=("B", "B1"))
    clerk_a, archivist_a = _person("clerk_a", ("A", Role.VAN_THU)), _person("arch_a", ("A", Role.LUU_TRU))
    clerk_b, archivist_c = _person("clerk_b", ("B", Role.VAN_THU)), _person("arch_c", ("C", Role.LUU_TRU))
    staff_b = _person("staff_b", ("B", Role.CHUYEN_VIEN))
    everyone = [admin, head_a, head_b, clerk_a, archivist_a, clerk_b, archivist_c, staff_b]

    def told(unit: str, people: list[Principal] = everyone, **facts: object) -> set[str]:
        record = RecordFacts("r", "den", unit, **facts)  # type: ignore[arg-type]
        return set(notice_recipients(record, people, unit_line(unit, parents)))

    assert told("A") == {"admin", "arch_a"}  # the agency's archivist, as before
    assert told("C") == {"admin", "arch_c"}  # a phòng's own archivist, as before
    assert told("B") == {"admin", "clerk_b"}  # no archivist: its văn thư
    assert told("B1") == {"admin", "head_b"}  # neither: the nearest head
    assert told("B1", [p for p in everyone if p is not head_b]) == {"admin", "head_a"}
    # a record of B granted to C: C's archivist may know of it and is told, as before; B still
    # has no archivist of its own, so its văn thư is told too
    assert told("B", grant_units=frozenset({"C"})) == {"admin", "arch_c", "clerk_b"}
    assert told("A", [admin]) == {"admin"}  # nobody else: the quản trị still is
