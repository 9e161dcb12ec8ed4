"""u13 (u12's open items): who drafts a Danh mục hồ sơ does not issue it, and the pages offer
neither the plan's author nor a destruction's proposer the head's step they would be refused.

* ``issue_plan`` checked only the plan's state: its author, holding lãnh đạo too, had it approved
  by another lãnh đạo and then issued it themselves (200). Now refused, 422 PLAN_SELF_ISSUE, by
  the same rule as the approval (:func:`retention.fileplan.is_author`).
* The destruction page showed the "Thành lập hội đồng" form (and later the decision form) to the
  proposer who holds lãnh đạo; posting it was refused (u12). The page now asks the same rule
  (:func:`retention.destruction.is_proposer`), shows a note instead, and the plan page likewise.

Flask's client for the API rule, real Chromium for the pages."""

# ruff: noqa: F811 - the harness fixtures (server, browser, shots, axe_source) are imported by name
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import AGENCY, People
from kho_retention import PLAN, closed_file

from web.context import Kho


def _approved_by_another(people: People, client: FlaskClient) -> str:
    """A plan drafted by a person who is văn thư and lãnh đạo, approved by the lãnh đạo."""
    people.add("van_thu_lanh_dao", "Vũ Thị Lập", AGENCY, ("van_thu", "lanh_dao"), 3)
    drafted = client.post("/api/plans", json=PLAN, headers=people.headers("van_thu_lanh_dao"))
    assert drafted.status_code == 201, drafted.json
    approved = client.post(
        "/api/plans/2026/approve", json={"expected_version": 1}, headers=people.headers("lanh_dao")
    )
    assert approved.status_code == 200, approved.json
    return "van_thu_lanh_dao"


def test_the_author_of_a_plan_does_not_issue_it_after_another_approves(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    author = _approved_by_another(people, client)
    own = client.post("/api/plans/2026/issue", json={"expected_version": 2}, headers=people.headers(author))
    assert own.status_code == 422, own.get_data(as_text=True)[:300]  # main: 200, issued by its author
    assert own.json["error"]["code"] == "PLAN_SELF_ISSUE"
    assert "không được tự ban hành" in own.json["error"]["message"]
    assert kho.retention.plan(2026).state.value == "approved", "nothing issued"
    issued = client.post(
        "/api/plans/2026/issue", json={"expected_version": 2}, headers=people.headers("lanh_dao")
    )
    assert issued.status_code == 200 and issued.json["issued_by"] == people.usernames["lanh_dao"], issued.json


def _button(page: Any, text: str) -> int:
    return page.locator("main button", has_text=text).count()


def _walk(browser: Any, server: str, shots: Path, axe_source: str) -> tuple[Any, Walk, list[str]]:
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    script_errors: list[str] = []
    walk.page.on("pageerror", lambda error: script_errors.append(str(error)))
    return context, walk, script_errors


def _as(walk: Walk, server: str, username: str, path: str) -> Any:
    walk.login(username)
    walk.page.wait_for_url(server + "/")
    walk.go(path)
    return walk.page


def test_the_plan_page_offers_its_author_no_issue(
    server: str,
    browser: Any,
    kho: Kho,
    people: People,
    client: FlaskClient,
    shots: Path,
    axe_source: str,
) -> None:
    author = _approved_by_another(people, client)
    context, walk, script_errors = _walk(browser, server, shots, axe_source)
    page = _as(walk, server, people.usernames[author], "/plans/2026")
    assert _button(page, "Ban hành danh mục") == 0  # main: the button, whose post issued the plan
    assert "không tự ban hành" in page.inner_text("#author-note")
    walk.check("danh-muc-nguoi-lap")
    walk.logout()

    page = _as(walk, server, people.usernames["lanh_dao"], "/plans/2026")
    assert page.locator("#author-note").count() == 0
    with page.expect_navigation():
        page.locator("main button", has_text="Ban hành danh mục").click()
    assert kho.retention.plan(2026).state.value == "issued"
    context.close()
    assert not script_errors, script_errors
    assert not walk.violations, walk.violations


def test_the_destruction_page_offers_the_proposer_no_council(
    server: str,
    browser: Any,
    kho: Kho,
    people: People,
    client: FlaskClient,
    shots: Path,
    axe_source: str,
) -> None:
    people.add("luu_tru_lanh_dao", "Đinh Văn Kiêm", AGENCY, ("luu_tru", "lanh_dao"), 3)
    file, _ = closed_file(kho, people, notation="05.KIEM", docs=1)
    proposed = client.post(
        "/api/retention/destructions",
        json={"record_ids": [file.record_id], "explanation": "Hết thời hạn bảo quản 05 năm."},
        headers=people.headers("luu_tru_lanh_dao"),
    )
    assert proposed.status_code == 201, proposed.json
    case_path = f"/retention/destructions/{proposed.json['case_id']}"
    context, walk, script_errors = _walk(browser, server, shots, axe_source)
    page = _as(walk, server, people.usernames["luu_tru_lanh_dao"], case_path)
    main = page.inner_text("main")
    assert page.locator("#members").count() == 0 and _button(page, "Thành lập hội đồng") == 0, main[:1500]
    assert "không tự thành lập hội đồng" in page.inner_text("#proposer-note")
    walk.check("ho-so-huy-nguoi-de-nghi")
    walk.logout()

    page = _as(walk, server, people.usernames["lanh_dao"], case_path)
    assert _button(page, "Thành lập hội đồng") == 1 and page.locator("#proposer-note").count() == 0
    context.close()
    assert not script_errors, script_errors
    assert not walk.violations, walk.violations
