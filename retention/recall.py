"""Recall (thu hồi; NĐ 30/2020 Điều 18 k4, Phụ lục VI III.8).

* An **outgoing** document under a recall order is frozen with its metadata: a permanent hold of
  kind ``recall`` (no change, no hồ sơ edit, no grant, no destruction) and the recall record kept.
* An **incoming** document recalled by its issuer is destroyed (crypto-shredding, its derived data
  and index text removed, the dossier kept — the same path as :mod:`retention.destruction`), and
  the sender is notified: recorded as a ``recall:notify`` event until the exchange exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from kho.errors import Conflict, KhoError, LegalHold
from kho.timeutil import to_iso_utc
from repository import formats
from repository.policy import Action
from repository.records import RECALL_KEY, Actor, Repository
from repository.vocabulary import Direction, typed_text
from retention.workflow import Versions

RECALL_DESTRUCTION = "hủy theo lệnh thu hồi"
"""What a recall of a văn bản đến does, in its refusals (“không … được”)."""


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
        self, record_id: str, order_ref: str, reason: str, actor: Actor, direction: str
    ) -> tuple[Any, dict[str, Any]]:
        if not order_ref.strip() or not reason.strip():
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
        recall_id = uuid.uuid4().hex[:16]
        body = {
            "recall_id": recall_id,
            "record_id": record_id,
            "direction": direction,
            "order_ref": typed_text(order_ref, "order_ref", "Căn cứ thu hồi", line_breaks=False),
            "reason": typed_text(reason, "reason", "Lý do thu hồi"),
            "by": actor.user,
            "at": to_iso_utc(self.repo.clock()),
            "state": "recorded",
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
        recall-mark``): idempotent; returns the documents marked."""
        marked = []
        writer = Actor(user=actor.user, source=actor.source, system=True)
        for recall in self.recalls.all():
            if recall.get("direction") != Direction.DI.value:
                continue
            record = self.repo._load(recall["record_id"])
            if record.state == "destroyed" or record.extra.get(RECALL_KEY):
                continue
            self.repo.set_extra(
                record.record_id, {RECALL_KEY: self._marked(recall)}, actor=writer, action="record:recall"
            )
            marked.append(record.record_id)
        return marked

    def recall_outgoing(self, record_id: str, order_ref: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        """Freeze an outgoing document under a recall order (kept with the recall). The
        document records the recall (``extra.recall``): its issuing side and the archive keep it
        with that state shown, those it was sent to lose sight of it, search included
        (:func:`repository.policy.sees`)."""
        record, recall = self._start(record_id, order_ref, reason, actor, Direction.DI.value)
        writer = Actor(user=actor.user, source=actor.source, system=True)  # decided: RECORD_RECALL
        self.repo.set_extra(
            record.record_id, {RECALL_KEY: self._marked(recall)}, actor=writer, action="record:recall"
        )
        self.repo.place_hold(
            record.record_id,
            f"recall-{recall['recall_id']}",
            f"Thu hồi: {recall['order_ref']}",
            actor=actor,
            kind="recall",
            authorize=Action.RECORD_RECALL,
        )
        return recall

    def recall_incoming(self, record_id: str, order_ref: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        """Destroy an incoming document its issuer recalled, keep the recall, notify the sender."""
        record = self.repo._load(record_id)
        self.repo.authorize(actor, Action.RECORD_RECALL, record)
        self.repo.refuse_if_in_archive(record, RECALL_DESTRUCTION)  # nothing written
        record, recall = self._start(record_id, order_ref, reason, actor, Direction.DEN.value)
        shredder = Actor(user=actor.user, source=actor.source, system=True)
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
        return self._next(recall, state="destroyed", notified=sender)

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
        self.repo.authorize(actor, Action.DISPOSAL_LIST)
        return self.recalls.all()
