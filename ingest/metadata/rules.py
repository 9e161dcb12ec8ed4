"""Small pure rules that read one thể thức element (NĐ 30/2020 Phụ lục I) from text.

Every matcher runs on ``fold``-ed text (no diacritics, lower case) so that OCR and
tone-placement variants match, and maps the span back to the original text, whose
length ``fold`` preserves.
"""

from __future__ import annotations

import datetime as dt
import re

from repository.vocabulary import (
    DOCUMENT_TYPES,
    SoKyHieu,
    canonical_type,
    nfc,
    parse_so_ky_hieu,
    type_from_abbreviation,
)

from .model import Citation
from .normalize import fold, fold_words, is_upper_text, squash

# --- dates (ô 4) ------------------------------------------------------------------------

# "ngày 05 tháng 3 năm 2020" with OCR variants: "ngảy", "nqay", "thảng", "nãm", "narn",
# digits split by spaces ("15   tháng 07"), and the numeric form "ngày 05/3/2020".
_NUM = r"(\d(?:\s?\d)?)"
_WORDS_DATE = (
    rf"n[gq][a-z]?[yv]\s*{_NUM}\s*[,.]?\s*th?[a-z]{{0,2}}ng\s*{_NUM}\s*[,.]?\s*"
    r"n(?:a|rn)[a-z]?m\s*(\d\s?\d\s?\d\s?\d)"
)
_NUMERIC_DATE = r"n[gq][a-z]?[yv]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})"
DATE_RE = re.compile(rf"(?:{_WORDS_DATE}|{_NUMERIC_DATE})")


def _to_date(day: str, month: str, year: str) -> dt.date | None:
    try:
        value = dt.date(*(int(part.replace(" ", "")) for part in (year, month, day)))
    except ValueError:
        return None
    return value if 1945 <= value.year <= 2100 else None


def find_dates(text: str) -> list[tuple[dt.date, int, int]]:
    """Every valid date written as "ngày … tháng … năm …" or "ngày dd/mm/yyyy", with spans."""
    out = []
    for match in DATE_RE.finditer(fold(nfc(text))):
        groups = match.groups()
        parts = groups[:3] if groups[0] is not None else groups[3:]
        value = _to_date(*parts)
        if value is not None:
            out.append((value, match.start(), match.end()))
    return out


def parse_vn_date(text: str) -> dt.date | None:
    """The first date in ``text``: ``parse_vn_date("ngày 05 tháng 3 năm 2020")`` → 2020-03-05."""
    dates = find_dates(text)
    return dates[0][0] if dates else None


_PLACE_RE = re.compile(r"(?<![\w\-/.])([^\W\d_][^\W\d_ .]*(?:[ .]+[^\W\d_][^\W\d_]*){0,5})\s*,\s*$")


def parse_place_date(line: str) -> tuple[str, dt.date] | None:
    """``"Hà Nội, ngày 05 tháng 3 năm 2020"`` → ``("Hà Nội", date(2020, 3, 5))``.

    The địa danh is the capitalised phrase right before the comma that precedes the date.
    """
    line = nfc(line)
    for value, start, _end in find_dates(line):
        match = _PLACE_RE.search(line[:start])
        if not match:
            continue
        place = squash(match.group(1))
        words = place.split()
        # Drop leading noise (an interleaved left column, OCR debris): keep the
        # capitalised tail, which is the place name.
        while words and not words[0][0].isupper():
            words.pop(0)
        if words and fold_words(words[0]) not in {"so", "ngay"}:
            return " ".join(words), value
    return None


# --- số, ký hiệu (ô 3) ------------------------------------------------------------------

_SKH_LABEL_RE = re.compile(
    r"(?:^|[^a-z0-9])(?:luat\s+|lenh\s+)?s[o6]\s*(?:hieu)?\s*[:;.]?\s*"
    r"(\d{1,4})\s*/\s*(?:((?:19|20)\d\d)\s*/\s*)?([a-z][a-z0-9\-–.]*[a-z0-9])"
)
_SKH_BARE_RE = re.compile(r"(?<![\w/])(\d{1,4})/((?:19|20)\d\d)/([a-z][a-z0-9\-–]*[a-z0-9])")


def normalise_so_ky_hieu(number: str, year: str | None, notation: str) -> SoKyHieu | None:
    """A ``SoKyHieu`` from OCR-ish pieces: ``5`` → ``05``, ``Ð`` → ``Đ``, ``–`` → ``-``."""
    notation = notation.replace("Ð", "Đ").replace("–", "-").replace(".", "").strip("-")
    number = number.lstrip("0") or "0"
    if number == "0":
        return None
    text = f"{int(number):02d}/{year + '/' if year else ''}{notation}"
    return parse_so_ky_hieu(text)


def find_so_ky_hieu(line: str, *, labelled: bool = True) -> tuple[SoKyHieu, str] | None:
    """The số, ký hiệu on a line: after a "Số:" label (OCR-tolerant) or, with
    ``labelled=False``, a bare ``NN/YYYY/KH-...`` (legal documents). Returns the value and
    the matched span of the original line."""
    line = nfc(line)
    regex = _SKH_LABEL_RE if labelled else _SKH_BARE_RE
    for match in regex.finditer(fold(line)):
        number, year, _ = match.groups()
        if not labelled:
            # Only in a title such as "THÔNG TƯ 27/2026/TT-BXD", not in running text.
            prefix = line[: match.start()].strip(" _*#>-—")
            before = fold_words(prefix).removesuffix(" so").removesuffix("so").strip()
            if prefix and (before not in _TYPES_BY_FOLD or not prefix[:1].isupper()):
                continue
            if line.rstrip().endswith((";", ",")):
                continue
        notation = line[match.start(3) : match.end(3)]
        value = normalise_so_ky_hieu(number, year, notation)
        if value is not None:
            return value, line[match.start(1) : match.end(3)]
    return None


def type_from_so_ky_hieu(value: SoKyHieu) -> str | None:
    """Loại văn bản read from the ký hiệu (STANDARDS §1.3).

    The first group names the type when it is an abbreviation; otherwise the document is a
    công văn, but only for administrative numbering (no year in the ký hiệu): a legal
    document like ``29/2026/QH16`` may be a Luật or a Nghị quyết, so that gives ``None``.
    """
    found = type_from_abbreviation(value.groups[0])
    if found:
        return found
    return "Công văn" if value.year is None else None


# --- tên loại (ô 5a) --------------------------------------------------------------------

_TYPES_BY_FOLD: dict[str, str] = {fold_words(t): t for t in DOCUMENT_TYPES}
_TYPE_FOLDS = sorted(_TYPES_BY_FOLD, key=len, reverse=True)
_TYPE_HEAD_RE = re.compile("(" + "|".join(map(re.escape, _TYPE_FOLDS)) + r")(?: |\Z)")
"""The longest folded type name that is the whole of a folded line or its first words: one
match instead of a ``startswith`` per type name (~40) for every line asked (m42). The
alternatives are tried in ``_TYPE_FOLDS`` order, so the first that fits is the loop's."""


def detect_type_title(line: str) -> tuple[str, str] | None:
    """A tên loại heading (``NGHỊ ĐỊNH``, ``LUẬT CÔNG ĐOÀN``): the canonical type and the
    rest of the line (for a Luật, its name). Leading OCR debris that is not upper case is
    skipped; the line must be upper case."""
    words = squash(nfc(line)).split()
    if fold_words(" ".join(words[:1])) in {"chuong", "muc", "phan", "dieu", "tieu"}:
        return None
    for _ in range(2):
        if words and not is_upper_text(words[0]) and len(words[0]) <= 4:
            words.pop(0)
    text = " ".join(words)
    if not text or not is_upper_text(text) or len(words) > 12:
        return None
    folded = fold_words(text)
    match = _TYPE_HEAD_RE.match(folded)
    if match is None:
        return None
    key = match.group(1)
    rest_words = words[len(key.split()) :]
    rest = " ".join(rest_words).strip(" :.-")
    if fold_words(rest) == "chung":  # "QUY ĐỊNH CHUNG": a chapter heading
        return None
    return _TYPES_BY_FOLD[key], rest


# --- quyền hạn, chức vụ, người ký (ô 7) -------------------------------------------------

QUYEN_HAN_RE = re.compile(r"^\W*(TM|KT|TUQ|TL|Q)\s*[.,]\s*(.*)$")
_QUYEN_HAN_INNER_RE = re.compile(r"(?<![^\W\d_])(TM|KT|TUQ|TL)\s*[.,]\s*([^\W\d_].*)$")


def parse_quyen_han(text: str) -> tuple[str, str] | None:
    """``"KT. BỘ TRƯỞNG"`` → ``("KT.", "BỘ TRƯỞNG")``; ``None`` if no TM./KT./Q./TL./TUQ."""
    text = squash(nfc(text))
    match = QUYEN_HAN_RE.match(text)
    if not match and is_upper_text(text):
        match = _QUYEN_HAN_INNER_RE.search(text)
    if not match or not is_upper_text(match.group(2) or "XX"):
        return None
    return match.group(1) + ".", match.group(2).strip(" ,.'\"")


_RANKS = (
    "đại tướng", "thượng tướng", "trung tướng", "thiếu tướng", "đại tá", "thượng tá",
    "trung tá", "thiếu tá", "gs.ts.", "pgs.ts.", "gs.", "pgs.", "ts.", "ths.", "bs.",
)
_RANK_HEADS = tuple(rank + " " for rank in _RANKS)
_NAME_NOISE_RE = re.compile(r"\(.*?\)|[\d|_*\"'`,;:]+$")
_NOT_NAME_TEXT = (
    "bộ trưởng thứ tướng chủ tịch phó giám đốc ủy ban tổng cục sở vụ phòng viện chánh "
    "nơi nhận lưu như trên ký đã tm kt tl tuq điều chương phụ lục mẫu số ngày tháng năm "
    "các và của về theo"
)
_NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())
_SURNAMES_TEXT = (
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đoàn đào đinh "
    "lương trương mai lâm phùng tô tạ hà cao chu thái vương la lưu triệu kiều quách đàm "
    "khúc trịnh nông lò giang tăng thân lại châu mạc âu doãn hứa khổng kim lục tống vi "
    "quan lã lầu ninh ông phí tôn từ nghiêm văn đồng bế hầu"
)
_SURNAMES = frozenset(_SURNAMES_TEXT.split())


def person_name(text: str) -> tuple[str, float] | None:
    """A signer's name (ô 7b) and how sure: 2–6 capitalised words, no title words.

    A leading military rank or academic title is dropped; an all-capitals name is
    title-cased; a known Vietnamese family name raises the score.
    """
    text = squash(_NAME_NOISE_RE.sub("", nfc(text))).strip(" .-~")
    lowered = text.lower()
    if lowered.startswith(_RANK_HEADS):  # (then the first of them, in order, as before)
        for rank in _RANKS:
            if lowered.startswith(rank + " "):
                text = text[len(rank) + 1 :].strip()
                break
    words = text.split()
    if not 2 <= len(words) <= 6:
        return None
    if any(not w.isalpha() or not w[0].isupper() for w in words):
        return None
    if any(w.lower() in _NOT_NAME_WORDS for w in words):
        return None
    if any(len(w) < 2 for w in words[:-1]) or sum(len(w) for w in words) < 6:
        return None
    if all(w.isupper() for w in words):
        if words[0].lower() not in _SURNAMES:
            return None
        words = [w.capitalize() for w in words]
    elif not all(w[1:].islower() for w in words if len(w) > 1):
        return None
    score = 0.85 if words[0].lower() in _SURNAMES else 0.55
    return " ".join(words), score


_POSITION_RE = re.compile(
    r"^(?:q |quyen )?(?:pho )?(?:thu tuong|chu tich|giam doc|tong giam doc|chanh \w+|"
    r"thong doc|chu nhiem|tong \w+ truong|\w+ truong|truong \w+|tong kiem toan|"
    r"tong thanh tra|bi thu|uy vien|kiem toan truong)\b"
)


def is_position(text: str) -> bool:
    """A chức vụ as printed in the signature block: ``PHÓ THỦ TƯỚNG``, ``Bộ trưởng Bộ Công an``."""
    text = squash(nfc(text))
    return (
        bool(text)
        and text[0].isupper()
        and len(text.split()) <= 12
        and bool(_POSITION_RE.match(fold_words(text)))
    )


# --- căn cứ (ô 6, II.6.a) ---------------------------------------------------------------

_CITE_TYPES = sorted({*DOCUMENT_TYPES, "Nghị quyết liên tịch"}, key=len, reverse=True)
_CITE_TYPE_RE = re.compile(
    r"(?<![\w])(" + "|".join(re.escape(t) for t in _CITE_TYPES) + r")(?![\w])"
)
_CITE_NUMBER_RE = re.compile(
    r"^[^;]{0,160}?(?:số\s*:?\s*|(?<=\s))(\d{1,4}\s*/\s*(?:(?:19|20)\d\d\s*/\s*)?"
    r"[A-ZĐÐ][\w\-–Đđ]*[\wĐđ])"
)
_ORGAN_STOP_RE = re.compile(
    r"\s(?:quy định|hướng dẫn|ban hành|về|sửa đổi|bổ sung|được|đã|tại|phê duyệt|thành lập|"
    r"có hiệu lực|và\s+(?=Luật|Nghị|Thông|Quyết|Pháp))|[;,.(:]"
)


def _citation_organ(segment: str) -> str | None:
    match = re.match(r"\s*(?:,\s*)?của\s+(.+)", segment)
    if not match:
        return None
    organ = _ORGAN_STOP_RE.split(match.group(1), maxsplit=1)[0].strip()
    words = organ.split()
    if not words or not words[0][0].isupper() or len(words) > 10:
        return None
    return organ


def parse_citations(text: str) -> list[Citation]:
    """Structured references in one "Căn cứ …" passage.

    Each capitalised type name (``Luật``, ``Nghị định``, ``Thông tư``…) starts a mention; a
    mention keeps its số/ký hiệu, ngày and cơ quan (after "của"). A mention with neither a
    number nor a date counts only as the first one of the passage ("Căn cứ Luật Tổ chức
    Chính phủ;"), so names inside a trích yếu are not taken for citations.
    """
    text = squash(nfc(text))
    starts = [m.start() for m in _CITE_TYPE_RE.finditer(text)]
    out: list[Citation] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        segment = text[start:end]
        loai = canonical_type(_CITE_TYPE_RE.match(segment).group(1))  # type: ignore[union-attr]
        number_match = _CITE_NUMBER_RE.match(segment)
        so_ky_hieu = None
        tail_from = len(_CITE_TYPE_RE.match(segment).group(1))  # type: ignore[union-attr]
        if number_match:
            so_ky_hieu = re.sub(r"\s+", "", number_match.group(1)).replace("Ð", "Đ")
            tail_from = number_match.end()
        dates = [d for d in find_dates(segment) if d[1] >= tail_from - 1]
        ngay = None
        if dates and dates[0][1] - tail_from < 40:
            ngay = dates[0][0]
            tail_from = dates[0][2]
        co_quan = _citation_organ(segment[tail_from:]) if (so_ky_hieu or ngay) else None
        if so_ky_hieu is None and ngay is None and index > 0:
            continue
        raw = segment.strip(" ;,.")
        out.append(Citation(loai, so_ky_hieu, ngay, co_quan, raw))
    return out
