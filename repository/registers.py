"""Sổ đăng ký: exact số đến / số đi under concurrency, from several processes.

A number is taken by creating the register entry ``registers/<organ>/<year>/<series>/<n>.json``
with create-if-absent. The entry carries the record's first version, sealed, so the number and
the record are written in one atomic step: a crash can leave neither a used number without its
record nor a record without its number. Numbers are tried in order from one past the newest
entry, so the register has no gap and no duplicate; each (agency, year, series) starts at 01.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kho.digits import ascii_int
from kho.errors import (
    AlreadyExists,
    FieldError,
    FormatInvalid,
    FormatUnsupported,
    KhoError,
    NotFound,
    RegisterSeriesAmbiguous,
    RegisterSeriesUnknown,
    StoreRestoring,
)
from repository import formats
from repository.metadata import DocumentMetadata
from repository.seals import Sealer, Verdict
from repository.storage.base import ObjectStore
from repository.storage.group import NewObject, Settling, start_after_fork, write_group
from repository.vocabulary import (
    COPY_TYPES,
    LEGAL_TYPES,
    Direction,
    Secrecy,
    nfc,
    type_abbreviation,
)

INCOMING = "den"
INCOMING_SECRET = "den-mat"
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

OUTGOING = "di"
"""Not a series: văn bản đi are numbered in several (``resolve_series`` lists them)."""
ADVISORY_PREFIX = "tu-van-"

SERIES_LABELS = {
    INCOMING: "Sổ đăng ký văn bản đến",
    INCOMING_SECRET: "Sổ đăng ký văn bản đến mật",
    ADMINISTRATIVE: "Sổ văn bản hành chính",
    SECRET: "Sổ văn bản mật",
    COPIES: "Sổ bản sao văn bản",
}


YEAR_DIGITS = 4
"""A register's year is written in at most four digits (1 … 9999)."""


def register_year(raw: str | int) -> int:
    """The year of a sổ đăng ký asked for (the page's ``?year=``, the API's
    ``/api/registers/<series>/<year>``, ``kho register list --year``): the one rule of the three.
    A whole number 1 … 9999 written in ASCII digits; anything else is refused (422
    ``FIELD_INVALID``) with one Vietnamese message. The API read the path with werkzeug's int
    converter and answered a year of 0 or of 30 digits with an empty register (200, audited as
    a ``register:list``), where the page refused the long one (review rv58/rv59)."""
    year = ascii_int(str(raw), max_digits=YEAR_DIGITS)
    if year is None or year < 1:
        raise KhoError(
            f"“Năm” phải là số nguyên từ 1 đến 9999, viết bằng chữ số 0–9 (tối đa {YEAR_DIGITS} chữ số).",
            code="FIELD_INVALID",
            field="year",
        )
    return year


def series_label(series: str) -> str:
    if series in SERIES_LABELS:
        return SERIES_LABELS[series]
    if series.startswith("qppl-"):
        slug = series.removeprefix("qppl-")
        name = next((k for k, v in _SLUGS.items() if v == slug), slug)
        return f"Sổ {name}"
    if series.startswith(ADVISORY_PREFIX):
        slug = series.removeprefix(ADVISORY_PREFIX)
        if _ADVISORY_HASHED.match(slug):
            slug = slug.rsplit("-", 1)[0]  # the name folded to ASCII, without its hash
        return f"Sổ của tổ chức tư vấn {slug.upper()}"
    return series


_ADVISORY_HASHED = re.compile(r"^[a-z0-9-]*-[0-9a-f]{10}$")
_ASCII_FOLD = str.maketrans({"đ": "d", "Đ": "D"})


def advisory_series(name: str) -> str:
    """The series of an advisory body (hội đồng, ban, tổ tư vấn; Phụ lục I II.1.c), injective in
    the name (NFC, spaces collapsed, case ignored).

    A name of plain ASCII letters and digits keeps the key it always had (``ABC`` →
    ``tu-van-abc``). Any other name is folded to ASCII for people (``đ`` → ``d``, diacritics
    dropped) and followed by 10 hex digits of the SHA-256 of the name, so ``HĐT`` and ``HĐTĐ``
    no longer share a counter: ``tu-van-hdt-…`` and ``tu-van-hdtd-…``. The two forms cannot
    meet (plain keys have no hyphen after the prefix; hashed ones always have one).
    """
    normal = " ".join(nfc(name).split()).casefold()
    if not normal:
        raise ValueError("an advisory body needs a name")
    if normal.isascii() and normal.isalnum():
        return f"{ADVISORY_PREFIX}{normal}"
    folded = unicodedata.normalize("NFKD", normal.translate(_ASCII_FOLD))
    ascii_name = "".join(ch for ch in folded if ch.isascii())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    digest = hashlib.sha256(normal.encode()).hexdigest()[:10]
    return f"{ADVISORY_PREFIX}{slug}-{digest}" if slug else f"{ADVISORY_PREFIX}{digest}"


def legacy_advisory_series(name: str) -> str:
    """The key an advisory body's series had before keys were injective (non-ASCII letters
    dropped: ``HĐT`` → ``tu-van-h-t``). Registers written then keep these names."""
    slug = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name.lower())
    return f"{ADVISORY_PREFIX}{slug.strip('-')}"


def series_for(metadata: DocumentMetadata, advisory_body: str | None = None) -> str:
    """Which number series a document takes (NĐ 30 Điều 15, Điều 22; Phụ lục I II.1.c, II.3.a).

    đến: one series per agency and year, and a separate one for văn bản mật of every level
    (Mật, Tối mật, Tuyệt mật): NĐ 30 Điều 22 k4 sends them to the state-secrets law, which
    keeps secret documents in their own register. đi: secret documents (Điều 15 k2); copies
    (SY/TrS/SL share one counter); each legal-document type; each advisory body; otherwise
    administrative.
    """
    if metadata.direction is Direction.DEN:
        return INCOMING if metadata.secrecy is Secrecy.THUONG else INCOMING_SECRET
    if metadata.secrecy is not Secrecy.THUONG:
        return SECRET
    if type_abbreviation(metadata.type_name) in COPY_TYPES:
        return COPIES
    if metadata.type_name in LEGAL_TYPES:
        return f"qppl-{_SLUGS[metadata.type_name]}"
    if advisory_body and advisory_body.strip():
        return advisory_series(advisory_body)
    return ADMINISTRATIVE


STANDARD_SERIES: tuple[str, ...] = (
    INCOMING,
    INCOMING_SECRET,
    ADMINISTRATIVE,
    SECRET,
    COPIES,
    *(f"qppl-{slug}" for slug in _SLUGS.values()),
)
"""Series any agency may have in any year (advisory bodies' series exist once used)."""


def is_incoming_series(series: str) -> bool:
    return series in (INCOMING, INCOMING_SECRET)


def _listing(series: Iterable[str]) -> str:
    return "; ".join(f"{s} ({series_label(s)})" for s in series)


def resolve_series(name: str, existing: Iterable[str], *, year: int | None = None) -> str:
    """The series a person means by ``name`` (for ``register list`` and the API); pure.

    ``existing`` are the series that have entries (for the year asked). A series that exists,
    or a standard one (an empty register is an answer), is returned as it is. ``di`` names no
    series: văn bản đi are numbered in several, so :class:`RegisterSeriesAmbiguous` lists those
    that exist. Anything else is :class:`RegisterSeriesUnknown`, listing the valid names.
    """
    existing = list(existing)
    key = nfc(name).strip().lower()
    when = f" năm {year}" if year is not None else ""
    if key in existing or key in STANDARD_SERIES:
        return key
    if key == OUTGOING:
        outgoing = [s for s in existing if not is_incoming_series(s)]
        if not outgoing:
            standard = _listing(s for s in STANDARD_SERIES if not is_incoming_series(s))
            raise RegisterSeriesAmbiguous(
                f"Văn bản đi được cấp số theo từng sổ riêng; chưa có sổ văn bản đi nào{when}."
                f" Các sổ văn bản đi: {standard}.",
                series=name,
                candidates=[],
            )
        raise RegisterSeriesAmbiguous(
            f"Văn bản đi được cấp số theo từng sổ riêng; hãy chọn một sổ{when}:"
            f" {_listing(outgoing)}.",
            series=name,
            candidates=outgoing,
        )
    valid = [*existing, *(s for s in STANDARD_SERIES if s not in existing)]
    raise RegisterSeriesUnknown(
        f"Không có sổ đăng ký “{name}”{when}. Các sổ hợp lệ: {_listing(valid)}.",
        series=name,
        valid=valid,
    )


REGISTERED_FROZEN: dict[str, tuple[str, str]] = {
    "code_number": ("CODE_NUMBER_LOCKED", "Không được sửa số văn bản đã cấp trong sổ đăng ký."),
    "issued_date": (
        "ISSUED_DATE_LOCKED",
        "Không được sửa ngày tháng văn bản đã vào sổ đăng ký: số và thời gian ban hành đã được"
        " cấp cùng nhau và sổ đã được in, đóng sổ (NĐ 30/2020/NĐ-CP Điều 15, Điều 16, Điều 22).",
    ),
    "arrival_date": (
        "ARRIVAL_DATE_LOCKED",
        "Không được sửa ngày đến của văn bản đã vào sổ: số đến được lấy theo trình tự thời gian"
        " tiếp nhận (NĐ 30/2020/NĐ-CP Điều 22 khoản 2).",
    ),
}
"""Fields of a registered document that no correction may change, with their error."""


def frozen_field_errors(
    before: DocumentMetadata, after: DocumentMetadata, *, registered: bool
) -> list[FieldError]:
    """The frozen fields a correction of a registered document would change; pure.

    Số and ngày tháng văn bản (for văn bản đi the number and date the register gave; for văn
    bản đến those of the sender, which identify it in the register and its duplicate guard)
    and, for văn bản đến, the ngày đến that orders the số đến (Điều 22 k2). The register is
    printed, signed for and bound (Điều 16 k2 b, Điều 22 k3 b): what it shows cannot change.
    """
    if not registered:
        return []
    errors: list[FieldError] = []
    for name, (code, message) in REGISTERED_FROZEN.items():
        if name == "arrival_date" and before.direction is not Direction.DEN:
            continue
        old, new = getattr(before, name), getattr(after, name)
        if name == "code_number" and old and new:
            old, new = old.lstrip("0"), new.lstrip("0")
        if old != new:
            errors.append(FieldError(name, code, message))
    return errors


def register_prefix(organ_id: str, year: int, series: str) -> str:
    return f"registers/{organ_id}/{year}/{series}/"


def entry_key(organ_id: str, year: int, series: str, number: int) -> str:
    return entry_key_in(register_prefix(organ_id, year, series), number)


def entry_key_in(prefix: str, number: int) -> str:
    """The key of entry ``number`` of the register at ``prefix`` (:func:`register_prefix`)."""
    return f"{prefix}{number:08d}.json"


ASSIGN_ACTION = "register:assign"
"""The audit event of a number given (``details``: ``series``, ``year``, ``number`` and, since
m61, ``organ_id``; the event's ``record_id`` is the record that took it)."""


def assign_details(organ_id: str, year: int, series: str, number: int) -> dict[str, object]:
    """The ``details`` of a :data:`ASSIGN_ACTION` event: the register's whole key, so that the
    log alone tells the series apart when several agencies share a store (m61)."""
    return {"series": series, "year": year, "number": number, "organ_id": organ_id}


@dataclass(frozen=True)
class NumberGiven:
    """One statement that number ``number`` of a register went to ``record_id``: a
    :data:`ASSIGN_ACTION` event (``seq``) or the register entry (``seq`` None)."""

    organ_id: str | None
    """None: an event written before m61, which names no agency."""
    year: int
    series: str
    number: int
    record_id: str
    seq: int | None = None

    @property
    def prefix(self) -> str | None:
        """The register (:func:`register_prefix`), None while the agency is unknown."""
        return None if self.organ_id is None else register_prefix(self.organ_id, self.year, self.series)


def number_given_in(details: Mapping[str, object], record_id: str | None, seq: int) -> NumberGiven | None:
    """What a :data:`ASSIGN_ACTION` event says was given (None: details that name no number, or
    a ``record_id`` that is not a string: a crafted log's, which stopped fsck sorting the
    holders, review rv62)."""
    organ, year, series, number = (details.get(k) for k in ("organ_id", "year", "series", "number"))
    if not isinstance(record_id, str) or not record_id or not isinstance(series, str) or not series:
        return None
    if type(year) is not int or type(number) is not int or number < 1:
        return None
    if organ is not None and (not isinstance(organ, str) or not organ):
        return None
    return NumberGiven(organ, year, series, number, record_id, seq)


@dataclass(frozen=True)
class NumberGivenTwice:
    """A number of one register that the log and the register give to more than one record."""

    organ_id: str
    year: int
    series: str
    number: int
    records: tuple[str, ...]
    """Every record it was given to, sorted."""
    events: tuple[tuple[int, str], ...]
    """The (seq, record) of each event that gave it, in the log's order."""
    entry_record: str | None
    """The record the register entry of the number names (None: no entry)."""


def placed_events(
    events: Iterable[NumberGiven], entries: Iterable[NumberGiven]
) -> tuple[list[NumberGiven], list[NumberGiven]]:
    """The :data:`ASSIGN_ACTION` events each with its agency, and apart those that cannot be
    placed; pure. An event written before m61 names no agency: it is given the agency of the
    register entry naming its record, else the store's only agency when the entries and the
    events name one agency only, else none (second list)."""
    entries = list(entries)
    events = list(events)
    organ_of = {e.record_id: e.organ_id for e in entries}
    organs = {e.organ_id for e in entries} | {e.organ_id for e in events if e.organ_id is not None}
    sole = next(iter(organs)) if len(organs) == 1 else None
    placed: list[NumberGiven] = []
    unplaced: list[NumberGiven] = []
    for given in events:
        organ = given.organ_id or organ_of.get(given.record_id) or sole
        if organ is None:
            unplaced.append(given)
            continue
        placed.append(given if given.organ_id == organ else replace(given, organ_id=organ))
    return placed, unplaced


def numbers_given_twice(
    events: Iterable[NumberGiven], entries: Iterable[NumberGiven]
) -> tuple[list[NumberGivenTwice], list[NumberGiven]]:
    """The numbers given to more than one record in one register (NĐ 30/2020/NĐ-CP: a số goes
    to one document only in a sổ in a year), from the :data:`ASSIGN_ACTION` events and the
    register entries; pure.

    A register is (agency, year, series) (:func:`register_prefix`), the key every number is
    allocated under: units of an agency share its registers, a year starts its own. The same
    record named twice (a confirmation retried, an event restored) is one holder. An event
    written before m61 names no agency: it is given the agency of the register entry naming its
    record (the record's registration is that entry), else the store's only agency when the
    entries and the events name one agency only, else none: returned apart (second list), never
    matched against another agency's numbers (no false finding in a store of several agencies).
    """
    entries = list(entries)
    placed, unplaced = placed_events(events, entries)
    held: dict[tuple[str, int], list[NumberGiven]] = {}
    for given in placed:
        held.setdefault((str(given.prefix), given.number), []).append(given)
    for entry in entries:
        held.setdefault((str(entry.prefix), entry.number), []).append(entry)
    twice: list[NumberGivenTwice] = []
    for (_, number), given in sorted(held.items()):
        records = sorted({g.record_id for g in given})
        if len(records) < 2:
            continue
        first = given[0]
        assert first.organ_id is not None
        twice.append(
            NumberGivenTwice(
                first.organ_id,
                first.year,
                first.series,
                number,
                tuple(records),
                tuple(sorted((g.seq, g.record_id) for g in given if g.seq is not None)),
                next((g.record_id for g in given if g.seq is None), None),
            )
        )
    return twice, unplaced


FLOOR_PREFIX = "registers-floor/"
"""Where a restore keeps, per register, the numbers its copy's log gave past the register's
newest entry (:class:`RegisterFloor`). Not under ``registers/``: every reader of entries lists
that prefix."""


MAX_NUMBER = 99_999_999
"""The highest number a register floor may say (m64, rv63): entry keys hold 8 digits
(:func:`entry_key_in`), and past them the keys' listing order the allocator reads is no longer
the numbers' order (a floor of 10**300 made every registration of its register fail: the
entry's file name too long). No register of a year comes near it (NĐ 30: numbers start at 01
each year)."""

_SERIES_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def floorable(organ_id: object, year: object, series: object) -> bool:
    """Whether a register floor may be kept for the register (agency, year, series): each a
    value a Kho register has (a mã định danh, a year of 1 … 9999, a series slug), so its key is
    the register's own, one key part each (rv63: a crafted log's ``..`` or ``a/../b`` stopped a
    restore before its floors)."""
    from repository.identifiers import is_organ_id

    return (
        isinstance(organ_id, str)
        and is_organ_id(organ_id)
        and type(year) is int
        and 1 <= year <= 10**YEAR_DIGITS - 1
        and isinstance(series, str)
        and _SERIES_RE.match(series) is not None
    )


def floor_key(organ_id: str, year: int, series: str) -> str:
    return f"{FLOOR_PREFIX}{organ_id}/{year}/{series}.json"


def floor_key_of(prefix: str) -> str:
    """The :func:`floor_key` of the register at ``prefix`` (:func:`register_prefix`)."""
    return f"{FLOOR_PREFIX}{prefix.removeprefix('registers/').rstrip('/')}.json"


@dataclass(frozen=True)
class LostNumber:
    """A number the log gave (a :data:`ASSIGN_ACTION` event) that the register restored does
    not hold: the record it went to was not in the backup's copy."""

    number: int
    record_id: str
    seq: int


@dataclass(frozen=True)
class RegisterFloor:
    """Numbers of one register (agency, year, series) that a restored audit log gives past the
    register's newest entry: a backup taken while records were written copied their
    ``register:assign`` events and not their entries (the cut fell between the two). They were
    given once (a document may have gone out under them), so the register goes on past them:
    the next number is :attr:`number` + 1, and the numbers stay missing from the register,
    explained (NĐ 30/2020/NĐ-CP: a số is given to one document only in a sổ in a year)."""

    organ_id: str
    year: int
    series: str
    number: int
    """The highest number the log gives in this register: no allocation gives it or one below."""
    lost: tuple[LostNumber, ...]
    """Each number past the register's newest entry that the log gives, with the record and the
    event, by number."""
    backup_id: str | None = None
    """The backup restored (None: not known)."""
    restored_at: str | None = None

    @property
    def prefix(self) -> str:
        return register_prefix(self.organ_id, self.year, self.series)

    @property
    def key(self) -> str:
        return floor_key(self.organ_id, self.year, self.series)

    def numbers(self) -> list[int]:
        return sorted({lost.number for lost in self.lost})

    def to_json(self, sealer: Sealer | None = None) -> bytes:
        """The stored form; sealed (bound to :attr:`key`) when ``sealer`` has a key (rv63: a
        restore with the installation's key writes it so, and fsck takes a floor's numbers as
        explained only when its seal checks)."""
        kind = formats.REGISTER_FLOOR.name
        body = formats.stamp(kind, formats.as_dict(self))
        if sealer is not None:
            body = sealer.seal(kind, self.key, body)
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> RegisterFloor:
        """A floor of any known format version (:class:`~kho.errors.FormatInvalid` for one that
        does not say a register and a whole number)."""
        kind = formats.REGISTER_FLOOR.name
        body = formats.unstamped(kind, formats.loads(kind, data))
        try:
            lost = tuple(LostNumber(*_lost_fields(x)) for x in body["lost"])
            floor = cls(
                str(body["organ_id"]),
                body["year"],
                str(body["series"]),
                body["number"],
                lost,
                body.get("backup_id"),
                body.get("restored_at"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatInvalid(
                f"{formats.REGISTER_FLOOR.label.capitalize()} thiếu trường hoặc sai kiểu: {exc}.", kind=kind
            ) from exc
        if type(floor.year) is not int or type(floor.number) is not int or floor.number < 0:
            raise FormatInvalid(f"{formats.REGISTER_FLOOR.label.capitalize()} sai kiểu số.", kind=kind)
        if floor.number > MAX_NUMBER or any(not 1 <= x.number <= MAX_NUMBER for x in floor.lost):
            raise FormatInvalid(
                f"{formats.REGISTER_FLOOR.label.capitalize()} ghi số ngoài khoảng 01–{MAX_NUMBER}.", kind=kind
            )
        if not floorable(floor.organ_id, floor.year, floor.series):
            raise FormatInvalid(
                f"{formats.REGISTER_FLOOR.label.capitalize()} không ghi một sổ hợp lệ (mã cơ quan, năm"
                " 1–9999, loại sổ).",
                kind=kind,
            )
        return floor


def _lost_fields(raw: object) -> tuple[int, str, int]:
    """A :class:`LostNumber`'s fields as stored, each of its type (rv63: ``int()`` of a JSON
    1e400 raised OverflowError out of the allocator; a true, 5.5 or 7 were taken as 1, 5, "7")."""
    if not isinstance(raw, Mapping):
        raise TypeError("a lost number is not an object")
    number, record_id, seq = raw["number"], raw["record_id"], raw["seq"]
    if type(number) is not int or type(seq) is not int or not isinstance(record_id, str):
        raise TypeError("a lost number's number, record_id or seq is not of its type")
    return number, record_id, seq


def floor_sealed(sealer: Sealer, key: str, data: bytes) -> bool:
    """Whether the register floor stored at ``key`` as ``data`` is one a restore with the seal
    key wrote there (its seal checks, bound to ``key``); True without a key (nothing can be
    checked). rv63: a writer of the store without KHO_MASTER_KEY planted a floor naming a
    deleted document's number, and fsck took the gap for a restore's."""
    return _sealed_here(sealer, formats.REGISTER_FLOOR.name, key, data)


def _sealed_here(sealer: Sealer | None, kind: str, key: str, data: bytes) -> bool:
    """Whether ``data`` (a stored object of format ``kind`` at ``key``) carries a seal that
    checks, bound to ``key``; True without a seal key (nothing can be checked); False for bytes
    that do not load. One rule for the restore's register floor and its marker."""
    if sealer is None or not sealer.active:
        return True
    try:
        raw = json.loads(data)
        return sealer.verdict(kind, key, raw, formats.version_of(kind, raw)) is Verdict.SEALED
    except (KhoError, ValueError, TypeError, AttributeError, KeyError):
        return False


def floors_past_entries(
    events: Iterable[NumberGiven],
    entries: Iterable[NumberGiven],
    *,
    backup_id: str | None = None,
    restored_at: str | None = None,
) -> tuple[list[RegisterFloor], list[NumberGiven]]:
    """For each register, the numbers the :data:`ASSIGN_ACTION` events give past its newest
    entry (a register with no entry: every number they give), as a :class:`RegisterFloor`; pure.

    Events are placed in a register as :func:`numbers_given_twice` places them
    (:func:`placed_events`); one that cannot be placed (before m61, in a store of several
    agencies, naming a record no entry holds) moves no register and is returned apart: which
    agency gave that number the log does not say. Nor does one whose number is past
    :data:`MAX_NUMBER` or whose register is no register (:func:`floorable`): a crafted log's."""
    entries = list(entries)
    placed, unplaced = placed_events(events, entries)
    newest: dict[str, int] = {}
    for entry in entries:
        newest[str(entry.prefix)] = max(newest.get(str(entry.prefix), 0), entry.number)
    past: dict[str, list[NumberGiven]] = {}
    # A number or a register no Kho register has is a crafted log's: it moves nothing (rv63).
    odd = [g for g in placed if g.number > MAX_NUMBER or not floorable(g.organ_id, g.year, g.series)]
    placed = [g for g in placed if g.number <= MAX_NUMBER and floorable(g.organ_id, g.year, g.series)]
    unplaced = [*unplaced, *odd]
    for given in placed:
        if given.number > newest.get(str(given.prefix), 0):
            past.setdefault(str(given.prefix), []).append(given)
    floors: list[RegisterFloor] = []
    for _, given in sorted(past.items()):
        first = given[0]
        assert first.organ_id is not None
        lost = sorted({(g.number, g.record_id, g.seq if g.seq is not None else -1) for g in given})
        floors.append(
            RegisterFloor(
                first.organ_id,
                first.year,
                first.series,
                max(g.number for g in given),
                tuple(LostNumber(*x) for x in lost),
                backup_id,
                restored_at,
            )
        )
    return floors, unplaced


def number_ranges(numbers: Iterable[int]) -> str:
    """``04–06, 09`` for 4, 5, 6, 9: numbers as a văn thư reads them in a register."""
    ordered = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    for n in ordered:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return ", ".join(f"{a:02d}" if a == b else f"{a:02d}–{b:02d}" for a, b in runs)


def floor_explained(floor: RegisterFloor, missing: Iterable[int] | None = None, *, named: bool = True) -> str:
    """What a văn thư reads of the numbers of ``floor`` missing from the register (``missing``:
    those of them still missing; default every one): why they are not there and that they are
    never given again. ``named`` False (u36: a reader who may not read the records,
    :func:`~repository.policy.reads_register_note`): without the records' ids and events."""
    numbers = sorted(set(floor.numbers() if missing is None else missing))
    source = f" (khôi phục từ bản sao lưu “{floor.backup_id}”)" if floor.backup_id else ""
    each = "; ".join(
        f"số {lost.number:02d}: văn bản {lost.record_id} (nhật ký kiểm toán #{lost.seq})"
        for lost in floor.lost
        if lost.number in numbers
    )
    named_part = f" — {each}" if named else ""
    return (
        f"{series_label(floor.series)} ({floor.series}) năm {floor.year} của cơ quan {floor.organ_id}:"
        f" các số {number_ranges(numbers)} là số đã cấp trước khi sao lưu, văn bản không có trong bản"
        f" sao{source}{named_part}. Các số này không được cấp lại (Nghị định 30/2020/NĐ-CP: mỗi số chỉ"
        f" cấp cho một văn bản trong một sổ trong năm); sổ tiếp tục từ số {floor.number + 1:02d}."
    )


def floor_numbers(floor: RegisterFloor, numbers: list[int]) -> dict[str, Any]:
    """``numbers`` of ``floor`` as the API and ``kho fsck --json`` give them; pure: the numbers,
    each one's record and audit event, the backup and the register's next number."""
    return {
        "numbers": numbers,
        "records": [
            {"number": lost.number, "record_id": lost.record_id, "seq": lost.seq}
            for lost in floor.lost
            if lost.number in numbers
        ],
        "backup_id": floor.backup_id,
        "next": floor.number + 1,
    }


def floor_shown(floor: RegisterFloor, *, named: bool = True) -> dict[str, Any]:
    """The note of ``floor`` as the API lists it beside the register (``numbers_lost_in_backup``);
    pure. What :func:`floor_explained` says and nothing more: :func:`floor_numbers` of all its
    numbers and the text itself (``message``). ``named`` False: no ``records`` (u36)."""
    shown = {**floor_numbers(floor, floor.numbers()), "message": floor_explained(floor, named=named)}
    if not named:
        shown["records"] = []
    return shown


FLOOR_RECHECK_SECONDS = 1.0
"""How old a process's last read of a register's floor (:class:`RegisterFloor`) may be when it
takes a number there (m66). A process running across ``kho restore --force`` (kho web, a Celery
worker) kept the next number it had cached and never read the floor the restore wrote: it gave
a number the restored log shows given (rv63), also when its cached number was already past the
restored entries (no collision told it anything). So a number asked when the last read is older
reads the floor again (one GET, none per number on a busy register: one per interval), and a
restore that writes floors returns no sooner than this interval after them
(:func:`retention.backup.restore`): a read that missed a floor is then always too old to be
trusted by a number asked after the restore. The two sides share this one constant."""


def floor_clock() -> float:
    """Seconds that only grow and count a suspended machine's sleep too (Linux
    ``CLOCK_BOOTTIME``; elsewhere :func:`time.monotonic`): a process on a host (a VM) paused
    across a whole restore still finds its last read of a floor too old."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


RESTORING_KEY = "registers-restoring.json"
"""The store-wide "restore in progress" marker (m69, :data:`formats.REGISTER_RESTORING`):
written by :func:`retention.backup.restore` before it removes or writes anything, removed as its
last step. An allocator reads it at most once per :data:`FLOOR_RECHECK_SECONDS` (every time
while it saw it there) and gives no number while a sealed one is there. One marker for the
store, not one per register: a register in neither the copy nor the store (a new series or
year) is blocked too."""

RESTORING_WAIT_SECONDS = FLOOR_RECHECK_SECONDS + 0.25
"""How long a restore waits after writing its marker before it removes or writes anything:
every allocator's last read of the marker is then older than :data:`FLOOR_RECHECK_SECONDS`
(the margin: the allocator's GET takes time), so its next create reads it."""


def restoring_marker(sealer: Sealer | None, *, backup_id: str, started_at: str, host: str, pid: int) -> bytes:
    """The stored form of the marker (sealed, bound to :data:`RESTORING_KEY`, with a key)."""
    kind = formats.REGISTER_RESTORING.name
    body = formats.stamp(kind, {"backup_id": backup_id, "started_at": started_at, "host": host, "pid": pid})
    if sealer is not None:
        body = sealer.seal(kind, RESTORING_KEY, body)
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def restoring_sealed(sealer: Sealer | None, data: bytes) -> bool:
    """Whether ``data`` is a marker a restore with the seal key wrote (True without a key:
    nothing can be checked, so it is obeyed). One written by a writer of the store without
    KHO_MASTER_KEY must not stop numbering: not obeyed, fsck names it."""
    return _sealed_here(sealer, formats.REGISTER_RESTORING.name, RESTORING_KEY, data)


def restoring_shown(data: bytes) -> dict[str, Any]:
    """What a marker says (its backup, start, host and pid), {} for one that does not load."""
    try:
        raw = json.loads(data)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {name: raw[name] for name in ("backup_id", "started_at", "host", "pid") if name in raw}


REGISTER_STEPS_BEFORE_LISTING = 1
"""Numbers an allocation tries one after the other after a collision before it lists the
register instead: the one step two writers in one series need (the other took one number). A
writer further behind pays one failed create more, then lists (one request); its next
allocation in that register lists at its first collision (``Registers._taken``)."""


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
        return formats.dumps(formats.REGISTER_ENTRY.name, formats.as_dict(self))

    @classmethod
    def from_json(cls, data: bytes) -> RegisterEntry:
        """An entry of any known format version."""
        kind = formats.REGISTER_ENTRY.name
        return cls(**formats.unstamped(kind, formats.loads(kind, data)))


class Registers:
    def __init__(
        self,
        store: ObjectStore,
        floor: Callable[[str], int] | None = None,
        before_write: Callable[[], None] | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.store = store
        self.sealer = sealer
        """Checks the restore marker's seal (:func:`restoring_sealed`); None: obeyed unchecked."""
        self._restoring_read_at = -float("inf")
        self._restoring_seen = False
        """When (:attr:`clock`) this process last read the restore marker, and whether it found
        a sealed one then (then it reads it again at every number until it is gone)."""
        self.floor = floor
        self.before_write = before_write
        """Called before a number is taken (it may raise to refuse it): the check that the store
        is not behind the history anchored outside it (:class:`repository.rollback.HistoryGuard`)."""
        """The newest number of a register (by prefix) that signed audit checkpoints vouch for;
        default: the newest checkpoint in the store."""
        self._next: dict[str, int] = {}
        self._floor_read_at: dict[str, float] = {}
        """Per register, when (:attr:`clock`) this process last read its restored floor: taken
        before the read is sent, so a restore that wrote a floor after it is always seen as
        newer (:data:`FLOOR_RECHECK_SECONDS`)."""
        self.clock: Callable[[], float] = floor_clock
        self._taken: dict[str, int] = {}
        """Per register, how many numbers the last allocation here found taken by others: more
        than one, and the next allocation lists the register at its first collision (others
        are several numbers ahead: reading forward would cost a failed create each)."""
        self._unsettled: dict[str, Settling] = {}
        """Per register, the directory sync of the last entry written here, when its writer left
        it running (``allocate(..., settling=)``): the next entry waits for it."""
        self._lock = threading.Lock()
        """Guards :attr:`_series_locks` only (held for a dict lookup, never across a store call)."""
        self._series_locks: dict[str, threading.Lock] = {}
        """Per register, the lock its allocations take: the number is decided, written and
        remembered under it (one series at a time in this process, as before s19); a wait in
        one series (a dead claim met, up to ``get_after_conflict``'s 10 s) holds no other."""
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        """In the child of a ``fork`` (``storage.group.start_after_fork``): a new lock (one held
        by another thread of the parent at the fork would be held for ever here), and the
        entries' syncs left running are the parent's, which the child cannot wait for: the
        child allocates as a new process would (the parent finishes those syncs; until then a
        number the child links may be visible before the one before it is durable, the window
        every other writer process has too: NOTES-r3, "Across processes")."""
        self._lock = threading.Lock()
        self._series_locks = {}
        self._unsettled = {}
        self._next = {}
        self._floor_read_at = {}
        self._restoring_read_at = -float("inf")
        self._restoring_seen = False
        self._taken = {}

    def _newest(self, prefix: str, after: str | None = None) -> int:
        newest = 0
        for info in self.store.list(prefix, start_after=after):
            newest = int(info.key.rsplit("/", 1)[1].split(".")[0])
        return newest

    def _first_free(self, prefix: str) -> int:
        """The number the first allocation of this process in the register at ``prefix`` tries:
        past its newest entry, past what signed checkpoints vouch for, and past every number a
        restore found given in its log (:meth:`_restored_floor`, m64). Once per process and
        register: the next allocations start from the number after their own."""
        return max(self._newest(prefix), self._floor(prefix), self._restored_floor(prefix)) + 1

    def _past_floor(self, prefix: str, number: int) -> int:
        """``number``, moved past the register's restored floor when this process's last read of
        the floor is older than :data:`FLOOR_RECHECK_SECONDS` (m66: a restore may have written one
        since; one read, at most once per interval and register). Asked for every number an
        allocation tries, once its entry is made, just before its create, not only at the start
        (rv65: an allocation begun before a restore that met a taken number — on S3 it waits
        there for the taker's entry to land — went on after the restore had returned and took
        one past the newest entry listed, a number the restored log shows given).
        First the restore marker (:meth:`refuse_while_restoring`, m69)."""
        self.refuse_while_restoring()
        if self.clock() - self._floor_read_at.get(prefix, -float("inf")) < FLOOR_RECHECK_SECONDS:
            return number
        return max(number, self._restored_floor(prefix) + 1)

    def refuse_while_restoring(self) -> None:
        """:class:`StoreRestoring` when a restore's sealed marker (:data:`RESTORING_KEY`) is in
        the store (m69: a number given while a restore copies can be overwritten by the copy's
        entries or lost with the keys it removes). Read at most once per
        :data:`FLOOR_RECHECK_SECONDS` while it was absent (one GET per interval and process,
        none per number), at every number while it was there. A store error is raised (no
        number on a state not known) and the next number reads again."""
        now = self.clock()
        if not self._restoring_seen and now - self._restoring_read_at < FLOOR_RECHECK_SECONDS:
            return
        self._restoring_read_at = now  # before the read: a marker written after it is newer
        try:
            data = self.store.get(RESTORING_KEY)
        except NotFound:
            self._restoring_seen = False
            return
        except KhoError:
            self._restoring_read_at = -float("inf")
            raise
        if not restoring_sealed(self.sealer, data):
            self._restoring_seen = False  # forged: not obeyed (fsck names it)
            return
        self._restoring_seen = True
        shown = restoring_shown(data)
        raise StoreRestoring(
            f"Kho đang khôi phục từ bản sao lưu “{shown.get('backup_id', '?')}” (bắt đầu"
            f" {shown.get('started_at', '?')}): chưa cấp số đăng ký. Hãy thử lại sau khi khôi phục xong.",
            **shown,
        )

    def _restored_floor(self, prefix: str) -> int:
        """The highest number of the register at ``prefix`` that a restore found given in the
        copy's audit log past the copy's newest entry (:class:`RegisterFloor`), 0 when no restore
        wrote one. One read, noted as this process's last (:data:`FLOOR_RECHECK_SECONDS`). A
        floor that does not load counts 0, as a damaged checkpoint does: fsck names it (its deep
        check opens it)."""
        self._floor_read_at[prefix] = self.clock()  # before the read: a floor written after it is newer
        try:
            return RegisterFloor.from_json(self.store.get(floor_key_of(prefix))).number
        except (NotFound, FormatInvalid, FormatUnsupported):  # NotFound: no restore wrote one (usual)
            return 0
        except KhoError:
            # Not read (the store unavailable): no number is given on a floor not known (m66:
            # before, 0 was taken and a restored floor could be missed); read again next time.
            self._floor_read_at.pop(prefix, None)
            raise

    def restored_floor(
        self, organ_id: str, year: int, series: str, sealer: Sealer | None = None
    ) -> RegisterFloor | None:
        """The :class:`RegisterFloor` a restore wrote for the register, None if none (or one
        that does not load, or, with ``sealer``'s key, whose seal does not check: fsck names
        it; rv63: a planted floor's "given before the backup" is not shown as a restore's)."""
        key = floor_key(organ_id, year, series)
        try:
            data = self.store.get(key)
            floor = RegisterFloor.from_json(data)
        except KhoError:
            return None
        return floor if sealer is None or floor_sealed(sealer, key, data) else None

    def _floor(self, prefix: str) -> int:
        return self.floor(prefix) if self.floor is not None else self._checkpointed(prefix)

    def _checkpointed(self, prefix: str) -> int:
        """The newest number of the register that the latest audit checkpoint in the store
        signed: numbers up to it were issued, so an entry deleted since is never handed out
        again (fsck names the loss)."""
        from repository.anchor import CHECKPOINTS_PREFIX

        newest = None
        for info in self.store.list(CHECKPOINTS_PREFIX):
            newest = info.key
        if newest is None:
            return 0
        try:
            heads = formats.loads(formats.AUDIT_CHECKPOINT.name, self.store.get(newest)).get("registers", {})
            return int(heads.get(prefix, 0))
        except (KhoError, ValueError, TypeError, AttributeError):
            return 0  # a damaged checkpoint is fsck's and audit verify's to report

    def allocate(
        self,
        organ_id: str,
        year: int,
        series: str,
        make_entry: Callable[[int], RegisterEntry],
        *,
        after: Settling | None = None,
        settling: Settling | None = None,
        claimed: Callable[[], None] | None = None,
    ) -> RegisterEntry:
        """Take the next number in the series and write its entry in the same step.

        ``after``: the directory syncs of the step before (the record's guards), waited for
        before the entry is linked, while the entry's temp file is written. ``settling``: the
        entry's own directory sync is left running in it (``storage.group.write_group``): the
        caller waits for it before anything that depends on the entry is linked, and the next
        allocation in this register waits for it before its entry is linked (no number is
        visible before the one before it is durable: a power loss leaves no gap).

        ``claimed``: where a create is a claim and then the data (S3 claims mode), called once
        the number's claim is won, before its entry's data is sent
        (:meth:`~repository.storage.base.ObjectStore.when_claimed`): what the caller starts then
        (the act's audit event claim, :meth:`repository.audit.AuditLog.claim_slot_ahead`)
        overlaps that PUT; what the data PUT must wait for is waited for in it (m50: the
        record's catalog marker and key, written beside the claim). If it raises, the claim is
        given back and the allocation raises that error, no number used. Elsewhere never called."""
        prefix = register_prefix(organ_id, year, series)
        ahead = claimed is not None and self.store.taken_before_written()
        self.refuse_while_restoring()
        if self.before_write is not None:
            self.before_write()
        with self._lock:
            series_lock = self._series_locks.setdefault(prefix, threading.Lock())
        with series_lock:  # (review s19: was one lock for every series of the process)
            earlier = self._unsettled.pop(prefix, None)
            if earlier is not None:
                earlier.wait()  # the entry before is durable before the next one is visible: no gap
            cached = self._next.get(prefix)
            number = self._first_free(prefix) if cached is None else self._past_floor(prefix, cached)
            first, stepped = number, 0  # (collisions in this allocation)
            # read forward only while others are found one number ahead (two writers)
            forward = REGISTER_STEPS_BEFORE_LISTING if self._taken.get(prefix, 0) <= 1 else 0
            while True:
                entry = make_entry(number)
                # The floor again when its last read is older than the interval (rv65): what
                # came since it was read (making the entry, the wait for a taker's entry at a
                # collision, any pause) may have spanned a restore that wrote a floor.
                past = self._past_floor(prefix, number)
                if past != number:
                    number = past
                    continue
                key = entry_key(organ_id, year, series, number)
                # The entry's own directory sync, left running when the caller's is (``settling``).
                mine = Settling() if settling is not None else None
                objects = [NewObject(self.store, key, entry.to_json())]
                if ahead:
                    self.store.when_claimed(key, claimed)
                try:
                    (outcome,) = write_group(objects, after=after, settling=mine)
                finally:
                    if ahead:
                        self.store.when_claimed(key, None)
                if isinstance(outcome, AlreadyExists):
                    self._entry_landed(key, number)
                    # Others went ahead. Try the next number first (read forward, as the audit
                    # log does): with one other writer it is usually free, and the failed
                    # create already told us this one is taken, so a listing of the register
                    # (one request more on S3, the whole folder on the local store) buys
                    # nothing. Still behind after REGISTER_STEPS_BEFORE_LISTING numbers, or
                    # when the last allocation here found others several numbers ahead (more
                    # writers: each number read forward would cost a failed create), jump past
                    # the newest entry listed, not one at a time. Numbers only grow from one
                    # that was taken, so none is skipped: gap-free and unique as before.
                    stepped += 1
                    if stepped > forward:
                        number = max(number + 1, self._newest(prefix, after=key) + 1)
                    else:
                        number += 1
                    continue
                if isinstance(outcome, BaseException):
                    raise outcome  # not linked
                self._next[prefix] = number + 1
                self._taken[prefix] = number - first
                if settling is not None and mine is not None:
                    settling.include(mine)  # the caller waits for it before what depends on the entry
                    self._unsettled[prefix] = mine  # and so does the next entry here
                return entry

    def _entry_landed(self, key: str, number: int) -> None:
        """Before moving past ``number``, found taken: on a store that takes a key before its
        data lands (S3 claims, :meth:`~repository.storage.base.ObjectStore.taken_before_written`)
        its entry must be there, or come within a moment (a live writer's PUT under way). A
        claim with no entry behind it is a writer killed between the two, on a machine whose
        processes cannot be asked: moving on would leave the number a gap for ever (review rv43;
        NĐ 30: số is continuous within a year). Refused instead (``CLAIM_PENDING``, nothing
        written); once the claim is stale (``claim_timeout_s``) the number is taken over and
        used. One read per collision, on such stores only."""
        if not self.store.taken_before_written():
            return
        self.store.get_landed(
            key,
            f"Số {number:02d} của sổ đang bị giữ bởi một lượt ghi chưa hoàn tất (có thể lượt ghi đó đã"
            " dừng ở máy khác); để số không bị bỏ trống, chưa cấp số mới. Hãy thử lại sau ít phút.",
        )

    def met_no_other(self, prefix: str) -> bool:
        """Whether this process's last allocation in the register at ``prefix`` took the number
        it tried first (no other writer met), or it has not allocated there yet. No store
        call. (m50: a creation overlaps more of its steps with the number's claim only then;
        with writers racing for the same numbers a claim that stands longer before its data
        costs the others polls and lost claims.)"""
        return self._taken.get(prefix, 0) == 0

    def lowest_next(self, prefix: str) -> int | None:
        """A number no entry allocated from now on in the register at ``prefix`` is below: the
        next number this process would try (numbers only grow), None when it has not allocated
        there yet. No store call."""
        return self._next.get(prefix)

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

    def restored_floors(self) -> Iterator[tuple[str, RegisterFloor | Exception]]:
        """Every :class:`RegisterFloor` in the store by key, or the error of one that does not
        load (fsck names it)."""
        for info in self.store.list(FLOOR_PREFIX):
            try:
                floor = RegisterFloor.from_json(self.store.get(info.key))
            except Exception as exc:  # every failure is the caller's to report
                yield info.key, exc
                continue
            if floor.key != info.key:  # moved by hand: the allocator reads it at its key all the same
                yield info.key, FormatInvalid(
                    f"{formats.REGISTER_FLOOR.label.capitalize()} nằm ở “{info.key}” nhưng ghi sổ"
                    f" “{floor.key}”.",
                    kind=formats.REGISTER_FLOOR.name,
                )
                continue
            yield info.key, floor

    def all_entries(self) -> Iterator[RegisterEntry]:
        for info in self.store.list("registers/"):
            yield RegisterEntry.from_json(self.store.get(info.key))
