"""Probes of the S3 gateway behind review rv61's findings (not tests; prints what it sees):

* ``latest``: a key with versions and delete markers: minio yields a listing page's delete
  markers after its versions, and the current entry (``IsLatest``) may come last.
* ``many``: ``delete_if_current`` on a key with more than 1,000 versions (pages of the listing),
  then under a delete marker (``ABSENT``), then with a marker in the middle.
* ``suspended``: a bucket whose versioning was suspended (every PUT reuses version id "null"):
  the tag of a read never matches, nothing is removed.

    source /work/runs/svc46/env.sh && eval "$(bash /work/main/scripts/services.sh env)"
    nice -n 10 .venv/bin/python bench/rv61_s3_probes.py [latest|many|suspended ...]

Each probe makes a fresh bucket (``kho_testing.make_store``)."""

from __future__ import annotations

import concurrent.futures
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "support"))
from kho_testing import make_store
from minio.versioningconfig import SUSPENDED, VersioningConfig

from repository.storage.base import ABSENT

HERE = pathlib.Path("/tmp")


def latest() -> None:
    store = make_store("s3", HERE, "rv61latest")
    key = "ingest/jobs/" + "ef" * 32 + ".json"
    for i in range(2):
        store._put_raw(store.bucket, key, b'{"m": %d}' % i)
    store._client.remove_object(store.bucket, key)
    store._put_raw(store.bucket, key, b'{"m": 9}')
    store._client.remove_object(store.bucket, key)  # a delete marker on top
    print("minio's listing order (version id, delete marker, IsLatest, time):")
    for o in store._client.list_objects(store.bucket, prefix=key, include_version=True):
        print(f"  {o.version_id} {o.is_delete_marker!s:5} {o.is_latest:5} {o.last_modified}")
    print("_versions:", [(v[0][:8], v[1]) for v in store._versions(key)])


def many() -> None:
    store = make_store("s3", HERE, "rv61many")
    key = "ingest/jobs/" + "cd" * 32 + ".json"
    began = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store._put_raw(store.bucket, key, b'{"n": %d}' % i), range(1050)))
    store._put_raw(store.bucket, key, b'{"n": "last"}')
    print(f"1,051 versions put in {time.time() - began:.1f} s; listed {len(store._versions(key))}")
    _, tag = store.get_tagged(key)
    removed = store.delete_if_current(key, tag)
    print("delete_if_current(read tag):", removed, "left", len(store._versions(key)))
    for i in range(3):
        store._put_raw(store.bucket, key, b'{"m": %d}' % i)
    store._client.remove_object(store.bucket, key)
    print("under a marker, delete_if_current(ABSENT):", store.delete_if_current(key, ABSENT),
          "left", len(store._versions(key)))
    for i in range(2):
        store._put_raw(store.bucket, key, b'{"m": %d}' % i)
    store._client.remove_object(store.bucket, key)
    store._put_raw(store.bucket, key, b'{"top": 1}')
    _, tag = store.get_tagged(key)
    print("a marker in the middle, delete_if_current(read tag):", store.delete_if_current(key, tag),
          "left", len(store._versions(key)))


def suspended() -> None:
    store = make_store("s3", HERE, "rv61null")
    key = "ingest/jobs/" + "aa" * 32 + ".json"
    store._put_raw(store.bucket, key, b'{"v": 1}')
    store._client.set_bucket_versioning(store.bucket, VersioningConfig(SUSPENDED))
    store._put_raw(store.bucket, key, b'{"v": 2}')
    _, tag = store.get_tagged(key)
    print(f"tag of the read: {tag!r}; listed: {[v[0][:8] for v in store._versions(key)]}")
    store._put_raw(store.bucket, key, b'{"v": 3, "pipeline": true}')
    print("another writer's PUT since: delete_if_current:", store.delete_if_current(key, tag))
    store._put_raw(store.bucket, key, b'{"v": 2}')
    print("the very bytes read again: delete_if_current:", store.delete_if_current(key, tag))


if __name__ == "__main__":
    for name in sys.argv[1:] or ["latest", "many", "suspended"]:
        print(f"== {name}")
        {"latest": latest, "many": many, "suspended": suspended}[name]()
