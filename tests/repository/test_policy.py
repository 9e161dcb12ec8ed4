"""The access policy, table-driven: each role can do exactly its table of actions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from repository.policy import (
    LEAVING,
    Action,
    Principal,
    RecordFacts,
    Role,
    WorkFacts,
    decide,
    decide_grant,
    decide_new,
    decide_step,
    finds,
    index_archive,
    index_visibility,
    manages_accounts_of,
    may_lock,
    may_withhold_events,
    reads_events_of,
    search_scope,
    sees,
)

AGENCY = "000.00.18.H40"
UNIT_B = "000.01.18.H40"


def person(
    role: Role, unit: str = AGENCY, clearance: int = 0, led: frozenset[str] = frozenset()
) -> Principal:
    return Principal(f"{role.value}.x", roles=frozenset({(unit, role)}), clearance=clearance, led_units=led)


DOC = RecordFacts(record_id="r1", kind="den", unit=AGENCY, created_by="someone.else")
SECRET = RecordFacts(record_id="r2", kind="den", unit=AGENCY, secrecy=2, created_by="someone.else")
OTHER_UNIT = RecordFacts(record_id="r3", kind="den", unit=UNIT_B, created_by="someone.else")

Y, N = True, False
# action → expected for (văn thư, lãnh đạo, chuyên viên, lưu trữ, kiểm toán, quản trị), all of the
# agency unit, on DOC (an ordinary document of their unit) where the action concerns a record.
TABLE: dict[Action, tuple[bool, bool, bool, bool, bool, bool]] = {
    Action.RECORD_VIEW: (Y, Y, Y, Y, N, N),
    Action.RECORD_READ: (Y, Y, Y, Y, N, N),
    Action.RECORD_HISTORY: (Y, Y, Y, Y, Y, N),
    Action.RECORD_CREATE: (Y, N, N, N, N, N),
    Action.RECORD_UPDATE: (Y, N, N, N, N, N),
    Action.RECORD_OVERRIDE: (Y, N, N, N, N, N),
    Action.RECORD_RETURN: (Y, N, N, N, N, N),
    Action.RECORD_GRANT: (N, Y, N, N, N, Y),
    Action.FILE_CREATE: (Y, Y, Y, Y, N, N),
    Action.FILE_EDIT: (Y, Y, Y, Y, N, N),
    Action.REGISTER_LIST: (Y, Y, N, Y, N, N),
    Action.INTAKE_LIST: (Y, N, N, N, N, N),
    Action.AUDIT_READ: (N, N, N, N, Y, N),
    Action.AUDIT_VERIFY: (N, N, N, N, Y, Y),
    Action.AUDIT_ACKNOWLEDGE: (N, N, N, N, Y, N),
    Action.ACCOUNT_MANAGE: (N, N, N, N, N, Y),
    Action.ACCOUNT_LOCK: (N, Y, N, N, N, Y),
    Action.AGENCY_MANAGE: (Y, N, N, N, N, Y),
    Action.SEARCH: (Y, Y, Y, Y, Y, Y),
    Action.OPERATE: (N, N, N, N, N, Y),
    Action.FSCK_ACKNOWLEDGE: (N, N, N, Y, N, Y),
    # Handling steps, with nothing yet known of the handling (no one submitted, assigned, asked):
    Action.HANDLE_SUBMIT: (Y, N, N, N, N, N),
    Action.HANDLE_DIRECT: (N, Y, N, N, N, N),
    Action.HANDLE_ASSIGN: (N, Y, N, N, N, N),
    Action.HANDLE_WORK: (N, Y, N, N, N, N),
    Action.HANDLE_APPROVE: (N, N, N, N, N, N),
    Action.HANDLE_REPORT: (Y, Y, N, N, N, N),
    Action.HANDLE_REPORT_TOTALS: (N, N, N, N, Y, N),
    Action.OUTGOING_STATUS: (Y, N, N, N, N, N),
    Action.PLAN_DRAFT: (Y, N, N, Y, N, N),
    Action.PLAN_APPROVE: (N, Y, N, N, N, N),
    Action.SCHEDULE_EDIT: (N, N, N, N, N, Y),
    Action.SUBMISSION_REVIEW: (N, N, N, Y, N, N),
    Action.FILE_KEEP_APPROVE: (N, Y, N, N, N, N),
    Action.HOLD_PLACE: (N, Y, N, Y, N, N),
    Action.DISPOSAL_LIST: (N, Y, N, Y, N, N),
    Action.DESTRUCTION_PROPOSE: (N, N, N, Y, N, N),
    Action.DESTRUCTION_DECIDE: (N, Y, N, N, N, N),
    Action.DESTRUCTION_EXECUTE: (N, N, N, Y, N, N),
    Action.TRANSFER: (N, N, N, Y, N, N),
    Action.TRANSFER_IMPORT: (N, N, N, Y, N, N),
    Action.RECORD_RECALL: (Y, Y, N, N, N, N),
}
ROLES = (Role.VAN_THU, Role.LANH_DAO, Role.CHUYEN_VIEN, Role.LUU_TRU, Role.KIEM_TOAN, Role.QUAN_TRI)
RECORD_ACTIONS = {
    Action.RECORD_VIEW,
    Action.RECORD_READ,
    Action.RECORD_HISTORY,
    Action.RECORD_UPDATE,
    Action.RECORD_OVERRIDE,
    Action.RECORD_RETURN,
    Action.RECORD_GRANT,
    Action.FILE_EDIT,
    Action.HANDLE_SUBMIT,
    Action.HANDLE_DIRECT,
    Action.HANDLE_ASSIGN,
    Action.HANDLE_WORK,
    Action.HANDLE_APPROVE,
    Action.OUTGOING_STATUS,
    Action.HOLD_PLACE,
    Action.RECORD_RECALL,
}


def test_the_table_covers_every_action() -> None:
    assert set(TABLE) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("index", range(len(ROLES)))
def test_each_role_does_exactly_its_table(action: Action, index: int) -> None:
    role = ROLES[index]
    facts = DOC if action in RECORD_ACTIONS else None
    decision = decide(person(role), action, facts)
    assert decision.allowed is TABLE[action][index], (role, action, decision.message)
    if not decision.allowed:
        assert decision.code in ("PERMISSION_DENIED", "SECRECY_DENIED", "NOT_ASSIGNER")
        assert decision.message  # Vietnamese, for people


@pytest.mark.parametrize("role", [Role.VAN_THU, Role.CHUYEN_VIEN, Role.LUU_TRU])
def test_another_units_document_is_refused(role: Role) -> None:
    for action in (Action.RECORD_VIEW, Action.RECORD_READ, Action.RECORD_UPDATE, Action.FILE_EDIT):
        assert not decide(person(role), action, OTHER_UNIT).allowed


def test_secrecy_needs_clearance_even_with_a_grant() -> None:
    clerk = person(Role.VAN_THU)
    assert decide(clerk, Action.RECORD_VIEW, SECRET).code == "SECRECY_DENIED"
    granted = RecordFacts(**{**SECRET.__dict__, "grant_users": frozenset({clerk.user})})
    assert not decide(clerk, Action.RECORD_VIEW, granted).allowed
    assert decide(person(Role.VAN_THU, clearance=2), Action.RECORD_VIEW, SECRET).allowed
    assert not decide(person(Role.KIEM_TOAN, clearance=1), Action.RECORD_HISTORY, SECRET).allowed


def test_the_whole_log_withholds_from_an_auditor_the_events_of_records_above_their_clearance() -> None:
    low, cleared, top = (person(Role.KIEM_TOAN, clearance=c) for c in (0, 2, 3))
    assert reads_events_of(low, DOC) and reads_events_of(low, OTHER_UNIT)
    assert not reads_events_of(low, SECRET)
    assert reads_events_of(cleared, SECRET)
    assert may_withhold_events(low) and may_withhold_events(cleared)
    assert not may_withhold_events(top)


def test_grants_by_name_and_by_unit_give_sight_not_roles() -> None:
    outsider = person(Role.CHUYEN_VIEN, unit=UNIT_B)
    by_name = RecordFacts(**{**DOC.__dict__, "grant_users": frozenset({outsider.user})})
    assert decide(outsider, Action.RECORD_READ, by_name).allowed
    assert not decide(outsider, Action.RECORD_UPDATE, by_name).allowed
    by_unit = RecordFacts(**{**DOC.__dict__, "grant_units": frozenset({UNIT_B})})
    assert decide(outsider, Action.RECORD_VIEW, by_unit).allowed
    # An auditor granted a record may read it.
    auditor = person(Role.KIEM_TOAN)
    assert decide(
        auditor, Action.RECORD_READ, RecordFacts(**{**DOC.__dict__, "grant_users": frozenset({auditor.user})})
    )


def test_leaders_see_the_units_below_them() -> None:
    head = person(Role.LANH_DAO, led=frozenset({AGENCY, UNIT_B}))
    assert decide(head, Action.RECORD_VIEW, OTHER_UNIT).allowed
    assert not decide(person(Role.LANH_DAO, unit=UNIT_B, led=frozenset({UNIT_B})), Action.RECORD_VIEW, DOC)


def test_the_creator_sees_what_they_created() -> None:
    clerk = person(Role.VAN_THU, unit=UNIT_B)
    mine = RecordFacts(record_id="r4", kind="den", unit=AGENCY, created_by=clerk.user)
    assert decide(clerk, Action.RECORD_VIEW, mine).allowed


@pytest.mark.parametrize(
    "principal",
    [
        person(Role.VAN_THU),
        person(Role.CHUYEN_VIEN, unit=UNIT_B),
        person(Role.LANH_DAO, clearance=3, led=frozenset({AGENCY, UNIT_B})),
        person(Role.KIEM_TOAN, clearance=3),
        person(Role.QUAN_TRI),
    ],
)
def test_the_search_filter_reproduces_the_policy(principal: Principal) -> None:
    """What the index stores plus the principal's search scope give the same answer as
    :func:`sees` for every combination of unit, grants, creator and secrecy."""
    scope = search_scope(principal)
    for unit in (AGENCY, UNIT_B):
        for secrecy in range(4):
            for grant_units in (frozenset(), frozenset({UNIT_B})):
                for grant_users in (frozenset(), frozenset({principal.user})):
                    for creator in ("", principal.user):
                        facts = RecordFacts("r", "den", unit, secrecy, creator, grant_users, grant_units)
                        units, users = index_visibility(facts)
                        found = secrecy <= scope.max_secrecy and (
                            bool(set(units) & scope.units) or scope.user in users
                        )
                        assert found is sees(principal, facts), facts


# --- accounts: the role from the table, scoped by the unit tree ------------------------------
UNIT_C = "000.03.18.H40"
UNIT_B1 = "001.01.18.H40"
TREE = {
    AGENCY: {AGENCY, UNIT_B, UNIT_B1, UNIT_C},
    UNIT_B: {UNIT_B, UNIT_B1},
    UNIT_B1: {UNIT_B1},
    UNIT_C: {UNIT_C},
}


def below(unit: str) -> frozenset[str]:
    return frozenset(TREE.get(unit, ()))


def holder(*roles: tuple[str, Role]) -> Principal:
    return Principal("x", roles=frozenset(roles))


# (principal's (unit, role) pairs, target units) → may manage
MANAGE: list[tuple[tuple[tuple[str, Role], ...], frozenset[str], bool]] = [
    (((AGENCY, Role.QUAN_TRI),), frozenset({UNIT_B1, UNIT_C}), Y),  # the agency's quản trị: all
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B1}), Y),  # a unit below
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B}), Y),  # its own unit
    (((UNIT_B, Role.QUAN_TRI),), frozenset({AGENCY}), N),  # not above
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B, UNIT_C}), N),  # every target unit counts
    (((UNIT_B, Role.QUAN_TRI), (UNIT_C, Role.QUAN_TRI)), frozenset({UNIT_B1, UNIT_C}), Y),
    (((UNIT_B, Role.QUAN_TRI),), frozenset(), Y),  # nothing to scope (the root unit)
    (((UNIT_B, Role.LANH_DAO), (UNIT_C, Role.QUAN_TRI)), frozenset({UNIT_B}), N),  # role per unit
    (((AGENCY, Role.LANH_DAO),), frozenset({UNIT_B}), N),
    (((AGENCY, Role.VAN_THU), (AGENCY, Role.KIEM_TOAN)), frozenset(), N),
    ((("999.99.99.H99", Role.QUAN_TRI),), frozenset(), N),  # of a unit that does not exist
    ((), frozenset(), N),
]


@pytest.mark.parametrize(("roles", "targets", "allowed"), MANAGE)
def test_who_manages_the_accounts_of_which_units(
    roles: tuple[tuple[str, Role], ...], targets: frozenset[str], allowed: bool
) -> None:
    decision = manages_accounts_of(holder(*roles), below, targets)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.code == "PERMISSION_DENIED" and decision.message


# (principal's pairs, target units, reason) → may lock
LOCK: list[tuple[tuple[tuple[str, Role], ...], frozenset[str], str, bool]] = [
    (((UNIT_B, Role.LANH_DAO),), frozenset({UNIT_B}), LEAVING, Y),  # a member who leaves
    (((UNIT_B, Role.LANH_DAO),), frozenset({UNIT_B1}), LEAVING, Y),  # of a unit below
    # A lock is account-wide: the head of one of the person's units, not of all, does not lock
    # them (rv59, LOCK_OTHER_UNIT; rv58 open item 6).
    (((UNIT_B, Role.LANH_DAO),), frozenset({UNIT_B1, UNIT_C}), LEAVING, N),
    (((UNIT_B, Role.LANH_DAO), (UNIT_C, Role.LANH_DAO)), frozenset({UNIT_B1, UNIT_C}), LEAVING, Y),
    (((UNIT_B, Role.LANH_DAO),), frozenset({UNIT_C}), LEAVING, N),  # another unit
    (((UNIT_B1, Role.LANH_DAO),), frozenset({UNIT_B}), LEAVING, N),  # a unit above
    (((UNIT_B, Role.LANH_DAO),), frozenset({UNIT_B}), "admin", N),  # only leaving is theirs
    (((UNIT_B, Role.CHUYEN_VIEN),), frozenset({UNIT_B}), LEAVING, N),
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B1}), "admin", Y),
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B1}), LEAVING, Y),
    (((UNIT_B, Role.QUAN_TRI),), frozenset({UNIT_B, UNIT_C}), LEAVING, N),  # quản trị: all units
    (((UNIT_C, Role.QUAN_TRI), (UNIT_B, Role.LANH_DAO)), frozenset({UNIT_B}), LEAVING, Y),
    (((UNIT_C, Role.QUAN_TRI), (UNIT_B, Role.LANH_DAO)), frozenset({UNIT_B}), "admin", N),
    ((), frozenset({UNIT_B}), LEAVING, N),
]


@pytest.mark.parametrize(("roles", "targets", "reason", "allowed"), LOCK)
def test_who_locks_whose_account(
    roles: tuple[tuple[str, Role], ...], targets: frozenset[str], reason: str, allowed: bool
) -> None:
    decision = may_lock(holder(*roles), below, targets, reason)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.code in ("PERMISSION_DENIED", "LOCK_OTHER_UNIT") and decision.message


# -- handling steps (Điều 23–24; Lạng Sơn Điều 13–16) ---------------------------------------------

LEADER_B = person(Role.LANH_DAO, unit=UNIT_B)
HANDLER_B = person(Role.CHUYEN_VIEN, unit=UNIT_B)
TOP = Principal("ld.top", roles=frozenset({(AGENCY, Role.LANH_DAO)}), led_units=frozenset({AGENCY, UNIT_B}))
DISTRIBUTED = RecordFacts(
    **{**DOC.__dict__, "grant_units": frozenset({UNIT_B}), "grant_users": frozenset({HANDLER_B.user})}
)


def test_a_leader_submitted_to_directs_a_document_of_another_unit() -> None:
    other_leader = Principal("ld.khac", roles=frozenset({(UNIT_B, Role.LANH_DAO)}))
    submitted = RecordFacts(**{**DOC.__dict__, "grant_users": frozenset({other_leader.user})})
    assert not decide_step(other_leader, Action.HANDLE_DIRECT, submitted, WorkFacts())
    named = WorkFacts(leaders=frozenset({"ld.khac"}))
    assert decide_step(other_leader, Action.HANDLE_DIRECT, submitted, named)
    # Without sight of the document, being named in the handling gives nothing.
    assert not decide_step(other_leader, Action.HANDLE_DIRECT, DOC, WorkFacts(leaders=frozenset({"ld.khac"})))


def test_the_head_of_the_unit_in_charge_assigns_and_a_chuyen_vien_does_not() -> None:
    work = WorkFacts(units=frozenset({UNIT_B}))
    assert decide_step(LEADER_B, Action.HANDLE_ASSIGN, DISTRIBUTED, work)
    assert not decide_step(HANDLER_B, Action.HANDLE_ASSIGN, DISTRIBUTED, work)
    assert not decide_step(LEADER_B, Action.HANDLE_ASSIGN, DISTRIBUTED, WorkFacts(units=frozenset({"khac"})))


def test_only_the_handler_of_the_task_works_on_it() -> None:
    work = WorkFacts(units=frozenset({UNIT_B}), handlers=frozenset({HANDLER_B.user}))
    assert decide_step(HANDLER_B, Action.HANDLE_WORK, DISTRIBUTED, work)
    colleague = Principal("cv.khac", roles=frozenset({(UNIT_B, Role.CHUYEN_VIEN)}))
    assert not decide_step(colleague, Action.HANDLE_WORK, DISTRIBUTED, work)


@pytest.mark.parametrize(
    ("who", "assigner", "requester", "code"),
    [
        (TOP, "ld.top", "chuyen_vien.x", ""),
        (TOP, "ld.top", "ld.top", "SELF_APPROVAL"),
        (LEADER_B, "ld.top", "chuyen_vien.x", "NOT_ASSIGNER"),
        (HANDLER_B, "ld.top", HANDLER_B.user, "SELF_APPROVAL"),
    ],
)
def test_only_the_assigner_approves_and_never_their_own_request(
    who: Principal, assigner: str, requester: str, code: str
) -> None:
    work = WorkFacts(assigner=assigner, requester=requester)
    decision = decide_step(who, Action.HANDLE_APPROVE, DISTRIBUTED, work)
    assert decision.allowed is (code == "") and decision.code == code


def test_secrecy_still_comes_first_for_handling_steps() -> None:
    work = WorkFacts(leaders=frozenset({TOP.user}))
    assert decide_step(TOP, Action.HANDLE_DIRECT, SECRET, work).code == "SECRECY_DENIED"
def test_what_a_hold_blocks() -> None:
    from repository.policy import hold_blocks

    assert hold_blocks("destroy")
    assert all(hold_blocks(a) for a in (Action.RECORD_UPDATE, Action.FILE_EDIT, Action.RECORD_GRANT))
    assert not any(hold_blocks(a) for a in (Action.RECORD_VIEW, Action.RECORD_READ, Action.SEARCH))


def test_nobody_grants_themselves_sight() -> None:
    """A quản trị grants without reading: naming themselves (or a unit where they hold a content
    role) is refused; granting others is not. A lãnh đạo grants what they already see."""
    admin = Principal("qt.x", roles=frozenset({(AGENCY, Role.QUAN_TRI)}), clearance=3)
    assert decide_grant(admin, OTHER_UNIT, users=("someone",)).allowed
    own = decide_grant(admin, OTHER_UNIT, users=(admin.user,))
    assert not own.allowed and own.code == "SELF_GRANT" and own.message
    both = Principal("qt.y", roles=frozenset({(AGENCY, Role.QUAN_TRI), (AGENCY, Role.CHUYEN_VIEN)}))
    assert decide_grant(both, OTHER_UNIT, units=(AGENCY,)).code == "SELF_GRANT"
    assert decide_grant(both, OTHER_UNIT, units=(UNIT_B,)).allowed
    leader = person(Role.LANH_DAO)
    assert decide_grant(leader, DOC, users=(leader.user, "someone")).allowed
    assert not decide_grant(person(Role.CHUYEN_VIEN), DOC, users=("someone",)).allowed


def test_a_grant_to_oneself_is_refused_whatever_one_s_clearance() -> None:
    """A quản trị cleared for Thường who names themselves on a Mật record sees nothing today, but
    the grant stays: once the record is declassified (giải mật) or their clearance is raised,
    they read it. Naming oneself is refused (SELF_GRANT) as for an ordinary record."""
    admin = Principal("qt.x", roles=frozenset({(AGENCY, Role.QUAN_TRI)}), clearance=0)
    own = decide_grant(admin, SECRET, users=(admin.user,))
    assert not own.allowed and own.code == "SELF_GRANT"
    both = Principal("qt.y", roles=frozenset({(AGENCY, Role.QUAN_TRI), (UNIT_B, Role.CHUYEN_VIEN)}))
    assert decide_grant(both, SECRET, units=(UNIT_B,)).code == "SELF_GRANT"
    assert decide_grant(admin, SECRET, users=("someone",)).allowed
    # A member of the record's unit who names themselves gains nothing the unit does not give.
    member = Principal("qt.z", roles=frozenset({(AGENCY, Role.QUAN_TRI), (AGENCY, Role.CHUYEN_VIEN)}))
    assert decide_grant(member, SECRET, users=(member.user,)).allowed


@pytest.mark.parametrize("role", [Role.VAN_THU, Role.CHUYEN_VIEN, Role.LUU_TRU, Role.LANH_DAO])
def test_a_secret_record_of_another_unit_is_refused_as_any_of_its_records(role: Role) -> None:
    """Someone with no sight of a record learns nothing of it from the refusal: not that it is
    marked secret, nor at which level (review a14: a Thường văn thư of UNIT_B opening a Tuyệt
    mật document of the agency was told "độ mật “Tuyệt mật”", an ordinary one only "không có
    quyền"). Who would see it but for the secrecy (its unit, a grantee) is still told why."""
    outsider = Principal(user="b1", roles=frozenset({(UNIT_B, role)}))
    ordinary = decide(outsider, Action.RECORD_VIEW, DOC)
    for level in (1, 2, 3):
        secret = RecordFacts(**{**DOC.__dict__, "secrecy": level})
        for action in (Action.RECORD_VIEW, Action.RECORD_READ, Action.RECORD_HISTORY):
            refused = decide(outsider, action, secret)
            assert not refused.allowed
            assert (refused.code, refused.message) == (ordinary.code, ordinary.message), (level, action)
    # The unit's own clerk, not cleared, is told the reason as before.
    assert decide(person(Role.VAN_THU), Action.RECORD_VIEW, SECRET).code == "SECRECY_DENIED"


def test_a_refusal_tells_only_who_may_know_of_the_record_why() -> None:
    """Review a15: a person who may not know of a record (no sight of it whatever its level or
    recall, not a quản trị, not a kiểm toán viên) is refused every act on it with the answer of
    an id that names nothing (``NOT_FOUND``, the same message); the refusal behind it is kept for
    the audit log. Who may know of it keeps the specific refusal. Who is allowed is unchanged."""
    absent = "Không tìm thấy văn bản/hồ sơ “r1”."
    outsiders = [person(role, UNIT_B, clearance=3) for role in CONTENT_ROLES_ORDER]
    for outsider in outsiders:
        for action in (Action.RECORD_VIEW, Action.RECORD_READ, Action.RECORD_HISTORY, Action.RECORD_UPDATE,
                       Action.RECORD_GRANT, Action.FILE_EDIT, Action.HOLD_PLACE, Action.RECORD_RECALL,
                       Action.HANDLE_SUBMIT, Action.HANDLE_WORK):
            refused = decide(outsider, action, DOC)
            assert (refused.allowed, refused.code, refused.message) == (False, "NOT_FOUND", absent), (
                outsider, action)
            assert refused.behind is not None and refused.behind.code != "NOT_FOUND"
            assert refused.cause == refused.behind.code
    # Who may know of it is told why: its unit's people (a role they lack, a level above them),
    # a grantee by unit (read only), a quản trị and a kiểm toán viên (who hold no content role).
    known = [
        (person(Role.CHUYEN_VIEN), Action.RECORD_UPDATE, DOC, "PERMISSION_DENIED"),
        (person(Role.CHUYEN_VIEN), Action.RECORD_VIEW, SECRET, "SECRECY_DENIED"),
        (person(Role.VAN_THU, UNIT_B), Action.RECORD_UPDATE,
         RecordFacts(**{**DOC.__dict__, "grant_units": frozenset({UNIT_B})}), "GRANT_READ_ONLY"),
        (person(Role.QUAN_TRI), Action.RECORD_VIEW, DOC, "PERMISSION_DENIED"),
        (person(Role.KIEM_TOAN, clearance=3), Action.RECORD_VIEW, DOC, "PERMISSION_DENIED"),
    ]
    for who, action, facts, code in known:
        refused = decide(who, action, facts)
        assert (refused.allowed, refused.code, refused.behind) == (False, code, None), (who, action)
    # A draft (what one is about to write) is told its own reason.
    assert decide_new(person(Role.VAN_THU, UNIT_B), Action.RECORD_CREATE, DOC).allowed
    assert decide_new(person(Role.VAN_THU, UNIT_B), Action.RECORD_UPDATE, DOC).code == "PERMISSION_DENIED"
    # Allowed acts are unchanged.
    assert decide(person(Role.VAN_THU), Action.RECORD_UPDATE, DOC).allowed
    head_b = person(Role.LANH_DAO, UNIT_B, led=frozenset({UNIT_B}))
    assert decide(head_b, Action.RECORD_VIEW, OTHER_UNIT).allowed


CONTENT_ROLES_ORDER = (Role.VAN_THU, Role.LANH_DAO, Role.CHUYEN_VIEN, Role.LUU_TRU)


# --- the archive reads the documents of a hồ sơ it receives (review u21) --------------------------

ARCHIVIST = Principal(
    "luu_tru.x",
    roles=frozenset({(AGENCY, Role.LUU_TRU)}),
    archive_units=frozenset({AGENCY, UNIT_B}),
)
OTHER_ARCHIVIST = replace(ARCHIVIST, archive_units=frozenset({AGENCY}))
AT_ARCHIVE = RecordFacts(
    record_id="r4", kind="den", unit=UNIT_B, created_by="b.x", received_from=frozenset({UNIT_B})
)


@pytest.mark.parametrize(
    ("facts", "who", "action", "allowed", "code"),
    [
        # The documents of a hồ sơ at their archive: metadata and original, nothing else.
        (AT_ARCHIVE, ARCHIVIST, Action.RECORD_VIEW, True, ""),
        (AT_ARCHIVE, ARCHIVIST, Action.RECORD_READ, True, ""),
        (AT_ARCHIVE, ARCHIVIST, Action.RECORD_HISTORY, False, "PERMISSION_DENIED"),
        (AT_ARCHIVE, ARCHIVIST, Action.RECORD_UPDATE, False, "PERMISSION_DENIED"),
        (AT_ARCHIVE, ARCHIVIST, Action.HOLD_PLACE, False, "PERMISSION_DENIED"),
        # Returned (no hồ sơ holding it at the archive): an absent id's answer.
        (replace(AT_ARCHIVE, received_from=frozenset()), ARCHIVIST, Action.RECORD_READ, False, "NOT_FOUND"),
        # Another archive's phòng, or a chuyên viên of the agency: nothing.
        (AT_ARCHIVE, OTHER_ARCHIVIST, Action.RECORD_READ, False, "NOT_FOUND"),
        (AT_ARCHIVE, person(Role.CHUYEN_VIEN), Action.RECORD_READ, False, "NOT_FOUND"),
        # Secrecy first: told it is above their clearance (they know of it from the mục lục).
        (replace(AT_ARCHIVE, secrecy=1), ARCHIVIST, Action.RECORD_READ, False, "SECRECY_DENIED"),
        # A hồ sơ is read on the review page (receives_submission), not by this rule.
        (replace(AT_ARCHIVE, kind="hoso", record_id="f1"), ARCHIVIST, Action.RECORD_VIEW, False, "NOT_FOUND"),
        # Recalled: the issuer's hồ sơ keeps it for its archive; a recipient's archive is refused,
        # told that it was recalled as the recipients are (u22; PERMISSION_DENIED before) ...
        (replace(AT_ARCHIVE, kind="di", recalled=True), ARCHIVIST, Action.RECORD_READ, True, ""),
        (
            replace(AT_ARCHIVE, kind="di", recalled=True, unit=AGENCY + "x"),
            ARCHIVIST,
            Action.RECORD_READ,
            False,
            "RECORD_RECALLED",
        ),
        (
            replace(AT_ARCHIVE, kind="di", recalled=True, unit=AGENCY + "x"),
            ARCHIVIST,
            Action.RECORD_VIEW,
            False,
            "RECORD_RECALLED",
        ),
        # ... only for what the archive reads (its history was never theirs) ...
        (
            replace(AT_ARCHIVE, kind="di", recalled=True, unit=AGENCY + "x"),
            ARCHIVIST,
            Action.RECORD_HISTORY,
            False,
            "PERMISSION_DENIED",
        ),
        # ... and secrecy first: above their clearance, neither its level nor its recall is told.
        (
            replace(AT_ARCHIVE, kind="di", recalled=True, unit=AGENCY + "x", secrecy=1),
            ARCHIVIST,
            Action.RECORD_READ,
            False,
            "PERMISSION_DENIED",
        ),
    ],
)
def test_the_archive_reads_the_documents_of_a_hồ_sơ_it_receives(
    facts: RecordFacts, who: Principal, action: Action, allowed: bool, code: str
) -> None:
    decision = decide(who, action, facts)
    assert decision.allowed is allowed and decision.code == code, decision


def test_the_archive_s_reading_leaves_sight_unchanged_and_is_found_in_search() -> None:
    """:func:`sees` is not widened; search lists the document to the archive (u24: u21 left it
    out of search), through the index's archive units."""
    assert not sees(ARCHIVIST, AT_ARCHIVE)
    scope = search_scope(ARCHIVIST)
    units, users = index_visibility(AT_ARCHIVE)
    assert not (scope.units & set(units)) and scope.user not in users
    assert scope.archive_units & set(index_archive(AT_ARCHIVE))
    assert finds(ARCHIVIST, AT_ARCHIVE)


def _found(scope: object, facts: RecordFacts) -> bool:
    """The search filter (:class:`~repository.policy.SearchScope` over what the index stores),
    as both backends evaluate it."""
    units, users = index_visibility(facts)
    archive = index_archive(facts)
    return facts.secrecy <= scope.max_secrecy and (  # type: ignore[attr-defined]
        bool(set(units) & scope.units)  # type: ignore[attr-defined]
        or scope.user in users  # type: ignore[attr-defined]
        or bool(set(archive) & scope.archive_units)  # type: ignore[attr-defined]
    )


RECEIVED_CASES = (frozenset(), frozenset({UNIT_B}), frozenset({AGENCY, UNIT_C}))
ARCHIVE_SEARCHERS = [
    ARCHIVIST,
    OTHER_ARCHIVIST,
    replace(ARCHIVIST, clearance=2),
    Principal(
        "luu_tru.b", roles=frozenset({(UNIT_B, Role.LUU_TRU)}), archive_units=frozenset({UNIT_B})
    ),
    Principal(
        "luu_tru.c", roles=frozenset({(UNIT_C, Role.LUU_TRU)}), archive_units=frozenset({UNIT_C})
    ),
    person(Role.VAN_THU),
    person(Role.VAN_THU, unit=UNIT_B),
    person(Role.CHUYEN_VIEN, unit=UNIT_B),
]


@pytest.mark.parametrize(
    "principal", ARCHIVE_SEARCHERS, ids=lambda p: f"{p.user}-{len(p.archive_units)}-{p.clearance}"
)
def test_the_search_filter_agrees_with_decide_for_the_archive(principal: Principal) -> None:
    """For every document (kind, unit, secrecy, hồ sơ at which archives, recall, creator): the
    search filter lists it exactly when :func:`decide` lets the person view it (and read it),
    and a hồ sơ exactly when they see it (u24). A disagreement fails here."""
    scope = search_scope(principal)
    checked = 0
    for kind in ("den", "di", "hoso"):
        for unit in (AGENCY, UNIT_B, UNIT_C):
            for secrecy in range(4):
                for received in (*RECEIVED_CASES, frozenset({unit})):
                    for recalled in (False, True) if kind == "di" else (False,):
                        for creator in ("", principal.user):
                            facts = RecordFacts(
                                "r", kind, unit, secrecy, creator, received_from=received,
                                recalled=recalled,
                            )
                            found = _found(scope, facts)
                            assert found is finds(principal, facts), facts
                            if kind == "hoso":
                                assert found is sees(principal, facts), facts
                            else:
                                view = decide(principal, Action.RECORD_VIEW, facts).allowed
                                read = decide(principal, Action.RECORD_READ, facts).allowed
                                assert found is view is read, facts
                            checked += 1
    assert checked == 384
