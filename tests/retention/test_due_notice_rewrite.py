"""``retention:due`` notifications written before m5 (format 1) keep a hồ sơ's title in
plaintext; ``kho fsck`` reports each and ``kho fsck --repair`` rewrites it into format 2 (the hồ
sơ by reference), removing the old object versions, audited and resumable (m7; m5 left it open)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.timeutil import parse_iso
from repository.fsck import fsck
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _old_notice(kho: Kho, username: str, seq: int, message: str) -> str:
    """A notification as the code before m5 stored it (format 1, the title in the message)."""
    key = f"notifications/{username}/{seq:06d}.json"
    data = {
        "notification_id": f"{seq:06d}",
        "username": username,
        "at": "2026-02-05T01:00:00Z",
        "kind": "retention:due",
        "message": message,
        "actor": "system",
        "format_version": 1,
    }
    kho.repo.store.put(key, json.dumps(data, ensure_ascii=False).encode())
    return key


def _stored_bytes(kho: Kho, key: str) -> list[bytes]:
    store = kho.repo.store
    return [store.get(key, v.version_id) for v in store.list_versions(key)] or [store.get(key)]


def test_old_due_notices_are_reported_and_rewritten_without_their_title(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, docs=1)
    title = kho.repo._load(file.record_id).metadata.title
    kho.repo.store.put(f"retention/alerts/{file.record_id}/overdue-2026-01-31.json", b'{"sent": true}')
    archivist = people.usernames["luu_tru"]
    found = _old_notice(kho, archivist, 1, f"Hồ sơ “{title}” đã quá hạn nộp lưu 5 ngày (hạn 31/01/2026).")
    orphan = _old_notice(
        kho, archivist, 2, "Hồ sơ “Hồ sơ đã xóa 03.BIMAT” đến hạn nộp lưu ngày 28/02/2026 (còn 20 ngày)."
    )
    secrets = ((found, title.encode()), (orphan, b"03.BIMAT"))
    for key, secret in secrets:  # before: the titles sit in the store
        assert any(secret in raw for raw in _stored_bytes(kho, key)), key

    issues = [i for i in fsck(kho.repo).issues if i.kind == "notice-plaintext"]
    assert sorted(i.subject for i in issues) == [found, orphan] and all(i.repairable for i in issues)
    repaired = [i for i in fsck(kho.repo, repair=True).issues if i.kind == "notice-plaintext"]
    assert all(i.repaired for i in repaired) and len(repaired) == 2

    for key, secret in ((found, title.encode()), (orphan, b"03.BIMAT")):
        assert not any(secret in raw for raw in _stored_bytes(kho, key)), key  # no version keeps it
    first, second = kho.accounts.notifications(archivist)
    assert first.record_id == file.record_id and "{hồ sơ}" in first.message
    assert first.message.endswith("đã quá hạn nộp lưu 5 ngày (hạn 31/01/2026).")
    assert first.at == parse_iso("2026-02-05T01:00:00Z")
    assert second.record_id is None and "không còn lưu trong thông báo cũ" in second.message
    shown = kho.notifications(people.actor("luu_tru"))[0]
    assert f"“{title}”" in shown.message  # the lưu trữ viên who may see it still reads the title

    [event] = [e for e in kho.repo.audit.events() if e.action == "notification:rewrite"]
    assert (event.details["rewritten"], event.details["unresolved"]) == ([found, orphan], [orphan])
    assert title not in json.dumps(event.details, ensure_ascii=False)
    assert [i for i in fsck(kho.repo, repair=True).issues if i.kind == "notice-plaintext"] == []
    assert len([e for e in kho.repo.audit.events() if e.action == "notification:rewrite"]) == 1


def test_a_rewrite_stopped_between_removing_and_writing_is_finished(kho: Kho, people: People) -> None:
    """Killed after the old object was removed and before the new one was written: the staged
    copy is the notification; the next repair puts it back (nothing lost)."""
    archivist = people.usernames["luu_tru"]
    key = _old_notice(kho, archivist, 1, "Hồ sơ “Hồ sơ cũ” đã hết thời gian được giữ lại: phải nộp lưu ngay.")
    store = kho.repo.store
    real_put, real_put_if_absent = store.put, store.put_if_absent

    def killed(k: str, data: bytes) -> None:
        if k == key:
            raise SystemExit("killed")
        real_put(k, data)

    def killed_if_absent(k: str, data: bytes) -> Any:  # (r29: the write step refuses to replace)
        if k == key:
            raise SystemExit("killed")
        return real_put_if_absent(k, data)

    store.put = killed  # type: ignore[method-assign]
    store.put_if_absent = killed_if_absent  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        fsck(kho.repo, repair=True)
    store.put, store.put_if_absent = real_put, real_put_if_absent  # type: ignore[method-assign]
    assert not store.exists(key)
    fsck(kho.repo, repair=True)
    [note] = kho.accounts.notifications(archivist)
    assert note.message.endswith("phải nộp lưu ngay.") and "Hồ sơ cũ" not in note.message
    [event] = [e for e in kho.repo.audit.events() if e.action == "notification:rewrite"]
    assert event.details["finished"] == [key]
