"""Attacks on a10's "unit within the sealing agency" rule (r31).

a10 passed a typed sender whose tail is the sealing agency's name after any two words or more.
So the head could name another body: a Sở's seal typed "Ủy ban nhân dân tỉnh X - Sở Tài chính"
(the very upward forgery a10 fixed, written the other way round), the Bộ's seal typed "Văn phòng
Chính phủ - Bộ Tư pháp" or "Công ty X thuộc Bộ Tư pháp". Each of these was refused on main (no
flat-list name equals it) and passed on a10. A unit's name starts with a unit kind (Vụ, Phòng,
Văn phòng, …) and names no body of its own (UBND, Bộ, Sở, tỉnh, công ty, …).
"""

from __future__ import annotations

from typing import Any

import pytest
from kho_seal_agencies import BO_TU_PHAP, SO_TAI_CHINH, UBND_QUANG_NGAI, typed

from repository.registration import (
    PdfIdentity,
    SealAgency,
    metadata_gate,
    seal_names_sender,
)


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_TAI_CHINH, "Ủy ban nhân dân tỉnh Thử Nghiệm - Sở Tài chính"),  # the parent, written first
        (SO_TAI_CHINH, "UBND tỉnh Thử Nghiệm, Sở Tài chính"),
        (SO_TAI_CHINH, "UBND tỉnh Hà Nam, Sở Tài chính"),  # another province's UBND
        (SO_TAI_CHINH, "Phòng Tài chính huyện Sơn Tịnh, Sở Tài chính"),  # a unit of another body
        (BO_TU_PHAP, "Văn phòng Chính phủ - Bộ Tư pháp"),
        (BO_TU_PHAP, "Công ty X thuộc Bộ Tư pháp"),
        (BO_TU_PHAP, "Văn phòng Bộ Công an, Bộ Tư pháp"),
        (BO_TU_PHAP, "Giả mạo Bộ Tư pháp"),  # not a unit's name at all
        (BO_TU_PHAP, "Nguyễn Văn A Bộ Tư pháp"),
        (UBND_QUANG_NGAI, "Bộ Công an và Ủy ban nhân dân tỉnh Quảng Ngãi"),
        (UBND_QUANG_NGAI, "Sở Tài chính tỉnh Quảng Ngãi, Ủy ban nhân dân tỉnh Quảng Ngãi"),
    ],
)
def test_a_head_that_names_another_body_is_not_a_unit_within_the_seal(seal: SealAgency, organ: str) -> None:
    assert not seal_names_sender(organ, (seal,)).matches
    refused = metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), None)
    assert not refused.allowed and refused.code == "METADATA_MISMATCH"
    assert [m.field for m in refused.mismatches] == ["organ_name"]
    # the override with a reason still takes it, as for every mismatch
    assert metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), "Đã xác minh").override


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (BO_TU_PHAP, "Vụ Pháp chế, Bộ Tư pháp"),
        (BO_TU_PHAP, "Vụ Pháp chế thuộc Bộ Tư pháp"),
        (BO_TU_PHAP, "Cục Trợ giúp pháp lý - Bộ Tư pháp"),
        (BO_TU_PHAP, "Thanh tra Bộ Tư pháp"),
        (BO_TU_PHAP, "Trung tâm Lý lịch tư pháp quốc gia, Bộ Tư pháp"),
        (BO_TU_PHAP, "VP Bộ Tư pháp"),
        (UBND_QUANG_NGAI, "Văn phòng UBND tỉnh Quảng Ngãi"),
        (UBND_QUANG_NGAI, "Ban Tiếp công dân, UBND tỉnh Quảng Ngãi"),
        (SO_TAI_CHINH, "Phòng Quản lý ngân sách, Sở Tài chính tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH, "Phòng Lao động - Thương binh và Xã hội, Sở Tài chính"),  # "xã hội" is no xã
        (SO_TAI_CHINH, "Bộ phận Một cửa, Sở Tài chính"),  # "bộ phận" is no Bộ
    ],
)
def test_a_unit_within_the_sealing_agency_still_passes(seal: SealAgency, organ: str) -> None:
    assert seal_names_sender(organ, (seal,)).matches
    assert metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), None).allowed


@pytest.mark.parametrize(
    "organ",
    [
        "Sở Tài chính (UBND tỉnh Thử Nghiệm)",  # what the refusal message itself shows
        "Sở Tài chính (tỉnh Thử Nghiệm)",
    ],
)
def test_the_name_as_the_refusal_shows_it_passes(organ: str) -> None:
    """a10's refusal names the seal's agency "Sở Tài chính (UBND tỉnh Thử Nghiệm)"; a văn thư who
    types it as shown was refused again (brackets were not separators)."""
    shown = metadata_gate(typed("UBND tỉnh Thử Nghiệm"), PdfIdentity(agencies=(SO_TAI_CHINH,)), None)
    assert "Sở Tài chính (UBND tỉnh Thử Nghiệm)" in shown.message
    assert seal_names_sender(organ, (SO_TAI_CHINH,)).matches


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SealAgency(cn="Sở Giáo dục và Đào tạo", o="UBND tỉnh X"), "Sở GD-ĐT tỉnh X"),
        (SealAgency(cn="Sở Giáo dục và Đào tạo", o="UBND tỉnh X"), "Sở GD & ĐT"),
        (SealAgency(cn="Sở Tài nguyên và Môi trường", o="Tỉnh X"), "Sở TN-MT tỉnh X"),
        (SealAgency(cn="Sở Kế hoạch và Đầu tư", o="Tỉnh X"), "Sở KH-ĐT"),
        (SealAgency(cn="Sở Lao động - Thương binh và Xã hội", o="Tỉnh X"), "Sở LĐ-TB&XH tỉnh X"),
        (SealAgency(cn="Sở Nông nghiệp và Phát triển nông thôn", o="Tỉnh X"), "Sở NN-PTNT"),
        (SealAgency(cn="Sở Văn hóa, Thể thao và Du lịch", o="Tỉnh X"), "Sở VH-TT&DL tỉnh X"),
    ],
)
def test_an_abbreviation_written_with_a_dash_or_spaces_is_the_same_sender(
    seal: SealAgency, organ: str
) -> None:
    """a10 expands "Sở GD&ĐT" but made dashes separators, so the as common "Sở GD-ĐT" (and
    "GD & ĐT") read "gd đt": a mismatch for the genuine seal, the override right needed."""
    assert seal_names_sender(organ, (seal,)).matches


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SealAgency(cn="Sở Giáo dục và Đào tạo", o="UBND tỉnh X"), "Sở GD-ĐT tỉnh Y"),
        (SealAgency(cn="Sở Tài nguyên và Môi trường", o="Tỉnh X"), "Sở GD-ĐT tỉnh X"),
    ],
)
def test_a_dashed_abbreviation_of_another_agency_stays_a_mismatch(seal: SealAgency, organ: str) -> None:
    assert not seal_names_sender(organ, (seal,)).matches


@pytest.mark.parametrize(
    ("extra", "may"),
    [
        ({"signature_verdict": "TOTAL_PASSED", "signature_count": 2, "signature_organisations": ["X"]}, True),
        ({"signature_verdict": "TOTAL_PASSED", "signature_count": 2}, True),  # before a9: no list
        ({"signature_verdict": "TOTAL_PASSED", "signature_count": 2, "signature_organisations": []}, False),
        ({"signature_verdict": "NO_SIGNATURE", "signature_count": 0}, False),
    ],
)
def test_which_pre_a10_record_needs_its_report_to_name_the_sender(extra: dict[str, Any], may: bool) -> None:
    """A record whose report is lost is refused only when it may have been sealed (r31): a PDF with
    no signature, or one a9 found no trusted agency on, says nothing about its sender, as on main."""
    from repository.registration import may_name_a_sender  # r31's rule (imported here: new in r31)

    assert may_name_a_sender(extra) is may
