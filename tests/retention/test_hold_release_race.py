"""Releasing one hold while another is placed on the same record, on S3 with object lock
(review a6).

``release_hold`` deleted its marker, saw no other marker, then lifted the gateway's legal hold on
the originals. A second hold placed in between wrote its marker and set the gateway's legal hold,
and the release's lift came after it: the record stood under an active hold (Kho refuses its
changes) with its originals no longer under the gateway's legal hold, so whoever holds the store
credential could delete them (the protection the object lock exists for). Now the release looks
again after lifting, and sets the gateway's hold back when a marker is there.

Deterministic: the second hold is placed from the release's own call to lift the gateway hold."""

from __future__ import annotations

from typing import Any

import pytest
from kho_people import People
from kho_retention import closed_file

from repository.records import content_key
from retention.holds import Holds
from web.context import Kho


@pytest.mark.parametrize("kho", ["s3-locked"], indirect=True)
def test_a_hold_placed_while_another_is_released_keeps_the_originals_under_the_gateways_hold(
    kho: Kho, people: People
) -> None:
    _, docs = closed_file(kho, people, docs=1)
    record = kho.repo._load(docs[0])
    original = content_key(record.record_id, record.files[0].sha256)
    holds = Holds(kho.repo)
    first = holds.place([docs[0]], "Thanh tra lần 1", actor=people.actor("lanh_dao"))
    store = kho.repo.store
    real = store.set_legal_hold
    second: list[dict[str, Any]] = []

    def hooked(key: str, on: bool) -> None:
        if not on and not second:  # the release is lifting the gateway's hold
            second.append(holds.place([docs[0]], "Điều tra lần 2", actor=people.actor("lanh_dao")))
        real(key, on)

    store.set_legal_hold = hooked  # type: ignore[method-assign]
    holds.release(first["order_id"], "Kết thúc thanh tra lần 1", actor=people.actor("lanh_dao"))
    assert second and [h["hold_id"] for h in kho.repo.holds_on(docs[0])] == [second[0]["order_id"]]
    assert store.get_legal_hold(original) is True  # before: False, under an active hold
