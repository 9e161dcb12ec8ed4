"""Stress (review r7): new processes append to a fresh audit log; some die between an act's event
object and its witness write.

PROCS fresh interpreters, two threads each, start together on an empty log (a local folder or a
new S3 bucket) and append ACTS acts of two events each. A process drawn (KILLPCT %) is killed
(``os._exit``) at one of its first ``KILL_WITHIN`` witness writes (default: any), before the
witness is written (read before the act's events since a2, except on a process's first act).
At the end: ``verify`` of the log (a fork of the chain shows as ``inserted``, a cut as
``removed``/``truncated``) and whether a new process may still append.

Usage: ``stress_audit_witness.py file:///path|s3 PROCS ACTS KILLPCT SEED [s3]``, with
``PYTHONPATH=<tree>:<tree>/tests/support`` (S3: the ``KHO_TEST_S3_*`` variables).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from typing import Any

from repository.audit import AuditLog, EventDraft
from repository.storage import open_store


def _options(s3: bool) -> dict[str, Any]:
    if not s3:
        return {}
    return {
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"],
        "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"],
        "secure": False,
    }


def _worker(url: str, acts: int, kill_pct: int, seed: int, start_at: float, s3: bool) -> None:
    rnd = random.Random(seed)
    log = AuditLog(open_store(url, **_options(s3)))
    doomed = rnd.randrange(100) < kill_pct
    kill_at = rnd.randrange(int(os.environ.get("KILL_WITHIN", acts))) if doomed else -1
    calls = [0]
    calls_lock = threading.Lock()
    real = AuditLog._write_witness

    def write_witness(self: AuditLog, seq: int, digest: str, **options: Any) -> None:
        with calls_lock:
            calls[0] += 1
            n = calls[0]
        if n - 1 == kill_at:
            os._exit(9)  # killed between the act's event object and its witness
        real(self, seq, digest, **options)

    AuditLog._write_witness = write_witness  # type: ignore[method-assign]  # the harness's kill point
    errors: list[str] = []

    def run(thread: int) -> None:
        for k in range(acts // 2):
            details = {"p": seed, "t": thread, "k": k}
            try:
                drafts = [EventDraft("w", "a", details=details), EventDraft("w", "b", details=details)]
                log.append_many(drafts)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    while time.time() < start_at:
        time.sleep(0.001)
    threads = [threading.Thread(target=run, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"errors": errors}))


def main() -> None:
    if sys.argv[1] == "worker":
        url, acts, kill_pct, seed, start_at, s3 = sys.argv[2:8]
        _worker(url, int(acts), int(kill_pct), int(seed), float(start_at), s3 == "1")
        return
    url = sys.argv[1]
    procs, acts, kill_pct, seed = (int(a) for a in sys.argv[2:6])
    s3 = len(sys.argv) > 6 and sys.argv[6] == "s3"
    if s3:
        from kho_buckets import drop_made, new_bucket

        url = "s3://" + new_bucket("r7stress", _options(True))
        open_store(url, **_options(True))  # makes the bucket
    start_at = time.time() + 3.0
    common = [str(acts), str(kill_pct)]
    timing = [str(start_at), "1" if s3 else "0"]
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "worker", url, *common, str(seed * 100 + i), *timing],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(procs)
    ]
    outs = [(worker.communicate()[0], worker.returncode) for worker in workers]
    errors = [e for out, code in outs if code == 0 for e in json.loads(out)["errors"]]
    store = open_store(url, **_options(s3))
    report = AuditLog(store).verify()
    try:
        AuditLog(store).append_many([EventDraft("late", "x")])
        late = "ok"
    except Exception as exc:
        late = f"{type(exc).__name__}: {str(exc)[:120]}"
    if s3:
        drop_made()
    print(
        json.dumps(
            {
                "killed": sum(1 for _, code in outs if code != 0),
                "append_errors": len(errors),
                "first_error": errors[:1],
                "events": report.events,
                "findings": sorted({f.kind for f in report.findings}),
                "new_process_append": late,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
