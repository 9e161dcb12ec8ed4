"""An account, unit or token change and its audit events are one write (x1).

Before, ``AccountService`` wrote the change (an account's next version, a unit, a token) and
appended its event after it. A log that refused the event (``AUDIT_CHAIN_BROKEN``: a cut tail, a
lowered witness) or a writer that died between the two left the change made with no event. Now
the change is written under the log's lock once the log has accepted the act, and it carries its
events, so ``kho fsck --repair`` appends them when the writer died in between.

- For each kind of change, with a log that refuses (cut tail; lowered witness seen by the
  running process), the change is refused with ``AUDIT_CHAIN_BROKEN`` and no object but the
  log's own changed.
- Wrong passwords still count and lock while the log refuses (the lock is required): their
  events are carried by the version and appended by ``fsck --repair`` after the auditor's
  acknowledgement.
- A writer killed (a real child, ``os._exit``) between the account write and the event write
  leaves the change; fsck names it ``unaudited``, ``--repair`` appends its events. Killed at the
  account write itself: neither is there, and fsck says nothing of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import BACKENDS, TickingClock, acknowledge_cut, make_store, new_repository, outside_anchor

from kho.errors import AuditChainBroken, LoginFailed
from repository import formats
from repository.accounts import Account, AccountService, LockReason, Status, account_key
from repository.anchor import Anchor
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog, read_witness
from repository.fsck import fsck
from repository.policy import Role
from repository.records import Repository
from repository.storage.base import ObjectStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD, WRONG = "Mật-khẩu-tốt-2026!", "sai-mật-khẩu-2026"
REASON = "Phần cuối nhật ký mất do sự cố đĩa; đã đối chiếu với bản sao lưu."


@dataclass
class World:
    store: ObjectStore
    repo: Repository
    anchor: Anchor
    svc: AccountService
    admin: Account
    admin2: Account
    an: Account
    locked: Account
    reset: Account
    token: str

    def person(self, name: str, *roles: Role, clearance: int = 0) -> Account:
        account, _ = create_person(self.svc, name, VP, roles, clearance, None, self.admin, password=GOOD)
        return self.svc.authenticate(account.username, GOOD)


def _world(store: ObjectStore, keys: ObjectStore, tmp_path: Path) -> World:
    repo = new_repository(store, keys)
    anchor = outside_anchor(tmp_path)
    repo.anchor = anchor
    svc = AccountService(store, repo.audit, TickingClock(), hasher=CHEAP)
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.authenticate(admin.username, GOOD)
    svc.create_unit(VP, "Văn phòng UBND tỉnh", "vpub", ROOT, admin)
    w = World(store, repo, anchor, svc, admin, admin, admin, admin, admin, "")
    w.admin2 = w.person("Trần Quản Trị", Role.QUAN_TRI, clearance=2)  # raises up to 2 (a23)
    w.admin2 = svc.set_roles(w.admin2.username, [(ROOT, Role.QUAN_TRI)], admin)
    w.an = w.person("Nguyễn Văn An", Role.CHUYEN_VIEN)
    w.token = svc.issue_token(w.an.username, "api", w.an)
    w.locked = w.person("Lê Thị Khóa", Role.CHUYEN_VIEN)
    svc.lock(w.locked.username, "admin", admin)
    w.reset = w.person("Phạm Văn Đặt", Role.CHUYEN_VIEN)
    svc.reset_password(w.reset.username, admin)
    return w


@pytest.fixture
def world(tmp_path: Path) -> World:
    return _world(make_store("local", tmp_path, "store"), make_store("local", tmp_path, "keys"), tmp_path)


def _event_keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


def _cut_tail(w: World) -> None:
    """The last event object and the witness deleted (a cut tail)."""
    w.store.delete(_event_keys(w.store)[-1])
    w.store.delete(WITNESS_KEY)


def _lowered_witness(w: World) -> None:
    """The last event object deleted and the witness lowered to the event before it, which the
    running process (its cached end is past it) refuses."""
    keys = _event_keys(w.store)
    w.store.delete(keys[-1])
    before = [e for e in w.repo.audit.events() if e.seq < int(keys[-1].rsplit("/", 1)[1].split(".")[0])]
    body = {"seq": before[-1].seq, "hash": before[-1].hash}
    w.store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, body))


REFUSALS: dict[str, Callable[[World], None]] = {"cut-tail": _cut_tail, "lowered-witness": _lowered_witness}


def _state(store: ObjectStore) -> dict[str, bytes]:
    """Every object but the audit log's own."""
    return {info.key: store.get(info.key) for info in store.list("") if not info.key.startswith("audit/")}


CHANGES: dict[str, Callable[[World], object]] = {
    "login": lambda w: w.svc.authenticate(w.an.username, GOOD),
    "lock": lambda w: w.svc.lock(w.an.username, "left", w.admin),
    "unlock": lambda w: w.svc.unlock(w.locked.username, w.admin),
    "roles": lambda w: w.svc.set_roles(w.an.username, [(VP, Role.VAN_THU)], w.admin),
    "clearance": lambda w: w.svc.set_clearance(w.an.username, 2, w.admin2),
    "password-change": lambda w: w.svc.change_password(w.an.username, GOOD, "Mật-khẩu-mới-2026!"),
    "password-reset": lambda w: w.svc.reset_password(w.an.username, w.admin),
    "reset-confirm": lambda w: w.svc.confirm_reset(w.reset.username, w.admin2),
    "delete": lambda w: w.svc.delete(w.an.username, w.admin),
    "account-create": lambda w: w.svc.create_account("Võ Thị Mới", VP, [Role.VAN_THU], 0, None, w.admin),
    "unit-create": lambda w: w.svc.create_unit("000.02.18.H40", "Sở Tài chính", "stc", ROOT, w.admin),
    "unit-update": lambda w: w.svc.update_unit(VP, name="Văn phòng Ủy ban", actor=w.admin),
    "token-issue": lambda w: w.svc.issue_token(w.an.username, "thêm", w.an),
    "token-revoke": lambda w: w.svc.revoke_token(
        w.an.username, w.svc.tokens_of(w.an.username)[0].digest, w.admin
    ),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_the_log_refuses_is_not_made(world: World, change: str, refusal: str) -> None:
    before = _state(world.store)
    REFUSALS[refusal](world)
    with pytest.raises(AuditChainBroken) as refused:
        CHANGES[change](world)
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert _state(world.store) == before, "the change was made although its event was refused"


def test_a_recovery_the_log_refuses_is_not_made(tmp_path: Path) -> None:
    """``kho account recover`` of the only quản trị (l1): refused with the log, nothing opened,
    no token revoked."""
    store = make_store("local", tmp_path, "store")
    svc = AccountService(store, AuditLog(store), TickingClock(), hasher=CHEAP)
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    svc.change_password(admin.username, initial, GOOD)
    svc.authenticate(admin.username, GOOD)
    svc.issue_token(admin.username, "api", svc.get(admin.username))
    for _ in range(5):
        with pytest.raises(LoginFailed):
            svc.authenticate(admin.username, WRONG)
    assert svc.get(admin.username).lock_reason is LockReason.FAILED_LOGINS
    store.delete(_event_keys(store)[-1])
    store.delete(WITNESS_KEY)
    before = _state(store)
    with pytest.raises(AuditChainBroken):
        svc.recover(admin.username, "khôi phục")
    assert _state(store) == before


def test_wrong_passwords_lock_while_the_log_refuses_and_their_events_follow_the_acknowledgement(
    world: World,
) -> None:
    """The lock is required (QCVN 12): it holds while the log refuses. Each version carries its
    events; after the auditor's acknowledgement ``fsck --repair`` appends them, once."""
    _cut_tail(world)
    for _ in range(5):
        with pytest.raises(AuditChainBroken):
            world.svc.authenticate(world.an.username, WRONG)
    account = world.svc.get(world.an.username)
    assert account.status is Status.LOCKED and account.lock_reason is LockReason.FAILED_LOGINS
    assert account.failed_logins == 5
    acknowledge_cut(world.store, world.anchor, REASON)
    pending = [i for i in fsck(world.repo).issues if i.kind == "unaudited"]
    first = account.version - 4
    counted = {account_key(account.username, v) for v in range(first, first + 5)}
    # and the change whose event the cut removed (the reset of the last act before it)
    cut = account_key(world.reset.username, world.svc.get(world.reset.username).version)
    assert {i.subject for i in pending} == counted | {cut}
    assert all(not i.repaired and i.repairable for i in pending)
    repaired = [i for i in fsck(world.repo, repair=True).issues if i.kind == "unaudited"]
    assert len(repaired) == 6 and all(i.repaired for i in repaired)
    assert not [i for i in fsck(world.repo).issues if i.kind == "unaudited"]
    restored = [
        e
        for e in AuditLog(world.store).events()
        if e.details.get("restored_by") == "system:fsck" and e.details["object"] in counted
    ]
    counts = [e.details["failed_logins"] for e in restored if e.action == "account:login-failed"]
    assert sorted(counts) == [1, 2, 3, 4, 5]
    locks = [e for e in restored if e.action == "account:lock"]
    assert [(e.details["recorded_actor"], e.details["reason"]) for e in locks] == [
        ("system", "failed_logins")
    ]
    assert {e.actor for e in restored} == {"system:fsck"}  # by fsck, naming whom the object names
    assert AuditLog(world.store).verify().ok


# --- a writer killed between the two writes ---------------------------------------------------


def _killed_lock(store: ObjectStore, keys: ObjectStore, tmp_path: Path, w: World, at: str) -> int:
    """In a forked child, lock ``w.an`` and die (``os._exit(137)``) at the first write of an
    ``at`` object (``account``: the account's version; ``event``: the audit event)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            original = type(store).put_if_absent

            def dying(self: ObjectStore, key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
                wanted = key.startswith(EVENTS_PREFIX) if at == "event" else key.startswith("accounts/")
                if self is store and wanted:
                    os._exit(137)
                return original(self, key, data, *args, **kwargs)

            type(store).put_if_absent = dying  # type: ignore[method-assign]
            svc = AccountService(store, AuditLog(store), TickingClock(), hasher=CHEAP)
            svc.lock(w.an.username, "left", w.admin)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_writer_killed_at_the_change_leaves_neither_and_between_the_two_writes_both_after_repair(
    backend: str, tmp_path: Path
) -> None:
    store, keys = make_store(backend, tmp_path, "kst"), make_store(backend, tmp_path, "kky")
    w = _world(store, keys, tmp_path)
    # Killed at the account's write: neither is there, and fsck says nothing of it.
    before = w.svc.get(w.an.username)
    events = len(list(AuditLog(store).events()))
    assert _killed_lock(store, keys, tmp_path, w, "account") == 137
    assert w.svc.get(w.an.username) == before
    assert len(list(AuditLog(store).events())) == events
    assert not [i for i in fsck(w.repo).issues if i.kind == "unaudited"]
    # Killed between the account's write and its event's: fsck names it, --repair appends it.
    version = before.version
    assert _killed_lock(store, keys, tmp_path, w, "event") == 137
    locked = w.svc.get(w.an.username)
    assert (locked.version, locked.status) == (version + 1, Status.LOCKED)
    key = account_key(w.an.username, version + 1)
    assert not [e for e in AuditLog(store).events() if e.details.get("object") == key]
    found = {i.subject: i for i in fsck(w.repo).issues if i.kind == "unaudited"}
    assert set(found) == {key} and "account:lock" in found[key].message and not found[key].repaired
    repaired = {i.subject: i for i in fsck(w.repo, repair=True).issues if i.kind == "unaudited"}
    assert repaired[key].repaired
    (event,) = [e for e in AuditLog(store).events() if e.details.get("object") == key]
    assert (event.actor, event.action) == ("system:fsck", "account:lock")
    assert event.details["recorded_actor"] == w.admin.username
    assert event.details["username"] == w.an.username and event.details["reason"] == "left"
    assert event.details["restored_by"] == "system:fsck"
    assert not [i for i in fsck(w.repo).issues if i.kind == "unaudited"]
    assert AuditLog(store).verify().ok and read_witness(store)["seq"] == event.seq


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_wrong_passwords_from_several_writers_each_pair_a_version_with_its_event(
    backend: str, tmp_path: Path
) -> None:
    """Four writers with their own audit log (as four processes: each its own lock) count wrong
    passwords on one account at once: every count is there once, and each ``login-failed``
    event names the version that made its count (the losers of a race wrote neither)."""
    import threading

    store, keys = make_store(backend, tmp_path, "cst"), make_store(backend, tmp_path, "cky")
    w = _world(store, keys, tmp_path)
    writers = [AccountService(store, AuditLog(store), TickingClock(), hasher=CHEAP) for _ in range(4)]
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def attempt(svc: AccountService) -> None:
        barrier.wait()
        try:
            svc.authenticate(w.an.username, WRONG)
        except LoginFailed as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(svc,)) for svc in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["LOGIN_FAILED"] * 4
    account = w.svc.get(w.an.username)
    assert account.failed_logins == 4
    failed = [e for e in AuditLog(store).events() if e.action == "account:login-failed"]
    assert sorted(e.details["failed_logins"] for e in failed) == [1, 2, 3, 4]
    for event in failed:
        stored = w.store.get(event.details["object"])
        held = Account.from_dict(formats.loads(formats.ACCOUNT.name, stored))
        assert held.failed_logins == event.details["failed_logins"]
    assert not [i for i in fsck(w.repo).issues if i.kind == "unaudited"]
