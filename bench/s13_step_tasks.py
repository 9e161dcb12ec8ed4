"""One pool task per object, or one per step? (s13, issue #14 item 1). One step of a record:
``k`` small temp files written and fsync'd, then 4 directories synced, on this disk:

* ``per_object``: as ``storage.group`` does, one pool task per temp file and per directory, the
  caller waits for each future (the fsyncs run at the same time and share journal commits);
* ``one_task``: one pool task writes and fsyncs every temp file, then syncs every directory;
* ``kick_sfr`` / ``kick_fadvise``: one task, every temp file's writeback started first
  (``sync_file_range(SYNC_FILE_RANGE_WRITE)`` / ``posix_fadvise(DONTNEED)``), then fsync'd one
  after another (kernel-side overlap instead of threads).

Wall, CPU (user + system, every thread) and voluntary context switches per step, min / median of
3 runs of 200 steps, interleaved.

    python3 bench/s13_step_tasks.py

Prints figures; it is not a test.
"""

from __future__ import annotations

import ctypes
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import scratch

SYNC_FILE_RANGE_WRITE = 2
_libc = ctypes.CDLL(None, use_errno=True)
_libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
_base = scratch.mkdtemp(prefix="kho-s13-steps-", dir=os.environ.get("TMPDIR"))
_pool = ThreadPoolExecutor(8)
_dirs = [os.path.join(_base, f"d{i}") for i in range(4)]
for _d in _dirs:
    os.mkdir(_d)
_data = os.urandom(2000)
_count = [0]


def _open_new() -> int:
    _count[0] += 1
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    return os.open(os.path.join(_base, f"t{_count[0]}"), flags, 0o600)


def _stage() -> None:
    fd = _open_new()
    os.write(fd, _data)
    os.fsync(fd)
    os.close(fd)


def _sync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def per_object(k: int) -> None:
    for future in [_pool.submit(_stage) for _ in range(k)]:
        future.result()
    for future in [_pool.submit(_sync_dir, d) for d in _dirs]:
        future.result()


def one_task(k: int) -> None:
    def step() -> None:
        for _ in range(k):
            _stage()
        for d in _dirs:
            _sync_dir(d)

    _pool.submit(step).result()


def _kicked(how: str) -> Callable[[int], None]:
    def run(k: int) -> None:
        def step() -> None:
            fds = []
            for _ in range(k):
                fd = _open_new()
                os.write(fd, _data)
                if how == "sfr":
                    _libc.sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)
                else:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                fds.append(fd)
            for fd in fds:
                os.fsync(fd)
                os.close(fd)
            for d in _dirs:
                _sync_dir(d)

        _pool.submit(step).result()

    return run


def _measure(fn: Callable[[int], None], k: int, steps: int = 200) -> tuple[float, float, float]:
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        fn(k)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    return (t1 - t0) / steps * 1e3, cpu / steps * 1e3, (r1.ru_nvcsw - r0.ru_nvcsw) / steps


def main() -> None:
    ways = {
        "per_object": per_object,
        "one_task": one_task,
        "kick_sfr": _kicked("sfr"),
        "kick_fadvise": _kicked("fadvise"),
    }
    for k in (2, 3):
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in ways}
        for _ in range(3):
            for name, fn in ways.items():
                runs[name].append(_measure(fn, k))
        for name, results in runs.items():
            cells = []
            for i, label in enumerate(("wall ms", "cpu ms", "vol cs")):
                values = [r[i] for r in results]
                cells.append(f"{label} {min(values):.2f} / {statistics.median(values):.2f}")
            print(f"k={k} {name:<13} " + "; ".join(cells))


if __name__ == "__main__":
    main()
