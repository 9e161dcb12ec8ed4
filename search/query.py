"""The query model: plain frozen data, independent of any engine, translated by each backend.

:func:`parse_query` turns what a person typed into a :class:`Query`: quoted phrases, số/ký hiệu
and free text. Nothing the user types is ever passed to an engine's own query syntax: operators
and special characters are only separators, so a stray ``"``, ``(``, ``*`` or ``:`` cannot
change what is searched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from kho.digits import ascii_int
from kho.errors import KhoError
from kho.textkey import plain_text
from search.analysis import find_so_ky_hieu, syllables

MAX_QUERY_CHARS = 1000
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000



class QueryInvalid(KhoError):
    code = "SEARCH_QUERY_INVALID"
    http_status = 400


class DateInvalid(QueryInvalid):
    code = "SEARCH_DATE_INVALID"


@dataclass(frozen=True)
class Principal:
    """Who is searching: results, counts, facets and highlights cover only what they may see.

    Built from the access policy (:func:`repository.policy.search_scope`, via
    :meth:`from_scope`): a document matches when ``do_mat <= max_secrecy`` and its owner unit
    or a granted unit is in ``units``, or ``user_id`` is among its named viewers
    (``grant_users``: grants and its creator), or one of its ``archive_units`` is in
    ``archive_units``. ``everything`` is for Kho's own processes only
    (consistency checks, evaluation scripts), never for a person.
    """

    user_id: str
    units: tuple[str, ...] = ()
    max_secrecy: int = 0
    everything: bool = False
    archive_units: tuple[str, ...] = ()
    """The units whose hồ sơ the person receives as Lưu trữ cơ quan: a document whose
    ``archive_units`` meet these matches too (review u24)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", tuple(sorted(set(self.units))))
        object.__setattr__(self, "archive_units", tuple(sorted(set(self.archive_units))))

    @property
    def sees_all(self) -> bool:
        return self.everything

    @classmethod
    def from_scope(cls, scope: Any) -> Principal:
        """From a :class:`repository.policy.SearchScope` (duck-typed: search does not import
        the repository)."""
        return cls(
            scope.user, tuple(scope.units), int(scope.max_secrecy),
            archive_units=tuple(getattr(scope, "archive_units", ())),
        )


@dataclass(frozen=True)
class DateRange:
    """Inclusive on both ends; either end may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise DateInvalid(
                f"Khoảng ngày không hợp lệ: ngày bắt đầu {self.start:%d/%m/%Y} sau ngày kết thúc "
                f"{self.end:%d/%m/%Y}.",
                start=self.start.isoformat(),
                end=self.end.isoformat(),
            )


@dataclass(frozen=True)
class Filters:
    """Every filter is conjunctive; inside one field the values are alternatives (OR)."""

    direction: tuple[str, ...] = ()
    loai_van_ban: tuple[str, ...] = ()
    co_quan_ban_hanh: tuple[str, ...] = ()
    ngay_ban_hanh: DateRange | None = None
    ngay_den: DateRange | None = None
    do_khan: tuple[int, ...] = ()
    do_mat: tuple[int, ...] = ()
    signature_verdict: tuple[str, ...] = ()
    ho_so: tuple[str, ...] = ()
    retention_state: tuple[str, ...] = ()
    nguoi_ky: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    """Owner units (ids): the đơn vị a document belongs to, not the units it is shared with."""

    def __post_init__(self) -> None:
        for name in KEYWORD_FILTERS + INT_FILTERS:
            object.__setattr__(self, name, tuple(getattr(self, name)))


KEYWORD_FILTERS: tuple[str, ...] = (
    "direction", "loai_van_ban", "co_quan_ban_hanh", "signature_verdict", "ho_so",
    "retention_state", "nguoi_ky", "unit",
)
INT_FILTERS: tuple[str, ...] = ("do_khan", "do_mat")
FACETS: tuple[str, ...] = (
    "direction", "loai_van_ban", "co_quan_ban_hanh", "do_khan", "do_mat", "signature_verdict",
    "retention_state", "nguoi_ky", "ho_so", "year", "unit",
)
"""Facets a backend can count (``year`` = year of ngày ban hành, or ngày đến; ``unit`` = the
owner unit's id, which the caller names: search does not read the unit list)."""


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DATE_DESC = "date_desc"
    DATE_ASC = "date_asc"
    NUMBER_DESC = "number_desc"
    NUMBER_ASC = "number_asc"


@dataclass(frozen=True)
class Query:
    principal: Principal
    terms: tuple[str, ...] = ()  # free-text words as typed (analysed by the backend)
    phrases: tuple[str, ...] = ()  # must each occur as written (diacritics-insensitive)
    so_ky_hieu: tuple[str, ...] = ()  # canonical keys (analysis.so_ky_hieu_key)
    filters: Filters = field(default_factory=Filters)
    facets: tuple[str, ...] = ()
    """Facets to count (names from :data:`FACETS`); none unless asked (a sixth of a query)."""
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    page_size: int = 20
    highlight: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryInvalid(
                f"Số trang phải từ 1 đến {MAX_PAGE}.", code="SEARCH_PAGE_INVALID", page=self.page
            )
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise QueryInvalid(
                f"Số kết quả mỗi trang phải từ 1 đến {MAX_PAGE_SIZE}.",
                code="SEARCH_PAGE_INVALID",
                page_size=self.page_size,
            )
        unknown = set(self.facets) - set(FACETS)
        if unknown:
            raise QueryInvalid(
                f"Không có nhóm thống kê: {', '.join(sorted(unknown))}.", facets=sorted(unknown)
            )

    @property
    def is_empty(self) -> bool:
        """No words at all: every visible document matches (filters still apply)."""
        return not (self.terms or self.phrases or self.so_ky_hieu)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    """A fragment of one field with the matched spans (character offsets into ``text``)."""

    field: str
    text: str
    spans: tuple[tuple[int, int], ...]

    def marked(
        self, open_tag: str = "<mark>", close_tag: str = "</mark>", *, html: bool = True
    ) -> str:
        """The fragment with matches wrapped; HTML-escaped unless ``html=False``."""
        if html:
            from html import escape as esc  # (only pages need it: not imported by kho search)
        else:
            esc = str
        out, pos = [], 0
        for start, end in self.spans:
            out += [esc(self.text[pos:start]), open_tag, esc(self.text[start:end]), close_tag]
            pos = end
        out.append(esc(self.text[pos:]))
        return "".join(out)


@dataclass(frozen=True)
class Hit:
    id: str
    version: int
    score: float
    direction: str
    title: str
    so_ky_hieu: str
    loai_van_ban: str
    co_quan_ban_hanh: str
    ngay_ban_hanh: date | None
    ngay_den: date | None
    trich_yeu: str
    highlights: tuple[Highlight, ...] = ()


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class Facet:
    name: str
    values: tuple[FacetValue, ...]

    def counts(self) -> dict[str, int]:
        return {v.value: v.count for v in self.values}


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    page: int
    page_size: int
    facets: tuple[Facet, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def facet(self, name: str) -> dict[str, int]:
        for facet in self.facets:
            if facet.name == name:
                return facet.counts()
        return {}

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.hits]


@dataclass(frozen=True)
class Related:
    """Documents a document cites (resolved by số/ký hiệu) and documents citing it; visible only."""

    cites: tuple[Hit, ...]
    cited_by: tuple[Hit, ...]


# --- parsing what people type ----------------------------------------------------------

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_date(text: str, *, field_name: str = "ngày") -> date:
    """``dd/mm/yyyy``, ``d-m-yyyy`` or ISO ``yyyy-mm-dd``; a clear Vietnamese error otherwise."""
    raw = text.strip()
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise DateInvalid(
        f"{field_name.capitalize()} không hợp lệ: “{raw}” "
        "(dùng dạng ngày/tháng/năm, ví dụ 31/12/2024).",
        field=field_name,
        value=raw,
    )


def date_range(start: str | None, end: str | None, *, field_name: str) -> DateRange | None:
    if not start and not end:
        return None
    return DateRange(
        parse_date(start, field_name=field_name) if start else None,
        parse_date(end, field_name=field_name) if end else None,
    )


def parse_query(
    typed: str,
    principal: Principal,
    *,
    filters: Filters | None = None,
    sort: Sort | str = Sort.RELEVANCE,
    page: int = 1,
    page_size: int = 20,
    facets: Iterable[str] = (),
    highlight: bool = True,
) -> Query:
    """Split a typed query into phrases (text between double quotes), số/ký hiệu and words.

    An unbalanced quote opens no phrase (its text is searched as plain words). Characters with
    no letters or digits are separators. Queries longer than :data:`MAX_QUERY_CHARS` are refused
    rather than cut (a cut query is not what the user meant).
    """
    # plain_text: as the indexes read documents (zero-width and format characters dropped,
    # look-alike letters, full-width forms): a query pasted with them finds what it shows.
    text = _CONTROL_RE.sub(" ", plain_text(typed or "")).translate(_QUOTES)
    if len(text) > MAX_QUERY_CHARS:
        raise QueryInvalid(
            f"Câu tìm kiếm quá dài ({len(text)} ký tự, tối đa {MAX_QUERY_CHARS}).",
            code="SEARCH_QUERY_TOO_LONG",
            length=len(text),
        )
    try:
        sort = Sort(sort)
    except ValueError as exc:
        raise QueryInvalid(
            f"Cách sắp xếp không hợp lệ: “{sort}” (dùng: {', '.join(s.value for s in Sort)}).",
            code="SEARCH_SORT_INVALID",
        ) from exc
    phrases: list[str] = []
    pieces = text.split('"')
    if len(pieces) % 2 == 0:  # unbalanced: the last quote opens nothing
        pieces[-2:] = [pieces[-2] + " " + pieces[-1]]
    plain: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            words = syllables(piece)
            if len(words) > 1:
                phrases.append(" ".join(words))
            else:
                plain.extend(words)
        else:
            plain.append(piece)
    rest = " ".join(plain)
    keys: list[str] = []
    for start, end, key in reversed(find_so_ky_hieu(rest)):
        keys.insert(0, key)
        rest = rest[:start] + " " + rest[end:]
    terms = tuple(syllables(rest))
    return Query(
        principal=principal,
        terms=terms,
        phrases=tuple(dict.fromkeys(phrases)),
        so_ky_hieu=tuple(dict.fromkeys(keys)),
        filters=filters or Filters(),
        facets=tuple(facets),
        sort=sort,
        page=page,
        page_size=page_size,
        highlight=highlight,
    )


def filters_from_mapping(values: Mapping[str, object]) -> Filters:
    """Build :class:`Filters` from strings (CLI options, web form), validating ints and dates."""
    kwargs: dict[str, object] = {}
    for name in KEYWORD_FILTERS:
        raw = values.get(name)
        if raw:
            kwargs[name] = tuple([raw] if isinstance(raw, str) else list(raw))  # type: ignore[call-overload]
    for name in INT_FILTERS:
        raw = values.get(name)
        if raw is None or raw == () or raw == "":
            continue
        items = [raw] if isinstance(raw, str | int) else list(raw)  # type: ignore[call-overload]
        # kho.digits: a typed level is ASCII digits ("٣" is not 3; int() of 5,000 digits raises)
        levels = [v if isinstance(v, int) and not isinstance(v, bool) else ascii_int(str(v)) for v in items]
        ints = tuple(v for v in levels if v is not None and 0 <= v <= 3)
        if len(ints) != len(levels):
            raise QueryInvalid(f"Giá trị {name} phải là số 0–3.", field=name)
        kwargs[name] = ints
    for name, label in (("ngay_ban_hanh", "ngày ban hành"), ("ngay_den", "ngày đến")):
        rng = date_range(
            values.get(f"{name}_from") or None,  # type: ignore[arg-type]
            values.get(f"{name}_to") or None,  # type: ignore[arg-type]
            field_name=label,
        )
        if rng:
            kwargs[name] = rng
    return Filters(**kwargs)  # type: ignore[arg-type]
