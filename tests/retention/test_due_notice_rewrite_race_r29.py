"""The rewrite of a format-1 ``retention:due`` notification (m7) removes the object with every
version, then writes it again. A notification sent to the same person in between is numbered by
the objects it sees (:meth:`AccountService._notify`): with the old one removed it took that
number, and the rewrite's ``put`` then replaced it — a new notification (here a fixity alert)
lost with no trace. The rewrite's write now refuses to replace what another writer put there and
files the rewritten notification under the next free number (r29, reviewing m7)."""

from __future__ import annotations

import json

import pytest
from kho_people import People

from repository.fsck import fsck
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def test_a_notification_sent_while_an_old_one_is_rewritten_is_not_lost(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    archivist = people.usernames["luu_tru"]
    key = f"notifications/{archivist}/000001.json"
    old = {
        "notification_id": "000001",
        "username": archivist,
        "at": "2026-02-05T01:00:00Z",
        "kind": "retention:due",
        "message": "Hồ sơ “Hồ sơ cũ 07.MAT” đã hết thời gian được giữ lại: phải nộp lưu ngay.",
        "actor": "system",
        "format_version": 1,
    }
    store = kho.repo.store
    store.put(key, json.dumps(old, ensure_ascii=False).encode())
    real_delete = store.delete
    sent: list[str] = []

    def delete(k: str) -> None:
        real_delete(k)
        if k == key and not sent:  # the alert of another process, between removal and rewrite
            sent.append(
                kho.accounts.notify(
                    archivist, "fixity", "Kiểm tra toàn vẹn: có phát hiện mới."
                ).notification_id
            )

    monkeypatch.setattr(store, "delete", delete)
    fsck(kho.repo, repair=True)
    monkeypatch.setattr(store, "delete", real_delete)
    assert sent == ["000001"]  # (it took the number of the removed notification)
    notes = kho.accounts.notifications(archivist)
    assert sorted(n.kind for n in notes) == ["fixity", "retention:due"], [n.message for n in notes]
    assert len({n.notification_id for n in notes}) == 2
    [due] = [n for n in notes if n.kind == "retention:due"]
    assert "07.MAT" not in due.message and due.message.endswith("phải nộp lưu ngay.")
    assert all(
        b"07.MAT" not in store.get(f"notifications/{archivist}/{n.notification_id}.json") for n in notes
    )
    assert list(store.list("staging/notifications/")) == []
