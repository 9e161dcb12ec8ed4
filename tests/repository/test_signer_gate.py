"""The signer gate's comparison of the Người ký with a certificate's name (review r24 of a4).

Vietnamese names that differ only in a vowel's mark or a tone are different people (Hùng and
Hưng, An and Ân, Hà and Hạ); a4's key dropped every mark, so a trusted certificate of "Nguyễn Văn
Ân" (a junior clerk) stood for the chairman "Nguyễn Văn An". Only the placement of a tone mark
(Hòa/Hoà), case and spacing are ignored, and a certificate written without any mark (some CAs
issue names in ASCII) is compared on the base letters."""

from __future__ import annotations

import pytest

from repository.registration import signer_gate
from repository.vocabulary import Direction


@pytest.mark.parametrize(
    ("named", "certificate"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn Ân"),
        ("Lê Văn Hùng", "Lê Văn Hưng"),
        ("Lê Thị Hà", "Lê Thị Hạ"),
        ("Trần Văn Đức", "Trần Văn Dúc"),
        ("Phạm Thị Mơ", "Phạm Thị Mo"),
    ],
)
def test_a_name_that_differs_in_a_mark_is_another_person(named: str, certificate: str) -> None:
    gate = signer_gate(Direction.DI, named, [certificate], None, signature_count=2)
    assert not gate.allowed and gate.code == "SIGNER_MISMATCH"


@pytest.mark.parametrize(
    ("named", "certificate"),
    [
        ("Nguyễn Thị Hòa", "Nguyễn Thị Hoà"),  # tone mark on o or on a
        ("nguyễn  văn an", "Nguyễn Văn An"),
        ("Nguyễn Văn An", "NGUYEN VAN AN"),  # a certificate written without marks
        ("Đỗ Thị Khuê", "DO THI KHUE"),
    ],
)
def test_placement_case_spacing_and_an_unmarked_certificate_still_match(named: str, certificate: str) -> None:
    assert signer_gate(Direction.DI, named, [certificate], None, signature_count=2).allowed


def test_signatures_without_a_trusted_personal_one_need_a_reason() -> None:
    """Signatures in the file but no trusted personal one (the agency's seal alone, a look-alike
    certificate): not the competent person's signature. A file with no signature at all (a paper
    original scanned) is not decided here."""
    refused = signer_gate(Direction.DI, "Nguyễn Văn An", [], None, signature_count=1)
    assert not refused.allowed and refused.code == "SIGNER_MISMATCH"
    assert signer_gate(Direction.DI, "Nguyễn Văn An", [], "Bản giấy ký tay", signature_count=1).override
    assert signer_gate(Direction.DI, "Nguyễn Văn An", [], None, signature_count=0).allowed
    assert signer_gate(Direction.DI, "Nguyễn Văn An", None, None, signature_count=1).allowed  # not read
    assert signer_gate(Direction.DEN, "Nguyễn Văn An", [], None, signature_count=1).allowed
