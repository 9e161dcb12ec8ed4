"""How often an honest stored entry with a data descriptor (a zip written to a pipe) is refused
SIP_HIDDEN_ENTRY for a zip signature its data holds by chance: main's rule (any signature)
against this branch's (a record a stream reader takes). Prints figures; not a test.

    python bench/rv33_stored_signatures.py MAIN_TREE [TRIALS] [MB]

Part 1: TRIALS entries of MB random bytes (as compressed PDF streams are), each zipped STORED
to a pipe, both rules run on the archive. Part 2: 1,000,000 signatures each followed by random
bytes, judged by this branch's record test alone (main refuses every one)."""

from __future__ import annotations

import importlib.util
import io
import os
import random
import sys
import time
import zipfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests" / "support")]
from kho_sip import Pipe  # noqa: E402 - the tests' pipe

from kho import zips as branch  # noqa: E402


def _load(tree: str):  # main's kho/zips.py, read from its tree
    spec = importlib.util.spec_from_file_location("main_zips", Path(tree) / "kho" / "zips.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _archive(data: bytes) -> bytes:
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as zf, zf.open("a/scan.pdf", "w") as entry:
        entry.write(data)
    return bytes(pipe.data)


def _judge(module, raw: bytes) -> tuple[bool, float]:
    fp = io.BytesIO(raw)
    with zipfile.ZipFile(fp) as zf:
        infos = zf.infolist()
        central = zf.start_dir
    started = time.process_time()
    found = module.hidden_local_entry(fp, infos, central)
    return found is not None, (time.process_time() - started) * 1000


def main() -> None:
    main_zips = _load(sys.argv[1])
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    size = (int(sys.argv[3]) if len(sys.argv) > 3 else 100) * 1024**2
    refused = {"main": 0, "rv33": 0}
    cpu: dict[str, list[float]] = {"main": [], "rv33": []}
    with_signature = 0
    for _ in range(trials):
        data = os.urandom(size)
        with_signature += any(s in data for s in (b"PK\x03\x04", b"PK\x07\x08", b"PK\x01\x02"))
        raw = _archive(data)
        for name, module in (("main", main_zips), ("rv33", branch)):
            hit, ms = _judge(module, raw)
            refused[name] += hit
            cpu[name].append(ms)
    print(f"part 1: {trials} entries of {size // 1024**2} MiB, {with_signature} holding a signature")
    for name in ("main", "rv33"):
        times = sorted(cpu[name])
        median = times[len(times) // 2]
        said = f"refused {refused[name]} of {trials}"
        print(f"  {name}: {said}; scan CPU min/median {times[0]:.0f}/{median:.0f} ms")
    rng = random.Random(33)
    flagged = 0
    samples = 1_000_000
    signatures = (b"PK\x03\x04", b"PK\x07\x08", b"PK\x01\x02")
    for i in range(samples):
        record = signatures[i % 3] + rng.randbytes(42)
        before = rng.randrange(1, size)
        flagged += branch._is_record(record, before, lambda: rng.getrandbits(32))
    print(f"part 2: {samples} random records after a signature: rv33 takes {flagged} (main: all)")


if __name__ == "__main__":
    main()
