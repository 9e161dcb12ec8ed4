"""The acknowledgement on the web: the form at ``/audit/acknowledge`` (POST + CSRF, role
``kiem_toan`` only, the password asked every time because no login can be recorded while the log
is broken) and ``POST /api/audit/acknowledge`` beside ``/api/audit/verify``."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.app import create_app
from web.context import Kho

REASON = "Xóa nhầm khi dọn thư mục; đã đối chiếu bản sao lưu."


def _locked_up(kho: Kho, people: People) -> None:
    for n in (1, 2, 3):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"w{n}"), "cv.pdf", people.actor("van_thu")
        )
    last = [info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1]
    kho.repo.store.delete(last)
    kho.repo.store.delete(WITNESS_KEY)


def _csrf(web: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', web.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def _login(web: FlaskClient, people: People, who: str) -> Any:
    return web.post(
        "/login",
        data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": _csrf(web, "/login")},
    )


def _post(web: FlaskClient, people: People, who: str, **fields: str) -> Any:
    token = _csrf(web, "/audit/acknowledge")
    data = {"username": people.usernames[who], "password": PASSWORD, "csrf_token": token}
    return web.post("/audit/acknowledge", data={**data, **fields})


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def web(kho: Kho, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    return create_app(kho.settings, kho=kho).test_client()


def test_the_auditor_acknowledges_on_the_web_page_without_a_session(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    _locked_up(kho, people)
    assert _login(web, people, "kiem_toan").status_code in (401, 503)  # no login can be recorded
    assert web.get("/audit/acknowledge").status_code == 200
    shown = _post(web, people, "kiem_toan", reason=REASON)
    assert shown.status_code == 200, _text(shown)
    found = re.search(r'id="findings-digest">([0-9a-f]{64})<', shown.get_data(as_text=True))
    assert found and "Thiếu bản ghi chứng (witness)" in _text(shown)
    assert not kho.repo.store.exists(WITNESS_KEY)  # the preview writes nothing
    done = _post(web, people, "kiem_toan", findings=found.group(1), reason=REASON)
    assert done.status_code == 200, _text(done)
    assert "Đã ghi quyết định chấp nhận" in _text(done)
    other = create_app(kho.settings, kho=kho).test_client()
    assert _login(other, people, "van_thu").status_code == 302  # logins work again
    assert _login(web, people, "kiem_toan").status_code == 302
    page = _text(web.get("/audit/verify"))
    assert "Đã được kiểm toán viên chấp nhận" in page and REASON in page


def test_the_web_form_refuses_a_non_auditor_a_missing_csrf_and_a_stale_digest(
    audit_signing_key: Path, kho: Kho, people: People, web: FlaskClient
) -> None:
    _locked_up(kho, people)
    clerk = _post(web, people, "van_thu", reason=REASON)
    assert clerk.status_code == 403, _text(clerk)
    assert "Thiếu bản ghi chứng" not in _text(clerk)  # the findings are for auditors only
    forged = web.post(
        "/audit/acknowledge",
        data={"username": people.usernames["kiem_toan"], "password": PASSWORD, "findings": "0" * 64,
              "reason": REASON},
    )
    assert forged.status_code == 400
    stale = _post(web, people, "kiem_toan", findings="0" * 64, reason=REASON)
    assert stale.status_code == 409 and "FINDINGS_CHANGED" in _text(stale)
    wrong = web.post(
        "/audit/acknowledge",
        data={"username": people.usernames["kiem_toan"], "password": "sai", "reason": REASON,
              "csrf_token": _csrf(web, "/audit/acknowledge")},
    )
    assert wrong.status_code == 401
    assert not kho.repo.store.exists(WITNESS_KEY)


def test_the_api_acknowledges_with_an_auditor_token_only(
    audit_signing_key: Path, kho: Kho, people: People, client: FlaskClient
) -> None:
    _locked_up(kho, people)
    # The running process writes its next act past the cut once (f1) — this check's own event —
    # so the findings the auditor acknowledges are those of the check after it.
    client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
    checked = client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json
    assert checked["ok"] is False and checked["findings_digest"]
    body = {"findings": checked["findings_digest"], "reason": REASON}
    denied = client.post("/api/audit/acknowledge", json=body, headers=people.headers("van_thu"))
    assert denied.status_code == 403, denied.get_data(as_text=True)
    stale = client.post(
        "/api/audit/acknowledge", json={**body, "findings": "0" * 64}, headers=people.headers("kiem_toan")
    )
    assert stale.status_code == 409 and stale.json["error"]["code"] == "FINDINGS_CHANGED"
    done = client.post("/api/audit/acknowledge", json=body, headers=people.headers("kiem_toan"))
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.json["ok"] is True
    after = client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json
    assert after["ok"] is True and all(f["acknowledged"] for f in after["findings"])
    again = client.post("/api/audit/acknowledge", json=body, headers=people.headers("kiem_toan"))
    assert again.status_code == 409 and again.json["error"]["code"] == "NOTHING_TO_ACKNOWLEDGE"


def test_the_api_refuses_without_the_signing_key_not_with_a_500(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    _locked_up(kho, people)
    digest = client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json["findings_digest"]
    refused = client.post(
        "/api/audit/acknowledge",
        json={"findings": digest, "reason": REASON},
        headers=people.headers("kiem_toan"),
    )
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.json["error"]["code"] == "AUDIT_KEY_MISSING"
    assert "KHO_AUDIT_SIGNING_KEY" in refused.json["error"]["message"]
    assert not kho.repo.store.exists(WITNESS_KEY)
