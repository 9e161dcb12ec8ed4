"""Review r19: ``stress_audit_witness`` on an S3 store of the old layout (the witness in the data
bucket, none in the companion bucket), so that every worker's first act races the move; workers
are killed between an act's events and its witness.

Usage (from the tree, S3 variables set): ``.venv/bin/python bench/r19_stress_old_layout.py
PROCS ACTS KILLPCT SEED``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path[:0] = [os.getcwd(), os.getcwd() + "/tests/support", os.getcwd() + "/bench"]

import stress_audit_witness as sw  # noqa: E402
from kho_buckets import drop_made, new_bucket  # noqa: E402
from kho_testing import two_event_act  # noqa: E402

from repository import formats  # noqa: E402
from repository.audit import WITNESS_KEY, AuditLog, EventDraft  # noqa: E402
from repository.storage import open_store  # noqa: E402
from repository.storage.s3 import S3Store  # noqa: E402


def main() -> None:
    procs, acts, kill, seed = (int(a) for a in sys.argv[1:5])
    opts = sw._options(True)
    url = "s3://" + new_bucket("r19old", opts)
    store = open_store(url, **opts)
    assert isinstance(store, S3Store)
    log = AuditLog(store)
    for n in range(2):
        events = two_event_act(log, f"old{n}")
        body = formats.dumps(formats.WITNESS.name, {"seq": events[-1].seq, "hash": events[-1].hash})
        store._client._execute("PUT", store.bucket, WITNESS_KEY, body=body, headers={})
    store._client.remove_object(store.claims_bucket, "pointers/" + WITNESS_KEY)
    start_at = time.time() + 3.0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3])}
    workers = [
        subprocess.Popen(
            [sys.executable, sw.__file__, "worker", url, str(acts), str(kill), str(seed * 100 + i),
             str(start_at), "1"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(procs)
    ]
    outs = [(w.communicate()[0], w.returncode) for w in workers]
    errors = [e for out, code in outs if code == 0 for e in json.loads(out)["errors"]]
    report = AuditLog(open_store(url, **opts)).verify()
    try:
        AuditLog(open_store(url, **opts)).append_many([EventDraft("late", "x")])
        late = "ok"
    except Exception as exc:
        late = f"{type(exc).__name__}: {str(exc)[:160]}"
    drop_made()
    result = {
        "killed": sum(1 for _, code in outs if code != 0),
        "append_errors": len(errors),
        "errors": sorted({e[:120] for e in errors}),
        "events": report.events,
        "findings": sorted({f.kind for f in report.findings}),
        "new_process_append": late,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
