"""S3 buckets made by the tests and the benchmarks, and their removal.

The test gateway (Ceph RGW on a *memstore* OSD, ``scripts/services.sh``) keeps every object in
RAM and counts buckets per user, and other people's runs use it at the same time. So every
bucket a test or a benchmark makes is named here, and only a bucket named here is ever removed:

* :func:`new_bucket` names a bucket for the running test; the autouse fixture
  ``drop_test_buckets`` (``tests/conftest.py``) removes it when the test ends, passed or failed;
* a fixture of a wider scope takes a name from :func:`bucket_name` and calls
  :func:`drop_bucket` itself when done (in a ``finally``);
* a benchmark names its buckets with :func:`new_bucket` too and calls :func:`drop_made` in a
  ``finally`` at its end.

Removing a bucket removes every object version and delete marker first, bypassing GOVERNANCE
retention and switching legal holds off, then the bucket, and the same for the store's companion
claims bucket (``<bucket>-claims``, :class:`~repository.storage.s3.S3Store`). A version under
COMPLIANCE retention cannot be removed by anyone but the cluster's administrator before its date:
such a bucket stays (emptied of everything else) and :func:`drop_bucket` says which and why.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping
from typing import Any

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from urllib3.exceptions import HTTPError

_BATCH = 500  # a multi-object delete takes at most 1,000 keys
_made: list[tuple[str, dict[str, Any]]] = []
"""Buckets named by :func:`new_bucket` during the running test, with their gateway."""


PREFIX = "kho-test-"
"""Every name :func:`bucket_name` gives starts so; :func:`drop_bucket` removes no other bucket."""


def bucket_name(tag: str) -> str:
    """A fresh bucket name (``kho-test-<tag>-<10 hex>``); nothing is registered."""
    return f"{PREFIX}{tag}-{uuid.uuid4().hex[:10]}"


def new_bucket(tag: str, options: Mapping[str, Any]) -> str:
    """A fresh bucket name on the gateway of ``options`` (``endpoint``, ``access_key``,
    ``secret_key``, ``secure``), removed with its claims bucket when the running test ends
    (a benchmark: when it calls :func:`drop_made`)."""
    return track(bucket_name(tag), options)


def track(name: str, options: Mapping[str, Any]) -> str:
    """Remove ``name`` (a bucket this test or benchmark makes, e.g. a store's ``-keys``
    companion) with the others :func:`drop_made` removes; returns ``name``."""
    _made.append((name, dict(options)))
    return name


def drop_made() -> None:
    """Remove every bucket :func:`new_bucket` or :func:`track` named since the last call (a
    test's teardown, a benchmark's end). A bucket that cannot be emptied is reported as a
    warning, never as the test's failure."""
    made = list(_made)
    _made.clear()
    for name, options in made:
        for problem in drop_bucket(name, options):
            warnings.warn(problem, stacklevel=1)


def _client(options: Mapping[str, Any]) -> Minio:
    return Minio(
        str(options["endpoint"]),
        access_key=options.get("access_key") or None,
        secret_key=options.get("secret_key") or None,
        secure=bool(options.get("secure", False)),
    )


def drop_bucket(bucket: str, options: Mapping[str, Any]) -> list[str]:
    """Remove ``bucket`` and ``<bucket>-claims`` (when they exist) with every version and delete
    marker in them. Returns what could not be removed, and why (empty: all gone). A name
    :func:`bucket_name` did not give (a name read from a file, a mistyped ``track``) is refused
    without asking the gateway: a bucket the tests did not make is never touched."""
    if not bucket.startswith(PREFIX):
        return [f"S3 bucket {bucket} not removed: only buckets named {PREFIX}… by the tests' "
                "helper are removed (remove it by hand if it is really a test's)"]
    client = _client(options)
    problems: list[str] = []
    try:
        for name in (bucket, f"{bucket}-claims"):
            try:
                problems.extend(_drop_one(client, name))
            except S3Error as exc:
                problems.append(f"S3 bucket {name} left on the gateway: {exc.code} {exc.message}")
            except (MinioException, HTTPError, OSError) as exc:  # the gateway did not answer
                problems.append(f"S3 bucket {name} left on the gateway: {type(exc).__name__}: {exc}")
                break
    finally:
        client._http.clear()
    return problems


def _drop_one(client: Minio, bucket: str) -> list[str]:
    if not client.bucket_exists(bucket):
        return []
    refused = _remove_versions(client, bucket)
    if refused:
        # A legal hold refuses even a governance bypass: switch it off, then try once more.
        for name, version_id, _ in refused:
            try:
                client.disable_object_legal_hold(bucket, name, version_id=version_id)
            except S3Error:
                pass  # no object lock on this bucket: the refusal was something else
        refused = _remove_versions(client, bucket)
    if refused:
        name, version_id, code = refused[0]
        return [
            f"S3 bucket {bucket} left on the gateway: {len(refused)} object version(s) refused "
            f"deletion with the governance bypass and legal holds off (e.g. {name} {version_id}: "
            f"{code}; COMPLIANCE retention lasts until its date)"
        ]
    client.remove_bucket(bucket)
    return []


def _remove_versions(client: Minio, bucket: str) -> list[tuple[str, str | None, str]]:
    """Delete every version and delete marker of ``bucket``; the ones the gateway refused
    (key, version, error code)."""
    versions = [
        DeleteObject(obj.object_name or "", obj.version_id)
        for obj in client.list_objects(bucket, recursive=True, include_version=True)
    ]
    refused: list[tuple[str, str | None, str]] = []
    for start in range(0, len(versions), _BATCH):
        errors = client.remove_objects(
            bucket, versions[start : start + _BATCH], bypass_governance_mode=True
        )
        refused.extend((error.name or "", error.version_id, error.code) for error in errors)
    return refused
