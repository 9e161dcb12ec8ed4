"""The counting harness the ``u*_counts.py`` scripts share (u5, u6, u8 had a copy each): an
installation in a work folder, a store whose calls are counted by method, one side (a tree's
code first on ``sys.path``) run in a subprocess, and the min/median of its rounds.

Only the standard library is imported here: Kho's modules are imported inside the functions,
after the subprocess has put its side's tree first on ``sys.path``."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
"""This tree (the "after" side)."""


def kho_env(work: Path) -> dict[str, str]:
    """A local, unsynced installation in ``work`` with no broker, Tika or Elasticsearch."""
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


def open_kho(work: Path) -> tuple[Any, Any]:
    """The installation of :func:`kho_env` and its people (``tests/support/kho_people``)."""
    os.environ.update(kho_env(work))
    from kho_people import make_people

    from kho.config import Settings
    from web.context import Kho

    kho = Kho(Settings.from_env(), follow_index=False)
    return kho, make_people(kho)


def count_calls(store: Any, names: Iterable[str]) -> Counter[str]:
    """Count ``store``'s calls of the methods ``names`` from now on (a LIST counted once, its
    answer read whole)."""
    calls: Counter[str] = Counter()
    for name in names:
        real = getattr(store, name, None)
        if real is None:
            continue

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            out = _real(*args, **kwargs)
            return list(out) if _name == "list" else out

        setattr(store, name, counted)
    return calls


def run_side(root: Path, module: str, call: str, prefix: str) -> dict[str, Any]:
    """``module.call`` (a Python expression of ``m`` and the work folder ``w``) in a subprocess
    with ``root``'s code first on ``sys.path``, in a fresh work folder; its JSON answer."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        code = (
            f"import sys; sys.path.insert(0, {str(root)!r});"
            f" sys.path.insert(1, {str(HERE / 'tests' / 'support')!r});"
            f" sys.path.insert(2, {str(HERE / 'bench')!r}); import {module} as m, json, pathlib;"
            f" w = pathlib.Path({str(work)!r}); print(json.dumps({call}))"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
        out = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(root)},
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rounds(rows: list[dict[str, Any]], key: str) -> tuple[dict[str, Any], str, str]:
    """The first round, " (NOT equal in every round)" or "" as its ``key`` counts were equal
    in every round, and the line of CPU and wall seconds (min/median)."""
    first = rows[0]
    same = all(r[key] == first[key] for r in rows)
    cpu, wall = [r["cpu"] for r in rows], [r["wall"] for r in rows]
    times = (f"       CPU s min/median {min(cpu):.3f}/{statistics.median(cpu):.3f}, "
             f"wall s min/median {min(wall):.3f}/{statistics.median(wall):.3f}")
    return first, "" if same else " (NOT equal in every round)", times


STORE_METHODS = ("get", "put", "put_if_absent", "list", "delete", "exists", "get_tagged")
"""The store methods the in-process call counts of a16/a18 count."""


def count_class_calls(cls: type, names: Iterable[str] = STORE_METHODS) -> Counter[str]:
    """Count the calls of methods ``names`` of every instance of ``cls`` from now on (the class
    itself patched, for stores the code under measurement makes; a LIST's answer is passed on
    as it comes, unlike :func:`count_calls`)."""
    calls: Counter[str] = Counter()
    for name in names:
        real = getattr(cls, name, None)
        if real is None:
            continue

        def counted(self: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        setattr(cls, name, counted)
    return calls
