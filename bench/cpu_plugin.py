"""A pytest plugin that records the CPU each test and each fixture setup costs (measurement only).

Use: ``KHO_CPU_LOG=/tmp/x.jsonl pytest -p bench.cpu_plugin ...``; one JSON line per test phase
and per fixture setup: wall seconds, this process's CPU seconds (user+system) and the CPU of the
child processes reaped meanwhile (``RUSAGE_CHILDREN``; a child still running is not counted).
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from typing import Any

import pytest

_LOG = os.environ.get("KHO_CPU_LOG", "")


def _clock() -> tuple[float, float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _write(row: dict[str, Any]) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")


def _measure(kind: str, nodeid: str, name: str) -> Iterator[None]:
    start = _clock()
    yield
    end = _clock()
    _write(
        {
            "kind": kind,
            "test": nodeid,
            "name": name,
            "wall": round(end[0] - start[0], 4),
            "cpu": round(end[1] - start[1], 4),
            "children": round(end[2] - start[2], 4),
        }
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _measure("phase", item.nodeid, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _measure("phase", item.nodeid, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _measure("phase", item.nodeid, "teardown")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Iterator[None]:
    node = getattr(request, "node", None)
    yield from _measure("fixture", getattr(node, "nodeid", ""), fixturedef.argname)
