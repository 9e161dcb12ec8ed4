"""Accounts made before the two-person first password (g1) by one quản trị alone, never used by
their person (review r13 item 11): their password is still the whole initial password the
creator received, so the creator could log in as them (a puppet). They are refused at every
login, password change and token with ``PASSWORD_NOT_CONFIRMED`` until the two-person reset
gives the person a password nobody else holds. The accounts that are one-person on purpose
keep working: the operator's ``kho account init``, the operator's ``recover``, accounts whose
person has set a password.

The puppets are the stored fixtures of the old formats (``tests/fixtures/formats/v0`` and
``v1``, written by the code of their time), with only the password hash replaced by the hash of
a password the test knows (the fixtures' own initial password was random and not kept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from kho_people import create_person
from kho_testing import ManualClock

from kho.errors import LoginFailed, PasswordChangeRequired, PasswordNotConfirmed, PermissionDenied
from repository import formats
from repository.accounts import AccountService, Role, Status, account_key, password_unconfirmed
from repository.audit import AuditLog
from repository.storage.local import LocalStore

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
ROOT = "000.00.18.H40"
VP = "000.01.18.H40"
WHOLE = "Khởi-tạo@2026-cũ"
"""The whole initial password the creator received under the old rule (stands for the random one)."""
GOOD = "Kho@2026-mới"
PUPPET = "annv.vpub"

LEGACY = {
    "v0-created": ("v0/account/accounts_annv.vpub_v000001.json",),
    "v0-roles-changed": (
        "v0/account/accounts_annv.vpub_v000001.json",
        "v0/account/accounts_annv.vpub_v000002.json",
    ),
    "v1-created": ("v1/account/accounts_annv.vpub_v000001.json",),
}


def _fixture(name: str, hasher: PasswordHasher, password: str = WHOLE) -> bytes:
    data = json.loads((FIXTURES / name).read_text())
    data["password_hash"] = hasher.hash(password)
    return json.dumps(data, ensure_ascii=False).encode()


def _agency(tmp_path: Path) -> tuple[AccountService, object, object]:
    """The root unit and its quản trị ``vienqt.ubnd`` (made by ``kho account init``, password
    set), the unit 000.01.18.H40 and its lãnh đạo (made under g1). Returns (service, quản trị,
    lãnh đạo)."""
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    _, admin, initial = svc.bootstrap(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    assert admin.username == "vienqt.ubnd"  # the creator named by the fixtures
    svc.change_password(admin.username, initial, GOOD)
    admin = svc.get(admin.username)
    svc.create_unit(VP, "Văn phòng UBND", "vpub", ROOT, admin)
    # The head holds Mật, the puppet fixtures' clearance: only a person holding it confirms a
    # reset of a Mật account made by a quản trị who does not (review a24).
    head, _ = create_person(svc, "Lưu Quang Hưng", VP, [Role.LANH_DAO], 1, None, admin)
    return svc, admin, head


def _with_puppet(tmp_path: Path, case: str) -> tuple[AccountService, object, object]:
    svc, admin, head = _agency(tmp_path)
    for name in LEGACY[case]:
        version = int(name.rsplit("_v", 1)[1].split(".")[0])
        svc.store.put_if_absent(account_key(PUPPET, version), _fixture(name, CHEAP))
    return svc, admin, head


def _versions(svc: AccountService, username: str) -> list[str]:
    return [i.key for i in svc.store.list(f"accounts/{username}/")]


@pytest.mark.parametrize("case", sorted(LEGACY))
def test_a_puppet_of_the_old_rule_is_refused_at_login_and_password_change_with_its_code(
    tmp_path: Path, case: str
) -> None:
    svc, _, _ = _with_puppet(tmp_path, case)
    before = _versions(svc, PUPPET)
    stored = svc.get(PUPPET)
    assert formats.version_of("account", json.loads(svc.store.get(before[-1]))) < 2  # an old format
    for attempt in (
        lambda: svc.authenticate(PUPPET, WHOLE, "10.0.0.9"),
        lambda: svc.authenticate_unrecorded(PUPPET, WHOLE, "10.0.0.9"),
        lambda: svc.change_password(PUPPET, WHOLE, GOOD, "10.0.0.9"),
    ):
        with pytest.raises(PasswordNotConfirmed) as refused:  # main: PasswordChangeRequired / changed
            attempt()
        assert refused.value.code == "PASSWORD_NOT_CONFIRMED"
        assert refused.value.http_status == 403
        assert "hai người" in refused.value.message and "cấp lại mật khẩu" in refused.value.message
    assert _versions(svc, PUPPET) == before  # nothing written: no login, no new password
    assert svc.get(PUPPET).password_hash == stored.password_hash
    refusals = [
        e for e in svc.audit.events()
        if e.action == "account:login-failed" and e.details.get("reason") == "password-not-confirmed"
    ]
    assert len(refusals) == 3 and {e.actor for e in refusals} == {PUPPET}
    # A wrong password learns nothing more than for any account.
    with pytest.raises(LoginFailed):
        svc.authenticate(PUPPET, "sai-mật-khẩu")


def test_a_puppet_gets_no_token(tmp_path: Path) -> None:
    svc, _, _ = _with_puppet(tmp_path, "v0-created")
    puppet = svc.get(PUPPET)
    with pytest.raises(PermissionDenied) as refused:
        svc.issue_token(PUPPET, "api", puppet, "10.0.0.9")
    assert refused.value.code == "PASSWORD_NOT_CONFIRMED"
    assert not any(svc.store.list("tokens/"))


def test_a_puppet_changed_by_the_new_code_is_still_refused(tmp_path: Path) -> None:
    """A role change after the upgrade writes a version of the current format by the quản trị:
    the password is still the creator's (the rule reads the creator from the first version)."""
    svc, admin, _ = _with_puppet(tmp_path, "v1-created")
    svc.set_roles(PUPPET, [(VP, Role.VAN_THU)], admin)
    latest = json.loads(svc.store.get(_versions(svc, PUPPET)[-1]))
    assert latest[formats.FORMAT_KEY] == formats.ACCOUNT.current and latest["version"] == 2
    with pytest.raises(PasswordNotConfirmed):
        svc.authenticate(PUPPET, WHOLE)


def test_the_two_person_reset_opens_a_puppet_for_its_person_only(tmp_path: Path) -> None:
    svc, admin, head = _with_puppet(tmp_path, "v0-roles-changed")
    after, first = svc.reset_password(PUPPET, admin)
    assert after.reset is not None and after.reset.new_account  # listed as never used, not routine
    with pytest.raises(PermissionDenied):  # the creator alone cannot confirm it
        svc.confirm_reset(PUPPET, admin)
    _, second = svc.confirm_reset(PUPPET, head)
    with pytest.raises(LoginFailed):  # the creator's whole password is gone
        svc.authenticate(PUPPET, WHOLE)
    with pytest.raises(PasswordChangeRequired):  # the person, with both halves
        svc.authenticate(PUPPET, first + second)
    svc.change_password(PUPPET, first + second, GOOD)
    assert svc.authenticate(PUPPET, GOOD).username == PUPPET
    assert not svc.password_unconfirmed(svc.get(PUPPET))


def test_accounts_one_person_on_purpose_are_not_refused(tmp_path: Path) -> None:
    """The fixture quản trị of ``kho account init`` (format 0, creator ``system``), never used,
    then locked by wrong passwords and recovered by the operator; and an account whose person
    set a password under the old rule."""
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    svc.create_unit(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", None, None)
    store.put_if_absent(
        account_key("vienqt.ubnd", 1), _fixture("v0/account/accounts_vienqt.ubnd_v000001.json", CHEAP)
    )
    admin = svc.get("vienqt.ubnd")
    assert admin.password_given_out and not svc.password_unconfirmed(admin)
    with pytest.raises(PasswordChangeRequired):  # the ordinary first login, not refused
        svc.authenticate("vienqt.ubnd", WHOLE)
    for _ in range(svc.max_failed):
        with pytest.raises(LoginFailed):
            svc.authenticate("vienqt.ubnd", "sai-mật-khẩu")
    assert svc.get("vienqt.ubnd").status is Status.LOCKED
    recovered = svc.recover("vienqt.ubnd", "khóa do đoán mật khẩu")
    assert recovered.changed_by == "operator" and not svc.password_unconfirmed(recovered)
    with pytest.raises(PasswordChangeRequired):
        svc.authenticate("vienqt.ubnd", WHOLE)
    svc.change_password("vienqt.ubnd", WHOLE, GOOD)
    admin = svc.authenticate("vienqt.ubnd", GOOD)
    # An old account whose person set their password: the same fields but the change made.
    data = json.loads(_fixture("v1/account/accounts_annv.vpub_v000001.json", CHEAP, GOOD))
    data.update(must_change_password=False, password_changed_at="2026-03-02T02:00:00.000000Z")
    svc.create_unit(VP, "Văn phòng UBND", "vpub", ROOT, admin)
    store.put_if_absent(account_key(PUPPET, 1), json.dumps(data).encode())
    assert svc.authenticate(PUPPET, GOOD).username == PUPPET


def test_the_rule_tells_the_creator_apart() -> None:
    """The one rule, on the fields and the creator: ``system`` (``kho account init``) is not a
    puppet's creator; anyone else is, and so is a creator that cannot be read ("")."""
    data = json.loads((FIXTURES / "v1" / "account" / "accounts_annv.vpub_v000001.json").read_text())
    from repository.accounts import Account

    account = Account.from_dict(data)
    assert password_unconfirmed(account, "vienqt.ubnd")
    assert password_unconfirmed(account, "")
    assert not password_unconfirmed(account, "system")


def test_a_puppet_quan_tri_is_not_another_quan_tri(tmp_path: Path) -> None:
    """LAST_ADMIN: a puppet quản trị nobody can log in to does not let the only usable quản trị
    give up the role (else the agency is left with no quản trị anyone can use)."""
    svc, admin, _ = _agency(tmp_path)
    data = json.loads(_fixture("v1/account/accounts_annv.vpub_v000001.json", CHEAP))
    data["memberships"] = [{"role": "quan_tri", "unit": ROOT}]
    svc.store.put_if_absent(account_key(PUPPET, 1), json.dumps(data).encode())
    with pytest.raises(PermissionDenied) as last:
        svc.set_roles(admin.username, [], admin)
    assert last.value.code == "LAST_ADMIN"


def _person_who_set_a_password(svc: AccountService) -> dict[str, object]:
    """The v1 fixture (made by vienqt.ubnd under the old rule) and a version 2 in which the person
    set their own password (format 1, as the code of that time wrote it). Returns version 2."""
    svc.store.put_if_absent(
        account_key(PUPPET, 1), _fixture("v1/account/accounts_annv.vpub_v000001.json", CHEAP)
    )
    own = json.loads(_fixture("v1/account/accounts_annv.vpub_v000001.json", CHEAP, GOOD))
    own.update(
        version=2,
        must_change_password=False,
        password_changed_at="2026-03-02T01:00:30.000000Z",
        changed_at="2026-03-02T01:00:30.000000Z",
        changed_by=PUPPET,
    )
    svc.store.put_if_absent(account_key(PUPPET, 2), json.dumps(own, ensure_ascii=False).encode())
    return own


def test_a_one_person_reset_of_the_old_rule_never_used_is_refused_too(tmp_path: Path) -> None:
    """Before the two-person reset (t2) a quản trị's reset handed them the whole one-time password
    (no time limit): the same puppet, on an account its person had used."""
    svc, admin, head = _agency(tmp_path)
    own = _person_who_set_a_password(svc)
    reset = {
        **own,
        "version": 3,
        "must_change_password": True,
        "password_changed_at": "2026-03-02T01:00:50.000000Z",
        "changed_at": "2026-03-02T01:00:50.000000Z",
        "changed_by": "vienqt.ubnd",
        "password_hash": CHEAP.hash(WHOLE),
    }
    svc.store.put_if_absent(account_key(PUPPET, 3), json.dumps(reset, ensure_ascii=False).encode())
    with pytest.raises(PasswordNotConfirmed):  # main: PasswordChangeRequired, then taken over
        svc.authenticate(PUPPET, WHOLE)
    with pytest.raises(PasswordNotConfirmed):
        svc.change_password(PUPPET, WHOLE, "Kho@2026-khác")
    _, first = svc.reset_password(PUPPET, admin)
    _, second = svc.confirm_reset(PUPPET, head)
    svc.change_password(PUPPET, first + second, "Kho@2026-khác")
    assert svc.authenticate(PUPPET, "Kho@2026-khác").username == PUPPET


def test_a_person_recovered_by_the_operator_keeps_their_own_password(tmp_path: Path) -> None:
    """``recover`` requires a change at the next login but keeps the person's own password: the
    version that set it was the person's, however many versions (failed logins, the lock, the
    recovery) came after it."""
    store = LocalStore(tmp_path / "store")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    svc.create_unit(ROOT, "Ủy ban nhân dân tỉnh", "ubnd", None, None)
    own = _person_who_set_a_password(svc)  # recover is for the only quản trị:
    svc.store.put_if_absent(
        account_key(PUPPET, 3),
        json.dumps({**own, "version": 3, "memberships": [{"role": "quan_tri", "unit": ROOT}]}).encode(),
    )
    for _ in range(svc.max_failed):
        with pytest.raises(LoginFailed):
            svc.authenticate(PUPPET, "sai-mật-khẩu")
    recovered = svc.recover(PUPPET, "khóa do đoán mật khẩu")
    assert recovered.password_given_out and recovered.version > 3
    assert not svc.password_unconfirmed(recovered)
    with pytest.raises(PasswordChangeRequired):
        svc.authenticate(PUPPET, GOOD)
