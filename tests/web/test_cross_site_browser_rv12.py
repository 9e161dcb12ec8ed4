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

from kho_browser import browser, clerk_with_a_record, server, trap  # noqa: F401 - fixtures
from kho_people import People
from kho_web import recorded_acts

from web.context import Kho


def test_a_link_on_another_site_offers_to_continue_and_the_click_opens_the_record_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes],
    trap: tuple[str, dict[str, str]], tmp_path: Path,
) -> None:
    context, page, record = clerk_with_a_record(server, browser, kho, people, signed, tmp_path)
    origin, trap_page = trap
    trap_page["html"] = f'<!doctype html><a id="view" href="{server}{record}">Xem công văn</a>'

    before = recorded_acts(kho)
    page.goto(origin + "/")
    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.click("#view")
    assert caught.value.status == 403 and caught.value.headers.get("x-kho-error") == "CROSS_SITE_REFUSED"
    assert "liên kết trên trang web khác" in page.content()
    assert recorded_acts(kho) == before

    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.get_by_role("link", name="Tiếp tục mở trong Kho").click()
    opened = caught.value
    assert opened.status == 200
    assert opened.request.all_headers().get("sec-fetch-site") == "same-origin"
    assert "record:view" in [a for _, a in recorded_acts(kho)[len(before):]]

    # The other site frames the record page under a decoy: Chromium shows nothing of Kho in it
    # (the frame's request carries no Lax cookie either, so Kho would answer its login page; that
    # is not shown: no "Đăng nhập", no button).
    trap_page["html"] = (
        f'<!doctype html><p>Nhận quà</p><iframe src="{server}{record}" width="600" height="400"></iframe>'
    )
    page.wait_for_load_state("networkidle")  # the record page's own previews are recorded first
    before = recorded_acts(kho)
    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.goto(origin + "/")
    assert caught.value.headers.get("x-frame-options") == "DENY"
    page.wait_for_timeout(500)
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed, "the frame exists"
    shown = [f.content() for f in framed]
    assert all("Tiếp tục mở trong Kho" not in s and "Đăng nhập" not in s for s in shown), shown
    assert recorded_acts(kho) == before
    context.close()
