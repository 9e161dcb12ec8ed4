"""Review rv44, attack on u21's ``archive_reads`` through the read paths u21's tests did not walk:
the page images, the print copy, the version changes, the grants and the audit events, for the
lưu trữ viên of the archive a hồ sơ of phòng B is submitted to. What
:data:`repository.policy.ARCHIVE_GIVES` gives (view, read) is given on each (the test's original
is no drawable PDF: the archivist gets the answer the unit's own văn thư gets, past the access
decision); what it does not give (grants, audit events) is refused; once the hồ sơ is returned
(trả lại) every one of them answers 404. Real HTTP (Werkzeug's client, bearer API), real local
store. Held on u21's code."""

from __future__ import annotations

from flask import Flask
from kho_people import People
from kho_submission import submitted_by_phong_b
from kho_web import error_code

from retention.service import FileState
from web.context import Kho


def test_each_read_path_gives_the_archive_what_archive_reads_allows_and_no_more(
    app: Flask, kho: Kho, people: People
) -> None:
    submitted = submitted_by_phong_b(kho, people)
    (document_id,) = kho.repo._load(submitted.record_id).documents
    api = app.test_client()
    headers = people.headers("luu_tru")
    # The test's original is not a page the renderer draws: the archivist gets the answer its
    # own văn thư gets (past the access decision), not the absent-id answer.
    page = api.get(f"/api/records/{document_id}/pages/1", headers=headers)
    own = api.get(f"/api/records/{document_id}/pages/1", headers=people.headers("van_thu_b"))
    assert (page.status_code, error_code(page)) == (own.status_code, error_code(own)) == (404, "NOT_A_PDF")
    printed = api.post(f"/api/records/{document_id}/print", headers=headers)
    own = api.post(f"/api/records/{document_id}/print", headers=people.headers("van_thu_b"))
    assert (printed.status_code, error_code(printed)) == (own.status_code, error_code(own)) != (404, None)
    code = error_code(printed)
    assert code not in ("RECORD_NOT_FOUND", "NOT_FOUND", "PERMISSION_DENIED"), code
    assert api.get(f"/api/records/{document_id}/changes", headers=headers).status_code == 200
    assert api.get(f"/api/records/{document_id}/grants", headers=headers).status_code == 403
    assert api.get(f"/api/records/{document_id}/audit", headers=headers).status_code == 403
    kho.retention.return_file(
        submitted.record_id,
        reason="Thiếu chữ ký số",
        expected_version=submitted.version,
        actor=people.actor("luu_tru"),
    )
    assert kho.repo._load(submitted.record_id).state == FileState.CLOSED
    for method, path in (
        ("get", "/api/records/{}/pages/1"),
        ("post", "/api/records/{}/print"),
        ("get", "/api/records/{}/changes"),
        ("get", "/api/records/{}/history"),
        ("get", "/api/records/{}/grants"),
        ("get", "/api/records/{}/audit"),
    ):
        answer = getattr(api, method)(path.format(document_id), headers=headers)
        past = ("NOT_A_PDF", error_code(printed))  # answers given past the access decision
        assert answer.status_code == 404 and error_code(answer) not in past, (path, answer.status_code)
