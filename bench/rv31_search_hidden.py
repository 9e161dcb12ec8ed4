"""rv31: does a search take longer when documents the searcher may not see match it? (a timing
side channel: "how many hidden documents mention X").

    python bench/rv31_search_hidden.py [--visible 5] [--hidden 200] [--calls 40] [--es]

Phòng B's chuyên viên (cleared Thường) searches a word that ``--visible`` of phòng B's
documents hold; then ``--hidden`` Mật documents of the agency holding the same word are added
(and as many holding another word, so the index grows as much in the control), and the same
search and a control search (a word no hidden document holds) are timed again. Each search is
what ``GET /api/search`` runs: the backend's query with the policy's filter and facets, then
the store's check of the page's hits (``shown_hits``). Prints wall ms per search, min / median
of ``--rounds`` rounds of ``--calls``."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]  # this tree's code, not the venv's


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visible", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--es", action="store_true", help="the index on the test Elasticsearch")
    args = parser.parse_args()
    from kho_testing import incoming
    from rv26_home_counts import bench_kho

    kho, people = bench_kho("rv31search", s3=False, es=args.es)
    from repository.policy import search_scope
    from search.query import FACETS, Principal, parse_query
    from web.worklists import shown_hits

    searcher = people.actor("chuyen_vien_b")

    def add(who: str, word: str, n: int, first: int, secrecy: int = 0) -> None:
        for i in range(first, first + n):
            md = incoming(code_number=str(i), subject=f"Về việc {word} tuyến đê số {i}", secrecy=secrecy)
            kho.repo.create_document("den", md, None, None, people.actor(who))

    def timed(word: str) -> tuple[float, float, int]:
        principal = Principal.from_scope(search_scope(searcher.as_principal))
        walls = []
        total = -1
        warm = parse_query(word, principal, facets=FACETS)
        shown_hits(kho.repo, searcher, kho.backend.search(warm))  # the first search warms the caches
        for _ in range(args.rounds):
            w0 = time.perf_counter()
            for _ in range(args.calls):
                query = parse_query(word, principal, page_size=20, facets=FACETS)
                result = shown_hits(kho.repo, searcher, kho.backend.search(query))
                total = result.total
            walls.append((time.perf_counter() - w0) * 1000 / args.calls)
        return min(walls), statistics.median(walls), total

    add("van_thu_b", "khảo sát", args.visible, 100)
    add("van_thu_b", "nạo vét", args.visible, 300)
    if args.es:
        time.sleep(2)  # past the index's refresh interval
    before = {word: timed(word) for word in ("khảo sát", "nạo vét")}
    add("van_thu", "khảo sát", args.hidden, 1000, secrecy=2)
    add("van_thu", "gia cố", args.hidden, 5000, secrecy=2)  # the index grows as much for the control
    if args.es:
        time.sleep(2)  # past the index's refresh interval
    after = {word: timed(word) for word in ("khảo sát", "nạo vét")}
    hidden = {"khảo sát": args.hidden, "nạo vét": 0}
    for word in before:
        b, a = before[word], after[word]
        print(
            f"tree={ROOT.name} es={args.es} word={word!r} hidden matches +{hidden[word]} total {b[2]}→{a[2]}"
            f" wall_ms min/median before {b[0]:.2f}/{b[1]:.2f} after {a[0]:.2f}/{a[1]:.2f}"
        )
    if args.es:
        kho.backend.drop_all()
    kho.close()


if __name__ == "__main__":
    main()
