"""A rebuild (``kho reindex``) in another process that swaps its staging index in while a purge
of the embedded index runs (review rv8 of s10). The destruction's delete reached both indexes
(:meth:`SearchBackend.delete` writes the staging index too); the purge must leave neither the
live index it started on nor the staging index that becomes live with a trace of the destroyed
text. s10 looked for the staging index only after the live index's rewrite (main opened it
first): a swap in between, which waits for exactly that lock, left the new live index with the
destroyed document in a segment. The purging process here is not the one that deleted (a
destruction's purge retried by another process after SEARCH_INDEX_UNAVAILABLE or a kill): it
holds no connection to the staging index before its purge opens one.

Real SQLite and Tantivy files; a second :class:`EmbeddedBackend` on the same folder has its own
connections, handles and lock file description, as another process has."""

from __future__ import annotations

import threading
from pathlib import Path

from index_docs import index_doc
from index_traces import index_traces

from kho.errors import StoreUnavailable
from search.documents import IndexDocument
from search.embedded import EmbeddedBackend, _Index
from search.query import Principal, Query

EVERYONE = Principal("kt1", everything=True)
SECRET = "chấtnổbímậtrv8"


def _doc(n: int, **kw: object) -> IndexDocument:
    kw.setdefault("text", f"quyết định ban hành quy chế số {n}")
    return index_doc(n, **kw)  # type: ignore[arg-type]


def _no_secret_on_disk(where: Path) -> None:
    for path in where.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_rebuild_committed_during_the_purge_keeps_no_trace_of_the_destroyed_text(
    tmp_path: Path, monkeypatch: object
) -> None:
    where = tmp_path / "index"
    purging, rebuilding = EmbeddedBackend(where), EmbeddedBackend(where)
    docs = [_doc(n) for n in range(50)]
    docs[7] = _doc(7, text=f"Nội dung mật {SECRET} của kế hoạch.")
    purging.index(docs)
    rebuild = rebuilding.begin_rebuild()
    rebuild.index(docs)
    rebuild.staging.flush()  # the staged rows applied: the secret is in the staging Tantivy index
    # The destruction in the purging process: its "đã hủy" row replaces it in both indexes.
    purging.index([_doc(7, version=2, title="(đã hủy)", text="")])
    purging._close_staging()  # the purge runs in another process than the delete

    swapped = threading.Event()
    swap: list[threading.Thread] = []
    refused: list[BaseException] = []

    def commit() -> None:
        try:
            rebuild.commit()
        except Exception as error:  # (refused while the purge holds the staging index open)
            refused.append(error)
        else:
            swapped.set()
    rewrite = _Index.rewrite_text_aside

    def rewrite_then_let_the_rebuild_in(index: _Index) -> bool:
        done = rewrite(index)
        if not swap:  # the rebuild's commit waits for the live index's write lock held now
            thread = threading.Thread(target=commit)
            thread.start()
            swap.append(thread)
            assert not swapped.wait(0.5)  # it waits for the purge's lock
        return done

    staging_writer = EmbeddedBackend._staging_writer

    def after_the_swap(backend: EmbeddedBackend) -> object:
        if swap and backend is purging:
            swap[0].join(30)  # the lock freed, the rebuild swaps in (or is refused) before this look
        return staging_writer(backend)

    monkeypatch.setattr(_Index, "rewrite_text_aside", rewrite_then_let_the_rebuild_in)  # type: ignore[attr-defined]
    monkeypatch.setattr(EmbeddedBackend, "_staging_writer", after_the_swap)  # type: ignore[attr-defined]
    purging.purge_deleted()
    assert swap and not swap[0].is_alive()
    purging.close()
    if not swapped.is_set():  # refused (the staging index in use): run again, it resumes
        # (s11: a clear refusal with its code, no more SQLite's raw "database is locked")
        assert isinstance(refused[0], StoreUnavailable), refused[0]
        assert refused[0].code == "SEARCH_INDEX_UNAVAILABLE"
        assert "xóa hẳn" in refused[0].message
        rebuild.staging.close()  # (the refused run's process ends)
        rebuilding.begin_rebuild().commit()
    rebuilding.close()

    after = EmbeddedBackend(where)
    try:
        assert after.search(Query(principal=EVERYONE, terms=(SECRET,))).total == 0
        assert after.search(Query(principal=EVERYONE, terms=("quyết",))).total == 49
        assert index_traces(after, SECRET) == 0
    finally:
        after.close()
    _no_secret_on_disk(where)
