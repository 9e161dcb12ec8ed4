"""The bomb guard's lexical scan (``ingest.text.guards._lexical_state``) against its former
one-search-per-token form, in one process, on the bench corpus.

    .venv/bin/python bench/m34_guard_lexical.py [N] [--rounds R]

``check_pdf_streams`` over N (default 200) documents of ``~/.cache/kho-bench/signed-400x3``
(``bench/bench_ingest.py --count 400`` makes them), with the former function swapped in (A) or
the current one (B), each round A B B A (CPU time, ``time.process_time``). Prints ms per
document of the whole guard for each, min / median over the rounds, and whether both give the
same lexical states on every call (they must).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_former_guards import former_lexical_state

from ingest.text import guards
from ingest.text.settings import TextSettings

former = former_lexical_state


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 200
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    files = sorted((Path.home() / ".cache" / "kho-bench" / "signed-400x3").glob("*.pdf"))[:count]
    datas = [f.read_bytes() for f in files]
    settings = TextSettings()
    current = guards._lexical_state
    calls: list[tuple[bytes, int, int, int, bool]] = []

    def recording(data: bytes, start: int, end: int, depth: int, comment: bool) -> tuple[int, bool]:
        calls.append((data, start, end, depth, comment))
        return current(data, start, end, depth, comment)

    guards._lexical_state = recording  # type: ignore[assignment]
    for data in datas:
        guards.check_pdf_streams(data, settings)
    same = all(former(*c) == current(*c) for c in calls)
    times: dict[str, list[float]] = {"former": [], "current": []}
    for _ in range(rounds):
        for name in ("former", "current", "current", "former"):
            guards._lexical_state = former if name == "former" else current  # type: ignore[assignment]
            began = time.process_time()
            for data in datas:
                guards.check_pdf_streams(data, settings)
            times[name].append((time.process_time() - began) / len(datas) * 1000)
    guards._lexical_state = current  # type: ignore[assignment]
    began = time.process_time()
    for c in calls:
        former(*c)
    lex_former = (time.process_time() - began) / len(datas) * 1000
    began = time.process_time()
    for c in calls:
        current(*c)
    lex_current = (time.process_time() - began) / len(datas) * 1000
    print(f"{len(datas)} documents, {len(calls)} lexical scans, same states: {same}")
    for name, values in times.items():
        print(
            f"check_pdf_streams with {name}: min {min(values):.3f} / median "
            f"{statistics.median(values):.3f} ms/doc"
        )
    print(f"_lexical_state alone: former {lex_former:.3f}, current {lex_current:.3f} ms/doc")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
