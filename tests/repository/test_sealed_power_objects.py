"""Review z3: an insider who can write the store (its S3 credential or its folder) but does not
hold ``KHO_MASTER_KEY`` forges the objects that grant power.

Before the seals (:mod:`repository.seals`), a next version of an account written straight into
the store in the current format, with made-up events, was *used*: the person logged in with
the quản trị role and clearance Tuyệt mật; a token object for the quản trị let its maker act
through the API as them; an older version of an account copied to the next number undid a lock.
Only ``kho fsck`` (run later) said ``unaudited``, and ``kho fsck --repair`` appended the made-up
events to the log as restored by fsck when they named the object. The services here are opened
as the application opens them (``open_accounts`` with the installation's settings), so these
tests also check that ``KHO_MASTER_KEY`` reaches the account service."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from kho_sealing import GOOD, MASTER, VP, sealed_agency
from kho_sealing import newest_version as _newest
from kho_testing import AGENCY, BACKENDS

from kho.errors import AccountDowngraded, LoginFailed, TokenInvalid
from repository import formats
from repository.accounts import AccountService, account_key, token_digest, token_key
from repository.fsck import fsck
from repository.records import Repository

SEAL_FIELD = "seal"  # repository.seals.SEAL_FIELD (not imported: the test runs on the code before it)


def _agency(
    backend: str, tmp_path: Path, master: bytes | None = MASTER, *, allow_unsealed: bool = False
) -> tuple[Repository, AccountService, str]:
    """An agency opened as the application opens it, with ``master`` as ``KHO_MASTER_KEY``: its
    quản trị (returned service acts for them) and a chuyên viên with a password (returned)."""
    return sealed_agency(backend, tmp_path, master, allow_unsealed=allow_unsealed)


def _events_naming(repo: Repository, key: str) -> list[str]:
    return [e.action for e in repo.audit.events() if (e.details or {}).get("object") == key]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forged_account_version_of_the_current_format_is_refused_at_login(
    backend: str, tmp_path: Path
) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    number, data = _newest(svc, who)
    forged = account_key(who, number + 1)
    made_up = {
        "actor": "vienqt.ubnd", "action": "account:roles", "source": None, "details": {"object": forged}
    }
    data.update(
        version=number + 1,
        clearance=3,
        memberships=[{"unit": AGENCY, "role": "quan_tri"}],
        audit=[made_up],
    )
    data.pop(SEAL_FIELD, None)  # the forger cannot make one; an empty or made-up one is the same
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())

    with pytest.raises(LoginFailed) as refused:  # before: logs in as quản trị, Tuyệt mật
        svc.authenticate(who, GOOD)
    assert isinstance(refused.value.__cause__, AccountDowngraded)
    assert refused.value.__cause__.code == "ACCOUNT_SEAL_INVALID"
    with pytest.raises(AccountDowngraded) as plain:
        svc.get(who)
    assert plain.value.code == "ACCOUNT_SEAL_INVALID"

    issues = fsck(repo, repair=True, grace_seconds=0).issues
    assert [i.kind for i in issues if i.subject == forged and i.kind == "seal"] == ["seal"]
    assert not any(i.repaired for i in issues if i.subject == forged)
    assert _events_naming(repo, forged) == []  # before: fsck --repair appended the made-up event


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_older_version_copied_to_the_next_number_does_not_undo_a_lock(
    backend: str, tmp_path: Path
) -> None:
    """A sealed version binds its key: copying the version from before a lock to the next
    number (every field as Kho wrote it, its seal too) is not a version of that number."""
    repo, svc, who = _agency(backend, tmp_path)
    _, unlocked = _newest(svc, who)
    admin = svc.get("vienqt.ubnd")
    svc.lock(who, "admin", admin)
    number, _ = _newest(svc, who)
    svc.store.put_if_absent(account_key(who, number + 1), json.dumps(unlocked, ensure_ascii=False).encode())
    with pytest.raises(AccountDowngraded) as read:  # before: read back active, the lock gone
        svc.get(who)
    assert read.value.code == "ACCOUNT_SEAL_INVALID"
    with pytest.raises(LoginFailed) as refused:  # before: VERSION_CONFLICT at every login
        svc.authenticate(who, GOOD)
    assert refused.value.__cause__.code == "ACCOUNT_SEAL_INVALID"
    assert account_key(who, number + 1) in {i.subject for i in fsck(repo).issues if i.kind == "seal"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("written_in", [1, 2, "current"])
def test_a_token_written_into_the_store_is_refused(
    backend: str, written_in: int | str, tmp_path: Path
) -> None:
    repo, svc, _ = _agency(backend, tmp_path)
    secret = secrets.token_urlsafe(32)
    digest = token_digest(secret)
    token = {
        "digest": digest, "username": "vienqt.ubnd", "name": "x", "created_at": "2026-01-05T01:00:00Z",
        "created_by": "vienqt.ubnd", "revoked": False,
        "audit": [{"actor": "vienqt.ubnd", "action": "account:token-issue", "source": None,
                   "details": {"token": digest[:12], "object": token_key(digest)}}],
    }
    if written_in == 1:
        token = {k: v for k, v in token.items() if k != "audit"} | {"format_version": 1}
    else:
        token["format_version"] = formats.TOKEN.current if written_in == "current" else written_in
    svc.store.put_if_absent(token_key(digest), json.dumps(token).encode())
    with pytest.raises(TokenInvalid) as refused:  # before: the API answers as the quản trị
        svc.resolve_token(secret)
    assert refused.value.code == "TOKEN_SEAL_INVALID"
    issues = fsck(repo, repair=True, grace_seconds=0).issues
    assert token_key(digest) in {i.subject for i in issues if i.kind == "seal"}
    assert _events_naming(repo, token_key(digest)) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_kho_writes_with_a_master_key_is_sealed_and_used(backend: str, tmp_path: Path) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    _, data = _newest(svc, who)
    assert data[formats.FORMAT_KEY] == formats.ACCOUNT.current and isinstance(data[SEAL_FIELD], str)
    person = svc.authenticate(who, GOOD)
    secret = svc.issue_token(who, "máy quét", person)
    stored = json.loads(svc.store.get(token_key(token_digest(secret))))
    assert stored[formats.FORMAT_KEY] == formats.TOKEN.current and isinstance(stored[SEAL_FIELD], str)
    assert svc.resolve_token(secret).username == who
    report = fsck(repo, grace_seconds=0)
    assert [i for i in report.issues if i.kind in ("seal", "unaudited", "downgraded")] == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("window", [False, True])
def test_a_version_rewritten_in_the_previous_format_after_a_sealed_one_is_a_downgrade(
    backend: str, window: bool, tmp_path: Path
) -> None:
    """The forger's way round a seal: the format before seals. Refused as unsealed (review r22);
    in the upgrade window (``KHO_ALLOW_UNSEALED``), after a sealed version it is a downgrade (the
    read path's format check), refused as before; its events are evidence, not something for
    fsck to append."""
    repo, svc, who = _agency(backend, tmp_path, allow_unsealed=window)
    number, data = _newest(svc, who)
    data.pop(SEAL_FIELD, None)
    data.update(version=number + 1, clearance=3, format_version=4)
    data["audit"][0]["details"]["object"] = account_key(who, number + 1)
    svc.store.put_if_absent(account_key(who, number + 1), json.dumps(data, ensure_ascii=False).encode())
    with pytest.raises(AccountDowngraded) as refused:
        svc.get(who)
    assert refused.value.code == ("ACCOUNT_DOWNGRADED" if window else "ACCOUNT_UNSEALED")
    forged = account_key(who, number + 1)
    issues = fsck(repo, repair=True, grace_seconds=0).issues
    assert "downgraded" in {i.kind for i in issues if i.subject == forged}
    assert _events_naming(repo, forged) == []  # before: fsck --repair appended its made-up event


def test_an_account_of_the_format_before_seals_is_read_and_sealed_at_its_next_change(tmp_path: Path) -> None:
    """Upgrading an installation, in the window (``KHO_ALLOW_UNSEALED``, review r22): accounts Kho
    wrote in format 4 (no seal) still log in; the login writes the next version sealed."""
    _, svc, who = _agency("local", tmp_path, allow_unsealed=True)
    other = "cuonglv.vpub"
    for n in (1, 2):
        _, data = _newest(svc, who)
        data = {k: v for k, v in data.items() if k != SEAL_FIELD}
        data.update(version=n, username=other, format_version=4)
        svc.store.put_if_absent(account_key(other, n), json.dumps(data, ensure_ascii=False).encode())
    assert svc.authenticate(other, GOOD).username == other
    _, newest = _newest(svc, other)
    assert newest["version"] == 3 and isinstance(newest[SEAL_FIELD], str)


def test_without_a_master_key_nothing_is_sealed(tmp_path: Path) -> None:
    """The limit, said plainly: with no ``KHO_MASTER_KEY`` there is no secret the store lacks,
    nothing is sealed and nothing is checked (fsck's event checks remain)."""
    _, svc, who = _agency("local", tmp_path, master=None)
    _, data = _newest(svc, who)
    assert SEAL_FIELD not in data and data[formats.FORMAT_KEY] == formats.ACCOUNT.current
    assert svc.authenticate(who, GOOD).username == who


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("written_in", ["current", 2])
@pytest.mark.parametrize("window", [False, True])
def test_a_unit_moved_under_another_by_a_hand_in_the_store_is_refused(
    backend: str, written_in: int | str, window: bool, tmp_path: Path
) -> None:
    """The unit tree is the policy's input: Văn phòng moved under another unit by a version
    written into the store gives that unit's lãnh đạo sight of Văn phòng's records (led units)
    and its quản trị rights over Văn phòng's accounts. In the current format its seal does not
    check; in the format before seals it is a downgrade after the sealed versions."""
    from kho.errors import KhoError  # UnitTampered: not imported, the test runs on the code before it

    repo, svc, _ = _agency(backend, tmp_path, allow_unsealed=window)
    admin = svc.get("vienqt.ubnd")
    other = "000.02.18.H40"
    svc.create_unit(other, "Sở Nội vụ", "snv", AGENCY, admin)
    assert VP not in svc.units_below(other)
    key = [i.key for i in svc.store.list(f"units/{VP}/")][-1]
    number = int(key.rsplit("/v", 1)[1]) + 1
    data = json.loads(svc.store.get(key))
    data.pop(SEAL_FIELD, None)
    forged = f"units/{VP}/v{number:06d}"
    data.update(
        parent_id=other,
        version=number,
        format_version=formats.UNIT.current if written_in == "current" else written_in,
        audit=[
            {"actor": "vienqt.ubnd", "action": "unit:update", "source": None, "details": {"object": forged}}
        ],
    )
    svc.store.put_if_absent(forged, json.dumps(data, ensure_ascii=False).encode())
    with pytest.raises(KhoError) as refused:  # before: {Sở Nội vụ, Văn phòng}
        svc.units_below(other)
    old_format = "UNIT_DOWNGRADED" if window else "UNIT_UNSEALED"
    expected = "UNIT_SEAL_INVALID" if written_in == "current" else old_format
    assert refused.value.code == expected and refused.value.http_status == 503
    with pytest.raises(KhoError):
        svc.get_unit(VP)
    kinds = {i.kind for i in fsck(repo, repair=True, grace_seconds=0).issues if i.subject == forged}
    assert kinds & {"seal", "downgraded"}
    assert _events_naming(repo, forged) == []
