"""``formats.as_dict`` (s13) is ``dataclasses.asdict`` without the deep copy of strings and
numbers: the stored bytes of an audit event (and so its hash), a register entry and a record's
metadata are made from it, so it must give the same values of the same types, for every field
these dataclasses have, and a result that shares no mutable part with the instance."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import namedtuple
from datetime import date
from typing import Any

from repository import formats
from repository.audit import AuditEvent
from repository.formats import as_dict
from repository.metadata import DocumentMetadata, FileMetadata, Recipient, _to_jsonable
from repository.registers import RegisterEntry
from repository.vocabulary import Direction, Secrecy, Urgency

Pair = namedtuple("Pair", "left right")


class Label(str):
    """A ``str`` subclass: ``asdict`` deep-copies it (not an atom of ``copy``)."""


@dataclasses.dataclass
class Inner:
    name: str
    when: date
    tags: list[str]


@dataclasses.dataclass
class Outer:
    inner: Inner
    inners: list[Inner]
    pair: Pair
    table: dict[tuple[int, str], list[Inner]]
    label: Label
    raw: bytes
    ratio: float
    flag: bool
    nothing: None = None


def _event() -> AuditEvent:
    return AuditEvent(
        seq=41,
        at="2026-12-05T01:02:03.456789Z",
        actor="văn-thư",
        action="document.create",
        record_id="0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        version=3,
        source="10.0.0.7",
        details={
            "sha256": "ab" * 32,
            "size": 204_800,
            "files": ["vb1.pdf", "phụ lục.docx"],
            "nested": {"ok": True, "ratio": 0.5, "none": None, "pair": ("a", 1)},
        },
        prev="cd" * 32,
        hash="ef" * 32,
        format_version=2,
        seal="0a" * 32,  # as a Kho with a seal key writes it (review rv20)
    )


def _metadata() -> DocumentMetadata:
    return DocumentMetadata(
        direction=Direction.DEN,
        type_name="Công văn",
        code_notation="BNV-VP",
        organ_name="Bộ Nội vụ",
        subject="Về việc thử nghiệm",
        signer_position="Chánh Văn phòng",
        signer_full_name="Trần Thị Hoà",
        issued_date=date(2026, 3, 2),
        code_number="12",
        organ_id="G09.01",
        page_amount=4,
        description="mô tả",
        recipients=(Recipient("Sở Nội vụ", "G09.02"), Recipient("UBND tỉnh")),
        urgency=Urgency.KHAN,
        secrecy=Secrecy.MAT,
        issued_amount=3,
        due_date=date(2026, 4, 1),
        arrival_date=date(2026, 3, 3),
        to_places="Như trên",
        trace_header_list="x",
        unit="vp",
    )


def _same(a: Any, b: Any) -> None:
    """Equal, and of the same type at every level (json.dumps writes a tuple and a list alike,
    but a caller may not)."""
    assert type(a) is type(b), (a, b)
    assert a == b
    if isinstance(a, dict):
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            _same(ka, kb)
            _same(va, vb)
    elif isinstance(a, list | tuple):
        for va, vb in zip(a, b, strict=True):
            _same(va, vb)


def test_as_dict_gives_what_dataclasses_asdict_gives_for_every_kind_of_field() -> None:
    inner = Inner("một", date(2026, 1, 2), ["a", "b"])
    outer = Outer(
        inner=inner,
        inners=[inner, Inner("hai", date(2026, 2, 3), [])],
        pair=Pair(inner, (1, 2.5)),
        table={(1, "k"): [inner]},
        label=Label("nhãn"),
        raw=b"\x00\x01",
        ratio=1.25,
        flag=True,
    )
    for obj in (outer, _event(), _metadata(), RegisterEntry("G09", 2026, "CV", 7, "r1", "c2VhbGVk", 2)):
        _same(as_dict(obj), dataclasses.asdict(obj))


def test_as_dict_shares_no_mutable_part_with_the_instance() -> None:
    event = _event()
    data = as_dict(event)
    data["details"]["files"].append("khác")
    data["details"]["nested"]["ok"] = False
    assert event.details["files"] == ["vb1.pdf", "phụ lục.docx"]
    assert event.details["nested"]["ok"] is True
    assert data["details"] is not event.details


def test_the_stored_bytes_and_hashes_are_those_asdict_gives() -> None:
    """What is written: an event's JSON and hash, a register entry's JSON, a record's metadata
    JSON, byte for byte what they were with ``dataclasses.asdict``."""
    event = _event()
    old_body = dataclasses.asdict(event)
    old_body.pop("hash")
    old_hash = hashlib.sha256(
        json.dumps(old_body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    assert event.compute_hash() == old_hash
    stored = json.dumps(dataclasses.asdict(event), sort_keys=True, ensure_ascii=False).encode()
    assert event.to_json() == stored
    unversioned = dataclasses.replace(event, format_version=None)
    old_stored = dataclasses.asdict(unversioned)
    del old_stored[formats.FORMAT_KEY]
    assert unversioned.to_json() == json.dumps(old_stored, sort_keys=True, ensure_ascii=False).encode()
    unsealed = dataclasses.replace(event, seal=None)  # written without a seal key: no such field
    old_unsealed = dataclasses.asdict(unsealed)
    del old_unsealed["seal"]
    assert unsealed.to_json() == json.dumps(old_unsealed, sort_keys=True, ensure_ascii=False).encode()
    del old_unsealed["hash"]
    canonical = json.dumps(old_unsealed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert unsealed.compute_hash() == hashlib.sha256(canonical.encode()).hexdigest()

    entry = RegisterEntry("G09", 2026, "CV", 7, "r1", "c2VhbGVk", 2)
    assert entry.to_json() == formats.dumps(formats.REGISTER_ENTRY.name, dataclasses.asdict(entry))

    meta = _metadata()
    old = json.dumps(_to_jsonable(dataclasses.asdict(meta)), sort_keys=True, ensure_ascii=False)
    assert json.dumps(meta.to_dict(), sort_keys=True, ensure_ascii=False) == old
    folder = FileMetadata("G09", 1, "HS-01", "Hồ sơ", "Vĩnh viễn", "vp", date(2026, 1, 1), date(2026, 12, 31))
    assert folder.to_dict() == _to_jsonable(dataclasses.asdict(folder))

