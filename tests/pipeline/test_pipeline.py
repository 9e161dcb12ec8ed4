"""The ingest chain in-process on real inputs: real Tesseract on a real signed scan, real pyHanko
on corpus and test-PKI documents, the real embedded store and index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from kho_testing import CLERK
from textdocs import CORPUS_PDF

from ingest.pipeline import STEP_NAMES, Pipeline, return_document
from ingest.status import JobState, StepState, new_status, read_status
from kho.config import Settings
from kho.errors import KhoError
from repository.records import SYSTEM

SCAN = CORPUS_PDF / "vn-gov__194-ttg.signed.pdf"  # Công điện 194/CĐ-TTg: 2 image-only pages


def _record_ids(pipeline: Pipeline) -> list[str]:
    return list(pipeline.repo.record_ids())


def test_signed_scan_gets_ocr_text_verdict_and_metadata(pipeline: Pipeline) -> None:
    original = SCAN.read_bytes()
    status = pipeline.ingest(original, SCAN.name)

    assert status.state is JobState.DONE, status.reason
    assert list(status.steps) == list(STEP_NAMES)
    assert all(s.state is StepState.DONE for s in status.steps.values())
    repo = pipeline.repo
    record = repo.get(status.record_id, actor=SYSTEM)
    assert record.state == "intake" and record.metadata is None
    # The original is stored unchanged.
    stored, data = repo.read_content(record.record_id, actor=CLERK)
    assert data == original and stored.sha256 == status.job_id
    # Text: real Tesseract on both pages, Vietnamese, NFC.
    text = json.loads(repo.get_derived(record.record_id, "text.json"))
    assert [p["source"] for p in text["parts"]] == ["ocr", "ocr"]
    page1 = text["parts"][0]["text"]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page1 and "CÔNG ĐIỆN" in page1
    # Signature: real pyHanko, VGCA G2 chain in the corpus trust anchors.
    assert record.extra["signature_verdict"] == "TOTAL-PASSED"
    assert record.extra["signature_return_reason"] is None
    verification = json.loads(repo.get_derived(record.record_id, "signatures.json"))
    assert verification["sha256"] == status.job_id
    # Metadata pre-filled from the OCR text, sealed with the record (not in the job object).
    metadata = json.loads(repo.get_derived(record.record_id, "metadata.json"))
    assert metadata["loai_van_ban"]["value"] == "Công điện"
    assert metadata["so_ky_hieu"]["value"].endswith("/CĐ-TTg")
    assert status.summary["metadata"] == "metadata.json"
    # The status a person and the API read.
    assert read_status(repo.store, status.job_id[:12]) == status


def test_born_digital_document_is_searchable_with_verdict(
    pipeline: Pipeline, signed: dict[str, bytes]
) -> None:
    status = pipeline.ingest(signed["valid-1"], "qd-1.pdf")

    assert status.state is JobState.DONE, status.reason
    assert status.summary["text_sources"] == ["text-layer"]
    assert status.summary["pages"] == 3
    assert status.summary["signature_verdict"] == "TOTAL-PASSED"
    assert status.steps["index"].state is StepState.DONE
    doc = pipeline.backend().get(status.record_id)
    assert doc is not None
    metadata = json.loads(pipeline.repo.get_derived(status.record_id, "metadata.json"))
    assert doc.so_ky_hieu == metadata["so_ky_hieu"]["value"]
    assert "QUYẾT ĐỊNH" in doc.text


def test_the_job_object_does_not_carry_what_the_document_says(
    pipeline: Pipeline, signed: dict[str, bytes]
) -> None:
    """The job object (``ingest/jobs/<sha256>.json``) is plaintext in the store and in every
    backup, no key shreds it, and ``kho ingest status`` lists it by a permission that ignores
    secrecy. It used to carry the số/ký hiệu, loại, ngày and trích yếu copied out of the
    sealed metadata: a stolen backup read the subject of every document, and a destroyed
    record's subject outlived its key. They stay sealed with the record now."""
    from ingest.status import JOBS_PREFIX

    status = pipeline.ingest(signed["valid-1"], "qd-1.pdf")
    assert status.state is JobState.DONE, status.reason
    metadata = json.loads(pipeline.repo.get_derived(status.record_id, "metadata.json"))
    said = [metadata[k]["value"] for k in ("so_ky_hieu", "trich_yeu") if metadata[k]["value"]]
    assert said  # the document does say something
    stored = pipeline.repo.store.get(f"{JOBS_PREFIX}{status.job_id}.json").decode()
    for value in said:
        assert value not in stored and json.dumps(value)[1:-1] not in stored, value
    for key in ("so_ky_hieu", "loai_van_ban", "ngay_ban_hanh", "trich_yeu"):
        assert key not in status.summary


def test_rerun_changes_nothing(pipeline: Pipeline, signed: dict[str, bytes]) -> None:
    first = pipeline.ingest(signed["valid-2"], "qd-2.pdf")
    repo = pipeline.repo
    version = repo.get(first.record_id, actor=SYSTEM).version
    names = ("text.json", "signatures.json", "metadata.json")
    derived = {n: repo.get_derived(first.record_id, n) for n in names}
    events = sum(1 for _ in repo.audit.events())

    again = pipeline.run(first.job_id, force=True)
    same_bytes = pipeline.ingest(signed["valid-2"], "another-name.pdf")

    assert again.state is JobState.DONE and same_bytes.job_id == first.job_id
    assert same_bytes.record_id == first.record_id
    assert _record_ids(pipeline) == [first.record_id]
    assert repo.get(first.record_id, actor=SYSTEM).version == version
    assert {n: repo.get_derived(first.record_id, n) for n in derived} == derived
    assert sum(1 for _ in repo.audit.events()) == events
    assert again.steps["signatures"] == first.steps["signatures"]  # timings of the run that did it


def test_tampered_document_is_returned_with_the_reason_kho_found(
    pipeline: Pipeline, signed: dict[str, bytes]
) -> None:
    status = pipeline.ingest(signed["tampered"], "sua.pdf")
    assert status.state is JobState.DONE
    assert status.summary["signature_verdict"] == "TOTAL-FAILED"
    reason = status.summary["signature_return_reason"]
    assert reason

    returned = return_document(pipeline.repo, status.record_id, actor=CLERK)
    assert returned.extra["returned"] is True
    assert returned.extra["return_reason"] == reason
    assert returned.extra["returned_by"] == CLERK.user
    events = [e for e in pipeline.repo.audit.events() if e.action == "record:return"]
    assert [(e.record_id, e.actor) for e in events] == [(status.record_id, CLERK.user)]
    # Twice changes nothing.
    assert return_document(pipeline.repo, status.record_id, actor=CLERK).version == returned.version


def test_valid_document_needs_a_reason_to_be_returned(pipeline: Pipeline, signed: dict[str, bytes]) -> None:
    status = pipeline.ingest(signed["valid-2"], "qd-2.pdf")
    with pytest.raises(KhoError) as info:
        return_document(pipeline.repo, status.record_id, actor=CLERK)
    assert info.value.code == "RETURN_REASON_REQUIRED"
    record = return_document(pipeline.repo, status.record_id, actor=CLERK, reason="Sai nơi nhận")
    assert record.extra["return_reason"] == "Sai nơi nhận"


def test_failed_step_keeps_the_original_and_can_be_rerun(
    pipeline: Pipeline, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import textdocs

    from ingest.text import TextSettings

    docx = textdocs.docx_bytes()
    down = Pipeline.from_settings(settings, text_settings=TextSettings(tika_url="http://127.0.0.1:9"))
    failed = down.ingest(docx, "cong-van.docx")

    assert failed.state is JobState.FAILED
    assert failed.reason_code == "TIKA_UNAVAILABLE" and failed.step == "text"
    assert failed.attempts == 3  # the first run and 2 retries with backoff
    assert "Trích xuất văn bản" in failed.reason
    _, kept = pipeline.repo.read_content(failed.record_id, actor=CLERK)
    assert kept == docx

    # Tika is back (here: the native extractor); the retry runs from the failed step.
    done = pipeline.run(failed.job_id, force=True)
    assert done.state is JobState.DONE and done.record_id == failed.record_id
    assert done.steps["store"].state is StepState.DONE  # not stored again
    assert _record_ids(pipeline) == [failed.record_id]
    text = json.loads(pipeline.repo.get_derived(done.record_id, "text.json"))
    assert textdocs.SUBJECT in " ".join(p["text"] for p in text["parts"])


def test_source_changed_since_arrival_is_refused_and_nothing_stored(
    pipeline: Pipeline, signed: dict[str, bytes], tmp_path: Path
) -> None:
    arrived = next(iter(signed.values()))
    source = tmp_path / "den.pdf"
    source.write_bytes(arrived)
    job_id = hashlib.sha256(arrived).hexdigest()
    pipeline.jobs.put(new_status(job_id, source.name, "den", source=str(source)))
    source.write_bytes(arrived + b"\n%changed\n")  # replaced before the store step ran

    status = pipeline.run(job_id)

    assert status.state is JobState.FAILED and status.reason_code == "SOURCE_CHANGED"
    assert status.record_id is None and _record_ids(pipeline) == []
