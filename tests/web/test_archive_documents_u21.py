"""The archivist checking a nộp lưu opens the documents of the submitted hồ sơ (review u21).

ND30 Điều 31 k3 c and Luật Lưu trữ 2024: the Lưu trữ cơ quan checks a submitted hồ sơ, its mục
lục *and its documents against it* before receiving it. The review page (``/archive/<id>``) showed
the mục lục but the document pages stayed under the ordinary rule (:func:`repository.policy.sees`):
the agency's lưu trữ viên could not open a phòng's documents. The one access policy now gives
them :data:`repository.policy.ARCHIVE_GIVES` (metadata and original) on the documents of a hồ sơ
while it is submitted to or taken in by their archive (:func:`repository.policy.archive_reads`),
nothing once it is returned (trả lại). Walked through real HTTP (Flask test client, logged in),
on a real local store, and once on the real S3 gateway."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_existence import shown
from kho_people import People, make_people
from kho_retention import s3_env
from kho_submission import phong_b_file, submitted_by_phong_b, taken_in
from kho_testing import pdf_bytes
from kho_web import logged_in

from kho.config import Settings
from repository.records import SYSTEM, Record, new_record_id
from retention.service import FileState
from web.app import create_app
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SUBJECT = "Về việc triển khai Hệ thống quản lý văn bản và điều hành"


def _document_of(kho: Kho, file: Record) -> str:
    (document_id,) = kho.repo._load(file.record_id).documents
    return document_id


def _same_as_absent(client: FlaskClient, path: str, record_id: str) -> None:
    """``path`` (``{}`` for the id) answers for ``record_id`` exactly what it answers for an id
    that names nothing: 404, the same body and headers (no existence oracle)."""
    fresh = new_record_id()
    absent = client.get(path.format(fresh))
    unseen = client.get(path.format(record_id))
    assert absent.status_code == 404
    assert shown(unseen, [record_id]) == shown(absent, [fresh]), path


def _events(kho: Kho, record_id: str, who: str) -> list[str]:
    return [e.action for e in kho.repo.audit_events(actor=SYSTEM, record_id=record_id) if e.actor == who]


@pytest.fixture
def submitted(kho: Kho, people: People) -> Record:
    return submitted_by_phong_b(kho, people)


def _reads_the_document(kho: Kho, app: Flask, people: People, file: Record) -> str:
    """The receiving lưu trữ viên follows the review page's link to the document, opens its page
    and downloads its original (page and API), each read audited under their name."""
    archivist = logged_in(app, people, "luu_tru")
    document_id = _document_of(kho, file)
    review = archivist.get(f"/archive/{file.record_id}")
    assert review.status_code == 200
    assert f'href="/records/{document_id}"' in review.get_data(as_text=True), "the mục lục links it"
    page = archivist.get(f"/records/{document_id}")
    assert page.status_code == 200, page.status_code  # 404 before u21
    text = page.get_data(as_text=True)
    assert SUBJECT in text and f"/records/{document_id}/download" in text
    original = archivist.get(f"/records/{document_id}/download")
    assert original.status_code == 200 and original.data == pdf_bytes("b-9913")
    api = app.test_client()
    headers = people.headers("luu_tru")
    metadata = api.get(f"/api/records/{document_id}", headers=headers)
    assert metadata.status_code == 200 and metadata.get_json()["record_id"] == document_id
    content = api.get(f"/api/records/{document_id}/content", headers=headers)
    assert content.status_code == 200 and content.data == pdf_bytes("b-9913")
    actions = _events(kho, document_id, people.usernames["luu_tru"])
    assert actions.count("record:view") >= 2 and actions.count("content:download") == 2, actions
    return document_id


def test_the_receiving_archivist_opens_and_downloads_the_documents_of_a_submitted_hồ_sơ(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    document_id = _reads_the_document(kho, app, people, submitted)
    # Reading gives no act on the document: its history and a correction stay refused.
    archivist = logged_in(app, people, "luu_tru")
    api = app.test_client()
    headers = people.headers("luu_tru")
    assert api.get(f"/api/records/{document_id}/audit", headers=headers).status_code == 403
    before = kho.repo._load(document_id).version
    patch = api.patch(
        f"/api/records/{document_id}",
        headers=headers,
        json={"expected_version": before, "changes": {"subject": "Đổi trích yếu"}},
    )
    assert patch.status_code == 403, patch.status_code
    assert kho.repo._load(document_id).version == before, "nothing written"
    # The hồ sơ's own record page keeps the ordinary rule: its page for the archive is the review.
    assert archivist.get(f"/records/{submitted.record_id}").status_code == 404


def test_the_archivist_cannot_open_a_document_of_a_hồ_sơ_not_submitted_to_them(
    app: Flask, kho: Kho, people: People
) -> None:
    officer_b = people.actor("chuyen_vien_b")
    file = phong_b_file(kho, people)
    from kho_testing import incoming

    doc = kho.repo.create_document(
        "den", incoming(code_number="9914"), pdf_bytes("b-9914"), "b.pdf", people.actor("van_thu_b")
    )
    kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=officer_b)
    archivist = logged_in(app, people, "luu_tru")
    for path in ("/records/{}", "/records/{}/download"):
        _same_as_absent(archivist, path, doc.record_id)


def test_the_reading_ends_when_the_hồ_sơ_is_returned(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    document_id = _document_of(kho, submitted)
    archivist = logged_in(app, people, "luu_tru")
    assert archivist.get(f"/records/{document_id}").status_code == 200  # 404 before u21
    returned = kho.retention.return_file(
        submitted.record_id,
        reason="Thiếu chữ ký số",
        expected_version=submitted.version,
        actor=people.actor("luu_tru"),
    )
    assert returned.state == FileState.CLOSED
    for path in ("/records/{}", "/records/{}/download"):
        _same_as_absent(archivist, path, document_id)
    api = app.test_client().get(f"/api/records/{document_id}/content", headers=people.headers("luu_tru"))
    assert api.status_code == 404
    # Its own unit keeps reading it.
    assert logged_in(app, people, "van_thu_b").get(f"/records/{document_id}").status_code == 200


def test_the_archive_s_reading_holds_after_take_in(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    """A hồ sơ taken in (``archived``) is the archive's: its documents stay readable to it. The
    test document is unsigned, so take-in's checks would refuse it; the state is written as the
    take-in writes it, by Kho's own process."""
    taken_in(kho, submitted)
    document_id = _document_of(kho, submitted)
    archivist = logged_in(app, people, "luu_tru")
    assert archivist.get(f"/records/{document_id}").status_code == 200  # 404 before u21
    assert archivist.get(f"/records/{document_id}/download").data == pdf_bytes("b-9913")


def test_a_chuyên_viên_of_another_unit_still_cannot_open_them(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    document_id = _document_of(kho, submitted)
    officer = logged_in(app, people, "chuyen_vien")  # the agency's, not phòng B's
    for path in ("/records/{}", "/records/{}/download"):
        _same_as_absent(officer, path, document_id)


def test_search_lists_them_to_the_archivist(
    app: Flask, kho: Kho, people: People, submitted: Record
) -> None:
    """Search lists what the archive reads (u24: u21 left it out, the index did not hold the
    archive's reach; :mod:`test_archive_search_u24` covers it). Its own unit finds the document."""
    document_id = _document_of(kho, submitted)

    def found(who: str) -> bool:
        answer = logged_in(app, people, who).get("/search", query_string={"q": "triển khai"})
        assert answer.status_code == 200
        return f"/records/{document_id}" in answer.get_data(as_text=True)

    assert found("van_thu_b"), "the index holds it (else this test proves nothing)"
    assert found("luu_tru")
    assert not found("chuyen_vien")


@pytest.fixture
def s3_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Kho, People, Flask]]:
    values = {
        **s3_env(tmp_path),
        "KHO_TOKEN_FILE": str(tmp_path / "tokens.json"),
        "KHO_COOKIE_SECURE": "false",
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KHO_TOKEN", raising=False)
    kho = Kho(Settings.from_env())
    try:
        people = make_people(kho)
        yield kho, people, create_app(kho.settings, kho=kho)
    finally:
        kho.close()


def test_on_s3_the_archivist_reads_the_submitted_document(s3_site: tuple[Kho, People, Flask]) -> None:
    kho, people, app = s3_site
    file = submitted_by_phong_b(kho, people)
    _reads_the_document(kho, app, people, file)
