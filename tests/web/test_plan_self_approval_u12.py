"""No one who wrote or changed a draft Danh mục hồ sơ approves it (u12, rv14's "left open").

``fileplan.approve`` compared the approver with the last drafter only. A person who is both văn
thư and lãnh đạo drafted a plan, a lưu trữ viên re-saved the draft, and its author then approved
their own plan (200). The plan now keeps everyone who saved a draft version (format 2), and a plan
stored before (format 1, the last drafter only) is judged by the drafters of its stored versions."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from kho_people import AGENCY, People
from kho_retention import PLAN

from repository import formats
from retention.fileplan import FilePlan
from retention.service import PLAN_PREFIX
from web.context import Kho


def _author(people: People) -> str:
    people.add("van_thu_lanh_dao", "Vũ Thị Lập", AGENCY, ("van_thu", "lanh_dao"), 3)
    return "van_thu_lanh_dao"


def test_the_author_of_a_draft_re_saved_by_another_does_not_approve_it(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    author = _author(people)
    drafted = client.post("/api/plans", json=PLAN, headers=people.headers(author))
    assert drafted.status_code == 201, drafted.json
    resaved = client.post(
        "/api/plans", json={**PLAN, "expected_version": 1}, headers=people.headers("luu_tru")
    )
    assert resaved.status_code == 200, resaved.json
    assert resaved.json["drafted_by"] == people.usernames["luu_tru"]

    own = client.post("/api/plans/2026/approve", json={"expected_version": 2}, headers=people.headers(author))
    assert own.status_code == 422, own.get_data(as_text=True)[:300]  # main: 200, approved by its author
    assert own.json["error"]["code"] == "PLAN_SELF_APPROVAL"
    assert "không được tự phê duyệt" in own.json["error"]["message"]
    assert kho.retention.plan(2026).state.value == "draft", "nothing approved"
    assert resaved.json["drafters"] == [people.usernames[author], people.usernames["luu_tru"]]

    head = client.post(
        "/api/plans/2026/approve", json={"expected_version": 2}, headers=people.headers("lanh_dao")
    )
    assert head.status_code == 200 and head.json["approved_by"] == people.usernames["lanh_dao"]
    stored = json.loads(kho.repo.store.get(f"{PLAN_PREFIX}2026/v000003.json"))
    assert stored[formats.FORMAT_KEY] == 2
    assert stored["drafters"] == [people.usernames[author], people.usernames["luu_tru"]]


def _format_1(plan: FilePlan) -> bytes:
    """A version as a Kho before u12 stored it: format 1, no ``drafters``."""
    body = {k: v for k, v in plan.to_dict().items() if k != "drafters"}
    return json.dumps({**body, formats.FORMAT_KEY: 1}, ensure_ascii=False).encode()


def test_a_draft_stored_in_format_1_is_judged_by_the_drafters_of_its_versions(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """A store written before u12: version 1 by the author, version 2 re-saved by the lưu trữ
    viên, both format 1. The author is still refused, and a third re-save keeps all three."""
    author = _author(people)
    service = kho.retention
    first = service.draft_plan(PLAN, actor=people.actor(author))
    second = service.draft_plan(PLAN, actor=people.actor("luu_tru"), expected_version=1)
    for plan in (first, second):
        key = f"{PLAN_PREFIX}2026/v{plan.version:06d}.json"
        kho.repo.store.delete(key)
        kho.repo.store.put(key, _format_1(plan))

    own = client.post("/api/plans/2026/approve", json={"expected_version": 2}, headers=people.headers(author))
    assert own.status_code == 422 and own.json["error"]["code"] == "PLAN_SELF_APPROVAL", own.json
    assert service.plan(2026).drafters is None  # read as stored: format 1 knows the last drafter only

    third = client.post("/api/plans", json={**PLAN, "expected_version": 2}, headers=people.headers("van_thu"))
    assert third.status_code == 200, third.json
    assert third.json["drafters"] == [people.usernames[w] for w in (author, "luu_tru", "van_thu")]
    head = client.post(
        "/api/plans/2026/approve", json={"expected_version": 3}, headers=people.headers("lanh_dao")
    )
    assert head.status_code == 200, head.json
