"""The cross-site refusal of audited GETs (review a20, :mod:`web.cross_site`) in Debian's
Chromium: the person is logged in to Kho on ``127.0.0.1``; a page on another site
(``localhost``, another port) links to a record page and to its download. Chromium sends the
``SameSite=Lax`` session cookie with that top-level navigation and says ``Sec-Fetch-Site:
cross-site``: Kho answers its refusal page and writes no act. The same addresses typed into the
address bar (``none``) or followed from Kho's own pages (``same-origin``) work."""

# ruff: noqa: F811 - the harness fixtures (server, browser) are imported by name

from __future__ import annotations

from pathlib import Path
from typing import Any

from kho_browser import browser, clerk_with_a_record, server, trap  # noqa: F401 - fixtures
from kho_people import People
from kho_web import recorded_acts

from web.context import Kho


def test_a_link_on_another_site_opens_no_audited_page_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes],
    trap: tuple[str, dict[str, str]], tmp_path: Path,
) -> None:
    context, page, record = clerk_with_a_record(server, browser, kho, people, signed, tmp_path)
    origin, trap_page = trap
    trap_page["html"] = (
        f'<!doctype html><a id="view" href="{server}{record}">Xem</a>'
        f' <a id="download" href="{server}{record}/download">Tải</a>'
    )

    before = recorded_acts(kho)
    page.goto(origin + "/")
    with page.expect_response(lambda r: r.url == server + record) as caught:
        page.click("#view")
    refused = caught.value
    assert refused.status == 403 and refused.headers.get("x-kho-error") == "CROSS_SITE_REFUSED"
    assert refused.request.all_headers().get("sec-fetch-site") == "cross-site"
    assert "trang web khác" in page.content()

    page.goto(origin + "/")
    with page.expect_response(lambda r: r.url == server + record + "/download") as caught:
        page.click("#download")
    assert caught.value.status == 403 and caught.value.headers.get("x-kho-error") == "CROSS_SITE_REFUSED"
    assert recorded_acts(kho) == before  # neither a view nor a download is recorded

    # Typed into the address bar, then followed from Kho's own page: served, and audited.
    opened = page.goto(server + record)
    assert opened is not None and opened.status == 200
    assert opened.request.all_headers().get("sec-fetch-site") == "none"
    with page.expect_download() as got:
        page.evaluate("path => { const a = document.createElement('a'); a.href = path;"
                      " document.body.appendChild(a); a.click(); }", record + "/download")
    assert Path(got.value.path()).read_bytes() == signed["valid"]
    actions = [a for _, a in recorded_acts(kho)[len(before):]]
    assert "record:view" in actions and "content:download" in actions, actions
    context.close()
