"""Search benchmark (a script, not a test): index N generated Vietnamese documents, then time a
mixed query set.

    .venv/bin/python bench/bench_search.py [--docs 100000] [--queries 400] [--url ES_URL]

Documents are generated deterministically (seeded) from the sentences of
``<KHO_SHARED_DIR>/corpora/ir/corpus.jsonl`` wrapped in administrative metadata (loại văn bản,
số/ký hiệu, cơ quan, dates, độ khẩn/mật, hồ sơ, units, grants, citations), about 2,000
characters of body each. Prints indexing documents/s (through :func:`search.reindex.reindex`,
i.e. a full rebuild), query latency p50/p95/p99 per query kind and overall, peak RSS and index
size. The embedded index always runs; ``--url`` (one node or several, comma-separated) runs the
same against Elasticsearch in the same run (alias ``KHO_ELASTICSEARCH_INDEX``, dropped after;
its index size from ``_stats``, the server's RSS from /proc when it runs on this machine).
``--only-es`` skips the embedded run.

Raw baseline in the same run (embedded): plain Tantivy on the same documents (one text field
with its default tokenizer, one writer, one commit per 20,000 documents) for the build, and
the same typed words as Tantivy's own query (top 20 and the count, no highlights, facets or
permissions) for the queries. Query figures are min/median of ``--repeat`` rounds (default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search import open_backend
from search.analysis import fold
from search.documents import IndexDocument
from search.query import FACETS, DateRange, Filters, Principal, Sort, parse_query
from search.reindex import reindex

SHARED = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
TYPES = [("Quyết định", "QĐ"), ("Công văn", ""), ("Thông báo", "TB"), ("Kế hoạch", "KH"),
         ("Báo cáo", "BC"), ("Tờ trình", "TTr"), ("Chỉ thị", "CT"), ("Giấy mời", "GM")]
ORGANS = [("UBND tỉnh Hòa Bình", "UBND"), ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"),
          ("Sở Tư pháp", "STP"), ("Văn phòng UBND tỉnh", "VP"), ("Sở Y tế", "SYT"),
          ("Sở Giáo dục và Đào tạo", "SGDĐT"), ("Bộ Nội vụ", "BNV")]
SIGNERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em",
           "Vũ Thị Giang"]
UNITS = [f"UNIT-{i:02d}" for i in range(20)]
VERDICTS = ["valid", "valid", "valid", "indeterminate", "invalid", "unsigned"]
STATES = ["active"] * 6 + ["hold", "nop_luu", "destroyed_pending"]


def sentences() -> list[list[str]]:
    """Sentences of the IR corpus grouped by law: a generated document stays on one topic."""
    by_law: dict[str, list[str]] = {}
    with (SHARED / "corpora/ir/corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            law = row["id"].split("__")[0]
            by_law.setdefault(law, []).extend(
                s.strip() for s in re.split(r"(?<=[.;:])\s+|\n+", row["text"]) if len(s.strip()) > 30
            )
    return list(by_law.values())


def generate(n: int, topics: list[list[str]], seed: int = 7) -> Iterator[IndexDocument]:
    rng = random.Random(seed)
    start = date(2015, 1, 1)
    for i in range(n):
        loai, abbr = rng.choice(TYPES)
        organ, organ_abbr = rng.choice(ORGANS)
        number = i // 8 + 1
        skh = f"{number}/{abbr}-{organ_abbr}" if abbr else f"{number}/{organ_abbr}-VP"
        pool = rng.choice(topics)
        body_parts: list[str] = []
        while sum(map(len, body_parts)) < rng.randint(1200, 2800):
            body_parts.append(rng.choice(pool))
        issued = start + timedelta(days=rng.randint(0, 3650))
        direction = rng.choice(("den", "den", "di", "hoso"))
        cites = [f"{rng.randint(1, max(1, number))}/{rng.choice(TYPES[:1])[1]}-UBND"] if i % 5 == 0 else []
        body = " ".join(body_parts)
        yield IndexDocument(
            id=f"doc-{i:07d}", version=1, direction=direction,
            title=f"{loai} {body_parts[0][:80]}", trich_yeu=body_parts[0][:200], text=body,
            loai_van_ban=loai, so_ky_hieu=skh, co_quan_ban_hanh=organ,
            ngay_ban_hanh=issued,
            ngay_den=issued + timedelta(days=rng.randint(1, 7)) if direction == "den" else None,
            do_khan=rng.choice((0, 0, 0, 1, 2, 3)), do_mat=1 if i % 50 == 0 else 0,
            signature_verdict=rng.choice(VERDICTS), retention_state=rng.choice(STATES),
            ho_so=(f"HS-{i % 3000:04d}",), nguoi_ky=rng.choice(SIGNERS),
            cites=tuple(cites), owner_unit=rng.choice(UNITS),
            grant_units=(rng.choice(UNITS),) if i % 7 == 0 else (),
        )


def query_set(n: int, topics: list[list[str]], n_docs: int, seed: int = 11) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    pool = [s for t in topics for s in t]
    # Permission filters as the access policy generates them (repository.policy.search_scope):
    # a clerk of two units cleared for Mật, and a leader of four units cleared for Tối mật.
    clerk = Principal("u-bench", units=("UNIT-03", "UNIT-07"), max_secrecy=1)
    auditor = Principal("lead", units=("UNIT-01", "UNIT-02", "UNIT-03", "UNIT-04"), max_secrecy=2)
    out: list[tuple[str, dict]] = []
    for i in range(n):
        words = re.findall(r"[^\W\d_]+", rng.choice(pool))
        k = rng.randint(0, max(0, len(words) - 6))
        snippet = " ".join(words[k : k + rng.randint(2, 5)]) or "quy chế"
        principal = clerk if i % 2 else auditor
        kind = ("free text", "phrase", "filters+facets", "so/ky hieu")[i % 4]
        if kind == "free text":
            text = snippet if i % 8 else fold(snippet)
            out.append((kind, {"typed": text, "principal": principal}))
        elif kind == "phrase":
            out.append((kind, {"typed": f'"{" ".join(snippet.split()[:3])}"', "principal": principal}))
        elif kind == "filters+facets":
            year = rng.randint(2015, 2024)
            out.append((kind, {
                "typed": " ".join(snippet.split()[:2]), "principal": principal,
                "filters": Filters(loai_van_ban=(rng.choice(TYPES)[0],),
                                   ngay_ban_hanh=DateRange(date(year, 1, 1), date(year, 12, 31)),
                                   do_khan=(0, 1)),
                "sort": Sort.DATE_DESC, "facets": FACETS,
            }))
        else:
            number = rng.randint(1, max(1, n_docs // 8))
            skh = f"{number}/{rng.choice(['QĐ-UBND', 'qd-ubnd', 'TB-STC', 'KH-SNV'])}"
            out.append((kind, {"typed": skh, "principal": principal}))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--url", help="Elasticsearch URL (default: embedded, temporary dir)")
    parser.add_argument("--dir", help="embedded index directory (default: a temporary one)")
    parser.add_argument("--only-es", action="store_true", help="skip the embedded run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the query set")
    parser.add_argument("--reuse", action="store_true",
                        help="with --dir: keep an index already holding --docs documents "
                             "(queries only; the build figures are not measured again)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Tantivy baseline")
    args = parser.parse_args()

    pool = sentences()
    targets = [] if args.only_es else [None]
    targets += [args.url] if args.url else []
    for url in targets:
        with tempfile.TemporaryDirectory() as tmp:
            run(url or args.dir or tmp, url, args, pool)


def _es_figures(backend) -> None:
    """Index size and the server's memory (ES nodes on this machine: RSS from /proc)."""
    es = backend.es
    stats = es.indices.stats(index=backend.alias, metric="store")
    size = stats["_all"]["primaries"]["store"]["size_in_bytes"]
    print(f"index size (primaries, after refresh): {size / 1e6:.0f} MB")
    nodes = es.nodes.stats(metric="jvm,process")["nodes"]
    info = es.nodes.info(metric="process")["nodes"]
    for node_id, node in nodes.items():
        heap = node["jvm"]["mem"]["heap_used_in_bytes"] / 1e6
        pid = info.get(node_id, {}).get("process", {}).get("id")
        rss = ""
        status = Path(f"/proc/{pid}/status")
        if pid and status.exists():
            found = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if found:
                rss = f", RSS {int(found.group(1)) / 1024:.0f} MB"
        print(f"node {node['name']}: heap used {heap:.0f} MB{rss}")


def plain_tantivy(docs: list[IndexDocument], directory: Path, queries: list[tuple[str, dict]],
                  repeat: int) -> tuple[float, list[list[float]]]:
    """Build rate and per-round query times of plain Tantivy on the same documents."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("text", tokenizer_name="default")
    index = tantivy.Index(builder.build(), path=str(directory))
    started = time.perf_counter()
    cpu = time.process_time()
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for n, doc in enumerate(docs, start=1):
        writer.add_document(tantivy.Document(id=doc.id, text=f"{doc.title}\n{doc.text}"))
        if n % 20_000 == 0:
            writer.commit()
    writer.commit()
    writer.wait_merging_threads()
    rate = len(docs) / (time.perf_counter() - started)
    print(f"plain tantivy build per CPU second: {len(docs) / (time.process_time() - cpu):.0f} documents")
    index.reload()
    searcher = index.searcher()
    texts = [" ".join(re.findall(r"[^\W_]+", q["typed"])) or "a" for _, q in queries]
    rounds = []
    cpu_rounds = []
    for _ in range(repeat):
        times = []
        cpu_times = []
        for text in texts:
            t0 = time.perf_counter()
            c0 = time.thread_time()
            parsed = index.parse_query(text, ["text"])
            result = searcher.search(parsed, 20, count=True)
            _ = [searcher.doc(address)["id"] for _, address in result.hits]
            cpu_times.append((time.thread_time() - c0) * 1000)
            times.append((time.perf_counter() - t0) * 1000)
        rounds.append(times)
        cpu_rounds.append(cpu_times)
    return rate, rounds, cpu_rounds


def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (the rebuild's analysis workers
    are joined when the rebuild ends)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _min_median(values: list[float]) -> str:
    return f"min {min(values):7.2f} / median {statistics.median(values):7.2f}"


def run(target: str, url: str | None, args: argparse.Namespace, pool: list[str]) -> None:
    backend = open_backend(target)
    last = [0.0]

    def progress(p) -> None:
        if p.elapsed - last[0] >= 10:
            last[0] = p.elapsed
            print(f"  … {p.seen} documents, {p.rate:.0f}/s", flush=True)

    docs = list(generate(args.docs, pool))  # generated before timing (both builds alike)
    if args.reuse and args.dir and not url and backend.count() == args.docs:
        rate = 0.0
        print(f"backend {backend.name}: reusing the index in {target} ({args.docs} documents)")
    else:
        cpu = time.process_time()
        children = _children_cpu()
        report = reindex(backend, docs, batch_size=1000, progress=progress)
        rate = report.written / report.elapsed
        own_cpu = time.process_time() - cpu
        cpu_rate = report.written / own_cpu
        workers_cpu = _children_cpu() - children
        print(f"backend {backend.name}: indexed {report.written} documents in "
              f"{report.elapsed:.1f} s = {rate:.0f} documents/s; per CPU second of this process "
              f"(all its threads): {cpu_rate:.0f} documents; with its analysis worker processes "
              f"({workers_cpu:.1f} CPU-s): {report.written / (own_cpu + workers_cpu):.0f} documents")
    if url:
        _es_figures(backend)
    else:
        size = sum(f.stat().st_size for f in Path(target).rglob("*") if f.is_file())
        print(f"index size on disk: {size / 1e6:.0f} MB")

    queries = query_set(args.queries, pool, args.docs)
    for _, q in queries[:20]:  # warm-up
        backend.search(parse_query(**q))
    unfiltered = Principal("bench-baseline", everything=True)
    rounds: list[dict[str, list[float]]] = []
    cpu_rounds: list[list[float]] = []
    totals: list[int] = []
    for _ in range(args.repeat):
        timings: dict[str, list[float]] = {}
        cpu_times: list[float] = []
        for kind, q in queries:
            started = time.perf_counter()
            cpu_started = time.thread_time()
            result = backend.search(parse_query(**q))
            cpu_times.append((time.thread_time() - cpu_started) * 1000)
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            totals.append(result.total)
            # The same query without any permission filter.
            started = time.perf_counter()
            backend.search(parse_query(**{**q, "principal": unfiltered}))
            timings.setdefault("no-permission", []).append((time.perf_counter() - started) * 1000)
        timings["all"] = [t for k, ts in timings.items() if k != "no-permission" for t in ts]
        rounds.append(timings)
        cpu_rounds.append(cpu_times)
    print(f"queries: {len(queries)} x {args.repeat} rounds; per kind p50/p95 "
          "(min / median over the rounds)")
    for kind in rounds[0]:
        p50 = [pct(r[kind], 50) for r in rounds]
        p95 = [pct(r[kind], 95) for r in rounds]
        p99 = [pct(r[kind], 99) for r in rounds]
        print(f"{kind:15s} n={len(rounds[0][kind]):4d}  p50 {_min_median(p50)} ms"
              f"  p95 {_min_median(p95)} ms  p99 {_min_median(p99)} ms")
    # On a shared machine the wall time of a query includes waiting for a core; the CPU time
    # of the querying thread (Tantivy searches in it) is what the code costs.
    print(f"all, CPU time of the querying thread: p50 {_min_median([pct(r, 50) for r in cpu_rounds])} ms"
          f"  p95 {_min_median([pct(r, 95) for r in cpu_rounds])} ms")
    print(f"median hits per query: {statistics.median(totals):.0f}")
    if not url and not args.no_plain:
        with tempfile.TemporaryDirectory() as raw_dir:
            raw_rate, raw_rounds, raw_cpu = plain_tantivy(docs, Path(raw_dir), queries, args.repeat)
        print(f"plain tantivy build: {raw_rate:.0f} documents/s   Kho/plain = {rate / raw_rate:.2f}"
              + ("" if rate else " (Kho build not measured: --reuse)"))
        p50 = [pct(r, 50) for r in raw_rounds]
        p95 = [pct(r, 95) for r in raw_rounds]
        print(f"plain tantivy query  p50 {_min_median(p50)} ms  p95 {_min_median(p95)} ms")
        print(f"plain tantivy query, CPU time: p50 {_min_median([pct(r, 50) for r in raw_cpu])} ms"
              f"  p95 {_min_median([pct(r, 95) for r in raw_cpu])} ms")
        kho50 = statistics.median(pct(r["all"], 50) for r in rounds)
        kho95 = statistics.median(pct(r["all"], 95) for r in rounds)
        print(f"Kho/plain (median rounds): p50 {kho50 / statistics.median(p50):.1f}x  "
              f"p95 {kho95 / statistics.median(p95):.1f}x")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")
    status = Path("/proc/self/status")
    if status.exists():
        now = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
        if now:
            print(f"RSS after the queries: {int(now.group(1)) / 1024:.0f} MB")
    if url:
        backend.drop_all()
    backend.close()


if __name__ == "__main__":
    main()
