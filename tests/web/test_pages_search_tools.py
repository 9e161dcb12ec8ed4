"""Search filters, chosen columns, saved searches and exports (only what the person may see)."""

from __future__ import annotations

import io
import re

from docx import Document
from flask.testing import FlaskClient
from kho_people import People
from kho_web import login, logout, post, register_one, text
from openpyxl import load_workbook
from pypdf import PdfReader

from repository.saved_searches import SavedSearches


def test_filters_by_date_urgency_and_verdict_with_vietnamese_labels(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    page = text(web.get("/search"))
    labels = ("Độ khẩn", "Độ mật", "Chữ ký số", "Ngày văn bản từ", "Cơ quan ban hành", "Hồ sơ (mã hồ sơ)")
    for label in labels:
        assert label in page, label
    inside = text(web.get("/search?q=&ngay_ban_hanh_from=2026-03-01&ngay_ban_hanh_to=2026-03-31&do_khan="))
    assert path in inside and "Ngày văn bản từ: 01/03/2026" in inside
    outside = text(web.get("/search?ngay_ban_hanh_from=2026-04-01"))
    assert path not in outside
    verdict = text(web.get("/search?signature_verdict=TOTAL-PASSED"))
    assert path in verdict and "Chữ ký số: Hợp lệ" in verdict and "TOTAL-PASSED</span>" not in verdict
    assert path not in text(web.get("/search?signature_verdict=TOTAL-FAILED"))
    assert web.get("/search?ngay_ban_hanh_from=31/02/2026").status_code == 400
    assert web.get("/search?do_mat=9").status_code == 400


def test_chosen_columns_and_exports_hold_only_what_the_person_may_see(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    register_one(web, signed["valid"])
    logout(web)
    login(web, people, "van_thu_b")  # another unit's văn thư registers one of its own
    register_one(web, signed["valid-2"], name="b.pdf", code_number="77", subject="Về việc riêng của phòng B")
    cols = "&cols=so_ky_hieu&cols=trich_yeu"
    page = text(web.get("/search?q=ve+viec" + cols))
    assert "77/BNV-VP" in page and "1234/BNV-VP" not in page
    assert "<dt>Trích yếu</dt>" in page and "<dt>Loại văn bản</dt>" not in page
    sheet = load_workbook(io.BytesIO(web.get("/search/export.xlsx?q=ve+viec" + cols).data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "77/BNV-VP" in cells and "Về việc riêng của phòng B" in cells and "1234/BNV-VP" not in cells
    assert "Số, ký hiệu" in cells and "Loại văn bản" not in cells
    pdf = web.get("/search/export.pdf?q=ve+viec" + cols)
    assert pdf.mimetype == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "77/BNV-VP" in pdf_text and "1234/BNV-VP" not in pdf_text and "Ngô Bảo Châu" in pdf_text
    docx = Document(io.BytesIO(web.get("/search/export.docx?q=ve+viec" + cols).data))
    docx_cells = [c.text for t in docx.tables for row in t.rows for c in row.cells]
    assert "77/BNV-VP" in docx_cells and "1234/BNV-VP" not in docx_cells
    assert web.get("/search/export.exe?q=x").status_code == 400
    exports = list(people.kho.repo.audit.query(action="search:export"))
    assert [e.details["format"] for e in exports] == ["xlsx", "pdf", "docx"]
    assert all(e.actor == people.usernames["van_thu_b"] and e.details["rows"] == 1 for e in exports)


def test_a_saved_search_is_listed_for_its_owner_only(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    form = {"name": "Văn bản tháng 3", "q": "trien khai", "ngay_ban_hanh_from": "2026-03-01",
            "cols": ["so_ky_hieu", "trich_yeu"]}
    saved = post(web, "/search/saved", form, "/search")
    assert saved.status_code == 302
    listing = text(web.get("/search"))
    assert "Câu tìm kiếm đã lưu" in listing and "Văn bản tháng 3" in listing
    link = re.search(r'<a href="(/search\?[^"]+)">Văn bản tháng 3</a>', listing)
    assert link
    opened = text(web.get(link.group(1).replace("&amp;", "&")))
    assert path in opened and "Ngày văn bản từ: 01/03/2026" in opened
    unnamed = post(web, "/search/saved", {**form, "name": "  "}, "/search")
    assert unnamed.status_code == 422 and "Hãy đặt tên" in text(unnamed)
    mine = SavedSearches(people.kho.repo).list(actor=people.actor("van_thu"))
    assert [s.name for s in mine] == ["Văn bản tháng 3"]
    assert next(iter(people.kho.repo.audit.query(action="search:save"))).actor == people.usernames["van_thu"]
    logout(web)
    login(web, people, "chuyen_vien")
    assert "Văn bản tháng 3" not in text(web.get("/search"))
    other = post(web, f"/search/saved/{mine[0].search_id}/delete", {}, "/search")
    assert other.status_code == 404  # someone else's saved search is not found
    logout(web)
    login(web, people, "van_thu")
    assert post(web, f"/search/saved/{mine[0].search_id}/delete", {}, "/search").status_code == 302
    assert "Văn bản tháng 3" not in text(web.get("/search"))


def test_filter_by_unit_offers_unit_names_and_keeps_the_permission_filter(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    from kho_people import AGENCY, UNIT_B

    login(web, people, "van_thu")
    agency_doc = register_one(web, signed["valid"])
    logout(web)
    login(web, people, "van_thu_b")
    unit_doc = register_one(
        web, signed["valid-2"], name="b.pdf", code_number="77", subject="Việc của phòng B"
    )
    form = web.get("/search").get_data(as_text=True)
    assert '<label for="f-unit">Đơn vị</label>' in form
    assert f'<option value="{UNIT_B}">Phòng Tổng hợp</option>' in form
    own = text(web.get(f"/search?unit={UNIT_B}"))
    assert unit_doc in own and "Đơn vị: Phòng Tổng hợp" in own and f"Đơn vị: {UNIT_B}" not in own
    # Filtering by a unit one may not read shows nothing of it (the index's permission filter).
    assert agency_doc not in text(web.get(f"/search?unit={AGENCY}"))
    logout(web)
    login(web, people, "van_thu")
    mine = text(web.get(f"/search?unit={AGENCY}"))
    assert agency_doc in mine and unit_doc not in mine
    assert unit_doc not in text(web.get("/search?unit=000.99.99.H40"))
    searches = [e for e in people.kho.repo.audit.query(action="search") if e.details.get("filters")]
    assert {"unit": [AGENCY]} in [e.details["filters"] for e in searches]
