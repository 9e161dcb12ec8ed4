"""Embedded search backend: SQLite for the documents, a Tantivy index for text, filters and facets.

Nothing to run besides this process. Layout next to ``<dir>/search.sqlite3``:

- ``search.sqlite3`` (the source of truth inside the index): ``docs``, one row per document
  (filter/sort columns + the document as JSON); ``doc_hoso``, ``doc_grants``, ``doc_cites``: the
  multi-valued fields (related documents, permissions of :meth:`EmbeddedBackend.related`);
  ``labels``: the display form of each keyed facet value; ``text_pending``: a redo log of rows
  whose text-index entry is not yet committed; ``meta.text_dir`` names the Tantivy directory.
- ``search.sqlite3.text-<id>/``: a `Tantivy <https://github.com/quickwit-oss/tantivy>`_ index
  (Rust, through the ``tantivy`` package) keyed by the SQLite ``rowid``. It holds the
  normalised text (see :mod:`search.analysis`), split into syllables by Tantivy's own
  analyzers (``kho_syllables``, ``kho_pairs``): ``e`` (normalised, exact
  diacritics) and ``f`` (folded), each the title block (title, số/ký hiệu, trích yếu, loại, cơ
  quan, người ký) :data:`TITLE_REPEAT` times then the full text; ``b``, every pair of adjacent
  folded syllables as one term (``quy_dinh``); plus every filter, permission, facet and sort
  value as indexed or fast fields.

One Tantivy query carries the words, the filters and the permissions, so the exact total, the
page, the facets (terms aggregations over the same matches; up to 200 matches, their SQLite
rows counted instead, see :func:`_counted_facets`) and therefore the highlights
(computed only for the page's hits) never see a hidden document. Ranking is BM25 over the whole
document per term (as FTS5's ``bm25()`` was), weighted by :mod:`search.ranking` (the same
plan the Elasticsearch backend translates): a match with the diacritics as typed weighs
``exact_weight`` times a folded one, a title match twice a body match, and every pair of
adjacent query syllables found side by side adds ``pair_boost`` (compound words such as
"quyết định", "hồ sơ", and word order). A two-syllable phrase is a single ``b`` term; longer
phrases check positions in ``f`` only where all their pairs occur. SQLite FTS5 scored every
matching document through its virtual-table interface (0.5–0.7 s for common words at 100,000
documents); Tantivy counts and scores the same matches in native code, and facets use a
matching-only query (no scoring clauses).

Writes: one SQLite transaction records the rows and their ``text_pending`` entries, then the
Tantivy commit, then the pending entries are cleared; a crash in between is repaired when the
index is next opened (the pending rows are re-applied from SQLite). Writers (threads and
processes) are serialised by a lock file inside the Tantivy directory. A rebuild writes
``search.sqlite3.rebuild`` and its own Tantivy directory, then renames the SQLite file over the
live one (its ``meta.text_dir`` names the new directory); every connection notices the new file
(inode check) and reopens. A rebuild's rows go to Tantivy in a background thread from its first
batches on (every :data:`APPLY_STEP_DOCS` rows, one writer committing every
:data:`BULK_COMMIT_DOCS`) while the next batches are written and analysed. An index written by
the FTS5 version is converted when opened.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import functools
import itertools
import json
import operator
import os
import queue
import sqlite3
import threading
import time
import unicodedata
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy

from kho.errors import StoreUnavailable
from kho.textkey import plain_text
from search.analysis import fold, normalize, query_terms, so_ky_hieu_key, syllables
from search.backend import IndexWriter, Rebuild, SearchBackend
from search.documents import IndexDocument, flat_fields, value_key
from search.highlight import highlights
from search.query import (
    Facet,
    FacetValue,
    Filters,
    Highlight,
    Hit,
    Principal,
    Query,
    Related,
    SearchResult,
    Sort,
)
from search.ranking import DEFAULT_RANKING, MAX_TOKEN_CHARS, Ranking, plan

if TYPE_CHECKING:
    import concurrent.futures

FILE_NAME = "search.sqlite3"
SCHEMA_VERSION = "2"
TEXT_SCHEMA_VERSION = "6"  # 4: owner_unit indexed for the unit filter; 5: "_" joins pairs;
# 6: ``arch_units``, the archive's reach (u24). An index of an earlier text schema is rebuilt
# from ``docs`` when opened; a document indexed before u24 has no archive units there (the
# archive does not find it: fail closed) until it changes or ``kho reindex`` rebuilds it.
EXACT_WEIGHT = DEFAULT_RANKING.exact_weight
"""A match with the diacritics as typed counts this many times a diacritic-insensitive one
(phrases; words follow :class:`search.ranking.Ranking`)."""
TITLE_REPEAT = 2
"""The title block is indexed this many times before the body: a title match counts double."""
EXACT_SO_KY_HIEU_BOOST = 1.0e6
FACET_SIZE = 50
FACET_SEGMENT_SIZE = 1_000_000
"""Values counted per index segment before segments are merged: every facet count is exact while
no segment holds more distinct values of one facet among the matches (Tantivy's
``doc_count_error_upper_bound`` is then 0). The work grows with the distinct values matched
(80,000 distinct hồ sơ: ~35 ms), not with this limit."""
FACET_CACHE_SIZE = 256
"""Facet results remembered per index until its next commit (cleared when full)."""
FACET_COUNT_MAX = 200
"""Up to this many matches, facets are counted from SQLite rows (see :func:`_counted_facets`)."""
_COPY_INFIX = ".swap-"
"""A rebuild's commit copies the staging index to ``search.sqlite3.swap-<id>``, then renames it."""
_APPLY_CHUNK = 500
BULK_COMMIT_DOCS = 20_000
"""A rebuild commits its Tantivy writer this often (and at the end), not once per batch."""
BULK_HEAP_BYTES = 256_000_000
APPLY_STEP_DOCS = 2_000
"""A rebuild hands its staged rows to the background apply this often (or every
:data:`BULK_COMMIT_DOCS`, if fewer): Tantivy indexes from the first batches on, beside the
SQLite rows and the analysis of the next ones, in one writer per commit."""
APPLY_IDLE_COMMIT_SECONDS = 10.0
"""The background apply commits early (and releases the write lock) when it has waited
:data:`_APPLY_IDLE_POLL` for rows with a writer open this long: a rebuild whose source is
slower than Tantivy (documents read from S3) must not keep other writers of the staging index
(live changes, :meth:`SearchBackend.index`) waiting for 20,000 of its rows."""
_APPLY_IDLE_POLL = 1.0

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
CREATE TABLE IF NOT EXISTS doc_hoso(ho_so TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(ho_so, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_hoso_rowid ON doc_hoso(rowid);
CREATE TABLE IF NOT EXISTS doc_grants(kind TEXT NOT NULL, who TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(kind, who, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_grants_rowid ON doc_grants(rowid);
CREATE TABLE IF NOT EXISTS doc_cites(cite_key TEXT NOT NULL, rowid INTEGER NOT NULL,
  PRIMARY KEY(cite_key, rowid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_cites_rowid ON doc_cites(rowid);
CREATE TABLE IF NOT EXISTS labels(facet TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL,
  PRIMARY KEY(facet, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS text_pending(rowid INTEGER PRIMARY KEY);
"""

# facet -> Tantivy fast field counted
_FACET_FIELDS: dict[str, str] = {
    "direction": "direction",
    "loai_van_ban": "loai_key",
    "co_quan_ban_hanh": "co_quan_key",
    "nguoi_ky": "nguoi_ky_key",
    "signature_verdict": "signature_verdict",
    "retention_state": "retention_state",
    "do_khan": "do_khan",
    "do_mat": "do_mat",
    "year": "year",
    "ho_so": "ho_so",
    "unit": "owner_unit",
}
# filter -> Tantivy field (keyed filters compare value_key forms): every facet but the year
_FILTER_FIELDS: dict[str, str] = {k: v for k, v in _FACET_FIELDS.items() if k != "year"}
_KEYED = {"loai_van_ban", "co_quan_ban_hanh", "nguoi_ky"}
_LABEL_COLUMNS = (
    ("loai_van_ban", "loai_key", "loai_van_ban"),
    ("co_quan_ban_hanh", "co_quan_key", "co_quan_ban_hanh"),
    ("nguoi_ky", "nguoi_ky_key", "nguoi_ky"),
)
_KEYWORD_FIELDS = (
    "direction", "loai_key", "co_quan_key", "nguoi_ky_key", "signature_verdict",
    "retention_state", "year", "ho_so", "owner_unit",
)
_INT_FIELDS = ("do_khan", "do_mat", "ngay_ban_hanh", "ngay_den")
_SORT_FIELDS = ("date_d", "date_a", "num_d", "num_a")
_NO_DATE_DESC = -1
_NO_VALUE_ASC = 1 << 62
_NUMBER_CAP = (1 << 40) - 1


def _text_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rid", indexed=True, fast=True)
    builder.add_text_field("e", tokenizer_name="kho_syllables", index_option="position")
    builder.add_text_field("f", tokenizer_name="kho_syllables", index_option="position")
    builder.add_text_field("b", tokenizer_name="kho_pairs", index_option="freq")
    for name in _KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for name in ("skh_key", "vis_units", "grant_u", "arch_units"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in _INT_FIELDS:
        builder.add_integer_field(name, indexed=True, fast=True)
    for name in _SORT_FIELDS:
        builder.add_integer_field(name, fast=True)
    return builder.build()


_TANTIVY_SCHEMA = _text_schema()


# Indexing: Python writes the normalised syllables (NFC, lower case, tone placement:
# :func:`search.analysis.normalize`; runs of letters and digits) separated by single spaces,
# their :func:`~search.analysis.fold`, and every two adjacent folded syllables joined by
# :data:`PAIR_JOINER`; Tantivy (Rust, in its indexing threads) splits them at the spaces.
# Tantivy's regex tokenizer formed the pairs before: it cost ~60% of the whole build (measured).
_ANALYZERS: dict[str, tantivy.TextAnalyzer] = {
    "kho_syllables": tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build(),
    "kho_pairs": tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build(),
}
PAIR_JOINER = "_"
"""Between the two syllables of a ``b`` term (never inside a syllable: see SYLLABLE_RE)."""


@functools.lru_cache(maxsize=500_000)
def _analysed(syllable: str) -> tuple[str, str] | None:
    """(normalised, folded) forms of one syllable; None for runs too long to index."""
    if len(syllable) > MAX_TOKEN_CHARS:
        return None
    exact = normalize(syllable)
    return exact, fold(exact)


_CHUNK_CACHE_SIZE = 200_000
"""Chunks remembered (~75 MB at most); the cache starts again when full."""


class _ChunkForms(dict[str, tuple[str, str, str]]):
    """Whitespace-separated chunk of NFC text → its syllables' normalised and folded forms,
    space-separated, and its folded syllables each written twice (``"t t_"``, see
    :func:`_pairs`). Text is mostly the same few thousand chunks ("định", "định,", "(2015)"),
    so a document costs one ``str.split`` and one dictionary look-up per chunk, in C."""

    def __missing__(self, chunk: str) -> tuple[str, str, str]:
        if len(self) >= _CHUNK_CACHE_SIZE:
            self.clear()
        forms = [f for f in map(_analysed, syllables(plain_text(chunk))) if f]
        folded = [f for _, f in forms]
        value = (" ".join([e for e, _ in forms]), " ".join(folded),
                 "".join([f"{f} {f}{PAIR_JOINER}" for f in folded]))
        self[chunk] = value
        return value


_CHUNKS = _ChunkForms()
_EXACT_FORM = operator.itemgetter(0)
_FOLDED_FORM = operator.itemgetter(1)
_DOUBLED_FORM = operator.itemgetter(2)


def _tokens(text: str) -> tuple[str, str, str]:
    """Analysed text as space-separated syllables: (normalised, folded), and the folded
    syllables doubled for :func:`_pairs`.

    Same syllables as ``syllables(normalize(text))`` and their :func:`fold`: syllables never
    contain white space, and each is analysed on its own (normalisation never moves a syllable
    boundary: it works inside letters). Chunks without a syllable leave extra spaces, which
    the whitespace tokenizer skips.
    """
    forms = list(map(_CHUNKS.__getitem__, unicodedata.normalize("NFC", text).split()))
    return (" ".join(map(_EXACT_FORM, forms)), " ".join(map(_FOLDED_FORM, forms)),
            "".join(map(_DOUBLED_FORM, forms)))


def _pairs(doubled: str) -> str:
    """Every two adjacent folded syllables as one ``b`` term, space-separated, from the
    syllables t0 … tn each written twice: ``"t0 t0_t1 t1_t2 … tn tn_"`` is ``"t0 "``, the
    pairs ``"t0_t1 t1_t2 … tn-1_tn"``, then ``" tn_"`` (syllables hold neither a space nor
    the joiner). The chunks' doubled forms are cached, so the pairs cost one join and no
    string per pair (splitting the folded text and joining each pair was about a third of
    the analysis; NOTES-s9)."""
    return doubled[doubled.find(" ") + 1 : doubled.rfind(" ")]


def _text_document(rowid: int, doc: IndexDocument) -> tantivy.Document:
    """The Tantivy entry of one document (analysed text, filter, facet and sort values)."""
    return tantivy.Document(**_text_fields(rowid, doc))


def _text_fields(rowid: int, doc: IndexDocument) -> dict[str, Any]:
    """The values of :func:`_text_document` as plain data (picklable: analysis workers)."""
    head, head_f, head_d = _tokens(
        "\n".join(
            (doc.title, doc.so_ky_hieu, doc.trich_yeu, doc.loai_van_ban, doc.co_quan_ban_hanh,
             doc.nguoi_ky)
        )
    )
    body, body_f, body_d = _tokens(doc.text)
    text = " ".join([head] * TITLE_REPEAT + [body])
    folded = " ".join([head_f] * TITLE_REPEAT + [body_f])
    sort_date = doc.sort_date
    day = sort_date.toordinal() if sort_date else None
    number = doc.sort_number
    fields: dict[str, Any] = {
        "rid": rowid,
        "e": text,
        "f": folded,
        "b": _pairs("".join([head_d] * TITLE_REPEAT + [body_d])),
        "do_khan": doc.do_khan, "do_mat": doc.do_mat,
        "date_d": day if day is not None else _NO_DATE_DESC,
        "date_a": day if day is not None else _NO_VALUE_ASC,
    }
    if number is not None:
        key = min(max(number, 0), _NUMBER_CAP) * (1 << 20) + (day or 0)
        fields["num_d"], fields["num_a"] = key, key
    else:
        fields["num_d"], fields["num_a"] = _NO_DATE_DESC, _NO_VALUE_ASC
    keywords = {
        "direction": doc.direction,
        "loai_key": value_key(doc.loai_van_ban),
        "co_quan_key": value_key(doc.co_quan_ban_hanh),
        "nguoi_ky_key": value_key(doc.nguoi_ky),
        "signature_verdict": doc.signature_verdict,
        "retention_state": doc.retention_state,
        "year": str(sort_date.year) if sort_date else "",
        "skh_key": doc.so_ky_hieu_key,
        "owner_unit": doc.owner_unit,
    }
    fields.update({k: v for k, v in keywords.items() if v})
    for name in ("ngay_ban_hanh", "ngay_den"):
        value: date | None = getattr(doc, name)
        if value is not None:
            fields[name] = value.toordinal()
    if doc.ho_so:
        fields["ho_so"] = list(doc.ho_so)
    visible_to = [u for u in (doc.owner_unit, *doc.grant_units) if u]
    if visible_to:
        fields["vis_units"] = visible_to
    if doc.grant_users:
        fields["grant_u"] = list(doc.grant_users)
    if doc.archive_units:
        fields["arch_units"] = list(doc.archive_units)
    return fields


def _analyse(items: Sequence[tuple[int, IndexDocument]]) -> list[tuple[int, str, int, dict[str, Any]]]:
    """A rebuild batch analysed in a worker process: (rowid, id, version, Tantivy fields)."""
    return [(rowid, doc.id, doc.version, _text_fields(rowid, doc)) for rowid, doc in items]


ANALYSIS_WORKERS = min(4, os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 else 0
"""Worker processes analysing a rebuild's text while this one writes SQLite rows and feeds
Tantivy (0 on one core: analysed inline). Text analysis is pure Python (~0.5 ms a document),
the rest of a rebuild is SQLite, JSON and Tantivy's own indexing thread. One per core: at
20,000 documents on the shared 2-core machine, 436 documents/s inline, 454–554 with one
worker, 829 with two (same index)."""
WORKER_NICE = 5
"""The analysis workers run this much nicer than the rebuild's process. Tantivy's one
indexing thread is a rebuild's critical path (its apply thread waits in ``add_document`` or
``commit`` ~90% of the time, NOTES-s9); as equals, two workers, the rebuild's thread and
Tantivy's shared two cores and Tantivy's thread got about half of one. The workers still take
every cycle the rest leaves (and the rebuild's thread analyses a batch itself when they fall
behind: :data:`WORKER_BACKLOG`)."""
PARALLEL_MIN_BATCH = 200
"""Smaller rebuild batches are analysed inline (a worker process costs ~0.3 s to start)."""
WORKER_BACKLOG = 1
"""A rebuild's batch is analysed by the rebuild's own thread (not queued for the workers)
when every worker is busy and this many more batches already wait for them: text analysis is
the slowest stage of a rebuild (~0.25 ms a document against ~0.1 ms for the SQLite rows), so
the rebuild's thread used to finish its rows early and then wait, idle, for the workers and
Tantivy to catch up (NOTES-s8)."""


def _row(doc: IndexDocument) -> dict[str, Any]:
    return {**flat_fields(doc), "body": json.dumps(doc.to_json(), ensure_ascii=False)}


_ROW_COLUMNS = tuple(_row(IndexDocument(id="x", version=0, direction="den")).keys())
_INSERT_DOC = (
    f"INSERT INTO docs(rowid, {', '.join(_ROW_COLUMNS)}) "
    f"VALUES (:rowid, {', '.join(':' + c for c in _ROW_COLUMNS)})"
)
_UPSERT_LABEL = (
    "INSERT INTO labels(facet, key, label) VALUES(?, ?, ?) "
    "ON CONFLICT(facet, key) DO UPDATE SET label = min(label, excluded.label)"
)


_ApplyWork = tuple[list[int], dict[int, IndexDocument], list["concurrent.futures.Future[list[Any]]"]]
"""A hand-off to the background apply: rowids to apply, the staged documents, their analysis."""


def _put(work: queue.Queue[_ApplyWork | None], item: _ApplyWork | None,
         applier: threading.Thread) -> None:
    """Queue ``item`` for the background apply, unless it has ended (its error is raised by
    :meth:`_Index._join_applier`; the rows stay pending)."""
    while applier.is_alive():
        try:
            work.put(item, timeout=1.0)
            return
        except queue.Full:
            continue


def _chunks(items: Sequence[int], size: int = _APPLY_CHUNK) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _StagingGone(Exception):
    """The staging file this object has open is no longer the one at its path (a rebuild
    committed, or another began): a write to it would reach nobody's index."""


class _Index(IndexWriter):
    """One index (live or staging): a SQLite file and the Tantivy directory it names."""

    def __init__(
        self, path: Path, *, bulk: bool = False, defer: bool = False, create: bool = True
    ) -> None:
        self.path = path
        self.bulk = bulk
        """A staging index (WAL, no fsync): every write checks, under the write lock, that the
        file is still the one at :attr:`path` (:class:`_StagingGone` otherwise)."""
        self.defer = defer
        """Leave the Tantivy side of :meth:`index` pending until many rows are (a rebuild)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # ``create=False``: a staging index is only ever made by its rebuild; another
            # process opening it just as the rebuild commits must not make an empty one anew
            where = path if create else f"file:{urllib.parse.quote(str(path))}?mode=rw"
            self.conn = sqlite3.connect(where, timeout=30, isolation_level=None,
                                        check_same_thread=False, uri=not create)
            self.conn.execute("PRAGMA journal_mode=" + ("WAL" if bulk else "DELETE"))
            self.conn.execute("PRAGMA synchronous=" + ("OFF" if bulk else "NORMAL"))
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self.conn.execute("PRAGMA secure_delete=ON")  # a destroyed document's text is zeroed
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.executescript(_SCHEMA)
            self.inode = os.stat(path).st_ino
            self.lock = threading.RLock()
            """Readers and writers of this object's connection and Tantivy handles: held briefly
            (a query, a write), never for a whole text rewrite (see :meth:`rewrite_text_aside`)."""
            self.write_lock = threading.RLock()
            """The writers of this process, one at a time (taken before :attr:`lock` and the
            file lock): a purge holds it, and the file lock, while it rewrites the text index
            aside, with :attr:`lock` free for the searches."""
            self.text_dir, self.text = self._open_text()
            self._lock_file = open(self.text_dir / "kho-write.lock", "a+b")  # noqa: SIM115
            self._searcher: tantivy.Searcher | None = None
            self._staged: dict[int, IndexDocument] = {}
            self._analysing: list[concurrent.futures.Future[list[Any]]] = []
            self._pool: concurrent.futures.ProcessPoolExecutor | None = None
            # batches given to the workers and not yet analysed (oldest first)
            self._submitted: collections.deque[concurrent.futures.Future[list[Any]]] = (
                collections.deque()
            )
            self._workers_failed = False
            self._searcher_mark: tuple[int, int, int] | None = None
            self._facet_cache: dict[tuple[Any, ...], tuple[Facet, ...]] = {}
            self._holders = 0
            self._holders_lock = threading.Lock()
            self._applier: threading.Thread | None = None
            self._applier_work: queue.Queue[_ApplyWork | None] | None = None
            self._applier_error: BaseException | None = None
            # set when the rebuild's thread left without handing the end (an exception while
            # it waited): the background apply then ends by itself once its queue is empty
            self._applier_stop = threading.Event()
            self._removed: list[int] = []
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise StoreUnavailable(
                f"Không mở được chỉ mục tìm kiếm: {path}", code="SEARCH_INDEX_UNAVAILABLE"
            ) from exc
        self._replay_pending()

    def _open_text(self) -> tuple[Path, tantivy.Index]:
        """The Tantivy directory ``meta`` names, opened. A purge in another process may switch
        ``meta`` to a new directory and remove the old one between the read and the open:
        the name is then read again."""
        for attempt in range(3):
            text_dir = self._text_dir()
            try:
                return text_dir, _open_tantivy(text_dir)
            except ValueError:
                if attempt == 2 or self._meta_text_dir() == text_dir.name:
                    raise
        raise AssertionError("unreachable")

    def _meta_text_dir(self) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key='text_dir'").fetchone()
        return row[0] if row else None

    def _follow_text_dir(self) -> None:
        """Take the Tantivy directory ``meta`` names now, if another process's purge switched
        it (:meth:`rewrite_text_aside`): the next search reads the new index, never the old
        directory (which that purge removes). The caller holds :attr:`lock`."""
        name = self._meta_text_dir()
        if name is None or name == self.text_dir.name:
            return
        text_dir = self.path.parent / name
        self.text = _open_tantivy(text_dir)
        self.text_dir = text_dir
        self._searcher = None
        self._searcher_mark = None
        self._facet_cache = {}

    def _text_dir(self) -> Path:
        """The Tantivy directory named in ``meta``; created (and filled from ``docs``) if missing."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            name = meta.get("text_dir")
            if (
                name is None
                or meta.get("text_schema") != TEXT_SCHEMA_VERSION
                or not (self.path.parent / name).is_dir()
            ):
                base = self.path.name.removesuffix(".rebuild")
                name = f"{base}.text-{uuid.uuid4().hex[:12]}"
                (self.path.parent / name).mkdir()
                # Written by the FTS5 version, or the text index was lost: rebuild it from docs.
                self.conn.execute("DROP TABLE IF EXISTS fts")
                self.conn.execute("INSERT OR IGNORE INTO text_pending(rowid) SELECT rowid FROM docs")
                for facet, key, label in _LABEL_COLUMNS:
                    self.conn.execute(
                        f"INSERT OR IGNORE INTO labels(facet, key, label) SELECT ?, {key}, "
                        f"min({label}) FROM docs WHERE {key} != '' GROUP BY {key}",
                        (facet,),
                    )
                self.conn.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
                    [("schema", SCHEMA_VERSION), ("text_dir", name),
                     ("text_schema", TEXT_SCHEMA_VERSION)],
                )
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return self.path.parent / name

    def close(self) -> None:
        try:
            self._join_applier()  # its rows stay pending on error: applied when next opened
        except StoreUnavailable:
            pass
        finally:
            self._stop_workers()
            self.conn.close()
        if self._applier is None:  # (never under a background apply's open writer)
            self._lock_file.close()

    def _workers_broke(self) -> None:
        """A worker died: this index analyses inline from now on (what was submitted and not
        returned is analysed from the staged documents)."""
        self._workers_failed = True
        self._stop_workers()

    def _stop_workers(self) -> None:
        self._analysing = []
        self._submitted.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- writes ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """This thread is the only writer of this index, across threads and processes (a
        rebuild's background apply, :meth:`_apply_in_background`, holds the file lock too)."""
        with self._writing_aside(), self.lock:
            yield

    @contextlib.contextmanager
    def _writing_aside(self) -> Iterator[None]:
        """The write lock of :meth:`_writing` (this process's writers, then other processes')
        without :attr:`lock`: the searches of this process go on meanwhile. On the directory
        ``meta`` names once the file lock is held (another process's purge may have switched
        it while this one waited)."""
        with self.write_lock:
            while True:
                with self.lock:
                    self._follow_text_dir()
                    self._reopen_lock_file()
                with self._file_lock():
                    with self.lock:
                        self._follow_text_dir()
                        replaced = self._lock_file_replaced()
                    if not replaced or self._holders > 1:
                        if self.bulk and self._file_replaced():
                            raise _StagingGone(str(self.path))
                        yield
                        return

    def _file_replaced(self) -> bool:
        """Whether :attr:`path` no longer names the file this object has open."""
        try:
            return os.stat(self.path).st_ino != self.inode
        except FileNotFoundError:
            return True

    def _lock_file_replaced(self) -> bool:
        """Whether the lock file of :attr:`text_dir` is another file than the one this object
        locks. A purge's new directory links the same file (one lock for both directories);
        a directory made anew because its files were lost has a new one."""
        try:
            named = os.stat(self.text_dir / "kho-write.lock").st_ino
        except FileNotFoundError:
            return False
        return named != os.fstat(self._lock_file.fileno()).st_ino

    def _reopen_lock_file(self) -> None:
        """Lock the file of the current directory from now on (only while nobody holds the old)."""
        with self._holders_lock:
            if self._holders == 0 and self._lock_file_replaced():
                self._lock_file.close()
                self._lock_file = open(self.text_dir / "kho-write.lock", "a+b")  # noqa: SIM115

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """The write lock between processes, held while any thread of this object needs it:
        taken by the first holder, released by the last (``flock`` is per open file, so one
        thread's unlock would otherwise release it under another thread's Tantivy writer)."""
        with self._holders_lock:
            if self._holders == 0:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
            self._holders += 1
        try:
            yield
        finally:
            with self._holders_lock:
                self._holders -= 1
                if self._holders == 0:
                    fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)

    def flush(self) -> None:
        """Apply every pending row to Tantivy in one commit (a rebuild's staged rows)."""
        self._replay_pending()

    def _defer(
        self, added: Sequence[tuple[int, IndexDocument]], removed: Sequence[int] = ()
    ) -> None:
        """A rebuild's batch stays pending (rows in SQLite, marked in ``text_pending``); every
        :data:`APPLY_STEP_DOCS` staged rows go to the background apply, which commits every
        :data:`BULK_COMMIT_DOCS` (and at the end, :meth:`flush`): one commit per many batches,
        not per batch. The rows are read back as SQLite has them when applied, so writes that
        reach the staging index meanwhile (another process following live changes) are applied
        as SQLite has them (those of other processes by the next :meth:`flush`); documents this
        object staged are taken from memory when SQLite still holds the same id and version.
        After a crash the pending rows are applied when the index is next opened: resuming
        loses nothing."""
        self._staged.update({rowid: doc for rowid, doc in added})
        self._removed.extend(removed)
        # Only a rebuild's batches need these: a query's process does not import them (start-up).
        import concurrent.futures
        import multiprocessing

        if (ANALYSIS_WORKERS and not self._workers_failed and len(added) >= PARALLEL_MIN_BATCH
                and not multiprocessing.current_process().daemon):  # daemons have no children
            # Analysed in the background while the next batches go to SQLite; a failed worker
            # only means the rest is analysed here (see _analysed).
            try:
                if self._pool is None:
                    self._pool = concurrent.futures.ProcessPoolExecutor(
                        ANALYSIS_WORKERS, mp_context=multiprocessing.get_context("spawn"),
                        initializer=os.nice, initargs=(WORKER_NICE,),
                    )
                while self._submitted and self._submitted[0].done():
                    self._submitted.popleft()
                if len(self._submitted) >= ANALYSIS_WORKERS + WORKER_BACKLOG:
                    if (here := self._analysed_here(added)) is not None:
                        self._analysing.append(here)
                else:
                    future = self._pool.submit(_analyse, list(added))
                    self._submitted.append(future)
                    self._analysing.append(future)
            except Exception:  # a broken pool, no processes allowed here: analyse inline
                self._workers_broke()
        if len(self._staged) >= min(APPLY_STEP_DOCS, BULK_COMMIT_DOCS):
            self._apply_in_background()

    @staticmethod
    def _analysed_here(
        added: Sequence[tuple[int, IndexDocument]],
    ) -> concurrent.futures.Future[list[Any]] | None:
        """The workers are :data:`WORKER_BACKLOG` batches behind: this thread analyses the
        batch itself (the same :func:`_analyse`) instead of waiting for the background apply.
        None on a failure: the background apply then analyses the staged documents (and
        reports the error) as it does when no analysis is handed to it."""
        import concurrent.futures

        try:
            analysed = _analyse(added)
        except Exception:
            return None
        future: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        future.set_result(analysed)
        return future

    def _apply(self, removed: Sequence[int], added: Sequence[tuple[int, IndexDocument]]) -> None:
        """Make the Tantivy index match SQLite for these rows, then clear their pending marks."""
        self._join_applier()  # one Tantivy writer at a time (the caller holds the write lock)
        if not removed and not added:
            return
        with self._tantivy_commit() as writer:
            for rowid in removed:
                writer.delete_documents_by_term("rid", rowid)
            for rowid, doc in added:
                writer.delete_documents_by_term("rid", rowid)
                writer.add_document(_text_document(rowid, doc))
        done = sorted({*removed, *(r for r, _ in added)})
        for chunk in _chunks(done):
            self.conn.execute(
                f"DELETE FROM text_pending WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
            )

    def segments_with_deletes(self) -> int:
        """How many committed Tantivy segments still hold deleted documents (``meta.json``)."""
        meta = json.loads((self.text_dir / "meta.json").read_text(encoding="utf-8"))
        return sum(1 for segment in meta.get("segments", ()) if segment.get("deletes"))

    def drop_unused_labels(self, conn: sqlite3.Connection | None = None) -> None:
        """Make ``labels`` exactly the display forms the rows in ``docs`` carry now, as a fresh
        index builds it: a label is upserted by each write and was never removed, so a
        destroyed document's signer or organ name stayed in the file (review u7). One
        transaction (a writer's rows and labels are committed together, so its labels are either
        counted here or upserted after); the freed pages are zeroed (``secure_delete``) and the
        file vacuumed by :meth:`EmbeddedBackend.purge_deleted`. A scan of ``docs`` per keyed
        facet: small beside that purge's VACUUM and text rewrite. Through ``conn`` if given
        (a connection with ``secure_delete`` on), else this object's (under :attr:`lock`)."""
        conn = self.conn if conn is None else conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM labels")
            for facet, key, label in _LABEL_COLUMNS:
                conn.execute(
                    f"INSERT INTO labels(facet, key, label) SELECT ?, {key}, "
                    f"min({label}) FROM docs WHERE {key} != '' GROUP BY {key}",
                    (facet,),
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def purge_rows_aside(self) -> None:
        """:meth:`drop_unused_labels` and ``VACUUM`` through a connection of their own, without
        :attr:`lock`: the searches of this process read on meanwhile (SQLite lets them, in the
        rollback-journal mode, until the commit's write-back, which they wait for through the
        busy timeout). The caller holds :attr:`write_lock` and the file lock."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete=ON")  # (per connection) freed bytes are zeroed
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")  # VACUUM's copy, as this object's had it
            self.drop_unused_labels(conn)
            conn.execute("VACUUM")
        finally:
            conn.close()

    def rewrite_text(self) -> None:
        """Rewrite the Tantivy index from the SQLite rows when a segment holds a deleted
        document. A delete only marks a document dead in its segment: its terms *and their
        positions* (from which its text can be put back together) stay on disk until Tantivy
        merges that segment, which its merge policy may never do (review a14: after a
        ``kho reindex``, a destroyed document's words were still counted by ``doc_freq``).
        Every row goes to new segments in one commit; the old ones, dropped whole, are then
        garbage collected. The caller holds the write lock."""
        if not self.segments_with_deletes():
            return
        self._join_applier()
        rowids = [r for (r,) in self.conn.execute("SELECT rowid FROM docs ORDER BY rowid")]
        applied: dict[int, tuple[str, int]] = {}
        with self._tantivy_commit() as writer:
            writer.delete_all_documents()
            self._add_rows(writer, self.conn, rowids, {}, {}, applied)
        self._clear_marks(self.conn, rowids, applied, checked=True)

    def rewrite_text_aside(self) -> bool:
        """:meth:`rewrite_text` without stopping the searches: the new Tantivy index is built
        in a new directory from the SQLite rows (read through a connection of its own), then
        ``meta.text_dir`` names it (one SQLite commit: the switch, for every process) and this
        object's handles move to it under a short :attr:`lock`; the old directory is then
        removed. Searches of this process answer from the old index until the switch; those of
        other processes from their next query on (:meth:`_follow_text_dir`).

        The caller holds :attr:`write_lock` and the file lock (not :attr:`lock`): no row
        changes while the rows are read, and writes wait. A crash before the switch leaves the
        old index whole and the new directory named in ``meta.text_dir_building``; after it,
        the old one in ``meta.text_dir_retired``: :meth:`_remove_retired_text_dirs` (at the
        next open or purge) removes either. False when no segment holds a deleted document
        (nothing rewritten)."""
        if not self.segments_with_deletes():
            return False
        old = self.text_dir
        base = self.path.name.removesuffix(".rebuild")
        new = self.path.parent / f"{base}.text-{uuid.uuid4().hex[:12]}"
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        switched = False
        try:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('text_dir_building', ?)",
                         (new.name,))
            new.mkdir()
            # The same lock file (inode) as the old directory: a process still on the old
            # directory and one on the new exclude each other.
            os.link(old / "kho-write.lock", new / "kho-write.lock")
            text = _open_tantivy(new)
            rowids = [r for (r,) in conn.execute("SELECT rowid FROM docs ORDER BY rowid")]
            pending = [r for (r,) in conn.execute("SELECT rowid FROM text_pending")]
            applied: dict[int, tuple[str, int]] = {}
            writer = text.writer(heap_size=50_000_000, num_threads=1)
            try:
                self._add_rows(writer, conn, rowids, {}, {}, applied)
                writer.commit()
            except BaseException:
                self._discard(writer)
                raise
            writer.wait_merging_threads()
            _fsync_dir(new)
            _fsync_dir(new.parent)
            with self.lock:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    if self._meta_text_dir() != old.name:
                        raise StoreUnavailable(
                            "Chỉ mục tìm kiếm vừa được thay trong lúc dọn dẹp.",
                            code="SEARCH_INDEX_UNAVAILABLE",
                        )
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
                        [("text_dir", new.name), ("text_dir_retired", old.name)],
                    )
                    self.conn.execute("DELETE FROM meta WHERE key='text_dir_building'")
                    self._clear_marks_in(self.conn, [*rowids, *pending], applied)
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
                switched = True
                self.text, self.text_dir = text, new
                self._searcher = None
                self._searcher_mark = None
                self._facet_cache = {}
        finally:
            conn.close()
            if not switched:  # an error (not a crash): the half-built directory goes now
                with contextlib.suppress(Exception):
                    self._remove_retired_text_dirs()
        self._remove_retired_text_dirs()
        return True

    def _remove_retired_text_dirs(self) -> None:
        """Remove the directories a purge left behind (``meta.text_dir_building``: killed
        before its switch; ``meta.text_dir_retired``: the old index after it), never the one
        ``meta.text_dir`` names. The caller holds the write lock (no purge is building)."""
        with self.lock:
            names = dict(self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('text_dir_building', 'text_dir_retired')"
            ).fetchall())
            current = self._meta_text_dir()
        if not names:
            return
        import shutil  # (a purge's clean-up: a query's process does not import it)

        gone = []
        for key, name in names.items():
            if name and name != current and "/" not in name:
                shutil.rmtree(self.path.parent / name, ignore_errors=True)
                if (self.path.parent / name).exists():
                    continue  # still on disk (it may hold destroyed text): named until removed
            gone.append(key)
        with self.lock:
            self.conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in gone])

    def _replay_pending(self) -> None:
        """Re-apply rows written to SQLite whose Tantivy commit did not happen (crash, upgrade,
        a rebuild's deferred rows); remove what a killed purge left behind."""
        with self._writing():
            self._remove_retired_text_dirs()
            self._apply_pending()

    def _apply_pending(self) -> None:
        """Every row marked in ``text_pending``, as SQLite has it now, in one Tantivy commit
        (the caller holds the write lock; a background apply is waited for first)."""
        self._join_applier()
        pending = [r for (r,) in self.conn.execute("SELECT rowid FROM text_pending")]
        staged, self._staged = self._staged, {}
        self._removed = []
        futures, self._analysing = self._analysing, []
        analysed = self._analysed(futures)
        if self._workers_failed:
            self._stop_workers()
        if pending:
            self._apply_rows(self.conn, pending, staged, analysed)

    def _apply_in_background(self) -> None:
        """Hand the rows staged since the last hand-off (and the rowids the rebuild's batches
        replaced) to the background apply (started if not running), while this thread goes on
        writing the next batches to SQLite and the analysis workers go on with them. The queue
        holds up to :data:`BULK_COMMIT_DOCS` rows: a rebuild faster than Tantivy waits here.
        An error of the background apply is raised here (its rows stay pending)."""
        staged, self._staged = self._staged, {}
        removed, self._removed = self._removed, []
        futures, self._analysing = self._analysing, []
        rowids = list(dict.fromkeys([*removed, *staged]))
        if self._applier_error is not None:
            self._join_applier()  # raises it
        if not rowids:
            return
        if self._applier is None:
            self._applier_work = queue.Queue(max(1, BULK_COMMIT_DOCS // APPLY_STEP_DOCS))
            self._applier_stop = threading.Event()
            self._applier = threading.Thread(
                target=self._run_applier, args=(self._applier_work, self._applier_stop),
                name="kho-index-apply", daemon=True,
            )
            self._applier.start()
        assert self._applier_work is not None
        _put(self._applier_work, (rowids, staged, futures), self._applier)

    def _run_applier(self, work: queue.Queue[_ApplyWork | None], stop: threading.Event) -> None:
        """The background apply: one Tantivy writer (and the write lock: no other process
        writes Tantivy meanwhile) from the first rows after a commit until
        :data:`BULK_COMMIT_DOCS` rows are added, or until it has waited for rows
        :data:`APPLY_IDLE_COMMIT_SECONDS` after opening; then its commit, then the marks are
        cleared through this thread's own connection only where the row is still what Tantivy
        got (a row written meanwhile stays pending for the next apply). Ends at ``None``
        (committing what it holds). After an error it only empties the queue (so the rebuild
        never waits on it): those rows stay pending, applied by the next apply or when the
        index is opened. Ends too when ``stop`` is set and nothing is queued (the rebuild's
        thread was interrupted before it could hand the end)."""
        conn: sqlite3.Connection | None = None
        window = contextlib.ExitStack()  # the write lock while a writer is open
        writer: tantivy.IndexWriter | None = None
        applied: dict[int, tuple[str, int]] = {}
        marked: list[int] = []
        opened = 0.0

        def commit() -> None:
            nonlocal writer, applied, marked
            done, writer = writer, None
            assert done is not None and conn is not None
            self._commit(done)
            self._clear_marks(conn, marked, applied, checked=True)
            applied, marked = {}, []
            window.close()

        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            while True:
                try:
                    item = work.get(timeout=_APPLY_IDLE_POLL)
                except queue.Empty:
                    if stop.is_set():
                        break  # (what it holds is committed below)
                    if writer is not None and time.monotonic() - opened >= APPLY_IDLE_COMMIT_SECONDS:
                        commit()
                    continue
                if item is None:
                    break
                if self._applier_error is not None:
                    continue
                rowids, staged, futures = item
                analysed = self._analysed(futures)
                if writer is None:
                    window.enter_context(self._file_lock())
                    writer = self._new_writer()
                    opened = time.monotonic()
                marked.extend(rowids)
                self._add_rows(writer, conn, rowids, staged, analysed, applied)
                if len(marked) >= BULK_COMMIT_DOCS:
                    commit()
            if writer is not None:
                commit()
        except BaseException as exc:  # raised in the rebuild's thread
            self._applier_error = exc
            if writer is not None:
                with contextlib.suppress(Exception):
                    self._discard(writer)
            window.close()
            while True:  # emptied until the end: the rebuild never waits
                try:
                    if work.get(timeout=_APPLY_IDLE_POLL) is None:
                        break
                except queue.Empty:
                    if stop.is_set():
                        break
        finally:
            window.close()
            if conn is not None:
                conn.close()

    def _join_applier(self) -> None:
        """Let the background apply commit what it holds and end; raise its error (its rows
        stay pending)."""
        applier, work = self._applier, self._applier_work
        if applier is not None:
            assert work is not None
            try:
                _put(work, None, applier)
                applier.join()
            finally:
                if applier.is_alive():  # interrupted while handing the end or waiting for it:
                    self._applier_stop.set()  # it ends by itself; a later join finds it
                else:
                    self._applier = self._applier_work = None
        if self._workers_failed and self._pool is not None:
            self._stop_workers()
        error, self._applier_error = self._applier_error, None
        if error is not None:
            raise StoreUnavailable(
                "Không cập nhật được chỉ mục tìm kiếm.", code="SEARCH_INDEX_UNAVAILABLE"
            ) from error

    def _new_writer(self) -> tantivy.IndexWriter:
        return self.text.writer(heap_size=BULK_HEAP_BYTES if self.bulk else 50_000_000,
                                num_threads=1)

    @staticmethod
    def _discard(writer: tantivy.IndexWriter) -> None:
        """Drop what this writer added since its last commit and wait for its merges."""
        writer.rollback()
        writer.wait_merging_threads()

    @contextlib.contextmanager
    def _tantivy_commit(self) -> Iterator[tantivy.IndexWriter]:
        """A new writer: what the block adds is committed when it ends, dropped if it raises."""
        writer = self._new_writer()
        try:
            yield writer
        except BaseException:
            self._discard(writer)
            raise
        self._commit(writer)

    def _commit(self, writer: tantivy.IndexWriter) -> None:
        """Commit this writer (rolled back on error), wait for its merges, take the commit."""
        try:
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        self.text.reload()
        self._searcher = None  # the next query takes a searcher on this commit

    def _apply_rows(
        self, conn: sqlite3.Connection, pending: list[int], staged: dict[int, IndexDocument],
        analysed: dict[int, tuple[str, int, dict[str, Any]]], *, checked: bool = False,
    ) -> None:
        """These marked rows, as SQLite has them now, in one Tantivy commit; then their marks
        are cleared (``checked``: only where the row is unchanged since it was read)."""
        applied: dict[int, tuple[str, int]] = {}
        with self._tantivy_commit() as writer:
            self._add_rows(writer, conn, pending, staged, analysed, applied)
        self._clear_marks(conn, pending, applied, checked=checked)

    def _add_rows(
        self, writer: tantivy.IndexWriter, conn: sqlite3.Connection, pending: Sequence[int],
        staged: dict[int, IndexDocument], analysed: dict[int, tuple[str, int, dict[str, Any]]],
        applied: dict[int, tuple[str, int]],
    ) -> None:
        """Replace these rows' Tantivy entries by what SQLite holds now (none for a row no
        longer there); ``applied`` records the (id, version) given to Tantivy."""
        for chunk in _chunks(pending, 5_000):
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT rowid, id, version FROM docs WHERE rowid IN ({marks})", chunk
            ).fetchall()
            unknown = [r for r, doc_id, version in rows
                       if (doc := staged.get(r)) is None
                       or (doc.id, doc.version) != (doc_id, version)]
            bodies: dict[int, str] = {}
            for part in _chunks(unknown):
                bodies.update(conn.execute(
                    f"SELECT rowid, body FROM docs WHERE rowid IN ({', '.join('?' * len(part))})",
                    part,
                ).fetchall())
            for rowid in chunk:
                writer.delete_documents_by_term("rid", rowid)
                applied.pop(rowid, None)
            for rowid, doc_id, version in rows:
                applied[rowid] = (doc_id, version)
                body = bodies.get(rowid)
                if body is None and (ready := analysed.get(rowid)) is not None \
                        and ready[:2] == (doc_id, version):
                    writer.add_document(tantivy.Document(**ready[2]))
                    continue
                doc = IndexDocument.from_json(json.loads(body)) if body else staged[rowid]
                writer.add_document(_text_document(rowid, doc))

    def _clear_marks(
        self, conn: sqlite3.Connection, pending: Sequence[int],
        applied: dict[int, tuple[str, int]], *, checked: bool,
    ) -> None:
        """Clear the ``text_pending`` marks of rows just committed (``checked``: only where
        the row is still what Tantivy got, or still absent)."""
        if not checked:
            for chunk in _chunks(pending):
                conn.execute(
                    f"DELETE FROM text_pending WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk
                )
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._clear_marks_in(conn, pending, applied)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _clear_marks_in(
        conn: sqlite3.Connection, pending: Sequence[int], applied: dict[int, tuple[str, int]],
    ) -> None:
        """:meth:`_clear_marks` (checked) inside the caller's transaction."""
        for chunk in _chunks(list(dict.fromkeys(pending))):
            marks = ", ".join("?" * len(chunk))
            now = {r: (doc_id, version) for r, doc_id, version in conn.execute(
                f"SELECT rowid, id, version FROM docs WHERE rowid IN ({marks})", chunk
            )}
            done = [r for r in chunk if now.get(r) == applied.get(r)]
            if done:
                conn.execute(
                    f"DELETE FROM text_pending WHERE rowid IN ({', '.join('?' * len(done))})",
                    done,
                )

    def _analysed(
        self, futures: list[concurrent.futures.Future[list[Any]]]
    ) -> dict[int, tuple[str, int, dict[str, Any]]]:
        """What the workers analysed for these batches: rowid → (id, version, fields). A batch
        whose worker failed is left out (analysed inline from the staged document) and no
        more batches go to the workers."""
        out: dict[int, tuple[str, int, dict[str, Any]]] = {}
        for future in futures:
            try:
                batch = future.result()
            except Exception:  # a broken worker must not fail the rebuild
                self._workers_failed = True
                continue
            out.update((rowid, (doc_id, version, fields)) for rowid, doc_id, version, fields in batch)
        return out

    def _remove_rowid(self, rowid: int) -> None:
        for table in ("docs", "doc_hoso", "doc_grants", "doc_cites"):
            self.conn.execute(f"DELETE FROM {table} WHERE rowid=?", (rowid,))

    def index(self, docs: Iterable[IndexDocument]) -> int:
        docs = list(docs)
        removed: list[int] = []
        added: list[tuple[int, IndexDocument]] = []
        with self._writing():
            with self._transaction():
                if len({d.id for d in docs}) == len(docs):
                    self._insert_batch(docs, removed, added)
                else:  # the same id twice in one batch: row by row, the later write decides
                    for doc in docs:
                        self._insert_batch([doc], removed, added)
                self.conn.executemany(
                    "INSERT OR IGNORE INTO text_pending(rowid) VALUES(?)",
                    [(r,) for r in removed] + [(r,) for r, _ in added],
                )
            if self.defer:
                self._defer(added, removed)
            else:
                self._apply(removed, added)
        return len(added)

    def _insert_batch(
        self, docs: Sequence[IndexDocument], removed: list[int],
        added: list[tuple[int, IndexDocument]],
    ) -> None:
        """Rows of documents with distinct ids, a few statements for the whole batch (inside
        the caller's transaction): an older version than the indexed one is left out, a newer
        one replaces it."""
        current: dict[str, tuple[int, int]] = {}
        for chunk in _chunks([d.id for d in docs]):
            current.update(
                (doc_id, (rowid, version)) for doc_id, rowid, version in self.conn.execute(
                    f"SELECT id, rowid, version FROM docs WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
            )
        for doc in docs:
            found = current.get(doc.id)
            if found is not None and found[1] <= doc.version:
                self._remove_rowid(found[0])
                removed.append(found[0])
        # Never a rowid used before (a deleted last row's): a search holding the previous
        # commit's rowids would read another document's row for its hit.
        next_rowid = max(
            self.conn.execute("SELECT max(rowid) FROM docs").fetchone()[0] or 0,
            int((self.conn.execute("SELECT value FROM meta WHERE key='last_rowid'").fetchone()
                 or (0,))[0]),
        ) + 1
        rows: list[dict[str, Any]] = []
        hoso: list[tuple[str, int]] = []
        grants: list[tuple[str, str, int]] = []
        cites: list[tuple[str, int]] = []
        labels: dict[tuple[str, str], str] = {}
        for doc in docs:
            found = current.get(doc.id)
            if found is not None and found[1] > doc.version:
                continue  # a late write of an older version
            rowid = next_rowid
            next_rowid += 1
            row = _row(doc)
            row["rowid"] = rowid
            rows.append(row)
            added.append((rowid, doc))
            hoso.extend((h, rowid) for h in doc.ho_so)
            grants.extend(("u", u, rowid) for u in doc.grant_users)
            grants.extend(("g", g, rowid) for g in doc.grant_units)
            grants.extend(("a", a, rowid) for a in doc.archive_units)
            cites.extend((so_ky_hieu_key(c), rowid) for c in doc.cites if c.strip())
            for facet, key, label in _LABEL_COLUMNS:
                if row[key]:
                    seen = labels.get((facet, row[key]))
                    if seen is None or row[label] < seen:
                        labels[(facet, row[key])] = row[label]
        self.conn.executemany(_INSERT_DOC, rows)
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES('last_rowid', ?)", (str(next_rowid - 1),)
        )
        self.conn.executemany("INSERT OR IGNORE INTO doc_hoso(ho_so, rowid) VALUES(?, ?)", hoso)
        self.conn.executemany(
            "INSERT OR IGNORE INTO doc_grants(kind, who, rowid) VALUES(?, ?, ?)", grants
        )
        self.conn.executemany("INSERT OR IGNORE INTO doc_cites(cite_key, rowid) VALUES(?, ?)", cites)
        self.conn.executemany(
            _UPSERT_LABEL, [(facet, key, label) for (facet, key), label in labels.items()]
        )

    def delete(self, ids: Iterable[str]) -> int:
        removed: list[int] = []
        with self._writing():
            with self._transaction():
                for doc_id in ids:
                    row = self.conn.execute("SELECT rowid FROM docs WHERE id=?", (doc_id,)).fetchone()
                    if row is not None:
                        self._remove_rowid(row[0])
                        removed.append(row[0])
                self.conn.executemany(
                    "INSERT OR IGNORE INTO text_pending(rowid) VALUES(?)", [(r,) for r in removed]
                )
            self._apply(removed, [])
        return len(removed)

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

    def _commit_mark(self) -> tuple[int, int, int] | None:
        """Identity of the Tantivy directory's ``meta.json``, rewritten (renamed over) by
        every commit, whichever process made it."""
        try:
            st = os.stat(self.text_dir / "meta.json")
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the last commit: the index is reloaded only after a write (this
        process's or another's), not on every query."""
        self._follow_text_dir()
        mark = self._commit_mark()
        if self._searcher is None or mark != self._searcher_mark:
            try:
                self.text.reload()
            except ValueError:  # its directory removed by a purge that switched meanwhile
                self._follow_text_dir()
                self.text.reload()
            self._searcher = self.text.searcher()
            self._searcher_mark = mark
            self._facet_cache = {}  # counts of the previous commit
        return self._searcher

    def facets(
        self, searcher: tantivy.Searcher, query: Query, matching: tantivy.Query, ranking: Ranking,
        total: int, rowids: Sequence[int] | None,
    ) -> tuple[Facet, ...]:
        """The facets of ``query`` on ``searcher``, the one :meth:`searcher` gave the caller
        (under :attr:`lock`, so still the current one), remembered until the next commit: the
        same words, filters, person and facets again (the next page, a facet asked again)
        count the same matches. Keyed by everything the matching query is built from."""
        key = (query.principal, query.terms, query.phrases, query.so_ky_hieu, query.filters,
               query.facets, ranking)
        found = self._facet_cache.get(key)
        if found is None:
            found = _counted_facets(self, searcher, matching, query.facets, total, rowids,
                                    query.principal)
            if found is None:
                found = _facets(searcher, self.conn, matching, query.facets, query.principal)
            if len(self._facet_cache) >= FACET_CACHE_SIZE:
                self._facet_cache.clear()
            self._facet_cache[key] = found
        return found


def _open_tantivy(text_dir: Path) -> tantivy.Index:
    text = tantivy.Index(_TANTIVY_SCHEMA, path=str(text_dir), reuse=True)
    for name, analyzer in _ANALYZERS.items():
        text.register_tokenizer(name, analyzer)
    return text


def _collect_garbage(text: tantivy.Index) -> None:
    """Remove the files no committed segment uses any more."""
    writer = text.writer(heap_size=15_000_000, num_threads=1)
    try:
        writer.garbage_collect_files()
    finally:
        writer.wait_merging_threads()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _EmbeddedRebuild(Rebuild):
    staging: _Index

    def __init__(self, backend: EmbeddedBackend, path: Path) -> None:
        self.backend = backend
        self.path = path
        self.staging = _Index(path, bulk=True, defer=True)

    def commit(self) -> None:
        """Swap the staging index in. Other processes may hold the staging file open (a web or
        Celery worker that indexed a document during the rebuild writes it too, and keeps its
        connection): the file itself is therefore never made live (their WAL connection would
        keep a lock on the live file, and their ``-wal``/``-shm`` would not be its own). Under
        the staging index's write lock (no write of any process is half-way, none can start),
        its content is copied to a new file in rollback-journal mode, made durable, renamed over
        the live file; then the staging files are removed. A writer that waited for the lock
        finds the staging file gone and writes the live index (the new one) instead. Refused,
        the staging index stays as it was: the next ``kho reindex`` resumes it."""
        try:
            self.staging.flush()
        except BaseException:
            self.staging.close()  # its background apply ends; what is staged stays pending
            raise
        self.backend._close_staging()
        try:
            with self.backend._purge_lock(exclusive=True) as held:
                if not held:  # a purge holds the staging index open until it is purged
                    raise StoreUnavailable(
                        "Chỉ mục tìm kiếm đang được xóa hẳn dữ liệu đã hủy; chưa thể thay chỉ "
                        "mục mới vào. Hãy chạy lại lệnh kho reindex sau ít phút (phần đã dựng "
                        "được giữ lại).",
                        code="SEARCH_INDEX_UNAVAILABLE",
                    )
                with self.staging._writing():
                    self.backend._remove_stale_copies()
                    copy = self._durable_copy()
                    try:
                        self.backend._swap_in(copy)
                    except BaseException:
                        copy.unlink(missing_ok=True)
                        raise
                    # the live file is the copy now: the staging file goes (a process still
                    # holding it notices the missing file before its next write)
                    for suffix in ("", "-wal", "-shm", "-journal"):
                        Path(str(self.path) + suffix).unlink(missing_ok=True)
                    _fsync_dir(self.path.parent)
        except (sqlite3.Error, OSError) as exc:
            self.staging.close()
            raise StoreUnavailable(
                "Không thay được chỉ mục tìm kiếm mới vào (lỗi tệp chỉ mục). Hãy chạy lại lệnh "
                "kho reindex (phần đã dựng được giữ lại).",  # (SQLite's own text: the cause)
                code="SEARCH_INDEX_UNAVAILABLE",
            ) from exc
        except BaseException:
            self.staging.close()
            raise
        self.staging.close()
        self.backend._after_swap()

    def _durable_copy(self) -> Path:
        """The staging index's content (its WAL included) in a new file next to the live one,
        in rollback-journal mode like the live index, fsynced. The caller holds the staging
        index's write lock."""
        copy = self.backend.path.with_name(
            f"{self.backend.path.name}{_COPY_INFIX}{uuid.uuid4().hex[:12]}"
        )
        try:
            with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as target:
                target.execute("PRAGMA synchronous=FULL")
                self.staging.conn.backup(target)
            # The copied header says WAL (the staging index's mode): switched back while this
            # is the file's only connection, so the live index's openers find it in its mode.
            with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as target:
                mode = target.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
                if mode != "delete":
                    raise sqlite3.OperationalError(f"journal_mode {mode}")
            fd = os.open(copy, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(copy) + suffix).unlink(missing_ok=True)
            raise
        return copy

    def close(self) -> None:
        try:
            self.staging.flush()  # what is staged stays, applied (a later rebuild resumes it)
        finally:
            # closed even when that apply fails (its rows stay pending): left open, its
            # connection kept the next rebuild of this process from leaving WAL mode
            self.staging.close()

    def abort(self) -> None:
        self.staging.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
        import shutil  # (a rebuild's clean-up: a query's process does not import it)

        shutil.rmtree(self.staging.text_dir, ignore_errors=True)


class EmbeddedBackend(SearchBackend):
    name = "embedded"
    ranking: Ranking = DEFAULT_RANKING
    """Query-time weights (:mod:`search.ranking`); ``bench/eval_search.py`` sets others."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        self.path = path / FILE_NAME if path.suffix != ".sqlite3" else path
        self.staging_path = Path(str(self.path) + ".rebuild")
        self.lock_path = Path(str(self.path) + ".rebuild-lock")
        """Flocked by a purge (shared) and a rebuild's commit (exclusive): :meth:`_purge_lock`."""
        self._live = _Index(self.path)
        self._staging: _Index | None = None

    # -- connections ---------------------------------------------------------------------------

    def _live_writer(self) -> _Index:
        """The live index, reopened if a rebuild (maybe in another process) replaced the file."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = -1
        if inode != self._live.inode:
            self._live.close()
            self._live = _Index(self.path)
        return self._live

    def _staging_writer(self) -> _Index | None:
        """The staging index of an open rebuild (maybe another process's), reopened if the
        file at its path is another than the one held (a rebuild committed, another began)."""
        try:
            inode: int | None = os.stat(self.staging_path).st_ino
        except FileNotFoundError:
            inode = None
        if self._staging is not None and self._staging.inode != inode:
            self._close_staging()
        if inode is None:
            return None
        if self._staging is None:
            try:
                self._staging = _Index(self.staging_path, bulk=True, create=False)
            except StoreUnavailable:
                if not self.staging_path.exists():  # committed meanwhile
                    return None
                raise
        return self._staging

    def _to_staging(self, write: Callable[[_Index], object]) -> None:
        """``write`` applied to the staging index of an open rebuild, if any. A rebuild that
        commits while this write waits for its lock leaves the file behind: looked up again
        (none, or the next rebuild's); the caller then writes the live index, the new one."""
        for _attempt in range(3):
            try:  # (opened, it may replay rows pending in it: a write, checked the same way)
                staging = self._staging_writer()
                if staging is None:
                    return
                write(staging)
                return
            except _StagingGone:
                self._close_staging()
        raise StoreUnavailable(
            "Chỉ mục tìm kiếm đang được dựng lại và thay liên tục; chưa ghi được. Hãy thử lại.",
            code="SEARCH_INDEX_UNAVAILABLE",
        )

    def index(self, docs: Iterable[IndexDocument]) -> int:
        docs = list(docs)
        self._to_staging(lambda staging: staging.index(docs))
        return self._live_writer().index(docs)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        self._to_staging(lambda staging: staging.delete(ids))
        return self._live_writer().delete(ids)

    def _close_staging(self) -> None:
        if self._staging is not None:
            self._staging.close()
            self._staging = None

    def close(self) -> None:
        self._live.close()
        self._close_staging()

    def purge_deleted(self) -> None:
        """SQLite rows are zeroed on delete (``secure_delete``), the labels no live document
        carries any more dropped (:meth:`_Index.drop_unused_labels`), the file vacuumed; Tantivy
        segments that hold a deleted document are rewritten (:meth:`_Index.rewrite_text`) and
        the files no segment uses any more removed from disk."""
        with self._purge_lock(exclusive=False):
            self._purge_deleted()

    def _purge_deleted(self) -> None:
        live = self._live_writer()
        # The staging index of a rebuild is opened before the live one is rewritten (as main
        # did): a rebuild that commits during that rewrite (it waits for its lock) would
        # otherwise swap in its staging index, which holds the destroyed document too, and
        # nothing would purge it (review rv8). Held open here, it cannot be swapped in before
        # its purge below (the rebuild's commit is refused while this holds the purge lock;
        # the next one resumes it).
        staging = self._staging_writer()
        # The live text index is rewritten aside: the searches of this process go on from
        # the old one until the switch (they waited for the whole rewrite before: review rv6).
        with live._writing_aside():
            live._remove_retired_text_dirs()
            live.purge_rows_aside()
            if not live.rewrite_text_aside():
                with live.lock:
                    _collect_garbage(live.text)
        if staging is not None:  # nobody searches it: rewritten in place, as before
            with staging._writing():
                staging.drop_unused_labels()
                staging.conn.execute("VACUUM")
                staging.rewrite_text()
                _collect_garbage(staging.text)

    def _swap_in(self, copy: Path) -> None:
        """Rename ``copy`` over the live file (durably) once no writer of ours is half-way."""
        live = self._live_writer()
        with live._writing():
            live.conn.execute("BEGIN EXCLUSIVE")  # no writer of ours is half-way through
            try:
                os.replace(copy, self.path)
            finally:
                live.conn.execute("ROLLBACK")
            _fsync_dir(self.path.parent)

    def _after_swap(self) -> None:
        """The new live index opened; the Tantivy directories nobody names any more removed
        (outside the staging index's write lock: its lock file is the new live one's)."""
        self._close_staging()
        live = self._live_writer()
        with live._writing():  # not while a purge of the new live index builds its directory
            self._remove_unused_text_dirs(keep={live.text_dir.name})

    def _remove_stale_copies(self) -> None:
        """Copies a killed commit left (only one commit runs: the caller holds
        :meth:`_purge_lock` exclusively)."""
        for stale in self.path.parent.glob(f"{self.path.name}{_COPY_INFIX}*"):
            stale.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _purge_lock(self, *, exclusive: bool) -> Iterator[bool]:
        """Between a purge and a rebuild's commit, across processes: a purge holds it shared
        from before it opens the live index until it has purged the staging one (it waits
        for a commit under way); a commit takes it exclusively without waiting and yields
        whether it got it (a purge may take minutes: the commit is refused instead)."""
        with open(self.lock_path, "a+b") as handle:
            try:
                fcntl.flock(
                    handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH
                )
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _remove_unused_text_dirs(self, keep: set[str]) -> None:
        """Drop Tantivy directories no index file names any more (replaced by a rebuild)."""
        if self.staging_path.exists():
            with (
                contextlib.closing(sqlite3.connect(self.staging_path)) as conn,
                contextlib.suppress(sqlite3.Error),
            ):
                keep |= {v for (v,) in conn.execute("SELECT value FROM meta WHERE key='text_dir'")}
        import shutil  # (clean-up after a rebuild: a query's process does not import it)

        for candidate in self.path.parent.glob(f"{self.path.name}.text-*"):
            if candidate.name not in keep:
                shutil.rmtree(candidate, ignore_errors=True)

    # -- writes ------------------------------------------------------------------------------

    def begin_rebuild(self) -> Rebuild:
        if self._staging is not None:
            self._staging.close()
            self._staging = None
        return _EmbeddedRebuild(self, self.staging_path)

    # -- reads -------------------------------------------------------------------------------

    def get(self, doc_id: str) -> IndexDocument | None:
        db = self._live_writer()
        with db.lock:
            row = db.conn.execute("SELECT body FROM docs WHERE id=?", (doc_id,)).fetchone()
        return IndexDocument.from_json(json.loads(row[0])) if row else None

    def search(self, query: Query) -> SearchResult:
        db = self._live_writer()
        tq, matching = _tantivy_query(query, self.ranking)
        with db.lock:
            searcher = db.searcher()
            sort = Sort.DATE_DESC if query.is_empty and query.sort is Sort.RELEVANCE else query.sort
            total, page, rowids = _ordered_page(db.conn, searcher, tq, query, sort)
            scores = [float(s) if sort is Sort.RELEVANCE else 0.0 for s, _ in page]
            bodies = dict(
                db.conn.execute(
                    f"SELECT rowid, body FROM docs WHERE rowid IN ({', '.join('?' * len(rowids))})",
                    rowids,
                ).fetchall()
            ) if rowids else {}
            complete = query.offset == 0 and len(rowids) == total  # the page holds every match
            facets = db.facets(searcher, query, matching, self.ranking, total,
                               rowids if complete else None) if total and query.facets else ()
        words = [*query_terms(" ".join(query.terms))] if query.terms else []
        hits = tuple(
            _hit(json.loads(bodies[r]), score, query, words)
            for r, score in zip(rowids, scores, strict=True)
            if r in bodies  # deleted between the two reads
        )
        return SearchResult(
            hits=hits, total=total, page=query.page, page_size=query.page_size, facets=facets
        )

    def related(self, doc_id: str, principal: Principal) -> Related:
        db = self._live_writer()
        where, params = _where(principal)
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
            tuple(_hit(json.loads(b), 0.0, empty, []) for (b,) in cites),
            tuple(
                _hit(json.loads(b), 0.0, empty, []) for (b,) in cited_by
            ),
        )

    def count(self) -> int:
        db = self._live_writer()
        with db.lock:
            return db.conn.execute("SELECT count(*) FROM docs").fetchone()[0]


# --- query translation ------------------------------------------------------------------------

def _ordered_page(
    conn: sqlite3.Connection, searcher: tantivy.Searcher, tq: tantivy.Query, query: Query, sort: Sort
) -> tuple[int, list[tuple[Any, Any]], list[int]]:
    """The total, the hits of ``query``'s page and their rowids, ties broken by record id.

    Tantivy breaks ties (equal scores, equal dates) by doc address, which depends on which
    import thread wrote a document first (m39: 20 of 24 result pages differed between two
    imports of the same 400 PDFs), so a văn thư paging through results saw a document twice or
    never. Hits are fetched from the first one (as Tantivy's own ``offset`` does) until the tie
    group at the end of the page is complete, and the groups the page cuts are ordered by
    record id ascending: the order Elasticsearch's ``{"id": "asc"}`` tie-breaker gives."""
    start, end = query.offset, query.offset + query.page_size
    ordering: dict[str, Any] = {}
    if sort is not Sort.RELEVANCE:
        field, order = _SORTS[sort]
        ordering = {"order_by_field": field, "order": order}
    limit = end + 1
    while True:
        found = searcher.search(tq, limit, count=True, **ordering)
        hits = found.hits
        # complete when every match is here or the hit after the page ends the page's last tie
        if len(hits) < limit or hits[-1][0] != hits[end - 1][0]:
            break
        limit *= 2
    total = found.count or 0
    if start >= len(hits):
        return total, [], []
    first, last = start, min(end, len(hits)) - 1
    while first > 0 and hits[first - 1][0] == hits[start][0]:
        first -= 1
    while last + 1 < len(hits) and hits[last + 1][0] == hits[min(end, len(hits)) - 1][0]:
        last += 1
    window = hits[first : last + 1]
    rowids = searcher.fast_field_values("rid", [a for _, a in window])
    ids: dict[int, str] = {}
    for chunk in range(0, len(rowids), 900):  # (SQLite's bound on parameters)
        part = rowids[chunk : chunk + 900]
        ids.update(conn.execute(
            f"SELECT rowid, id FROM docs WHERE rowid IN ({', '.join('?' * len(part))})", part
        ).fetchall())
    group, groups = 0, []
    for i, (key, _) in enumerate(window):
        group += i > 0 and key != window[i - 1][0]
        groups.append(group)
    ranked = sorted(
        range(len(window)), key=lambda i: (groups[i], ids.get(rowids[i], ""))
    )[start - first : end - first]
    return total, [window[i] for i in ranked], [rowids[i] for i in ranked]


_SORTS: dict[Sort, tuple[str, tantivy.Order]] = {
    Sort.DATE_DESC: ("date_d", tantivy.Order.Desc),
    Sort.DATE_ASC: ("date_a", tantivy.Order.Asc),
    Sort.NUMBER_DESC: ("num_d", tantivy.Order.Desc),
    Sort.NUMBER_ASC: ("num_a", tantivy.Order.Asc),
}
_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_MUST_NOT = tantivy.Occur.MustNot
_TQ = tantivy.Query


def _term(field: str, token: str | int) -> tantivy.Query:
    return _TQ.term_query(_TANTIVY_SCHEMA, field, token)


def _any_of(field: str, values: Iterable[Any]) -> tantivy.Query:
    """Documents holding any of ``values`` in ``field``: one term, or a union of term queries.

    Not ``term_set_query``: that one marks every matching document of the index in a bit set
    before the query runs (a unit's documents, a document type: ~0.3–1 ms at 100,000
    documents), whereas a union of posting lists is only advanced to the documents the other
    clauses reach (measured at 100k: phrase queries 1.9 → 1.2 ms, filtered ones 2.2 → 1.2 ms
    in Tantivy, same counts)."""
    terms = [_term(field, v) for v in dict.fromkeys(values)]
    return terms[0] if len(terms) == 1 else _TQ.boolean_query([(_SHOULD, t) for t in terms])


def _in_field(field: str, tokens: list[str], weight: float) -> tantivy.Query:
    """The term (one token) or phrase (several) in ``field``, boosted."""
    if len(tokens) == 1:
        single = _term(field, tokens[0])
    else:
        single = _TQ.phrase_query(_TANTIVY_SCHEMA, field, list(tokens))
    return _TQ.boost_query(single, weight)


def _exact(tokens: list[str]) -> tantivy.Query:
    return _in_field("e", tokens, EXACT_WEIGHT)


def _folded(tokens: list[str]) -> tantivy.Query:
    return _in_field("f", tokens, 1.0)


def _pair(first: str, second: str, weight: float) -> tantivy.Query:
    """Two folded syllables side by side: one term of the ``b`` field (no position lookups)."""
    return _TQ.boost_query(_term("b", f"{first}{PAIR_JOINER}{second}"), weight)


def _folded_phrase(tokens: list[str]) -> tantivy.Query:
    """A folded phrase: a ``b`` term for two syllables; else positions, narrowed by its pairs."""
    if len(tokens) == 2:
        return _pair(tokens[0], tokens[1], 1.0)
    if len(tokens) < 2:
        return _folded(tokens)
    narrow = [(_MUST, _TQ.const_score_query(_term("b", f"{x}{PAIR_JOINER}{y}"), 0.0))
              for x, y in dict.fromkeys(itertools.pairwise(tokens))]
    return _TQ.boolean_query([(_MUST, _folded(tokens)), *narrow])


def _text_query(
    query: Query, weights: Ranking = DEFAULT_RANKING
) -> tuple[tantivy.Query, tantivy.Query] | None:
    """(ranking query, matching query) for the words and phrases; None if there are none.

    Built only from analysed syllables (never from raw user text). Both match the same
    documents; the second one leaves out clauses that only add to the score (exact forms,
    adjacent pairs), so facets count the matches without scoring them.
    """
    optional: list[tantivy.Query] = []
    required: list[tantivy.Query] = []
    words = plan(query.terms, weights) if query.terms else None
    if words is not None:
        for term in words.terms:
            # Exact form (diacritics as typed, or none) and folded form: exact matches score more.
            if term.exact_weight > 0:
                optional.append(_in_field("e", [term.exact], term.exact_weight))
            folded = _in_field("f", [term.folded], term.folded_weight)
            (required if words.required else optional).append(folded)
        for first, second in words.pairs:
            optional.append(_pair(first, second, words.pair_weight))
        for window in words.windows:
            near = _TQ.phrase_query(_TANTIVY_SCHEMA, "f", list(window), slop=words.slop)
            optional.append(_TQ.boost_query(near, words.window_weight))
    for key in query.so_ky_hieu:
        tokens = syllables(key)
        if tokens:
            optional.append(_folded_phrase(tokens))
    for phrase in query.phrases:
        exact = syllables(normalize(phrase))
        required.append(_TQ.boost_query(_folded_phrase([fold(t) for t in exact]), 2.0))
        optional.append(_exact(exact))
    if required:
        ranking = _TQ.boolean_query(
            [(_MUST, q) for q in required] + [(_SHOULD, q) for q in optional]
        )
        return ranking, _TQ.boolean_query([(_MUST, q) for q in required])
    if optional:
        ranking = _TQ.boolean_query([(_SHOULD, q) for q in optional])
        return ranking, ranking
    return None


def _filter_queries(filters: Filters, principal: Principal) -> list[tantivy.Query]:
    """Every filter and the permissions, each a query the documents must match; secrecy above
    the person's clearance is left to :func:`_hidden_secrecy` (a clause they must not match)."""
    out: list[tantivy.Query] = []
    for name, field in _FILTER_FIELDS.items():
        values: Sequence[Any] = getattr(filters, name)
        if values:
            if name in _KEYED:
                values = [value_key(str(v)) for v in values]
            out.append(_any_of(field, values))
    for name in ("ngay_ban_hanh", "ngay_den"):
        rng = getattr(filters, name)
        if rng is not None:
            out.append(_TQ.range_query(
                _TANTIVY_SCHEMA, name, tantivy.FieldType.Integer,
                rng.start.toordinal() if rng.start else -(1 << 40),
                rng.end.toordinal() if rng.end else 1 << 40,
            ))
    if not principal.sees_all:
        # Documents index their owner and granted units as ``vis_units``, named viewers as
        # ``grant_u``; secrecy above the person's clearance is never visible.
        allowed = [(_SHOULD, _term("grant_u", principal.user_id))]
        allowed += [(_SHOULD, _term("vis_units", unit)) for unit in principal.units]
        # The archive's reach (``arch_units``: repository.policy.index_archive).
        allowed += [(_SHOULD, _term("arch_units", unit)) for unit in principal.archive_units]
        out.append(_TQ.boolean_query(allowed))
    return out


_MAX_SECRECY = 3


def _hidden_secrecy(principal: Principal) -> tantivy.Query | None:
    """Documents above the person's clearance (``do_mat`` 0–3, always indexed): few, so
    excluding their posting lists is cheaper than a range over the ``do_mat`` column of every
    document (measured at 100k: 0.1–0.3 ms a query). None when nothing is above."""
    if principal.sees_all or principal.max_secrecy >= _MAX_SECRECY:
        return None
    return _any_of("do_mat", range(max(principal.max_secrecy, -1) + 1, _MAX_SECRECY + 1))


def _tantivy_query(
    query: Query, weights: Ranking = DEFAULT_RANKING
) -> tuple[tantivy.Query, tantivy.Query]:
    """(ranking, matching) queries: words or số/ký hiệu, AND every filter, AND the principal's
    permissions. Both match exactly the same documents."""
    ranking: list[tantivy.Query] = []
    matching: list[tantivy.Query] = []
    if not query.is_empty:
        text = _text_query(query, weights)
        if text is not None:
            ranking.append(text[0])
            matching.append(text[1])
        if query.so_ky_hieu:
            exact = _any_of("skh_key", query.so_ky_hieu)
            ranking.append(_TQ.const_score_query(exact, EXACT_SO_KY_HIEU_BOOST))
            matching.append(exact)
        if not ranking:
            return _TQ.empty_query(), _TQ.empty_query()
    filters = [(_MUST, _TQ.const_score_query(q, 0.0))
               for q in _filter_queries(query.filters, query.principal)]
    hidden = _hidden_secrecy(query.principal)
    if hidden is not None:
        # A person always has the permission clause, so the query has a clause to match.
        filters.append((_MUST_NOT, hidden))
    if not ranking:
        everything = _TQ.boolean_query(filters) if filters else _TQ.all_query()
        return everything, everything
    out = []
    for parts in (ranking, matching):
        match = parts[0] if len(parts) == 1 else _TQ.boolean_query([(_SHOULD, q) for q in parts])
        out.append(_TQ.boolean_query([(_MUST, match), *filters]) if filters else match)
    return out[0], out[1]


def _where(principal: Principal) -> tuple[str, list[Any]]:
    """The permission condition in SQL (for :meth:`EmbeddedBackend.related`)."""
    if principal.sees_all:
        return "1", []
    units = list(principal.units)
    unit_marks = ", ".join("?" * len(units)) or "NULL"
    archives = list(principal.archive_units)
    archive_marks = ", ".join("?" * len(archives)) or "NULL"
    return (
        "(d.do_mat <= ? AND (d.rowid IN (SELECT rowid FROM doc_grants WHERE kind='u' AND who=?)"
        f" OR d.owner_unit IN ({unit_marks})"
        f" OR d.rowid IN (SELECT rowid FROM doc_grants WHERE kind='g' AND who IN ({unit_marks}))"
        f" OR d.rowid IN (SELECT rowid FROM doc_grants WHERE kind='a' AND who IN ({archive_marks}))))",
        [principal.max_secrecy, principal.user_id, *units, *units, *archives],
    )


def _facets(
    searcher: tantivy.Searcher, conn: sqlite3.Connection, tq: tantivy.Query, names: Sequence[str],
    principal: Principal,
) -> tuple[Facet, ...]:
    """Counts over every match of ``tq`` (same filters and permissions as the hits); a keyed
    value's label is read from the first row (lowest ``rid``) among those matches that carry it
    (:func:`_labels_of_rows`): one of the matches' own spellings, never another document's;
    the few-matches path (:func:`_counted_facets`) shows the same one."""
    aggs: dict[str, Any] = {
        name: {"terms": {"field": _FACET_FIELDS[name], "size": FACET_SIZE * 4,
                         "segment_size": FACET_SEGMENT_SIZE}}
        for name in names
    }
    for name in names:
        if name in _KEYED:
            aggs[name]["aggs"] = {"first": {"min": {"field": "rid"}}}
    result = searcher.aggregate(tq, aggs)
    counts: dict[str, dict[str, int]] = {}
    firsts: dict[str, dict[str, int]] = {}
    for name in names:
        buckets = result.get(name, {}).get("buckets", [])
        counts[name] = {str(int(b["key"])) if isinstance(b["key"], float) else str(b["key"]):
                        int(b["doc_count"]) for b in buckets}
        if name in _KEYED:
            firsts[name] = {str(b["key"]): int(b["first"]["value"]) for b in buckets
                            if (b.get("first") or {}).get("value") is not None}
    return _facet_values(conn, names, counts, principal, _labels_of_rows(conn, firsts))


def _labels_of_rows(conn: sqlite3.Connection, firsts: dict[str, dict[str, int]]) -> dict[str, dict[str, str]]:
    """For each keyed facet, value key -> the label the row ``firsts[facet][key]`` carries: one
    match's own spelling. The ``labels`` table holds one spelling per key for the whole index
    (the smallest of every document's), so a facet over documents spelled "Bộ Nội vụ" showed
    "BỘ NỘI VỤ" of a Mật document or another unit's the searcher may not see (review rv54)."""
    out: dict[str, dict[str, str]] = {}
    for facet, _key, label_column in _LABEL_COLUMNS:
        wanted = firsts.get(facet)
        if not wanted:
            continue
        rowids = sorted(set(wanted.values()))
        spelled = dict(conn.execute(
            f"SELECT rowid, {label_column} FROM docs WHERE rowid IN ({', '.join('?' * len(rowids))})",
            rowids,
        ).fetchall())
        out[facet] = {key: spelled[rowid] for key, rowid in wanted.items() if spelled.get(rowid)}
    return out


def _files_seen(conn: sqlite3.Connection, ids: Sequence[str], principal: Principal) -> set[str]:
    """The hồ sơ among ``ids`` that ``principal`` finds in the index: indexed as a hồ sơ and
    within the hits' permission rule (:func:`_where`). A ``ho_so`` facet value is a hồ sơ id;
    one the person may not see (another unit's, not indexed) is not theirs to learn."""
    if principal.sees_all:
        return set(ids)
    if not ids:
        return set()
    where, params = _where(principal)
    return {row[0] for row in conn.execute(
        f"SELECT d.id FROM docs d WHERE d.id IN ({', '.join('?' * len(ids))})"
        f" AND d.direction='hoso' AND {where}",
        [*ids, *params],
    )}


def _facet_values(
    conn: sqlite3.Connection, names: Sequence[str], counts: dict[str, dict[str, int]],
    principal: Principal, labels_of: dict[str, dict[str, str]],
) -> tuple[Facet, ...]:
    """Facets from each name's counts (value key → documents): labels of keyed values
    (``labels_of``: facet → key → a match's spelling), the most frequent first, then by label,
    at most :data:`FACET_SIZE`. The ``ho_so`` values are only the hồ sơ ``principal`` may see
    (:func:`_files_seen`), left out before the cut."""
    out: list[Facet] = []
    for name in names:
        found = {k: c for k, c in counts[name].items() if k and c > 0}  # no value of no document
        if name == "ho_so" and found:
            seen = _files_seen(conn, list(found), principal)
            found = {k: c for k, c in found.items() if k in seen}
        labels = labels_of.get(name, {})
        rows = sorted(((labels.get(k, k), c) for k, c in found.items()), key=lambda r: (-r[1], r[0]))
        out.append(Facet(name, tuple(FacetValue(v, c) for v, c in rows[:FACET_SIZE])))
    return tuple(out)


# facet -> its column in ``docs`` (every facet but ho_so, which is ``doc_hoso``)
_FACET_COLUMNS = {name: field for name, field in _FACET_FIELDS.items() if name != "ho_so"}


def _counted_facets(
    index: _Index, searcher: tantivy.Searcher, tq: tantivy.Query, names: Sequence[str],
    total: int, rowids: Sequence[int] | None, principal: Principal,
) -> tuple[Facet, ...] | None:
    """The facets of a few matches (at most :data:`FACET_COUNT_MAX`) counted from their SQLite
    rows instead of Tantivy aggregations: each aggregation pays a fixed cost per index
    segment (~0.25 ms each, 11 facets ~3 ms on 5 segments at 100,000 documents, whatever the
    number of matches), while a few rows are read in tens of microseconds. The same counts: the matches are
    the rows Tantivy found (``rowids``, the page when it holds every match, else read with
    the matching query), their columns are the values Tantivy indexed (a rowid's row never
    changes; ``doc_hoso`` holds each hồ sơ once per document, as the aggregation counts it),
    and every facet keeps fewer distinct values than the aggregation's size. None (the caller
    aggregates) when SQLite and the searcher may disagree: rows pending for Tantivy, a
    commit after this searcher, a row missing."""
    if total > FACET_COUNT_MAX:
        return None
    if rowids is None:
        found = searcher.search(tq, total, count=False, order_by_field="rid",
                                order=tantivy.Order.Asc)
        rowids = searcher.fast_field_values("rid", [a for _, a in found.hits])
    if len(rowids) != total:
        return None
    conn = index.conn
    marks = ", ".join("?" * len(rowids))
    columns = [_FACET_COLUMNS[n] for n in names if n in _FACET_COLUMNS]
    spellings = {facet: label for facet, _key, label in _LABEL_COLUMNS if facet in names}
    columns += list(spellings.values())  # each match's own spelling of a keyed value
    conn.execute("BEGIN")  # one snapshot for the three reads
    try:
        if conn.execute("SELECT 1 FROM text_pending LIMIT 1").fetchone() is not None:
            return None
        rows = conn.execute(
            f"SELECT rowid, {', '.join(columns) or 'rowid'} FROM docs WHERE rowid IN ({marks})",
            list(rowids),
        ).fetchall()
        hoso = conn.execute(
            f"SELECT ho_so, count(*) FROM doc_hoso WHERE rowid IN ({marks}) GROUP BY ho_so",
            list(rowids),
        ).fetchall() if "ho_so" in names else []
    finally:
        conn.execute("COMMIT")
    if len(rows) != total or index._commit_mark() != index._searcher_mark:
        return None
    counts: dict[str, dict[str, int]] = {}
    position = {field: i for i, field in enumerate(columns, start=1)}
    for name in names:
        if name == "ho_so":
            counts[name] = {str(k): int(c) for k, c in hoso}
        else:
            i = position[_FACET_COLUMNS[name]]
            counts[name] = dict(collections.Counter(
                "" if row[i] is None else str(row[i]) for row in rows
            ))
        if len(counts[name]) > FACET_SIZE * 4:  # the aggregation would cut: let it decide
            return None
    labels_of: dict[str, dict[str, str]] = {}
    for name, label_column in spellings.items():  # the first match's (lowest rowid), as _facets
        key_at, label_at = position[_FACET_COLUMNS[name]], position[label_column]
        labels = labels_of.setdefault(name, {})
        for row in sorted(rows):
            if row[key_at] and row[label_at]:
                labels.setdefault(str(row[key_at]), row[label_at])
    return _facet_values(conn, names, counts, principal, labels_of)


def _hit(data: dict[str, Any], score: float, query: Query, words: list[str]) -> Hit:
    """A hit from a document's stored JSON (:meth:`IndexDocument.to_json`), read directly: no
    :class:`IndexDocument` is built for it (that was a quarter of a hit's cost)."""
    marks: tuple[Highlight, ...] = ()
    if query.highlight and (words or query.phrases or query.so_ky_hieu):
        marks = highlights(
            (("title", data.get("title", "")), ("so_ky_hieu", data.get("so_ky_hieu", "")),
             ("trich_yeu", data.get("trich_yeu", "")), ("text", data.get("text", ""))),
            words,
            _highlight_phrases(query),
        )
    issued = data.get("ngay_ban_hanh")
    received = data.get("ngay_den")
    return Hit(
        id=data["id"],
        version=data["version"],
        score=float(score),
        direction=data["direction"],
        title=data.get("title", ""),
        so_ky_hieu=data.get("so_ky_hieu", ""),
        loai_van_ban=data.get("loai_van_ban", ""),
        co_quan_ban_hanh=data.get("co_quan_ban_hanh", ""),
        ngay_ban_hanh=date.fromisoformat(issued) if issued else None,
        ngay_den=date.fromisoformat(received) if received else None,
        trich_yeu=data.get("trich_yeu", ""),
        highlights=marks,
    )


def _highlight_phrases(query: Query) -> list[str]:
    return [*query.phrases, *(" ".join(syllables(k)) for k in query.so_ky_hieu)]
