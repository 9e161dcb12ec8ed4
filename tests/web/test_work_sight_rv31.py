"""One policy question per document for one work answer, the questions sent side by side (rv31).

The home counts and "Việc của tôi" ask the access policy of every document they name, which on
S3 is two LISTs and a GET per document (rv26; rv29 measured 0.6-1.1 s per home page for 20 open
tasks). ``my_work`` asked it inside its comprehension's condition, once per listed item, so a
list of N tasks loaded every document N times; ``GET /api/work`` and the work page then asked
again for the counts and the other lists. Now one answer asks once per document
(``HandlingService.sight``) and the loads run concurrently (``storage.group.read_each``). What
is counted and listed is unchanged: every answer still loads each document it names from the
store, so a change made by any process is seen by the next answer, and counts and lists agree.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from flask import Flask
from kho_directed import directed
from kho_people import People
from kho_web import login

from web.context import Kho


def _count_version_reads(kho: Kho, monkeypatch: pytest.MonkeyPatch, ids: list[str]) -> Counter[str]:
    """How often each of ``ids`` has a version object read (the test's probe on the real store)."""
    reads: Counter[str] = Counter()
    get = kho.repo.store.get

    def counted(key: str, *args: object, **kwargs: object) -> bytes:
        for record_id in ids:
            if key.startswith(f"records/{record_id}/v"):
                reads[record_id] += 1
        return get(key, *args, **kwargs)

    monkeypatch.setattr(kho.repo.store, "get", counted)
    return reads


def test_one_work_answer_loads_each_document_once_and_its_counts_hold_its_list(
    kho: Kho, people: People, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [directed(kho, people, str(3100 + n)) for n in range(4)]
    clerk = people.actor("van_thu")
    hidden = ids[0]  # raised above the handler's clearance: out of the counts and the list alike
    current = kho.repo.get(hidden, actor=clerk)
    kho.repo.update_metadata(hidden, {"secrecy": 2}, expected_version=current.version, actor=clerk)
    reads = _count_version_reads(kho, monkeypatch, ids)

    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = "10.9.0.31"
    answer = web.get("/api/work", headers=people.headers("chuyen_vien"))
    assert answer.status_code == 200, answer.json
    listed = [item["record_id"] for item in answer.json["items"]]
    assert sorted(listed) == sorted(ids[1:])
    assert answer.json["counts"]["open"] == len(listed) == 3
    assert answer.json["counts"]["inbox"] == 3  # the hidden document's notice is not counted
    assert dict(reads) == dict.fromkeys(ids, 1), reads  # main: 1 + 4 per document

    reads.clear()
    assert login(web, people, "chuyen_vien").status_code == 302
    page = web.get("/work")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert hidden not in text
    assert all(record_id in text for record_id in ids[1:])
    assert dict(reads) == dict.fromkeys(ids, 1), reads


def _meeting(kho: Kho, monkeypatch: pytest.MonkeyPatch, ids: list[str]) -> set[str]:
    """Make the first version read of each of ``ids`` wait at one barrier for the others: loads
    made one after another never meet there (the first waits alone until the barrier breaks,
    and the answer fails). Returns the ids that reached the barrier."""
    meet = threading.Barrier(len(ids), timeout=10)
    waited: set[str] = set()
    get = kho.repo.store.get

    def meeting(key: str, *args: object, **kwargs: object) -> bytes:
        for record_id in ids:
            if key.startswith(f"records/{record_id}/v") and record_id not in waited:
                waited.add(record_id)
                meet.wait()
        return get(key, *args, **kwargs)

    monkeypatch.setattr(kho.repo.store, "get", meeting)  # the test's probe on the real store
    return waited


def test_the_policy_loads_of_one_answer_run_side_by_side(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [directed(kho, people, str(3200 + n)) for n in range(2)]
    waited = _meeting(kho, monkeypatch, ids)
    counts = kho.handling.counts(people.actor("chuyen_vien"))
    assert (counts.open, counts.due_soon, counts.inbox) == (2, 2, 2)
    assert waited == set(ids)


def test_the_hits_of_a_search_page_are_checked_side_by_side(
    kho: Kho, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Repository.visible`` checks each hit of a search page (and the hồ sơ and intake lists)
    against the store again: one load per hit, 20 round trips one after another on S3."""
    ids = [directed(kho, people, str(3300 + n)) for n in range(2)]
    hidden = directed(kho, people, "3399")
    clerk = people.actor("van_thu")
    current = kho.repo.get(hidden, actor=clerk)
    kho.repo.update_metadata(hidden, {"secrecy": 2}, expected_version=current.version, actor=clerk)
    waited = _meeting(kho, monkeypatch, [*ids, hidden])
    shown = kho.repo.visible([ids[1], hidden, ids[0]], actor=people.actor("chuyen_vien"))
    assert [record.record_id for record in shown] == [ids[1], ids[0]]  # the order given, hidden left out
    assert waited == {*ids, hidden}
