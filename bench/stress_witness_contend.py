"""Stress (review r15): PROCS forked processes append ACTS two-event acts each to one new local
folder at once, through the real store (no wrapper: the staged, conditional witness move), and
count the acts refused with AUDIT_CHAIN_BROKEN (there should be none: nothing is cut here).

Usage: ``PYTHONPATH=<tree> python bench/stress_witness_contend.py DIR PROCS ACTS FSYNC(0|1)``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from kho.errors import AuditChainBroken
from repository.audit import AuditLog, EventDraft, read_witness
from repository.storage.local import LocalStore


def main() -> None:
    root, procs, acts, fsync = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
    tally = Path(root + ".refused")
    LocalStore(root, fsync=fsync)
    kids = []
    for p in range(procs):
        pid = os.fork()
        if pid == 0:
            log = AuditLog(LocalStore(root, fsync=fsync))
            refused = 0
            for n in range(acts):
                drafts = [
                    EventDraft("c", "record:create", record_id=f"p{p}-{n}"),
                    EventDraft("c", "register:assign"),
                ]
                try:
                    log.append_many(drafts)
                except AuditChainBroken:
                    refused += 1
            with tally.open("a") as out:
                out.write("x" * refused)
            os._exit(0)
        kids.append(pid)
    codes = [os.waitpid(k, 0)[1] for k in kids]
    store = LocalStore(root, fsync=fsync)
    report = AuditLog(store).verify()
    result = {
        "exit": codes,
        "events": report.events,
        "findings": [f.kind for f in report.findings],
        "witness": read_witness(store)["seq"],
        "last": report.last_seq,
        "acts_refused": len(tally.read_text()) if tally.exists() else 0,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
