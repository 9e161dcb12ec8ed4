"""A HEAD on a page image (API and page) renders nothing and is not a view of the content
(r27: m5 made a HEAD on a download a description, the page images kept the old way)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming
from kho_web import login

from web.context import Kho


@pytest.fixture
def reads(kho: Kho, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the record store is asked for (GET), in order."""
    asked: list[str] = []
    real_get = kho.repo.store.get

    def get(key: str, *args: Any, **kwargs: Any) -> bytes:
        asked.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(kho.repo.store, "get", get)
    return asked


def test_a_head_on_a_page_image_renders_nothing_and_is_not_a_view_of_the_content(
    kho: Kho,
    people: People,
    client: FlaskClient,
    web: FlaskClient,
    signed: dict[str, bytes],
    reads: list[str],
) -> None:
    """``HEAD /api/records/<id>/pages/1`` and ``HEAD /records/<id>/pages/1.png`` ran the GET
    view: the original was fetched, decrypted and rendered (the rendition stored), and a
    ``content:view`` was written for an image never sent. They are now answered as m5 answers
    a HEAD on a download: decided as the GET is (who may not read the original gets 403),
    nothing fetched or rendered, audited ``record:view`` with ``method: HEAD``."""
    clerk = people.actor("van_thu")
    rid = kho.repo.create_document(
        "den", incoming(code_number="95"), signed["valid"], "cv.pdf", clerk
    ).record_id
    login(web, people, "van_thu")
    before = len(list(kho.repo.audit.events()))
    api = client.head(f"/api/records/{rid}/pages/1", headers=people.headers("van_thu"))
    page = web.head(f"/records/{rid}/pages/1.png")
    for answer in (api, page):
        assert answer.status_code == 200 and answer.mimetype == "image/png"
        assert answer.get_data() == b""
    assert [k for k in reads if "/content/" in k or "page-" in k] == []
    after = [e for e in list(kho.repo.audit.events())[before:] if e.record_id == rid]
    assert [e.action for e in after] == ["record:view", "record:view"]
    assert all(e.details.get("method") == "HEAD" for e in after)
    assert client.head(f"/api/records/{rid}/pages/1", headers=people.headers("quan_tri")).status_code == 403
    # A GET is still the rendered page, audited as a view of the content.
    got = client.get(f"/api/records/{rid}/pages/1", headers=people.headers("van_thu"))
    assert got.status_code == 200 and got.get_data().startswith(b"\x89PNG")
    assert list(kho.repo.audit.events())[-1].action == "content:view"
