"""The home page's counts ask the policy through the search index, not a store load each (rv29).

rv26 made ``HandlingService.counts`` (the home page, ``GET /api/work``, ``kho handling``) load
every open task's document from the store to ask the policy: on S3 a LIST of its versions, a
GET and a LIST of its hồ sơ per task, on every home page (60 requests for 20 tasks). The index
holds each record's visibility as the policy defines it (``policy.index_visibility``) and is
updated in the same request as the store: the counts now ask it once. What they count is
unchanged: a document raised above the handler's clearance leaves the counts at once; with the
index not answering, the store decides as before.
"""

from __future__ import annotations

import dataclasses

import pytest
from kho_directed import directed
from kho_people import People

from repository.service import open_handling
from web.context import Kho


def _directed(kho: Kho, people: People, n: int) -> list[str]:
    return [directed(kho, people, str(6100 + i)) for i in range(n)]


def test_the_counts_load_no_task_document_and_still_follow_the_policy(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _directed(kho, people, 3)
    handler, clerk = people.actor("chuyen_vien"), people.actor("van_thu")
    read: list[str] = []
    get = kho.repo.store.get

    def counted(key: str, *args: object, **kwargs: object) -> bytes:
        read.append(key)
        return get(key, *args, **kwargs)

    monkeypatch.setattr(kho.repo.store, "get", counted)  # the test's probe on the real store
    counts = kho.handling.counts(handler)
    assert (counts.open, counts.due_soon, counts.inbox) == (3, 3, 3)
    assert not [k for k in read if any(i in k for i in ids)], read

    current = kho.repo.get(ids[0], actor=clerk)
    kho.repo.update_metadata(ids[0], {"secrecy": 2}, expected_version=current.version, actor=clerk)
    after = kho.handling.counts(handler)
    assert (after.open, after.due_soon, after.inbox) == (2, 2, 2), after


def test_the_store_decides_when_the_index_does_not_answer(kho: Kho, people: People, tmp_path: object) -> None:
    ids = _directed(kho, people, 2)
    handler, clerk = people.actor("chuyen_vien"), people.actor("van_thu")
    current = kho.repo.get(ids[0], actor=clerk)
    kho.repo.update_metadata(ids[0], {"secrecy": 2}, expected_version=current.version, actor=clerk)
    # An installation whose Elasticsearch does not answer (nothing listens on port 9).
    down = Kho(
        dataclasses.replace(kho.settings, elasticsearch_url="http://127.0.0.1:9"),
        kho.repo,
        follow_index=False,
    )
    service = open_handling(
        kho.settings, kho.repo, kho.accounts, kho.handling.index, visible=down.visible_in_index
    )
    counts = service.counts(handler)
    assert (counts.open, counts.due_soon) == (1, 1), counts
