"""u11: the record page offers the withdrawal of the document's unfinished recall (u10's API
``POST /api/records/{id}/recall/withdraw``) to exactly the people :meth:`Recalls.withdraw` allows:
the person who started it and a lãnh đạo over the document. The form asks first (a Vietnamese
``data-confirm``), carries the CSRF token like every form, and the page then says what was done.
Anyone else sees no button, and a post made anyway is refused with its code and changes nothing.
Flask's client for the rule, real Chromium for the button, its question and the result."""

# ruff: noqa: F811 - the harness fixtures (server, browser, shots, axe_source) are imported by name
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import AGENCY, PASSWORD, UNIT_B, People, create_person
from kho_testing import outgoing, pdf_bytes

from kho.errors import StoreUnavailable
from repository.policy import Role
from retention.recall import Recalls
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ORDER = "Công văn số 51/UBND-VP"
REASON = "Ban hành sai thẩm quyền"
FORM = 'id="recall-open"'


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def _stopped_recall(kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A văn bản đi whose recall run (by the văn thư) stopped at its hold: left ``recorded``."""
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 51"), pdf_bytes("u11 page"), "qd.pdf", people.actor("van_thu")
    )
    with monkeypatch.context() as patch:
        patch.setattr(kho.repo, "place_hold", _store_down)
        with pytest.raises(StoreUnavailable):
            Recalls(kho.repo).recall_outgoing(doc.record_id, ORDER, REASON, actor=people.actor("van_thu"))
    return doc.record_id, _states(kho, doc.record_id)[0][0]


def _states(kho: Kho, record_id: str) -> list[tuple[str, str]]:
    return [
        (r["recall_id"], r["state"]) for r in Recalls(kho.repo).recalls.all() if r["record_id"] == record_id
    ]


def _others(kho: Kho, people: People) -> dict[str, str]:
    """Who may see the document but not withdraw its recall: another văn thư of the agency, and a
    văn thư of the agency who leads another unit (review rv13)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    clerk, _ = create_person(
        kho.accounts, "Văn Thư Thứ Hai", AGENCY, ("van_thu",), 3, None, admin, confirmer=head
    )
    lead_b, _ = create_person(
        kho.accounts, "Văn Thư Kiêm Trưởng Phòng", AGENCY, ("van_thu",), 3, None, admin, confirmer=head
    )
    kho.accounts.set_roles(lead_b.username, [(AGENCY, Role.VAN_THU), (UNIT_B, Role.LANH_DAO)], admin)
    return {"another văn thư": clerk.username, "lãnh đạo of another unit": lead_b.username}


def _login(web: FlaskClient, username: str) -> None:
    token = CSRF.search(web.get("/login").get_data(as_text=True))
    assert token
    answer = web.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)


def _page(web: FlaskClient, record_id: str) -> tuple[str, str]:
    html = web.get(f"/records/{record_id}").get_data(as_text=True)
    token = CSRF.search(html)
    assert token
    return html, token.group(1)


def test_the_record_page_withdraws_for_the_starter_and_a_lanh_dao_only(
    app: Flask, kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_id, recall_id = _stopped_recall(kho, people, monkeypatch)
    action = f"/records/{record_id}/recall/withdraw"
    for label, username in _others(kho, people).items():
        web = app.test_client()
        _login(web, username)
        html, token = _page(web, record_id)
        assert "Văn bản đã bị thu hồi theo" in html, label  # they see the document and its mark
        assert FORM not in html and action not in html, label
        posted = web.post(action, data={"reason": "Thử", "csrf_token": token})
        body = posted.get_data(as_text=True)
        assert posted.status_code == 403 and "RECALL_WITHDRAW_NOT_ALLOWED" in body, (label, body)
        assert _states(kho, record_id) == [(recall_id, "recorded")], label
    denied = [e for e in kho.repo.audit.record_events(record_id) if e.action == "access:denied"]
    assert [(e.details or {}).get("code") for e in denied] == ["RECALL_WITHDRAW_NOT_ALLOWED"] * 2

    starter = app.test_client()
    _login(starter, people.usernames["van_thu"])
    html, starter_token = _page(starter, record_id)
    assert FORM in html and f'action="{action}"' in html and ORDER in html and recall_id in html
    assert 'data-confirm="Rút lại lệnh thu hồi theo ' + ORDER in html
    no_csrf = starter.post(action, data={"reason": "Ghi nhầm căn cứ"})
    assert no_csrf.status_code == 400 and _states(kho, record_id) == [(recall_id, "recorded")]
    blank = starter.post(action, data={"reason": "  ", "csrf_token": starter_token})
    assert blank.status_code == 422 and "RECALL_REF_REQUIRED" in blank.get_data(as_text=True)

    leader = app.test_client()
    _login(leader, people.usernames["lanh_dao"])
    html, token = _page(leader, record_id)
    assert FORM in html
    done = leader.post(action, data={"reason": "Ghi nhầm căn cứ", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/records/{record_id}")
    after = leader.get(f"/records/{record_id}").get_data(as_text=True)
    assert f"Đã rút lại lệnh thu hồi (mã {recall_id}, căn cứ: {ORDER})" in after
    assert FORM not in after and "Văn bản đã bị thu hồi theo" not in after  # the mark is off
    assert _states(kho, record_id) == [(recall_id, "withdrawn")]
    events = [e for e in kho.repo.audit.record_events(record_id) if e.action == "recall:withdraw"]
    assert [(e.actor, (e.details or {}).get("reason")) for e in events] == [
        (people.actor("lanh_dao").user, "Ghi nhầm căn cứ")
    ]
    again = starter.post(action, data={"reason": "Lần nữa", "csrf_token": starter_token})
    assert again.status_code == 409 and "RECALL_NOT_OPEN" in again.get_data(as_text=True)


@pytest.mark.slow
def test_the_withdrawal_button_asks_first_in_chromium(
    server: str,
    browser: Any,
    kho: Kho,
    people: People,
    shots: Path,
    axe_source: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_id, recall_id = _stopped_recall(kho, people, monkeypatch)
    other = _others(kho, people)["another văn thư"]
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    walk.login(other)
    page.wait_for_url(server + "/")
    walk.go(f"/records/{record_id}")
    assert "Văn bản đã bị thu hồi theo" in page.inner_text("main")
    assert page.locator("#recall-open").count() == 0
    walk.logout()

    walk.login(people.usernames["van_thu"])
    page.wait_for_url(server + "/")
    walk.go(f"/records/{record_id}")
    box = page.locator("#recall-open")
    assert ORDER in box.inner_text() and recall_id in box.inner_text()
    walk.check("rut-lai-lenh-thu-hoi")
    page.fill("#recall-withdraw-reason", "Ghi nhầm căn cứ")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("#recall-open button[type=submit]")
    assert asked and asked[0].startswith(f"Rút lại lệnh thu hồi theo {ORDER}?"), asked
    assert _states(kho, record_id) == [(recall_id, "recorded")]  # dismissed: nothing sent

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#recall-open button[type=submit]")
    assert f"Đã rút lại lệnh thu hồi (mã {recall_id}" in page.inner_text("main")
    assert page.locator("#recall-open").count() == 0
    assert _states(kho, record_id) == [(recall_id, "withdrawn")]
    context.close()
    assert not script_errors, script_errors
    assert walk.axe_checked == ["rut-lai-lenh-thu-hoi"]
    assert not walk.violations, walk.violations
