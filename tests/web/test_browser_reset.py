"""The two-person password reset end to end in a real browser (Debian's Chromium driven by
Playwright, harness ``tests/support/kho_browser.py``): quản trị A resets on the accounts page and
sees the first half once, lãnh đạo B confirms on "Xác nhận mật khẩu" and sees the second
half once, the person logs in with both halves typed one after the other, is made to set their own
password, then works. axe-core checks both pages that show a half."""

# ruff: noqa: F811 - the harness fixtures (server, browser, shots, axe_source) are imported by name
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kho_browser import Walk, axe_source, browser, server, shots  # noqa: F401 - fixtures
from kho_people import People

pytestmark = pytest.mark.slow

NEW_PASSWORD = "Mat-khau@Rieng2026"


def test_a_two_person_reset_in_chromium(
    server: str, browser: Any, people: People, shots: Path, axe_source: str
) -> None:
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, shots, axe_source)
    page = walk.page
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    target = people.usernames["chuyen_vien"]

    # -- quản trị A resets and is shown the first half, once ------------------------------------
    walk.login(people.usernames["quan_tri"])
    page.wait_for_url(server + "/")
    walk.go("/admin/accounts")
    with page.expect_navigation() as reset:
        page.click(f"button[aria-label='Đặt lại mật khẩu của {target}']")
    assert reset.value.status == 200 and reset.value.headers["cache-control"] == "no-store"
    first = page.inner_text("#reset-half").strip()
    assert len(first) == 16 and first not in page.url
    walk.check("dat-lai-mat-khau")
    walk.go("/admin/accounts")
    assert page.locator("#reset-half").count() == 0 and first not in page.content()
    assert "Mật khẩu cấp lại chờ xác nhận" in page.inner_text("table")
    walk.logout()

    # -- lãnh đạo B confirms and is shown the second half, once ---------------------------------
    walk.login(people.usernames["lanh_dao"])
    page.wait_for_url(server + "/")
    page.click("nav >> text=Xác nhận mật khẩu")
    page.wait_for_url("**/admin/resets")
    assert people.usernames["quan_tri"] in page.inner_text("#pending-resets")
    with page.expect_navigation() as confirm:
        page.click(f"button[aria-label='Xác nhận đặt lại mật khẩu của {target}']")
    assert confirm.value.status == 200 and confirm.value.headers["cache-control"] == "no-store"
    second = page.inner_text("#reset-half").strip()
    assert len(second) == 16 and second not in page.url
    walk.check("xac-nhan-dat-lai")
    walk.go("/admin/resets")
    assert page.locator("#reset-half").count() == 0 and second not in page.content()
    walk.logout()

    # -- the person: both halves typed one after the other, then their own password -------------
    walk.login(target, first + second)
    page.wait_for_url("**/password")
    assert "cần đổi mật khẩu" in page.inner_text("main")
    page.fill("#old_password", first + second)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/login")
    walk.login(target, first + second)  # the one-time password is spent
    assert "không đúng" in page.inner_text("[role=alert]")
    walk.login(target, NEW_PASSWORD)
    page.wait_for_url(server + "/")
    assert target in page.inner_text("header")
    walk.go("/files")  # works: a chuyên viên's hồ sơ page
    assert "Hồ sơ" in page.inner_text("main")

    context.close()
    assert not script_errors, script_errors
    assert not walk.overflow, f"pages wider than a 360 px phone: {walk.overflow}"
    assert walk.axe_checked == ["dat-lai-mat-khau", "xac-nhan-dat-lai"]
    assert not walk.violations, walk.violations
