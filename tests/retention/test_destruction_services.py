"""Destruction against the real services: the S3 gateway for the store and Elasticsearch for the
index — the destroyed text is gone from search, and the index is force-merged expunging deletes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from index_traces import index_traces
from kho_people import PASSWORD, make_people
from kho_retention import SECRET_WORD, Clock, closed_file, council_ready, s3_env, search_count
from kho_testing import es_url_or_skip

from ingest.indexing import follow
from kho.config import Settings
from repository.fsck import fsck
from search.elasticsearch import ElasticsearchBackend
from web.context import Kho

pytestmark = [pytest.mark.s3, pytest.mark.elasticsearch]


def test_on_s3_and_elasticsearch_the_text_is_expunged(tmp_path: Path) -> None:
    es_url = es_url_or_skip()
    env = s3_env(tmp_path)
    kho = Kho(Settings.from_env(env), follow_index=False)
    clock = Clock()
    kho.repo.clock = clock
    kho.accounts.clock = clock
    backend = ElasticsearchBackend(es_url, prefix=f"kho-ret-{uuid.uuid4().hex[:8]}", refresh=True)
    kho._backend = backend
    follow(kho.repo, backend)
    try:
        people = make_people(kho)
        file, docs = closed_file(kho, people)
        kept, _ = closed_file(kho, people, notation="02.TCCB", maintenance="Vĩnh viễn", words="giữlại")
        assert search_count(kho, people, SECRET_WORD) == 2
        d, case = council_ready(kho, people, [file.record_id])
        case = d.decide(case["case_id"], "QĐ 09", approve=True, actor=people.actor("lanh_dao"))
        assert d.execute(case["case_id"], PASSWORD, actor=people.actor("luu_tru"))["state"] == "done"
        assert search_count(kho, people, SECRET_WORD) == 0
        assert search_count(kho, people, "giữlại") == 2
        # The purge ran: every index of the alias expunges all deletes on force-merge, after the
        # shards' retention leases stopped keeping the soft-deleted copies (review a14): no copy
        # of a replaced document, the destroyed text with it, is left in any segment.
        assert index_traces(backend, SECRET_WORD) == 0
        settings = backend.es.indices.get_settings(index=backend.alias).body
        assert all(
            v["settings"]["index"]["merge"]["policy"]["expunge_deletes_allowed"] == "0"
            for v in settings.values()
        )
        for rid in [*docs, file.record_id]:
            assert not kho.repo.keys.exists(rid)
        assert fsck(kho.repo, deep=True).clean
        assert kept.record_id
    finally:
        backend.drop_all()
        kho.close()
