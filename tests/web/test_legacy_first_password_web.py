"""An account made before the two-person first password by one quản trị alone and never used
(review r13 item 11) on the pages, the API and the CLI: its right password is refused with a
Vietnamese message and ``PASSWORD_NOT_CONFIRMED`` (never a 500), and the accounts page tells the
quản trị what to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_web import csrf, login, text

from kho.timeutil import to_iso_utc
from repository.accounts import account_key
from web.context import Kho

FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "v1" / "account"
    / "accounts_annv.vpub_v000001.json"
)
WHOLE = "Khởi-tạo@2026-cũ"
PUPPET = "annv.vpub"


def _store_puppet(kho: Kho, people: People) -> None:
    data = json.loads(FIXTURE.read_text())
    data["password_hash"] = kho.accounts.hasher.hash(WHOLE)
    data["memberships"] = [{"role": "chuyen_vien", "unit": AGENCY}]
    data["changed_by"] = people.usernames["quan_tri"]
    now = to_iso_utc(datetime.now(UTC))  # made recently: not idle-locked by the 90 days
    data.update(created_at=now, password_changed_at=now, changed_at=now)
    kho.accounts.store.put_if_absent(account_key(PUPPET, 1), json.dumps(data, ensure_ascii=False).encode())


def test_the_pages_refuse_it_and_show_the_quan_tri_what_to_do(
    web: FlaskClient, client: FlaskClient, kho: Kho, people: People
) -> None:
    _store_puppet(kho, people)
    token = csrf(web)
    refused = web.post("/login", data={"username": PUPPET, "password": WHOLE, "csrf_token": token})
    assert refused.status_code == 401
    assert "hai người" in text(refused) and "cấp lại mật khẩu" in text(refused)
    api = client.post("/api/login", json={"username": PUPPET, "password": WHOLE})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "PASSWORD_NOT_CONFIRMED"
    login(web, people, "quan_tri")
    page = text(web.get("/admin/accounts"))
    assert "Chờ đặt lại mật khẩu hai người" in page
    assert page.count("Chờ đặt lại mật khẩu hai người") == 1  # only the puppet


def test_the_cli_refuses_it_with_its_code(kho: Kho, people: People) -> None:
    from web.cli import main

    _store_puppet(kho, people)
    result = CliRunner().invoke(main, ["login", PUPPET, "--password-stdin"], input=f"{WHOLE}\nKho@2026-mới\n")
    assert result.exit_code != 0
    assert "PASSWORD_NOT_CONFIRMED" in result.output and "hai người" in result.output
    assert not list(kho.accounts.store.list(f"accounts/{PUPPET}/v000002"))
