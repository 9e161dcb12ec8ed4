"""u10: the start-up key-store check (``KEYSTORE_MISSING``) holds for an S3 key store too, with
the same rule as the local folder (u9): a key bucket that is missing, or empty, while the content
store holds records is refused at start — web app, ``Kho``, ``kho worker`` — with
``STORE_UNAVAILABLE`` naming the bucket, and nothing is created in its place. Before, S3Store
created a missing bucket when it opened and Kho went on with an empty key store: every record
read as destroyed and new records' keys went to the wrong bucket. A new Kho on S3 still makes its
key bucket, and marks it (``keys/``) so that it stays a key store once every key in it is
destroyed; the marker made by hand is the way out for keys restored to a new bucket."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_buckets import new_bucket
from kho_people import make_people
from kho_retention import s3_env
from kho_testing import incoming, pdf_bytes
from minio import Minio

from kho.config import Settings
from kho.errors import StoreUnavailable
from web.app import create_app
from web.cli import main
from web.context import Kho

pytestmark = pytest.mark.s3


def _gateway(env: dict[str, str]) -> Minio:
    return Minio(env["KHO_S3_ENDPOINT"], access_key=env["KHO_S3_ACCESS_KEY"],
                 secret_key=env["KHO_S3_SECRET_KEY"], secure=False)


def _kho_in_use(tmp_path: Path) -> tuple[dict[str, str], str]:
    env = s3_env(tmp_path)
    kho = Kho(Settings.from_env(env), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document(
        "den", incoming(code_number="1010"), pdf_bytes("u10"), "cv.pdf", people.actor("van_thu")
    )
    kho.close()
    return env, doc.record_id


def _refused(exc: StoreUnavailable, bucket: str) -> None:
    assert exc.code == "STORE_UNAVAILABLE" and exc.details["reason"] == "KEYSTORE_MISSING"
    assert bucket in exc.message and "kho khóa" in exc.message and "keys/" in exc.message


@pytest.mark.parametrize("lost", ["missing", "empty"])
def test_a_missing_or_empty_key_bucket_is_refused_at_start_and_never_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lost: str
) -> None:
    env, record_id = _kho_in_use(tmp_path)
    gateway = _gateway(env)
    options: dict[str, Any] = {"endpoint": env["KHO_S3_ENDPOINT"], "access_key": env["KHO_S3_ACCESS_KEY"],
                               "secret_key": env["KHO_S3_SECRET_KEY"], "secure": False}
    wrong = new_bucket("u10-wrongkeys", options)  # a typo in KHO_KEYSTORE_URL, a lost bucket
    if lost == "empty":
        gateway.make_bucket(wrong)
    settings = Settings.from_env({**env, "KHO_KEYSTORE_URL": f"s3://{wrong}"})

    with pytest.raises(StoreUnavailable) as web:
        create_app(settings)
    _refused(web.value, wrong)
    with pytest.raises(StoreUnavailable) as direct:
        Kho(settings, follow_index=False)
    _refused(direct.value, wrong)

    for name, value in {**env, "KHO_KEYSTORE_URL": f"s3://{wrong}"}.items():
        monkeypatch.setenv(name, value)
    import ingest.celery_app

    started: list[list[str]] = []
    monkeypatch.setattr(ingest.celery_app.app, "worker_main", started.append)  # never a real worker
    monkeypatch.setenv("KHO_BROKER_URL", "redis://127.0.0.1:1/0")
    took = CliRunner().invoke(main, ["worker", "--pool", "solo"])
    printed = took.output + (took.stderr if took.stderr_bytes is not None else "")
    assert started == [] and took.exit_code == 2 and "[STORE_UNAVAILABLE]" in printed, printed

    # Nothing was made in its place: no bucket, or the bucket still empty.
    if lost == "missing":
        assert not gateway.bucket_exists(wrong)
    else:
        assert list(gateway.list_objects(wrong, recursive=True, include_version=True)) == []
        # The way out for keys restored to a new bucket on purpose: the marker made by hand.
        gateway.put_object(wrong, "keys/", io.BytesIO(b""), 0)
        Kho(settings, follow_index=False).close()
    # The right bucket again: the document's key is there.
    kho = Kho(Settings.from_env(env), follow_index=False)
    try:
        assert kho.repo.keys.exists(record_id)
    finally:
        kho.close()


def test_a_new_kho_on_s3_makes_and_marks_its_key_bucket(tmp_path: Path) -> None:
    env, record_id = _kho_in_use(tmp_path)
    bucket = env["KHO_KEYSTORE_URL"].removeprefix("s3://")
    gateway = _gateway(env)
    assert gateway.bucket_exists(bucket)
    gateway.stat_object(bucket, "keys/")  # the marker (raises when absent)
    # Every key destroyed (the key's versions removed, as KeyRing.destroy does): still a key store.
    kho = Kho(Settings.from_env(env), follow_index=False)
    kho.repo.keys.store.delete(f"keys/{record_id}")
    kho.close()
    assert [o.object_name for o in gateway.list_objects(bucket, prefix="keys/", recursive=True)] == ["keys/"]
    Kho(Settings.from_env(env), follow_index=False).close()
