"""A working day in Chromium (u16), from a fresh clone's demo data.

* A văn thư who opens a PDF just received, before its signatures are verified (the job still
  running or queued), read "Chữ ký số: Không áp dụng" and "Không trích xuất được dữ liệu gợi ý",
  as if the file had no signature to check, on the intake list and the review page. The page
  now says the file is not checked yet (registration refuses it until then,
  SIGNATURES_NOT_CHECKED) and to reload.
* The văn bản đi form refused (a ký hiệu with spaces) came back with every typed value but an
  empty file field (no browser refills one) and nothing saying so: "Vào sổ" then stopped at the
  browser's own "chọn tệp" bubble. The page names the file to choose again. On both metadata
  forms a refused field is now marked (aria-invalid, its message as aria-describedby) and takes
  the keyboard focus, instead of the focus staying on top of the page.
* A chuyên viên sent "Báo cáo hoàn thành" on the direction itself with no văn bản trả lời
  attached; it was taken, and only the lãnh đạo's approval was then refused (ANSWER_MISSING),
  leaving them "Yêu cầu làm lại". The handler's form now says so beforehand (the same rule,
  :func:`repository.workflow.answer_needed`).

Harness: ``tests/support/kho_browser.py``."""

# ruff: noqa: F811 - the harness fixtures (server, browser) are imported by name
from __future__ import annotations

import time
from typing import Any

import pytest
from kho_browser import browser, logged_in, server  # noqa: F401 - fixtures
from kho_people import People
from kho_testing import incoming, outgoing

from ingest.status import JobState
from repository.workflow import Act
from web.context import Kho

pytestmark = pytest.mark.slow


def focused_field(page: Any) -> str:
    """The id of the element holding the keyboard focus once the page's autofocus has run.

    Chromium moves the focus to an ``autofocus`` field at its next rendering update, not when the
    load event fires, so on a busy machine the page can be read before it: look again (5 s at
    most) while the focus is still on the page itself, then name where it is. (Polled from here:
    the page's CSP refuses the string evaluation ``wait_for_function`` would use.)"""
    deadline = time.monotonic() + 5.0
    focused = page.evaluate("document.activeElement === document.body ? null : document.activeElement.id")
    while focused is None and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        focused = page.evaluate("document.activeElement === document.body ? null : document.activeElement.id")
    return str(focused)


def test_a_pdf_not_yet_verified_is_shown_as_not_checked_not_as_unsigned_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    # As with a broker: the original is stored at once, the signature step waits for a worker.
    status = kho.pipeline.accept(signed["valid"], "quyet-dinh.pdf", "den")
    assert status.state is JobState.WAITING and status.record_id is not None
    context, page = logged_in(browser, server, tmp_path, people.usernames["van_thu"])
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


def test_a_refused_outgoing_form_names_the_file_to_choose_again_and_focuses_the_bad_field(
    server: str, browser: Any, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    context, page = logged_in(browser, server, tmp_path, people.usernames["van_thu"])
    page.goto(server + "/outgoing/new")
    name = "Quyết định ban hành.pdf"
    page.set_input_files(
        "#f-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": signed["valid-2"]}]
    )
    values = {
        "type_name": "Quyết định",
        "code_notation": "QĐ UBND",
        "subject": "Ban hành Quy chế văn bản điện tử",
        "signer_position": "Chủ tịch",
        "signer_full_name": "Nguyễn Văn An",
        "recipients": "Sở Nội vụ",
    }
    for field, value in values.items():
        page.fill(f"#f-{field}", value)
    with page.expect_navigation():
        page.click("text=Vào sổ văn bản đi >> nth=-1")
    assert "QĐ UBND" in page.inner_text("[role=alert]")
    assert all(page.input_value(f"#f-{field}") == value for field, value in values.items())
    assert page.input_value("#f-file") == ""  # what no browser keeps
    assert page.inner_text("#e-file") == (
        f"Hãy chọn lại tệp “{name}”: trình duyệt không giữ tệp đã chọn khi trang báo lỗi."
    )
    assert page.get_attribute("#f-file", "aria-describedby") == "e-file"
    bad = page.locator("#f-code_notation")
    assert bad.get_attribute("aria-invalid") == "true"
    assert "không hợp lệ" in page.inner_text(f"#{bad.get_attribute('aria-describedby')}")
    assert focused_field(page) == "f-code_notation"
    context.close()


def test_a_refused_intake_review_focuses_the_bad_field_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    review = kho.receive.receive(signed["valid"], "cong-van.pdf", "den", people.actor("van_thu"))
    context, page = logged_in(browser, server, tmp_path, people.usernames["van_thu"])
    page.goto(f"{server}/intake/{review.record.record_id}")
    for field, value in incoming(issued_date="31/02/2026").items():
        page.fill(f"#f-{field}", value)
    with page.expect_navigation():
        page.click("text=Xác nhận và vào sổ")
    assert "31/02/2026" in page.inner_text("[role=alert]")
    assert page.get_attribute("#f-issued_date", "aria-invalid") == "true"
    assert "31/02/2026" in page.inner_text("#e-issued_date")
    assert focused_field(page) == "f-issued_date"
    context.close()


def test_the_handler_is_told_before_reporting_done_that_an_answer_is_needed_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    doc = kho.receive.receive_and_register(
        signed["valid"], "cong-van.pdf", "den", incoming(), people.actor("van_thu")
    )
    handler = people.actor("chuyen_vien")
    kho.handling.take(
        doc.record_id,
        Act.DIRECT,
        expected_seq=len(kho.handling.steps(doc.record_id)),
        actor=people.actor("lanh_dao"),
        users=[handler.user],
        deadline="2099-01-05",
    )
    context, page = logged_in(browser, server, tmp_path, people.usernames["chuyen_vien"])
    page.goto(f"{server}/handling/{doc.record_id}")
    note = page.inner_text("#p1-answer")
    assert (
        "Chưa gắn văn bản trả lời" in note and "“Gắn văn bản trả lời” trước khi “Báo cáo hoàn thành”" in note
    )
    assert page.get_attribute("#p1-act", "aria-describedby") == "p1-answer"
    answer = kho.repo.create_document("di", outgoing(), None, None, people.actor("van_thu"))
    kho.handling.take(
        doc.record_id,
        Act.ANSWER,
        expected_seq=len(kho.handling.steps(doc.record_id)),
        actor=handler,
        task="1",
        ref=answer.record_id,
    )
    page.goto(f"{server}/handling/{doc.record_id}")
    assert page.locator("#p1-act").count() == 1 and page.locator("#p1-answer").count() == 0
    context.close()
