"""A PDF received but not yet verified (its job queued for a worker, the worker down or killed
mid-task) waited in the intake queue with no verdict, and the signature gate let a missing
verdict through as "not a PDF": a văn thư registered a document with a forged signature as if
nothing was wrong. The gate now refuses a PDF whose signatures were not checked."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_testing import incoming

from ingest.status import JobState
from kho.errors import KhoError
from web.context import Kho


def test_a_pdf_whose_signatures_were_not_checked_is_not_registered(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    # As with a broker: the original is stored at once, the remaining steps wait for a worker.
    status = kho.pipeline.accept(signed["tampered"], "cong-van.pdf", "den")
    assert status.state is JobState.WAITING and status.record_id is not None
    record = kho.repo.get(status.record_id, actor=clerk)
    assert record.state == "intake" and record.extra.get("signature_verdict") is None
    for override in (None, "Đã gọi điện xác minh"):
        with pytest.raises(KhoError) as refused:
            kho.receive.confirm(
                record.record_id,
                incoming(code_number="91"),
                expected_version=record.version,
                actor=clerk,
                override_reason=override,
            )
        assert refused.value.code == "SIGNATURES_NOT_CHECKED"
        assert "chưa được kiểm tra" in refused.value.message
    assert kho.repo.get(record.record_id, actor=clerk).state == "intake"
    # Once the worker has run, the verdict is there and the usual gate applies.
    done = kho.pipeline.run(status.job_id)
    assert done.state is JobState.DONE
    record = kho.repo.get(record.record_id, actor=clerk)
    assert record.extra.get("signature_verdict") == "TOTAL-FAILED"
    with pytest.raises(KhoError) as refused:
        kho.receive.confirm(
            record.record_id, incoming(code_number="91"), expected_version=record.version, actor=clerk
        )
    assert refused.value.code == "SIGNATURE_FAILED"
