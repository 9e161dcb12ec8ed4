"""a13: what the two read paths a13 changed cost, before (main) and after, interleaved.

* The Tika answer read (``TikaClient.rmeta_text``) on the real Tika server: a TXT of ~4 MB of
  Vietnamese text, whose /rmeta answer is read now with ``read1`` (after) or ``iter_content``
  of 1 MiB (before). Wall seconds and CPU-seconds of this process per extraction.
* ``read_source`` of a 20 MB regular file (bounded read after, whole read before).

Each side runs in its own interpreter with its code first on ``sys.path``; sides alternate,
3 rounds; min / median printed beside each other.

    eval "$(bash scripts/services.sh env)"
    git archive main | tar -x -C /tmp/base-a13
    .venv/bin/python bench/a13_source_reads.py --base /tmp/base-a13
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
from pathlib import Path
tika_url, text_path, big_path, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
from ingest.text.tika import TikaClient
from ingest.text.model import FileFormat, Format
from ingest.source_files import read_source
data = Path(text_path).read_bytes()
client = TikaClient(tika_url, timeout=120, max_text_chars=10_000_000)
out = {"tika_wall": [], "tika_cpu": [], "read_wall": []}
for _ in range(reps):
    t, c = time.perf_counter(), time.process_time()
    items = client.rmeta_text(data, FileFormat(Format.TXT))
    out["tika_wall"].append(time.perf_counter() - t)
    out["tika_cpu"].append(time.process_time() - c)
    out["chars"] = len(items[0].get("X-TIKA:content") or "")
    t = time.perf_counter()
    n = len(read_source(Path(big_path)))
    out["read_wall"].append(time.perf_counter() - t)
    out["read_bytes"] = n
print(json.dumps(out))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, default=Path("/tmp/base-a13"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    tika = os.environ.get("KHO_TEST_TIKA_URL") or os.environ.get("KHO_TIKA_URL")
    if not tika:
        print("KHO_TEST_TIKA_URL not set (eval scripts/services.sh env)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="a13-bench-") as tmp:
        text = Path(tmp) / "van-ban.txt"
        line = "Công văn số 12/UBND-VP về việc triển khai lưu trữ điện tử năm 2026.\n"
        text.write_text(line * (4_000_000 // len(line.encode())), encoding="utf-8")
        big = Path(tmp) / "lon.pdf"
        big.write_bytes(os.urandom(20 * 1024 * 1024))
        sides = {"before": args.base, "after": ROOT}
        runs: dict[str, list[dict]] = {k: [] for k in sides}
        for _ in range(args.rounds):
            for name, code in sides.items():
                env = {**os.environ, "PYTHONPATH": str(code)}
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, tika, str(text), str(big), str(args.reps)],
                    env=env, cwd=code, capture_output=True, text=True, check=True,
                )
                runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"Tika {tika}, text {runs['after'][0]['chars']} chars; {args.rounds} rounds x {args.reps}")
    for metric, label in (("tika_wall", "Tika answer, wall s"), ("tika_cpu", "Tika answer, CPU s"),
                          ("read_wall", "read_source 20 MB, wall s")):
        row = []
        for name in sides:
            values = [v for run in runs[name] for v in run[metric]]
            row.append(f"{name}: min {min(values):.4f} median {statistics.median(values):.4f}")
        print(f"{label:28s} " + " | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
