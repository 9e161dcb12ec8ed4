"""A re-sent văn bản đi goes through the signer check as the first registration did (a9 left it
without a test). The same signed file, registered once, is received again and registered anew
(``ReceiveService._register_again`` → ``create_document``, with ``duplicate_reason``): the copy
carries the first registration's ``signature_signers``, so a văn thư who names another Người ký
is refused 409 ``SIGNER_MISMATCH`` with no number taken, and the first registration's override
reason does not stand for the second."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_testing import numbered_outgoing, outgoing

from kho.errors import KhoError
from web.context import Kho

AGAIN = "Văn bản gửi lại theo yêu cầu của Sở Nội vụ"


def test_a_resent_outgoing_document_naming_another_signer_is_refused_and_not_numbered(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    first = kho.receive.receive_and_register(signed["valid"], "qd.pdf", "di", outgoing(), clerk)
    assert first.registration is not None and numbered_outgoing(kho) == [first.record_id]
    wrong = outgoing(signer_full_name="Lưu Quang Hưng")
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            first.record_id, wrong, expected_version=first.version, actor=clerk, duplicate_reason=AGAIN
        )
    assert info.value.code == "SIGNER_MISMATCH"
    assert "Lưu Quang Hưng" in info.value.message and "Nguyễn Văn An" in info.value.message
    assert numbered_outgoing(kho) == [first.record_id], "no number taken for the refused copy"

    # Named as the certificate says, the re-sent copy goes in, carrying who signed it.
    again = kho.receive.confirm(
        first.record_id, outgoing(), expected_version=first.version, actor=clerk, duplicate_reason=AGAIN
    )
    assert again.registration is not None and again.record_id != first.record_id
    assert again.extra["registered_again_from"] == first.record_id
    assert again.extra["signature_signers"] == ["Nguyễn Văn An"]
    assert numbered_outgoing(kho) == [first.record_id, again.record_id]


def test_a_resent_copy_of_an_overridden_registration_needs_its_own_reason(
    kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = people.actor("van_thu")
    wrong = outgoing(signer_full_name="Lưu Quang Hưng")
    first = kho.receive.receive_and_register(
        signed["valid"], "qd.pdf", "di", wrong, clerk, override_reason="Ký thay theo ủy quyền số 12/UQ"
    )
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            first.record_id, wrong, expected_version=first.version, actor=clerk, duplicate_reason=AGAIN
        )
    assert info.value.code == "SIGNER_MISMATCH"
    again = kho.receive.confirm(
        first.record_id,
        wrong,
        expected_version=first.version,
        actor=clerk,
        duplicate_reason=AGAIN,
        override_reason="Ký thay theo ủy quyền số 12/UQ, bản gửi lại",
    )
    [event] = [
        e for e in kho.repo.audit.events() if e.record_id == again.record_id and e.action == "record:create"
    ]
    assert event.details.get("signature_override") == "Ký thay theo ủy quyền số 12/UQ, bản gửi lại"
    assert event.details.get("signer_mismatch") == {
        "named": "Lưu Quang Hưng",
        "certificates": ["Nguyễn Văn An"],
    }
