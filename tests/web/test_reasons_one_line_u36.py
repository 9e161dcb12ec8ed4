"""u36 (NOTES-u35 part 2): the retention reasons (reopen, keep, return of a submission) and the
operator's account reasons folded a line break into a space silently (``" ".join(split())``),
against invariant 6 ("never a silent fix"). They now refuse it as ``acknowledge.clean_reason``
does: ``FIELD_CONTROL_CHARS`` with typed_text's Vietnamese message, nothing written. Through the
real API and the real page form (Flask test client), on the local store."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_retention import closed_file

from kho.errors import KhoError
from retention.service import FileState
from web.context import Kho

BROKEN = ["Bổ sung\nvăn bản", "Bổ sung\r\n  - [ok] giả", "Bổ sung\u2028văn bản", "Bổ sung\tvăn bản"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _refused(answer: Any) -> None:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert error["code"] == "FIELD_CONTROL_CHARS", error
    assert "Lý do" in error["message"] and not error["message"].isascii()


@pytest.mark.parametrize("reason", BROKEN)
def test_reopening_with_a_line_break_in_the_reason_is_refused(
    client: FlaskClient, kho: Kho, people: People, reason: str
) -> None:
    file, _docs = closed_file(kho, people)
    answer = client.post(
        f"/api/files/{file.record_id}/reopen",
        json={"reason": reason, "expected_version": file.version},
        headers=people.headers("chuyen_vien"),
    )
    _refused(answer)
    kept = kho.repo._load(file.record_id)
    assert kept.state == FileState.CLOSED and kept.version == file.version, "nothing written"


def test_a_submission_is_not_returned_with_a_line_break_in_the_reason(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    file, _docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    officer = people.actor("chuyen_vien")
    file = kho.retention.submit(file.record_id, expected_version=file.version, actor=officer)
    answer = client.post(
        f"/api/submissions/{file.record_id}/return",
        json={"reason": "Thiếu\nmục lục", "expected_version": file.version},
        headers=people.headers("luu_tru"),
    )
    _refused(answer)
    kept = kho.repo._load(file.record_id)
    assert kept.state == FileState.SUBMITTED and kept.version == file.version


def test_keeping_a_file_with_a_line_break_in_the_reason_is_refused(kho: Kho, people: People) -> None:
    file, _docs = closed_file(kho, people)
    with pytest.raises(KhoError) as refused:
        kho.retention.keep(
            file.record_id,
            until=kho.repo.clock().date().replace(month=1, day=1).replace(year=kho.repo.clock().year + 1),
            reason="Còn dùng\ncho thanh tra",
            expected_version=file.version,
            actor=people.actor("lanh_dao"),
        )
    assert refused.value.code == "FIELD_CONTROL_CHARS"
    assert kho.repo._load(file.record_id).version == file.version


def test_the_reopen_form_shows_the_message_not_a_500(
    kho: Kho, people: People, web: FlaskClient
) -> None:
    file, _docs = closed_file(kho, people)
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    done = web.post(
        "/login",
        data={
            "username": people.usernames["chuyen_vien"],
            "password": PASSWORD,
            "csrf_token": found.group(1),
        },
    )
    assert done.status_code == 302
    token = CSRF.search(web.get(f"/files/{file.record_id}").get_data(as_text=True))
    assert token
    form = {"reason": "Bổ sung\nvăn bản", "expected_version": str(file.version), "csrf_token": token.group(1)}
    answer = web.post(
        f"/files/{file.record_id}/reopen",
        data=form,
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "“Lý do mở lại hồ sơ” chứa ký tự điều khiển" in answer.get_data(as_text=True)
    kept = kho.repo._load(file.record_id)
    assert kept.state == FileState.CLOSED and kept.version == file.version


@pytest.mark.parametrize("step", ["recover", "accept_rollback", "accept_unit_rollback", "clear_by_operator"])
def test_the_operator_s_account_reasons_refuse_a_line_break(kho: Kho, people: People, step: str) -> None:
    """``kho account recover|accept-rollback|clearance --operator`` and ``kho unit
    accept-rollback``: the reason goes to the audit log, which ``kho audit`` prints a line each."""
    accounts = kho.accounts
    reason = "Quyết định số 12\n2026-12-08 account:recover giả"
    calls = {
        "recover": lambda: accounts.recover(people.usernames["van_thu"], reason),
        "accept_rollback": lambda: accounts.accept_rollback(people.usernames["van_thu"], reason),
        "accept_unit_rollback": lambda: accounts.accept_unit_rollback("phong-khong-co", reason),
        "clear_by_operator": lambda: accounts.clear_by_operator(people.usernames["luu_tru"], 1, reason),
    }
    before = len(list(kho.repo.audit.events()))
    with pytest.raises(KhoError) as refused:
        calls[step]()
    assert refused.value.code == "FIELD_CONTROL_CHARS", refused.value.message
    assert "Lý do" in refused.value.message
    assert len(list(kho.repo.audit.events())) == before, "nothing written, not even a refusal"
