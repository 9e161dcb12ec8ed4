"""A create that meets a key another writer has claimed *and written* learns it is taken from
the one read its caller needs anyway (issue 14, task m40): on an S3 server that claims in a
companion bucket (Ceph RGW), the data is read first and those bytes answer the caller's
``get_after_conflict``; main read the claim, then the data (two GETs a collision: every
register number lost to another process, every guard or audit number met)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kho_testing import AGENCY, AGENCY_NAME, CLERK, make_store, outgoing

from kho.errors import AlreadyExists
from repository.records import Repository
from repository.registers import ADMINISTRATIVE
from repository.storage.base import ObjectStore

pytestmark = pytest.mark.s3


def _count_requests(store: ObjectStore) -> Counter[str]:
    """Counts the HTTP requests of an S3 store: method and what they touch (``claim``: a key's
    claim in the companion bucket, ``pointer``: a pointer there, ``data``: the data bucket)."""
    sent: Counter[str] = Counter()
    client = store._client  # type: ignore[attr-defined]
    real = client._http.urlopen
    claims = store.claims_bucket  # type: ignore[attr-defined]

    def urlopen(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        where = "data"
        if f"/{claims}/claims/" in url:
            where = "claim"
        elif f"/{claims}/" in url or url.endswith(f"/{claims}"):
            where = "pointer"
        sent[f"{method} {where}"] += 1
        return real(method, url, *args, **kwargs)

    client._http.urlopen = urlopen
    return sent


def _claims_mode(store: ObjectStore) -> None:
    # The claims path is what this counts: the test gateway (Ceph RGW) ignores If-None-Match on
    # a versioned bucket. A server that honours it has no claims to count: this test is not
    # for it, and says so instead of skipping.
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]


def test_a_taken_key_whose_data_landed_costs_one_read_for_the_create_and_its_caller(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "landed")
    _claims_mode(store)
    key = "registers/000.00.18.H40/2026/hanh-chinh/00000007.json"
    store.put_if_absent(key, b'{"number": 7}')  # another writer's create, claim and data
    sent = _count_requests(store)

    with pytest.raises(AlreadyExists):
        store.put_if_absent(key, b'{"number": 7, "mine": true}')
    seen = store.get_after_conflict(key)

    # the failed conditional PUT of the claim, then one GET of the data (there: taken, and
    # what the caller reads next); main: the claim's GET, then the data's GET
    assert sent == Counter({"PUT claim": 1, "GET data": 1})
    assert seen == b'{"number": 7}'  # the other writer's bytes, nothing written over them
    assert store.get(key) == b'{"number": 7}'


def test_an_earlier_find_never_answers_a_later_read(tmp_path: Path) -> None:
    """The bytes kept from a collision answer only the same thread's next read of that key
    (before any other create or read of a conflict): a read of a key met earlier reads the
    store, so a guard changed since (taken over) is never answered from an old find."""
    store = make_store("s3", tmp_path, "landed-once")
    _claims_mode(store)
    first, second = "claims/sha256/" + "a" * 64, "claims/sha256/" + "b" * 64
    store.put_if_absent(first, b"1")
    store.put_if_absent(second, b"2")
    with pytest.raises(AlreadyExists):
        store.put_if_absent(first, b"x")
    with pytest.raises(AlreadyExists):
        store.put_if_absent(second, b"y")  # a later create: the first find is dropped
    store.put(first, b"1 again")  # (changed meanwhile, as a guard taken over is)
    sent = _count_requests(store)

    # (m43: a guard is its claim on this server, so reading it is a GET of the claim)
    assert store.get_after_conflict(first) == b"1 again"
    assert sent == Counter({"GET claim": 1})
    assert store.get_after_conflict(second) == b"2"  # (the find was dropped by the read above)
    assert sent == Counter({"GET claim": 2})


def test_two_writers_alternating_in_one_series_read_no_claim(tmp_path: Path) -> None:
    """Two repositories on one store alternate numbers in one series: each finds its cached
    number taken by the other (whose entry is written) and moves on with one read of that
    entry — no read of the claim; numbers stay gap-free and unique."""
    store = make_store("s3", tmp_path, "alternate")
    _claims_mode(store)
    keys = make_store("s3", tmp_path, "alternate-keys")
    a, b = (Repository(store, keys, agency_id=AGENCY, agency_name=AGENCY_NAME) for _ in range(2))
    first = a.create_document("di", outgoing(), None, None, CLERK)
    b.create_document("di", outgoing(), None, None, CLERK)
    sent = _count_requests(store)

    made = [(a if n % 2 == 0 else b).create_document("di", outgoing(), None, None, CLERK) for n in range(6)]

    # each of the six lost its cached number once (one failed claim), read the winner's entry
    # (one GET) and took the next; main read the claim first (six GETs of claims more)
    assert sent["GET claim"] == 0
    assert sent["PUT claim"] >= 6 + 6  # (its won claims and the six lost ones, at least)
    assert first.registration is not None
    year, organ = first.registration.year, first.registration.organ_id
    assert [r.registration.number for r in made if r.registration is not None] == [3, 4, 5, 6, 7, 8]
    entries = list(a.registers.entries(organ, year, ADMINISTRATIVE))
    assert [e.number for e in entries] == list(range(1, 9))  # no gap, no duplicate
    assert a.audit.verify().ok
