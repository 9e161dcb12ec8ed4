"""An S3 store opens only where its companion bucket honours conditional PUTs.

Exact registers (one winner per claim) rest on ``If-None-Match: *`` in the companion bucket, the
audit witness on ``If-Match`` there: a server that ignored either would silently give two
writers one number, or let a lower witness replace a higher one (the log's newest events could
then be cut unseen; an act no longer looks for events past its own once its conditional replace
succeeded). The store checks both when it opens the companion bucket and refuses one that does
not honour them (``S3_CONDITIONS_IGNORED``). Ceph RGW gives a real bucket of each kind: the
versioned data bucket ignores ``If-None-Match: *`` (and refuses every ``If-Match``), the
unversioned companion bucket honours both.

Real Ceph gateway; every test makes its own buckets."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_buckets import new_bucket, track
from kho_testing import make_store, s3_options

from kho.errors import ConfigError
from repository.storage.s3 import S3Store, conditions_failed, forget_learnt

pytestmark = pytest.mark.s3


def _probe_keys(store: S3Store, bucket: str) -> list[str]:
    found = store._client.list_objects(bucket, prefix=".kho-probe/", include_version=True)
    return [o.object_name for o in found]


def test_the_check_tells_a_bucket_that_ignores_conditions_from_one_that_honours_them(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "condok")
    assert isinstance(store, S3Store)
    assert conditions_failed(store._client, store.bucket) == "If-None-Match"  # versioned: ignored
    assert conditions_failed(store._client, store.claims_bucket) == ""
    # the probe leaves nothing behind, in either bucket (every version removed)
    assert _probe_keys(store, store.bucket) == [] and _probe_keys(store, store.claims_bucket) == []


@pytest.mark.parametrize("create_bucket", [True, False], ids=["made-at-open", "made-before"])
def test_a_store_whose_companion_bucket_ignores_conditions_is_refused(
    tmp_path: Path, create_bucket: bool
) -> None:
    # A versioned bucket given as the companion (what a server that ignores the conditions
    # everywhere looks like to Kho): refused with a code, before any record is written.
    other = make_store("s3", tmp_path, "condver")
    assert isinstance(other, S3Store)
    options = s3_options()
    assert options is not None
    bucket = new_bucket("condbad", options)
    if not create_bucket:  # the data bucket made earlier, with a good companion
        S3Store(bucket, **options, claims_bucket=track(f"{bucket}-c2", options))
    with pytest.raises(ConfigError) as caught:
        store = S3Store(bucket, **options, claims_bucket=other.bucket, create_bucket=create_bucket)
        store.put_if_absent("registers/x/1.json", b"{}")
    assert caught.value.code == "S3_CONDITIONS_IGNORED"
    assert caught.value.details["failed"] == "If-None-Match"
    assert "không tôn trọng điều kiện ghi" in caught.value.message
    assert _probe_keys(other, other.bucket) == []
    assert not list(other._client.list_objects(bucket, prefix="registers/", include_version=True))


def test_the_check_runs_once_before_the_first_write_and_never_for_reads(tmp_path: Path) -> None:
    """A process that only reads (``kho audit verify``, a search) sends nothing to the companion
    bucket for the check; a writer sends its five requests once, before its first write. (The
    store below plays a new process: what this one learnt of the bucket is forgotten first; a
    second store of the same process sends none, test_s3_probe_once_s26.)"""
    made = make_store("s3", tmp_path, "condlazy")
    assert isinstance(made, S3Store)
    made.put_if_absent("notes/a", b"a")
    options = s3_options()
    assert options is not None
    forget_learnt()
    store = S3Store(made.bucket, **options)
    sent: list[tuple[str, str, str]] = []
    client = store._client
    original = client._execute

    def counting(method: str, bucket_name: object = None, object_name: object = None, **kw: object) -> object:
        sent.append((method, str(bucket_name), str(object_name)))
        return original(method, bucket_name, object_name, **kw)  # type: ignore[arg-type]

    client._execute = counting  # type: ignore[method-assign]
    assert store.get("notes/a") == b"a"
    assert [s for s in sent if ".kho-probe/" in s[2]] == []
    store.put_if_absent("notes/b", b"b")
    store.put_if_absent("notes/c", b"c")
    probe = [(m, b) for m, b, k in sent if k.startswith(".kho-probe/")]
    assert probe == [("PUT", store.claims_bucket)] * 4 + [("DELETE", store.claims_bucket)]
    assert sent.index(next(s for s in sent if s[2].startswith(".kho-probe/"))) < sent.index(
        next(s for s in sent if s[2] == "notes/b" and s[0] == "PUT")
    )
    assert _probe_keys(store, store.claims_bucket) == []
