"""rv65: the account versions a web process keeps (s26, ``S3Store.get_listed``) against a writer
of the store who removes the newest version (no Kho key).

A warm process kept the bytes of the person's unlocked version; another process locks the
person (a new version); the writer then removes the lock version with every version of it (the
gateway's own credentials, a plain S3 client). The next request lists the unlocked version —
whose bytes this process still holds, under the same ETag — and must not be served from them:
the audit log names the lock version, so the request is refused (``ACCOUNT_ROLLED_BACK``), as a
process that never kept anything refuses it. Real Ceph gateway; a guard (it held before rv65)."""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient
from kho_counting import named_requests
from kho_people import People
from kho_web import login
from minio import Minio

from kho.config import Settings
from repository.accounts import LockReason
from web.context import Kho

pytestmark = pytest.mark.s3

SITE = tuple[Kho, People, FlaskClient]


@pytest.fixture
def s3_site(s3_store_site: SITE) -> SITE:
    return s3_store_site


def test_a_lock_version_removed_behind_kho_is_never_served_from_the_kept_bytes(
    s3_site: SITE, monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, people, web = s3_site
    who = "chuyen_vien"
    name = people.usernames[who]
    assert login(web, people, who).status_code == 302
    token = people.headers(who)
    for _ in range(2):  # warm: the newest version's bytes kept under its ETag
        assert web.get("/api/me", headers=token).status_code == 200
    other = Kho(Settings.from_env())  # another process locks the person
    try:
        other.accounts.lock(name, LockReason.ADMIN, other.accounts.get(people.usernames["quan_tri"]), "rv65")
    finally:
        other.close()
    refused = web.get("/api/me", headers=token)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "ACCOUNT_LOCKED")

    bucket = kho.settings.store_url.removeprefix("s3://")
    client = Minio(
        os.environ["KHO_S3_ENDPOINT"],
        access_key=os.environ["KHO_S3_ACCESS_KEY"],
        secret_key=os.environ["KHO_S3_SECRET_KEY"],
        secure=False,
    )
    keys = sorted(str(o.object_name) for o in client.list_objects(bucket, prefix=f"accounts/{name}/v"))
    for version in client.list_objects(bucket, prefix=keys[-1], include_version=True):
        client.remove_object(bucket, keys[-1], version_id=version.version_id)  # the lock, gone

    named = named_requests(monkeypatch)
    first = web.get("/api/me", headers=token)
    # the attack's path: the unlocked version's bytes come from what this process kept (no GET)
    assert not [s for s in named.seen if s.startswith(f"GET {bucket}/accounts/")], named.seen
    for answer in (first, web.get("/api/me", headers=token)):
        assert answer.status_code >= 400, answer.get_json()
        assert answer.get_json()["error"]["code"] == "ACCOUNT_ROLLED_BACK", answer.get_json()
    page = web.get("/")
    assert page.status_code != 200
