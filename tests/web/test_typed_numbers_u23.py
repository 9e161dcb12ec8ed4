"""u23 (rv45's open item): text typed by people turned into numbers with ``int()``, which raises
on more than 4,300 digits and reads non-ASCII digits ("٣" as 3, while "²" raises). Every such
place now goes through :func:`kho.digits.ascii_int`. Each path is driven with hostile values
(5,000 digits, Arabic-Indic and superscript digits): a coded refusal or the right answer, never
a 500, nothing stored changed. Pages through Flask's test client (logged in, real local store);
the two rules no HTTP request reaches with such a value are called directly."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from kho_people import People
from kho_testing import incoming, pdf_bytes
from kho_web import logged_in, post, text

from repository.registration import _same_code
from search.labels import value_label
from web.context import Kho

LONG = "9" * 5000
ARABIC_ZERO, ARABIC_ONE, ARABIC_THREE = "\u0660", "\u0661", "\u0663"
SUPERSCRIPT_TWO = "\u00b2"


def test_the_printed_code_compares_ascii_digits_only() -> None:
    """Not reachable with these values over HTTP: the typed số is checked ASCII and at most 11
    characters before the gate, the printed one is read from the PDF by ``\\d{1,4}``."""
    assert _same_code("05", "QĐ-UBND", "5/QĐ-UBND")  # the right answer kept: 05 = 5
    assert not _same_code("5", "QĐ-UBND", f"{LONG}/QĐ-UBND")  # (before: ValueError)
    assert not _same_code(LONG, "QĐ-UBND", f"{LONG}/QĐ-UBND")  # (before: ValueError)
    assert not _same_code(ARABIC_THREE, "QĐ-UBND", "3/QĐ-UBND")  # (before: the same code)
    assert not _same_code("3", "QĐ-UBND", f"{ARABIC_THREE}/QĐ-UBND")


@pytest.mark.parametrize("value", [LONG, SUPERSCRIPT_TWO, ARABIC_THREE, "-1", "4"])
def test_a_level_label_reads_ascii_digits_only(value: str) -> None:
    assert value_label("do_mat", value) == value  # shown as it is, never a level's name
    assert value_label("do_khan", value) == value
    assert value_label("do_mat", "3") == value_label("do_mat", "03") == "Tuyệt mật"  # as the filter reads it


@pytest.mark.parametrize("value", [LONG, SUPERSCRIPT_TWO, ARABIC_THREE])
@pytest.mark.parametrize("name", ["do_mat", "do_khan"])
def test_the_search_page_refuses_a_level_that_is_not_ascii_digits(
    app: Flask, people: People, name: str, value: str
) -> None:
    clerk = logged_in(app, people, "van_thu")
    answer = clerk.get("/search", query_string={"q": "công văn", name: value})
    assert answer.status_code == 400, answer.status_code
    assert "SEARCH_QUERY_INVALID" in text(answer) and "phải là số 0–3" in text(answer)
    api = app.test_client().get(
        "/api/search", query_string={"q": "công văn", name: value}, headers=people.headers("van_thu")
    )
    assert api.status_code == 400, api.get_data()
    assert api.get_json()["error"]["code"] == "SEARCH_QUERY_INVALID"


@pytest.mark.parametrize(
    "form",
    [
        {"secrecy": ARABIC_ZERO},
        {"secrecy": SUPERSCRIPT_TWO},
        {"secrecy": LONG},
        {"expected_version": ARABIC_ONE},
        {"expected_version": LONG},
    ],
    ids=["secrecy-arabic", "secrecy-superscript", "secrecy-long", "version-arabic", "version-long"],
)
def test_the_lower_secrecy_form_refuses_digits_that_are_not_ascii(
    app: Flask, kho: Kho, people: People, form: dict[str, str]
) -> None:
    secret = kho.repo.create_document(
        "den", incoming(code_number="824", issued_date="2026-03-02", secrecy=2), pdf_bytes("u23 824"),
        "mat.pdf", people.actor("van_thu"),
    )
    head = logged_in(app, people, "lanh_dao")
    page = f"/records/{secret.record_id}"
    sent = {"secrecy": "0", "expected_version": str(secret.version), "reason": "Quyết định 12/QĐ", **form}
    answer = post(head, f"{page}/secrecy", sent, page)
    assert answer.status_code == 422 and "FIELD_INVALID" in text(answer), answer.status_code
    stored = kho.repo._load(secret.record_id)
    assert stored.version == secret.version and stored.metadata.secrecy == 2  # type: ignore[union-attr]


@pytest.mark.parametrize("seq", [ARABIC_ZERO, LONG, SUPERSCRIPT_TWO])
def test_the_handling_form_refuses_a_step_number_that_is_not_ascii_digits(
    app: Flask, kho: Kho, people: People, seq: str
) -> None:
    doc = kho.repo.create_document("den", incoming(urgency=3), None, None, people.actor("van_thu"))
    path = f"/handling/{doc.record_id}"
    clerk = logged_in(app, people, "van_thu")
    page = text(clerk.get(path))
    assert re.search(r'name="expected_seq" value="0"', page)
    sent = {"act": "submit", "users": people.usernames["lanh_dao"], "note": "Kính trình", "expected_seq": seq}
    answer = post(clerk, path, sent, path)
    assert answer.status_code == 422 and "Thiếu phiên bản của phiếu" in text(answer), answer.status_code
    assert "Kính trình" not in text(clerk.get(path))
    assert kho.handling.steps(doc.record_id) == []
