"""A Thường văn thư of the agency confirming a document whose earlier confirmation was killed
after its number (review r32, left open): the killed confirmation typed the document Mật.

The repository refuses the second confirmation (409 ``INTAKE_NUMBERED_BEFORE``) without naming
the number or the Mật metadata. The page then rendered the review of the record again, which the
Thường văn thư may no longer see (the record is Mật now): 403 instead of the explanation. Now the
page and the API both answer 409 with the explanation, and leak nothing of the Mật record."""

from __future__ import annotations

import re
import unicodedata

from flask import Flask
from flask.testing import FlaskClient
from kho_intake import killed_before_numbered
from kho_people import AGENCY, PASSWORD, People, create_person
from kho_testing import incoming
from kho_web import CSRF, ONCE, login, text

from repository.records import Record
from web.context import Kho

SECRET = "Kế hoạch phòng thủ khu vực năm 2026"
SENDER = "Bộ Chỉ huy Quân sự tỉnh"


def _thuong_clerk(kho: Kho, people: People) -> str:
    """A văn thư of the agency cleared for Thường documents only (clearance 0)."""
    accounts = kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    head = accounts.get(people.usernames["lanh_dao"])
    account, _ = create_person(
        accounts, "Trần Thị Thường", AGENCY, ("van_thu",), 0, None, admin, confirmer=head
    )
    people.usernames["van_thu_thuong"] = account.username
    people.tokens["van_thu_thuong"] = accounts.issue_token(account.username, "test", account)
    return "van_thu_thuong"


def _killed_mat(kho: Kho) -> Record:
    return killed_before_numbered(kho.repo, "den", secrecy="Mật", subject=SECRET, organ_name=SENDER)


def _no_leak(body: str) -> None:
    assert SECRET not in body and SENDER not in body
    assert "số 01" not in body.lower()


def test_the_api_answers_a_thuong_clerk_409_without_the_mat_metadata(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    who = _thuong_clerk(kho, people)
    rec = _killed_mat(kho)
    answer = client.post(
        f"/api/intake/{rec.record_id}/confirm",
        json={"metadata": incoming(code_number="77"), "expected_version": rec.version},
        headers=people.headers(who),
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409, body
    data = answer.get_json()["error"]
    assert data["code"] == "INTAKE_NUMBERED_BEFORE"
    assert (
        data["message"] == unicodedata.normalize("NFC", data["message"])
        and "chưa được ghi" in data["message"]
    )
    _no_leak(body)
    done = kho.repo._load(rec.record_id)
    assert done.registration is not None and done.registration.number == 1 and done.secrecy > 0


def test_the_confirm_page_answers_a_thuong_clerk_409_with_the_explanation(
    kho: Kho, people: People, app: Flask
) -> None:
    who = _thuong_clerk(kho, people)
    rec = _killed_mat(kho)
    web = app.test_client()
    login(web, people, who, PASSWORD)
    review = web.get(f"/intake/{rec.record_id}")
    page = text(review)
    assert review.status_code == 200, page  # the intake record (Thường) is theirs to confirm
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version, page
    once = ONCE.search(page)
    form = {
        "type_name": "Công văn",
        "code_number": "77",
        "code_notation": "BNV-VP",
        "issued_date": "02/03/2026",
        "organ_name": "Bộ Nội vụ",
        "subject": "Về việc khác",
        "signer_position": "Thứ trưởng",
        "signer_full_name": "Nguyễn Văn A",
        "expected_version": version.group(1),
        "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
        **({"once": once.group(1)} if once else {}),
    }
    answer = web.post(f"/intake/{rec.record_id}/confirm", data=form)
    shown = text(answer)
    assert answer.status_code == 409, shown  # before: 403, the record they can no longer see
    assert "chưa được ghi" in shown  # the explanation: their input was not written
    _no_leak(shown)
    done = kho.repo._load(rec.record_id)
    assert done.registration is not None and done.registration.number == 1 and done.secrecy > 0
