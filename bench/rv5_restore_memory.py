"""NOTES-rv5: what a forced restore holds in memory at once when every blob is just under u3's
8 MiB bound (tracemalloc peak), and how often it reads the backup, before and after u3.

    .venv/bin/python bench/rv5_restore_memory.py /tmp/rv5-pre-8625269 [blobs]

One LocalStore of ``blobs`` (default 40) random objects of 8 MiB - 1 byte, backed up to a
LocalStore; then a forced restore over it (one object added after the backup, so the restore
removes it) under tracemalloc, in a child process per tree (that tree first on sys.path),
before and after interleaved, 3 rounds. Prints the peak (MiB), blob GETs, CPU-seconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time, tracemalloc
from pathlib import Path
sys.path.insert(0, ROOT)
from repository.storage.local import LocalStore
from retention.backup import BLOBS_PREFIX, backup, restore

base = Path(BASE)
source, dest = LocalStore(base / "source"), LocalStore(base / "dest")
if not (base / "made").exists():
    for i in range(BLOBS):
        source.put(f"docs/{i:04d}.bin", os.urandom(8 * 1024 * 1024 - 1))
    backup(source, dest, label="store")
    (base / "made").write_text("1")
source.put("docs/after.bin", b"written after the backup")
reads = 0
real_get = dest.get
def get(key, version_id=None):
    global reads
    if key.startswith(BLOBS_PREFIX):
        reads += 1
    return real_get(key, version_id)
dest.get = get
tracemalloc.start()
cpu = time.process_time()
done = restore(dest, source, label="store", force=True)
cpu = time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"peak_mib": peak / 2**20, "reads": reads, "cpu": cpu, "removed": done.removed,
                  "objects": done.objects}))
"""


def run(root: Path, base: Path, blobs: int) -> dict:
    code = (CHILD.replace("ROOT", repr(str(root))).replace("BASE", repr(str(base)))
            .replace("BLOBS)", f"{blobs})"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=root)
    return json.loads(done.stdout)


def main(before_root: Path, blobs: int) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        base = Path(tmp)
        got: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(3):
            got["before"].append(run(before_root, base, blobs))
            got["after"].append(run(HERE, base, blobs))
    print(f"{blobs} blobs of 8 MiB - 1 byte ({blobs * 8} MiB), forced restore, 3 rounds interleaved")
    for name, runs in got.items():
        peaks = [r["peak_mib"] for r in runs]
        cpus = [r["cpu"] for r in runs]
        print(f"{name:6}: peak MiB min/median/max {min(peaks):.1f}/{statistics.median(peaks):.1f}/"
              f"{max(peaks):.1f}, blob GETs {sorted({r['reads'] for r in runs})}, "
              f"CPU s min/median {min(cpus):.2f}/{statistics.median(cpus):.2f}, "
              f"objects {runs[0]['objects']} removed {runs[0]['removed']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 40)
