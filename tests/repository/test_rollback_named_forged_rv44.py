"""Review rv44, attack on s18's rollback check: a writer of the store (no seal key) who appends an
event naming a high version of a *legitimate* account must not make that account refused
``ACCOUNT_ROLLED_BACK``. The by-record index keeps the highest account version the log names
(``newest_named``); it is filled by the catch-up, which reads every event past the witness. Before
rv44 it took the number from any event, sealed or not, so one forged unsealed event (chained after
the last with a correct hash, as :func:`audit_tamper.append_forged` writes it) locked the quản trị
out of tokens and logins. Now only events :meth:`AuditLog.trusted` accepts name a version; the
forged event is still named by ``verify`` (kind ``seal``). Local folder and the real S3 gateway,
sealed, services opened as the application opens them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_sealing import CHEAP, GOOD, MASTER, VP, sealed_agency
from kho_testing import AGENCY, BACKENDS

from kho.errors import AccountLocked, KhoError, LoginFailed
from repository.accounts import AccountService, LockReason, Status, token_digest
from repository.audit import AuditLog, object_named
from repository.audit_index import SqliteRecordIndex
from repository.policy import Role


def _token(svc: AccountService, who: str) -> str:
    return svc.issue_token(who, "rv44", svc.authenticate(who, GOOD))


def _other_host(svc: AccountService) -> AccountService:
    """A second service on the store with its own audit log object and an empty index (another
    host's process), as in ``test_token_ended_before_upgrade_s18``."""
    log = AuditLog(svc.store, sealer=svc.audit.sealer)
    other = AccountService(svc.store, log, svc.clock, master_key=MASTER)
    other._hasher = CHEAP
    return other


def _forge_named(svc: AccountService, who: str, version: int) -> None:
    """An unsealed event at the next key naming ``accounts/<who>/v<version>`` (the witness moved)."""
    tamper.append_forged(
        svc.store,
        {
            "actor": who,
            "action": "account:lock",
            "details": {"username": who, "object": f"accounts/{who}/v{version:06d}"},
        },
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forged_unsealed_event_naming_a_high_version_does_not_refuse_a_genuine_account(
    backend: str, tmp_path: Path
) -> None:
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-named")
    live = _token(svc, who)
    _forge_named(svc, who, 999)
    for service in (svc, _other_host(svc)):  # this host (index caught up) and one that scans
        assert service.resolve_token(live).username == who
        assert service.authenticate(who, GOOD).username == who
        newest = int([i.key for i in svc.store.list(f"accounts/{who}/")][-1].rsplit("/v", 1)[1])
        assert service.audit.newest_named(f"accounts/{who}", catch_up=True) == newest
    assert any(f.kind == "seal" for f in AuditLog(svc.store, sealer=svc.audit.sealer).verify().findings)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_genuine_rollback_is_still_refused_after_a_forged_event(backend: str, tmp_path: Path) -> None:
    """The guard keeps its edge: sealed events still name versions, so a real deletion of the
    newest version is refused even when a forged event follows it in the log."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-named2")
    live, other = _token(svc, who), _token(svc, who)
    svc.revoke_token(who, token_digest(other), svc.get(who))  # writes a version, named by its sealed event
    newest = [i.key for i in svc.store.list(f"accounts/{who}/")][-1]
    svc.store.delete(newest)
    _forge_named(svc, who, 3)
    for service in (svc, _other_host(svc)):
        with pytest.raises(KhoError) as refused:
            service.resolve_token(live)
        assert refused.value.code == "ACCOUNT_ROLLED_BACK"


def test_an_index_of_schema_6_is_rebuilt_so_a_number_taken_from_a_forged_event_goes(tmp_path: Path) -> None:
    """An index filled by schema 6 may hold a version number a forged event named: the file is
    emptied on opening (then rebuilt from the log by one scan), not trusted."""
    path = tmp_path / "audit-index.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE named(object TEXT PRIMARY KEY, newest INTEGER NOT NULL);"
        "INSERT INTO meta VALUES('schema', '6');"
        "INSERT INTO named VALUES('accounts/vienqt.ubnd', 999);"
    )
    conn.commit()
    conn.close()
    assert SqliteRecordIndex(path).newest_named("accounts/vienqt.ubnd") is None


ADMIN = "vienqt.ubnd"


def _lose_newest(svc: AccountService, who: str) -> None:
    """A writer of the store deletes the newest version of ``who``: the log still names it."""
    svc.store.delete([i.key for i in svc.store.list(f"accounts/{who}/")][-1])
    with pytest.raises(KhoError) as refused:
        svc.get(who)
    assert refused.value.code == "ACCOUNT_ROLLED_BACK"


@pytest.mark.parametrize("backend", BACKENDS)
def test_accepting_the_rollback_of_a_deleted_account_does_not_bring_it_back(
    backend: str, tmp_path: Path
) -> None:
    """Attack on ``kho account accept-rollback``: the account of a person who left is deleted
    (thu hồi); a writer of the store deletes that version, so the older active one is the newest
    stored; the operator, seeing ``ACCOUNT_ROLLED_BACK`` and no backup, accepts the rollback.
    Before rv44 the account was written on as the stored version said — active — and the old
    password (known to the person who left) opened it (a new password asked, which that person
    sets). Now the versions the log names as lost are read from the log: a deletion stays."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-accept")
    svc.delete(who, svc.get(ADMIN))
    _lose_newest(svc, who)
    after = svc.accept_rollback(who, "Mất phiên bản mới nhất, không có bản sao lưu")
    assert after.status is Status.DELETED
    with pytest.raises(LoginFailed):
        svc.authenticate(who, GOOD)
    (event,) = [e for e in svc.audit.events() if e.action == "account:rollback-accept"]
    assert event.details["kept_status"] == "deleted"


@pytest.mark.parametrize("backend", BACKENDS)
def test_accepting_the_rollback_of_a_locked_account_keeps_it_locked(backend: str, tmp_path: Path) -> None:
    """The same with a lock by the quản trị (người đã nghỉ việc): the account stays locked, for a
    quản trị to unlock on purpose; before rv44 it came back active."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-accept2")
    svc.lock(who, LockReason.LEFT, svc.get(ADMIN))
    _lose_newest(svc, who)
    after = svc.accept_rollback(who, "Mất phiên bản mới nhất, không có bản sao lưu")
    assert after.status is Status.LOCKED and after.lock_reason is LockReason.LEFT
    assert after.lock_until is None
    with pytest.raises(AccountLocked):
        svc.authenticate(who, GOOD)


@pytest.mark.parametrize("backend", BACKENDS)
def test_accepting_a_rollback_does_not_give_back_a_role_the_lost_versions_took(
    backend: str, tmp_path: Path
) -> None:
    """A person is given the văn thư role (the stored version that will be kept), then the quản
    trị takes it back; a writer of the store deletes that version. Before rv44 the accepted
    rollback gave the role back."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-accept3")
    admin = svc.get(ADMIN)
    svc.set_roles(who, [(VP, Role.CHUYEN_VIEN), (VP, Role.VAN_THU)], admin)
    svc.set_roles(who, [(VP, Role.CHUYEN_VIEN)], svc.get(ADMIN))
    _lose_newest(svc, who)
    stored = json.loads(svc.store.get([i.key for i in svc.store.list(f"accounts/{who}/")][-1]))
    assert "van_thu" in json.dumps(stored["memberships"])  # what the store now holds
    after = svc.accept_rollback(who, "Mất phiên bản mới nhất, không có bản sao lưu")
    assert {(m.unit, m.role) for m in after.memberships} == {(VP, Role.CHUYEN_VIEN)}
    assert after.status is Status.ACTIVE and after.must_change_password


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_host_that_saw_the_version_named_does_not_forget_it_when_the_log_is_cut(
    backend: str, tmp_path: Path
) -> None:
    """The writer of the store deletes the account version that ended a token *and* cuts the
    events from the one naming it to the end, lowering the witness to match (a shorter log).
    The host whose index had seen the event empties the index on the shorter log (as for a store
    put back to an older copy) and rebuilt it from what is left: before rv44 the version named
    was forgotten with it and the older account version answered again (its live token worked).
    The index's names are kept over such a reset: only ``kho reindex`` forgets them."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-cut")
    live, other = _token(svc, who), _token(svc, who)
    assert svc.resolve_token(live).username == who
    seq = tamper.layout(svc.store)[-1].first + len(tamper.layout(svc.store)[-1].events)  # next event
    svc.revoke_token(who, token_digest(other), svc.get(who))
    named = [e for e in svc.audit.events(seq) if object_named(e) is not None]
    assert named, "the revocation's event names the account version it wrote"
    svc.store.delete([i.key for i in svc.store.list(f"accounts/{who}/")][-1])
    tamper.cut_from(svc.store, named[0].seq)
    tamper.lower_witness(svc.store, named[0].seq - 1)
    with pytest.raises(KhoError) as refused:
        svc.resolve_token(live)
    assert refused.value.code == "ACCOUNT_ROLLED_BACK"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rolled_back_quản_trị_does_not_count_as_the_other_quản_trị(backend: str, tmp_path: Path) -> None:
    """The listing (``accounts()``) skips the rollback check on purpose (s18); the last-quản-trị
    rule (``LAST_ADMIN``) counted from it. A second quản trị is locked; the writer of the store
    deletes that lock's version, so the older one (an active quản trị) is the newest stored, and
    that account is refused everywhere (``ACCOUNT_ROLLED_BACK``). Before rv44 the first quản trị
    could then lock their own account, counting the refused one as the quản trị left: nobody
    could manage accounts. Now a rolled-back account is not counted."""
    _, svc, who = sealed_agency(backend, tmp_path, name="rv44-last-admin")
    svc.set_roles(who, [(AGENCY, Role.QUAN_TRI)], svc.get(ADMIN))
    svc.lock(who, LockReason.ADMIN, svc.get(ADMIN))
    _lose_newest(svc, who)
    with pytest.raises(KhoError) as refused:
        svc.lock(ADMIN, LockReason.LEFT, svc.get(ADMIN))
    assert refused.value.code == "LAST_ADMIN"
    assert svc.get(ADMIN).status is Status.ACTIVE
