"""u10 costs, main ("before", a tree given as argument) against this tree ("after"), each side in
a subprocess with its tree first on ``sys.path``, rounds interleaved in the same minutes:

* ``start``: the S3 requests of one ``open_repository`` on an S3 Kho in use (one document), by
  kind (minio's ``_url_open`` counted: method and whether it names an object), and the wall time
  of ``refuse_missing_keystore`` alone (min/median of 20 calls; on main it returns at once for
  an S3 key store);
* ``walk``: ``collect_files`` of a folder of N documents and 4 system files (``.DS_Store``,
  ``._x``, ``Thumbs.db``, ``desktop.ini``), wall min/median of 5 walks, and the files opened by
  the walk (``os.open`` counted: u10 reads 64 bytes of each file whose name is a system name).

    eval "$(bash scripts/services.sh env)"
    .venv/bin/python bench/u10_counts.py /tmp/base-u10 --rounds 3 --files 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from count_harness import HERE, rounds, run_side


def start(work: Path) -> dict[str, Any]:
    import minio
    from kho_buckets import drop_made, new_bucket
    from kho_people import make_people
    from kho_testing import incoming, pdf_bytes

    from kho.config import Settings
    from repository import service
    from repository.storage import open_store
    from web.context import Kho

    gateway = json.loads(os.environ["U10_S3_GATEWAY"])  # run_side passes no KHO_* variable
    env = {
        "KHO_DATA_DIR": str(work / "kho"), "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_AGENCY_NAME": "Ủy ban nhân dân tỉnh Ninh Bình", "KHO_FSYNC": "false", "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "", "KHO_ELASTICSEARCH_URL": "", "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
        "KHO_STORE_URL": f"s3://{new_bucket('u10b', gateway)}",
        "KHO_KEYSTORE_URL": f"s3://{new_bucket('u10bk', gateway)}",
        "KHO_S3_ENDPOINT": gateway["endpoint"], "KHO_S3_ACCESS_KEY": gateway["access_key"],
        "KHO_S3_SECRET_KEY": gateway["secret_key"], "KHO_S3_SECURE": "false",
    }
    os.environ.update(env)
    try:
        settings = Settings.from_env()
        kho = Kho(settings, follow_index=False)
        people = make_people(kho)
        kho.repo.create_document("den", incoming(code_number="1001"), pdf_bytes("u10b"), "cv.pdf",
                                 people.actor("van_thu"))
        kho.close()
        requests: Counter[str] = Counter()
        real = minio.Minio._url_open

        def counted(self: Any, method: str, region: str, bucket_name: str | None = None,
                    object_name: str | None = None, **kw: Any) -> Any:
            requests[f"{method} {'object' if object_name else 'bucket'}"] += 1
            return real(self, method, region, bucket_name=bucket_name, object_name=object_name, **kw)

        minio.Minio._url_open = counted  # type: ignore[method-assign]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        repo = service.open_repository(settings)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        opened = dict(sorted(requests.items()))
        store = open_store(settings.store_url, **settings.store_options())
        requests.clear()
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            service.refuse_missing_keystore(settings, store)
            times.append(time.perf_counter() - t0)
        check = dict(sorted((k, v / 20) for k, v in requests.items()))
        minio.Minio._url_open = real  # type: ignore[method-assign]
        del repo
        return {"open": opened, "check": check, "cpu": cpu, "wall": wall,
                "check_ms": [1000 * min(times), 1000 * statistics.median(times)]}
    finally:
        drop_made()


def walk(work: Path, files: int) -> dict[str, Any]:
    return count_walk(make_folder(work, files))


def make_folder(work: Path, files: int) -> Path:
    """``files`` documents (half in a subfolder) and the four system files u10 skips."""
    folder = work / "in"
    (folder / "con").mkdir(parents=True)
    for n in range(files):
        (folder / ("con" if n % 2 else "") / f"van-ban-{n:05d}.txt").write_text(f"Công văn số {n}.\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 40)
    (folder / "._van-ban-00000.txt").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 40)
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40)
    (folder / "con" / "desktop.ini").write_bytes(b"[.ShellClassInfo]\r\n")
    return folder


def count_walk(folder: Path) -> dict[str, Any]:
    """``collect_files`` of ``folder`` 5 times: what it listed, the files it opened, CPU, wall."""
    import inspect

    from ingest import bulk

    takes_system = "system" in inspect.signature(bulk.collect_files).parameters
    opened = Counter()
    real_open = os.open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened["os.open"] += 1
        return real_open(path, *args, **kwargs)

    walls, cpus, listed = [], [], 0
    for _ in range(5):
        hidden: set[Path] = set()
        system: dict[Path, str] = {}
        os.open = counting_open  # type: ignore[assignment]
        cpu0, t0 = time.process_time(), time.perf_counter()
        found = (bulk.collect_files([folder], hidden, system) if takes_system
                 else bulk.collect_files([folder], hidden))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - cpu0)
        os.open = real_open  # type: ignore[assignment]
        listed = len(found)
    return {"listed": listed, "hidden": len(hidden), "system": len(system),
            "opened": opened["os.open"] // 5, "cpu": min(cpus), "wall": statistics.median(walls)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--only", choices=("start", "walk"), default=None)
    args = parser.parse_args()
    sides = {"main": args.base.resolve(), "u10": HERE}
    os.environ["U10_S3_GATEWAY"] = json.dumps({
        "endpoint": os.environ["KHO_TEST_S3_ENDPOINT"], "access_key": os.environ["KHO_TEST_S3_ACCESS_KEY"],
        "secret_key": os.environ["KHO_TEST_S3_SECRET_KEY"], "secure": False})
    if args.only in (None, "start"):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u10_counts", "m.start(w)", "u10-start-"))
        for name in sides:
            first, same, times = rounds(rows[name], "open")
            ms = [r["check_ms"] for r in rows[name]]
            print(f"start {name}: open_repository requests {json.dumps(first['open'])}{same}")
            print(f"       refuse_missing_keystore requests per call {json.dumps(first['check'])}, "
                  f"ms min {min(m[0] for m in ms):.2f} / median {statistics.median(m[1] for m in ms):.2f}")
            print(times)
    if args.only in (None, "walk"):
        rows = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u10_counts", f"m.walk(w, {args.files})", "u10-walk-"))
        for name in sides:
            first, same, times = rounds(rows[name], "opened")
            print(f"walk {name}: listed {first['listed']}, hidden {first['hidden']}, "
                  f"system {first['system']}, os.open per walk {first['opened']}{same}")
            print(times)


if __name__ == "__main__":
    main()
