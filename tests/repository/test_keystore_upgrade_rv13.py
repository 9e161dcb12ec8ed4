"""rv13: the upgrade path of u10's S3 key-store check. A key bucket made before u10 has keys but
no ``keys/`` marker. Once every key in it is destroyed (crypto-shredding after destructions) the
bucket lists nothing, and u10's check took it for a lost, empty bucket: Kho refused to start. A
bucket that holds keys has proved itself a key store, so opening it writes the marker; the later
"every key destroyed" state then still starts. A bucket that is really empty or missing while the
content store has records stays refused (``tests/repository/test_keystore_missing_s3_u10.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import make_people
from kho_retention import kho_env, s3_env
from kho_testing import incoming, pdf_bytes
from minio import Minio
from minio.error import S3Error

from kho.config import Settings
from web.context import Kho

pytestmark = pytest.mark.s3


def _gateway(env: dict[str, str]) -> Minio:
    return Minio(env["KHO_S3_ENDPOINT"], access_key=env["KHO_S3_ACCESS_KEY"],
                 secret_key=env["KHO_S3_SECRET_KEY"], secure=False)


def _unmark(gateway: Minio, bucket: str) -> None:
    """The key bucket as a Kho before u10 left it: every version of the marker removed."""
    for version in list(gateway.list_objects(bucket, prefix="keys/", include_version=True)):
        if version.object_name == "keys/":
            gateway.remove_object(bucket, "keys/", version_id=version.version_id)
    with pytest.raises(S3Error):
        gateway.stat_object(bucket, "keys/")


def test_a_pre_u10_key_bucket_gets_its_marker_and_still_starts_once_every_key_is_destroyed(
    tmp_path: Path,
) -> None:
    env = s3_env(tmp_path)
    bucket = env["KHO_KEYSTORE_URL"].removeprefix("s3://")
    gateway = _gateway(env)
    kho = Kho(Settings.from_env(env), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document(
        "den", incoming(code_number="1313"), pdf_bytes("rv13"), "cv.pdf", people.actor("van_thu")
    )
    kho.close()
    _unmark(gateway, bucket)

    # The first start after the upgrade: the bucket holds a key, so it is a key store.
    Kho(Settings.from_env(env), follow_index=False).close()

    # Every key destroyed later (as KeyRing.destroy: every version removed): still a key store.
    kho = Kho(Settings.from_env(env), follow_index=False)
    kho.repo.keys.destroy(doc.record_id)
    kho.close()
    Kho(Settings.from_env(env), follow_index=False).close()  # before rv13: KEYSTORE_MISSING
    names = [o.object_name for o in gateway.list_objects(bucket, prefix="keys/", recursive=True)]
    assert names == ["keys/"]  # the marker, written by the first start after the upgrade


def test_the_local_key_store_keeps_the_same_rule_once_every_key_is_destroyed(tmp_path: Path) -> None:
    """The local twin: the ``objects/keys`` folder the first key made stays when the last key is
    destroyed, so the same state starts there too (one rule, both backends)."""
    env = kho_env(tmp_path)
    kho = Kho(Settings.from_env(env), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document(
        "den", incoming(code_number="1314"), pdf_bytes("rv13 local"), "cv.pdf", people.actor("van_thu")
    )
    kho.repo.keys.destroy(doc.record_id)
    kho.close()
    assert not kho.repo.keys.exists(doc.record_id)
    Kho(Settings.from_env(env), follow_index=False).close()
