"""The agency's Danh mục hồ sơ is approved and issued by the head of the agency (review rv58).

ND30 Điều 28 (STANDARDS §1.7): "Danh mục hồ sơ" is approved by the head of the agency and issued
at the start of the year; it is one plan for the whole agency (``organ_id``), and its periods bound
every unit's hồ sơ (``RETENTION_BELOW_PLAN``). ``approve_plan`` and ``issue_plan`` asked only for
the lãnh đạo role *somewhere*: the head of a phòng (lãnh đạo of phòng B, cleared for nothing)
approved and then issued the agency's plan, through the API, the plan page and ``kho plan``. The
role now counts only at the agency's own unit (:func:`repository.policy.decide_for_agency`).

Real store (local folder), the real API and pages through Werkzeug's client; nothing mocked."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_retention import PLAN
from kho_web import error_code, logged_in

from ingest.testpki import TestPKI
from repository import policy
from repository.policy import Action, Principal, Role
from web.cli import main
from web.context import Kho


def _phong_head(people: People) -> str:
    people.add("lanh_dao_b", "Đinh Văn Bình", UNIT_B, ("lanh_dao",), 0)
    return "lanh_dao_b"


def _denials(kho: Kho, user: str) -> list[dict[str, object]]:
    return [
        dict(e.details)
        for e in kho.repo.audit.events()
        if e.actor == user and e.action == "access:denied"
    ]


def test_the_head_of_a_phong_neither_approves_nor_issues_the_agencys_plan(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    head_b = _phong_head(people)
    drafted = client.post("/api/plans", json=PLAN, headers=people.headers("van_thu"))
    assert drafted.status_code == 201, drafted.json

    approve = client.post(
        "/api/plans/2026/approve", json={"expected_version": 1}, headers=people.headers(head_b)
    )
    assert approve.status_code == 403, approve.get_data(as_text=True)[:300]  # before: 200, approved
    assert error_code(approve) == "AGENCY_HEAD_ONLY"
    assert "lãnh đạo cơ quan" in approve.json["error"]["message"]
    assert kho.retention.plan(2026).state.value == "draft", "nothing approved"
    assert kho.retention.plan(2026).version == 1
    assert {"action": "plan:approve", "code": "AGENCY_HEAD_ONLY"}.items() <= _denials(
        kho, people.usernames[head_b]
    )[-1].items()

    # The agency's head approves; the phòng's head still cannot issue what was approved.
    approved = client.post(
        "/api/plans/2026/approve", json={"expected_version": 1}, headers=people.headers("lanh_dao")
    )
    assert approved.status_code == 200, approved.json
    issue = client.post("/api/plans/2026/issue", json={"expected_version": 2}, headers=people.headers(head_b))
    assert issue.status_code == 403 and error_code(issue) == "AGENCY_HEAD_ONLY", issue.json  # before: 200
    assert kho.retention.plan(2026).state.value == "approved"

    issued = client.post(
        "/api/plans/2026/issue", json={"expected_version": 2}, headers=people.headers("lanh_dao")
    )
    assert issued.status_code == 200 and issued.json["state"] == "issued", issued.json


def test_the_plan_page_offers_the_step_only_to_the_head_of_the_agency(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    head_b = _phong_head(people)
    assert client.post("/api/plans", json=PLAN, headers=people.headers("van_thu")).status_code == 201

    phong = logged_in(app, people, head_b)
    shown = phong.get("/plans/2026").get_data(as_text=True)
    assert "Phê duyệt danh mục" not in shown  # before: offered (and it approved)
    page = phong.get("/plans/2026")
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    sent = phong.post("/plans/2026/approve", data={"csrf_token": token, "expected_version": "1"})
    assert sent.status_code == 302
    assert kho.retention.plan(2026).state.value == "draft"

    agency = logged_in(app, people, "lanh_dao")
    assert "Phê duyệt danh mục" in agency.get("/plans/2026").get_data(as_text=True)


def test_a_phongs_quan_tri_does_not_edit_the_agencys_retention_schedule(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    """The table every unit's hồ sơ take their period from is the agency's: a quản trị of phòng B
    (who manages only phòng B's accounts) rewrote it (before: 200, a new version)."""
    people.add("quan_tri_b", "Mai Thị Quỳnh", UNIT_B, ("quan_tri",), 0)
    current = client.get("/api/retention/schedule", headers=people.headers("quan_tri_b")).json
    entries = [{**e, "maintenance": "05 năm"} for e in current["entries"]]
    body = {"entries": entries, "expected_version": current["version"], "note": "Theo quyết định số 1/QĐ"}

    edit = client.put("/api/retention/schedule", json=body, headers=people.headers("quan_tri_b"))
    assert edit.status_code == 403, edit.get_data(as_text=True)[:300]
    assert error_code(edit) == "AGENCY_HEAD_ONLY"
    assert "quản trị của cơ quan" in edit.json["error"]["message"]
    assert kho.retention.schedule().version == current["version"], "nothing written"
    phong = logged_in(app, people, "quan_tri_b")
    assert "Thời hạn bảo quản</a>" not in phong.get("/").get_data(as_text=True)  # no menu entry

    agency = client.put("/api/retention/schedule", json=body, headers=people.headers("quan_tri"))
    assert agency.status_code == 200 and agency.json["version"] == current["version"] + 1, agency.json


def test_a_phongs_quan_tri_does_not_change_the_installations_trust_list(
    managed_env: dict[str, str], kho: Kho, people: People, tmp_path: Path
) -> None:
    """Every signature verdict of the agency is decided against one trust list: a quản trị of
    phòng B added an anchor of their choosing with ``kho trust add`` (before: exit 0, the anchor
    trusted for every document)."""
    people.add("quan_tri_b", "Mai Thị Quỳnh", UNIT_B, ("quan_tri",), 0)
    root = tmp_path / "root.der"
    root.write_bytes(TestPKI.build().root.cert_der)
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["quan_tri_b"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    added = runner.invoke(main, ["trust", "add", str(root), "--source", "x"])
    assert added.exit_code == 2 and "AGENCY_HEAD_ONLY" in added.output, added.output
    assert "Traceback" not in added.output
    assert not (Path(managed_env["KHO_DATA_DIR"]) / "trust").exists(), "the list was not copied or changed"
    assert [e.action for e in kho.repo.audit.query(action="trust:")] == []


def test_decide_for_agency_counts_the_role_at_the_agencys_own_unit_only() -> None:
    def person(*roles: tuple[str, Role]) -> Principal:
        return Principal(user="x", roles=frozenset(roles))

    approve = Action.PLAN_APPROVE
    assert policy.decide_for_agency(person((AGENCY, Role.LANH_DAO)), approve, AGENCY)
    assert policy.decide_for_agency(person((UNIT_B, Role.LANH_DAO), (AGENCY, Role.LANH_DAO)), approve, AGENCY)
    phong = policy.decide_for_agency(person((UNIT_B, Role.LANH_DAO)), approve, AGENCY)
    assert not phong and phong.code == "AGENCY_HEAD_ONLY"
    # Without the role anywhere the refusal is the role's, as before.
    clerk = policy.decide_for_agency(person((AGENCY, Role.VAN_THU)), approve, AGENCY)
    assert not clerk and clerk.code == "PERMISSION_DENIED"
    schedule = policy.decide_for_agency(person((UNIT_B, Role.QUAN_TRI)), Action.SCHEDULE_EDIT, AGENCY)
    assert not schedule and schedule.code == "AGENCY_HEAD_ONLY"
    assert policy.decide_for_agency(person((AGENCY, Role.QUAN_TRI)), Action.SCHEDULE_EDIT, AGENCY)
    assert not policy.decide_for_agency(person((UNIT_B, Role.QUAN_TRI)), Action.OPERATE, AGENCY)
    # Acts that are not the agency's keep their rule: a phòng's văn thư registers documents.
    assert policy.decide_for_agency(person((UNIT_B, Role.VAN_THU)), Action.RECORD_CREATE, AGENCY)
    # Drafting the plan is the agency's văn thư's or lưu trữ's (rv59; ND30 Điều 28).
    drafting = policy.decide_for_agency(person((UNIT_B, Role.VAN_THU)), Action.PLAN_DRAFT, AGENCY)
    assert not drafting and drafting.code == "AGENCY_HEAD_ONLY"
    assert policy.decide_for_agency(person((AGENCY, Role.LUU_TRU)), Action.PLAN_DRAFT, AGENCY)
