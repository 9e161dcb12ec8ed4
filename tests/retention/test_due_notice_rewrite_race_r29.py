"""The rewrite of a format-1 ``retention:due`` notification (m7) removes the object with every
version, then writes it again. A notification sent to the same person in between is numbered by
the objects it sees (:meth:`AccountService._notify`): with the old one removed it took that
number, and the rewrite's ``put`` then replaced it — a new notification (here a fixity alert)
lost with no trace. The rewrite's write now refuses to replace what another writer put there and
files the rewritten notification under the next free number (r29, reviewing m7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kho_people import People

from repository.fsck import fsck
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def test_a_notification_sent_while_an_old_one_is_rewritten_is_not_lost(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    archivist, key = _format_1_notice(kho, people, "Hồ sơ cũ 07.MAT")
    store = kho.repo.store
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


def test_a_stopped_rewrite_whose_number_was_taken_meanwhile_files_the_notice_anew(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the old notice was removed: a notification sent before the next repair takes
    its number. m7's resume saw a notice there without a title and dropped the staged copy: the
    old notice lost. It is now filed under the next free number."""
    archivist, key = _format_1_notice(kho, people, "Hồ sơ cũ 08.MAT")
    store = kho.repo.store
    real_put, real_put_if_absent = store.put, store.put_if_absent

    def killed(k: str, data: bytes) -> Any:
        if k == key:
            raise SystemExit("killed")
        return real_put(k, data)

    def killed_if_absent(k: str, data: bytes) -> Any:
        if k == key:
            raise SystemExit("killed")
        return real_put_if_absent(k, data)

    monkeypatch.setattr(store, "put", killed)
    monkeypatch.setattr(store, "put_if_absent", killed_if_absent)
    with pytest.raises(SystemExit):
        fsck(kho.repo, repair=True)
    monkeypatch.setattr(store, "put", real_put)
    monkeypatch.setattr(store, "put_if_absent", real_put_if_absent)
    assert (
        kho.accounts.notify(archivist, "fixity", "Kiểm tra toàn vẹn: có phát hiện mới.").notification_id
        == "000001"
    )
    fsck(kho.repo, repair=True)
    notes = kho.accounts.notifications(archivist)
    assert sorted(n.kind for n in notes) == ["fixity", "retention:due"], [n.message for n in notes]
    assert [n.notification_id for n in notes] == ["000001", "000002"]
    assert all("08.MAT" not in n.message for n in notes)
    assert list(store.list("staging/notifications/")) == []


def _format_1_notice(kho: Kho, people: People, title: str) -> tuple[str, str]:
    """A ``retention:due`` notification of format 1 (the title in plaintext), stored as number 1
    of the lưu trữ viên: (their name, its key)."""
    archivist = people.usernames["luu_tru"]
    key = f"notifications/{archivist}/000001.json"
    old = {
        "notification_id": "000001",
        "username": archivist,
        "at": "2026-02-05T01:00:00Z",
        "kind": "retention:due",
        "message": f"Hồ sơ “{title}” đã hết thời gian được giữ lại: phải nộp lưu ngay.",
        "actor": "system",
        "format_version": 1,
    }
    kho.repo.store.put(key, json.dumps(old, ensure_ascii=False).encode())
    return archivist, key
