"""Sổ đăng ký: exact số đến / số đi under concurrency, from several processes.

A number is taken by creating the register entry ``registers/<organ>/<year>/<series>/<n>.json``
with create-if-absent. The entry carries the record's first version, sealed, so the number and
the record are written in one atomic step: a crash can leave neither a used number without its
record nor a record without its number. Numbers are tried in order from one past the newest
entry, so the register has no gap and no duplicate; each (agency, year, series) starts at 01.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from kho.errors import AlreadyExists
from repository import formats
from repository.metadata import DocumentMetadata
from repository.storage.base import ObjectStore
from repository.vocabulary import COPY_TYPES, LEGAL_TYPES, Direction, Secrecy, type_abbreviation

INCOMING = "den"
ADMINISTRATIVE = "hanh-chinh"
SECRET = "mat"
COPIES = "ban-sao"
_SLUGS = {
    "Hiến pháp": "hien-phap",
    "Bộ luật": "bo-luat",
    "Luật": "luat",
    "Pháp lệnh": "phap-lenh",
    "Lệnh": "lenh",
    "Nghị định": "nghi-dinh",
    "Thông tư": "thong-tu",
    "Thông tư liên tịch": "thong-tu-lien-tich",
    "Văn bản hợp nhất": "van-ban-hop-nhat",
}

SERIES_LABELS = {
    INCOMING: "Sổ đăng ký văn bản đến",
    ADMINISTRATIVE: "Sổ văn bản hành chính",
    SECRET: "Sổ văn bản mật",
    COPIES: "Sổ bản sao văn bản",
}


def series_label(series: str) -> str:
    if series in SERIES_LABELS:
        return SERIES_LABELS[series]
    if series.startswith("qppl-"):
        slug = series.removeprefix("qppl-")
        name = next((k for k, v in _SLUGS.items() if v == slug), slug)
        return f"Sổ {name}"
    if series.startswith("tu-van-"):
        return f"Sổ của tổ chức tư vấn {series.removeprefix('tu-van-').upper()}"
    return series


def series_for(metadata: DocumentMetadata, advisory_body: str | None = None) -> str:
    """Which number series a document takes (NĐ 30 Điều 15; Phụ lục I II.1.c, II.3.a).

    đến: one series per agency and year. đi: secret documents; copies (SY/TrS/SL share one
    counter); each legal-document type; each advisory body; otherwise administrative.
    """
    if metadata.direction is Direction.DEN:
        return INCOMING
    if metadata.secrecy is not Secrecy.THUONG:
        return SECRET
    if type_abbreviation(metadata.type_name) in COPY_TYPES:
        return COPIES
    if metadata.type_name in LEGAL_TYPES:
        return f"qppl-{_SLUGS[metadata.type_name]}"
    if advisory_body:
        slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in advisory_body.lower())
        return f"tu-van-{slug.strip('-')}"
    return ADMINISTRATIVE


def register_prefix(organ_id: str, year: int, series: str) -> str:
    return f"registers/{organ_id}/{year}/{series}/"


def entry_key(organ_id: str, year: int, series: str, number: int) -> str:
    return f"{register_prefix(organ_id, year, series)}{number:08d}.json"


@dataclass(frozen=True)
class RegisterEntry:
    organ_id: str
    year: int
    series: str
    number: int
    record_id: str
    sealed_version: str
    """The record version that carries this number, sealed with the record's key (base64)."""
    version: int = 1

    def to_json(self) -> bytes:
        return formats.dumps(formats.REGISTER_ENTRY.name, asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> RegisterEntry:
        """An entry of any known format version."""
        kind = formats.REGISTER_ENTRY.name
        return cls(**formats.unstamped(kind, formats.loads(kind, data)))


class Registers:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def _newest(self, prefix: str, after: str | None = None) -> int:
        newest = 0
        for info in self.store.list(prefix, start_after=after):
            newest = int(info.key.rsplit("/", 1)[1].split(".")[0])
        return newest

    def allocate(
        self, organ_id: str, year: int, series: str, make_entry: Callable[[int], RegisterEntry]
    ) -> RegisterEntry:
        """Take the next number in the series and write its entry in the same step."""
        prefix = register_prefix(organ_id, year, series)
        with self._lock:
            number = self._next.get(prefix) or self._newest(prefix) + 1
            while True:
                entry = make_entry(number)
                try:
                    self.store.put_if_absent(entry_key(organ_id, year, series, number), entry.to_json())
                except AlreadyExists:
                    # Others went ahead: jump past the newest entry, not one at a time.
                    number = max(
                        number + 1,
                        self._newest(prefix, after=entry_key(organ_id, year, series, number)) + 1,
                    )
                    continue
                self._next[prefix] = number + 1
                return entry

    def entries(self, organ_id: str, year: int, series: str) -> Iterator[RegisterEntry]:
        for info in self.store.list(register_prefix(organ_id, year, series)):
            yield RegisterEntry.from_json(self.store.get(info.key))

    def series_of(self, organ_id: str, year: int) -> list[str]:
        seen: list[str] = []
        for info in self.store.list(f"registers/{organ_id}/{year}/"):
            series = info.key.split("/")[3]
            if not seen or seen[-1] != series:
                seen.append(series)
        return seen

    def all_entries(self) -> Iterator[RegisterEntry]:
        for info in self.store.list("registers/"):
            yield RegisterEntry.from_json(self.store.get(info.key))
