"""A worker stuck in its after-reply housekeeping costs a bounded time, never a hang or a
wrong verdict.

Before the fix a request was written to such a worker's pipe with no time limit: a document
larger than the pipe (1 MiB) blocked the caller for as long as the worker was stuck, and a
smaller one waited out the whole document timeout and got an INDETERMINATE verdict it did not
deserve. Now the caller waits for the worker's READY at most ``ready_timeout``, kills it,
and sends the document to a fresh worker; if that one is never ready either, the verdict is
the coded INDETERMINATE of a verification that could not run.

The workers are real (``stuck_worker.py``: the worker loop with one more housekeeping step
that sleeps, wired through ``VerifierPool(command=...)``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.signatures import Indication, TrustStore, verify_pdf
from ingest.signatures._pool import ForkVerifier, Limits, VerifierPool
from ingest.testpki import TestPKI, make_variant

MOMENT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STUCK_WORKER = str(Path(__file__).with_name("stuck_worker.py"))
READY_S = 2.0
LARGE = "vn-gov__19-bkhcn.pdf"  # 3.6 MB: more than the pipe holds


def _within(seconds: float, fn: Any) -> Any:
    """``fn()``'s result, failing the test (not hanging it) if it takes longer."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting on the worker after {seconds:g} s"
    return out[0]


def _pid(pool: VerifierPool) -> int:
    [worker] = pool._idle
    return worker.process.pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_worker_stuck_after_its_reply_is_replaced_and_the_next_document_verified(
    corpus_pdf_dir: Path, corpus_trust: TrustStore
) -> None:
    large = (corpus_pdf_dir / LARGE).read_bytes()
    assert len(large) > 1 << 20
    expected = verify_pdf(large, corpus_trust, now=MOMENT, pool=ForkVerifier(Limits(300, 2048))).to_dict()
    assert expected["signatures"]  # a verification that ran (not one that could not finish)
    pool = VerifierPool(
        1,
        Limits(timeout=300, memory_mb=2048, ready_timeout=READY_S),
        command=(sys.executable, STUCK_WORKER, "after-reply"),
    )
    try:
        first = verify_pdf(large, corpus_trust, now=MOMENT, pool=pool).to_dict()
        assert first == expected
        stuck = _pid(pool)  # now sleeping in its housekeeping

        started = time.monotonic()
        second = _within(120, lambda: verify_pdf(large, corpus_trust, now=MOMENT, pool=pool).to_dict())
        took = time.monotonic() - started

        assert second == expected  # verified by the new worker: the verdict it deserves
        assert _gone(stuck) and _pid(pool) != stuck
        # the stuck worker cost the ready bound, not the document timeout (300 s)
        assert took < READY_S + 60, took
    finally:
        pool.close()


def test_a_worker_that_is_never_ready_fails_coded_within_the_bound(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    signed = make_variant("personal-only", pki=pki)
    pool = VerifierPool(
        1,
        Limits(timeout=3, memory_mb=2048, ready_timeout=1),
        command=(sys.executable, STUCK_WORKER, "never-ready"),
    )
    try:
        started = time.monotonic()
        status, detail = _within(60, lambda: pool.verify(signed, pki_trust.der, "", False, MOMENT))
        assert (status, detail) == ("stuck", 1)
        # a new worker's start is bounded by the document timeout: two of them
        assert time.monotonic() - started < 2 * 3 + 10

        result = _within(60, lambda: verify_pdf(signed, pki_trust, now=MOMENT, pool=pool))
        assert result.verdict.indication is Indication.INDETERMINATE
        assert result.verdict.sub_indication == "SIGNED_DATA_NOT_FOUND"
        assert "không sẵn sàng" in result.verdict.explanation
        assert pool._started == 0 and not pool._idle  # nothing left running
    finally:
        pool.close()


WEDGED = "import sys, time; sys.stdout.buffer.write(b'\\x06'); sys.stdout.flush(); time.sleep(3600)"
"""A worker that says it is ready and then reads nothing."""


def test_a_request_write_to_a_worker_that_reads_nothing_is_bounded() -> None:
    """The write itself has a deadline: a document larger than the pipe, sent to a worker
    that took its turn but reads nothing, costs the bound."""
    from ingest.signatures import _pool

    worker = _pool._Worker(2048, (sys.executable, "-c", WEDGED))
    try:
        started = time.monotonic()
        with pytest.raises(_pool.WorkerStuck):
            worker.call(b"x" * (4 << 20), ("a",), 300, 1.0)
        assert time.monotonic() - started < 10
    finally:
        worker.stop()
