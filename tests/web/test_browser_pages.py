"""In Chromium: the pages issue 12 completed — the document shown in its record page (rendered
page, print with a mark), search filters, a saved search and an export, outgoing registration,
and the quản trị's units, roles and grants — each checked with axe-core and photographed at 1280
and 360 px (harness: tests/support/kho_browser.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import UNIT_B, People
from openpyxl import load_workbook
from pypdf import PdfReader

pytestmark = pytest.mark.slow


def test_new_pages_in_chromium(
    server: str, browser: Any, people: People, signed: dict[str, bytes], shots: Path,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    # -- văn thư registers an outgoing document on its own page ----------------------------------
    walk.login(people.usernames["van_thu"])
    page.wait_for_url(server + "/")
    page.click("nav >> text=Văn bản đi")
    page.wait_for_url("**/outgoing/new")
    page.set_input_files("#f-file", files=[{"name": "qd.pdf", "mimeType": "application/pdf",
                                             "buffer": signed["valid"]}])
    for name, value in {
        "type_name": "Quyết định", "code_notation": "QĐ-UBND",
        "subject": "Ban hành Quy chế quản lý văn bản điện tử", "signer_position": "Chủ tịch",
        "signer_full_name": "Nguyễn Văn An", "recipients": "Sở Nội vụ\nVăn phòng UBND tỉnh",
    }.items():
        page.fill(f"#f-{name}", value)
    walk.check("van-ban-di")
    page.click("button:text-is('Vào sổ văn bản đi')")
    page.wait_for_load_state()
    assert "/records/" in page.url, page.inner_text("main")
    assert "Đã vào sổ văn bản đi" in page.inner_text(".messages")
    record_url = page.url

    # -- the record page shows the document; print carries who and when -------------------------
    image = page.locator("figure.page img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.get_attribute("alt") == "Trang 1 của văn bản"
    walk.check("van-ban-noi-dung")
    token = page.get_attribute("form[action$='/print'] input[name=csrf_token]", "value")
    printed = context.request.post(record_url + "/print", form={"csrf_token": token})
    assert printed.ok and printed.headers["content-type"] == "application/pdf"
    mark = PdfReader(io.BytesIO(printed.body())).pages[0].extract_text()
    assert re.search(r"In bởi Đỗ Thị Khuê lúc \d\d/\d\d/\d{4} \d\d:\d\d", mark), mark
    (shots / "ban-in.pdf").write_bytes(printed.body())

    # -- search: a filter, a saved search, an export --------------------------------------------
    walk.go("/search")
    page.fill("#q", "quy che")
    page.click("summary")
    page.select_option("#f-direction", "di")
    page.fill("#f-bh-from", "2026-03-01")
    page.uncheck("#col-loai_van_ban")
    page.click("text=Áp dụng")
    page.wait_for_url("**/search?*")
    assert record_url.removeprefix(server) in page.content()
    assert "Loại bản ghi: Văn bản đi" in page.inner_text("main")
    page.fill("#save-name", "Văn bản đi tháng 3")
    page.click("form[action$='/search/saved'] button")
    page.wait_for_url("**/search?*")
    assert "Văn bản đi tháng 3" in page.inner_text("section[aria-labelledby=dl]")
    walk.check("tim-kiem-loc")
    with page.expect_download() as info:
        page.click("a:text-is('XLSX')")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert "Ban hành Quy chế quản lý văn bản điện tử" in cells and "Loại văn bản" not in cells
    walk.logout()

    # -- quản trị: a unit, a role, a grant ---------------------------------------------------------
    walk.login(people.usernames["quan_tri"])
    page.wait_for_url(server + "/")
    walk.go("/admin/units")
    page.fill("#unit_id", "000.02.18.H40")
    page.fill("#uname", "Phòng Kế hoạch")
    page.fill("#code", "pkh")
    page.click("button:text-is('Tạo đơn vị')")
    page.wait_for_url("**/admin/units")
    assert "Đã tạo đơn vị Phòng Kế hoạch" in page.inner_text(".messages")
    walk.check("don-vi")
    target = people.usernames["chuyen_vien_b"]
    walk.go("/admin/accounts")
    row = page.locator("tr", has_text=target)
    row.locator("select[name=role]").select_option("van_thu")
    row.locator("select[name=unit]").select_option(UNIT_B)
    row.locator(f"button[aria-label='Cập nhật vai trò của {target}']").click()
    page.wait_for_url("**/admin/accounts")
    assert "văn thư (Phòng Tổng hợp)" in page.locator("tr", has_text=target).inner_text()
    record_id = record_url.rsplit("/", 1)[1]
    walk.go(f"/admin/grants?record={record_id}")
    page.fill("#users", target)
    page.click("text=Thực hiện")
    page.wait_for_url("**/admin/grants?*")
    assert target in page.inner_text("section")
    walk.check("phan-quyen")
    walk.logout()

    # -- kiểm toán viên: statistics and the changes in the log ---------------------------------
    walk.login(people.usernames["kiem_toan"])
    page.wait_for_url(server + "/")
    walk.go("/audit/stats?since=01/01/2020")
    assert "lượt truy cập" in page.inner_text("main")
    walk.check("thong-ke")
    walk.go("/audit?action=record:grant")
    assert "Cấp quyền truy cập" in page.inner_text("table")
    walk.logout()

    context.close()
    assert not script_errors, script_errors
    print(f"\nscreenshots: {shots} ({len(walk.taken)} files); axe-core checked {walk.axe_checked};"
          f" moderate/minor findings: {walk.minor or 'none'}")
    assert all(p.stat().st_size > 1000 for p in walk.taken)
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert len(walk.axe_checked) == 6 and not walk.violations, walk.violations
