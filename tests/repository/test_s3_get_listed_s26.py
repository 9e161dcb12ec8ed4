"""``S3Store.get_listed``: no GET of bytes already read under the ETag a listing gives (s26).

The caller lists, then reads what it listed (an account's newest version, the unit tree, a
person's notifications: at every web request). The bytes a store object read of a key are kept
with the ETag they were read under (their MD5); a later listing giving the same ETag is answered
from them, any other ETag (the key written again, by any process or by hand) is read. Counted
on the real Ceph gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_counting import named_requests
from kho_testing import make_store

from repository.storage.s3 import LISTED_MAX_BYTES, S3Store

pytestmark = pytest.mark.s3


def _gets(seen: list[str], key: str) -> int:
    return sum(1 for s in seen if s.startswith("GET ") and s.endswith("/" + key))


def test_a_listed_key_is_read_once_until_it_is_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store("s3", tmp_path, "listed")
    assert isinstance(store, S3Store)
    store.put("notes/a", b"first")
    other = S3Store(
        store.bucket,
        endpoint=store.endpoint,
        access_key=store._access_key,
        secret_key=store._secret_key,
        secure=store.secure,
    )  # another process's store
    named = named_requests(monkeypatch)
    for _ in range(3):
        [info] = list(store.list("notes/"))
        assert store.get_listed(info) == b"first"
    assert _gets(named.seen, "notes/a") == 1, named.seen
    other.put("notes/a", b"second")  # a new version, same size
    [info] = list(store.list("notes/"))
    assert store.get_listed(info) == b"second"
    assert _gets(named.seen, "notes/a") == 2, named.seen
    [info] = list(store.list("notes/"))
    assert store.get_listed(info) == b"second"
    assert _gets(named.seen, "notes/a") == 2, named.seen


def test_a_stale_listing_is_not_answered_from_other_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing made before a write, read after it: the GET's bytes are returned (what the
    key holds now), and not kept under the old listing's ETag."""
    store = make_store("s3", tmp_path, "stale")
    assert isinstance(store, S3Store)
    store.put("notes/a", b"one")
    [old] = list(store.list("notes/"))
    store.put("notes/a", b"two")
    assert store.get_listed(old) == b"two"
    named = named_requests(monkeypatch)
    assert store.get_listed(old) == b"two"  # still read: nothing was kept under the old ETag
    assert _gets(named.seen, "notes/a") == 1, named.seen


def test_large_objects_are_read_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store("s3", tmp_path, "large")
    assert isinstance(store, S3Store)
    big = b"x" * (LISTED_MAX_BYTES + 1)
    store.put("notes/big", big)
    named = named_requests(monkeypatch)
    for _ in range(2):
        [info] = list(store.list("notes/"))
        assert store.get_listed(info) == big
    assert _gets(named.seen, "notes/big") == 2, named.seen
