"""NOTES-u8: what u8's changes cost, counted, main's code beside this tree's.

    .venv/bin/python bench/u8_counts.py /tmp/base-u8 [--files 2000] [--legacy 200]

Three rounds, main then this tree interleaved, each side in a subprocess with its own tree
first on ``sys.path`` (the venv is this tree's), local store:

- ``walk``: ``collect_files`` over ``files`` regular files in 20 subfolders, 5 FIFOs and 5
  symbolic links (to a file, a folder, a FIFO, nothing, a file): paths listed, wall seconds.
- ``recall``: 20 văn bản đi, each recalled once (``recall_outgoing``): store calls by method
  for the 20, CPU and wall seconds.
- ``recall-legacy``: ``legacy`` recalls of văn bản đi written in the old form (random id,
  version 1), then one new outgoing recall: its store calls (the old-recall lookup's cost).
- ``reindex``: 50 văn bản đến submitted and directed, nothing withheld: the store calls of one
  ``rebuild_index()`` (the log is read only on the way to a grant: none here).
- ``fsck``: ``fsck()`` over the same 50 documents: its store calls.

Prints min/median of the three rounds; the counts must be equal in every round.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from count_harness import HERE, count_calls, open_kho, rounds, run_side


def _counted(store: Any) -> Counter[str]:
    return count_calls(store, ("get", "list", "exists", "put_if_absent", "put", "delete"))


def _outgoing(kho: Any, people: Any, n: int) -> str:
    from kho_testing import outgoing, pdf_bytes

    doc = kho.repo.create_document("di", outgoing(subject=f"Quyết định {n}"), pdf_bytes(f"di{n}"),
                                   "qd.pdf", people.actor("van_thu"))
    return str(doc.record_id)


def recall_run(work: Path) -> dict[str, Any]:
    from retention.recall import Recalls

    kho, people = open_kho(work)
    ids = [_outgoing(kho, people, n) for n in range(20)]
    recalls = Recalls(kho.repo, kho.backend)
    calls = _counted(kho.repo.store)
    cpu, wall = time.process_time(), time.perf_counter()
    for rid in ids:
        recalls.recall_outgoing(rid, "CV 15/UBND-VP", "Sai thẩm quyền", actor=people.actor("van_thu"))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("retention.recall").recall.__file__, "counts": dict(calls), "cpu": cpu,
            "wall": wall}


def recall_legacy_run(work: Path, legacy: int) -> dict[str, Any]:
    from retention.recall import Recalls

    kho, people = open_kho(work)
    rid = _outgoing(kho, people, 0)
    for n in range(legacy):
        body = {"at": "2027-03-01T03:00:00.000000Z", "by": "vanthu", "direction": "di",
                "format_version": 1, "order_ref": "CV", "reason": "R", "recall_id": f"{n:016x}",
                "record_id": f"0192f3a4b5c6d7e8f9a{n:05x}", "state": "recorded", "version": 1}
        kho.repo.store.put_if_absent(f"retention/recalls/{n:016x}/v000001", json.dumps(body).encode())
    recalls = Recalls(kho.repo, kho.backend)
    calls = _counted(kho.repo.store)
    cpu, wall = time.process_time(), time.perf_counter()
    recalls.recall_outgoing(rid, "CV 15/UBND-VP", "Sai thẩm quyền", actor=people.actor("van_thu"))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("retention.recall").recall.__file__, "counts": dict(calls), "cpu": cpu,
            "wall": wall}


def _handled(kho: Any, people: Any, docs: int) -> None:
    from kho_testing import incoming

    from kho.timeutil import vn_date
    from repository.workflow import Act

    h = kho.handling
    for n in range(docs):
        doc = kho.repo.create_document("den", incoming(code_number=str(1000 + n)), None, None,
                                       people.actor("van_thu"))
        h.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
               users=[people.usernames["lanh_dao"]])
        h.take(doc.record_id, Act.DIRECT, expected_seq=1, actor=people.actor("lanh_dao"),
               users=[people.usernames["chuyen_vien_b"]],
               deadline=(vn_date(h.clock()) + timedelta(days=14)).isoformat())


def reindex_run(work: Path) -> dict[str, Any]:
    kho, people = open_kho(work)
    _handled(kho, people, 50)
    calls = _counted(kho.repo.store)
    cpu, wall = time.process_time(), time.perf_counter()
    kho.handling.rebuild_index()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("repository.handling").handling.__file__, "counts": dict(calls),
            "cpu": cpu, "wall": wall}


def fsck_run(work: Path) -> dict[str, Any]:
    from repository.fsck import fsck

    kho, people = open_kho(work)
    _handled(kho, people, 50)
    calls = _counted(kho.repo.store)
    cpu, wall = time.process_time(), time.perf_counter()
    fsck(kho.repo)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("repository.fsck").fsck.__file__, "counts": dict(calls),
            "cpu": cpu, "wall": wall}


def walk_run(work: Path, files: int) -> dict[str, Any]:
    from ingest.bulk import collect_files

    folder, outside = work / "in", work / "outside"
    outside.mkdir(parents=True)
    (outside / "f.txt").write_bytes(b"x")
    os.mkfifo(outside / "fifo")
    for n in range(files):
        sub = folder / f"so-{n % 20:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"van-ban-{n:05d}.txt").write_bytes(b"x")
    for n in range(5):
        os.mkfifo(folder / f"so-{n:02d}" / f"ong-dan-{n}.pdf")
    for n, target in enumerate([outside / "f.txt", outside, outside / "fifo", outside / "none",
                                outside / "f.txt"]):
        (folder / f"so-{n:02d}" / f"lien-ket-{n}").symlink_to(target)
    cpu, wall = time.process_time(), time.perf_counter()
    found = collect_files([folder])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"code": __import__("ingest.bulk").bulk.__file__, "counts": {"listed": len(found)},
            "cpu": cpu, "wall": wall}


def _side(root: Path, what: str, args: argparse.Namespace) -> dict[str, Any]:
    call = {"walk": f"walk_run(w, {args.files})", "recall": "recall_run(w)",
            "recall-legacy": f"recall_legacy_run(w, {args.legacy})", "reindex": "reindex_run(w)",
            "fsck": "fsck_run(w)"}[what]
    return run_side(root, "u8_counts", f"m.{call}", f"u8-{what}-")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--legacy", type=int, default=200)
    parser.add_argument("--only", default="walk,recall,recall-legacy,reindex,fsck")
    args = parser.parse_args()
    sides = [("main", args.base), ("u8", HERE)]
    for what in args.only.split(","):
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
        for _ in range(3):
            for name, root in sides:
                runs[name].append(_side(root, what, args))
        print(f"== {what}")
        for name, rows in runs.items():
            first, note, times = rounds(rows, "counts")
            print(f"{name:5s} counts: {dict(sorted(first['counts'].items()))}{note}  ({first['code']})")
            print(times)


if __name__ == "__main__":
    main()
