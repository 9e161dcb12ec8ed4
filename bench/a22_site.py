"""The installation the a22 bench scripts measure: a local-store Kho of the tree first on
``sys.path``, its people (one per role) and its web app, with the login limiter out of the way.

``argon``: ``"cheap"`` (the tests' cost: store calls and CPU of Kho's own work stand out) or
``"production"`` (the defaults of ``KHO_PASSWORD_*``, for timing the existence question)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import scratch

HERE = Path(__file__).resolve().parents[1]


def tree_first(argv: list[str]) -> Path:
    """Put the tree named by ``argv[1]`` (default ``.``) and the test helpers first on ``sys.path``."""
    tree = Path(argv[1] if len(argv) > 1 else ".").resolve()
    sys.path[:0] = [str(tree), str(HERE / "tests" / "support"), str(HERE / "bench")]
    return tree


def installation(label: str, argon: str = "cheap") -> tuple[Any, Any, Any]:
    """(kho, people, app) on a fresh data folder; call :func:`tree_first` before."""
    from ingest.testpki import TestPKI

    work = Path(scratch.mkdtemp())
    TestPKI.build().write_trust_dir(work / "trust")
    os.environ.update(
        KHO_DATA_DIR=str(work / "kho"),
        KHO_AGENCY_ID="000.00.18.H40",
        KHO_AGENCY_NAME="UBND",
        KHO_FSYNC="false",
        KHO_BROKER_URL="",
        KHO_TIKA_URL="",
        KHO_ELASTICSEARCH_URL="",
        KHO_COOKIE_SECURE="false",
        KHO_TRUST_DIR=str(work / "trust"),
        KHO_SESSION_SECRET=f"{label}-" + os.urandom(16).hex(),
    )
    if argon == "cheap":
        os.environ.update(KHO_PASSWORD_MEMORY_KB="1024", KHO_PASSWORD_TIME_COST="1")
    else:
        for name in ("KHO_PASSWORD_MEMORY_KB", "KHO_PASSWORD_TIME_COST"):
            os.environ.pop(name, None)
    from kho_people import make_people

    from kho.config import Settings
    from web.app import create_app
    from web.context import Kho

    kho = Kho(Settings.from_env())
    people = make_people(kho)
    app = create_app(kho.settings, kho=kho)
    return kho, people, app


def without_limiter(app: Any) -> None:
    """The login limiter out of the way (the scripts send many logins per name or address)."""
    app.extensions["kho_login_limiter"].attempts = 10**6
    app.extensions["kho_login_limiter"].per_address = 10**6


def measure_rounds(
    prepare: Callable[[], Callable[[], Any]], rounds: int, calls: dict[str, int]
) -> tuple[Any, list[float], list[float], dict[str, int]]:
    """Run ``prepare()`` (not measured) then its returned act (measured) ``rounds`` times: the
    last answer, wall and process CPU seconds per act, and the store ``calls`` of the last act
    (a counter :func:`count_harness.count_class_calls` fills, cleared before each act)."""
    wall: list[float] = []
    cpu: list[float] = []
    answer: Any = None
    for _ in range(rounds):
        act = prepare()
        calls.clear()  # type: ignore[attr-defined]
        start, start_cpu = time.perf_counter(), time.process_time()
        answer = act()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return answer, wall, cpu, dict(calls)


Row = tuple[str, str, list[float], list[float], dict[str, int]]
"""(label, answer, wall seconds, CPU seconds, store calls) of one measured request kind."""


def print_rows(rows: list[Row], label_width: int = 44, answer_width: int = 22) -> None:
    """One line per row: min / median wall and process CPU µs and the store calls."""
    for label, answer, wall, cpu, counted in rows:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counted.items()))
        print(
            f"{label:{label_width}} {answer:{answer_width}} wall min {min(wall) * 1e6:7.0f}"
            f" med {statistics.median(wall) * 1e6:7.0f} µs  cpu min {min(cpu) * 1e6:7.0f}"
            f" med {statistics.median(cpu) * 1e6:7.0f} µs  store: {shown}"
        )
