"""Web benchmark (a script, not a test): server time of the main pages and of search with 100k
records in the index, and throughput of concurrent logged-in users on a real gunicorn server.

    .venv/bin/python bench/bench_web.py [--docs 100000] [--requests 200] [--load-seconds 20]

The fixture is written quickly, not through the full write path (100k signed PDFs through
ingest would take hours):

- a fresh installation in a temporary folder (local store, embedded index), its accounts made
  by ``tests/support/kho_people.make_people`` (one person per role, two units);
- ``--real`` (default 20) signed PDFs received and registered through the real path
  (ReceiveService: pipeline, signature check, register) plus one hồ sơ holding them, so the record,
  register, intake and audit pages have real records and events to show;
- ``--docs`` generated documents (``bench/bench_search.generate``: sentences of the IR corpus in
  administrative metadata) bulk-indexed straight into the search index (one ``search.reindex``
  rebuild in batches of 2,000, together with the index documents of the real records), half
  owned by the agency (the văn thư sees them), half by the second unit. They exist only in the
  index: the search page, its facets and the home/intake index queries run against 100k
  documents; the record pages open the real records.

Server time is measured in-process through Flask's test client (the whole request: routing,
session, policy, store, index, template), p50/p95 over ``--requests`` requests per page after a
warm-up. The baseline in the same run is a trivial route on the same app (no session, no
template). Search is timed twice: the backend's own query time and the search page.

Throughput: ``kho serve --production`` (gunicorn, 2 workers, i.e. the 2 cores) on loopback,
five people logged in (one session each), ``wrk`` (Debian package) with a Lua script that
rotates their cookies over the home, search and record pages, for ``--load-seconds``; and wrk
on the static stylesheet as the baseline of the same server.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.documents import IndexDocument

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "bench"))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, timings: list[float]) -> str:
    return (
        f"{name:28s} n={len(timings):4d}  p50 {pct(timings, 50):7.2f} ms  p95 {pct(timings, 95):7.2f} ms"
        f"  max {max(timings):7.2f} ms"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_env(data: Path) -> dict[str, str]:
    from ingest.testpki import TestPKI

    trust = data / "trust"
    TestPKI.build().write_trust_dir(trust)
    env = {
        "KHO_DATA_DIR": str(data / "kho"),
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình",
        "KHO_TRUST_DIR": str(trust),
        "KHO_FSYNC": "false",
        "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "",
        "KHO_ELASTICSEARCH_URL": "",
        "KHO_TOKEN_FILE": str(data / "tokens.json"),
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
        "KHO_COOKIE_SECURE": "false",
        "KHO_SESSION_SECRET": os.urandom(32).hex(),  # (a20: at least 32 characters)
    }
    os.environ.update(env)
    return env


def build_fixture(args: argparse.Namespace) -> tuple[object, object, list[str]]:
    from bench_search import generate, sentences
    from kho_people import AGENCY, UNIT_B, make_people
    from kho_testing import incoming

    from ingest.testpki import TestPKI, Variant, make_variant
    from kho.config import Settings
    from web.context import Kho

    kho = Kho(Settings.from_env())
    people = make_people(kho)
    clerk = people.actor("van_thu")
    pki = TestPKI.build()
    started = time.perf_counter()
    real: list[str] = []
    for i in range(args.real):
        pdf = make_variant(Variant.VALID, pki=pki, seed=100 + i, pages=2)
        record = kho.receive.receive_and_register(
            pdf, f"cv-{i}.pdf", "den",
            incoming(code_number=str(500 + i), issued_date="2026-03-02", arrival_date="2026-03-05"),
            clerk,
        )
        real.append(record.record_id)
    hoso = kho.repo.create_file(
        {"file_notation": "01.VP", "title": "Hồ sơ đo hiệu năng", "maintenance": "20 năm",
         "creator": "Phạm Minh Chính", "start_date": "2026-03-01"},
        people.actor("chuyen_vien"),
    )
    print(f"real path: {args.real} signed PDFs received and registered + 1 hồ sơ in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    from ingest.indexing import to_index_document
    from search.reindex import reindex

    def documents() -> Iterator[IndexDocument]:
        for record_id in [*real, hoso.record_id]:
            yield to_index_document(kho.repo, kho.repo._load(record_id))
        for n, doc in enumerate(generate(args.docs, sentences())):
            owner = AGENCY if n % 2 == 0 else UNIT_B
            yield dataclasses.replace(doc, id=f"{n:024x}", owner_unit=owner, grant_units=())

    started = time.perf_counter()
    report = reindex(kho.backend, documents(), batch_size=2000)
    elapsed = time.perf_counter() - started
    print(f"bulk index (search.reindex, one rebuild): {report.written} documents in {elapsed:.1f} s"
          f" ({report.written / elapsed:.0f}/s)", flush=True)
    return kho, people, real


def login(client: object, people: object, who: str) -> None:
    from kho_people import PASSWORD

    page = client.get("/login").get_data(as_text=True)  # type: ignore[attr-defined]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = client.post("/login", data={  # type: ignore[attr-defined]
        "username": people.usernames[who], "password": PASSWORD, "csrf_token": token,  # type: ignore[attr-defined]
    })
    assert done.status_code == 302, done.status_code


def time_pages(kho: object, people: object, real: list[str], args: argparse.Namespace) -> None:
    from repository.policy import search_scope
    from search.query import DateRange, Filters, Principal, Sort, parse_query
    from web.app import create_app

    app = create_app(kho.settings, kho=kho)  # type: ignore[attr-defined]

    @app.get("/bench-baseline")
    def baseline() -> str:
        return "ok"

    def run(client: object, path: str, n: int) -> list[float]:
        for _ in range(5):
            client.get(path)  # type: ignore[attr-defined]
        out = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(path)  # type: ignore[attr-defined]
            out.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        return out

    n = args.requests
    clerk = app.test_client()
    login(clerk, people, "van_thu")
    auditor = app.test_client()
    login(auditor, people, "kiem_toan")
    print(f"\nserver time per request (in-process, {args.docs} documents in the index):")
    print(line("baseline (trivial route)", run(clerk, "/bench-baseline", n)))
    pages = [
        ("home", clerk, "/"),
        ("intake", clerk, "/intake"),
        ("search page: words", clerk, "/search?q=quyết+định+ủy+ban"),
        ("search page: no diacritics", clerk, "/search?q=quy+dinh+thu+tuc"),
        ("search page: filters", clerk, "/search?q=ke+hoach&do_khan=0&ngay_ban_hanh_from=2018-01-01"
                                        "&ngay_ban_hanh_to=2019-12-31"),
        ("record", clerk, f"/records/{real[0]}"),
        ("record page image (cached)", clerk, f"/records/{real[0]}/pages/1.png"),
        ("register (sổ đến 2026)", clerk, "/registers?series=den&year=2026"),
        ("hồ sơ list", clerk, "/files"),
        ("audit query (1 person)", auditor, f"/audit?user={people.usernames['van_thu']}"  # type: ignore[attr-defined]
                                            "&action=content:download"),
    ]
    for name, client, path in pages:
        print(line(name, run(client, path, n)), flush=True)

    # The backend's own query time at this size, with the clerk's permission filter.
    who = people.actor("van_thu")  # type: ignore[attr-defined]
    principal = Principal.from_scope(search_scope(who.as_principal))
    queries = [
        parse_query("quyết định ủy ban", principal),
        parse_query("quy dinh thu tuc", principal),
        parse_query('"kế hoạch"', principal),
        parse_query("ke hoach", principal, filters=Filters(
            do_khan=(0,), ngay_ban_hanh=DateRange(__import__("datetime").date(2018, 1, 1), None)),
            sort=Sort.DATE_DESC),
        parse_query("120/QĐ-UBND", principal),
    ]
    timings = []
    backend = kho.backend  # type: ignore[attr-defined]
    for q in queries:
        backend.search(q)
    for i in range(n):
        q = queries[i % len(queries)]
        started = time.perf_counter()
        backend.search(q)
        timings.append((time.perf_counter() - started) * 1000)
    print(line("search backend (5 kinds)", timings))


def load_test(env: dict[str, str], people: object, real: list[str], args: argparse.Namespace) -> None:
    import requests

    if shutil.which("wrk") is None:
        print("\nwrk not installed (apt-get install wrk): load test skipped")
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "kho"), "serve", "--production", "--workers", "2",
         "--port", str(port)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(200):
            try:
                requests.get(base + "/login", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        cookies = []
        from kho_people import PASSWORD

        for who in ("van_thu", "lanh_dao", "chuyen_vien", "luu_tru", "van_thu_b"):
            s = requests.Session()
            page = s.get(base + "/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            r = s.post(base + "/login", data={"username": people.usernames[who],  # type: ignore[attr-defined]
                                              "password": PASSWORD, "csrf_token": token},
                       allow_redirects=False)
            assert r.status_code == 302, r.status_code
            cookies.append(f"kho_session={s.cookies.get('kho_session')}")
        script = Path(tempfile.mkdtemp()) / "rotate.lua"
        paths = ["/", "/search?q=quy+dinh", "/search?q=ke+hoach&do_khan=0", f"/records/{real[0]}"]
        script.write_text(
            "local cookies = {" + ",".join(f'"{c}"' for c in cookies) + "}\n"
            "local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
            "local i = 0\n"
            "request = function()\n"
            "  i = i + 1\n"
            "  local c = cookies[(i % #cookies) + 1]\n"
            "  local p = paths[(i % #paths) + 1]\n"
            "  return wrk.format('GET', p, {['Cookie'] = c})\n"
            "end\n"
            "done = function(summary, latency, requests)\n"
            "  io.write(string.format('non-2xx/3xx: %d\\n', summary.errors.status))\n"
            "end\n"
        )
        print(f"\nthroughput: gunicorn 2 workers on loopback, wrk 2 threads, {args.connections} connections,"
              f" {args.load_seconds} s")
        for name, cmd in (
            ("baseline: static stylesheet", ["wrk", "-t2", f"-c{args.connections}",
                                             f"-d{max(5, args.load_seconds // 3)}s", "--latency",
                                             base + "/assets/kho.css"]),
            ("5 people (errors = 403: one is of another unit)", ["wrk", "-t2", f"-c{args.connections}",
                                                        f"-d{args.load_seconds}s", "--latency", "-s",
                                                        str(script), base + "/"]),
        ):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.load_seconds + 60).stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            p50 = re.search(r"50%\s+([\d.]+\w+)", out)
            p99 = re.search(r"99%\s+([\d.]+\w+)", out)
            errors = re.search(r"non-2xx/3xx: (\d+)", out)
            print(f"{name:40s} {rps.group(1) if rps else '?':>8s} req/s  latency p50 "
                  f"{p50.group(1) if p50 else '?'}  p99 {p99.group(1) if p99 else '?'}  "
                  f"errors {errors.group(1) if errors else 0}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--load-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="kho-bench-web-"))
    try:
        env = setup_env(data)
        kho, people, real = build_fixture(args)
        time_pages(kho, people, real, args)
        load_test(env, people, real, args)
        print(f"\nCPU cores visible: {os.cpu_count()}; statistics {statistics.__name__} ok")
        kho.close()  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
