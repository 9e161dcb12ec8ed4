"""Review a15: what an outsider's ``GET /api/records/<id>`` costs for an id that names nothing and
for an existing record they may not see (store calls, wall time), before (main) and after.

Each side runs in its own interpreter with its own code first on ``sys.path``; the driver
alternates the sides (3 rounds) so both are measured in the same minutes on the loaded machine.

Usage: ``PYTHONPATH=tests/support .venv/bin/python bench/a15_oracle_timing.py --base /tmp/base-a15
[--store local|s3] [--requests 30]``."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch

HERE = Path(__file__).resolve().parents[1]
OPS = ("get", "list", "list_versions", "put_if_absent", "put", "put_if_match", "exists", "head")


def one_side(store_kind: str, requests: int) -> dict[str, Any]:
    """In this interpreter (its code first on sys.path): the outsider's answers, counted and timed."""
    sys.path.insert(1, str(HERE / "tests" / "support"))
    from kho_files import file_with_a_secret
    from kho_people import make_people
    from kho_retention import kho_env, s3_env

    from kho.config import Settings
    from repository.records import new_record_id
    from web.app import create_app
    from web.context import Kho

    folder = Path(scratch.mkdtemp(prefix="a15-oracle-"))
    values = s3_env(folder) if store_kind == "s3" else kho_env(folder, KHO_FSYNC="true")
    os.environ.update({**values, "KHO_TOKEN_FILE": str(folder / "tokens.json")})
    os.environ.pop("KHO_TOKEN", None)
    kho = Kho(Settings.from_env())
    people = make_people(kho)
    _, _, plain = file_with_a_secret(kho, people)
    app = create_app(kho.settings, kho=kho)
    client = app.test_client()
    headers = people.headers("van_thu_b")
    store = kho.repo.store
    counts: dict[str, int] = {}
    for name in OPS:
        real = getattr(store, name, None)
        if real is None:
            continue

        def wrap(*a: Any, _real: Callable[..., Any] = real, _name: str = name, **kw: Any) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            return _real(*a, **kw)

        setattr(store, name, wrap)
    times: dict[str, list[float]] = {"absent": [], "unseen": []}
    calls: dict[str, dict[str, int]] = {}
    statuses: dict[str, int] = {}
    for number in range(requests + 2):
        for kind in ("absent", "unseen"):
            record_id = new_record_id() if kind == "absent" else plain
            counts.clear()
            start = time.perf_counter()
            answer = client.get(f"/api/records/{record_id}", headers=headers)
            elapsed = time.perf_counter() - start
            if number >= 2:  # two warm-up rounds (caches of the account, the key ring)
                times[kind].append(elapsed)
                calls[kind] = dict(counts)
                statuses[kind] = answer.status_code
    kho.close()
    if store_kind == "s3":
        from kho_buckets import drop_made

        drop_made()
    return {"times": times, "calls": calls, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--store", default="local", choices=("local", "s3"))
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--side", choices=("run",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "run":
        print(json.dumps(one_side(args.store, args.requests)))
        return
    results: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for _ in range(3):
        for side, code in (("before", args.base), ("after", HERE)):
            env = {**os.environ, "PYTHONPATH": f"{code}:{code / 'tests' / 'support'}"}
            out = subprocess.run(
                [sys.executable, __file__, "--base", str(args.base), "--store", args.store,
                 "--requests", str(args.requests), "--side", "run"],
                env=env, cwd=code, capture_output=True, text=True, check=True,
            )
            results[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"store={args.store}, {args.requests} requests of each kind per round, 3 rounds per side")
    print("side    kind    status  median ms per round (min / median of rounds)   store calls per request")
    for side, rounds in results.items():
        for kind in ("absent", "unseen"):
            medians = [statistics.median(r["times"][kind]) * 1000 for r in rounds]
            calls = rounds[-1]["calls"][kind]
            status = rounds[-1]["statuses"][kind]
            print(
                f"{side:7} {kind:7} {status:6}  {min(medians):7.2f} / {statistics.median(medians):7.2f}"
                f"                          {json.dumps(calls, sort_keys=True)}"
            )


if __name__ == "__main__":
    main()
