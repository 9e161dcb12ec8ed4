"""Downgraded account versions (review r14 item 2): one who can write the store writes an
account version in an old format (no ``audit`` field) — a change with no audit event that fsck
step 10 cannot tell from one made before the format existed. No Kho writes a version older than
the one before it (a rolled-back Kho refuses to read the newer version, so it never writes the
next one: ``test_a_rolled_back_kho_cannot_write_a_downgrade``). So:

- ``kho fsck`` reports each such version as ``downgraded``, never repaired, along the numbered
  versions and along the store's versions of the newest key (written over in place);
- reading the account refuses it while it is the newest (``ACCOUNT_DOWNGRADED``): no login, no
  token, no change built on it;
- versions of an old format followed by newer ones (an upgrade) are no finding.

Also r14 item 3: an event ``fsck --repair`` restores carries the change's own time
(``recorded_at``) beside fsck's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_testing import BACKENDS, agency_accounts, make_store, new_repository, person_with_password

from kho.errors import AccountDowngraded, FormatUnsupported, LoginFailed
from repository import formats
from repository.accounts import Account, AccountService, account_key
from repository.audit import AuditLog
from repository.fsck import fsck
from repository.policy import Role

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
ROOT, VP = "000.00.18.H40", "000.01.18.H40"
GOOD = "Mật-khẩu-tốt-2026!"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


def _agency(backend: str, tmp_path: Path) -> tuple[object, AccountService, str]:
    """A quản trị (password set) and a chuyên viên who set their password. Returns (repository,
    service, the chuyên viên's username)."""
    store, keys = make_store(backend, tmp_path, "dg"), make_store("local", tmp_path, "keys")
    repo = new_repository(store, keys)
    svc, admin = agency_accounts(repo, CHEAP, VP, GOOD)
    return repo, svc, person_with_password(svc, admin, VP, GOOD)


def _old_format(svc: AccountService, username: str, **changes: object) -> tuple[int, bytes]:
    """The newest version of ``username`` rewritten as an attacker would: format 2 (the last
    format without ``audit`` or ``reset.new_account``), ``changes`` applied, next number."""
    keys = [i.key for i in svc.store.list(f"accounts/{username}/")]
    data = json.loads(svc.store.get(keys[-1]))
    data.pop("audit", None)
    data.pop("reset", None)
    number = int(keys[-1].rsplit("/v", 1)[1])
    data.update(changes, format_version=2, version=number + 1)
    return number + 1, json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_next_version_in_an_old_format_is_reported_and_refused(backend: str, tmp_path: Path) -> None:
    repo, svc, who = _agency(backend, tmp_path)
    assert not [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "downgraded"]
    number, forged = _old_format(svc, who, clearance=3)  # the hidden change: Tuyệt mật
    key = account_key(who, number)
    svc.store.put_if_absent(key, forged)
    report = fsck(repo, repair=True, grace_seconds=0)  # main: nothing about it (no "audit": skipped)
    found = [i for i in report.issues if i.kind == "downgraded"]
    assert [i.subject for i in found] == [key]
    assert not found[0].repairable and not found[0].repaired
    assert "định dạng 2" in found[0].message and f"định dạng {formats.ACCOUNT.current}" in found[0].message
    assert svc.store.get(key) == forged  # evidence left as it is
    versions = [i.key for i in svc.store.list(f"accounts/{who}/")]
    with pytest.raises(LoginFailed) as at_login:  # main: logs in with Tuyệt mật
        svc.authenticate(who, GOOD)
    assert isinstance(at_login.value.__cause__, AccountDowngraded)  # a wrong password's answer
    with pytest.raises(AccountDowngraded) as refused:  # a quản trị reading it is told plainly
        svc.get(who)
    assert refused.value.code == "ACCOUNT_DOWNGRADED" and refused.value.http_status == 403
    assert "kho fsck" in refused.value.message
    assert [i.key for i in svc.store.list(f"accounts/{who}/")] == versions  # nothing built on it


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_newest_version_written_over_in_an_old_format_is_reported_and_refused(
    backend: str, tmp_path: Path
) -> None:
    """The same change written over the newest key in place (S3 versioning, the local folder's
    version files keep the one before)."""
    repo, svc, who = _agency(backend, tmp_path)
    admin = svc.authenticate("vienqt.ubnd", GOOD)
    new, _ = svc.create_account("Lê Văn Cường", VP, [Role.CHUYEN_VIEN], 0, None, admin)  # v000001 only
    for username in (who, new.username):
        keys = [i.key for i in svc.store.list(f"accounts/{username}/")]
        number, forged = _old_format(svc, username, clearance=3)
        data = json.loads(forged)
        data["version"] = number - 1
        svc.store.put(keys[-1], json.dumps(data, ensure_ascii=False).encode())
        found = [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "downgraded"]
        assert keys[-1] in [i.subject for i in found]
        with pytest.raises(AccountDowngraded):  # main: read as the newest version
            svc.get(username)
    # The one version of the new account: only the store's versions of its key show it.
    (only,) = [i for i in found if i.subject == account_key(new.username, 1)]
    assert "ghi đè" in only.message


def test_old_formats_followed_by_newer_ones_are_no_finding(tmp_path: Path) -> None:
    """An account written by three releases in turn (fixtures of format 0, then format 1 via a
    copy, then the current one by this Kho): formats only go up."""
    repo, svc, _ = _agency("local", tmp_path)
    for n in (1, 2, 3):
        raw = (FIXTURES / "v0" / "account" / f"accounts_annv.vpub_v00000{n}.json").read_bytes()
        svc.store.put_if_absent(account_key("annv.vpub", n), raw)
    assert svc.get("annv.vpub").version == 3  # the newest is of format 0 after format 0: read
    assert not [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "downgraded"]
    assert formats.downgrades([0, 0, 1, 2, 4, 4]) == []
    assert formats.downgrades([0, 4, 2, 4, 3]) == [2, 4]


def test_a_rolled_back_kho_cannot_write_a_downgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Kho of the release before (accounts of format 3) reads an account whose newest version
    is of format 4: it refuses (FORMAT_UNSUPPORTED), so it never writes the next version from it."""
    _, svc, who = _agency("local", tmp_path)
    older = formats.Kind(
        "account",
        "phiên bản tài khoản",
        (formats.legacy_stamp("format", 1, "x"), formats._same, formats._same),
    )
    monkeypatch.setitem(formats.KINDS, "account", older)
    with pytest.raises(FormatUnsupported):
        svc.get(who)


def test_restored_events_carry_the_time_of_the_change(tmp_path: Path) -> None:
    """r14 item 3: the writer died between the account's version and its event; the event fsck
    restores is at fsck's time, and names the change's own time too."""
    repo, svc, who = _agency("local", tmp_path)
    number, _ = _old_format(svc, who)
    newest = Account.from_dict(json.loads(svc.store.get(account_key(who, number - 1))))
    locked = {**newest.to_dict(), "status": "locked", "lock_reason": "admin", "version": number,
              "changed_at": "2026-05-01T03:04:05.000000Z", "changed_by": "vienqt.ubnd"}
    key = account_key(who, number)
    locked["audit"] = [{"actor": "vienqt.ubnd", "action": "account:lock", "source": None,
                        "details": {"object": key, "username": who, "reason": "admin"}}]
    svc.store.put_if_absent(key, formats.dumps(formats.ACCOUNT.name, locked))
    fsck(repo, repair=True, grace_seconds=0)
    (restored,) = [e for e in AuditLog(svc.store).events() if e.details.get("object") == key]
    assert restored.actor == "system:fsck" and restored.details["recorded_actor"] == "vienqt.ubnd"
    assert restored.details["recorded_at"] == "2026-05-01T03:04:05.000000Z"
    assert restored.at != restored.details["recorded_at"]



@pytest.mark.parametrize("backend", BACKENDS)
def test_a_version_of_the_current_format_without_its_events_is_reported_and_refused(
    backend: str, tmp_path: Path
) -> None:
    """No downgrade needed: the current format with the ``audit`` field left out. Every account
    version of format 4 and unit version of format 2 Kho writes carries it; fsck step 10 skipped
    such a version as one "written before versions carried events"."""
    repo, svc, who = _agency(backend, tmp_path)
    keys = [i.key for i in svc.store.list(f"accounts/{who}/")]
    data = json.loads(svc.store.get(keys[-1]))
    number = int(keys[-1].rsplit("/v", 1)[1]) + 1
    del data["audit"]
    data.update(version=number, clearance=3)
    key = account_key(who, number)
    svc.store.put_if_absent(key, json.dumps(data, ensure_ascii=False).encode())
    unit_keys = [i.key for i in svc.store.list(f"units/{VP}/")]
    unit = json.loads(svc.store.get(unit_keys[-1]))
    del unit["audit"]
    unit.update(version=unit["version"] + 1, parent_id=None)
    unit_key = f"units/{VP}/v{unit['version']:06d}"
    svc.store.put_if_absent(unit_key, json.dumps(unit, ensure_ascii=False).encode())
    found = {i.subject: i for i in fsck(repo, repair=True, grace_seconds=0).issues if i.kind == "unaudited"}
    assert set(found) == {key, unit_key}  # main: neither
    assert not any(i.repairable or i.repaired for i in found.values())
    with pytest.raises(LoginFailed) as refused:
        svc.authenticate(who, GOOD)
    assert isinstance(refused.value.__cause__, AccountDowngraded)
    assert refused.value.__cause__.code == "ACCOUNT_UNAUDITED"


@pytest.mark.parametrize("backend", BACKENDS)
def test_at_login_a_refused_account_answers_as_a_wrong_password_and_is_audited(
    backend: str, tmp_path: Path
) -> None:
    """The refusal comes before any password check: its own answer (``ACCOUNT_DOWNGRADED``, 403,
    the name in the message) told anyone which names exist and were tampered with (review r18).
    At every path that checks a password it is now the wrong password's answer, word for word;
    the operator sees it in the log and the auditor in an ``account:login-failed`` event."""
    repo, svc, who = _agency(backend, tmp_path)
    with pytest.raises(LoginFailed) as wrong:
        svc.authenticate(who, "not-the-password")
    number, forged = _old_format(svc, who, clearance=3)
    svc.store.put_if_absent(account_key(who, number), forged)
    attempts = (
        lambda: svc.authenticate(who, "anything at all"),  # s3/r18: AccountDowngraded, 403
        lambda: svc.authenticate(who, GOOD),
        lambda: svc.authenticate_unrecorded(who, GOOD),
        lambda: svc.change_password(who, GOOD, "Mật-khẩu-mới-2027!"),
    )
    for attempt in attempts:
        with pytest.raises(LoginFailed) as refused:
            attempt()
        assert (refused.value.code, refused.value.http_status, refused.value.message) == (
            wrong.value.code,
            wrong.value.http_status,
            wrong.value.message,
        )
        assert isinstance(refused.value.__cause__, AccountDowngraded)
    reasons = [
        e.details.get("reason")
        for e in repo.audit.events()
        if e.action == "account:login-failed" and e.actor == who
    ]
    assert reasons.count("downgraded") == len(attempts)
