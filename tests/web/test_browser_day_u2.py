"""A working day in Chromium (u2): the kiểm toán viên finds who did what to one record only by
clicking, from an event in the log to that record's whole history; the văn thư reads the số đi
with its ký hiệu once a văn bản đi is numbered. Harness: ``tests/support/kho_browser.py``."""

# ruff: noqa: F811 - the harness fixtures (server, browser) are imported by name
from __future__ import annotations

from typing import Any

import pytest
from kho_browser import browser, logged_in, server  # noqa: F401 - fixtures
from kho_people import People
from kho_testing import incoming

from web.context import Kho

pytestmark = pytest.mark.slow


def test_the_auditor_clicks_from_an_event_to_the_records_history_in_chromium(
    server: str, browser: Any, kho: Kho, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    doc = kho.receive.receive_and_register(
        signed["valid"], "cong-van.pdf", "den", incoming(), people.actor("van_thu")
    )
    context, page = logged_in(browser, server, tmp_path, people.usernames["kiem_toan"])
    page.click("nav >> text=Nhật ký")
    page.select_option("#action", "record:create")
    page.click("text=Tra cứu")
    page.wait_for_url("**/audit?*")
    assert "Tạo văn bản (record:create)" in page.inner_text("table")
    page.click(f"table a >> text={doc.record_id[-8:]}")  # the record of the event
    page.wait_for_url(f"**/audit?record={doc.record_id}", timeout=5000)  # not a 403 on the document
    history = page.inner_text("table")
    assert (
        "Cấp số vào sổ (register:assign)" in history and "Kiểm tra chữ ký số (ingest:signatures)" in history
    )
    assert people.usernames["van_thu"] in history
    assert page.input_value("#record") == doc.record_id  # the filter shows what it is
    context.close()


def test_the_van_thu_reads_the_so_di_with_its_ky_hieu_and_keeps_a_typed_reason_in_chromium(
    server: str, browser: Any, people: People, signed: dict[str, bytes], tmp_path: Any
) -> None:
    context, page = logged_in(browser, server, tmp_path, people.usernames["van_thu"])
    page.click("nav >> text=Văn bản đi")
    page.wait_for_url("**/outgoing/new")
    page.set_input_files(
        "#f-file", files=[{"name": "qd.pdf", "mimeType": "application/pdf", "buffer": signed["valid-2"]}]
    )
    values = {
        "type_name": "Quyết định",
        "code_notation": "QĐ-UBND",
        "issued_date": "31/02/2026",
        "subject": "Ban hành Quy chế văn bản điện tử",
        "signer_position": "Chủ tịch",
        "signer_full_name": "Nguyễn Văn An",
        "recipients": "Sở Nội vụ",
    }
    for name, value in values.items():
        page.fill(f"#f-{name}", value)
    reason = "Đã đối chiếu bản giấy"
    page.fill("#f-override", reason)
    with page.expect_navigation():
        page.click("text=Vào sổ văn bản đi >> nth=-1")
    assert "31/02/2026" in page.inner_text("[role=alert]")
    assert page.input_value("#f-override") == reason and page.input_value("#f-subject") == values["subject"]
    page.fill("#f-issued_date", "")
    page.set_input_files(
        "#f-file", files=[{"name": "qd.pdf", "mimeType": "application/pdf", "buffer": signed["valid-2"]}]
    )
    with page.expect_navigation():
        page.click("text=Vào sổ văn bản đi >> nth=-1")
    page.wait_for_url("**/records/*")
    assert "Số, ký hiệu: 01/QĐ-UBND" in page.inner_text(".messages")
    context.close()
