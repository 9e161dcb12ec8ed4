"""Review r18 of s3 (downgraded and unaudited account versions): attacks of one who can write
the store that s3's read-path check let through.

- two versions in an old format in a row (or the newest key written over twice): the check
  compared only with the version right before the newest, itself forged;
- a version of the current format whose ``audit`` field is there but empty: every version Kho
  writes carries at least one event, so an empty list is a change with no event, as a missing
  field is; neither fsck nor the read path saw it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_testing import BACKENDS, agency_accounts, make_store, new_repository, person_with_password

from kho.errors import AccountDowngraded, LoginFailed
from kho.timeutil import utcnow
from repository.accounts import AccountService, account_key
from repository.fsck import fsck

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"


def _agency(backend: str, tmp_path: Path) -> tuple[object, AccountService, str]:
    store, keys = make_store(backend, tmp_path, "r18"), make_store("local", tmp_path, "keys")
    repo = new_repository(store, keys)
    svc, admin = agency_accounts(repo, CHEAP, VP, GOOD)
    return repo, svc, person_with_password(svc, admin, VP, GOOD)


def _newest(svc: AccountService, username: str) -> tuple[str, dict]:
    key = [i.key for i in svc.store.list(f"accounts/{username}/")][-1]
    return key, json.loads(svc.store.get(key))


def _as_format_2(data: dict, version: int, **changes: object) -> bytes:
    out = {k: v for k, v in data.items() if k not in ("audit", "reset")}
    out.update(changes, format_version=2, version=version)
    return json.dumps(out, ensure_ascii=False).encode()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_downgraded_versions_in_a_row_are_refused(backend: str, tmp_path: Path) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    key, data = _newest(svc, who)
    number = int(key.rsplit("/v", 1)[1])
    svc.store.put_if_absent(account_key(who, number + 1), _as_format_2(data, number + 1, clearance=3))
    svc.store.put_if_absent(account_key(who, number + 2), _as_format_2(data, number + 2, clearance=3))
    found = {i.subject for i in fsck(repo, grace_seconds=0).issues if i.kind == "downgraded"}
    assert account_key(who, number + 2) in found  # fsck sees it (s3 too)
    with pytest.raises(LoginFailed) as refused:  # s3: logs in with Tuyệt mật
        svc.authenticate(who, GOOD)
    assert isinstance(refused.value.__cause__, AccountDowngraded)
    assert refused.value.__cause__.code == "ACCOUNT_DOWNGRADED"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_newest_key_written_over_twice_in_an_old_format_is_refused(backend: str, tmp_path: Path) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    key, data = _newest(svc, who)
    number = int(key.rsplit("/v", 1)[1])
    svc.store.put(key, _as_format_2(data, number, clearance=3))
    svc.store.put(key, _as_format_2(data, number, clearance=3))
    found = {i.subject for i in fsck(repo, grace_seconds=0).issues if i.kind == "downgraded"}
    assert key in found
    with pytest.raises(AccountDowngraded):  # s3: compares with the first forged copy only
        svc.get(who)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_current_version_with_an_empty_audit_list_is_reported_and_refused(
    backend: str, tmp_path: Path
) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    key, data = _newest(svc, who)
    number = int(key.rsplit("/v", 1)[1]) + 1
    data.update(version=number, clearance=3, audit=[])
    forged = account_key(who, number)
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())
    found = {i.subject: i for i in fsck(repo, repair=True, grace_seconds=0).issues if i.kind == "unaudited"}
    assert forged in found and not found[forged].repairable  # s3: no finding at all
    with pytest.raises(LoginFailed) as refused:  # s3: logs in with Tuyệt mật
        svc.authenticate(who, GOOD)
    assert isinstance(refused.value.__cause__, AccountDowngraded)
    assert refused.value.__cause__.code == "ACCOUNT_UNAUDITED"


def test_kho_writes_no_audited_change_without_an_event(tmp_path: Path) -> None:
    """What makes an empty ``audit`` list evidence: the one write path refuses to write one."""
    _, svc, who = _agency("local", tmp_path)
    current = svc.get(who)
    with pytest.raises(ValueError):
        svc._save(current, "someone", lambda _, a: [], clearance=3)
    assert svc.get(who).clearance == current.clearance


def test_an_old_format_account_is_checked_once_per_process(tmp_path: Path) -> None:
    """The whole-chain check of an account whose newest version is of an old format reads the
    versions before it once per process, not at every read (a login reads the account twice)."""
    _, svc, who = _agency("local", tmp_path)
    other = "cuonglv.vpub"
    first = json.loads(svc.store.get(account_key(who, 1)))
    for n in (1, 2, 3):  # an account untouched since an older Kho: three versions of format 2
        raw = _as_format_2(first, n).replace(who.encode(), other.encode())
        svc.store.put_if_absent(account_key(other, n), raw)
    reads: list[str] = []
    real_get = svc.store.get

    def counting_get(k: str, *a: object, **kw: object) -> bytes:
        reads.append(k)
        return real_get(k, *a, **kw)

    svc.store.get = counting_get  # type: ignore[method-assign]
    assert svc.get(other).version == 3
    assert reads == [account_key(other, n) for n in (3, 2, 1)]
    reads.clear()
    svc.get(other)
    assert reads == [account_key(other, 3)]  # checked already: the account's one GET


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_version_rewritten_in_an_old_format_with_its_history_removed_is_reported(
    backend: str, tmp_path: Path
) -> None:
    """One who can delete what the store keeps of a key (every S3 version, the local folder's
    version files) rewrites every version of an account made since x1 in an old format: no
    downgrade along the numbered versions nor along the store's versions. The log still names
    each as written with its events: fsck reports them."""
    repo, svc, who = _agency(backend, tmp_path)
    keys = [i.key for i in svc.store.list(f"accounts/{who}/")]
    for number, key in enumerate(keys, start=1):
        data = json.loads(svc.store.get(key))
        svc.store.delete(key)
        svc.store.put(key, _as_format_2(data, number, clearance=3))
    assert [len(svc.store.list_versions(k)) for k in keys] == [1] * len(keys)
    found = {i.subject: i for i in fsck(repo, repair=True, grace_seconds=0).issues if i.kind == "downgraded"}
    assert set(keys) <= set(found)  # s3: no finding
    assert not any(i.repairable or i.repaired for i in found.values())


def test_fsck_does_not_hold_every_parsed_account_object(tmp_path: Path) -> None:
    """Every login writes an account version and a session token: fsck's steps 10 and 11 keep a
    small summary per object, not the parsed object (s3 held ~3 kB each: a gigabyte for a few
    hundred thousand logins)."""
    import tracemalloc

    from repository import fsck as fsck_module

    _, svc, who = _agency("local", tmp_path)
    admin = svc.get("vienqt.ubnd")
    for _ in range(150):
        svc.authenticate(who, GOOD)
        svc.issue_token(admin.username, "web-session", admin, "127.0.0.1")
    keys = {i.key for p in fsck_module.AUDITED_PREFIXES for i in svc.store.list(p)}
    tracemalloc.start()
    try:
        held = list(fsck_module._account_objects(svc.store, set(keys)))
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) >= 300
    assert size / len(held) < 1000  # bytes per object


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forged_new_account_or_token_of_an_old_format_is_reported(backend: str, tmp_path: Path) -> None:
    """No downgrade needed: a brand-new quản trị account and a token for the real quản trị,
    both in the old formats that carry no events (s3's open item 4). The log has no creation
    event for either: fsck reports them, never repaired. Legitimate objects are no finding."""
    from repository.accounts import Token, token_digest, token_key

    repo, svc, _ = _agency(backend, tmp_path)
    secret = svc.issue_token("vienqt.ubnd", "script", svc.get("vienqt.ubnd"), "127.0.0.1")
    assert not [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "unaudited"]
    admin = json.loads(svc.store.get(account_key("vienqt.ubnd", 1)))
    puppet = {k: v for k, v in admin.items() if k not in ("audit", "reset")}
    puppet.update(username="gianv.ubnd", full_name="Giả Văn Nhân", must_change_password=False,
                  changed_by="gianv.ubnd", format_version=2)
    forged_account = account_key("gianv.ubnd", 1)
    svc.store.put_if_absent(forged_account, json.dumps(puppet, ensure_ascii=False).encode())
    forged_secret = "forged-by-a-hand-in-the-store-0123456789abc"
    digest = token_digest(forged_secret)
    token = Token(digest, "vienqt.ubnd", "script", utcnow(), "vienqt.ubnd").to_dict()
    token.pop("audit", None)
    token["format_version"] = 1
    svc.store.put_if_absent(token_key(digest), json.dumps(token).encode())
    assert svc.resolve_token(forged_secret).username == "vienqt.ubnd"  # what it buys
    found = {i.subject: i for i in fsck(repo, repair=True, grace_seconds=0).issues if i.kind == "unaudited"}
    assert set(found) == {forged_account, token_key(digest)}  # s3: neither
    assert not any(i.repairable or i.repaired for i in found.values())
    assert svc.resolve_token(secret).username == "vienqt.ubnd"
