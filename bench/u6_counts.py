"""NOTES-u6: what u6's two changes cost, counted, the "before" trees' code beside this tree's.

    .venv/bin/python bench/u6_counts.py /tmp/base-u6 /tmp/base-u6u5 [--docs 100] [--files 2000]

Three rounds, each running every side interleaved (the bases given, then this tree), each side
in a subprocess with its own tree first on ``sys.path`` (the venv is this tree's):

- ``reindex``: ``docs`` registered văn bản đến, each submitted and directed (two steps, no hold,
  nothing withheld): the store calls of one ``rebuild_index()`` by method, and its CPU and wall
  seconds. The withheld-step lookup must cost nothing here (it is read only when someone the
  steps reached lacks sight).
- ``withheld``: one document whose writer died right after committing its DIRECT step; a hold
  is placed; ``rebuild_index()`` three times under the hold; the hold released;
  ``rebuild_index()`` once more. Counts the ``handling:distribute-withheld`` events after the
  reindexes under hold, and whether the handler sees the document after the release.
- ``walk``: ``collect_files`` over a folder of ``files`` regular files in 20 subfolders and 5
  FIFOs: how many paths it lists, and its wall seconds.

Prints min/median of the three rounds; the counts must be equal in every round.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from count_harness import HERE, count_calls, open_kho, rounds, run_side

COUNTED = ("get", "list", "exists", "put_if_absent", "put", "put_new")


def _handled(kho: Any, people: Any, number: str, *, direct: bool = True) -> str:
    from kho_testing import incoming

    from kho.timeutil import vn_date
    from repository.workflow import Act

    h = kho.handling
    doc = kho.repo.create_document("den", incoming(code_number=number), None, None, people.actor("van_thu"))
    h.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
           users=[people.usernames["lanh_dao"]])
    if direct:
        h.take(doc.record_id, Act.DIRECT, expected_seq=1, actor=people.actor("lanh_dao"),
               users=[people.usernames["chuyen_vien_b"]],
               deadline=(vn_date(h.clock()) + timedelta(days=14)).isoformat())
    return str(doc.record_id)


def reindex_run(work: Path, docs: int) -> dict[str, Any]:
    kho, people = open_kho(work)
    for n in range(docs):
        _handled(kho, people, str(1000 + n))
    calls = count_calls(kho.repo.store, COUNTED)
    cpu, wall = time.process_time(), time.perf_counter()
    kho.handling.rebuild_index()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("repository.handling").handling.__file__, "counts": dict(calls),
            "cpu": cpu, "wall": wall}


class _Died(BaseException):
    pass


def withheld_run(work: Path) -> dict[str, Any]:
    from kho.timeutil import vn_date
    from repository.handling import step_key
    from repository.workflow import Act
    from retention.holds import Holds

    kho, people = open_kho(work)
    rid = _handled(kho, people, "700", direct=False)
    store, h = kho.repo.store, kho.handling
    real = store.put_if_absent

    def dying(key: str, *args: Any, **kwargs: Any) -> Any:
        out = real(key, *args, **kwargs)
        if key == step_key(rid, 2):
            raise _Died
        return out

    store.put_if_absent = dying
    try:
        h.take(rid, Act.DIRECT, expected_seq=1, actor=people.actor("lanh_dao"),
               users=[people.usernames["chuyen_vien_b"]],
               deadline=(vn_date(h.clock()) + timedelta(days=14)).isoformat())
    except _Died:
        pass
    store.put_if_absent = real
    leader, handler = people.actor("lanh_dao"), people.actor("chuyen_vien_b")
    order = Holds(kho.repo).place([rid], "Phục vụ thanh tra", actor=leader)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(3):
        h.rebuild_index()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    events = sum(1 for e in kho.repo.audit.events()
                 if e.record_id == rid and e.action == "handling:distribute-withheld")
    under_hold = kho.repo.may_see(handler, kho.repo._load(rid))
    Holds(kho.repo).release(order["order_id"], "Xong thanh tra", actor=leader)
    h.rebuild_index()
    after = kho.repo.may_see(handler, kho.repo._load(rid))
    kho.close()
    return {"code": __import__("repository.handling").handling.__file__,
            "counts": {"withheld events after 3 reindexes under hold": events,
                       "handler sees under hold": int(under_hold),
                       "handler sees after release + reindex": int(after)},
            "cpu": cpu, "wall": wall}


def walk_run(work: Path, files: int) -> dict[str, Any]:
    from ingest.bulk import collect_files

    folder = work / "in"
    for n in range(files):
        sub = folder / f"so-{n % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"van-ban-{n:05d}.txt").write_bytes(b"x")
    for n in range(5):
        os.mkfifo(folder / f"so-{n:02d}" / f"ong-dan-{n}.pdf")
    cpu, wall = time.process_time(), time.perf_counter()
    found = collect_files([folder])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"code": __import__("ingest.bulk").bulk.__file__, "counts": {"listed": len(found)},
            "cpu": cpu, "wall": wall}


def _side(root: Path, what: str, args: argparse.Namespace) -> dict[str, Any]:
    call = {"reindex": f"reindex_run(w, {args.docs})", "withheld": "withheld_run(w)",
            "walk": f"walk_run(w, {args.files})"}[what]
    return run_side(root, "u6_counts", f"m.{call}", f"u6-{what}-")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bases", type=Path, nargs="+")
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    sides = [(str(b), b) for b in args.bases] + [("after", HERE)]
    for what in ("reindex", "withheld", "walk"):
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
        for _ in range(3):
            for name, root in sides:
                runs[name].append(_side(root, what, args))
        print(f"== {what}")
        for name, rows in runs.items():
            first, note, times = rounds(rows, "counts")
            print(f"{name:16s} {first['code']}")
            print(f"       counts: {dict(sorted(first['counts'].items()))}{note}")
            print(times)


if __name__ == "__main__":
    main()
