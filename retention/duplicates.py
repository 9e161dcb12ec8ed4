"""Duplicate detection feeding the eligibility rule's ``duplicate_of`` (TT 06/2025: a copy of a
record kept is listed as "Tài liệu trùng").

Two registered documents are the same document when they hold the same original (SHA-256) or
carry the same số và ký hiệu from the same issuer on the same date. Registration already refuses
most such pairs; this finds the ones that got in anyway (imports from before the guards, the same
paper registered in two registers, a re-scan with other bytes). The one registered first is kept;
each later one is a duplicate of it.

:func:`find_duplicates` is pure (facts in, a mapping out); :func:`scan` reads the facts from the
store.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from repository.metadata import DocumentMetadata
from repository.records import Repository
from retention.eligibility import RetentionFacts


@dataclass(frozen=True)
class DocumentFacts:
    record_id: str
    registered_at: str
    """ISO 8601 UTC instant of the registration (ordering: the first is kept)."""
    sha256s: tuple[str, ...] = ()
    code_number: str | None = None
    code_notation: str = ""
    issuer: str = ""
    """The issuer's organ id when known, else its name."""
    issued_date: date | None = None


def _norm(text: str | None) -> str:
    folded = unicodedata.normalize("NFC", (text or "").strip()).casefold()
    return "".join(folded.split())


def identity(facts: DocumentFacts) -> tuple[str, str, str, str] | None:
    """Số + ký hiệu + issuer + date, normalised (None when any part is missing)."""
    parts = (
        _norm(facts.code_number).lstrip("0"),
        _norm(facts.code_notation),
        _norm(facts.issuer),
        facts.issued_date.isoformat() if facts.issued_date else "",
    )
    return parts if all(parts) else None


def find_duplicates(documents: Iterable[DocumentFacts]) -> dict[str, str]:
    """record id → the record kept (the first registered sharing its original or its identity);
    records kept are not in the mapping. Transitive: a copy of a copy points at the first."""
    ordered = sorted(documents, key=lambda d: (d.registered_at, d.record_id))
    first: dict[object, str] = {}
    out: dict[str, str] = {}
    for doc in ordered:
        keys: list[object] = [("sha256", s) for s in doc.sha256s]
        if (ident := identity(doc)) is not None:
            keys.append(("identity", ident))
        kept = next((first[k] for k in keys if k in first), None)
        if kept is not None:
            out[doc.record_id] = out.get(kept, kept)
        for key in keys:
            first.setdefault(key, out.get(doc.record_id, doc.record_id))
    return out


def with_duplicates(facts: RetentionFacts, duplicates: Mapping[str, str]) -> RetentionFacts:
    """``facts`` with ``duplicate_of`` filled from :func:`find_duplicates`'s mapping."""
    kept = duplicates.get(facts.record_id)
    return replace(facts, duplicate_of=kept) if kept else facts


def scan(repo: Repository) -> dict[str, str]:
    """:func:`find_duplicates` over every registered, not destroyed document of ``repo``."""
    docs = []
    for record in repo.records():
        md = record.metadata
        if record.state == "destroyed" or record.registration is None:
            continue
        if not isinstance(md, DocumentMetadata):
            continue
        docs.append(
            DocumentFacts(
                record_id=record.record_id,
                registered_at=record.created_at,
                sha256s=tuple(f.sha256 for f in record.files),
                code_number=md.code_number,
                code_notation=md.code_notation,
                issuer=md.organ_id or md.organ_name,
                issued_date=md.issued_date,
            )
        )
    return find_duplicates(docs)
