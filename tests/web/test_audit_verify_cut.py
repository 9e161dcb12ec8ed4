"""The audit page's check after a cut end: the auditor gets the findings, not the refusal that
tells them to look (``/api/audit/verify`` records its own event, which a broken chain refuses)."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.context import Kho


def test_the_audit_check_reports_a_cut_tail_instead_of_refusing(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    for n in (1, 2):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"v{n}"), "cv.pdf", people.actor("van_thu")
        )
    assert client.get("/api/audit/verify", headers=people.headers("kiem_toan")).json["ok"] is True
    last = [info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1]
    kho.repo.store.delete(last)
    kho.repo.store.delete(WITNESS_KEY)
    for _ in range(2):  # the running process (it saw the witness), then again
        checked = client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
        assert checked.status_code == 200, checked.get_data(as_text=True)
        assert checked.json["ok"] is False
        assert "truncated" in [f["kind"] for f in checked.json["findings"]]
    assert not kho.repo.store.exists(WITNESS_KEY)  # and nothing papered over the cut
