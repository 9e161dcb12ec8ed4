"""Legal hold (phong tỏa; Phụ lục VI IV.1.g): a hold order over records, hồ sơ or a query result.

An order is a versioned workflow record (``retention/holds/<order id>/v…``: placed, released)
naming its reason and targets; each target carries a marker the repository enforces on every
change and destruction, whoever asks (:meth:`repository.records.Repository.refuse_if_held`). On a
store with object lock the originals get the backend's legal hold too. Placing and releasing are
audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from kho.errors import Conflict, KhoError, NotFound
from kho.timeutil import to_iso_utc
from repository import formats
from repository.policy import Action, hold_placer_units
from repository.records import Actor, Repository, holds_open_in
from repository.vocabulary import blank, typed_text
from retention.workflow import Versions


class HoldError(KhoError):
    http_status = 422


class Holds:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.orders = Versions(repo.store, "holds", formats.HOLD_ORDER.name, "lệnh phong tỏa")

    def place(
        self, record_ids: Sequence[str], reason: str, *, actor: Actor, query: str | None = None
    ) -> dict[str, Any]:
        """Hold every record in ``record_ids`` (a record, a hồ sơ, or the ids of a query result,
        ``query`` kept for the record). Every target is authorised before any is held."""
        if blank(reason):
            raise HoldError("Cần nêu lý do phong tỏa.", code="HOLD_REASON_REQUIRED")
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            raise HoldError("Không có tài liệu nào để phong tỏa.", code="HOLD_EMPTY")
        for record_id in ids:  # all or nothing: refuse before the first marker is written
            self.repo.authorize(actor, Action.HOLD_PLACE, self.repo._load(record_id))
        order_id = uuid.uuid4().hex[:16]
        order = self.orders.write(
            order_id,
            {
                "order_id": order_id,
                "state": "active",
                "reason": typed_text(reason, "reason", "Lý do"),
                "query": query,
                "targets": ids,
                "placed_by": actor.user,
                "placed_by_units": sorted(hold_placer_units(actor.as_principal)),
                "placed_at": to_iso_utc(self.repo.clock()),
                "released_by": None,
                "released_at": None,
                "release_reason": None,
            },
            expected=0,
        )
        for record_id in ids:
            try:
                self.repo.place_hold(record_id, order_id, reason, actor=actor)
            except Conflict as exc:  # destroyed, or being destroyed: the order holds nothing
                self.release(order_id, f"Không phong tỏa được: {exc.message}", actor=actor)
                raise
        return order

    def release(self, order_id: str, reason: str, *, actor: Actor) -> dict[str, Any]:
        if blank(reason):
            raise HoldError("Cần nêu lý do gỡ phong tỏa.", code="HOLD_REASON_REQUIRED")
        try:
            order = self.orders.latest(order_id)
        except NotFound as lost:
            return self._release_lost_order(order_id, reason, actor=actor, lost=lost)
        if not self.shown(order, actor)["targets"]:  # as the list: an order of nothing they see
            raise self.orders.absent(order_id)
        for record_id in order["targets"]:  # all or nothing: refuse before the order changes
            self.repo.authorize_hold_release(
                actor,
                self.repo._load(record_id),
                placed_by=order["placed_by"],
                placer_units=order.get("placed_by_units"),
            )
        if order["state"] == "active":
            body = {
                **order,
                "state": "released",
                "released_by": actor.user,
                "released_at": to_iso_utc(self.repo.clock()),
                "release_reason": typed_text(reason, "reason", "Lý do"),
            }
            body.pop(formats.FORMAT_KEY, None)
            order = self.orders.write(order_id, body, expected=order["version"])
        for record_id in order["targets"]:  # a release interrupted midway is finished here
            self.repo.release_hold(record_id, order_id, actor=actor, reason=reason)
        return order

    def _release_lost_order(
        self, order_id: str, reason: str, *, actor: Actor, lost: NotFound
    ) -> dict[str, Any]:
        """The way out when the hold order itself is gone from the store (deleted by a hand in
        the store, with or without the records' hold objects; review m2): its targets are the
        records whose audit log has hold ``order_id`` placed and not released, and each is
        released by the same authority as any hold (the placer, from the hold object or the log,
        or a lãnh đạo of the agency; a recall freeze never), all or nothing, each release audited
        ``hold:release`` with ``order_missing``. No order is written again: what the lost order
        said is in the log (``hold:place``). Not found when the log has no such hold open."""
        targets = sorted(
            record_id
            for record_id, events in self.repo.audit.hold_placed_on(order_id).items()
            if order_id in holds_open_in(events)
        )
        if not any(self.repo.may_see_listed(actor, record_id) for record_id in targets):
            # None, or none the person may see: as rv14's answer for an order of records they
            # may not know of (the records' own refusal named them; review rv15).
            raise NotFound(
                f"Không tìm thấy lệnh phong tỏa “{order_id}”, và nhật ký kiểm toán không ghi lệnh"
                " phong tỏa nào mang mã này còn hiệu lực.",
                code="NOT_FOUND",
                id=order_id,
            ) from lost
        for record_id in targets:  # all or nothing: refuse before the first release is written
            self.repo.authorize_hold_release_of(record_id, order_id, actor=actor)
        why = typed_text(reason, "reason", "Lý do")
        for record_id in targets:
            self.repo.release_hold(record_id, order_id, actor=actor, reason=why, order_missing=True)
        return {
            "order_id": order_id,
            "state": "released",
            "order_missing": True,
            "targets": targets,
            "released_by": actor.user,
            "released_at": to_iso_utc(self.repo.clock()),
            "release_reason": why,
        }

    def list(self, *, actor: Actor, active_only: bool = False) -> list[dict[str, Any]]:
        """The hold orders as ``actor`` may see them (:meth:`shown`): an order that holds nothing
        they may see is not listed."""
        self.repo.authorize(actor, Action.DISPOSAL_LIST)
        seen: dict[str, bool] = {}
        out = [
            self.shown(o, actor, seen) for o in self.orders.all() if o["state"] == "active" or not active_only
        ]
        return [o for o in out if o["targets"]]

    def shown(
        self, order: dict[str, Any], actor: Actor, seen: dict[str, bool] | None = None
    ) -> dict[str, Any]:
        """``order`` with only the targets ``actor`` may see (:meth:`Repository.may_see_listed`),
        and, when it holds none of them, with its reason and query withheld too. Reading the list
        needs a role (:attr:`Action.DISPOSAL_LIST`), not sight of the records: a Thường lưu trữ
        viên, or a lãnh đạo of another phòng, got the id of every Mật record under hold, the
        count, and the reason it was held (the text of an investigation)."""
        if actor.system:
            return order
        seen = {} if seen is None else seen
        for record_id in order["targets"]:
            if record_id not in seen:
                seen[record_id] = self.repo.may_see_listed(actor, record_id)
        targets = [t for t in order["targets"] if seen[t]]
        if targets == order["targets"]:
            return order
        if not targets:
            return {**order, "targets": [], "reason": "", "query": None}
        return {**order, "targets": targets}


def held_ids(orders: Iterable[dict[str, Any]]) -> set[str]:
    """Every record an active order holds (pure)."""
    return {t for o in orders if o["state"] == "active" for t in o["targets"]}
