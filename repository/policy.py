"""The access policy: one pure function decides every access (ARCHITECTURE invariant 8).

:func:`decide` answers whether a :class:`Principal` may perform an :class:`Action` on a
resource (a record's :class:`RecordFacts`, or nothing for actions that concern no record).
The repository service calls it on every read and write; :func:`search_scope` derives the
search filter from the same rules, so the index and the store can never disagree.

Rules (Phụ lục VI III.3.b, IV.1.d; Thái Nguyên Điều 6):

* **Secrecy first.** A record marked Mật/Tối mật/Tuyệt mật is seen only by a person whose
  clearance reaches its level — whatever else they hold.
* **Who sees a record** (metadata, original, versions): members of its unit (văn thư, lãnh đạo,
  chuyên viên, lưu trữ viên of that unit); members of a unit it was distributed/granted to;
  people it was granted to by name (on the record or on a hồ sơ holding it); the person who
  created it; lãnh đạo of its unit or of any unit above it (the agency's leaders see the
  agency).
* **Kiểm toán viên** read history (audit events, version list), not content unless granted.
* **Quản trị** manage units, accounts and grants, not content: the accounts of the units at and
  below the units where they hold the role (:func:`manages_accounts_of`). A **lãnh đạo** locks the
  account of a person leaving a unit they lead (:func:`may_lock`; Thái Nguyên Điều 7 k4 a).
* Writing needs the role for the act (văn thư register and correct, chuyên viên build hồ sơ,
  …) *and* sight of the record, the role held in the record's own unit: a grant to a unit
  gives sight and handling, never the holder's acts (:data:`GRANT_GIVES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from repository.vocabulary import blank


class Role(StrEnum):
    VAN_THU = "van_thu"
    LANH_DAO = "lanh_dao"
    CHUYEN_VIEN = "chuyen_vien"
    LUU_TRU = "luu_tru"
    KIEM_TOAN = "kiem_toan"
    QUAN_TRI = "quan_tri"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.VAN_THU: "văn thư",
    Role.LANH_DAO: "lãnh đạo",
    Role.CHUYEN_VIEN: "chuyên viên",
    Role.LUU_TRU: "lưu trữ viên",
    Role.KIEM_TOAN: "kiểm toán viên",
    Role.QUAN_TRI: "quản trị",
}

CONTENT_ROLES: frozenset[Role] = frozenset({Role.VAN_THU, Role.LANH_DAO, Role.CHUYEN_VIEN, Role.LUU_TRU})
"""Roles whose holders work with the documents of their unit."""


class Action(StrEnum):
    RECORD_VIEW = "record:view"
    """Metadata of a record or hồ sơ (and seeing it in lists, registers and search)."""
    RECORD_READ = "record:read"
    """The original file (read in the page, download, print)."""
    RECORD_HISTORY = "record:history"
    """The record's audit events: who did what, when (not its content)."""
    RECORD_CREATE = "record:create"
    """Receive or register a document (văn thư)."""
    RECORD_UPDATE = "record:update"
    """Correct a document's metadata, complete its intake (văn thư)."""
    RECORD_OVERRIDE = "record:override-signature"
    """Register a document whose signature check FAILED (văn thư, with a reason)."""
    RECORD_RETURN = "record:return"
    """Trả lại an arrived document to its sender (văn thư)."""
    RECORD_GRANT = "record:grant"
    """Grant a person or unit access to a record or hồ sơ."""
    FILE_CREATE = "file:create"
    FILE_EDIT = "file:edit"
    """Add documents to / remove them from a hồ sơ."""
    REGISTER_LIST = "register:list"
    """Open a sổ đăng ký (its rows are then filtered by :attr:`RECORD_VIEW`)."""
    INTAKE_LIST = "intake:list"
    """See the documents waiting to be registered."""
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_ACKNOWLEDGE = "audit:acknowledge"
    """Accept the audit log's findings after a human decision (``kho audit acknowledge``)."""
    ACCOUNT_MANAGE = "account:manage"
    """Create accounts and units, change roles and clearance, unlock, revoke tokens."""
    ACCOUNT_LOCK = "account:lock"
    AGENCY_MANAGE = "agency:manage"
    SEARCH = "search"
    OPERATE = "system:operate"
    """fsck, reindex, index-check: operators of the installation."""
    FSCK_ACKNOWLEDGE = "fsck:acknowledge"
    """Record the decision taken on a finding of ``kho fsck`` that cannot be repaired (a register
    number given to two records): ``kho fsck-acknowledge`` (m65)."""
    HANDLE_SUBMIT = "handling:submit"
    """Trình a registered document to a leader or chuyển giao it to a unit (văn thư)."""
    HANDLE_DIRECT = "handling:direct"
    """Record the leader's direction (chủ trì, phối hợp, thời hạn) or add a task."""
    HANDLE_ASSIGN = "handling:assign"
    """Pass a task on to a chuyên viên (the head of the unit in charge)."""
    HANDLE_WORK = "handling:work"
    """Progress, answer, để biết/lưu, extension request, completion report (the handler)."""
    HANDLE_APPROVE = "handling:approve"
    """Decide an extension, approve completion or ask to redo (the assigner, never oneself)."""
    HANDLE_REPORT = "handling:report"
    """Follow-up lists of a unit, the Sổ theo dõi giải quyết and the reports."""
    HANDLE_REPORT_TOTALS = "handling:report-totals"
    """The processing reports (Phụ lục VI V.2, V.4) as figures only: counts per column, unit and
    period, no row content (what a kiểm toán viên gets; see :func:`report_detail`)."""
    OUTGOING_STATUS = "handling:outgoing-status"
    """Record a recipient's status of an outgoing document (văn thư, its drafter)."""
    PLAN_DRAFT = "plan:draft"
    """Draft the year's Danh mục hồ sơ (văn thư, lưu trữ viên; ND30 Điều 28)."""
    PLAN_APPROVE = "plan:approve"
    """Approve and issue the Danh mục hồ sơ (the head: lãnh đạo)."""
    SCHEDULE_EDIT = "retention:schedule-edit"
    """Edit the retention schedule table (quản trị)."""
    SUBMISSION_REVIEW = "submission:review"
    """Check, accept or return hồ sơ submitted for nộp lưu (lưu trữ viên; Điều 30 k3)."""
    FILE_KEEP_APPROVE = "file:keep-approve"
    """Approve keeping a due hồ sơ in the unit, at most 2 years (lãnh đạo; Điều 31 k3 d)."""
    HOLD_PLACE = "retention:hold"
    """Put a record or hồ sơ under legal hold (phong tỏa), or release it (lưu trữ viên, lãnh đạo)."""
    DISPOSAL_LIST = "retention:disposal-list"
    """See the “Xem xét hủy” list and the destruction cases (lưu trữ viên, lãnh đạo)."""
    DESTRUCTION_PROPOSE = "destruction:propose"
    """Open a destruction case, attach its danh mục, thuyết minh and thẩm định (lưu trữ viên)."""
    DESTRUCTION_DECIDE = "destruction:decide"
    """Set up the council and decide the destruction (the head: lãnh đạo)."""
    DESTRUCTION_EXECUTE = "destruction:execute"
    """Carry out a decided destruction, after re-entering one's password (lưu trữ viên)."""
    TRANSFER = "retention:transfer"
    """Build and export the SIP of a hồ sơ for the historical archive, record its receipt
    (lưu trữ viên; decided on the hồ sơ: :data:`HOLDER_STEPS`)."""
    TRANSFER_IMPORT = "retention:transfer-import"
    """Check and record a SIP arriving from another agency (the agency's lưu trữ viên:
    :data:`AGENCY_ACTIONS`)."""
    RECORD_RECALL = "record:recall"
    """Record a recall (thu hồi) of a document (văn thư, lãnh đạo)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated person, as the policy needs them."""

    user: str
    roles: frozenset[tuple[str, Role]] = frozenset()
    """(unit, role) pairs held."""
    clearance: int = 0
    """Highest secrecy level the person may see: 0 Thường … 3 Tuyệt mật."""
    led_units: frozenset[str] = frozenset()
    """Units the person leads, with every unit below them (filled from the unit tree)."""
    archive_units: frozenset[str] = frozenset()
    """Units whose hồ sơ the person receives for nộp lưu as Lưu trữ cơ quan: every unit at or
    below a unit where they are lưu trữ viên (filled from the unit tree; see
    :func:`receives_submission`)."""

    def has(self, role: Role) -> bool:
        return any(r == role for _, r in self.roles)

    def units_with(self, roles: Iterable[Role]) -> frozenset[str]:
        wanted = frozenset(roles)
        return frozenset(unit for unit, role in self.roles if role in wanted)

    @property
    def content_units(self) -> frozenset[str]:
        """Units whose documents the person works with (plus every unit they lead)."""
        return self.units_with(CONTENT_ROLES) | self.led_units


LOCAL_OPERATOR = Principal(user="system", roles=frozenset({("*", Role.QUAN_TRI)}))
"""The installation's operator acting on the store directly (``kho fsck``, ``kho reindex``)."""


@dataclass(frozen=True)
class RecordFacts:
    """What the policy needs to know about a record or hồ sơ."""

    record_id: str
    kind: str
    unit: str
    secrecy: int = 0
    created_by: str = ""
    grant_users: frozenset[str] = frozenset()
    grant_units: frozenset[str] = frozenset()
    state: str = "active"
    recalled: bool = False
    """A văn bản đi under a recall order (thu hồi): see :func:`sees`."""
    received_from: frozenset[str] = frozenset()
    """For a document: the units of the hồ sơ holding it that are at the Lưu trữ cơ quan now
    (submitted for nộp lưu or taken in, :data:`RECEIVED_STATES`): see :func:`archive_reads`."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str = ""
    message: str = ""
    behind: Decision | None = None
    """For a refusal answered as an unknown record (:func:`unknown`): the refusal itself, for the
    audit log, and for an act on a record the person does know that reaches this one (a grant
    of a hồ sơ reaching its documents), whose refusal must not name the hidden record's id."""

    @property
    def cause(self) -> str:
        """The code of the refusal behind an unknown-record answer ("" for any other)."""
        return self.behind.code if self.behind is not None else ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)

# Actions that need only a role, and which roles give them.
_ROLE_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.RECORD_CREATE: frozenset({Role.VAN_THU}),
    Action.FILE_CREATE: frozenset({Role.VAN_THU, Role.CHUYEN_VIEN, Role.LUU_TRU, Role.LANH_DAO}),
    Action.REGISTER_LIST: frozenset({Role.VAN_THU, Role.LANH_DAO, Role.LUU_TRU}),
    Action.INTAKE_LIST: frozenset({Role.VAN_THU}),
    Action.AUDIT_READ: frozenset({Role.KIEM_TOAN}),
    Action.AUDIT_VERIFY: frozenset({Role.KIEM_TOAN, Role.QUAN_TRI}),
    Action.AUDIT_ACKNOWLEDGE: frozenset({Role.KIEM_TOAN}),
    Action.ACCOUNT_MANAGE: frozenset({Role.QUAN_TRI}),
    Action.ACCOUNT_LOCK: frozenset({Role.QUAN_TRI, Role.LANH_DAO}),
    Action.AGENCY_MANAGE: frozenset({Role.QUAN_TRI, Role.VAN_THU}),
    Action.SEARCH: frozenset(Role),
    Action.OPERATE: frozenset({Role.QUAN_TRI}),
    Action.FSCK_ACKNOWLEDGE: frozenset({Role.QUAN_TRI, Role.LUU_TRU}),
    Action.HANDLE_REPORT: frozenset({Role.VAN_THU, Role.LANH_DAO}),
    Action.HANDLE_REPORT_TOTALS: frozenset({Role.KIEM_TOAN}),
    Action.PLAN_DRAFT: frozenset({Role.VAN_THU, Role.LUU_TRU}),
    Action.PLAN_APPROVE: frozenset({Role.LANH_DAO}),
    Action.SCHEDULE_EDIT: frozenset({Role.QUAN_TRI}),
    Action.SUBMISSION_REVIEW: frozenset({Role.LUU_TRU}),
    Action.FILE_KEEP_APPROVE: frozenset({Role.LANH_DAO}),
    Action.DISPOSAL_LIST: frozenset({Role.LUU_TRU, Role.LANH_DAO}),
    Action.DESTRUCTION_PROPOSE: frozenset({Role.LUU_TRU}),
    Action.DESTRUCTION_DECIDE: frozenset({Role.LANH_DAO}),
    Action.DESTRUCTION_EXECUTE: frozenset({Role.LUU_TRU}),
    Action.TRANSFER: frozenset({Role.LUU_TRU}),
    Action.TRANSFER_IMPORT: frozenset({Role.LUU_TRU}),
}

# Actions on a record: the roles that may do them, given sight of the record.
_RECORD_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.RECORD_VIEW: frozenset(CONTENT_ROLES),
    Action.RECORD_READ: frozenset(CONTENT_ROLES),
    Action.RECORD_UPDATE: frozenset({Role.VAN_THU}),
    Action.RECORD_OVERRIDE: frozenset({Role.VAN_THU}),
    Action.RECORD_RETURN: frozenset({Role.VAN_THU}),
    Action.FILE_EDIT: frozenset({Role.CHUYEN_VIEN, Role.VAN_THU, Role.LUU_TRU, Role.LANH_DAO}),
    Action.HOLD_PLACE: frozenset({Role.LUU_TRU, Role.LANH_DAO}),
    Action.RECORD_RECALL: frozenset({Role.VAN_THU, Role.LANH_DAO}),
}

_SECRECY_LABELS = ("Thường", "Mật", "Tối mật", "Tuyệt mật")


def _named(principal: Principal, facts: RecordFacts) -> bool:
    if principal.user in facts.grant_users:
        return True
    return bool(facts.created_by) and principal.user == facts.created_by


def sees(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person may see the record at all (before the role of the act).

    A văn bản đi under a recall order (:attr:`RecordFacts.recalled`) is kept by the side that
    issued it: its unit (its văn thư, lãnh đạo, lưu trữ viên, and the leaders above it) and the
    person who made it, who answer for the recall and keep it with its state. Those it was sent
    to lose sight of it (ND30 Điều 18 k4: on a recall notice the recipient "hủy bỏ văn bản điện
    tử bị thu hồi trên hệ thống"): no grant, of the document or of a hồ sơ holding it, gives
    sight of it any more (:func:`recalled_from`)."""
    if facts.secrecy > principal.clearance:
        return False
    if facts.recalled:
        issuer = bool(facts.created_by) and principal.user == facts.created_by
        return issuer or facts.unit in principal.content_units
    return _named(principal, facts) or bool(principal.content_units & ({facts.unit} | facts.grant_units))


def recalled_from(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person lost sight of the record by its recall: a recipient, who would see it
    were it not recalled. They are told so (``RECORD_RECALLED``), as the recall notice tells them."""
    return facts.recalled and not sees(principal, facts) and sees(principal, replace(facts, recalled=False))


def names_reference(principal: Principal, facts: RecordFacts) -> bool:
    """Whether a record the person may see may name, by id and số, ký hiệu, the record ``facts``
    it refers to (the answer of a handled document, the document asking for an extension).
    The reference belongs to the referring record (the Sổ theo dõi's "văn bản trả lời" column
    names another unit's answer), so it is named unless the record referred to is above the
    person's clearance or recalled from them: a Mật answer's number is not told to a Thường
    reader of the incoming document (review rv29)."""
    return facts.secrecy <= principal.clearance and not recalled_from(principal, facts)


def decide_take_out(principal: Principal, document: RecordFacts) -> Decision:
    """Whether the person may take ``document`` out of a hồ sơ they edit: what they see, and a
    văn bản đi they lost by its recall (:func:`recalled_from`), which ND30 Điều 18 k4 asks them
    to remove ("hủy bỏ văn bản điện tử bị thu hồi trên hệ thống"). Taking it out gives no sight
    of it: its content and metadata stay refused to them."""
    if recalled_from(principal, document):
        return ALLOW
    return decide(principal, Action.RECORD_VIEW, document)


def roles_on(principal: Principal, facts: RecordFacts) -> frozenset[Role]:
    """The roles a person holds *for reading and handling this record*: in its unit or a unit
    it was granted to, and lãnh đạo over one of them. Only :data:`GRANT_GIVES` and the handling
    steps (:func:`decide_step`) are decided with it; every other act on the record needs the
    role in the record's own unit (:func:`roles_for`)."""
    units = {facts.unit} | facts.grant_units
    held = {role for unit, role in principal.roles if unit in units}
    if units & principal.led_units:
        held.add(Role.LANH_DAO)
    return frozenset(held)


GRANT_GIVES: frozenset[Action] = frozenset({Action.RECORD_VIEW, Action.RECORD_READ})
"""What a grant to a unit (a share for reading, or the chuyển giao of a document to a unit for
handling) gives that unit's members on the record: sight of it, metadata and original. The
handling steps it was shared for are decided by :func:`decide_step`. A grant never gives the
acts of the record's holder: correcting it (:attr:`Action.RECORD_UPDATE`), editing, closing,
reopening or changing the retention of a hồ sơ (:attr:`Action.FILE_EDIT`), holds, recalls,
destruction or transfer. ND30 Điều 28-29: the hồ sơ is built, closed and its retention set by the
unit and person who hold it (lập hồ sơ); a unit it is shared with reads it (Phụ lục VI III.3.b:
“quyền truy cập” is the right to see), it does not take over the keeping of it."""


INTAKE_STATE = "intake"
"""A document received and not yet registered (``ingest.receive``)."""

INTAKE_GIVES: frozenset[Action] = frozenset(
    {Action.RECORD_UPDATE, Action.RECORD_OVERRIDE, Action.RECORD_RETURN}
)
"""What the grant of a document *still in intake* gives: a document a unit's own văn thư
received waits in that unit's queue through a grant to the unit (``ingest.receive``), since it
belongs to no unit until its metadata is confirmed. That grant is given for the intake itself:
confirming and registering it, registering it over a failed signature, returning it to its
sender (ND30 Điều 22: the văn thư receiving a document registers it). Once registered, the
document has its own unit and the grant gives sight only (:data:`GRANT_GIVES`)."""


def roles_for(principal: Principal, action: Action, facts: RecordFacts) -> frozenset[Role]:
    """The roles that count for ``action`` on the record: with a grant (:func:`roles_on`) for
    what a grant gives (:data:`GRANT_GIVES`, and :data:`INTAKE_GIVES` on a document in intake),
    otherwise only in the record's own unit (:func:`_roles_in_own_unit`: a lãnh đạo leading it
    or a unit above it)."""
    if action in GRANT_GIVES or (facts.state == INTAKE_STATE and action in INTAKE_GIVES):
        return roles_on(principal, facts)
    return _roles_in_own_unit(principal, facts)


def _denied(message: str, code: str = "PERMISSION_DENIED") -> Decision:
    return Decision(False, code, message)


_NO_SIGHT = "Bạn không có quyền xem văn bản/hồ sơ này."


UNKNOWN_RECORD = "NOT_FOUND"
"""The code of the refusal a person gets for a record they may not know of (:func:`knows_of`):
the code of an id that names no record."""


def unknown_record_message(record_id: str) -> str:
    """The message of an id that names no record, word for word (the repository's own
    :class:`~kho.errors.NotFound` and :func:`decide`'s refusal of an unknown record say it)."""
    return f"Không tìm thấy văn bản/hồ sơ “{record_id}”."


def knows_of(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person may learn that the record exists, whatever they may do with it:

    * who would see it but for its secrecy level or its recall (its unit, the units and people
      it was granted to, its maker, the leaders above it): they are told why they are refused
      (``SECRECY_DENIED``, ``RECORD_RECALLED``, a role's refusal, a hold);
    * a quản trị, who grants and lists the grants of any record without reading it
      (:attr:`Action.RECORD_GRANT`), and a kiểm toán viên, who reads the whole audit log.

    Anyone else gets, for every act on it, the answer of an id that names no record
    (:func:`decide`, review a15): ids leak (links in mail, printed lists, audit exports), and a
    403 where an absent id gets 404 told an outsider that the document exists."""
    if principal.has(Role.QUAN_TRI) or principal.has(Role.KIEM_TOAN):
        return True
    unmarked = replace(facts, secrecy=0, recalled=False)
    return sees(principal, unmarked) or archive_reads(principal, unmarked)


ALERTED: tuple[Role, ...] = (Role.QUAN_TRI, Role.LUU_TRU)
"""Who is told of a fixity failure or a scheduled job that failed: the people who run the
installation and keep the records (a record's notice: :func:`notice_recipients`)."""


def notice_recipients(
    facts: RecordFacts, people: Iterable[Principal], line: Iterable[str]
) -> frozenset[str]:
    """Who is told of a record a notice names (a fixity finding, a record that cannot be opened):
    the usernames among ``people`` (the active accounts), each of whom may know of it
    (:func:`knows_of`, review rv59: nobody learns an id they may not know of). ``line``: the
    record's unit and the units above it, nearest first. Pure (review m62).

    * Every quản trị (restores it from a backup) and every lưu trữ viên who may know of it
      (:data:`ALERTED`, as before).
    * Where the record's own unit has no lưu trữ viên, nobody of that unit who keeps records was
      told: its **văn thư** is (ND30: the unit's văn thư registered the document and keeps it
      with the unit's hồ sơ until they are submitted, Điều 31; the Lưu trữ cơ quan receives it
      only then, and may not know of it before: rv59);
    * where it has no văn thư either, the **lãnh đạo** of the nearest unit at or above it that
      has one (the head who directs the unit's văn thư work and knows of its records: a unit
      below one they lead is theirs too).

    The lưu trữ viên and văn thư of a unit above are not told of it: they may not know of a
    record of a unit below (:func:`sees`), so the line ends with the leaders, who may."""
    knowing = [p for p in people if knows_of(p, facts)]

    def holding(role: Role, unit: str | None = None) -> set[str]:
        return {p.user for p in knowing if any(r is role and unit in (None, u) for u, r in p.roles)}

    told = holding(Role.QUAN_TRI) | holding(Role.LUU_TRU)
    if holding(Role.LUU_TRU, facts.unit):
        return frozenset(told)
    keepers = holding(Role.VAN_THU, facts.unit)
    for unit in line:
        if keepers:
            break
        keepers = holding(Role.LANH_DAO, unit)
    return frozenset(told | keepers)


def unknown(record_id: str, behind: Decision) -> Decision:
    """The refusal of a record the person may not know of (:func:`knows_of`), answered as an
    absent id; ``behind``: the refusal it stands for (:attr:`Decision.behind`)."""
    # (A Decision is false when refused: compare with None, never with ``or``.)
    itself = behind.behind if behind.behind is not None else behind
    return Decision(False, UNKNOWN_RECORD, unknown_record_message(record_id), itself)


def decide(principal: Principal, action: Action, facts: RecordFacts | None = None) -> Decision:
    """Whether ``principal`` may do ``action`` (on ``facts``, for actions on a record).

    A refusal on a record the person may not know of (:func:`knows_of`) is :func:`unknown`: the
    answer of an absent id, so the refusal says nothing of whether the record exists (nor of its
    unit, level or state). Who is allowed does not change. A record about to be written (a
    draft: a new record, or the new state of one) is decided by :func:`decide_new`."""
    decision = decide_new(principal, action, facts)
    if decision.allowed or facts is None or knows_of(principal, facts):
        return decision
    return unknown(facts.record_id, decision)


def decide_new(principal: Principal, action: Action, facts: RecordFacts | None = None) -> Decision:
    """:func:`decide` with the refusal's own code and message whoever asks: for what a person is
    about to write (a new record of a unit, the new unit or level of a record they correct),
    which exists for nobody else yet."""
    held = {role for _, role in principal.roles}
    if action in _ROLE_ACTIONS:
        if not held & _ROLE_ACTIONS[action]:
            return _denied(
                f"Tài khoản “{principal.user}” không có vai trò được phép {_ACTION_LABELS[action]}."
            )
        if facts is not None and action in DESTRUCTION_STEPS:
            return _decide_destruction(principal, action, facts)
        if facts is not None and action in HOLDER_STEPS:
            return _decide_holder_step(principal, action, facts)
        return ALLOW
    if facts is None:
        raise ValueError(f"{action} needs a record")
    if action in _STEP_ACTIONS:
        return decide_step(principal, action, facts, WorkFacts())
    auditing = action is Action.RECORD_HISTORY and Role.KIEM_TOAN in held
    archive_asks = action in ARCHIVE_GIVES
    archived = archive_asks and archive_reads(principal, facts)
    if action is Action.RECORD_HISTORY:
        if auditing and facts.secrecy <= principal.clearance:
            return ALLOW
        action = Action.RECORD_VIEW
    if action is Action.RECORD_GRANT:
        return _decide_grant_role(principal, facts)
    if facts.secrecy > principal.clearance:
        if not auditing and not _reads_at_any_level(principal, facts):
            # No sight of it whatever its level: refused as any record they may not see, so the
            # refusal tells an outsider neither that it is secret nor how secret (review a14).
            return _denied(_NO_SIGHT)
        return _denied(
            f"Văn bản có độ mật “{_SECRECY_LABELS[min(facts.secrecy, 3)]}” vượt quá mức được phép xem"
            " của tài khoản.",
            "SECRECY_DENIED",
        )
    if archived:
        return ALLOW
    if not sees(principal, facts):
        if recalled_from(principal, facts) or (archive_asks and recalled_from_archive(principal, facts)):
            return _denied(
                "Văn bản này đã bị cơ quan, đơn vị ban hành thu hồi: nơi nhận không còn được xem, tải"
                " văn bản (Nghị định 30/2020/NĐ-CP, Điều 18 khoản 4).",
                "RECORD_RECALLED",
            )
        return _denied(_NO_SIGHT)
    # Named grants and the creator: reading what was given to you needs no particular role.
    if action in (Action.RECORD_VIEW, Action.RECORD_READ) and _named(principal, facts):
        return ALLOW
    if roles_for(principal, action, facts) & _RECORD_ACTIONS[action]:
        return ALLOW
    if roles_on(principal, facts) & _RECORD_ACTIONS[action]:
        return _denied(
            f"Văn bản/hồ sơ chỉ được chia sẻ cho đơn vị của bạn để xem, xử lý: chỉ đơn vị giữ nó mới"
            f" được {_ACTION_LABELS[action]}.",
            "GRANT_READ_ONLY",
        )
    return _denied(f"Vai trò của bạn không được phép {_ACTION_LABELS[action]}.")


def decide_correction(
    principal: Principal,
    action: Action,
    before: RecordFacts,
    after: RecordFacts,
    *,
    fields: Iterable[str] = (),
    reason: str | None = None,
) -> Decision:
    """A correction (:attr:`Action.RECORD_UPDATE` of a document, :attr:`Action.FILE_EDIT` of a
    hồ sơ) that changes its unit or độ mật, which decide who may see it and who keeps it.
    ``fields``: the fields the correction changes; ``reason``: its căn cứ (the note).

    * A new unit is decided as a new record of it (:func:`decide_new`, the rule of registering
      one): the editor holds their role in the new unit too (``RECORD_MOVE_DENIED``). Moving a
      document by a correction hands the new unit its keeping (correcting, hồ sơ, destruction,
      transfer) and takes it out of the old unit's sight; a document another unit must handle
      is given to it by chuyển giao, which gives sight only (:data:`GRANT_GIVES`; review rv15).
    * A higher level is decided as a new record of it: no one sets a level above their own
      clearance (a phòng's văn thư cleared Thường put their document out of every reader's
      sight in the phòng, theirs too).
    * Lowering it (hạ độ mật, giải mật) widens who reads it: the decision of the head of the
      unit (Luật Bảo vệ bí mật nhà nước 2018, Điều 21, 22), so of the unit's lãnh đạo, who may
      make it without being its văn thư (``SECRECY_LOWER_DENIED`` for anyone else). It is a
      decision of its own: the correction changes the độ mật and nothing else
      (``SECRECY_LOWER_ONLY``) and names its căn cứ (``SECRECY_REASON_REQUIRED``), both in the
      version and in the audit trail.

    Anything else a correction changes is the editor's act, decided by :func:`decide` with
    ``action`` (the caller's check); a declassification needs only sight of the record besides
    this rule."""
    if after.unit != before.unit:
        moved = decide_new(principal, action, replace(after, secrecy=min(after.secrecy, before.secrecy)))
        if not moved:
            return _denied(
                f"Không chuyển văn bản/hồ sơ sang đơn vị “{after.unit}” bằng việc sửa dữ liệu: bạn không"
                " giữ vai trò được phép sửa ở đơn vị đó. Muốn đơn vị khác xem, xử lý văn bản, hãy"
                " chuyển giao văn bản cho đơn vị đó.",
                "RECORD_MOVE_DENIED",
            )
    if after.secrecy >= before.secrecy:
        return ALLOW if after.secrecy == before.secrecy else decide_new(principal, action, after)
    if Role.LANH_DAO not in _roles_in_own_unit(principal, before):
        return _denied(
            f"Không hạ độ mật “{_SECRECY_LABELS[min(before.secrecy, 3)]}” xuống"
            f" “{_SECRECY_LABELS[min(after.secrecy, 3)]}” bằng việc sửa dữ liệu: hạ độ mật, giải mật"
            " do lãnh đạo đơn vị quyết định (Luật Bảo vệ bí mật nhà nước 2018, Điều 21, 22).",
            "SECRECY_LOWER_DENIED",
        )
    if set(fields) - {"secrecy"}:
        return _denied(
            "Hạ độ mật, giải mật là một quyết định riêng: lần sửa này chỉ được thay đổi độ mật. Hãy"
            " sửa các trường khác trong một lần sửa khác.",
            "SECRECY_LOWER_ONLY",
        )
    if blank(reason):
        return _denied(
            "Hạ độ mật, giải mật phải ghi căn cứ (số, ký hiệu văn bản quyết định hoặc lý do).",
            "SECRECY_REASON_REQUIRED",
        )
    return ALLOW


def may_declassify(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person may lower the record's độ mật (:func:`decide_correction`): a record
    marked above Thường that they see, in a unit they lead (the record page offers it)."""
    return (
        facts.secrecy > 0
        and bool(decide(principal, Action.RECORD_VIEW, facts))
        and Role.LANH_DAO in _roles_in_own_unit(principal, facts)
    )


def declassifies(before: RecordFacts, after: RecordFacts) -> bool:
    """Whether a correction from ``before`` to ``after`` lowers the độ mật (hạ độ mật, giải mật):
    decided by :func:`decide_correction` alone, with sight of the record, not the editor's role."""
    return after.secrecy < before.secrecy


DESTRUCTION_STEPS: frozenset[Action] = frozenset(
    {Action.DESTRUCTION_PROPOSE, Action.DESTRUCTION_DECIDE, Action.DESTRUCTION_EXECUTE}
)
"""Steps of a destruction that are decided on each hồ sơ of the danh mục (given its facts)."""


def _roles_in_own_unit(principal: Principal, facts: RecordFacts) -> frozenset[Role]:
    """The roles a person holds in the record's *own* unit (lãnh đạo: leading it or a unit above
    it), leaving out those that come from a grant to another unit (:func:`roles_on` counts
    them): what decides over the record itself, not only reading it."""
    own = {role for unit, role in principal.roles if unit == facts.unit}
    if facts.unit in principal.led_units:
        own.add(Role.LANH_DAO)
    return frozenset(own)


HOLDER_STEPS: frozenset[Action] = frozenset({Action.FILE_KEEP_APPROVE, Action.TRANSFER})
"""Role acts that, given the hồ sơ, are its holder's, never a reader's (:data:`GRANT_GIVES`):
keeping a hồ sơ due for nộp lưu in the unit (ND30 Điều 31 k3 d: the head of the unit holding
it approves), and its transfer to the Lưu trữ lịch sử (the package, its receipt: done by the
archive that keeps the hồ sơ). Decided by :func:`_decide_holder_step` (review rv58: a phòng's
lãnh đạo holding a read grant on the agency's hồ sơ approved keeping it two more years, and a
phòng's lưu trữ viên holding one exported its package and recorded its receipt, which marks it
transferred for ever)."""


def _holder_roles(principal: Principal, facts: RecordFacts) -> frozenset[Role]:
    """The roles a person holds over the record as its holder: in its own unit
    (:func:`_roles_in_own_unit`), and lưu trữ viên of its unit or a unit above it (the archive
    keeps the hồ sơ of every unit below it, :attr:`Principal.archive_units`)."""
    roles = set(_roles_in_own_unit(principal, facts))
    if facts.unit in principal.archive_units:
        roles.add(Role.LUU_TRU)
    return frozenset(roles)


def _decide_holder_step(principal: Principal, action: Action, facts: RecordFacts) -> Decision:
    """An act of :data:`HOLDER_STEPS` on one hồ sơ: sight of it, and the role for the act held
    over it as its holder (:func:`_holder_roles`); a grant gives sight only.

    A transfer is also the act of the Lưu trữ cơ quan on a hồ sơ it holds as the archive
    (:func:`receives_submission`: submitted to it or taken in, of its unit or a unit below):
    the same rule that lists the hồ sơ due for transfer to it (``Transfers.due``), so what the
    archive is shown it acts on (review rv59: the agency's archivist was listed a phòng's
    archived hồ sơ and answered 404 on its export, a hồ sơ being no record it *sees*)."""
    if action is Action.TRANSFER and receives_submission(principal, facts):
        return ALLOW
    seen = decide(principal, Action.RECORD_VIEW, facts)
    if not seen:
        return seen
    if _holder_roles(principal, facts) & _ROLE_ACTIONS[action]:
        return ALLOW
    return _denied(
        f"Hồ sơ này không thuộc đơn vị bạn giữ vai trò được phép {_ACTION_LABELS[action]} (hoặc đơn"
        " vị cấp dưới): hồ sơ được chia sẻ để xem thì chỉ được xem.",
        "FILE_OTHER_UNIT",
    )


def _decide_destruction(principal: Principal, action: Action, facts: RecordFacts) -> Decision:
    """A destruction step on one hồ sơ: sight of it (its secrecy included), and the role for the
    step held in the hồ sơ's *own* unit (a lãnh đạo: leading it or a unit above it). A grant
    that lets another unit read a hồ sơ gives no say over its destruction, and the lãnh đạo or
    lưu trữ viên of one phòng does not decide or carry out the destruction of another's."""
    seen = decide(principal, Action.RECORD_VIEW, facts)
    if not seen:
        return seen
    if _roles_in_own_unit(principal, facts) & _ROLE_ACTIONS[action]:
        return ALLOW
    return _denied(
        f"Hồ sơ “{facts.record_id}” không thuộc đơn vị bạn giữ vai trò được phép {_ACTION_LABELS[action]}.",
        "DESTRUCTION_OTHER_UNIT",
    )


def may_destroy(
    principal: Principal, action: Action, file: RecordFacts, documents: Iterable[RecordFacts]
) -> Decision:
    """A destruction step (:data:`DESTRUCTION_STEPS`) on a hồ sơ *and every document in it*: the
    step on the hồ sơ (:func:`_decide_destruction`), and no document marked above the person's
    clearance. Destruction is decided per hồ sơ, but what is shredded is each document: a lưu
    trữ viên cleared for Thường does not propose, and nobody below its level decides or carries
    out, the destruction of a Mật document because the hồ sơ holding it is Thường. The refusal
    names the hồ sơ and how many documents are above the clearance, never their titles
    (ND30 Phụ lục VI III.3.b: access rights are decided for each hồ sơ *and each văn bản*;
    and this module's first rule, secrecy first)."""
    decision = decide(principal, action, file)
    if not decision:
        return decision
    above = sum(1 for d in documents if d.secrecy > principal.clearance)
    if above:
        return _denied(
            f"Hồ sơ “{file.record_id}” có {above} văn bản mang độ mật vượt quá mức được phép của tài"
            f" khoản: bạn không được {_ACTION_LABELS[action]} hồ sơ này.",
            "DESTRUCTION_SECRECY_DENIED",
        )
    return ALLOW


_FILE_KIND = "hoso"
"""A hồ sơ's ``kind`` (``repository.records.KIND_FILE``)."""

RECEIVED_STATES: frozenset[str] = frozenset({"submitted", "archived"})
"""The states of a hồ sơ that is the archive's (``retention.service.FileState``): submitted for
nộp lưu and waiting (``submitted``), or taken in (``archived``). A hồ sơ never submitted, or
returned (trả lại: ``closed`` again, then perhaps reopened), is its unit's, not the archive's."""

_NOT_RECEIVED = "Hồ sơ không ở Lưu trữ cơ quan: hồ sơ chưa được nộp lưu hoặc đã được trả lại cho đơn vị."


def receives_submission(
    principal: Principal, file: RecordFacts, documents: Iterable[RecordFacts] = ()
) -> Decision:
    """Whether the person, as Lưu trữ cơ quan, reads a hồ sơ submitted for nộp lưu or archived,
    with the documents it holds: the one rule of every archive route (the inbox and the archived
    list, the review with its checks and its mục lục of documents, acceptance and return; the
    pages, the API and the CLI). ND30 Điều 30 k3 and Điều 31 k3 c: the units and people of an
    agency submit their hồ sơ to the agency's Lưu trữ cơ quan, which “kiểm tra, nhận hồ sơ”:
    so a lưu trữ viên receives the hồ sơ of the unit where they hold the role and of every unit
    below it (:attr:`Principal.archive_units`), not those of a sibling or a unit above, and only
    while the hồ sơ is the archive's (:data:`RECEIVED_STATES`): once returned it is its unit's
    again (review rv40). Secrecy first: neither the hồ sơ nor any document in it may be above
    their clearance (nothing secret is listed to someone not cleared for it). This is the sight
    the archive's work needs; it gives no other act on the records (:func:`sees` is unchanged).
    The documents of such a hồ sơ are read on their own pages by :func:`archive_reads`, the same
    rule (review u21); the hồ sơ's own record page stays refused (its page is the review).

    Who may not know of the hồ sơ otherwise (:func:`knows_of`) and does not receive it gets the
    answer of an absent id, whatever the reason behind it (kept for the audit log)."""
    decision = decide(principal, Action.SUBMISSION_REVIEW)
    is_file = file.kind == _FILE_KIND
    ours = file.unit in principal.archive_units
    received = is_file and file.state in RECEIVED_STATES
    if not (ours and received) and not knows_of(principal, file):
        # Not theirs to receive, nor to know of: refused as an id that names nothing. The archive
        # receives hồ sơ (review rv8): a phòng's document named as one was told "… không phải là
        # hồ sơ", and its hồ sơ never submitted, or returned, was reviewed whole (rv8, rv40).
        if not decision:
            behind = decision
        elif not ours:
            behind = _denied(
                "Hồ sơ này không thuộc đơn vị nộp lưu vào Lưu trữ cơ quan nơi bạn làm lưu trữ viên.",
                "SUBMISSION_OTHER_UNIT",
            )
        elif not is_file:
            behind = _denied("Văn bản này không phải là hồ sơ nộp lưu.", "NOT_A_FILE")
        else:
            behind = _denied(_NOT_RECEIVED, "SUBMISSION_NOT_RECEIVED")
        return unknown(file.record_id, behind)
    if not decision:
        return decision
    if not ours:
        return _denied(
            "Hồ sơ này không thuộc đơn vị nộp lưu vào Lưu trữ cơ quan nơi bạn làm lưu trữ viên.",
            "SUBMISSION_OTHER_UNIT",
        )
    if is_file and not received:
        # Known to them otherwise (a hồ sơ of their own unit): told why, not shown by this route.
        return _denied(_NOT_RECEIVED, "SUBMISSION_NOT_RECEIVED")
    if file.secrecy > principal.clearance or any(d.secrecy > principal.clearance for d in documents):
        return _denied(
            "Hồ sơ có tài liệu mang độ mật vượt quá mức được phép xem của tài khoản.", "SECRECY_DENIED"
        )
    return ALLOW


ARCHIVE_GIVES: frozenset[Action] = frozenset({Action.RECORD_VIEW, Action.RECORD_READ})
"""What the Lưu trữ cơ quan gets on the documents of a hồ sơ it receives (:func:`archive_reads`):
their metadata and their original (the record page, download, print), nothing else: not their
history, not any act on them (:func:`sees` is unchanged). Search lists them to the archive
(:func:`index_archive`, :attr:`SearchScope.archive_units`, review u24)."""


def archive_reads(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person, as Lưu trữ cơ quan, reads a *document* (:data:`ARCHIVE_GIVES`) because
    a hồ sơ holding it is submitted to their archive or taken in by it
    (:attr:`RecordFacts.received_from` within :attr:`Principal.archive_units`, the rule of
    :func:`receives_submission`). ND30 Điều 31 k3 c and Luật Lưu trữ 2024: the archive checks
    the hồ sơ, its mục lục *and the documents against it* before receiving them, so the lưu trữ
    viên opens them; the sight ends when the hồ sơ is returned (trả lại: it is its unit's again).

    Secrecy first still holds (:func:`decide` refuses above the clearance before this). A
    document recalled (thu hồi) is read only if the hồ sơ at the archive is of the document's own
    unit (the issuer, who keeps it): a recipient's hồ sơ lost sight of it, and so does its
    archive (:func:`sees`). Search lists the same documents to the archive: the index stores
    :func:`index_archive` and :class:`SearchScope` carries the archive units (review u24)."""
    if facts.kind == _FILE_KIND:
        return False
    received = facts.received_from & principal.archive_units
    if facts.recalled:
        return facts.unit in received
    return bool(received)


def finds(principal: Principal, facts: RecordFacts) -> bool:
    """Whether search lists the record to the person: what they see (:func:`sees`) and, within
    their clearance, the documents their archive reads (:func:`archive_reads`). The rule
    :class:`SearchScope` with :func:`index_visibility` and :func:`index_archive` reproduces
    (review u24)."""
    if facts.secrecy > principal.clearance:
        return False
    return sees(principal, facts) or archive_reads(principal, facts)


def recalled_from_archive(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person, as Lưu trữ cơ quan, lost the reading of a document
    (:func:`archive_reads`) by its recall: a văn bản đi in a recipient's hồ sơ submitted to or
    taken in by their archive, recalled (thu hồi) by its issuer. They are told so
    (``RECORD_RECALLED``), as the recipients are (:func:`recalled_from`), so the review page
    marks it instead of linking to a refusal (u21 open, u22). Secrecy first still holds:
    :func:`decide_new` refuses above the clearance before asking this."""
    return (
        facts.recalled
        and not archive_reads(principal, facts)
        and archive_reads(principal, replace(facts, recalled=False))
    )


def _reads_at_any_level(principal: Principal, facts: RecordFacts) -> bool:
    """Whether the person would see or read the record but for its secrecy level."""
    unmarked = replace(facts, secrecy=0)
    return sees(principal, unmarked) or archive_reads(principal, unmarked)


_GRANTERS_ONLY = "Chỉ quản trị hoặc lãnh đạo có quyền xem văn bản mới được phân quyền."


AGENCY_ACTIONS: dict[Action, str] = {
    Action.PLAN_DRAFT: "văn thư hoặc lưu trữ viên của cơ quan (Nghị định 30/2020/NĐ-CP Điều 28)",
    Action.PLAN_APPROVE: "lãnh đạo cơ quan (người đứng đầu cơ quan, Nghị định 30/2020/NĐ-CP Điều 28)",
    Action.SCHEDULE_EDIT: "quản trị của cơ quan",
    Action.OPERATE: "quản trị của cơ quan",
    Action.FSCK_ACKNOWLEDGE: "quản trị hoặc lưu trữ viên của cơ quan",
    Action.AGENCY_MANAGE: "văn thư hoặc quản trị của cơ quan",
    Action.TRANSFER_IMPORT: "lưu trữ viên của cơ quan",
}
"""Acts on what belongs to the whole agency rather than to one of its units, and who does them:
the agency's Danh mục hồ sơ, which its văn thư and lưu trữ draft and "người đứng đầu cơ quan, tổ
chức" approves and issues at the start of the year (ND30 Điều 28; STANDARDS §1.7), its table of
retention periods (bảng thời hạn bảo quản), which every unit's hồ sơ are given from, what the
installation runs on (:attr:`Action.OPERATE`: the signature trust list every verdict is decided
by, ``kho trust``), the agency's directory of senders (:attr:`Action.AGENCY_MANAGE`: every
unit's văn thư receives from it) and the packages the agency's archive takes in from another
agency (:attr:`Action.TRANSFER_IMPORT`). The role counts only when it is held at the agency's
own unit (the root of the unit tree, :func:`decide_for_agency`): the head of a phòng leads the
phòng, a phòng's quản trị manages the phòng's accounts, a phòng's văn thư registers the phòng's
documents, none of them acts for the agency (review rv58: a phòng's lãnh đạo, cleared for
nothing, approved and issued the agency's plan, whose periods bound every unit's hồ sơ; review
rv59: a phòng's văn thư drafted it, added organs to the directory, and a phòng's lưu trữ viên
recorded another agency's package as received by the archive)."""


def decide_for_agency(principal: Principal, action: Action, agency_unit: str) -> Decision:
    """Whether ``principal`` may do ``action`` when the agency's own unit is ``agency_unit``:
    :func:`decide`, and for an act of :data:`AGENCY_ACTIONS` a role that gives it held at
    ``agency_unit`` itself (refused ``AGENCY_HEAD_ONLY`` otherwise). Any other action is
    :func:`decide`'s alone."""
    decision = decide(principal, action)
    if not decision or action not in AGENCY_ACTIONS:
        return decision
    if any((agency_unit, role) in principal.roles for role in _ROLE_ACTIONS[action]):
        return ALLOW
    return _denied(
        f"Chỉ {AGENCY_ACTIONS[action]} mới được {_ACTION_LABELS[action]} của cơ quan; vai trò này"
        " ở phòng, đơn vị thuộc cơ quan thì không.",
        "AGENCY_HEAD_ONLY",
    )


def reads_register_note(principal: Principal, agency_unit: str) -> bool:
    """Whether ``principal`` reads the record ids in a register's note of numbers lost in a
    backup (u36): a role that lists the register (:attr:`Action.REGISTER_LIST`) held at
    ``agency_unit`` itself. The lost records are not in the store, so their units and secrecy
    are unknown; a văn thư of a phòng, who sees only the rows :func:`sees` allows, reads that
    numbers are missing and never which records held them (fail closed)."""
    return any((agency_unit, role) in principal.roles for role in _ROLE_ACTIONS[Action.REGISTER_LIST])


def decide_granter(principal: Principal) -> Decision:
    """Whether the person holds a role that grants at all (:attr:`Action.RECORD_GRANT`: quản
    trị, or lãnh đạo on what they see by their own unit's rule, never on what a grant lets them
    see: :func:`_decide_grant_role`). Decided before the names granted are looked up, so that a
    refusal says nothing of whether an account exists."""
    if principal.has(Role.QUAN_TRI) or principal.has(Role.LANH_DAO):
        return ALLOW
    return _denied(_GRANTERS_ONLY)


def _decide_grant_role(principal: Principal, facts: RecordFacts) -> Decision:
    """:attr:`Action.RECORD_GRANT` on a record: a quản trị (who grants without reading), or a
    lãnh đạo who sees it by their own unit's rule — it is of a unit they lead or of a unit below
    it (:func:`_roles_in_own_unit`), within their clearance and not recalled from them
    (:func:`sees`). Sight that comes from a grant (to them by name, to their unit, or on a hồ sơ
    holding it) is read-only (:data:`GRANT_GIVES`): it is not passed on (``GRANT_NOT_YOURS``;
    review rv58/rv59: phòng B's head, given one Mật document of the agency to read, could grant
    it to all of phòng B). The holder of such a grant keeps reading it."""
    if principal.has(Role.QUAN_TRI):
        return ALLOW
    if not decide_granter(principal) or not sees(principal, facts):
        return _denied(_GRANTERS_ONLY)
    if Role.LANH_DAO in _roles_in_own_unit(principal, facts):
        return ALLOW
    return _denied(
        "Bạn xem được văn bản/hồ sơ này nhờ được chia sẻ: quyền được chia sẻ chỉ để xem, không được"
        " phân quyền tiếp cho người khác. Chỉ lãnh đạo đơn vị giữ văn bản/hồ sơ (hoặc đơn vị cấp"
        " trên) hoặc quản trị mới được phân quyền.",
        "GRANT_NOT_YOURS",
    )


def can(principal: Principal, action: Action, facts: RecordFacts | None = None) -> bool:
    return decide(principal, action, facts).allowed


MAX_SECRECY = len(_SECRECY_LABELS) - 1
"""Tuyệt mật: the highest secrecy level a record can carry."""


def reads_events_of(principal: Principal, facts: RecordFacts) -> bool:
    """Whether a person reading the whole audit log (:attr:`Action.AUDIT_READ`) gets a record's
    events in full: only when they may read its history (:attr:`Action.RECORD_HISTORY`, a
    kiểm toán viên up to their clearance). Otherwise each such event is *withheld*: its
    position, time, actor, action and source stay (the chain and who acted when remain
    checkable, and nothing is left out of counts or pages), its record, version, details and
    hashes do not (:func:`repository.records.withheld`)."""
    return decide(principal, Action.RECORD_HISTORY, facts).allowed


def reads_events_at(principal: Principal, secrecy: int) -> bool:
    """:func:`reads_events_of` for a kiểm toán viên, who needs nothing of a record but its
    secrecy level (:attr:`Action.RECORD_HISTORY` up to their clearance; above it, the record's
    unit and grants cannot open it either). Lets the whole log be decided from the audit
    index's secrecy map. Anyone else: :class:`ValueError` (their decision needs the record)."""
    if not principal.has(Role.KIEM_TOAN):
        raise ValueError("only a kiểm toán viên's reading rests on secrecy alone")
    return reads_events_of(principal, RecordFacts(record_id="", kind="", unit="", secrecy=secrecy))


def reads_search_event(principal: Principal, reach: int) -> bool:
    """Whether a person reading the audit log gets a search's (or a search export's) query,
    filters and counts in full. The search of someone cleared up to ``reach`` counted the
    documents up to that level: its count says how many of them matched, which a reader
    cleared lower may not learn. Others get the event withheld (who searched, when, stay).
    The same holds for every event that counts what its actor could see (a register's rows,
    the exports of a register, of the hồ sơ received, of the handling totals:
    :data:`repository.records.COUNTED_EVENTS`)."""
    return reach <= principal.clearance


def may_withhold_events(principal: Principal) -> bool:
    """Whether some record's events can be withheld from this person (:func:`reads_events_of`):
    anyone cleared below the highest secrecy level. Lets the log skip looking up records for
    those cleared for everything."""
    return principal.clearance < MAX_SECRECY


def decide_grant(
    principal: Principal, facts: RecordFacts, users: Iterable[str] = (), units: Iterable[str] = ()
) -> Decision:
    """Whether ``principal`` may grant sight of a record or hồ sơ to ``users`` and ``units``
    (:attr:`Action.RECORD_GRANT`), given who they would be. Nobody gives themselves sight they do
    not have: a quản trị grants without reading (naming themselves, or a unit where they hold a
    content role, would let them read), and a lãnh đạo already sees what they grant. Secrecy
    is left out of the comparison: a grant to oneself of a record above one's clearance would
    be read once the record is declassified or the clearance raised."""
    decision = decide(principal, Action.RECORD_GRANT, facts)
    if not decision:
        return decision
    widened = replace(
        facts,
        grant_users=facts.grant_users | frozenset(users),
        grant_units=facts.grant_units | frozenset(units),
    )
    cleared = replace(principal, clearance=max(principal.clearance, facts.secrecy))
    if sees(cleared, widened) and not sees(cleared, facts):
        return _denied(
            "Không được tự cấp cho mình quyền xem văn bản/hồ sơ: việc cấp quyền cho chính người"
            " cấp phải do người khác có thẩm quyền thực hiện.",
            "SELF_GRANT",
        )
    return ALLOW


_ACTION_LABELS = {
    Action.RECORD_VIEW: "xem văn bản",
    Action.RECORD_READ: "xem/tải tệp gốc",
    Action.RECORD_HISTORY: "xem lịch sử",
    Action.RECORD_CREATE: "tiếp nhận, đăng ký văn bản",
    Action.RECORD_UPDATE: "sửa dữ liệu đặc tả",
    Action.RECORD_OVERRIDE: "đăng ký văn bản có chữ ký không hợp lệ",
    Action.RECORD_RETURN: "trả lại văn bản",
    Action.RECORD_GRANT: "phân quyền",
    Action.FILE_CREATE: "lập hồ sơ",
    Action.FILE_EDIT: "sửa hồ sơ",
    Action.REGISTER_LIST: "xem sổ đăng ký",
    Action.INTAKE_LIST: "xem văn bản chờ vào sổ",
    Action.AUDIT_READ: "xem nhật ký kiểm toán",
    Action.AUDIT_VERIFY: "kiểm tra nhật ký",
    Action.AUDIT_ACKNOWLEDGE: "chấp nhận phát hiện của nhật ký kiểm toán",
    Action.ACCOUNT_MANAGE: "quản lý tài khoản",
    Action.ACCOUNT_LOCK: "khóa tài khoản",
    Action.AGENCY_MANAGE: "quản lý danh mục cơ quan",
    Action.SEARCH: "tìm kiếm",
    Action.OPERATE: "vận hành hệ thống",
    Action.FSCK_ACKNOWLEDGE: "chấp nhận phát hiện không sửa được của kiểm tra kho",
    Action.HANDLE_SUBMIT: "trình, chuyển giao văn bản",
    Action.HANDLE_DIRECT: "cho ý kiến chỉ đạo",
    Action.HANDLE_ASSIGN: "giao xử lý",
    Action.HANDLE_WORK: "xử lý văn bản",
    Action.HANDLE_APPROVE: "duyệt gia hạn, hoàn thành",
    Action.HANDLE_REPORT: "xem báo cáo giải quyết văn bản",
    Action.HANDLE_REPORT_TOTALS: "xem số liệu tổng hợp giải quyết văn bản",
    Action.OUTGOING_STATUS: "cập nhật trạng thái văn bản đi",
    Action.PLAN_DRAFT: "lập danh mục hồ sơ",
    Action.PLAN_APPROVE: "phê duyệt, ban hành danh mục hồ sơ",
    Action.SCHEDULE_EDIT: "sửa bảng thời hạn bảo quản",
    Action.SUBMISSION_REVIEW: "tiếp nhận hồ sơ nộp lưu",
    Action.FILE_KEEP_APPROVE: "duyệt giữ lại hồ sơ đến hạn nộp lưu",
    Action.HOLD_PLACE: "phong tỏa hoặc gỡ phong tỏa tài liệu",
    Action.DISPOSAL_LIST: "xem danh sách tài liệu xem xét hủy",
    Action.DESTRUCTION_PROPOSE: "lập hồ sơ đề nghị hủy tài liệu",
    Action.DESTRUCTION_DECIDE: "quyết định hủy tài liệu",
    Action.DESTRUCTION_EXECUTE: "thực hiện hủy tài liệu",
    Action.TRANSFER: "lập, xuất gói tin nộp lưu lịch sử",
    Action.TRANSFER_IMPORT: "nhập gói tin từ cơ quan khác",
    Action.RECORD_RECALL: "thu hồi văn bản",
}


@dataclass(frozen=True)
class WorkFacts:
    """What the policy needs to know of a document's handling (from
    :func:`repository.workflow.derive`) to decide a handling step."""

    leaders: frozenset[str] = frozenset()
    """People it was submitted (trình) to."""
    units: frozenset[str] = frozenset()
    """Units in charge of the task concerned (chủ trì), or every unit it reached."""
    handlers: frozenset[str] = frozenset()
    """People who handle the task concerned (chủ trì by name, the chuyên viên it was given to)."""
    assigner: str = ""
    """Who gave the task concerned."""
    requester: str = ""
    """Who asks for what is to be approved (the extension's requester, the task's handler)."""
    assignee_units: tuple[frozenset[str], ...] = ()
    """For a giao xử lý: the units of each person it names (who exist)."""


_STEP_ACTIONS = frozenset(
    {
        Action.HANDLE_SUBMIT,
        Action.HANDLE_DIRECT,
        Action.HANDLE_ASSIGN,
        Action.HANDLE_WORK,
        Action.HANDLE_APPROVE,
        Action.OUTGOING_STATUS,
    }
)
"""Handling steps: decided by :func:`decide_step` (with what is known of the handling)."""


HANDLER_ROLES = frozenset({Role.VAN_THU, Role.LANH_DAO, Role.CHUYEN_VIEN, Role.LUU_TRU})
"""The roles of the people a document may be handed to (chủ trì, phối hợp, a forward). A kiểm
toán viên checks the handling and a quản trị runs the installation: neither handles documents,
and a task would give them sight of one (separation of duties). Someone who holds one of these
roles as well may still be handed a document."""


def may_handle(roles: Iterable[Role]) -> bool:
    """Whether a person with ``roles`` may be handed a document to handle (pure)."""
    return not HANDLER_ROLES.isdisjoint(roles)


def _leads_one_of(principal: Principal, units: frozenset[str]) -> bool:
    return bool(units & (principal.units_with({Role.LANH_DAO}) | principal.led_units))


def decide_step(principal: Principal, action: Action, facts: RecordFacts, work: WorkFacts) -> Decision:
    """Whether the person may take a handling step on a document (Điều 23–24; Lạng Sơn Điều
    13–16). Sight of the document comes first (:func:`decide` with :attr:`Action.RECORD_VIEW`:
    a person sees it because it was distributed or assigned to them). Then:

    * trình / chuyển giao: a văn thư of the document's unit;
    * chỉ đạo, thêm nhiệm vụ: a lãnh đạo it was submitted to, or a lãnh đạo over its unit;
    * giao xử lý: the head (lãnh đạo) of a unit in charge, to people of the units they lead, or
      whoever may direct, to anyone;
    * xử lý (tiến độ, trả lời, xin gia hạn, báo cáo hoàn thành): a handler of the task, or who may
      assign it;
    * duyệt (gia hạn, hoàn thành, làm lại): only the assigner, and never on their own request.
    """
    seen = decide(principal, Action.RECORD_VIEW, facts)
    if not seen:
        return seen
    held = roles_on(principal, facts)
    leads_owner = _leads_one_of(principal, frozenset({facts.unit}))
    may_direct = principal.has(Role.LANH_DAO) and (principal.user in work.leaders or leads_owner)
    if action is Action.HANDLE_SUBMIT:
        if Role.VAN_THU in held:
            return ALLOW
        return _denied("Chỉ văn thư của đơn vị mới trình, chuyển giao văn bản.")
    if action is Action.HANDLE_DIRECT:
        if may_direct:
            return ALLOW
        return _denied(
            "Chỉ lãnh đạo được trình văn bản (hoặc lãnh đạo phụ trách đơn vị) mới cho ý kiến chỉ đạo."
        )
    may_assign = may_direct or _leads_one_of(principal, work.units)
    if action is Action.HANDLE_ASSIGN:
        if not may_assign:
            return _denied("Chỉ lãnh đạo đơn vị chủ trì mới giao xử lý cho chuyên viên.")
        if may_direct or all(units & principal.led_units for units in work.assignee_units):
            return ALLOW
        # The head of the unit in charge gives the task to people of the units they lead; only
        # a lãnh đạo over the document (who may direct it) sends it elsewhere.
        return _denied(
            "Chỉ giao xử lý cho cán bộ thuộc đơn vị mình phụ trách; giao cho đơn vị khác cần ý kiến"
            " chỉ đạo của lãnh đạo được trình văn bản.",
            "ASSIGNEE_OTHER_UNIT",
        )
    if action is Action.HANDLE_WORK:
        if principal.user in work.handlers or may_assign:
            return ALLOW
        return _denied("Văn bản/nhiệm vụ này không được giao cho bạn.")
    if action is Action.HANDLE_APPROVE:
        if principal.user == work.requester:
            return _denied("Không được tự duyệt đề nghị hoặc nhiệm vụ của chính mình.", "SELF_APPROVAL")
        if principal.user == work.assigner:
            return ALLOW
        return _denied("Chỉ người giao nhiệm vụ mới được duyệt gia hạn hoặc hoàn thành.", "NOT_ASSIGNER")
    if action is Action.OUTGOING_STATUS:
        if Role.VAN_THU in held or principal.user == facts.created_by:
            return ALLOW
        return _denied("Chỉ văn thư hoặc người soạn văn bản đi mới cập nhật trạng thái bên nhận.")
    raise ValueError(f"{action} is not a handling step")


class ReportDetail(StrEnum):
    """How much of a processing report (Phụ lục VI V.2, V.4) a person gets."""

    ROWS = "rows"
    """Each document they may see, with its title and trích yếu, and the totals of those rows."""
    TOTALS = "totals"
    """Figures only: counts per column, unit and period over every document of the period whose
    secrecy the person is cleared for (:func:`counts_in_totals`); no titles, no trích yếu."""


def report_detail(principal: Principal) -> tuple[Decision, ReportDetail | None]:
    """The level of the processing reports a person may have: the rows for those who follow
    the handling (:attr:`Action.HANDLE_REPORT`: văn thư, lãnh đạo), the totals only for a
    kiểm toán viên (:attr:`Action.HANDLE_REPORT_TOTALS`), otherwise refused."""
    if can(principal, Action.HANDLE_REPORT):
        return ALLOW, ReportDetail.ROWS
    decision = decide(principal, Action.HANDLE_REPORT_TOTALS)
    return decision, ReportDetail.TOTALS if decision else None


def counts_in_totals(principal: Principal, facts: RecordFacts) -> bool:
    """Whether a document is counted in the totals-only report a person asks for: any document
    of the period except one marked above their clearance (its existence is not counted either)."""
    return facts.secrecy <= principal.clearance


class JobSight(StrEnum):
    """How much of an ingest job (``ingest/jobs/<sha256>.json``: its file name, source path,
    record, signature verdict and its reasons, pages and characters, the steps) a person gets."""

    WHOLE = "whole"
    """Every field: the person may see the job's record."""
    BARE = "bare"
    """Its id, state, step, times and codes: no file name, source path or message (which quote
    the name), no summary."""
    NONE = "none"
    """Nothing: answered as a job that does not exist."""


def job_sight(principal: Principal, record: RecordFacts, *, stored: bool = True) -> JobSight:
    """What of an ingest job a person gets (``kho ingest status|retry|return``): a job is read
    as its record is (:func:`sees`), and a job whose record they may not see is
    :attr:`JobSight.NONE`. ``stored`` False: the job never stored its original, so it names no
    record; ``record`` is then the one it would have made, an intake of no unit, which is the
    agency's (``Repository.facts``): its văn thư get it whole, every other văn thư bare (they may
    retry it by its id). The jobs were listed whole to every văn thư of every unit: a Mật
    document's record id, its signature verdict and explanation, its page and character counts,
    and the file names and source paths of failed uploads (review rv26). A job's id is the
    SHA-256 of the file, so a job answered to whoever asks also told them that the agency had
    received a file they hold."""
    if not decide(principal, Action.INTAKE_LIST):
        return JobSight.NONE
    if sees(principal, record):
        return JobSight.WHOLE
    return JobSight.NONE if stored else JobSight.BARE


HOLD_BLOCKS: frozenset[Action] = frozenset(
    {Action.RECORD_UPDATE, Action.FILE_EDIT, Action.RECORD_GRANT, Action.FILE_KEEP_APPROVE}
)
"""Changes a legal hold blocks (besides destruction, which it always blocks), for everyone:
quản trị and Kho's own processes included (Phụ lục VI IV.1.g): correcting or moving a document,
editing, closing, reopening or submitting a hồ sơ (:attr:`Action.FILE_EDIT`), granting or handing
it over, and keeping it past its due date (a retention change)."""


def hold_blocks(action: Action | str) -> bool:
    """Whether a legal hold on a record (or on a hồ sơ holding it) blocks ``action``;
    ``"destroy"`` names destruction."""
    return action == "destroy" or action in HOLD_BLOCKS


def hold_placer_units(principal: Principal) -> frozenset[str]:
    """The units a person places a legal hold from (:attr:`Action.HOLD_PLACE`): every unit where
    they hold a role that places holds. Stored with the hold, so that its release is decided
    by the placer's place in the unit tree at the time (:func:`may_release_hold`)."""
    return principal.units_with(_RECORD_ACTIONS[Action.HOLD_PLACE])


def may_release_hold(
    principal: Principal, facts: RecordFacts, placed_by: str, placer_units: frozenset[str]
) -> Decision:
    """Whether the person may lift a legal hold placed by ``placed_by`` (from ``placer_units``,
    :func:`hold_placer_units`) on a record (Phụ lục VI IV.1.g: a hold is placed on a competent
    person's request, so it is lifted by the same authority or a higher one): who may hold the
    record (:attr:`Action.HOLD_PLACE`, in its own unit) and either placed this hold or is a
    lãnh đạo of *every* unit the placer placed it from, or of a unit above them (fail closed
    within the hierarchy). The head of a phòng does not lift a hold the agency head placed on
    the phòng's records, and a lưu trữ viên does not lift a hold a lãnh đạo (or another lưu
    trữ viên) placed: that would free a record under investigation for destruction. With no
    placer unit known, only the placer lifts it."""
    decision = decide(principal, Action.HOLD_PLACE, facts)
    if not decision:
        return decision
    if principal.user == placed_by:
        return ALLOW
    if placer_units and placer_units <= principal.led_units:
        return ALLOW
    return _denied(
        f"Lệnh phong tỏa do “{placed_by}” đặt: chỉ người đã đặt hoặc lãnh đạo của đơn vị người đặt"
        " (hoặc đơn vị cấp trên) mới được gỡ.",
        "HOLD_NOT_YOURS",
    )


UnitsBelow = Callable[[str], frozenset[str]]
"""A unit and every unit under it (empty for a unit that does not exist): the unit tree, given by
the caller so that the policy stays pure."""

LEAVING = "left"
"""The lock reason a lãnh đạo may give: the person left the unit (chuyển công tác, nghỉ hưu)."""


def _reach(principal: Principal, roles: Iterable[Role], units_below: UnitsBelow) -> frozenset[str]:
    """Every unit at or below a unit where the person holds one of ``roles``."""
    out: set[str] = set()
    for unit in principal.units_with(roles):
        out |= units_below(unit)
    return frozenset(out)


def manages_accounts_of(
    principal: Principal, units_below: UnitsBelow, target_units: Iterable[str]
) -> Decision:
    """Whether the person may manage (:attr:`Action.ACCOUNT_MANAGE`) the accounts and units of
    every unit in ``target_units``: the role for it, held at each of them or at a unit above it.
    No target units (the agency's root unit, not yet created): the role somewhere that exists."""
    decision = decide(principal, Action.ACCOUNT_MANAGE)
    if not decision:
        return decision
    reach = _reach(principal, _ROLE_ACTIONS[Action.ACCOUNT_MANAGE], units_below)
    if not reach or not set(target_units) <= reach:
        return _denied("Chỉ quản trị hệ thống của đơn vị mới được thực hiện thao tác này.")
    return ALLOW


@dataclass(frozen=True)
class RightsChange:
    """A change of a person's roles and clearance, as :func:`manages_rights_of` weighs it."""

    roles_before: frozenset[tuple[str, Role]]
    roles_after: frozenset[tuple[str, Role]]
    clearance_before: int
    clearance_after: int

    @property
    def lowers_only(self) -> bool:
        """Nothing is gained: every role after was held before (in the same unit) and the
        clearance does not rise. Giving up a role or a clearance level is such a change."""
        return self.roles_after <= self.roles_before and self.clearance_after <= self.clearance_before

    @property
    def admin_units_given_up(self) -> frozenset[str]:
        """Units where the person holds :attr:`Role.QUAN_TRI` before the change and not after."""
        return frozenset(unit for unit, role in self.roles_before - self.roles_after if role is Role.QUAN_TRI)


def manages_rights_of(
    principal: Principal,
    units_below: UnitsBelow,
    target_user: str,
    target_units: Iterable[str],
    change: RightsChange,
) -> Decision:
    """Whether the person may make ``change`` to the roles or the clearance of ``target_user``
    (of ``target_units``): :func:`manages_accounts_of` them. On their own account only a change
    that gives up rights (:attr:`RightsChange.lowers_only`): a quản trị who gave themselves a
    content role or a higher clearance would read what they manage without reading (another
    quản trị of the unit does it, audited); giving up a role is theirs to do (see
    :func:`leaves_an_admin` for the last quản trị)."""
    if principal.user == target_user and not change.lowers_only:
        return _denied(
            "Không được tự nâng vai trò hoặc mức tiếp cận thông tin mật của chính mình: hãy đề"
            " nghị một quản trị khác thực hiện (tự giảm hoặc bỏ vai trò thì được).",
            "SELF_CHANGE",
        )
    raised = raises_clearance_of(principal, change.clearance_before, change.clearance_after)
    if not raised:
        return raised
    return manages_accounts_of(principal, units_below, target_units)


def raises_clearance_of(principal: Principal, before: int, after: int) -> Decision:
    """Whether the person may change someone's clearance from ``before`` to ``after`` (review
    a23): lowering, or keeping, a clearance is not a raise; a raise is :func:`grants_clearance`."""
    if after <= before:
        return ALLOW
    return grants_clearance(principal, after)


def grants_clearance(principal: Principal, clearance: int, *, vouched: int = 0) -> Decision:
    """Whether an act of the person gives an account access at ``clearance`` (reviews a23, a24):
    the one rule of every door that does — a raise (:func:`raises_clearance_of`), the
    confirmation of a new account's initial password or of a reset (:func:`may_confirm_reset`),
    the reopening of an account locked because the person left. Under Luật Bảo vệ bí mật nhà
    nước 2018 who may reach state secrets is the head's decision; a quản trị keeps accounts, and
    two holding clearance 0 could otherwise make (or take over) a Tuyệt mật account between
    them. So the clearance is held by the person, or by ``vouched``: the clearance of the first
    person of a two-person act (who created the account or reset its password), so that a quản
    trị cleared to Tuyệt mật creates such an account with any second person, and a quản trị
    holding none creates it only if a person holding it — the head of the unit — confirms.
    Otherwise ``SECRECY_CLEARANCE_DENIED``."""
    if clearance <= max(principal.clearance, vouched):
        return ALLOW
    return _denied(
        f"Không được nâng mức tiếp cận thông tin mật lên “{_SECRECY_LABELS[min(clearance, MAX_SECRECY)]}”,"
        f" cao hơn mức của chính mình (“{_SECRECY_LABELS[min(principal.clearance, MAX_SECRECY)]}”):"
        " quyết định cho tiếp cận bí mật nhà nước thuộc thẩm quyền người đứng đầu cơ quan (Luật Bảo vệ"
        " bí mật nhà nước 2018); hãy đề nghị người có thẩm quyền hoặc một quản trị có mức tiếp cận"
        " tương ứng thực hiện.",
        "SECRECY_CLEARANCE_DENIED",
    )


def raises_over_a_handed_out_password(before: int, after: int, *, outstanding: bool) -> Decision:
    """Whether a clearance may be raised from ``before`` to ``after`` while the account's
    password is ``outstanding``: a one-time password (a new account's, a reset's) handed out in
    halves and not yet replaced by the person, or a password one quản trị gave alone under the
    old rule (review a25). Whoever holds those halves logs in at the new level; they were
    confirmed at the old one, so two quản trị holding clearance 0 could make a Thường puppet
    between them and wait for a cleared quản trị to raise it. Refused
    (``CLEARANCE_PASSWORD_OUTSTANDING``) until the person has set their own password; lowering
    is always allowed."""
    if after <= before or not outstanding:
        return ALLOW
    return _denied(
        "Chưa nâng được mức tiếp cận thông tin mật: tài khoản còn mật khẩu dùng một lần (tài khoản mới"
        " hoặc cấp lại) mà người dùng chưa đổi thành mật khẩu của mình. Hãy nâng mức sau khi người dùng"
        " đã đăng nhập và đặt mật khẩu mới.",
        "CLEARANCE_PASSWORD_OUTSTANDING",
    )


def operator_clears(
    target: Principal,
    target_units: Iterable[str],
    clearance: int,
    others: Iterable[Principal],
    units_below: UnitsBelow,
) -> Decision:
    """Whether the operator (the server's shell, ``kho account clearance USER LEVEL --operator``)
    may raise ``target``'s clearance to ``clearance`` (review a25). Every account starts at 0 and
    only a person holding a level gives it (:func:`grants_clearance`), so without this door nobody
    could ever hold Mật, Tối mật or Tuyệt mật. The operator gives exactly what nobody can give
    through the ordinary door, and no more:

    * a raise only (``CLEARANCE_OPERATOR_RAISE_ONLY``): lowering is a quản trị's act;
    * to a quản trị or a lãnh đạo only (``CLEARANCE_OPERATOR_ROLE``): the first cleared people,
      who then give clearances by the ordinary rule — a quản trị holding a level raises others of
      their units up to it, never themself; a lãnh đạo holding it confirms the new accounts and
      resets at that level;
    * only while no one of ``others`` (the other active accounts) could do it: a quản trị of the
      person's units holding the level (``CLEARANCE_OPERATOR_NOT_NEEDED``)."""
    if clearance <= target.clearance:
        return _denied(
            f"Người vận hành chỉ nâng mức tiếp cận thông tin mật; tài khoản đã có mức"
            f" “{_SECRECY_LABELS[min(target.clearance, MAX_SECRECY)]}”. Hạ mức do quản trị thực hiện.",
            "CLEARANCE_OPERATOR_RAISE_ONLY",
        )
    if not target.has(Role.QUAN_TRI) and not target.has(Role.LANH_DAO):
        return _denied(
            "Người vận hành chỉ cấp mức tiếp cận thông tin mật cho quản trị hoặc lãnh đạo đầu tiên; người"
            " khác do quản trị có mức tiếp cận tương ứng cấp.",
            "CLEARANCE_OPERATOR_ROLE",
        )
    units = frozenset(target_units)
    for other in others:
        if grants_clearance(other, clearance) and manages_accounts_of(other, units_below, units):
            return _denied(
                f"Không cần người vận hành: quản trị “{other.user}” có mức tiếp cận tương ứng và quản lý"
                " đơn vị của tài khoản này; người đó cấp mức (Tài khoản → Đổi mức).",
                "CLEARANCE_OPERATOR_NOT_NEEDED",
            )
    return ALLOW


def confirmer_must_hold(principal: Principal, clearance: int) -> str | None:
    """What the first person of a two-person act (creating an account, resetting its password)
    is told when they do not hold the account's ``clearance`` (:func:`grants_clearance`): only a
    person holding it may confirm. None when they hold it."""
    if grants_clearance(principal, clearance):
        return None
    return (
        f"Tài khoản có mức tiếp cận thông tin mật “{_SECRECY_LABELS[min(clearance, MAX_SECRECY)]}”, cao"
        " hơn mức của bạn: chỉ người có mức tiếp cận này (lãnh đạo đơn vị hoặc quản trị được cấp mức"
        " đó) mới xác nhận được."
    )


def leaves_an_admin(
    given_up: Iterable[str], others: Iterable[Principal], units_below: UnitsBelow
) -> Decision:
    """Whether every unit in ``given_up`` (where a quản trị gives up the role) is still managed
    by one of ``others`` (the other active accounts) — at it or at a unit above it. Otherwise
    nobody could manage those accounts any more (``LAST_ADMIN``)."""
    wanted = frozenset(given_up)
    if not wanted:
        return ALLOW
    reach: set[str] = set()
    for other in others:
        reach |= _reach(other, {Role.QUAN_TRI}, units_below)
    if wanted <= reach:
        return ALLOW
    return _denied(
        "Không được bỏ vai trò quản trị: không còn quản trị nào khác quản lý đơn vị này. Hãy giao"
        " vai trò quản trị cho người khác trước.",
        "LAST_ADMIN",
    )


def may_confirm_reset(
    principal: Principal,
    units_below: UnitsBelow,
    target_user: str,
    target_units: Iterable[str],
    reset_by: str,
    *,
    clearance: int,
    vouched: int,
) -> Decision:
    """Whether the person may confirm a password reset of ``target_user`` made by ``reset_by``
    (or the initial password of the new account ``target_user`` created by ``reset_by``: the same
    rule) and receive the second half of the one-time password: someone other than both (two-person
    rule: the quản trị who reset alone never holds the whole password, so they cannot take the
    account over), who is a quản trị of the person's units or the head (lãnh đạo) of one of them
    or of a unit above it. The two together give whoever logs in the account's ``clearance``: one
    of them holds it (:func:`grants_clearance`, ``vouched`` the clearance ``reset_by`` holds;
    review a24: two quản trị holding clearance 0 made a Tuyệt mật account, or took one over by a
    reset)."""
    if principal.user in (target_user, reset_by):
        return _denied(
            "Việc cấp lại mật khẩu (hoặc mật khẩu ban đầu của tài khoản mới) phải do một người khác với"
            " người đã cấp lại (hoặc đã tạo tài khoản) và với chủ tài khoản xác nhận.",
            "RESET_SAME_PERSON",
        )
    targets = frozenset(target_units)
    if not manages_accounts_of(principal, units_below, targets) and not (
        targets & _reach(principal, {Role.LANH_DAO}, units_below)
    ):
        return _denied(
            "Chỉ một quản trị khác hoặc lãnh đạo đơn vị của cán bộ mới được xác nhận việc cấp lại mật khẩu."
        )
    return grants_clearance(principal, clearance, vouched=vouched)


def acts_on_accounts(principal: Principal, action: Action) -> Decision:
    """Whether the person holds a role that may do ``action`` (:attr:`Action.ACCOUNT_MANAGE`
    or :attr:`Action.ACCOUNT_LOCK`) to *some* account other than their own. Decided before the
    account named is looked up, so that a refusal says nothing of whether it exists; the units
    are decided after (:func:`manages_accounts_of`, :func:`may_lock`, :func:`may_confirm_reset`)."""
    return decide(principal, action)


def moves_unit(principal: Principal, units_below: UnitsBelow, unit: str, new_parent: str) -> Decision:
    """Whether the person may move ``unit`` (with every unit below it) under ``new_parent``:
    :func:`manages_accounts_of` both, and the move gives them no sight they did not have — a
    lãnh đạo sees every unit below the units they lead, so moving a unit under one of those
    would change their own rights (:func:`manages_rights_of`; another quản trị does it)."""
    decision = manages_accounts_of(principal, units_below, {unit, new_parent})
    if not decision:
        return decision
    if new_parent in principal.led_units and not units_below(unit) <= principal.led_units:
        return _denied(
            "Không được chuyển đơn vị về dưới đơn vị do chính mình lãnh đạo: việc này mở rộng quyền"
            " xem của chính mình, hãy đề nghị một quản trị khác thực hiện.",
            "SELF_CHANGE",
        )
    return ALLOW


def may_lock(
    principal: Principal, units_below: UnitsBelow, target_units: Iterable[str], reason: str
) -> Decision:
    """Whether the person may lock the account of someone of ``target_units`` (every unit where
    they hold a role) for ``reason``: a quản trị of all of them for any reason; for
    :data:`LEAVING` also a lãnh đạo who leads *every* one of them (holds the role at it or at a
    unit above it; :attr:`Action.ACCOUNT_LOCK`). A lock is account-wide: the head of phòng B
    does not lock a person who also holds a role at the agency or in phòng C, whom they do not
    lead (``LOCK_OTHER_UNIT``; review rv58/rv59; only a quản trị holding the account's clearance
    reopens it)."""
    targets = frozenset(target_units)
    managed = manages_accounts_of(principal, units_below, targets)
    if managed or reason != LEAVING:
        return managed
    if not decide(principal, Action.ACCOUNT_LOCK):
        return _denied(_LOCKERS_ONLY)
    reach = _reach(principal, {Role.LANH_DAO}, units_below)
    if targets and targets <= reach:
        return ALLOW
    if targets & reach:
        return _denied(
            "Cán bộ này còn giữ vai trò ở đơn vị khác mà bạn không lãnh đạo: khóa tài khoản sẽ khóa"
            " cả ở đơn vị đó. Hãy đề nghị lãnh đạo đơn vị đó hoặc quản trị hệ thống thực hiện.",
            "LOCK_OTHER_UNIT",
        )
    return _denied(_LOCKERS_ONLY)


_LOCKERS_ONLY = "Chỉ người đứng đầu đơn vị của cán bộ hoặc quản trị hệ thống mới được khóa tài khoản này."


def may_hand_over(principal: Principal, units_below: UnitsBelow, leaver_units: Iterable[str]) -> Decision:
    """Whether the person may hand over the hồ sơ of someone leaving (ND30 Điều 31 k3 đ) who
    holds a role in ``leaver_units``: those who lock the account of someone leaving
    (:func:`may_lock` with :data:`LEAVING`: a quản trị of all of their units, a lãnh đạo leading
    every one of them). Decided on the person before their hồ sơ are listed, so a
    refusal names none of them; each hồ sơ is then decided as a grant of it (review rv58: a
    phòng's lãnh đạo, naming the agency's chuyên viên, was answered 404 with the id of a hồ sơ
    they may not see, and with a read grant of it made themselves its keeper)."""
    if may_lock(principal, units_below, leaver_units, LEAVING):
        return ALLOW
    return _denied(
        "Chỉ lãnh đạo đơn vị của người bàn giao (hoặc đơn vị cấp trên) hoặc quản trị hệ thống của"
        " đơn vị đó mới được bàn giao hồ sơ của họ.",
        "HANDOVER_NOT_YOURS",
    )


@dataclass(frozen=True)
class SearchScope:
    """The search filter generated from :func:`sees` and :func:`archive_reads`: a document
    matches when its secrecy is at most ``max_secrecy`` and (its unit or a granted unit is in
    ``units``, or ``user`` is among its named viewers: grants and its creator, or one of its
    archive units is in ``archive_units``)."""

    user: str
    units: frozenset[str] = field(default_factory=frozenset)
    max_secrecy: int = 0
    archive_units: frozenset[str] = field(default_factory=frozenset)
    """:attr:`Principal.archive_units`: a document also matches (within ``max_secrecy``) when one
    of its :func:`index_archive` units is among them (:func:`archive_reads`, review u24)."""


def search_scope(principal: Principal) -> SearchScope:
    return SearchScope(
        principal.user, principal.content_units, principal.clearance, principal.archive_units
    )


def index_visibility(facts: RecordFacts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a search document stores so that :class:`SearchScope` reproduces :func:`sees`:
    (units that see it, users named on it). A recalled document: its own unit and maker only."""
    if facts.recalled:
        return (facts.unit,), ((facts.created_by,) if facts.created_by else ())
    units = tuple(sorted({facts.unit, *facts.grant_units}))
    users = tuple(sorted({*facts.grant_users, *([facts.created_by] if facts.created_by else [])}))
    return units, users


def index_archive(facts: RecordFacts) -> tuple[str, ...]:
    """What a search document stores so that :attr:`SearchScope.archive_units` reproduces
    :func:`archive_reads`: the units whose hồ sơ holding it is at the Lưu trữ cơ quan now
    (:attr:`RecordFacts.received_from`). None for a hồ sơ (the archive reads it on its review
    page, not by finding it); a recalled document only its own unit, when that unit's hồ sơ is
    at the archive (the issuer keeps it). Secrecy is the index's ``do_mat``, checked first."""
    if facts.kind == _FILE_KIND:
        return ()
    if facts.recalled:
        return (facts.unit,) if facts.unit in facts.received_from else ()
    return tuple(sorted(facts.received_from))


# --- personal access tokens (review a28) ---------------------------------------------------------


class TokenScope(StrEnum):
    """What a token may do for its account: only read, or everything the account may."""

    READ = "read"
    READ_WRITE = "read-write"

    @property
    def label(self) -> str:
        return _SCOPE_LABELS[self]


_SCOPE_LABELS = {TokenScope.READ: "chỉ đọc", TokenScope.READ_WRITE: "đọc và ghi"}

READ_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
"""The HTTP methods that only read: the only ones a :attr:`TokenScope.READ` token may use."""


def token_permits(scope: TokenScope | str, method: str, *, ends_itself: bool = False) -> bool:
    """Whether a token of ``scope`` may make a request of ``method`` (HTTP; the CLI gives ``GET``
    for a command that only reads, ``POST`` for any other): a ``read`` token reads and nothing
    else; a ``read-write`` token does whatever its account may (the rest of this policy decides).
    An unknown scope permits nothing but reading (fail closed). Any token may end itself
    (``ends_itself``: a logout revoking the very token sent, ``POST /api/logout`` or ``kho
    logout``): that takes power away, and a leaked read token must not need another to end it."""
    if ends_itself or method.upper() in READ_METHODS:
        return True
    return scope == TokenScope.READ_WRITE
