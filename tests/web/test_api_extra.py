"""The API of the pages added in issue 12: each answers the same as its page, token-authenticated,
through the same policy."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_testing import incoming
from openpyxl import load_workbook
from pypdf import PdfReader


def _register(client: FlaskClient, people: People, pdf: bytes) -> str:
    answer = client.post(
        "/api/records",
        data={"direction": "den", "metadata": json.dumps(incoming()), "file": (io.BytesIO(pdf), "cv.pdf")},
        headers=people.headers("van_thu"),
    )
    assert answer.status_code == 201, answer.json
    return str(answer.json["record_id"])


def test_pages_print_and_changes_of_a_record(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    record_id = _register(client, people, signed["valid"])
    clerk = people.headers("van_thu")
    png = client.get(f"/api/records/{record_id}/pages/1", headers=clerk)
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
    missing = client.get(f"/api/records/{record_id}/pages/9", headers=clerk)
    assert missing.json["error"]["code"] == "PAGE_NOT_FOUND"
    other = client.get(f"/api/records/{record_id}/pages/1", headers=people.headers("chuyen_vien_b"))
    assert other.status_code == 404 and other.json["error"]["code"] == "NOT_FOUND"  # as an absent id (a15)
    printed = client.post(f"/api/records/{record_id}/print", headers=clerk)
    assert "In bởi Đỗ Thị Khuê lúc" in PdfReader(io.BytesIO(printed.data)).pages[0].extract_text()
    version = client.get(f"/api/records/{record_id}", headers=clerk).json["version"]
    client.patch(f"/api/records/{record_id}", json={"changes": {"to_places": "Phòng Tổng hợp"},
                                                     "expected_version": version}, headers=clerk)
    changes = client.get(f"/api/records/{record_id}/changes", headers=clerk).json["items"]
    assert {"field": "to_places", "label": "Đơn vị hoặc người nhận", "before": "Văn phòng UBND tỉnh",
            "after": "Phòng Tổng hợp"} in changes[0]["changes"]
    grants = client.get(f"/api/records/{record_id}/grants", headers=people.headers("quan_tri"))
    assert grants.status_code == 200 and grants.json["kind"] == "den"


def test_search_export_saved_searches_units_and_audit(
    client: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    _register(client, people, signed["valid"])
    clerk = people.headers("van_thu")
    sheet = client.get("/api/search/export?format=xlsx&q=trien+khai&cols=so_ky_hieu", headers=clerk)
    cells = [c.value for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows() for c in row]
    assert "1234/BNV-VP" in cells
    other = client.get("/api/search/export?format=xlsx&q=trien+khai&cols=so_ky_hieu",
                       headers=people.headers("chuyen_vien_b"))
    assert "1234/BNV-VP" not in [c.value for row in load_workbook(io.BytesIO(other.data)).active.iter_rows()
                                 for c in row]
    assert client.get("/api/search/export?format=exe", headers=clerk).status_code == 400
    made = client.post("/api/saved-searches", json={"name": "Bộ Nội vụ", "query": "trien khai",
                                                    "filters": {"do_khan": ["0"]}}, headers=clerk)
    assert made.status_code == 201
    bad = client.post("/api/saved-searches", json={"name": "x", "filters": {"do_mat": ["9"]}}, headers=clerk)
    assert bad.status_code == 400
    listed = client.get("/api/saved-searches", headers=clerk).json["items"]
    assert [s["name"] for s in listed] == ["Bộ Nội vụ"] and listed[0]["filters"] == {"do_khan": ["0"]}
    assert client.get("/api/saved-searches", headers=people.headers("chuyen_vien")).json["items"] == []
    search_id = listed[0]["search_id"]
    stranger = people.headers("chuyen_vien")
    assert client.delete(f"/api/saved-searches/{search_id}", headers=stranger).status_code == 404
    assert client.delete(f"/api/saved-searches/{search_id}", headers=clerk).status_code == 200
    admin = people.headers("quan_tri")
    renamed = client.patch(f"/api/units/{UNIT_B}", json={"name": "Phòng Hành chính"}, headers=admin)
    assert renamed.status_code == 200 and renamed.json["name"] == "Phòng Hành chính"
    assert client.patch(f"/api/units/{UNIT_B}", json={"name": "x"}, headers=clerk).status_code == 403
    auditor = people.headers("kiem_toan")
    csv_answer = client.get("/api/audit/export?format=csv&action=unit:update", headers=auditor)
    assert csv_answer.status_code == 200 and "Sửa đơn vị" in csv_answer.data.decode("utf-8-sig")
    stats = client.get("/api/audit/stats?since=2020-01-01", headers=auditor).json
    assert stats["total"] >= 1 and any(a["action"] == "search:export" for a in stats["by_action"])
    assert client.get("/api/audit/stats", headers=clerk).status_code == 403
