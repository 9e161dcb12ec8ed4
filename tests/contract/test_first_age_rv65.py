"""rv65: ``ObjectStore.first_age`` on both backends — the age of a key's oldest stored version,
which writing the same bytes again does not make younger (``age`` does: fsck judged a dead
scrub's staged copy by it and a writer renewed it for ever)."""

from __future__ import annotations

import time

import pytest

from kho.errors import NotFound
from repository.storage.base import ObjectStore


def test_first_age_counts_from_the_first_version_and_age_from_the_last(store: ObjectStore, ns: str) -> None:
    key = f"{ns}staged.json"
    store.put(key, b"copy")
    time.sleep(2.2)  # (S3's Last-Modified is in whole seconds)
    store.put(key, b"copy")  # the same bytes again
    assert store.age(key) < 1.5
    assert store.first_age(key) >= 1.0


def test_first_age_of_a_key_written_once_is_its_age_and_absent_is_not_found(
    store: ObjectStore, ns: str
) -> None:
    key = f"{ns}once.json"
    store.put(key, b"x")
    assert store.first_age(key) < 1.5
    store.delete(key)  # every version: a new copy starts young again
    with pytest.raises(NotFound):
        store.first_age(key)
    store.put(key, b"x")
    assert store.first_age(key) < 1.5
