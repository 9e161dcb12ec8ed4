"""u11 costs, main ("before", a tree given as argument) against this tree ("after"), each side in
a subprocess with its tree first on ``sys.path``, rounds interleaved in the same minutes:

* ``page``: one văn thư's view of a văn bản đi's record page (no recall: the usual case) through
  the Flask client on a local Kho: the store calls per view by method (u11 asks whether the
  document has an open recall the person may withdraw), CPU and wall ms per view (min/median of
  20 views);
* ``walk``: ``collect_files`` of a folder of N documents beside u10's four system files and u11's
  (an empty ``.DS_Store``, a ``~$`` owner file, ``.Spotlight-V100``, ``.fseventsd``,
  ``.Trashes``): what was listed, the files opened by the walk, CPU and wall.

    .venv/bin/python bench/u11_counts.py /tmp/base-u11 --rounds 3 --files 2000
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import time
from pathlib import Path
from typing import Any

from count_harness import HERE, STORE_METHODS, count_calls, open_kho, rounds, run_side


def page(work: Path) -> dict[str, Any]:
    from kho_people import PASSWORD
    from kho_testing import outgoing, pdf_bytes

    from web.app import create_app

    kho, people = open_kho(work)
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quyết định 1"), pdf_bytes("u11b"), "qd.pdf", people.actor("van_thu")
    )
    web = create_app(kho.settings, kho=kho).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").get_data(as_text=True))
    assert token
    web.post(
        "/login",
        data={"username": people.usernames["van_thu"], "password": PASSWORD, "csrf_token": token.group(1)},
    )
    path = f"/records/{doc.record_id}"
    assert web.get(path).status_code == 200  # warm: templates, caches
    calls = count_calls(kho.repo.store, STORE_METHODS)
    cpus, walls = [], []
    for _ in range(20):
        cpu0, t0 = time.process_time(), time.perf_counter()
        assert web.get(path).status_code == 200
        cpus.append(time.process_time() - cpu0)
        walls.append(time.perf_counter() - t0)
    per_view = {k: v / 20 for k, v in sorted(calls.items())}
    return {
        "calls": per_view,
        "cpu": min(cpus),
        "wall": statistics.median(walls),
        "cpu_ms": [1000 * min(cpus), 1000 * statistics.median(cpus)],
        "wall_ms": [1000 * min(walls), 1000 * statistics.median(walls)],
    }


def walk(work: Path, files: int) -> dict[str, Any]:
    import u10_counts

    folder = u10_counts.make_folder(work, files)
    (folder / "con" / ".DS_Store").write_bytes(b"")
    owner = bytes([7]) + b"van_thu".ljust(53, b"\x00") + bytes([7, 0]) + "van_thu".encode("utf-16-le")
    (folder / "~$van-ban-00001.docx").write_bytes(owner.ljust(162, b"\x00"))
    store = folder / ".Spotlight-V100" / "Store-V2" / "0B1E53A4"
    store.mkdir(parents=True)
    (store / "store.db").write_bytes(b"8tsd" + bytes(range(256)) * 64)
    (folder / ".fseventsd").mkdir()
    (folder / ".fseventsd" / "fseventsd-uuid").write_bytes(b"8E2C6F3A-1D4B-4F0E-9A7C-2B5D8E1F4A6C")
    (folder / ".fseventsd" / "0000000000a1b2c3").write_bytes(gzip.compress(b"1SLD" * 100))
    (folder / ".Trashes" / "501").mkdir(parents=True)
    return u10_counts.count_walk(folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--only", choices=("page", "walk"), default=None)
    args = parser.parse_args()
    sides = {"main": args.base.resolve(), "u11": HERE}
    if args.only in (None, "page"):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u11_counts", "m.page(w)", "u11-page-"))
        for name in sides:
            first, same, _ = rounds(rows[name], "calls")
            cpu = [r["cpu_ms"] for r in rows[name]]
            wall = [r["wall_ms"] for r in rows[name]]
            print(f"page {name}: store calls per view {first['calls']}{same}")
            print(
                f"       CPU ms per view min/median {min(c[0] for c in cpu):.1f}/"
                f"{statistics.median(c[1] for c in cpu):.1f}, wall ms min/median "
                f"{min(w[0] for w in wall):.1f}/{statistics.median(w[1] for w in wall):.1f}"
            )
    if args.only in (None, "walk"):
        rows = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, root in sides.items():
                rows[name].append(run_side(root, "u11_counts", f"m.walk(w, {args.files})", "u11-walk-"))
        for name in sides:
            first, same, times = rounds(rows[name], "opened")
            print(
                f"walk {name}: listed {first['listed']}, hidden {first['hidden']}, "
                f"system {first['system']}, os.open per walk {first['opened']}{same}"
            )
            print(times)


if __name__ == "__main__":
    main()
