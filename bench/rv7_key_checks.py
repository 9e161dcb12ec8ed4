"""NOTES-rv7: key-store requests of the read and write paths, main's code beside this tree's.

    .venv/bin/python bench/rv7_key_checks.py /tmp/base-rv7 [--rounds 3] [--store local|s3]

Each round runs both sides interleaved, each in a subprocess with its own tree first on
``sys.path`` (the venv is this tree's). Two repositories on the same stores stand for two
worker processes. Counted: the key store's ``get`` and ``stat`` (``exists``) calls of

- ``create``: one văn bản đến with its original;
- ``read_cold``: the other worker's first read of its content (nothing cached);
- ``reads_hot_50``: 50 more reads within a second;
- ``set_extra_late``: a change of the record 1.1 s after its last read (load, then seal);
- ``put_derived_late``: derived data written 1.1 s after the last read (seal only);
- ``seal_after_destroyed_elsewhere``: what ``put_derived`` does 1.1 s after another worker
  destroyed the record (``ok`` = written with the destroyed key, or the error code).

and the CPU microseconds of one hot read (200 reads of one record; min of the round).
Prints every round and the min/median; counts must be equal in every round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import scratch

HERE = Path(__file__).resolve().parents[1]


def run(where: str) -> dict[str, Any]:
    from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

    from kho.errors import KhoError
    from repository.records import Actor

    base = Path(scratch.mkdtemp(prefix="rv7-keys-"))
    store, keystore = make_store(where, base, "s"), make_store(where, base, "k")
    calls: Counter[str] = Counter()
    for name in ("get", "stat"):
        real = getattr(keystore, name)

        def counted(*a: Any, _real: Any = real, _name: str = name, **k: Any) -> Any:
            calls[_name] += 1
            return _real(*a, **k)

        setattr(keystore, name, counted)
    out: dict[str, Any] = {}

    def step(label: str, fn: Any) -> Any:
        calls.clear()
        value = fn()
        out[label] = dict(sorted(calls.items()))
        return value

    writer, reader = new_repository(store, keystore), new_repository(store, keystore)
    rid = step("create", lambda: writer.create_document(
        "den", incoming(code_number="1"), pdf_bytes("k"), "cv.pdf", CLERK).record_id)
    step("read_cold", lambda: reader.read_content(rid, actor=CLERK))
    step("reads_hot_50", lambda: [reader.read_content(rid, actor=CLERK) for _ in range(50)])
    time.sleep(1.1)
    step("set_extra_late", lambda: reader.set_extra(rid, {"rv7": "x"}, actor=CLERK, action="record:extra"))
    time.sleep(1.1)
    step("put_derived_late", lambda: reader.put_derived(rid, "probe.json", b"{}"))
    cpu = []
    for _ in range(200):
        t = time.process_time()
        reader.read_content(rid, actor=CLERK)
        cpu.append(time.process_time() - t)
    out["hot_read_cpu_us_min"] = round(min(cpu) * 1e6, 1)
    out["hot_read_cpu_us_median"] = round(statistics.median(cpu) * 1e6, 1)
    archivist = Actor(user="system:retention", source="bench", system=True)
    writer.destroy(rid, decision="Quyết định số 1/QĐ", actor=archivist)
    time.sleep(1.1)
    try:
        reader.put_derived(rid, "late.json", b"{}")
        out["seal_after_destroyed_elsewhere"] = "ok"
    except KhoError as exc:
        out["seal_after_destroyed_elsewhere"] = exc.code
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", help="main's code (git archive main | tar -x -C …)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", default="local", choices=("local", "s3"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.store)))
        return
    sides = {"main": Path(args.base).resolve(), "rv7": HERE}
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in sides}
    for n in range(args.rounds):
        for side in (sides if n % 2 == 0 else dict(reversed(sides.items()))):
            tree = sides[side]
            env = {**os.environ, "PYTHONPATH": f"{tree}:{tree / 'tests' / 'support'}"}
            done = subprocess.run(
                [sys.executable, str(HERE / "bench" / "rv7_key_checks.py"), str(args.base),
                 "--store", args.store, "--child", "1"],
                cwd=tree, env=env, capture_output=True, text=True, check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[side].append(result)
            print(f"round {n + 1} {side}: {json.dumps(result, ensure_ascii=False)}", flush=True)
    for side, rounds in results.items():
        mins = [r["hot_read_cpu_us_min"] for r in rounds]
        print(f"{side}: hot read CPU µs, min of rounds' min {min(mins)}, median {statistics.median(mins)}")


if __name__ == "__main__":
    main()
