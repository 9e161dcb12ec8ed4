"""Review r14 of x1: what ``kho fsck`` does with the events an account, unit or token object
carries (step 10, ``unaudited``).

- An object someone wrote into the store may carry any event: fsck --repair must append only
  the events such a change writes (``account:…``, ``unit:…``) naming that very object, never an
  ``audit:acknowledge`` or a record's event on the word of a stored object.
- A change whose writer is still between its two writes (the object written, its events not yet)
  is not a dead writer's: like every other fsck step (records, temp files) the check leaves what
  is younger than ``grace_seconds`` alone, or fsck --repair run at that moment appends the events
  a second time and names a live writer dead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from kho_testing import agency_accounts, make_store, new_repository

from kho.timeutil import utcnow
from repository import formats
from repository.accounts import AccountService, account_key
from repository.audit import ACKNOWLEDGE_ACTION, EVENTS_PREFIX, AuditLog
from repository.fsck import fsck
from repository.policy import Role
from repository.storage.base import ObjectStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"


def test_fsck_restores_only_the_account_events_that_name_their_object(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "store"), make_store("local", tmp_path, "keys")
    repo = new_repository(store, keys)
    svc = AccountService(store, repo.audit, utcnow, hasher=CHEAP)
    svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    digest = "ab" * 32
    forged = f"tokens/{digest}.revoked.json"
    body = {
        "digest": digest,
        "at": "2026-01-01T00:00:00Z",
        "actor": "kiemlv.ubnd",
        "audit": [
            {
                "actor": "kiemlv.ubnd",
                "action": ACKNOWLEDGE_ACTION,
                "source": "cli",
                "details": {"object": forged, "reason": "giả"},
            },
            {
                "actor": "x",
                "action": "account:lock",
                "source": None,
                "details": {"object": "accounts/x_v000001"},  # another object's event
            },
        ],
    }
    store.put_if_absent(forged, formats.dumps(formats.TOKEN_REVOCATION.name, body))
    before = len(list(AuditLog(store).events()))
    found = [i for i in fsck(repo, repair=True).issues if i.subject == forged]
    assert found and not any(i.repaired or i.repairable for i in found)
    events = list(AuditLog(store).events())
    assert len(events) == before, [(e.actor, e.action) for e in events[before:]]
    assert not [e for e in events if e.action == ACKNOWLEDGE_ACTION]


def test_fsck_repair_leaves_a_change_whose_writer_is_between_its_two_writes(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "store"), make_store("local", tmp_path, "keys")
    repo = new_repository(store, keys)
    svc, admin = agency_accounts(repo, CHEAP, VP, GOOD)
    person, _ = svc.create_account("Nguyễn Văn An", VP, [Role.CHUYEN_VIEN], 0, None, admin)
    # An operator's fsck --repair (another process: its own repository and log) runs while the
    # quản trị's lock is between the account's version and its event.
    other = new_repository(store, keys)
    seen: list[Any] = []
    original = type(store).put_if_absent

    def meanwhile(self: ObjectStore, key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if self is store and key.startswith(EVENTS_PREFIX) and not seen:
            seen.append(None)  # once: fsck's own appends pass through
            seen[0] = fsck(other, repair=True)
        return original(self, key, data, *args, **kwargs)

    type(store).put_if_absent = meanwhile  # type: ignore[method-assign]
    try:
        svc.lock(person.username, "left", admin)
    finally:
        type(store).put_if_absent = original  # type: ignore[method-assign]
    key = account_key(person.username, svc.get(person.username).version)
    assert seen and not [i for i in seen[0].issues if i.subject == key]
    named = [e for e in AuditLog(store).events() if e.details.get("object") == key]
    assert [(e.actor, e.action) for e in named] == [(admin.username, "account:lock")]
