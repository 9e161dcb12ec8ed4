"""Where the wall time of one local record goes (s12): per 200 KB record on the local folder,
audit group commit on, one process, in this tree's code (run it from another tree, with that
tree first on ``PYTHONPATH``, for a before/after in the same minutes):

* the raw loop of ``bench_store.py`` (SHA-256 + AES-GCM + write + fsync), same minutes;
* Kho with fsync on and with ``KHO_FSYNC=false`` (NoDurability): wall, user and system CPU,
  voluntary and involuntary context switches per record (``getrusage``, every thread);
* Kho with fsync on under a timing Durability: the sync rounds of one record (a round starts
  with a file or directory sync that begins while no other sync of the record runs).

    .venv/bin/python bench/s12_record_time.py [--records 200] [--repeat 3]

Each figure is min / median of ``--repeat`` runs. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

import scratch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_store as b  # (puts this tree first on sys.path)

from repository.records import Repository
from repository.storage.durability import Durability, NoDurability
from repository.storage.local import LocalStore


class _Timed(Durability):
    """Syncs for real and keeps (start, end) of each."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []

    def file(self, fd: int, path: Path) -> None:
        began = time.perf_counter()
        super().file(fd, path)
        self.spans.append((began, time.perf_counter()))

    def directory(self, path: Path) -> None:
        began = time.perf_counter()
        super().directory(path)
        self.spans.append((began, time.perf_counter()))


def _rounds(spans: list[tuple[float, float]]) -> int:
    count, busy = 0, -1.0
    for began, ended in sorted(spans):
        if began > busy:
            count += 1
        busy = max(busy, ended)
    return count


def _repo(base: Path, durability: Durability) -> Repository:
    folder = base / uuid.uuid4().hex
    fsync = not isinstance(durability, NoDurability)  # as KHO_FSYNC=false opens it: no write pool
    return Repository(
        LocalStore(folder / "s", fsync=fsync, durability=durability),
        LocalStore(folder / "k", fsync=fsync, durability=durability),
        agency_id=b.AGENCY,
        audit_group_commit=True,
    )


def _one(repo: Repository, i: int, body: bytes) -> None:
    data = b"%PDF-1.7\n" + i.to_bytes(8, "big") + body
    repo.create_document("den", b._metadata(i, "den"), data, f"vb{i}.pdf", b.CLERK)


def _kho(base: Path, durability: Durability, records: int, body: bytes) -> dict[str, float]:
    repo = _repo(base, durability)
    for i in range(3):
        _one(repo, i, body)  # warm: folders made, audit head cached
    spans: list[float] = []
    rounds: list[int] = []
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for i in range(3, 3 + records):
        if isinstance(durability, _Timed):
            durability.spans.clear()
            began = time.perf_counter()
            _one(repo, i, body)
            spans.append(time.perf_counter() - began)
            rounds.append(_rounds(durability.spans))
        else:
            _one(repo, i, body)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    out = {
        "wall ms": (t1 - t0) / records * 1e3,
        "user ms": (r1.ru_utime - r0.ru_utime) / records * 1e3,
        "sys ms": (r1.ru_stime - r0.ru_stime) / records * 1e3,
        "vol cs": (r1.ru_nvcsw - r0.ru_nvcsw) / records,
        "invol cs": (r1.ru_nivcsw - r0.ru_nivcsw) / records,
    }
    if rounds:
        out["rounds"] = statistics.mean(rounds)
    return out


def _raw(base: Path, records: int, size: int) -> dict[str, float]:
    count, wall, _ = b._raw_local_worker((f"file://{base / uuid.uuid4().hex}", {}, 0, records, size))
    return {"wall ms": wall / count * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size-kb", type=int, default=200)
    args = parser.parse_args()
    size = args.size_kb * 1024
    body = os.urandom(size)
    base = Path(scratch.mkdtemp(prefix="kho-s12-", dir=os.environ.get("TMPDIR")))
    names = ("raw loop", "Kho fsync", "Kho no fsync", "Kho rounds")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(args.repeat):
        runs["raw loop"].append(_raw(base, args.records, size))
        runs["Kho fsync"].append(_kho(base, Durability(), args.records, body))
        runs["Kho no fsync"].append(_kho(base, NoDurability(), args.records, body))
        runs["Kho rounds"].append(_kho(base, _Timed(), min(args.records, 60), body))
    tree = Path(b.__file__).resolve().parents[1]
    print(f"code: {tree}; {args.records} records of {args.size_kb} KB per run")
    for name, results in runs.items():
        cells = []
        for key in results[0]:
            values = [r[key] for r in results]
            cells.append(f"{key} {min(values):.2f} / {statistics.median(values):.2f}")
        print(f"{name:<14} " + "; ".join(cells))
    raw = statistics.median(r["wall ms"] for r in runs["raw loop"])
    kho = statistics.median(r["wall ms"] for r in runs["Kho fsync"])
    print(f"ratio (median rates) Kho/raw = {raw / kho:.2f}")


if __name__ == "__main__":
    main()
