"""Rebuild the index from the store's documents, resumable; compare store and index.

The lead supplies the documents (``repository`` → :class:`IndexDocument`); search never reads
the store. A rebuild writes into a staging index (see :meth:`SearchBackend.begin_rebuild`);
the staging index itself is the checkpoint: after an interruption, the next run skips every
document already staged with the same version and continues.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from search.backend import SearchBackend
from search.documents import IndexDocument


@dataclass(frozen=True)
class Progress:
    seen: int  # documents read from the store so far
    written: int  # written into the staging index by this run
    skipped: int  # already staged by an earlier, interrupted run
    elapsed: float  # seconds

    @property
    def rate(self) -> float:
        return self.written / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class ReindexReport:
    total: int
    written: int
    skipped: int
    removed: int  # staged documents the store no longer has (destroyed meanwhile)
    elapsed: float


def reindex(
    backend: SearchBackend,
    documents: Iterable[IndexDocument],
    *,
    batch_size: int = 500,
    progress: Callable[[Progress], None] | None = None,
) -> ReindexReport:
    """Rebuild everything from ``documents`` into a staging index, then swap it in atomically.

    Interrupted (exception, Ctrl-C): the staging index stays and the next call resumes it.
    """
    started = time.perf_counter()
    rebuild = backend.begin_rebuild()
    staged = dict(rebuild.ids_and_versions())
    seen = written = skipped = 0
    batch: list[IndexDocument] = []
    present: set[str] = set()

    def flush() -> None:
        nonlocal written
        if batch:
            written += rebuild.index(batch)
            batch.clear()
            if progress:
                progress(Progress(seen, written, skipped, time.perf_counter() - started))

    try:
        for doc in documents:
            seen += 1
            present.add(doc.id)
            if staged.get(doc.id) == doc.version:
                skipped += 1
                continue
            batch.append(doc)
            if len(batch) >= batch_size:
                flush()
        flush()
        gone = [doc_id for doc_id in staged if doc_id not in present]
        removed = rebuild.delete(gone) if gone else 0
    except BaseException as exc:
        try:
            rebuild.close()  # keep what is staged: the next run resumes from it
        except Exception as closing:  # (what it could not apply stays pending, resumed too)
            # the error that stopped the rebuild is the one to report, not its clean-up's
            exc.add_note(f"Closing the staging index failed too: {closing!r}")
        raise
    rebuild.commit()
    elapsed = time.perf_counter() - started
    if progress:
        progress(Progress(seen, written, skipped, elapsed))
    return ReindexReport(seen, written, skipped, removed, elapsed)


@dataclass(frozen=True)
class ConsistencyReport:
    missing: tuple[str, ...]  # in the store, not in the index
    extra: tuple[str, ...]  # in the index, not in the store (e.g. destroyed yet still indexed)
    stale: tuple[tuple[str, int, int], ...]  # (id, store version, index version)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def consistency_check(
    backend: SearchBackend, expected: Iterable[tuple[str, int]]
) -> ConsistencyReport:
    """Every difference between the store's (id, version) pairs and the index."""
    indexed = dict(backend.ids_and_versions())
    missing: list[str] = []
    stale: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for doc_id, version in expected:
        seen.add(doc_id)
        have = indexed.get(doc_id)
        if have is None:
            missing.append(doc_id)
        elif have != version:
            stale.append((doc_id, version, have))
    extra = sorted(set(indexed) - seen)
    return ConsistencyReport(tuple(sorted(missing)), tuple(extra), tuple(sorted(stale)))
