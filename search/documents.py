"""What the search index holds for one record: :class:`IndexDocument` (the contract with the store).

The lead maps a stored record (or hồ sơ) to an ``IndexDocument`` and hands it to a backend;
search never reads the store itself. Every field is plain data; dates are ``datetime.date``.

Visibility (enforced inside every query, see :class:`search.query.Principal`; the fields are
written from :func:`repository.policy.index_visibility`, the same rule the store enforces):

- never above the searcher's clearance (``do_mat <= max_secrecy``);
- then visible to members (and leaders) of ``owner_unit`` or of any unit in ``grant_units``,
  to users named in ``grant_users`` (grants and the record's creator), and to the lưu trữ viên
  of a unit in ``archive_units`` (a document of a hồ sơ at their archive:
  :func:`repository.policy.index_archive`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from kho.digits import ascii_int
from kho.textkey import plain_text
from search.analysis import normalize, so_ky_hieu_key

DIRECTIONS: tuple[str, ...] = ("den", "di", "hoso")


@dataclass(frozen=True)
class IndexDocument:
    id: str
    version: int
    direction: str  # 'den' (văn bản đến), 'di' (văn bản đi), 'hoso' (hồ sơ)
    title: str = ""
    trich_yeu: str = ""
    text: str = ""  # full text (extracted/OCR)
    loai_van_ban: str = ""
    so_ky_hieu: str = ""  # as written: "123/QĐ-UBND"
    number: int | None = None  # số đến / số đi used by the number sort; default: số of so_ky_hieu
    co_quan_ban_hanh: str = ""
    ngay_ban_hanh: date | None = None
    ngay_den: date | None = None
    do_khan: int = 0  # 0–3 (repository.vocabulary.Urgency)
    do_mat: int = 0  # 0–3 (repository.vocabulary.Secrecy)
    signature_verdict: str = ""  # e.g. 'valid', 'invalid', 'indeterminate', 'unsigned'
    ho_so: tuple[str, ...] = ()  # ids of the hồ sơ holding the document
    retention_state: str = ""  # e.g. 'active', 'nop_luu', 'hold', 'destroyed'
    nguoi_ky: str = ""
    cites: tuple[str, ...] = ()  # số/ký hiệu of the documents this one cites
    owner_unit: str = ""
    grant_users: tuple[str, ...] = ()
    grant_units: tuple[str, ...] = ()
    archive_units: tuple[str, ...] = ()  # units whose hồ sơ holding it is at the archive (u24)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("IndexDocument.id is empty")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}: {self.direction!r}")
        if not (0 <= self.do_khan <= 3 and 0 <= self.do_mat <= 3):
            raise ValueError("do_khan and do_mat are 0–3")
        for name in _TUPLES:
            value = getattr(self, name)
            if not isinstance(value, tuple):  # accept lists from callers, keep it hashable
                object.__setattr__(self, name, tuple(value))

    @property
    def so_ky_hieu_key(self) -> str:
        return so_ky_hieu_key(self.so_ky_hieu) if self.so_ky_hieu else ""

    @property
    def sort_number(self) -> int | None:
        if self.number is not None:
            return self.number
        head = self.so_ky_hieu.split("/", 1)[0].strip()
        return ascii_int(head)  # not str.isdigit(): "²" or 5,000 digits stopped indexing

    @property
    def sort_date(self) -> date | None:
        return self.ngay_ban_hanh or self.ngay_den

    def to_json(self) -> dict[str, Any]:
        # Every field is a scalar or a tuple of strings: no deep copy needed (asdict is 10x slower).
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        for name in ("ngay_ban_hanh", "ngay_den"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        for name in _TUPLES:
            data[name] = list(data[name])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexDocument:
        known = _KNOWN if cls is IndexDocument else {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("ngay_ban_hanh", "ngay_den"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        for name in _TUPLES:
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


_TUPLES = ("ho_so", "cites", "grant_users", "grant_units", "archive_units")
_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(IndexDocument))
_KNOWN = frozenset(_FIELD_NAMES)


@functools.lru_cache(maxsize=65_536)
def value_key(value: str) -> str:
    """Filter/facet key of a name: tone placement, case and spacing do not matter.

    Cached: an index build asks for the same few hundred names again and again."""
    return " ".join(normalize(plain_text(value)).split())


def flat_fields(doc: IndexDocument) -> dict[str, Any]:
    """The filterable, sortable and facetable fields both backends store, one name each."""
    sort_date = doc.sort_date
    return {
        "id": doc.id,
        "version": doc.version,
        "direction": doc.direction,
        "loai_key": value_key(doc.loai_van_ban),
        "loai_van_ban": doc.loai_van_ban,
        "co_quan_key": value_key(doc.co_quan_ban_hanh),
        "co_quan_ban_hanh": doc.co_quan_ban_hanh,
        "nguoi_ky_key": value_key(doc.nguoi_ky),
        "nguoi_ky": doc.nguoi_ky,
        "signature_verdict": doc.signature_verdict,
        "retention_state": doc.retention_state,
        "do_khan": doc.do_khan,
        "do_mat": doc.do_mat,
        "ngay_ban_hanh": doc.ngay_ban_hanh.isoformat() if doc.ngay_ban_hanh else None,
        "ngay_den": doc.ngay_den.isoformat() if doc.ngay_den else None,
        "sort_date": sort_date.isoformat() if sort_date else None,
        "year": str(sort_date.year) if sort_date else "",
        "sort_number": doc.sort_number,
        "skh_key": doc.so_ky_hieu_key,
        "owner_unit": doc.owner_unit,
    }
