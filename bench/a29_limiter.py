"""The login limiter under parallel guesses and its cost per login (a29): main's code vs this
tree's, in the same run, on the local folder and on the real Ceph S3 gateway.

Three parts, each for ``local`` and ``s3``:

1. **read-after-write LIST** (what the a29 design rests on): ``THREADS`` threads at a barrier
   each ``put_new`` a unique key under one fresh prefix, note when its PUT returned, then LIST
   the prefix; a *miss* is a key whose PUT had returned before a LIST started and that the
   LIST did not show. ``ROUNDS`` rounds.
2. **storms**: ``STORM`` attempts at once on one (address, name), budget 4, each password check
   taking ``CHECK_S``; how many reached the check, per round (``guarded`` called directly from
   threads of this process: the HTTP version is tests/web/test_login_limit_parallel_a29.py).
3. **cost**: requests (store calls; on S3 also HTTP requests to the gateway) and wall time of
   ``guarded`` around an instant check: a right password (``N`` logins of one name: min,
   median, and the median of the first and last fifth, to see whether it grows), a wrong password
   (``N`` distinct addresses, so no budget is reached), a refused attempt (``N`` after the
   budget is spent).

    eval "$(bash scripts/services.sh env)"
    .venv/bin/python bench/a29_limiter.py            # N=200, both stores
    .venv/bin/python bench/a29_limiter.py --stores local --n 50

main's ``LoginLimiter`` is ``git show main:web/pages/common.py`` loaded as a module of its own
(everything else is this tree's)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import scratch

HERE = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(HERE), str(HERE / "tests" / "support")]

from kho.errors import LoginFailed, LoginRateLimited  # noqa: E402
from repository.storage.local import LocalStore  # noqa: E402
from web.pages import common as ours  # noqa: E402

THREADS, ROUNDS = 16, 40
STORM, BUDGET, CHECK_S, STORMS = 24, 4, 0.2, 5


def main_limiter_class() -> type:
    source = subprocess.run(
        ["git", "-C", str(HERE), "show", "main:web/pages/common.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(scratch.mkdtemp()) / "a29_main_common.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("a29_main_common", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LoginLimiter


class Counted:
    """The store's calls (and, on S3, the HTTP requests it sent) since :meth:`clear`."""

    def __init__(self, store: Any) -> None:
        self.store, self.calls, self.http = store, Counter[str](), 0
        self._depth = threading.local()
        for name in ("put_new", "put_if_absent", "put", "list", "delete", "discard_new"):
            real = getattr(store, name)
            setattr(store, name, self._wrap(name, real))
        client = getattr(store, "_client", None)
        if client is not None:
            real_open = client._http.urlopen

            def urlopen(*args: Any, **kwargs: Any) -> Any:
                self.http += 1
                return real_open(*args, **kwargs)

            client._http.urlopen = urlopen

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:

        def call(*args: Any, **kwargs: Any) -> Any:
            outer = not getattr(self._depth, "n", 0)
            if outer:  # (the local folder's put_new is its put_if_absent: one call)
                self.calls[name] += 1
            self._depth.n = getattr(self._depth, "n", 0) + 1
            try:
                result = real(*args, **kwargs)
                return list(result) if name == "list" else result
            finally:
                self._depth.n -= 1

        return call

    def clear(self) -> None:
        self.calls.clear()
        self.http = 0


@contextmanager
def opened(kind: str) -> Iterator[Any]:
    if kind == "local":
        yield LocalStore(scratch.mkdtemp(prefix="a29-bench-"), fsync=False)
        return
    from kho_buckets import drop_made, new_bucket
    from kho_testing import s3_options

    from repository.storage.s3 import S3Store

    options = s3_options()
    if options is None:
        raise SystemExit('KHO_TEST_S3_ENDPOINT is not set: eval "$(bash scripts/services.sh env)"')
    store = S3Store(new_bucket("a29-limiter", options), **options)
    try:
        yield store
    finally:
        store.close()
        drop_made()


def list_after_put(store: Any) -> tuple[int, int]:
    """(misses, LISTs checked)."""
    misses = checks = 0
    for round_ in range(ROUNDS):
        prefix = f"a29-race/{round_:03d}-{os.urandom(4).hex()}/"
        returned: dict[str, float] = {}
        lock = threading.Lock()
        barrier = threading.Barrier(THREADS)

        def one(
            index: int,
            prefix: str = prefix,
            returned: dict[str, float] = returned,
            lock: threading.Lock = lock,
            barrier: threading.Barrier = barrier,
        ) -> tuple[float, set[str]]:
            key = f"{prefix}{index:03d}-{os.urandom(8).hex()}"
            barrier.wait(timeout=120)
            store.put_new(key, b"")
            with lock:
                returned[key] = time.monotonic()
            started = time.monotonic()
            return started, {info.key for info in store.list(prefix)}

        with ThreadPoolExecutor(THREADS) as pool:
            seen = list(pool.map(one, range(THREADS)))
        for started, listed in seen:
            checks += 1
            misses += sum(1 for key, at in returned.items() if at < started and key not in listed)
        for key in returned:
            store.delete(key)
    return misses, checks


def storms(limiter_class: type, store: Any) -> list[int]:
    passed: list[int] = []
    for round_ in range(STORMS):
        limiter = limiter_class(BUDGET, 900, store)
        name = f"storm-{round_}-{os.urandom(3).hex()}"
        address = f"192.0.2.{os.urandom(1)[0]}-{os.urandom(3).hex()}"  # (hashed: any text)
        checked = [0]
        lock = threading.Lock()
        barrier = threading.Barrier(STORM)

        def wrong(name: str = name, checked: list[int] = checked, lock: threading.Lock = lock) -> None:
            with lock:
                checked[0] += 1
            time.sleep(CHECK_S)
            raise LoginFailed("sai", username=name)

        def one(
            _: int,
            limiter: Any = limiter,
            wrong: Callable[[], None] = wrong,
            barrier: threading.Barrier = barrier,
            name: str = name,
            address: str = address,
        ) -> None:
            barrier.wait(timeout=120)
            try:
                limiter.guarded(address, name, wrong)
            except (LoginFailed, LoginRateLimited):
                pass

        with ThreadPoolExecutor(STORM) as pool:
            list(pool.map(one, range(STORM)))
        passed.append(checked[0])
    return passed


def cost(limiter_class: type, counted: Counted, n: int) -> dict[str, tuple[list[float], Counter[str], int]]:
    store = counted.store
    out: dict[str, tuple[list[float], Counter[str], int]] = {}

    def wrong() -> None:
        raise LoginFailed("sai", username="x")

    def run(label: str, calls: list[Callable[[], None]]) -> None:
        times: list[float] = []
        counted.clear()
        for call in calls:
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        out[label] = (times, Counter({k: v for k, v in counted.calls.items()}), counted.http)

    limiter = limiter_class(10, 900, store)
    tag = os.urandom(3).hex()
    run("right", [lambda: limiter.guarded(f"198.51.100.{len(tag)}", f"dung-{tag}", lambda: None)] * n)

    def failing(i: int) -> Callable[[], None]:
        def call() -> None:
            try:
                limiter.guarded(f"10.{(i >> 8) & 255}.{i & 255}.{len(tag)}", f"sai-{tag}", wrong)
            except LoginFailed:
                pass

        return call

    run("wrong", [failing(i) for i in range(n)])
    spent = f"het-{tag}"
    for _ in range(10):
        try:
            limiter.guarded("203.0.113.9", spent, wrong)
        except LoginFailed:
            pass

    def refused() -> None:
        try:
            limiter.guarded("203.0.113.9", spent, lambda: None)
        except LoginRateLimited:
            return
        raise AssertionError("not refused")

    run("refused", [refused] * n)
    return out


def ms(values: list[float]) -> str:
    return f"{min(values) * 1000:.1f}/{statistics.median(values) * 1000:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", default="local,s3")
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    main_class = main_limiter_class()
    for kind in args.stores.split(","):
        with opened(kind) as store:
            counted = Counted(store)
            misses, checks = list_after_put(store)
            print(
                f"[{kind}] LIST after PUT: {misses} misses in {checks} LISTs "
                f"({THREADS} parallel PUT+LIST, {ROUNDS} rounds)"
            )
            for label, limiter_class in (("main", main_class), ("a29", ours.LoginLimiter)):
                got = storms(limiter_class, store)
                print(
                    f"[{kind}] {label}: storms of {STORM} wrong passwords, budget {BUDGET}: "
                    f"checked {got} (max {max(got)})"
                )
            for label, limiter_class in (("main", main_class), ("a29", ours.LoginLimiter)):
                for what, (times, calls, http) in cost(limiter_class, counted, args.n).items():
                    fifth = max(1, len(times) // 5)
                    first, last = statistics.median(times[:fifth]), statistics.median(times[-fifth:])
                    per = ", ".join(f"{k} {v / len(times):.2f}" for k, v in sorted(calls.items()))
                    http_part = f", HTTP {http / len(times):.2f}" if kind == "s3" else ""
                    print(
                        f"[{kind}] {label} {what:8s} n={len(times)} ms min/median {ms(times)} "
                        f"(first fifth {first * 1000:.1f}, last fifth {last * 1000:.1f}); "
                        f"per login: {per}{http_part}"
                    )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
