"""Which agency a seal names (a10): a sub-unit's seal must not pass as its parent.

A VGCA seal certificate names the agency in CN and its locality or parent body in O (CN "Sở Tài
chính", O "UBND tỉnh X"). a9 kept O, OU and CN as one flat list and let the typed cơ quan ban
hành match any of them, so a Sở's seal passed a document typed as its UBND's. The certificate
fields below are the real ones of ``/work/shared/corpora/pdf`` (MANIFEST.tsv) where named so.
"""

from __future__ import annotations

from typing import Any

import pytest
from kho_seal_agencies import BO_TU_PHAP, SO_TAI_CHINH, UBND_QUANG_NGAI, typed

from repository import formats
from repository.registration import (
    PdfIdentity,
    SealAgency,
    metadata_gate,
    metadata_mismatches,
    seal_names_sender,
    split_code,
    stored_agencies,
)

SO_TAI_CHINH_TINH = SealAgency(cn="Sở Tài chính", o="Tỉnh Thử Nghiệm")
VAN_PHONG_BO = SealAgency(cn="Văn phòng Bộ Tư pháp", o="Bộ Tư pháp")
CUC_THUE = SealAgency(cn="Cục Thuế", o="Bộ Tài chính")
# Real certificates of the corpus (vn-quangngai__*, vn-gov__*; UBND_QUANG_NGAI in kho_seal_agencies).
TT_CONG_BAO_QN = SealAgency(
    cn="TRUNG TÂM CÔNG BÁO VÀ TIN HỌC", o="ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI", ou="VĂN PHÒNG"
)
BO_KHCN = SealAgency(cn="Bộ Khoa học và Công nghệ", o="Bộ Khoa học và Công nghệ")
CONG_TTDT_CP = SealAgency(cn="CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ", o="VĂN PHÒNG CHÍNH PHỦ")
PERSON_BKHCN = SealAgency(o="BỘ KHOA HỌC VÀ CÔNG NGHỆ", ou="CỤC TẦN SỐ VÔ TUYẾN ĐIỆN", seal=False)


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_TAI_CHINH, "UBND tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH, "Ủy ban nhân dân tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH_TINH, "Tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH_TINH, "UBND tỉnh Thử Nghiệm"),
        (VAN_PHONG_BO, "Bộ Tư pháp"),
        (CUC_THUE, "Bộ Tài chính"),
        (TT_CONG_BAO_QN, "UBND tỉnh Quảng Ngãi"),
        (TT_CONG_BAO_QN, "Văn phòng UBND tỉnh Quảng Ngãi"),
        (CONG_TTDT_CP, "Văn phòng Chính phủ"),
    ],
)
def test_a_sub_units_seal_does_not_pass_as_its_parent(seal: SealAgency, organ: str) -> None:
    """The fault: on a9 each of these passed (the typed name is the certificate's O)."""
    [found] = metadata_mismatches(typed(organ), PdfIdentity(agencies=(seal,)))
    assert found.field == "organ_name" and seal.cn in found.found
    assert not metadata_gate(typed(organ), PdfIdentity(agencies=(seal,)), None).allowed


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_TAI_CHINH, "Sở Tư pháp tỉnh Thử Nghiệm"),  # a sibling
        (SO_TAI_CHINH, "Sở Tài chính tỉnh Hà Nam"),  # the same Sở of another province
        (SO_TAI_CHINH_TINH, "Sở Tài chính tỉnh Quảng Ngãi"),
        (CUC_THUE, "Tổng cục Thuế"),
        (CUC_THUE, "Chi cục Thuế"),
        (BO_TU_PHAP, "Bộ Tài chính"),
        (UBND_QUANG_NGAI, "Sở Tài chính tỉnh Quảng Ngãi"),  # the seal's own locality, not a unit
        (PERSON_BKHCN, "Cục Tần số vô tuyến điện"),  # a person's OU is where they work, not the sender
    ],
)
def test_a_sibling_or_another_agency_is_refused(seal: SealAgency, organ: str) -> None:
    assert not seal_names_sender(organ, (seal,)).matches


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SO_TAI_CHINH, "Sở Tài chính"),
        (SO_TAI_CHINH, "Sở Tài chính tỉnh Thử Nghiệm"),  # qualified by the locality of O
        (SO_TAI_CHINH, "Sở Tài chính UBND tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH, "Sở Tài chính, UBND tỉnh Thử Nghiệm"),
        (SO_TAI_CHINH_TINH, "Sở Tài chính tỉnh Thử Nghiệm"),  # r30's false positive
        (VAN_PHONG_BO, "Văn phòng Bộ Tư pháp"),
        (CUC_THUE, "Cục Thuế"),
        (CUC_THUE, "Cục Thuế, Bộ Tài chính"),
        (BO_TU_PHAP, "Vụ Pháp chế, Bộ Tư pháp"),  # a unit within the sealing agency
        (BO_TU_PHAP, "Vụ Pháp chế Bộ Tư pháp"),
        (UBND_QUANG_NGAI, "UBND tỉnh Quảng Ngãi"),
        (UBND_QUANG_NGAI, "Ủy ban nhân dân tỉnh Quảng Ngãi"),
        (UBND_QUANG_NGAI, "Văn phòng UBND tỉnh Quảng Ngãi"),  # a unit within the UBND
        (TT_CONG_BAO_QN, "Trung tâm Công báo và Tin học"),
        (TT_CONG_BAO_QN, "Trung tâm Công báo và Tin học, Văn phòng UBND tỉnh Quảng Ngãi"),
        (BO_KHCN, "Bộ Khoa học và Công nghệ"),
        (BO_KHCN, "Bộ KH&CN"),
        (CONG_TTDT_CP, "Cổng Thông tin điện tử Chính phủ"),
        (PERSON_BKHCN, "Bộ Khoa học và Công nghệ"),  # a personal signature alone: its O, as a9
    ],
)
def test_the_sealing_agency_or_a_unit_within_it_passes(seal: SealAgency, organ: str) -> None:
    assert seal_names_sender(organ, (seal,)).matches
    assert metadata_mismatches(typed(organ), PdfIdentity(agencies=(seal,))) == ()


def test_a_document_sealed_by_the_ubnd_and_by_its_publishing_centre_passes_as_the_ubnd() -> None:
    """The corpus' Quảng Ngãi documents carry the UBND's seal and the Trung tâm Công báo's
    (publication): the UBND is the sender."""
    both = PdfIdentity(agencies=(UBND_QUANG_NGAI, TT_CONG_BAO_QN))
    assert metadata_mismatches(typed("UBND tỉnh Quảng Ngãi"), both) == ()
    assert metadata_mismatches(typed("Sở Tài chính tỉnh Quảng Ngãi"), both)


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SealAgency(cn="Sở Tài chính", o="UBND tỉnh X"), "Sở TC tỉnh X"),
        (SealAgency(cn="Sở Tài nguyên và Môi trường", o="UBND tỉnh X"), "Sở TN&MT"),
        (SealAgency(cn="Sở Tài nguyên và Môi trường", o="UBND tỉnh X"), "Sở TNMT tỉnh X"),
        (SealAgency(cn="Sở Giáo dục và Đào tạo", o="UBND tỉnh X"), "Sở GD&ĐT tỉnh X"),
        (SealAgency(cn="Văn phòng UBND tỉnh X", o="UBND tỉnh X"), "VP UBND tỉnh X"),
        (SealAgency(cn="Sở Kế hoạch và Đầu tư", o="Tỉnh X"), "Sở KH&ĐT tỉnh X"),
        (SealAgency(cn="Sở Lao động - Thương binh và Xã hội", o="Tỉnh X"), "Sở LĐTB&XH"),
        (SealAgency(cn="Sở Thông tin và Truyền thông", o="Tỉnh X"), "Sở TT&TT tỉnh X"),
        (SealAgency(cn="Sở Nông nghiệp và Phát triển nông thôn", o="Tỉnh X"), "Sở NN&PTNT"),
        (SealAgency(cn="Sở Giao thông vận tải", o="Tỉnh X"), "Sở GTVT tỉnh X"),
        (SealAgency(cn="Sở Xây dựng", o="Tỉnh X"), "Sở XD tỉnh X"),
        (SealAgency(cn="Sở Nội vụ", o="Tỉnh X"), "Sở NV tỉnh X"),
    ],
)
def test_a_common_abbreviation_is_the_same_sender(seal: SealAgency, organ: str) -> None:
    """On a9 each was a mismatch with the genuine seal: a văn thư needed the override right."""
    assert seal_names_sender(organ, (seal,)).matches


@pytest.mark.parametrize(
    ("seal", "organ"),
    [
        (SealAgency(cn="Sở Tư pháp", o="Tỉnh X"), "Sở TP tỉnh X"),  # Tư pháp, or thành phố?
        (SealAgency(cn="Sở Khoa học và Công nghệ", o="Tỉnh X"), "Sở KH tỉnh X"),  # Kế hoạch?
        (SealAgency(cn="Ban Tổ chức Tỉnh ủy", o="Tỉnh X"), "Ban TC Tỉnh ủy"),  # Tài chính?
        (SealAgency(cn="Sở Tài chính", o="UBND tỉnh X"), "Sở TC tỉnh Y"),  # still another province
    ],
)
def test_an_ambiguous_abbreviation_stays_a_mismatch_with_its_override(seal: SealAgency, organ: str) -> None:
    md = typed(organ)
    refused = metadata_gate(md, PdfIdentity(agencies=(seal,)), None)
    assert not refused.allowed and refused.code == "METADATA_MISMATCH"
    assert metadata_gate(md, PdfIdentity(agencies=(seal,)), "Đã gọi điện xác minh").override


def test_a_look_alike_of_the_qualified_name_is_not_the_agency() -> None:
    forged = SealAgency(cn="Sở Tài chính", o="UBND tỉnh \u0422hử Nghiệm")  # a Cyrillic Т in O
    found = seal_names_sender("Sở Tài chính tỉnh Thử Nghiệm", (forged,))
    assert not found.matches and found.look_alike
    [mismatch] = metadata_mismatches(typed("Sở Tài chính tỉnh Thử Nghiệm"), PdfIdentity(agencies=(forged,)))
    assert mismatch.look_alike


def test_the_stored_field_keeps_which_certificate_field_each_name_came_from() -> None:
    stored = stored_agencies([SO_TAI_CHINH, PERSON_BKHCN])
    assert stored[formats.FORMAT_KEY] == 1
    assert stored["agencies"][0] == {
        "kind": "seal",
        "cn": "Sở Tài chính",
        "o": "UBND tỉnh Thử Nghiệm",
        "ou": "",
    }
    read = PdfIdentity.read({"signature_agencies": stored}, {})
    assert read.agencies == (SO_TAI_CHINH, PERSON_BKHCN)


def test_the_flat_list_of_a9_is_never_taken_as_the_sender() -> None:
    """Stored before a10 (O, OU, CN in one list): it says nothing here; the repository works the
    agencies out again from the stored ``signatures.json`` (tests/web/test_seal_agency_a10.py)."""
    old = PdfIdentity.read({"signature_organisations": ["UBND TỈNH THỬ NGHIỆM", "SỞ TÀI CHÍNH"]}, {})
    assert old.agencies == () and not old.unreadable


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ({formats.FORMAT_KEY: 2, "agencies": []}, "FORMAT_UNSUPPORTED"),
        ({formats.FORMAT_KEY: 1, "agencies": [{"kind": "chief", "cn": "X"}]}, "FORMAT_INVALID"),
        ({formats.FORMAT_KEY: 1, "agencies": "Sở Tài chính"}, "FORMAT_INVALID"),
        ({formats.FORMAT_KEY: "1", "agencies": []}, "FORMAT_INVALID"),
        (["Sở Tài chính"], "FORMAT_INVALID"),
    ],
)
def test_a_newer_or_malformed_stored_field_is_refused_with_a_code(stored: Any, code: str) -> None:
    says = PdfIdentity.read({"signature_agencies": stored}, {})
    assert says.unreadable == code
    refused = metadata_gate(typed("Sở Tài chính"), says, "lý do")
    assert not refused.allowed and refused.code == code and "Kho" in refused.message


@pytest.mark.parametrize(
    ("printed", "number", "notation", "year"),
    [
        ("30/2020/NĐ-CP", "30", "NĐ-CP", "2020"),
        ("52/QĐ-UBND", "52", "QĐ-UBND", ""),
        ("05/2024/TT-BTC", "05", "TT-BTC", "2024"),
        (" 1234 / BNV-VP", "1234", "BNV-VP", ""),
    ],
)
def test_a_printed_code_splits_one_way(printed: str, number: str, notation: str, year: str) -> None:
    split = split_code(printed)
    assert split is not None and (split.number, split.notation, split.year) == (number, notation, year)


@pytest.mark.parametrize("printed", ["QĐ-UBND", "/NĐ-CP", "30/", "abc/def"])
def test_what_is_not_a_code_does_not_split(printed: str) -> None:
    assert split_code(printed) is None
