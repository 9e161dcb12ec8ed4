"""Embedded backend internals the shared contract cannot see: the SQLite + Tantivy pair stays
consistent (crash between the two, conversion of an FTS5-era file, concurrent processes,
rebuilds), and counts and facets stay exact across index segments and permissions."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from search.documents import IndexDocument
from search.embedded import FILE_NAME, TEXT_SCHEMA_VERSION, EmbeddedBackend, _Index
from search.query import FACETS, Filters, Principal, parse_query
from search.reindex import reindex

AUDITOR = Principal("kt1", everything=True)
ROOT = Path(__file__).resolve().parents[2]


def doc(doc_id: str, **kw: object) -> IndexDocument:
    base: dict[str, object] = {"version": 1, "direction": "den", "owner_unit": "UNIT-A"}
    base.update(kw)
    return IndexDocument(id=doc_id, **base)  # type: ignore[arg-type]


def ids(backend: EmbeddedBackend, typed: str, principal: Principal = AUDITOR) -> list[str]:
    return backend.search(parse_query(typed, principal)).ids


def text_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob(f"{FILE_NAME}.text-*"))


def test_rows_committed_before_a_crash_reach_the_text_index_when_reopened(tmp_path, monkeypatch):
    backend = EmbeddedBackend(tmp_path)
    backend.index([doc("a", title="Quy chế văn thư")])

    def crash(self: _Index, removed: object, added: object) -> None:
        raise KeyboardInterrupt  # the process dies after the SQLite commit, before Tantivy's

    monkeypatch.setattr(_Index, "_apply", crash)
    with pytest.raises(KeyboardInterrupt):
        backend.index([doc("b", title="Kế hoạch hòa giải"), doc("a", version=2, title="Thông báo")])
    monkeypatch.undo()
    backend.close()

    reopened = EmbeddedBackend(tmp_path)
    assert ids(reopened, "hòa giải") == ["b"]
    assert ids(reopened, "thông báo") == ["a"]
    assert ids(reopened, "quy chế văn thư") == []  # the replaced version's words are gone
    assert reopened.search(parse_query("", AUDITOR)).total == 2
    with sqlite3.connect(reopened.path) as conn:
        assert conn.execute("SELECT count(*) FROM text_pending").fetchone()[0] == 0
    reopened.close()


def test_an_index_without_text_index_is_converted_when_opened(tmp_path):
    """A file written by the FTS5 version (no ``text_dir`` in meta, an ``fts`` table)."""
    backend = EmbeddedBackend(tmp_path)
    backend.index([doc("a", title="Quyết định ban hành quy chế", loai_van_ban="Quyết định"),
                   doc("b", title="Công văn đôn đốc", loai_van_ban="Công văn")])
    backend.close()
    for name in text_dirs(tmp_path):
        for path in sorted((tmp_path / name).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (tmp_path / name).rmdir()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        conn.execute("DELETE FROM meta WHERE key IN ('text_dir', 'text_schema')")
        conn.execute("DELETE FROM labels")
        conn.execute("CREATE VIRTUAL TABLE fts USING fts5(title_e, content='')")

    converted = EmbeddedBackend(tmp_path)
    assert ids(converted, "quy chế") == ["a"]
    result = converted.search(parse_query("", AUDITOR, facets=FACETS))
    assert result.total == 2
    assert result.facet("loai_van_ban") == {"Quyết định": 1, "Công văn": 1}
    assert len(text_dirs(tmp_path)) == 1
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='fts'").fetchone()[0] == 0
    converted.close()


def test_an_index_of_an_older_text_schema_is_rebuilt_with_the_owner_unit(tmp_path):
    """Text schema 3 had no ``owner_unit``: opening it rebuilds the text index from ``docs``."""
    backend = EmbeddedBackend(tmp_path)
    backend.index([doc("a", title="Quyết định", owner_unit="U1"),
                   doc("b", title="Công văn", owner_unit="U2")])
    backend.close()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        old_dir = conn.execute("SELECT value FROM meta WHERE key='text_dir'").fetchone()[0]
        conn.execute("UPDATE meta SET value='3' WHERE key='text_schema'")

    rebuilt = EmbeddedBackend(tmp_path)
    result = rebuilt.search(parse_query("", AUDITOR, filters=Filters(unit=("U2",))))
    assert result.ids == ["b"]
    assert result.total == 1
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    assert meta["text_schema"] == TEXT_SCHEMA_VERSION != "3"
    assert meta["text_dir"] != old_dir
    rebuilt.close()


UNITS = ("U1", "U2", "U3")
CLERK = Principal("clerk", units=("U1", "U3"), max_secrecy=1)


def _visible(d: IndexDocument, p: Principal) -> bool:
    """The access policy's rule (repository.policy.sees), restated over index fields."""
    if p.sees_all:
        return True
    if d.do_mat > p.max_secrecy:
        return False
    return p.user_id in d.grant_users or d.owner_unit in p.units or bool(set(d.grant_units) & set(p.units))


def _corpus(n: int, seed: int = 5) -> list[IndexDocument]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        topic = rng.choice(("Kế hoạch hòa giải ở cơ sở", "Báo cáo công tác văn thư",
                            "Giải quyết hòa bình tranh chấp"))
        out.append(doc(
            f"d{i:04d}", title=topic, text=f"{topic}. Nội dung số {i}.",
            direction=rng.choice(("den", "di", "hoso")),
            loai_van_ban=rng.choice(("Quyết định", "quyết định", "Công văn", "Thông báo")),
            co_quan_ban_hanh=rng.choice(("UBND tỉnh Hòa Bình", "UBND tỉnh Hoà Bình", "Sở Nội vụ")),
            nguoi_ky=rng.choice(("Nguyễn Văn An", "Trần Thị Bình", "")),
            do_khan=rng.randint(0, 3), do_mat=rng.choice((0, 0, 0, 1)),
            signature_verdict=rng.choice(("valid", "invalid", "")),
            retention_state=rng.choice(("active", "hold")),
            ngay_ban_hanh=date(2015 + rng.randint(0, 9), 1 + rng.randint(0, 11), 1),
            ho_so=tuple(rng.sample(("HS-1", "HS-2", "HS-3", "HS-4"), rng.randint(0, 2))),
            owner_unit=rng.choice(UNITS),
            grant_units=(rng.choice(UNITS),) if i % 4 == 0 else (),
            grant_users=("clerk",) if i % 9 == 0 else (),
        ))
    return out


KEYED = ("loai_van_ban", "co_quan_ban_hanh", "nguoi_ky")


def _smallest(docs: list[IndexDocument], name: str, shown: str) -> str:
    """The smallest spelling among ``docs`` of the value shown as ``shown`` in facet ``name``;
    ``shown`` itself must be one of them (never a spelling of a document not matched)."""
    from search.embedded import value_key

    spellings = {getattr(d, name) for d in docs if value_key(getattr(d, name)) == value_key(shown)}
    assert shown in spellings, (name, shown)
    return min(spellings)


def _expected_facets(docs: list[IndexDocument]) -> dict[str, dict[str, int]]:
    from search.embedded import value_key

    def label_of(values: list[str]) -> dict[str, str]:
        labels: dict[str, str] = {}
        for v in values:
            if v:
                k = value_key(v)
                labels[k] = min(labels.get(k, v), v)
        return labels

    out: dict[str, dict[str, int]] = {}
    for name in ("direction", "signature_verdict", "retention_state"):
        out[name] = dict(Counter(getattr(d, name) for d in docs if getattr(d, name)))
    for name in ("do_khan", "do_mat"):
        out[name] = dict(Counter(str(getattr(d, name)) for d in docs))
    for name in ("loai_van_ban", "co_quan_ban_hanh", "nguoi_ky"):
        values = [getattr(d, name) for d in docs]
        labels = label_of(values)
        out[name] = dict(Counter(labels[value_key(v)] for v in values if v))
    out["year"] = dict(Counter(str(d.ngay_ban_hanh.year) for d in docs if d.ngay_ban_hanh))
    out["ho_so"] = dict(Counter(h for d in docs for h in d.ho_so))
    out["unit"] = dict(Counter(d.owner_unit for d in docs if d.owner_unit))
    return out


def test_totals_and_facets_are_exact_across_segments_with_permissions(tmp_path):
    docs = _corpus(240)
    backend = EmbeddedBackend(tmp_path)
    for i in range(0, len(docs), 20):  # twelve commits: several index segments
        backend.index(docs[i : i + 20])
    gone = {d.id for d in docs[::7]}
    backend.delete(sorted(gone))
    replaced = [doc(d.id, version=2, title="Công văn khác", text="không liên quan",
                    owner_unit=d.owner_unit) for d in docs[1::11] if d.id not in gone]
    backend.index(replaced)
    # The hồ sơ the documents sit in: HS-1 of U1, HS-2 of U2 shared to U3, HS-3 of U2 (not the
    # clerk's), HS-4 not indexed. The ho_so facet lists only those the searcher may see.
    files = [doc("HS-1", direction="hoso", owner_unit="U1"),
             doc("HS-2", direction="hoso", owner_unit="U2", grant_units=("U3",)),
             doc("HS-3", direction="hoso", owner_unit="U2")]
    backend.index(files)
    current = ({d.id: d for d in docs if d.id not in gone} | {d.id: d for d in replaced}
               | {f.id: f for f in files})
    for principal in (AUDITOR, CLERK):
        for typed in ("hòa giải", "hoa binh", '"công tác văn thư"', ""):
            result = backend.search(parse_query(typed, principal, page_size=5, facets=FACETS))
            words = [w for w in typed.strip('"').split() if w]
            from search.analysis import fold, normalize

            def matches(d: IndexDocument, words: list[str] = words, typed: str = typed) -> bool:
                text = fold(normalize(f"{d.title} {d.text} {d.loai_van_ban} {d.co_quan_ban_hanh}"
                                      f" {d.nguoi_ky}"))
                if typed.startswith('"'):
                    return fold(normalize(" ".join(words))) in text
                return all(fold(normalize(w)) in text.split() for w in words)

            expected = [d for d in current.values() if _visible(d, principal) and matches(d)]
            assert result.total == len(expected), (principal, typed)
            assert 0 < len(expected) < len(current) or typed == ""
            facets = {name: result.facet(name) for name in FACETS if name != "ho_so"}
            want = _expected_facets(expected)
            for name, counts in facets.items():
                if name in KEYED:
                    # A value is shown as one of the matches spells it (the first indexed), not
                    # always the smallest spelling (rv54: nor one of a document not matched).
                    counts = {_smallest(expected, name, value): n for value, n in counts.items()}
                assert counts == want[name], (principal, typed, name)
            files_seen = {"HS-1", "HS-2", "HS-3", "HS-4"} if principal is AUDITOR else {"HS-1", "HS-2"}
            assert result.facet("ho_so") == {h: c for h, c in want["ho_so"].items() if h in files_seen}
            assert result.facet("ho_so")
    backend.close()


def _facet_table(result: object) -> list[tuple[str, list[tuple[str, int]]]]:
    return [(f.name, [(v.value, v.count) for v in f.values]) for f in result.facets]  # type: ignore[attr-defined]


def test_facets_of_few_matches_counted_from_rows_equal_the_aggregation(tmp_path, monkeypatch):
    """Few matches are counted from their SQLite rows: the same facets, value for value, as
    Tantivy's aggregation over several segments with deletions, replacements, duplicate
    hồ sơ ids and permissions; pending rows (SQLite ahead of Tantivy) leave it to the
    aggregation."""
    import search.embedded as embedded

    docs = _corpus(240)
    docs[3] = doc(docs[3].id, title=docs[3].title, text=docs[3].text, ho_so=("HS-1", "HS-1", ""),
                  owner_unit=docs[3].owner_unit)
    backend = EmbeddedBackend(tmp_path)
    for i in range(0, len(docs), 30):
        backend.index(docs[i : i + 30])
    backend.delete([d.id for d in docs[::13]])
    backend.index([doc(d.id, version=2, title="Kế hoạch hòa giải", owner_unit="U1",
                       loai_van_ban="Tờ trình", ho_so=("HS-9",)) for d in docs[2::17]])
    counted: list[int] = []
    real = embedded._counted_facets

    def spy(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        counted.append(found is not None)
        return found

    monkeypatch.setattr(embedded, "_counted_facets", spy)
    queries = [(p, typed, size) for p in (AUDITOR, CLERK)
               for typed in ("hòa giải", "hoa binh", '"công tác văn thư"', "", "tờ trình")
               for size in (5, 100)]
    by_rows = [_facet_table(backend.search(parse_query(t, p, page_size=n, facets=FACETS)))
               for p, t, n in queries]
    assert any(counted) and not all(counted)  # both paths ran (the empty query has 200+)
    monkeypatch.setattr(embedded, "FACET_COUNT_MAX", 0)
    aggregated = EmbeddedBackend(tmp_path)
    by_aggregation = [_facet_table(aggregated.search(parse_query(t, p, page_size=n, facets=FACETS)))
                      for p, t, n in queries]
    assert by_rows == by_aggregation
    assert any(dict(table)["ho_so"] for table in by_rows)
    # SQLite ahead of Tantivy (a write between its two commits): the aggregation decides.
    monkeypatch.setattr(embedded, "FACET_COUNT_MAX", 200)
    counted.clear()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        conn.execute("INSERT INTO text_pending(rowid) VALUES (999999)")
    backend._live._facet_cache.clear()  # same commit: the answer above would be reused
    result = backend.search(parse_query("hòa giải", CLERK, facets=FACETS))
    assert counted == [False]
    assert _facet_table(result) == by_aggregation[queries.index((CLERK, "hòa giải", 100))]
    backend.close()
    aggregated.close()


def test_a_deleted_rowid_is_never_given_to_another_document(tmp_path):
    """A search that took its hits' rowids from the previous commit reads their rows: a
    rowid freed by a deletion (or a new version) must not name another document, which the
    person may not see."""
    backend = EmbeddedBackend(tmp_path)
    backend.index([doc("a", title="Công văn"), doc("b", title="Công văn")])
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        before = dict(conn.execute("SELECT id, rowid FROM docs"))
    backend.delete(["b"])
    backend.index([doc("secret", title="Công văn mật", do_mat=3, owner_unit="OTHER")])
    backend.index([doc("a", version=2, title="Công văn")])
    reopened = EmbeddedBackend(tmp_path)
    reopened.index([doc("c", title="Công văn")])
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        after = dict(conn.execute("SELECT id, rowid FROM docs"))
    assert set(after) == {"a", "secret", "c"}
    assert len(set(after.values())) == 3
    assert not set(after.values()) & set(before.values())
    reopened.close()
    backend.close()


def test_remembered_facets_follow_a_write_by_another_writer(tmp_path):
    """Facets are remembered per commit: the same query again after another writer's commit
    counts the new document."""
    reader = EmbeddedBackend(tmp_path)
    reader.index([doc("a", title="Kế hoạch hòa giải", loai_van_ban="Công văn")])
    query = parse_query("hòa giải", AUDITOR, facets=("loai_van_ban",))
    assert reader.search(query).facet("loai_van_ban") == {"Công văn": 1}
    assert reader.search(query).facet("loai_van_ban") == {"Công văn": 1}
    writer = EmbeddedBackend(tmp_path)
    writer.index([doc("b", title="Kế hoạch hòa giải", loai_van_ban="Tờ trình")])
    writer.close()
    assert reader.search(query).facet("loai_van_ban") == {"Công văn": 1, "Tờ trình": 1}
    reader.close()


WRITER = """
import sys
import threading
sys.path.insert(0, {root!r})
from search.embedded import EmbeddedBackend
from search.documents import IndexDocument
backend = EmbeddedBackend({path!r})
for batch in range(10):
    backend.index([IndexDocument(id=f"{tag}-{{batch}}-{{i}}", version=1, direction="den",
                                 title="Báo cáo tuần", owner_unit="U") for i in range(5)])
backend.close()
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    EmbeddedBackend(tmp_path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(tmp_path),
                                                                tag=tag)])
        for tag in ("p", "q")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    backend = EmbeddedBackend(tmp_path)
    result = backend.search(parse_query("báo cáo tuần", AUDITOR))
    assert result.total == 100
    assert backend.count() == 100
    backend.close()


def test_rebuild_swaps_in_its_own_text_index_and_drops_the_old_one(tmp_path):
    backend = EmbeddedBackend(tmp_path)
    backend.index([doc("old", title="Tài liệu cũ")])
    (before,) = text_dirs(tmp_path)
    reindex(backend, [doc("new", title="Tài liệu mới")])
    (after,) = text_dirs(tmp_path)
    assert after != before
    assert ids(backend, "tài liệu") == ["new"]
    other = EmbeddedBackend(tmp_path)  # another connection sees the same
    assert ids(other, "tài liệu mới") == ["new"]
    other.close()
    backend.close()


def _rebuild_fingerprint(tmp_path: Path, name: str, docs: list[IndexDocument]) -> list[object]:
    backend = EmbeddedBackend(tmp_path / name)
    reindex(backend, docs, batch_size=7)
    out: list[object] = []
    for typed in ("quy định", "quy dinh", '"ban hành quy chế"', "hồ sơ lưu trữ", "12/QĐ-UBND", ""):
        result = backend.search(parse_query(typed, AUDITOR, page_size=100, facets=FACETS))
        out.append((result.total, [(h.id, round(h.score, 6), h.highlights) for h in result.hits],
                    result.facets))
    backend.close()
    return out


def _varied_docs(n: int) -> list[IndexDocument]:
    rng = random.Random(5)
    words = ["quy", "định", "Quyết", "ĐỊNH", "hoà", "thuỷ", "ban", "hành", "quy chế", "hồ sơ",
             "lưu trữ", "123/QĐ-UBND", "(2015)", "điều 5.", "ß", "İ", "x" * 120, "văn\u00a0thư"]
    return [doc(f"d{i}", version=1 + i % 3, title=" ".join(rng.choices(words, k=4)),
                so_ky_hieu=f"{i}/QĐ-UBND", text=" ".join(rng.choices(words, k=60)),
                ngay_ban_hanh=date(2020, 1, 1 + i % 28), ho_so=(f"HS-{i % 4}",))
            for i in range(n)]


def test_a_rebuild_analysed_in_worker_processes_builds_the_same_index(tmp_path, monkeypatch):
    """Text analysed by worker processes (a rebuild's batches) gives the index the same
    entries as analysis in this process: same totals, order, scores, highlights, facets."""
    import search.embedded as embedded

    docs = _varied_docs(60)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    inline = _rebuild_fingerprint(tmp_path, "inline", docs)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 2)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(embedded, "WORKER_BACKLOG", len(docs))  # never analysed by this thread
    submitted: list[int] = []
    import concurrent.futures  # (search.embedded imports it only for a rebuild's batches)

    real_submit = concurrent.futures.ProcessPoolExecutor.submit

    def counting_submit(self, fn, *args, **kwargs):
        submitted.append(len(args[0]))
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", counting_submit)
    parallel = _rebuild_fingerprint(tmp_path, "parallel", docs)
    assert sum(submitted) == len(docs)  # every document went through a worker
    assert parallel == inline
    assert inline[0][0] > 0 and inline[-1][0] == len(docs)



def test_batches_the_rebuild_analyses_itself_while_the_workers_are_behind_build_the_same_index(
    tmp_path, monkeypatch
):
    """When the workers are WORKER_BACKLOG batches behind, the rebuild's own thread analyses
    the next batch instead of queueing it: both paths are used in one rebuild, every document
    is analysed exactly once, and the index is the one analysed in this process alone."""
    import concurrent.futures

    import search.embedded as embedded

    docs = _varied_docs(60)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    inline = _rebuild_fingerprint(tmp_path, "inline", docs)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 1)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(embedded, "WORKER_BACKLOG", 0)  # one batch at the worker at a time
    submitted: list[int] = []
    here: list[int] = []
    real_submit = concurrent.futures.ProcessPoolExecutor.submit
    real_here = embedded._Index._analysed_here

    def counting_submit(self, fn, *args, **kwargs):
        submitted.append(len(args[0]))
        return real_submit(self, fn, *args, **kwargs)

    def counting_here(added):
        here.append(len(added))
        return real_here(added)

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", counting_submit)
    monkeypatch.setattr(embedded._Index, "_analysed_here", staticmethod(counting_here))
    mixed = _rebuild_fingerprint(tmp_path, "mixed", docs)
    assert submitted and here  # (a worker takes ~0.3 s to start: the next batches are here)
    assert sum(submitted) + sum(here) == len(docs)
    assert mixed == inline


def test_batches_whose_analysis_fails_here_or_at_a_worker_are_analysed_by_the_apply(
    tmp_path, monkeypatch
):
    """rv5: a batch the rebuild's own thread fails to analyse (out of memory) and a batch whose
    worker failed are both analysed by the background apply from the staged documents: the
    rebuild neither stops nor loses or mixes up an entry, and the index is the one analysed in
    this process alone."""
    import concurrent.futures

    import search.embedded as embedded

    docs = _varied_docs(60)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    inline = _rebuild_fingerprint(tmp_path, "inline", docs)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 1)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(embedded, "WORKER_BACKLOG", 0)
    real_here, real_fields = embedded._Index._analysed_here, embedded._text_fields
    real_submit = concurrent.futures.ProcessPoolExecutor.submit
    here = threading.local()
    failed_here: list[int] = []
    failed_worker: list[int] = []
    submitted: list[int] = []

    def analysed_here(added):
        here.on = True
        try:
            return real_here(added)
        finally:
            here.on = False

    def fields(rowid, doc):  # (the workers import their own, unpatched)
        if getattr(here, "on", False):
            failed_here.append(rowid)
            raise MemoryError("analysis in the rebuild's thread")
        return real_fields(rowid, doc)

    def submit(self, fn, *args, **kwargs):
        if not failed_worker:  # the first batch's worker is lost
            failed_worker.append(len(args[0]))
            lost: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
            lost.set_exception(concurrent.futures.process.BrokenProcessPool("worker lost"))
            return lost
        submitted.append(len(args[0]))
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(embedded._Index, "_analysed_here", staticmethod(analysed_here))
    monkeypatch.setattr(embedded, "_text_fields", fields)
    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", submit)
    assert _rebuild_fingerprint(tmp_path, "failing", docs) == inline
    assert failed_here and failed_worker and submitted


def test_a_rebuild_applying_to_tantivy_in_the_background_builds_the_same_index(
    tmp_path, monkeypatch
):
    """Tantivy applies a rebuild's rows in a background thread while the next batches are
    written and analysed: the same index as applied inline at the same commits, several
    background commits. (Equal scores are ordered by index segment, and the order of
    segments is Tantivy's own: hits are compared in score order, ties as a set.)"""
    import search.embedded as embedded

    docs = _varied_docs(60)
    real = embedded._Index._apply_in_background
    monkeypatch.setattr(embedded, "BULK_COMMIT_DOCS", 10)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    monkeypatch.setattr(embedded._Index, "_apply_in_background", embedded._Index._apply_pending)
    inline = _rebuild_fingerprint(tmp_path, "inline", docs)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 2)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    started: list[int] = []

    def counting(self: _Index) -> None:
        started.append(len(self._staged))
        real(self)

    monkeypatch.setattr(embedded._Index, "_apply_in_background", counting)
    background = _rebuild_fingerprint(tmp_path, "background", docs)
    assert len(started) >= 4

    def by_score(fingerprint: list[object]) -> list[object]:
        return [(total, sorted(hits, key=lambda h: (-h[1], h[0])), facets)  # type: ignore[misc]
                for total, hits, facets in fingerprint]  # type: ignore[misc]

    assert by_score(background) == by_score(inline)


def test_rows_rewritten_while_a_background_apply_runs_end_up_as_written(tmp_path, monkeypatch):
    """A rebuild rewrites documents (newer versions, deletions) while earlier rows are being
    applied in the background: a mark is cleared only for the row Tantivy got, so no older
    version survives in the text index and nothing stays pending."""
    import search.embedded as embedded

    monkeypatch.setattr(embedded, "BULK_COMMIT_DOCS", 15)
    backend = EmbeddedBackend(tmp_path)
    rebuild = backend.begin_rebuild()
    n = 45
    for version, word in ((1, "cũ"), (2, "cũ"), (3, "mới")):
        for i in range(0, n, 5):
            rebuild.index([doc(f"d{j}", version=version, title=f"Văn bản {word} {version}")
                           for j in range(i, i + 5)])
    rebuild.delete(["d0", "d1"])
    rebuild.commit()
    assert backend.search(parse_query("cũ", AUDITOR)).total == 0
    found = backend.search(parse_query("mới", AUDITOR, page_size=100))
    assert found.total == n - 2 and len(found.hits) == n - 2
    assert {h.version for h in found.hits} == {3}
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM text_pending").fetchone() == (0,)
    backend.close()


def test_a_broken_analysis_worker_leaves_the_rebuild_to_this_process(tmp_path, monkeypatch):
    """A worker process that dies (killed, out of memory) costs speed, never documents."""
    import concurrent.futures
    import multiprocessing
    import os

    import search.embedded as embedded

    docs = _varied_docs(30)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    expected = _rebuild_fingerprint(tmp_path, "inline", docs)

    real_pool = concurrent.futures.ProcessPoolExecutor

    def broken_pool(*args, **kwargs):  # every worker exits at once: BrokenProcessPool
        return real_pool(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=os._exit, initargs=(3,)
        )

    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 1)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", broken_pool)
    assert _rebuild_fingerprint(tmp_path, "broken", docs) == expected


def test_a_rebuild_feeds_tantivy_from_its_first_batches_and_commits_every_bulk_commit_docs(
    tmp_path, monkeypatch
):
    """A rebuild hands its rows to the background apply every APPLY_STEP_DOCS (Tantivy indexes
    beside the SQLite writes from the start, not only once BULK_COMMIT_DOCS are staged), and
    the one writer of the background apply still commits only every BULK_COMMIT_DOCS rows
    (plus the end): no more Tantivy commits, and so no more segments, than before."""
    import search.embedded as embedded

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 6)
    monkeypatch.setattr(embedded, "BULK_COMMIT_DOCS", 24)
    monkeypatch.setattr(embedded, "APPLY_IDLE_COMMIT_SECONDS", 1e9)  # commits by rows only
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    handed: list[int] = []
    commits: list[str] = []
    real_hand_off = embedded._Index._apply_in_background
    real_commit = embedded._Index._commit

    def hand_off(self: _Index) -> None:
        handed.append(len(self._staged))
        real_hand_off(self)

    def commit(self: _Index, writer: object) -> None:
        commits.append(threading.current_thread().name)
        real_commit(self, writer)

    monkeypatch.setattr(embedded._Index, "_apply_in_background", hand_off)
    monkeypatch.setattr(embedded._Index, "_commit", commit)
    docs = _varied_docs(60)
    backend = EmbeddedBackend(tmp_path)
    reindex(backend, docs, batch_size=3)
    assert handed == [6] * 10  # every 6 staged rows, from the first two batches on
    # 60 rows: two commits of 24 in the background, the last 12 when the rebuild ends
    assert commits == ["kho-index-apply"] * 3
    assert backend.search(parse_query("", AUDITOR)).total == 60
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM text_pending").fetchone() == (0,)
    backend.close()


def test_a_failed_background_apply_stops_the_rebuild_and_loses_no_document(tmp_path, monkeypatch):
    """The background apply fails (disk full, a Tantivy error): the rebuild stops with
    SEARCH_INDEX_UNAVAILABLE instead of waiting on it, the failed rows stay pending in the
    staging index, and the next run resumes it into a complete index."""
    import search.embedded as embedded
    from kho.errors import StoreUnavailable

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 4)
    monkeypatch.setattr(embedded, "BULK_COMMIT_DOCS", 8)  # a queue of two hand-offs
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    real_add = embedded._Index._add_rows
    failures: list[str] = []

    def failing_once(self: _Index, *args: object) -> None:
        if not failures:
            failures.append(threading.current_thread().name)
            raise OSError("No space left on device")
        real_add(self, *args)

    real_hand_off = embedded._Index._apply_in_background

    def hand_off(self: _Index) -> None:  # the next hand-off comes after the failure
        waited = 0
        while failures and self._applier_error is None and waited < 500:
            time.sleep(0.01)
            waited += 1
        real_hand_off(self)

    monkeypatch.setattr(embedded._Index, "_add_rows", failing_once)
    monkeypatch.setattr(embedded._Index, "_apply_in_background", hand_off)
    docs = _varied_docs(40)
    backend = EmbeddedBackend(tmp_path)
    with pytest.raises(StoreUnavailable) as failed:
        reindex(backend, docs, batch_size=2)
    assert failed.value.code == "SEARCH_INDEX_UNAVAILABLE"
    assert isinstance(failed.value.__cause__, OSError)
    assert failures == ["kho-index-apply"]
    report = reindex(backend, docs, batch_size=2)
    assert report.skipped > 0 and report.skipped + report.written == len(docs)
    assert backend.search(parse_query("", AUDITOR)).total == len(docs)
    assert ids(backend, "thuỷ") == ids(backend, "thủy") != []
    backend.close()


def test_a_rebuild_whose_apply_keeps_failing_reports_it_and_closes_its_staging_index(
    tmp_path, monkeypatch
):
    """rv5: the background apply fails and so does the apply of what is left when the rebuild
    stops (the disk stays full; a document whose text cannot be analysed fails the same way
    each time): the rebuild stops with SEARCH_INDEX_UNAVAILABLE, not with the raw error of its
    clean-up, the live index is still the old one, and the staging index is closed, so that the
    next run of this process, once the cause is gone, resumes it into a complete index."""
    import search.embedded as embedded
    from kho.errors import StoreUnavailable

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 4)
    monkeypatch.setattr(embedded, "BULK_COMMIT_DOCS", 8)  # a queue of two hand-offs
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    backend = EmbeddedBackend(tmp_path)
    old = [doc(f"old{i}", title="quy định cũ") for i in range(5)]
    reindex(backend, old, batch_size=5)
    real_add = embedded._Index._add_rows
    disk_full = [True]

    def failing(self: _Index, *args: object) -> None:
        if disk_full:
            raise OSError("No space left on device")
        real_add(self, *args)

    real_hand_off = embedded._Index._apply_in_background

    def hand_off(self: _Index) -> None:  # the next hand-off comes after the failure
        waited = 0
        while disk_full and self._applier is not None and self._applier_error is None \
                and waited < 500:
            time.sleep(0.01)
            waited += 1
        real_hand_off(self)

    monkeypatch.setattr(embedded._Index, "_add_rows", failing)
    monkeypatch.setattr(embedded._Index, "_apply_in_background", hand_off)
    docs = _varied_docs(40)
    with pytest.raises(StoreUnavailable) as failed:
        reindex(backend, docs, batch_size=2)
    assert failed.value.code == "SEARCH_INDEX_UNAVAILABLE"
    assert isinstance(failed.value.__cause__, OSError)
    assert sorted(ids(backend, "")) == sorted(d.id for d in old)  # the old index, whole
    disk_full.clear()
    report = reindex(backend, docs, batch_size=2)
    assert report.skipped > 0 and report.skipped + report.written == len(docs)
    assert backend.search(parse_query("", AUDITOR)).total == len(docs)
    assert ids(backend, "thuỷ") == ids(backend, "thủy") != []
    backend.close()


def test_a_rebuild_waiting_for_its_source_lets_live_writes_reach_the_staging_index(
    tmp_path, monkeypatch
):
    """A rebuild whose documents come slowly (read from S3) must not hold the staging index's
    write lock until BULK_COMMIT_DOCS rows: once the background apply has waited for rows with
    a writer open APPLY_IDLE_COMMIT_SECONDS, it commits them and lets go, and a live write
    (``SearchBackend.index`` follows live changes into the staging index) goes through."""
    import search.embedded as embedded

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 4)
    monkeypatch.setattr(embedded, "APPLY_IDLE_COMMIT_SECONDS", 0.2)
    monkeypatch.setattr(embedded, "_APPLY_IDLE_POLL", 0.05)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    backend = EmbeddedBackend(tmp_path)
    rebuild = backend.begin_rebuild()
    rebuild.index([doc(f"d{i}", title=f"Văn bản {i} hoà") for i in range(4)])  # one hand-off
    staging = rebuild.staging
    assert staging._applier is not None and staging._applier.is_alive()
    live_wrote: list[int] = []
    follower = threading.Thread(target=lambda: live_wrote.append(
        backend.index([doc("live", title="Văn bản mới đến")])))
    follower.start()
    follower.join(timeout=20)
    assert not follower.is_alive() and live_wrote == [1]
    staging.text.reload()
    searcher = staging.text.searcher()
    assert searcher.num_docs == 5  # the rebuild's four rows were committed, then the live one
    rebuild.commit()
    assert backend.search(parse_query("hòa", AUDITOR)).total == 4
    assert ids(backend, "mới đến") == ["live"]
    backend.close()


def _apply_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kho-index-apply" and t.is_alive()]


def test_a_rebuild_interrupted_while_handing_the_end_leaves_no_apply_running(tmp_path, monkeypatch):
    """An exception reaches the rebuild's thread while it hands the background apply its end
    (Ctrl-C, a worker's soft time limit): the apply still ends, the staging index is closed, and
    the next rebuild in the same process completes (it used to find the old writer holding the
    index: 'database is locked' on every later rebuild of the process)."""
    import search.embedded as embedded

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 4)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    real_put = embedded._put
    interrupted: list[bool] = []

    def put(work: Any, item: Any, applier: threading.Thread) -> None:
        if item is None and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt("soft time limit")
        real_put(work, item, applier)

    monkeypatch.setattr(embedded, "_put", put)
    docs = _varied_docs(12)
    backend = EmbeddedBackend(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        reindex(backend, docs, batch_size=2)
    assert interrupted and _apply_threads() == []
    report = reindex(backend, docs, batch_size=2)
    assert report.skipped + report.written == len(docs)
    assert backend.search(parse_query("", AUDITOR)).total == len(docs)
    assert _apply_threads() == []


def test_an_apply_whose_end_was_never_handed_ends_by_itself(tmp_path, monkeypatch):
    """The rebuild's thread is interrupted while handing the end and nothing closes the index:
    the background apply commits what it holds and ends once its queue is empty, and a later
    close finds it ended and releases the index's lock."""
    import search.embedded as embedded

    monkeypatch.setattr(embedded, "APPLY_STEP_DOCS", 2)
    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 0)
    monkeypatch.setattr(embedded, "_APPLY_IDLE_POLL", 0.05)
    real_put = embedded._put

    def put(work: Any, item: Any, applier: threading.Thread) -> None:
        if item is None:
            raise KeyboardInterrupt
        real_put(work, item, applier)

    monkeypatch.setattr(embedded, "_put", put)
    staging = _Index(tmp_path / "s.sqlite3", bulk=True, defer=True)
    staging.index(_varied_docs(6))
    staging._apply_in_background()
    assert len(_apply_threads()) == 1
    with pytest.raises(KeyboardInterrupt):
        staging._join_applier()
    deadline = time.monotonic() + 10
    while _apply_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _apply_threads() == []
    monkeypatch.setattr(embedded, "_put", real_put)
    staging.close()
    assert staging._lock_file.closed


_SENTENCES = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số 125/TTr-SNV ngày 05/3/2024.",
    "Quyết định này có hiệu lực thi hành kể từ ngày ký, thay thế Quyết định số 12/2019/QĐ-UBND.",
    "Chánh Văn phòng UBND tỉnh, Thủ trưởng các sở, ban, ngành chịu trách nhiệm thi hành.",
    "Hồ sơ lưu trữ được bảo quản theo quy định (Điều 5, khoản 2) — thời hạn: vĩnh viễn.",
    "Giải quyết hoà giải ở cơ sở; thuỷ lợi, khoẻ mạnh, Hòa Bình, HOÀ BÌNH, ĐỒNG NAI.",
    "Đơn vị: triệu đồng\n\nSTT  Nội dung\tKinh phí\n1.   Mua sắm trang thiết bị  1.250,5",
    "Nơi nhận: - Như Điều 3; - Lưu: VT, NC.",
)


def _reference_text(doc: IndexDocument, repeat: int) -> tuple[str, str, str]:
    """The ``e``, ``f`` and ``b`` values as main built them before NOTES-s9, restated from
    search.analysis: each whitespace-separated chunk of the NFC text analysed on its own, the
    title block ``repeat`` times then the body, and ``b`` formed by splitting the folded text
    again and joining every two neighbours."""
    import itertools
    import unicodedata

    from kho.textkey import plain_text
    from search.analysis import fold, normalize, syllables
    from search.ranking import MAX_TOKEN_CHARS

    def tokens(text: str) -> tuple[str, str]:
        exact: list[str] = []
        folded: list[str] = []
        for chunk in unicodedata.normalize("NFC", text).split():
            forms = [normalize(s) for s in syllables(plain_text(chunk)) if len(s) <= MAX_TOKEN_CHARS]
            exact.append(" ".join(forms))
            folded.append(" ".join(fold(f) for f in forms))
        return " ".join(exact), " ".join(folded)

    head, head_f = tokens("\n".join((doc.title, doc.so_ky_hieu, doc.trich_yeu, doc.loai_van_ban,
                                     doc.co_quan_ban_hanh, doc.nguoi_ky)))
    body, body_f = tokens(doc.text)
    folded = " ".join([head_f] * repeat + [body_f])
    pairs = " ".join(f"{a}_{b}" for a, b in itertools.pairwise(folded.split()))
    return " ".join([head] * repeat + [body]), folded, pairs


def test_the_text_fields_and_their_index_are_those_of_the_reference_analysis(tmp_path):
    """The analysed text given to Tantivy (``e``, ``f``, ``b``) is exactly the reference
    analysis's (the title block repeated, the pairs across the title/title and title/body
    boundaries, empty and syllable-less chunks, long runs, odd characters), and two indexes
    built from either have the same document frequency and the same BM25 scores, document by
    document, for every term of every text field, and the same phrase matches."""
    import tantivy

    import search.embedded as embedded

    rng = random.Random(11)
    docs = _varied_docs(60) + [
        doc(f"s{i}", title=rng.choice(_SENTENCES)[: rng.randint(0, 60)],
            so_ky_hieu=rng.choice(("", f"{i}/QĐ-UBND", "05/2024/NQ-HĐND")),
            trich_yeu=rng.choice(("", rng.choice(_SENTENCES))),
            loai_van_ban=rng.choice(("", "Quyết định", "Công văn")),
            co_quan_ban_hanh=rng.choice(("", "UBND tỉnh Hoà Bình")),
            nguoi_ky=rng.choice(("", "Nguyễn Văn An")),
            text=" ".join(rng.choices(_SENTENCES, k=rng.randint(0, 12))))
        for i in range(150)
    ] + [doc("empty"), doc("one", title="Một"), doc("marks", title="— … ;", text="-- / ()"),
         doc("body-only", text="quy định"), doc("title-only", title="quy định chung")]

    fields = [embedded._text_fields(rowid, d) for rowid, d in enumerate(docs, start=1)]
    reference = [_reference_text(d, embedded.TITLE_REPEAT) for d in docs]
    for d, mine, ref in zip(docs, fields, reference, strict=True):
        assert (mine["e"], mine["f"], mine["b"]) == ref, d.id

    def built(name: str, values: list[dict[str, Any]]) -> tantivy.Searcher:
        (tmp_path / name).mkdir()
        index = tantivy.Index(embedded._TANTIVY_SCHEMA, path=str(tmp_path / name))
        for tokenizer, analyzer in embedded._ANALYZERS.items():
            index.register_tokenizer(tokenizer, analyzer)
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        for value in values:
            writer.add_document(tantivy.Document(**value))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return index.searcher()

    new = built("new", fields)
    old = built("old", [{**f, "e": e, "f": fo, "b": b}
                        for f, (e, fo, b) in zip(fields, reference, strict=True)])
    schema = embedded._TANTIVY_SCHEMA

    def matches(searcher: tantivy.Searcher, query: tantivy.Query) -> list[tuple[float, int]]:
        return [(score, address.doc) for score, address in searcher.search(query, len(docs)).hits]

    checked = 0
    for field, option, position in (("e", "position", 0), ("f", "position", 1), ("b", "freq", 2)):
        terms = sorted({t for ref in reference for t in ref[position].split()})
        assert len(terms) > 100
        for term in terms:
            assert new.doc_freq(field, term) == old.doc_freq(field, term) > 0, (field, term)
            query = tantivy.Query.term_query(schema, field, term, index_option=option)
            assert matches(new, query) == matches(old, query), (field, term)
            checked += 1
    for ref in reference:
        for field, text in (("e", ref[0]), ("f", ref[1])):
            words = text.split()
            if len(words) >= 3:
                start = rng.randrange(len(words) - 2)
                query = tantivy.Query.phrase_query(schema, field, words[start : start + 3])
                assert matches(new, query) == matches(old, query) != []
    assert checked > 300


def test_the_analysis_workers_run_nicer_than_the_rebuild(tmp_path, monkeypatch):
    """A rebuild's analysis worker processes run WORKER_NICE steps nicer than the rebuild's
    own process (whose Tantivy indexing thread is the critical path), and still analyse."""
    import os

    import search.embedded as embedded

    monkeypatch.setattr(embedded, "ANALYSIS_WORKERS", 1)
    monkeypatch.setattr(embedded, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(embedded, "WORKER_BACKLOG", 10)  # every batch to the worker
    staging = _Index(tmp_path / "s.sqlite3", bulk=True, defer=True)
    try:
        staging.index(_varied_docs(5))
        assert staging._pool is not None
        analysed = staging._analysed(list(staging._analysing))
        assert sorted(analysed) == [1, 2, 3, 4, 5]
        workers = list(staging._pool._processes)  # type: ignore[attr-defined]
        assert len(workers) == 1
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert embedded.WORKER_NICE > 0
        assert os.getpriority(os.PRIO_PROCESS, workers[0]) == min(19, mine + embedded.WORKER_NICE)
        if mine + embedded.WORKER_NICE > 19:  # (a suite run at nice 15+: 19 either way)
            assert staging._pool._initargs == (embedded.WORKER_NICE,)  # type: ignore[attr-defined]
    finally:
        staging.close()
