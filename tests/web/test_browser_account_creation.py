"""No puppet accounts, end to end in a real browser (Debian's Chromium driven by Playwright,
harness ``tests/support/kho_browser.py``): the quản trị creates an account on the accounts page
and sees only the first half of its initial password; a reload of that answer creates nothing
more; the lãnh đạo confirms on "Xác nhận mật khẩu" and sees the second half; the person logs in
with both halves and must set their own password. axe-core checks both pages that show a half."""

# ruff: noqa: F811 - the harness fixtures (server, browser, shots, axe_source) are imported by name
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import People

from web.context import Kho

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Mat-khau@Rieng2026"


def test_a_new_account_needs_two_people_in_chromium(
    server: str, browser: Any, people: People, kho: Kho, shots: Path, axe_source: str
) -> None:
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    before = len(kho.accounts.accounts())

    # -- the quản trị creates the account and is shown the first half, once -----------------------
    walk.login(people.usernames["quan_tri"])
    page.wait_for_url(server + "/")
    walk.go("/admin/accounts")
    page.fill("#full_name", "Nguyễn Văn Mới")
    page.check("input[name=roles][value=chuyen_vien]")
    with page.expect_navigation() as created:
        page.click("main form.card button[type=submit]")
    assert created.value.status == 201 and created.value.headers["cache-control"] == "no-store"
    username = page.inner_text("#new-username").strip()
    first = page.inner_text("#reset-half").strip()
    assert len(first) == 16 and "Nửa đầu mật khẩu ban đầu" in page.inner_text("#reset-half-box")
    walk.check("tao-tai-khoan")
    # F5 on the answer: Chromium sends the form again; nothing is created, no half is shown.
    reloaded = page.reload()
    assert reloaded is not None and reloaded.status == 409
    assert "đã được gửi" in page.inner_text("[role=alert]") and first not in page.content()
    assert len(kho.accounts.accounts()) == before + 1
    walk.go("/admin/accounts")
    assert "Tài khoản mới chờ xác nhận" in page.inner_text("table")
    assert page.locator(f"button[aria-label='Xác nhận tài khoản mới của {username}']").count() == 0
    walk.logout()

    # -- before the confirmation nothing logs in --------------------------------------------------
    walk.login(username, first)
    assert "không đúng" in page.inner_text("[role=alert]")

    # -- the lãnh đạo confirms and is shown the second half, once --------------------------------
    walk.login(people.usernames["lanh_dao"])
    page.wait_for_url(server + "/")
    page.click("nav >> text=Xác nhận mật khẩu")
    page.wait_for_url("**/admin/resets")
    assert "Tài khoản mới" in page.inner_text("#pending-resets")
    with page.expect_navigation() as confirm:
        page.click(f"button[aria-label='Xác nhận tài khoản mới của {username}']")
    assert confirm.value.status == 200
    second = page.inner_text("#reset-half").strip()
    assert len(second) == 16
    walk.check("xac-nhan-tai-khoan-moi")
    walk.logout()

    # -- the person: both halves, then their own password ----------------------------------------
    walk.login(username, first + second)
    page.wait_for_url("**/password")
    page.fill("#old_password", first + second)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login")
    walk.login(username, NEW_PASSWORD)
    page.wait_for_url(server + "/")
    assert username in page.inner_text("header")

    context.close()
    assert not script_errors, script_errors
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert walk.axe_checked == ["tao-tai-khoan", "xac-nhan-tai-khoan-moi"]
    assert not walk.violations, walk.violations
