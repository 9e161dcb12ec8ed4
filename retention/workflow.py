"""Workflow states as explicit, versioned records in the store (ARCHITECTURE invariant 10).

``retention/<area>/<id>/v<000001>``: every step writes the next version with one
create-if-absent, so two people acting at once cannot both win (the loser gets
``VERSION_CONFLICT``) and a crashed step leaves the previous version intact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kho.errors import AlreadyExists, Conflict, NotFound
from repository import formats
from repository.storage.base import ObjectStore

WORKFLOW_ID = re.compile(r"[0-9a-f]{16}")
"""The id of a workflow record (a destruction case, a hold order, a recall, a transfer)."""


def checked_id(value: str) -> str:
    """``value`` if it can name a workflow record, else :class:`NotFound` before any store
    request: an id of path characters or of 300 characters named a key the local store could
    not even look up (ENAMETOOLONG, an HTTP 500 on ``/retention/destructions/<id>`` once one
    case existed), and the pages passed the id as typed."""
    if not WORKFLOW_ID.fullmatch(value):
        raise NotFound("Mã không hợp lệ (16 chữ số thập lục phân).", code="NOT_FOUND", id=value[:40])
    return value


class Versions:
    """The versions of one kind of workflow record (``area``: ``destruction``, ``holds`` …)."""

    def __init__(self, store: ObjectStore, area: str, kind: str, label: str) -> None:
        self.store = store
        self.prefix = f"retention/{area}/"
        self.kind = kind
        self.label = label

    def _key(self, item_id: str, version: int) -> str:
        return f"{self.prefix}{item_id}/v{version:06d}"

    def latest(self, item_id: str) -> dict[str, Any]:
        keys = [i.key for i in self.store.list(f"{self.prefix}{checked_id(item_id)}/v")]
        if not keys:
            raise self.absent(item_id)
        return formats.loads(self.kind, self.store.get(sorted(keys)[-1]))

    def absent(self, item_id: str) -> NotFound:
        """The answer for an id that names no record of this kind (also for one whose subject
        the reader may not know of)."""
        return NotFound(f"Không tìm thấy {self.label} “{item_id}”.", code="NOT_FOUND", id=item_id)

    def write(self, item_id: str, body: Mapping[str, Any], *, expected: int) -> dict[str, Any]:
        """Write version ``expected + 1`` (``expected`` 0 creates the record)."""
        data = {**body, "version": expected + 1}
        raw = json.dumps(formats.stamp(self.kind, data), ensure_ascii=False, sort_keys=True).encode()
        try:
            self.store.put_if_absent(self._key(item_id, expected + 1), raw)
        except AlreadyExists as exc:
            raise Conflict(
                f"{self.label.capitalize()} “{item_id}” vừa được người khác cập nhật. Hãy tải lại.",
                id=item_id,
                version=expected + 1,
            ) from exc
        return formats.upcast(self.kind, data)

    def ids(self) -> Iterator[str]:
        seen: set[str] = set()
        for info in self.store.list(self.prefix):
            item_id = info.key[len(self.prefix) :].split("/", 1)[0]
            if item_id not in seen:
                seen.add(item_id)
                yield item_id

    def all(self) -> list[dict[str, Any]]:
        return [self.latest(i) for i in self.ids()]
