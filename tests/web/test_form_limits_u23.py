"""u23 (u22's open item): a form's ``maxlength`` is its rule's own limit. The lower-secrecy and
the recall-withdraw forms of the record page said 2,000 where the căn cứ/reason rule
(``TextKind.NOTE``) allows 1,000, so a 1,001–2,000 character text was refused (422
``FIELD_TOO_LONG``) only after sending. Each form here is read from its page: the longest text
its ``maxlength`` lets a person type is taken, one more character is refused by the rule. Flask's
test client, logged in, real local store."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from kho_people import People
from kho_testing import incoming, outgoing, pdf_bytes
from kho_web import logged_in, post, text

from kho.errors import StoreUnavailable
from repository.acknowledge import REASON_MAX
from repository.records import NOTE_MAX
from repository.saved_searches import MAX_NAME
from retention.recall import WITHDRAW_REASON_MAX, Recalls
from web.context import Kho


def _maxlength(html: str, field_id: str) -> int:
    found = re.search(rf'<(?:input|textarea) id="{field_id}"[^>]*\bmaxlength="([0-9]+)"', html)
    assert found, field_id
    return int(found.group(1))


def _long(n: int) -> str:
    """A căn cứ of exactly ``n`` characters (NFC, nothing to strip)."""
    sentence = "Quyết định số 12/QĐ-UBND ngày 01/12/2026 về việc giải mật; "
    return (sentence * (n // len(sentence) + 1))[: n - 1] + "x"


def test_the_lower_secrecy_form_allows_what_the_rule_allows(app: Flask, kho: Kho, people: People) -> None:
    secret = kho.repo.create_document(
        "den", incoming(code_number="823", issued_date="2026-03-02", secrecy=2), pdf_bytes("u23 823"),
        "mat.pdf", people.actor("van_thu"),
    )
    head = logged_in(app, people, "lanh_dao")
    page = f"/records/{secret.record_id}"
    limit = _maxlength(text(head.get(page)), "lower-secrecy-reason")
    assert limit == NOTE_MAX == 1000
    form = {"secrecy": "1", "expected_version": str(secret.version)}
    too_long = post(head, f"{page}/secrecy", {**form, "reason": _long(limit + 1)}, page)
    assert too_long.status_code == 422 and "FIELD_TOO_LONG" in text(too_long)
    assert kho.repo._load(secret.record_id).version == secret.version
    taken = post(head, f"{page}/secrecy", {**form, "reason": _long(limit)}, page)
    assert taken.status_code == 302, text(taken)[-1500:]
    stored = kho.repo._load(secret.record_id)
    assert stored.metadata.secrecy == 1  # type: ignore[union-attr]


def test_the_recall_withdraw_form_allows_what_the_rule_allows(
    app: Flask, kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 52"), pdf_bytes("u23 recall"), "qd.pdf", people.actor("van_thu")
    )

    def store_down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")

    with monkeypatch.context() as patch:  # the recall stops at its hold: left open, withdrawable
        patch.setattr(kho.repo, "place_hold", store_down)
        with pytest.raises(StoreUnavailable):
            Recalls(kho.repo).recall_outgoing(
                doc.record_id, "Công văn số 52/UBND-VP", "Ban hành sai thẩm quyền",
                actor=people.actor("van_thu"),
            )
    clerk = logged_in(app, people, "van_thu")
    page = f"/records/{doc.record_id}"
    limit = _maxlength(text(clerk.get(page)), "recall-withdraw-reason")
    assert limit == WITHDRAW_REASON_MAX == 1000
    action = f"{page}/recall/withdraw"
    too_long = post(clerk, action, {"reason": _long(limit + 1)}, page)
    assert too_long.status_code == 422 and "FIELD_TOO_LONG" in text(too_long)
    taken = post(clerk, action, {"reason": _long(limit)}, page)
    assert taken.status_code == 302, text(taken)[-1500:]
    states = [r["state"] for r in Recalls(kho.repo).recalls.all() if r["record_id"] == doc.record_id]
    assert states == ["withdrawn"]


def test_the_saved_search_name_form_allows_what_the_rule_allows(app: Flask, people: People) -> None:
    clerk = logged_in(app, people, "van_thu")
    page = "/search?q=c%C3%B4ng+v%C4%83n"
    limit = _maxlength(text(clerk.get(page)), "save-name")
    assert limit == MAX_NAME
    too_long = post(clerk, "/search/saved", {"name": "T" * (limit + 1), "q": "công văn"}, page)
    assert too_long.status_code == 422, too_long.status_code
    taken = post(clerk, "/search/saved", {"name": "T" * limit, "q": "công văn"}, page)
    assert taken.status_code == 302, text(taken)[-1500:]


def test_the_acknowledgement_form_allows_what_the_rule_allows(app: Flask) -> None:
    assert _maxlength(text(app.test_client().get("/audit/acknowledge")), "reason") == REASON_MAX
