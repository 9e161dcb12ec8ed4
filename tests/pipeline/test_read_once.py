"""A born-digital PDF is read by pdfium once in ingest (issue #14): the text step asks the
verification worker for "verify + text layer" in one request, and nothing of what either
step promises changes.

* the combined read gives the text worker's text layer, page for page, and the separate
  verification's verdict, on every corpus PDF (real pyHanko, real pdfium);
* a signed PDF is ingested with one verification request and no text worker request;
* a text-layer bomb still ends FILE_TOO_COMPLEX (the combined read fails, the text worker
  answers as before);
* a combined request that fails falls back to the text worker and a separate verification;
* a run killed between the text and the signatures step of a combined run resumes to exactly
  one record with the right verdict (the verdict was only in memory: it is verified again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import textdocs
from pdf_objects import nested_forms_pdf

from ingest.pipeline import Pipeline, RetryPolicy, VerifySignatures
from ingest.signatures import TrustStore, verify_pdf
from ingest.signatures.combined import verify_and_read_text
from ingest.signatures.rules import SAFE_CRYPTO
from ingest.status import JobState, StepState
from ingest.text import box
from ingest.text.settings import TextSettings
from ingest.workerpool import VerifierPool
from kho.config import Settings
from kho.errors import NotFound

SETTINGS = TextSettings(ocr_enabled=False)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class _Requests:
    """Every request this process sends to a verification or pdfium worker, by kind."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def kind(self, request: tuple[Any, ...]) -> str:
        if isinstance(request[0], str):  # a pdfium worker's request: (kind, *args)
            return request[0]
        # a verification's: (allow_fetching, now, policy, text settings or None), the trust list
        # beside it (workerpool.Material)
        return "verify" if request[3] is None else "verify+text"


@pytest.fixture()
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Requests]:
    seen = _Requests()
    call = VerifierPool.call

    def counted(self: VerifierPool, data: bytes, request: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
        seen.kinds.append(seen.kind(request))
        return call(self, data, request, *args, **kwargs)

    monkeypatch.setattr(VerifierPool, "call", counted)
    yield seen


def _verification(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "validated_at"}


def test_the_combined_read_gives_the_text_worker_s_text_and_the_verdict_on_every_corpus_pdf(
    corpus_pdf_dir: Path, trust_dir: Path
) -> None:
    trust = TrustStore.from_dir(trust_dir)
    files = {p.name: p.read_bytes() for p in sorted(corpus_pdf_dir.glob("*.pdf"))}
    files.update(text_3=textdocs.pdf_with_text(pages=3), blank_2=textdocs.blank_pdf(2))
    assert len(files) >= 52
    same_text = same_verdict = refused = 0
    for name, data in files.items():
        read = verify_and_read_text(
            data, trust, allow_fetching=False, policy=SAFE_CRYPTO, settings=SETTINGS, now=NOW
        )
        try:
            expected = box.run("text", data, (SETTINGS,), timeout=60, memory_mb=SETTINGS.text_layer_memory_mb)
        except Exception:  # the text worker refuses it: so the combined read must (fallback)
            assert read is None, name
            refused += 1
            continue
        assert read is not None, name
        assert read.pages == expected, name
        same_text += 1
        separate = verify_pdf(data, trust, now=NOW)
        assert _verification(read.verification.to_dict()) == _verification(separate.to_dict()), name
        same_verdict += 1
    assert same_text >= 50 and same_verdict == same_text


def test_a_signed_pdf_is_read_once_verified_once_and_stored_as_before(
    pipeline: Pipeline, signed: dict[str, bytes], requests: _Requests
) -> None:
    status = pipeline.ingest(signed["valid-1"], "qd-1.pdf")

    assert status.state is JobState.DONE, status.reason
    assert requests.kinds == ["verify+text"]  # no text worker, no second verification
    assert status.summary["text_sources"] == ["text-layer"] and status.summary["pages"] == 3
    assert status.summary["signature_verdict"] == "TOTAL-PASSED"
    record = pipeline.repo.get(status.record_id, actor=pipeline.actor)
    assert record.extra["signature_verdict"] == "TOTAL-PASSED"
    combined = _stored(pipeline, status.record_id)
    # the same document read and verified separately, as without the combined read
    separate = _fresh(signed["valid-1"], read_once=False)
    assert requests.kinds[1:] == ["text", "verify"]
    assert separate["text"] == combined["text"]
    assert _verification(separate["signatures"]) == _verification(combined["signatures"])


def _stored(pipeline: Pipeline, record_id: str) -> dict[str, Any]:
    repo = pipeline.repo
    return {
        "text": json.loads(repo.get_derived(record_id, "text.json")),
        "signatures": json.loads(repo.get_derived(record_id, "signatures.json")),
    }


def _fresh(data: bytes, *, read_once: bool) -> dict[str, Any]:
    """The derived objects of ``data`` ingested into a second, empty Kho."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, KHO_DATA_DIR=folder)
        other = Pipeline.from_settings(Settings.from_env(env), read_once=read_once)
        try:
            status = other.ingest(data, "qd.pdf")
            assert status.state is JobState.DONE, status.reason
            return _stored(other, status.record_id)
        finally:
            other.close()


def test_a_text_layer_bomb_still_gives_file_too_complex(settings: Settings, requests: _Requests) -> None:
    """Nested forms 14 deep under a 256 MB text bound: the combined read goes past the bound
    in the verification worker (it dies or answers out of memory), the text worker reads it
    as before and refuses it: FILE_TOO_COMPLEX, as without the combined read."""
    small = TextSettings(ocr_enabled=False, text_layer_memory_mb=256)
    pipeline = Pipeline.from_settings(
        settings, text_settings=small, retry=RetryPolicy(max_retries=0, base_delay=0.05)
    )
    try:
        status = pipeline.ingest(nested_forms_pdf(14), "forms.pdf")
    finally:
        pipeline.close()

    assert status.state is JobState.FAILED
    assert status.reason_code == "FILE_TOO_COMPLEX" and status.step == "text"
    assert requests.kinds == ["verify+text", "text"]


def test_a_failing_combined_request_falls_back_to_the_text_worker_and_a_separate_verification(
    pipeline: Pipeline, signed: dict[str, bytes], requests: _Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The combined request times out (as a worker past its deadline would): the text is the
    text worker's and the verdict a separate verification's, both as without it."""
    call = VerifierPool.call

    def combined_times_out(
        self: VerifierPool, data: bytes, request: tuple[Any, ...], *args: Any, **kwargs: Any
    ) -> Any:
        if requests.kind(request) == "verify+text":
            requests.kinds.append("verify+text")
            return "timeout", 0.0
        return call(self, data, request, *args, **kwargs)

    monkeypatch.setattr(VerifierPool, "call", combined_times_out)
    status = pipeline.ingest(signed["valid-1"], "qd-1.pdf")

    assert status.state is JobState.DONE, status.reason
    assert requests.kinds == ["verify+text", "text", "verify"]
    assert status.summary["signature_verdict"] == "TOTAL-PASSED"
    stored = _stored(pipeline, status.record_id)
    expected = _fresh(signed["valid-1"], read_once=False)
    assert stored["text"] == expected["text"]
    assert _verification(stored["signatures"]) == _verification(expected["signatures"])


def test_a_run_killed_between_text_and_signatures_of_a_combined_run_resumes_to_one_record(
    pipeline: Pipeline, signed: dict[str, bytes], requests: _Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict of the combined read was only in memory: the next run finds text.json,
    verifies again and ends with one record and the verdict."""

    def killed(self: VerifySignatures, ctx: Any) -> Any:
        raise SystemExit("killed")

    # The kill point is the job as last written: its first step only. With the default 1 s
    # interval a text step slowed past it by load also wrote the job (text done), and the
    # re-run kept that record instead of finding text.json itself (CI at load ~17).
    pipeline.status_interval = 600.0
    with monkeypatch.context() as patch:
        patch.setattr(VerifySignatures, "run", killed)
        with pytest.raises(SystemExit):
            pipeline.ingest(signed["valid-1"], "qd-1.pdf")
    assert requests.kinds == ["verify+text"]
    job_id = __import__("hashlib").sha256(signed["valid-1"]).hexdigest()
    first = pipeline.jobs.get(job_id)
    assert first.state is JobState.RUNNING
    assert first.step == "store" and "text" not in first.steps  # the kill point, as stored
    (record_id,) = pipeline.repo.record_ids()
    assert pipeline.repo.get_derived(record_id, "text.json")
    with pytest.raises(NotFound):
        pipeline.repo.get_derived(record_id, "signatures.json")  # nothing new was written

    again = pipeline.ingest(signed["valid-1"], "qd-1.pdf")

    assert again.state is JobState.DONE, again.reason
    assert list(pipeline.repo.record_ids()) == [again.record_id] == [record_id]
    assert again.steps["text"].state is StepState.SKIPPED
    assert again.steps["signatures"].state is StepState.DONE
    assert requests.kinds == ["verify+text", "verify"]
    assert again.summary["signature_verdict"] == "TOTAL-PASSED"
    record = pipeline.repo.get(record_id, actor=pipeline.actor)
    assert record.extra["signature_verdict"] == "TOTAL-PASSED"


def test_a_run_stopped_in_a_later_step_leaves_the_derived_objects_it_sent_stored(
    pipeline: Pipeline, signed: dict[str, bytes], requests: _Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text step's text.json goes to the store beside the later steps (m52); a run stopped
    from outside (SystemExit) in the signatures step waits for it before it leaves, as it
    waits for the job's first write: the kill point is the same however slow the store is."""
    from repository.records import Repository

    put_derived = Repository.put_derived

    def slow(self: Repository, *args: Any, **kwargs: Any) -> Any:
        __import__("time").sleep(0.5)  # a loaded gateway (CI at load 14 lost this race)
        return put_derived(self, *args, **kwargs)

    def killed(self: VerifySignatures, ctx: Any) -> Any:
        raise SystemExit("killed")

    pipeline.status_interval = 600.0
    with monkeypatch.context() as patch:
        patch.setattr(Repository, "put_derived", slow)
        patch.setattr(VerifySignatures, "run", killed)
        with pytest.raises(SystemExit):
            pipeline.ingest(signed["valid-1"], "qd-1.pdf")
        (record_id,) = pipeline.repo.record_ids()
        assert json.loads(pipeline.repo.get_derived(record_id, "text.json"))  # stored, not on its way
