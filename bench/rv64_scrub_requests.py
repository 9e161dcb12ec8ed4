"""rv64: the S3 requests of one ``scrub_jobs`` run over N clean jobs, of one
``delete_older_version`` and of ``fsck``'s job step, on the code at PYTHONPATH (run it once on
this branch and once on a copy of the base, e.g. ``git archive 175048f3`` into /tmp).

    source /work/runs/svc46/env.sh && eval "$(bash scripts/services.sh env)"
    PYTHONPATH=.:tests/support nice -n 10 /work/main/.venv/bin/python bench/rv64_scrub_requests.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter

import urllib3
from kho_buckets import drop_made, new_bucket

from repository.ingest_jobs import scrub_jobs
from repository.storage.s3 import S3Store

OPTIONS = {
    "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
    "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
    "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
    "secure": False,
}
seen: Counter[str] = Counter()
real = urllib3.PoolManager.urlopen


def counted(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
    seen[method] += 1
    return real(self, method, url, *args, **kwargs)


def main(jobs: int = 20) -> None:
    store = S3Store(new_bucket("rv64r", OPTIONS), **OPTIONS)  # type: ignore[arg-type]
    try:
        for n in range(jobs):
            job = {"job_id": f"{n:064x}", "format_version": 2, "summary": {}, "filename": "x.pdf"}
            store.put(f"ingest/jobs/{n:064x}.json", json.dumps(job).encode())
        key = "ingest/jobs/" + "f" * 64 + ".json"
        store.put(key, b"{}")
        store.put(key, b"{}")
        older = store.list_versions(key)[0].version_id
        urllib3.PoolManager.urlopen = counted  # type: ignore[method-assign]
        seen.clear()
        store.delete_older_version(key, str(older))
        print("delete_older_version:", dict(seen))
        runs = []
        for _ in range(3):
            seen.clear()
            started = time.perf_counter()
            scrub_jobs(store)
            runs.append(time.perf_counter() - started)
        print(f"scrub_jobs over {jobs + 1} clean jobs:", dict(seen), f"min of 3 {min(runs):.3f} s")
    finally:
        urllib3.PoolManager.urlopen = real  # type: ignore[method-assign]
        store.close()
        drop_made()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
