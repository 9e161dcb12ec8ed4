"""Elasticsearch backend (production mode), with the official ``elasticsearch`` client.

Indices: concrete indices ``<prefix>-<timestamp>`` created from an index template (analyzers
and mapping below); the alias ``<prefix>`` names the live one, ``<prefix>-staging`` the one a
rebuild is filling. A rebuild ends with one atomic ``update_aliases`` call (swap), then the old
index is deleted.

Analysis is :mod:`search.analysis` itself, ported to Java as an Elasticsearch plugin
(``search/es-analysis``, installed by ``scripts/services.sh`` and the production image):
syllables (letters/digit runs), NFC + lower case + one tone-mark placement (``kho_normalize``);
``kho_fold`` folds (ạ→a, đ→d); ``kho_pairs`` joins adjacent syllables. The searched field ``e``
holds what the embedded index's Tantivy fields hold (the title block twice, then the text; ``.f``
folded, ``.b`` pairs) and :func:`text_query` builds the embedded backend's query on it (same
BM25 terms, boosts, required and optional clauses): both backends rank alike, exact diacritics
first. Text is NFC-normalised here before it is sent (highlight offsets).

Versions use ``version_type=external_gte``: a late write of an older version is rejected.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from kho.errors import StoreUnavailable
from kho.textkey import plain_text
from search.analysis import fold, normalize, query_terms, so_ky_hieu_key, syllables
from search.backend import IndexWriter, Rebuild, SearchBackend
from search.documents import IndexDocument, flat_fields, value_key
from search.embedded import EXACT_SO_KY_HIEU_BOOST, EXACT_WEIGHT, FACET_SIZE, TITLE_REPEAT
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
from search.ranking import DEFAULT_RANKING, Ranking, plan

MAX_RESULT_WINDOW = 1_000_000  # deep paging: from + size up to MAX_PAGE * MAX_PAGE_SIZE
HIGHLIGHT_MAX_CHARS = 999_999
"""Characters of a field the highlighter reads, under ES's index.highlight.max_analyzed_offset
(1,000,000 by default): past it ES refused the whole search (400) whenever a long document
(a report of a few hundred pages) was on the page. Matches further in give no snippet."""
LEASE_WAIT_SECONDS = 90.0
"""How long :meth:`ElasticsearchBackend.purge_deleted` waits for the shards' retention leases
(Elasticsearch syncs them every 30 s)."""
LEASE_POLL_SECONDS = 1.0
PRE, POST = "\ue000", "\ue001"  # private-use highlight tags, turned into spans

MERGE_REQUEST_TIMEOUT_S = 600.0
"""How long a purge waits for one force-merge (:meth:`ElasticsearchBackend.purge_deleted`): it answers
when its merge has ended, which takes minutes on a large index or a busy node: the client's 30 s
for every other request would refuse a purge that is only slow, and a retry after a timeout only
asks again for a merge still running, so none is made."""


ANALYSIS: dict[str, Any] = {
    # Tokenizers and filters of Kho's analysis plugin (search/es-analysis): the same steps as
    # search.analysis, term for term.
    "analyzer": {
        "vi_exact": {"type": "custom", "tokenizer": "kho_syllable", "filter": ["kho_normalize"]},
        "vi_folded": {"type": "custom", "tokenizer": "kho_syllable",
                      "filter": ["kho_normalize", "kho_fold"]},
        "vi_bigram": {"type": "custom", "tokenizer": "kho_syllable",
                      "filter": ["kho_normalize", "kho_fold", "kho_pairs"]},
    },
}

# The searched text, as the embedded index holds it (``e``/``f``/``b`` there): the title block
# TITLE_REPEAT times, then the full text; ``.f`` folded, ``.b`` adjacent folded syllable pairs.
_SEARCHED = {
    "type": "text",
    "analyzer": "vi_exact",
    "fields": {
        "f": {"type": "text", "analyzer": "vi_folded"},
        "b": {"type": "text", "analyzer": "vi_bigram", "index_options": "freqs"},
    },
}
# Fields highlights are cut from (diacritic-insensitive marks on the original text).
_SHOWN = {"type": "text", "analyzer": "vi_exact",
          "fields": {"folded": {"type": "text", "analyzer": "vi_folded"}}}
_KW = {"type": "keyword"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_source": {"excludes": ["e"]},  # indexed only: it repeats the title block and the text
    "properties": {
        "id": _KW,
        "version": {"type": "long"},
        "direction": _KW,
        "e": _SEARCHED,
        "title": _SHOWN,
        "trich_yeu": _SHOWN,
        "so_ky_hieu": _SHOWN,
        "text": _SHOWN,
        "loai_key": _KW, "loai_van_ban": _KW,
        "co_quan_key": _KW, "co_quan_ban_hanh": _KW,
        "nguoi_ky_key": _KW, "nguoi_ky": _KW,
        "signature_verdict": _KW,
        "retention_state": _KW,
        "do_khan": {"type": "integer"},
        "do_mat": {"type": "integer"},
        "ngay_ban_hanh": {"type": "date", "format": "strict_date"},
        "ngay_den": {"type": "date", "format": "strict_date"},
        "sort_date": {"type": "date", "format": "strict_date"},
        "year": _KW,
        "sort_number": {"type": "long"},
        "skh_key": _KW,
        "cite_keys": _KW,
        "ho_so": _KW,
        "owner_unit": _KW,
        "grant_users": _KW,
        "grant_units": _KW,
        "archive_units": _KW,
        "doc": {"type": "object", "enabled": False},
    },
}

ADDED_FIELDS: tuple[str, ...] = ("archive_units",)
"""Fields added to :data:`MAPPINGS` after indices were made without them (u24: the archive's
reach, :func:`repository.policy.index_archive`): added to such an index when it is opened."""

_FILTER_FIELDS = {
    "direction": "direction", "loai_van_ban": "loai_key", "co_quan_ban_hanh": "co_quan_key",
    "nguoi_ky": "nguoi_ky_key", "signature_verdict": "signature_verdict",
    "retention_state": "retention_state", "do_khan": "do_khan", "do_mat": "do_mat",
    "ho_so": "ho_so", "unit": "owner_unit",
}
_KEYED = {"loai_van_ban", "co_quan_ban_hanh", "nguoi_ky"}
_FACET_FIELDS = {  # facet -> (group field, display field)
    "direction": ("direction", None), "loai_van_ban": ("loai_key", "loai_van_ban"),
    "co_quan_ban_hanh": ("co_quan_key", "co_quan_ban_hanh"), "nguoi_ky": ("nguoi_ky_key", "nguoi_ky"),
    "signature_verdict": ("signature_verdict", None), "retention_state": ("retention_state", None),
    "do_khan": ("do_khan", None), "do_mat": ("do_mat", None), "ho_so": ("ho_so", None),
    "year": ("year", None), "unit": ("owner_unit", None),
}
_HEAVY = ["text", "doc.text"]  # never sent back with hits


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def to_source(doc: IndexDocument) -> dict[str, Any]:
    text = _nfc(doc.text)
    head = _nfc("\n".join((doc.title, doc.so_ky_hieu, doc.trich_yeu, doc.loai_van_ban,
                           doc.co_quan_ban_hanh, doc.nguoi_ky)))
    # The searched field reads the text as the query parser does (plain_text: a zero-width
    # character inside a word, a Cyrillic look-alike, a full-width letter hid the word); the
    # shown fields keep the text as stored.
    return {
        **flat_fields(doc),
        "e": "\n".join([plain_text(head)] * TITLE_REPEAT + [plain_text(text)]),
        "title": _nfc(doc.title),
        "trich_yeu": _nfc(doc.trich_yeu),
        "so_ky_hieu": _nfc(doc.so_ky_hieu),
        "text": text,
        "cite_keys": [so_ky_hieu_key(c) for c in doc.cites if c.strip()],
        "ho_so": list(doc.ho_so),
        "grant_users": list(doc.grant_users),
        "grant_units": list(doc.grant_units),
        "archive_units": list(doc.archive_units),
        "doc": doc.to_json(),
    }


READ_ONLY_SETTING = "index.blocks.read_only_allow_delete"
"""The block Elasticsearch puts on every index with a shard on a node past its flood-stage disk
watermark (95 % used by default; lifted by the node itself once below the high watermark):
writes and document deletes answer 429 ``cluster_block_exception`` (only deleting the whole
index passes; review rv47: the delete's refusal was taken for "nothing to remove")."""


def _blocked(text: str) -> bool:
    """Whether an error Elasticsearch answered (its body or a bulk item's error, as text) is the
    read-only block of a full disk. Pure."""
    return "cluster_block_exception" in text and ("read-only" in text or "read_only" in text)


def _set_by_hand(reason: str) -> bool:
    """Whether a read-only block's answer names the block a person sets
    (``index.blocks.read_only``: ``FORBIDDEN/5/index read-only (api)``), not the flood-stage one
    the node sets on a full disk (``read-only-allow-delete``). Pure (review rv47)."""
    return "read-only (api)" in reason or "index.blocks.read_only=true" in reason


def _read_only(index: str, reason: str = "") -> StoreUnavailable:
    if _set_by_hand(reason):
        why = (
            "Chỉ mục tìm kiếm đang bị đặt chế độ chỉ đọc bằng tay (index.blocks.read_only); hãy nhờ"
            " người quản trị máy chủ tìm kiếm Elasticsearch gỡ chế độ đó rồi thử lại."
        )
    else:
        why = (
            "Chỉ mục tìm kiếm đang ở chế độ chỉ đọc vì ổ đĩa của máy chủ tìm kiếm Elasticsearch gần"
            " đầy; hãy giải phóng dung lượng ổ đĩa của máy chủ đó rồi thử lại."
        )
    return StoreUnavailable(
        unicodedata.normalize(
            "NFC",
            f"{why} Không dữ liệu nào đã lưu bị mất: hồ sơ, văn bản vẫn nằm nguyên trong kho, và việc"
            " lập lại chỉ mục (kho reindex) khôi phục phần chỉ mục còn thiếu.",
        ),
        code="SEARCH_INDEX_READ_ONLY",
        index=index,
        reason=reason[:500],
    )


def _unavailable(exc: Exception, index: str = "") -> StoreUnavailable:
    """The refusal of a failed request: :func:`_read_only` when Elasticsearch refused it for
    the disk's read-only block (review s19: two CI runs waited in such a state), else
    ``SEARCH_INDEX_UNAVAILABLE``."""
    text = f"{exc} {getattr(exc, 'body', '')}"
    if _blocked(text):
        return _read_only(index, text)
    return StoreUnavailable(
        "Máy chủ tìm kiếm Elasticsearch không phản hồi hoặc từ chối yêu cầu.",
        code="SEARCH_INDEX_UNAVAILABLE",
        reason=str(exc)[:500],
    )


def blocked_item(answer: Any) -> dict[str, Any] | None:
    """The first item of a bulk answer refused for a read-only block (status 429, cause
    ``cluster_block_exception``: :func:`_blocked`); None when there is none. A 429
    of a busy cluster (``es_rejected_execution_exception``: a full write queue) is not one.
    Pure."""
    body = answer if isinstance(answer, dict) else {}
    if not body.get("errors"):
        return None
    for item in body.get("items") or ():
        for info in item.values() if isinstance(item, dict) else ():
            if isinstance(info, dict) and info.get("status") == 429 and _blocked(str(info.get("error"))):
                return info
    return None


class _StopAtBlock(Elasticsearch):
    """The client the bulk helper is given (:func:`_stop_at_block`): its ``bulk`` refuses with
    ``SEARCH_INDEX_READ_ONLY`` on the first answer that names the read-only block, instead of
    letting the helper retry it. The helper retries every 429 after 2, 4 and 8 s (review s19: a
    write to a blocked index waited 14 s for its refusal); a block is lifted only once the
    disk is freed, so waiting never helps. Other 429s (a busy cluster) are still retried."""

    def bulk(self, *args: Any, **kwargs: Any) -> Any:
        try:
            answer = super().bulk(*args, **kwargs)
        except ApiError as exc:
            if exc.status_code == 429 and _blocked(f"{exc} {exc.body}"):
                raise _read_only("", f"{exc} {exc.body}") from exc
            raise
        found = blocked_item(answer.body)
        if found is not None:
            raise _read_only(str(found.get("_index") or ""), str(found))
        return answer


def _stop_at_block(es: Elasticsearch) -> Elasticsearch:
    """A copy of ``es`` (same connections and options, :meth:`Elasticsearch.options`) whose bulk
    requests stop at a read-only block (:class:`_StopAtBlock`; ``options()`` keeps the class,
    so the helper's own copy does too)."""
    client = es.options()
    client.__class__ = _StopAtBlock
    return client


class _Target(IndexWriter):
    """Writes into one index name or alias."""

    def __init__(self, es: Elasticsearch, name: str, refresh: bool) -> None:
        self.es, self.name, self.refresh = es, name, refresh

    def index(self, docs: Iterable[IndexDocument]) -> int:
        actions = (
            {"_op_type": "index", "_index": self.name, "_id": d.id, "version": d.version,
             "version_type": "external_gte", "_source": to_source(d)}
            for d in docs
        )
        written = 0
        try:
            for ok, item in helpers.streaming_bulk(
                _stop_at_block(self.es), actions, chunk_size=500, raise_on_error=False, max_retries=3
            ):
                if ok:
                    written += 1
                elif item.get("index", {}).get("status") != 409:  # 409: older version, ignored
                    raise _unavailable(RuntimeError(str(item)), self.name)
            if self.refresh:
                self.es.indices.refresh(index=self.name)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc, self.name) from exc
        return written

    def delete(self, ids: Iterable[str]) -> int:
        actions = ({"_op_type": "delete", "_index": self.name, "_id": i} for i in ids)
        removed = 0
        try:
            for ok, item in helpers.streaming_bulk(
                _stop_at_block(self.es), actions, raise_on_error=False, max_retries=3
            ):
                removed += int(ok)
                info = item.get("delete", {}) if isinstance(item, dict) else {}
                if not ok and info.get("status") != 404:  # 404: not indexed, nothing to remove
                    # Review rv47: a delete refused (an index set read-only by hand refuses
                    # deletes too, 403) was counted as nothing removed and the caller went on:
                    # a destroyed record's text stayed searchable without a word.
                    raise _unavailable(RuntimeError(str(item)), self.name)
            if self.refresh:
                self.es.indices.refresh(index=self.name)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return removed

    def ids_and_versions(self) -> Iterator[tuple[str, int]]:
        try:
            self.es.indices.refresh(index=self.name)
            rows = [
                (hit["_id"], int(hit["_version"]))
                for hit in helpers.scan(
                    self.es, index=self.name,
                    query={"query": {"match_all": {}}, "_source": False, "version": True},
                )
            ]
        except NotFoundError:
            rows = []
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        yield from sorted(rows)


class _ElasticRebuild(Rebuild):
    def __init__(self, backend: ElasticsearchBackend, index_name: str) -> None:
        self.backend = backend
        self.index_name = index_name
        self.staging = _Target(backend.es, index_name, refresh=False)

    def commit(self) -> None:
        b = self.backend
        try:
            b.es.indices.put_settings(
                index=self.index_name, settings={"index": {"refresh_interval": None}}
            )
            b.es.indices.refresh(index=self.index_name)
            old = b._indices_of(b.alias)
            actions: list[dict[str, Any]] = [
                {"remove": {"index": name, "alias": b.alias}} for name in old
            ]
            actions += [
                {"add": {"index": self.index_name, "alias": b.alias, "is_write_index": True}},
                {"remove": {"index": self.index_name, "alias": b.staging_alias}},
            ]
            b.es.indices.update_aliases(actions=actions)
            for name in old:
                if name != self.index_name:
                    b.es.indices.delete(index=name, ignore_unavailable=True)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def abort(self) -> None:
        try:
            self.backend.es.indices.delete(index=self.index_name, ignore_unavailable=True)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"
    ranking: Ranking = DEFAULT_RANKING
    """Query-time weights (:mod:`search.ranking`); ``bench/eval_search.py`` sets others."""
    merge_timeout_s: float = MERGE_REQUEST_TIMEOUT_S
    """How long :meth:`purge_deleted` waits for one force-merge (tests set a short one)."""

    def __init__(self, url: str, *, prefix: str = "kho-records", refresh: bool = False,
                 shards: int = 1, replicas: int = 0,
                 client: Elasticsearch | None = None) -> None:
        """``url``: one node, or several comma-separated (the client fails over between them).

        ``refresh=True`` makes every write visible to search at once (tests, CLI tools).
        ``shards``/``replicas`` go into the index template: they apply to indices created from
        then on (a new alias target, every rebuild).
        """
        hosts = [u.strip() for u in url.split(",") if u.strip()]
        self.es = client or Elasticsearch(
            hosts, request_timeout=30, retry_on_timeout=True, max_retries=3,
            retry_on_status=(502, 503, 504),
        )
        self.alias = prefix
        self.staging_alias = f"{prefix}-staging"
        self.refresh = refresh
        try:
            self.es.indices.put_index_template(
                name=f"{prefix}-template",
                index_patterns=[f"{prefix}-2*"],
                template={
                    "settings": {"analysis": ANALYSIS, "number_of_shards": shards,
                                 "number_of_replicas": replicas,
                                 "max_result_window": MAX_RESULT_WINDOW},
                    "mappings": MAPPINGS,
                },
                priority=100,
            )
            if not self._indices_of(self.alias):
                name = self._new_index_name()
                self.es.indices.create(
                    index=name, aliases={self.alias: {"is_write_index": True}}
                )
            self._add_new_fields()
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        self._live = _Target(self.es, self.alias, refresh)

    def _add_new_fields(self) -> None:
        """Add to an index made before them the fields added to :data:`MAPPINGS` since
        (:data:`ADDED_FIELDS`; the mapping is strict, so a document carrying one was refused).
        Additive only, and asked only when one is missing (a read-only index is left as is).
        Documents indexed before keep no value: ``archive_units`` empty hides them from the
        archive (fail closed) until they change or ``kho reindex`` rebuilds the index."""
        for alias in (self.alias, self.staging_alias):
            names = self._indices_of(alias)
            if not names:
                continue
            answer = self.es.indices.get_mapping(index=",".join(names)).body
            for name in names:
                have = answer.get(name, {}).get("mappings", {}).get("properties", {})
                missing = {f: MAPPINGS["properties"][f] for f in ADDED_FIELDS if f not in have}
                if missing:
                    self.es.indices.put_mapping(index=name, properties=missing)

    def _new_index_name(self) -> str:
        return f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 1_000_000:06d}"

    def _indices_of(self, alias: str) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=alias).body.keys())
        except NotFoundError:
            return []

    def drop_all(self) -> None:
        """Delete every index of this prefix (tests)."""
        for alias in (self.alias, self.staging_alias):
            for name in self._indices_of(alias):
                self.es.indices.delete(index=name, ignore_unavailable=True)
        with contextlib.suppress(NotFoundError):
            self.es.indices.delete_index_template(name=f"{self.alias}-template")

    def close(self) -> None:
        self.es.close()

    # -- writes ------------------------------------------------------------------------------

    def _staging_writer(self) -> _Target | None:
        names = self._indices_of(self.staging_alias)
        return _Target(self.es, names[0], self.refresh) if names else None

    def _live_writer(self) -> _Target:
        return self._live

    def purge_deleted(self) -> None:
        """Refresh and flush, wait until no retention lease keeps the deleted documents
        (:meth:`_wait_for_leases`), then force-merge every index of the alias expunging *every*
        deleted document (the merge policy's ``expunge_deletes_allowed`` is set to 0 first: by
        default Lucene leaves segments with under 10 % deletes alone, and with them a destroyed
        text)."""
        try:
            for alias in (self.alias, self.staging_alias):
                for name in self._indices_of(alias):
                    # A merge writes new segments: on a disk past the flood stage it waits
                    # (two CI runs hung 600 s): refused at once instead (review s19).
                    self._refuse_if_read_only(name)
                    self.es.indices.put_settings(
                        index=name, settings={"index.merge.policy.expunge_deletes_allowed": 0}
                    )
                    self.es.indices.refresh(index=name)
                    self.es.indices.flush(index=name, wait_if_ongoing=True)
                    self._wait_for_leases(name)
                    self.es.options(
                        request_timeout=self.merge_timeout_s, retry_on_timeout=False
                    ).indices.forcemerge(index=name, only_expunge_deletes=True, wait_for_completion=True)
                    self.es.indices.refresh(index=name)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc

    def _refuse_if_read_only(self, name: str) -> None:
        """:func:`_read_only` when the index ``name`` carries the flood-stage block (one
        request: its settings)."""
        settings = self.es.indices.get_settings(index=name, name=READ_ONLY_SETTING, flat_settings=True)
        value = settings.body.get(name, {}).get("settings", {}).get(READ_ONLY_SETTING)
        if str(value).lower() == "true":
            raise _read_only(name, f"{READ_ONLY_SETTING}=true")

    def _retention(self, name: str) -> dict[str, tuple[int, int]]:
        """Per shard: (its highest sequence number, the lowest one a lease of any copy retains)."""
        shards = self.es.indices.stats(index=name, level="shards").body["indices"][name]["shards"]
        out: dict[str, tuple[int, int]] = {}
        for shard, copies in shards.items():
            top = max(copy["seq_no"]["max_seq_no"] for copy in copies)
            kept = min(
                (
                    lease["retaining_seq_no"]
                    for copy in copies
                    for lease in copy.get("retention_leases", {}).get("leases", ())
                ),
                default=top + 1,
            )
            out[shard] = (top, kept)
        return out

    def _wait_for_leases(self, name: str) -> None:
        """Wait until no retention lease of any shard retains an operation up to the shard's
        ``max_seq_no`` of now. Since Elasticsearch 7 a deleted or replaced document is only
        *soft* deleted: its copy, ``_source`` with the whole text included, stays in its
        segment, and no force-merge drops it while a retention lease (the shard's own
        peer-recovery lease among them) retains its operation. The shard moves its leases
        forward only on its own sync, every 30 s, which no API triggers (review a14: right
        after a destruction the purge expunged nothing; 40 s later the same purge dropped every
        copy). Not reached within :data:`LEASE_WAIT_SECONDS`: :class:`StoreUnavailable`, and a
        destruction stays under way (run again, it purges again)."""
        targets = {shard: top for shard, (top, _) in self._retention(name).items()}
        deadline = time.monotonic() + LEASE_WAIT_SECONDS
        while True:
            now = self._retention(name)
            if all(now[shard][1] > top for shard, top in targets.items() if shard in now):
                return
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    "Elasticsearch chưa cho xóa hẳn các bản đã xóa khỏi chỉ mục tìm kiếm (chưa hết thời"
                    " hạn giữ lại): hãy chạy lại thao tác để hoàn tất.",
                    code="SEARCH_INDEX_UNAVAILABLE",
                    index=name,
                )
            time.sleep(LEASE_POLL_SECONDS)

    def begin_rebuild(self) -> Rebuild:
        try:
            existing = self._indices_of(self.staging_alias)
            if existing:
                return _ElasticRebuild(self, existing[0])
            name = self._new_index_name()
            self.es.indices.create(
                index=name,
                aliases={self.staging_alias: {}},
                settings={"refresh_interval": "30s"},
            )
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return _ElasticRebuild(self, name)

    def set_archive_units(self, changes: Mapping[str, tuple[str, ...]]) -> set[str]:
        """:meth:`SearchBackend.set_archive_units` with the documents read in one ``mget`` a
        chunk (one GET each took 6 s of a 200-document hồ sơ's submission). Not a partial
        ``update``: the searched field ``e`` is not kept in ``_source``, and an update re-indexes
        from ``_source``, so it would lose the document's words."""
        missing: set[str] = set()
        docs: list[IndexDocument] = []
        ids = list(changes)
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                found = self.es.mget(index=self.alias, ids=chunk, source_includes=["doc"])
                for item in found["docs"]:
                    if not item.get("found"):
                        missing.add(item["_id"])
                        continue
                    doc = IndexDocument.from_json(item["_source"]["doc"])
                    units = tuple(changes[doc.id])
                    if doc.archive_units != units:
                        docs.append(dataclasses.replace(doc, archive_units=units))
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        if docs:
            self.index(docs)
        return missing

    # -- reads -------------------------------------------------------------------------------

    def get(self, doc_id: str) -> IndexDocument | None:
        try:
            found = self.es.get(index=self.alias, id=doc_id, source_includes=["doc"])
        except NotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return IndexDocument.from_json(found["_source"]["doc"])

    def count(self) -> int:
        return int(self.es.count(index=self.alias)["count"])

    def search(self, query: Query) -> SearchResult:
        body = build_search(query, self.ranking)
        try:
            response = self.es.search(index=self.alias, **body)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        total = int(response["hits"]["total"]["value"])
        hits = tuple(_hit(h) for h in response["hits"]["hits"])
        aggregations = response.get("aggregations", {})
        if total and "ho_so" in query.facets and not query.principal.sees_all:
            aggregations = self._files_seen_only(aggregations, query.principal)
        facets = _facets(aggregations, query.facets) if total else ()
        return SearchResult(hits=hits, total=total, page=query.page, page_size=query.page_size,
                            facets=facets)

    def _files_seen_only(
        self, aggregations: dict[str, Any], principal: Principal
    ) -> dict[str, Any]:
        """``aggregations`` with the ``ho_so`` buckets of hồ sơ ``principal`` finds in the index
        only (indexed as a hồ sơ, within the hits' :func:`permission_filter`), at most
        :data:`FACET_SIZE`: a facet value is a hồ sơ id, and one the person may not see
        (another unit's, not indexed) is not theirs to learn. One request more, only when the
        facet has values."""
        buckets = aggregations.get("ho_so", {}).get("buckets", [])
        if not buckets:
            return aggregations
        ids = [str(b["key"]) for b in buckets]
        try:
            found = self.es.search(
                index=self.alias, size=len(ids), source=False, docvalue_fields=["id"],
                track_total_hits=False,
                query={"bool": {"filter": [{"terms": {"id": ids}}, {"term": {"direction": "hoso"}},
                                           *permission_filter(principal)]}},
            )["hits"]["hits"]
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        seen = {h["fields"]["id"][0] for h in found}
        kept = [b for b in buckets if str(b["key"]) in seen][:FACET_SIZE]
        return {**aggregations, "ho_so": {**aggregations["ho_so"], "buckets": kept}}

    def related(self, doc_id: str, principal: Principal) -> Related:
        perm = permission_filter(principal)
        try:
            own = self.es.search(
                index=self.alias, size=1, source_includes=["skh_key", "cite_keys"],
                query={"bool": {"filter": [{"term": {"id": doc_id}}, *perm]}},
            )["hits"]["hits"]
            if not own:
                return Related((), ())
            key = own[0]["_source"].get("skh_key") or ""
            cites = own[0]["_source"].get("cite_keys") or []
            sort = [{"sort_date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]

            def find(clause: dict[str, Any]) -> tuple[Hit, ...]:
                found = self.es.search(
                    index=self.alias, size=200, sort=sort, source_excludes=_HEAVY,
                    query={"bool": {"filter": [clause, *perm],
                                    "must_not": [{"term": {"id": doc_id}}]}},
                )
                return tuple(_hit(h) for h in found["hits"]["hits"])

            return Related(
                find({"terms": {"skh_key": cites}}) if cites else (),
                find({"term": {"cite_keys": key}}) if key else (),
            )
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc


# --- query translation (pure: testable without a server) -------------------------------------


def permission_filter(principal: Principal) -> list[dict[str, Any]]:
    if principal.sees_all:
        return []
    units = list(principal.units)
    return [
        {"range": {"do_mat": {"lte": principal.max_secrecy}}},
        {
            "bool": {
                "minimum_should_match": 1,
                "should": [
                    {"term": {"grant_users": principal.user_id}},
                    {"terms": {"owner_unit": units}},
                    {"terms": {"grant_units": units}},
                    {"terms": {"archive_units": list(principal.archive_units)}},
                ],
            }
        },
    ]


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, field in _FILTER_FIELDS.items():
        values = list(getattr(filters, name))
        if values:
            if name in _KEYED:
                values = [value_key(str(v)) for v in values]
            out.append({"terms": {field: values}})
    for name in ("ngay_ban_hanh", "ngay_den"):
        rng = getattr(filters, name)
        if rng is not None:
            bounds = {}
            if rng.start:
                bounds["gte"] = rng.start.isoformat()
            if rng.end:
                bounds["lte"] = rng.end.isoformat()
            out.append({"range": {name: bounds}})
    return out


def _term(field: str, token: str, boost: float) -> dict[str, Any]:
    return {"term": {field: {"value": token, "boost": boost}}}


def _in_field(field: str, tokens: list[str], boost: float) -> dict[str, Any]:
    """The term (one token) or phrase (several) in ``field``, boosted (embedded ``_in_field``)."""
    if len(tokens) == 1:
        return _term(field, tokens[0], boost)
    return {"match_phrase": {field: {"query": " ".join(tokens), "boost": boost}}}


def _folded_phrase(tokens: list[str], boost: float) -> dict[str, Any]:
    """A folded phrase: one pair term for two syllables, else positions (embedded ``_folded_phrase``)."""
    if len(tokens) == 2:
        return _term("e.b", f"{tokens[0]}_{tokens[1]}", boost)
    return _in_field("e.f", tokens, boost)


def text_query(query: Query, ranking: Ranking = DEFAULT_RANKING) -> dict[str, Any] | None:
    """The words, phrases and số/ký hiệu as the embedded backend scores them (BM25 on the same
    terms, the same boosts and the same required/optional clauses), so both rank alike.

    Only analysed syllables reach ES, through ``term``/``match_phrase`` queries (no syntax).
    None when nothing can match.
    """
    optional: list[dict[str, Any]] = []
    required: list[dict[str, Any]] = []
    words_plan = plan(query.terms, ranking) if query.terms else None
    if words_plan is not None:
        for term in words_plan.terms:
            if term.exact_weight > 0:
                optional.append(_term("e", term.exact, term.exact_weight))
            folded = _term("e.f", term.folded, term.folded_weight)
            (required if words_plan.required else optional).append(folded)
        for first, second in words_plan.pairs:
            optional.append(_term("e.b", f"{first}_{second}", words_plan.pair_weight))
        for window in words_plan.windows:
            optional.append({"match_phrase": {"e.f": {
                "query": " ".join(window), "slop": words_plan.slop,
                "boost": words_plan.window_weight}}})
    for key in query.so_ky_hieu:
        tokens = syllables(key)
        if tokens:
            optional.append(_folded_phrase(tokens, 1.0))
    for phrase in query.phrases:
        exact = syllables(normalize(phrase))
        if exact:
            required.append(_folded_phrase([fold(t) for t in exact], 2.0))
            optional.append(_in_field("e", exact, EXACT_WEIGHT))
    words: dict[str, Any] | None = None
    if required:
        words = {"bool": {"must": required, "should": optional}}
    elif optional:
        words = {"bool": {"should": optional, "minimum_should_match": 1}}
    either = [words] if words else []
    if query.so_ky_hieu:
        exact = [{"term": {"skh_key": {"value": key}}} for key in query.so_ky_hieu]
        either.append({"constant_score": {"filter": {"bool": {"should": exact}},
                                          "boost": EXACT_SO_KY_HIEU_BOOST}})
    if not either:
        return None
    return either[0] if len(either) == 1 else {"bool": {"should": either,
                                                         "minimum_should_match": 1}}


_SORTS: dict[Sort, list[Any]] = {
    Sort.RELEVANCE: ["_score", {"sort_date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
    Sort.DATE_DESC: [{"sort_date": {"order": "desc", "missing": "_last"}}, "_score", {"id": "asc"}],
    Sort.DATE_ASC: [{"sort_date": {"order": "asc", "missing": "_last"}}, "_score", {"id": "asc"}],
    Sort.NUMBER_DESC: [{"sort_number": {"order": "desc", "missing": "_last"}},
                       {"sort_date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
    Sort.NUMBER_ASC: [{"sort_number": {"order": "asc", "missing": "_last"}},
                      {"sort_date": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
}


def build_search(query: Query, ranking: Ranking = DEFAULT_RANKING) -> dict[str, Any]:
    """Keyword arguments for ``Elasticsearch.search`` (query, aggs, sort, paging, highlight)."""
    bool_query: dict[str, Any] = {
        "filter": [*filter_clauses(query.filters), *permission_filter(query.principal)]
    }
    if not query.is_empty:
        words = text_query(query, ranking)
        bool_query["must"] = [words if words is not None else {"match_none": {}}]
    aggs: dict[str, Any] = {}
    for name in query.facets:
        field, display = _FACET_FIELDS[name]
        # ho_so: room for the values the person may not see, left out after (_files_seen_only)
        size = FACET_SIZE * 4 if name == "ho_so" and not query.principal.sees_all else FACET_SIZE
        agg: dict[str, Any] = {"terms": {"field": field, "size": size, "min_doc_count": 1,
                                         "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        if display:
            agg["aggs"] = {"label": {"terms": {"field": display, "size": 1}}}
        aggs[name] = agg
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "sort": _SORTS[query.sort],
        "from_": query.offset,
        "size": query.page_size,
        "track_total_hits": True,
        "source_excludes": _HEAVY,
    }
    if aggs:
        body["aggs"] = aggs
    if query.highlight and not query.is_empty:
        folded = [f"{f}.folded" for f in ("title", "so_ky_hieu", "trich_yeu", "text")]
        words = [*(query_terms(" ".join(query.terms)) if query.terms else [])]
        words += [" ".join(syllables(k)) for k in query.so_ky_hieu]
        marks: list[dict[str, Any]] = []
        if words:
            marks.append({"multi_match": {"query": " ".join(words), "fields": folded}})
        marks += [{"multi_match": {"query": " ".join(syllables(p)), "type": "phrase",
                                   "fields": folded}} for p in query.phrases]
        body["highlight"] = {
            "highlight_query": {"bool": {"should": marks}},
            "pre_tags": [PRE], "post_tags": [POST], "type": "unified",
            "max_analyzed_offset": HIGHLIGHT_MAX_CHARS,
            "fields": {
                f"{f}.folded": {"number_of_fragments": 1, "fragment_size": 240,
                                "no_match_size": 0}
                for f in ("title", "so_ky_hieu", "trich_yeu", "text")
            },
        }
    return body


def _spans(tagged: str) -> Highlight:
    text, spans, pos, start = [], [], 0, 0
    for char in tagged:
        if char == PRE:
            start = pos
        elif char == POST:
            spans.append((start, pos))
        else:
            text.append(char)
            pos += 1
    return Highlight("", "".join(text), tuple(spans))


def _hit(raw: dict[str, Any]) -> Hit:
    doc = IndexDocument.from_json(raw["_source"]["doc"])
    marks = []
    for field in ("title", "so_ky_hieu", "trich_yeu", "text"):
        for fragment in raw.get("highlight", {}).get(f"{field}.folded", [])[:1]:
            h = _spans(fragment)
            marks.append(Highlight(field, h.text, h.spans))
    return Hit(
        id=doc.id, version=doc.version, score=float(raw.get("_score") or 0.0),
        direction=doc.direction, title=doc.title, so_ky_hieu=doc.so_ky_hieu,
        loai_van_ban=doc.loai_van_ban, co_quan_ban_hanh=doc.co_quan_ban_hanh,
        ngay_ban_hanh=doc.ngay_ban_hanh, ngay_den=doc.ngay_den, trich_yeu=doc.trich_yeu,
        highlights=tuple(marks),
    )


def _facets(aggregations: dict[str, Any], names: Iterable[str]) -> tuple[Facet, ...]:
    out = []
    for name in names:
        buckets = aggregations.get(name, {}).get("buckets", [])
        values = []
        for b in buckets:
            labels = b.get("label", {}).get("buckets", [])
            label = labels[0]["key"] if labels else b.get("key_as_string", b["key"])
            if label == "":
                continue
            values.append(FacetValue(str(label), int(b["doc_count"])))
        out.append(Facet(name, tuple(values)))
    return tuple(out)
