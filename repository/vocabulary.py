"""Controlled vocabularies of NĐ 30/2020/NĐ-CP and pure parsers for số/ký hiệu and codes.

No I/O here: every rule is a plain function so that ingest, search and the web layer can use
it without a store.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from repository.identifiers import ORGAN_ID_RE as ORGAN_ID_RE
from repository.identifiers import is_organ_id as is_organ_id


def nfc(text: str) -> str:
    """Unicode NFC (TCVN 6909:2001)."""
    return unicodedata.normalize("NFC", text)


_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (tab and line breaks excepted) and the bidirectional embeddings, overrides
and isolates (the left-to-right and right-to-left marks, harmless and sometimes pasted from
office software, are let through)."""


class TextKind(IntEnum):
    """The kinds of free text a person types, each with the most characters it may hold (after
    NFC and strip; the value is the limit). Picked from the field lengths of Nghị định 30,
    Phụ lục VI, the only lengths the decree sets:

    - ``LINE`` (200): a one-line reference or name (số, ngày of a quyết định or biên bản, căn cứ
      thu hồi, the source of a certificate, a name one gives): the widest one-line name of
      Phụ lục VI, “Tên cơ quan, tổ chức ban hành văn bản” (OrganName, 200); a số (11) with its
      ký hiệu (30) and a date fit five times over.
    - ``NOTE`` (1,000): a note, an opinion or a reason: “Ghi chú” is 500 there; a reason may quote
      the order it follows, so twice that, the widest free field of Phụ lục VI (ToPlaces, 1000)
      and the limit a hồ sơ's return reason already had (``REASON_TOO_LONG``).
    - ``DOCUMENT`` (20,000): a text that is a document of its own (bản thuyết minh, biên bản họp,
      văn bản thẩm định, a handling step's content): no field of the decree, about seven A4
      pages of 13-point Times New Roman (Phụ lục I), far below the request body limit."""

    LINE = 200
    NOTE = 1000
    DOCUMENT = 20000


def typed_text(
    text: str, field: str, label: str, *, line_breaks: bool = True, kind: TextKind | None = None
) -> str:
    """A free text a person typed (a note, a reason, minutes, a name they give): NFC and
    stripped. The one rule for all of them: a hidden character (:func:`has_hidden_characters`;
    with ``line_breaks=False`` tab, CR and LF too) is refused with ``FIELD_CONTROL_CHARS``, a
    text longer than its ``kind`` allows (:class:`TextKind`; by default ``LINE`` without line
    breaks, ``NOTE`` with them) with ``FIELD_TOO_LONG``
    (:class:`~kho.errors.ValidationFailed`, 422) naming ``field`` and the limit, before anything
    is written."""
    from kho.errors import FieldError, ValidationFailed

    if has_hidden_characters(text, line_breaks=not line_breaks):
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    "FIELD_CONTROL_CHARS",
                    f"“{label}” chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản không hợp lệ.",
                )
            ]
        )
    out = nfc(text).strip()
    limit = kind if kind is not None else (TextKind.NOTE if line_breaks else TextKind.LINE)
    if len(out) > limit:
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    "FIELD_TOO_LONG",
                    f"“{label}” dài {len(out)} ký tự, vượt quá giới hạn {int(limit)} ký tự.",
                )
            ]
        )
    return out


_SHOWS_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols drawn as nothing (Hangul fillers, the blank Braille pattern); the
format characters (category Cf: U+00AD soft hyphen, U+200B zero-width space, U+200C/D
joiners, U+2060 word joiner, U+FEFF byte order mark, the direction marks …) are told by their
category."""


def blank(text: str | None) -> bool:
    """Whether ``text`` shows nothing to a reader (pure): None, empty, or no character that is
    drawn on its own. Drawn on its own: a letter, digit, punctuation mark or symbol (Unicode
    categories L, N, P, S) that is not one of :data:`_SHOWS_NOTHING`. Everything else shows
    nothing by itself: white space, format characters (U+00AD, U+200B, U+2060, U+FEFF, the
    direction marks …), and marks that only sit on a letter (category M: U+034F combining
    grapheme joiner, the variation selectors U+FE00–U+FE0F, a lone U+0301 acute, U+17B4), as
    well as private-use and unassigned code points. A reason that is required is refused when
    it is blank: ``str.strip`` keeps a zero-width space, so " \u200b" passed for a reason
    before, and a list of invisible characters let "\u034f" pass (review rv41)."""
    if text is None:
        return True
    return not any(
        unicodedata.category(c)[0] in "LNPS" and c not in _SHOWS_NOTHING for c in text
    )


def refuse_line_breaks(text: str | None, field: str, label: str) -> None:
    """Refuse a one-line reason holding a line break or a hidden character, with
    :func:`typed_text`'s own refusal (``FIELD_CONTROL_CHARS``, its one message), before anything
    is written: as ``acknowledge.clean_reason`` (u35). u36: the retention and account reasons
    folded line breaks into spaces silently (invariant 6: never a silent fix). The length stays
    the caller's rule, and so is a blank one (its own "required" code: nothing is folded)."""
    if blank(text or ""):
        return
    if has_hidden_characters(text or "", line_breaks=True):
        typed_text(text or "", field, label, line_breaks=False, kind=TextKind.DOCUMENT)


def has_hidden_characters(text: str, *, line_breaks: bool = False) -> bool:
    """Whether ``text`` holds a character that no Vietnamese text needs and that makes it read
    differently from what it is: a control character, or a bidirectional override (U+202E turns
    ``hoa-don\u202exslx.pdf`` into "hoa-donfdp.xslx" on screen). ``line_breaks``: tab, CR, LF
    and the Unicode line and paragraph separators (U+2028, U+2029: a text that is one line on
    one screen and two on another) count too (a file name has none)."""
    if line_breaks and any(c in text for c in "\t\n\r\u2028\u2029"):
        return True
    return _HIDDEN.search(text) is not None


def without_hidden_characters(text: str) -> str:
    """``text`` with what :func:`has_hidden_characters` finds (line breaks and tab included)
    taken out: for showing a text stored before such characters were refused (a file name in
    a download's header), never for storing one."""
    return _HIDDEN.sub("", text).replace("\t", "").replace("\n", "").replace("\r", "")


# Phụ lục III, I: administrative document types and their abbreviations (exact case).
ADMINISTRATIVE_TYPES: dict[str, str] = {
    "Nghị quyết": "NQ",
    "Quyết định": "QĐ",
    "Chỉ thị": "CT",
    "Quy chế": "QC",
    "Quy định": "QyĐ",
    "Thông cáo": "TC",
    "Thông báo": "TB",
    "Hướng dẫn": "HD",
    "Chương trình": "CTr",
    "Kế hoạch": "KH",
    "Phương án": "PA",
    "Đề án": "ĐA",
    "Dự án": "DA",
    "Báo cáo": "BC",
    "Biên bản": "BB",
    "Tờ trình": "TTr",
    "Hợp đồng": "HĐ",
    "Công điện": "CĐ",
    "Bản ghi nhớ": "BGN",
    "Bản thỏa thuận": "BTT",
    "Giấy ủy quyền": "GUQ",
    "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT",
    "Giấy nghỉ phép": "GNP",
    "Phiếu gửi": "PG",
    "Phiếu chuyển": "PC",
    "Phiếu báo": "PB",
    "Bản sao y": "SY",
    "Bản trích sao": "TrS",
    "Bản sao lục": "SL",
}

# Types without an abbreviation of their own (ký hiệu = cơ quan-đơn vị).
TYPES_WITHOUT_ABBREVIATION: tuple[str, ...] = ("Công văn", "Thư công")

# Legal normative documents (VBQPPL, Luật Ban hành VBQPPL) and their usual ký hiệu groups.
LEGAL_TYPES: dict[str, str] = {
    "Hiến pháp": "HP",
    "Bộ luật": "BLDS",  # placeholder group; bộ luật numbers are NN/YYYY/QHxx
    "Luật": "QH",
    "Pháp lệnh": "UBTVQH",
    "Lệnh": "L-CTN",
    "Nghị định": "NĐ",
    "Thông tư": "TT",
    "Thông tư liên tịch": "TTLT",
    "Văn bản hợp nhất": "VBHN",
}

COPY_TYPES: frozenset[str] = frozenset({"SY", "TrS", "SL"})

DOCUMENT_TYPES: tuple[str, ...] = (
    *ADMINISTRATIVE_TYPES.keys(),
    *TYPES_WITHOUT_ABBREVIATION,
    *LEGAL_TYPES.keys(),
)

_ABBREVIATION_TO_TYPE: dict[str, str] = {v: k for k, v in ADMINISTRATIVE_TYPES.items()} | {
    "NĐ": "Nghị định",
    "TT": "Thông tư",
    "TTLT": "Thông tư liên tịch",
    "VBHN": "Văn bản hợp nhất",
}


def _fold_type(name: str) -> str:
    # "Giấy uỷ quyền" and "Giấy ủy quyền" are the same type (tone-mark placement).
    return nfc(name).casefold().replace("uỷ", "ủy").replace("oà", "òa").replace("oả", "ỏa")


_FOLDED_TYPES = {_fold_type(t): t for t in DOCUMENT_TYPES}


def canonical_type(name: str) -> str | None:
    """The canonical spelling of a loại văn bản, or ``None`` if it is not one."""
    return _FOLDED_TYPES.get(_fold_type(name.strip()))


def type_abbreviation(name: str) -> str | None:
    canon = canonical_type(name)
    if canon is None:
        return None
    return ADMINISTRATIVE_TYPES.get(canon) or LEGAL_TYPES.get(canon)


def type_from_abbreviation(abbreviation: str) -> str | None:
    return _ABBREVIATION_TO_TYPE.get(abbreviation)


class Urgency(IntEnum):
    """Mức độ khẩn (Phụ lục I III.2.b); edXML Priority 0–3, higher is more urgent."""

    THUONG = 0
    KHAN = 1
    THUONG_KHAN = 2
    HOA_TOC = 3

    @property
    def label(self) -> str:
        return _URGENCY_LABELS[self]


_URGENCY_LABELS = {
    Urgency.THUONG: "Thường",
    Urgency.KHAN: "Khẩn",
    Urgency.THUONG_KHAN: "Thượng khẩn",
    Urgency.HOA_TOC: "Hỏa tốc",
}


class Secrecy(IntEnum):
    """Độ mật (Luật Bảo vệ bí mật nhà nước): kept apart from urgency."""

    THUONG = 0
    MAT = 1
    TOI_MAT = 2
    TUYET_MAT = 3

    @property
    def label(self) -> str:
        return _SECRECY_LABELS[self]


_SECRECY_LABELS = {
    Secrecy.THUONG: "Thường",
    Secrecy.MAT: "Mật",
    Secrecy.TOI_MAT: "Tối mật",
    Secrecy.TUYET_MAT: "Tuyệt mật",
}


class Direction(StrEnum):
    DEN = "den"  # văn bản đến
    DI = "di"  # văn bản đi


# --- số, ký hiệu (Phụ lục I, II.3; STANDARDS §1.3) -------------------------------------

_GROUP = r"[^\W\d_][^\W_]*"  # a letter, then letters/digits (Unicode-aware)
CODE_NUMBER_RE = re.compile(r"^(?:0[1-9]|[1-9][0-9]+)$")  # ASCII digits: "1٢" is not 12
CODE_NOTATION_RE = re.compile(rf"^{_GROUP}(?:-{_GROUP})*$")
# Legal documents carry the year inside the ký hiệu: 30/2020/NĐ-CP.
SO_KY_HIEU_RE = re.compile(
    rf"^(?P<so>0[1-9]|[1-9][0-9]+)/(?:(?P<year>(?:19|20)[0-9][0-9])/)?(?P<kyhieu>{_GROUP}(?:-{_GROUP})*)$"
)


@dataclass(frozen=True)
class SoKyHieu:
    """A parsed số, ký hiệu such as ``123/QĐ-UBND`` or ``30/2020/NĐ-CP``."""

    number: int
    notation: str
    year: int | None = None

    @property
    def code_number(self) -> str:
        return format_number(self.number)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.notation.split("-"))

    @property
    def type_name(self) -> str:
        """Loại văn bản read from the first group; a công văn when it names an agency."""
        return type_from_abbreviation(self.groups[0]) or "Công văn"

    def __str__(self) -> str:
        middle = f"{self.year}/" if self.year else ""
        return f"{self.code_number}/{middle}{self.notation}"


def format_number(number: int) -> str:
    """Arabic numerals with a leading zero below 10 (``1`` → ``01``)."""
    if number < 1:
        raise ValueError("document numbers start at 1")
    return f"{number:02d}"


def parse_so_ky_hieu(text: str) -> SoKyHieu | None:
    """Parse ``123/QĐ-UBND``; ``None`` if it breaks the format (no spaces, leading zero <10).

    A leading ``Số:`` label and surrounding spaces are tolerated; inner spaces are not.
    """
    text = nfc(text).strip()
    text = re.sub(r"^(?i:số)\s*:?\s*", "", text)
    match = SO_KY_HIEU_RE.match(text)
    if not match:
        return None
    kyhieu = match["kyhieu"]
    if not kyhieu[0].isupper():
        return None
    year = int(match["year"]) if match["year"] else None
    return SoKyHieu(number=int(match["so"]), notation=kyhieu, year=year)


def pad_code_number(text: str) -> str:
    """A number below 10 typed without its leading zero gets it (``5`` → ``05``, Phụ lục I
    II.3.a); anything else is returned as it is, for :func:`is_code_number` to judge."""
    return f"0{text}" if len(text) == 1 and text in "123456789" else text


def is_code_number(text: str) -> bool:
    return bool(CODE_NUMBER_RE.match(text))


def is_code_notation(text: str) -> bool:
    text = nfc(text)
    return bool(CODE_NOTATION_RE.match(text)) and text[0].isupper() and len(text) <= 30


# --- identifiers (STANDARDS §3.1, §3.2) -------------------------------------------------

LEGACY_ORGAN_ID_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
# Mã hồ sơ: <OrganId>.<năm>.<số và ký hiệu hồ sơ>, e.g. 000.00.18.H40.2011.01.TH
FILE_CODE_RE = re.compile(
    r"^(?P<organ>[A-Z0-9]+(?:\.[A-Z0-9]+)*?)\.(?P<year>(?:19|20)[0-9][0-9])\.(?P<notation>[0-9]{2,}(?:\.[A-ZĐ0-9]+)*)$"
)


@dataclass(frozen=True)
class FileCode:
    """Mã hồ sơ = mã định danh cơ quan + năm hình thành + số và ký hiệu hồ sơ."""

    organ_id: str
    year: int
    notation: str

    def __str__(self) -> str:
        return f"{self.organ_id}.{self.year}.{self.notation}"


def parse_file_code(text: str) -> FileCode | None:
    match = FILE_CODE_RE.match(nfc(text).strip())
    if not match or not is_organ_id(match["organ"]):
        return None
    return FileCode(match["organ"], int(match["year"]), match["notation"])


def document_identifier(organ_id: str, issued: str, so_ky_hieu: SoKyHieu) -> str:
    """edXML DocumentId: ``<OrganId>,<yyyy/MM/dd>,<số>/<ký hiệu>`` (``issued`` is ISO date)."""
    return f"{organ_id},{issued.replace('-', '/')},{so_ky_hieu}"
