"""The lists on a person's home and intake pages, from the search index instead of a scan of
every record: the index already holds each record's state and who may find it (generated from
the access policy), so a query returns the few candidates and the repository checks each one
against the policy again before it is shown.

The index is derived data and may lag the store by the time one update takes to index; a record
is never shown because the index says so without the repository's own check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from repository.policy import search_scope
from repository.records import DESTROYED_PLACEHOLDER, Actor, Record, Repository
from web.context import Kho

LIST_LIMIT = 500
"""At most this many candidates per list (the newest first)."""


def indexed_ids(
    kho: Kho,
    who: Actor,
    *,
    direction: tuple[str, ...] = (),
    state: tuple[str, ...] = (),
    limit: int = LIST_LIMIT,
) -> Iterator[str]:
    """Ids of the records the index says ``who`` may find, newest first."""
    from search.query import MAX_PAGE_SIZE, Filters, Principal, Query, Sort

    principal = Principal.from_scope(search_scope(who.as_principal))
    filters = Filters(direction=direction, retention_state=state)
    seen = 0
    page = 1
    while seen < limit:
        size = min(MAX_PAGE_SIZE, limit - seen)
        query = Query(
            principal, filters=filters, facets=(), sort=Sort.DATE_DESC, page=page, page_size=size,
            highlight=False,
        )
        result = kho.backend.search(query)
        for hit in result.hits:
            seen += 1
            yield hit.id
        if not result.has_next or not result.hits:
            return
        page += 1


def unit_names(kho: Kho) -> dict[str, str]:
    """Unit id -> name (people choose and read names, not ids): the unit list is not secret,
    every signed-in person's pages name units."""
    return {u.unit_id: u.name for u in kho.accounts.units()}


def hoso_names(repo: Repository, who: Actor, ids: Iterable[str]) -> dict[str, str]:
    """Hồ sơ id -> "số ký hiệu — tiêu đề" for the hồ sơ ``who`` may see (the policy decides, as
    for every read; one read of each, not audited as a view: only its name is shown). An id they
    may not see, or that is gone, keeps no name and is shown as it is. Used by the search page,
    its exports and ``kho search``."""
    out: dict[str, str] = {}
    for record in repo.visible(dict.fromkeys(ids), actor=who):
        md = record.metadata
        if md is not None and getattr(md, "file_notation", None):
            out[record.record_id] = f"{md.file_notation} — {md.title}"
    return out


def shown_hits(repo: Repository, who: Actor, result: Any) -> Any:
    """``result`` (a :class:`search.query.SearchResult`) with only the hits the store lets
    ``who`` see now, each read and decided by the policy again. The index can miss an update
    (an index write that failed after the store's commit): a document whose secrecy was raised
    or that moved to another unit kept showing its title, trích yếu and snippets to those who
    lost sight of it, and a destroyed one its content. The totals and facets stay the index's,
    except where a hit of this page is dropped: the index is then known to be behind the store
    for this query, and its facets counted the dropped documents' signer, issuing organ, type
    and unit (a hồ sơ returned while the index write failed left its documents' archive field:
    the archivist's search by số showed "0 hits" beside "người ký: …" of the document, review
    rv48), so no facet is shown and the total leaves the dropped hits out."""
    from dataclasses import replace

    if not result.hits:
        return result
    current = {r.record_id: r for r in repo.visible(result.ids, actor=who, found=True)}
    hits = tuple(
        hit for hit in result.hits
        if (record := current.get(hit.id)) is not None
        and (record.state != "destroyed" or hit.trich_yeu == DESTROYED_PLACEHOLDER)
    )
    if len(hits) == len(result.hits):
        return result
    dropped = len(result.hits) - len(hits)
    return replace(result, hits=hits, total=max(len(hits), result.total - dropped), facets=())


def visible_document_counts(kho: Kho, who: Actor, files: list[Record]) -> dict[str, int]:
    """For each hồ sơ of ``files``, how many of its documents ``who`` may see: one index query
    (the documents the index lets them find, counted per hồ sơ), the store's check
    (:meth:`Repository.as_seen_by`) for a hồ sơ the count may have cut. The number of
    documents stored would count those they may not see."""
    from search.query import Filters, Principal, Query

    ids = tuple(f.record_id for f in files if f.documents)
    counts: dict[str, int] = {}
    if ids:
        principal = Principal.from_scope(search_scope(who.as_principal))
        query = Query(principal, filters=Filters(ho_so=ids), facets=("ho_so",), page_size=1,
                      highlight=False)
        values = kho.backend.search(query).facet("ho_so")
        cut = len(values) >= FACET_VALUES_SHOWN
        for file_id in ids:
            if file_id in values:
                counts[file_id] = values[file_id]
            elif cut:
                record = next(f for f in files if f.record_id == file_id)
                counts[file_id] = len(kho.repo.as_seen_by(record, who).documents)
    return {f.record_id: counts.get(f.record_id, 0) for f in files}


FACET_VALUES_SHOWN = 50
"""Values a facet returns at most (both backends): a full facet may have left one out."""


def indexed_page(
    kho: Kho, who: Actor, *, direction: tuple[str, ...] = (), page: int = 1, page_size: int = 50
) -> tuple[list[str], int, bool]:
    """One page of the ids the index says ``who`` may find, newest first: (ids, total, has_next)."""
    from search.query import MAX_PAGE, Filters, Principal, Query, Sort

    principal = Principal.from_scope(search_scope(who.as_principal))
    query = Query(
        principal, filters=Filters(direction=direction), facets=(), sort=Sort.DATE_DESC,
        page=min(max(page, 1), MAX_PAGE), page_size=page_size, highlight=False,
    )
    result = kho.backend.search(query)
    return [hit.id for hit in result.hits], result.total, result.has_next


def intake_queue(kho: Kho, who: Actor) -> list[Any]:
    """The review of every document waiting to be registered that ``who`` may see."""
    candidates = list(indexed_ids(kho, who, state=("intake",)))
    return kho.receive.pending(who, candidates=candidates[::-1])  # oldest first


def intake_count(kho: Kho, who: Actor) -> int:
    """How many documents wait to be registered (no review data read)."""
    candidates = list(indexed_ids(kho, who, state=("intake",)))
    return len(kho.repo.intake_queue(actor=who, candidates=candidates))


def files_in_progress(kho: Kho, who: Actor) -> list[Record]:
    """The hồ sơ ``who`` created and is still building."""
    return [r for r in kho.repo.files_created_by(actor=who) if r.state == "active"]
