"""The audit page's check after a cut end: the auditor gets the findings, not the refusal that
tells them to look (``/api/audit/verify`` records its own event, which a broken chain refuses)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.app import create_app
from web.context import Kho


def test_the_audit_check_reports_a_cut_tail_instead_of_refusing(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    for n in (1, 2):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"v{n}"), "cv.pdf", people.actor("van_thu")
        )
    assert client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json["ok"] is True
    last = [info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1]
    kho.repo.store.delete(last)
    kho.repo.store.delete(WITNESS_KEY)
    for _ in range(2):  # the running process (it saw the witness), then again
        checked = client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
        assert checked.status_code == 200, checked.get_data(as_text=True)
        assert checked.json["ok"] is False
        assert "truncated" in [f["kind"] for f in checked.json["findings"]]
    assert not kho.repo.store.exists(WITNESS_KEY)  # and nothing papered over the cut


def test_the_audit_page_shows_a_cut_tail_and_a_login_after_it_is_refused_with_the_message(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page the auditor opens (``/audit/verify``) lists the findings; a login after the cut
    (it records ``account:login``) is refused with the Vietnamese message, not a 500."""
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    web = create_app(kho.settings, kho=kho).test_client()
    kho.repo.create_document("den", incoming(), pdf_bytes("p1"), "cv.pdf", people.actor("van_thu"))
    _login(web, people, "kiem_toan")
    clerk = people.actor("van_thu")
    kho.repo.create_document("den", incoming(code_number="2"), pdf_bytes("p2"), "cv.pdf", clerk)
    last = [info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1]
    kho.repo.store.delete(last)
    kho.repo.store.delete(WITNESS_KEY)
    page = web.get("/audit/verify")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "Thiếu bản ghi chứng (witness)" in html.unescape(page.get_data(as_text=True))
    other = create_app(kho.settings, kho=kho).test_client()
    refused = _login(other, people, "van_thu")
    assert refused.status_code in (401, 503)
    assert "kiểm toán" in html.unescape(refused.get_data(as_text=True))


def _login(client: FlaskClient, people: People, who: str) -> Any:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert found
    return client.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": found.group(1)}
    )
