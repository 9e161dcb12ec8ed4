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
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def _env(work: Path) -> dict[str, str]:
    return {
        "KHO_DATA_DIR": str(work / "kho"),
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
        "KHO_FSYNC": "false",
        "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "",
        "KHO_ELASTICSEARCH_URL": "",
        "KHO_TOKEN_FILE": str(work / "tokens.json"),
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
    }


def restore_run(work: Path, docs: int) -> dict[str, Any]:
    os.environ.update(_env(work))
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
    os.environ.update(_env(work))
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
    calls: Counter[str] = Counter()
    store = kho.repo.store
    for name in ("get", "list", "exists", "put_if_absent", "put", "put_new"):
        real = getattr(store, name, None)
        if real is None:
            continue

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            out = _real(*args, **kwargs)
            return list(out) if _name == "list" else out

        setattr(store, name, counted)
    cpu, wall = time.process_time(), time.perf_counter()
    h.take(doc.record_id, Act.DIRECT, expected_seq=1, actor=leader,
           users=[people.usernames["chuyen_vien_b"]], deadline=deadline)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    kho.close()
    return {"code": __import__("repository.handling").handling.__file__, "calls": dict(calls),
            "cpu": cpu, "wall": wall}


def _side(root: Path, what: str, docs: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"u5-{what}-"))
    try:
        code = (
            f"import sys; sys.path.insert(0, {str(root)!r});"
            f" sys.path.insert(1, {str(HERE / 'tests' / 'support')!r});"
            f" sys.path.insert(2, {str(HERE / 'bench')!r}); import u5_counts as m, json, pathlib;"
            f" w = pathlib.Path({str(work)!r});"
            + (f" print(json.dumps(m.restore_run(w, {docs})))" if what == "restore"
               else " print(json.dumps(m.handling_run(w)))")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
        out = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(root)},
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
            first = rows[0]
            same = all(r[key] == first[key] for r in rows)
            cpu, wall = [r["cpu"] for r in rows], [r["wall"] for r in rows]
            print(f"{side:6s} {first['code']}")
            note = "" if same else " (NOT equal in every round)"
            print(f"       {key}: {dict(sorted(first[key].items()))}{note}")
            print(f"       CPU s min/median {min(cpu):.3f}/{statistics.median(cpu):.3f}, "
                  f"wall s min/median {min(wall):.3f}/{statistics.median(wall):.3f}")


if __name__ == "__main__":
    main()
