"""CPU per S3 request, layer by layer, under Kho's S3 client (issue 14, m10).

What a register number's hot requests cost in the client: the same signed request (SigV4 by
``minio.signer``, the headers of ``Minio._build_headers``) sent four ways, interleaved in the
same minutes on the same gateway, min / median of ``--repeat`` runs of ``--requests`` each:

* ``minio _execute`` — what ``S3Store`` sends today (``_put_raw``; ``get_object`` for a GET):
  the baseline;
* ``lean SigV4 on PoolManager`` — the lever of ``bench/NOTES-n1.md``: sign with
  ``minio.signer`` and call the urllib3 ``PoolManager`` minio holds, skipping minio's wrappers;
* ``same, host pool`` — also skipping the ``PoolManager`` (its URL parse and pool lookup);
* ``http.client, one connection`` — no urllib3 at all (no retries, no pool): the floor of the
  Python HTTP stack, for reference only (not a client Kho could use as it is).

Two request kinds: a claim PUT (``If-None-Match: *``, 300 bytes, into an unversioned bucket)
and a GET of a small object. ``cpu`` is ``time.process_time`` (user + system of the process:
the kernel's share of the sockets is in it), ``wall`` the elapsed time per request.

    .venv/bin/python bench/bench_s3_client.py [--requests 500] [--repeat 3]

Needs the test gateway (``eval "$(bash scripts/services.sh env)"``); its buckets are removed at
the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_buckets import drop_made, new_bucket
from minio import Minio
from minio.signer import sign_v4_s3

from repository.storage.s3 import S3Store

BODY = b"x" * 300


def _signed(client: Minio, method: str, bucket: str, key: str, body: bytes | None, extra: dict[str, str]
            ) -> tuple[SplitResult, dict[str, Any]]:
    """The URL and signed headers minio's ``_url_open`` would send (same helpers)."""
    region = client._get_region(bucket)
    creds = client._provider.retrieve() if client._provider else None
    url = client._base_url.build(method=method, region=region, bucket_name=bucket, object_name=key)
    headers, date = client._build_headers(url.netloc, dict(extra), body, creds)
    if creds:
        headers = sign_v4_s3(
            method=method, url=url, region=region, headers=headers, credentials=creds,
            content_sha256=headers["x-amz-content-sha256"], date=date,
        )
    return url, headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    options = {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    try:
        run(args, options)
    finally:
        drop_made()


def run(args: argparse.Namespace, options: dict[str, Any]) -> None:
    store = S3Store(new_bucket("bench-client", options), **options)
    client = store._client  # the client (and urllib3 pool) S3Store sends with
    bucket = store.claims_bucket  # unversioned: a claim's bucket
    get_key = "bench/get-target"
    client._execute("PUT", bucket, get_key, body=BODY)
    raw = http.client.HTTPConnection(store.endpoint, timeout=30)

    def minio_put(key: str) -> None:
        client._execute("PUT", bucket, key, body=BODY, headers={"If-None-Match": "*"})

    def lean_put(key: str) -> None:
        url, headers = _signed(client, "PUT", bucket, key, BODY, {"If-None-Match": "*"})
        response = client._http.urlopen("PUT", urlunsplit(url), body=BODY, headers=headers)
        assert response.status == 200, response.status

    def pool_put(key: str) -> None:
        url, headers = _signed(client, "PUT", bucket, key, BODY, {"If-None-Match": "*"})
        pool = client._http.connection_from_host(url.hostname, url.port, url.scheme)
        response = pool.urlopen("PUT", url.path, body=BODY, headers=headers)
        assert response.status == 200, response.status

    def raw_put(key: str) -> None:
        url, headers = _signed(client, "PUT", bucket, key, BODY, {"If-None-Match": "*"})
        raw.request("PUT", url.path, body=BODY, headers=headers)
        response = raw.getresponse()
        response.read()
        assert response.status == 200, response.status

    def minio_get(_key: str) -> None:
        response = client.get_object(bucket, get_key)
        try:
            response.read()
        finally:
            response.close()
            response.release_conn()

    def lean_get(_key: str) -> None:
        url, headers = _signed(client, "GET", bucket, get_key, None, {})
        response = client._http.urlopen("GET", urlunsplit(url), headers=headers)
        assert response.status == 200 and response.data == BODY

    def pool_get(_key: str) -> None:
        url, headers = _signed(client, "GET", bucket, get_key, None, {})
        pool = client._http.connection_from_host(url.hostname, url.port, url.scheme)
        response = pool.urlopen("GET", url.path, headers=headers)
        assert response.status == 200 and response.data == BODY

    def raw_get(_key: str) -> None:
        url, headers = _signed(client, "GET", bucket, get_key, None, {})
        raw.request("GET", url.path, headers=headers)
        response = raw.getresponse()
        assert response.read() == BODY and response.status == 200

    ways: list[tuple[str, Callable[[str], None]]] = [
        ("claim PUT, minio _execute (today)", minio_put),
        ("claim PUT, lean SigV4 on PoolManager", lean_put),
        ("claim PUT, same, host pool", pool_put),
        ("claim PUT, http.client, one connection", raw_put),
        ("GET, minio get_object (today)", minio_get),
        ("GET, lean SigV4 on PoolManager", lean_get),
        ("GET, same, host pool", pool_get),
        ("GET, http.client, one connection", raw_get),
    ]
    cpu: dict[str, list[float]] = {name: [] for name, _ in ways}
    wall: dict[str, list[float]] = {name: [] for name, _ in ways}
    for _ in range(args.repeat):
        for name, send in ways:  # interleaved: every way once per round
            for _ in range(20):
                send(f"bench/{uuid.uuid4().hex}")
            keys = [f"bench/{uuid.uuid4().hex}" for _ in range(args.requests)]
            started, cpu0 = time.perf_counter(), time.process_time()
            for key in keys:
                send(key)
            cpu[name].append((time.process_time() - cpu0) / args.requests * 1e3)
            wall[name].append((time.perf_counter() - started) / args.requests * 1e3)
    print(f"== S3 client CPU per request at {store.endpoint}: {args.requests} requests per run, "
          f"min / median of {args.repeat}, interleaved; load {os.getloadavg()[0]:.1f} ==")
    for name, _ in ways:
        base = ways[0][0] if name.startswith("claim") else ways[4][0]
        ratio = statistics.median(cpu[name]) / statistics.median(cpu[base])
        print(f"{name:42} cpu min {min(cpu[name]):.3f} / median {statistics.median(cpu[name]):.3f} ms"
              f"   wall median {statistics.median(wall[name]):.3f} ms   cpu vs today {ratio:.2f}")
    raw.close()


if __name__ == "__main__":
    main()
