"""What an index keeps on disk of the documents holding a word, deleted ones included: read below
the search API, where a copy of the index folder (or of Elasticsearch's data path) is read."""

from __future__ import annotations

from typing import Any

from search.analysis import fold, normalize


def index_traces(backend: Any, word: str) -> int:
    """How many documents of the index hold ``word``, counting deleted and replaced copies that
    are still in a segment (each backend's document frequency does; a search does not)."""
    if type(backend).__name__ == "EmbeddedBackend":
        index = backend._live_writer()
        index.text.reload()
        searcher = index.text.searcher()
        exact = normalize(word)
        return int(searcher.doc_freq("e", exact)) + int(searcher.doc_freq("f", fold(exact)))
    es = backend.es
    es.indices.refresh(index=backend.alias)
    vectors = es.termvectors(
        index=backend.alias, doc={"text": word}, term_statistics=True, fields=["text", "text.folded"]
    ).body["term_vectors"]
    return sum(term.get("doc_freq", 0) for field in vectors.values() for term in field["terms"].values())
