"""Cost of the nộp lưu due-date / alert computation (a script, not a test).

    .venv/bin/python bench/bench_retention.py [--items 100000] [--files 300]

Pure rules, over ``--items`` closed hồ sơ with random end dates, some kept, in one run:

* ``baseline``: the same loop computing only ``end_date + 365 days`` and comparing it to today
  (what a naive "one year later" check costs — the floor for any rule over these items);
* ``due_date``: :func:`retention.submission.due_date` (stricter of ND30 and Luật 2024, XDCB);
* ``due_alerts``: :func:`retention.submission.due_alerts` (levels, keeping, sorted alerts).

Then the store path: ``--files`` hồ sơ written to a local store (fsync off) and
:meth:`retention.service.RetentionService.all_alerts` timed over them (listing, decrypting and
reading every record: the beat task's real cost per hồ sơ).

Prints seconds and items/s for each, and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention.submission import DueItem, due_alerts, due_date


def _items(n: int, today: date, seed: int = 13) -> list[DueItem]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        # Closed, not yet submitted: mostly recent (most hồ sơ are submitted on time), a tail
        # of overdue ones.
        end = today - timedelta(days=rng.randint(0, 400) if rng.random() < 0.9 else rng.randint(400, 900))
        kept = end + timedelta(days=rng.randint(400, 1100)) if rng.random() < 0.05 else None
        settled = end + timedelta(days=rng.randint(0, 60)) if rng.random() < 0.02 else None
        out.append(
            DueItem(f"{i:024x}", end, settled, kept, "chinhpm.ubnd", f"Hồ sơ {i}", f"{i % 99 + 1:02d}.TH")
        )
    return out


def _time(label: str, n: int, fn: object) -> float:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    took = time.perf_counter() - start
    extra = f" → {len(result)} alerts" if isinstance(result, list) else ""
    print(f"{label:14} {took:8.3f} s  {n / took:12,.0f} items/s{extra}")
    return took


def pure(n: int) -> None:
    today = date(2027, 2, 13)
    items = _items(n, today)
    print(f"pure rules over {n:,} hồ sơ (today {today:%d/%m/%Y})")

    def baseline() -> list[str]:
        return [i.file_id for i in items if (i.end_date + timedelta(days=365) - today).days <= 30]

    base = _time("baseline", n, baseline)
    _time("due_date", n, lambda: [due_date(i.end_date, settled=i.settled) for i in items] and None)
    took = _time("due_alerts", n, lambda: due_alerts(items, today))
    print(
        f"due_alerts / baseline: {took / base:.1f}×;"
        f" target ≤ 2 s for 100k: {'met' if took <= 2 else 'NOT met'}"
    )


def store(files: int) -> None:
    from repository.records import SYSTEM, Record, Repository, new_record_id
    from repository.storage.local import LocalStore
    from retention.service import RetentionService

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = Repository(
            LocalStore(base / "s", fsync=False),
            LocalStore(base / "k", fsync=False),
            agency_id="000.00.18.H40",
        )
        today = date(2027, 2, 13)
        start = time.perf_counter()
        for i in range(files):
            end = today - timedelta(days=(i * 7) % 900)
            file = repo.create_file(
                {
                    "file_notation": f"{i % 99 + 1:02d}.TH{i // 99}",
                    "title": f"Hồ sơ {i}",
                    "maintenance": "10 năm",
                    "creator": "Văn phòng",
                    "start_date": (end - timedelta(days=30)).isoformat(),
                    "file_catalog": end.year - (1 if end.month == 1 and end.day < 31 else 0),
                },
                SYSTEM,
            )
            repo.transition_file(
                file.record_id,
                expected_version=1,
                actor=SYSTEM,
                permission=None,  # type: ignore[arg-type]
                action="file:close",
                state="closed",
                changes={"end_date": end.isoformat()},
            )
        print(f"\nstore path: {files} closed hồ sơ written in {time.perf_counter() - start:.1f} s")
        service = RetentionService(repo)
        _ = Record, new_record_id
        _time("all_alerts", files, lambda: service.all_alerts(today))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=300)
    args = parser.parse_args()
    pure(args.items)
    if args.files:
        store(args.files)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
