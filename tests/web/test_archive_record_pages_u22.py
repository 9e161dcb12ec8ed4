"""Leftovers of the archive and record pages (u22; u21 and m29 "Open").

1. A document recalled (thu hồi) by its issuer, in a recipient's hồ sơ submitted to the Lưu trữ
   cơ quan: the lưu trữ viên checking the mục lục is told it was recalled (``RECORD_RECALLED``,
   as its recipients are), not refused as a document they may not see (``PERMISSION_DENIED``),
   and the review page marks the row "đã thu hồi" instead of linking to a refusal. Secrecy first:
   a recalled Mật document above their clearance tells them neither its level nor its recall.
2. The căn cứ (note) of a metadata correction is stored trimmed and NFC whichever door gave it:
   the page trimmed it, the API stored it as sent.
3. The submission sheet export reads the lưu trữ viên's account once (the session's read).
4. The record page loads its record once and lists its hồ sơ links once.

Real HTTP (Flask test client, logged in), a real local store; the read counts also on the real
S3 gateway."""

from __future__ import annotations

import unicodedata

import pytest
from flask.testing import FlaskClient
from kho_counting import StoreReads
from kho_files import new_file
from kho_people import AGENCY, UNIT_B, People
from kho_submission import phong_b_file
from kho_testing import outgoing, pdf_bytes
from kho_web import login

from kho.timeutil import utcnow, vn_date
from repository.records import Record, version_key
from retention.recall import Recalls
from web.context import Kho

SUBJECT = "Quy chế phối hợp bị thu hồi"


UNIT_C = "000.02.18.H40"


def _recalled_in_a_submitted_hồ_sơ(
    kho: Kho, people: People, *, secrecy: int = 0, issuer: str = "van_thu_c", filer: str = "chuyen_vien_b"
) -> tuple[Record, str]:
    """A văn bản đi of phòng C sent to phòng B, filed by phòng B's chuyên viên in a hồ sơ of
    phòng B, the hồ sơ closed and submitted to the agency's archive, then the document recalled
    by phòng C. The agency's lưu trữ viên is neither its issuer nor its recipient: they read it
    only as the archive receiving phòng B's hồ sơ (u21)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    if UNIT_C not in {u.unit_id for u in kho.accounts.units()}:
        kho.accounts.create_unit(UNIT_C, "Phòng Kế hoạch", "pkh", AGENCY, admin)
    if issuer not in people.usernames:
        people.add(issuer, "Ngô Bảo Ngọc", UNIT_C, ("van_thu",), secrecy)
    if filer not in people.usernames:
        people.add(filer, "Trần Đại Tâm", UNIT_B, ("chuyen_vien",), secrecy)
    clerk_c = people.actor(issuer)
    doc = kho.repo.create_document(
        "di", outgoing(subject=SUBJECT, secrecy=secrecy), pdf_bytes("u22"), "qc.pdf", clerk_c
    )
    rid = doc.record_id
    kho.repo.distribute(rid, units=[UNIT_B], actor=clerk_c)
    staff = people.actor(filer)
    file = phong_b_file(kho, people)
    file = kho.repo.add_to_file(file.record_id, rid, expected_version=file.version, actor=staff)
    file = kho.retention.close_file(
        file.record_id, end_date=vn_date(utcnow()), expected_version=file.version, actor=staff
    )
    file = kho.retention.submit(file.record_id, expected_version=file.version, actor=staff)
    Recalls(kho.repo, kho.backend).recall_outgoing(
        rid, "Công văn số 22/KH ngày 06/12/2026", "Ban hành sai thẩm quyền", actor=clerk_c
    )
    return file, rid


def _code(client: FlaskClient, people: People, who: str, path: str) -> str:
    answer = client.get(path, headers=people.headers(who))
    assert answer.status_code in (403, 404), (path, answer.status_code)
    return str(answer.get_json()["error"]["code"])


def test_the_archivist_is_told_the_document_was_recalled(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    file, rid = _recalled_in_a_submitted_hồ_sơ(kho, people)
    # Its recipient is told so (m5): the archive receiving the recipient's hồ sơ is told the same.
    assert _code(client, people, "chuyen_vien_b", f"/api/records/{rid}") == "RECORD_RECALLED"
    for path in (f"/api/records/{rid}", f"/api/records/{rid}/content"):
        assert _code(client, people, "luu_tru", path) == "RECORD_RECALLED", path  # PERMISSION_DENIED before
    page = FlaskClient(client.application, use_cookies=True)
    assert login(page, people, "luu_tru").status_code == 302
    refused = page.get(f"/records/{rid}")
    assert refused.status_code == 403 and refused.headers.get("X-Kho-Error") == "RECORD_RECALLED"
    review = page.get(f"/archive/{file.record_id}")
    assert review.status_code == 200
    text = unicodedata.normalize("NFC", review.get_data(as_text=True))
    assert SUBJECT in text, "the mục lục still lists it"
    assert "(đã thu hồi)" in text
    assert f'href="/records/{rid}"' not in text, "no link to a refusal"
    # The recalled document is kept whole, its recall with it.
    assert kho.repo._load(rid).extra["recall"]["order_ref"].startswith("Công văn số 22")


def test_secrecy_first_a_recalled_mật_document_is_not_told_as_recalled(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """The lưu trữ viên (clearance Thường) is told neither the level of a Mật document of the
    hồ sơ nor that it was recalled: the refusal of a document they may not see, as before."""
    file, rid = _recalled_in_a_submitted_hồ_sơ(
        kho, people, secrecy=1, issuer="van_thu_c_mat", filer="chuyen_vien_b_mat"
    )
    assert _code(client, people, "chuyen_vien_b_mat", f"/api/records/{rid}") == "RECORD_RECALLED"
    for path in (f"/api/records/{rid}", f"/api/records/{rid}/content"):
        assert _code(client, people, "luu_tru", path) == "PERMISSION_DENIED", path
    page = FlaskClient(client.application, use_cookies=True)
    assert login(page, people, "luu_tru").status_code == 302
    # Nor does the review page: a hồ sơ holding a document above their clearance is refused whole
    # (:func:`~repository.policy.receives_submission`), before any row is marked.
    review = page.get(f"/archive/{file.record_id}")
    assert (review.status_code, review.headers.get("X-Kho-Error")) == (403, "SECRECY_DENIED")
    assert "thu hồi" not in review.get_data(as_text=True)


def test_the_api_stores_the_note_trimmed_and_nfc(kho: Kho, people: People, client: FlaskClient) -> None:
    """The căn cứ of a correction sent through the API is stored as the page stores it: NFC,
    without the spaces around it; one of only spaces is none."""
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(), None, None, clerk)
    headers = people.headers("van_thu")
    said = "Quyết định số 5/QĐ-UBND"
    sent = f"  {unicodedata.normalize('NFD', said)} \n"
    answer = client.patch(
        f"/api/records/{doc.record_id}",
        headers=headers,
        json={"expected_version": doc.version, "changes": {"subject": "Trích yếu đã sửa"}, "note": sent},
    )
    assert answer.status_code == 200, answer.get_json()
    stored = kho.repo._load(doc.record_id)
    assert stored.note == said  # stored as sent before
    blank = client.patch(
        f"/api/records/{doc.record_id}",
        headers=headers,
        json={
            "expected_version": stored.version,
            "changes": {"subject": "Trích yếu sửa lần hai"},
            "note": "   ",
        },
    )
    assert blank.status_code == 200, blank.get_json()
    assert kho.repo._load(doc.record_id).note is None


def test_the_submission_sheet_export_reads_the_account_once(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, people, web = store_site
    assert kho.accounts.store is kho.repo.store  # one store: every read below is counted
    assert login(web, people, "luu_tru").status_code == 302
    reads = StoreReads(kho.repo.store, monkeypatch)
    name = people.usernames["luu_tru"]
    for path in ("/archive/muc-luc.xlsx", "/archive/bien-ban.pdf"):
        reads.clear()
        answer = web.get(path)
        assert answer.status_code == 200, path
        # (2, 2) before u22; on S3 (1, 0) since s26
        assert reads.account_reads(name) == reads.account_read_once(), (path, reads.account_reads(name))


def test_the_record_page_reads_its_record_and_its_links_once(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /records/<id>`` of a document with its original, in a hồ sơ: the record's version
    read once, its hồ sơ links listed once (3 and 5 before); the page shows the same things."""
    kho, people, web = store_site
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject=SUBJECT), pdf_bytes("u22-page"), "qc.pdf", clerk)
    rid = doc.record_id
    staff = people.actor("chuyen_vien")
    hoso = new_file(kho, staff, "22.VP", "Hồ sơ quy chế văn phòng", "Trần Đại Nghĩa")
    kho.repo.add_to_file(hoso.record_id, rid, expected_version=hoso.version, actor=staff)
    assert login(web, people, "van_thu").status_code == 302
    reads = StoreReads(kho.repo.store, monkeypatch)
    answer = web.get(f"/records/{rid}")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert SUBJECT in text and f'href="/files/{hoso.record_id}"' in text
    assert f"/records/{rid}/download" in text
    # read once (its listing; on S3 no GET, the bytes read before under the same ETag: s28)
    assert reads.gets[version_key(rid, 1)] == reads.record_read_once()[1], reads.gets[version_key(rid, 1)]
    assert reads.lists[f"links/{rid}/"] == 1, reads.lists[f"links/{rid}/"]
