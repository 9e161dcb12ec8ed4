"""The tests' bucket helper (``tests/support/kho_buckets.py``) empties and removes a bucket the
way the shared gateway allows: every version and delete marker, governance retention bypassed,
legal holds switched off, the claims bucket too; COMPLIANCE retention is reported, not forced."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kho_buckets import drop_bucket, new_bucket
from minio import Minio

from repository.storage.base import Retention
from repository.storage.s3 import S3Store

from .conftest import S3_ENDPOINT, S3_SKIP_REASON, s3_options

pytestmark = [pytest.mark.s3, pytest.mark.skipif(not S3_ENDPOINT, reason=S3_SKIP_REASON)]


def _exists(store: S3Store, bucket: str) -> bool:
    client: Minio = store._client
    return client.bucket_exists(bucket)


def test_a_bucket_with_versions_markers_locks_and_claims_is_removed_whole() -> None:
    options = s3_options()
    store = S3Store(new_bucket("cleanup", options), object_lock=True, **options)  # type: ignore[arg-type]
    assert store.create_mode == "claims"  # Ceph RGW: the claims bucket exists too
    store.put_if_absent("a", b"1")
    store.put("a", b"2")  # a second version
    store._client.remove_object(store.bucket, "a")  # a delete marker over both
    store.put_if_absent("governed", b"g")
    store.set_retention("governed", Retention("GOVERNANCE", datetime.now(UTC) + timedelta(days=1)))
    store.put_if_absent("held", b"h")
    store.set_legal_hold("held", True)

    assert drop_bucket(store.bucket, options) == []

    assert not _exists(store, store.bucket)
    assert not _exists(store, store.claims_bucket)


def test_a_compliance_locked_version_is_reported_and_its_bucket_kept_until_the_date() -> None:
    options = s3_options()
    store = S3Store(new_bucket("cleanup", options), object_lock=True, **options)  # type: ignore[arg-type]
    store.put_if_absent("other", b"o")
    store.put_if_absent("kept", b"k")
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    store.set_retention("kept", Retention("COMPLIANCE", until))

    problems = drop_bucket(store.bucket, options)

    assert len(problems) == 1 and store.bucket in problems[0] and "COMPLIANCE" in problems[0]
    assert _exists(store, store.bucket)
    assert [info.key for info in store.list("")] == ["kept"]  # the rest is gone already
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1.5)
    assert drop_bucket(store.bucket, options) == []
    assert not _exists(store, store.bucket)


def test_a_bucket_the_helper_did_not_name_is_never_emptied_or_removed() -> None:
    """Only ``kho-test-…`` buckets (:func:`kho_buckets.bucket_name`) are ever removed: a name
    read from elsewhere (a benchmark's ``bench-env.json``, a ``track`` of the wrong name) is
    reported, and the bucket and its objects are left as they are."""
    import uuid

    options = s3_options()
    client = Minio(str(options["endpoint"]), access_key=str(options["access_key"]),
                   secret_key=str(options["secret_key"]), secure=False)
    foreign = f"kho-r1-foreign-{uuid.uuid4().hex[:10]}"
    client.make_bucket(foreign)
    try:
        client.put_object(foreign, "record", io.BytesIO(b"not the tests'"), 14)

        problems = drop_bucket(foreign, options)

        assert len(problems) == 1 and foreign in problems[0] and "kho-test-" in problems[0]
        assert client.bucket_exists(foreign)
        assert [o.object_name for o in client.list_objects(foreign)] == ["record"]
    finally:  # this test made it: removed by name, directly (unless the helper already did)
        for obj in (client.list_objects(foreign, include_version=True)
                    if client.bucket_exists(foreign) else []):
            client.remove_object(foreign, obj.object_name or "", version_id=obj.version_id)
        if client.bucket_exists(foreign):
            client.remove_bucket(foreign)


def test_bench_bulk_keeps_the_file_naming_its_buckets_when_they_are_not_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bench_bulk`` removes ``bench-env.json`` and the manifest only once its buckets are
    gone: when a bucket is left (refused, unreachable, COMPLIANCE), the file that names it stays,
    so the buckets left on the gateway can still be found and removed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_bulk_under_test", Path(__file__).resolve().parents[2] / "bench" / "bench_bulk.py"
    )
    assert spec is not None and spec.loader is not None
    bench_bulk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_bulk)
    saved, manifest = tmp_path / "bench-env.json", tmp_path / "bulk-manifest.jsonl"
    saved.write_text("{}")
    manifest.write_text("")
    env = {"KHO_S3_ENDPOINT": str(s3_options()["endpoint"]), "KHO_S3_ACCESS_KEY": "",
           "KHO_S3_SECRET_KEY": "", "KHO_STORE_URL": "s3://kho-bench-bulk-0123abcd",
           "KHO_KEYSTORE_URL": "s3://kho-bench-bulk-0123abcd-keys"}

    bench_bulk._drop_installation(env, tmp_path, manifest)

    assert saved.exists() and manifest.exists()
    assert "kho-bench-bulk-0123abcd" in capsys.readouterr().err
