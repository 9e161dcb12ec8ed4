"""Review rv46, attack on ``kho account accept-rollback`` (s18, rv44): a person whose password
became known to someone else changes it; that someone, a writer of the store (no seal key, no
host witness), deletes the account version the change wrote; the operator, seeing
``ACCOUNT_ROLLED_BACK`` and no backup, accepts the rollback. The stored version holds the
password its owner gave up. Held: no password of the account works after an accepted rollback
(``PASSWORD_NOT_CONFIRMED``, the version that set it cannot be read: it is one of the lost ones)
until a quản trị's two-person reset, so the old password opens nothing. But the operator was told
"người dùng phải đổi mật khẩu khi đăng nhập" (the person would log in and change it), which is
not what happens: they are now told that a quản trị must reset the password. Real HTTP
(Werkzeug's client), the ``kho`` command, local store sealed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_web import error_code

from kho.errors import KhoError
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.sealed

CHANGED = "Mật-khẩu-mới-hơn-2026!"
THIEF = "Kẻ-gian-đặt-lại-2026!"


def test_after_an_accepted_rollback_the_given_up_password_opens_nothing_and_the_operator_is_told_so(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    name = people.usernames["chuyen_vien"]
    kho.accounts.change_password(name, PASSWORD, CHANGED)
    kho.repo.store.delete([i.key for i in kho.repo.store.list(f"accounts/{name}/")][-1])
    with pytest.raises(KhoError) as rolled_back:
        kho.accounts.get(name)
    assert rolled_back.value.code == "ACCOUNT_ROLLED_BACK"
    why = "Ổ đĩa hỏng, không có bản sao"
    ran = CliRunner().invoke(main, ["account", "accept-rollback", name, "--reason", why])
    assert ran.exit_code == 0, ran.output
    said = ran.output
    assert "cấp lại mật khẩu" in said and "phải đổi mật khẩu khi đăng nhập" not in said, said
    for password in (PASSWORD, CHANGED):
        answer = client.post("/api/login", json={"username": name, "password": password})
        body = answer.get_json() or {}
        assert answer.status_code in (401, 403) and "token" not in body, body
    old = client.post("/api/login", json={"username": name, "password": PASSWORD})
    assert error_code(old) == "PASSWORD_NOT_CONFIRMED"
    with pytest.raises(KhoError) as refused:  # the thief's "new password asked for"
        kho.accounts.change_password(name, PASSWORD, THIEF)
    assert refused.value.code == "PASSWORD_NOT_CONFIRMED"
    # The way back: the two-person reset asked for.
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.reset_password(name, admin)
    assert kho.accounts.get(name).reset is not None
