"""The first signed PDF of a freshly started Celery worker: its text and signatures steps' wall
time, two code trees interleaved (lead 3 of m12: the worker's verification and text workers
started at ``worker_process_init`` rather than by that document).

    .venv/bin/python bench/m12_celery_first.py /tmp/base-m12 . [ROUNDS]

Each round and tree: an empty Kho in a temporary folder, a real worker (``celery -A
ingest.celery_app worker --pool=solo`` on a queue of its own, Redis ``KHO_TEST_REDIS_URL`` or
db 8) started with that tree first on ``PYTHONPATH``; once it logs ``ready``, 3 s more (a
production worker is idle long before its first document arrives), then one generated signed
PDF (``~/.cache/kho-bench/signed-200x3``) goes through ``import_paths`` and the job's step times
are read back. Prints each round and the min / median per tree.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-200x3"
REDIS = os.environ.get("KHO_TEST_REDIS_URL", "redis://127.0.0.1:6379/8")

SUBMIT = """
import json, sys
from pathlib import Path
from ingest.bulk import import_paths
report = import_paths([Path(sys.argv[1])], wait=True, poll_interval=0.05, wait_timeout=120)
(item,) = report.items
print(json.dumps({"state": item.state, "steps": item.steps}))
"""


def one(tree: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="m12-celery-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        (folder / "qd.pdf").write_bytes(sorted(FOLDER.glob("signed-*.pdf"))[0].read_bytes())
        env = dict(
            os.environ, PYTHONPATH=tree, KHO_DATA_DIR=str(Path(tmp) / "kho"),
            KHO_TRUST_DIR=str(FOLDER / "trust"), KHO_FSYNC="false", KHO_TIKA_URL="",
            KHO_BROKER_URL=REDIS, KHO_INGEST_QUEUE=f"kho-bench-{uuid.uuid4().hex[:12]}",
            KHO_AGENCY_ID="000.00.18.H40",
        )
        log_path = Path(tmp) / "worker.log"
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "ingest.celery_app", "worker", "--pool=solo",
                 "--loglevel=INFO", "-Q", env["KHO_INGEST_QUEUE"], "--without-gossip",
                 "--without-mingle", "--without-heartbeat"],
                cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + 120
                while b"ready" not in log_path.read_bytes():
                    if time.monotonic() > deadline or worker.poll() is not None:
                        raise RuntimeError(log_path.read_text(errors="replace")[-2000:])
                    time.sleep(0.1)
                time.sleep(3)
                done = subprocess.run([sys.executable, "-c", SUBMIT, str(folder)], cwd=tree, env=env,
                                      capture_output=True, text=True, check=True, timeout=180)
            finally:
                worker.terminate()
                worker.wait(30)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["state"] == "xong", result
    return {k: float(v) for k, v in result["steps"].items()}


def main() -> int:
    trees = [os.path.abspath(t) for t in sys.argv[1:3]]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    found: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for n in range(rounds):
        for tree in trees:
            steps = one(tree)
            found[tree].append(steps)
            shown = ", ".join(f"{k} {1000 * v:.0f}" for k, v in steps.items())
            print(f"round {n + 1} {tree}: ms {shown}; load {os.getloadavg()[0]:.1f}", flush=True)
    for tree, runs in found.items():
        for step in ("text", "signatures"):
            values = [1000 * r.get(step, float("nan")) for r in runs]
            print(f"{tree} {step}: min {min(values):.0f} ms, median {statistics.median(values):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
