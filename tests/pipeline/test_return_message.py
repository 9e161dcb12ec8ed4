"""Trả lại without a reason: the message names the signature verdict as it is (an
INDETERMINATE signature is never called valid)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository

from ingest.pipeline import SIGNATURES_DERIVED, return_document
from ingest.signatures.model import Indication, Verdict
from ingest.signatures.rules import no_return_reason_message
from kho.errors import KhoError
from repository.formats import dump_derived
from repository.storage.local import LocalStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats" / "v0"
FIXTURE = next(FIXTURES.glob("derived-signatures/*.json"))


@pytest.mark.parametrize("indication", list(Indication))
def test_the_message_never_calls_an_unproven_signature_valid(indication: Indication) -> None:
    message = no_return_reason_message(Verdict(indication, None, "Lý do cụ thể."))
    assert "lý do trả lại" in message
    assert ("hợp lệ," in message) is (indication is Indication.TOTAL_PASSED)
    if indication is Indication.INDETERMINATE:
        assert "Chưa xác định được" in message and "Lý do cụ thể." in message


def test_returning_an_indeterminate_document_without_a_reason_says_so(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    record = repo.create_document("den", incoming(), None, None, CLERK)
    verification = json.loads(FIXTURE.read_text())
    assert verification["verdict"]["indication"] == "INDETERMINATE"
    repo.put_derived(record.record_id, SIGNATURES_DERIVED, dump_derived(verification, SIGNATURES_DERIVED))
    with pytest.raises(KhoError) as info:
        return_document(repo, record.record_id, actor=CLERK)
    assert info.value.code == "RETURN_REASON_REQUIRED"
    assert "hợp lệ," not in info.value.message
    assert "Chưa xác định được chữ ký số" in info.value.message
    assert "NO_CERTIFICATE_CHAIN_FOUND" in info.value.message
    assert info.value.details["signature_verdict"] == "INDETERMINATE"
    returned = return_document(repo, record.record_id, actor=CLERK, reason="Không xác minh được chữ ký")
    assert returned.extra["return_reason"] == "Không xác minh được chữ ký"
