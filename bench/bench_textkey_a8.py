"""What the one "same text" key (kho/textkey.py, a8) costs where it runs on a hot path.

    .venv/bin/python bench/bench_textkey_a8.py [--records 200]

1. Registration of a văn bản đến: store requests (gets, exists, lists, conditional creates,
   puts) per record, counted by a wrapper around the local store, for a sender typed in the
   canonical spelling and one the key rewrites ("Hoà", a zero-width space: one GET more, of the
   guard of the earlier formula), and the median time per record.
2. The key itself: µs per duplicate_key (the earlier formula beside it), per plain_text of a
   1 KB and a 10 KB text that needs nothing (nearly every one) and one that does.
3. Search indexing: ms per 1,000 documents of the embedded index's analysis and of the ES
   source (to_source), before (plain_text made the identity) and after.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from kho_testing import CLERK, incoming, new_repository

from kho.textkey import plain_text
from repository.metadata import parse_document
from repository.records import duplicate_key, legacy_duplicate_key
from repository.storage.base import ObjectInfo
from repository.storage.local import LocalStore


class Counting(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: Counter[str] = Counter()

    def get(self, key: str, version_id: str | None = None) -> bytes:
        self.calls["get"] += 1
        return super().get(key, version_id)

    def exists(self, key: str) -> bool:
        self.calls["exists"] += 1
        return super().exists(key)

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        self.calls["list"] += 1
        return super().list(prefix, start_after)

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        self.calls["create"] += 1
        return super().put_if_absent(key, data)

    def put(self, key: str, data: bytes) -> ObjectInfo:
        self.calls["put"] += 1
        return super().put(key, data)


def registrations(records: int, organ: str) -> tuple[dict[str, float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Counting(Path(tmp) / "s")
        repo = new_repository(store, LocalStore(Path(tmp) / "k"))
        times = []
        for i in range(records):
            md = incoming(code_number=str(100 + i), organ_name=organ)
            start = time.perf_counter()
            repo.create_document("den", md, None, None, CLERK)
            times.append(time.perf_counter() - start)
        return {k: v / records for k, v in sorted(store.calls.items())}, statistics.median(times) * 1000


def per_call(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200)
    args = parser.parse_args()

    print("1. registration, store requests per record and median ms")
    for label, organ in (
        ("canonical sender", "UBND xã Hòa Bình"),
        ("sender 'Hoà'", "UBND xã Hoà Bình"),
        ("sender with U+200B", "UBND xã Hòa\u200b Bình"),
    ):
        calls, ms = registrations(args.records, organ)
        print(f"   {label:22} {calls}  {ms:.2f} ms")

    print("2. the key")
    md = parse_document(incoming(organ_name="Ủy ban nhân dân tỉnh Khánh Hòa"), "den")
    print(f"   duplicate_key        {per_call(lambda: duplicate_key(md, 2026), 20000):.1f} µs")
    print(f"   legacy_duplicate_key {per_call(lambda: legacy_duplicate_key(md, 2026), 20000):.1f} µs")
    clean = "Ủy ban nhân dân tỉnh Ninh Bình về việc triển khai hệ thống quản lý văn bản. " * 13
    odd = clean.replace("văn bản", "văn\u200b bản")
    for label, text in (("1 KB clean", clean), ("10 KB clean", clean * 10), ("1 KB with U+200B", odd)):
        print(f"   plain_text {label:17} {per_call(lambda t=text: plain_text(t), 2000):.1f} µs")

    print("3. search indexing, ms per 1,000 documents (10 KB text each)")
    from datetime import date

    import search.elasticsearch as es
    import search.embedded as emb
    from search.documents import IndexDocument

    docs = [
        IndexDocument(
            id=f"d{i}", version=1, direction="den", owner_unit="U", ngay_ban_hanh=date(2026, 1, 1),
            title=f"Kế hoạch số {i}", text=clean * 10 + f" mã {i}",
        )
        for i in range(1000)
    ]  # fmt: skip
    for label, patch in (("before (identity)", True), ("after (plain_text)", False)):
        ctx = (
            [
                mock.patch.object(es, "plain_text", lambda t: t),
                mock.patch.object(emb, "plain_text", lambda t: t),
            ]
            if patch
            else []
        )
        for c in ctx:
            c.start()
        emb._CHUNKS.clear()
        start = time.perf_counter()
        for d in docs:
            emb._text_fields(1, d)
        embedded_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for d in docs:
            es.to_source(d)
        es_ms = (time.perf_counter() - start) * 1000
        for c in ctx:
            c.stop()
        print(f"   {label:20} embedded analysis {embedded_ms:.0f} ms, ES to_source {es_ms:.0f} ms")


if __name__ == "__main__":
    main()
