"""Review r5 of the password form ``/audit/acknowledge``, reviewed as ``/login`` is: reachable
without a session while every login is refused, so guessing there must meet the same limiter
and account lock, and answer an unknown user, a wrong password and a locked account alike."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.accounts import Status
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.app import create_app
from web.context import Kho

REASON = "Xóa nhầm khi dọn thư mục; đã đối chiếu bản sao lưu."


def _locked_up(kho: Kho, people: People) -> None:
    for n in (1, 2, 3):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"g{n}"), "cv.pdf", people.actor("van_thu")
        )
    kho.repo.store.delete([info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1])
    kho.repo.store.delete(WITNESS_KEY)


def _post(web: FlaskClient, username: str, password: str, **fields: str) -> Any:
    page = web.get("/audit/acknowledge").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    data = {"username": username, "password": password, "csrf_token": found.group(1), "reason": REASON}
    return web.post("/audit/acknowledge", data={**data, **fields})


def _trusted(web: FlaskClient, username: str) -> None:
    """This browser logs in once (a device cookie of the account, review a21) and leaves no session:
    its wrong passwords count towards the account's own lock."""
    page = web.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    done = web.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert done.status_code == 302
    web.delete_cookie("kho_session")


def _error(response: Any) -> str:
    found = re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


@pytest.fixture
def web(kho: Kho, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    return create_app(kho.settings, kho=kho).test_client()


def test_guessing_the_auditors_password_on_the_form_locks_the_account_while_the_log_refuses(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    """The 5th wrong password locks the account although its events cannot be written; the
    right password after that is refused (it learns of the lock), and shows no finding."""
    auditor = people.usernames["kiem_toan"]
    _trusted(web, auditor)
    _locked_up(kho, people)
    for _ in range(kho.settings.login_max_failures):
        assert _post(web, auditor, "Sai-mat-khau-1").status_code == 401
    assert kho.accounts.get(auditor).status is Status.LOCKED
    right = _post(web, auditor, PASSWORD)
    assert right.status_code == 401
    assert "Thiếu bản ghi chứng" not in html.unescape(right.get_data(as_text=True))
    assert not kho.repo.store.exists(WITNESS_KEY)


def test_guessing_on_the_form_from_a_new_browser_locks_new_browsers_while_the_log_refuses(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    """Review a21: without a device cookie the 5th wrong password locks logins from new browsers
    (not the account) although its events cannot be written; the right password from a new
    browser is then refused and shows no finding; the answers stay those of a wrong password."""
    _locked_up(kho, people)
    auditor = people.usernames["kiem_toan"]
    unknown = _post(web, "khong.ton.tai", "Sai-mat-khau-1")
    for _ in range(kho.settings.login_max_failures + 1):  # the last one after the lock
        wrong = _post(web, auditor, "Sai-mat-khau-1")
    account = kho.accounts.get(auditor)
    assert account.status is Status.ACTIVE and account.untrusted_lock_until is not None
    assert wrong.status_code == unknown.status_code == 401 and _error(wrong) == _error(unknown) != ""
    right = _post(web, auditor, PASSWORD)
    # Review a23: refused without checking the password; a new browser on a network the account
    # never used gets the unknown name's answer (before a23: the lock's message, to the right
    # password only).
    assert right.status_code == 401 and _error(right) == _error(unknown)
    assert "Thiếu bản ghi chứng" not in html.unescape(right.get_data(as_text=True))
    assert not kho.repo.store.exists(WITNESS_KEY)


def test_the_form_answers_an_unknown_user_a_wrong_password_and_a_locked_account_alike(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    _trusted(web, people.usernames["luu_tru"])  # its wrong passwords lock the account (a21)
    _locked_up(kho, people)
    unknown = _post(web, "khong.ton.tai", "Sai-mat-khau-1")
    wrong = _post(web, people.usernames["kiem_toan"], "Sai-mat-khau-1")
    for _ in range(kho.settings.login_max_failures):
        _post(web, people.usernames["luu_tru"], "Sai-mat-khau-1")
    # The one after the lock from a stranger's browser (review a23: the trusted browser is told).
    stranger = web.application.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    locked = _post(stranger, people.usernames["luu_tru"], "Sai-mat-khau-1")
    assert kho.accounts.get(people.usernames["luu_tru"]).status is Status.LOCKED
    assert unknown.status_code == wrong.status_code == locked.status_code == 401
    assert _error(unknown) == _error(wrong) == _error(locked) != ""
    # Review a23: the trusted browser learns of the lock, and why, whatever the password (before
    # a23: only the right password did); the stranger's right password learns nothing.
    right = _post(web, people.usernames["luu_tru"], PASSWORD)
    assert right.status_code == 401 and "đang bị khóa" in _error(right)
    assert _error(_post(web, people.usernames["luu_tru"], "Sai-mat-khau-2")) == _error(right)
    assert _error(_post(stranger, people.usernames["luu_tru"], PASSWORD)) == _error(unknown)


def test_the_form_shares_the_login_limiter(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    """Failures on the form and on /login count together per (IP, user): past the limit both
    answer 429, the right password included."""
    _locked_up(kho, people)
    web.application.extensions["kho_login_limiter"].attempts = 3
    auditor = people.usernames["kiem_toan"]
    for _ in range(3):
        assert _post(web, auditor, "Sai-mat-khau-1").status_code == 401
    assert _post(web, auditor, PASSWORD).status_code == 429
    page = web.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    login = web.post("/login", data={"username": auditor, "password": PASSWORD, "csrf_token": token.group(1)})
    assert login.status_code == 429
