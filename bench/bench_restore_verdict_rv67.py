"""rv67: the restore's seal checks (``_NumbersGiven.note``) over a copy with many events, in ms
per 1,000 events, beside one HMAC-SHA256 loop over the same bodies in the same run (baseline).
Min of 3. Run from the worktree root: python bench/bench_restore_verdict_rv67.py [events]."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from repository.audit import EVENTS_PREFIX, EventDraft
from repository.records import Repository
from repository.seals import Sealer
from repository.storage.local import LocalStore
from retention.backup import _NumbersGiven

MASTER = b"k" * 32


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, keys = LocalStore(Path(tmp) / "s"), LocalStore(Path(tmp) / "k")
        repo = Repository(store, keys, agency_id="000.00.00.H01", master_key=MASTER)
        for start in range(0, n, 500):
            repo.audit.append_many([
                EventDraft("vanthu.nguyen", "record:view", record_id=None, details={"i": i})
                for i in range(start, min(n, start + 500))
            ])
        objects = [(info.key, store.get(info.key)) for info in store.list(EVENTS_PREFIX)]
        count = sum(len(json.loads(d).get("events", [0])) for _, d in objects)
        sealer = Sealer.from_master_key(MASTER)
        bodies = [d for _, d in objects]

        def notes() -> None:
            given = _NumbersGiven(sealer)
            for key, data in objects:
                given.note(key, data)
            given.events  # noqa: B018

        def baseline() -> None:  # one HMAC per event over about an event's bytes
            key = b"x" * 32
            for data in bodies:
                for raw in json.loads(data).get("events", [json.loads(data)]):
                    hmac.new(key, json.dumps(raw, sort_keys=True).encode(), hashlib.sha256).hexdigest()

        for name, fn in (("hmac loop (baseline)", baseline), ("_NumbersGiven.note", notes)):
            best = min(_timed(fn) for _ in range(3))
            print(f"{name:24s} {best * 1000 / count * 1000:8.1f} ms per 1,000 events ({count} events)")


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
