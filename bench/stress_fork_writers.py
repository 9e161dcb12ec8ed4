"""Stress (review r7): fork while three threads of the parent create registered records.

The parent (a local folder) keeps three writer threads busy; at random moments its main thread
forks, and each child creates two records within 60 s (else it is reported ``stuck`` and
killed; a child's Python stack is dumped to ``ROOT/child-<fork>.txt`` after 40 s). At the end:
the register's numbers are 1..N without gap or duplicate, and the audit log verifies.

Usage: ``stress_fork_writers.py ROOT FORKS SEED`` (``WARMUP=s``: seconds before the first
fork; 0 forks while the threads make their first record, i.e. while they still import the
write path's lazily imported modules). Run with ``PYTHONPATH=<tree>:<tree>/tests/support``.
"""

from __future__ import annotations

import faulthandler
import os
import random
import select
import signal
import sys
import threading
import time
from pathlib import Path

from kho_testing import CLERK, incoming, new_repository

from repository.storage.local import LocalStore

CHILD_LIMIT_S = 60.0


def main() -> None:
    root, forks, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    repo = new_repository(LocalStore(root / "s"), LocalStore(root / "k"))
    counter = [10]
    counter_lock = threading.Lock()

    def create(number: int | None = None) -> None:
        if number is None:
            with counter_lock:
                counter[0] += 1
                number = counter[0]
        content = b"%PDF-1.4 " + str(number).encode()
        repo.create_document("den", incoming(code_number=str(number)), content, "a.pdf", CLERK)

    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        while not stop.is_set():
            try:
                create()
            except Exception as exc:
                errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(float(os.environ.get("WARMUP", "0")))
    reports = []
    for fork in range(forks):
        time.sleep(rnd.uniform(0.0, 0.15))
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            code = 1
            with open(root / f"child-{fork}.txt", "w") as dump:
                faulthandler.dump_traceback_later(40, exit=True, file=dump)
                try:
                    for i in range(2):
                        create(10**6 + fork * 10 + i)
                    os.write(write_end, b"ok")
                    code = 0
                except BaseException as exc:
                    os.write(write_end, f"{type(exc).__name__}: {exc}".encode()[:500])
                finally:
                    os._exit(code)
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], CHILD_LIMIT_S)
        report = os.read(read_end, 600).decode() if ready else "stuck"
        os.close(read_end)
        if report in ("stuck", ""):
            report = "stuck"
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reports.append(report)
    stop.set()
    for thread in threads:
        thread.join()
    numbers = sorted(entry.number for entry in repo.registers.all_entries())
    verified = repo.audit.verify()
    bad = [report for report in reports if report != "ok"]
    print(
        {
            "forks": forks,
            "children_not_ok": len(bad),
            "first_not_ok": bad[:3],
            "parent_errors": errors[:3],
            "entries": len(numbers),
            "gapless": numbers == list(range(1, len(numbers) + 1)),
            "audit_verify_ok": verified.ok,
            "findings": [finding.kind for finding in verified.findings][:5],
        }
    )


if __name__ == "__main__":
    main()
