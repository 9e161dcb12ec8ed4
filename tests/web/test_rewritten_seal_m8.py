"""A document rewritten after its seal, registered with an override of SIGNATURE_FAILED, keeps
no sender and no signer from that seal (r30 left it open). Through the real receive path: real
pyHanko verifies, the ingest step writes ``extra``, the gates read it."""

from __future__ import annotations

from kho_people import People
from kho_testing import incoming, outgoing, sealed_cong_van
from signature_shapes import add_page_update

from web.context import Kho

OVERRIDE = "Bản nhận qua thư điện tử, đã đối chiếu với bản giấy"


def test_a_rewritten_document_is_not_confirmed_or_refused_by_its_old_seal(kho: Kho, people: People) -> None:
    """Typed as from another agency than the seal's: integ23 kept "BỘ NỘI VỤ" and "Nguyễn Văn
    An" in its extra as who sent and signed it, and recorded a sender mismatch against the seal
    of pages it no longer covers (the one override reason covering both)."""
    clerk = people.actor("van_thu")
    rewritten, _ = add_page_update(sealed_cong_van(32))
    typed = incoming(organ_name="Sở Tài chính tỉnh Thử Nghiệm", code_number="88")
    record = kho.receive.receive_and_register(
        rewritten, "cv.pdf", "den", typed, clerk, override_reason=OVERRIDE
    )
    assert record.registration is not None
    assert record.extra["signature_verdict"] == "TOTAL-FAILED"
    assert record.extra["signature_organisations"] == []
    assert record.extra["signature_signers"] == []
    assert not record.extra.get("metadata_mismatch")


def test_a_rewritten_outgoing_document_names_no_signer(kho: Kho, people: People) -> None:
    """The signer gate: the person's certificate over the first revision does not confirm the
    Người ký of the rewritten document (no signer named: SIGNER_MISMATCH asks a reason)."""
    clerk = people.actor("van_thu")
    rewritten, _ = add_page_update(sealed_cong_van(33))
    record = kho.receive.receive_and_register(
        rewritten, "qd.pdf", "di", outgoing(), clerk, override_reason=OVERRIDE
    )
    assert record.extra["signature_signers"] == []
    [event] = [
        e for e in kho.repo.audit.events() if e.record_id == record.record_id and e.action == "record:update"
    ]
    assert event.details.get("signer_mismatch") == {"named": "Nguyễn Văn An", "certificates": []}
