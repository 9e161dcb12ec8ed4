"""What a register number's request pattern costs on S3 alone, today's and the candidate ones
(issue 14, m60): the same requests as Kho's (buckets, sizes, conditions), sent round by round
from a thread pool with none of Kho's own work between them, patterns interleaved.

    PYTHONPATH=. .venv/bin/python bench/m60_round_patterns.py [--numbers 40] [--blocks 8]

Patterns (one line per round; ``∥``: sent together):

* ``today``: claim ∥ marker ∥ key ∥ witness GET → entry ∥ event claim → v000001 ∥ event → witness
  (Kho's 4 rounds, NOTES-m60 section 1);
* ``claim-carries-entry``: the number's claim carries the entry (NOTES-m60 B′): claim ∥ marker ∥
  key ∥ witness GET ∥ event claim → entry ∥ event ∥ v000001 → witness;
* ``events-in-entry``: the act's events inside the register entry (s15): no event claim, no
  event object: claim ∥ marker ∥ key ∥ witness GET → entry → v000001 ∥ witness;
* ``no-v000001``: readers take version 1 from the entry (m40's B): today's without v000001;
* ``events-in-entry, no-v000001``: both;
* ``key-store-unversioned``: today's, the record key PUT into an unversioned bucket;
* ``all-at-once``: the 9 requests of today in one round (no order could do better).

Each block sends ``--numbers`` numbers of every pattern, one pattern after the other, the
order turned every block; a line gives the median ms a number of each pattern per block, then
min / median over the blocks and, paired by block, the difference to today's pattern. The data
bucket and the key store are versioned, the claims bucket not, as Kho's (``S3Store``). Needs
``scripts/services.sh env``; figures, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_buckets import drop_made, new_bucket
from kho_testing import s3_options
from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

SIZES = {  # bytes, as Kho writes them for a văn bản đi with no file (bench_store --profile)
    "claim": 120,
    "marker": 150,
    "key": 40,
    "entry": 1700,
    "v1": 1200,
    "event": 1500,
    "witness": 200,
}


@dataclass(frozen=True)
class Request:
    what: str  # claim, marker, key, witness-get, entry, event-claim, v1, event, witness-put
    bucket: str  # data, keys, claims
    size: int = 0
    conditional: bool = False


CLAIM = Request("claim", "claims", SIZES["claim"], conditional=True)
CLAIM_WITH_ENTRY = Request("claim", "claims", SIZES["claim"] + SIZES["entry"], conditional=True)
MARKER = Request("marker", "data", SIZES["marker"])
KEY = Request("key", "keys", SIZES["key"])
KEY_UNVERSIONED = Request("key", "keys-plain", SIZES["key"])
WITNESS_GET = Request("witness-get", "claims")
ENTRY = Request("entry", "data", SIZES["entry"])
ENTRY_WITH_EVENTS = Request("entry", "data", SIZES["entry"] + SIZES["event"])
EVENT_CLAIM = Request("event-claim", "claims", SIZES["claim"], conditional=True)
V1 = Request("v1", "data", SIZES["v1"])
EVENT = Request("event", "data", SIZES["event"])
WITNESS_PUT = Request("witness-put", "claims", SIZES["witness"])

PATTERNS: dict[str, list[list[Request]]] = {
    "today": [[CLAIM, MARKER, KEY, WITNESS_GET], [ENTRY, EVENT_CLAIM], [V1, EVENT], [WITNESS_PUT]],
    "claim-carries-entry": [
        [CLAIM_WITH_ENTRY, MARKER, KEY, WITNESS_GET, EVENT_CLAIM],
        [ENTRY, EVENT, V1],
        [WITNESS_PUT],
    ],
    "events-in-entry": [[CLAIM, MARKER, KEY, WITNESS_GET], [ENTRY_WITH_EVENTS], [V1, WITNESS_PUT]],
    "no-v000001": [[CLAIM, MARKER, KEY, WITNESS_GET], [ENTRY, EVENT_CLAIM], [EVENT], [WITNESS_PUT]],
    "events-in-entry, no-v000001": [[CLAIM, MARKER, KEY, WITNESS_GET], [ENTRY_WITH_EVENTS], [WITNESS_PUT]],
    "key-store-unversioned": [
        [CLAIM, MARKER, KEY_UNVERSIONED, WITNESS_GET],
        [ENTRY, EVENT_CLAIM],
        [V1, EVENT],
        [WITNESS_PUT],
    ],
    "all-at-once": [[CLAIM, MARKER, KEY, WITNESS_GET, ENTRY, EVENT_CLAIM, V1, EVENT, WITNESS_PUT]],
}


class Sender:
    def __init__(self, client: Minio, buckets: dict[str, str]) -> None:
        self.client = client
        self.buckets = buckets
        self.etag = ""  # the witness's, for its If-Match PUT
        self.serial = 0

    def send(self, request: Request, number: int, record: str) -> None:
        bucket = self.buckets[request.bucket]
        key = {
            "claim": f"claims/registers/org/2026/hanh-chinh/{number:08d}.json",
            "marker": f"catalog/records/{record}",
            "key": f"keys/{record}",
            "witness-get": "pointers/audit/witness.json",
            "entry": f"registers/org/2026/hanh-chinh/{number:08d}.json",
            "event-claim": f"claims/audit/events/000000/{number:012d}.json",
            "v1": f"records/{record}/v000001",
            "event": f"audit/events/000000/{number:012d}.json",
            "witness-put": "pointers/audit/witness.json",
        }[request.what]
        if request.what == "witness-get":
            response = self.client._execute("GET", bucket, key)
            response.read()
            return
        headers = {"If-None-Match": "*"} if request.conditional else {}
        if request.what == "witness-put" and self.etag:
            headers = {"If-Match": self.etag}
        response = self.client._execute("PUT", bucket, key, body=os.urandom(request.size), headers=headers)
        if request.what == "witness-put":
            self.etag = (response.headers.get("ETag") or "").strip('"')


def one_number(pool: ThreadPoolExecutor, sender: Sender, rounds: list[list[Request]]) -> float:
    sender.serial += 1
    number, record = sender.serial, uuid.uuid4().hex[:24]
    started = time.perf_counter()
    for requests in rounds:
        for future in [pool.submit(sender.send, r, number, record) for r in requests]:
            future.result()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=8)
    args = parser.parse_args()
    options = s3_options()
    if options is None:
        raise SystemExit("KHO_TEST_S3_ENDPOINT is not set (scripts/services.sh env)")
    client = Minio(
        str(options["endpoint"]),
        access_key=str(options["access_key"]),
        secret_key=str(options["secret_key"]),
        secure=False,
    )
    per_block: dict[str, list[float]] = {name: [] for name in PATTERNS}
    try:
        senders = {}
        for name in PATTERNS:  # each pattern its own buckets: its numbers never meet another's
            kinds = ("data", "keys", "keys-plain", "claims")
            buckets = {kind: new_bucket("m60pat", options) for kind in kinds}
            for kind, bucket in buckets.items():
                client.make_bucket(bucket)
                if kind in ("data", "keys"):
                    client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
            senders[name] = Sender(client, buckets)
            senders[name].send(WITNESS_PUT, 0, "")  # (the log's witness exists before an act)
        with ThreadPoolExecutor(max_workers=9) as pool:
            for name, rounds in PATTERNS.items():  # warm: connections, the witness's first write
                for _ in range(3):
                    one_number(pool, senders[name], rounds)
            names = list(PATTERNS)
            print(f"load {os.getloadavg()[0]:.1f}; ms a number, median of {args.numbers}, per block:")
            for block in range(args.blocks):
                order = names if block % 2 == 0 else names[::-1]
                for name in order:
                    times = [one_number(pool, senders[name], PATTERNS[name]) for _ in range(args.numbers)]
                    per_block[name].append(statistics.median(times))
                line = ", ".join(f"{n} {per_block[n][-1]:.2f}" for n in names)
                print(f"  block {block + 1}: {line}", flush=True)
    finally:
        drop_made()
    print(f"load {os.getloadavg()[0]:.1f}")
    today = per_block["today"]
    for name, values in per_block.items():
        median = statistics.median(values)
        # paired by block (the gateway's load drifts between blocks, not within one)
        saved = [t - v for t, v in zip(today, values, strict=True)]
        print(
            f"{name:<30} {len(PATTERNS[name])} rounds {sum(map(len, PATTERNS[name]))} requests:"
            f" min {min(values):6.2f} / median {median:6.2f} ms a number ({1000 / median:5.1f} /s);"
            f" against today in the same block: median {-statistics.median(saved):+.2f} ms,"
            f" faster in {sum(d > 0 for d in saved)} of {len(saved)}"
        )


if __name__ == "__main__":
    main()
