"""f5: what the two store-side fixes cost, main against this branch, interleaved in the same minutes.

1. A forced restore over a live store: blob reads from the backup destination (counted) and
   wall time. The branch reads every blob twice (once to check all before the first removal).
2. ``AuditLog.verify`` of a log of N events: wall time (each listed key now also goes through
   ``listed_seq``), plus ``listed_seq``'s own cost per key.

Usage: .venv/bin/python bench/f5_costs.py --base /tmp/base-f5 [--docs 60] [--runs 3]
Each measurement runs in its own process with the chosen code first on sys.path.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r'''
import json, sys, tempfile, time
import atexit, shutil
def _scratch(**options):
    folder = tempfile.mkdtemp(**options)
    atexit.register(shutil.rmtree, folder, True)
    return folder
from pathlib import Path
sys.path.insert(0, sys.argv[1] + "/tests/support")
from kho_testing import CLERK, incoming, new_repository
from repository.storage.local import LocalStore
import retention.backup as b

docs = int(sys.argv[2])
d = Path(_scratch(prefix="f5-bench-"))
repo = new_repository(LocalStore(d / "s"), LocalStore(d / "k"))
for n in range(docs):
    repo.create_document("den", incoming(code_number=str(n + 1)), b"%PDF-1.4\n" + bytes([n % 256]) * 20000,
                         f"a{n}.pdf", CLERK)
dest = LocalStore(d / "b")
made = b.backup(repo.store, dest, label="store")
repo.create_document("den", incoming(code_number="9999"), b"%PDF-1.4\nnewer", "n.pdf", CLERK)
gets = 0
real_get = dest.get
def counted(key, *a, **k):
    global gets
    if key.startswith("blobs/"):
        gets += 1
    return real_get(key, *a, **k)
dest.get = counted
t = time.perf_counter()
report = b.restore(dest, repo.store, backup_id=made.backup_id, force=True)
restore_s = time.perf_counter() - t
t = time.perf_counter()
v = repo.audit.verify()
verify_s = time.perf_counter() - t
print(json.dumps({"objects": report.objects, "blob_gets": gets, "restore_s": restore_s,
                  "events": v.events, "verify_s": verify_s, "ok": v.ok}))
'''


def run(code: Path, docs: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(code), str(docs)], env=env, cwd=code,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"main": [], "f5": []}
    for _ in range(args.runs):  # interleaved
        results["main"].append(run(args.base, args.docs))
        results["f5"].append(run(HERE, args.docs))
    for name, rows in results.items():
        r = rows[0]
        print(f"{name:5} objects={r['objects']} blob_gets={r['blob_gets']} events={r['events']} ok={r['ok']}"
              f" restore_s min/med={min(x['restore_s'] for x in rows):.3f}/"
              f"{statistics.median(x['restore_s'] for x in rows):.3f}"
              f" verify_s min/med={min(x['verify_s'] for x in rows):.4f}/"
              f"{statistics.median(x['verify_s'] for x in rows):.4f}")
    sys.path.insert(0, str(HERE))
    import timeit

    from repository.audit import event_key, listed_seq
    keys = [event_key(n) for n in range(200_000)]
    best = min(timeit.repeat(lambda: [listed_seq(k) for k in keys], number=1, repeat=3))
    print(f"listed_seq: {best / len(keys) * 1e6:.2f} µs per key (200,000 keys, best of 3)")


if __name__ == "__main__":
    main()
