"""The handling service: trình, chỉ đạo, giao xử lý, tiến độ, gia hạn, hoàn thành — each step an
immutable event in the store, decided by the one access policy, audited, and followed by the
derived work index and notifications.

Store layout::

    workflow/<record id>/<seq:06d>    one step (format ``workflow-step``), sealed with the
                                      record's key; written create-if-absent
    workflow-seen/<record id>/<user>/<seq:06d>
                                      the person opened the document having its steps up to
                                      ``seq`` (format ``workflow-seen``), sealed likewise
    workflow-withheld/<record id>/<seq:06d>
                                      the distribution of step ``seq`` was refused by a legal
                                      hold (format ``workflow-withheld``), sealed likewise;
                                      written create-if-absent, once per step

A step is committed by that single create-if-absent at the next sequence number: two leaders
directing the same document at once both aim at the same key and the second gets
``WORKFLOW_CONFLICT`` — its direction is not lost silently, it is refused and shown again. After
the commit the people and units it reached are given sight of the document
(:meth:`Repository.distribute`), the work index is updated and the people are notified.

The work index (:class:`WorkIndex`, a SQLite file beside the search index) is derived: it holds
one row per task and one per notification, so home-page counts and the daily overdue job never
scan the records. ``kho handling reindex`` rebuilds it from the store alone, "seen" marks included.

Nothing half-written: the step is the commit and everything after it is derived. When the
writer dies between the two, the index still shows an earlier step; the next read or step of
the document (:meth:`HandlingService.state`, :meth:`HandlingService.take`) and ``kho handling
reindex`` notice it and roll forward — the grants the steps imply (a grant withdrawn since by an
administrator excepted), the index rows and the notices, audited as ``handling:roll-forward``.
Mail is not re-sent for a rolled-forward step (the notice in the web app is there).

A legal hold blocks handing the document over (``HOLD_BLOCKS``): a step that names people or
units on a held document is refused before anything is written (``LEGAL_HOLD``). A hold placed
after a step was committed and before its distribution (a race with :meth:`take`, or a writer
that died in between) does not leave the step half-done nor make every later read retry: the
step is completed without the distribution, and the audit log says so
(``handling:distribute-withheld``: the people and units not given sight, and the holds).
The withholding is stored with the step (``workflow-withheld/``, one object per step, written
create-if-absent before its event: one event per step, however many readers and reindexes meet
the hold at once), and every path that derives grants from the steps (:meth:`regrant`: the
read-time roll-forward and ``kho handling reindex``) skips the people and units it names, before
and after the hold is released: whether a reindex runs changes nothing. Sight after the release
is an ordinary grant, by hand (``record:grant``); a step taken after it hands over as usual.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kho.errors import (
    AlreadyExists,
    KhoError,
    LegalHold,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    WorkflowConflict,
    WorkflowRefused,
)
from kho.mail import Mailer
from kho.timeutil import to_iso_utc, vn_date
from repository import formats
from repository.accounts import Account, AccountService, Status
from repository.metadata import DocumentMetadata
from repository.policy import (
    UNKNOWN_RECORD,
    Action,
    Role,
    WorkFacts,
    counts_in_totals,
    decide_step,
    may_handle,
    names_reference,
)
from repository.records import UNOPENABLE, Actor, Record, Repository, refusal
from repository.storage.group import read_each
from repository.vocabulary import TextKind, typed_text
from repository.workflow import (
    MAIN_TASK,
    STATUS_CODES,
    Act,
    Counts,
    Handling,
    Step,
    WorkCalendar,
    check,
    classify,
    derive,
    task_number,
    timeliness,
)

STEP_PREFIX = "workflow/"
SEEN_PREFIX = "workflow-seen/"
WITHHELD_PREFIX = "workflow-withheld/"
HIDDEN_REF = "(ẩn: văn bản bạn không được xem)"
"""What a handling step says of a document it refers to that its reader may not see."""
WITHHELD_ACTION = "handling:distribute-withheld"
"""The audit event of a step whose distribution a legal hold refused (one per step)."""

ROLL_FORWARD = Actor(user="kho", source="handling:roll-forward", system=True)
"""Who re-applies the effects of a committed step whose process died before applying them."""

# Which policy action each act needs.
_ACT_ACTIONS: dict[Act, Action] = {
    Act.SUBMIT: Action.HANDLE_SUBMIT,
    Act.FORWARD: Action.HANDLE_SUBMIT,
    Act.DIRECT: Action.HANDLE_DIRECT,
    Act.ADD_TASK: Action.HANDLE_DIRECT,
    Act.ASSIGN: Action.HANDLE_ASSIGN,
    Act.PROGRESS: Action.HANDLE_WORK,
    Act.ANSWER: Action.HANDLE_WORK,
    Act.FILE_ONLY: Action.HANDLE_WORK,
    Act.REQUEST_EXTENSION: Action.HANDLE_WORK,
    Act.REPORT_DONE: Action.HANDLE_WORK,
    Act.DECIDE_EXTENSION: Action.HANDLE_APPROVE,
    Act.APPROVE_DONE: Action.HANDLE_APPROVE,
    Act.REDO: Action.HANDLE_APPROVE,
    Act.OUTGOING_STATUS: Action.OUTGOING_STATUS,
}


def step_key(record_id: str, seq: int) -> str:
    return f"{STEP_PREFIX}{record_id}/{seq:06d}"


def seen_key(record_id: str, user: str, seq: int) -> str:
    """The mark that ``user`` opened the document's handling having its steps up to ``seq``."""
    return f"{SEEN_PREFIX}{record_id}/{user}/{seq:06d}"


def withheld_key(record_id: str, seq: int) -> str:
    """The record that a legal hold refused the distribution of step ``seq``."""
    return f"{WITHHELD_PREFIX}{record_id}/{seq:06d}"


def targets(step: Step) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The people and the units a step hands the document over to."""
    return (*step.users, *step.cooperate_users), (*step.units, *step.cooperate_units)


def without(step: Step, users: Iterable[str], units: Iterable[str]) -> Step:
    """The step as a source of grants, the people and units its distribution withheld removed."""
    no_users, no_units = set(users), set(units)
    return replace(
        step,
        users=tuple(u for u in step.users if u not in no_users),
        cooperate_users=tuple(u for u in step.cooperate_users if u not in no_users),
        units=tuple(u for u in step.units if u not in no_units),
        cooperate_units=tuple(u for u in step.cooperate_units if u not in no_units),
    )


def reached(steps: Iterable[Step]) -> tuple[dict[str, str], dict[str, str]]:
    """The people and units the steps gave sight of the document, each with the time of the
    latest step that reached them."""
    users: dict[str, str] = {}
    units: dict[str, str] = {}
    for step in steps:
        for user in (*step.users, *step.cooperate_users):
            users[user] = max(users.get(user, ""), step.at)
        for unit in (*step.units, *step.cooperate_units):
            units[unit] = max(units.get(unit, ""), step.at)
    return users, units


def work_facts(state: Handling, step: Step) -> WorkFacts:
    """The policy's view of the handling for one step: the task concerned, its people."""
    task = state.task(step.task) if step.task else None
    if task is None:
        units = frozenset(state.units)
        handlers = state.handlers()
        return WorkFacts(frozenset(state.leaders), units, handlers)
    requester = ""
    if step.act is Act.DECIDE_EXTENSION and task.extension is not None:
        requester = task.extension.requested_by
    elif step.act in (Act.APPROVE_DONE, Act.REDO):
        reported = next(
            (s.actor for s in reversed(state.steps) if s.act is Act.REPORT_DONE and s.task == task.task_id),
            "",
        )
        requester = reported or task.handler
    return WorkFacts(
        frozenset(state.leaders),
        frozenset(task.units),
        frozenset(task.people),
        assigner=task.assigner,
        requester=requester,
    )


_TEXT_LABELS = {
    "note": "Ý kiến, ghi chú",
    "content": "Nội dung",
    "ref_label": "Văn bản liên quan",
    "organ": "Cơ quan nhận",
}
"""The free texts of a handling step, with the label a refusal names."""
_TEXT_KINDS = {"content": TextKind.DOCUMENT}
"""The free texts of a handling step that are a document of their own (the others are notes)."""


def step_texts(fields: dict[str, Any]) -> dict[str, str]:
    """The free texts among a step's ``fields``, each by the one rule of typed text
    (:func:`~repository.vocabulary.typed_text`: hidden characters and length refused, NFC)."""
    return {
        k: typed_text(str(v), k, _TEXT_LABELS[k], kind=_TEXT_KINDS.get(k))
        for k, v in fields.items()
        if k in _TEXT_LABELS
    }


@dataclass(frozen=True)
class WorkItem:
    """A row of "Việc của tôi" and of the follow-up lists."""

    record_id: str
    task_id: str
    label: str
    subject: str
    deadline: str | None
    status: str
    handler: str
    assigner: str
    units: str
    urgency: int
    flag: str
    """``overdue`` / ``due_soon`` / ``open`` / ``on_time`` / ``late`` as of the last update."""


@dataclass(frozen=True)
class Notice:
    record_id: str
    at: str
    act: str
    actor: str
    text: str
    seen: bool


class Sight:
    """Which documents one person may see, for one answer (:meth:`HandlingService.sight`):
    each document is asked of the policy once (:meth:`HandlingService._seen_by`), however many
    of the answer's counts and lists name it. Made for one answer and dropped with it, so a
    later answer asks again and sees every change since."""

    def __init__(self, service: HandlingService, actor: Actor) -> None:
        self._service = service
        self._actor = actor
        self._seen: dict[str, bool] = {}

    def of(self, record_ids: set[str]) -> set[str]:
        """The documents among ``record_ids`` the person may see."""
        new = record_ids - self._seen.keys()
        if new:
            shown = self._service._seen_by(self._actor, new)
            self._seen.update((record_id, record_id in shown) for record_id in new)
        return {record_id for record_id in record_ids if self._seen[record_id]}


class WorkIndex:
    """The derived work index: tasks, per-person notices and per-document summaries in SQLite."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS docs (
        record_id TEXT PRIMARY KEY, kind TEXT, unit TEXT, arrival TEXT, number TEXT, label TEXT,
        subject TEXT, organ TEXT, urgency INTEGER, status TEXT, deadline TEXT, finished TEXT,
        receivers TEXT, progress TEXT, answers TEXT, leaders TEXT, seq INTEGER,
        outgoing TEXT);
    CREATE INDEX IF NOT EXISTS docs_arrival ON docs(kind, arrival);
    CREATE INDEX IF NOT EXISTS docs_pending ON docs(status, leaders);
    CREATE TABLE IF NOT EXISTS tasks (
        record_id TEXT, task_id TEXT, units TEXT, handler TEXT, chu_tri TEXT, assigner TEXT,
        deadline TEXT, status TEXT, finished TEXT, pending_approval INTEGER, flag TEXT,
        label TEXT, subject TEXT, urgency INTEGER, PRIMARY KEY (record_id, task_id));
    CREATE INDEX IF NOT EXISTS tasks_handler ON tasks(handler, status, deadline);
    CREATE INDEX IF NOT EXISTS tasks_chu_tri ON tasks(chu_tri, status, deadline);
    CREATE INDEX IF NOT EXISTS tasks_assigner ON tasks(assigner, pending_approval);
    CREATE INDEX IF NOT EXISTS tasks_open ON tasks(status, deadline);
    CREATE TABLE IF NOT EXISTS task_units (record_id TEXT, task_id TEXT, unit TEXT, status TEXT,
        deadline TEXT);
    CREATE INDEX IF NOT EXISTS task_units_unit ON task_units(unit, status, deadline);
    CREATE INDEX IF NOT EXISTS task_units_doc ON task_units(record_id);
    CREATE TABLE IF NOT EXISTS notices (
        user TEXT, record_id TEXT, seq INTEGER, at TEXT, act TEXT, actor TEXT, text TEXT,
        seen INTEGER DEFAULT 0, PRIMARY KEY (user, record_id, seq));
    CREATE INDEX IF NOT EXISTS notices_unseen ON notices(user, seen);
    CREATE TABLE IF NOT EXISTS flags (record_id TEXT, task_id TEXT, flag TEXT, day TEXT,
        PRIMARY KEY (record_id, task_id, flag));
    CREATE TABLE IF NOT EXISTS flag_mails (record_id TEXT, task_id TEXT, flag TEXT, people TEXT,
        text TEXT, PRIMARY KEY (record_id, task_id, flag));
    """
    """``flag_mails``: the mails of the deadline job, written with its flags and notices in one
    transaction and removed once sent: a run cut after its commit leaves them for the next."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(self.SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA secure_delete=ON")  # a destroyed document's rows are zeroed (forget)
            self._local.db = db
        return db

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db().execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def forget(self, record_ids: Iterable[str]) -> None:
        """Drop every row of these (destroyed) documents: their trích yếu, labels and the
        leaders' notes are their content (review a14: they stayed in this file, and on the
        notices, after the destruction). Zeroed in the file (``secure_delete``), and the WAL,
        which still holds the pages as they were, checkpointed and truncated. Idempotent."""
        ids = sorted(set(record_ids))
        with self.tx() as db:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                for table in ("docs", "tasks", "task_units", "notices", "flags"):
                    db.execute(f"DELETE FROM {table} WHERE record_id IN ({marks})", part)
        self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def clear(self) -> None:
        with self.tx() as db:
            for table in ("docs", "tasks", "task_units", "notices", "flags"):
                db.execute(f"DELETE FROM {table}")

    def put(
        self, record: Record, state: Handling, today: date, calendar: WorkCalendar, db: sqlite3.Connection
    ) -> bool:
        """Replace the rows of one document, unless they already show a later step (a slower
        writer never takes the index back); whether they were written."""
        have = db.execute("SELECT seq FROM docs WHERE record_id = ?", (record.record_id,)).fetchone()
        if have is not None and have[0] is not None and have[0] > state.seq:
            return False
        md = record.metadata if isinstance(record.metadata, DocumentMetadata) else None
        number = record.registration.display_number if record.registration else ""
        label = ", ".join(p for p in (md.type_name if md else "", md.so_ky_hieu if md else "") if p)
        subject = md.subject if md else ""
        urgency = int(md.urgency) if md else 0
        main = state.task(MAIN_TASK)
        receivers = ", ".join((*state.units, *(main.people if main else ()), *state.leaders))
        db.execute("DELETE FROM tasks WHERE record_id = ?", (record.record_id,))
        db.execute("DELETE FROM task_units WHERE record_id = ?", (record.record_id,))
        db.execute(
            "INSERT OR REPLACE INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.record_id,
                record.kind,
                record.unit or "",
                (md.arrival_date.isoformat() if md and md.arrival_date else record.created_at[:10]),
                number,
                label,
                subject,
                md.organ_name if md else "",
                urgency,
                state.status,
                state.deadline,
                state.finished_on,
                receivers,
                state.progress,
                json.dumps([a[1] or a[0] for a in state.answers], ensure_ascii=False),
                "," + ",".join(state.leaders) + "," if state.leaders and not state.tasks else "",
                state.seq,
                json.dumps([s.__dict__ for s in state.outgoing], ensure_ascii=False),
            ),
        )
        for task in state.tasks:
            db.execute(
                "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.record_id,
                    task.task_id,
                    ",".join(task.units),
                    task.handler,
                    task.users[0] if task.users else "",
                    task.assigner,
                    task.deadline,
                    task.status,
                    task.finished_on,
                    1 if task.extension is not None or task.status == "reported" else 0,
                    timeliness(task, today, calendar),
                    label,
                    subject,
                    urgency,
                ),
            )
            for unit in task.units:
                db.execute(
                    "INSERT INTO task_units VALUES (?,?,?,?,?)",
                    (record.record_id, task.task_id, unit, task.status, task.deadline),
                )
        return True

    def seq_of(self, record_id: str) -> int:
        """The last step of the document the index reflects (0 when it has no row)."""
        row = self.read("SELECT seq FROM docs WHERE record_id = ?", (record_id,))
        return int(row[0][0] or 0) if row else 0

    def mark_seen(self, db: sqlite3.Connection, user: str, record_id: str, upto: int | None = None) -> None:
        """The person's notices about the document seen (those of steps up to ``upto`` only,
        when given: a seen mark read back from the store)."""
        if upto is None:
            db.execute("UPDATE notices SET seen = 1 WHERE user = ? AND record_id = ?", (user, record_id))
        else:
            db.execute(
                "UPDATE notices SET seen = 1 WHERE user = ? AND record_id = ? AND seq > 0 AND seq <= ?",
                (user, record_id, upto),
            )

    def notify(self, db: sqlite3.Connection, users: Iterable[str], step: Step, text: str) -> None:
        for user in users:
            db.execute(
                "INSERT OR IGNORE INTO notices VALUES (?,?,?,?,?,?,?,0)",
                (user, step.record_id, step.seq, step.at, step.act.value, step.actor, text),
            )


def stored_steps(repo: Repository, record_id: str) -> list[Step]:
    """A document's handling steps as stored, in order (:meth:`HandlingService.steps`; also read
    by the destruction's check of documents still under handling)."""
    out = []
    for info in repo.store.list(f"{STEP_PREFIX}{record_id}/"):
        plain = repo.keys.open(record_id, repo.store.get(info.key), info.key)
        out.append(
            Step.from_dict(
                formats.unstamped(
                    formats.WORKFLOW_STEP.name, formats.loads(formats.WORKFLOW_STEP.name, plain)
                )
            )
        )
    return sorted(out, key=lambda s: s.seq)


def require_registered(record: Record) -> None:
    """Handling (trình, chỉ đạo, giao xử lý) acts on a registered document only: a step, and the
    handling page, of a document still at intake (no metadata, no number) or of a hồ sơ are
    refused with ``NOT_REGISTERED``."""
    if record.metadata is None or record.registration is None:
        raise WorkflowRefused(
            "Văn bản chưa được vào sổ: hãy đăng ký trước khi trình, giao xử lý.", code="NOT_REGISTERED"
        )


class HandlingService:
    """Every handling step and every follow-up read goes through here."""

    def __init__(
        self,
        repo: Repository,
        accounts: AccountService,
        index: WorkIndex,
        calendar: WorkCalendar,
        *,
        mailer: Mailer | None = None,
        base_url: str = "",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.repo = repo
        self.accounts = accounts
        self.index = index
        self.calendar = calendar
        self.mailer = mailer
        self.base_url = base_url
        self.clock = clock or repo.clock

    # -- reading ------------------------------------------------------------------------------
    def today(self) -> date:
        return vn_date(self.clock())

    def steps(self, record_id: str) -> list[Step]:
        return stored_steps(self.repo, record_id)

    def state(self, record_id: str, *, actor: Actor) -> tuple[Record, Handling]:
        """The document (the person must see it) and its handling; opening it marks the
        person's notices about it as seen (kept in the store, so a rebuilt index keeps it) and
        rolls forward the effects of a step whose writer died after committing it."""
        record = self.repo.get(record_id, actor=actor)
        steps = self.steps(record_id)
        state = derive(record_id, steps)
        record = self.roll_forward(record, steps, state)
        self._mark_seen(record_id, state.seq, actor)
        return record, self._refs_as_seen(state, actor)

    def _refs_as_seen(self, state: Handling, actor: Actor) -> Handling:
        """``state`` as ``actor`` may read it: a document its steps refer to (the answer, the
        document asking for an extension) that the policy does not let them name
        (:func:`~repository.policy.names_reference`: above their clearance, recalled from them,
        gone) is shown unnamed (:data:`HIDDEN_REF`, no record id). Every reader of the incoming
        document got the answer's id and số, ký hiệu, a Mật answer's included (review rv29).
        One load per reference, only when there is one."""
        refs = {s.ref for s in state.steps if s.ref} | {ref for ref, _ in state.answers if ref}
        refs |= {t.extension.ref for t in state.tasks if t.extension is not None and t.extension.ref}
        hidden = {ref for ref in refs if not self._names(actor, ref)}
        if not hidden:
            return state
        return replace(
            state,
            steps=tuple(
                replace(s, ref="", ref_label=HIDDEN_REF) if s.ref in hidden else s for s in state.steps
            ),
            answers=tuple(
                ("", HIDDEN_REF) if ref in hidden else (ref, label) for ref, label in state.answers
            ),
            tasks=tuple(
                replace(t, extension=replace(t.extension, ref="", ref_label=HIDDEN_REF))
                if t.extension is not None and t.extension.ref in hidden
                else t
                for t in state.tasks
            ),
        )

    def _mark_seen(self, record_id: str, seq: int, actor: Actor) -> None:
        if actor.system or not actor.user:
            return
        unseen = self.index.read(
            "SELECT count(*) FROM notices WHERE user = ? AND record_id = ? AND seen = 0",
            (actor.user, record_id),
        )[0][0]
        if not unseen:
            return
        if seq > 0:  # first the store (the truth a rebuild reads), then the index
            key = seen_key(record_id, actor.user, seq)
            body = formats.dumps(
                formats.WORKFLOW_SEEN.name,
                {"record_id": record_id, "user": actor.user, "seq": seq, "at": to_iso_utc(self.clock())},
                ensure_ascii=False,
            )
            try:
                self.repo.store.put_if_absent(key, self.repo.keys.seal(record_id, body, key))
            except AlreadyExists:
                pass  # the same mark, written by another request of the same person
        with self.index.tx() as db:
            self.index.mark_seen(db, actor.user, record_id)

    def seen_marks(self, record_id: str) -> dict[str, int]:
        """For each person, the last step of the document they had when they last opened it."""
        out: dict[str, int] = {}
        for info in self.repo.store.list(f"{SEEN_PREFIX}{record_id}/"):
            data = formats.loads(
                formats.WORKFLOW_SEEN.name,
                self.repo.keys.open(record_id, self.repo.store.get(info.key), info.key),
            )
            user, seq = str(data["user"]), int(data["seq"])
            out[user] = max(out.get(user, 0), seq)
        return out

    # -- roll forward -------------------------------------------------------------------------
    def roll_forward(self, record: Record, steps: list[Step], state: Handling) -> Record:
        """Re-apply what committed steps imply when the work index shows their writer did not
        get that far (it died after the create-if-absent): the grants, the index rows and the
        notices. Idempotent; a no-op (one indexed lookup) when the index is up to date."""
        done = self.index.seq_of(record.record_id)
        if done >= state.seq:
            return record
        record = self.regrant(record, steps)
        with self.index.tx() as db:
            self._index_steps(db, record, steps, after=done)
        self.repo.audit.append(
            ROLL_FORWARD.user,
            "handling:roll-forward",
            record_id=record.record_id,
            source=ROLL_FORWARD.source,
            details={"seqs": [s.seq for s in steps if s.seq > done]},
        )
        return record

    def withheld(self, record_id: str) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
        """For each step of the document whose distribution a legal hold refused, the people
        and units it was withheld from (the ``workflow-withheld`` objects)."""
        out: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        for info in self.repo.store.list(f"{WITHHELD_PREFIX}{record_id}/"):
            data = formats.loads(
                formats.WORKFLOW_WITHHELD.name,
                self.repo.keys.open(record_id, self.repo.store.get(info.key), info.key),
            )
            out[int(data["seq"])] = (frozenset(data["users"]), frozenset(data["units"]))
        return out

    def withheld_in_log(
        self, record_id: str, marked: set[int]
    ) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
        """The steps whose ``handling:distribute-withheld`` event the audit log holds and whose
        ``workflow-withheld`` object is not among ``marked``: a marker deleted by a hand in the
        store (or lost with a restore of an older copy). Their people and units, as the event
        names them."""
        out: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        for event in self.repo.audit.record_events(record_id, trusted_only=True):
            if event.action != WITHHELD_ACTION:
                continue
            for seq in event.details.get("seqs") or ():
                if isinstance(seq, int) and seq not in marked:
                    out[seq] = (
                        frozenset(event.details.get("users") or ()),
                        frozenset(event.details.get("units") or ()),
                    )
        return out

    def regrant(self, record: Record, steps: list[Step]) -> Record:
        """Give sight of the document to the people and units its steps reached and who lack
        it. A grant an administrator withdrew later is not given back: a target counts as
        granted once any version of the record written since the step reached it carried it.
        Nor is a distribution a legal hold withheld (:meth:`withheld`, read only when someone
        lacks sight; and, before a grant is given, the log's own withheld events, whose marker
        may be gone: :meth:`withheld_in_log`), whether the hold is still on or released since.
        Under a legal hold nothing is given: each step whose distribution is refused is
        recorded once (:meth:`_withhold`) and the record returned as it is."""
        users, units = reached(steps)
        missing_users = {u: at for u, at in users.items() if u not in record.grant_users}
        missing_units = {u: at for u, at in units.items() if u not in record.grant_units}
        if not missing_users and not missing_units:
            return record
        withheld = self.withheld(record.record_id)
        if withheld:
            steps = [without(s, *withheld[s.seq]) if s.seq in withheld else s for s in steps]
            users, units = reached(steps)
            missing_users = {u: at for u, at in users.items() if u not in record.grant_users}
            missing_units = {u: at for u, at in units.items() if u not in record.grant_units}
            if not missing_users and not missing_units:
                return record
        since = min((*missing_users.values(), *missing_units.values()))
        later: list[Record] = []
        for version in reversed(self.repo._versions(record.record_id)):
            old = self.repo._load(record.record_id, version)
            if old.created_at < since:
                break
            later.append(old)
        give_users = [
            u
            for u, at in missing_users.items()
            if not any(u in r.grant_users for r in later if r.created_at >= at)
        ]
        give_units = [
            u
            for u, at in missing_units.items()
            if not any(u in r.grant_units for r in later if r.created_at >= at)
        ]
        if not give_users and not give_units:
            return record
        # The log is the authority: a step it says was withheld stays withheld when its marker
        # is gone (deleted by a hand in the store; fsck names it). Read only when a grant is
        # about to be given, which a steady reindex never does: the record's own events.
        logged = self.withheld_in_log(record.record_id, set(withheld))
        if logged:
            withheld = {**logged, **withheld}
            users, units = reached([without(s, *withheld[s.seq]) if s.seq in withheld else s for s in steps])
            give_users = [u for u in give_users if u in users]
            give_units = [u for u in give_units if u in units]
            if not give_users and not give_units:
                return record
        try:
            return self.repo.distribute(
                record.record_id, users=give_users, units=give_units, actor=ROLL_FORWARD
            )
        except LegalHold as held:
            give = set(give_users) | set(give_units)
            for step in steps:  # each step that would have given one of them sight
                if step.seq not in withheld and give & {*targets(step)[0], *targets(step)[1]}:
                    self._withhold(record, step, held, ROLL_FORWARD)
            return record

    def _withhold(self, record: Record, step: Step, held: LegalHold, actor: Actor) -> None:
        """Record that the distribution of committed ``step`` was refused by a legal hold
        (placed after the step was committed): the step stands, nobody it names is given sight
        by it, now or after the release. First the store (``workflow-withheld``,
        create-if-absent: what every later regrant reads), then, by the one writer that created
        it, the audit event: recorded once per step however many readers and reindexes meet the
        hold."""
        users, units = targets(step)
        key = withheld_key(record.record_id, step.seq)
        body = formats.dumps(
            formats.WORKFLOW_WITHHELD.name,
            {
                "record_id": record.record_id,
                "seq": step.seq,
                "users": list(users),
                "units": list(units),
                "code": held.code,
                "holds": list(held.details.get("holds", ())),
                "at": to_iso_utc(self.clock()),
            },
            ensure_ascii=False,
        )
        try:
            self.repo.store.put_if_absent(key, self.repo.keys.seal(record.record_id, body, key))
        except AlreadyExists:
            return  # recorded already, by another reader or an earlier run
        self.repo.audit.append(
            actor.user,
            WITHHELD_ACTION,
            record_id=record.record_id,
            source=actor.source,
            details={
                "seqs": [step.seq],
                "users": list(users),
                "units": list(units),
                "code": held.code,
                "holds": list(held.details.get("holds", ())),
            },
        )

    def _index_steps(
        self, db: sqlite3.Connection, record: Record, steps: list[Step], *, after: int = 0
    ) -> None:
        """The index rows of the document and the notices of its steps after ``after``."""
        state = None
        partial: list[Step] = []
        for step in steps:
            partial.append(step)
            if step.seq <= after:
                continue
            state = derive(record.record_id, partial)
            self.index.notify(db, self._recipients(record, state, step), step, self._describe(record, step))
        state = derive(record.record_id, partial)
        self.index.put(record, state, self.today(), self.calendar, db)

    def allowed_acts(self, record: Record, state: Handling, actor: Actor) -> frozenset[Act]:
        """The steps the person may take now (for the page's buttons); the policy decides."""
        if actor.principal is None:
            return frozenset()
        facts = self.repo.facts(record)
        out = set()
        for act, action in _ACT_ACTIONS.items():
            probe = Step(record.record_id, state.seq + 1, act, actor.user, "", "", "", task=MAIN_TASK)
            if act in (Act.SUBMIT, Act.FORWARD, Act.DIRECT, Act.ADD_TASK, Act.OUTGOING_STATUS):
                probe = replace(probe, task="")
            if decide_step(actor.principal, action, facts, work_facts(state, probe)):
                out.add(act)
        return frozenset(out)

    # -- writing ------------------------------------------------------------------------------
    def _role_of(self, actor: Actor) -> str:
        if actor.principal is None:
            return ""
        for role in (Role.LANH_DAO, Role.VAN_THU, Role.CHUYEN_VIEN):
            if actor.principal.has(role):
                return role.value
        return next(iter(sorted(r.value for _, r in actor.principal.roles)), "")

    def _units_of(self, users: Iterable[str]) -> tuple[frozenset[str], ...]:
        """The units of each named person who exists (an unknown one is refused after the
        decision, by :meth:`_check_targets`)."""
        out = []
        for user in users:
            try:
                out.append(self.accounts.get(user).units)
            except NotFound:
                continue
        return tuple(out)

    def _check_targets(self, users: Iterable[str], units: Iterable[str], secrecy: int = 0) -> None:
        for user in users:
            try:
                account = self.accounts.get(user)
            except NotFound as exc:
                raise WorkflowRefused(
                    f"Không có cán bộ “{user}”.", code="TARGET_UNKNOWN", target=user
                ) from exc
            if account.status is not Status.ACTIVE:
                raise WorkflowRefused(
                    f"Tài khoản “{user}” đang bị khóa: không thể giao văn bản cho người này.",
                    code="TARGET_LOCKED",
                    target=user,
                )
            if not may_handle(account.roles):
                raise WorkflowRefused(
                    f"Cán bộ “{user}” không làm nhiệm vụ xử lý văn bản (kiểm toán viên, quản trị):"
                    " không thể giao văn bản cho người này.",
                    code="TARGET_NOT_HANDLER",
                    target=user,
                )
            if account.clearance < secrecy:
                raise WorkflowRefused(
                    f"Cán bộ “{user}” không được phép xem văn bản có độ mật này:"
                    " không thể chuyển cho người này.",
                    code="TARGET_NO_CLEARANCE",
                    target=user,
                )
        for unit in units:
            try:
                self.accounts.get_unit(unit)
            except NotFound as exc:
                raise WorkflowRefused(
                    f"Không có đơn vị “{unit}”.", code="TARGET_UNKNOWN", target=unit
                ) from exc

    def take(
        self, record_id: str, act: Act | str, *, expected_seq: int, actor: Actor, **fields: Any
    ) -> Handling:
        """Take one step. ``expected_seq`` is how many steps the person saw when deciding: if
        another step was recorded since, ``WORKFLOW_CONFLICT`` and nothing is written."""
        act = Act(act)
        record = self.repo.get(record_id, actor=actor)
        require_registered(record)
        if act is Act.OUTGOING_STATUS and record.kind != "di":
            raise WorkflowRefused("Chỉ văn bản đi mới có trạng thái bên nhận.", code="NOT_OUTGOING")
        if act is not Act.OUTGOING_STATUS and record.kind != "den":
            raise WorkflowRefused("Chỉ văn bản đến mới được trình, giao xử lý.", code="NOT_INCOMING")
        steps = self.steps(record_id)
        state = derive(record_id, steps)
        record = self.roll_forward(record, steps, state)
        if expected_seq != state.seq:
            raise WorkflowConflict(
                "Văn bản vừa có bước xử lý khác (ví dụ một lãnh đạo khác vừa cho ý kiến). Không có"
                " gì được ghi: hãy tải lại và xem trước khi quyết định.",
                record_id=record_id,
                expected=expected_seq,
                current=state.seq,
            )
        now = self.clock()
        today = vn_date(now)
        text_fields = step_texts(fields)
        list_fields = {
            k: tuple(dict.fromkeys(x.strip() for x in v if x and x.strip()))
            for k, v in fields.items()
            if k in ("users", "units", "cooperate_users", "cooperate_units")
        }
        other = {k: v for k, v in fields.items() if k in ("task", "deadline", "ref", "approved", "code")}
        unknown = set(fields) - set(text_fields) - set(list_fields) - set(other)
        if unknown:
            raise ValueError(f"unknown step fields {sorted(unknown)}")
        if act is Act.ADD_TASK and not other.get("task"):
            other["task"] = str(1 + max((task_number(t.task_id) for t in state.tasks), default=1))
        if act is Act.DIRECT:
            other["task"] = MAIN_TASK
        step = Step(
            record_id=record_id,
            seq=state.seq + 1,
            act=act,
            actor=actor.user,
            role=self._role_of(actor),
            at=to_iso_utc(now),
            on=today.isoformat(),
            **text_fields,
            **list_fields,
            **other,
        )
        if not actor.system:
            assert actor.principal is not None
            work = work_facts(state, step)
            if act is Act.ASSIGN:
                work = replace(work, assignee_units=self._units_of(step.users))
            decision = decide_step(actor.principal, _ACT_ACTIONS[act], self.repo.facts(record), work)
            if not decision:
                self.repo.audit_denied(
                    actor,
                    record_id,
                    {
                        "action": _ACT_ACTIONS[act].value,
                        "code": decision.cause or decision.code,
                        **({"answered": decision.code} if decision.cause else {}),
                    },
                    as_absent=decision.code == UNKNOWN_RECORD,
                )
                raise refusal(decision, record_id)
        check(state, step, today)
        reached_users = (*step.users, *step.cooperate_users)
        reached_units = (*step.units, *step.cooperate_units)
        self._check_targets(reached_users, reached_units, record.secrecy)
        if reached_users or reached_units:
            # A hold blocks handing the document over: the step is refused before it is written.
            self.repo.refuse_if_held(record, Action.RECORD_GRANT)
        if act is Act.ANSWER or (act is Act.REQUEST_EXTENSION and step.ref):
            ref = self.repo.get(step.ref, actor=actor)
            if act is Act.ANSWER and (ref.kind != "di" or ref.registration is None):
                raise WorkflowRefused(
                    "Văn bản trả lời phải là văn bản đi đã ban hành (đã vào sổ).", code="ANSWER_NOT_ISSUED"
                )
            if not step.ref_label:
                step = replace(step, ref_label=ref.so_ky_hieu or ref.record_id)
        # The commit: one create-if-absent at the next sequence number.
        key = step_key(record_id, step.seq)
        body = formats.dumps(formats.WORKFLOW_STEP.name, step.to_dict(), ensure_ascii=False)
        try:
            self.repo.store.put_if_absent(key, self.repo.keys.seal(record_id, body, key))
        except AlreadyExists as exc:
            raise WorkflowConflict(
                "Một bước xử lý khác vừa được ghi cùng lúc (ví dụ hai lãnh đạo cùng cho ý kiến). Bước của"
                " bạn chưa được ghi: hãy tải lại và quyết định lại.",
                record_id=record_id,
                seq=step.seq,
            ) from exc
        self.repo.audit.append(
            actor.user,
            f"handling:{act.value}",
            record_id=record_id,
            version=record.version,
            source=actor.source,
            details={
                "seq": step.seq,
                "task": step.task,
                "users": list(step.users),
                "units": list(step.units),
                "deadline": step.deadline,
                **({"approved": step.approved} if step.approved is not None else {}),
                **({"code": step.code, "organ": step.organ} if step.code else {}),
            },
        )
        new_state = derive(record_id, [*steps, step])
        withheld = False
        if reached_users or reached_units:
            try:
                record = self.repo.distribute(
                    record_id, users=reached_users, units=reached_units, actor=actor
                )
            except LegalHold as held:  # placed since the check above: the step stands, without it
                self._withhold(record, step, held, actor)
                withheld = True
        self._after(record, new_state, step, mail=not withheld)
        return new_state

    def _recipients(self, record: Record, state: Handling, step: Step) -> set[str]:
        """Who is told about a step: the people and the heads of the units it reached; the
        assigner for requests; the handler for decisions."""
        users = set(step.users) | set(step.cooperate_users)
        for unit in (*step.units, *step.cooperate_units):
            users |= self._unit_heads(unit)
        task = state.task(step.task) if step.task else None
        if task is not None and step.act in (Act.REQUEST_EXTENSION, Act.REPORT_DONE):
            users.add(task.assigner)
        if task is not None and step.act in (Act.DECIDE_EXTENSION, Act.APPROVE_DONE, Act.REDO):
            users.update(task.people)
        users.discard(step.actor)
        return users

    def _unit_heads(self, unit: str) -> set[str]:
        return {
            a.username
            for a in self.accounts.accounts()
            if a.status is Status.ACTIVE and a.has_role(Role.LANH_DAO, unit)
        }

    def _after(self, record: Record, state: Handling, step: Step, *, mail: bool = True) -> None:
        """The index rows and notices of a committed step, and its mail unless ``mail`` is
        false (its distribution was withheld: mail would tell people who were not given sight)."""
        text = self._describe(record, step)
        recipients = self._recipients(record, state, step)
        with self.index.tx() as db:
            self.index.put(record, state, vn_date(self.clock()), self.calendar, db)
            self.index.notify(db, recipients, step, text)
        if mail:
            self._mail(recipients, record, text)

    def _describe(self, record: Record, step: Step) -> str:
        md = record.metadata if isinstance(record.metadata, DocumentMetadata) else None
        what = f"{md.type_name} {md.so_ky_hieu or ''} — {md.subject}" if md else record.record_id
        urgent = f"[{md.urgency.label.upper()}] " if md and int(md.urgency) else ""
        parts = [f"{urgent}{step.act.label}: {what}"]
        if step.deadline:
            parts.append(f"Thời hạn: {date.fromisoformat(step.deadline):%d/%m/%Y}")
        if step.note:
            parts.append(f"Ý kiến: {step.note}")
        parts.append(f"Người thực hiện: {step.actor}")
        return "\n".join(parts)

    def _mail(self, users: Iterable[str], record: Record, text: str) -> None:
        if self.mailer is None:
            return
        link = (
            f"{self.base_url}/handling/{record.record_id}"
            if self.base_url
            else f"/handling/{record.record_id}"
        )
        for user in sorted(users):
            try:
                account = self.accounts.get(user)
            except NotFound:
                continue
            if account.email and self._mailable(account, record.record_id):
                if record.secrecy > 0:
                    # Nothing of a secret document's content leaves Kho by mail: only that there is one.
                    text = "Có văn bản mật cần xử lý: xem trong hệ thống Kho (không gửi nội dung qua thư)."
                # The first of the lines this text was joined from: ``splitlines`` also ended it at a
                # vertical tab or U+0085 of a trích yếu stored before those were refused, hiding the rest
                # of it (the mailer shows such a character as "\ufffd", kho.xmltext.shown_line).
                subject = text.split("\n", 1)[0][:180]
                self.mailer.send(account.email, f"[Kho] {subject}", f"{text}\n\nXem: {link}\n")

    def _mailable(self, account: Account, record_id: str) -> bool:
        """Whether a mail about the document may reach ``account``: an active account that sees
        the document now (:meth:`_listed`, the rule of the work lists). The people a step or a
        deadline names were named when it was taken; a person who left since (account locked,
        Điều 7 k4 a) or lost sight of the document (a grant revoked, a unit left) was still
        mailed its trích yếu, the notes and its số, ký hiệu, which the lists no longer showed
        them (review rv54)."""
        if not account.active:
            return False
        reader = Actor(user=account.username, source="handling:mail",
                       principal=self.accounts.principal_of(account))
        return self._listed(reader, record_id)

    def import_statuses(self, rows: Iterable[dict[str, str]], *, actor: Actor) -> int:
        """Recipients' statuses of outgoing documents from a file (``record_id``, ``organ``,
        ``code``, ``note``), until the edXML exchange sends them. Every row is checked first
        (code, record, the right to record it); one bad row refuses the whole file, with the
        row numbers, before anything is written."""
        parsed = []
        problems: list[str] = []
        for n, row in enumerate(rows, start=2):  # row 1 is the header
            record_id = (row.get("record_id") or "").strip()
            code = (row.get("code") or "").strip().zfill(2)
            if code not in STATUS_CODES:
                problems.append(f"dòng {n}: mã trạng thái “{code}” không thuộc QCVN 102")
                continue
            try:  # the step's own text rule, here so that a bad row refuses the file before a write
                texts = step_texts({"organ": row.get("organ") or "", "note": row.get("note") or ""})
            except ValidationFailed as exc:
                problems.append(f"dòng {n}: {exc.message}")
                continue
            organ, note = texts["organ"], texts["note"]
            if not organ:
                problems.append(f"dòng {n}: thiếu cơ quan nhận")
                continue
            try:
                record = self.repo.get(record_id, actor=actor)
            except (NotFound, PermissionDenied, ValueError):
                problems.append(f"dòng {n}: không có văn bản “{record_id}” hoặc bạn không được xem")
                continue
            if record.kind != "di" or (
                not actor.system
                and actor.principal is not None
                and not decide_step(
                    actor.principal, Action.OUTGOING_STATUS, self.repo.facts(record), WorkFacts()
                )
            ):
                problems.append(f"dòng {n}: không ghi được trạng thái cho văn bản “{record_id}”")
                continue
            parsed.append((record_id, organ, code, note))
        if problems:
            raise WorkflowRefused(
                "Tệp trạng thái có lỗi, chưa ghi dòng nào: " + "; ".join(problems[:10]),
                code="STATUS_IMPORT_INVALID",
                problems=problems,
            )
        for record_id, organ, code, note in parsed:
            seq = len(self.steps(record_id))
            self.take(
                record_id,
                Act.OUTGOING_STATUS,
                expected_seq=seq,
                actor=actor,
                organ=organ,
                code=code,
                note=note,
            )
        return len(parsed)

    # -- follow-up ----------------------------------------------------------------------------
    def sight(self, actor: Actor) -> Sight:
        """What ``actor`` may see, asked once per document for one answer that shows several
        of :meth:`counts`, :meth:`my_work`, :meth:`to_direct` and :meth:`notices` (the work
        page, ``GET /api/work``, ``kho handling``): each names the same documents."""
        return Sight(self, actor)

    def counts(self, actor: Actor, today: date | None = None, *, sight: Sight | None = None) -> Counts:
        """The home page numbers, from the work index (indexed lookups, no scan); every document
        they count is also asked of the policy (one load each), as in the lists."""
        user = actor.user
        today = today or self.today()
        soon = self.calendar.add_working_days(today, 2).isoformat()
        t = today.isoformat()
        q = self.index.read
        new_notices = "SELECT record_id, count(*) FROM notices WHERE user = ? AND seen = 0 GROUP BY record_id"
        unseen: dict[str, int] = dict(q(new_notices, (user,)))
        mine = "(handler = ? OR (handler = '' AND chu_tri = ?)) AND status != 'done'"
        tasks: list[tuple[str, str | None]] = [
            (r[0], r[1]) for r in q(f"SELECT record_id, deadline FROM tasks WHERE {mine}", (user, user))
        ]
        approving = [
            r[0]
            for r in q("SELECT record_id FROM tasks WHERE assigner = ? AND pending_approval = 1", (user,))
        ]
        waiting = "SELECT record_id FROM docs WHERE status = 'submitted' AND leaders LIKE ?"
        submitted = {r[0] for r in q(waiting, (f"%,{user},%",))}
        # Through the policy, as the lists they count (:meth:`my_work`, :meth:`to_direct`,
        # :meth:`notices`): a document the person may no longer see (raised above their
        # clearance, moved out of their units, destroyed) is neither a task, nor "chờ cho ý
        # kiến", nor a new notice. The task counts were taken from the work index alone: "1 việc
        # đang giải quyết, 1 quá hạn" over an empty list told them a document they lost sight of
        # was still open, and when it fell due (review rv26).
        named = {record_id for record_id, _ in tasks} | set(approving) | submitted | set(unseen)
        visible = (sight or self.sight(actor)).of(named)
        deadlines = [deadline for record_id, deadline in tasks if record_id in visible]
        open_ = len(deadlines)
        overdue = sum(1 for d in deadlines if d is not None and d < t)
        due_soon = sum(1 for d in deadlines if d is not None and t <= d <= soon)
        to_approve = sum(1 for record_id in approving if record_id in visible)
        to_direct = len(submitted & visible)
        inbox = sum(n for record_id, n in unseen.items() if record_id in visible)
        return Counts(inbox, open_, due_soon, overdue, to_approve, to_direct)

    def _items(self, rows: list[tuple[Any, ...]], today: date) -> list[WorkItem]:
        out = []
        for r in rows:
            (
                record_id,
                task_id,
                units,
                handler,
                _chu,
                assigner,
                deadline,
                status,
                finished,
                _p,
                _f,
                label,
                subject,
                urg,
            ) = r
            flag = "open"
            if status == "done":
                flag = "late" if deadline and finished and finished > deadline else "on_time"
            elif deadline and deadline < today.isoformat():
                flag = "overdue"
            elif deadline and self.calendar.working_days_left(today, date.fromisoformat(deadline)) <= 2:
                flag = "due_soon"
            out.append(
                WorkItem(
                    record_id, task_id, label, subject, deadline, status, handler, assigner, units, urg, flag
                )
            )
        return out

    def my_work(
        self, actor: Actor, today: date | None = None, *, sight: Sight | None = None
    ) -> list[WorkItem]:
        """Việc của tôi: open tasks given to the person (most urgent and nearest deadline first)
        and what waits for their approval."""
        today = today or self.today()
        rows = self.index.read(
            "SELECT * FROM tasks WHERE ((handler = ? OR (handler = '' AND chu_tri = ?)) AND status != 'done')"
            " OR (assigner = ? AND pending_approval = 1)"
            " ORDER BY urgency DESC, deadline IS NULL, deadline LIMIT 500",
            (actor.user, actor.user, actor.user),
        )
        items = self._items(rows, today)
        # Asked once for the list: the condition of a comprehension runs per item, and asking
        # it there loaded every listed document once per item (400 loads for 20 tasks).
        seen = (sight or self.sight(actor)).of({i.record_id for i in items})
        return [i for i in items if i.record_id in seen]

    def to_direct(self, actor: Actor, *, sight: Sight | None = None) -> list[tuple[str, str, str, int]]:
        """Documents submitted to the person and not yet directed (urgent first)."""
        rows = [
            tuple(r)
            for r in self.index.read(
                "SELECT record_id, label, subject, urgency FROM docs"
                " WHERE status = 'submitted' AND leaders LIKE ?"
                " ORDER BY urgency DESC, arrival",
                (f"%,{actor.user},%",),
            )
        ]
        seen = (sight or self.sight(actor)).of({r[0] for r in rows})
        return [r for r in rows if r[0] in seen]  # type: ignore[misc]

    def notices(self, actor: Actor, limit: int = 50, *, sight: Sight | None = None) -> list[Notice]:
        found = [
            Notice(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
            for r in self.index.read(
                "SELECT record_id, at, act, actor, text, seen FROM notices"
                " WHERE user = ? ORDER BY at DESC LIMIT ?",
                (actor.user, limit),
            )
        ]
        seen = (sight or self.sight(actor)).of({n.record_id for n in found})
        return [n for n in found if n.record_id in seen]

    def _seen_by(self, actor: Actor, record_ids: set[str]) -> set[str]:
        """The documents among ``record_ids`` the person may see *now* (the one policy). The work
        index names a person when a step reaches them; what they see can shrink afterwards (the
        secrecy raised above their clearance, a unit left, a grant revoked), and the index's
        label, trích yếu and notes must then stop reaching them. A destroyed document is listed
        to no one: its rows carry its trích yếu and the leaders' notes, its content, which its
        destruction takes from everyone (review a14: they stayed on the leader's notices and
        "to direct" list); its "đã hủy" row is read where the register shows it."""
        if actor.system:
            return set(record_ids)
        # One load each (the policy's facts are the record's latest version, its key and the hồ
        # sơ holding it), read side by side: on S3 a load is two LISTs and a GET, and 20 open
        # tasks one after another cost the home page 0.6-1.1 s (rv29's figures).
        ids = sorted(record_ids)
        listed = read_each(lambda record_id: self._listed(actor, record_id), ids)
        return {record_id for record_id, shown in zip(ids, listed, strict=True) if shown}

    def _names(self, actor: Actor, record_id: str) -> bool:
        if actor.system:
            return True
        try:
            record = self.repo._load(record_id)
        except UNOPENABLE:
            return False
        return names_reference(actor.as_principal, self.repo.facts(record))

    def _listed(self, actor: Actor, record_id: str) -> bool:
        try:
            record = self.repo._load(record_id)
        except UNOPENABLE:
            return False
        return record.state != "destroyed" and self.repo.may_see(actor, record)

    def follow_up(self, actor: Actor, unit: str | None = None, today: date | None = None) -> list[WorkItem]:
        """Overdue and due-soon tasks of a unit (or of every unit the person may report on)."""
        self.repo.authorize(actor, Action.HANDLE_REPORT)
        today = today or self.today()
        units = self._report_units(actor, unit)
        soon = self.calendar.add_working_days(today, 2).isoformat()
        marks = ",".join("?" * len(units))
        rows = self.index.read(
            "SELECT t.* FROM task_units u JOIN tasks t ON t.record_id = u.record_id AND t.task_id = u.task_id"
            f" WHERE u.unit IN ({marks}) AND u.status != 'done' AND u.deadline <= ?"
            " ORDER BY u.deadline",
            (*units, soon),
        )
        seen: set[tuple[str, str]] = set()
        out = []
        for item in self._items(rows, today):
            if (item.record_id, item.task_id) not in seen:
                seen.add((item.record_id, item.task_id))
                out.append(item)
        seen = self._seen_by(actor, {item.record_id for item in out})
        return [item for item in out if item.record_id in seen]

    def _report_units(self, actor: Actor, unit: str | None) -> list[str]:
        if actor.system:
            return [unit] if unit else [u.unit_id for u in self.accounts.units()]
        assert actor.principal is not None
        mine = actor.principal.content_units
        if unit:
            if unit not in mine:
                raise PermissionDenied("Bạn không theo dõi được đơn vị này.", code="PERMISSION_DENIED")
            return [unit]
        return sorted(mine)

    # -- the daily job ------------------------------------------------------------------------
    def flag_deadlines(self, today: date | None = None) -> dict[str, int]:
        """Flag overdue and due-soon tasks (once per task and flag) and notify their handler and
        assigner. Indexed queries over open tasks only; run daily by Celery beat."""
        now = self.today()
        if today is not None and today > now:
            raise KhoError(
                f"Không chạy được việc đánh dấu hạn cho ngày {today:%d/%m/%Y}: ngày này chưa đến"
                " (chỉ chạy bù cho hôm nay hoặc ngày đã qua).",
                code="DAY_IN_FUTURE",
                day=today.isoformat(),
            )
        today = today or now
        t = today.isoformat()
        soon = self.calendar.add_working_days(today, 2).isoformat()
        rows = self.index.read(
            "SELECT record_id, task_id, handler, chu_tri, assigner, deadline, label FROM tasks"
            " WHERE status != 'done' AND deadline IS NOT NULL AND deadline <= ?",
            (soon,),
        )
        counts = {"overdue": 0, "due_soon": 0, "notified": 0}
        with self.index.tx() as db:
            for record_id, task_id, handler, chu_tri, assigner, deadline, label in rows:
                if not task_number(task_id):
                    continue  # an id stored before TASK_ID_INVALID: no notice key of its own
                flag = "overdue" if deadline < t else "due_soon"
                counts[flag] += 1
                db.execute(
                    "UPDATE tasks SET flag = ? WHERE record_id = ? AND task_id = ?",
                    (flag, record_id, task_id),
                )
                new = db.execute(
                    "INSERT OR IGNORE INTO flags VALUES (?,?,?,?)", (record_id, task_id, flag, t)
                ).rowcount
                if not new:
                    continue
                people = {u for u in (handler or chu_tri, assigner) if u}
                word = "Quá hạn" if flag == "overdue" else "Sắp đến hạn"
                text = (
                    f"{word}: {label} (nhiệm vụ {task_id}), thời hạn {date.fromisoformat(deadline):%d/%m/%Y}"
                )
                seq = -(task_number(task_id) * 10 + (1 if flag == "overdue" else 2))  # one per task and flag
                for user in people:
                    db.execute(
                        "INSERT OR IGNORE INTO notices VALUES (?,?,?,?,?,?,?,0)",
                        (user, record_id, seq, to_iso_utc(self.clock()), flag, "kho", text),
                    )
                counts["notified"] += len(people)
                if self.mailer is not None:
                    db.execute(
                        "INSERT OR IGNORE INTO flag_mails VALUES (?,?,?,?,?)",
                        (record_id, task_id, flag, json.dumps(sorted(people)), text),
                    )
        self._send_flag_mails()
        self.repo.audit.append("kho", "handling:flag-deadlines", details={"day": t, **counts})
        return counts

    def _send_flag_mails(self) -> None:
        """Send the deadline job's mails waiting in ``flag_mails`` (this run's, and any a run cut
        after its commit left: the task's time limit lands wherever the run is), each removed
        once sent. A mail server that refuses is logged by the mailer, as for every mail."""
        if self.mailer is None:
            return
        waiting = self.index.read("SELECT record_id, task_id, flag, people, text FROM flag_mails")
        for record_id, task_id, flag, people, text in waiting:
            try:
                record = self.repo._load(record_id)
            except NotFound:
                record = None
            if record is not None:
                self._mail(json.loads(people), record, text)
            with self.index.tx() as db:
                db.execute(
                    "DELETE FROM flag_mails WHERE record_id = ? AND task_id = ? AND flag = ?",
                    (record_id, task_id, flag),
                )

    # -- rebuild ------------------------------------------------------------------------------
    def rebuild_index(self) -> int:
        """Rebuild the work index from the store alone (``kho handling reindex``): the rows and
        notices from the steps, the "seen" marks from the seen objects; and re-apply the grants
        the steps imply where a writer died before applying them (:meth:`regrant`)."""
        self.index.clear()
        ids = sorted({info.key.split("/")[1] for info in self.repo.store.list(STEP_PREFIX)})
        for record_id in ids:
            try:
                record = self.repo._load(record_id)
                steps = self.steps(record_id)
            except NotFound:
                continue
            if not steps:
                continue
            record = self.regrant(record, steps)
            marks = self.seen_marks(record_id)
            with self.index.tx() as db:
                self._index_steps(db, record, steps)
                for user, upto in marks.items():
                    self.index.mark_seen(db, user, record_id, upto)
        return len(ids)

    # -- reports ------------------------------------------------------------------------------
    def tracking_rows(
        self, actor: Actor, start: date, end: date, unit: str | None = None, kind: str = "den"
    ) -> list[dict[str, Any]]:
        """The Sổ theo dõi giải quyết văn bản đến (Phụ lục IV) for documents that arrived between
        ``start`` and ``end``: only those the person may see (the one policy)."""
        self.repo.authorize(actor, Action.HANDLE_REPORT)
        rows = self.index.read(
            "SELECT record_id FROM docs WHERE kind = ? AND arrival >= ? AND arrival <= ?"
            " ORDER BY arrival, number",
            (kind, start.isoformat(), end.isoformat()),
        )
        out = []
        for (record_id,) in rows:
            try:
                record = self.repo._load(record_id)
            except NotFound:
                continue
            if not self.repo.may_see(actor, record):
                continue
            if unit and unit != (record.unit or self.repo.agency_id) and unit not in record.grant_units:
                continue
            state = self._refs_as_seen(derive(record_id, self.steps(record_id)), actor)
            out.append(tracking_row(record, state, min(end, self.today()), self.calendar))
        return out

    def report(
        self, actor: Actor, start: date, end: date, unit: str | None = None, kind: str = "den"
    ) -> dict[str, Any]:
        """Báo cáo tình hình giải quyết văn bản đến (``den``) or đi (``di``), Phụ lục VI V.2 /
        V.4: each document once, in one column, as of ``end`` (or today, for a period not over)."""
        rows = self.tracking_rows(actor, start, end, unit, kind)
        columns = ("done_on_time", "done_late", "open_in_time", "open_overdue", "file_only")
        totals = dict.fromkeys(columns, 0)
        for row in rows:
            totals[row["column"]] += 1
        return {
            "start": start,
            "end": end,
            "unit": unit or "",
            "kind": kind,
            "total": len(rows),
            "totals": totals,
            "rows": rows,
        }

    def report_totals(
        self, actor: Actor, start: date, end: date, unit: str | None = None, kind: str = "den"
    ) -> dict[str, Any]:
        """The processing report (Phụ lục VI V.2, V.4) as figures only, for a kiểm toán viên
        (:attr:`Action.HANDLE_REPORT_TOTALS`): the same columns as :meth:`report`, counted over
        every document of the period the person is cleared for (:func:`counts_in_totals`), per
        owner unit; no document, title or trích yếu leaves this method. Audited."""
        self.repo.authorize(actor, Action.HANDLE_REPORT_TOTALS)
        rows = self.index.read(
            "SELECT record_id FROM docs WHERE kind = ? AND arrival >= ? AND arrival <= ?",
            (kind, start.isoformat(), end.isoformat()),
        )
        as_of = min(end, self.today())
        totals = dict.fromkeys(COLUMN_LABELS, 0)
        by_unit: dict[str, dict[str, int]] = {}
        principal = actor.as_principal
        for (record_id,) in rows:
            try:
                record = self.repo._load(record_id)
            except NotFound:
                continue
            facts = self.repo.facts(record)
            if not actor.system and not counts_in_totals(principal, facts):
                continue
            if unit and unit != facts.unit and unit not in record.grant_units:
                continue
            state = derive(record_id, self.steps(record_id))
            column = classify(state, as_of, self.calendar) if kind == "den" else _outgoing_column(state)
            totals[column] += 1
            counts = by_unit.setdefault(facts.unit, dict.fromkeys(COLUMN_LABELS, 0))
            counts[column] += 1
        total = sum(totals.values())
        if not actor.system:
            self.repo.audit.append(
                actor.user,
                "handling:report-totals",
                source=actor.source,
                details={
                    "kind": kind,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "unit": unit or "",
                    "total": total,
                },
            )
        return {
            "start": start,
            "end": end,
            "unit": unit or "",
            "kind": kind,
            "total": total,
            "totals": totals,
            "by_unit": {u: {"total": sum(c.values()), "totals": c} for u, c in sorted(by_unit.items())},
        }


COLUMN_LABELS = {
    "done_on_time": "Đã giải quyết đúng hạn",
    "done_late": "Đã giải quyết quá hạn",
    "open_in_time": "Chưa giải quyết, trong hạn",
    "open_overdue": "Chưa giải quyết, quá hạn",
    "file_only": "Để biết, lưu",
}


def tracking_row(record: Record, state: Handling, as_of: date, calendar: WorkCalendar) -> dict[str, Any]:
    """One row of the Sổ theo dõi giải quyết văn bản đến (7 columns, STANDARDS §1.5)."""
    md = record.metadata if isinstance(record.metadata, DocumentMetadata) else None
    issued = f"{md.issued_date:%d/%m/%Y}" if md and md.issued_date else ""
    progress = state.status_label
    if state.progress and state.status not in ("done", "file_only"):
        progress += f": {state.progress}"
    main = state.task(MAIN_TASK)
    if main and main.extensions:
        progress += f" (gia hạn {main.extensions} lần)"
    outgoing = "; ".join(f"{s.organ}: {s.code} {s.label}" for s in state.outgoing)
    return {
        "record_id": record.record_id,
        "number": record.registration.display_number if record.registration else "",
        "document": ", ".join(
            p
            for p in (
                md.type_name if md else "",
                md.so_ky_hieu if md else "",
                issued,
                md.organ_name if md else "",
            )
            if p
        ),
        "subject": md.subject if md else "",
        "receivers": ", ".join((*state.units, *(main.people if main else ()))),
        "deadline": f"{date.fromisoformat(state.deadline):%d/%m/%Y}" if state.deadline else "",
        "progress": progress if record.kind == "den" else (outgoing or "Chưa có trạng thái"),
        "answers": ", ".join(a[1] or a[0] for a in state.answers),
        "note": state.direction_note,
        "column": classify(state, as_of, calendar) if record.kind == "den" else _outgoing_column(state),
    }


def _outgoing_column(state: Handling) -> str:
    codes = {s.code for s in state.outgoing}
    if codes and codes <= {"06"}:
        return "done_on_time"
    return "open_in_time"
