"""A HEAD on a download (API and page) answers the headers of the original without reading it,
and is not recorded as a download (m5)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import login

from web.context import Kho


def _events(kho: Kho, record_id: str) -> list[Any]:
    return [e for e in kho.repo.audit.events() if e.record_id == record_id]


def test_a_head_on_a_download_reads_nothing_and_is_not_a_download(
    kho: Kho,
    people: People,
    client: FlaskClient,
    web: FlaskClient,
    signed: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``HEAD /api/records/<id>/content`` and ``HEAD /records/<id>/download`` ran the download:
    the original was fetched and decrypted, and a ``content:download`` was written for a body
    never sent, so the audit trail counted downloads that did not happen. A HEAD now answers
    the headers a download would (type, length, SHA-256, name) from the record, decided as a
    download is, decrypts nothing, and is audited as ``record:view`` (the description of the
    original was seen, not its content)."""
    pdf = signed["valid"]
    clerk = people.actor("van_thu")
    rid = kho.repo.create_document("den", incoming(code_number="91"), pdf, "cong-van.pdf", clerk).record_id
    opened: list[str] = []
    real_get = kho.repo.store.get

    def get(key: str, *args: Any, **kwargs: Any) -> bytes:
        if "/content/" in key:
            opened.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(kho.repo.store, "get", get)
    login(web, people, "van_thu")
    before = len(_events(kho, rid))
    api = client.head(f"/api/records/{rid}/content", headers=people.headers("van_thu"))
    page = web.head(f"/records/{rid}/download")
    for answer in (api, page):
        assert answer.status_code == 200, answer.status_code
        assert answer.get_data() == b""
        assert answer.headers["Content-Length"] == str(len(pdf))
        assert answer.headers["X-Content-SHA256"] and answer.mimetype == "application/pdf"
    assert opened == []  # the original was not fetched (nor decrypted)
    after = _events(kho, rid)[before:]
    assert [e.action for e in after] == ["record:view", "record:view"]
    assert all(e.details.get("method") == "HEAD" for e in after)
    # Who may not download may not HEAD either (and nothing is described to them).
    refused = client.head(f"/api/records/{rid}/content", headers=people.headers("quan_tri"))
    assert refused.status_code == 403
    # A GET is still the download it was.
    got = client.get(f"/api/records/{rid}/content", headers=people.headers("van_thu"))
    assert got.status_code == 200 and got.get_data() == pdf and opened
    assert _events(kho, rid)[-1].action == "content:download"
