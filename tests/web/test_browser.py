"""End to end in a real browser: Debian's Chromium driven by Playwright against a real HTTP server.

Each role's main path: the văn thư receives a signed PDF and registers it, finds it without
diacritics, opens and downloads it, prints the register as PDF; a chuyên viên builds a hồ sơ; the
auditor finds the download in the log; the quản trị locks an account, which then cannot log in.
Screenshots of the main pages at 1280 and 360 px go to a temporary folder (``KHO_SCREENSHOT_DIR``
to choose it); axe-core (``npm install axe-core``, see scripts/install.sh) checks every main page
for serious or critical accessibility violations. The harness is ``tests/support/kho_browser.py``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import People
from pypdf import PdfReader

from kho.timeutil import utcnow, vn_date

pytestmark = pytest.mark.slow


def test_each_role_main_path_in_chromium(
    server: str, browser: Any, people: People, signed: dict[str, bytes], shots: Path,  # noqa: F811
    axe_source: str,  # noqa: F811
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
    walk.go("/")
    assert "1 hồ sơ đang lập" in " ".join(page.inner_text(".counts").split())
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
    assert len(walk.axe_checked) == 10 and not walk.violations, walk.violations
