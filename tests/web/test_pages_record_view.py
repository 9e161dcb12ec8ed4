"""The record page shows the document: rendered pages (policy-checked, cached, audited), a print
with a mark naming who printed it and when, and what changed between versions."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from kho_people import People
from kho_web import login, logout, post, register_one, text
from pypdf import PdfReader


def test_pages_are_rendered_through_the_policy_and_cached(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    record_id = path.rsplit("/", 1)[1]
    body = text(web.get(path))
    assert f"{path}/pages/1.png" in body and 'alt="Trang 1 của văn bản"' in body
    first = web.get(f"{path}/pages/1.png")
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.data[:8] == b"\x89PNG\r\n\x1a\n"
    sha = people.kho.repo._load(record_id).files[0].sha256
    assert people.kho.repo.get_derived(record_id, f"page-1.png-{sha[:16]}") == first.data  # cached
    assert web.get(f"{path}/pages/1.png").data == first.data
    assert web.get(f"{path}/pages/2.png").status_code == 404
    assert web.get(f"{path}/pages/0.png").status_code == 404
    views = list(people.kho.repo.audit.query(record_id=record_id, action="content:view"))
    assert len(views) == 2 and all(v.details["page"] == 1 for v in views)
    logout(web)
    login(web, people, "chuyen_vien_b")  # another unit: no page, no print, as for an absent id (a15)
    assert web.get(f"{path}/pages/1.png").status_code == 404
    assert post(web, f"{path}/print", {}).status_code == 404


def test_print_carries_the_printers_name_and_time_and_is_audited(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    printed = post(web, f"{path}/print", {}, path)
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.headers["Content-Disposition"].startswith("inline;")
    pages = PdfReader(io.BytesIO(printed.data)).pages
    assert all("In bởi Đỗ Thị Khuê lúc " in p.extract_text() for p in pages)
    record_id = path.rsplit("/", 1)[1]
    prints = list(people.kho.repo.audit.query(record_id=record_id, action="content:print"))
    assert [e.actor for e in prints] == [people.usernames["van_thu"]]
    assert web.post(f"{path}/print").status_code == 400  # no CSRF token: refused


def test_versions_show_what_changed(web: FlaskClient, people: People, signed: dict[str, bytes]) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    record_id = path.rsplit("/", 1)[1]
    repo = people.kho.repo
    current = repo._load(record_id)
    repo.update_metadata(
        record_id, {"to_places": "Phòng Tổng hợp"}, expected_version=current.version,
        actor=people.actor("van_thu"), note="Chuyển đúng nơi nhận",
    )
    body = text(web.get(path))
    assert "Nội dung thay đổi" in body and "Chuyển đúng nơi nhận" in body
    assert "<del>Văn phòng UBND tỉnh</del> → <ins>Phòng Tổng hợp</ins>" in body


def test_an_outgoing_document_is_registered_from_its_page(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    form = text(web.get("/outgoing/new"))
    assert "Vào sổ văn bản đi" in form and 'for="f-recipients"' in form and "Ủy ban nhân dân tỉnh" in form
    data = {
        "type_name": "Quyết định", "code_notation": "QĐ-UBND",
        "organ_name": "Ủy ban nhân dân tỉnh Ninh Bình", "subject": "Ban hành Quy chế văn bản điện tử",
        "signer_position": "Chủ tịch", "signer_full_name": "Nguyễn Văn An",
        "recipients": "Sở Nội vụ\nVăn phòng UBND tỉnh", "urgency": "0", "secrecy": "0",
    }
    missing = post(
        web, "/outgoing/new", {**data, "subject": "", "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")},
        "/outgoing/new", content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and 'role="alert"' in text(missing)
    assert 'class="field-error">Trường “Trích yếu' in text(missing)
    assert people.kho.repo.intake_queue(actor=people.actor("van_thu")) == []  # nothing half-received
    back_dated = post(
        web, "/outgoing/new",
        {**data, "issued_date": "05/01/2020", "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")},
        "/outgoing/new", content_type="multipart/form-data",
    )
    assert back_dated.status_code == 422 and "Ngày ban hành 05/01/2020 khác ngày cấp số" in text(back_dated)
    assert people.kho.repo.intake_queue(actor=people.actor("van_thu")) == []  # refused before receiving
    no_file = post(web, "/outgoing/new", data, "/outgoing/new")
    assert no_file.status_code == 422 and "Hãy chọn tệp" in text(no_file)
    done = post(
        web, "/outgoing/new", {**data, "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")}, "/outgoing/new",
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, text(done)
    record = people.kho.repo._load(done.headers["Location"].rsplit("/", 1)[1])
    assert record.kind == "di" and record.registration is not None
    assert [r.organ_name for r in record.metadata.recipients] == ["Sở Nội vụ", "Văn phòng UBND tỉnh"]
    page = text(web.get(done.headers["Location"]))
    assert "Đã vào sổ văn bản đi" in page and "Văn bản đi" in page
    logout(web)
    login(web, people, "chuyen_vien")
    assert web.get("/outgoing/new").status_code == 403


def test_home_counts_waiting_documents_and_lists_my_hoso_without_a_scan(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    uploaded = post(
        web, "/intake", {"direction": "den", "files": (io.BytesIO(signed["valid"]), "cho.pdf")}, "/intake",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    assert "cho.pdf" in text(web.get("/intake"))
    home = text(web.get("/"))
    assert "<strong>1</strong> văn bản chờ vào sổ" in home
    logout(web)
    login(web, people, "chuyen_vien")
    made = post(
        web, "/files",
        {"file_notation": "02.VP", "title": "Hồ sơ của tôi", "maintenance": "20 năm",
         "creator": "Phạm Minh Chính", "start_date": "01/03/2026"},
        "/files",
    )
    assert made.status_code == 302
    assert "Hồ sơ của tôi" in text(web.get("/"))
    logout(web)
    login(web, people, "lanh_dao")  # sees the hồ sơ, did not create it
    assert "Hồ sơ của tôi" not in text(web.get("/"))


def test_showing_pages_writes_no_denial_for_what_the_menu_leaves_out(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    logout(web)
    login(web, people, "chuyen_vien")  # no intake, register, audit or accounts in the menu
    before = len(list(people.kho.repo.audit.query(action="access:denied")))
    for page in ("/", "/search", "/files", path):
        assert web.get(page).status_code == 200
    assert len(list(people.kho.repo.audit.query(action="access:denied"))) == before
    assert web.get("/audit?user=x").status_code == 403  # an actual attempt is still recorded
    assert len(list(people.kho.repo.audit.query(action="access:denied"))) == before + 1


def test_a_stored_pdf_pdfium_cannot_open_shows_its_page_without_page_images(
    web: FlaskClient, people: People
) -> None:
    """A legacy original stored as PDF that pdfium cannot open (ingest refuses such files now)
    made its record page a 500 while counting pages; the page shows, with no page image and
    the download still offered, and its page image is a 404 saying why."""
    from kho_testing import incoming, pdf_bytes

    record = people.kho.repo.create_document(
        "den", incoming(code_number="91"), pdf_bytes("hong"), "hong.pdf", people.actor("van_thu")
    )
    login(web, people, "van_thu")
    page = web.get(f"/records/{record.record_id}")
    assert page.status_code == 200
    body = text(page)
    assert "/pages/1.png" not in body and f"/records/{record.record_id}/download" in body
    image = web.get(f"/records/{record.record_id}/pages/1.png")
    assert image.status_code == 404 and "không hiển thị được như PDF" in text(image)
