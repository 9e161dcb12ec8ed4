"""The verdict rules as pure functions (no PDF, no pyHanko)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.signatures import rules
from ingest.signatures.evaluation import expected_class, rule_violation
from ingest.signatures.model import Indication, SignatureType, SignerKind, Verdict
from ingest.signatures.rules import (
    DocumentFacts,
    Evidence,
    SignatureFacts,
    TimestampFacts,
    classify_signer,
    document_evidence,
    document_verdict,
    evidence_outcome,
    file_verdict,
    nd30_check,
    return_reason,
    signature_verdict,
)

GOOD = SignatureFacts(
    intact=True, valid=True, coverage="ENTIRE_FILE", modification_level="NONE",
    digest_algorithm="sha256", timestamp=TimestampFacts(True, True, None),
)


def with_(**changes: object) -> SignatureFacts:
    return SignatureFacts(**{**GOOD.__dict__, **changes})


def test_intact_valid_trusted_signature_passes() -> None:
    verdict, findings = signature_verdict(GOOD)
    assert verdict.indication is Indication.TOTAL_PASSED and verdict.sub_indication is None
    assert any("Dấu thời gian hợp lệ" in f for f in findings)


@pytest.mark.parametrize(
    ("changes", "sub"),
    [
        ({"format_error": "cấu trúc hỏng"}, "FORMAT_FAILURE"),
        ({"intact": False}, "HASH_FAILURE"),
        ({"valid": False}, "SIG_CRYPTO_FAILURE"),
        ({"coverage": "CONTIGUOUS_BLOCK_FROM_START"}, "FORMAT_FAILURE"),
        ({"coverage": "UNCLEAR"}, "FORMAT_FAILURE"),
        ({"docmdp_permission": 1, "modification_level": "FORM_FILLING"}, "FORMAT_FAILURE"),
        ({"trust_problem": "REVOKED", "trust_problem_is_failure": True}, "REVOKED"),
        ({"trust_problem": "REVOKED_NO_POE", "revoked_before_timestamp": True}, "REVOKED"),
    ],
)
def test_failures_are_total_failed_with_their_sub_indication(
    changes: dict[str, object], sub: str
) -> None:
    verdict, _ = signature_verdict(with_(**changes))
    assert (verdict.indication, verdict.sub_indication) == (Indication.TOTAL_FAILED, sub)
    assert verdict.explanation


def test_missing_anchor_is_indeterminate_never_failed() -> None:
    verdict, _ = signature_verdict(with_(trust_problem="NO_CERTIFICATE_CHAIN_FOUND"))
    assert verdict.indication is Indication.INDETERMINATE
    assert verdict.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert "chứng thư gốc" in verdict.explanation


def test_unexplained_changes_are_indeterminate_and_rank_before_the_chain() -> None:
    verdict, findings = signature_verdict(
        with_(modification_level=None, modifications_explained=False,
              modification_detail="/I changed", trust_problem="NO_CERTIFICATE_CHAIN_FOUND")
    )
    assert (verdict.indication, verdict.sub_indication) == (
        Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE")
    assert "/I changed" in verdict.explanation
    assert any("chuỗi chứng thư" in f for f in findings)


def test_failure_outranks_indeterminate_findings() -> None:
    verdict, findings = signature_verdict(
        with_(intact=False, trust_problem="NO_CERTIFICATE_CHAIN_FOUND", digest_algorithm="sha1")
    )
    assert verdict.sub_indication == "HASH_FAILURE"
    assert len([f for f in findings if "SHA1" in f]) == 1


def test_sha1_digest_is_a_crypto_constraint_failure() -> None:
    verdict, _ = signature_verdict(with_(digest_algorithm="sha1"))
    assert (verdict.indication, verdict.sub_indication) == (
        Indication.INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE")


def test_docmdp_allows_lta_updates_and_form_filling_at_level_two() -> None:
    assert signature_verdict(with_(docmdp_permission=1, modification_level="LTA_UPDATES"))[
        0].indication is Indication.TOTAL_PASSED
    assert signature_verdict(with_(docmdp_permission=2, modification_level="FORM_FILLING"))[
        0].indication is Indication.TOTAL_PASSED
    assert signature_verdict(with_(docmdp_permission=2, modification_level="ANNOTATIONS"))[
        0].indication is Indication.TOTAL_FAILED


def test_broken_or_untrusted_timestamp_is_reported_not_fatal() -> None:
    broken, notes = signature_verdict(with_(timestamp=TimestampFacts(False, True, None)))
    assert broken.indication is Indication.TOTAL_PASSED
    assert any("bỏ qua" in n for n in notes)
    _, notes = signature_verdict(with_(timestamp=TimestampFacts(True, True, "NO_CERTIFICATE_CHAIN_FOUND")))
    assert any("chưa được xác thực" in n for n in notes)
    _, notes = signature_verdict(with_(timestamp=None))
    assert any("không có dấu thời gian" in n for n in notes)


def test_document_timestamp_has_no_signature_timestamp_note() -> None:
    _, notes = signature_verdict(with_(type=SignatureType.DOCUMENT_TIMESTAMP, timestamp=None))
    assert not any("dấu thời gian" in n.lower() and "không có" in n for n in notes)


def test_file_verdict_failure_beats_doubt_beats_pass() -> None:
    ok = Verdict(Indication.TOTAL_PASSED, None, "ok")
    doubt = Verdict(Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", "x")
    bad = Verdict(Indication.TOTAL_FAILED, "HASH_FAILURE", "y")
    assert file_verdict([]).indication is Indication.NO_SIGNATURE
    assert file_verdict([ok, ok]).indication is Indication.TOTAL_PASSED
    assert file_verdict([ok, doubt]).sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert file_verdict([doubt, bad, ok]).sub_indication == "HASH_FAILURE"
    assert return_reason(file_verdict([doubt, bad])) is not None
    assert return_reason(file_verdict([doubt])) is None


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        # the corpus' VGCA organisation seals and the Government portal certificate
        ({"common_name": "Ủy ban nhân dân tỉnh Quảng Ngãi", "locality_name": "Quảng Ngãi",
          "organization_name": "Tỉnh Quảng Ngãi"}, SignerKind.ORGANISATION),
        ({"common_name": "Bộ Khoa học và Công nghệ",
          "organization_name": "Bộ Khoa học và Công nghệ"}, SignerKind.ORGANISATION),
        ({"common_name": "CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ",
          "user_id": "MST:0102357802, MNS:1032158"}, SignerKind.ORGANISATION),
        ({"common_name": "TRUNG TÂM CÔNG BÁO VÀ TIN HỌC", "user_id": "MST:4300476238"},
         SignerKind.ORGANISATION),
        # personal certificates: a person's name, the unit in OU/O
        ({"common_name": "Nguyễn Phước Bình", "organizational_unit_name": "VĂN PHÒNG",
          "organization_name": "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI"}, SignerKind.PERSONAL),
        ({"common_name": "LÊ VĂN TUẤN"}, SignerKind.PERSONAL),
        ({"common_name": "X", "user_id": "CCCD:001234567890"}, SignerKind.PERSONAL),
        ({"common_name": "MURUMETS,JAAN", "given_name": "JAAN", "surname": "MURUMETS"},
         SignerKind.PERSONAL),
        ({"common_name": "good-user"}, SignerKind.UNKNOWN),
    ],
)
def test_classify_signer_from_subject(subject: dict[str, str], kind: SignerKind) -> None:
    assert classify_signer(subject) is kind


# The organisation-name rule as it was written before it became string comparisons (one
# regular expression compiled at import): the reference the comparisons must equal.
_ORG_REFERENCE = re.compile(
    r"(^|\s)(" + "|".join(re.escape(w.strip()) for w in rules._ORG_WORDS) + r")(\s|$|[,.])"
)
_ORG_PIECES = [w.strip() for w in rules._ORG_WORDS] + [
    "Ủy", "BAN", "Bộ", "bo", "so", "Sở", "x", "nhân dân", "ubndx", "xubnd", "s.a", "inc.",
]


@given(st.lists(st.one_of(st.sampled_from(_ORG_PIECES),
                          st.sampled_from([" ", "  ", ",", ".", "\t", "\n", "-", "Đ", "đ"]),
                          st.text(max_size=4)), max_size=8).map("".join))
@settings(max_examples=400, deadline=None)
@example("Ủy ban nhân dân tỉnh Quảng Ngãi")
@example("Bộ Khoa học và Công nghệ")
@example("CÔNG TY TNHH ABC, Inc.")
@example("Nguyễn Phước Bình")
@example("Sở")
@example("boi so")
@example("acme s.a.")
@example("ACME S.A.X")
@example("văn phòng,")
def test_organisation_names_are_found_as_the_former_expression_found_them(name: str) -> None:
    """The organisation-name rule of :func:`classify_signer` (now plain string comparisons, no
    expression compiled at import) answers as the regular expression it replaces."""
    expected = bool(_ORG_REFERENCE.search(rules.fold(name)))
    assert rules._looks_like_org(name) is expected


# The expression main compiled at import (2beb7d8, ingest/signatures/rules.py), copied with its
# words: the reference does not follow later edits of rules._ORG_WORDS.
_MAIN_ORG_WORDS = (
    "uy ban", "ubnd", "hoi dong", "bo ", "so ", "cuc ", "tong cuc", "chi cuc", "vu ",
    "trung tam", "cong thong tin", "van phong", "ban ", "phong ", "truong ", "dai hoc",
    "hoc vien", "vien ", "benh vien", "toa an", "vien kiem sat", "kho bac", "ngan hang",
    "cong ty", "tap doan", "tong cong ty", "hop tac xa", "dang uy", "tinh uy", "thanh uy",
    "huyen uy", "quan uy", "dang bo", "mat tran", "hoi ", "lien doan", "doan ", "bao ",
    "dai phat thanh", "co quan", "chinh phu", "quoc hoi", "thanh tra", "bo chi huy",
    "cong an", "quan khu", "bo tu lenh", "quy ", "xi nghiep", "doanh nghiep", "chi nhanh",
    "to chuc", "cuc thue", "hai quan", "bao hiem", "kiem toan", "thong tan xa",
    "government", "ministry", "department", "agency", "company", "corporation",
    "university", "authority", "office", "council", "bank", "inc", "ltd", "gmbh", "s.a.",
    "s.p.a", "services", "solution",
)
_MAIN_ORG_RE = re.compile(
    r"(^|\s)(" + "|".join(re.escape(w.strip()) for w in _MAIN_ORG_WORDS) + r")(\s|$|[,.])"
)

# Vietnamese organisation words as people write them (diacritics, old and new tone placement),
# near misses that fold to something else or hold a word inside a longer one, person names.
_VI_ORG = [
    "Ủy ban", "Uỷ ban", "UBND", "Hội đồng", "Bộ", "Sở", "Cục", "Tổng cục", "Chi cục", "Vụ",
    "Trung tâm", "Cổng thông tin", "Văn phòng", "Ban", "Phòng", "Trường", "Đại học", "Học viện",
    "Viện", "Bệnh viện", "Tòa án", "Toà án", "Viện kiểm sát", "Kho bạc", "Ngân hàng", "Công ty",
    "Tập đoàn", "Tổng công ty", "Hợp tác xã", "Đảng ủy", "Tỉnh ủy", "Thành ủy", "Huyện ủy",
    "Quận ủy", "Đảng bộ", "Mặt trận", "Hội", "Liên đoàn", "Đoàn", "Báo", "Đài phát thanh",
    "Cơ quan", "Chính phủ", "Quốc hội", "Thanh tra", "Bộ chỉ huy", "Công an", "Quân khu",
    "Bộ tư lệnh", "Quỹ", "Xí nghiệp", "Doanh nghiệp", "Chi nhánh", "Tổ chức", "Cục thuế",
    "Hải quan", "Bảo hiểm", "Kiểm toán", "Thông tấn xã", "S.A.", "S.p.A", "GmbH", "Inc.", "Inc", "Ltd",
]
_NEAR_MISSES = [
    "Bông", "Số", "Sơ", "Bồ", "Bơ", "Bỏ", "Cúc", "Vũ", "Bàn", "Bạn", "Phóng", "Trương", "Viễn",
    "Hồi", "Đoán", "Bào", "Quý", "Quy", "Hộ", "Sổ", "Bò", "Incorporated", "Banking", "Officer",
    "Ltda", "Inch", "Sao", "Bộđội", "Sởthích", "Cụcgạch", "ủyban", "ubndx", "xubnd", "congty",
    "s.a", "sa.", "s.p.", "spa", "bank-", "inc_", "gmbh1", "Đ", "đ", "nhân dân", "tỉnh", "xã",
]
_PERSONS = ["Nguyễn Văn An", "Lê Thị Hồng", "Trần Quốc Bảo", "Phạm Bá Sở", "ĐỖ VĂN BỘ", "Vũ Hội"]
_GLUE = [
    "", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\x1f", "\u200b", "\ufeff",
    ",", ".", ", ", ". ", " ,", " .", ",.", "-", "(", ")", "/", ":", ";", "'", '"', "&", "_",
    "\u0301", "\u0323", "\u0309",
]
_CASES = [str.lower, str.upper, str.title, str.swapcase, str.capitalize, lambda s: s]
_FORMS = ["NFC", "NFD", "NFKC", "NFKD", None]


@st.composite
def _written_names(draw: st.DrawFn) -> str:
    """A name as a person or a CA might write it: pieces from the lists above (and the
    folded words themselves, and short random text), each in any case and normal form,
    joined by any glue, including none (a word inside a longer word)."""
    piece = st.one_of(
        st.sampled_from(_VI_ORG), st.sampled_from(_NEAR_MISSES), st.sampled_from(_PERSONS),
        st.sampled_from([w.strip() for w in _MAIN_ORG_WORDS]),
        st.text(max_size=3),
        st.text(alphabet="abdhnoqsuyđĐơưăâêôÂ .,", max_size=4),
    )
    parts: list[str] = [draw(st.sampled_from(_GLUE))]
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        text = draw(st.sampled_from(_CASES))(draw(piece))
        form = draw(st.sampled_from(_FORMS))
        parts.append(unicodedata.normalize(form, text) if form else text)
        parts.append(draw(st.sampled_from(_GLUE)))
    return "".join(parts)


@given(_written_names())
@settings(max_examples=1500, deadline=None)
@example("Ủy ban nhân dân tỉnh Quảng Ngãi")
@example(unicodedata.normalize("NFD", "SỞ TÀI CHÍNH"))
@example("Phạm Bá Sở")
@example("Văn phòng\u00a0Chính phủ")
@example("Công ty\tTNHH")
@example("ACME S.A.")
@example("ACME S.A.\n")
@example("Bộđội Biên phòng.")
@example("Trường,Đại học")
def test_written_organisation_names_are_classified_as_the_former_expression_did(
    name: str,
) -> None:
    """Review r11 of branch p3: over names written with and without diacritics, NFC and NFD,
    any case, extra and unusual white space, punctuation, words inside longer words, the
    string comparisons of :func:`rules._looks_like_org` answer exactly as the expression
    they replaced (a signer counted as an organisation or not changes the NĐ 30 check). The whole
    classification of a common name too."""
    expected = bool(_MAIN_ORG_RE.search(rules.fold(name)))
    assert rules._looks_like_org(name) is expected
    subject = {"common_name": name}
    assert classify_signer(subject) is _reference_classify(subject)


def test_every_organisation_word_in_every_surrounding_is_classified_as_before() -> None:
    """Each word of the former expression, and each Vietnamese way of writing one, between
    every pair of surroundings (start or end, white space of several kinds, punctuation,
    diacritics, letters that make it part of a longer word), in lower case NFC, upper case
    NFD and title case NFC: :func:`rules._looks_like_org` answers as the former expression did. The
    generated names above may miss a single word; this sweep does not."""
    words = [w.strip() for w in _MAIN_ORG_WORDS] + _VI_ORG
    around = ["", " ", "\t", "\n", "\u00a0", "\u3000", ",", ".", "-", "(", "x", "Đ", "ơ",
              "\u0301", "\u200b", " .", ". x"]
    differ = []
    for word in words:
        for form, case in (("NFC", str.lower), ("NFD", str.upper), ("NFC", str.title)):
            written = unicodedata.normalize(form, case(word))
            for before in around:
                for after in around:
                    name = f"{before}{written}{after}"
                    if rules._looks_like_org(name) is not bool(
                            _MAIN_ORG_RE.search(rules.fold(name))):
                        differ.append(name)
    assert differ == [], differ[:10]


# f4: organisation words that fold like words of personal names, with the organisation's marks
# (a copy: the reference does not follow later edits of rules._MARKED_ORG_WORDS).
_F4_MARKED = {
    "vu": "vụ", "truong": "trường", "phong": "phòng", "bao": "báo", "quy": "quỹ", "cuc": "cục",
    "vien": "viện", "hoi": "hội", "ban": "ban", "bo": "bộ", "so": "sở", "van phong": "văn phòng",
    "hoi dong": "hội đồng", "quoc hoi": "quốc hội", "hoc vien": "học viện",
    "benh vien": "bệnh viện", "bao hiem": "bảo hiểm", "dang bo": "đảng bộ",
}
# rv2: organisation names whose organisation word is the second word (a copy, as above).
_RV2_HEADS = (
    "cảng vụ", "thư viện", "tỉnh đoàn", "thành đoàn", "huyện đoàn", "quận đoàn", "công đoàn",
    "nghiệp đoàn", "chi đoàn", "sư đoàn", "lữ đoàn", "binh đoàn", "quân đoàn", "nông trường",
    "chi bộ", "chi hội", "hiệp hội", "tổng hội", "liên hội", "giáo hội", "cơ sở",
    "đoàn văn công", "đoàn văn nghệ",
)
_RV2_MARKED = {"doan": "đoàn"}  # Doãn, a surname, folds like Đoàn
_RV2_PERSON_HEADS = ("đoàn thị", "đoàn văn")  # "Đoàn Văn Hội", "Đoàn Thị Hương"


def _reference_classify(subject: dict[str, str]) -> SignerKind:
    """:func:`classify_signer`'s order for a subject with only a common name (no QC type,
    person attributes, UID or O), with the former expression for the organisation words;
    since f4, a name shaped like a person's and written with Vietnamese marks names an
    organisation only when it starts with an organisation word, one of :data:`_F4_MARKED`
    with the organisation's marks ("Phạm Bá Sở", "Vũ Văn Phong" are people: the former
    expression made them organisations); since rv2, also when it starts with one of
    :data:`_RV2_HEADS` ("Cảng Vụ Hàng Hải", "Tỉnh Đoàn Quảng Ngãi": f4 made them people), and
    a person when it starts with "Đoàn Thị"/"Đoàn Văn"; "Doãn" needs Đoàn's marks (rv2); and
    only a name starting with a surname (rules._SURNAMES) is read so: any other start is an
    organisation's, as the former expression read it ("Nhà Xuất Bản Tư Pháp")."""
    cn = subject["common_name"].strip()
    folded = rules.fold(cn)
    if cn and _MAIN_ORG_RE.search(folded):
        if cn.isascii() or not rules._looks_like_person(unicodedata.normalize("NFC", cn)):
            return SignerKind.ORGANISATION
        marked = " ".join(unicodedata.normalize("NFC", cn).lower().split())
        if any(re.match(re.escape(head) + r"(\s|$)", marked) for head in _RV2_HEADS):
            return SignerKind.ORGANISATION
        if any(re.match(re.escape(head) + r"\s", marked) for head in _RV2_PERSON_HEADS):
            return SignerKind.PERSONAL
        if marked.split(" ", 1)[0] not in rules._SURNAMES:  # as the former expression read it
            return SignerKind.ORGANISATION
        for word in (w.strip() for w in _MAIN_ORG_WORDS):
            if re.match(re.escape(word) + r"(\s|$|[,.])", folded):
                own = {**_F4_MARKED, **_RV2_MARKED}.get(word)
                if own is None or re.match(re.escape(own) + r"(\s|$)", marked):
                    return SignerKind.ORGANISATION
    if cn and rules._looks_like_person(cn):
        return SignerKind.PERSONAL
    return SignerKind.UNKNOWN


def test_qc_type_overrides_the_name() -> None:
    assert classify_signer({"common_name": "Nguyễn Văn A"}, ["0.4.0.1862.1.6.2"]) is (
        SignerKind.ORGANISATION)


@pytest.mark.parametrize(
    ("kinds", "ok", "personal", "organisation"),
    [
        ([SignerKind.PERSONAL, SignerKind.ORGANISATION], True, True, True),
        ([SignerKind.ORGANISATION], False, False, True),
        ([SignerKind.PERSONAL], False, True, False),
        ([SignerKind.ORGANISATION, SignerKind.PERSONAL], False, True, True),
        ([SignerKind.PERSONAL, SignerKind.ORGANISATION, SignerKind.ORGANISATION], True, True, True),
        ([], False, False, False),
    ],
)
def test_nd30_needs_person_then_agency(
    kinds: list[SignerKind], ok: bool, personal: bool, organisation: bool
) -> None:
    check = nd30_check(kinds)
    assert (check.ok, check.has_personal, check.has_organisation) == (ok, personal, organisation)
    assert "Điều" in check.message


def test_evaluation_rule() -> None:
    passed = Verdict(Indication.TOTAL_PASSED, None, "ok")
    failed = Verdict(Indication.TOTAL_FAILED, "HASH_FAILURE", "bad")
    named = Verdict(Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", "thiếu gốc")
    unnamed = Verdict(Indication.INDETERMINATE, None, "")
    none = Verdict(Indication.NO_SIGNATURE, None, "không ký")
    assert expected_class("valid (all signatures intact ...)") == "valid"
    assert rule_violation("tampered", passed) and rule_violation("invalid", passed)
    assert rule_violation("mixed", passed)
    assert rule_violation("tampered", named) is None
    assert rule_violation("valid", failed) and rule_violation("valid", unnamed)
    assert rule_violation("valid-but-untrusted-offline", named) is None
    assert rule_violation("unsigned", none) is None and rule_violation("unsigned", failed)
    assert rule_violation("mixed/unknown", failed) is None


# --- which evidence proves a modification, which only leaves Kho undecided ----------------

EVIDENCE_TABLE = [
    (Evidence.HASH_MISMATCH, Indication.TOTAL_FAILED),
    (Evidence.DOCMDP_EXCEEDED, Indication.TOTAL_FAILED),
    (Evidence.FIELD_LOCK_BREACHED, Indication.TOTAL_FAILED),
    (Evidence.VIEW_DIFFERENCE, Indication.TOTAL_FAILED),
    (Evidence.APPEARANCE_REPLACED, Indication.TOTAL_FAILED),
    (Evidence.SIGNATURE_DICTIONARY_REPLACED, Indication.TOTAL_FAILED),
    (Evidence.UNEXPLAINED_CHANGE, Indication.INDETERMINATE),
    (Evidence.LENIENT_READING, Indication.INDETERMINATE),
    (Evidence.VIEWER_ERROR, Indication.INDETERMINATE),
    (Evidence.CHECK_FAILED, Indication.INDETERMINATE),
    (Evidence.SIGNATURE_HIDDEN, Indication.INDETERMINATE),
    (Evidence.DRAWN_OVER_CONTENT, Indication.INDETERMINATE),
    (Evidence.PICTURE_ONLY_SIGNATURE, Indication.INDETERMINATE),
    (Evidence.SIGNATURE_FIELD_SHARED, Indication.INDETERMINATE),
    (Evidence.PICTURE_ADDED, Indication.INDETERMINATE),
    (Evidence.NEED_APPEARANCES_ON, Indication.INDETERMINATE),
    (Evidence.APPENDED_BYTES, None),
]


def test_every_kind_of_evidence_is_weighed() -> None:
    assert {kind for kind, _ in EVIDENCE_TABLE} == set(Evidence)


@pytest.mark.parametrize(("evidence", "outcome"), EVIDENCE_TABLE)
def test_evidence_outcome(evidence: Evidence, outcome: Indication | None) -> None:
    assert evidence_outcome(evidence) is outcome


PASSED = Verdict(Indication.TOTAL_PASSED, None, "ok")
UNDECIDED = Verdict(Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", "no anchor")
FAILED = Verdict(Indication.TOTAL_FAILED, "HASH_FAILURE", "hash")
UNREADABLE = Verdict(Indication.INDETERMINATE, "SIGNED_DATA_NOT_FOUND", "unreadable")


@pytest.mark.parametrize(
    ("before", "facts", "after", "reason"),
    [
        # proof of modification fails the file whatever the signatures concluded
        (PASSED, DocumentFacts(view_difference="trang 2"), Indication.TOTAL_FAILED, "trang 2"),
        (UNDECIDED, DocumentFacts(appearance_replaced=("trường A",)), Indication.TOTAL_FAILED,
         "thay đối tượng sau khi ký"),
        (UNREADABLE, DocumentFacts(signature_dictionary_replaced=("x",)),
         Indication.TOTAL_FAILED, "Từ điển chữ ký không nhất quán"),
        # doubt withholds a pass, never relaxes a failure nor replaces another doubt
        (PASSED, DocumentFacts(recovery_problems=("xref",)), Indication.INDETERMINATE, "xref"),
        (PASSED, DocumentFacts(viewer_error="pdfium"), Indication.INDETERMINATE, "pdfium"),
        (PASSED, DocumentFacts(picture_only_signatures=("Dau (trang 1)",)),
         Indication.INDETERMINATE, "Dau (trang 1)"),
        (PASSED, DocumentFacts(shared_signatures=(("Sig2", "Sig1"),)),
         Indication.INDETERMINATE, "Sig2 dùng chữ ký của Sig1"),
        (PASSED, DocumentFacts(pictures_added=("Stamp (trang 2)",)),
         Indication.INDETERMINATE, "Stamp (trang 2)"),
        (FAILED, DocumentFacts(pictures_added=("Stamp (trang 2)",)), Indication.TOTAL_FAILED,
         "hash"),
        (PASSED, DocumentFacts(need_appearances_on=True), Indication.INDETERMINATE,
         "/NeedAppearances"),
        (UNDECIDED, DocumentFacts(recovery_problems=("xref",)), Indication.INDETERMINATE,
         "no anchor"),
        (FAILED, DocumentFacts(recovery_problems=("xref",), view_difference="trang 1"),
         Indication.TOTAL_FAILED, "hash"),
        # bytes after %%EOF are reported only
        (PASSED, DocumentFacts(appended_bytes=7), Indication.TOTAL_PASSED, "ok"),
        # signed revisions in the bytes that the final revision no longer lists: not unsigned
        (Verdict(Indication.NO_SIGNATURE, None, "none"), DocumentFacts(hidden_signatures=2),
         Indication.INDETERMINATE, "không còn chữ ký nào"),
        # a comment after signing drawn over the signed content: doubt, and the pages named
        (PASSED, DocumentFacts(drawn_over_pages=(1, 3)), Indication.INDETERMINATE,
         "đè lên nội dung đã ký ở trang 1, 3"),
        (FAILED, DocumentFacts(drawn_over_pages=(1,)), Indication.TOTAL_FAILED, "hash"),
    ],
)
def test_document_verdict_weighs_evidence(
    before: Verdict, facts: DocumentFacts, after: Indication, reason: str
) -> None:
    verdict, findings = document_verdict(before, facts)
    assert verdict.indication is after
    assert reason in verdict.explanation
    assert len(findings) == len(document_evidence(facts))
    if after is Indication.TOTAL_FAILED and before.indication is not Indication.TOTAL_FAILED:
        assert verdict.sub_indication == "FORMAT_FAILURE"


def test_annotations_under_docmdp_are_named() -> None:
    passed, notes = signature_verdict(with_(docmdp_permission=3, modification_level="ANNOTATIONS"))
    assert passed.indication is Indication.TOTAL_PASSED
    assert any("có chú thích thêm sau khi ký" in n for n in notes)
    failed, _ = signature_verdict(with_(docmdp_permission=1, modification_level="ANNOTATIONS"))
    assert (failed.indication, failed.sub_indication) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")
    assert "DocMDP mức 1" in failed.explanation and "chú thích" in failed.explanation


@pytest.mark.parametrize("level", [1, 2])
def test_an_unexplained_change_known_to_add_annotations_exceeds_docmdp(level: int) -> None:
    """A link added after P=1/P=2: no rule clears it, yet DSS's annotation class is proven."""
    facts = with_(docmdp_permission=level, modifications_explained=False, least_level="ANNOTATIONS")
    verdict, findings = signature_verdict(facts)
    assert (verdict.indication, verdict.sub_indication) == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")
    assert f"DocMDP mức {level}" in verdict.explanation and "chú thích" in verdict.explanation
    assert any("không xác định được" in f for f in findings)  # the unexplained change is named


@pytest.mark.parametrize(
    ("docmdp", "least"), [(3, "ANNOTATIONS"), (None, "ANNOTATIONS"), (1, None)]
)
def test_an_unexplained_change_stays_undecided_where_nothing_is_proven(
    docmdp: int | None, least: str | None
) -> None:
    facts = with_(docmdp_permission=docmdp, modifications_explained=False, least_level=least)
    verdict, _ = signature_verdict(facts)
    assert (verdict.indication, verdict.sub_indication) == (
        Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE"
    )


def test_an_explained_level_is_not_overridden_by_the_least_level() -> None:
    facts = with_(docmdp_permission=2, modification_level="FORM_FILLING", least_level="ANNOTATIONS")
    assert signature_verdict(facts)[0].indication is Indication.TOTAL_PASSED
