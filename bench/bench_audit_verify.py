"""Audit verification on a long log: the full walk (every event read and rehashed, before) vs the
incremental check from the last verified checkpoint (after), on the same store in one run.

    .venv/bin/python bench/bench_audit_verify.py [--events 100000] [--tail 100]

Builds a hash-chained log of ``--events`` events in a local store (fsync off), checkpoints it,
verifies in full (which leaves the mark), appends ``--tail`` events, checkpoints again, then times
a full and an incremental verification of the whole log. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.anchor import Anchor, generate_key, make_checkpoint, verify_anchored
from repository.audit import GENESIS, WITNESS_KEY, AuditEvent, AuditLog, event_key
from repository.storage.local import LocalStore


def build(store: LocalStore, events: int) -> None:
    prev, at = GENESIS, to_iso_utc(utcnow())
    for seq in range(events):
        event = AuditEvent(seq=seq, at=at, actor="bench", action="content:read", record_id=f"{seq:024x}",
                           version=1, source="bench", details={"n": seq}, prev=prev,
                           format_version=formats.AUDIT_EVENT.current)
        event = AuditEvent(**{**asdict(event), "hash": event.compute_hash()})
        store.put_if_absent(event_key(seq), event.to_json())
        prev = event.hash
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": events - 1, "hash": prev}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--tail", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LocalStore(root / "store", fsync=False)
        started = time.perf_counter()
        build(store, args.events)
        print(f"built {args.events} events in {time.perf_counter() - started:.1f} s")
        generate_key(root / "audit.key")
        anchor = Anchor(signing_key=root / "audit.key", checkpoint_dir=root / "checkpoints")
        log = AuditLog(store)
        make_checkpoint(store, anchor)
        started = time.perf_counter()
        first = verify_anchored(log, anchor)
        print(f"first full verification: {time.perf_counter() - started:.2f} s ok={first.ok}")
        for n in range(args.tail):
            log.append("bench", "content:read", record_id=f"{n:024x}", source="bench")
        make_checkpoint(store, anchor)
        total = args.events + args.tail
        started = time.perf_counter()
        full = verify_anchored(log, anchor)
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        quick = verify_anchored(log, anchor, incremental=True)
        quick_s = time.perf_counter() - started
        assert full.ok and quick.ok and quick.last_hash == full.last_hash
        print(f"{total} events, {args.tail} after the last verified checkpoint:")
        print(f"  full walk (before):   {full_s:.2f} s  ({total / full_s:,.0f} events/s)")
        print(f"  incremental (after):  {quick_s:.3f} s  ({full_s / quick_s:,.0f}x faster)")


if __name__ == "__main__":
    main()
