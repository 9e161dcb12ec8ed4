"""The handling page of a document still at intake: it has no metadata and no number yet, and
the page's template read ``md.urgency`` of None, a 500 (found by the route fuzz on real objects).
Handling acts on a registered document only, the page as the steps: 422 ``NOT_REGISTERED``."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_testing import sealed_cong_van
from kho_web import login, post, upload


def test_the_handling_page_of_a_document_at_intake_is_refused_not_a_500(
    web: FlaskClient, people: People
) -> None:
    login(web, people, "van_thu")
    waiting = upload(web, sealed_cong_van(7), "cho-vao-so.pdf").rstrip("/").split("/")[-1]  # not registered
    for answer in (
        web.get(f"/handling/{waiting}"),
        post(
            web,
            f"/handling/{waiting}",
            {"act": "submit", "expected_seq": "0", "users": people.usernames["lanh_dao"]},
            "/intake",
        ),
    ):
        assert answer.status_code == 422, answer.status_code
        assert answer.headers["X-Kho-Error"] == "NOT_REGISTERED"
        assert "chưa được vào sổ" in answer.get_data(as_text=True)
