"""CPU cost of the API's JSON parser (``web.app._json``) in a tree: a login body and a ~1 MB body
of 20,000 metadata-like strings. Usage: ``python bench/a26_json_check.py TREE [ROUNDS]``; prints
CPU µs per parse, min / median over the rounds (each round 200 / 5 parses)."""

from __future__ import annotations

import json
import statistics
import sys
import time

tree, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
sys.path.insert(0, tree)
from web.app import _json  # noqa: E402

LOGIN = json.dumps({"username": "chinhpm.ubnd", "password": "Kho@2026-của-An", "device": "x" * 80}).encode()
BIG = json.dumps(
    {"items": [{"subject": f"Về việc triển khai văn bản số {i}", "tags": ["a", "b"]} for i in range(20_000)]},
    ensure_ascii=False,
).encode()


def per_parse(body: bytes, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        _json(body, "x", "BODY_INVALID")
    return (time.process_time() - start) / n * 1e6


for name, body, n in (("login", LOGIN, 2000), ("1MB", BIG, 5)):
    runs = [per_parse(body, n) for _ in range(rounds)]
    print(
        f"{tree} {name} ({len(body)} B): CPU us/parse min {min(runs):.1f}"
        f" median {statistics.median(runs):.1f}"
    )
