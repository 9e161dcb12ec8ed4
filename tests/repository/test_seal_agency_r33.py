"""Which agency a seal names, from the angles a10 and r31 did not try (r33).

A seal certificate whose CN is empty named its O, the body above it: a seal of OU "Sở Tài
chính", O "UBND tỉnh X" passed a document typed as the UBND's (a10's very fault), and refused
the Sở's own name. A seal that names a place ("Tỉnh Quảng Ngãi") took any "Thanh tra" or "Ban"
of that province as a unit within it.
"""

from __future__ import annotations

import pytest
from kho_seal_agencies import UBND_QUANG_NGAI, typed

from repository.registration import PdfIdentity, SealAgency, metadata_gate, seal_names_sender

SO_NO_CN = SealAgency(cn="", o="UBND tỉnh Thử Nghiệm", ou="Sở Tài chính")
PROVINCE_NO_CN = SealAgency(cn="", o="Tỉnh Quảng Ngãi")
PROVINCE_CN = SealAgency(cn="Tỉnh Quảng Ngãi", o="Tỉnh Quảng Ngãi")


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_NO_CN, "UBND tỉnh Thử Nghiệm"),  # the Sở's seal as its UBND
        (SO_NO_CN, "Ủy ban nhân dân tỉnh Thử Nghiệm"),
        (PROVINCE_NO_CN, "Thanh tra tỉnh Quảng Ngãi"),  # another agency of the place
        (PROVINCE_CN, "Ban Dân tộc tỉnh Quảng Ngãi"),
        (PROVINCE_CN, "Văn phòng Đoàn đại biểu tỉnh Quảng Ngãi"),
    ],
)
def test_a_seal_without_cn_or_naming_a_place_is_not_another_agency(seal: SealAgency, organ: str) -> None:
    assert not seal_names_sender(organ, (seal,)).matches
    decision = metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), None)
    assert not decision.allowed


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_NO_CN, "Sở Tài chính"),
        (SO_NO_CN, "Sở Tài chính tỉnh Thử Nghiệm"),  # refused on integ24: the seal's own agency
        (SO_NO_CN, "Phòng Ngân sách, Sở Tài chính tỉnh Thử Nghiệm"),
        (PROVINCE_NO_CN, "Tỉnh Quảng Ngãi"),
        (UBND_QUANG_NGAI, "Văn phòng UBND tỉnh Quảng Ngãi"),  # a unit of the UBND still passes
    ],
)
def test_the_seals_own_agency_and_its_units_still_pass(seal: SealAgency, organ: str) -> None:
    assert seal_names_sender(organ, (seal,)).matches
    assert metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), None).allowed


def test_a_seal_without_cn_is_shown_as_its_unit_within_its_parent() -> None:
    """The refusal names the agency the seal is (its OU), qualified by its O."""
    assert SO_NO_CN.name == "Sở Tài chính"
    assert SO_NO_CN.shown == "Sở Tài chính (UBND tỉnh Thử Nghiệm)"
