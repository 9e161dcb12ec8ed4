"""NOTES-u3: how often a forced restore over a live store reads the backup's blobs.

    .venv/bin/python bench/u3_restore_reads.py /tmp/base-u3 [--large 24] [--large-kb 1024]
        [--small 500] [--small-kb 2] [--huge-mb 12]

Builds one store (``large`` + ``small`` random objects, one of ``huge-mb`` MiB above the 8 MiB
bound, and 50 copies of one content: blobs shared between entries) and one backup of it in a
local folder. Then three rounds, each running the restore with main's code (the tree given,
first on ``sys.path`` of a subprocess) and with this tree's, interleaved: the live store is a
fresh copy of the original plus 20 objects made after the backup (``force`` removes them). Each
run counts the GETs of blobs and the bytes they return (a wrapper around the destination store,
as the test does), its CPU seconds and wall seconds; prints min/median of the three.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def one(destination: Path, live: Path) -> dict[str, Any]:
    """One forced restore of the only backup in ``destination`` over ``live`` (this process's
    code: whatever ``retention`` is first on ``sys.path``)."""
    import retention.backup as rb
    from repository.storage.local import LocalStore

    class Counting:
        def __init__(self, store: LocalStore) -> None:
            self.store, self.gets, self.bytes = store, 0, 0

        def get(self, key: str, version_id: str | None = None) -> bytes:
            data = self.store.get(key, version_id)
            if key.startswith(rb.BLOBS_PREFIX):
                self.gets += 1
                self.bytes += len(data)
            return data

        def __getattr__(self, name: str) -> Any:
            return getattr(self.store, name)

    counted = Counting(LocalStore(destination))
    cpu, wall = time.process_time(), time.perf_counter()
    report = rb.restore(counted, LocalStore(live), force=True)  # type: ignore[arg-type]
    return {"code": rb.__file__, "gets": counted.gets, "bytes": counted.bytes, "objects": report.objects,
            "removed": report.removed, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--large", type=int, default=24)
    parser.add_argument("--large-kb", type=int, default=1024)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--small-kb", type=int, default=2)
    parser.add_argument("--huge-mb", type=int, default=12)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    os.environ["KHO_FSYNC"] = "false"
    from repository.storage.local import LocalStore
    from retention.backup import backup

    work = Path(tempfile.mkdtemp(prefix="u3-restore-"))
    try:
        origin = LocalStore(work / "origin")
        for i in range(args.large):
            origin.put_if_absent(f"records/{i:08x}/content/{i:064x}", os.urandom(args.large_kb * 1024))
        for i in range(args.small):
            origin.put_if_absent(f"records/{i:08x}/v{i:06d}", os.urandom(args.small_kb * 1024))
        shared = os.urandom(4096)
        for i in range(50):
            origin.put_if_absent(f"records/shared{i:04d}/content/x", shared)
        origin.put_if_absent("records/huge/content/x", os.urandom(args.huge_mb * 1024 * 1024))
        backup(origin, LocalStore(work / "dest"), label="store")
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for _ in range(3):
            for side, root in (("before", args.base), ("after", HERE)):
                live = work / f"live-{side}"
                shutil.rmtree(live, ignore_errors=True)
                shutil.copytree(work / "origin", live)
                for i in range(20):
                    LocalStore(live).put_if_absent(f"records/newer{i:04d}/v000001", b"made after the backup")
                env = {**os.environ, "PYTHONPATH": str(root)}
                out = subprocess.run(
                    [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(root)!r}); "
                     f"sys.path.insert(1, {str(HERE / 'bench')!r}); import u3_restore_reads as m, json; "
                     f"print(json.dumps(m.one(__import__('pathlib').Path({str(work / 'dest')!r}), "
                     f"__import__('pathlib').Path({str(live)!r}))))"],
                    env=env, check=True, capture_output=True, text=True,
                ).stdout
                runs[side].append(json.loads(out.strip().splitlines()[-1]))
        for side, rows in runs.items():
            first = rows[0]
            assert all(r["gets"] == first["gets"] and r["bytes"] == first["bytes"] for r in rows)
            cpu, wall = [r["cpu"] for r in rows], [r["wall"] for r in rows]
            print(f"{side:6s} {first['code']}")
            print(f"       objects {first['objects']}, removed {first['removed']}, "
                  f"blob GETs {first['gets']}, bytes read {first['bytes'] / 2**20:.1f} MiB")
            print(f"       CPU s min/median {min(cpu):.3f}/{statistics.median(cpu):.3f}, "
                  f"wall s min/median {min(wall):.3f}/{statistics.median(wall):.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
