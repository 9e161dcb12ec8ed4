"""The backend interface every search engine implements (embedded SQLite + Tantivy, Elasticsearch).

Writes are idempotent and version-aware: indexing a document whose ``version`` is lower than
the one already indexed is ignored (a late retry never overwrites a newer version).

A rebuild writes into a separate staging index (Elasticsearch: a new index, then an alias swap;
embedded: a new file, then an atomic rename). While a rebuild is open, ``index``/``delete`` on
the live backend are applied to the staging index too, so no change is lost. A rebuild left
unfinished (crash, Ctrl-C) is resumed by the next :meth:`SearchBackend.begin_rebuild` call.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping

from search.documents import IndexDocument
from search.query import Principal, Related, SearchResult
from search.query import Query as Query


class IndexWriter(ABC):
    """Something documents can be written to: the live index or a staging one."""

    @abstractmethod
    def index(self, docs: Iterable[IndexDocument]) -> int:
        """Add or replace documents (newer or equal version wins); returns how many were written."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Remove documents (destruction); returns how many existed."""

    @abstractmethod
    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        """Every indexed (id, version), for consistency checks and resumable rebuilds."""


class Rebuild(IndexWriter):
    """A staging index being filled by ``kho reindex``; writes go to :attr:`staging`."""

    staging: IndexWriter

    def index(self, docs: Iterable[IndexDocument]) -> int:
        return self.staging.index(docs)

    def delete(self, ids: Iterable[str]) -> int:
        return self.staging.delete(ids)

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        return self.staging.ids_and_versions()

    @abstractmethod
    def commit(self) -> None:
        """Make the staging index the live one, atomically."""

    @abstractmethod
    def abort(self) -> None:
        """Throw the staging index away."""

    def close(self) -> None:
        """Release connections but keep the staging index, so a later rebuild resumes it."""


class SearchBackend(IndexWriter):
    name: str = "backend"

    @abstractmethod
    def _live_writer(self) -> IndexWriter:
        """The index that searches read."""

    @abstractmethod
    def _staging_writer(self) -> IndexWriter | None:
        """The staging index of an open rebuild, if any: live writes go to it too."""

    def index(self, docs: Iterable[IndexDocument]) -> int:
        docs = list(docs)
        staging = self._staging_writer()
        if staging is not None:
            staging.index(docs)
        return self._live_writer().index(docs)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        staging = self._staging_writer()
        if staging is not None:
            staging.delete(ids)
        return self._live_writer().delete(ids)

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        return self._live_writer().ids_and_versions()

    @abstractmethod
    def get(self, doc_id: str) -> IndexDocument | None: ...

    def set_archive_units(self, changes: Mapping[str, tuple[str, ...]]) -> set[str]:
        """Write only the ``archive_units`` of indexed documents (id → units), when a hồ sơ
        holding them is submitted or returned (review u24): each is the document as indexed with
        that field replaced, so the store is not read again (its text, verdict and derived
        metadata are the index's). Returns the ids not indexed, which the caller indexes whole."""
        missing: set[str] = set()
        docs = []
        for doc_id, units in changes.items():
            doc = self.get(doc_id)
            if doc is None:
                missing.add(doc_id)
            elif doc.archive_units != tuple(units):
                docs.append(dataclasses.replace(doc, archive_units=tuple(units)))
        if docs:
            self.index(docs)
        return missing

    @abstractmethod
    def search(self, query: Query) -> SearchResult: ...

    @abstractmethod
    def related(self, doc_id: str, principal: Principal) -> Related:
        """Visible documents cited by ``doc_id`` and citing it; empty if it is not visible."""

    @abstractmethod
    def begin_rebuild(self) -> Rebuild:
        """Open (or resume) a staging index."""

    def count(self) -> int:
        return sum(1 for _ in self.ids_and_versions())

    def purge_deleted(self) -> None:
        """Physically drop what deletes and replacements left behind (destruction: the text of a
        destroyed record must not survive in an old segment)."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> SearchBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
