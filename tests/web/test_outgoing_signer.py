"""A văn bản đi is numbered for the person who signed it (NĐ 30 Điều 15 k2-3: the number is
given after the competent person's signature; Điều 5 k1: that signature makes the original).
The metadata names the signer ("Người ký"); the signed PDF carries the certificate of who
actually signed. A văn thư could register a document signed by one person as signed by
another, with nothing said: the register, the index and every copy named the wrong signer."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_testing import numbered_outgoing, outgoing

from ingest.testpki import TestPKI, Variant, make_variant
from kho.errors import KhoError
from web.context import Kho


def test_an_outgoing_document_signed_by_someone_else_than_the_named_signer_is_not_numbered(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    wrong = outgoing(signer_position="Phó Chủ tịch", signer_full_name="Lưu Quang Hưng")
    with pytest.raises(KhoError) as info:
        kho.receive.receive_and_register(signed["valid"], "qd.pdf", "di", wrong, clerk)
    assert info.value.code == "SIGNER_MISMATCH"
    assert "Lưu Quang Hưng" in info.value.message and "Nguyễn Văn An" in info.value.message
    assert numbered_outgoing(kho) == [], "no number taken"
    [waiting] = kho.repo.intake_queue(actor=clerk)  # it waits in intake, to correct or return

    # Corrected to the certificate's holder (case, spaces and tone-mark placement aside), it goes in.
    record = kho.receive.confirm(
        waiting.record_id, outgoing(signer_full_name="nguyễn  văn an"), expected_version=waiting.version,
        actor=clerk,
    )
    assert record.registration is not None and numbered_outgoing(kho) == [record.record_id]


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


@pytest.mark.parametrize(
    "variant",
    [
        Variant.UNTRUSTED,  # "Nguyễn Văn An" issued by a look-alike root: anyone can make one
        Variant.ORGANISATION_ONLY,  # the agency's seal only: the competent person never signed
    ],
)
def test_a_look_alike_certificate_or_the_agency_seal_alone_does_not_stand_for_the_signer(
    kho: Kho, people: People, variant: Variant
) -> None:
    """The named signer must hold a personal signature whose certificate chains to a trust
    anchor. A self-made certificate carrying the chairman's name (INDETERMINATE, which the
    signature gate lets through) or a PDF signed by the agency alone (TOTAL-PASSED) was numbered
    as signed by "Nguyễn Văn An", with no reason asked (review r24)."""
    clerk = people.actor("van_thu")
    pdf = make_variant(variant, pki=TestPKI.build(), seed=41, pages=1)
    with pytest.raises(KhoError) as info:
        kho.receive.receive_and_register(pdf, "qd.pdf", "di", outgoing(), clerk)
    assert info.value.code == "SIGNER_MISMATCH"
    assert numbered_outgoing(kho) == [], "no number taken"
    [waiting] = kho.repo.intake_queue(actor=clerk)

    # The override path stays open, with its reason audited.
    record = kho.receive.confirm(
        waiting.record_id, outgoing(), expected_version=waiting.version, actor=clerk,
        override_reason="Bản giấy do Chủ tịch ký tay, số hóa tại Văn phòng",
    )
    assert record.registration is not None
    [event] = [
        e for e in kho.repo.audit.events() if e.record_id == record.record_id and e.action == "record:update"
    ]
    assert event.details.get("signature_override") == "Bản giấy do Chủ tịch ký tay, số hóa tại Văn phòng"
    assert event.details.get("signer_mismatch", {}).get("named") == "Nguyễn Văn An"


def test_the_signer_of_a_numbered_document_cannot_be_changed_to_someone_who_did_not_sign(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    """a4's gate ran at registration only: Người ký could be corrected afterwards to anyone, so
    the register and every copy named as signer a person whose signature is not in the PDF
    (review r24). A correction that still names the certificate's holder goes through."""
    clerk = people.actor("van_thu")
    record = kho.receive.receive_and_register(signed["valid"], "qd.pdf", "di", outgoing(), clerk)
    with pytest.raises(KhoError) as info:
        kho.repo.update_metadata(
            record.record_id, {"signer_full_name": "Lưu Quang Hưng"}, actor=clerk,
            expected_version=record.version,
        )
    assert info.value.code == "SIGNER_MISMATCH"
    assert kho.repo.get(record.record_id, actor=clerk).metadata.signer_full_name == "Nguyễn Văn An"  # type: ignore[union-attr]
    fixed = kho.repo.update_metadata(
        record.record_id, {"signer_full_name": "NGUYỄN VĂN AN", "signer_position": "Chủ tịch"}, actor=clerk,
        expected_version=record.version,
    )
    assert fixed.metadata.signer_full_name == "NGUYỄN VĂN AN"  # type: ignore[union-attr]
