"""rv65: does the S3 gateway honour a second ``If-None-Match: *`` PUT on an unversioned, an
enabled and a suspended bucket? (The helpers' Ceph RGW: refused, ignored, refused.) One fresh
bucket, removed after. Run with the test services' environment (``scripts/services.sh env``)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from kho_testing import s3_options  # noqa: E402
from minio import Minio  # noqa: E402
from minio.commonconfig import ENABLED  # noqa: E402
from minio.error import S3Error  # noqa: E402
from minio.versioningconfig import SUSPENDED, VersioningConfig  # noqa: E402


def refused(client: Minio, bucket: str) -> str:
    """The second conditional PUT's answer: its error code, or "ignored"."""
    key = "probe-" + uuid.uuid4().hex
    client._execute("PUT", bucket, key, body=b"1", headers={"If-None-Match": "*"})
    try:
        client._execute("PUT", bucket, key, body=b"2", headers={"If-None-Match": "*"})
    except S3Error as exc:
        return str(exc.code)
    return "ignored"


def main() -> None:
    options = s3_options()
    if options is None:
        raise SystemExit("KHO_TEST_S3_ENDPOINT is not set")
    client = Minio(
        options["endpoint"],
        access_key=options["access_key"],
        secret_key=options["secret_key"],
        secure=bool(options.get("secure", False)),
    )
    bucket = "rv65probe" + uuid.uuid4().hex[:8]
    client.make_bucket(bucket)
    try:
        print("unversioned:", refused(client, bucket))
        client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
        print("enabled:", refused(client, bucket))
        client.set_bucket_versioning(bucket, VersioningConfig(SUSPENDED))
        print("suspended:", refused(client, bucket))
    finally:
        for obj in client.list_objects(bucket, include_version=True, recursive=True):
            client.remove_object(bucket, str(obj.object_name), version_id=obj.version_id)
        client.remove_bucket(bucket)


if __name__ == "__main__":
    main()
