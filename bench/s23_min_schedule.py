"""Issue 14 design study: how fast could one 200 KB record be stored on S3 with Kho's promises
kept? Replays request schedules with raw requests on the real gateway, interleaved with raw
``put_object`` and with Kho's own ``create_document``.

    .venv/bin/python bench/s23_min_schedule.py [--records 80] [--rounds 3] [--probe 40]

Every schedule is a list of request rounds; the requests of one round are sent at once (as
Kho's write pool sends them) and the next round starts when all have answered. Requests are
the ones Kho sends (``minio`` client, ``_execute`` as ``S3Store._put_raw``), of Kho's sizes
(measured with a trace of ``create_document``, group commit, session 49): the sealed 200 KB
original, the 32-byte data key in its own versioned bucket, small JSON objects in the
versioned data bucket, claims and the witness in the unversioned companion bucket. Each replayed
record also does the byte work any design must do (SHA-256 of the original, AES-GCM under a
fresh data key), so what is left between the replay of today's schedule and Kho is Kho's own
client work.

Schedules (see ``bench/NOTES-s23.md`` for why each request is there and may not go):

* ``today-claims``: Kho's schedule today in the claims mode (Ceph), to check the replay;
* ``min-claims``: the fewest rounds with today's stored formats, claims mode (the guards beside
  the original: only for originals that upload well within a guard's grace);
* ``strict-claims``: today's formats, the guards after the original as today but both at once;
* ``one-claims``: the one-object design (register entry = number + sealed first version + the
  act's audit batch; a small chain link at the event's key; the catalog marker written beside
  the entry, naming it; no ``v000001``), claims mode;
* ``today-cond``, ``min-cond``, ``one-cond``: the same in the conditional mode (a server that
  honours ``If-None-Match`` on versioned buckets). This gateway ignores it there, so they are
  timed as if honoured: same requests, the header sent, no claims;
* ``bound-3``: not a design, a bound: one conditional create carrying everything after the
  first round (the number, version, events and chain slot would have to share one key);
* ``bound-2``: not a design either: ``bound-3`` with the witness moved off the critical path
  (it would weaken the cut-from-the-end promise for the newest acts).

Prints records/s (min/median of ``--rounds``), requests and request rounds a record (counted by
``bench_store``'s wrapper around the client's connection pool), client CPU a record, and the
ratio to raw ``put_object`` measured in the same round (the lines of a round store their records
in ``--chunks`` chunks, taking turns); then the gateway's latency per request kind (sequential,
median) and the client's CPU for it. Every bucket is the benchmark's own and removed at the end
of its round.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

import bench_store as bs  # counts every request and request round (patches urllib3's pool)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kho_buckets import drop_bucket, drop_made, new_bucket, track
from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

SIZE = 200 * 1024

# -- the objects of one record creation, with their sizes (trace of create_document, group
# commit, no master key: bench_store's default) ---------------------------------------------------
KEY = 32  # the record's data key (keys bucket)
MARKER = 179  # catalog/records/<id>
GUARD = 456  # a duplicate guard's claim (its data is in the claim: guard_claim)
CLAIM = 154  # a claim of a key whose data follows (register entry, audit event object)
ENTRY = 1835  # registers/<agency>/<year>/<series>/<n>.json: number + sealed first version
EVENTS = 881  # audit/events/<shard>/<seq>.json: the act's batch (record:create, register:assign)
VERSION = 1246  # records/<id>/v000001, materialised from the entry
WITNESS = 240  # pointers/audit/witness.json in the companion bucket
LINK = 200  # one-object design: the chain's object at the event's key, naming the entry


@dataclass(frozen=True)
class Req:
    """One request of a schedule."""

    what: str
    """What it writes or reads (a name of ``OBJECT``)."""
    bucket: str
    """``data`` (versioned), ``keys`` (versioned), ``claims`` (the unversioned companion)."""
    size: int
    method: str = "PUT"
    condition: str = ""
    """``If-None-Match`` (create), ``If-Match`` (the witness's replace) or none."""


@dataclass(frozen=True)
class Schedule:
    name: str
    rounds: tuple[tuple[Req, ...], ...]
    note: str

    @property
    def requests(self) -> int:
        return sum(len(r) for r in self.rounds)


def _content(cond: bool = False) -> Req:
    return Req("content", "data", SIZE + 45, condition="If-None-Match" if cond else "")


CONTENT, DATA_KEY, CAT = _content(), Req("key", "keys", KEY), Req("marker", "data", MARKER)
W_GET = Req("witness", "claims", 0, "GET")
W_PUT = Req("witness", "claims", WITNESS, condition="If-Match")


def _claim(what: str, size: int = CLAIM) -> Req:
    return Req(what, "claims", size, condition="If-None-Match")


def _create(what: str, size: int) -> Req:
    """A conditional create in the data bucket (conditional mode)."""
    return Req(what, "data", size, condition="If-None-Match")


def _put(what: str, size: int) -> Req:
    return Req(what, "data", size)


G_SHA, G_SKH = _claim("guard-sha256", GUARD), _claim("guard-skh", GUARD)
C_G_SHA, C_G_SKH = _create("guard-sha256", GUARD), _create("guard-skh", GUARD)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "today-claims",
        (
            (CONTENT, DATA_KEY, CAT),
            (G_SHA,),
            (G_SKH,),
            (W_GET, _claim("entry-claim")),
            (_claim("event-claim"), _put("entry", ENTRY)),
            (_put("events", EVENTS), _put("v1", VERSION)),
            (W_PUT,),
        ),
        "Kho today (trace): guards one after another after the original",
    ),
    Schedule(
        "min-claims",
        (
            (CONTENT, DATA_KEY, CAT, G_SHA, G_SKH, W_GET),
            (_claim("entry-claim"),),
            (_claim("event-claim"), _put("entry", ENTRY)),
            (_put("events", EVENTS), _put("v1", VERSION)),
            (W_PUT,),
        ),
        "today's formats: guards beside the original (in order again on a conflict)",
    ),
    Schedule(
        "strict-claims",
        (
            (CONTENT, DATA_KEY, CAT, W_GET),
            (G_SHA, G_SKH),
            (_claim("entry-claim"),),
            (_claim("event-claim"), _put("entry", ENTRY)),
            (_put("events", EVENTS), _put("v1", VERSION)),
            (W_PUT,),
        ),
        "today's formats: guards after the original as today, but both at once",
    ),
    Schedule(
        "one-claims",
        (
            (CONTENT, DATA_KEY, G_SHA, G_SKH, W_GET),
            (_claim("entry-claim"), _claim("event-claim")),
            (_put("entry+v1+events", ENTRY + EVENTS), _put("link", LINK), CAT),
            (W_PUT,),
        ),
        "one object: entry = number + v1 + the act's events; a chain link; the marker names the entry",
    ),
    Schedule(
        "today-cond",
        (
            (_content(True), DATA_KEY, CAT),
            (C_G_SHA,),
            (C_G_SKH,),
            (W_GET, _create("entry", ENTRY)),
            (_create("events", EVENTS), _put("v1", VERSION)),
            (W_PUT,),
        ),
        "Kho's order today in the conditional mode (no claims)",
    ),
    Schedule(
        "min-cond",
        (
            (_content(True), DATA_KEY, CAT, C_G_SHA, C_G_SKH, W_GET),
            (_create("entry", ENTRY),),
            (_create("events", EVENTS), _put("v1", VERSION)),
            (W_PUT,),
        ),
        "today's formats, conditional mode",
    ),
    Schedule(
        "one-cond",
        (
            (_content(True), DATA_KEY, C_G_SHA, C_G_SKH, W_GET),
            (_create("link", LINK),),
            (_create("entry+v1+events", ENTRY + EVENTS), CAT),
            (W_PUT,),
        ),
        "one object, conditional mode: the link takes the chain's slot before the entry",
    ),
    Schedule(
        "bound-3",
        (
            (_content(True), DATA_KEY, CAT, C_G_SHA, C_G_SKH, W_GET),
            (_create("everything", ENTRY + EVENTS),),
            (W_PUT,),
        ),
        "a bound, not a design: one create after the original, then the witness",
    ),
    Schedule(
        "bound-2",
        (
            (_content(True), DATA_KEY, CAT, C_G_SHA, C_G_SKH, W_GET),
            (_create("everything", ENTRY + EVENTS),),
        ),
        "a bound, not a design: bound-3 without the witness on the critical path",
    ),
)


@dataclass
class Buckets:
    """One run's buckets: data (versioned), keys (versioned), companion (unversioned)."""

    data: str
    keys: str
    claims: str
    client: Minio
    options: Mapping[str, Any]

    @classmethod
    def make(cls, options: Mapping[str, Any], tag: str) -> Buckets:
        data = new_bucket(tag, options)
        keys = track(f"{data}-keys", options)
        client = bs._minio(dict(options))
        for name, versioned in ((data, True), (keys, True), (f"{data}-claims", False)):
            client.make_bucket(name)
            if versioned:
                client.set_bucket_versioning(name, VersioningConfig(ENABLED))
        return cls(data, keys, f"{data}-claims", client, options)

    def name(self, bucket: str) -> str:
        return {"data": self.data, "keys": self.keys, "claims": self.claims}[bucket]

    def drop(self) -> None:
        for name in (self.data, self.keys):  # each with its "-claims" companion
            for problem in drop_bucket(name, self.options):
                print(f"  ! {problem}")


@dataclass
class Replayer:
    """Sends a schedule's rounds for one record after another."""

    buckets: Buckets
    pool: ThreadPoolExecutor
    body: bytes = field(default_factory=lambda: os.urandom(SIZE))
    witness_tag: str = ""
    number: int = 0

    def start(self) -> None:
        b = self.buckets
        response = b.client._execute("PUT", b.claims, "pointers/audit/witness.json", body=os.urandom(WITNESS))
        self.witness_tag = response.headers.get("etag", "").strip('"')

    def record(self, schedule: Schedule) -> None:
        self.number += 1
        n = self.number
        data = b"%PDF-1.7\n" + n.to_bytes(8, "big") + self.body
        digest = hashlib.sha256(data).hexdigest()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(data_key).encrypt(nonce, data, digest.encode())
        record_id = uuid.uuid4().hex[:24]
        keys = {
            "content": f"records/{record_id}/content/{digest}",
            "key": f"keys/{record_id}",
            "marker": f"catalog/records/{record_id}",
            "guard-sha256": f"claims/sha256/{digest}",
            "guard-skh": f"claims/skh/{hashlib.sha256(digest.encode()).hexdigest()}",
            "entry-claim": f"registers/000.00.18.H40/2026/den/{n:08d}.json",
            "event-claim": f"audit/events/000000/{n:012d}.json",
            "entry": f"registers/000.00.18.H40/2026/den/{n:08d}.json",
            "entry+v1+events": f"registers/000.00.18.H40/2026/den/{n:08d}.json",
            "everything": f"registers/000.00.18.H40/2026/den/{n:08d}.json",
            "events": f"audit/events/000000/{n:012d}.json",
            "link": f"audit/events/000000/{n:012d}.json",
            "v1": f"records/{record_id}/v000001",
            "witness": "pointers/audit/witness.json",
        }
        bodies = {"content": sealed, "key": data_key}
        for requests in schedule.rounds:
            sent: list[Future[None]] = [self.pool.submit(self._send, r, keys, bodies) for r in requests[1:]]
            self._send(requests[0], keys, bodies)
            for future in sent:
                future.result()

    def _send(self, req: Req, keys: Mapping[str, str], bodies: Mapping[str, bytes]) -> None:
        b = self.buckets
        bucket, key = b.name(req.bucket), keys[req.what]
        if req.bucket == "claims" and req.what != "witness":
            key = "claims/" + key  # a claim, at its key's name in the companion bucket
        if req.method == "GET":
            response = b.client._execute("GET", bucket, key)
            response.data  # noqa: B018  (the body read, as Kho reads it)
            self.witness_tag = response.headers.get("etag", "").strip('"')
            return
        headers: dict[str, str] = {}
        if req.condition == "If-None-Match":
            headers["If-None-Match"] = "*"
        elif req.condition == "If-Match":
            headers["If-Match"] = self.witness_tag
        body = bodies.get(req.what) or os.urandom(req.size)
        response = b.client._execute("PUT", bucket, key, body=body, headers=headers)
        if req.what == "witness":
            self.witness_tag = response.headers.get("etag", "").strip('"')


@dataclass(frozen=True)
class Run:
    rate: float
    """Records a second."""
    requests: float
    rounds: float
    cpu_ms: float
    """Client CPU a record (every thread of this process)."""


@dataclass
class Line:
    """One line of the table: something that stores records, measured in chunks interleaved
    with the other lines' (``start`` opens it and writes one record untimed, as a process's
    first act; ``stop`` removes its buckets)."""

    name: str
    start: Callable[[], Callable[[int], None]]
    """Opens the line; returns what stores record ``i``."""
    stop: Callable[[], None]
    done: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    requests: int = 0
    rounds: int = 0
    one: Callable[[int], None] | None = None

    def chunk(self, count: int) -> None:
        assert self.one is not None
        bs.COUNTS.clear()
        started, cpu0 = time.perf_counter(), time.process_time()
        for i in range(self.done, self.done + count):
            self.one(i)
        self.wall += time.perf_counter() - started
        self.cpu += time.process_time() - cpu0
        counts = dict(bs.COUNTS)
        self.rounds += counts.pop("~ request rounds", 0)
        self.requests += sum(v for k, v in counts.items() if not k.startswith("~") and "fsync" not in k)
        self.done += count

    def result(self) -> Run:
        n = self.done
        return Run(n / self.wall, self.requests / n, self.rounds / n, 1000 * self.cpu / n)


def raw_line(options: Mapping[str, Any], *, versioned: bool) -> Line:
    """One ``put_object`` a record, as ``bench_store``'s raw baseline (an unversioned bucket),
    or into a versioned bucket."""
    bucket = new_bucket("s23raw", options)
    client = bs._minio(dict(options))
    body = os.urandom(SIZE)

    def one(i: int) -> None:
        data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
        client.put_object(bucket, f"raw/{i:08d}", io.BytesIO(data), len(data))

    def start() -> Callable[[int], None]:
        client.make_bucket(bucket)
        if versioned:
            client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
        one(2**32 - 1)
        return one

    name = "raw put_object" + (", versioned" if versioned else "")
    return Line(name, start, lambda: _drop(options, bucket))


def kho_line(options: Mapping[str, Any]) -> Line:
    """Kho's ``create_document`` of a 200 KB văn bản đến (group commit, main's default)."""
    bucket = new_bucket("s23kho", options)
    track(f"{bucket}-keys", options)
    body = os.urandom(SIZE)

    def start() -> Callable[[int], None]:
        repo = bs._open(f"s3://{bucket}", {**options, "group_commit": True})

        def one(i: int) -> None:
            data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
            repo.create_document("den", bs._metadata(i, "den"), data, f"vb{i}.pdf", bs.CLERK)

        one(999_999)  # first act of the process: the companion check, the first witness
        return one

    return Line("Kho create_document", start, lambda: _drop(options, bucket, f"{bucket}-keys"))


def replay_line(options: Mapping[str, Any], schedule: Schedule, pool: ThreadPoolExecutor) -> Line:
    made: list[Buckets] = []

    def start() -> Callable[[int], None]:
        made.append(Buckets.make(options, "s23rep"))
        player = Replayer(made[0], pool)
        player.start()
        player.record(schedule)  # warm: connections open, as Kho's first act
        return lambda _i: player.record(schedule)

    return Line(f"replay {schedule.name}", start, lambda: [b.drop() for b in made] and None)


def _drop(options: Mapping[str, Any], *buckets: str) -> None:
    for name in buckets:  # each with its "-claims" companion
        for problem in drop_bucket(name, options):
            print(f"  ! {problem}")


def measure_round(lines: list[Line], records: int, chunks: int) -> dict[str, Run]:
    """Every line stores ``records`` records in ``chunks`` chunks, the lines taking turns chunk
    by chunk (the order turned by one each time), so that what else the machine does meets
    them alike."""
    try:
        for line in lines:
            line.one = line.start()
        per = max(1, records // chunks)
        for c in range(chunks):
            for line in lines[c % len(lines):] + lines[: c % len(lines)]:
                line.chunk(per)
        return {line.name: line.result() for line in lines}
    finally:
        for line in lines:
            line.stop()


def probe(options: Mapping[str, Any], count: int, pool: ThreadPoolExecutor) -> None:
    """The gateway's latency per request kind: ``count`` of each, sent one at a time and
    interleaved kind by kind, median and min in ms, with the client's CPU for each (this
    process, every thread)."""
    b = Buckets.make(options, "s23lat")
    plain = new_bucket("s23lat", options)
    b.client.make_bucket(plain)
    big, small = os.urandom(SIZE + 45), os.urandom(ENTRY)
    first = b.client._execute("PUT", b.claims, "pointers/w", body=os.urandom(WITNESS))
    tag = first.headers["etag"].strip('"')
    n = [0]

    def put(bucket: str, key: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
        n[0] += 1
        return b.client._execute("PUT", bucket, f"{key}/{n[0]}", body=body, headers=headers or {})

    def witness() -> None:
        nonlocal tag
        tag = b.client._execute(
            "PUT", b.claims, "pointers/w", body=os.urandom(WITNESS), headers={"If-Match": tag}
        ).headers["etag"].strip('"')  # unquoted, as S3Store._put_pointer sends it

    def six() -> None:  # the first round of the minimal schedules: six at once
        jobs = [
            pool.submit(put, b.data, "c", big),
            pool.submit(put, b.keys, "k", os.urandom(KEY)),
            pool.submit(put, b.data, "m", os.urandom(MARKER)),
            pool.submit(put, b.claims, "g1", os.urandom(GUARD), {"If-None-Match": "*"}),
            pool.submit(put, b.claims, "g2", os.urandom(GUARD), {"If-None-Match": "*"}),
            pool.submit(lambda: b.client._execute("GET", b.claims, "pointers/w").data),
        ]
        for job in jobs:
            job.result()

    kinds: dict[str, Callable[[], Any]] = {
        "PUT 200 KB, unversioned (raw put_object's)": lambda: put(plain, "r", big),
        "PUT 200 KB, versioned data bucket": lambda: put(b.data, "c", big),
        "PUT 1.8 KB, versioned data bucket": lambda: put(b.data, "e", small),
        "PUT 1.8 KB, versioned, If-None-Match (ignored)": lambda: put(
            b.data, "x", small, {"If-None-Match": "*"}
        ),
        "PUT 179 B, versioned data bucket": lambda: put(b.data, "m", os.urandom(MARKER)),
        "PUT 32 B, versioned keys bucket": lambda: put(b.keys, "k", os.urandom(KEY)),
        "PUT 1.8 KB, unversioned": lambda: put(plain, "u", small),
        "PUT 456 B claim, unversioned, If-None-Match": lambda: put(b.claims, "g", os.urandom(GUARD),
                                                                   {"If-None-Match": "*"}),
        "PUT 240 B witness, unversioned, If-Match": witness,
        "GET 240 B witness, unversioned": lambda: b.client._execute("GET", b.claims, "pointers/w").data,
        "round of six (min schedules' first)": six,
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    try:
        for fn in kinds.values():
            fn()  # connections open
        for _ in range(count):
            for kind, fn in kinds.items():
                t, c = time.perf_counter(), time.process_time()
                fn()
                times[kind].append(1000 * (time.perf_counter() - t))
                cpu[kind].append(1000 * (time.process_time() - c))
    finally:
        b.drop()
        for problem in drop_bucket(plain, options):
            print(f"  ! {problem}")
    print(f"\n== gateway latency per request kind ({count} of each, one at a time, interleaved),"
          " and the client's CPU for it ==")
    for kind, values in times.items():
        print(f"{kind:<50} median {statistics.median(values):6.2f} ms   min {min(values):6.2f} ms"
              f"   client cpu median {statistics.median(cpu[kind]):5.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=4, help="turns each line takes in a round")
    parser.add_argument("--probe", type=int, default=40, help="requests of each kind (0: no probe)")
    parser.add_argument("--only", default="", help="schedules to replay, comma-separated (default: all)")
    parser.add_argument("--s3-endpoint", default=os.environ.get("KHO_TEST_S3_ENDPOINT", ""))
    parser.add_argument("--s3-access-key", default=os.environ.get("KHO_TEST_S3_ACCESS_KEY", ""))
    parser.add_argument("--s3-secret-key", default=os.environ.get("KHO_TEST_S3_SECRET_KEY", ""))
    args = parser.parse_args()
    if not args.s3_endpoint:
        sys.exit("no S3 gateway: --s3-endpoint or KHO_TEST_S3_ENDPOINT (scripts/services.sh env)")
    options = {"endpoint": args.s3_endpoint, "access_key": args.s3_access_key,
               "secret_key": args.s3_secret_key, "secure": False}
    chosen = [s for s in SCHEDULES if not args.only or s.name in args.only.split(",")]
    lines: dict[str, list[Run]] = {}
    ratios: dict[str, list[float]] = {}
    # Kho's write pool has threads enough for a round of six (storage.group)
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="replay") as pool:
        try:
            for r in range(args.rounds):
                print(f"-- round {r + 1} of {args.rounds}", flush=True)
                lines_now = [raw_line(options, versioned=False), raw_line(options, versioned=True),
                             kho_line(options)] + [replay_line(options, s, pool) for s in chosen]
                runs = measure_round(lines_now, args.records, args.chunks)
                raw = runs["raw put_object"].rate
                for name, run in runs.items():
                    lines.setdefault(name, []).append(run)
                    ratios.setdefault(name, []).append(run.rate / raw)
                    print(f"   {name:<28} {run.rate:7.1f} /s  ratio {run.rate / raw:.3f}", flush=True)
            if args.probe:
                probe(options, args.probe, pool)
        finally:
            drop_made()
    designed = {f"replay {s.name}": s for s in SCHEDULES}
    print(f"\n== {args.records} records a line and round, in {args.chunks} chunks taking turns;"
          f" {args.rounds} rounds; ratio = records/s over raw put_object's of the same round"
          " (unversioned bucket, as bench_store) ==")
    print(f"{'line':<30} {'rounds':>6} {'req':>4} | {'req/rec':>7} {'rounds/rec':>10} {'cpu ms':>6} | "
          f"{'records/s min / median':>22} | ratio min / median | per round")
    for name, runs in lines.items():
        s = designed.get(name)
        shape = f"{len(s.rounds):>6} {s.requests:>4}" if s else f"{'':>6} {'':>4}"
        rates = [x.rate for x in runs]
        last = runs[-1]
        print(
            f"{name:<30} {shape} | {last.requests:7.2f} {last.rounds:10.2f} "
            f"{statistics.median(x.cpu_ms for x in runs):6.2f} | "
            f"{min(rates):9.1f} / {statistics.median(rates):9.1f}  | "
            f"{min(ratios[name]):.3f} / {statistics.median(ratios[name]):.3f}  | "
            + ", ".join(f"{v:.1f}" for v in rates)
        )
    for s in chosen:
        print(f"  {s.name:<13} {s.note}")


if __name__ == "__main__":
    main()
