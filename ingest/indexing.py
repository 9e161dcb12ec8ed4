"""Keep the search index following the record store.

The index is derived (ARCHITECTURE invariant 1): an :class:`IndexDocument` is built from a
record's latest version plus what ingest stored beside its original (text, signature verdict,
extracted metadata), and ``kho reindex`` rebuilds everything from the store alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kho.errors import KeyDestroyed, KhoError, NotFound
from repository.formats import load_derived
from repository.metadata import DocumentMetadata, FileMetadata
from repository.policy import index_archive, index_visibility
from repository.records import EXTRACTED_METADATA, Actor, Record, Repository

if TYPE_CHECKING:
    from search.backend import SearchBackend
    from search.documents import IndexDocument
    from search.reindex import ConsistencyReport, Progress, ReindexReport

# The search package is imported by the functions that build or write index documents, not
# here: every record command wires :func:`follow`, and one that only reads never needs it.

INDEXER = Actor(user="kho-index", source="index", system=True)
"""The index follows the store as Kho's own process; who may *find* a document is decided
by the visibility fields it writes, at query time."""

# Names of the derived objects ingest writes beside an original.
TEXT = "text.json"
SIGNATURES = "signatures.json"


def _derived_json(repo: Repository, record_id: str, name: str) -> dict[str, Any] | None:
    try:
        return load_derived(repo.get_derived(record_id, name), name)
    except (NotFound, KeyDestroyed, ValueError, KhoError):
        return None


def _text_of(derived: dict[str, Any] | None) -> str:
    if not derived:
        return ""
    parts = derived.get("parts") or []
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def to_index_document(
    repo: Repository,
    record: Record,
    *,
    holders: Sequence[Record] | None = None,
    derived: Mapping[str, dict[str, Any]] | None = None,
) -> IndexDocument:
    """The search document of a record (pure mapping once the derived data is read).
    ``holders``: the hồ sơ it sits in, when the caller has them (a reindex does). ``derived``:
    derived objects of the record as stored (``load_derived`` of their bytes), when the caller
    has them (ingest wrote or read them for this record): not read again from the store."""
    from search.documents import IndexDocument

    if holders is None:
        holders = repo.holders_of(record, readable_only=True)  # (a damaged hồ sơ adds no reader)
    known = derived or {}

    def read(name: str) -> dict[str, Any] | None:
        return known[name] if name in known else _derived_json(repo, record.record_id, name)

    text = _text_of(read(TEXT))
    extracted = read(EXTRACTED_METADATA) or {}
    verdict = str(record.extra.get("signature_verdict", ""))
    if not verdict and (signatures := read(SIGNATURES)):
        verdict = str(signatures.get("verdict", ""))
    cites = tuple(
        str(c.get("so_ky_hieu"))
        for c in extracted.get("can_cu", []) or []
        if isinstance(c, dict) and c.get("so_ky_hieu")
    )
    # Who may find it: generated from the access policy's own rule (repository.policy).
    facts = repo.facts(record, holders=holders)
    visible_units, named_users = index_visibility(facts)
    md = record.metadata
    common: dict[str, Any] = {
        "id": record.record_id,
        "version": record.version,
        "text": text,
        "signature_verdict": verdict,
        "retention_state": record.state,
        "cites": cites,
        "grant_users": named_users,
        "grant_units": tuple(u for u in visible_units if u != facts.unit),
        "owner_unit": facts.unit,
        "archive_units": index_archive(facts),
    }
    if isinstance(md, FileMetadata):
        return IndexDocument(
            direction="hoso",
            title=md.title,
            trich_yeu=md.title,
            so_ky_hieu="",
            ngay_ban_hanh=md.start_date,
            **common,
        )
    documents_in = tuple(h.record_id for h in holders)
    if isinstance(md, DocumentMetadata):
        number = record.registration.number if record.registration else None
        return IndexDocument(
            direction=md.direction.value,
            title=f"{md.type_name} {md.so_ky_hieu or ''} {md.subject}".strip(),
            trich_yeu=md.subject,
            loai_van_ban=md.type_name,
            so_ky_hieu=md.so_ky_hieu or "",
            number=number,
            co_quan_ban_hanh=md.organ_name,
            ngay_ban_hanh=md.issued_date,
            ngay_den=md.arrival_date,
            do_khan=int(md.urgency),
            do_mat=int(md.secrecy),
            ho_so=documents_in,
            nguoi_ky=md.signer_full_name,
            **common,
        )

    # An intake record: only what ingest found so far.
    def value(name: str) -> str:
        item = extracted.get(name)
        if isinstance(item, dict):
            item = item.get("value")
        return str(item) if item else ""

    name = record.files[0].original_name if record.files else record.record_id
    return IndexDocument(
        direction=record.kind if record.kind in ("den", "di") else "den",
        title=value("trich_yeu") or name,
        trich_yeu=value("trich_yeu"),
        loai_van_ban=value("loai_van_ban"),
        so_ky_hieu=value("so_ky_hieu"),
        co_quan_ban_hanh=value("co_quan_ban_hanh"),
        nguoi_ky=value("nguoi_ky"),
        ho_so=documents_in,
        **common,
    )


def index_record(repo: Repository, backend: SearchBackend, record_id: str) -> IndexDocument | None:
    """Index the latest version of one record; remove it from the index if it is gone."""
    try:
        record = repo.get(record_id, actor=INDEXER)
    except (NotFound, KeyDestroyed):
        backend.delete([record_id])
        return None
    document = to_index_document(repo, record)
    backend.index([document])
    return document


def follow(repo: Repository, backend: SearchBackend | Callable[[], SearchBackend]) -> None:
    """Make every change in the store update the index (in-process mode).

    ``backend`` may be a function returning it: the index is then opened at the first change,
    not before (a command that only reads the store never opens the search engine).
    """
    previous = repo.on_change

    def on_change(record: Record) -> None:
        if previous is not None:
            previous(record)
        from search.backend import SearchBackend

        target = backend if isinstance(backend, SearchBackend) else backend()
        target.index([to_index_document(repo, record)])

    repo.on_change = on_change
    previous_reach = repo.on_reach

    def on_reach(file: Record, documents: list[Record]) -> None:
        if previous_reach is not None:
            previous_reach(file, documents)
        from search.backend import SearchBackend

        target = backend if isinstance(backend, SearchBackend) else backend()
        # Only the field the hồ sơ's state decides: its documents' text, verdict and metadata
        # are not read from the store again (a 200-document hồ sơ: bench/u24_submit_cost.py).
        missing = target.set_archive_units({d.record_id: index_archive(repo.facts(d)) for d in documents})
        if missing:
            target.index([to_index_document(repo, d) for d in documents if d.record_id in missing])

    repo.on_reach = on_reach


def _documents(repo: Repository) -> Iterator[IndexDocument]:
    holders: dict[str, list[Record]] = {}
    records = list(repo.records())
    for record in records:
        if isinstance(record.metadata, FileMetadata):
            for doc_id in record.documents:
                holders.setdefault(doc_id, []).append(record)
    for record in records:
        yield to_index_document(repo, record, holders=holders.get(record.record_id, []))


def reindex_all(
    repo: Repository, backend: SearchBackend, progress: Callable[[Progress], None] | None = None
) -> ReindexReport:
    """Rebuild the whole index from the store alone (resumable)."""
    from search.reindex import reindex

    return reindex(backend, _documents(repo), progress=progress)


def check_index(repo: Repository, backend: SearchBackend) -> ConsistencyReport:
    """Every difference between the store and the index."""
    from search.reindex import consistency_check

    expected = ((r.record_id, r.version) for r in repo.records())
    return consistency_check(backend, expected)
