"""Handling incoming documents as explicit data: pure rules, no I/O (NĐ 30 Điều 23–24; Phụ lục VI
III.1.i–o; Lạng Sơn Chương II Điều 9–10, Chương III Điều 13–16).

Every step is an immutable :class:`Step` on the document (who, role, when, action, target,
note, deadline); :func:`derive` folds a document's steps into its current :class:`Handling`
state; :func:`check` says whether a new step may follow (the rules of the flow: deadlines not in
the past, extensions asked before the deadline passed, no completion without an answer, …);
:class:`WorkCalendar` counts working days (weekends and public holidays, the holidays being
editable data). Who may take a step is the access policy's
(:func:`repository.policy.decide_step`).

Task statuses: ``open`` (assigned, not started) → ``in_progress`` → ``reported`` (the handler
says it is done) → ``done`` once the assigner approves, or back to ``in_progress`` on a redo
request. A task is finished only when approved inside the flow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from kho.errors import WorkflowRefused
from repository.vocabulary import blank

MAIN_TASK = "1"
"""The task a leader's direction creates (chủ trì, phối hợp, thời hạn)."""

DUE_SOON_WORKING_DAYS = 2
"""A task is "sắp đến hạn" when at most this many working days remain."""


class Act(StrEnum):
    SUBMIT = "submit"
    """Trình: the văn thư sends the document to the leader in charge (Điều 23 k1)."""
    FORWARD = "forward"
    """Chuyển giao straight to a unit when the agency's rules say so (Điều 23 k1)."""
    DIRECT = "direct"
    """Ý kiến chỉ đạo: chủ trì, phối hợp, thời hạn, note (Phiếu giải quyết văn bản đến)."""
    ASSIGN = "assign"
    """A unit head passes the task on to a chuyên viên."""
    ADD_TASK = "add_task"
    """A further task (nhiệm vụ) on the document: unit, content, deadline, follower."""
    PROGRESS = "progress"
    ANSWER = "answer"
    """The answering outgoing document (văn bản trả lời) is attached."""
    FILE_ONLY = "file_only"
    """Để biết/lưu: nothing to answer."""
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    REPORT_DONE = "report_done"
    APPROVE_DONE = "approve_done"
    REDO = "redo"
    OUTGOING_STATUS = "outgoing_status"
    """A recipient's status of an outgoing document (QCVN 102 codes)."""

    @property
    def label(self) -> str:
        return ACT_LABELS[self]


ACT_LABELS: dict[Act, str] = {
    Act.SUBMIT: "Trình lãnh đạo",
    Act.FORWARD: "Chuyển giao đơn vị",
    Act.DIRECT: "Ý kiến chỉ đạo",
    Act.ASSIGN: "Giao xử lý",
    Act.ADD_TASK: "Giao nhiệm vụ",
    Act.PROGRESS: "Cập nhật tiến độ",
    Act.ANSWER: "Gắn văn bản trả lời",
    Act.FILE_ONLY: "Để biết, lưu",
    Act.REQUEST_EXTENSION: "Xin gia hạn",
    Act.DECIDE_EXTENSION: "Quyết định gia hạn",
    Act.REPORT_DONE: "Báo cáo hoàn thành",
    Act.APPROVE_DONE: "Duyệt hoàn thành",
    Act.REDO: "Yêu cầu làm lại",
    Act.OUTGOING_STATUS: "Trạng thái bên nhận",
}

STATUS_CODES: dict[str, str] = {
    "01": "Đã đến",
    "02": "Từ chối tiếp nhận",
    "03": "Đã tiếp nhận",
    "04": "Phân công",
    "05": "Đang xử lý",
    "06": "Hoàn thành",
    "13": "Yêu cầu lấy lại",
    "15": "Đồng ý lấy lại",
    "16": "Từ chối lấy lại",
}
"""QCVN 102:2016/BTTTT status codes (STANDARDS §3.4); the edXML exchange fills them later."""

STEP_FORMAT = 1


@dataclass(frozen=True)
class Step:
    """One immutable step of a document's handling (stored with format ``workflow-step``)."""

    record_id: str
    seq: int
    """1, 2, … per document: the step's place; writing step n+1 twice is a conflict."""
    act: Act
    actor: str
    role: str
    at: str
    """UTC ISO instant."""
    on: str
    """The Vietnam calendar date the step counts on (deadlines compare with it)."""
    task: str = ""
    users: tuple[str, ...] = ()
    """Target people: leaders a document is submitted to, the chủ trì person, the handler."""
    units: tuple[str, ...] = ()
    """Target units: chủ trì (first) for a direction or a task, the unit forwarded to."""
    cooperate_users: tuple[str, ...] = ()
    cooperate_units: tuple[str, ...] = ()
    deadline: str | None = None
    note: str = ""
    content: str = ""
    """A task's content."""
    ref: str = ""
    """A record id: the answer, or the document asking for an extension."""
    ref_label: str = ""
    """Its số, ký hiệu as shown (kept so the trace reads without opening the record)."""
    approved: bool | None = None
    code: str = ""
    """QCVN 102 status code (outgoing tracking)."""
    organ: str = ""
    """Recipient agency (outgoing tracking)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        out["act"] = self.act.value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("users", "units", "cooperate_users", "cooperate_units"):
            known[name] = tuple(known.get(name) or ())
        known["act"] = Act(known["act"])
        return cls(**known)

    @property
    def deadline_date(self) -> date | None:
        return date.fromisoformat(self.deadline) if self.deadline else None


@dataclass(frozen=True)
class Extension:
    requested_by: str
    new_deadline: str
    ref: str
    ref_label: str
    note: str


@dataclass(frozen=True)
class Task:
    task_id: str
    assigner: str
    """Who gave the task: approves extensions and completion (never their own request)."""
    units: tuple[str, ...]
    users: tuple[str, ...]
    """The person in charge (chủ trì), when a person was named."""
    handler: str
    """The chuyên viên it was passed on to ("" until assigned)."""
    deadline: str | None
    content: str = ""
    follower: str = ""
    """The officer following it up (Lạng Sơn Điều 14)."""
    status: str = "open"
    finished_on: str | None = None
    extension: Extension | None = None
    extensions: int = 0

    @property
    def people(self) -> tuple[str, ...]:
        return tuple(u for u in (*self.users, self.handler) if u)

    @property
    def finished(self) -> bool:
        return self.status == "done"


@dataclass(frozen=True)
class OutgoingStatus:
    organ: str
    code: str
    at: str
    by: str
    note: str

    @property
    def label(self) -> str:
        return STATUS_CODES.get(self.code, self.code)


@dataclass(frozen=True)
class Handling:
    """The current state of a document's handling, derived from its steps."""

    record_id: str
    seq: int = 0
    """How many steps it has (the next step is ``seq + 1``)."""
    leaders: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    """Units it reached (forwarded, chủ trì, phối hợp)."""
    cooperate_units: tuple[str, ...] = ()
    cooperate_users: tuple[str, ...] = ()
    directed_by: str = ""
    direction_note: str = ""
    deadline: str | None = None
    tasks: tuple[Task, ...] = ()
    answers: tuple[tuple[str, str], ...] = ()
    """(record id, số/ký hiệu) of the answering documents."""
    file_only: bool = False
    progress: str = ""
    outgoing: tuple[OutgoingStatus, ...] = ()
    """Latest status per recipient (outgoing documents)."""
    steps: tuple[Step, ...] = ()

    @property
    def status(self) -> str:
        if self.file_only:
            return "file_only"
        if self.tasks and all(t.finished for t in self.tasks):
            return "done"
        if any(t.status in ("in_progress", "reported") for t in self.tasks):
            return "in_progress"
        if self.tasks:
            return "assigned"
        if self.leaders or self.units:
            return "submitted"
        return "new"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def participants(self) -> frozenset[str]:
        """Everyone it reached by name."""
        out = set(self.leaders) | set(self.cooperate_users)
        for t in self.tasks:
            out.update(t.people)
            if t.assigner:
                out.add(t.assigner)
        return frozenset(out)

    @property
    def finished_on(self) -> str | None:
        if self.status == "file_only":
            return next((s.on for s in reversed(self.steps) if s.act is Act.FILE_ONLY), None)
        if self.status != "done":
            return None
        return max((t.finished_on or "" for t in self.tasks), default=None) or None

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    def handlers(self) -> frozenset[str]:
        return frozenset(u for t in self.tasks for u in t.people) | frozenset(self.cooperate_users)

    def phu_luc_vi(self) -> dict[str, str | None]:
        """Fields 16–18 of Phụ lục VI Phần II.II (edXML ``ToPlaces``, ``TraceHeaderList``,
        ``DueDate``) as this handling fills them."""
        main = self.task(MAIN_TASK)
        return {
            "ToPlaces": ", ".join((*self.units, *(main.people if main else ()))) or None,
            "TraceHeaderList": self.trace() or None,
            "DueDate": self.deadline,
        }

    def trace(self) -> str:
        """The TraceHeaderList text (Phụ lục VI field 17): one line per step."""
        lines = []
        for s in self.steps:
            parts = [s.on, s.actor, s.act.label]
            targets = ", ".join((*s.units, *s.users))
            if targets:
                parts.append(f"→ {targets}")
            if s.deadline:
                parts.append(f"hạn {s.deadline}")
            if s.note:
                parts.append(s.note)
            lines.append(" | ".join(parts))
        return "\n".join(lines)


UNFINISHED_STATUSES = frozenset({"submitted", "assigned", "in_progress"})
"""Statuses of a handling that began and is not finished: trình, chỉ đạo, giao xử lý given, not
yet "để biết, lưu" nor every task approved done. A document never submitted (``new``) is not
under handling."""


def under_handling(state: Handling) -> bool:
    """Whether the document's handling (xử lý, giải quyết) is still under way (pure): such a
    document is not destroyed, nor its hồ sơ proposed for destruction (NĐ 30/2020 Điều 29;
    Phụ lục VI III.5)."""
    return state.status in UNFINISHED_STATUSES


def steps_missing(stored: Iterable[int], events: Iterable[Any]) -> tuple[int, ...]:
    """The handling steps (their seq) that the sealed log names and the store no longer holds
    (pure): ``stored`` the seqs of the document's step objects, ``events`` its trusted audit
    events; a step's event (``handling:<act>``, ``details.seq``) is appended only after its
    object is committed, and Kho never deletes a step, so a seq the log names and the store
    lacks was deleted by a hand in the store. Without it the document's handling reads
    earlier than it is (a ``submit`` deleted reads "never submitted": not under handling), so a
    reader that decides on the handling refuses instead (review rv41)."""
    step_actions = {f"handling:{act.value}" for act in Act}
    logged = {
        seq
        for event in events
        if getattr(event, "action", None) in step_actions
        and isinstance(seq := (getattr(event, "details", None) or {}).get("seq"), int)
        and not isinstance(seq, bool)
    }
    return tuple(sorted(logged - set(stored)))


STATUS_LABELS = {
    "new": "Chưa trình",
    "submitted": "Chờ chỉ đạo",
    "assigned": "Đã giao, chưa xử lý",
    "in_progress": "Đang xử lý",
    "done": "Đã hoàn thành",
    "file_only": "Để biết, lưu",
}

TASK_STATUS_LABELS = {
    "open": "Chưa xử lý",
    "in_progress": "Đang xử lý",
    "reported": "Chờ duyệt hoàn thành",
    "done": "Đã hoàn thành",
}


def _merge(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x for g in groups for x in g if x))


TASK_ID_RE = re.compile(r"[1-9][0-9]{0,2}", re.ASCII)
"""A task's number: 1 (the direction) to 999, as the system writes it."""


def task_number(task_id: str) -> int:
    """The number of a task, or 0 for an id no step may give any more (stored before
    ``TASK_ID_INVALID``): such a task is listed last and gets no deadline flag, and reading the
    handling never fails on it."""
    return int(task_id) if TASK_ID_RE.fullmatch(task_id) else 0


def _with_task(state: Handling, task: Task) -> Handling:
    others = tuple(t for t in state.tasks if t.task_id != task.task_id)
    tasks = sorted((*others, task), key=lambda t: (task_number(t.task_id) or 1000, t.task_id))
    return replace(state, tasks=tuple(tasks))


def apply(state: Handling, step: Step) -> Handling:
    """The state after one step (the step has passed :func:`check`)."""
    state = replace(state, seq=step.seq, steps=(*state.steps, step))
    task = state.task(step.task) if step.task else None
    match step.act:
        case Act.SUBMIT:
            return replace(
                state, leaders=_merge(state.leaders, step.users), units=_merge(state.units, step.units)
            )
        case Act.FORWARD:
            return replace(state, units=_merge(state.units, step.units))
        case Act.DIRECT:
            # A redirect replaces the chủ trì and the deadline; the earlier direction stays in steps.
            main = state.task(MAIN_TASK)
            new = Task(
                task_id=MAIN_TASK,
                assigner=step.actor,
                units=step.units,
                users=step.users,
                handler=main.handler if main and set(main.units) == set(step.units) else "",
                deadline=step.deadline,
                content=step.note,
                status=main.status if main and main.status != "done" else "open",
            )
            state = replace(
                state,
                directed_by=step.actor,
                direction_note=step.note,
                deadline=step.deadline,
                units=_merge(state.units, step.units, step.cooperate_units),
                cooperate_units=step.cooperate_units,
                cooperate_users=step.cooperate_users,
            )
            return _with_task(state, new)
        case Act.ADD_TASK:
            new = Task(
                task_id=step.task,
                assigner=step.actor,
                units=step.units,
                users=step.users,
                handler="",
                deadline=step.deadline,
                content=step.content,
                follower=step.cooperate_users[0] if step.cooperate_users else "",
            )
            return _with_task(replace(state, units=_merge(state.units, step.units)), new)
        case Act.ASSIGN if task is not None:
            return _with_task(
                state, replace(task, handler=step.users[0], deadline=step.deadline or task.deadline)
            )
        case Act.PROGRESS:
            state = replace(state, progress=step.note)
            if task is not None and task.status == "open":
                return _with_task(state, replace(task, status="in_progress"))
            return state
        case Act.ANSWER:
            state = replace(state, answers=(*state.answers, (step.ref, step.ref_label)))
            if task is not None and task.status == "open":
                return _with_task(state, replace(task, status="in_progress"))
            return state
        case Act.FILE_ONLY:
            return replace(state, file_only=True)
        case Act.REQUEST_EXTENSION if task is not None:
            ext = Extension(step.actor, step.deadline or "", step.ref, step.ref_label, step.note)
            return _with_task(state, replace(task, extension=ext))
        case Act.DECIDE_EXTENSION if task is not None and task.extension is not None:
            if step.approved:
                if task.task_id == MAIN_TASK:
                    state = replace(state, deadline=task.extension.new_deadline)
                return _with_task(
                    state,
                    replace(
                        task,
                        deadline=task.extension.new_deadline,
                        extension=None,
                        extensions=task.extensions + 1,
                    ),
                )
            return _with_task(state, replace(task, extension=None))
        case Act.REPORT_DONE if task is not None:
            return _with_task(state, replace(task, status="reported"))
        case Act.APPROVE_DONE if task is not None:
            return _with_task(state, replace(task, status="done", finished_on=step.on))
        case Act.REDO if task is not None:
            return _with_task(state, replace(task, status="in_progress", finished_on=None))
        case Act.OUTGOING_STATUS:
            status = OutgoingStatus(step.organ, step.code, step.at, step.actor, step.note)
            kept = tuple(s for s in state.outgoing if s.organ != step.organ)
            return replace(state, outgoing=(*kept, status))
    return state


def derive(record_id: str, steps: Sequence[Step]) -> Handling:
    """The current state: the steps folded in order (``seq`` 1, 2, …)."""
    state = Handling(record_id)
    for step in sorted(steps, key=lambda s: s.seq):
        state = apply(state, step)
    return state


# -- working days ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday–Friday except public holidays (editable data, :func:`load_holidays`)."""

    holidays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (a thời hạn of N ngày làm việc)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def working_days_left(self, today: date, deadline: date) -> int:
        """Working days after ``today`` up to and including ``deadline`` (0 on the day; negative
        — calendar days overdue — once it passed)."""
        if deadline < today:
            return -(today - deadline).days
        # Counted, not walked: every 7 days hold 5 weekdays, then the rest day by day, less the
        # holidays on a weekday in the period. Walking day by day took 1.7 s of CPU for a task
        # due 9999-12-31, on every render of each list that shows the task.
        weeks, rest = divmod((deadline - today).days, 7)
        count, day = weeks * 5, today + timedelta(days=weeks * 7)
        for _ in range(rest):
            day += timedelta(days=1)
            count += day.weekday() < 5
        return count - sum(1 for h in self.holidays if today < h <= deadline and h.weekday() < 5)


DEFAULT_HOLIDAYS = Path(__file__).with_name("holidays.json")


def load_holidays(path: Path | None = None) -> WorkCalendar:
    """The calendar from a JSON file ``{"holidays": ["2026-01-01", …]}`` (default: the one shipped
    with Kho; ``KHO_HOLIDAYS_FILE`` points to the agency's own)."""
    from kho.errors import ConfigError, KhoError
    from kho.files import read_json_object
    from kho.sentences import clause, sentence

    source = path or DEFAULT_HOLIDAYS
    refusal = (
        f"Biến cấu hình KHO_HOLIDAYS_FILE=“{source}” không hợp lệ: cần tệp JSON"
        ' {"holidays": ["YYYY-MM-DD", …]}'
    )
    try:
        data = read_json_object(source, code="CONFIG_INVALID", label="ngày nghỉ lễ")
        days = data.get("holidays", [])
        if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
            raise ValueError("holidays is not a list of dates")
        return WorkCalendar(frozenset(date.fromisoformat(d) for d in days))
    except (KhoError, ValueError) as exc:  # (not readable, not JSON, a date like 2026-02-30)
        detail = f" ({clause(exc.message)})" if isinstance(exc, KhoError) else ""
        raise ConfigError(sentence(refusal + detail), variable="KHO_HOLIDAYS_FILE") from exc


def timeliness(task: Task, today: date, calendar: WorkCalendar) -> str:
    """``on_time`` / ``late`` (finished, against the deadline); ``overdue`` / ``due_soon`` /
    ``open`` (not finished). A task without a deadline is never late."""
    deadline = date.fromisoformat(task.deadline) if task.deadline else None
    if task.finished:
        if deadline is None or (task.finished_on and date.fromisoformat(task.finished_on) <= deadline):
            return "on_time"
        return "late"
    if deadline is None:
        return "open"
    if today > deadline:
        return "overdue"
    if calendar.working_days_left(today, deadline) <= DUE_SOON_WORKING_DAYS:
        return "due_soon"
    return "open"


# -- the rules of the flow ------------------------------------------------------------------


def _refuse(code: str, message: str, **details: Any) -> WorkflowRefused:
    return WorkflowRefused(message, code=code, **details)


TARGET_FIELDS = ("users", "units", "cooperate_users", "cooperate_units")
"""The fields of a step that name people and units: whoever they name is given sight of the
document (``HandlingService.take`` distributes it to them)."""

ACT_TARGETS: dict[Act, frozenset[str]] = {
    Act.SUBMIT: frozenset({"users", "units"}),
    Act.FORWARD: frozenset({"users", "units"}),
    Act.DIRECT: frozenset(TARGET_FIELDS),
    Act.ADD_TASK: frozenset(TARGET_FIELDS),
    Act.ASSIGN: frozenset({"users"}),
}
"""The target fields each act takes (Điều 23-24: trình, chuyển giao, chỉ đạo, giao nhiệm vụ,
giao xử lý). Every other act (tiến độ, trả lời, xin gia hạn, báo cáo, duyệt, trạng thái bên
nhận) names nobody: a handler who put names on one would hand the document to people and units
no lãnh đạo chose."""


def check(state: Handling, step: Step, today: date) -> None:
    """Raise :class:`~kho.errors.WorkflowRefused` (with its code) unless ``step`` may follow
    ``state`` on ``today``. Who takes it is the policy's question, not this one."""
    finished = state.status in ("done", "file_only")
    task = state.task(step.task) if step.task else None
    named = [name for name in TARGET_FIELDS if getattr(step, name)]
    extra = [name for name in named if name not in ACT_TARGETS.get(step.act, frozenset())]
    if extra:
        raise _refuse(
            "TARGET_NOT_ALLOWED",
            f"Bước “{step.act.label}” không chuyển văn bản cho ai: không được nêu cán bộ hoặc đơn vị"
            " nhận ở bước này (chỉ trình, chuyển giao, chỉ đạo, giao nhiệm vụ, giao xử lý mới nêu).",
            fields=extra,
        )
    if step.deadline is not None:
        try:
            deadline = date.fromisoformat(step.deadline)
        except ValueError as exc:
            raise _refuse(
                "DEADLINE_INVALID", "Thời hạn giải quyết không đúng định dạng ngày (YYYY-MM-DD)."
            ) from exc
        if deadline < today and step.act is not Act.DECIDE_EXTENSION:
            raise _refuse(
                "DEADLINE_IN_PAST",
                f"Thời hạn giải quyết {deadline:%d/%m/%Y} đã qua (hôm nay {today:%d/%m/%Y}).",
                deadline=step.deadline,
            )
    if step.task and task is None and step.act not in (Act.DIRECT, Act.ADD_TASK):
        raise _refuse("TASK_NOT_FOUND", f"Văn bản không có nhiệm vụ số “{step.task}”.")
    if finished and step.act not in (Act.OUTGOING_STATUS, Act.REDO):
        raise _refuse("HANDLING_FINISHED", "Văn bản đã giải quyết xong; không thể thêm bước xử lý.")
    match step.act:
        case Act.SUBMIT | Act.FORWARD:
            if not step.users and not step.units:
                raise _refuse("TARGET_REQUIRED", "Hãy chọn lãnh đạo hoặc đơn vị nhận văn bản.")
        case Act.DIRECT:
            if not step.units and not step.users:
                raise _refuse("TARGET_REQUIRED", "Ý kiến chỉ đạo phải nêu đơn vị hoặc người chủ trì.")
            if not step.deadline:
                raise _refuse("DEADLINE_REQUIRED", "Ý kiến chỉ đạo phải có thời hạn giải quyết.")
        case Act.ADD_TASK:
            if not task_number(step.task) or step.task == MAIN_TASK:
                raise _refuse(
                    "TASK_ID_INVALID",
                    f"Số nhiệm vụ “{step.task}” không hợp lệ: là số từ 1 đến 999, không có số 0 đứng"
                    " trước (để trống: Hệ thống tự đánh số).",
                )
            if not step.units and not step.users:
                raise _refuse("TARGET_REQUIRED", "Nhiệm vụ phải có đơn vị hoặc người được giao.")
            if blank(step.content):
                raise _refuse("TASK_CONTENT_REQUIRED", "Hãy ghi nội dung nhiệm vụ.")
            if not step.deadline:
                raise _refuse("DEADLINE_REQUIRED", "Nhiệm vụ phải có thời hạn.")
            if state.task(step.task) is not None:
                raise _refuse("TASK_EXISTS", f"Nhiệm vụ số {step.task} đã có.")
        case Act.OUTGOING_STATUS:
            if step.code not in STATUS_CODES:
                raise _refuse(
                    "STATUS_CODE_UNKNOWN",
                    f"Mã trạng thái “{step.code}” không thuộc QCVN 102 (01–06, 13, 15, 16).",
                )
            if blank(step.organ):
                raise _refuse("TARGET_REQUIRED", "Hãy ghi cơ quan nhận.")
        case Act.FILE_ONLY | Act.PROGRESS | Act.ANSWER:
            if step.act is Act.ANSWER and not step.ref:
                raise _refuse("ANSWER_REQUIRED", "Hãy chọn văn bản trả lời (văn bản đi đã ban hành).")
        case _:
            if task is None:
                raise _refuse("TASK_NOT_FOUND", f"Văn bản không có nhiệm vụ số “{step.task}”.")
    if step.act is Act.ASSIGN and (task is None or not step.users):
        raise _refuse("TARGET_REQUIRED", "Hãy chọn chuyên viên được giao xử lý.")
    if step.act is Act.ASSIGN and task and step.deadline and task.deadline and step.deadline > task.deadline:
        raise _refuse(
            "DEADLINE_AFTER_DIRECTION",
            f"Thời hạn giao cho chuyên viên không được muộn hơn thời hạn chỉ đạo ({task.deadline}).",
        )
    if step.act is Act.REQUEST_EXTENSION and task is not None:
        if task.finished:
            raise _refuse("TASK_FINISHED", "Nhiệm vụ đã hoàn thành.")
        if task.extension is not None:
            raise _refuse("EXTENSION_PENDING", "Đã có đề nghị gia hạn đang chờ quyết định.")
        if task.deadline and today > date.fromisoformat(task.deadline):
            raise _refuse(
                "EXTENSION_TOO_LATE",
                f"Thời hạn {date.fromisoformat(task.deadline):%d/%m/%Y} đã qua mà chưa được gia hạn:"
                " không thể xin gia hạn nữa.",
            )
        if not step.deadline or (task.deadline and step.deadline <= task.deadline):
            raise _refuse("EXTENSION_DATE_INVALID", "Thời hạn đề nghị phải sau thời hạn hiện tại.")
    if step.act is Act.DECIDE_EXTENSION and task is not None and task.extension is None:
        raise _refuse("NO_EXTENSION_PENDING", "Không có đề nghị gia hạn nào đang chờ.")
    if step.act is Act.REPORT_DONE and task is not None and task.status not in ("open", "in_progress"):
        raise _refuse("TASK_NOT_OPEN", "Nhiệm vụ không ở trạng thái đang xử lý.")
    if step.act in (Act.APPROVE_DONE, Act.REDO) and task is not None:
        if task.status != "reported" and not (step.act is Act.REDO and task.status == "done"):
            raise _refuse(
                "TASK_NOT_REPORTED",
                "Chỉ duyệt hoặc yêu cầu làm lại khi người xử lý đã báo cáo hoàn thành trong hệ thống.",
            )
        if step.act is Act.APPROVE_DONE and answer_needed(state, task.task_id):
            raise _refuse(
                "ANSWER_MISSING",
                "Chưa có văn bản trả lời: văn bản được giao xử lý chỉ hoàn thành khi đã có văn bản trả lời."
                f" Người xử lý cần “{ACT_LABELS[Act.ANSWER]}” trước; hoặc chọn “{ACT_LABELS[Act.REDO]}”.",
            )


def answer_needed(state: Handling, task_id: str) -> bool:
    """The task is the direction itself (the main task) and no văn bản trả lời is attached yet:
    its completion is not approved (ANSWER_MISSING) until the handler attaches one (pure)."""
    return task_id == MAIN_TASK and not state.answers


@dataclass(frozen=True)
class Counts:
    """The numbers on a person's home page."""

    inbox: int = 0
    """Documents that reached them and they have not opened yet."""
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    to_approve: int = 0
    """Extension requests and completion reports waiting for them."""
    to_direct: int = 0
    """Documents submitted to them (lãnh đạo) not yet directed."""


@dataclass(frozen=True)
class ReportLine:
    """Báo cáo tình hình giải quyết văn bản đến/đi (Phụ lục VI V.2, V.4): one unit's line."""

    unit: str
    total: int = 0
    done_on_time: int = 0
    done_late: int = 0
    open_in_time: int = 0
    open_overdue: int = 0
    file_only: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def classify(state: Handling, as_of: date, calendar: WorkCalendar) -> str:
    """One column per document for the report: ``done_on_time``, ``done_late``,
    ``open_in_time``, ``open_overdue`` or ``file_only`` — the document counts once, by its
    main task (the direction) or, without one, by its latest task."""
    if state.status == "file_only":
        return "file_only"
    task = state.task(MAIN_TASK) or (state.tasks[-1] if state.tasks else None)
    if task is None:
        return "open_in_time"
    verdict = timeliness(task, as_of, calendar)
    if task.finished and task.finished_on and date.fromisoformat(task.finished_on) > as_of:
        verdict = timeliness(replace(task, status="in_progress"), as_of, calendar)
    return {
        "on_time": "done_on_time",
        "late": "done_late",
        "overdue": "open_overdue",
    }.get(verdict, "open_in_time")
