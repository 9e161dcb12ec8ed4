"""Review rv8 of a15's timing gap: where the time of an outsider's refused read of an unseen
record goes, beside an absent id. The same ``Repository.get`` (what ``GET /api/records/<id>``
calls), in one interpreter, interleaved: an absent id; the unseen record; the unseen record with
the refusal's audit append made a no-op (what closing only the audit part would leave). Store
calls are counted per call. Median / min of ``--requests`` calls, 3 rounds.

    eval "$(bash scripts/services.sh env)"
    PYTHONPATH=tests/support .venv/bin/python bench/rv8_refusal_parts.py --store local
    PYTHONPATH=tests/support .venv/bin/python bench/rv8_refusal_parts.py --store s3
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch
from kho_files import file_with_a_secret
from kho_people import make_people
from kho_retention import kho_env, s3_env

from kho.config import Settings
from kho.errors import KhoError
from repository.records import new_record_id
from web.context import Kho


def counted(store: Any) -> collections.Counter[str]:
    calls: collections.Counter[str] = collections.Counter()
    for name in ("get", "list", "exists", "put_if_absent", "put_if_match", "put"):
        original = getattr(store, name, None)
        if original is None:
            continue

        def wrapper(*a: Any, _o: Callable[..., Any] = original, _n: str = name, **k: Any) -> Any:
            calls[_n] += 1
            return _o(*a, **k)

        setattr(store, name, wrapper)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default="local", choices=("local", "s3"))
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    folder = Path(scratch.mkdtemp(prefix="rv8-timing-"))
    env = s3_env(folder) if args.store == "s3" else kho_env(folder)
    os.environ.update(env)
    kho = Kho(Settings.from_env())
    people = make_people(kho)
    _, _, plain = file_with_a_secret(kho, people)
    outsider = people.actor("van_thu_b")
    repo = kho.repo
    calls = counted(repo.store)
    append = repo.audit.append

    def read(record_id: str) -> str:
        try:
            repo.get(record_id, actor=outsider)
        except KhoError as error:
            return error.code
        return "ok"

    sides: dict[str, Callable[[], str]] = {
        "absent id": lambda: read(new_record_id()),
        "unseen record": lambda: read(plain),
        "unseen, audit append a no-op": lambda: read(plain),
    }
    times: dict[str, list[float]] = {k: [] for k in sides}
    counts: dict[str, dict[str, int]] = {}
    codes: dict[str, str] = {}
    for _ in range(3):
        for name, call in sides.items():
            repo.audit.append = (lambda *a, **k: None) if "no-op" in name else append  # type: ignore[method-assign]
            round_times = []
            for _ in range(args.requests):
                calls.clear()
                start = time.perf_counter()
                codes[name] = call()
                round_times.append((time.perf_counter() - start) * 1000)
                counts[name] = dict(calls)
            times[name].append(statistics.median(round_times))
    repo.audit.append = append  # type: ignore[method-assign]
    print(f"store={args.store}, {args.requests} calls a round, 3 rounds; load {os.getloadavg()[0]:.1f}")
    for name in sides:
        t = times[name]
        print(f"{name:32} {codes[name]:10} min {min(t):7.2f} ms  median {statistics.median(t):7.2f} ms"
              f"  store calls {counts[name]}")
    kho.close()


if __name__ == "__main__":
    main()
