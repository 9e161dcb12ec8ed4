"""Issue 14 (m40): is the S3 gateway's CPU the limit of a stored record? Measures, in one run,
the CPU that radosgw, ceph-osd and ceph-mon spend (from ``/proc/<pid>/stat``: utime + stime) per
stored Kho record (200 KB, group commit on) and per raw ``put_object`` of the same size, with
the requests each costs (``bench_store``'s counting wrapper) and this process's own CPU.
Alternates ``--rounds`` blocks of Kho records and raw puts so both see the same load.

``--numbers`` (m60): register numbers instead (văn bản đi, no file, one series, as
``bench_store.py --parts numbers``) against the raw conditional PUT of a number. Each block also
prints ``bound``: the items a second this machine's cores could give if all of an item's CPU,
the gateway's and this process's, were spread over them with nothing else running (every
request of an item overlapping every other): no order of the same requests goes past it.

    PYTHONPATH=. .venv/bin/python bench/m40_gateway_cpu.py [--records 100] [--rounds 2] [--numbers]

Needs ``scripts/services.sh env``. Prints figures; not a test. Removes its buckets.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_store as b  # installs the request counter


def _block(label: str, pids: dict[int, str], count: int, write: object) -> None:
    b.COUNTS.clear()
    before, started, own0 = b.gateway_cpu(pids), time.perf_counter(), time.process_time()
    for i in range(count):
        write(i)  # type: ignore[operator]
    wall, own = time.perf_counter() - started, time.process_time() - own0
    after = b.gateway_cpu(pids)
    by_name: dict[str, float] = {}
    per_pid = []
    for pid, name in pids.items():
        delta = after.get(pid, 0.0) - before.get(pid, 0.0)
        by_name[name] = by_name.get(name, 0.0) + delta
        per_pid.append(f"{name}[{pid}] {delta * 1000 / count:.2f}")
    requests = sum(v for k, v in b.COUNTS.items() if not k.startswith("~"))
    gateway = sum(by_name.values())
    bound = (os.cpu_count() or 1) * count / max(gateway + own, 1e-9)
    print(
        f"{label:5} {count / wall:6.1f}/s  requests {requests / count:5.2f}/item  "
        f"gateway cpu {gateway * 1000 / count:6.2f} ms/item "
        f"({gateway * 1000 / max(requests, 1):5.2f} ms/request, "
        + ", ".join(f"{n} {v * 1000 / count:.2f}" for n, v in by_name.items())
        + f")  client cpu {own * 1000 / count:.2f} ms/item  bound {bound:6.1f}/s"
        f"  load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print("      per pid ms/item: " + ", ".join(per_pid), flush=True)


def _kinds(pids: dict[int, str], count: int, client: object, raw: str, bucket: str, body: bytes) -> None:
    """Gateway CPU of each kind of request a record sends: a claim (small ``If-None-Match: *``
    PUT, unversioned claims bucket), a small PUT and a 200 KB PUT into the versioned data
    bucket, a small GET and an ``If-Match`` PUT (the witness) in the claims bucket."""
    execute = client._execute  # type: ignore[attr-defined]
    claims = f"{bucket}-claims"
    tag = os.urandom(4).hex()
    small = b'{"record_id": "01a24b6ec4a537a7f2f072e5", "at": "2026-12-06T12:00:00Z"}'
    etag = [""]

    def claim(i: int) -> None:
        execute("PUT", claims, f"claims/m40/{tag}/{i}", body=small, headers={"If-None-Match": "*"})

    def small_put(i: int) -> None:
        execute("PUT", bucket, f"m40/{tag}/small/{i}", body=small, headers={})

    def big_put(i: int) -> None:
        execute("PUT", bucket, f"m40/{tag}/big/{i}", body=body, headers={})

    def get(i: int) -> None:
        execute("GET", claims, f"claims/m40/{tag}/{i}", headers={}).read()

    def if_match(i: int) -> None:
        headers = {"If-Match": etag[0]} if etag[0] else {}
        data = small + str(i).encode()
        response = execute("PUT", claims, f"pointers/m40/{tag}", body=data, headers=headers)
        etag[0] = (response.headers.get("ETag") or "").strip('"')

    for label, fn in (
        ("claim", claim),
        ("put-s", small_put),
        ("put-L", big_put),
        ("get-s", get),
        ("ifmat", if_match),
    ):
        _block(label, pids, count, fn)
    del raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size-kb", type=int, default=200)
    parser.add_argument("--kinds", action="store_true", help="also each kind of request alone")
    parser.add_argument("--numbers", action="store_true", help="register numbers, not stored records")
    args = parser.parse_args()
    endpoint = os.environ["KHO_TEST_S3_ENDPOINT"]
    opts = {
        "endpoint": endpoint,
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    pids = b.gateway_pids(endpoint)
    print("gateway processes:", ", ".join(f"{n}[{p}]" for p, n in sorted(pids.items())))
    try:
        bucket = b.new_bucket("m40cpu", opts)
        b.track(f"{bucket}-keys", opts)
        raw = b.new_bucket("m40raw", opts)
        repo = b._open(f"s3://{bucket}", {**opts, "group_commit": True})
        repo.create_document("den", b._metadata(999_999, "den"), b"%PDF-1.7\nwarm", "w.pdf", b.CLERK)
        client = b._minio(opts)
        client.make_bucket(raw)
        body = os.urandom(args.size_kb * 1024)
        serial = [0]

        def record(_: int) -> None:
            serial[0] += 1
            n = serial[0]
            data = b"%PDF-1.7\n" + n.to_bytes(8, "big") + body
            repo.create_document("den", b._metadata(n, "den"), data, f"vb{n}.pdf", b.CLERK)

        def put(i: int) -> None:
            serial[0] += 1
            data = b"%PDF-1.7\n" + serial[0].to_bytes(8, "big") + body
            client.put_object(raw, f"raw/{serial[0]:08d}", io.BytesIO(data), len(data))

        def number(_: int) -> None:
            repo.create_document("di", b._metadata(0, "di"), None, None, b.CLERK)

        def conditional(i: int) -> None:
            serial[0] += 1  # (the next free number, as a register takes it: never met here)
            client._execute("PUT", raw, f"n/{serial[0]:08d}", body=b"1", headers={"If-None-Match": "*"})

        if args.numbers:
            for _ in range(5):  # (the first number lists the register and reads the log in place)
                number(0)
        for _ in range(args.rounds):
            _block("kho", pids, args.records, number if args.numbers else record)
            _block("raw", pids, args.records, conditional if args.numbers else put)
        if args.kinds:
            _kinds(pids, args.records, client, raw, bucket, body)
    finally:
        b.drop_made()


if __name__ == "__main__":
    main()
