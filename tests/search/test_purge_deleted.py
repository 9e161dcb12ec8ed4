"""What a replaced or deleted document leaves in the index after ``purge_deleted`` (the last step of
a destruction and of a recall's removal): nothing. ARCHITECTURE invariant 7, "destroyed means
unrecoverable — from the store, the index, and the backups".

Each backend is looked at from below its own search API, where a stolen copy of the index folder
(or of the Elasticsearch data path) would be read: a Tantivy segment keeps the terms and positions
of a deleted document until the segment is rewritten (the text can be rebuilt from them); an
Elasticsearch shard keeps a deleted document, ``_source`` included, as a soft-deleted copy until a
merge may drop it."""

from __future__ import annotations

from datetime import date

from search.analysis import fold, normalize
from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, Query

EVERYONE = Principal("kt1", everything=True)
SECRET_WORD = "thuốcnổbímật"
"""A word only the destroyed document's text holds."""


def _doc(n: int, **kw: object) -> IndexDocument:
    base: dict[str, object] = {
        "version": 1,
        "direction": "den",
        "owner_unit": "UNIT-A",
        "ngay_ban_hanh": date(2024, 1, 1),
        "title": f"Công văn số {n}",
        "so_ky_hieu": f"{n}/UBND-VP",
        "text": f"Nội dung công văn thường số {n} về quy chế làm việc.",
    }
    base.update(kw)
    return IndexDocument(id=f"doc-{n:03d}", **base)  # type: ignore[arg-type]


def traces(backend: SearchBackend, word: str) -> int:
    """How many copies of documents holding ``word`` (or, for Elasticsearch, of any deleted
    document) the index still keeps on disk, deleted ones included."""
    if type(backend).__name__ == "EmbeddedBackend":
        index = backend._live_writer()  # type: ignore[attr-defined]
        index.text.reload()
        searcher = index.text.searcher()
        exact = normalize(word)
        # doc_freq counts every document of every segment, deleted ones included.
        return int(searcher.doc_freq("e", exact)) + int(searcher.doc_freq("f", fold(exact)))
    es = backend.es  # type: ignore[attr-defined]
    es.indices.refresh(index=backend.alias)  # type: ignore[attr-defined]
    stats = es.indices.stats(index=backend.alias, metric="docs").body  # type: ignore[attr-defined]
    return sum(v["primaries"]["docs"]["deleted"] for v in stats["indices"].values())


def test_a_replaced_documents_text_is_gone_from_the_index_files_after_the_purge(make_backend) -> None:
    backend: SearchBackend = make_backend()
    # One batch, as a reindex writes it: the secret document shares its segment with others.
    docs = [_doc(n) for n in range(40)]
    docs[7] = _doc(7, trich_yeu="Kế hoạch mật", text=f"Nội dung mật {SECRET_WORD} của kế hoạch.")
    assert backend.index(docs) == 40
    assert backend.search(Query(principal=EVERYONE, terms=(SECRET_WORD,))).total == 1
    # The destruction: its "đã hủy" row replaces it (same id, no text), then the purge.
    backend.index([_doc(7, version=2, title="(đã hủy)", text="", so_ky_hieu="7/UBND-VP")])
    backend.purge_deleted()
    assert backend.search(Query(principal=EVERYONE, terms=(SECRET_WORD,))).total == 0
    assert traces(backend, SECRET_WORD) == 0
    # The purge kept every other document, findable as before.
    assert backend.search(Query(principal=EVERYONE, terms=("thường",))).total == 39
    assert backend.count() == 40
