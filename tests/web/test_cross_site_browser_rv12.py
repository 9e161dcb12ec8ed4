"""The page offering to continue after a link from another site (review rv12,
:mod:`web.cross_site`) in Debian's Chromium: the person is logged in to Kho on ``127.0.0.1``; a
page on another site (``localhost``) links to a record page. Kho answers the page that says the
link came from another site, nothing recorded; its "Tiếp tục mở trong Kho" link opens the record
(Chromium says ``same-origin``), and that view is recorded. The same refusal page put in a frame
of the other site is not shown (``X-Frame-Options``/``frame-ancestors``), so the link cannot be
clickjacked."""

# ruff: noqa: F811 - the harness fixtures (server, browser, trap) are imported by name

from __future__ import annotations

from pathlib import Path
from typing import Any

from kho_browser import Walk, browser, server, trap  # noqa: F401 - fixtures
from kho_people import People
from kho_web import login, register_one

from web.app import create_app
from web.context import Kho
from web.cross_site import UNGUARDED


def _acts(kho: Kho) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in kho.repo.audit.events() if not e.action.startswith(UNGUARDED)]


def test_a_link_on_another_site_offers_to_continue_and_the_click_opens_the_record_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes],
    trap: tuple[str, dict[str, str]], tmp_path: Path,
) -> None:
    clerk = create_app(kho.settings, kho=kho).test_client()
    login(clerk, people, "van_thu")
    record = register_one(clerk, signed["valid"])
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    walk = Walk(context.new_page(), server, tmp_path, None)
    page = walk.page
    walk.login(people.usernames["van_thu"])
    origin, trap_page = trap
    trap_page["html"] = f'<!doctype html><a id="view" href="{server}{record}">Xem công văn</a>'

    before = _acts(kho)
    page.goto(origin + "/")
    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.click("#view")
    assert caught.value.status == 403 and caught.value.headers.get("x-kho-error") == "CROSS_SITE_REFUSED"
    assert "liên kết trên trang web khác" in page.content()
    assert _acts(kho) == before

    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.get_by_role("link", name="Tiếp tục mở trong Kho").click()
    opened = caught.value
    assert opened.status == 200
    assert opened.request.all_headers().get("sec-fetch-site") == "same-origin"
    assert "record:view" in [a for _, a in _acts(kho)[len(before):]]

    # The other site frames the record page under a decoy: Chromium shows nothing of Kho in it
    # (the frame's request carries no Lax cookie either, so Kho would answer its login page; that
    # is not shown: no "Đăng nhập", no button).
    trap_page["html"] = (
        f'<!doctype html><p>Nhận quà</p><iframe src="{server}{record}" width="600" height="400"></iframe>'
    )
    before = _acts(kho)
    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.goto(origin + "/")
    assert caught.value.headers.get("x-frame-options") == "DENY"
    page.wait_for_timeout(500)
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed, "the frame exists"
    shown = [f.content() for f in framed]
    assert all("Tiếp tục mở trong Kho" not in s and "Đăng nhập" not in s for s in shown), shown
    assert _acts(kho) == before
    context.close()
