"""Kho search: the derived full-text and metadata index (embedded SQLite + Tantivy, or Elasticsearch).

Entry points: :func:`open_backend` picks the backend from configuration; documents to index
are :class:`search.documents.IndexDocument`; queries are :class:`search.query.Query` (built by
:func:`search.query.parse_query`); rebuilds and checks live in :mod:`search.reindex`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.backend import SearchBackend

ENV_URL = "KHO_ELASTICSEARCH_URL"
ENV_DATA_DIR = "KHO_DATA_DIR"


def open_backend(url_or_path: str | os.PathLike[str] | None = None) -> SearchBackend:
    """An Elasticsearch backend for an ``http(s)://`` URL, else the embedded one at that path.

    With no argument: ``KHO_ELASTICSEARCH_URL`` if set, else ``<KHO_DATA_DIR>/index/``
    (``KHO_DATA_DIR`` defaults to ``./kho-data``). Elasticsearch takes its alias, shards and
    replicas from ``KHO_ELASTICSEARCH_INDEX``/``_SHARDS``/``_REPLICAS``; several nodes are
    comma-separated URLs.
    """
    from kho.config import Settings

    settings: Settings | None = None
    if url_or_path is None:
        # As Settings reads them (trimmed, ``~`` expanded, an empty KHO_DATA_DIR refused), so
        # ``kho search`` reads the index ingest writes: read raw, "/srv/kho " or "~/kho" named
        # another folder, where a new, empty index was made and every search answered 0.
        settings = Settings.from_env()
        url_or_path = settings.elasticsearch_url or settings.data_dir / "index"
    target = str(url_or_path)
    if target.startswith(("http://", "https://")):
        from search.elasticsearch import ElasticsearchBackend

        settings = settings or Settings.from_env()
        return ElasticsearchBackend(
            target, prefix=settings.elasticsearch_index, shards=settings.elasticsearch_shards,
            replicas=settings.elasticsearch_replicas,
        )
    from search.embedded import EmbeddedBackend

    return EmbeddedBackend(Path(target))
