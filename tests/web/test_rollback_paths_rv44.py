"""Review rv44, attack on s18's rollback refusal: the paths other than a bearer token. The
account of a chuyên viên is rolled back in the store (its newest version deleted; the audit log
names it). Its browser session (a cookie, not a bearer token), and the quản trị's acts on it
(password reset, unlock, roles) must not read the older version as the account and act on it:
each is refused, and nothing is written to the account. Real HTTP (Werkzeug's client, logged in
through ``/login``), local store sealed with ``KHO_MASTER_KEY``."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import AGENCY
from kho_web import error_code, logged_in

from web.context import Kho

pytestmark = pytest.mark.sealed
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_rolled_back_account_is_refused_on_every_path_and_nothing_acts_on_its_old_version(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    name = people.usernames["chuyen_vien"]
    browser = logged_in(app, people, "chuyen_vien")
    assert browser.get("/").status_code == 200
    lock = client.post(
        f"/api/accounts/{name}/lock", json={"reason": "admin"}, headers=people.headers("quan_tri")
    )
    assert lock.status_code == 200, lock.get_json()
    kho.repo.store.delete([i.key for i in kho.repo.store.list(f"accounts/{name}/")][-1])
    versions = [i.key for i in kho.repo.store.list(f"accounts/{name}/")]
    # The session cookie opened before the lock, on the unlocked version the store now holds.
    page = browser.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login"), page.status_code
    admin = people.headers("quan_tri")
    for path, body in (
        (f"/api/accounts/{name}/reset", {}),
        (f"/api/accounts/{name}/unlock", {}),
        (f"/api/accounts/{name}/roles", {"memberships": [{"unit": AGENCY, "role": "quan_tri"}]}),
    ):
        answer = client.post(path, json=body, headers=admin)
        refused = (answer.status_code, error_code(answer))
        assert refused == (403, "ACCOUNT_ROLLED_BACK"), (path, answer.get_json())
    assert [i.key for i in kho.repo.store.list(f"accounts/{name}/")] == versions  # nothing written
