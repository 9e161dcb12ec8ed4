"""End to end in a real browser: Debian's Chromium driven by Playwright against a real HTTP server.

Each role's main path: the văn thư receives a signed PDF and registers it, finds it without
diacritics, opens and downloads it, prints the register as PDF; a chuyên viên builds a hồ sơ; the
auditor finds the download in the log; the quản trị locks an account, which then cannot log in.
Screenshots of the main pages at 1280 and 360 px go to a temporary folder (``KHO_SCREENSHOT_DIR``
to choose it); axe-core (``npm install axe-core``, see scripts/install.sh) checks every main page
for serious or critical accessibility violations. The harness is ``tests/support/kho_browser.py``.
"""

# ruff: noqa: F811 - the harness fixtures (server, browser, shots, axe_source) are imported by name
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import People
from pypdf import PdfReader

from kho.timeutil import utcnow, vn_date
from web.context import Kho

pytestmark = pytest.mark.slow


def test_each_role_main_path_in_chromium(
    server: str, browser: Any, people: People, signed: dict[str, bytes], shots: Path,
    axe_source: str,
) -> None:
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    scripted_uploads: list[str] = []
    page.on(
        "request",
        lambda r: scripted_uploads.append(r.url) if r.headers.get("x-kho-upload") == "1" else None,
    )
    year = vn_date(utcnow()).year

    # -- văn thư: receive, confirm → số đến -----------------------------------------------------
    walk.go("/login")
    walk.check("dang-nhap")
    walk.login(people.usernames["van_thu"])
    page.wait_for_url(server + "/")
    walk.check("trang-chu")
    walk.go("/intake")
    page.set_input_files(
        "#files", files=[{"name": "cong-van.pdf", "mimeType": "application/pdf", "buffer": signed["valid"]}]
    )
    walk.check("tiep-nhan")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/intake/*")
    assert "Hợp lệ" in page.inner_text(".verdict")
    values = {
        "type_name": "Công văn", "code_number": "1234", "code_notation": "BNV-VP",
        "issued_date": "02/03/2026", "organ_name": "Bộ Nội vụ",
        "subject": "Về việc triển khai Hệ thống quản lý văn bản và điều hành",
        "signer_position": "Chánh Văn phòng", "signer_full_name": "Trần Thị Hoà",
        "to_places": "Văn phòng UBND tỉnh", "page_amount": "2",
    }
    for name, value in values.items():
        page.fill(f"#f-{name}", value)
    walk.check("kiem-tra")
    page.click("text=Xác nhận và vào sổ")
    page.wait_for_url("**/records/*")
    assert "Số đến: 01" in page.inner_text(".messages")
    record_url = page.url

    # -- search without diacritics, open, download -------------------------------------------
    walk.go("/search")
    page.fill("#q", "trien khai he thong")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("mark").count() > 0
    sidebar = page.inner_text("aside")  # the đơn vị facet, by name
    assert "Đơn vị" in sidebar and "Ủy ban nhân dân tỉnh Ninh Bình (1)" in sidebar
    walk.check("tim-kiem")
    page.click(f"a[href='{record_url.removeprefix(server)}']")
    page.wait_for_url(record_url)
    walk.check("van-ban")
    with page.expect_download() as info:
        page.click("text=Tải bản gốc")
    download = info.value
    assert download.suggested_filename == "cong-van.pdf"
    assert Path(download.path()).read_bytes() == signed["valid"]

    # -- the register on screen, printed as PDF ------------------------------------------------
    walk.go(f"/registers?series=den&year={year}")
    assert "1234/BNV-VP" in page.inner_text("table.register")
    walk.check("so-dang-ky")
    href = page.get_attribute("#print-pdf", "href")
    printed = context.request.get(server + href)
    assert printed.ok and printed.headers["content-type"] == "application/pdf"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.body())).pages)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" in pdf_text and f"Năm: {year}" in pdf_text and "1234/BNV-VP" in pdf_text
    (shots / "so-dang-ky.pdf").write_bytes(printed.body())

    # -- several files at once: the page's script sends each with its own progress bar ---------
    walk.go("/intake")
    page.set_input_files(
        "#files",
        files=[
            {"name": "quyet-dinh.pdf", "mimeType": "application/pdf", "buffer": signed["valid-2"]},
            {"name": "bi-sua.pdf", "mimeType": "application/pdf", "buffer": signed["tampered"]},
        ],
    )
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(server + "/intake")
    queue = page.inner_text("table")
    assert "quyet-dinh.pdf" in queue and "bi-sua.pdf" in queue and "Không hợp lệ" in queue
    assert len(scripted_uploads) == 3  # one request per file, sent by web/pages/static/kho.js
    walk.logout()

    # -- chuyên viên builds a hồ sơ ------------------------------------------------------------
    walk.login(people.usernames["chuyen_vien"])
    page.wait_for_url(server + "/")
    walk.go("/files")
    page.fill("#h-file_notation", "01.VP")
    page.fill("#h-title", "Hồ sơ triển khai hệ thống quản lý văn bản")
    page.fill("#h-maintenance", "20 năm")
    page.click("text=Tạo hồ sơ")
    page.wait_for_url("**/files/*")
    page.goto(record_url)
    page.click("text=Thêm vào hồ sơ")
    page.wait_for_url("**/files/*")
    assert "1234/BNV-VP" in page.inner_text("table.register")
    walk.check("ho-so")
    # Take it out again: the page asks first (a dismissed question sends nothing), then removes it.
    file_url = page.url
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button[aria-label='Bỏ ra văn bản 1234/BNV-VP khỏi hồ sơ']")
    assert page.url == file_url and "1234/BNV-VP" in page.inner_text("table.register")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button[aria-label='Bỏ ra văn bản 1234/BNV-VP khỏi hồ sơ']")
    assert "Đã bỏ văn bản ra khỏi hồ sơ." in page.inner_text(".messages")
    assert "1234/BNV-VP" not in page.inner_text("table.register")
    page.goto(record_url)
    page.click("text=Thêm vào hồ sơ")  # and back in, for the rest of the path
    page.wait_for_url("**/files/*")
    assert "1234/BNV-VP" in page.inner_text("table.register")
    walk.go("/")
    assert "1 hồ sơ đang lập" in " ".join(page.inner_text(".counts").split())
    walk.logout()

    # -- lưu trữ viên: xem xét hủy, phong tỏa, nộp lưu lịch sử ----------------------------------
    walk.login(people.usernames["luu_tru"])
    page.wait_for_url(server + "/")
    walk.go("/retention")
    assert "Xem xét hủy" in page.inner_text("main") and "Phong tỏa" in page.inner_text("main")
    walk.check("luu-tru")
    walk.logout()

    # -- kiểm toán viên finds the download ----------------------------------------------------
    walk.login(people.usernames["kiem_toan"])
    page.wait_for_url(server + "/")
    walk.go("/audit")
    page.select_option("#action", "content:download")
    page.click("text=Tra cứu")
    page.wait_for_url("**/audit?*")
    table = page.inner_text("table")
    assert people.usernames["van_thu"] in table and "Tải bản gốc" in table
    walk.check("nhat-ky")
    walk.go("/audit/verify")
    assert "toàn vẹn" in page.inner_text("main")
    walk.go("/audit")
    page.click("text=Báo cáo giải quyết văn bản (số liệu)")
    page.wait_for_url("**/audit/handling-reports")
    assert "Tổng số" in page.inner_text("#tong-hop")
    walk.check("bao-cao-so-lieu")
    report = context.request.get(server + page.get_attribute("#report-pdf", "href"))
    assert report.ok and report.headers["content-type"] == "application/pdf"
    walk.logout()

    # -- quản trị locks an account; it can no longer log in -------------------------------------
    target = people.usernames["chuyen_vien"]
    walk.login(people.usernames["quan_tri"])
    page.wait_for_url(server + "/")
    walk.go("/admin/accounts")
    walk.check("tai-khoan")
    page.click(f"button[aria-label='Khóa tài khoản {target}']")
    page.wait_for_url("**/admin/accounts")
    assert f"Đã khóa tài khoản {target}" in page.inner_text(".messages")
    walk.logout()
    walk.login(target)
    assert "khóa" in page.inner_text("[role=alert]")
    assert page.url.endswith("/login")

    context.close()
    assert not script_errors, script_errors
    print(f"\nscreenshots: {shots} ({len(walk.taken)} files)")
    print(f"axe-core checked {walk.axe_checked}; moderate/minor findings: {walk.minor or 'none'}")
    assert all(p.stat().st_size > 1000 for p in walk.taken)
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert len(walk.axe_checked) == 12 and not walk.violations, walk.violations


def test_handling_paths_of_the_leader_and_the_handler_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, shots: Path, axe_source: str
) -> None:
    """Xử lý văn bản đến in the browser: the văn thư trình, the leader reads the count on the home
    page and directs with a deadline, the handler finds it in Việc của tôi, records progress and
    reports completion; the leader sees it waiting for approval; the report page. axe on each."""
    from kho_people import UNIT_B
    from kho_testing import incoming

    doc = kho.repo.create_document("den", incoming(urgency=1), None, None, people.actor("van_thu"))
    handling_url = f"/handling/{doc.record_id}"
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    leader, handler = people.usernames["lanh_dao"], people.usernames["chuyen_vien_b"]

    def submit(field: str) -> None:
        """Send the form that holds ``field`` and wait for the answer page."""
        with page.expect_navigation():
            page.click(f"{field} >> xpath=ancestor::form//button[@type='submit']")

    # -- văn thư: trình lãnh đạo -----------------------------------------------------------------
    walk.login(people.usernames["van_thu"])
    page.wait_for_url(server + "/")
    walk.go(handling_url)
    page.select_option("#s-users", leader)
    page.fill("#s-note", "Kính trình đồng chí")
    submit("#s-note")
    assert "Chờ chỉ đạo" in page.inner_text("#tinh-trang")
    walk.logout()

    # -- lãnh đạo: the count on the home page, Việc của tôi, the direction -------------------------
    walk.login(leader)
    page.wait_for_url(server + "/")
    assert page.inner_text("#home-inbox") == "1"
    walk.go("/work")
    assert page.inner_text("#c-direct") == "1" and "KHẨN" in page.inner_text("main").upper()
    walk.check("viec-cua-toi")
    page.click(f"a[href='{handling_url}']")
    page.wait_for_url("**" + handling_url)
    walk.check("phieu-giai-quyet")
    page.select_option("#d-units", UNIT_B)
    page.select_option("#d-users", handler)
    page.fill("#d-deadline", "2099-01-05")
    page.fill("#d-note", "Phòng Tổng hợp chủ trì, đồng chí Nghĩa trực tiếp xử lý")
    submit("#d-note")
    assert "05/01/2099" in page.inner_text("#thoi-han")
    assert "đồng chí Nghĩa trực tiếp xử lý" in page.inner_text(".trace")
    walk.logout()

    # -- chuyên viên: Việc của tôi, progress, completion report -----------------------------------
    walk.login(handler)
    page.wait_for_url(server + "/")
    assert page.inner_text("#home-open") == "1"
    walk.go("/work")
    page.click(f"a[href='{handling_url}']")
    page.wait_for_url("**" + handling_url)
    page.select_option("#p1-act", "progress")
    page.fill("#p1-note", "Đang tổng hợp số liệu")
    submit("#p1-act")
    assert "Đang xử lý" in page.inner_text("#tinh-trang")
    page.select_option("#p1-act", "report_done")
    page.fill("#p1-note", "Đã xong, xin kết thúc")
    submit("#p1-act")
    walk.check("phieu-xu-ly")
    walk.logout()

    # -- lãnh đạo: waiting for approval; finishing without an answer is refused, in Vietnamese ---
    walk.login(leader)
    page.wait_for_url(server + "/")
    walk.go("/work")
    assert page.inner_text("#c-approve") == "1"
    walk.go(handling_url)
    page.select_option("#v1-act", "approve_done")
    submit("#v1-act")
    assert "Chưa có văn bản trả lời" in page.inner_text("[role=alert]")
    walk.go("/handling/reports?start=2000-01-01")
    assert page.inner_text("#thong-ke tbody td") == "1"
    walk.check("bao-cao-giai-quyet")
    walk.logout()

    context.close()
    assert not script_errors, script_errors
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert len(walk.axe_checked) == 4 and not walk.violations, walk.violations


def _retention_setup(kho: Kho, people: People, signed: dict[str, bytes]) -> tuple[str, str]:
    """An issued plan, a hồ sơ closed and submitted (for the inbox) and one closed, due within 30
    days (for the alert): made through the same service the pages call."""
    from datetime import timedelta

    from kho_testing import incoming

    service, worker = kho.retention, people.actor("chuyen_vien")
    today = vn_date(utcnow())
    plan = service.draft_plan(
        {
            "year": today.year,
            "headings": [{"number": "I", "title": "Tổng hợp", "abbreviation": "TH"}],
            "items": [
                {"notation": "01.TH", "title": "Hồ sơ triển khai phần mềm", "maintenance": "20 năm",
                 "creator": "Văn phòng", "heading": "I"},
                {"notation": "02.TH", "title": "Công văn trao đổi chung", "maintenance": "10 năm",
                 "creator": "Văn phòng", "heading": "I"},
            ],
        },
        actor=people.actor("van_thu"),
    )
    plan = service.approve_plan(plan.year, expected_version=plan.version, actor=people.actor("lanh_dao"))
    service.issue_plan(plan.year, expected_version=plan.version, actor=people.actor("lanh_dao"))
    start = today - timedelta(days=400)
    ids = []
    for notation, pdf, number, end in (
        ("01.TH", signed["valid"], "501", today - timedelta(days=5)),
        ("02.TH", signed["valid-2"], "502", today - timedelta(days=350)),
    ):
        file = service.open_file(plan.year, notation, actor=worker, start_date=start)
        doc = kho.receive.receive_and_register(
            pdf, f"{number}.pdf", "den",
            incoming(code_number=number, issued_date=start.isoformat(), arrival_date=start.isoformat()),
            people.actor("van_thu"),
        )
        file = kho.repo.add_to_file(
            file.record_id, doc.record_id, expected_version=file.version, actor=worker
        )
        file = service.close_file(file.record_id, end_date=end, expected_version=file.version, actor=worker)
        ids.append(file.record_id)
    first = kho.repo._load(ids[0])
    service.submit(ids[0], expected_version=first.version, actor=worker)
    return ids[0], ids[1]


def test_the_archivist_returns_then_accepts_a_submitted_file_in_chromium(
    server: str, kho: Kho, browser: Any, people: People, signed: dict[str, bytes], shots: Path,
    axe_source: str,
) -> None:
    submitted, due = _retention_setup(kho, people, signed)
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))

    walk.login(people.usernames["luu_tru"])
    page.wait_for_url(server + "/")
    assert "đến hạn nộp lưu" in page.inner_text("main"), "the 30-day alert is on the home page"
    assert page.locator(f"a[href='/files/{due}']").count() == 1
    walk.check("trang-chu-canh-bao-nop-luu")
    walk.go("/plans")
    walk.check("danh-muc-ho-so")
    walk.go(f"/plans/{vn_date(utcnow()).year}")
    assert "Đã ban hành" in page.inner_text("main") and "02 hồ sơ" in page.inner_text("main")
    walk.check("danh-muc-nam")

    page.click("nav >> text=Nộp lưu")
    page.wait_for_url("**/archive")
    walk.check("nop-luu")
    page.click(f"a[href='/archive/{submitted}']")
    page.wait_for_url(f"**/archive/{submitted}")
    assert page.inner_text(".checks").count("Đạt") == 4 and "Không đạt" not in page.inner_text(".checks")
    walk.check("kiem-tra-nop-luu")
    page.click("text=Trả lại hồ sơ")  # the reason is required: the browser keeps the form
    assert page.url.endswith(f"/archive/{submitted}")
    page.fill("#return_reason", "Thiếu tờ trình phê duyệt")
    page.click("text=Trả lại hồ sơ")
    page.wait_for_url("**/archive")
    assert "Đã trả lại hồ sơ" in page.inner_text(".messages")
    assert page.locator(f"a[href='/archive/{submitted}']").count() == 0

    returned = kho.repo._load(submitted)
    assert returned.state == "closed"
    kho.retention.submit(submitted, expected_version=returned.version, actor=people.actor("chuyen_vien"))
    walk.go(f"/archive/{submitted}")
    page.click("text=Tiếp nhận vào lưu trữ cơ quan")
    page.wait_for_url("**/archive")
    assert "Đã tiếp nhận hồ sơ" in page.inner_text(".messages")
    assert kho.repo._load(submitted).state == "archived"
    with page.expect_download() as download:
        page.click("text=Biên bản giao nhận (PDF)")
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Tổng số hồ sơ" in text and "Tổng số tệp tin" in text
    walk.go(f"/files/{submitted}")
    assert "Lưu trữ cơ quan" in page.inner_text("main") and "Trả lại" in page.inner_text("main")
    walk.check("ho-so-da-nop-luu")

    context.close()
    assert not script_errors, script_errors
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert len(walk.axe_checked) == 6 and not walk.violations, walk.violations
