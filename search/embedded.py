"""Embedded search backend: one SQLite file with an FTS5 index (the default, no services).

Layout of ``<dir>/search.sqlite3``:

- ``docs``: one row per document (filter/sort/facet columns + the document as JSON);
  ``doc_hoso``, ``doc_grants``, ``doc_cites``: the multi-valued fields;
- ``fts``: a contentless FTS5 table over the analysed text (see :mod:`search.analysis`):
  ``title_e``/``title_f`` (title, số/ký hiệu, trích yếu, loại, cơ quan, người ký; exact and
  folded) and ``ex``/``fo`` (full text, exact and folded). Ranking is FTS5's BM25 with column
  weights (:data:`WEIGHTS`): exact-diacritic columns weigh more than folded ones, the title more
  than the body; every pair of adjacent query syllables is also searched as a phrase, which
  rewards compound words ("quyết định", "hồ sơ") and word order.

Permissions and filters are SQL conditions in the same statement that counts, ranks and facets,
so nothing hidden is ever counted. A rebuild writes ``search.sqlite3.rebuild`` and renames it
over the live file; every connection notices the new file (inode check) and reopens.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kho.errors import StoreUnavailable
from search.analysis import bigrams, fold, normalize, query_terms, so_ky_hieu_key, syllables
from search.backend import Rebuild, SearchBackend
from search.documents import IndexDocument
from search.highlight import highlights
from search.query import (
    Facet,
    FacetValue,
    Filters,
    Hit,
    Principal,
    Query,
    Related,
    SearchResult,
    Sort,
)

FILE_NAME = "search.sqlite3"
SCHEMA_VERSION = "1"
WEIGHTS = (4.0, 2.0, 2.0, 1.0)  # title_e, title_f, ex, fo
EXACT_SO_KY_HIEU_BOOST = -1.0e6  # bm25() is negative: lower ranks first
ALL_TERMS_UP_TO = 5
"""Queries of up to this many distinct words (after question words) need every word, like a
search box; longer ones (questions, pasted text) rank documents by any of their words."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  direction TEXT NOT NULL,
  loai_key TEXT NOT NULL, loai_van_ban TEXT NOT NULL,
  co_quan_key TEXT NOT NULL, co_quan_ban_hanh TEXT NOT NULL,
  nguoi_ky_key TEXT NOT NULL, nguoi_ky TEXT NOT NULL,
  signature_verdict TEXT NOT NULL,
  retention_state TEXT NOT NULL,
  do_khan INTEGER NOT NULL, do_mat INTEGER NOT NULL,
  ngay_ban_hanh TEXT, ngay_den TEXT, sort_date TEXT, year TEXT NOT NULL,
  sort_number INTEGER,
  skh_key TEXT NOT NULL,
  owner_unit TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_skh ON docs(skh_key);
CREATE INDEX IF NOT EXISTS docs_owner ON docs(owner_unit);
CREATE INDEX IF NOT EXISTS docs_date ON docs(sort_date);
CREATE TABLE IF NOT EXISTS doc_hoso(ho_so TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(ho_so, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_hoso_rowid ON doc_hoso(rowid);
CREATE TABLE IF NOT EXISTS doc_grants(kind TEXT NOT NULL, who TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(kind, who, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_grants_rowid ON doc_grants(rowid);
CREATE TABLE IF NOT EXISTS doc_cites(cite_key TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(cite_key, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_cites_rowid ON doc_cites(rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  title_e, title_f, ex, fo, content='', columnsize=1,
  tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
);
"""

_FACET_COLUMNS: dict[str, tuple[str, str]] = {
    # facet -> (group key column, display column)
    "direction": ("direction", "direction"),
    "loai_van_ban": ("loai_key", "loai_van_ban"),
    "co_quan_ban_hanh": ("co_quan_key", "co_quan_ban_hanh"),
    "nguoi_ky": ("nguoi_ky_key", "nguoi_ky"),
    "signature_verdict": ("signature_verdict", "signature_verdict"),
    "retention_state": ("retention_state", "retention_state"),
    "do_khan": ("do_khan", "do_khan"),
    "do_mat": ("do_mat", "do_mat"),
    "year": ("year", "year"),
}
_FILTER_COLUMNS: dict[str, str] = {
    "direction": "direction",
    "loai_van_ban": "loai_key",
    "co_quan_ban_hanh": "co_quan_key",
    "nguoi_ky": "nguoi_ky_key",
    "signature_verdict": "signature_verdict",
    "retention_state": "retention_state",
    "do_khan": "do_khan",
    "do_mat": "do_mat",
}
_KEYED = {"loai_van_ban", "co_quan_ban_hanh", "nguoi_ky"}
# Columns copied into the per-query temp table: facets and sorts never go back to ``docs``.
_CARRY = ", ".join(
    f"d.{c} AS {c}"
    for c in ("id", "direction", "loai_key", "loai_van_ban", "co_quan_key", "co_quan_ban_hanh",
              "nguoi_ky_key", "nguoi_ky", "signature_verdict", "retention_state", "do_khan",
              "do_mat", "year", "sort_date", "sort_number")
)


def value_key(value: str) -> str:
    """Filter/facet key of a name: tone placement, case and spacing do not matter."""
    return " ".join(normalize(value).split())


def _fts_columns(doc: IndexDocument) -> tuple[str, str, str, str]:
    head = normalize(
        "\n".join(
            (doc.title, doc.so_ky_hieu, doc.trich_yeu, doc.loai_van_ban, doc.co_quan_ban_hanh,
             doc.nguoi_ky)
        )
    )
    body = normalize(doc.text)
    return head, fold(head), body, fold(body)


def _row(doc: IndexDocument) -> dict[str, Any]:
    sort_date = doc.sort_date
    return {
        "id": doc.id,
        "version": doc.version,
        "direction": doc.direction,
        "loai_key": value_key(doc.loai_van_ban),
        "loai_van_ban": doc.loai_van_ban,
        "co_quan_key": value_key(doc.co_quan_ban_hanh),
        "co_quan_ban_hanh": doc.co_quan_ban_hanh,
        "nguoi_ky_key": value_key(doc.nguoi_ky),
        "nguoi_ky": doc.nguoi_ky,
        "signature_verdict": doc.signature_verdict,
        "retention_state": doc.retention_state,
        "do_khan": doc.do_khan,
        "do_mat": doc.do_mat,
        "ngay_ban_hanh": doc.ngay_ban_hanh.isoformat() if doc.ngay_ban_hanh else None,
        "ngay_den": doc.ngay_den.isoformat() if doc.ngay_den else None,
        "sort_date": sort_date.isoformat() if sort_date else None,
        "year": str(sort_date.year) if sort_date else "",
        "sort_number": doc.sort_number,
        "skh_key": doc.so_ky_hieu_key,
        "owner_unit": doc.owner_unit,
        "body": json.dumps(doc.to_json(), ensure_ascii=False),
    }


_ROW_COLUMNS = tuple(_row(IndexDocument(id="x", version=0, direction="den")).keys())
_INSERT_DOC = (
    f"INSERT INTO docs({', '.join(_ROW_COLUMNS)}) VALUES ({', '.join(':' + c for c in _ROW_COLUMNS)})"
)


class _Index:
    """One SQLite index file (live or staging)."""

    def __init__(self, path: Path, *, bulk: bool = False) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=" + ("WAL" if bulk else "DELETE"))
            self.conn.execute("PRAGMA synchronous=" + ("OFF" if bulk else "NORMAL"))
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.executescript(_SCHEMA)
            self.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?)", (SCHEMA_VERSION,)
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"Không mở được chỉ mục tìm kiếm: {path}", code="SEARCH_INDEX_UNAVAILABLE"
            ) from exc
        self.inode = os.stat(path).st_ino
        self.lock = threading.RLock()

    def close(self) -> None:
        self.conn.close()

    # -- writes ----------------------------------------------------------------------------

    def _remove_rowid(self, rowid: int) -> None:
        (body,) = self.conn.execute("SELECT body FROM docs WHERE rowid=?", (rowid,)).fetchone()
        old = IndexDocument.from_json(json.loads(body))
        self.conn.execute(
            "INSERT INTO fts(fts, rowid, title_e, title_f, ex, fo) "
            "VALUES('delete', ?, ?, ?, ?, ?)",
            (rowid, *_fts_columns(old)),
        )
        for table in ("docs", "doc_hoso", "doc_grants", "doc_cites"):
            self.conn.execute(f"DELETE FROM {table} WHERE rowid=?", (rowid,))

    def index(self, docs: Iterable[IndexDocument]) -> int:
        written = 0
        with self.lock, self._transaction():
            for doc in docs:
                current = self.conn.execute(
                    "SELECT rowid, version FROM docs WHERE id=?", (doc.id,)
                ).fetchone()
                if current is not None:
                    if current[1] > doc.version:
                        continue  # a late write of an older version
                    self._remove_rowid(current[0])
                cur = self.conn.execute(_INSERT_DOC, _row(doc))
                rowid = cur.lastrowid
                self.conn.execute(
                    "INSERT INTO fts(rowid, title_e, title_f, ex, fo) VALUES(?, ?, ?, ?, ?)",
                    (rowid, *_fts_columns(doc)),
                )
                self.conn.executemany(
                    "INSERT OR IGNORE INTO doc_hoso(ho_so, rowid) VALUES(?, ?)",
                    [(h, rowid) for h in doc.ho_so],
                )
                self.conn.executemany(
                    "INSERT OR IGNORE INTO doc_grants(kind, who, rowid) VALUES(?, ?, ?)",
                    [("u", u, rowid) for u in doc.grant_users]
                    + [("g", g, rowid) for g in doc.grant_units],
                )
                self.conn.executemany(
                    "INSERT OR IGNORE INTO doc_cites(cite_key, rowid) VALUES(?, ?)",
                    [(so_ky_hieu_key(c), rowid) for c in doc.cites if c.strip()],
                )
                written += 1
        return written

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        with self.lock, self._transaction():
            for doc_id in ids:
                row = self.conn.execute("SELECT rowid FROM docs WHERE id=?", (doc_id,)).fetchone()
                if row is not None:
                    self._remove_rowid(row[0])
                    removed += 1
        return removed

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        with self.lock:
            rows = self.conn.execute("SELECT id, version FROM docs ORDER BY id").fetchall()
        yield from rows

    def optimize(self) -> None:
        with self.lock:
            self.conn.execute("INSERT INTO fts(fts) VALUES('optimize')")


class _EmbeddedRebuild(Rebuild):
    def __init__(self, backend: EmbeddedBackend, path: Path) -> None:
        self.backend = backend
        self.path = path
        self.store = _Index(path, bulk=True)

    def index(self, docs: Iterable[IndexDocument]) -> int:
        return self.store.index(docs)

    def delete(self, ids: Iterable[str]) -> int:
        return self.store.delete(ids)

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        return self.store.ids_and_versions()

    def commit(self) -> None:
        self.backend._close_staging()
        self.store.optimize()
        self.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.store.conn.execute("PRAGMA journal_mode=DELETE")
        self.store.close()
        self.backend._swap_in(self.path)

    def close(self) -> None:
        self.store.close()

    def abort(self) -> None:
        self.store.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        self.path = path / FILE_NAME if path.suffix != ".sqlite3" else path
        self.staging_path = Path(str(self.path) + ".rebuild")
        self._live = _Index(self.path)
        self._staging: _Index | None = None

    # -- connections ---------------------------------------------------------------------------

    def _db(self) -> _Index:
        """The live index, reopened if a rebuild (maybe in another process) replaced the file."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = -1
        if inode != self._live.inode:
            self._live.close()
            self._live = _Index(self.path)
        return self._live

    def _staging_index(self) -> _Index | None:
        if not self.staging_path.exists():
            if self._staging is not None:
                self._staging.close()
                self._staging = None
            return None
        if self._staging is None:
            self._staging = _Index(self.staging_path, bulk=True)
        return self._staging

    def _close_staging(self) -> None:
        if self._staging is not None:
            self._staging.close()
            self._staging = None

    def close(self) -> None:
        self._live.close()
        self._close_staging()

    def _swap_in(self, staging: Path) -> None:
        live = self._db()
        with live.lock:
            live.conn.execute("BEGIN EXCLUSIVE")  # no writer of ours is half-way through
            try:
                os.replace(staging, self.path)
            finally:
                live.conn.execute("ROLLBACK")
        if self._staging is not None:
            self._staging.close()
            self._staging = None
        self._db()

    # -- writes ------------------------------------------------------------------------------

    def index(self, docs: Iterable[IndexDocument]) -> int:
        docs = list(docs)
        staging = self._staging_index()
        if staging is not None:
            staging.index(docs)
        return self._db().index(docs)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        staging = self._staging_index()
        if staging is not None:
            staging.delete(ids)
        return self._db().delete(ids)

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        return self._db().ids_and_versions()

    def begin_rebuild(self) -> Rebuild:
        if self._staging is not None:
            self._staging.close()
            self._staging = None
        return _EmbeddedRebuild(self, self.staging_path)

    # -- reads -------------------------------------------------------------------------------

    def get(self, doc_id: str) -> IndexDocument | None:
        db = self._db()
        with db.lock:
            row = db.conn.execute("SELECT body FROM docs WHERE id=?", (doc_id,)).fetchone()
        return IndexDocument.from_json(json.loads(row[0])) if row else None

    def search(self, query: Query) -> SearchResult:
        db = self._db()
        where, params = _where(query.filters, query.principal)
        match = _match_expression(query)
        with db.lock:
            conn = db.conn
            conn.execute("DROP TABLE IF EXISTS temp.hits")
            if query.is_empty:
                conn.execute(
                    f"CREATE TEMP TABLE hits AS SELECT d.rowid AS rowid, 0.0 AS score, {_CARRY} "
                    f"FROM docs d WHERE {where}",
                    params,
                )
            else:
                sources = []
                src_params: list[Any] = []
                cte = ""
                if match:
                    weights = ", ".join(map(str, WEIGHTS))
                    # Sorted by date or number: relevance is only a tie-break, skip BM25.
                    rank = f"bm25(fts, {weights})" if query.sort is Sort.RELEVANCE else "0.0"
                    cte = (
                        f"WITH t AS MATERIALIZED (SELECT rowid, {rank} AS score "
                        f"FROM fts WHERE fts MATCH ?) "
                    )
                    sources.append("SELECT rowid, score FROM t")
                    src_params.append(match)
                if query.so_ky_hieu:
                    marks = ", ".join("?" * len(query.so_ky_hieu))
                    sources.append(
                        f"SELECT rowid, {EXACT_SO_KY_HIEU_BOOST} FROM docs WHERE skh_key IN ({marks})"
                    )
                    src_params.extend(query.so_ky_hieu)
                union = " UNION ALL ".join(sources)
                conn.execute(
                    f"CREATE TEMP TABLE hits AS {cte}SELECT m.rowid AS rowid, m.score AS score, "
                    f"{_CARRY} FROM "
                    f"(SELECT rowid, sum(score) AS score FROM ({union}) GROUP BY rowid) m "
                    f"JOIN docs d ON d.rowid = m.rowid WHERE {where}",
                    [*src_params, *params],
                )
            total = conn.execute("SELECT count(*) FROM temp.hits").fetchone()[0]
            order = {
                Sort.RELEVANCE: "score, sort_date DESC, id",
                Sort.DATE_DESC: "sort_date IS NULL, sort_date DESC, score, id",
                Sort.DATE_ASC: "sort_date IS NULL, sort_date ASC, score, id",
                Sort.NUMBER_DESC: "sort_number IS NULL, sort_number DESC, sort_date DESC, id",
                Sort.NUMBER_ASC: "sort_number IS NULL, sort_number ASC, sort_date ASC, id",
            }[query.sort]
            page = conn.execute(
                f"SELECT rowid, score FROM temp.hits ORDER BY {order} LIMIT ? OFFSET ?",
                (query.page_size, query.offset),
            ).fetchall()
            bodies = dict(
                conn.execute(
                    f"SELECT rowid, body FROM docs WHERE rowid IN ({', '.join('?' * len(page))})",
                    [r for r, _ in page],
                ).fetchall()
            ) if page else {}
            rows = [(bodies[r], score) for r, score in page]
            facets = _facets(conn, query.facets) if total else ()
            conn.execute("DROP TABLE IF EXISTS temp.hits")
        words = [*query_terms(" ".join(query.terms))] if query.terms else []
        hits = tuple(
            _hit(IndexDocument.from_json(json.loads(body)), -score, query, words)
            for body, score in rows
        )
        return SearchResult(
            hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets
        )

    def related(self, doc_id: str, principal: Principal) -> Related:
        db = self._db()
        where, params = _where(Filters(), principal)
        with db.lock:
            conn = db.conn
            row = conn.execute(
                f"SELECT d.rowid, d.skh_key FROM docs d WHERE d.id=? AND {where}",
                [doc_id, *params],
            ).fetchone()
            if row is None:
                return Related((), ())
            rowid, key = row
            cites = conn.execute(
                f"SELECT d.body FROM docs d WHERE d.skh_key IN "
                f"(SELECT cite_key FROM doc_cites WHERE rowid=?) AND d.rowid != ? AND {where} "
                f"ORDER BY d.sort_date DESC, d.id",
                [rowid, rowid, *params],
            ).fetchall()
            cited_by = (
                conn.execute(
                    f"SELECT d.body FROM docs d WHERE d.rowid IN "
                    f"(SELECT rowid FROM doc_cites WHERE cite_key=?) AND d.rowid != ? AND {where} "
                    f"ORDER BY d.sort_date DESC, d.id",
                    [key, rowid, *params],
                ).fetchall()
                if key
                else []
            )
        empty = Query(principal=principal, highlight=False)
        return Related(
            tuple(_hit(IndexDocument.from_json(json.loads(b)), 0.0, empty, []) for (b,) in cites),
            tuple(
                _hit(IndexDocument.from_json(json.loads(b)), 0.0, empty, []) for (b,) in cited_by
            ),
        )

    def count(self) -> int:
        db = self._db()
        with db.lock:
            return db.conn.execute("SELECT count(*) FROM docs").fetchone()[0]


# --- query translation ------------------------------------------------------------------------


def _q(token: str) -> str:
    """One FTS5 string token. Tokens are letter/digit runs, but quote defensively anyway."""
    return '"' + token.replace('"', '""') + '"'


def _match_expression(query: Query) -> str:
    """The FTS5 MATCH string. Built only from analysed syllables, never from raw user text."""
    groups: list[str] = []
    optional: list[str] = []
    required: list[str] = []
    terms = query_terms(" ".join(query.terms)) if query.terms else []
    all_terms = len(set(terms)) <= ALL_TERMS_UP_TO
    for term in dict.fromkeys(terms):
        # Exact form (diacritics as typed, or none) and folded form: exact matches score more.
        either = [f"{{title_e ex}}:{_q(term)}", f"{{title_f fo}}:{_q(fold(term))}"]
        optional.extend(either)
        if all_terms:
            required.append(either[-1])  # the folded form covers the exact one
    folded_terms = [fold(t) for t in terms]
    for pair in dict.fromkeys(bigrams(" ".join(folded_terms), joiner=" ")):
        optional.append(f"{{title_f fo}}:{_q(pair)}")
    for key in query.so_ky_hieu:
        tokens = syllables(key)
        if tokens:
            optional.append(f"{{title_f fo}}:{_q(' '.join(tokens))}")
    for phrase in query.phrases:
        exact = syllables(normalize(phrase))
        folded = [fold(t) for t in exact]
        required.append(f"{{title_f fo}}:{_q(' '.join(folded))}")
        optional.append(f"{{title_e ex}}:{_q(' '.join(exact))}")
        optional.append(f"{{title_f fo}}:{_q(' '.join(folded))}")
    if required:
        groups.extend(required)
        if optional:
            groups.append("(" + " OR ".join(optional) + ")")
        return " AND ".join(groups)
    return " OR ".join(optional)


def _where(filters: Filters, principal: Principal) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, column in _FILTER_COLUMNS.items():
        values: Sequence[Any] = getattr(filters, name)
        if values:
            if name in _KEYED:
                values = [value_key(str(v)) for v in values]
            clauses.append(f"d.{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if filters.ho_so:
        clauses.append(
            f"d.rowid IN (SELECT rowid FROM doc_hoso WHERE ho_so IN "
            f"({', '.join('?' * len(filters.ho_so))}))"
        )
        params.extend(filters.ho_so)
    for name in ("ngay_ban_hanh", "ngay_den"):
        rng = getattr(filters, name)
        if rng is None:
            continue
        if rng.start:
            clauses.append(f"d.{name} >= ?")
            params.append(rng.start.isoformat())
        if rng.end:
            clauses.append(f"d.{name} <= ?")
            params.append(rng.end.isoformat())
    if not principal.sees_all:
        units = list(principal.units)
        unit_marks = ", ".join("?" * len(units)) or "NULL"
        clauses.append(
            "(d.rowid IN (SELECT rowid FROM doc_grants WHERE kind='u' AND who=?)"
            f" OR (d.do_mat = 0 AND (d.owner_unit IN ({unit_marks})"
            f" OR d.rowid IN (SELECT rowid FROM doc_grants WHERE kind='g' AND who IN ({unit_marks})))))"
        )
        params.extend([principal.user_id, *units, *units])
    return (" AND ".join(clauses) or "1"), params


def _facets(conn: sqlite3.Connection, names: Sequence[str]) -> tuple[Facet, ...]:
    out: list[Facet] = []
    for name in names:
        if name == "ho_so":
            rows = conn.execute(
                "SELECT x.ho_so, count(*) FROM temp.hits h JOIN doc_hoso x ON x.rowid = h.rowid "
                "GROUP BY x.ho_so ORDER BY count(*) DESC, x.ho_so LIMIT 50"
            ).fetchall()
        else:
            key, label = _FACET_COLUMNS[name]
            rows = conn.execute(
                f"SELECT min({label}), count(*) FROM temp.hits WHERE {key} != '' "
                f"GROUP BY {key} ORDER BY count(*) DESC, min({label}) LIMIT 50"
            ).fetchall()
        out.append(Facet(name, tuple(FacetValue(str(v), c) for v, c in rows)))
    return tuple(out)


def _hit(doc: IndexDocument, score: float, query: Query, words: list[str]) -> Hit:
    marks = ()
    if query.highlight and (words or query.phrases or query.so_ky_hieu):
        marks = highlights(
            (("title", doc.title), ("so_ky_hieu", doc.so_ky_hieu), ("trich_yeu", doc.trich_yeu),
             ("text", doc.text)),
            words,
            [*query.phrases, *(" ".join(syllables(k)) for k in query.so_ky_hieu)],
        )
    return Hit(
        id=doc.id,
        version=doc.version,
        score=float(score),
        direction=doc.direction,
        title=doc.title,
        so_ky_hieu=doc.so_ky_hieu,
        loai_van_ban=doc.loai_van_ban,
        co_quan_ban_hanh=doc.co_quan_ban_hanh,
        ngay_ban_hanh=doc.ngay_ban_hanh,
        ngay_den=doc.ngay_den,
        trich_yeu=doc.trich_yeu,
        highlights=marks,
    )

