"""Pure verdict rules: facts about a signature -> ETSI AdES indication + Vietnamese text.

No PDF, no pyHanko objects: everything here takes plain values so it can be tested alone.
ETSI EN 319 102-1 clause 5.1.3 names the indications and sub-indications used here.

Order of the checks for one signature (the first that applies decides the verdict, all that
apply are listed as findings):

1. the signature cannot be processed (broken CMS, unsupported /SubFilter) -> TOTAL-FAILED/FORMAT_FAILURE
2. digest over /ByteRange differs                     -> TOTAL-FAILED/HASH_FAILURE
3. signature value does not verify                    -> TOTAL-FAILED/SIG_CRYPTO_FAILURE
4. /ByteRange does not cover its revision             -> TOTAL-FAILED/FORMAT_FAILURE
5. a certification signature's DocMDP lock is broken, or a form field the signature
   locks (FieldMDP) was changed after signing          -> TOTAL-FAILED/FORMAT_FAILURE
6. the certificate path failed (revoked, not yet valid) -> TOTAL-FAILED/<pyHanko sub-indication>;
   revoked before the time a trusted signature timestamp proves  -> TOTAL-FAILED/REVOKED
7. later revisions hold changes that could not be shown to be permitted
                                                      -> INDETERMINATE/SIG_CONSTRAINTS_FAILURE
8. no path to a trust anchor, expired, no revocation... -> INDETERMINATE/<pyHanko sub-indication>
9. weak digest algorithm (SHA-1, MD5)                 -> INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE
   (unless :class:`CryptoPolicy` still accepts SHA-1 for an organisation seal proven to
   exist before its cut-off date)
otherwise TOTAL-PASSED.

A missing trust anchor is never a failure: it is INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND.
Changes that pyHanko's whitelist cannot explain are INDETERMINATE (a reader must look), not
TOTAL-FAILED, because legitimate tools make changes the whitelist does not know (choice-field
/I arrays, rewritten XMP metadata); the văn thư sees the reason and decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from ingest.signatures.model import (
    Indication,
    Nd30Check,
    SignatureType,
    SignerKind,
    Verdict,
)
from kho.textkey import describe, lookalike_characters

WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})
ACCEPTED_COVERAGE = frozenset({"ENTIRE_FILE", "ENTIRE_REVISION"})

INDICATION_VI: dict[Indication, str] = {
    Indication.TOTAL_PASSED: "Hợp lệ",
    Indication.TOTAL_FAILED: "Không hợp lệ",
    Indication.INDETERMINATE: "Chưa xác định được",
    Indication.NO_SIGNATURE: "Không có chữ ký số",
}

def impersonation_text(issuer: str) -> str:
    """Why a chain failed when a certificate names a trusted CA its key did not sign."""
    return (
        f"chứng thư ghi do “{issuer}” cấp nhưng chữ ký trên chứng thư không phải của khóa "
        f"“{issuer}” trong kho tin cậy: chứng thư giả danh đơn vị cấp hoặc đã bị sửa"
    )


# Vietnamese text for the AdES sub-indications pyHanko reports on the certificate path.
TRUST_PROBLEM_VI: dict[str, str] = {
    "NO_CERTIFICATE_CHAIN_FOUND": (
        "không xây dựng được chuỗi chứng thư số tới một chứng thư gốc trong kho tin cậy "
        "(thiếu chứng thư gốc hoặc chứng thư trung gian)"
    ),
    "CHAIN_CONSTRAINTS_FAILURE": (
        "chuỗi chứng thư số không đáp ứng ràng buộc (ví dụ chứng thư tự ký, sai mục đích sử dụng "
        "khóa hoặc chứng thư CA không hợp lệ)"
    ),
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "lỗi khi kiểm tra chuỗi chứng thư số",
    "CRYPTO_CONSTRAINTS_FAILURE": "thuật toán mật mã trong chuỗi chứng thư không còn được chấp nhận",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": (
        "thuật toán mật mã không còn được chấp nhận và không có bằng chứng tồn tại trước đó"
    ),
    "EXPIRED": "chứng thư số đã hết hạn",
    "NOT_YET_VALID": "chứng thư số chưa đến thời hạn có hiệu lực",
    "OUT_OF_BOUNDS_NO_POE": (
        "thời điểm kiểm tra nằm ngoài thời hạn hiệu lực của chứng thư và không có dấu thời gian "
        "đáng tin cậy chứng minh chữ ký được tạo trong thời hạn"
    ),
    "OUT_OF_BOUNDS_NOT_REVOKED": "chứng thư số đã hết hạn (không bị thu hồi)",
    "REVOKED": "chứng thư số đã bị thu hồi",
    "REVOKED_NO_POE": "chứng thư số đã bị thu hồi và không có bằng chứng chữ ký được tạo trước đó",
    "REVOKED_CA_NO_POE": "chứng thư của tổ chức cấp đã bị thu hồi",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": "thông tin thu hồi không còn phù hợp với thời điểm kiểm tra",
    "TRY_LATER": (
        "không có thông tin trạng thái thu hồi (OCSP/CRL) và chế độ ngoại tuyến không cho phép "
        "tải về"
    ),
    "NO_SIGNING_CERTIFICATE_FOUND": "không tìm thấy chứng thư số của người ký",
    "SIG_CONSTRAINTS_FAILURE": "chữ ký không đáp ứng ràng buộc của chính sách kiểm tra",
    "NO_POE": "không có bằng chứng tồn tại cần thiết",
    "GENERIC": "lỗi không xác định khi kiểm tra chứng thư số",
    "TIMESTAMP_ORDER_FAILURE": (
        "dấu thời gian ghi một thời điểm sau thời điểm kiểm tra (thời điểm chưa tới: đồng hồ của "
        "đơn vị cấp dấu thời gian hoặc của máy chủ kiểm tra bị sai)"
    ),
}


@dataclass(frozen=True)
class CryptoPolicy:
    """Which weak digest algorithms are still accepted, and until when.

    As DSS's cryptographic constraints give each algorithm an expiry date and accept a
    signature whose existence is proven before it, ``sha1_seals_until`` accepts SHA-1 in
    *organisation seals* (chữ ký số của cơ quan, tổ chức: many VGCA seal certificates and
    signing tools still use it) when the signature's best known time - a trusted signature
    timestamp, otherwise the validation time - is before that instant. ``None`` (the default,
    ``KHO_SIGNATURE_SHA1_SEALS_UNTIL`` empty) accepts SHA-1 nowhere. Personal signatures and
    MD5/MD2 are never accepted."""

    sha1_seals_until: datetime | None = None

    def accepts(self, digest: str, kind: SignerKind, proven_at: datetime | None) -> bool:
        return (
            digest == "sha1"
            and kind is SignerKind.ORGANISATION
            and self.sha1_seals_until is not None
            and proven_at is not None
            and proven_at < self.sha1_seals_until
        )


SAFE_CRYPTO = CryptoPolicy()


@dataclass(frozen=True)
class TimestampFacts:
    """What pyHanko found about a signature's timestamp, as plain values."""

    intact: bool
    valid: bool
    trust_problem: str | None  # None when the TSA chains to an anchor


@dataclass(frozen=True)
class Revocation:
    """A certificate of the signer's path listed as revoked by a CRL of the trust list."""

    date: datetime  # the CRL entry's revocationDate
    reason: str  # asn1crypto's CRLReason name; "unspecified" when the entry gives none
    ca: bool  # a CA certificate of the path, not the signer's own
    issuer: str  # the CRL's issuer, as people read it


REVOCATION_REASON_VI = {
    "unspecified": "không nêu lý do",
    "key_compromise": "lộ khóa bí mật",
    "ca_compromise": "tổ chức cấp bị lộ khóa",
    "affiliation_changed": "thay đổi thông tin người được cấp",
    "superseded": "đã được thay thế bằng chứng thư khác",
    "cessation_of_operation": "ngừng sử dụng",
    "certificate_hold": "tạm dừng",
    "privilege_withdrawn": "bị rút quyền",
    "aa_compromise": "tổ chức cấp thuộc tính bị lộ khóa",
}


@dataclass(frozen=True)
class SignatureFacts:
    """What pyHanko found about one signature, as plain values."""

    type: SignatureType = SignatureType.SIGNATURE
    format_error: str | None = None  # why the signature could not be processed at all
    intact: bool = False
    valid: bool = False
    coverage: str | None = None
    modification_level: str | None = None  # None with modifications_explained=False: unknown
    modifications_explained: bool = True
    modification_detail: str | None = None
    # the least level an unexplained change is known to reach ("ANNOTATIONS": a revision
    # after signing adds an annotation other than a form field, as DSS counts annotation
    # changes), so a DocMDP level that forbids it is proven exceeded even unexplained
    least_level: str | None = None
    docmdp_permission: int | None = None
    # the form field the signature locks (FieldMDP, ISO 32000-2 12.8.2.4) that a revision
    # after signing changed, as pyHanko's difference analysis found it; None when none did
    locked_field_changed: str | None = None
    trust_problem: str | None = None  # AdES sub-indication name, None when trusted
    trust_problem_is_failure: bool = False  # pyHanko's sub-indication is a TOTAL-FAILED one
    impersonated_issuer: str | None = None  # a trusted CA named as issuer whose key did not sign
    digest_algorithm: str | None = None
    timestamp: TimestampFacts | None = None
    revoked_before_timestamp: bool = False  # a trusted timestamp postdates the revocation
    # a certificate of the path revoked by a CRL of the trust list (kho trust add-crl)
    listed_revocation: Revocation | None = None
    signer_kind: SignerKind = SignerKind.UNKNOWN
    best_signature_time: datetime | None = None  # trusted timestamp, else validation time
    certificate_valid_from: datetime | None = None  # the signer certificate's notBefore
    claimed_time: datetime | None = None  # the signing time the signer claims (signingTime, /M)
    # the signer certificate's extended key usages (asn1crypto names or dotted OIDs); None
    # when it has no such extension
    key_purposes: tuple[str, ...] | None = None
    # the signer certificate's subject attributes ({asn1crypto name: text}), for
    # :func:`name_problems`
    signer_subject: Mapping[str, str] | None = None


_LEVEL_RANK = {"NONE": 0, "LTA_UPDATES": 1, "FORM_FILLING": 2, "ANNOTATIONS": 3, "OTHER": 4}
# DocMDP /P -> highest modification level it permits (ISO 32000-2, 12.8.2.2).
_DOCMDP_MAX = {1: 1, 2: 2, 3: 3}


def docmdp_violated(permission: int | None, level: str | None) -> bool:
    """A certification signature's DocMDP permission is exceeded by a *classified* change.

    LTA updates (DSS, document timestamps) are allowed at every level, as PAdES requires.
    """
    if permission is None or level is None:
        return False
    return _LEVEL_RANK[level] > _DOCMDP_MAX.get(permission, 3)


# Extended key usages (RFC 5280 4.2.1.12) that dedicate a certificate to something other than
# signing documents: a TLS server, code, time-stamps, OCSP responses, IPsec. A certificate
# whose EKU lists only these may not sign a document (pyHanko does not check EKU for
# signers); any other purpose (client auth, e-mail, document signing, a vendor's OID,
# anyExtendedKeyUsage) keeps it usable, as do certificates without the extension.
OTHER_PURPOSES = frozenset({
    "server_auth", "code_signing", "time_stamping", "ocsp_signing",
    "ipsec_end_system", "ipsec_tunnel", "ipsec_user", "ipsec_ike",
})
_PURPOSE_VI = {
    "server_auth": "xác thực máy chủ TLS",
    "code_signing": "ký mã chương trình",
    "time_stamping": "cấp dấu thời gian",
    "ocsp_signing": "ký phản hồi OCSP",
    "ipsec_end_system": "IPsec",
    "ipsec_tunnel": "IPsec",
    "ipsec_user": "IPsec",
    "ipsec_ike": "IPsec",
}


# Subject attributes people read as the signer's identity.
_NAME_FIELDS_VI = {
    "common_name": "tên", "organization_name": "tổ chức", "organizational_unit_name": "đơn vị",
    "title": "chức danh", "given_name": "tên", "surname": "họ", "locality_name": "địa phương",
}


@lru_cache(maxsize=4096)
def _letter_script(char: str) -> str:
    """The script of a character: the first word of its Unicode name (a pure function of one
    character, asked for every letter of every name of every certificate)."""
    return unicodedata.name(char, "?").split(" ")[0]


def name_problems(subject: Mapping[str, str]) -> tuple[str, ...]:
    """What makes a certificate's name look like another one: text not in Unicode NFC (an
    NFD "Nguyễn" displays like the NFC one but is another string), invisible or control
    characters (zero-width, bidi overrides), or letters of two scripts in one value (a
    Cyrillic "А" in a Latin name). No real Vietnamese certificate has any of these (the
    corpus has none); a trusted chain does not make such a name safe to show."""
    problems: list[str] = []
    for key, label in _NAME_FIELDS_VI.items():
        text = subject.get(key)
        if not text:
            continue
        found = _value_problems(text)
        if found:
            shown = shown_name(text)
            problems.extend(f"{label} “{shown}” {problem}" for problem in found)
    return tuple(problems)


@lru_cache(maxsize=1024)
def _value_problems(text: str) -> tuple[str, ...]:
    """What :func:`name_problems` finds in one value, each without the value's name in front
    (the shown form is made only for a value that has a problem: most have none). A pure
    function of the string, remembered: one agency's documents carry the same few signer
    names, each checked character by character (~0.1 ms a value; bench/NOTES-m17.md)."""
    found: list[str] = []
    if unicodedata.normalize("NFC", text) != text:
        found.append("không ở dạng Unicode chuẩn NFC (hiển thị giống nhưng khác với tên viết chuẩn)")
    if any(unicodedata.category(c).startswith("C") for c in text):
        found.append("chứa ký tự ẩn hoặc ký tự điều khiển")
    latin = _latin_lookalikes(text)
    if latin:
        found.append(f"có chữ cái trông giống chữ tiếng Việt nhưng là ký tự khác ({describe(latin)})")
    scripts = {_letter_script(c) for c in text if c.isalpha()}
    if len(scripts) > 1:
        found.append(
            f"trộn chữ của nhiều hệ chữ viết ({', '.join(sorted(scripts))}): ký tự trông "
            "giống nhau nhưng khác nhau"
        )
    return tuple(found)


def _latin_lookalikes(text: str) -> list[str]:
    """Latin letters drawn like Vietnamese ones (:func:`kho.textkey.lookalike_characters`):
    the eth "Ð" or the African "Ɖ" for "Đ", a dotless "ı" for "i". One script, NFC, visible:
    the other checks of :func:`name_problems` do not see them."""
    return [c for c in lookalike_characters(text) if _letter_script(c) == "LATIN"]


def shown_name(text: str) -> str:
    """``text`` for people, with what would hide a difference made visible: invisible and
    control characters, and letters outside the text's main script, as ``\\uXXXX``; text
    that is not NFC is shown decomposed-escaped the same way (its combining marks)."""
    letters = [_letter_script(c) for c in text if c.isalpha()]
    main = max(set(letters), key=letters.count) if letters else None
    nfc = unicodedata.normalize("NFC", text) == text
    latin = set(_latin_lookalikes(text))
    out = []
    for char in text:
        category = unicodedata.category(char)
        odd = (
            category.startswith("C")
            or (char.isalpha() and _letter_script(char) != main)
            or (not nfc and category.startswith("M"))
            or char in latin
        )
        out.append(f"\\u{ord(char):04X}" if odd else char)
    return "".join(out)


def other_purpose_only(purposes: Iterable[str] | None) -> bool:
    """The certificate's extended key usage lists purposes, all of them other than signing
    documents (:data:`OTHER_PURPOSES`)."""
    listed = set(purposes or ())
    return bool(listed) and listed <= OTHER_PURPOSES


def byte_range_problem(byte_range: Sequence[object], size: int) -> str | None:
    """Why a signature's ``/ByteRange`` cannot be a signed range of a file of ``size`` bytes,
    judged before any byte is hashed (pure): its ranges, each cut at the end of the file, add
    up to more bytes than the file holds, so some are read more than once. A signature covers
    each byte of its revision once (all but its own /Contents); repeating the whole file in
    100,000 pairs made one 1.5 MB PDF cost a worker its 120 s limit in hashing, growing with
    the square of the file. ``None`` for anything else, malformed values included: pyHanko
    judges those as before."""
    values = list(byte_range)
    if len(values) % 2 or any(type(v) is not int or v < 0 for v in values):
        return None
    covered = sum(
        max(0, min(values[i] + values[i + 1], size) - min(values[i], size))
        for i in range(0, len(values), 2)
    )
    if covered <= size:
        return None
    return (
        f"/ByteRange gồm {len(values) // 2} đoạn, tổng cộng {covered} byte, nhiều hơn cả tệp "
        f"({size} byte): các đoạn chồng lên nhau, không phải vùng dữ liệu được ký hợp lệ"
    )


def timestamp_problem(
    problem: str | None,
    tsa_valid_from: datetime | None,
    time: datetime | None,
    validated_at: datetime | None = None,
    tsa_revoked: Revocation | None = None,
) -> str | None:
    """A time-stamp token's trust problem: pyHanko's, else NOT_YET_VALID when the token
    states a time before its TSA certificate was issued. pyHanko checks the TSA certificate
    at the validation time only, so a back-dated token (a TSA certificate of 2026-09 stamping
    2026-03) was trusted, and proved an expired signer certificate valid at that time.
    Else TIMESTAMP_ORDER_FAILURE when the token states a time more than
    :data:`CLAIMED_TIME_SLACK` after ``validated_at`` (a TSA's clock ahead, or the
    validator's behind): a time that has not come proves nothing, and it moved the check of a
    signer certificate not yet valid to that time (rv49).
    Else REVOKED when a CRL of the trust list revokes the TSA's certificate (or its CA's):
    dated at or before the token's time, or for a reason that says the key may be in other
    hands (then any token may be back-dated with it), rv52."""
    if problem is not None:
        return problem
    if tsa_revoked is not None and time is not None and (
        tsa_revoked.reason in KEY_IN_OTHER_HANDS or _utc(time) >= _utc(tsa_revoked.date)
    ):
        return "REVOKED"
    if time is not None and tsa_valid_from is not None and time < tsa_valid_from:
        return "NOT_YET_VALID"
    if time is not None and validated_at is not None and _utc(time) > _utc(validated_at) + CLAIMED_TIME_SLACK:
        return "TIMESTAMP_ORDER_FAILURE"
    return None


KEY_IN_OTHER_HANDS = frozenset({"key_compromise", "ca_compromise", "aa_compromise", "unspecified"})
"""CRL reasons (asn1crypto's names) after which a key's past signatures prove nothing by
themselves: whoever holds the key can date a token before the revocation."""


def _utc(moment: datetime) -> datetime:
    """``moment`` with UTC for a time written without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def signed_before_certificate(facts: SignatureFacts) -> bool:
    """The best signature time (a trusted signature timestamp) is before the signer
    certificate's notBefore: the signature existed before its certificate was issued, which
    ETSI EN 319 102-1 (5.5.4, best-signature-time before the issuance date) fails with
    NOT_YET_VALID. pyHanko checks the certificate at the validation time only, where it may
    well be valid."""
    return (
        facts.best_signature_time is not None
        and facts.certificate_valid_from is not None
        and facts.best_signature_time < facts.certificate_valid_from
    )


CLAIMED_TIME_SLACK = timedelta(days=1)
"""How far a claimed signing time may lie outside what is possible before it is taken for a
false claim: clock skew, and local time written as UTC (the Vietnamese signing tools in the
corpus write UTC+7 local time as UTC, 7 hours after their time-stamps)."""


def claimed_time_problem(
    claimed: datetime | None, valid_from: datetime | None, known_to_exist: datetime | None
) -> str | None:
    """Why the signing time the signer claims (``claimed``: CMS signingTime or /M, shown to
    people as the time of signing) cannot be true (pure): more than
    :data:`CLAIMED_TIME_SLACK` before the signer certificate's notBefore (``valid_from``: a
    back-dated signature, made with a certificate that did not exist yet), or more than that
    after ``known_to_exist`` (the validation time of a signature without a trusted
    time-stamp: a time in the future; a trusted time-stamp's own time is shown beside the
    claim, so it is not passed). ``None`` when it may be true or is unknown.
    Proven times are judged by :func:`signed_before_certificate`; this is only a claim, so
    doubt, not proof."""
    if claimed is None:
        return None
    # a time without a zone (a /M or signingTime written so) is read as UTC
    claimed, valid_from, known_to_exist = (
        t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t
        for t in (claimed, valid_from, known_to_exist)
    )
    if valid_from is not None and claimed < valid_from - CLAIMED_TIME_SLACK:
        return (
            f"Thời điểm ký do người ký tự khai ({_utc_text(claimed)}) trước khi chứng thư số của "
            f"người ký có hiệu lực ({_utc_text(valid_from)}): thời điểm ký này không thể đúng "
            "(có thể đã ký lùi ngày)."
        )
    if known_to_exist is not None and claimed > known_to_exist + CLAIMED_TIME_SLACK:
        return (
            f"Thời điểm ký do người ký tự khai ({_utc_text(claimed)}) sau thời điểm chữ ký chắc "
            f"chắn đã tồn tại ({_utc_text(known_to_exist)}, lúc kiểm tra): thời điểm ký này "
            "không thể đúng."
        )
    return None


def certificate_identifies_signer(facts: SignatureFacts, *, seal: bool = False) -> bool:
    """Whether the signer certificate may say who signed (pure; the one rule of a report's
    ``trusted``, which decides whether a signature names the signer and the sending agency,
    ``ingest.pipeline.names_its_signer``): a path to a trust anchor (pyHanko's check) *and*
    none of Kho's own findings against the certificate: a name that displays like another
    (:func:`name_problems`), a purpose other than signing documents
    (:func:`other_purpose_only`: a TLS server's certificate with the agency's O does not seal
    its documents), a signature older than the certificate (:func:`signed_before_certificate`),
    a revocation before the proven signing time. Each of these already withholds the pass; the
    name must not count where the verdict says the certificate does not identify anyone.

    Except a name problem of an agency's seal (``seal``): the agency it names is compared with
    the typed sender by ``repository.registration.seal_names_sender``, which never takes a name
    written with other characters for the agency and tells the văn thư it is a look-alike
    (METADATA_MISMATCH with ``look_alike``); not naming it let the document in with no question
    asked (``test_incoming_metadata_mismatch``). A person's name has no such check (the signer
    gate of a văn bản đi compares names as read), so there a name problem names nobody."""
    subject = facts.signer_subject if facts.type is SignatureType.SIGNATURE else None
    return (
        facts.trust_problem is None
        and not facts.revoked_before_timestamp
        and listed_revocation_problem(facts) is None
        and not signed_before_certificate(facts)
        and not (facts.type is SignatureType.SIGNATURE and other_purpose_only(facts.key_purposes))
        and (seal or not name_problems(subject or {}))
    )


def listed_revocation_problem(facts: SignatureFacts) -> tuple[str, str] | None:
    """What a revocation recorded by a CRL of the trust list does to a signature: the
    sub-indication and its text, or None when it changes nothing.

    The time the signature is proven to exist decides (ETSI EN 319 102-1, 5.2.6 and 5.6.2.4):
    a trusted time-stamp before the revocation keeps the signature valid (it existed while
    the certificate was good); one at or after it, REVOKED (TOTAL-FAILED). Without a trusted
    time-stamp the time the signer claims is all there is: at or after the revocation, the
    signer says they signed with a revoked certificate, REVOKED; before it (or no claim),
    nothing proves it, REVOKED_NO_POE (INDETERMINATE), unless the revocation is dated after
    the validation time: the signature exists at that time, before the revocation, so it
    changes nothing yet (rv52; a note says so). A revocation pyHanko already found
    (in the document's own revocation data) is pyHanko's verdict and not judged again."""
    revocation = facts.listed_revocation
    if (
        revocation is None
        or facts.type is not SignatureType.SIGNATURE
        or facts.revoked_before_timestamp
        or (facts.trust_problem or "").startswith("REVOKED")
    ):
        return None
    whose = "của tổ chức cấp chứng thư cho người ký" if revocation.ca else "của người ký"
    reason = REVOCATION_REASON_VI.get(revocation.reason, revocation.reason)
    what = (
        f"Chứng thư số {whose} đã bị thu hồi lúc {_utc_text(revocation.date)} (lý do: {reason}; "
        f"theo danh sách thu hồi của {revocation.issuer} trong danh sách tin cậy)"
    )
    ts = facts.timestamp
    if ts is not None and ts.intact and ts.valid and ts.trust_problem is None:
        proven = facts.best_signature_time
        if proven is not None and proven < revocation.date:
            return None
        return (
            "REVOKED",
            f"{what}, trước thời điểm ký được dấu thời gian tin cậy chứng minh ({_utc_text(proven)}).",
        )
    claimed = facts.claimed_time
    if claimed is not None and claimed >= revocation.date:
        return "REVOKED", f"{what}, trước thời điểm ký do người ký tự khai ({_utc_text(claimed)})."
    checked = facts.best_signature_time  # without a trusted time-stamp: the validation time
    if checked is not None and checked < revocation.date:
        return None  # revoked after the check (a date the CA set ahead): the signature exists now
    return (
        "REVOKED_NO_POE",
        f"{what}; chữ ký không có dấu thời gian tin cậy chứng minh được tạo trước khi thu hồi.",
    )


def listed_revocation_note(facts: SignatureFacts) -> str | None:
    """The note of a revocation by the trust list's CRL that a trusted time-stamp before it
    leaves without effect (None otherwise)."""
    revocation = facts.listed_revocation
    if revocation is None or facts.type is not SignatureType.SIGNATURE:
        return None
    if listed_revocation_problem(facts) is not None or facts.revoked_before_timestamp:
        return None
    if (facts.trust_problem or "").startswith("REVOKED"):
        return None
    reason = REVOCATION_REASON_VI.get(revocation.reason, revocation.reason)
    ts = facts.timestamp
    if ts is None or not (ts.intact and ts.valid and ts.trust_problem is None):
        return (
            f"Danh sách thu hồi ghi chứng thư số bị thu hồi lúc {_utc_text(revocation.date)} (lý do: "
            f"{reason}), sau thời điểm kiểm tra ({_utc_text(facts.best_signature_time)}): tại thời "
            "điểm kiểm tra chứng thư chưa bị thu hồi."
        )
    return (
        f"Chứng thư số bị thu hồi lúc {_utc_text(revocation.date)} (lý do: {reason}), sau thời "
        f"điểm ký được dấu thời gian tin cậy chứng minh ({_utc_text(facts.best_signature_time)}): "
        "chữ ký đã được tạo khi chứng thư còn hiệu lực nên vẫn có giá trị."
    )


def _utc_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%H:%M:%S %d/%m/%Y UTC")


def known_level(facts: SignatureFacts) -> str | None:
    """The modification level the DocMDP permission is compared with: the classified level,
    or for a change no rule explains the least level it is known to reach (if any)."""
    if facts.modifications_explained:
        return facts.modification_level
    return facts.least_level


def signature_verdict(
    facts: SignatureFacts, policy: CryptoPolicy = SAFE_CRYPTO
) -> tuple[Verdict, tuple[str, ...]]:
    """The ETSI verdict of one signature and every finding, most serious first."""
    what = "Dấu thời gian tài liệu" if facts.type is SignatureType.DOCUMENT_TIMESTAMP else "Chữ ký"
    failed: list[tuple[str, str]] = []
    indeterminate: list[tuple[str, str]] = []
    notes: list[str] = []

    if facts.format_error is not None:
        failed.append(
            (
                "FORMAT_FAILURE",
                f"{what} không đúng định dạng nên không kiểm tra được ({facts.format_error}).",
            )
        )
    else:
        if not facts.intact:
            failed.append(
                (
                    "HASH_FAILURE",
                    f"{what} không còn toàn vẹn: nội dung được ký đã bị thay đổi sau khi ký "
                    "(giá trị băm không khớp).",
                )
            )
        elif not facts.valid:
            failed.append(
                (
                    "SIG_CRYPTO_FAILURE",
                    f"{what} không đúng về mật mã: giá trị chữ ký không khớp với khóa công khai "
                    "trong chứng thư số.",
                )
            )
        if facts.coverage is not None and facts.coverage not in ACCEPTED_COVERAGE:
            failed.append(
                (
                    "FORMAT_FAILURE",
                    f"Vùng dữ liệu được ký (/ByteRange) của {what.lower()} không bao phủ trọn "
                    "phiên bản tài liệu đã ký: phần không được ký có thể bị sửa.",
                )
            )
        if docmdp_violated(facts.docmdp_permission, known_level(facts)):
            _weigh(Evidence.DOCMDP_EXCEEDED, failed, indeterminate).append(
                (
                    "FORMAT_FAILURE",
                    "Tài liệu có chữ ký chứng nhận (DocMDP mức "
                    f"{facts.docmdp_permission}: {_DOCMDP_VI.get(facts.docmdp_permission, '')}) "
                    "nhưng đã bị thay đổi vượt mức cho phép sau khi ký"
                    f"{_LEVEL_VI.get(known_level(facts) or '', '')}.",
                )
            )
        if facts.locked_field_changed is not None:
            _weigh(Evidence.FIELD_LOCK_BREACHED, failed, indeterminate).append(
                (
                    "FORMAT_FAILURE",
                    f"Trường biểu mẫu {shown_name(facts.locked_field_changed)} đã bị khóa bởi "
                    "chữ ký (FieldMDP: người ký không cho phép thay đổi trường này sau khi ký) "
                    "nhưng đã bị thay đổi sau khi ký: tài liệu đã bị sửa trái với phạm vi thay "
                    "đổi mà người ký cho phép.",
                )
            )
        if signed_before_certificate(facts):
            # the best signature time is a trusted time-stamp's, else the validation time (no
            # token, or one that proves nothing): say which, not "a time-stamp proves" (rv49)
            proof = facts.timestamp
            by_token = (
                proof is not None and proof.intact and proof.valid and proof.trust_problem is None
            )
            existed = (
                "Dấu thời gian tin cậy chứng minh chữ ký được tạo lúc "
                f"{_utc_text(facts.best_signature_time)}"
                if by_token
                else f"Chữ ký đã tồn tại lúc kiểm tra ({_utc_text(facts.best_signature_time)})"
            )
            failed.append(
                (
                    "NOT_YET_VALID",
                    f"{existed}, trước khi chứng thư số của người ký "
                    f"có hiệu lực ({_utc_text(facts.certificate_valid_from)}): chữ ký không thể "
                    "được tạo hợp lệ bằng chứng thư này.",
                )
            )
        if facts.type is SignatureType.SIGNATURE:
            # the validation time bounds a claim; a trusted time-stamp is shown beside it
            ts = facts.timestamp
            stamped = ts is not None and ts.intact and ts.valid and ts.trust_problem is None
            claim = claimed_time_problem(
                facts.claimed_time,
                facts.certificate_valid_from,
                None if stamped else facts.best_signature_time,
            )
            if claim is not None:
                indeterminate.append(("SIG_CONSTRAINTS_FAILURE", claim))
        listed = listed_revocation_problem(facts)
        if listed is not None:
            (failed if listed[0] == "REVOKED" else indeterminate).append(listed)
        elif (note := listed_revocation_note(facts)) is not None:
            notes.append(note)
        if facts.revoked_before_timestamp:
            failed.append(
                (
                    "REVOKED",
                    "Chứng thư số đã bị thu hồi trước thời điểm ký được dấu thời gian tin cậy "
                    "chứng minh.",
                )
            )
        elif facts.trust_problem is not None:
            text = TRUST_PROBLEM_VI.get(facts.trust_problem, facts.trust_problem)
            if facts.impersonated_issuer:
                text = impersonation_text(facts.impersonated_issuer)
            entry = (facts.trust_problem, f"Chứng thư số: {text}.")
            (failed if facts.trust_problem_is_failure else indeterminate).append(entry)
        if (
            not facts.modifications_explained
            and facts.locked_field_changed is None  # explained: the lock's breach, above
            and facts.coverage in ACCEPTED_COVERAGE
        ):
            detail = f" Chi tiết: {facts.modification_detail}" if facts.modification_detail else ""
            _weigh(Evidence.UNEXPLAINED_CHANGE, failed, indeterminate).insert(
                0,
                (
                    "SIG_CONSTRAINTS_FAILURE",
                    "Tài liệu đã bị thay đổi sau khi ký và không xác định được đó là thay đổi "
                    "được phép (điền biểu mẫu, thêm chữ ký, dữ liệu xác thực dài hạn); cần "
                    f"đối chiếu nội dung với phiên bản đã ký.{detail}",
                ),
            )
        names = facts.signer_subject if facts.type is SignatureType.SIGNATURE else None
        for problem in name_problems(names or {}):
            indeterminate.append(("CHAIN_CONSTRAINTS_FAILURE", f"Chứng thư số: {problem}."))
        if facts.type is SignatureType.SIGNATURE and other_purpose_only(facts.key_purposes):
            names = ", ".join(
                _PURPOSE_VI.get(p, p) for p in facts.key_purposes or ()
            )
            indeterminate.append(
                (
                    "CHAIN_CONSTRAINTS_FAILURE",
                    "Chứng thư số của người ký chỉ được cấp cho mục đích khác (mục đích sử dụng "
                    f"khóa mở rộng: {names}), không phải để ký số văn bản.",
                )
            )
        digest = (facts.digest_algorithm or "").lower()
        if digest in WEAK_DIGESTS and policy.accepts(
            digest, facts.signer_kind, facts.best_signature_time
        ):
            until = policy.sha1_seals_until.date().isoformat()  # type: ignore[union-attr]
            notes.append(
                f"Chữ ký của cơ quan, tổ chức dùng thuật toán băm {digest.upper()}: được chấp nhận "
                f"theo chính sách mật mã của cơ quan (chữ ký có trước ngày {until}, "
                "KHO_SIGNATURE_SHA1_SEALS_UNTIL)."
            )
        elif digest in WEAK_DIGESTS:
            indeterminate.append(
                (
                    "CRYPTO_CONSTRAINTS_FAILURE",
                    f"{what} dùng thuật toán băm {digest.upper()} không còn an toàn "
                    "(có thể tạo xung đột), nên không thể khẳng định là hợp lệ.",
                )
            )
        if facts.modification_level in {"FORM_FILLING", "ANNOTATIONS", "LTA_UPDATES"}:
            notes.append(_modification_note(facts.modification_level))
        if facts.type is SignatureType.SIGNATURE:
            notes.extend(_timestamp_notes(facts.timestamp))

    findings = tuple(text for _, text in failed + indeterminate) + tuple(notes)
    if failed:
        sub, text = failed[0]
        return Verdict(Indication.TOTAL_FAILED, sub, text), findings
    if indeterminate:
        sub, text = indeterminate[0]
        return Verdict(Indication.INDETERMINATE, sub, text), findings
    return (
        Verdict(
            Indication.TOTAL_PASSED,
            None,
            f"{what} hợp lệ: toàn vẹn, đúng về mật mã và chứng thư số chuỗi tới chứng thư gốc "
            "tin cậy.",
        ),
        findings,
    )


_DOCMDP_VI = {
    1: "không cho phép thay đổi",
    2: "chỉ cho phép điền biểu mẫu và ký",
    3: "cho phép điền biểu mẫu, ký và thêm chú thích",
}
_LEVEL_VI = {
    "FORM_FILLING": " (điền biểu mẫu hoặc thêm chữ ký)",
    "ANNOTATIONS": " (có chú thích thêm sau khi ký)",
}


def _weigh(
    evidence: Evidence, failed: list[tuple[str, str]], indeterminate: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The list a finding of this kind belongs to, as :func:`evidence_outcome` decides."""
    return failed if evidence_outcome(evidence) is Indication.TOTAL_FAILED else indeterminate


def _modification_note(level: str) -> str:
    if level == "ANNOTATIONS":
        return (
            "Tài liệu có chú thích thêm sau khi ký (ghi chú, đánh dấu; không thay đổi nội dung "
            "trang đã ký), được phép theo PAdES và mức DocMDP của tài liệu."
        )
    what = {
        "LTA_UPDATES": "bổ sung dữ liệu xác thực dài hạn (DSS, dấu thời gian tài liệu)",
        "FORM_FILLING": "điền biểu mẫu hoặc thêm chữ ký khác",
    }[level]
    return f"Sau khi ký, tài liệu có các phiên bản bổ sung được phép: {what}."


def _timestamp_notes(ts: TimestampFacts | None) -> list[str]:
    if ts is None:
        return ["Chữ ký không có dấu thời gian; thời điểm ký do người ký tự khai."]
    if not ts.intact or not ts.valid:
        return [
            "Dấu thời gian gắn với chữ ký không hợp lệ (bị sửa hoặc sai chữ ký) và đã bị bỏ qua; "
            "thời điểm ký do người ký tự khai."
        ]
    if ts.trust_problem == "NOT_YET_VALID":
        return [
            "Dấu thời gian ghi một thời điểm trước khi chứng thư của đơn vị cấp dấu thời gian "
            "có hiệu lực (dấu thời gian bị ghi lùi ngày) nên đã bị bỏ qua; thời điểm ký do "
            "người ký tự khai."
        ]
    if ts.trust_problem == "TIMESTAMP_ORDER_FAILURE":
        return [
            "Dấu thời gian ghi một thời điểm sau thời điểm kiểm tra (thời điểm chưa tới) nên đã "
            "bị bỏ qua; chữ ký được kiểm tra tại thời điểm kiểm tra, thời điểm ký do người ký tự "
            "khai."
        ]
    if ts.trust_problem == "REVOKED":
        return [
            "Chứng thư của đơn vị cấp dấu thời gian đã bị thu hồi theo danh sách thu hồi trong danh "
            "sách tin cậy nên dấu thời gian đã bị bỏ qua; thời điểm ký do người ký tự khai."
        ]
    if ts.trust_problem is not None:
        text = TRUST_PROBLEM_VI.get(ts.trust_problem, ts.trust_problem)
        return [
            "Dấu thời gian nguyên vẹn và đúng về mật mã nhưng chứng thư của đơn vị cấp dấu thời "
            f"gian chưa được xác thực: {text}."
        ]
    return ["Dấu thời gian hợp lệ, do đơn vị cấp dấu thời gian tin cậy cấp."]


def unreadable_file_verdict(reason: str, *, is_pdf: bool, encrypted: bool = False) -> Verdict:
    """Verdict for a file whose signatures could not be reached at all."""
    if not is_pdf:
        return Verdict(
            Indication.TOTAL_FAILED,
            "FORMAT_FAILURE",
            f"Tệp không phải là tài liệu PDF nên không có chữ ký số để kiểm tra ({reason}).",
        )
    if encrypted:
        return Verdict(
            Indication.INDETERMINATE,
            "SIGNED_DATA_NOT_FOUND",
            f"Tệp PDF được mã hóa, không mở được để kiểm tra chữ ký ({reason}).",
        )
    return Verdict(
        Indication.INDETERMINATE,
        "SIGNED_DATA_NOT_FOUND",
        "Không đọc được cấu trúc tệp PDF (bảng tham chiếu chéo hoặc đối tượng bị hỏng) nên "
        f"không lấy được dữ liệu đã ký để kiểm tra ({reason}).",
    )


def unverifiable_file_verdict(reason: str) -> Verdict:
    """Verdict for a file whose verification could not finish (time or memory limit, a
    worker that died): nothing is known, so nothing passes."""
    return Verdict(
        Indication.INDETERMINATE,
        "SIGNED_DATA_NOT_FOUND",
        f"Không hoàn tất được việc kiểm tra chữ ký số của tệp ({reason}); cần kiểm tra lại "
        "hoặc đối chiếu thủ công.",
    )


def file_verdict(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for the file: any failure fails it; any doubt leaves it undetermined."""
    if not verdicts:
        return Verdict(
            Indication.NO_SIGNATURE, None, "Tài liệu không có chữ ký số nào."
        )
    for wanted in (Indication.TOTAL_FAILED, Indication.INDETERMINATE):
        hits = [v for v in verdicts if v.indication is wanted]
        if hits:
            return Verdict(wanted, hits[0].sub_indication, hits[0].explanation)
    return Verdict(
        Indication.TOTAL_PASSED, None, f"Tất cả {len(verdicts)} chữ ký số trong tài liệu hợp lệ."
    )


class Evidence(StrEnum):
    """What a check found that bears on whether the document was modified after signing."""

    HASH_MISMATCH = "hash_mismatch"  # the digest over /ByteRange differs
    DOCMDP_EXCEEDED = "docmdp_exceeded"  # a classified change the certification forbids
    FIELD_LOCK_BREACHED = "field_lock_breached"  # a field the signature locks was changed
    VIEW_DIFFERENCE = "view_difference"  # a viewer shows other pages/content than was signed
    APPEARANCE_REPLACED = "appearance_replaced"  # a signed field shows other text, same value
    SIGNATURE_DICTIONARY_REPLACED = "signature_dictionary_replaced"  # signed /Sig dict rewritten
    UNEXPLAINED_CHANGE = "unexplained_change"  # a change no whitelist rule explains
    LENIENT_READING = "lenient_reading"  # later revisions readable only by lenient recovery
    VIEWER_ERROR = "viewer_error"  # the viewer cannot open what the validator read
    CHECK_FAILED = "check_failed"  # a whole-document check broke on the file
    APPENDED_BYTES = "appended_bytes"  # bytes after the last %%EOF (in no revision)
    SIGNATURE_HIDDEN = "signature_hidden"  # signed revisions in the bytes, none listed at the end
    DRAWN_OVER_CONTENT = "drawn_over_content"  # a comment after signing lies over signed content
    PICTURE_ONLY_SIGNATURE = "picture_only_signature"  # an unsigned signature field drawn after
    SIGNATURE_FIELD_SHARED = "signature_field_shared"  # two fields hold one signature dictionary
    PICTURE_ADDED = "picture_added"  # a comment added after signing shows a picture or a stamp
    NEED_APPEARANCES_ON = "need_appearances_on"  # fields redrawn from values after signing


EVIDENCE_OUTCOME: dict[Evidence, Indication | None] = {
    # proof that what a person sees is not what was signed: TOTAL-FAILED
    Evidence.HASH_MISMATCH: Indication.TOTAL_FAILED,
    Evidence.DOCMDP_EXCEEDED: Indication.TOTAL_FAILED,
    # the signer's own FieldMDP lock, broken: the same kind of proof as DocMDP (rv25)
    Evidence.FIELD_LOCK_BREACHED: Indication.TOTAL_FAILED,
    Evidence.VIEW_DIFFERENCE: Indication.TOTAL_FAILED,
    Evidence.APPEARANCE_REPLACED: Indication.TOTAL_FAILED,
    Evidence.SIGNATURE_DICTIONARY_REPLACED: Indication.TOTAL_FAILED,
    # Kho cannot tell: INDETERMINATE, a person must compare
    Evidence.UNEXPLAINED_CHANGE: Indication.INDETERMINATE,
    Evidence.LENIENT_READING: Indication.INDETERMINATE,
    Evidence.VIEWER_ERROR: Indication.INDETERMINATE,
    Evidence.CHECK_FAILED: Indication.INDETERMINATE,
    Evidence.SIGNATURE_HIDDEN: Indication.INDETERMINATE,
    # a highlight and a forged box of text over the signed text look alike to Kho
    Evidence.DRAWN_OVER_CONTENT: Indication.INDETERMINATE,
    # a picture of a signature or seal added after signing, with no signature behind it: the
    # signed content is intact, what a person sees claims a signature that does not exist
    Evidence.PICTURE_ONLY_SIGNATURE: Indication.INDETERMINATE,
    # one signature claimed by a second field (ISO 32000-2 12.7.5.5: a signature is the value
    # of its field): the signed bytes are intact, the second field shows the signature where
    # the signer did not sign (rv30)
    Evidence.SIGNATURE_FIELD_SHARED: Indication.INDETERMINATE,
    # a picture (raster image) or rubber stamp added as a comment after signing: on a
    # Vietnamese document a seal or a handwritten signature is shown only by the signature
    # that stands behind it (NĐ 30/2020 Phụ lục I: the agency's digital signature shows the
    # seal's image); a comment cannot carry one (rv30)
    Evidence.PICTURE_ADDED: Indication.INDETERMINATE,
    # /NeedAppearances turned on after signing: viewers redraw form fields from their values,
    # not as signed; a field prepared with a value unlike its appearance shows other text
    # (a shadow attack), a form-filling tool may set it too: doubt (rv30)
    Evidence.NEED_APPEARANCES_ON: Indication.INDETERMINATE,
    # reported only
    Evidence.APPENDED_BYTES: None,
}


def evidence_outcome(evidence: Evidence) -> Indication | None:
    """Whether ``evidence`` proves a modification after signing (TOTAL-FAILED), only leaves
    Kho unable to decide (INDETERMINATE), or is reported without touching the verdict
    (``None``). One table for every check: proof is what shows the signed content was
    changed (a digest, what a viewer renders, a signed object rewritten); doubt is what stops
    Kho from reading or comparing (lenient recovery, a viewer error, a change no rule explains,
    which legitimate tools also make)."""
    return EVIDENCE_OUTCOME[evidence]


@dataclass(frozen=True)
class DocumentFacts:
    """What the checks of the whole document found, beyond each signature."""

    recovery_problems: tuple[str, ...] = ()  # revisions after signing read only leniently
    view_difference: str | None = None  # a viewer shows other pages/content than was signed
    viewer_error: str | None = None  # a viewer could not open the document pyHanko read
    appended_bytes: int = 0  # after the last %%EOF, line ends excluded
    appearance_replaced: tuple[str, ...] = ()  # fields whose shown text changed, value kept
    signature_dictionary_replaced: tuple[str, ...] = ()  # signed /Sig dictionaries rewritten
    hidden_signatures: int = 0  # signed revisions in the bytes when the final one lists none
    # pages where annotations added or changed after signing are drawn over signed content
    drawn_over_pages: tuple[int, ...] = ()
    # unsigned signature fields whose appearance was added or changed after signing
    picture_only_signatures: tuple[str, ...] = ()
    # (second field, the field whose signature dictionary it also holds), per signature
    shared_signatures: tuple[tuple[str, str], ...] = ()
    # comments added or changed after the last signature that show a picture or a stamp
    pictures_added: tuple[str, ...] = ()
    need_appearances_on: bool = False  # /NeedAppearances true now, not when first signed


def document_evidence(facts: DocumentFacts) -> tuple[tuple[Evidence, str], ...]:
    """Every finding of the whole-document checks, with its Vietnamese text."""
    found: list[tuple[Evidence, str]] = []
    if facts.signature_dictionary_replaced:
        found.append((
            Evidence.SIGNATURE_DICTIONARY_REPLACED,
            "Từ điển chữ ký không nhất quán: từ điển chữ ký đã ký bị thay bằng một đối tượng khác "
            "sau khi ký (thay đối tượng sau khi ký): "
            + " ".join(facts.signature_dictionary_replaced),
        ))
    if facts.view_difference is not None:
        found.append((
            Evidence.VIEW_DIFFERENCE,
            "Nội dung tài liệu mà trình xem PDF hiển thị khác với phiên bản đã ký "
            f"({facts.view_difference}): tài liệu đã bị sửa sau khi ký.",
        ))
    if facts.appearance_replaced:
        found.append((
            Evidence.APPEARANCE_REPLACED,
            "Hình hiển thị của trường trên tài liệu bị thay bằng đối tượng khác sau khi ký trong "
            "khi giá trị của trường không đổi (thay đối tượng sau khi ký): "
            + " ".join(facts.appearance_replaced),
        ))
    if facts.recovery_problems:
        found.append((
            Evidence.LENIENT_READING,
            "Các phiên bản bổ sung sau khi ký chỉ đọc được khi bỏ qua lỗi cấu trúc (bảng tham "
            "chiếu chéo hỏng hoặc không khớp), nên không khẳng định được nội dung hiển thị là "
            "nội dung đã ký: " + " ".join(facts.recovery_problems),
        ))
    if facts.hidden_signatures:
        found.append((
            Evidence.SIGNATURE_HIDDEN,
            f"Tệp chứa {facts.hidden_signatures} phiên bản đã được ký số nhưng phiên bản cuối "
            "cùng của tài liệu không còn chữ ký nào: chữ ký có thể đã bị gỡ khỏi tài liệu sau "
            "khi ký; cần đối chiếu với phiên bản đã ký.",
        ))
    if facts.drawn_over_pages:
        pages = ", ".join(str(n) for n in facts.drawn_over_pages)
        found.append((
            Evidence.DRAWN_OVER_CONTENT,
            "Có chú thích (ghi chú, đánh dấu, hình vẽ, con dấu) được thêm hoặc sửa sau khi ký "
            f"nằm đè lên nội dung đã ký ở trang {pages}: chú thích có thể che hoặc thay nội "
            "dung đã ký, nên không khẳng định được nội dung hiển thị là nội dung đã ký; cần "
            "đối chiếu với phiên bản đã ký.",
        ))
    if facts.picture_only_signatures:
        found.append((
            Evidence.PICTURE_ONLY_SIGNATURE,
            "Có trường chữ ký được thêm hoặc vẽ lại sau khi ký hiển thị hình (chữ ký tay, con "
            "dấu) nhưng không có chữ ký số nào: hình đó không phải là chữ ký số và không được "
            "kiểm tra; cần đối chiếu với phiên bản đã ký: "
            + _listed(shown_name(name) for name in facts.picture_only_signatures),
        ))
    if facts.shared_signatures:
        found.append((
            Evidence.SIGNATURE_FIELD_SHARED,
            "Có trường chữ ký dùng lại chữ ký số của một trường khác (một chữ ký số chỉ thuộc "
            "một trường chữ ký): trường thêm vào có thể hiển thị chữ ký ở nơi người ký không "
            "ký. Chữ ký chỉ được tính một lần; cần đối chiếu với phiên bản đã ký: "
            + _listed(
                f"{shown_name(extra)} dùng chữ ký của {shown_name(kept)}"
                for extra, kept in facts.shared_signatures
            ),
        ))
    if facts.pictures_added:
        found.append((
            Evidence.PICTURE_ADDED,
            "Có chú thích được thêm sau khi ký hiển thị hình ảnh hoặc con dấu (có thể là hình "
            "con dấu hay chữ ký tay giả): hình đó không phải là chữ ký số và không được kiểm "
            "tra; con dấu của cơ quan trên văn bản điện tử chỉ được thể hiện bằng chữ ký số của "
            "cơ quan. Cần đối chiếu với phiên bản đã ký: "
            + _listed(shown_name(name) for name in facts.pictures_added),
        ))
    if facts.need_appearances_on:
        found.append((
            Evidence.NEED_APPEARANCES_ON,
            "Sau khi ký, biểu mẫu của tài liệu được đặt /NeedAppearances: trình xem PDF sẽ vẽ "
            "lại các trường biểu mẫu theo giá trị của chúng thay vì hình hiển thị đã ký, nên "
            "nội dung hiển thị ở các trường có thể khác nội dung người ký đã thấy; cần đối "
            "chiếu với phiên bản đã ký.",
        ))
    if facts.viewer_error is not None:
        found.append((
            Evidence.VIEWER_ERROR,
            "Trình xem PDF không mở được tài liệu để đối chiếu nội dung hiển thị với phiên bản "
            f"đã ký ({facts.viewer_error}).",
        ))
    if facts.appended_bytes:
        found.append((
            Evidence.APPENDED_BYTES,
            f"Có {facts.appended_bytes} byte dữ liệu sau dấu kết thúc tệp (%%EOF) cuối cùng; "
            "phần này không thuộc phiên bản nào và không được ký.",
        ))
    return tuple(found)


def _listed(items: Iterable[str]) -> str:
    """``items`` comma-separated, with a full stop."""
    return ", ".join(items) + "."


def document_verdict(verdict: Verdict, facts: DocumentFacts) -> tuple[Verdict, tuple[str, ...]]:
    """The file verdict once the whole-document checks are in, and their findings.

    Each finding weighs as :func:`evidence_outcome` says: proof of a modification fails the
    file (TOTAL-FAILED/FORMAT_FAILURE, whatever the modification analysis read), doubt
    withholds a pass (INDETERMINATE/SIG_CONSTRAINTS_FAILURE); a failure found per signature
    stays, with its own reason. Bytes after the last ``%%EOF`` are only reported."""
    evidence = document_evidence(facts)
    outcome = verdict
    for kind, text in evidence:
        weight = evidence_outcome(kind)
        if weight is Indication.TOTAL_FAILED and outcome.indication is not Indication.TOTAL_FAILED:
            outcome = Verdict(Indication.TOTAL_FAILED, "FORMAT_FAILURE", text)
        elif weight is Indication.INDETERMINATE and outcome.indication in (
            Indication.TOTAL_PASSED, Indication.NO_SIGNATURE
        ):
            outcome = Verdict(Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE", text)
    return outcome, tuple(text for _, text in evidence)


def document_check_failed(verdict: Verdict, reason: str) -> tuple[Verdict, tuple[str, ...]]:
    """The whole-document checks could not run on this file (a viewer or the strict reader
    broke on it): a failure found per signature stays; anything milder is withheld."""
    text = (
        "Không đối chiếu được nội dung hiển thị của tài liệu với phiên bản đã ký vì cấu trúc tệp"
        f" bị lỗi ({reason})."
    )
    if verdict.indication is Indication.TOTAL_FAILED:
        return verdict, (text,)
    return Verdict(Indication.INDETERMINATE, "SIG_CONSTRAINTS_FAILURE", text), (text,)


# --- personal vs organisation certificate -------------------------------------------------

# Leading words of Vietnamese (and common foreign) organisation names, without diacritics.
_ORG_WORDS = (
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


def _by_initial(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for word in sorted({w.strip() for w in words}):
        table[word[0]] = (*table.get(word[0], ()), word)
    return table


_ORG_BY_INITIAL = _by_initial(_ORG_WORDS)
""":data:`_ORG_WORDS` by their first letter, as :func:`_looks_like_org` compares them."""
_PERSON_ID_RE = re.compile(r"\b(CMND|CCCD|HC|HO CHIEU|PASSPORT|PNO|IDC|TIN)\s*[:\-]", re.I)
_ORG_ID_RE = re.compile(r"\b(MST|MNS|MDV|MA NS|NTRVN|VATVN)\s*[:\-]", re.I)
# eIDAS QCStatement QcType (ETSI EN 319 412-5): esign -> natural person, eseal -> legal person
QC_TYPE_ESIGN = "0.4.0.1862.1.6.1"
QC_TYPE_ESEAL = "0.4.0.1862.1.6.2"


def fold(text: str) -> str:
    """Lower case, no diacritics, đ -> d, collapsed spaces: for keyword matching only."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().split())


def _looks_like_org(name: str) -> bool:
    """Whether one of :data:`_ORG_WORDS` stands in the folded name as whole words: at its start
    or after a space, and followed by its end, a space, a comma or a full stop.

    Plain string comparisons, not one regular expression of the ~90 alternatives: compiling it
    was 1-4 ms of every process that imports the signature rules (``kho verify``'s start-up),
    for a few names per document. :func:`fold` leaves single spaces as the only white space."""
    text = fold(name)
    starts = [0, *(i + 1 for i, c in enumerate(text) if c == " ")]
    for start in starts:
        for word in _ORG_BY_INITIAL.get(text[start:start + 1], ()):
            end = start + len(word)
            if text.startswith(word, start) and (end == len(text) or text[end] in " ,."):
                return True
    return False


_MARKED_ORG_WORDS = {
    "vu": "vụ", "truong": "trường", "phong": "phòng", "bao": "báo", "quy": "quỹ", "cuc": "cục",
    "vien": "viện", "hoi": "hội", "ban": "ban", "bo": "bộ", "so": "sở", "van phong": "văn phòng",
    "hoi dong": "hội đồng", "quoc hoi": "quốc hội", "hoc vien": "học viện",
    "benh vien": "bệnh viện", "bao hiem": "bảo hiểm", "dang bo": "đảng bộ", "doan": "đoàn",
}
"""Organisation words (:data:`_ORG_WORDS`, folded) that fold like words of Vietnamese personal
names written with other marks, with the organisation's own marks: Vũ (a surname) / Vụ,
Trương / Trường, Phong / Phòng, Văn Phong / Văn phòng, Bảo / Báo, Quý / Quỹ, Cúc / Cục,
Viên / Viện, Hồi / Hội, Bàn / Ban, Bồ / Bộ, Sơ / Sở, Doãn (a surname) / Đoàn (rv2)."""

_ORG_HEADS = (
    "lữ đoàn",
    # Nông is a surname (:data:`_SURNAMES`) too, and "nong truong" is no organisation word, so
    # without this head "Nông Trường Sông Hậu" would be read as a person's name.
    "nông trường",
    "đoàn văn công", "đoàn văn nghệ",
)
"""How Vietnamese organisation names start when their organisation word (:data:`_ORG_WORDS`)
is the *second* word and their first word is a surname (:data:`_SURNAMES`), NFC lower case
with the organisation's marks: "Lữ đoàn 172", "Nông trường Sông Hậu". Written in title case or
capitals such a name is shaped like a person's, so without these :func:`_names_an_organisation`
read the seal as a personal certificate (rv2). A head whose first word is no surname ("Cảng vụ
Hàng hải", "Thư viện Quốc gia", "Tỉnh đoàn", "Công đoàn", "Hiệp hội", "Giáo hội", "Cơ sở")
needs no entry: any such start is read as an organisation's (u3 dropped the 19 of rv2's list
that decided nothing). "Lâm trường" is left out because "Lâm Trường Giang" is a person.
"Đoàn văn công" and "Đoàn văn nghệ" (art troupes) come before :data:`_PERSON_HEADS`."""

_PERSON_HEADS = ("đoàn thị", "đoàn văn")
"""How personal names of the surname Đoàn start, NFC lower case: Đoàn is also the
organisation word (Đoàn thanh niên, Đoàn luật sư), but no organisation's name continues with
the middle names "Thị" or "Văn" ("Đoàn Văn Hội", "Đoàn Thị Hương", "ĐOÀN VĂN HẬU"), except
the troupes of :data:`_ORG_HEADS`. Other middle names ("Đoàn Thanh ...": Thanh niên) stay
read as organisations (rv2)."""


_SURNAMES = frozenset(
    {
        "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ",
        "hồ", "ngô", "dương", "lý", "đào", "đoàn", "doãn", "vương", "trịnh", "trương", "đinh",
        "lâm", "phùng", "mai", "tô", "tạ", "hà", "lương", "lưu", "quách", "thái", "châu", "cù",
        "kiều", "khúc", "la", "lại", "lò", "mạc", "nông", "tăng", "thân", "tiêu", "từ", "triệu",
        "hứa", "chu", "diệp", "đàm", "giang", "khổng", "kim", "lục", "mã", "ninh", "phí", "phó",
        "phương", "tôn", "trình", "ông", "âu", "bạch", "bế", "cấn", "chung", "giáp", "hàn", "hầu",
        "khương", "lạc", "lã", "lữ", "mạch", "mẫn", "nghiêm", "nhan", "ôn", "sầm", "thạch", "thiều",
        "tống", "ưng", "vi", "viên", "yên", "kha", "khiếu", "lỗ", "lộc", "cao", "bồ",
    }
)
"""First words of Vietnamese personal names (surnames), NFC lower case with their marks. A name
shaped like a person's holds an organisation word after its start ("Vũ Văn Phong": vụ, văn
phòng) only as a person's when it starts with one of these; any other start is read as main
read it, an organisation ("Nhà Xuất Bản Tư Pháp", "Đồn Biên Phòng Sa Huỳnh"): a hand list of
how organisation names start could never be complete (f4's rule made such seals personal).
Left out: surnames that also start organisation names (Công: Công an, Công ty; Văn: Văn
phòng; Bảo: Bảo hiểm; Trang: Trang thông tin)."""


def _names_an_organisation(name: str) -> bool:
    """Whether a common name names an organisation: :func:`_looks_like_org`, except for a name
    shaped like a person's (:func:`_looks_like_person`) and written with Vietnamese marks.
    Such a name starting with a surname (:data:`_SURNAMES`) is an organisation's only when it
    *starts* with an organisation word (as
    Vietnamese organisation names do: "Trường Đại Học Luật", "Bộ Tư Pháp", or with one of
    :data:`_ORG_HEADS`: "Lữ Đoàn 172", "Nông Trường Sông Hậu"), and one of
    :data:`_MARKED_ORG_WORDS` counts only with the organisation's marks: "Vũ Văn Phong",
    "Trần Quốc Bảo", "Lê Văn Trường", "Lê Thị Cúc" are people, whose fold ("vu van phong")
    holds "vụ" and "văn phòng". A name written without marks ("VU VAN PHONG") cannot tell
    them apart and is read as before; so is a surname spelt as an organisation word
    (Đoàn, "Đoàn Thị Hương": the union's word)."""
    if not _looks_like_org(name):
        return False
    if name.isascii() or not _looks_like_person(unicodedata.normalize("NFC", name)):
        return True
    folded = fold(name)
    marked = " ".join(unicodedata.normalize("NFC", name).lower().split())
    if any(marked.startswith(head) and marked[len(head):len(head) + 1] in ("", " ")
           for head in _ORG_HEADS):
        return True
    if any(marked.startswith(head + " ") for head in _PERSON_HEADS):
        return False
    if marked.split(" ", 1)[0] not in _SURNAMES:
        return True
    for word in _ORG_BY_INITIAL.get(folded[:1], ()):
        end = len(word)
        if folded.startswith(word) and (end == len(folded) or folded[end] in " ,."):
            own = _MARKED_ORG_WORDS.get(word)
            if own is None or (marked.startswith(own) and marked[len(own):len(own) + 1] in ("", " ")):
                return True
    return False


def _looks_like_person(name: str) -> bool:
    """2-6 capitalised words of letters only, e.g. "Nguyễn Phước Bình", "LÊ VĂN TUẤN"."""
    words = name.split()
    if not 2 <= len(words) <= 6:
        return False
    return all(w[:1].isupper() and all(c.isalpha() for c in w) for w in words)


def classify_signer(
    subject: Mapping[str, str], qc_types: Iterable[str] = ()
) -> SignerKind:
    """Personal (người có thẩm quyền) or organisation (cơ quan, con dấu) certificate.

    ``subject`` maps asn1crypto attribute names (``common_name``, ``organization_name``,
    ``given_name``, ``surname``, ``title``, ``user_id``, ...) to values.

    Signals, strongest first: eIDAS QcType; person attributes (given name, surname,
    pseudonym, title) or a personal id (CMND/CCCD) in the UID; an organisation id
    (MST/MNS) with no person name; the CN equal to the O or starting like an organisation
    name (Ủy ban, Bộ, Sở, Trung tâm, Cổng thông tin ...); the CN shaped like a personal name.
    In the Vietnamese corpus, VGCA seal certificates carry CN = the agency (``Ủy ban nhân dân
    tỉnh Quảng Ngãi``, ``Bộ Khoa học và Công nghệ``) or an MST UID, personal ones a person's
    name with the unit in OU/O.
    """
    qc = set(qc_types)
    if QC_TYPE_ESEAL in qc and QC_TYPE_ESIGN not in qc:
        return SignerKind.ORGANISATION
    if QC_TYPE_ESIGN in qc and QC_TYPE_ESEAL not in qc:
        return SignerKind.PERSONAL
    cn = (subject.get("common_name") or "").strip()
    org = (subject.get("organization_name") or "").strip()
    uid = fold(subject.get("user_id") or "").upper()
    if any(subject.get(k) for k in ("given_name", "surname", "pseudonym", "title")):
        return SignerKind.PERSONAL
    if _PERSON_ID_RE.search(uid):
        return SignerKind.PERSONAL
    if cn and org and fold(cn) == fold(org):
        return SignerKind.ORGANISATION
    if cn and _names_an_organisation(cn):
        return SignerKind.ORGANISATION
    if _ORG_ID_RE.search(uid):
        return SignerKind.ORGANISATION
    if cn and _looks_like_person(cn):
        return SignerKind.PERSONAL
    return SignerKind.UNKNOWN


def nd30_check(kinds_in_signing_order: Sequence[SignerKind]) -> Nd30Check:
    """NĐ 30/2020 Điều 5: an issued document carries the competent person's and the agency's
    signature; Điều 32 k2 d: the văn thư signs (agency) after the person."""
    personal = [i for i, k in enumerate(kinds_in_signing_order) if k is SignerKind.PERSONAL]
    org = [i for i, k in enumerate(kinds_in_signing_order) if k is SignerKind.ORGANISATION]
    after = bool(personal and org and max(org) > min(personal))
    ok = bool(personal and org and after)
    if ok:
        message = (
            "Đủ chữ ký số của người có thẩm quyền và của cơ quan, chữ ký của cơ quan ký sau "
            "(NĐ 30/2020/NĐ-CP Điều 5)."
        )
    elif not personal and not org:
        message = (
            "Không nhận diện được chữ ký của người có thẩm quyền và chữ ký của cơ quan, tổ chức "
            "(NĐ 30/2020/NĐ-CP Điều 5 yêu cầu cả hai đối với văn bản phát hành)."
        )
    elif not personal:
        message = (
            "Thiếu chữ ký số của người có thẩm quyền: chỉ có chữ ký của cơ quan, tổ chức "
            "(NĐ 30/2020/NĐ-CP Điều 5)."
        )
    elif not org:
        message = (
            "Thiếu chữ ký số của cơ quan, tổ chức: chỉ có chữ ký cá nhân "
            "(NĐ 30/2020/NĐ-CP Điều 5)."
        )
    else:
        message = (
            "Chữ ký số của cơ quan được ký trước chữ ký của người có thẩm quyền; văn thư chỉ ký "
            "số văn bản đã có chữ ký của người có thẩm quyền (NĐ 30/2020/NĐ-CP Điều 32)."
        )
    return Nd30Check(
        has_personal=bool(personal),
        has_organisation=bool(org),
        organisation_after_personal=after,
        ok=ok,
        message=message,
    )


def return_reason(verdict: Verdict) -> str | None:
    """Reason for the văn thư to return (trả lại) the document, NĐ 30/2020 Điều 21 k2."""
    if verdict.indication is not Indication.TOTAL_FAILED:
        return None
    return (
        "Trả lại văn bản: kiểm tra tính xác thực và toàn vẹn không đạt (NĐ 30/2020/NĐ-CP "
        f"Điều 21 khoản 2). Lý do: {verdict.explanation}"
    )


def no_return_reason_message(verdict: Verdict | None) -> str:
    """What to tell a văn thư who asks to return (trả lại) a document without a reason when
    the signature check found none: it names the verdict as it is, and never calls a signature
    valid that was not (INDETERMINATE is not valid, it is undecided)."""
    ask = "hãy ghi rõ lý do trả lại."
    if verdict is None:
        return f"Văn bản chưa được kiểm tra chữ ký số; {ask}"
    if verdict.indication is Indication.TOTAL_PASSED:
        return f"Chữ ký số của văn bản hợp lệ, Kho không có lý do trả lại; {ask}"
    if verdict.indication is Indication.INDETERMINATE:
        return (
            "Chưa xác định được chữ ký số của văn bản có hợp lệ hay không (INDETERMINATE"
            f"{'/' + verdict.sub_indication if verdict.sub_indication else ''}): {verdict.explanation}"
            f" Kho không tự trả lại văn bản khi chưa có kết luận; hãy kiểm tra lại và {ask}"
        )
    if verdict.indication is Indication.NO_SIGNATURE:
        return f"Văn bản không có chữ ký số, Kho không có lý do trả lại; {ask}"
    return f"Kho không có lý do trả lại văn bản ({INDICATION_VI[verdict.indication]}); {ask}"


def summary_text(verdict: Verdict, signature_count: int, nd30: Nd30Check) -> str:
    head = f"{INDICATION_VI[verdict.indication]} ({verdict.indication.value}"
    head += f"/{verdict.sub_indication})" if verdict.sub_indication else ")"
    parts = [f"{head}: {verdict.explanation}"]
    if signature_count:
        parts.append(f"Số chữ ký: {signature_count}.")
        if not nd30.ok:
            parts.append(nd30.message)
    return " ".join(parts)
