"""rv26: the cost of the home page's counts (``HandlingService.counts``) for a chuyên viên with N
open tasks, on the tree this script runs from (run it from main's tree for the baseline).

    python bench/rv26_home_counts.py [--tasks 20] [--calls 30] [--seen] [--s3] [--es] [--work]

``--s3`` (rv29): the store on the S3 gateway of the test services (``KHO_TEST_S3_*``, from
``scripts/services.sh env``) in a new bucket, instead of a local folder; ``--es``: the search
index on the test Elasticsearch (``KHO_TEST_ELASTICSEARCH_URL``, a new alias, dropped at the end)
instead of the embedded one. ``--work`` (rv31): each call is what ``GET /api/work`` does in
this tree (the counts and "Việc của tôi"; with one ``sight`` where the tree has it), not the
counts alone.

Prints wall and CPU ms per call (min / median of the rounds) and the store GETs per call. The
counts now ask the access policy of every document they count (one load each), as Việc của tôi
already did."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import scratch

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]  # this tree's code, not the venv's


def bench_kho(prefix: str, *, s3: bool, es: bool) -> tuple[Any, Any]:
    """A new installation in a temporary folder with its people (``kho_people``): the store
    on the test S3 gateway (``s3``, a new bucket) or in the folder, the index on the test
    Elasticsearch (``es``, a new alias: drop it with ``kho.backend.drop_all()``) or embedded."""
    from kho_people import make_people
    from kho_retention import kho_env, s3_env

    tmp = Path(scratch.mkdtemp(prefix=prefix))
    os.environ.update(s3_env(tmp) if s3 else kho_env(tmp))
    if es:
        os.environ.update(
            KHO_ELASTICSEARCH_URL=os.environ["KHO_TEST_ELASTICSEARCH_URL"],
            KHO_ELASTICSEARCH_INDEX=f"kho-bench-{tmp.name.lower()}",
            KHO_ELASTICSEARCH_REPLICAS="0",
        )
    from kho.config import Settings
    from web.context import Kho

    kho = Kho(Settings.from_env())
    return kho, make_people(kho)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seen", action="store_true", help="the handler opened every document")
    parser.add_argument("--s3", action="store_true", help="the store on the test S3 gateway")
    parser.add_argument("--es", action="store_true", help="the index on the test Elasticsearch")
    parser.add_argument("--work", action="store_true", help="GET /api/work's calls, not the counts alone")
    args = parser.parse_args()
    from kho_testing import incoming

    kho, people = bench_kho("rv26bench", s3=args.s3, es=args.es)
    from kho.timeutil import vn_date
    from repository.workflow import Act

    h = kho.handling
    clerk, leader, handler = people.actor("van_thu"), people.actor("lanh_dao"), people.actor("chuyen_vien")
    deadline = (vn_date(h.clock()) + timedelta(days=1)).isoformat()
    for n in range(args.tasks):
        doc = kho.repo.create_document("den", incoming(code_number=str(7000 + n)), None, None, clerk)
        h.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=clerk, users=[people.usernames["lanh_dao"]])
        h.take(
            doc.record_id,
            Act.DIRECT,
            expected_seq=1,
            actor=leader,
            users=[people.usernames["chuyen_vien"]],
            deadline=deadline,
        )
        if args.seen:  # no unseen notice left: only the tasks name the documents
            h._mark_seen(doc.record_id, 2, handler)
    gets, lists = [0], [0]
    store_get, store_list = kho.repo.store.get, kho.repo.store.list

    def counted(key: str, *a: object, **k: object) -> bytes:
        gets[0] += 1
        return store_get(key, *a, **k)

    def listed(prefix: str, *a: object, **k: object) -> object:
        lists[0] += 1
        return store_list(prefix, *a, **k)

    kho.repo.store.get = counted  # type: ignore[method-assign]  # (a bench's probe, not product code)
    kho.repo.store.list = listed  # type: ignore[method-assign]

    def call() -> None:
        if not args.work:
            h.counts(handler)
        elif hasattr(h, "sight"):  # rv31: one policy question per document for the answer
            sight = h.sight(handler)
            h.counts(handler, sight=sight)
            h.my_work(handler, sight=sight)
        else:
            h.counts(handler)
            h.my_work(handler)

    first = h.counts(handler)
    assert first.open == args.tasks
    print(f"inbox (unseen notices) {first.inbox}")
    walls, cpus = [], []
    for _ in range(args.rounds):
        gets[0] = lists[0] = 0
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.calls):
            call()
        walls.append((time.perf_counter() - w0) * 1000 / args.calls)
        cpus.append((time.process_time() - c0) * 1000 / args.calls)
    import repository.handling
    import repository.storage.group

    for module in (repository.handling, repository.storage.group):
        assert Path(module.__file__ or "").is_relative_to(ROOT), module.__file__
    print(
        f"tree={ROOT.name} tasks={args.tasks} seen={args.seen} s3={args.s3} es={args.es} work={args.work}"
        f" wall_ms min/median {min(walls):.2f}/{statistics.median(walls):.2f}"
        f" cpu_ms min/median {min(cpus):.2f}/{statistics.median(cpus):.2f}"
        f" gets/call {gets[0] / args.calls:.1f} lists/call {lists[0] / args.calls:.1f}"
    )
    if args.es:
        kho.backend.drop_all()
    kho.close()


if __name__ == "__main__":
    main()
