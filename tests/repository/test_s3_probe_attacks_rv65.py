"""rv65: the conditional-PUT probe must not be fooled by versioning suspended while it runs.

Ceph RGW honours ``If-None-Match: *`` on an unversioned or *suspended* bucket and ignores it
on one whose versioning is enabled (measured on the helpers' gateway: ``PreconditionFailed``,
ignored, ``PreconditionFailed``). Opening an S3 store makes sure its data bucket is versioned,
then probes it, and since s26 the answer is the process's for every versioned bucket of the
server (``_LEARNT``). Someone allowed to change the bucket's versioning (not Kho's keys) who
suspends it between the two made the probe answer "honoured": that store, and every store the
process opens on the server afterwards, created objects with ``If-None-Match: *`` alone, which
the enabled buckets ignore: two writers of one key both won (a register number, an audit slot).

Real Ceph gateway; the attacker is a second client of the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kho_buckets import new_bucket
from kho_testing import s3_options_or_skip
from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import SUSPENDED, VersioningConfig

from kho.errors import AlreadyExists
from repository.storage.s3 import S3Store, forget_learnt

pytestmark = pytest.mark.s3


@pytest.fixture
def fresh_process() -> Iterator[None]:
    forget_learnt()
    yield
    forget_learnt()


def _attacker(options: dict[str, Any]) -> Minio:
    return Minio(
        options["endpoint"],
        access_key=options["access_key"],
        secret_key=options["secret_key"],
        secure=bool(options.get("secure", False)),
    )


def test_versioning_suspended_before_the_probe_never_makes_two_writers_win(
    monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    options = s3_options_or_skip()
    attacker = _attacker(options)
    bucket = new_bucket("rv65susp", options)
    real_ensure = S3Store._ensure_bucket

    def ensure(self: S3Store, name: str, *, versioned: bool, object_lock: bool) -> None:
        real_ensure(self, name, versioned=versioned, object_lock=object_lock)
        if versioned and name == bucket:  # the attacker's toggle lands right after Kho's
            attacker.set_bucket_versioning(name, VersioningConfig(SUSPENDED))

    monkeypatch.setattr(S3Store, "_ensure_bucket", ensure)
    first = S3Store(bucket, **options)
    monkeypatch.undo()
    attacker.set_bucket_versioning(bucket, VersioningConfig(ENABLED))  # and back
    assert attacker.get_bucket_versioning(bucket).status == ENABLED

    # The store probed, and another store of the process on another (versioned) bucket.
    other = new_bucket("rv65other", options)
    for store in (first, S3Store(other, **options)):
        rival = S3Store(store.bucket, **options)
        store.put_if_absent("registers/x/2026/den/000001.json", b"mine")
        with pytest.raises(AlreadyExists):  # before: the rival's create won as well
            rival.put_if_absent("registers/x/2026/den/000001.json", b"theirs")
        assert store.get("registers/x/2026/den/000001.json") == b"mine"
        assert store.create_mode == "claims"  # before: "conditional", which this gateway ignores


def test_an_unversioned_probe_answer_is_not_the_servers_for_versioned_buckets(fresh_process: None) -> None:
    """Guard: the honest probe of an enabled bucket still says "claims" on Ceph RGW, once."""
    options = s3_options_or_skip()
    store = S3Store(new_bucket("rv65honest", options), **options)
    assert store.create_mode == "claims"
    rival = S3Store(store.bucket, **options)
    store.put_if_absent("notes/a", b"a")
    with pytest.raises(AlreadyExists):
        rival.put_if_absent("notes/a", b"b")
