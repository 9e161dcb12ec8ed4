"""NOTES-u5: what two of u5's changes cost or save, counted, main's code beside this tree's.

    .venv/bin/python bench/u5_counts.py /tmp/base-u5 [--docs 200]

Three rounds, each running both sides interleaved, each side in a subprocess with its own tree
first on ``sys.path`` (the venv is this tree's):

- ``restore``: an installation with ``docs`` documents (one key each), ``kho backup --to
  --keys-to`` into local folders, one document more, then ``kho restore --force``. Counts the
  GETs of the key backup's manifests and blobs (``retention.operations.open_store`` wrapped for
  the key backup's URL, as the test does), and the CPU and wall seconds of the restore command.
- ``handling``: a registered văn bản đến submitted to the lãnh đạo; the lãnh đạo directs it to
  a chuyên viên (``take(DIRECT)``): the store calls of that one step by method (the legal-hold
  checks u5 added read the holds and the record's hold events), and its CPU and wall seconds.

Prints min/median of the three rounds; the counts must be equal in every round.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from count_harness import HERE, count_calls, kho_env, rounds, run_side

COUNTED = ("get", "list", "exists", "put_if_absent", "put", "put_new")


def restore_run(work: Path, docs: int) -> dict[str, Any]:
    os.environ.update(kho_env(work))
    os.environ.pop("KHO_TOKEN", None)
    from click.testing import CliRunner
    from kho_people import make_people
    from kho_testing import incoming

    import retention.operations as ops
    from kho.config import Settings
    from web.cli import main
    from web.context import Kho

    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    clerk = people.actor("van_thu")
    for n in range(docs):
        kho.repo.create_document("den", incoming(code_number=str(1000 + n)), None, None, clerk)
    media, keys = f"file://{work / 'usb'}", f"file://{work / 'keys-backup'}"
    runner = CliRunner()
    made = runner.invoke(main, ["backup", "--to", media, "--keys-to", keys])
    assert made.exit_code == 0, made.output
    kho.repo.create_document("den", incoming(code_number="9999"), None, None, clerk)
    kho.close()

    reads: Counter[str] = Counter()
    real = ops.open_store

    class Counting:
        def __init__(self, store: Any) -> None:
            self.store = store

        def get(self, key: str, version_id: str | None = None) -> bytes:
            reads["manifest" if key.startswith("backups/") else key.split("/")[0]] += 1
            return self.store.get(key, version_id)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.store, name)

    def opening(url: str, **options: Any) -> Any:
        store = real(url, **options)
        return Counting(store) if url == keys else store

    ops.open_store = opening  # type: ignore[assignment]
    cpu, wall = time.process_time(), time.perf_counter()
    done = runner.invoke(main, ["restore", "--from", media, "--keys-from", keys, "--force"])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert done.exit_code == 0, done.output
    return {"code": ops.__file__, "reads": dict(reads), "cpu": cpu, "wall": wall}


def handling_run(work: Path) -> dict[str, Any]:
    os.environ.update(kho_env(work))
    from kho_people import make_people
    from kho_testing import incoming

    from kho.config import Settings
    from kho.timeutil import vn_date
    from repository.workflow import Act
    from web.context import Kho

    kho = Kho(Settings.from_env(), follow_index=False)
    people = make_people(kho)
    doc = kho.repo.create_document("den", incoming(code_number="501"), None, None, people.actor("van_thu"))
    h = kho.handling
    h.take(doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
           users=[people.usernames["lanh_dao"]])
    leader = people.actor("lanh_dao")
    deadline = (vn_date(h.clock()) + timedelta(days=14)).isoformat()
    calls = count_calls(kho.repo.store, COUNTED)
    cpu, wall = time.process_time(), time.perf_counter()
    h.take(doc.record_id, Act.DIRECT, expected_seq=1, actor=leader,
           users=[people.usernames["chuyen_vien_b"]], deadline=deadline)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("repository.handling").handling.__file__, "calls": dict(calls),
            "cpu": cpu, "wall": wall}


def _side(root: Path, what: str, docs: int) -> dict[str, Any]:
    call = f"m.restore_run(w, {docs})" if what == "restore" else "m.handling_run(w)"
    return run_side(root, "u5_counts", call, f"u5-{what}-")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--docs", type=int, default=200)
    args = parser.parse_args()
    for what, key in (("restore", "reads"), ("handling", "calls")):
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for _ in range(3):
            for side, root in (("before", args.base), ("after", HERE)):
                runs[side].append(_side(root, what, args.docs))
        print(f"== {what}" + (f" ({args.docs} documents backed up, 1 after)" if what == "restore" else ""))
        for side, rows in runs.items():
            first, note, times = rounds(rows, key)
            print(f"{side:6s} {first['code']}")
            print(f"       {key}: {dict(sorted(first[key].items()))}{note}")
            print(times)


if __name__ == "__main__":
    main()
