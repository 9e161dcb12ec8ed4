"""m55: Celery's soft time limit is a signal whose handler raises in the task's main thread
wherever it is. Landing while a finalizer or a weakref callback runs (CI of session 47:
``WeakSet._remove`` during a verification), the raise cannot reach the code that was running:
Python reported it as "Exception ignored" and went on, the verification returned its verdict and
the job ran on to the hard limit (the limit fires once). Now the limit a finalizer swallowed is
kept and raised again at the next check point: after the verification's answer, after the
pipeline step it landed in. A limit that propagated as usual is never raised a second time.

The limit is delivered here exactly where it was lost in CI: inside a weakref callback, with the
handler the worker's pool processes install (``billiard.pool.soft_timeout_sighandler``, set by
``ingest.tasks``), around the real verifier pool and the real store step."""

from __future__ import annotations

import signal
import sys
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import billiard.pool
import pytest

import ingest.tasks  # noqa: F401 - installs the worker's soft-limit handler
from ingest.pipeline import STEPS, JobContext, Pipeline, RetryPolicy, Step, StepOutcome
from ingest.signatures import _pool
from ingest.signatures.trust import TrustStore
from ingest.signatures.verify import verify_pdf
from ingest.status import JobState, StepState
from ingest.timelimit import SoftTimeLimit, forget_lost_limit
from kho.config import Settings
from kho.errors import NotFound


@pytest.fixture()
def soft_limit_on_usr1() -> Iterator[None]:
    previous = signal.signal(signal.SIGUSR1, billiard.pool.soft_timeout_sighandler)
    hook = sys.unraisablehook
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)
        sys.unraisablehook = hook
        forget_lost_limit()


class _Referent:
    pass


def _limit_in_a_finalizer() -> None:
    """The soft limit delivered while a weakref callback runs: its handler raises there and
    Python swallows the raise ("Exception ignored in …"); this function returns."""
    referent = _Referent()
    ref = weakref.ref(referent, lambda _: signal.raise_signal(signal.SIGUSR1))
    del referent
    assert ref() is None


class _LimitWhileVerifying:
    """The real pool; the limit lands in a finalizer while its answer comes back."""

    def __init__(self, pool: _pool.VerifierPool) -> None:
        self.pool = pool

    def verify(self, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        answer = self.pool.verify(*args, **kwargs)
        _limit_in_a_finalizer()
        return answer


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_swallowed_by_a_finalizer_during_a_verification_still_ends_it(
    signed: dict[str, bytes],
) -> None:
    real = _pool.VerifierPool()
    try:
        before = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=real)
        with pytest.raises(SoftTimeLimit):
            verify_pdf(signed["valid-1"], TrustStore.empty(), pool=_LimitWhileVerifying(real))  # type: ignore[arg-type]
        # Raised once: the next verification is the pool's answer, for its document.
        after = verify_pdf(signed["valid-2"], TrustStore.empty(), pool=real)
        again = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=real)
    finally:
        real.close()
    assert after.sha256 != before.sha256
    assert again.sha256 == before.sha256 and again.verdict == before.verdict


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_that_propagated_is_not_raised_a_second_time(signed: dict[str, bytes]) -> None:
    real = _pool.VerifierPool()
    try:
        _limit_in_a_finalizer()  # the hook is in place (the handler installs it)
        with pytest.raises(SoftTimeLimit):
            verify_pdf(signed["valid-1"], TrustStore.empty(), pool=real)  # the lost one
        with pytest.raises(SoftTimeLimit):
            signal.raise_signal(signal.SIGUSR1)  # a limit delivered where it can propagate
        outcome = verify_pdf(signed["valid-1"], TrustStore.empty(), pool=real)
    finally:
        real.close()
    assert outcome.sha256 and outcome.verdict


@dataclass(frozen=True)
class _LimitInside:
    """A pipeline step as it is, with the soft limit landing in a finalizer during it."""

    step: Step

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def label(self) -> str:
        return self.step.label

    def run(self, ctx: JobContext) -> StepOutcome:
        outcome = self.step.run(ctx)
        _limit_in_a_finalizer()
        return outcome


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_swallowed_by_a_finalizer_in_the_store_step_ends_the_job_there(
    settings: Settings, signed: dict[str, bytes]
) -> None:
    steps = tuple(_LimitInside(s) if s.name == "store" else s for s in STEPS)
    pipeline = Pipeline.from_settings(
        settings, retry=RetryPolicy(max_retries=2, base_delay=0.05), steps=steps
    )
    try:
        status = pipeline.ingest(signed["valid-1"], "qd-limit.pdf")
        assert status.state is JobState.FAILED, status
        assert status.reason_code == "INGEST_TIMEOUT", (status.reason_code, status.reason)
        assert status.steps["store"].state is StepState.FAILED
        # No step after it ran: the limit ended the job where it landed.
        assert [name for name in status.steps if name != "store"] == []
        # The original stored before the limit is kept, named by the job (nothing lost).
        assert status.record_id is not None
        with pytest.raises(NotFound):
            pipeline.repo.get_derived(status.record_id, "text.json")
    finally:
        pipeline.close()
