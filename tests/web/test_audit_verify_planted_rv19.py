"""The auditor's check (page and API) when a store writer planted what Kho never writes under
``audit/``: a checkpoint whose number is a word, a witness that is a JSON list. Review rv19: on
main both answered 500 (a ValueError in the checkpoint comparison, FORMAT_INVALID from the
witness), so the auditor saw an error instead of the findings."""

from __future__ import annotations

import html
import json

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming, pdf_bytes
from kho_web import login, text

from repository.anchor import checkpoint_key
from repository.audit import WITNESS_KEY
from web.app import create_app
from web.context import Kho

PLANTED = {
    "checkpoint-number-a-word": (
        checkpoint_key(7),
        json.dumps({"format_version": 1, "number": "bảy", "seq": 0, "head": "0" * 64, "signature": "AA=="}),
        "checkpoint",
    ),
    "witness-a-list": (WITNESS_KEY, "[]", "truncated"),
}


@pytest.mark.parametrize("planted", sorted(PLANTED))
def test_the_auditors_check_lists_what_was_planted_instead_of_failing(
    client: FlaskClient, kho: Kho, people: People, planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    web = create_app(kho.settings, kho=kho).test_client()
    assert login(web, people, "kiem_toan").status_code in (302, 303)  # before the log refuses logins
    for n in (1, 2):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"v{n}"), "cv.pdf", people.actor("van_thu")
        )
    key, data, kind = PLANTED[planted]
    kho.repo.store.put(key, data.encode())
    checked = client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
    assert checked.status_code == 200, checked.get_data(as_text=True)
    assert checked.json["ok"] is False
    assert kind in [f["kind"] for f in checked.json["findings"]]
    page = web.get("/audit/verify")
    assert page.status_code == 200, text(page)[:2000]
    shown = html.unescape(text(page))
    assert ("Điểm mốc" in shown) if kind == "checkpoint" else ("Bản ghi chứng (witness)" in shown)
