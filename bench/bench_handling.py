"""Home-page counts and the daily overdue job of document handling at scale (a script, not a test).

    .venv/bin/python bench/bench_handling.py [--documents 100000] [--open 10000] [--calls 2000]

Builds the derived work index (``repository.handling.WorkIndex``, SQLite) directly with
``--documents`` incoming documents, one task each, ``--open`` of them still open (deadlines spread
from 40 days ago to 40 days ahead, so part are overdue or due soon), 500 handlers, 40 leaders
and two notices per document. Generating it through the service would write 100k documents and
~400k steps to the store first (hours at this size); the index rows are exactly what
``WorkIndex.put`` and ``WorkIndex.notify`` write for such documents, and ``kho handling
reindex`` rebuilds the same rows from the steps.

Times, in the same run:

* ``counts``: ``HandlingService.counts`` (all six home-page numbers) for random people — p50/p95;
* ``counts, no index``: the same queries with the work index's secondary indexes dropped — the
  baseline: a full scan of the task and notice tables per request;
* ``flag job``: ``HandlingService.flag_deadlines`` (flags, one notice per task and flag, audit
  event), first run and a second run the same day (nothing new to notify);
* ``home page``: the whole ``GET /`` (routing, session, policy, the intake and hồ sơ queries of
  the search index, notifications, the work counts, retention alerts, the template) through
  Flask's test client, logged in as the leader, the chuyên viên and the văn thư, p50/p95 over
  ``--requests`` requests, in a real installation (``bench/bench_web.setup_env``: local store,
  embedded index, accounts from ``tests/support/kho_people``) whose work index is the same
  ``--documents``/``--open`` index (the three people among its handlers and leaders) and whose
  search index holds ``--documents`` generated documents (``bench/bench_search.generate``,
  half the agency's, half the second unit's; one bulk ``search.reindex``). Baselines in the same
  run: a trivial route on the same app, and the counts call alone for the same person.
  ``--no-home`` skips it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from repository.accounts import AccountService
from repository.handling import HandlingService, WorkIndex
from repository.records import Actor, Repository
from repository.storage.local import LocalStore
from repository.workflow import load_holidays

AGENCY = "000.00.18.H40"
TODAY = date(2026, 6, 15)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build(
    index: WorkIndex,
    documents: int,
    open_tasks: int,
    rng: random.Random,
    handlers: list[str] | None = None,
    leaders: list[str] | None = None,
) -> None:
    handlers = handlers or [f"cv{i:03d}.ubnd" for i in range(500)]
    leaders = leaders or [f"ld{i:02d}.ubnd" for i in range(40)]
    units = [f"000.{i:02d}.18.H40" for i in range(1, 21)]
    open_ids = set(rng.sample(range(documents), open_tasks))
    with index.tx() as db:
        for n in range(documents):
            rid = f"{n:024x}"
            arrival = TODAY - timedelta(days=rng.randint(0, 360))
            is_open = n in open_ids
            deadline = (
                (TODAY + timedelta(days=rng.randint(-40, 40))) if is_open else arrival + timedelta(days=10)
            )
            status = rng.choice(("open", "in_progress", "reported")) if is_open else "done"
            finished = None if is_open else (arrival + timedelta(days=rng.randint(1, 14))).isoformat()
            handler, leader, unit = rng.choice(handlers), rng.choice(leaders), rng.choice(units)
            label = f"Công văn {n}/UBND-VP"
            db.execute(
                "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rid,
                    "den",
                    AGENCY,
                    arrival.isoformat(),
                    f"{n % 9999 + 1:02d}",
                    label,
                    "Về việc thử nghiệm",
                    "Bộ Nội vụ",
                    n % 4,
                    "in_progress" if is_open else "done",
                    deadline.isoformat(),
                    finished,
                    unit,
                    "",
                    "[]",
                    "",
                    3,
                    "[]",
                ),
            )
            db.execute(
                "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rid,
                    "1",
                    unit,
                    handler,
                    "",
                    leader,
                    deadline.isoformat(),
                    status,
                    finished,
                    1 if status == "reported" else 0,
                    "open",
                    label,
                    "Về việc thử nghiệm",
                    n % 4,
                ),
            )
            db.execute(
                "INSERT INTO task_units VALUES (?,?,?,?,?)", (rid, "1", unit, status, deadline.isoformat())
            )
            for seq, user in ((1, leader), (3, handler)):
                db.execute(
                    "INSERT INTO notices VALUES (?,?,?,?,?,?,?,?)",
                    (
                        user,
                        rid,
                        seq,
                        f"{arrival.isoformat()}T02:00:00.000000Z",
                        "assign",
                        "x",
                        label,
                        1 if not is_open or rng.random() < 0.7 else 0,
                    ),
                )


def time_counts(service: HandlingService, people: list[str], calls: int, rng: random.Random) -> list[float]:
    samples = []
    for _ in range(calls):
        who = Actor(user=rng.choice(people), system=True)
        t = time.perf_counter()
        service.counts(who, TODAY)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def time_home(args: argparse.Namespace, rng: random.Random) -> None:
    """The whole home page at this size (see the module docstring)."""
    import dataclasses
    import re

    from bench_search import generate, sentences
    from bench_web import line, setup_env
    from kho_people import AGENCY as PEOPLE_AGENCY
    from kho_people import PASSWORD, UNIT_B, make_people

    from kho.config import Settings
    from search.reindex import reindex
    from web.app import create_app
    from web.context import Kho

    work = Path(tempfile.mkdtemp(prefix="kho-bench-home-"))
    try:
        setup_env(work)
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        me = {who: people.usernames[who] for who in ("lanh_dao", "chuyen_vien", "van_thu")}
        started = time.perf_counter()
        build(
            kho.handling.index,
            args.documents,
            args.open,
            rng,
            handlers=[me["chuyen_vien"]] + [f"cv{i:03d}.ubnd" for i in range(499)],
            leaders=[me["lanh_dao"]] + [f"ld{i:02d}.ubnd" for i in range(39)],
        )
        print(f"\nhome page: work index built in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()

        def documents():  # type: ignore[no-untyped-def]
            for n, doc in enumerate(generate(args.documents, sentences())):
                owner = PEOPLE_AGENCY if n % 2 == 0 else UNIT_B
                yield dataclasses.replace(doc, id=f"{n:024x}", owner_unit=owner, grant_units=())

        report = reindex(kho.backend, documents(), batch_size=2000)
        print(
            f"home page: {report.written} generated documents in the search index in"
            f" {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        app = create_app(kho.settings, kho=kho)

        @app.get("/bench-baseline")
        def baseline() -> str:
            return "ok"

        def login(who: str):  # type: ignore[no-untyped-def]
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            done = client.post(
                "/login", data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": token}
            )
            assert done.status_code == 302, done.status_code
            return client

        def run(client, path: str, n: int) -> list[float]:  # type: ignore[no-untyped-def]
            for _ in range(5):
                client.get(path)
            out = []
            for _ in range(n):
                t = time.perf_counter()
                response = client.get(path)
                out.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            return out

        n = args.requests
        print(
            f"home page server time (in-process, {args.documents} documents, {args.open} open tasks,"
            f" {n} requests each):"
        )
        clients = {who: login(who) for who in me}
        print(line("baseline (trivial route)", run(clients["van_thu"], "/bench-baseline", n)))
        for who in ("lanh_dao", "chuyen_vien", "van_thu"):
            actor = people.actor(who)
            counts = kho.handling.counts(actor)
            calls = []
            for _ in range(n):
                t = time.perf_counter()
                kho.handling.counts(actor)
                calls.append((time.perf_counter() - t) * 1000)
            print(line(f"counts only: {who}", calls))
            print(line(f"GET / as {who}", run(clients[who], "/", n)), f" {counts}", flush=True)
        kho.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="home-page requests per person")
    parser.add_argument("--no-home", action="store_true", help="skip the whole home page timing")
    args = parser.parse_args()
    rng = random.Random(15)
    work = Path(tempfile.mkdtemp(prefix="kho-bench-handling-"))
    try:
        repo = Repository(
            LocalStore(work / "store", fsync=False),
            LocalStore(work / "keys", fsync=False),
            agency_id=AGENCY,
            clock=lambda: datetime(2026, 6, 15, 1, tzinfo=UTC),
        )
        accounts = AccountService(repo.store, repo.audit, repo.clock)
        index = WorkIndex(work / "work-index.sqlite")
        started = time.perf_counter()
        build(index, args.documents, args.open, rng)
        print(
            f"work index: {args.documents} documents, {args.open} open tasks, built in"
            f" {time.perf_counter() - started:.1f} s"
            f" ({(work / 'work-index.sqlite').stat().st_size / 1e6:.1f} MB)"
        )
        service = HandlingService(repo, accounts, index, load_holidays())
        people = [f"cv{i:03d}.ubnd" for i in range(500)] + [f"ld{i:02d}.ubnd" for i in range(40)]
        time_counts(service, people, 50, rng)  # warm the page cache
        fast = time_counts(service, people, args.calls, rng)
        print(
            f"counts (indexed)      p50 {pct(fast, 50):7.2f} ms  p95 {pct(fast, 95):7.2f} ms"
            f"  ({args.calls} calls)"
        )

        # Baseline: the same queries without the secondary indexes (a scan per request).
        copy_path = work / "no-index.sqlite"
        index.close()
        shutil.copy(work / "work-index.sqlite", copy_path)
        index = WorkIndex(work / "work-index.sqlite")
        service = HandlingService(repo, accounts, index, load_holidays())
        plain = WorkIndex(copy_path)
        with plain.tx() as db:
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            ).fetchall():
                db.execute(f"DROP INDEX {name}")
        slow_service = HandlingService(repo, accounts, plain, load_holidays())
        # WorkIndex() recreates its indexes on open; drop them again for the baseline connection.
        for (name,) in plain.read("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"):
            with plain.tx() as db:
                db.execute(f"DROP INDEX {name}")
        baseline_calls = max(20, args.calls // 20)
        slow = time_counts(slow_service, people, baseline_calls, rng)
        print(
            f"counts (no index)     p50 {pct(slow, 50):7.2f} ms  p95 {pct(slow, 95):7.2f} ms"
            f"  ({baseline_calls} calls,"
            " baseline)"
        )

        t = time.perf_counter()
        first = service.flag_deadlines(TODAY)
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        second = service.flag_deadlines(TODAY)
        second_s = time.perf_counter() - t
        print(f"flag job (first run)  {first_s:7.2f} s  {first}")
        print(f"flag job (same day)   {second_s:7.2f} s  {second}")
        t = time.perf_counter()
        baseline = slow_service.flag_deadlines(TODAY)
        print(f"flag job (no index)   {time.perf_counter() - t:7.2f} s  {baseline}  (baseline)")
        print(
            f"targets: counts p95 <= 100 ms: {'OK' if pct(fast, 95) <= 100 else 'MISSED'};"
            f" daily job <= 10 s: {'OK' if first_s <= 10 else 'MISSED'}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not args.no_home:
        time_home(args, rng)


if __name__ == "__main__":
    main()
