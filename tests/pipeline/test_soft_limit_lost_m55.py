"""m55: Celery's soft time limit is a signal whose handler raises in the task's main thread
wherever it is. Landing while a finalizer or a weakref callback runs (CI of session 47:
``WeakSet._remove`` during a verification), the raise cannot reach the code that was running:
Python reported it as "Exception ignored" and went on, the verification returned its verdict and
the job ran on to the hard limit (the limit fires once). Now the limit a finalizer swallowed is
kept and raised again at the next check point: after the verification's answer, after the
pipeline step it landed in. A limit that propagated as usual is never raised a second time.

The limit is delivered here exactly where it was lost in CI: inside a weakref callback, with the
handler the worker's pool processes install (``ingest.tasks`` sets it as billiard's
``soft_timeout_sighandler``), around the real verifier pool and the real store step."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kho_people import make_people
from kho_softlimit import limit_in_a_finalizer, soft_limit_on_usr1  # noqa: F401 - a fixture
from kho_testing import pdf_bytes

from ingest.pipeline import STEPS, JobContext, Pipeline, RetryPolicy, Step, StepOutcome
from ingest.signatures import _pool
from ingest.signatures.trust import TrustStore
from ingest.signatures.verify import verify_pdf
from ingest.status import JobState, StepState
from kho.config import Settings
from kho.errors import NotFound
from kho.timelimit import SoftTimeLimit
from repository.records import SYSTEM, Repository
from retention import backup, tasks
from web.context import Kho


class _LimitWhileVerifying:
    """The real pool; the limit lands in a finalizer while its answer comes back."""

    def __init__(self, pool: _pool.VerifierPool) -> None:
        self.pool = pool

    def verify(self, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        answer = self.pool.verify(*args, **kwargs)
        limit_in_a_finalizer()
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
        limit_in_a_finalizer()  # the hook is in place (the handler installs it)
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
        limit_in_a_finalizer()
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


def _installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Kho:
    """An installation with a document in it and a backup destination."""
    monkeypatch.setenv("KHO_BACKUP_URLS", str(tmp_path / "backup-a"))
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", str(tmp_path / "backup-keys"))
    kho = Kho(Settings.from_env(), follow_index=False)
    make_people(kho)
    kho.repo.create_intake("den", pdf_bytes("m55 fixity"), "a.pdf", SYSTEM)
    return kho


def _lost_first(real: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """``real``'s items, the soft limit lost in a finalizer before the first."""

    def wrapped(*args: Any, **kwargs: Any) -> Iterator[Any]:
        limit_in_a_finalizer()
        yield from real(*args, **kwargs)

    return wrapped


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_swallowed_by_a_finalizer_stops_the_scheduled_backup_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    kho = _installation(tmp_path, monkeypatch, settings)
    monkeypatch.setattr(backup, "_keys_in_order", _lost_first(backup._keys_in_order))
    outcome = tasks.scheduled_backup()
    assert outcome == {"ok": False, "code": "BACKUP_TIMEOUT"}, outcome
    audit = [e for e in kho.repo.audit.events() if e.action.startswith("backup:")]
    assert [(e.action, e.details["code"]) for e in audit] == [("backup:failed", "BACKUP_TIMEOUT")]
    assert not list((tmp_path / "backup-a").rglob("manifest*")), "a copy was finished"


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_swallowed_by_a_finalizer_stops_the_scheduled_fixity_check_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    kho = _installation(tmp_path, monkeypatch, settings)
    monkeypatch.setattr(Repository, "record_ids", _lost_first(Repository.record_ids))
    outcome = tasks.scheduled_fixity()
    assert outcome == {"ok": False, "code": "FIXITY_TIMEOUT"}, outcome
    audit = [e.action for e in kho.repo.audit.events() if e.action.startswith("fixity:")]
    assert audit == ["fixity:failed"]


@pytest.mark.usefixtures("soft_limit_on_usr1")
def test_a_limit_lost_in_the_task_before_is_not_the_next_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    kho = _installation(tmp_path, monkeypatch, settings)
    limit_in_a_finalizer()  # lost after the last check of a task that then finished
    outcome = tasks.scheduled_fixity()
    assert outcome.get("ok") is True, outcome
    assert "fixity:failed" not in [e.action for e in kho.repo.audit.events()]
