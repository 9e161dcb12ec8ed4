"""The conditional-PUT probes run once per process, not at every store opened (s26, issue #14).

A store opened on S3 probed its data bucket (does a second ``If-None-Match: *`` PUT of one key
fail? five requests) at every open, and the companion bucket (four conditional PUTs and a
DELETE) before every store object's first write: a ``Kho`` opens two stores (records and keys),
so every ``Kho`` opened, every in-process ``kho`` command, paid ten requests before its first
read. The answers are the server's: kept in the process (:data:`repository.storage.s3._LEARNT`),
never in the store. What must not be shared is shared with nobody: the verdict of a versioned
bucket is not taken for a bucket whose versioning this process did not set (opened without
``create_bucket``), and a companion bucket that failed the check is checked (and refused) again.

Real Ceph gateway; every test makes its own buckets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_buckets import new_bucket, track
from kho_counting import NamedRequests, named_requests
from kho_retention import s3_env
from kho_testing import s3_options_or_skip

from kho.config import Settings
from kho.errors import AlreadyExists, ConfigError
from repository.storage.s3 import S3Store, forget_learnt
from web.context import Kho

pytestmark = pytest.mark.s3


def _probes(named: NamedRequests) -> list[str]:
    return [s for s in named.seen if "/.kho-probe/" in s or "prefix=.kho-probe" in s]


@pytest.fixture
def fresh_process() -> Iterator[None]:
    """This process has learnt nothing of the gateway yet (as a new ``kho`` process)."""
    forget_learnt()
    yield
    forget_learnt()


def test_a_kho_opened_twice_probes_the_gateway_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    """The first ``Kho`` probes its data bucket (five requests) and not its key bucket (the same
    gateway, a versioned bucket too); the second ``Kho`` sends no probe at all: 8 requests to
    open instead of 18 (HEAD and versioning of the data bucket, HEAD of its companion, HEAD and
    one-key listing of the key bucket, HEAD and versioning of it, HEAD of its companion)."""
    for key, value in s3_env(tmp_path / "s3").items():
        monkeypatch.setenv(key, value)
    named = named_requests(monkeypatch)
    Kho(Settings.from_env()).close()
    assert len(_probes(named)) == 5, named.seen  # PUT, PUT, versions listed, two DELETEs
    named.seen.clear()
    Kho(Settings.from_env()).close()
    assert _probes(named) == [], named.seen
    assert len(named.seen) == 8, named.seen


def test_a_second_store_on_the_same_buckets_writes_without_any_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    """The companion bucket's check (five requests before a store object's first write) passed
    for one store object: another on the same buckets writes at once, and its create is still
    exact (the mode learnt is the one the first found)."""
    options = s3_options_or_skip()
    first = S3Store(new_bucket("once", options), **options)
    first.put_if_absent("notes/a", b"a")
    named = named_requests(monkeypatch)
    second = S3Store(first.bucket, **options)
    second.put_if_absent("notes/b", b"b")
    assert _probes(named) == [], named.seen
    assert second.create_mode == first.create_mode == "claims"  # Ceph RGW's versioned bucket
    with pytest.raises(AlreadyExists):
        second.put_if_absent("notes/a", b"again")
    assert second.get("notes/a") == b"a"


def test_an_unversioned_bucket_is_probed_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    """A data bucket opened without ``create_bucket`` (an operator's bucket: its versioning not
    set by Kho) does not take the verdict learnt for versioned buckets: Ceph RGW honours
    ``If-None-Match: *`` on an unversioned bucket, so it is probed and writes conditionally,
    although the gateway's versioned buckets were found to need claims just before."""
    options = s3_options_or_skip()
    versioned = S3Store(new_bucket("ver", options), **options)
    assert versioned.create_mode == "claims"
    plain = new_bucket("plain", options)
    versioned._client.make_bucket(plain)
    named = named_requests(monkeypatch)
    store = S3Store(plain, **options, create_bucket=False, claims_bucket=track(f"{plain}-claims", options))
    assert store.create_mode == "conditional"
    assert len([s for s in _probes(named) if s.startswith("PUT " + plain + "/")]) == 2, named.seen
    store.put_if_absent("notes/a", b"a")
    with pytest.raises(AlreadyExists):
        store.put_if_absent("notes/a", b"b")


def test_a_companion_bucket_that_failed_is_checked_and_refused_again(
    tmp_path: Path, fresh_process: None
) -> None:
    """A refusal is not remembered as a pass, nor kept from being asked again: the same bad
    companion bucket (a versioned one) refuses a second store's first write too."""
    options = s3_options_or_skip()
    bad = S3Store(new_bucket("badc", options), **options)  # versioned: ignores If-None-Match
    for _ in range(2):
        bucket = new_bucket("usesbad", options)
        with pytest.raises(ConfigError) as caught:
            S3Store(bucket, **options, claims_bucket=bad.bucket).put_if_absent("registers/x/1.json", b"{}")
        assert caught.value.code == "S3_CONDITIONS_IGNORED"
