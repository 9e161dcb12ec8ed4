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

from kho.errors import Conflict, KhoError
from kho.timeutil import to_iso_utc
from repository import formats
from repository.policy import Action, hold_placer_units
from repository.records import Actor, Repository
from repository.vocabulary import typed_text
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
        if not reason.strip():
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
        if not reason.strip():
            raise HoldError("Cần nêu lý do gỡ phong tỏa.", code="HOLD_REASON_REQUIRED")
        order = self.orders.latest(order_id)
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

    def list(self, *, actor: Actor, active_only: bool = False) -> list[dict[str, Any]]:
        self.repo.authorize(actor, Action.DISPOSAL_LIST)
        out = self.orders.all()
        return [o for o in out if o["state"] == "active" or not active_only]


def held_ids(orders: Iterable[dict[str, Any]]) -> set[str]:
    """Every record an active order holds (pure)."""
    return {t for o in orders if o["state"] == "active" for t in o["targets"]}
