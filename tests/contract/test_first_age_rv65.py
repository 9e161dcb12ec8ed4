"""rv65: ``ObjectStore.first_age`` on both backends — the age of a key's oldest stored version,
which writing the same bytes again does not make younger (``age`` does: fsck judged a dead
scrub's staged copy by it and a writer renewed it for ever)."""

from __future__ import annotations

import time

import pytest
from kho_buckets import new_bucket
from kho_testing import s3_options_or_skip

from kho.errors import NotFound
from repository.storage.base import ObjectStore
from repository.storage.s3 import S3Store


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


@pytest.mark.s3
def test_on_s3_versions_under_another_clients_delete_marker_are_an_earlier_object() -> None:
    """A plain DELETE by another S3 client leaves the versions under a marker: a copy put after
    it is a new object, young (not taken for a stopped run's because of an earlier one)."""
    options = s3_options_or_skip()
    store = S3Store(new_bucket("rv65age", options), **options)
    store.put("ingest/scrub/x.json", b"earlier")
    time.sleep(2.2)
    store._client.remove_object(store.bucket, "ingest/scrub/x.json")  # a marker, versions kept
    store.put("ingest/scrub/x.json", b"copy")
    assert store.first_age("ingest/scrub/x.json") < 1.5
