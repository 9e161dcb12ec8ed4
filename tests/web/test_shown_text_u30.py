"""u30: what Kho gives out beyond XML — PDFs, CSV cells, notification mails — whatever text was
stored before the input rules. A trích yếu, a name or a unit stored before control characters
and bidirectional overrides were refused still holds them; in a PDF a control character drew
nothing (or a line break) and U+202E stayed in the text a reader copies; a row taller than a page
(a trích yếu of thousands of characters) made reportlab raise and the page answer 500; a mail's
subject ended at a vertical tab (the rest of the trích yếu hidden), carried a NUL, or was not
sent at all when a text held CR LF. One rule (:func:`kho.xmltext.shown_text`, consistent with
u29's :func:`kho.xmltext.xml_safe`): each such character is shown as U+FFFD, the text in NFC.

And reading: a package from another agency whose XML holds a raw control character (not a
``&#1;`` reference) is refused with its own code, ``SIP_XML_CONTROL_CHARACTER``, and a message
naming the file, line, column and the character (U+XXXX). Old texts are planted as old data is:
a version written by the repository layer below the input rules."""

from __future__ import annotations

import dataclasses
import importlib
import io
import re
import socket
import unicodedata
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from kho_people import AGENCY, People, create_person
from kho_sip import good_package, replace_listed, zipped
from kho_testing import incoming
from kho_web import login
from pypdf import PdfReader

from repository.records import SYSTEM
from repository.workflow import Act
from web.context import Kho

OLD_SUBJECT = "Về việc\x0b tiếp nhận\x00 hồ sơ \u202ecũ\x85 của Sở"
SHOWN_SUBJECT = "Về việc\ufffd tiếp nhận\ufffd hồ sơ \ufffdcũ\ufffd của Sở"
LONG_WORD = "Đ" + "x" * 2999  # one "word" of 3,000 characters (a pasted hash, a URL)
LONG_SUBJECT = "Về việc báo cáo dài " * 1200  # 24,000 characters: a row taller than a page


def _as_stored_long_ago(kho: Kho, record_id: str, **fields: str) -> None:
    """A new version of the record whose metadata holds ``fields`` as given: written by the
    repository layer below the input rules, as a text stored before them is."""
    repo = kho.repo
    current = repo._load(record_id)
    assert current.metadata is not None
    new = dataclasses.replace(
        current, version=current.version + 1, metadata=dataclasses.replace(current.metadata, **fields)
    )
    repo._write_version(current, new, SYSTEM, "record:update", {"fields": sorted(fields)})


def _pdf_text(pdf: bytes) -> tuple[int, str]:
    """The page count and the text of a PDF a reader would copy (pypdf, strict)."""
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_the_rule_shows_what_hides_or_reverses_text_and_keeps_the_rest_in_nfc() -> None:
    xmltext = importlib.import_module("kho.xmltext")
    shown_text, shown_line = xmltext.shown_text, xmltext.shown_line  # (before u30: no such functions)
    for hidden in ("\x00", "\x01", "\x0b", "\x1f", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066",
                   "\u2069", "\ud800", "\ufffe", "\uffff"):
        assert shown_text(f"a{hidden}b") == "a\ufffdb", repr(hidden)
        assert shown_line(f"a{hidden}b") == "a\ufffdb", repr(hidden)
    kept = "Tab\tLF\nCR\r – ệ \u200e\u200f \u200b\u2060\ufeff \ue000 \ufffd 𝄞 " + LONG_WORD
    assert shown_text(kept) == kept
    assert shown_line("Họp\r\nBcc: a@b\u2028c\td") == "Họp  Bcc: a@b c d"
    assert shown_text("Quye\u0302\u0301t \u0111i\u0323nh") == unicodedata.normalize("NFC", "Quyết định")
    assert xmltext.code_point("\x1f") == "U+001F" and xmltext.code_point("\uffff") == "U+FFFF"
    sheets = importlib.import_module("kho.sheets")
    assert sheets.csv_cell("\u202e=cmd|' /C calc'!A0") == "\ufffd=cmd|' /C calc'!A0"
    assert sheets.csv_cell("\x01\x0b Công văn") == "\ufffd\ufffd Công văn"
    assert sheets.csv_cell("=SUM(1)") == "'=SUM(1)" and sheets.csv_cell(7) == 7
    view = importlib.import_module("web.pages.document_view")
    assert view.print_mark("Nguyễn \u202eAn\x0b Bình", "06/12/2026 10:00") == (
        "In bởi Nguyễn \ufffdAn\ufffd Bình lúc 06/12/2026 10:00"
    )


def test_the_register_pdf_of_texts_stored_long_ago_shows_them_and_a_row_taller_than_a_page(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    kho, people, web = store_site
    clerk = people.actor("van_thu")
    made = [
        kho.repo.create_document("den", incoming(code_number=n), None, None, clerk).record_id
        for n in ("101", "102", "103")
    ]
    _as_stored_long_ago(kho, made[0], subject=OLD_SUBJECT)
    _as_stored_long_ago(kho, made[1], subject=LONG_WORD)
    _as_stored_long_ago(kho, made[2], subject=LONG_SUBJECT)
    year = kho.repo._load(made[0]).metadata.arrival_date.year  # type: ignore[union-attr]
    assert login(web, people, "van_thu").status_code == 302
    answer = web.get("/registers/print.pdf", query_string={"series": "den", "year": year})
    # before: 500 (reportlab's LayoutError: the row of the long trích yếu is taller than a page)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/pdf"
    pages, text = _pdf_text(answer.data)
    assert pages >= 3  # the long row goes on over the next pages
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", SHOWN_SUBJECT) in flat  # each character shown, none reversing text
    assert "\u202e" not in text and "\x0b" not in text and "\x00" not in text
    # broken over lines and pages (the footer and the repeated column names between), nothing cut off
    assert LONG_WORD[:40] in flat and flat.count("x") >= 2999
    assert flat.count("dài") == 1200
    stored = kho.repo._load(made[0]).metadata
    assert stored is not None and stored.subject == OLD_SUBJECT  # the store keeps what it holds


def test_the_search_and_audit_pdfs_show_hidden_characters_and_hold_a_row_taller_than_a_page(
    client: FlaskClient, people: People
) -> None:
    from web.pages.audit_reports import events_pdf
    from web.pages.search_export import ResultTable, to_pdf

    query = "quy\x0bchế \u202eđịnh"
    answer = client.get(
        "/api/search/export", query_string={"format": "pdf", "q": query}, headers=people.headers("van_thu")
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    _, text = _pdf_text(answer.data)
    assert "Từ khóa: quy\ufffdchế \ufffdđịnh" in text  # before: "quy chế \u202eđịnh"
    assert "\u202e" not in text

    rows = (("1/VP", LONG_SUBJECT), ("2/VP", OLD_SUBJECT))
    pages, text = _pdf_text(to_pdf(ResultTable("KẾT QUẢ", ("Từ khóa: x",), ("Số", "Trích yếu"), rows)))
    assert pages >= 3 and text.count("dài") == 1200  # before: LayoutError
    assert "\u202e" not in text and "hồ sơ \ufffdcũ" in text

    event = SimpleNamespace(seq=1, at="2026-12-06T10:00:00Z", actor="van_thu", action="record:view",
                            source="web", hash="ab" * 32, record_id=None, details={"reason": LONG_SUBJECT})
    events = [event]
    pdf = events_pdf(events, (f"Người xuất: Nguyễn \u202eAn{LONG_WORD}",), lambda action: LONG_SUBJECT)
    pages, text = _pdf_text(pdf)  # before: LayoutError
    assert pages >= 3 and "Nguyễn \ufffdAn" in text and "\u202e" not in text


class _Capture:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Capture, int]]:
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""
    capture = _Capture()
    with socket.socket() as probe:  # (aiosmtpd's start-up check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    yield capture, port
    controller.stop()


def test_a_notification_mail_of_a_trich_yeu_stored_long_ago_shows_all_of_it(
    kho: Kho, people: People, smtp: tuple[_Capture, int]
) -> None:
    from kho.mail import Mailer

    capture, port = smtp
    kho.settings = dataclasses.replace(kho.settings, smtp_host="127.0.0.1", smtp_port=port)
    accounts = kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    leader, _ = create_person(accounts, "Lưu Quang Hưng", AGENCY, ("lanh_dao",), 3, "hung@ubnd.test", admin)
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="201"), None, None, clerk)
    _as_stored_long_ago(kho, doc.record_id, subject=OLD_SUBJECT)
    kho.handling.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=clerk, users=[leader.username])
    [mail] = [m for m in capture.messages if m["To"] == "hung@ubnd.test"]
    subject, body = str(mail["Subject"]), mail.get_content()
    # before: the subject ended at the vertical tab ("… — Về việc"), the body held NUL and U+202E
    assert SHOWN_SUBJECT in subject, subject
    assert SHOWN_SUBJECT in body
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", subject + body)

    # A subject holding CR LF (a text stored before line breaks were refused) is sent on one
    # line: no header is added; before, EmailMessage refused it and the mail was not sent.
    sent = Mailer("127.0.0.1", port).send("lan@ubnd.test", "Họp\r\nBcc: ke-gian@example.test", "Nội dung\x01")
    assert sent is True
    [other] = [m for m in capture.messages if m["To"] == "lan@ubnd.test"]
    assert other["Bcc"] is None and str(other["Subject"]) == "Họp  Bcc: ke-gian@example.test"
    assert other.get_content().startswith("Nội dung\ufffd")


@pytest.mark.parametrize(
    ("raw", "named", "what", "notation"),
    [("\x1f", "U+001F", "ký tự điều khiển", "11.VP"), ("\x0b", "U+000B", "ký tự điều khiển", "12.VP"),
     ("\uffff", "U+FFFF", "mã không phải ký tự", "13.VP")],
)
def test_a_package_whose_xml_holds_a_raw_control_character_is_refused_naming_it(
    kho: Kho, people: People, client: FlaskClient, tmp_path: Path, raw: str, named: str, what: str,
    notation: str,
) -> None:
    root = good_package(kho, people, tmp_path, docs=1, notation=notation)
    ead_path = "metadata/descriptive/ead.xml"
    ead = (root / ead_path).read_text(encoding="utf-8")
    sent, count = re.subn(r"(<ead:titleproper>)", rf"\1Hồ sơ ệ{raw}x ", ead, count=1)
    assert count == 1
    line = sent[: sent.index(raw)].count("\n") + 1
    column = sent.index(raw) - sent.rfind("\n", 0, sent.index(raw))  # from 1
    replace_listed(root, ead_path, sent.encode())  # its checksums fixed: only the XML is wrong
    archive = zipped(root, tmp_path / "goi-tin.zip")
    with archive.open("rb") as fh:
        answer = client.post(
            "/api/retention/transfers/import",
            data={"file": (fh, "goi-tin.zip")},
            headers=people.headers("luu_tru"),
        )
    assert answer.status_code == 422, answer.get_data(as_text=True)[:500]
    error = answer.json["error"]
    assert error["code"] == "SIP_XML_CONTROL_CHARACTER", error  # before: SIP_XML_INVALID, no character
    message = error["message"]
    assert message == unicodedata.normalize("NFC", message)
    assert ead_path in message and what in message and named in message, message
    assert f"dòng {line}, cột {column}" in message, (line, column, message)
