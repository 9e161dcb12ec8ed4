"""A grant to a unit gives sight (and the handling steps it was shared for), never the holder's
acts: a chuyên viên of phòng B with an agency hồ sơ shared to read does not reopen, edit, close
it or change its retention period (policy.GRANT_GIVES; ND30 Điều 28-29: the hồ sơ is built,
closed and its retention set by the unit that keeps it)."""

from __future__ import annotations

from datetime import date

import pytest
from kho_people import UNIT_B, People
from kho_retention import closed_file

from kho.errors import PermissionDenied
from repository.policy import Action, Principal, RecordFacts, Role, decide
from web.context import Kho

AGENCY = "000.00.18.H40"

SHARED = RecordFacts("f1", "hoso", AGENCY, grant_units=frozenset({UNIT_B}), created_by="someone")

HOLDER_ACTS = (
    Action.FILE_EDIT,
    Action.RECORD_UPDATE,
    Action.RECORD_OVERRIDE,
    Action.RECORD_RETURN,
    Action.HOLD_PLACE,
    Action.RECORD_RECALL,
)


@pytest.mark.parametrize("role", [Role.CHUYEN_VIEN, Role.VAN_THU, Role.LUU_TRU, Role.LANH_DAO])
def test_a_unit_grant_gives_sight_and_no_act_of_the_holder(role: Role) -> None:
    led = frozenset({UNIT_B}) if role is Role.LANH_DAO else frozenset()
    member_b = Principal(f"{role.value}.b", roles=frozenset({(UNIT_B, role)}), led_units=led)
    assert decide(member_b, Action.RECORD_VIEW, SHARED)
    assert decide(member_b, Action.RECORD_READ, SHARED)
    for action in HOLDER_ACTS:
        decision = decide(member_b, action, SHARED)
        assert not decision, action
        if action in (Action.FILE_EDIT, Action.RECORD_UPDATE):
            assert decision.code in ("GRANT_READ_ONLY", "PERMISSION_DENIED") and decision.message
    # The same role in the record's own unit keeps them (the table of test_policy).
    member_a = Principal(f"{role.value}.a", roles=frozenset({(AGENCY, role)}), led_units=led | {AGENCY})
    assert decide(member_a, Action.FILE_EDIT, SHARED)


def test_a_chuyen_vien_of_a_unit_it_was_shared_with_does_not_reopen_edit_or_close_it(
    kho: Kho, people: People
) -> None:
    file, _ = closed_file(kho, people)
    kho.repo.grant(file.record_id, units=(UNIT_B,), actor=people.actor("lanh_dao"))
    outsider = people.actor("chuyen_vien_b")
    file = kho.repo.get(file.record_id, actor=outsider)  # the share gives sight
    version = file.version
    with pytest.raises(PermissionDenied) as info:
        kho.retention.reopen_file(
            file.record_id, reason="Sửa thời hạn bảo quản", expected_version=version, actor=outsider
        )
    assert info.value.code == "GRANT_READ_ONLY"
    with pytest.raises(PermissionDenied):
        kho.repo.update_metadata(
            file.record_id, {"maintenance": "Vĩnh viễn"}, expected_version=version, actor=outsider
        )
    assert kho.repo._load(file.record_id).version == version  # nothing written
    # The holder reopens it; phòng B still cannot edit or close it.
    officer = people.actor("chuyen_vien")
    opened = kho.retention.reopen_file(
        file.record_id, reason="Bổ sung", expected_version=version, actor=officer
    )
    with pytest.raises(PermissionDenied):
        kho.retention.close_file(
            file.record_id, end_date=date(2016, 1, 1), expected_version=opened.version, actor=outsider
        )
    with pytest.raises(PermissionDenied):
        kho.repo.update_metadata(
            file.record_id, {"maintenance": "01 năm"}, expected_version=opened.version, actor=outsider
        )
    assert kho.repo._load(file.record_id).version == opened.version
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert denied and all(e.actor == people.usernames["chuyen_vien_b"] for e in denied[-4:])


def test_a_document_in_intake_is_registered_by_the_unit_it_was_received_for() -> None:
    """A document a unit's own văn thư received waits in that unit's queue through a grant: it
    has no unit of its own before its metadata is confirmed. That grant is for the intake
    (policy.INTAKE_GIVES); once registered, it gives sight only."""
    clerk_b = Principal("van_thu.b", roles=frozenset({(UNIT_B, Role.VAN_THU)}))
    waiting = RecordFacts("d1", "den", AGENCY, grant_units=frozenset({UNIT_B}), state="intake")
    for action in (Action.RECORD_UPDATE, Action.RECORD_OVERRIDE, Action.RECORD_RETURN):
        assert decide(clerk_b, action, waiting), action
    registered = RecordFacts("d1", "den", AGENCY, grant_units=frozenset({UNIT_B}), state="active")
    assert decide(clerk_b, Action.RECORD_VIEW, registered)
    assert decide(clerk_b, Action.RECORD_UPDATE, registered).code == "GRANT_READ_ONLY"
