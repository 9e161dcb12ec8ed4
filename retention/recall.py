"""Recall (thu hồi; NĐ 30/2020 Điều 18 k4, Phụ lục VI III.8).

* An **outgoing** document under a recall order is frozen with its metadata: a permanent hold of
  kind ``recall`` (no change, no hồ sơ edit, no grant, no destruction) and the recall record kept.
* An **incoming** document recalled by its issuer is destroyed (crypto-shredding, its derived data
  and index text removed, the dossier kept — the same path as :mod:`retention.destruction`), and
  the sender is notified: recorded as a ``recall:notify`` event until the exchange exists.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from kho.errors import Conflict, KhoError, LegalHold, NotFound, PermissionDenied
from kho.process import CLAIM_RUNNING, claim_age, claim_state, process_alive, this_host
from kho.timeutil import to_iso_utc
from repository import formats
from repository.audit import AuditEvent
from repository.policy import Action, RecordFacts, Role, can, roles_for
from repository.records import RECALL_KEY, Actor, Repository
from repository.vocabulary import Direction, TextKind, blank, nfc, typed_text
from retention.workflow import Versions

RECALL_DESTRUCTION = "hủy theo lệnh thu hồi"

WITHDRAW_REASON_MAX = TextKind.NOTE
"""Characters of the reason for withdrawing a recall order at most (:meth:`Recalls.withdraw`;
the record page's form takes its ``maxlength`` from here)."""
"""What a recall of a văn bản đến does, in its refusals (“không … được”)."""


FROZEN = "frozen"
"""The state of a finished recall of a văn bản đi: the document is marked with it and held by it
(u8 left it ``recorded``, the state of one under way, for ever)."""

WITHDRAWN = "withdrawn"
"""The state of a recall withdrawn before it was carried out (:meth:`Recalls.withdraw`, u10):
closed, nothing of it done, a new recall of the document may be made."""

RECALL_RUN_SECONDS = 600
"""How long a run of a recall (``run`` of its open version; of a văn bản đến since u7, đi since
u8) keeps another run out: far above the longest run (a web request is killed at 120 s; the
purge waits at most 90 s per index). One whose writer is known dead on this machine, or that
said it stopped (``run`` None), is taken over at once."""


class RecallError(KhoError):
    http_status = 422


class Recalls:
    def __init__(
        self, repo: Repository, backend: Any = None, forget: Callable[[Sequence[str]], None] | None = None
    ) -> None:
        self.repo = repo
        self.backend = backend
        self.forget = forget
        """As :attr:`retention.destruction.Destructions.forget`: the work index's rows of a
        document destroyed by a recall are dropped with it."""
        self.recalls = Versions(repo.store, "recalls", formats.RECALL.name, "lệnh thu hồi")

    def _start(
        self,
        record_id: str,
        order_ref: str,
        reason: str,
        actor: Actor,
        direction: str,
        recall_id: str | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        if blank(order_ref) or blank(reason):
            raise RecallError(
                "Cần số, ngày của văn bản thu hồi và lý do thu hồi.", code="RECALL_REF_REQUIRED"
            )
        record = self.repo._load(record_id)
        self.repo.authorize(actor, Action.RECORD_RECALL, record)
        if record.kind != direction:
            raise RecallError(
                "Văn bản không đúng loại cho thao tác thu hồi này.",
                code="RECALL_WRONG_DIRECTION",
                kind=record.kind,
            )
        recall_id = recall_id or uuid.uuid4().hex[:16]  # both callers pass a derived id
        body = {
            "recall_id": recall_id,
            "record_id": record_id,
            "direction": direction,
            "order_ref": typed_text(order_ref, "order_ref", "Căn cứ thu hồi", line_breaks=False),
            "reason": typed_text(reason, "reason", "Lý do thu hồi"),
            "by": actor.user,
            "at": to_iso_utc(self.repo.clock()),
            "state": "recorded",
            "run": self._run(),
        }
        return record, self.recalls.write(recall_id, body, expected=0)

    @staticmethod
    def _marked(recall: dict[str, Any]) -> dict[str, Any]:
        """What a recalled văn bản đi records of its recall (``extra.recall``)."""
        return {k: recall[k] for k in ("recall_id", "order_ref", "by", "at")}

    def mark_earlier(self, *, actor: Actor) -> list[str]:
        """Record on each văn bản đi recalled before recalls were recorded on the document (only
        frozen by their hold) the recall it is under, so that its recipients lose sight of it as
        they do of one recalled now (:meth:`recall_outgoing`). Kho's own operation (``kho archive
        recall-mark``): idempotent; returns the documents marked.

        It also gives each recall still ``recorded`` whose document is frozen by it its true
        state ``frozen`` (:meth:`_settle_old`)."""
        marked = []
        writer = Actor(user=actor.user, source=actor.source, system=True)
        for recall in self.recalls.all():
            if recall.get("direction") != Direction.DI.value or recall.get("state") == WITHDRAWN:
                continue  # a withdrawn recall never marks its document again
            record = self.repo._load(recall["record_id"])
            if record.state == "destroyed":
                continue
            if not record.extra.get(RECALL_KEY):
                record = self.repo.set_extra(
                    record.record_id, {RECALL_KEY: self._marked(recall)}, actor=writer,
                    action="record:recall", details=self._told(recall),
                )
                marked.append(record.record_id)
            self._settle_old(recall, record)
        return marked

    def _settle_old(self, recall: dict[str, Any], record: Any) -> None:
        """The true state of a văn bản đi's recall that froze it: ``frozen``. Recalls of the code
        before u8 (version 1, no run) and those finished by u8's code (which stayed
        ``recorded``, listed as under way for ever: review u9) whose document is frozen by them
        get their next version (``run`` None, ``state`` ``frozen``, nothing else changed): a new
        recall of any document reads every recall left at its first version
        (:meth:`_legacy_open`), one GET each (u8 measured 208 GETs with 200 of them; review rv8).
        A recall with a run is one under way or left by a run that died: the next click takes it
        over, it is left as it is; so is one whose document is not frozen by it (the next click
        finishes it: :meth:`_legacy_open`)."""
        if recall.get("run") is not None or recall.get("state") != "recorded":
            return
        if self._frozen_by_recall(record) != recall["recall_id"]:
            return
        try:
            self._next(recall, run=None, state=FROZEN)
        except Conflict:  # written meanwhile by a click on the document: nothing to settle
            pass

    def recall_outgoing(self, record_id: str, order_ref: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        """Freeze an outgoing document under a recall order (kept with the recall). The
        document records the recall (``extra.recall``): its issuing side and the archive keep it
        with that state shown, those it was sent to lose sight of it, search included
        (:func:`repository.policy.sees`).

        As a recall of a văn bản đến (u7): the recall's id is derived from the record and its
        rank, so two clicks at once compute one id and only one creates it (the other:
        ``VERSION_CONFLICT``); a run names itself in ``run`` while it marks the document and
        places the hold, so a click meanwhile is refused with ``RECALL_IN_PROGRESS``; a run that
        did not finish (killed, a store error) is taken over and finished by the next click of
        the same order (another order: ``RECALL_OTHER_ORDER``), and a document already frozen by
        its recall (marked and held) is refused with ``RECALL_ALREADY_DONE``; each refusal names
        the first recall (id, state, order). Before, each click wrote a new recall with a random
        id and a second hold. A finished recall of a văn bản đi is ``frozen`` (u8 left it
        ``recorded``, the state of one under way)."""
        record = self.repo._load(record_id)
        self.repo.authorize(actor, Action.RECORD_RECALL, record)
        if blank(order_ref) or blank(reason):
            raise RecallError(
                "Cần số, ngày của văn bản thu hồi và lý do thu hồi.", code="RECALL_REF_REQUIRED"
            )
        earlier, open_ = self._of_record(record_id, open_states=("recorded",))
        # Read after the recalls: a run that finished before this read finished before it too.
        record = self.repo._load(record_id)
        frozen_by = self._frozen_by_recall(record)
        if frozen_by is not None:
            raise self._already_done(
                "Văn bản đã bị đóng băng theo một lệnh thu hồi trước đó; không thu hồi lại.",
                record_id,
                {**found, "state": FROZEN} if (found := self._latest_or_none(frozen_by)) else None,
            )
        if open_ is not None and open_.get("direction") == Direction.DI.value:
            recall = self._take_over(open_, order_ref, reason)
        else:
            record, recall = self._start(
                record_id, order_ref, reason, actor, Direction.DI.value, self._recall_id(record_id, earlier)
            )
        try:
            writer = Actor(user=actor.user, source=actor.source, system=True)  # decided: RECORD_RECALL
            marked = (record.extra.get(RECALL_KEY) or {}).get("recall_id")
            if marked != recall["recall_id"]:
                self.repo.set_extra(
                    record.record_id, {RECALL_KEY: self._marked(recall)}, actor=writer,
                    action="record:recall", details=self._told(recall),
                )
            self.repo.place_hold(  # idempotent per hold id: a run taking over writes no second one
                record.record_id,
                self._hold_id(recall),
                f"Thu hồi: {recall['order_ref']}",
                actor=actor,
                kind="recall",
                authorize=Action.RECORD_RECALL,
            )
        except BaseException:
            self._release(recall)
            raise
        return self._next(recall, run=None, state=FROZEN)  # finished: nobody holds it

    def withdraw(self, record_id: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        """Withdraw the document's unfinished recall (``recorded``: its run stopped by an error or
        killed, or an order entered by mistake), so that a new one can be made: before u10 it
        could only be finished by its own order (``RECALL_OTHER_ORDER`` for any other), never
        replaced. Only the person who started it, or a lãnh đạo, may (``RECALL_WITHDRAW_NOT_ALLOWED``,
        audited ``access:denied``); a reason is required. A recall carried out, even in part, stays
        as it is (``RECALL_ALREADY_DONE``): a văn bản đi frozen by it (marked and held), a văn
        bản đến whose key is gone; one being run now is refused (``RECALL_IN_PROGRESS``); with
        none open, ``RECALL_NOT_OPEN``. Nothing is written before a refusal.

        The recall is taken as a run takes it over (its next version, ``run`` this process: of a
        withdrawal and a run at once, one gets ``VERSION_CONFLICT``); a văn bản đi's mark of this
        recall, if a stopped run wrote it, is taken off (its recipients see it again); the
        ``recall:withdraw`` event is appended; then the version ``withdrawn`` (with who, when,
        why). A withdrawal killed before its last version leaves the recall open with a dead run:
        withdrawn again, it finds its event and does not write a second one."""
        record = self.repo._load(record_id)
        self.repo.authorize(actor, Action.RECORD_RECALL, record)
        _earlier, open_, last = self._recalls_of(record_id)
        if open_ is None:
            if last is not None and last.get("state") in (FROZEN, "destroyed"):
                raise self._already_done(
                    "Lệnh thu hồi đã được thực hiện xong; không rút lại được.", record_id, last
                )
            raise Conflict(
                "Văn bản không có lệnh thu hồi nào đang dở để rút lại.",
                code="RECALL_NOT_OPEN",
                record_id=record_id,
            )
        if not self._may_withdraw(actor, record, open_):
            self.repo.audit.append(
                actor.user,
                "access:denied",
                record_id=record_id,
                source=actor.source,
                details={"action": "recall:withdraw", "code": "RECALL_WITHDRAW_NOT_ALLOWED",
                         "recall_id": open_["recall_id"]},
            )
            raise PermissionDenied(
                "Chỉ người đã ghi lệnh thu hồi này hoặc lãnh đạo mới được rút lại lệnh.",
                code="RECALL_WITHDRAW_NOT_ALLOWED",
                **self._named(open_),
            )
        why = typed_text(reason, "reason", "Lý do rút lại lệnh thu hồi", kind=WITHDRAW_REASON_MAX)
        if blank(why):
            raise RecallError("Cần ghi lý do rút lại lệnh thu hồi.", code="RECALL_REF_REQUIRED")
        if self._running(open_):
            raise Conflict(
                "Lệnh thu hồi văn bản này đang được thực hiện "
                f"(mã {open_['recall_id']}, căn cứ: {open_['order_ref']}); chưa rút lại được. "
                "Hãy tải lại sau ít phút.",
                code="RECALL_IN_PROGRESS",
                **self._named(open_),
            )
        done = (
            self._frozen_by_recall(record) == open_["recall_id"]
            if open_.get("direction") == Direction.DI.value
            else record.state == "destroyed" or not self.repo.keys.exists(record_id)
        )
        if done:
            raise self._already_done(
                "Lệnh thu hồi đã được thực hiện (văn bản đã bị đóng băng hoặc đã hủy); không rút lại"
                " được. Hãy thực hiện lại đúng lệnh đó để hoàn tất.",
                record_id,
                open_,
            )
        recall = self._next(open_, run=self._run())  # taken: a run clicked now is refused
        try:
            if (record.extra.get(RECALL_KEY) or {}).get("recall_id") == recall["recall_id"]:
                writer = Actor(user=actor.user, source=actor.source, system=True)  # decided above
                self.repo.set_extra(
                    record_id, {RECALL_KEY: None}, actor=writer, action="record:recall-withdraw",
                    details=self._told(recall),
                )
            recorded = self._event(record_id, "recall:withdraw", recall)
            if recorded is None:
                self.repo.audit.append(
                    actor.user,
                    "recall:withdraw",
                    record_id=record_id,
                    source=actor.source,
                    details={
                        "recall_id": recall["recall_id"], "order_ref": recall["order_ref"], "reason": why,
                    },
                )
        except BaseException:
            self._release(recall)
            raise
        now = to_iso_utc(self.repo.clock())
        if recorded is None:
            return self._next(
                recall, state=WITHDRAWN, run=None, withdrawn={"by": actor.user, "at": now, "reason": why}
            )
        # A withdrawal killed after its event (u11): the version says the withdrawal the trail
        # records (who, when, why), and who finished it; no second event.
        return self._next(
            recall,
            state=WITHDRAWN,
            run=None,
            withdrawn={
                "by": recorded.actor,
                "at": recorded.at,
                "reason": (recorded.details or {}).get("reason"),
            },
            finished_by={"by": actor.user, "at": now},
        )

    def _may_withdraw(self, actor: Actor, record: Any, open_: dict[str, Any]) -> bool:
        """Whether ``actor`` may withdraw ``open_`` (once ``RECORD_RECALL`` on the record is theirs):
        the person who started it, or a lãnh đạo of the document's own unit (or one above it), as
        for every decision over a record: any lãnh đạo role (of another unit, held beside the văn
        thư role that let the person recall it) was taken before review rv13."""
        leads = Role.LANH_DAO in roles_for(actor.as_principal, Action.RECORD_RECALL, self.repo.facts(record))
        return actor.user == open_.get("by") or leads

    def withdrawable(
        self, record: Any, *, actor: Actor, facts: RecordFacts | None = None
    ) -> dict[str, Any] | None:
        """The document's open recall when ``actor`` may withdraw it (:meth:`withdraw`'s rule), else
        None: what the record page offers to withdraw (u11). A read only: nothing is audited here,
        the withdrawal itself is checked and audited again by :meth:`withdraw`. Asks the store only
        when the person may recall the document at all (a văn thư or lãnh đạo over it); ``facts``:
        the record's, when the caller has read them already."""
        if not can(actor.as_principal, Action.RECORD_RECALL, facts or self.repo.facts(record)):
            return None
        _earlier, open_, _last = self._recalls_of(record.record_id)
        if open_ is None or not self._may_withdraw(actor, record, open_):
            return None
        return open_

    def _has_event(self, record_id: str, action: str, recall: dict[str, Any]) -> bool:
        """Whether the record's audit trail already holds ``action`` for this recall (a run that
        took a recall over writes each of its events once)."""
        return self._event(record_id, action, recall) is not None

    def _event(self, record_id: str, action: str, recall: dict[str, Any]) -> AuditEvent | None:
        """The record's first ``action`` event for this recall, or None."""
        return next(
            (
                e
                for e in self.repo.audit.record_events(record_id, trusted_only=True)
                if e.action == action and (e.details or {}).get("recall_id") == recall["recall_id"]
            ),
            None,
        )

    @staticmethod
    def _told(recall: dict[str, Any]) -> dict[str, Any]:
        """What the audit event of a document's recall mark names (review rv13: the event said
        only ``keys: [recall]``, so a trail of two recalls, each withdrawn, did not tell which
        order was marked and unmarked)."""
        return {"recall_id": recall["recall_id"], "order_ref": recall["order_ref"]}

    @staticmethod
    def _hold_id(recall: dict[str, Any]) -> str:
        return f"recall-{recall['recall_id']}"

    def _frozen_by_recall(self, record: Any) -> str | None:
        """The id of the recall a văn bản đi is frozen by (marked with it and its hold placed),
        or None: a run that did not get that far left it to be finished."""
        recall_id = (record.extra.get(RECALL_KEY) or {}).get("recall_id")
        if not isinstance(recall_id, str):
            return None
        held = {h.get("hold_id") for h in self.repo.holds_on(record.record_id)}
        return recall_id if f"recall-{recall_id}" in held else None

    def _of_record(
        self, record_id: str, open_states: tuple[str, ...] = ("recorded",)
    ) -> tuple[int, dict[str, Any] | None]:
        earlier, open_, _last = self._recalls_of(record_id, open_states)
        return earlier, open_

    def _recalls_of(
        self, record_id: str, open_states: tuple[str, ...] = ("recorded",)
    ) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None]:
        """How many recalls ``record_id`` has had under derived ids (:meth:`_recall_id`), and its
        open one (state in ``open_states``, the last such): left by a run that did not finish
        (its purge ran out of time, the process died). One LIST per recall of the record and one
        GET per found, not a read of every recall kept (2 calls per recall of the agency). With
        none open, a recall of the record written before ids were derived and left open is
        looked for (:meth:`_legacy_open`)."""
        earlier, open_, last = 0, None, None
        while True:
            try:
                recall = self.recalls.latest(self._recall_id(record_id, earlier))
            except NotFound:
                break
            if recall.get("state") in open_states:
                open_ = recall
            last = recall
            earlier += 1
        if open_ is None:
            open_ = self._legacy_open(record_id, earlier)
        return earlier, open_, last

    def _legacy_open(self, record_id: str, derived: int) -> dict[str, Any] | None:
        """A recall of ``record_id`` with a random id (written before u7 for a văn bản đến, u8
        for a văn bản đi) still ``recorded`` at its first version: the old code wrote nothing
        after it unless the run finished (a destroyed or refused version 2). One LIST of the
        recalls' keys, then a GET only for a recall whose last version is its first and whose id
        is not one of this record's derived ones: old open recalls, and runs under way now."""
        ours = {self._recall_id(record_id, n) for n in range(derived + 1)}
        last: dict[str, str] = {}
        for info in self.recalls.store.list(self.recalls.prefix):
            recall_id = info.key[len(self.recalls.prefix) :].split("/", 1)[0]
            if info.key > last.get(recall_id, ""):
                last[recall_id] = info.key
        for recall_id, key in sorted(last.items()):
            if recall_id in ours or not key.endswith("/v000001"):
                continue
            recall = formats.loads(self.recalls.kind, self.recalls.store.get(key))
            if recall.get("record_id") == record_id and recall.get("state") == "recorded":
                return recall
        return None

    def _run(self) -> dict[str, Any]:
        """Who is running a recall of a văn bản đến now (this process, as a claim names it)."""
        return {"at": to_iso_utc(self.repo.clock()), "host": this_host(), "pid": os.getpid()}

    def _take_over(self, open_: dict[str, Any], order_ref: str, reason: str) -> dict[str, Any]:
        """The record's open recall, taken by this run to finish it: refused with
        ``RECALL_IN_PROGRESS`` while another run may still be going on, and with
        ``RECALL_OTHER_ORDER`` when this click carries another order or reason (before, the first
        order was finished silently and the second recorded nowhere: review rv7, u9); of two
        clicks at once one writes the next version and the other gets ``VERSION_CONFLICT``.
        Nothing is written before a refusal."""
        if self._running(open_):
            raise Conflict(
                "Lệnh thu hồi văn bản này đang được thực hiện "
                f"(mã {open_['recall_id']}, căn cứ: {open_['order_ref']}). Hãy tải lại sau ít phút.",
                code="RECALL_IN_PROGRESS",
                **self._named(open_),
            )
        if self._has_event(open_["record_id"], "recall:withdraw", open_):
            # A withdrawal killed after its event (u11): decided and in the trail, so no run may
            # carry the order out now (before, a click did, leaving the trail "withdrawn" then
            # "carried out"); a withdrawal again finishes it.
            raise Conflict(
                f"Lệnh thu hồi này (mã {open_['recall_id']}, căn cứ: {open_['order_ref']}) đã được rút"
                " lại nhưng việc rút lại chưa ghi xong. Hãy rút lại lệnh một lần nữa để hoàn tất, rồi"
                " ghi lệnh thu hồi mới nếu cần.",
                code="RECALL_WITHDRAWN",
                **self._named(open_),
            )
        # The stored texts by the same rule (NFC, stripped): before a9ee1eb they were stored as
        # typed, and an old unfinished recall could never be finished by its own order (rv9).
        same = (
            typed_text(order_ref, "order_ref", "Căn cứ thu hồi", line_breaks=False)
            == nfc(str(open_.get("order_ref") or "")).strip()
            and typed_text(reason, "reason", "Lý do thu hồi") == nfc(str(open_.get("reason") or "")).strip()
        )
        if not same:
            raise Conflict(
                "Văn bản đang có một lệnh thu hồi khác chưa thực hiện xong "
                f"(mã {open_['recall_id']}, căn cứ: {open_['order_ref']}, trạng thái: đang thực hiện). "
                "Hãy thực hiện lại thu hồi theo đúng căn cứ và lý do đó; lệnh mới chưa được ghi nhận.",
                code="RECALL_OTHER_ORDER",
                **self._named(open_),
            )
        return self._next(open_, run=self._run())

    @staticmethod
    def _named(recall: dict[str, Any]) -> dict[str, Any]:
        """What a refusal tells of the record's first recall: its id, state and order."""
        return {
            "record_id": recall["record_id"],
            "recall_id": recall["recall_id"],
            "state": recall.get("state"),
            "order_ref": recall.get("order_ref"),
        }

    def _already_done(self, message: str, record_id: str, recall: dict[str, Any] | None) -> Conflict:
        """``RECALL_ALREADY_DONE`` naming the recall that did it (when Kho has it)."""
        named = self._named(recall) if recall is not None else {"record_id": record_id}
        if recall is not None:
            message = f"{message} (Mã lệnh {recall['recall_id']}, căn cứ: {recall.get('order_ref')}.)"
        return Conflict(message, code="RECALL_ALREADY_DONE", **named)

    def _latest_or_none(self, recall_id: str) -> dict[str, Any] | None:
        try:
            return self.recalls.latest(recall_id)
        except NotFound:
            return None

    def _running(self, recall: dict[str, Any]) -> bool:
        """May another run of the open ``recall`` still be going on (:data:`RECALL_RUN_SECONDS`)?"""
        run = recall.get("run")
        if not isinstance(run, dict):
            return False  # released by a run that stopped on an error, or written before u7
        age = claim_age(run, self.repo.clock())
        if age is None or age > RECALL_RUN_SECONDS:
            return False
        state = claim_state(
            run, done=False, age_seconds=age, here=this_host(), alive=process_alive,
            grace_seconds=RECALL_RUN_SECONDS,
        )
        return state == CLAIM_RUNNING

    @staticmethod
    def _recall_id(record_id: str, earlier: int) -> str:
        """The id of the ``earlier + 1``-th recall of ``record_id`` (a văn bản đến or đi): the
        same for two clicks at once, so that only one of them can create it
        (:meth:`Versions.write`, ``expected=0``)."""
        return hashlib.sha256(f"recall\0{record_id}\0{earlier}".encode()).hexdigest()[:16]

    def recall_incoming(self, record_id: str, order_ref: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        """Destroy an incoming document its issuer recalled, keep the recall, notify the sender.

        Run again after a run that did not finish (SEARCH_INDEX_UNAVAILABLE from the index purge,
        a process killed), it finishes the record's open recall instead of writing another one,
        which stayed ``recorded`` for ever beside the new ``destroyed`` one (review rv6). Each run
        takes the recall by writing its next version (create-if-absent), so of two clicks at once
        one goes on and the other is refused with ``VERSION_CONFLICT`` before it destroys
        anything; a recall already finished is refused with ``RECALL_ALREADY_DONE``. The notice
        is recorded before the ``destroyed`` version, and not again by a run that takes the
        recall over and finds it: one notice, also after a run killed between the two."""
        record = self.repo._load(record_id)
        self.repo.authorize(actor, Action.RECORD_RECALL, record)
        self.repo.refuse_if_in_archive(record, RECALL_DESTRUCTION)  # nothing written
        earlier, open_, last = self._recalls_of(record_id)
        if open_ is not None:
            if blank(order_ref) or blank(reason):
                raise RecallError(
                    "Cần số, ngày của văn bản thu hồi và lý do thu hồi.", code="RECALL_REF_REQUIRED"
                )
            recall = self._take_over(open_, order_ref, reason)
        elif record.state == "destroyed":
            raise self._already_done(
                "Văn bản đã được hủy theo lệnh thu hồi hoặc quyết định hủy trước đó; không thu hồi lại.",
                record_id,
                last if last is not None and last.get("state") == "destroyed" else None,
            )
        else:
            recall_id = self._recall_id(record_id, earlier)
            record, recall = self._start(record_id, order_ref, reason, actor, Direction.DEN.value, recall_id)
        try:
            shredder = Actor(user=actor.user, source=actor.source, system=True)
            # Shredded by a run before: its "đã hủy" row written and its key gone from the store
            # (not record.state: a process that had the key cached still opens the old version),
            # and audited: a run killed between the key's deletion and its ``record:destroy``
            # event is finished by destroy() again, which writes the event (review rv7).
            if (
                self.repo.keys.exists(record_id)
                or self.repo.destroyed(record_id) is None
                or not any(
                    e.action == "record:destroy"
                    for e in self.repo.audit.record_events(record_id, trusted_only=True)
                )
            ):
                try:
                    self.repo.refuse_if_held(record, "destroy")
                    self.repo.destroy(
                        record_id,
                        decision=f"Thu hồi theo {recall['order_ref']}",
                        actor=shredder,
                        outside_archive=RECALL_DESTRUCTION,  # a nộp lưu racing it: one sees the other
                    )
                except (Conflict, LegalHold) as refused:  # refused before anything was shredded
                    self._refused(recall, refused, actor)
                    raise
            for info in list(self.repo.store.list(f"records/{record_id}/derived/")):
                self.repo.store.delete(info.key)
            if self.backend is not None:
                from ingest.indexing import to_index_document

                tombstone = self.repo.destroyed(record_id)
                if tombstone is not None:
                    self.backend.index([to_index_document(self.repo, tombstone, holders=[])])
                self.backend.purge_deleted()
            if self.forget is not None:
                self.forget([record_id])
            md = record.metadata
            sender = getattr(md, "organ_id", None) or getattr(md, "organ_name", "")
        except BaseException:
            self._release(recall)
            raise
        # The notice before the ``destroyed`` version: a run killed between the two (the old
        # order) left the recall destroyed and the sender never told, the next click answered
        # RECALL_ALREADY_DONE (review rv7). A run that took the recall over looks for its notice
        # in the record's events first (only then: a new recall has none), so it is written once.
        if open_ is None or not self._has_event(record_id, "recall:notify", recall):
            self.repo.audit.append(
                actor.user,
                "recall:notify",
                record_id=record_id,
                source=actor.source,
                details={
                    "recall_id": recall["recall_id"],
                    "to": sender,
                    "order_ref": recall["order_ref"],
                    "channel": "recorded",
                },
            )
        return self._next(recall, state="destroyed", notified=sender, run=None)

    def _release(self, recall: dict[str, Any]) -> None:
        """Say that this run of ``recall`` stopped (an error: the index purge ran out of time, the
        store failed) so that the next run takes it over at once, best effort: closed already
        (refused) or unwritable, the recall stays as it is (then :data:`RECALL_RUN_SECONDS`)."""
        try:
            latest = self.recalls.latest(recall["recall_id"])
            if latest["version"] == recall["version"] and latest.get("state") == "recorded":
                self._next(latest, run=None)
        except Exception:  # the error being raised is the one to answer with
            pass

    def _refused(self, recall: dict[str, Any], refused: KhoError, actor: Actor) -> None:
        """Close a recall whose destruction was refused (a hold, a nộp lưu of its hồ sơ): the
        recall record ``refused``, a ``recall:refused`` event naming the refusal's code. A11 left
        it ``recorded`` with no event: listed as under way for ever, the refusal written nowhere
        (review r32). The order stays kept; a new recall can be made once the refusal is gone."""
        self.repo.audit.append(
            actor.user,
            "recall:refused",
            record_id=recall["record_id"],
            source=actor.source,
            details={
                "recall_id": recall["recall_id"],
                "order_ref": recall["order_ref"],
                "code": refused.code,
            },
        )
        self._next(recall, state="refused")

    def _next(self, recall: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Write the recall's next version with ``changes``."""
        body = {**recall, **changes}
        body.pop(formats.FORMAT_KEY, None)
        return self.recalls.write(recall["recall_id"], body, expected=recall["version"])

    def list(self, *, actor: Actor) -> list[dict[str, Any]]:
        """The recalls of the records ``actor`` may see (:meth:`Repository.may_see_listed`, the one
        policy; a destroyed document by its "đã hủy" row). Reading the list needs a role
        (:attr:`Action.DISPOSAL_LIST`), not sight of the records: every recall, with the id of
        its document, the số of the order and its reason, went to any lưu trữ viên or lãnh đạo
        of any unit and clearance (rv14), before a route served it."""
        self.repo.authorize(actor, Action.DISPOSAL_LIST)
        seen: dict[str, bool] = {}
        out = []
        for recall in self.recalls.all():
            record_id = recall["record_id"]
            if record_id not in seen:
                seen[record_id] = self.repo.may_see_listed(actor, record_id)
            if seen[record_id]:
                out.append(recall)
        return out
