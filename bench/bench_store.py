"""Store benchmark: records/s and MB/s for 200 KB PDFs (hashing, encryption, audit included),
and register-number allocation rate under concurrency, for each backend — each beside its raw
baseline measured in the same run, with the writes it costs per record.

    .venv/bin/python bench/bench_store.py [--records 500] [--size-kb 200] [--processes 1,2,4]
                                          [--repeat 3] [--s3-endpoint 127.0.0.1:7480 ...]
                                          [--group-commit off|on|both] [--profile]

Raw baselines: local, a loop of SHA-256 + AES-GCM + write + fsync of one file per record; S3,
one ``put_object`` per record into a plain bucket on the same gateway, and one conditional PUT
(``If-None-Match: *``, unversioned bucket) per register number. Per record it prints the HTTP
requests by kind (S3, counted by a wrapper around the client's connection pool) and the fsync
calls (local: ``fsync`` of files, ``fsync dir`` of directories), and the rounds of each
(``~ fsync rounds``, ``~ request rounds``: the sequential stages of the critical path, where
the objects of one step are written at the same time). When the S3 gateway runs on this
machine (the test cluster), each S3 line also gives the CPU its radosgw, ceph-osd and ceph-mon
spent per record (every client's requests meanwhile count: read it on a quiet machine) and the
``bound``: the records a second the cores could give if all of a record's CPU, the gateway's and
Kho's, were spread over them with nothing else running (m60). Each
figure is min/median of ``--repeat`` runs. Kho runs once per audit mode asked
(``--group-commit``: one object per event, or the events of one act in one object).
``--profile`` first lists every object one record and one number write, and why.

The S3 run happens when an endpoint is given (or KHO_TEST_S3_* are set: scripts/services.sh env).
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import multiprocessing as mp
import os
import resource
import shutil
import stat
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import urllib3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kho_buckets import drop_made, new_bucket, track

from kho.timeutil import utcnow, vn_date
from repository.records import Actor, Repository
from repository.storage import open_store

CLERK = Actor(user="bench", source="bench", system=True)
AGENCY = "000.00.18.H40"

# -- counting: every HTTP request (by method and bucket kind) and every fsync of this process ---
COUNTS: collections.Counter[str] = collections.Counter()
_urlopen = urllib3.PoolManager.urlopen
_fsync = os.fsync
_IN_FLIGHT = {"fsync": 0, "request": 0}
_FLIGHT_LOCK = threading.Lock()


class _Round:
    """Counts the sequential stages of the critical path: a ``~ rounds`` is one fsync (request)
    that began while no other fsync (request) of this process was running; those that overlap
    it belong to its round."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        with _FLIGHT_LOCK:
            if not _IN_FLIGHT[self.what]:
                COUNTS[f"~ {self.what} rounds"] += 1
            _IN_FLIGHT[self.what] += 1

    def __exit__(self, *exc: object) -> None:
        with _FLIGHT_LOCK:
            _IN_FLIGHT[self.what] -= 1


def _counting_urlopen(self: urllib3.PoolManager, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
    path = url.split("://", 1)[-1].split("/", 2)
    bucket = path[1] if len(path) > 1 else ""
    query = "?" in url
    kind = method + (" claims" if bucket.endswith("-claims") else "") + (" ?query" if query else "")
    COUNTS[kind] += 1
    with _Round("request"):
        return _urlopen(self, method, url, *args, **kwargs)


def _counting_fsync(fd: int) -> None:
    # A directory's fsync makes the names linked into it durable (the local store's P2 fix).
    COUNTS["fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync"] += 1
    with _Round("fsync"):
        _fsync(fd)


urllib3.PoolManager.urlopen = _counting_urlopen  # type: ignore[method-assign]
os.fsync = _counting_fsync


# -- the gateway's CPU (S3): radosgw, ceph-osd, ceph-mon of the cluster on this machine ---------
GATEWAY_NAMES = ("radosgw", "ceph-osd", "ceph-mon")
_TICK = os.sysconf("SC_CLK_TCK")


def _listener(port: str) -> int | None:
    """The pid listening on ``port`` (``ss -ltnp``), None if unknown."""
    import re
    import subprocess

    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if re.search(rf":{port}\s", line) and (m := re.search(r"pid=(\d+)", line)):
            return int(m.group(1))
    return None


def gateway_pids(endpoint: str) -> dict[int, str]:
    """radosgw, ceph-osd, ceph-mon of the cluster serving ``endpoint`` (same working directory as
    its listener: other clusters on this machine are left out); empty when the gateway runs
    elsewhere (m40)."""
    listener = _listener(endpoint.rsplit(":", 1)[-1])
    if listener is None:
        return {}
    try:
        home = os.readlink(f"/proc/{listener}/cwd")
    except OSError:
        return {}
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
                same = os.readlink(entry / "cwd") == home
            except OSError:
                continue
            if name in GATEWAY_NAMES and same:
                found[int(entry.name)] = name
    return found


def gateway_cpu(pids: dict[int, str]) -> dict[int, float]:
    """CPU seconds (user + system) each of ``pids`` has spent so far (``/proc/<pid>/stat``)."""
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)
    return out


def _gateway_spent(pids: dict[int, str], before: dict[int, float]) -> float:
    after = gateway_cpu(pids)
    return sum(after.get(pid, 0.0) - before.get(pid, 0.0) for pid in pids)


def _metadata(i: int, direction: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type_name": "Công văn" if direction == "den" else "Quyết định",
        "code_notation": "BNV-VP" if direction == "den" else "QĐ-UBND",
        "organ_name": "Bộ Nội vụ",
        "subject": f"Về việc thử nghiệm hiệu năng kho lưu trữ số {i}",
        "signer_position": "Chánh Văn phòng",
        "signer_full_name": "Trần Thị Hoà",
        "issued_date": "2026-03-02",
    }
    if direction == "den":
        data["code_number"] = str(10 + i)
    else:  # a văn bản đi is numbered on its issue day (ISSUED_DATE_NOT_TODAY)
        data["issued_date"] = vn_date(utcnow()).isoformat()
        data["recipients"] = ["Sở Nội vụ"]
    return data


def _open(url: str, options: dict[str, Any]) -> Repository:
    options = dict(options)
    group = bool(options.pop("group_commit", False))
    key_url = url + "-keys" if url.startswith("s3://") else url + "/../keys"
    return Repository(
        open_store(url, **options),
        open_store(key_url, **options),
        agency_id=AGENCY,
        audit_group_commit=group,
        master_key=bytes(range(32)) if os.environ.get(MASTER_KEY_ENV) else None,
    )


MASTER_KEY_ENV = "KHO_BENCH_MASTER_KEY"
"""Set (by ``--master-key``, inherited by the worker processes): Kho runs with a master key, so
record keys are wrapped and, from review rv20, audit events are sealed."""


# -- profile: every object one record and one number write, and why ---------------------------
WHY = [
    ("keys/", "per-record data key, in the key store (crypto-shredding: never bundled)"),
    ("catalog/records/", "catalog marker: lists the record, names its register for roll-forward"),
    ("claims/sha256/", "duplicate guard on the file's SHA-256 (two writers may race)"),
    ("claims/skh/", "duplicate guard on số, ký hiệu, cơ quan, năm (two writers may race)"),
    ("registers/", "register entry: the number AND the sealed first version, the commit point"),
    ("records/*/content/", "the original, sealed (its own blob)"),
    ("records/*/v", "first version, materialised from the entry (readers, listing, fsck)"),
    ("audit/events/", "audit event(s) of the act: record:create + register:assign"),
    ("audit/witness.json", "witness: newest event number (cut-from-the-end check)"),
]


def _why(key: str) -> str:
    import fnmatch

    for pattern, why in WHY:
        if key.startswith(pattern) or fnmatch.fnmatch(key, pattern + "*"):
            return why
    return "?"


def _shape(key: str, record_id: str) -> str:
    import re

    key = key.replace(record_id, "<id>")
    key = re.sub(r"[0-9a-f]{64}", "<sha256>", key)
    return re.sub(r"/\d{8,12}\.json$", "/<n>.json", key)


def _logging(
    real: Any, store: Any, where: str, op: str, calls: list[tuple[str, str, str]], depth: list[int]
) -> Callable[..., Any]:
    def wrapped(*a: Any, **k: Any) -> Any:
        if not depth[0]:
            calls.append((where, op, str(a[0]) if a else str(k.get("prefix", ""))))
        depth[0] += 1
        try:
            return real(store, *a, **k)
        finally:
            depth[0] -= 1

    return wrapped


OPS = ("put_if_absent", "put_new", "put", "put_if_match", "get", "get_tagged", "stat", "exists", "list")
"""The store operations the profile lists (the witness is read with ``get_tagged`` and moved
with ``put_if_match`` where the store replaces conditionally)."""


def profile(label: str, fresh: Callable[[], str], options: dict[str, Any], size: int) -> None:
    for group in (False, True):
        url = fresh()
        repo = _open(url, {**options, "group_commit": group})
        repo.create_document("den", _metadata(0, "den"), b"%PDF-1.7\nwarm", "warm.pdf", CLERK)
        repo.create_document("di", _metadata(0, "di"), None, None, CLERK)  # caches warm: steady state
        for what, direction, content in (
            ("a 200 KB record (incoming, with its file)", "den", b"%PDF-1.7\n" + os.urandom(size)),
            ("a register number (outgoing, no file)", "di", None),
        ):
            calls: list[tuple[str, str, str]] = []
            depth = [0]  # only the outermost call (put_new may be put_if_absent underneath)
            for store, where in ((repo.store, "store"), (repo.keys.store, "keys")):
                for op in OPS:
                    setattr(store, op, _logging(getattr(type(store), op), store, where, op, calls, depth))
            COUNTS.clear()
            record = repo.create_document(
                direction, _metadata(1, direction), content, "a.pdf" if content else None, CLERK
            )
            counts = dict(COUNTS)
            for store in (repo.store, repo.keys.store):
                for op in OPS:
                    delattr(store, op)
            mode = "group commit" if group else "one object per event"
            print(f"\n-- {label}, {mode}: {what} --")
            seen: set[tuple[str, str, str]] = set()
            for where, op, key in calls:
                if (where, op, key) in seen and op in ("stat", "exists"):
                    continue
                seen.add((where, op, key))
                shaped = _shape(key, record.record_id)
                print(f"  {where:<5} {op:<13} {shaped:<58} {_why(key)}")
            writes = sum(op.startswith("put") for _, op, _ in calls)
            spent = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"  = {writes} objects written; {spent}")


Result = tuple[int, float, dict[str, int]]


def _result(count: int, started: float, cpu0: float) -> Result:
    """A worker's records, wall seconds and counts, with the CPU its process spent meanwhile
    (every thread: the write pool's too) as ``~ cpu us``."""
    wall = time.perf_counter() - started
    counts = dict(COUNTS)
    counts["~ cpu us"] = round((time.process_time() - cpu0) * 1e6)
    return count, wall, counts


def _store_worker(args: tuple[str, dict[str, Any], int, int, int]) -> Result:
    url, options, worker, count, size = args
    repo = _open(url, options)
    body = os.urandom(size)
    COUNTS.clear()
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(count):
        n = worker * 1_000_000 + i
        data = b"%PDF-1.7\n" + n.to_bytes(8, "big") + body
        repo.create_document("den", _metadata(n, "den"), data, f"vb{n}.pdf", CLERK)
    return _result(count, started, cpu0)


def _number_worker(args: tuple[str, dict[str, Any], int, int, int]) -> Result:
    """Numbers in one series (every process: hành chính), or with ``distinct_series`` in a
    series of each process's own (an advisory body's series per process)."""
    url, options, worker, count, _ = args
    options = dict(options)
    body = f"Hội đồng thử nghiệm {worker}" if options.pop("distinct_series", False) else None
    repo = _open(url, options)
    COUNTS.clear()
    started, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(count):
        repo.create_document("di", _metadata(worker, "di"), None, None, CLERK, advisory_body=body)
    return _result(count, started, cpu0)


def _raw_local_worker(args: tuple[str, dict[str, Any], int, int, int]) -> Result:
    """SHA-256 + AES-GCM + write + fsync, one file per record."""
    url, _, worker, count, size = args
    folder = Path(url.removeprefix("file://")) / f"raw-{worker}"
    folder.mkdir(parents=True, exist_ok=True)
    body = os.urandom(size)
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    COUNTS.clear()
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(count):
        data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
        digest = hashlib.sha256(data).hexdigest()
        nonce = os.urandom(12)
        sealed = nonce + aead.encrypt(nonce, data, digest.encode())
        fd = os.open(folder / digest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, sealed)
            os.fsync(fd)
        finally:
            os.close(fd)
    return _result(count, started, cpu0)


def _minio(options: dict[str, Any]) -> Any:
    from minio import Minio

    return Minio(
        options["endpoint"],
        access_key=options["access_key"],
        secret_key=options["secret_key"],
        secure=options["secure"],
    )


def _raw_s3_worker(args: tuple[str, dict[str, Any], int, int, int]) -> Result:
    """One ``put_object`` per record into a plain bucket."""
    import io

    url, options, worker, count, size = args
    bucket = url.removeprefix("s3://")
    client = _minio(options)
    body = os.urandom(size)
    COUNTS.clear()
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(count):
        data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
        client.put_object(bucket, f"raw/{worker}/{i:08d}", io.BytesIO(data), len(data))
    return _result(count, started, cpu0)


def _raw_number_worker(args: tuple[str, dict[str, Any], int, int, int]) -> Result:
    """One conditional PUT per number (the next free number, as a register would take it)."""
    from minio.error import S3Error

    url, options, _worker, count, _ = args
    bucket = url.removeprefix("s3://")
    client = _minio(options)
    COUNTS.clear()
    started, cpu0 = time.perf_counter(), time.process_time()
    number, done = 1, 0
    while done < count:
        try:
            client._execute("PUT", bucket, f"n/{number:08d}", body=b"1", headers={"If-None-Match": "*"})
            done += 1
        except S3Error as exc:
            if exc.code != "PreconditionFailed":
                raise
        number += 1
    return _result(count, started, cpu0)


def _pool(p: int, worker: Callable[..., Result], jobs: list[Any]) -> tuple[int, float, dict[str, int]]:
    ctx = mp.get_context("fork")
    started = time.perf_counter()
    with ctx.Pool(p) as pool:
        results = pool.map(worker, jobs)
    wall = time.perf_counter() - started
    counts: collections.Counter[str] = collections.Counter()
    for r in results:
        counts.update(r[2])
    return sum(r[0] for r in results), wall, dict(counts)


def _stats(rates: list[float]) -> str:
    return f"min {min(rates):.1f} / median {statistics.median(rates):.1f}"


def _per(counts: dict[str, int], done: int) -> str:
    total = sum(v for k, v in counts.items() if not k.startswith("~"))
    parts = ", ".join(f"{k} {v / done:.2f}" for k, v in sorted(counts.items()))
    return f"{total / done:.2f} per record ({parts})" if counts else "none"


def _measure(
    label: str,
    p: int,
    repeat: int,
    fresh: Callable[[], str],
    prepare: Callable[[str], None],
    worker: Callable[..., Result],
    options: dict[str, Any],
    per: int,
    size: int,
    check: Callable[[str, int], str] | None = None,
) -> float:
    rates: list[float] = []
    counts: dict[str, int] = {}
    done = 0
    note = ""
    pids = gateway_pids(str(options["endpoint"])) if "endpoint" in options else {}
    spent = 0.0  # the gateway's CPU seconds during the runs (every client's requests: m60)
    for _ in range(repeat):
        url = fresh()
        prepare(url)
        before = gateway_cpu(pids)
        done, wall, counts = _pool(p, worker, [(url, options, w, per, size) for w in range(p)])
        spent += _gateway_spent(pids, before)
        rates.append(done / wall)
        if check is not None:
            note = check(url, done)
    median = statistics.median(rates)
    counts = dict(counts)
    cpu_ms = counts.pop("~ cpu us", 0) / 1000 / done
    # per record of one process: its wall time (the median run's) beside the CPU it spent
    wall_ms = 1000 * p / median
    gateway = ""
    if pids:
        # The gateway runs on this machine's cores: no order of the same requests gives more
        # records a second than the cores over the CPU a record costs, the gateway's and Kho's.
        gateway_ms = 1000 * spent / (done * repeat)
        bound = 1000 * (os.cpu_count() or 1) / (gateway_ms + cpu_ms)
        gateway = f"   gateway cpu {gateway_ms:.2f} ms per record, bound {bound:.1f} /s"
    print(
        f"{label:<34} {p} proc: {_stats(rates)} /s   cpu {cpu_ms:.2f} ms / wall {wall_ms:.2f} ms per record"
        f" and process{gateway}   writes: {_per(counts, done)}{note}"
    )
    return median


def run(
    label: str,
    fresh: Callable[[], str],
    options: dict[str, Any],
    records: int,
    size: int,
    procs: list[int],
    repeat: int,
    parts: tuple[str, ...] = ("store", "numbers"),
    modes: tuple[bool, ...] = (False, True),
    series: tuple[bool, ...] = (False,),
) -> None:
    s3 = label.startswith("S3")
    print(f"\n== {label}: {size // 1024} KB records, {records} per run, min/median of {repeat} ==")

    def prepare_repo(url: str) -> None:
        _open(url, options)  # create buckets / folders once

    def prepare_raw(url: str) -> None:
        if s3:
            client = _minio(options)
            client.make_bucket(url.removeprefix("s3://"))

    def exact(url: str, done: int) -> str:
        """Every series numbered 1..n without a gap or a repeat, n summing to ``done``."""
        repo = _open(url, {k: v for k, v in options.items() if k != "distinct_series"})
        by_series: dict[str, list[int]] = collections.defaultdict(list)
        for entry in repo.registers.all_entries():
            by_series[entry.series].append(entry.number)
        ok = all(sorted(n) == list(range(1, len(n) + 1)) for n in by_series.values())
        return f"   exact: {ok and sum(map(len, by_series.values())) == done} ({len(by_series)} series)"

    for p in procs if "store" in parts else []:
        per = max(1, records // p)
        raw = _measure(
            "raw " + ("put_object" if s3 else "sha256+aes-gcm+write+fsync"),
            p,
            repeat,
            fresh,
            prepare_raw,
            _raw_s3_worker if s3 else _raw_local_worker,
            options,
            per,
            size,
        )
        for group in modes:
            name = "Kho store" + (", group commit" if group else "")
            opts = {**options, "group_commit": group}
            kho = _measure(name, p, repeat, fresh, prepare_repo, _store_worker, opts, per, size)
            print(f"{'':<34} ratio (median) Kho/raw = {kho / raw:.2f}")
    for p in procs if "numbers" in parts else []:
        per = max(1, records // p)
        raw = 0.0
        if s3:
            raw = _measure(
                "raw conditional PUT per number",
                p,
                repeat,
                fresh,
                prepare_raw,
                _raw_number_worker,
                options,
                per,
                0,
            )
        for group, distinct in ((g, d) for g in modes for d in series):
            kho = _measure(
                "Kho register numbers" + (", group commit" if group else "")
                + (", own series" if distinct else ""),
                p,
                repeat,
                fresh,
                prepare_repo,
                _number_worker,
                {**options, "group_commit": group, "distinct_series": distinct},
                per,
                0,
                check=exact,
            )
            if raw:
                print(f"{'':<34} ratio (median) Kho/raw = {kho / raw:.2f}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--s3-records", type=int, default=0, help="default: records / 5, at least 50")
    parser.add_argument("--size-kb", type=int, default=200)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--parts", default="store,numbers", help="store, numbers or both")
    parser.add_argument("--group-commit", choices=("off", "on", "both"), default="both",
                        help="audit events of one act: one object each (off) or one batch (on)")
    parser.add_argument("--profile", action="store_true", help="list the objects one record writes")
    parser.add_argument("--master-key", action="store_true", help="run Kho with a master key (seals events)")
    parser.add_argument("--series", choices=("one", "own", "both"), default="one",
                        help="numbers of every process in one series, each process's own, or both")
    parser.add_argument("--s3-endpoint", default=os.environ.get("KHO_TEST_S3_ENDPOINT", ""))
    parser.add_argument("--s3-access-key", default=os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""))
    parser.add_argument("--s3-secret-key", default=os.environ.get("KHO_TEST_S3_SECRET_KEY", ""))
    args = parser.parse_args()
    if args.master_key:
        os.environ[MASTER_KEY_ENV] = "1"
    procs = [int(p) for p in args.processes.split(",")]
    parts = tuple(args.parts.split(","))
    size = args.size_kb * 1024
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.group_commit]
    base = Path(tempfile.mkdtemp(prefix="kho-bench-", dir=os.environ.get("TMPDIR")))
    s3_options = {
        "endpoint": args.s3_endpoint,
        "access_key": args.s3_access_key,
        "secret_key": args.s3_secret_key,
        "secure": False,
    }

    def fresh_s3() -> str:
        """A new bucket, and its key store's (``_open``), removed at the end (drop_made)."""
        bucket = new_bucket("bench", s3_options)
        track(f"{bucket}-keys", s3_options)
        return f"s3://{bucket}"

    try:
        _main_runs(args, base, s3_options, fresh_s3, procs, parts, size, modes)
    finally:
        drop_made()  # the gateway keeps every object in RAM (tests/support/kho_buckets.py)
        # Each run left ~0.7-1.4 GB of local stores here: a session's runs filled the disk past
        # Elasticsearch's flood-stage watermark, and the suite's ES purge test then hung.
        shutil.rmtree(base, ignore_errors=True)


def _main_runs(
    args: argparse.Namespace,
    base: Path,
    s3_options: dict[str, Any],
    fresh_s3: Callable[[], str],
    procs: list[int],
    parts: tuple[str, ...],
    size: int,
    modes: tuple[bool, ...],
) -> None:
    if args.profile:
        if not args.skip_local:
            profile("local folder", lambda: f"file://{base / uuid.uuid4().hex / 'store'}", {}, size)
        if args.s3_endpoint:
            profile(f"S3 at {args.s3_endpoint}", fresh_s3, s3_options, size)
    if not args.skip_local:
        run(
            "local folder",
            lambda: f"file://{base / uuid.uuid4().hex / 'store'}",
            {},
            args.records,
            size,
            procs,
            args.repeat,
            parts,
            modes,
            {"one": (False,), "own": (True,), "both": (False, True)}[args.series],
        )
    if args.s3_endpoint:
        run(
            f"S3 at {args.s3_endpoint}",
            fresh_s3,
            s3_options,
            args.s3_records or max(50, args.records // 5),
            size,
            procs,
            args.repeat,
            parts,
            modes,
            {"one": (False,), "own": (True,), "both": (False, True)}[args.series],
        )
    else:
        print("\nS3: skipped (no --s3-endpoint and KHO_TEST_S3_ENDPOINT unset)")


if __name__ == "__main__":
    main()
