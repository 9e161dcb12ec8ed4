"""m53 (issue 14): a key family that is only ever replaced (:data:`REPLACED_ONLY`: a record's
derived objects) is never created conditionally, on any backend, so an S3 store in the claims
mode can replace it without the claim every other replace sends first (the claim is what a later
create of the key finds taken). Every other key keeps its claim."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from kho_claims import assert_every_create_refused, claim_held
from kho_testing import BACKENDS, make_store

from kho.errors import AlreadyExists, KeyNeverCreated
from repository.storage.base import DERIVED, JOBS, ObjectStore, replaced_only
from repository.storage.s3 import S3Store
from retention.backup import restore_object


def _derived_key() -> str:
    return f"records/{uuid.uuid4()}/derived/text.json"


def _claimed(store: S3Store, key: str) -> bool:
    return claim_held(store, f"claims/{key}")


def test_the_families_are_declared_in_one_place() -> None:
    assert replaced_only("records/0f3e/derived/signatures.json") is DERIVED
    assert replaced_only("records/0f3e/derived/ho-so/muc-luc.pdf") is DERIVED
    assert replaced_only("ingest/jobs/ab12.json") is JOBS  # m56: written again by put_again
    for key in (
        "ingest/scrub/ab12.json",  # the scrub's staged copy
        "records/0f3e/v000001.json",
        "records/0f3e/content/ab12",
        "derived/files-by-creator/ab/0f3e",
        "claims/sha256/ab12",
        "records/derived/x",
    ):
        assert replaced_only(key) is None, key


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_conditional_create_of_a_derived_key_is_refused(backend: str, tmp_path: Path) -> None:
    """Whatever the backend, so that a caller that would need the claim fails in every test,
    not only on an S3 server that ignores ``If-None-Match``."""
    store = make_store(backend, tmp_path, "m53c")
    key = _derived_key()
    assert_every_create_refused(store, key, "derived")
    if isinstance(store, S3Store):
        assert not _claimed(store, key)
    store.put(key, b'{"v": 1}')  # its one write
    store.put(key, b'{"v": 2}')
    assert store.get(key) == b'{"v": 2}'


@pytest.mark.s3
def test_a_replace_claims_its_key_only_where_a_create_may_follow(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "m53r")
    assert isinstance(store, S3Store) and store.create_mode == "claims"
    derived, job = _derived_key(), f"ingest/jobs/{uuid.uuid4().hex}.json"
    other = f"ingest/scrub/{uuid.uuid4().hex}.json"
    store.put(derived, b"{}")
    store.put(job, b"{}")  # m56: the jobs' replaces claim nothing either
    store.put(other, b"{}")
    assert not _claimed(store, derived)
    assert not _claimed(store, job)
    assert _claimed(store, other)
    with pytest.raises(AlreadyExists):  # what the claim is for
        store.put_if_absent(other, b"{}")
    with pytest.raises(KeyNeverCreated):
        store.put_if_absent(job, b"{}")
    store.delete(derived)
    assert not store.exists(derived)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_restore_writes_a_derived_key_by_replace(backend: str, tmp_path: Path) -> None:
    """``restore`` wrote every key with ``put_if_absent`` (then ``put`` if it held other bytes):
    a derived key is compared and replaced instead, and one that holds the backup's bytes is
    left as it is (no new version)."""
    store: ObjectStore = make_store(backend, tmp_path, "m53b")
    key, other = _derived_key(), "catalog/agencies/m53.json"
    data = b'{"text": "b\xe1\xba\xa3n sao"}'
    sha = hashlib.sha256(data).hexdigest()
    for k in (key, other):
        restore_object(store, k, data, sha)  # absent: written
        assert store.get(k) == data
        restore_object(store, k, data, sha)  # the same bytes: nothing written
        assert len(store.list_versions(k)) == 1
        store.put(k, b"{}")
        restore_object(store, k, data, sha)  # other bytes: replaced
        assert store.get(k) == data
    if isinstance(store, S3Store):
        assert not _claimed(store, key) and _claimed(store, other)
