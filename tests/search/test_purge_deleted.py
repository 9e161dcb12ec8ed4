"""What a replaced or deleted document leaves in the index after ``purge_deleted`` (the last step of
a destruction and of a recall's removal): nothing. ARCHITECTURE invariant 7, "destroyed means
unrecoverable — from the store, the index, and the backups".

Each backend is looked at from below its own search API (:func:`index_traces`): a Tantivy
segment keeps the terms and positions of a deleted document until the segment is rewritten (the
text can be rebuilt from them); an Elasticsearch shard keeps a deleted document, ``_source``
included, as a soft-deleted copy until a merge may drop it."""

from __future__ import annotations

from index_docs import index_doc
from index_traces import index_traces

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.query import Principal, Query

EVERYONE = Principal("kt1", everything=True)
SECRET_WORD = "thuốcnổbímật"
"""A word only the destroyed document's text holds."""


def _doc(n: int, **kw: object) -> IndexDocument:
    kw.setdefault("text", f"Nội dung công văn thường số {n} về quy chế làm việc.")
    return index_doc(n, id_width=3, **kw)  # type: ignore[arg-type]


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
    assert index_traces(backend, SECRET_WORD) == 0
    # The purge kept every other document, findable as before.
    assert backend.search(Query(principal=EVERYONE, terms=("thường",))).total == 39
    assert backend.count() == 40


def test_a_destroyed_documents_signer_and_organ_labels_leave_the_embedded_index_u7(tmp_path) -> None:
    """The embedded ``labels`` table (facet key → display form) kept a label after the last
    document carrying it was destroyed: the destroyed document's signer and organ names stayed in
    the SQLite file (review u7). After the purge no row holds them and no facet lists them."""
    import sqlite3

    from search.embedded import EmbeddedBackend

    backend = EmbeddedBackend(tmp_path / "index")
    try:
        signer, organ = "Lê Bímật Ký", "Sở Bímật Tỉnh"
        docs = [_doc(n, nguoi_ky="Nguyễn Văn An", co_quan_ban_hanh="UBND Tỉnh") for n in range(6)]
        docs[2] = _doc(2, nguoi_ky=signer, co_quan_ban_hanh="UBND Tỉnh")
        docs[4] = _doc(4, nguoi_ky="Nguyễn Văn An", co_quan_ban_hanh=organ)
        backend.index(docs)
        facets = ("nguoi_ky", "co_quan_ban_hanh")
        shown = backend.search(Query(principal=EVERYONE, facets=facets)).facets
        assert signer in {v.value for f in shown for v in f.values}  # labelled while it lives
        # Doc 2 destroyed: its "đã hủy" row keeps no signer; doc 4 deleted from the index.
        backend.index([_doc(2, version=2, title="(đã hủy)", text="", co_quan_ban_hanh="UBND Tỉnh")])
        backend.delete(["doc-004"])
        backend.purge_deleted()
        path = backend.path
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT facet, key, label FROM labels").fetchall()
        assert [r for r in rows if "Bímật".casefold() in r[2].casefold() or "bimat" in r[1]] == []
        assert sorted((f, label) for f, _, label in rows) == [
            ("co_quan_ban_hanh", "UBND Tỉnh"), ("nguoi_ky", "Nguyễn Văn An")
        ]
        shown = backend.search(Query(principal=EVERYONE, facets=facets)).facets
        values = {f.name: {(v.value, v.count) for v in f.values} for f in shown}
        assert values == {"nguoi_ky": {("Nguyễn Văn An", 4)}, "co_quan_ban_hanh": {("UBND Tỉnh", 5)}}
        on_disk = b"".join(
            p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file()
        )
        assert signer.encode() not in on_disk and organ.encode() not in on_disk
    finally:
        backend.close()
