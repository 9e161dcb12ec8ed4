"""rv13: Celery's soft time limit (``SoftTimeLimitExceeded``, raised by billiard's SIGUSR1
handler in the task's main thread) is an ``Exception``. Arriving while the signature step waits
for its verification worker, it was taken by ``verify_pdf``'s "never raise for a bad file"
``except Exception``: the document got a made-up verdict (unverifiable: the limit's text as
its reason), stored with the record, and the job went on past its limit until the hard limit
killed it. The limit must reach the task as the limit: the worker's pool processes now raise it
as a ``BaseException`` (``ingest.pipeline.SoftTimeLimit``, installed by ``ingest.tasks`` as the
handler billiard sets after each fork), which no ``except Exception`` takes."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import billiard.pool
import pytest

import ingest.tasks  # noqa: F401 - installs the worker's soft-limit handler
from ingest.signatures import _pool
from ingest.signatures.trust import TrustStore
from ingest.signatures.verify import verify_pdf
from kho.timelimit import is_time_limit


@pytest.fixture()
def soft_limit_in(request: pytest.FixtureRequest) -> Iterator[None]:
    # The handler billiard installs in each pool process after its fork (looked up then).
    previous = signal.signal(signal.SIGALRM, billiard.pool.soft_timeout_sighandler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("soft_limit_in")
def test_a_soft_limit_while_a_signature_is_verified_is_not_turned_into_a_verdict(
    signed: dict[str, bytes],
) -> None:
    pool = _pool.VerifierPool()
    try:
        before = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=pool)  # a worker ready
        began = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, 0.002)  # the limit, while the worker verifies
        outcome: object
        try:
            outcome = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=pool)
        except BaseException as exc:
            outcome = exc
        took = time.monotonic() - began
        signal.setitimer(signal.ITIMER_REAL, 0)
        # The pool goes on answering, and for the document asked (no reply of the one cut off).
        after = verify_pdf(signed["valid-2"], TrustStore.empty(), pool=pool)
        again = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=pool)
    finally:
        pool.close()
    assert took > 0.002, "the verification ended before the limit: the test proves nothing"
    assert isinstance(outcome, BaseException) and is_time_limit(outcome), outcome
    assert after.sha256 != before.sha256 and again.sha256 == before.sha256
    assert again.verdict == before.verdict
