"""The verification worker's CPU cuts of m17 change no answer (bench/NOTES-m17.md).

* ``_reader._headroom`` counts the nested calls that still fit as before, without carrying the
  ``RecursionError`` up through every level;
* a worker's start freezes what it has imported out of the collector's full collections;
* the name checks of one subject value are remembered, with the same messages.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.signatures import _reader, rules

ROOT = Path(__file__).resolve().parents[2]


def _headroom_before() -> int:
    """``_reader._headroom`` as it was written before m17 (main at 3c57019), verbatim."""
    reached = 0

    def down(level: int) -> None:
        nonlocal reached
        reached = level
        down(level + 1)

    try:
        down(1)
    except RecursionError:
        pass
    return reached


def _at_depth(depth: int, count: Callable[[], int]) -> int:
    """``count()`` asked ``depth`` nested Python calls below this one."""
    if depth:
        return _at_depth(depth - 1, count)
    return count()


@pytest.mark.parametrize("limit", [1000, 2500])
@pytest.mark.parametrize("depth", [0, 1, 2, 3, 50, 400, 900])
def test_the_headroom_is_the_same_count_at_any_depth(limit: int, depth: int) -> None:
    former = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        before = _at_depth(depth, _headroom_before)
        now = _at_depth(depth, _reader._headroom)
    finally:
        sys.setrecursionlimit(former)
    assert now == before
    assert 0 < now < limit


def test_the_headroom_is_zero_where_no_call_fits() -> None:
    found: list[tuple[int, int]] = []

    def deepest() -> None:
        try:
            deepest()
        except RecursionError:
            found.append((_headroom_before(), _reader._headroom()))

    deepest()
    assert found[0] == (0, 0)


def test_a_started_worker_has_frozen_what_it_imported() -> None:
    # in a fresh interpreter, as a pool worker starts (freezing this test process would keep
    # every object of the test session out of the collector)
    code = (
        "import gc\n"
        "from ingest.signatures import _pool\n"
        "assert gc.get_freeze_count() == 0\n"
        "_pool._warm_up()\n"
        "print(gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert int(done.stdout.strip()) > 10_000  # the signature stack's modules and their tables


@pytest.mark.parametrize(
    "name",
    ["Nguyễn Văn A", "Nguye\u0302\u0303n Văn A", "Nguyễn Văn А", "ÐINH VĂN A", "Nguyễn\u202e Văn"],
)
def test_a_subject_value_checked_again_is_answered_from_memory_with_the_same_messages(
    name: str,
) -> None:
    subject = {"common_name": name, "organization_name": "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"}
    first = rules.name_problems(subject)
    hits = rules._value_problems.cache_info().hits
    again = rules.name_problems(dict(subject))
    assert again == first
    assert rules._value_problems.cache_info().hits == hits + 2  # both values remembered
    if name != "Nguyễn Văn A":
        assert first and all(f"“{rules.shown_name(name)}”" in problem for problem in first)
