"""A working day in Chromium (u16), from a fresh clone's demo data.

* A văn thư who opens a PDF just received, before its signatures are verified (the job still
  running or queued), read "Chữ ký số: Không áp dụng" and "Không trích xuất được dữ liệu gợi ý",
  as if the file had no signature to check, on the intake list and the review page. The page
  now says the file is not checked yet (registration refuses it until then,
  SIGNATURES_NOT_CHECKED) and to reload.

Harness: ``tests/support/kho_browser.py``."""

# ruff: noqa: F811 - the harness fixtures (server, browser) are imported by name
from __future__ import annotations

from typing import Any

import pytest
from kho_browser import Walk, browser, server  # noqa: F401 - fixtures
from kho_people import People

from ingest.status import JobState
from web.context import Kho

pytestmark = pytest.mark.slow


def _logged_in(browser: Any, server: str, tmp_path: Any, username: str) -> tuple[Any, Any]:
    """A fresh context (its own cookies) with ``username`` logged in on the home page."""
    context = browser.new_context(locale="vi-VN")
    walk = Walk(context.new_page(), server, tmp_path, None)
    walk.login(username)
    walk.page.wait_for_url(server + "/")
    return context, walk.page


def test_a_pdf_not_yet_verified_is_shown_as_not_checked_not_as_unsigned_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    # As with a broker: the original is stored at once, the signature step waits for a worker.
    status = kho.pipeline.accept(signed["valid"], "quyet-dinh.pdf", "den")
    assert status.state is JobState.WAITING and status.record_id is not None
    context, page = _logged_in(browser, server, tmp_path, people.usernames["van_thu"])
    page.goto(f"{server}/intake/{status.record_id}")
    verdict = page.inner_text(".verdict")
    assert verdict == "Chưa kiểm tra xong", verdict
    checks = page.inner_text("section[aria-labelledby=kq]")
    assert "Tải lại trang sau ít giây" in checks and "Không trích xuất được" not in checks
    page.goto(f"{server}/intake")
    row = page.inner_text("table tbody tr")
    assert "quyet-dinh.pdf" in row and "Chưa kiểm tra xong" in row and "Không áp dụng" not in row
    # Once the worker has run, the verdict is the one pyHanko gave.
    assert kho.pipeline.run(status.job_id).state is JobState.DONE
    page.goto(f"{server}/intake/{status.record_id}")
    assert page.inner_text(".verdict") == "Hợp lệ"
    assert page.locator("#pending-check").count() == 0
    context.close()
