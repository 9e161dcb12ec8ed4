"""S3 requests and sequential request rounds per ingested document, by pipeline step and by
kind (task m52, issue 14): N born-digital signed PDFs (test PKI, 1 page, no time-stamp) run
through the bulk import's pipeline (``read_once``, the index deferred to one batch commit) in
this process, against the running S3 gateway.

    eval "$(bash /work/main/scripts/services.sh env)"
    nice -n 10 .venv/bin/python bench/m52_ingest_requests.py <tree> [--count 20]

``<tree>`` is the checkout whose code runs (its folder first on ``sys.path``): run main's
(``git worktree add /tmp/m52-main main``) and this one's, to compare. Every HTTP request the
client sends is counted by method, bucket and key prefix, under the step running when it was
sent (``job`` = the job status writes between steps, ``flush`` = the batch index commit). A
*round* is a stretch of time with at least one request of the document in flight: requests
sent together (a write group's pool) count once, requests sent one after another count one
each, so rounds are what the worker waits for. The first document (warm-up: caches, the
installation's first writes) is not counted. Not a test."""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TREE = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "."
for sub in ("bench", "tests/support", ""):
    sys.path.insert(0, os.path.join(os.path.abspath(TREE), sub))

import urllib3  # noqa: E402

_urlopen = urllib3.PoolManager.urlopen
_lock = threading.Lock()
STEP = ["setup"]
REQUESTS: list[tuple[str, str, float, float]] = []
"""(step, kind, start, end) of every request."""


def _kind(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 2)
    bucket = path[1].split("?")[0] if len(path) > 1 else ""
    key = path[2].split("?")[0] if len(path) > 2 else ""
    where = "claims" if bucket.endswith("-claims") else "keys" if bucket.endswith("-keys") else "data"
    parts = [p for p in key.split("/") if p]
    if parts[:1] == ["records"] and len(parts) >= 3:
        prefix = "records/<id>/" + ("/".join(parts[2:3]) if not parts[2].startswith("v") else "v<n>")
        if len(parts) > 3:
            prefix += "/" + parts[-1] if parts[2] == "derived" else "/…"
    elif parts[:1] == ["keys"]:
        prefix = "keys"
    else:
        prefix = "/".join(parts[:2])
    if "?" in url:
        query = url.split("?", 1)[1].split("=")[0].split("&")[0]
        prefix += f" ?{query}"
        if "list-type" in url or "prefix=" in url:
            prefix = f"{prefix} (LIST)"
    return f"{method:4s} {where:6s} {prefix}"


def _counted(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    step, started = STEP[0], time.perf_counter()
    try:
        return _urlopen(self, method, url, *args, **kwargs)
    finally:
        with _lock:
            REQUESTS.append((step, _kind(method, url), started, time.perf_counter()))


urllib3.PoolManager.urlopen = _counted  # type: ignore[method-assign]


def rounds(spans: list[tuple[float, float]]) -> int:
    """Stretches of time with at least one request in flight."""
    count, end = 0, -1.0
    for start, stop in sorted(spans):
        if start > end:
            count += 1
        end = max(end, stop)
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree")
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    from kho_buckets import drop_made, new_bucket

    from ingest.testpki import TestPKI, Variant, make_variant

    options = {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }
    pki = TestPKI.build()
    documents = [make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=500 + n, pages=1)
                 for n in range(args.count + 1)]
    with tempfile.TemporaryDirectory(prefix="m52-req-") as tmp:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        pki.write_trust_dir(trust)
        os.environ.update(
            KHO_DATA_DIR=str(Path(tmp) / "kho"), KHO_TRUST_DIR=str(trust), KHO_FSYNC="false",
            KHO_BROKER_URL="", KHO_TIKA_URL="", KHO_AGENCY_ID="000.00.18.H40",
            KHO_STORE_URL=f"s3://{new_bucket('m52r', options)}",
            KHO_KEYSTORE_URL=f"s3://{new_bucket('m52r-keys', options)}",
            KHO_S3_ENDPOINT=options["endpoint"], KHO_S3_ACCESS_KEY=options["access_key"],
            KHO_S3_SECRET_KEY=options["secret_key"],
        )
        try:
            measure(documents, args)
        finally:
            drop_made()


def measure(documents: list[bytes], args: argparse.Namespace) -> None:
    import logging

    from ingest import pipeline as pl
    from ingest.status import JobState
    from kho.config import Settings

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    pipeline = pl.Pipeline.from_settings(Settings.from_env(), read_once=True)
    pipeline.defer_index = True
    for step in pipeline.steps:
        real = step.run

        def run(ctx: Any, _real: Any = real, _name: str = step.name) -> Any:
            STEP[0] = _name
            try:
                return _real(ctx)
            finally:
                STEP[0] = "job"

        step.run = run  # type: ignore[method-assign]
    per_doc: list[list[tuple[str, str, float, float]]] = []
    wall = 0.0
    for n, data in enumerate(documents):
        with _lock:
            REQUESTS.clear()
        STEP[0] = "job"
        began = time.perf_counter()
        status = pipeline.ingest(data, f"qd-{n}.pdf")
        STEP[0] = "flush"
        (status,) = pipeline.flush_index() or [status]
        assert status.state is JobState.DONE, (status.reason_code, status.reason)
        if n:
            wall += time.perf_counter() - began
            with _lock:
                per_doc.append(list(REQUESTS))
    pipeline.close()
    docs = len(per_doc)
    print(f"{args.tree}: {docs} documents, {sum(len(r) for r in per_doc) / docs:.2f} requests and "
          f"{sum(rounds([(s, e) for _, _, s, e in r]) for r in per_doc) / docs:.2f} rounds per "
          f"document; {docs / wall:.2f} docs/s (1 process, in-process, index in a local folder)")
    steps = ["job", "store", "text", "signatures", "metadata", "index", "flush"]
    print(f"  {'step':12s} {'requests':>9s} {'rounds':>7s}")
    for step in steps:
        count = sum(1 for r in per_doc for q in r if q[0] == step) / docs
        rnd = sum(rounds([(s, e) for st, _, s, e in r if st == step]) for r in per_doc) / docs
        print(f"  {step:12s} {count:9.2f} {rnd:7.2f}")
    kinds: collections.Counter[tuple[str, str]] = collections.Counter()
    for r in per_doc:
        for step, kind, _, _ in r:
            kinds[(step, kind)] += 1
    print("  per step and kind (requests per document):")
    for (step, kind), count in sorted(kinds.items(), key=lambda kv: (steps.index(kv[0][0]), kv[0][1])):
        print(f"    {step:11s} {kind:60s} {count / docs:5.2f}")


if __name__ == "__main__":
    main()
