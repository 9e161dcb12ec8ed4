"""Result types of metadata extraction: frozen, with a confidence and a source per field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from repository.vocabulary import SoKyHieu

T = TypeVar("T")


@dataclass(frozen=True)
class Extracted(Generic[T]):
    """One pre-filled value.

    ``confidence`` is in [0, 1] (0 when nothing was found); ``source`` is the line or span of
    the text the value was read from, so the clerk can see why it was proposed.
    """

    value: T | None = None
    confidence: float = 0.0
    source: str = ""

    @property
    def found(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Citation:
    """A document cited in a "Căn cứ …" line (Phụ lục I, II.6.a)."""

    loai: str | None
    so_ky_hieu: str | None
    ngay: dt.date | None
    co_quan: str | None
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "loai": self.loai,
            "so_ky_hieu": self.so_ky_hieu,
            "ngay": self.ngay.isoformat() if self.ngay else None,
            "co_quan": self.co_quan,
            "raw": self.raw,
        }


def _missing() -> Extracted[Any]:
    return Extracted()


@dataclass(frozen=True)
class ExtractedMetadata:
    """The thể thức fields of an official document (NĐ 30/2020 Phụ lục I, ô 1–9)."""

    co_quan_chu_quan: Extracted[str] = field(default_factory=_missing)
    co_quan_ban_hanh: Extracted[str] = field(default_factory=_missing)
    so_ky_hieu: Extracted[SoKyHieu] = field(default_factory=_missing)
    dia_danh: Extracted[str] = field(default_factory=_missing)
    ngay_ban_hanh: Extracted[dt.date] = field(default_factory=_missing)
    loai_van_ban: Extracted[str] = field(default_factory=_missing)
    trich_yeu: Extracted[str] = field(default_factory=_missing)
    quyen_han: Extracted[str] = field(default_factory=_missing)
    chuc_vu: Extracted[str] = field(default_factory=_missing)
    nguoi_ky: Extracted[str] = field(default_factory=_missing)
    noi_nhan: Extracted[tuple[str, ...]] = field(default_factory=_missing)
    can_cu: Extracted[tuple[Citation, ...]] = field(default_factory=_missing)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{field: {"value", "confidence", "source"}}``.

        ``so_ky_hieu`` also carries the parsed ``so`` / ``ky_hieu`` / ``nam``.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            item: Extracted[Any] = getattr(self, f.name)
            out[f.name] = {
                "value": _jsonable(item.value),
                "confidence": round(item.confidence, 3),
                "source": item.source,
            }
        skh = self.so_ky_hieu.value
        out["so_ky_hieu"].update(
            so=skh.number if skh else None,
            ky_hieu=skh.notation if skh else None,
            nam=skh.year if skh else None,
        )
        return out


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, SoKyHieu):
        return str(value)
    if isinstance(value, Citation):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
