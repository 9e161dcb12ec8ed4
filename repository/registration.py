"""Registration rules (NĐ 30 Điều 15, 22; Phụ lục I, IV, VI), as pure functions.

Every way a document gets its số đến / số đi — ``kho record create``, the API, an ingested
document confirmed by a văn thư — goes through :func:`plan_registration`, so default dates,
the agency's own code, the number series and the duplicate guard are decided in one place.
:func:`signature_gate` decides whether a document may be registered given its signature verdict.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

from kho.digits import ascii_int
from kho.errors import FieldError, ValidationFailed
from kho.sentences import clause, sentences
from kho.textkey import canonical_text, describe, foreign_letters, same_text, text_key
from repository.metadata import DocumentMetadata
from repository.registers import series_for
from repository.vocabulary import Direction, blank, nfc, typed_text


@dataclass(frozen=True)
class RegistrationPlan:
    metadata: DocumentMetadata
    """The metadata as it will be stored (dates and agency code filled in)."""
    registration_date: date
    """Ngày đến (incoming) or ngày ban hành (outgoing): its year is the register's year."""
    series: str | None
    """The number series, or None when the document is only stored, not registered."""
    duplicate_year: int
    """The year of the (số, ký hiệu, cơ quan, năm) duplicate guard."""

    @property
    def year(self) -> int:
        return self.registration_date.year


def plan_registration(
    metadata: DocumentMetadata,
    *,
    today: date,
    agency_id: str,
    agency_name: str,
    register: bool = True,
    advisory_body: str | None = None,
) -> RegistrationPlan:
    """Fill what the văn thư may leave out and choose the number series.

    * incoming: ngày đến defaults to today (Vietnam time);
    * outgoing: ngày ban hành defaults to today; the agency's own name gets its mã định danh;
    * the register year is the year of that date; the series comes from :func:`series_for`;
    * a document registered takes its number on its registration day
      (:func:`_check_registration_day`); one only stored keeps the dates it has.
    """
    md = metadata
    if register:
        _check_registration_day(md, today)
    if advisory_body is not None:
        advisory_body = _advisory_body(advisory_body)
    if md.direction is Direction.DEN and md.arrival_date is None:
        md = replace(md, arrival_date=today)
    if md.direction is Direction.DI and md.issued_date is None:
        md = replace(md, issued_date=today)
    if md.direction is Direction.DI and md.organ_id is None and md.organ_name == agency_name:
        md = replace(md, organ_id=agency_id)
    day = md.arrival_date if md.direction is Direction.DEN else md.issued_date
    assert day is not None
    return RegistrationPlan(
        metadata=md,
        registration_date=day,
        series=series_for(md, advisory_body) if register else None,
        duplicate_year=md.issued_date.year if md.issued_date else day.year,
    )


ADVISORY_BODY_MAX = 100
"""At most this many characters in an advisory body's name: it names a number series, which is
part of the register's object keys."""


def _advisory_body(name: str) -> str:
    """The name of an advisory body as typed: one line, no hidden character (a right-to-left
    override would make a series that reads otherwise), at most :data:`ADVISORY_BODY_MAX`."""
    label = "Hội đồng, ban, tổ tư vấn"
    if len(nfc(name).strip()) > ADVISORY_BODY_MAX:  # its own limit, tighter than typed_text's
        raise ValidationFailed(
            [
                FieldError(
                    "advisory_body",
                    "ADVISORY_BODY_INVALID",
                    f"Tên “{label}” dài quá {ADVISORY_BODY_MAX} ký tự: hãy dùng tên viết tắt của hội đồng.",
                )
            ]
        )
    return typed_text(name, "advisory_body", label, line_breaks=False)


def _check_registration_day(md: DocumentMetadata, today: date) -> None:
    """A number is taken on the day it is registered, in that day's register.

    * văn bản đi: số and ngày ban hành are given together, in order of issue within the year,
      by the system (NĐ 30 Điều 15 k1, k3; paper: when the number is taken after signature,
      k2): a typed ngày ban hành must be today. Another date took a number of that date's
      register: the 2020 register's next number in 2026, next year's 01 before the year began,
      or a date before the number before it;
    * văn bản đến: số đến in order of arrival within the year (Điều 22 k2, Phụ lục VI III.1.đ):
      a ngày đến after today is refused, and so is a sender's date after the ngày đến (which
      defaults to today). A ngày đến before today is the day it came, registered late.
    """
    shown = f"{today:%d/%m/%Y}"
    errors: list[FieldError] = []
    if md.direction is Direction.DI and md.issued_date is not None and md.issued_date != today:
        errors.append(
            FieldError(
                "issued_date",
                "ISSUED_DATE_NOT_TODAY",
                f"Ngày ban hành {md.issued_date:%d/%m/%Y} khác ngày cấp số ({shown}): số và ngày"
                " ban hành văn bản đi do Hệ thống cấp cùng lúc, theo thứ tự ban hành trong năm"
                " (Nghị định 30/2020/NĐ-CP Điều 15). Hãy để trống hoặc ghi ngày hôm nay.",
            )
        )
    if md.direction is Direction.DEN:
        arrival = md.arrival_date or today
        if arrival > today:
            errors.append(
                FieldError(
                    "arrival_date",
                    "ARRIVAL_DATE_IN_FUTURE",
                    f"Ngày đến {arrival:%d/%m/%Y} chưa tới (hôm nay {shown}): số đến được cấp theo"
                    " thứ tự văn bản đến trong năm (Nghị định 30/2020/NĐ-CP Điều 22).",
                )
            )
        elif md.issued_date is not None and md.issued_date > arrival:
            errors.append(
                FieldError(
                    "issued_date",
                    "DATE_ORDER_INVALID",
                    f"Ngày văn bản {md.issued_date:%d/%m/%Y} sau ngày đến {arrival:%d/%m/%Y}.",
                )
            )
    if errors:
        raise ValidationFailed(errors)


# Signature verdicts (ETSI EN 319 102-1 main indications, as ingest stores them).
PASSED = "TOTAL-PASSED"
FAILED = "TOTAL-FAILED"
INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    override: bool = False
    """True when the document goes in only because a person overrode a FAILED verdict."""
    code: str = ""
    message: str = ""
    mismatches: tuple[Mismatch, ...] = ()
    """The fields of a văn bản đến its PDF contradicts (:func:`metadata_gate`)."""


def signature_gate(
    verdict: str | None, override_reason: str | None, reason_detail: str = "", *, checkable: bool = False
) -> GateDecision:
    """A document whose signature check FAILED is registered only with an explicit override
    and its reason (audited by the caller). INDETERMINATE and unsigned documents pass, their
    reason shown to the văn thư beforehand.

    ``checkable``: the document's original is a PDF, whose signatures ingest verifies. Without a
    verdict it was not checked yet (its job still queued, or the worker died mid-task): refused
    (``SIGNATURES_NOT_CHECKED``), override or not, since nobody can override what nobody saw."""
    if verdict is None and checkable:
        return GateDecision(
            False,
            code="SIGNATURES_NOT_CHECKED",
            message=(
                "Chữ ký số của văn bản chưa được kiểm tra xong, nên chưa vào sổ được. Hãy chờ"
                " việc tiếp nhận hoàn tất (hoặc chạy lại: kho ingest retry) rồi vào sổ."
            ),
        )
    if verdict != FAILED:
        return GateDecision(True)
    if not blank(override_reason):
        return GateDecision(True, override=True)
    detail = f" ({clause(reason_detail)})" if reason_detail else ""
    return GateDecision(
        False,
        code="SIGNATURE_FAILED",
        message=sentences(
            f"Chữ ký số của văn bản KHÔNG HỢP LỆ{detail}",
            "Hãy trả lại văn bản, hoặc nếu vẫn vào sổ thì phải ghi rõ lý do (được ghi vào nhật ký"
            " kiểm toán)",
        ),
    )


_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
"""The five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters. The other marks
(ă, â, ê, ô, ơ, ư, đ) make other letters: Hùng and Hưng, An and Ân are different people."""


def _name_key(name: str) -> str:
    """A person's name as compared with a certificate: case and spacing aside, and the tone of
    each word whatever letter carries it (``Hoà``/``Hòa``); every other mark counts."""
    words = []
    for word in nfc(name).casefold().split():
        parts = unicodedata.normalize("NFD", word)
        tones = "".join(sorted(c for c in parts if c in _TONE_MARKS))
        words.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS)) + tones)
    return " ".join(words)


def _bare_key(name: str) -> str:
    """The base letters only (đ as d): how a name written without marks is compared."""
    bare = "".join(c for c in unicodedata.normalize("NFD", nfc(name)) if not unicodedata.combining(c))
    return " ".join(bare.replace("đ", "d").replace("Đ", "D").casefold().split())


def _same_person(named: str, certificate: str) -> bool:
    """A certificate written in ASCII (some CAs issue names without marks) is compared on the
    base letters; a certificate with marks must carry the same ones."""
    if certificate.isascii():
        return _bare_key(named) == _bare_key(certificate)
    return _name_key(named) == _name_key(certificate)


def signer_gate(
    direction: Direction,
    named: str,
    signers: Sequence[str] | None,
    override_reason: str | None,
    *,
    signature_count: int = 0,
) -> GateDecision:
    """A văn bản đi is numbered after the competent person signed it (NĐ 30 Điều 15 k2-3;
    Điều 5 k1): the signer the metadata names (Người ký) must hold one of the trusted personal
    signatures ingest found in the PDF (``signers``: their certificates' names, only for a
    certificate that chains to a trust anchor, so a self-made certificate in the chairman's name
    counts for nothing). A PDF with signatures but none of them a trusted personal one (the
    agency's seal alone, a look-alike certificate) is a mismatch too. A PDF with no signature
    at all (``signature_count`` 0: a paper original scanned) and a document whose signers were
    not read (``None``: not a PDF, or received before they were kept) are not decided here. A
    mismatch goes in only with an explicit, audited reason (ký thay whose certificate names
    another person), as a FAILED signature does."""
    if direction is not Direction.DI or signers is None or (not signers and signature_count <= 0):
        return GateDecision(True)
    if any(_same_person(named, s) for s in signers):
        return GateDecision(True)
    if not blank(override_reason):
        return GateDecision(True, override=True, code="SIGNER_MISMATCH")
    found = (
        "chữ ký số cá nhân trong tệp là của " + ", ".join(f"“{s}”" for s in signers)
        if signers
        else "tệp không có chữ ký số cá nhân nào có chứng thư số được tin cậy (chỉ có chữ ký của"
        " cơ quan, hoặc chứng thư số không do tổ chức cung cấp dịch vụ được tin cậy cấp)"
    )
    return GateDecision(
        False,
        code="SIGNER_MISMATCH",
        message=(
            f"Người ký ghi trên văn bản đi là “{named}” nhưng {found}.{_looks_alike(named, signers)}"
            " Hãy sửa “Người ký” cho đúng người đã ký số, hoặc nếu vẫn vào sổ thì phải ghi rõ lý do"
            " (được ghi vào nhật ký kiểm toán)."
        ),
    )


def _looks_alike(named: str, signers: Sequence[str]) -> str:
    """What tells apart a certificate's name that reads like the named signer but is another
    text ("Nguyễn Văn Аn" with a Cyrillic А, a zero-width space): without it the message shows
    the same name twice and a văn thư would take the refusal for a fault and override it."""
    for signer in signers:
        if same_text(signer, named):
            odd = describe(foreign_letters(signer) + foreign_letters(named))
            return (
                f" Hai tên trông giống nhau nhưng là hai chuỗi ký tự khác nhau (ký tự {odd}):"
                " chứng thư số có thể mạo danh người ký."
            )
    return ""


CONFIDENT = 0.8
"""An extracted số/ký hiệu or ngày ban hành is what the PDF says when read with at least this
confidence (``ingest.metadata``: 0.95/0.8 from the labelled "Số:" line and the place-and-date
line; 0.6 and below from a bare match or a fallback, which may be another document's)."""

_ABBREVIATIONS: dict[str, str] = {
    # Every reader expands these one way (a9, r30).
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "tp": "thành phố",
    # a10: the usual short forms of a Sở's or a Bộ's field, as văn thư write them ("Sở TN&MT",
    # "Sở GD&ĐT", "VP UBND"): the field names of the Sở and Bộ (Nghị định 107/2020/NĐ-CP,
    # 123/2016/NĐ-CP) whose initials stand for nothing else in an agency's name.
    "vp": "văn phòng",
    "tn&mt": "tài nguyên và môi trường",
    "tnmt": "tài nguyên và môi trường",
    "gd&đt": "giáo dục và đào tạo",
    "gdđt": "giáo dục và đào tạo",
    "kh&đt": "kế hoạch và đầu tư",
    "khđt": "kế hoạch và đầu tư",
    "kh&cn": "khoa học và công nghệ",
    "khcn": "khoa học và công nghệ",
    "tt&tt": "thông tin và truyền thông",
    "tttt": "thông tin và truyền thông",
    "lđtb&xh": "lao động thương binh và xã hội",
    "lđtbxh": "lao động thương binh và xã hội",
    "nn&ptnt": "nông nghiệp và phát triển nông thôn",
    "nnptnt": "nông nghiệp và phát triển nông thôn",
    "vhtt&dl": "văn hóa thể thao và du lịch",
    "vhttdl": "văn hóa thể thao và du lịch",
    "gtvt": "giao thông vận tải",
}
"""Abbreviations of an agency's name every reader expands one way (the key form of the words)."""

_AFTER_SO_BO: dict[str, str] = {
    "tc": "tài chính",
    "xd": "xây dựng",
    "nv": "nội vụ",
    "ct": "công thương",
    "yt": "y tế",
}
"""Two letters that name a field only right after "Sở" or "Bộ" ("Sở TC", "Bộ XD"); alone they
are other words. Not here, on purpose, because two readers expand them two ways: "Sở TP" (Tư
pháp, or a Sở of a thành phố), "Sở KH" (Kế hoạch, Khoa học), "TC" alone (Tài chính, Tổ chức,
Tổng cục): such a name stays a mismatch, overridden with a reason or typed in full."""


@dataclass(frozen=True)
class SealAgency:
    """An agency a trusted signature names, with the certificate field each name came from (a
    VGCA seal: the agency in CN, its locality or parent body in O, a unit in OU; a personal
    certificate: the agency the person works for in O). Stored as ``extra.signature_agencies``
    (``repository.formats.SIGNATURE_AGENCIES``)."""

    cn: str = ""
    o: str = ""
    ou: str = ""
    seal: bool = True
    """An agency (seal) certificate; False: a personal one, which names its O."""

    @staticmethod
    def of(item: Any) -> SealAgency | None:
        if not isinstance(item, Mapping) or item.get("kind") not in ("seal", "personal"):
            return None
        fields = [item.get(k) or "" for k in ("cn", "o", "ou")]
        if not all(isinstance(f, str) for f in fields):
            return None
        return SealAgency(*(nfc(f).strip() for f in fields), seal=item["kind"] == "seal")

    def to_dict(self) -> dict[str, str]:
        return {"kind": "seal" if self.seal else "personal", "cn": self.cn, "o": self.o, "ou": self.ou}

    @property
    def name(self) -> str:
        """The agency, as the certificate names it: a seal's CN (when it has no CN, its OU, the
        unit within its O: a seal of OU "Sở Tài chính", O "UBND tỉnh X" is the Sở's, never the
        UBND's (r33); its O only when it names nothing else), a personal certificate's O."""
        return (self.cn or self.ou or self.o) if self.seal else self.o

    @property
    def shown(self) -> str:
        """The agency and what qualifies it, for a message ("Sở Tài chính (Tỉnh Quảng Ngãi)")."""
        within = [q for q in (self.ou, self.o) if q and q != self.name] if self.seal else []
        return self.name + (f" ({', '.join(within)})" if within else "")


def stored_agencies(agencies: Sequence[SealAgency]) -> dict[str, Any]:
    """``extra.signature_agencies`` as stored: the versioned format, stamped."""
    from repository import formats

    return formats.stamp(formats.SIGNATURE_AGENCIES.name, {"agencies": [a.to_dict() for a in agencies]})


def _locality(qualifier: str) -> str | None:
    """The place of a parent body named in O ("UBND tỉnh X" → "tỉnh x"), in key form."""
    words = qualifier.split()
    lead = _ABBREVIATIONS["ubnd"].split()
    if words[: len(lead)] == lead and len(words) > len(lead):
        return " ".join(words[len(lead) :])
    return None


def agency_names(agency: SealAgency) -> tuple[tuple[str, str], ...]:
    """The names (key form, with the certificate text they came from) a seal's agency goes by
    (pure): its name alone, or qualified by its unit, locality or parent ("Sở Tài chính" with O
    "Tỉnh Quảng Ngãi" is "Sở Tài chính tỉnh Quảng Ngãi"; with O "UBND tỉnh X" also "Sở Tài chính
    tỉnh X"). Never its O alone: that is the body above the agency, not the agency."""
    base = _agency_key(agency.name)
    if not base:
        return ()
    out = {base: agency.name}
    if agency.seal:
        quals = [(q, _agency_key(q)) for q in (agency.ou, agency.o) if q and _agency_key(q) != base]
        for raw, key in [
            *quals,
            *([(f"{agency.ou} {agency.o}", " ".join(k for _, k in quals))] if len(quals) == 2 else []),
        ]:
            for tail in (key, _locality(key)):
                if tail and not base.endswith(tail):
                    out.setdefault(f"{base} {tail}", f"{agency.name} {raw}")
    return tuple(out.items())


_UNIT_WORDS = 2
"""A unit within an agency is named by at least two words before the agency's name ("Vụ Pháp
chế", "Văn phòng"): one word makes another agency of it ("Tổng cục Thuế" is not a unit of
"Cục Thuế", nor "Chi cục Thuế")."""


def _phrases(names: str) -> tuple[tuple[str, ...], ...]:
    """Names written one after another, ", " between them, each as its words in key form."""
    return tuple(tuple(text_key(name).split()) for name in names.split(", "))


_UNIT_KINDS = _phrases(
    "vụ, cục, tổng cục, chi cục, văn phòng, phòng, ban, thanh tra, trung tâm, viện, "
    "học viện, trường, đội, bộ phận, tổ, trạm, hạt, khoa, báo, tạp chí, nhà xuất bản, đài, "
    "bệnh viện, hội đồng"
)
"""What a unit's name within an agency starts with (key form; r31): the kinds of unit of a Bộ, a
Sở or a UBND (Nghị định 123/2016/NĐ-CP, 107/2020/NĐ-CP, 108/2020/NĐ-CP). A head that starts
otherwise ("Giả mạo", "Công ty X thuộc", a person's name) is not a unit of the sealing agency."""

_OTHER_BODIES = _phrases(
    "ủy ban nhân dân, hội đồng nhân dân, chính phủ, quốc hội, bộ, sở, tỉnh, thành phố, "
    "thành ủy, huyện, quận, thị xã, xã, phường, thị trấn, công ty, tập đoàn, ngân hàng, "
    "tòa án, viện kiểm sát"
)
"""Words that name a body of its own or its place (key form; r31): a unit's name that holds one
is another body's unit, not the sealing agency's ("UBND tỉnh X, Sở Tài chính" against the Sở's
seal is its parent again; "Văn phòng Chính phủ - Bộ Tư pháp" is not the Bộ's)."""

_NOT_A_BODY = _phrases("bộ phận, xã hội")
"""Where those words are part of another ("Bộ phận Một cửa", "Thương binh và Xã hội")."""

_PLACES = _phrases("tỉnh, thành phố, huyện, quận, thị xã, xã, phường, thị trấn")
"""What the name of a place starts with (key form; r33). A seal that names a place ("Tỉnh Quảng
Ngãi") has no unit within it: every agency of the province is "within" the place, so "Thanh tra
tỉnh Quảng Ngãi" or "Ban Dân tộc tỉnh Quảng Ngãi" is another agency, not a unit of the seal's."""


@lru_cache(maxsize=4096)
def names_a_place(name: str) -> bool:
    """Whether an agency's name (key form) is a place's (pure, :data:`_PLACES`; cached, bounded)."""
    return _starts(name.split(), 0, _PLACES)


def _starts(words: Sequence[str], at: int, parts: Sequence[tuple[str, ...]]) -> bool:
    return any(tuple(words[at : at + len(p)]) == p for p in parts)


@lru_cache(maxsize=4096)
def is_unit_name(head: str) -> bool:
    """Whether the words before a sealing agency's name name a unit *within* it (pure, key form;
    cached as :func:`_agency_key` is, bounded):
    :data:`_UNIT_WORDS` words or more, starting with a unit kind (:data:`_UNIT_KINDS`), and
    naming no other body (:data:`_OTHER_BODIES`). The one rule of :func:`seal_names_sender`'s
    "unit within"."""
    words = head.split()
    return (
        len(words) >= _UNIT_WORDS
        and _starts(words, 0, _UNIT_KINDS)
        and not any(
            _starts(words, i, _OTHER_BODIES) and not _starts(words, i, _NOT_A_BODY) for i in range(len(words))
        )
    )


@dataclass(frozen=True)
class SenderMatch:
    """Whether a typed cơ quan ban hành is what one of the seals names (:func:`seal_names_sender`)."""

    matches: bool
    look_alike: bool = False
    """The typed name reads as a name the seal goes by, but with other characters."""


def seal_names_sender(typed: str, agencies: Sequence[SealAgency]) -> SenderMatch:
    """The one rule for "the seal proves this sender" (pure): the typed name is a name one of
    the agencies goes by (:func:`agency_names`, by :func:`_agency_key`), or names a unit within
    it (the agency's name is the typed name's tail, after a unit's name, :func:`is_unit_name`:
    "Vụ Pháp chế, Bộ Tư pháp" against the seal of "Bộ Tư pháp"). Never the body
    above it (O alone: a Sở's seal is not its UBND's), never a sibling. A name that has the
    same key but other characters (a Cyrillic letter) is *not* the agency (``look_alike``)."""
    key = _agency_key(typed)
    if not key:
        return SenderMatch(False)
    alike = False
    for agency in agencies:
        for name, raw in agency_names(agency):
            if key == name or (
                key.endswith(" " + name) and not names_a_place(name) and is_unit_name(key[: -len(name)])
            ):
                if set(foreign_letters(typed)) == set(foreign_letters(raw)):
                    return SenderMatch(True)
                alike = True
    return SenderMatch(False, look_alike=alike)


@dataclass(frozen=True)
class PdfIdentity:
    """What a PDF says about who sent it, read from what ingest already kept: the agencies of the
    trusted signatures (``extra.signature_agencies``) and the số/ký hiệu and ngày ban hành
    extracted from its text (``metadata.json``), each only when confident."""

    agencies: tuple[SealAgency, ...] = ()
    """The agencies of the intact, valid, trusted signatures; empty: none."""
    code: str | None = None
    """Số/ký hiệu as printed ("31/QĐ-UBND", "30/2020/NĐ-CP"), or None (not read confidently)."""
    code_confidence: float = 0.0
    issued_date: date | None = None
    date_confidence: float = 0.0
    unread: bool = False
    """The PDF's text was not read yet (no ``metadata.json``: ingest's ``metadata`` step, which runs
    after ``signatures``, has not run or died): what it prints is unknown, not absent."""
    unreadable: str = ""
    """The code of a stored ``signature_agencies`` this code cannot read (``FORMAT_UNSUPPORTED``:
    a newer format; ``FORMAT_INVALID``): who sealed it is unknown, not absent."""

    @property
    def organisations(self) -> tuple[str, ...]:
        """The agencies as shown in a message."""
        return tuple(dict.fromkeys(a.shown for a in self.agencies))

    @staticmethod
    def read(extra: Mapping[str, Any], extracted: Mapping[str, Any] | None) -> PdfIdentity:
        """From a record's ``extra`` and its ``metadata.json`` (None: not written yet); an
        extracted value that is malformed says nothing. ``signature_agencies`` is read through its
        stored format: one newer than this code, or malformed, is :attr:`unreadable`. The flat
        ``signature_organisations`` of a9 is not read: the caller works the agencies out again
        from the stored ``signatures.json``."""
        if extracted is None:
            return replace(PdfIdentity.read(extra, {}), unread=True)
        agencies, unreadable = _agencies(extra.get("signature_agencies"))
        code, code_confidence = _confident(extracted.get("so_ky_hieu"))
        when, date_confidence = _confident(extracted.get("ngay_ban_hanh"))
        issued: date | None = None
        if isinstance(when, str):
            try:
                issued = date.fromisoformat(when)
            except ValueError:
                issued = None
        return PdfIdentity(
            agencies=agencies,
            code=code if isinstance(code, str) and "/" in code else None,
            code_confidence=code_confidence,
            issued_date=issued,
            date_confidence=date_confidence,
            unreadable=unreadable,
        )


def _agencies(stored: Any) -> tuple[tuple[SealAgency, ...], str]:
    from kho.errors import KhoError
    from repository import formats

    if stored is None:
        return (), ""
    try:
        body = formats.upcast(formats.SIGNATURE_AGENCIES.name, stored)
    except KhoError as e:
        return (), e.code
    items = body.get("agencies")
    found = [SealAgency.of(i) for i in items] if isinstance(items, list) else [None]
    if any(a is None for a in found):
        return (), "FORMAT_INVALID"
    return tuple(a for a in found if a is not None and a.name), ""


def _confident(item: Any) -> tuple[Any, float]:
    if not isinstance(item, Mapping):
        return None, 0.0
    try:
        score = float(item.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return None, 0.0
    return (item.get("value"), score) if score >= CONFIDENT else (None, 0.0)


@dataclass(frozen=True)
class Mismatch:
    """One field a văn thư typed that the PDF contradicts."""

    field: str
    """``organ_name``, ``code`` (số and ký hiệu) or ``issued_date``."""
    label: str
    typed: str
    found: str
    """What the PDF says (a certificate's organisation names, or the text read)."""
    look_alike: bool = False
    """The typed name and the certificate's read alike but are other characters."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "label": self.label,
            "typed": self.typed,
            "pdf": self.found,
            "look_alike": self.look_alike,
        }


@lru_cache(maxsize=4096)
def _agency_key(name: str) -> str:
    """An agency's name as compared with a certificate: :func:`text_key`, dots, commas and
    semicolons, dashes and brackets as spaces ("TP.Hà Nội" is "TP. Hà Nội"; "Sở Tài chính (UBND
    tỉnh X)", as a refusal shows a seal's agency, is "Sở Tài chính UBND tỉnh X"), and the abbreviations every
    reader expands one way (:data:`_ABBREVIATIONS`, :data:`_AFTER_SO_BO`)."""
    key = text_key(name)
    words = key.translate(_SEPARATORS).split()
    if "-" in key or "&" in key:
        words = _joined_abbreviations(words)
    out = [
        _AFTER_SO_BO[w]
        if i and words[i - 1] in ("sở", "bộ") and w in _AFTER_SO_BO
        else _ABBREVIATIONS.get(w, w)
        for i, w in enumerate(words)
    ]
    return " ".join(out)


def _joined_abbreviations(words: list[str]) -> list[str]:
    """An abbreviation of :data:`_ABBREVIATIONS` written in pieces around a dash or "&" (r31):
    "GD-ĐT", "GD & ĐT", "LĐ-TB&XH" are "gdđt", "gd&đt", "lđtb&xh" once dashes are spaces (only a
    name with a dash or "&" is looked at, so others cost nothing more). Two or three pieces of
    at most :data:`_PIECE` characters each, joined, that are one of the table's abbreviations."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2):
            pieces = words[i : i + n]
            joined = "".join(pieces)
            if len(pieces) == n and all(len(p) <= _PIECE for p in pieces) and joined in _ABBREVIATIONS:
                out.append(joined)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


_PIECE = 5
"""The longest piece of a split abbreviation ("ptnt", "tb&xh")."""


_SEPARATORS = str.maketrans(".,;-()", "      ")


def _notation_key(text: str) -> str:
    return "".join(text_key(text).split())


@dataclass(frozen=True)
class PrintedCode:
    """A printed "số/ký hiệu" split the one way Kho stores it (:func:`split_code`)."""

    number: str
    """The số, as printed ("30", "05")."""
    notation: str
    """The ký hiệu without the year group ("NĐ-CP"): what ``code_notation`` holds."""
    year: str = ""
    """The year group of a văn bản quy phạm pháp luật's số ("2020" in "30/2020/NĐ-CP")."""


_PRINTED_DIGITS = 11
"""The longest số :func:`split_code` reads (``metadata.MAX_LENGTHS["code_number"]``)."""


def split_code(printed: str) -> PrintedCode | None:
    """ "31/QĐ-UBND" as số "31", ký hiệu "QĐ-UBND"; "30/2020/NĐ-CP" as số "30", ký hiệu "NĐ-CP"
    and year "2020" (pure; the one rule of the gate's comparison and of the suggestion a văn
    thư confirms). None: not a số (digits) followed by a ký hiệu."""
    head, _, tail = canonical_text(printed).partition("/")
    number, tail = head.strip(), tail.strip()
    if ascii_int(number, max_digits=_PRINTED_DIGITS) is None or not tail:  # (kho.digits: "٣" is no số)
        return None
    year, _, bare = tail.partition("/")
    if bare.strip() and ascii_int(year.strip(), max_digits=4) is not None:
        return PrintedCode(number, bare.strip(), year.strip())
    return PrintedCode(number, tail)


def _same_code(number: str, notation: str, printed: str) -> bool:
    """Typed số and ký hiệu against the printed "số/ký hiệu" (:func:`split_code`): the số as a
    number (05 = 5), the ký hiệu by :func:`text_key` without spaces, with or without the year
    group."""
    split = split_code(printed)
    typed_number = ascii_int(canonical_text(number))  # (kho.digits: "٣" is not 3, 5,000 digits no số)
    if split is None or typed_number is None or typed_number != ascii_int(split.number):
        return False
    choices = {_notation_key(split.notation)}
    if split.year:
        choices.add(_notation_key(f"{split.year}/{split.notation}"))
    return _notation_key(notation) in choices


def metadata_mismatches(md: DocumentMetadata, pdf: PdfIdentity) -> tuple[Mismatch, ...]:
    """What a văn thư typed for a văn bản đến that its own PDF contradicts (pure).

    * cơ quan ban hành: no trusted signature's agency is the typed sender, nor the agency the
      typed unit belongs to (:func:`seal_names_sender`: case, NFD, tone-mark placement and the
      usual abbreviations aside; never the body above the sealing agency). A name that reads the
      same but is other characters (a Cyrillic letter) is *not* the agency;
    * số, ký hiệu and ngày ban hành: the confidently read text says another.

    Only what both sides say is compared: no trusted signature, nothing read with confidence, or
    a field left empty asks nothing. A văn bản đi is decided by :func:`signer_gate`."""
    if md.direction is not Direction.DEN:
        return ()
    out: list[Mismatch] = []
    if pdf.agencies and md.organ_name:
        sender = seal_names_sender(md.organ_name, pdf.agencies)
        if not sender.matches:
            out.append(
                Mismatch(
                    "organ_name",
                    "Cơ quan ban hành",
                    md.organ_name,
                    ", ".join(pdf.organisations),
                    sender.look_alike,
                )
            )
    if (
        pdf.code
        and md.code_number
        and md.code_notation
        and not _same_code(md.code_number, md.code_notation, pdf.code)
    ):
        out.append(Mismatch("code", "Số, ký hiệu", f"{md.code_number}/{md.code_notation}", pdf.code))
    if pdf.issued_date and md.issued_date and pdf.issued_date != md.issued_date:
        out.append(
            Mismatch(
                "issued_date", "Ngày ban hành", f"{md.issued_date:%d/%m/%Y}", f"{pdf.issued_date:%d/%m/%Y}"
            )
        )
    return tuple(out)


SIGNATURES_UNREAD = "SIGNATURES_NOT_CHECKED"
""":attr:`PdfIdentity.unreadable` of a record verified before a10 whose stored verification
report (``signatures.json``) is missing or does not open (r31): which agency sealed it is not
known, so nobody can compare the typed sender, override or not (as ``signature_gate``)."""


def may_name_a_sender(extra: Mapping[str, Any]) -> bool:
    """Whether a record verified before a10 may have been sealed by a trusted agency, as its
    ``extra`` says (pure; r31): not when its PDF had no signature (``signature_count`` 0) or a9
    found no trusted agency (an empty ``signature_organisations``). Such a record whose stored
    report cannot be read is :data:`SIGNATURES_UNREAD`; the others say nothing about the sender."""
    return extra.get("signature_count") != 0 and extra.get("signature_organisations") != []


_FORMAT_MESSAGE = (
    "Tên cơ quan trên chữ ký số của văn bản được lưu ở định dạng mà phần mềm Kho này"
    " không đọc được, nên chưa đối chiếu được cơ quan ban hành đã nhập, và chưa vào sổ"
    " được. Hãy nâng cấp Kho, hoặc chạy lại việc tiếp nhận (kho ingest retry)."
)
_UNREADABLE_MESSAGES: dict[str, str] = {
    "FORMAT_UNSUPPORTED": _FORMAT_MESSAGE,
    "FORMAT_INVALID": _FORMAT_MESSAGE,
    SIGNATURES_UNREAD: (
        "Báo cáo kiểm tra chữ ký số đã lưu của văn bản bị thiếu hoặc không mở được, nên chưa biết"
        " cơ quan nào đã ký số và chưa đối chiếu được cơ quan ban hành đã nhập; văn bản chưa vào"
        " sổ được. Hãy chạy lại việc tiếp nhận (kho ingest retry) rồi vào sổ; nếu vẫn không được,"
        " hãy kiểm tra kho (kho fsck): dữ liệu đã lưu có thể đã bị xóa hoặc sửa."
    ),
}
"""The message of each :attr:`PdfIdentity.unreadable` code (Vietnamese, NFC)."""


def metadata_gate(md: DocumentMetadata, pdf: PdfIdentity, override_reason: str | None) -> GateDecision:
    """A văn bản đến whose typed sender, số/ký hiệu or date its own PDF contradicts is not
    registered (``METADATA_MISMATCH``: a forged or mistyped sender would be trusted by the
    register, search and every later step), unless a person writes why (audited by the caller,
    as for :func:`signer_gate`)."""
    if pdf.unread and md.direction is Direction.DEN:
        return GateDecision(
            False,
            code="METADATA_NOT_READ",
            message=(
                "Nội dung văn bản chưa được đọc xong từ tệp, nên chưa đối chiếu được số, ký hiệu và"
                " ngày ban hành đã nhập, và chưa vào sổ được. Hãy chờ việc tiếp nhận hoàn tất (hoặc"
                " chạy lại: kho ingest retry) rồi vào sổ."
            ),
        )
    if pdf.unreadable and md.direction is Direction.DEN:
        return GateDecision(False, code=pdf.unreadable, message=_UNREADABLE_MESSAGES[pdf.unreadable])
    found = metadata_mismatches(md, pdf)
    if not found:
        return GateDecision(True)
    if not blank(override_reason):
        return GateDecision(True, override=True, code="METADATA_MISMATCH", mismatches=found)
    return GateDecision(False, code="METADATA_MISMATCH", message=mismatch_message(found), mismatches=found)


def mismatch_message(found: Sequence[Mismatch]) -> str:
    """Each field, what was typed and what the PDF says (Vietnamese, NFC)."""
    parts = []
    for m in found:
        if m.field == "organ_name":
            says = f"chữ ký số của cơ quan trong tệp là của “{m.found}”"
            if m.look_alike:
                odd = describe(
                    foreign_letters(m.typed) + [c for o in m.found.split(", ") for c in foreign_letters(o)]
                )
                says += f" (trông giống nhưng là chuỗi ký tự khác: ký tự {odd}; có thể là cơ quan giả danh)"
        else:
            says = f"văn bản ghi “{m.found}”"
        parts.append(f"{m.label}: nhập “{m.typed}”, nhưng {says}")
    return sentences(
        "Thông tin văn bản đến không khớp với chính tệp văn bản: " + "; ".join(clause(p) for p in parts),
        "Hãy sửa cho đúng với văn bản, trả lại văn bản, hoặc nếu vẫn vào sổ thì phải ghi rõ lý do"
        " (được ghi vào nhật ký kiểm toán)",
    )
