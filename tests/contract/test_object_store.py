"""One contract for every object-store backend (``local`` and the real S3 gateway)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kho_buckets import bucket_name, new_bucket

from kho.errors import (
    AlreadyExists,
    KhoError,
    NotFound,
    RetentionLocked,
    StoreFull,
    StoreUnavailable,
)
from repository.storage import open_store
from repository.storage.base import ABSENT, ObjectStore, Retention
from repository.storage.local import LocalStore

from .conftest import S3_ENDPOINT, S3_SKIP_REASON, s3_options

needs_s3 = pytest.mark.skipif(not S3_ENDPOINT, reason=S3_SKIP_REASON)


def _is_vietnamese_message(error: KhoError) -> bool:
    text = error.message
    return bool(text) and unicodedata.is_normalized("NFC", text) and any(ord(c) > 127 for c in text)


# -- create-if-absent ------------------------------------------------------------------------
def test_second_create_is_refused_and_first_content_stays(store: ObjectStore, ns: str) -> None:
    key = ns + "records/r1/v000001.json"
    info = store.put_if_absent(key, b"first")
    assert info.key == key and info.size == 5

    with pytest.raises(AlreadyExists) as refused:
        store.put_if_absent(key, b"second, longer content")

    assert refused.value.code == "ALREADY_EXISTS"
    assert _is_vietnamese_message(refused.value)
    assert store.get(key) == b"first"
    assert store.stat(key).size == 5
    assert [v.size for v in store.list_versions(key)] == [5]


def test_a_staged_object_is_visible_only_once_published(store: ObjectStore, ns: str) -> None:
    staged = store.stage(ns + "records/r2/v000001.json", b"staged")
    given_up = store.stage(ns + "records/r3/v000001.json", b"never")
    assert not store.exists(ns + "records/r2/v000001.json")
    info = staged.publish()
    assert info.size == 6 and store.get(ns + "records/r2/v000001.json") == b"staged"
    given_up.discard()
    assert not store.exists(ns + "records/r3/v000001.json")
    if isinstance(store, LocalStore):
        assert list((store.root / "tmp").iterdir()) == []  # nothing staged is left behind

    taken = store.stage(ns + "records/r2/v000001.json", b"second")
    with pytest.raises(AlreadyExists):
        taken.publish()
    assert store.get(ns + "records/r2/v000001.json") == b"staged"


def test_a_group_writes_every_free_key_up_to_a_taken_one(store: ObjectStore, ns: str) -> None:
    from repository.storage.group import NewObject, write_group, written

    store.put_if_absent(ns + "g/b", b"first")
    keys = [ns + "g/a", ns + "g/b", ns + "g/c"]
    outcomes = write_group([NewObject(store, k, b"group " + k.encode()) for k in keys])
    assert written(outcomes[0]) and isinstance(outcomes[1], AlreadyExists)
    assert store.get(ns + "g/a") == b"group " + keys[0].encode()
    assert store.get(ns + "g/b") == b"first"  # the holder's content stays
    # In order (local folder): held back and not visible. Concurrently (S3): written.
    assert written(outcomes[2]) == store.exists(ns + "g/c") == (not store.groups_in_order)


def test_concurrent_creates_from_threads_have_exactly_one_winner(
    store: ObjectStore, ns: str
) -> None:
    keys = [f"{ns}register/2026/{n:06d}" for n in range(6)]
    writers = 6
    barrier = threading.Barrier(writers)
    wins: dict[str, list[int]] = {key: [] for key in keys}
    errors: list[BaseException] = []

    def writer(me: int) -> None:
        barrier.wait()
        for key in keys:
            try:
                store.put_if_absent(key, f"writer-{me}".encode())
                wins[key].append(me)
            except AlreadyExists:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(me,)) for me in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for key in keys:
        assert len(wins[key]) == 1, (key, wins[key])
        assert store.get(key) == f"writer-{wins[key][0]}".encode()


def _race_in_process(args: tuple[ObjectStore, list[str], float, int]) -> tuple[int, list[str]]:
    store, keys, start_at, me = args
    while time.time() < start_at:
        time.sleep(0.001)
    won = []
    for key in keys:
        try:
            store.put_if_absent(key, f"process-{me}".encode())
            won.append(key)
        except AlreadyExists:
            pass
    return me, won


def test_concurrent_creates_from_processes_have_exactly_one_winner(
    store: ObjectStore, ns: str
) -> None:
    keys = [f"{ns}audit/{n:06d}" for n in range(5)]
    start_at = time.time() + 0.6
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(_race_in_process, [(store, keys, start_at, me) for me in range(4)])

    winners: dict[str, list[int]] = {key: [] for key in keys}
    for me, won in results:
        for key in won:
            winners[key].append(me)
    for key in keys:
        assert len(winners[key]) == 1, (key, winners[key])
        assert store.get(key) == f"process-{winners[key][0]}".encode()


def test_readers_never_see_a_partial_object(store: ObjectStore, ns: str) -> None:
    key = ns + "originals/big.pdf"
    data = os.urandom(6 * 1024 * 1024)
    seen: list[int] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(len(store.get(key)))
            except NotFound:
                seen.append(-1)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        store.put_if_absent(key, data)
        time.sleep(0.05)
    finally:
        done.set()
        thread.join()

    assert set(seen) <= {-1, len(data)}
    assert seen[-1] == len(data)
    assert [o.key for o in store.list(ns)] == [key]


# -- reads -----------------------------------------------------------------------------------
def test_get_stat_exists_and_missing_keys(store: ObjectStore, ns: str) -> None:
    key = ns + "a/b.bin"
    store.put_if_absent(key, b"abc")

    assert store.exists(key)
    assert store.stat(key).size == 3
    assert store.stat(key).version_id == store.list_versions(key)[-1].version_id
    assert not store.exists(ns + "a/missing")
    assert not store.exists(ns + "a")  # a prefix is not an object
    for call in (
        lambda: store.get(ns + "a/missing"),
        lambda: store.stat(ns + "a/missing"),
        lambda: store.get(ns + "a"),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.code == "NOT_FOUND"
        assert _is_vietnamese_message(missing.value)


def test_missing_version_is_not_found(store: ObjectStore, ns: str) -> None:
    key = ns + "pointer"
    store.put_if_absent(key, b"v1")
    with pytest.raises(NotFound):
        store.get(key, version_id="0000000000000000nosuchversion")


@pytest.mark.parametrize("key", ["", "/abs", "trailing/", "a//b", "a/../b", "a/./b", "sp ace", "đ"])
def test_invalid_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_if_absent(key, b"x")


def test_binary_and_empty_payloads_round_trip(store: ObjectStore, ns: str) -> None:
    every_byte = bytes(range(256)) * 17 + b"\x00\r\n\x1a\xff"
    store.put_if_absent(ns + "bin", every_byte)
    store.put_if_absent(ns + "empty", b"")

    assert store.get(ns + "bin") == every_byte
    assert store.get(ns + "empty") == b""
    assert store.stat(ns + "empty").size == 0


def test_large_object_round_trips(store: ObjectStore, ns: str) -> None:
    data = os.urandom(20 * 1024 * 1024 + 123)
    key = ns + "originals/scan.tiff"
    info = store.put_if_absent(key, data)

    assert info.size == len(data)
    assert store.stat(key).size == len(data)
    assert store.get(key) == data
    with pytest.raises(AlreadyExists):
        store.put_if_absent(key, b"small")
    assert store.get(key) == data


# -- listing ---------------------------------------------------------------------------------
LISTED = ["a-b", "a.b", "a/b", "a/c/d", "a0", "ab", "b/x"]


def test_listing_is_in_key_order(store: ObjectStore, ns: str) -> None:
    for name in reversed(LISTED):
        store.put_if_absent(ns + name, name.encode())

    listed = list(store.list(ns))

    assert [o.key for o in listed] == [ns + n for n in sorted(LISTED)]
    assert [o.size for o in listed] == [len(n) for n in sorted(LISTED)]


def test_listing_tells_when_each_object_was_written(store: ObjectStore, ns: str) -> None:
    """:attr:`ObjectInfo.modified` (m62: fsck tells a live scrub's staged copy by its age):
    the store's time of the write, within the S3 clock skew a live writer may have."""
    before = time.time()
    store.put_if_absent(ns + "a", b"1")
    time.sleep(1.2)
    store.put(ns + "b", b"2")
    listed = {o.key: o.modified for o in store.list(ns)}
    first, second = listed[ns + "a"], listed[ns + "b"]
    assert first is not None and second is not None
    assert abs(first - before) < 60 and second - first >= 1.0  # (S3 gives whole seconds)


def test_delete_older_version_removes_that_version_only(store: ObjectStore, ns: str) -> None:
    """m63's removal of a job's versions that name its file (review rv62: no contract test had
    it): the one listed version goes; the current one, the others, another key's stay; a version
    id of another key, or one gone already, removes nothing and is not an error."""
    key, other = ns + "job.json", ns + "other.json"
    for body in (b"v1", b"v2", b"v3"):
        store.put(key, body)
    store.put(other, b"o1")
    store.put(other, b"o2")
    v1, v2, v3 = (v.version_id for v in store.list_versions(key))
    assert v1 is not None and v2 is not None
    store.delete_older_version(key, v2)
    assert [v.version_id for v in store.list_versions(key)] == [v1, v3] and store.get(key) == b"v3"
    store.delete_older_version(key, v2)  # gone already
    other_first = store.list_versions(other)[0].version_id
    assert other_first is not None
    store.delete_older_version(key, other_first)  # another key's version
    assert [v.version_id for v in store.list_versions(key)] == [v1, v3] and store.get(key) == b"v3"
    assert len(store.list_versions(other)) == 2


def test_delete_older_version_refuses_an_empty_version_id(store: ObjectStore, ns: str) -> None:
    """An empty version id names no older version. On S3 it was sent as a plain DELETE (minio
    leaves out an empty ``versionId``): a delete marker on top, the current version gone for
    readers and every older one kept, the one naming the file included (review rv62). Refused
    on both backends, nothing removed."""
    key = ns + "job.json"
    store.put(key, b"v1")
    store.put(key, b"v2")
    listed = store.list_versions(key)
    with pytest.raises(ValueError):
        store.delete_older_version(key, "")
    assert store.get(key) == b"v2" and store.list_versions(key) == listed


def test_delete_older_version_refuses_the_current_version(store: ObjectStore, ns: str) -> None:
    """(review rv64) The current version's id names no *older* version. On S3 its DELETE removed
    it and the version under it (here one naming a file) became the job readers got; the local
    folder ignored it. Both now refuse it the same way, nothing removed: ``VERSION_IS_CURRENT``,
    a Vietnamese message naming the key and the version."""
    key = ns + "job.json"
    store.put(key, b"v1 names the file")
    store.put(key, b"v2")
    listed = store.list_versions(key)
    current = listed[-1].version_id
    assert current is not None and current == store.stat(key).version_id
    with pytest.raises(KhoError) as refused:
        store.delete_older_version(key, current)
    assert refused.value.code == "VERSION_IS_CURRENT"
    assert _is_vietnamese_message(refused.value) and key in refused.value.message
    assert refused.value.details == {"key": key, "version_id": current}
    assert store.get(key) == b"v2" and store.list_versions(key) == listed


def test_delete_older_version_removes_a_version_with_no_current_one_above(
    store: ObjectStore, ns: str
) -> None:
    """A version whose key has no current object (S3: a delete marker another client's plain
    DELETE left on top; the local folder: the current file removed by hand, its archives left)
    is older than nothing current: removed, not refused (rv64's check asks the current
    version; none is not a refusal)."""
    key = ns + "job.json"
    store.put(key, b"v1")
    store.put(key, b"v2")
    older = store.list_versions(key)[0].version_id
    assert older is not None
    _hide_under_a_delete(store, key)
    store.delete_older_version(key, older)
    assert older not in [v.version_id for v in store.list_versions(key)]


def test_list_hidden_gives_the_keys_with_versions_and_no_current_object(store: ObjectStore, ns: str) -> None:
    """(review rv64) ``list`` gives current keys only, so the versions of a key deleted by
    another tool (S3: a delete marker on top; local: the file removed by hand) were listed by
    nothing. ``list_hidden`` gives exactly those keys under the prefix, in order: not a current
    key, not one outside the prefix, not a key Kho deleted itself (every version gone)."""
    hidden_b, hidden_a, current, gone = ns + "j/b.json", ns + "j/a.json", ns + "j/c.json", ns + "j/d.json"
    for key in (hidden_b, hidden_a, current, gone, ns + "other/x.json"):
        store.put(key, b"1")
        store.put(key, b"2")
    _hide_under_a_delete(store, hidden_b)
    _hide_under_a_delete(store, hidden_a)
    _hide_under_a_delete(store, ns + "other/x.json")
    store.delete(gone)
    assert list(store.list_hidden(ns + "j/")) == [hidden_a, hidden_b]
    assert [v.version_id for v in store.list_versions(hidden_a)] != []  # (readable by id)


def _hide_under_a_delete(store: ObjectStore, key: str) -> None:
    """Delete ``key`` as another tool would, leaving its older versions stored: on S3 a plain
    DELETE (a delete marker on top), on the local folder the current file unlinked by hand."""
    if isinstance(store, LocalStore):
        (store.root / "objects" / key).unlink()
    else:
        store._client.remove_object(store.bucket, key)  # type: ignore[attr-defined]
    assert not store.exists(key)


@pytest.mark.parametrize(
    ("prefix", "start_after", "expected"),
    [
        ("a/", None, ["a/b", "a/c/d"]),
        ("a", None, ["a-b", "a.b", "a/b", "a/c/d", "a0", "ab"]),
        ("a/c", None, ["a/c/d"]),
        ("", "a/b", ["a/c/d", "a0", "ab", "b/x"]),
        ("", "a/", ["a/b", "a/c/d", "a0", "ab", "b/x"]),
        ("a", "a.b", ["a/b", "a/c/d", "a0", "ab"]),
        ("a", "a/c/d", ["a0", "ab"]),
        ("b/", None, ["b/x"]),
        ("c", None, []),
        ("", "b/x", []),
    ],
)
def test_listing_by_prefix_and_start_after(
    store: ObjectStore, ns: str, prefix: str, start_after: str | None, expected: list[str]
) -> None:
    for name in LISTED:
        store.put_if_absent(ns + name, b"x")

    after = ns + start_after if start_after is not None else None
    got = [o.key.removeprefix(ns) for o in store.list(ns + prefix, start_after=after)]

    assert got == expected


# -- versions, delete ------------------------------------------------------------------------
def test_put_keeps_earlier_versions_readable(
    store: ObjectStore, ns: str, request: pytest.FixtureRequest
) -> None:
    key = ns + "witness"
    first = store.put_if_absent(key, b"one")
    second = store.put(key, b"two!")
    third = store.put(key, b"three")

    assert store.get(key) == b"three"
    versions = store.list_versions(key)
    assert [v.size for v in versions] == [3, 4, 5]
    assert [v.version_id for v in versions] == [
        first.version_id,
        second.version_id,
        third.version_id,
    ]
    assert len({v.version_id for v in versions}) == 3
    assert store.get(key, version_id=first.version_id) == b"one"
    assert store.get(key, version_id=second.version_id) == b"two!"
    with pytest.raises(AlreadyExists):
        store.put_if_absent(key, b"four")


def test_delete_removes_every_version_and_frees_the_key(store: ObjectStore, ns: str) -> None:
    key = ns + "disposed/r9"
    other = ns + "disposed/r90"
    store.put_if_absent(key, b"v1")
    store.put(key, b"v2")
    store.put_if_absent(other, b"keep")

    store.delete(key)

    assert not store.exists(key)
    assert store.list_versions(key) == []
    with pytest.raises(NotFound):
        store.get(key)
    assert [o.key for o in store.list(ns + "disposed/")] == [other]
    assert store.get(other) == b"keep"
    store.delete(key)  # deleting a missing key is not an error
    store.put_if_absent(key, b"new life")
    assert store.get(key) == b"new life"


def test_delete_if_current_removes_every_version_only_while_it_is_the_version_read(
    store: ObjectStore, ns: str
) -> None:
    """m57: a rewrite removes an object with every version only while it is what it read
    (``get_tagged``); another writer's ``put`` since is kept, with everything older."""
    key = ns + "rewritten/j1"
    store.put(key, b"v1")
    store.put(key, b"v2")
    _, tag = store.get_tagged(key)
    store.put(key, b"v3")  # another writer, after the read

    assert store.delete_if_current(key, tag) is False
    assert store.get(key) == b"v3" and len(store.list_versions(key)) == 3
    _, tag = store.get_tagged(key)
    assert store.delete_if_current(key, tag) is True
    assert not store.exists(key) and store.list_versions(key) == []
    assert store.delete_if_current(key, tag) is False  # gone: no longer the version read
    assert store.delete_if_current(key, ABSENT) is True  # none current: nothing to keep
    store.put(key, b"v4")
    assert store.delete_if_current(key, ABSENT) is False
    assert store.get(key) == b"v4" and len(store.list_versions(key)) == 1


def test_delete_if_current_is_refused_under_legal_hold(store: ObjectStore, ns: str) -> None:
    _needs_retention(store)
    key = ns + "rewritten/held"
    store.put(key, b"evidence")
    _, tag = store.get_tagged(key)
    store.set_legal_hold(key, True)
    with pytest.raises(RetentionLocked):
        store.delete_if_current(key, tag)
    assert store.get(key) == b"evidence"
    store.set_legal_hold(key, False)
    assert store.delete_if_current(key, tag) is True


# -- retention and legal hold ----------------------------------------------------------------
def _needs_retention(store: ObjectStore) -> None:
    if not store.supports_retention:
        pytest.skip(f"{store.name} has no retention")


def test_compliance_retention_refuses_delete_overwrite_and_shortening(
    store: ObjectStore, ns: str
) -> None:
    _needs_retention(store)
    key = ns + "records/locked"
    store.put_if_absent(key, b"signed original")
    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    store.set_retention(key, Retention("COMPLIANCE", until))

    kept = store.get_retention(key)
    assert kept is not None and kept.mode == "COMPLIANCE" and kept.until == until
    with pytest.raises(RetentionLocked) as refused:
        store.delete(key)
    assert refused.value.code == "RETENTION_LOCKED"
    assert _is_vietnamese_message(refused.value)
    with pytest.raises(RetentionLocked):
        store.set_retention(key, Retention("COMPLIANCE", until - timedelta(days=1)))
    with pytest.raises(RetentionLocked):
        store.put(key, b"replaced")
    assert store.get(key) == b"signed original"
    assert len(store.list_versions(key)) == 1
    later = until + timedelta(days=1)
    store.set_retention(key, Retention("COMPLIANCE", later))  # extending is allowed
    assert store.get_retention(key) == Retention("COMPLIANCE", later)


def test_no_retention_by_default(store: ObjectStore, ns: str) -> None:
    _needs_retention(store)
    store.put_if_absent(ns + "free", b"x")
    assert store.get_retention(ns + "free") is None
    assert store.get_legal_hold(ns + "free") is False


def test_legal_hold_refuses_delete_until_released(store: ObjectStore, ns: str) -> None:
    _needs_retention(store)
    key = ns + "records/held"
    store.put_if_absent(key, b"evidence")

    store.set_legal_hold(key, True)

    assert store.get_legal_hold(key) is True
    with pytest.raises(RetentionLocked):
        store.delete(key)
    assert store.get(key) == b"evidence"
    store.set_legal_hold(key, False)
    assert store.get_legal_hold(key) is False
    store.delete(key)
    assert not store.exists(key)


def test_retention_on_a_missing_key_is_not_found(store: ObjectStore, ns: str) -> None:
    _needs_retention(store)
    until = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(NotFound):
        store.set_retention(ns + "missing", Retention("GOVERNANCE", until))
    with pytest.raises(NotFound):
        store.set_legal_hold(ns + "missing", True)


# -- an unreachable or full store ------------------------------------------------------------
def test_unreachable_s3_store_is_store_unavailable() -> None:
    from repository.storage.s3 import S3Store

    options = s3_options(endpoint="127.0.0.1:1", access_key="k", secret_key="s")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as at_open:
        open_store("s3://kho-unreachable", **options)
    assert at_open.value.code == "STORE_UNAVAILABLE"
    assert at_open.value.http_status == 503
    assert _is_vietnamese_message(at_open.value)
    assert "127.0.0.1:1" in at_open.value.message

    store = S3Store("kho-unreachable", create_bucket=False, **options)  # type: ignore[arg-type]
    for call in (
        lambda: store.put_if_absent("k", b"x"),
        lambda: store.put("k", b"x"),
        lambda: store.get("k"),
        lambda: store.stat("k"),
        lambda: list(store.list("")),
        lambda: store.list_versions("k"),
        lambda: store.delete("k"),
    ):
        with pytest.raises(StoreUnavailable) as failed:
            call()
        assert failed.value.code == "STORE_UNAVAILABLE"
        assert isinstance(failed.value.__cause__, Exception)
    assert time.monotonic() - started < 10


@needs_s3
def test_wrong_s3_credentials_are_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable) as refused:
        open_store(f"s3://{bucket_name('creds')}", **s3_options(secret_key="wrong-secret"))
    assert refused.value.code == "STORE_UNAVAILABLE"
    assert _is_vietnamese_message(refused.value)


@needs_s3
def test_full_s3_store_refuses_the_write_and_keeps_what_is_stored() -> None:
    quota = int(os.environ.get("KHO_TEST_S3_FULL_QUOTA_BYTES", "65536"))
    options = s3_options(
        access_key=os.environ.get("KHO_TEST_S3_FULL_ACCESS_KEY"),
        secret_key=os.environ.get("KHO_TEST_S3_FULL_SECRET_KEY"),
    )
    store = open_store(f"s3://{new_bucket('full', options)}", **options)
    store.put_if_absent("kept", b"already stored")
    try:
        with pytest.raises(StoreFull) as full:
            store.put_if_absent("big", os.urandom(quota + 1024))
        assert full.value.code == "STORE_FULL"
        assert full.value.http_status == 507
        assert _is_vietnamese_message(full.value)
        assert not store.exists("big")
        assert [o.key for o in store.list("")] == ["kept"]
        assert store.get("kept") == b"already stored"
        # Nothing half-written: the key is still free for a write that fits.
        store.put_if_absent("big", b"fits")
        assert store.get("big") == b"fits"
    finally:
        # The quota is the test user's, across buckets: give the space back.
        for key in ("kept", "big"):
            store.delete(key)


def test_unreachable_local_store_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(StoreUnavailable) as failed:
        LocalStore(blocker / "store")
    assert failed.value.code == "STORE_UNAVAILABLE"
    assert _is_vietnamese_message(failed.value)


# -- S3 specifics ----------------------------------------------------------------------------
@needs_s3
def test_stale_s3_claim_of_a_dead_writer_is_taken_over() -> None:
    from repository.storage.s3 import S3Store

    store = S3Store(new_bucket("claims", s3_options()), claim_timeout_s=0.0, **s3_options())  # type: ignore[arg-type]
    # the test command's Ceph RGW ignores If-None-Match on versioned buckets: claims mode
    assert store.create_mode == "claims"
    # A writer that claimed the key and died before its data PUT.
    store._claim("records/r1")
    assert not store.exists("records/r1")

    store.put_if_absent("records/r1", b"taken over")

    assert store.get("records/r1") == b"taken over"
    with pytest.raises(AlreadyExists):
        store.put_if_absent("records/r1", b"again")
    # A store opened without the bucket check probes on its first create, to the same mode.
    late = S3Store(store.bucket, create_bucket=False, **s3_options())  # type: ignore[arg-type]
    with pytest.raises(AlreadyExists):
        late.put_if_absent("records/r1", b"late")
    assert late.create_mode == store.create_mode


@needs_s3
def test_s3_claim_of_a_killed_writer_on_this_machine_is_taken_over_at_once() -> None:
    """A writer killed between its claim and its data PUT (a bulk import SIGKILLed, re-run at
    once): its claim names its process, which is gone, so the re-run does not wait for
    ``claim_timeout_s``; the claim of a live writer still holds."""
    import json
    import subprocess

    from kho.process import this_host
    from repository.storage.s3 import DEAD_WRITER_SETTLE_S, S3Store

    store = S3Store(new_bucket("killed", s3_options()), claim_timeout_s=300.0, **s3_options())  # type: ignore[arg-type]
    # the test command's Ceph RGW ignores If-None-Match on versioned buckets: claims mode
    assert store.create_mode == "claims"
    child = subprocess.Popen(["true"])
    child.wait()

    def leave_claim(key: str, pid: int, host: str) -> None:
        body = json.dumps({"writer": "w", "pid": pid, "host": host, "at": time.time()}).encode()
        store._put_raw(store.claims_bucket, "claims/" + key, body, {"If-None-Match": "*"})

    leave_claim("claims/sha256/dead", child.pid, this_host())
    began = time.monotonic()
    store.put_if_absent("claims/sha256/dead", b"taken over")
    assert DEAD_WRITER_SETTLE_S - 2 <= time.monotonic() - began < DEAD_WRITER_SETTLE_S + 10
    assert store.get("claims/sha256/dead") == b"taken over"
    with pytest.raises(AlreadyExists):
        store.put_if_absent("claims/sha256/dead", b"again")

    # older than a request may take: the writer may have lost the answer of a PUT the server
    # is still storing before it exited; only claim_timeout_s frees it
    hasty = S3Store(store.bucket, claim_timeout_s=300.0, **{**s3_options(), "read_timeout_s": 1.0})  # type: ignore[arg-type]
    leave_claim("claims/sha256/lost-answer", child.pid, this_host())
    time.sleep(1.5)
    with pytest.raises(AlreadyExists):
        hasty.put_if_absent("claims/sha256/lost-answer", b"too early")
    assert not store.exists("claims/sha256/lost-answer")

    leave_claim("claims/sha256/live", os.getppid(), this_host())  # alive: still writing
    leave_claim("claims/sha256/elsewhere", child.pid, "kho-2/77/pid:[1]")  # cannot be asked
    for key in ("claims/sha256/live", "claims/sha256/elsewhere"):
        with pytest.raises(AlreadyExists):
            store.put_if_absent(key, b"too early")
        assert not store.exists(key)


@needs_s3
def test_s3_store_pickles_as_its_configuration() -> None:
    import pickle

    from repository.storage.s3 import S3Store

    store = S3Store(new_bucket("pickle", s3_options()), **s3_options())  # type: ignore[arg-type]
    store.put_if_absent("k", b"v")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.get("k") == b"v"
    assert copy._secret_key == store._secret_key


# -- local specifics -------------------------------------------------------------------------
def test_local_temp_leftovers_are_invisible_to_readers(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", fsync=False)
    store.put_if_absent("records/r1", b"complete")
    # A writer that died mid-write leaves a partial temp file behind.
    leftover = tmp_path / "store" / "tmp" / "tmpdeadwriter"
    leftover.write_bytes(b"half-writ")
    old = time.time() - 3600
    os.utime(leftover, (old, old))

    assert [o.key for o in store.list("")] == ["records/r1"]
    assert not store.exists("tmp/tmpdeadwriter")
    with pytest.raises(NotFound):
        store.get("tmpdeadwriter")
    assert store.stale_temp_files(older_than_s=60) == [leftover]


def test_local_writes_leave_no_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", fsync=False)
    store.put_if_absent("a/b", b"1")
    with pytest.raises(AlreadyExists):
        store.put_if_absent("a/b", b"2")
    store.put("a/b", b"3")
    store.set_legal_hold("a/b", False)

    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_local_temp_files_are_private_exclusive_and_never_follow_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write's temp file (made without :mod:`tempfile`) is created only if its name is free,
    never through a symlink planted at that name (the next name is drawn instead), and is
    readable by this user only, as :func:`tempfile.mkstemp` made it."""
    store = LocalStore(tmp_path / "store", fsync=False)
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    planted = tmp_path / "store" / "tmp" / ("tmp" + "01" * 8)
    planted.symlink_to(victim)
    draws = iter([b"\x01" * 8, b"\x02" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))

    temp = Path(store._write_temp(b"payload"))  # (a string since m37)

    assert temp == tmp_path / "store" / "tmp" / ("tmp" + "02" * 8)
    assert temp.read_bytes() == b"payload" and victim.read_bytes() == b"untouched"
    assert temp.stat().st_mode & 0o777 == 0o600


def test_local_temp_names_that_keep_clashing_end_in_store_unavailable_not_a_spin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write whose temp names are all taken (a random source that repeats) gives up with
    ``STORE_UNAVAILABLE`` after a bounded number of draws, as :func:`tempfile.mkstemp` did, and
    never loops for ever holding the writer (and its caller's locks)."""
    store = LocalStore(tmp_path / "store", fsync=False)
    (tmp_path / "store" / "tmp" / ("tmp" + "01" * 8)).write_bytes(b"")
    monkeypatch.setattr(os, "urandom", lambda n: b"\x01" * n)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            store.put_if_absent("a", b"x")
            outcome.append(None)
        except BaseException as exc:  # reported to the test's thread
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)  # a spinning writer must not block exit
    writer.start()
    writer.join(timeout=30)

    assert not writer.is_alive(), "the writer is still drawing temp names after 30 s"
    assert len(outcome) == 1 and isinstance(outcome[0], StoreUnavailable), outcome
    assert outcome[0].code == "STORE_UNAVAILABLE" and _is_vietnamese_message(outcome[0])
    assert not store.exists("a")
    assert sorted(p.name for p in (tmp_path / "store" / "tmp").iterdir()) == ["tmp" + "01" * 8]
