"""JSON nested too deep is refused before the parser nears the interpreter's recursion limit
(session 35, u15). The CI flake in ``test_anchor_hostile_rv19.py::
test_an_event_nested_too_deep…[s3]``: ``json.loads`` of a planted ``[[[…]]]`` recursed to the
limit; when the garbage collector ran there (an allocation of the parser's lists starts it) a
finaliser of the S3 client had no stack left and failed, an "unraisable" exception that pytest's
hook then could not even format. These tests make the collector run at every depth of the parse
and count the finalisers that failed."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kho import jsontext
from kho.errors import FormatInvalid, KhoError
from kho.files import read_json_file
from repository import formats
from repository.audit import parse_json

DEEP = "[" * 5_000 + "]" * 5_000


class _Finalised:
    """Cyclic garbage whose finaliser runs a little Python code, as a connection's does."""

    def __init__(self, failed: list[str]) -> None:
        self.me = self
        self.failed = failed

    def __del__(self) -> None:
        try:
            "".join(str(n) for n in range(3))
        except RecursionError:
            self.failed.append("RecursionError")
            raise


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@pytest.fixture
def collector_at_every_depth() -> Iterator[Callable[[Callable[[], Any]], list[str]]]:
    """Runs ``parse`` once per collector threshold from 100 levels short of where the parser's
    nesting meets the recursion limit to a few past it, with fresh finalisable garbage, so that
    one collection falls at each of those depths; returns the finalisers that failed for want
    of stack."""
    threshold = gc.get_threshold()
    hook = sys.unraisablehook
    failed: list[str] = []
    sys.unraisablehook = lambda unraisable: failed.append(type(unraisable.exc_value).__name__)

    def run(parse: Callable[[], Any]) -> list[str]:
        room = sys.getrecursionlimit() - _depth()
        for n in range(room - 100, room + 10):
            gc.collect(0)
            gc.set_threshold(n)
            for _ in range(3):
                _Finalised(failed)
            try:
                parse()
            except (KhoError, ValueError):
                pass
            gc.set_threshold(*threshold)
        gc.collect(0)
        return failed

    try:
        yield run
    finally:
        gc.set_threshold(*threshold)
        sys.unraisablehook = hook


def test_a_deep_stored_event_leaves_the_collector_its_stack(
    collector_at_every_depth: Callable[[Callable[[], Any]], list[str]],
) -> None:
    assert collector_at_every_depth(lambda: parse_json(DEEP.encode())) == []


def test_a_deep_stored_object_leaves_the_collector_its_stack(
    collector_at_every_depth: Callable[[Callable[[], Any]], list[str]],
) -> None:
    kind = formats.AUDIT_CHECKPOINT.name
    assert collector_at_every_depth(lambda: formats.parse(kind, DEEP.encode())) == []


def test_a_deep_file_leaves_the_collector_its_stack(
    collector_at_every_depth: Callable[[Callable[[], Any]], list[str]], tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP, encoding="utf-8")
    failed = collector_at_every_depth(lambda: read_json_file(path, code="X_INVALID", label="thử"))
    assert failed == []


@pytest.mark.parametrize("raw", [DEEP, DEEP.encode(), DEEP.encode("utf-16")], ids=["str", "utf-8", "utf-16"])
def test_nesting_past_the_bound_is_a_value_error_before_parsing(raw: str | bytes) -> None:
    with pytest.raises(jsontext.NestedTooDeep):
        jsontext.loads(raw)
    with pytest.raises(FormatInvalid):
        parse_json(raw if isinstance(raw, bytes) else raw.encode())


def test_nesting_up_to_the_bound_and_brackets_in_strings_still_parse() -> None:
    bound = jsontext.MAX_DEPTH
    nested: list[Any] = []
    for _ in range(bound - 1):
        nested = [nested]
    assert jsontext.loads("[" * bound + "]" * bound) == nested
    quoted = {"note": "[" * 10_000 + '\\"{' * 500, "n": [[1], {"a": [2]}]}
    assert jsontext.loads(json.dumps(quoted)) == quoted
    assert jsontext.loads(json.dumps(quoted).encode("utf-16")) == quoted
    assert jsontext.nesting_depth('{"a": [[1], "]]]]"], "b": {"c": []}}') == 3
    with pytest.raises(jsontext.NestedTooDeep):
        jsontext.loads("[" * (bound + 1) + "]" * (bound + 1))
