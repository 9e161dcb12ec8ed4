"""What a run of the suite's parts cost: per part and per test file, from the JUnit XML files
scripts/test.sh leaves (one per part, ``<part>.xml``, and ``<part>.time``: wall, user and system
seconds of the part's pytest and its children).

Usage: ``python3 scripts/test_timings.py FOLDER [N]`` prints each part's tests, summed test time,
wall and CPU, then the N (15) heaviest test files by summed test time (setup + call + teardown,
as pytest's junit writer counts a test). Standard library only: it runs after the suite, with
or without the project's environment.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    file: str
    seconds: float
    outcome: str
    """passed, failed, error or skipped."""


def test_file(classname: str, root: Path) -> str:
    """The test file of a junit ``classname`` (``tests.web.test_api`` or
    ``tests.web.test_api.TestClass``): the longest prefix that names a file under ``root``."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (root / candidate).is_file():
            return candidate
    return "/".join(parts) + ".py"


def read_cases(xml_file: Path, root: Path) -> list[Case]:
    cases = []
    for case in ET.parse(xml_file).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
        cases.append(Case(test_file(case.get("classname", ""), root), float(case.get("time", 0)), outcome))
    return cases


def read_time(time_file: Path) -> tuple[float, float] | None:
    """(wall, CPU) seconds of a part, or None when its time file is missing or unreadable."""
    try:
        wall, user, system = (float(v) for v in time_file.read_text().split()[:3])
    except (OSError, ValueError):
        return None
    return wall, user + system


def report(folder: Path, heaviest: int, root: Path) -> str:
    lines = [f"Timings of this run ({folder}):"]
    lines.append("part                 tests   test-time s    wall s     CPU s")
    by_file: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for xml_file in sorted(folder.glob("*.xml")):
        cases = read_cases(xml_file, root)
        for case in cases:
            by_file[case.file][0] += 1
            by_file[case.file][1] += case.seconds
        times = read_time(xml_file.with_suffix(".time"))
        wall, cpu = (f"{times[0]:9.0f}", f"{times[1]:9.0f}") if times else ("        ?", "        ?")
        total = sum(case.seconds for case in cases)
        lines.append(f"{xml_file.stem:18s} {len(cases):7d} {total:13.0f} {wall} {cpu}")
    lines.append(f"The {heaviest} heaviest test files by summed test time:")
    ranked = sorted(by_file.items(), key=lambda item: -item[1][1])[:heaviest]
    lines += [f"{seconds:9.1f} s {int(count):5d} tests  {name}" for name, (count, seconds) in ranked]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    heaviest = int(argv[1]) if len(argv) == 2 else 15
    print(report(folder, heaviest, Path.cwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
