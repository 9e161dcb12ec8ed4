"""Stress (review r20): is every event an act *returned for* covered by the witness once every
live writer has returned, when writers are killed between their events and their witness?

PROCS fresh interpreters, two threads each, append ACTS acts of 1-3 events to one log (a local
folder or a new S3 bucket). Every act that returns writes the number of its last event to the
process's tally file (one ``os.write``, before the next act). A process drawn (KILLPCT %) dies:
half of them by ``os._exit`` at one of their witness writes (before it), the other half by a
real SIGKILL from the parent at a random moment. At the end: the witness, the newest returned
event, and ``verify``. ``JITTER_MS``: a random sleep up to that long before each witness write
(a lower writer's replace then often lands after a higher one's: a witness replace that ignored
its condition is caught, see bench/NOTES-r20.md).

Usage: ``r20_stress_returned.py file:///path|s3 PROCS ACTS KILLPCT SEED`` with
``PYTHONPATH=<tree>:<tree>/tests/support`` (S3: the ``KHO_TEST_S3_*`` variables).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import scratch

from repository.audit import AuditLog, EventDraft, read_witness
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


def _worker(url: str, acts: int, kill_at: int, seed: int, start_at: float, s3: bool, tally: str) -> None:
    rnd = random.Random(seed)
    log = AuditLog(open_store(url, **_options(s3)), group_commit=bool(seed % 2))
    fd = os.open(tally, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    jitter = float(os.environ.get("JITTER_MS", "0")) / 1000
    calls = [0]
    calls_lock = threading.Lock()
    real = AuditLog._write_witness

    def write_witness(self: AuditLog, seq: int, digest: str, **options: Any) -> None:
        with calls_lock:
            calls[0] += 1
            n = calls[0]
        if n - 1 == kill_at:
            os._exit(9)  # killed between the act's event object and its witness
        if jitter:
            time.sleep(rnd.random() * jitter)  # widens the window between events and witness
        real(self, seq, digest, **options)

    AuditLog._write_witness = write_witness  # type: ignore[method-assign]

    def run(thread: int) -> None:
        for k in range(acts):
            drafts = [EventDraft("w", f"{seed}.{thread}.{k}.{i}") for i in range(rnd.randint(1, 3))]
            try:
                out = log.append_many(drafts)
            except Exception:  # counted as not returned
                continue
            os.write(fd, f"{out[-1].seq}\n".encode())

    while time.time() < start_at:
        time.sleep(0.001)
    threads = [threading.Thread(target=run, args=(t,)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    if sys.argv[1] == "worker":
        url, acts, kill_at, seed, start_at, s3, tally = sys.argv[2:9]
        _worker(url, int(acts), int(kill_at), int(seed), float(start_at), s3 == "1", tally)
        return
    url = sys.argv[1]
    procs, acts, kill_pct, seed = (int(a) for a in sys.argv[2:6])
    s3 = url == "s3"
    if s3:
        from kho_buckets import drop_made, new_bucket

        url = "s3://" + new_bucket("r20stress", _options(True))
        open_store(url, **_options(True))
    rnd = random.Random(seed)
    tallies = Path(scratch.mkdtemp(prefix="r20tally"))
    start_at = time.time() + 3.0
    workers, sigkill = [], []
    for i in range(procs):
        doomed = rnd.randrange(100) < kill_pct
        by_exit = doomed and rnd.random() < 0.5
        kill_at = rnd.randrange(acts * 2) if by_exit else -1
        cmd = [sys.executable, __file__, "worker", url, str(acts), str(kill_at), str(seed * 100 + i)]
        cmd += [str(start_at), "1" if s3 else "0", str(tallies / f"{i}")]
        workers.append(subprocess.Popen(cmd))
        if doomed and not by_exit:
            sigkill.append((workers[-1], start_at + rnd.uniform(0.05, 1.5)))
    for worker, when in sorted(sigkill, key=lambda w: w[1]):
        time.sleep(max(0.0, when - time.time()))
        worker.send_signal(signal.SIGKILL)
    codes = [worker.wait() for worker in workers]
    returned = [int(line) for f in tallies.iterdir() for line in f.read_text().split()]
    store = open_store(url, **_options(s3))
    witness = read_witness(store)["seq"]
    report = AuditLog(store).verify()
    if s3:
        drop_made()
    newest = max(returned, default=-1)
    print(
        json.dumps(
            {
                "killed": sum(1 for c in codes if c != 0),
                "returned_acts": len(returned),
                "newest_returned": newest,
                "witness": witness,
                "covered": witness >= newest,
                "events": report.events,
                "findings": sorted({f.kind for f in report.findings}),
            }
        )
    )


if __name__ == "__main__":
    main()
