"""The Lưu trữ pages: Xem xét hủy, council review, decision, execution with the password
re-entered, holds; refusals shown in Vietnamese with their code, nothing half-done."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_retention import closed_file

from kho.timeutil import vn_date
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(app: Flask, people: People, who: str) -> FlaskClient:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:500]
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/retention") -> Any:
    token = CSRF.search(client.get(page).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    return client.post(path, data={**data, "csrf_token": token})


def test_the_whole_destruction_in_the_pages(app: Flask, kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people)
    archivist = browser(app, people, "luu_tru")
    listing = archivist.get("/retention").get_data(as_text=True)
    assert "Xem xét hủy" in listing and file.record_id in listing, listing[listing.find("<main") :][:1500]

    proposed = post(
        archivist, "/retention/destructions", {"record_ids": file.record_id, "explanation": "Hết hạn"}
    )
    assert proposed.status_code == 302
    case_path = proposed.headers["Location"]
    case_id = case_path.rsplit("/", 1)[1]
    head = browser(app, people, "lanh_dao")
    members = " ".join(people.usernames[w] for w in ("lanh_dao", "luu_tru", "chuyen_vien"))
    assert (
        post(
            archivist, f"{case_path}/council", {"members": members, "decision_ref": "QĐ 05"}, case_path
        ).status_code
        == 403
    )
    assert (
        post(
            head, f"{case_path}/council", {"members": members, "decision_ref": "QĐ 05"}, case_path
        ).status_code
        == 302
    )
    officer = browser(app, people, "chuyen_vien")
    assert "Ý kiến của thành viên hội đồng" in officer.get(case_path).get_data(as_text=True)
    for client in (head, archivist, officer):
        assert post(client, f"{case_path}/review", {"opinion": "agree"}, case_path).status_code == 302
    assert post(officer, f"{case_path}/minutes", {"text": "Biên bản họp"}, case_path).status_code == 302
    assert post(archivist, f"{case_path}/appraisal", {"text": "Thẩm định"}, case_path).status_code == 302
    past = post(
        head,
        f"{case_path}/decision",
        {"decision_ref": "QĐ 09", "approve": "yes", "deadline": "2020-01-01"},
        case_path,
    )
    assert past.status_code == 409 and "DEADLINE_PAST" in past.get_data(as_text=True)
    today = vn_date(kho.repo.clock())  # the agency's day (UTC+7), as the rule reads it
    late = post(
        head,
        f"{case_path}/decision",
        {"decision_ref": "QĐ 09", "approve": "yes", "deadline": (today + timedelta(days=16)).isoformat()},
        case_path,
    )
    assert late.status_code == 409 and "DEADLINE_TOO_LATE" in late.get_data(as_text=True)
    assert "15 ngày" in late.get_data(as_text=True)
    form = head.get(case_path).get_data(as_text=True)  # the form says the last day allowed
    assert f'max="{today + timedelta(days=15):%Y-%m-%d}"' in form
    assert (
        post(
            head,
            f"{case_path}/decision",
            {"decision_ref": "QĐ 09", "approve": "yes", "deadline": today.isoformat()},
            case_path,
        ).status_code
        == 302
    )
    shown = archivist.get(case_path).get_data(as_text=True)
    assert f"{today:%d/%m/%Y}" in shown and "Quá hạn thực hiện hủy" not in shown
    for name in ("danh-muc", "bien-ban-hop", "tham-dinh", "quyet-dinh-huy"):
        assert f"{case_path}/documents/{name}?format=xlsx" in shown, name
    assert "documents/bien-ban-huy" not in shown, "not before the destruction"
    got = archivist.get(f"{case_path}/documents/danh-muc?format=pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    assert archivist.get(f"{case_path}/documents/bien-ban-huy").status_code == 409
    clock = kho.repo.clock
    kho.repo.clock = lambda: clock() + timedelta(days=1)  # a day past the deadline
    try:
        listing = archivist.get("/retention").get_data(as_text=True)
        assert (
            "quá thời hạn thực hiện" in listing and case_id in listing[listing.find("destruction-overdue") :]
        )
        assert "Quá hạn thực hiện hủy" in archivist.get(case_path).get_data(as_text=True)
    finally:
        kho.repo.clock = clock
    wrong = post(archivist, f"{case_path}/execute", {"password": "sai"}, case_path)
    assert wrong.status_code == 401 and "LOGIN_FAILED" in wrong.get_data(as_text=True)
    assert kho.repo.keys.exists(docs[0])
    done = post(archivist, f"{case_path}/execute", {"password": PASSWORD}, case_path)
    assert done.status_code == 302
    finished = archivist.get(case_path).get_data(as_text=True)
    assert "Đã hủy xong" in finished and f"{case_path}/documents/bien-ban-huy?format=pdf" in finished
    kept = archivist.get(f"{case_path}/documents/bien-ban-huy?format=xlsx")
    assert kept.status_code == 200 and kept.data.startswith(b"PK")
    assert not kho.repo.keys.exists(docs[0]) and case_id


def test_holds_in_the_pages_and_a_clerk_sees_no_retention(app: Flask, kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people)
    archivist = browser(app, people, "luu_tru")
    held = post(archivist, "/retention/holds", {"record_ids": file.record_id, "reason": "Thanh tra"})
    assert held.status_code == 302
    page = archivist.get("/retention").get_data(as_text=True)
    assert "Đang phong tỏa" in page
    refused = post(archivist, "/retention/destructions", {"record_ids": file.record_id, "explanation": "x"})
    assert refused.status_code == 409 and "LEGAL_HOLD" in refused.get_data(as_text=True)
    clerk = browser(app, people, "van_thu")
    assert "Lưu trữ</a>" not in clerk.get("/").get_data(as_text=True)
    forbidden = post(clerk, "/retention/holds", {"record_ids": file.record_id, "reason": "x"}, "/")
    assert forbidden.status_code == 403


def test_a_document_registered_twice_is_shown_as_a_duplicate(app: Flask, kho: Kho, people: People) -> None:
    from kho_testing import incoming, pdf_bytes

    clerk = people.actor("van_thu")
    first = kho.repo.create_document("den", incoming(code_number="77"), pdf_bytes("a"), "a.pdf", clerk)
    again = kho.repo.create_document(
        "den", incoming(code_number="77"), pdf_bytes("b"), "b.pdf", clerk, duplicate_reason="Gửi lại"
    )
    listing = browser(app, people, "luu_tru").get("/retention").get_data(as_text=True)
    table = listing[listing.find('id="duplicates"') :]
    assert "Tài liệu trùng" in listing and table.find(again.record_id) < table.find(first.record_id)
    assert 'id="duplicates"' not in browser(app, people, "van_thu").get("/retention").get_data(as_text=True)


def test_an_id_typed_wrong_on_the_retention_forms_is_a_message_not_a_500(
    app: Flask, kho: Kho, people: People
) -> None:
    """The hold, destruction and transfer forms take record ids as typed. An empty id, one with
    CR/LF, ``../`` or of another form reached the store as a key, whose ValueError was a 500;
    each is now refused with RECORD_ID_INVALID on the page, and nothing is written."""
    archivist = browser(app, people, "luu_tru")
    holds_before = [i.key for i in kho.repo.store.list("retention/holds/")]
    for typed in ("../../catalog/x", "a\r\nb", "[1]", "0" * 23 + "Z", "0" * 24 + "/v1"):
        for path, data in (
            ("/retention/holds", {"record_ids": typed, "reason": "Thanh tra"}),
            ("/retention/destructions", {"record_ids": typed, "explanation": "Hết hạn"}),
            ("/retention/transfers", {"file_id": typed}),
        ):
            answer = post(archivist, path, data)
            assert answer.status_code == 404, (path, typed, answer.status_code)
            assert "(RECORD_ID_INVALID)" in answer.get_data(as_text=True)
    empty = post(archivist, "/retention/transfers", {"file_id": ""})
    assert empty.status_code == 404 and "(RECORD_ID_INVALID)" in empty.get_data(as_text=True)
    assert [i.key for i in kho.repo.store.list("retention/holds/")] == holds_before
    assert not (kho.settings.data_dir / "transfers").exists() or not any(
        (kho.settings.data_dir / "transfers").iterdir()
    )


def test_the_transfer_page_names_the_documents_left_out_of_the_package(
    app: Flask, kho: Kho, people: People
) -> None:
    """A permanent hồ sơ with a destroyed document: the page exporting its SIP says which
    document is not in the package and why (the package's EAD names it too, test_sip)."""
    file, docs = closed_file(kho, people, notation="03.VP", maintenance="Vĩnh viễn")
    kho.repo.destroy(docs[0], decision="QĐ thu hồi số 3", actor=people.actor("quan_tri"))
    archivist = browser(app, people, "luu_tru")
    done = post(archivist, "/retention/transfers", {"file_id": file.record_id})
    assert done.status_code == 302
    shown = archivist.get("/retention").get_data(as_text=True)
    assert "Đã xuất gói tin" in shown and "Không có trong gói tin" in shown and docs[0] in shown
