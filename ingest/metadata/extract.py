"""Read the thể thức of a Vietnamese official document (NĐ 30/2020 Phụ lục I) from its text.

``extract_metadata`` is pure: text in, ``ExtractedMetadata`` out. It locates the header
(ô 1–5) around the Quốc hiệu or the "Số:" line, the "Căn cứ" preamble after the title, and the
signature block (ô 7) and nơi nhận (ô 9) around the "Nơi nhận" line, and applies the rules of
``rules.py`` there. Fallbacks (the promulgation sentence, "TM." in the signature, the
"Kèm theo … số … ngày …" line of an appendix) give lower confidences.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repository.vocabulary import SoKyHieu, canonical_type

from .model import Citation, Extracted, ExtractedMetadata
from .normalize import (
    clean_lines,
    fold_words,
    heading_span,
    is_separator,
    is_upper_text,
    quoc_hieu_span,
    split_columns,
    squash,
    tieu_ngu_span,
)
from .rules import (
    detect_type_title,
    find_dates,
    find_so_ky_hieu,
    is_position,
    parse_citations,
    parse_place_date,
    parse_quyen_han,
    person_name,
    type_from_so_ky_hieu,
)

HEADER_SEARCH_LINES = 150  # the header is on the first page
HEADER_BEFORE, HEADER_AFTER = 8, 30  # window around the anchor line
PREAMBLE_LINES = 120
FOOTER_BEFORE, FOOTER_AFTER = 8, 50  # window around "Nơi nhận"

# First words of an agency name (folded); a header line that starts with one begins a new
# agency, any other upper-case line continues the previous one (a wrapped name).
_ORGAN_HEADS = (
    "bo", "uy ban", "ubnd", "hdnd", "hoi dong", "so", "cuc", "chi cuc", "tong cuc", "vu",
    "phong", "chinh phu", "quoc hoi", "thu tuong", "chu tich", "van phong", "toa an", "vien",
    "ngan hang", "kho bac", "thanh tra", "bao hiem", "cong an", "dang uy", "tinh uy",
    "thanh uy", "huyen uy", "ban", "trung tam", "truong", "benh vien", "hoc vien", "dai hoc",
    "kiem toan", "tap doan", "tong cong ty", "cong ty", "doan", "lien doan", "mat tran", "hoi",
    "bo tu lenh", "bo chi huy", "quan khu", "dai su quan", "tong lien doan", "ttxvn", "dai",
)
_SIGNER_TITLES = (
    "bo truong", "thu truong", "thong doc", "chu tich", "giam doc", "thu truong",
    "chanh an", "vien truong", "tong thanh tra", "chu nhiem", "tong cuc truong",
    "cuc truong", "truong ban", "tong kiem toan", "pho chu tich", "pho giam doc",
)
_ORGAN_HEAD_RE = re.compile("(?:" + "|".join(map(re.escape, _ORGAN_HEADS)) + r")(?: |\Z)")
"""A folded part that is one of ``_ORGAN_HEADS`` or starts with one and a space: one match
instead of a ``startswith`` per head (50) for every part asked (m42)."""
_ITEM_MARK_RE = re.compile(r"^\s*[-~–•+]+\s*")
_S_LABEL_RE = re.compile(r"(?:^|[^\w])S\S?\s*(?:hiệu)?\s*:?\s*$")
_DIGIT_RE = re.compile(r"\d")
_LABEL_RE = re.compile(r"^\W*\S+\s+\S+\s*:?")
_LABEL_SPACE_RE = re.compile(r"^\W*\S+\s+\S+\s*:?\s*")
_COLON_GAP_RE = re.compile(r":\s+")
_INLINE_ITEM_RE = re.compile(r"(?:^|\s)[-~–•]\s")
_ITEM_SPLIT_RE = re.compile(r"(?:^|\n|;)\s*[-~–•+]+\s+")
_VV_RE = re.compile(r"^\W*V/[vV]\s*:?\s*(.+)")
_BODY_START_RE = re.compile(r"^(?:dieu\s+1\b|dieu\s+\d+\b|chuong\s+[ivx1]|phan\s+[ivx1])")
_PROMULGATION_RE = re.compile(
    r"^(?P<who>[A-ZĐÂƯ].{1,90}?)\s+(?:ban hành|quyết định ban hành)\s+(?P<type>[A-ZĐ][^\s,.]*(?:\s\S+)?)"
)


@dataclass(frozen=True)
class _Header:
    anchor: int
    lo: int
    hi: int


def _find_anchor(lines: list[str]) -> int | None:
    limit = min(len(lines), HEADER_SEARCH_LINES)
    for i in range(limit):
        if quoc_hieu_span(lines[i]) or tieu_ngu_span(lines[i]):
            return i
    for i in range(limit):
        if _labelled_so_ky_hieu(lines[i]):
            return i
    return None


def _labelled_so_ky_hieu(line: str) -> tuple[SoKyHieu, str] | None:
    """A "Số:" number (capital S or a colon: "Nghị định số 12/…" in running text is not)."""
    found = find_so_ky_hieu(line)
    if not found:
        return None
    at = line.find(found[1])
    label = line[max(0, at - 12) : at]
    if _S_LABEL_RE.search(label) or ":" in label:
        return found
    return None


def _first(
    lines: list[str], lo: int, hi: int, rule: Callable[[str], Any]
) -> tuple[int, Any] | tuple[None, None]:
    for i in range(lo, hi):
        found = rule(lines[i])
        if found:
            return i, found
    return None, None


def _organ_groups(parts: list[str]) -> list[str]:
    """Join wrapped lines into agency names; a leading line that names no agency (a stray
    heading) is dropped when agencies follow."""
    groups: list[tuple[bool, str]] = []
    for part in parts:
        folded = fold_words(part)
        starts_new = _ORGAN_HEAD_RE.match(folded) is not None
        if starts_new or not groups:
            groups.append((starts_new, part))
        else:
            groups[-1] = (groups[-1][0], f"{groups[-1][1]} {part}")
    if len(groups) > 1 and not groups[0][0]:
        groups = groups[1:]
    return [name for _, name in groups]


def _header_organs(
    lines: list[str], lo: int, hi: int, skip: set[int]
) -> tuple[list[str], list[str]]:
    """Agency lines of ô 2: the contiguous block of upper-case left-column parts closest to
    the "Số:" line, grouped into agencies (chủ quản first, ban hành last)."""
    found: list[tuple[int, str]] = []
    for i in range(lo, hi):
        if i in skip:
            continue
        for part in split_columns(lines[i]):
            part = part.strip(" _*#|-—–")
            folded = fold_words(part)
            if (
                not part
                or ":" in part
                or heading_span(part)
                or find_so_ky_hieu(part)
                or find_dates(part)
                or detect_type_title(part)
                or _DIGIT_RE.search(part)
                or folded.split()[:1] in (["chuong"], ["muc"], ["dieu"], ["phan"])
            ):
                continue
            head = _ORGAN_HEAD_RE.match(folded) is not None
            if is_upper_text(part) or (head and len(part.split()) <= 10 and part[0].isupper()):
                found.append((i, squash(part)))
    if not found:
        return [], []
    block = [found[-1]]
    for item in reversed(found[:-1]):
        if block[0][0] - item[0] > 3:
            break
        block.insert(0, item)
    sources = list(dict.fromkeys(lines[i].strip() for i, _ in block))
    return _organ_groups([p for _, p in block]), sources


def _is_preamble_stop(line: str) -> bool:
    folded = fold_words(line)
    return bool(
        _BODY_START_RE.match(folded)
        or folded.startswith(("theo de nghi", "xet de nghi", "kinh gui", "thuc hien"))
        or quoc_hieu_span(line)
    )


def _trich_yeu(lines: list[str], title_idx: int, rest: str, loai: str) -> tuple[str, list[int]]:
    parts: list[str] = []
    used: list[int] = []
    if rest and not find_so_ky_hieu(rest, labelled=False):
        parts.append(rest)
    for i in range(title_idx + 1, min(len(lines), title_idx + 8)):
        line = lines[i].strip()
        folded = fold_words(line)
        if (
            is_separator(line)
            or folded.startswith("can cu")
            or _is_preamble_stop(line)
            or _labelled_so_ky_hieu(line)
            or parse_place_date(line)
            or (detect_type_title(line) and parts)
        ):
            if parts or not is_separator(line):
                break
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if parts and (quoc_hieu_span(following) or _labelled_so_ky_hieu(following)):
            break  # an agency line: the header starts again below the title
        if parts and is_upper_text(line) != is_upper_text(parts[-1]):
            break  # "GIÁM ĐỐC SỞ NỘI VỤ" under a Quyết định's trích yếu: the authority line
        parts.append(squash(line.strip("_*\"")))
        used.append(i)
        if line.rstrip().endswith((".", ";")) and loai != "Luật":
            break
    words = squash(" ".join(parts)).split()
    if len(words) > 2 and words[0].isupper() and len(words[0]) <= 4 and words[1][1:].islower():
        words = words[1:]  # "ĐẾN Về …": the receipt stamp read by OCR
    return " ".join(words), used


def _preamble(lines: list[str], start: int) -> list[str]:
    """The "Căn cứ …" passages after the title, joined across wrapped lines."""
    entries: list[str] = []
    current: list[str] | None = None
    bullets = False
    for i in range(start, min(len(lines), start + PREAMBLE_LINES)):
        line = lines[i].strip()
        folded = fold_words(line)
        if _is_preamble_stop(line):
            break
        if folded.startswith("can cu"):
            if current:
                entries.append(" ".join(current))
            body = _LABEL_SPACE_RE.sub("", line, count=1)
            current = [body] if body else []
            bullets = not body
            continue
        if current is None:
            if entries:
                break
            continue
        if bullets and _ITEM_MARK_RE.match(line):
            if current:
                entries.append(" ".join(current))
            current = [_ITEM_MARK_RE.sub("", line)]
            continue
        joined = " ".join(current)
        if joined.endswith((";", ".")) and not bullets:
            entries.append(joined)
            current = None
            if joined.endswith("."):
                break
            continue
        current.append(line)
    if current:
        entries.append(" ".join(current))
    return [squash(e) for e in entries if e.strip()]


def _right_column(line: str) -> list[str]:
    """Parts of a footer line that belong to the signature column."""
    parts = split_columns(line)
    if not parts:
        return []
    out: list[str] = []
    first, rest = parts[0], parts[1:]
    folded = fold_words(first)
    if folded.startswith("noi nhan"):
        tail = _LABEL_RE.sub("", first).strip(" -—–'\"")
        if tail:
            out.append(tail)
    elif _ITEM_MARK_RE.match(first):
        if ";" in first:
            tail = first.rsplit(";", 1)[1].strip(" -—–'\"|")
            if tail:
                out.append(tail)
    else:
        out.append(first)
    for part in rest:
        out.extend(p for p in _COLON_GAP_RE.split(part) if p)
    return [p.strip(" -—–'\",.|") for p in out if p.strip(" -—–'\",.|")]


def _is_position(text: str) -> bool:
    return is_position(text)


@dataclass(frozen=True)
class _Signature:
    quyen_han: Extracted[str]
    chuc_vu: Extracted[str]
    nguoi_ky: Extracted[str]
    tap_the: str | None


def _classify(cand: str) -> tuple[str, object]:
    power = parse_quyen_han(cand)
    if power:
        return "power", power
    name = person_name(cand)
    if name:
        return "name", name
    if is_position(cand) or (is_upper_text(cand) and len(cand.split()) <= 6):
        return "title", squash(cand)
    return "other", None


def _signature(candidates: list[str]) -> _Signature | None:
    """ô 7 from the signature column: quyền hạn lines, chức vụ, then the name.

    A name counts when a quyền hạn or chức vụ line comes right before it (or, with a known
    family name, up to four lines before, or right after it: some text layers put the name
    first).
    """
    items: list[tuple[str, object, str]] = []
    for cand in candidates:
        cand = squash(cand)
        if not cand or fold_words(cand).startswith(("da ky", "ky ")) or fold_words(cand) == "ky":
            continue
        kind, value = _classify(cand)
        items.append((kind, value, cand))
    for index, (kind, value, cand) in enumerate(items):
        if kind != "name":
            continue
        name, score = value  # type: ignore[misc]
        before = items[max(0, index - 4) : index]
        near = [it for it in before if it[0] in ("power", "title")]
        adjacent = bool(before) and before[-1][0] in ("power", "title")
        if adjacent or (near and score >= 0.8):
            start = index
            while start > 0 and items[start - 1][0] in ("power", "title"):
                start -= 1
            return _build_signature(items[start:index], (name, score), cand)
        after = items[index + 1 : index + 2]
        if score >= 0.8 and after and after[0][0] == "title" and is_position(after[0][2]):
            return _build_signature(after, (name, score), cand)
    powers = [it for it in items if it[0] == "power"]
    if powers:
        start = items.index(powers[0])
        end = start
        while end < len(items) and items[end][0] in ("power", "title"):
            end += 1
        return _build_signature(items[start:end], None, "")
    return None


def _build_signature(
    block: list[tuple[str, object, str]], name: tuple[str, float] | None, name_source: str
) -> _Signature:
    powers = [(v[0], v[1], src) for kind, v, src in block if kind == "power"]  # type: ignore[index]
    titles = [v for kind, v, _ in block if kind == "title" and is_position(str(v))]
    for abbr, obj, _src in powers:
        pieces = [p.strip() for p in str(obj).split(",") if p.strip()]
        titles = [p for p in pieces[1:] if is_position(p)] + titles if abbr else titles
    quyen_han: Extracted[str] = Extracted()
    tap_the = None
    if powers:
        quyen_han = Extracted(powers[-1][0], 0.9, " / ".join(p[2] for p in powers))
        tap_the = next((str(p[1]) for p in powers if p[0] == "TM."), None)
    chuc_vu: Extracted[str] = Extracted()
    if titles:
        chuc_vu = Extracted(str(titles[-1]), 0.85, str(titles[-1]))
    elif powers and powers[-1][0] != "TM.":
        # "Q. GIÁM ĐỐC": the office itself; for KT./TL./TUQ. only the office signed for.
        obj = str(powers[-1][1]).split(",")[0].strip()
        chuc_vu = Extracted(obj, 0.5, powers[-1][2])
    nguoi_ky: Extracted[str] = Extracted()
    if name:
        nguoi_ky = Extracted(name[0], name[1], name_source)
    return _Signature(quyen_han, chuc_vu, nguoi_ky, tap_the)


def _signature_candidates(lines: list[str], lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for i in range(lo, hi):
        out.extend(_right_column(lines[i]))
    return out


def _noi_nhan(lines: list[str], start: int) -> tuple[list[str], list[str]]:
    """Items of "Nơi nhận:" (ô 9b): left column, one per "-" line, up to "Lưu: …"."""
    first = split_columns(lines[start])
    head = first[0] if first else ""
    stream: list[str] = []
    after_label = _LABEL_RE.sub("", head).strip()
    inline = _INLINE_ITEM_RE.search(after_label)
    if inline:
        stream.append(after_label[inline.start() :].strip())
    sources = [lines[start].strip()]
    for i in range(start + 1, min(len(lines), start + 60)):
        parts = split_columns(lines[i])
        if not parts:
            continue
        left = parts[0]
        if _ITEM_MARK_RE.match(left):
            stream.append(left)
        elif stream and (left[:1].islower() or not stream[-1].rstrip().endswith((";", "."))):
            if parse_quyen_han(left) or _is_position(left) or person_name(left):
                break
            stream[-1] = f"{stream[-1]} {left}"
        else:
            break
        sources.append(lines[i].strip())
        if fold_words(_ITEM_MARK_RE.sub("", left)).startswith("luu"):
            break
    items: list[str] = []
    text = "\n".join(stream)
    for chunk in _ITEM_SPLIT_RE.split(text):
        for index, piece in enumerate(chunk.split(";")):
            piece = squash(piece).strip(" .;,-~—'\"")
            if not piece or parse_quyen_han(piece):
                continue
            # After a ";" on the same line comes either another recipient or the signature
            # column (chức vụ, name) that the text layer put on the same line.
            if index > 0 and (is_upper_text(piece) or is_position(piece) or person_name(piece)):
                continue
            items.append(piece)
    return items, sources


def _kinh_gui(lines: list[str], lo: int, hi: int) -> list[str]:
    for i in range(lo, hi):
        line = lines[i].strip()
        if not fold_words(line).startswith("kinh gui"):
            continue
        rest = _LABEL_SPACE_RE.sub("", line).strip(" .;")
        if rest:
            return [rest]
        items = []
        for j in range(i + 1, min(hi + 10, len(lines))):
            nxt = lines[j].strip()
            if not _ITEM_MARK_RE.match(nxt):
                break
            items.append(_ITEM_MARK_RE.sub("", nxt).strip(" .;"))
        return items
    return []


def _organ_from_promulgation(lines: list[str], lo: int, hi: int) -> Extracted[str]:
    for i in range(lo, min(hi, len(lines))):
        line = squash(lines[i])
        match = _PROMULGATION_RE.match(line)
        if not match or (not canonical_type(match.group("type")) and not canonical_type(
            match.group("type").split()[0]
        )):
            continue
        who = match.group("who")
        folded = fold_words(who)
        for title in _SIGNER_TITLES:
            if folded.startswith(title + " "):
                who = " ".join(who.split()[len(title.split()) :])
                break
        if who and who[0].isupper() and len(who.split()) <= 12:
            return Extracted(who, 0.7, line)
    return Extracted()


def _appendix_reference(lines: list[str], start: int) -> Citation | None:
    """The "(Kèm theo <loại> số … ngày …)" line under an appendix title (Phụ lục I, III.1.c)
    refers to this document; "Ban hành kèm theo …" in a form quotes some other one."""
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not fold_words(line[:20]).startswith("kem theo"):
            continue
        text = squash(" ".join(lines[i : i + 2]))
        text = text[text.find("theo") + 4 :]
        cites = parse_citations(text)
        if cites and cites[0].so_ky_hieu and text.strip().startswith(cites[0].raw[:8]):
            return cites[0]
    return None


def extract_metadata(text: str) -> ExtractedMetadata:
    """Pre-filled metadata of one official document, each field with confidence and source."""
    lines = clean_lines(text)
    anchor = _find_anchor(lines)
    if anchor is None:
        anchor = 0
        lo, hi = 0, min(len(lines), 40)
    else:
        lo, hi = max(0, anchor - HEADER_BEFORE), min(len(lines), anchor + HEADER_AFTER)

    # ô 3: số, ký hiệu
    so_ky_hieu: Extracted[SoKyHieu] = Extracted()
    skh_idx, found = _first(lines, lo, hi, _labelled_so_ky_hieu)
    if found:
        value, span = found  # type: ignore[misc]
        so_ky_hieu = Extracted(value, 0.95 if str(value) == squash(span) else 0.8,
                               lines[skh_idx].strip())  # type: ignore[index]
    else:
        bare_idx, found = _first(lines, lo, hi, lambda s: find_so_ky_hieu(s, labelled=False))
        if found:
            so_ky_hieu = Extracted(found[0], 0.6, lines[bare_idx].strip())  # type: ignore[index]

    # ô 4: địa danh, ngày tháng năm
    dia_danh: Extracted[str] = Extracted()
    ngay: Extracted[dt.date] = Extracted()
    date_idx, found = _first(lines, lo, hi, parse_place_date)
    if found:
        place, value = found  # type: ignore[misc]
        source = lines[date_idx].strip()  # type: ignore[index]
        dia_danh, ngay = Extracted(place, 0.9, source), Extracted(value, 0.95, source)
    else:
        for i in range(lo, hi):
            if fold_words(lines[i]).startswith("ngay") and find_dates(lines[i]):
                ngay = Extracted(find_dates(lines[i])[0][0], 0.6, lines[i].strip())
                date_idx = i
                break

    # ô 5a/5b: tên loại, trích yếu
    title_idx, found = _first(lines, anchor, hi, detect_type_title)
    if not found:
        title_idx, found = _first(lines, lo, anchor, detect_type_title)
    loai: Extracted[str] = Extracted()
    trich_yeu: Extracted[str] = Extracted()
    used: list[int] = []
    body_from = (skh_idx or date_idx or anchor) + 1
    if found:
        type_name, rest = found  # type: ignore[misc]
        loai = Extracted(type_name, 0.9, lines[title_idx].strip())  # type: ignore[index]
        summary, used = _trich_yeu(lines, title_idx, rest, type_name)  # type: ignore[arg-type]
        if summary:
            src = "\n".join(lines[i].strip() for i in [title_idx, *used])  # type: ignore[list-item]
            trich_yeu = Extracted(summary, 0.8, src)
        body_from = max(used or [title_idx]) + 1  # type: ignore[type-var]
    else:
        vv_idx, vv = _first(lines, lo, hi, _VV_RE.match)
        if vv:
            summary = vv.group(1)  # type: ignore[attr-defined]
            for j in range(vv_idx + 1, min(hi, vv_idx + 4)):  # type: ignore[operator]
                nxt = lines[j].strip()
                if not nxt[:1].islower():
                    break
                summary += " " + nxt
            trich_yeu = Extracted(squash(summary), 0.8, lines[vv_idx].strip())  # type: ignore[index]
            loai = Extracted("Công văn", 0.8, lines[vv_idx].strip())  # type: ignore[index]
            body_from = vv_idx + 1  # type: ignore[operator]
    if loai.value is None and so_ky_hieu.value is not None:
        guess = type_from_so_ky_hieu(so_ky_hieu.value)
        if guess:
            loai = Extracted(guess, 0.6, so_ky_hieu.source)

    # ô 2: cơ quan chủ quản / ban hành
    organ_hi = max(skh_idx if skh_idx is not None else anchor, anchor) + 1
    skip = {i for i in [title_idx, *used, skh_idx, date_idx] if i is not None}
    groups, organ_sources = _header_organs(lines, lo, min(organ_hi, hi), skip)
    co_quan_ban_hanh: Extracted[str] = Extracted()
    co_quan_chu_quan: Extracted[str] = Extracted()
    if groups:
        co_quan_ban_hanh = Extracted(groups[-1], 0.9, "\n".join(organ_sources))
        if len(groups) > 1:
            co_quan_chu_quan = Extracted(" ".join(groups[:-1]), 0.8, "\n".join(organ_sources))

    # ô 6: căn cứ
    entries = _preamble(lines, body_from)
    citations = tuple(c for e in entries for c in parse_citations(e))
    can_cu: Extracted[tuple[Citation, ...]] = (
        Extracted(citations, 0.8, "\n".join(entries)) if citations else Extracted()
    )

    # ô 7 and ô 9: signature and nơi nhận
    footer_from = body_from
    nn_idx = next(
        (i for i in range(footer_from, len(lines)) if fold_words(lines[i]).startswith("noi nhan")),
        None,
    )
    signature: _Signature | None = None
    noi_nhan_items: list[str] = []
    noi_nhan_sources: list[str] = []
    if nn_idx is not None:
        cands = _signature_candidates(
            lines, max(footer_from, nn_idx - FOOTER_BEFORE), min(len(lines), nn_idx + FOOTER_AFTER)
        )
        signature = _signature(cands)
        real_nn = nn_idx
        for i in range(nn_idx, min(len(lines), nn_idx + 3)):
            if fold_words(lines[i]).startswith("noi nhan") and (
                ":" in lines[i] or (i + 1 < len(lines) and _ITEM_MARK_RE.match(lines[i + 1]))
            ):
                real_nn = i
        noi_nhan_items, noi_nhan_sources = _noi_nhan(lines, real_nn)
    if signature is None or signature.nguoi_ky.value is None:
        for i in range(footer_from, len(lines)):
            line = lines[i].strip()
            if parse_quyen_han(line) or is_position(line):
                other = _signature(_signature_candidates(lines, i, min(len(lines), i + 10)))
                if other and other.nguoi_ky.value is not None:
                    signature = other
                    break
    kinh_gui = _kinh_gui(lines, lo, min(len(lines), hi + 20))
    recipients = tuple(kinh_gui + [i for i in noi_nhan_items if i not in kinh_gui])
    noi_nhan: Extracted[tuple[str, ...]] = (
        Extracted(recipients, 0.8, "\n".join(noi_nhan_sources)) if recipients else Extracted()
    )

    # Fallbacks: who promulgates, the TM. collective, the appendix reference.
    if co_quan_ban_hanh.value is None:
        co_quan_ban_hanh = _organ_from_promulgation(lines, body_from, body_from + PREAMBLE_LINES)
    if co_quan_ban_hanh.value is None and signature and signature.tap_the:
        co_quan_ban_hanh = Extracted(signature.tap_the, 0.6, signature.quyen_han.source)
    if so_ky_hieu.value is None or ngay.value is None:
        ref = _appendix_reference(lines, body_from)
        if ref and loai.value is not None and ref.loai != loai.value:
            ref = None  # an appendix of another document (a form quoting its own source)
        if ref and so_ky_hieu.value is None and ref.so_ky_hieu:
            value = find_so_ky_hieu(f"Số: {ref.so_ky_hieu}")
            if value:
                so_ky_hieu = Extracted(value[0], 0.5, ref.raw)
        if (
            ref
            and ngay.value is None
            and ref.ngay
            and so_ky_hieu.value is not None
            and ref.so_ky_hieu == str(so_ky_hieu.value)
        ):
            ngay = Extracted(ref.ngay, 0.5, ref.raw)
    if ngay.value is None and loai.value == "Luật":
        for line in lines[body_from:]:
            if "thong qua ngay" in fold_words(line):
                dates = find_dates(line)
                if dates:
                    ngay = Extracted(dates[-1][0], 0.7, line.strip())
                    break
    if loai.value is None and so_ky_hieu.value is not None:
        guess = type_from_so_ky_hieu(so_ky_hieu.value)
        if guess:
            loai = Extracted(guess, 0.5, so_ky_hieu.source)

    return ExtractedMetadata(
        co_quan_chu_quan=co_quan_chu_quan,
        co_quan_ban_hanh=co_quan_ban_hanh,
        so_ky_hieu=so_ky_hieu,
        dia_danh=dia_danh,
        ngay_ban_hanh=ngay,
        loai_van_ban=loai,
        trich_yeu=trich_yeu,
        quyen_han=signature.quyen_han if signature else Extracted(),
        chuc_vu=signature.chuc_vu if signature else Extracted(),
        nguoi_ky=signature.nguoi_ky if signature else Extracted(),
        noi_nhan=noi_nhan,
        can_cu=can_cu,
    )
