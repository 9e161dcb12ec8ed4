"""u12 costs, main ("before", a tree given as argument) against this tree ("after"), each side in
a subprocess with its tree first on ``sys.path``, rounds interleaved in the same minutes:

* ``handover``: the lãnh đạo hands over the N open hồ sơ of a chuyên viên to the lưu trữ viên
  (``Kho.handover``, what the API and the CLI call) on a local Kho: store calls by method, CPU and
  wall for the whole handover (u12 writes one version per hồ sơ instead of two, after deciding
  them all first);
* ``approve``: the lãnh đạo approves a plan drafted by the văn thư and re-saved by the lưu trữ
  viên: store calls, CPU and wall of the approval (u12 checks every drafter; format 2 keeps them).

    .venv/bin/python bench/u12_counts.py /tmp/base-u12 --rounds 3 --files 50
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from count_harness import HERE, STORE_METHODS, count_calls, open_kho, rounds, run_side


def handover(work: Path, files: int) -> dict[str, Any]:
    from kho_retention import closed_file

    kho, people = open_kho(work)
    for n in range(files):
        closed_file(kho, people, notation=f"{n + 1:02d}.TH", docs=0, end="")
    leaver, successor = people.usernames["chuyen_vien"], people.usernames["luu_tru"]
    head = people.actor("lanh_dao")
    calls = count_calls(kho.repo.store, STORE_METHODS)
    cpu0, t0 = time.process_time(), time.perf_counter()
    moved = kho.handover(leaver, successor, actor=head)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    assert len(moved) == files
    return {"calls": dict(sorted(calls.items())), "cpu": cpu, "wall": wall}


def approve(work: Path) -> dict[str, Any]:
    from kho_retention import PLAN

    kho, people = open_kho(work)
    service = kho.retention
    service.draft_plan(PLAN, actor=people.actor("van_thu"))
    service.draft_plan(PLAN, actor=people.actor("luu_tru"), expected_version=1)
    calls = count_calls(kho.repo.store, STORE_METHODS)
    cpu0, t0 = time.process_time(), time.perf_counter()
    service.approve_plan(2026, expected_version=2, actor=people.actor("lanh_dao"))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return {"calls": dict(sorted(calls.items())), "cpu": cpu, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    sides = {"main": args.base.resolve(), "u12": HERE}
    for what, call in (("handover", f"m.handover(w, {args.files})"), ("approve", "m.approve(w)")):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u12_counts", call, f"u12-{what}-"))
        for name in sides:
            first, same, times = rounds(rows[name], "calls")
            print(f"{what} {name}: store calls {first['calls']}{same}")
            print(times)
            if what == "handover":
                cpu = statistics.median(r["cpu"] for r in rows[name])
                print(f"       CPU ms per hồ sơ (median) {1000 * cpu / args.files:.2f}")


if __name__ == "__main__":
    main()
