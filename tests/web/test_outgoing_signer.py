"""A văn bản đi is numbered for the person who signed it (NĐ 30 Điều 15 k2-3: the number is
given after the competent person's signature; Điều 5 k1: that signature makes the original).
The metadata names the signer ("Người ký"); the signed PDF carries the certificate of who
actually signed. A văn thư could register a document signed by one person as signed by
another, with nothing said: the register, the index and every copy named the wrong signer."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_testing import outgoing

from kho.errors import KhoError
from repository.registers import ADMINISTRATIVE
from web.context import Kho


def _registered(kho: Kho) -> list[str]:
    year = kho.repo.clock().year
    return [e.record_id for e in kho.repo.registers.entries(kho.repo.agency_id, year, ADMINISTRATIVE)]


def test_an_outgoing_document_signed_by_someone_else_than_the_named_signer_is_not_numbered(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    wrong = outgoing(signer_position="Phó Chủ tịch", signer_full_name="Lưu Quang Hưng")
    with pytest.raises(KhoError) as info:
        kho.receive.receive_and_register(signed["valid"], "qd.pdf", "di", wrong, clerk)
    assert info.value.code == "SIGNER_MISMATCH"
    assert "Lưu Quang Hưng" in info.value.message and "Nguyễn Văn An" in info.value.message
    assert _registered(kho) == [], "no number taken"
    [waiting] = kho.repo.intake_queue(actor=clerk)  # it waits in intake, to correct or return

    # Corrected to the certificate's holder (case, spaces and tone-mark placement aside), it goes in.
    record = kho.receive.confirm(
        waiting.record_id, outgoing(signer_full_name="nguyễn  văn an"), expected_version=waiting.version,
        actor=clerk,
    )
    assert record.registration is not None and _registered(kho) == [record.record_id]


def test_a_signer_mismatch_goes_in_only_with_an_audited_reason(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    wrong = outgoing(signer_full_name="Lưu Quang Hưng")
    record = kho.receive.receive_and_register(
        signed["valid"], "qd.pdf", "di", wrong, clerk, override_reason="Ký thay theo ủy quyền số 12/UQ"
    )
    assert record.registration is not None
    [event] = [
        e for e in kho.repo.audit.events() if e.record_id == record.record_id and e.action == "record:update"
    ]
    assert event.details.get("signature_override") == "Ký thay theo ủy quyền số 12/UQ"
    mismatch = {"named": "Lưu Quang Hưng", "certificates": ["Nguyễn Văn An"]}
    assert event.details.get("signer_mismatch") == mismatch
