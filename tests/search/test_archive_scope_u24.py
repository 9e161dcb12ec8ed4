"""The archive's reach in the index (review u24), on both backends: a document whose
``archive_units`` meet the searcher's ``archive_units`` matches within their clearance (hits,
counts, facets, related documents), :meth:`SearchBackend.set_archive_units` writes that field
alone, and an index made before the field gets it when opened."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from datetime import date

import pytest
from kho_testing import es_url_or_skip

from search.backend import SearchBackend
from search.documents import IndexDocument
from search.embedded import FILE_NAME, TEXT_SCHEMA_VERSION, EmbeddedBackend
from search.query import Principal, parse_query

ARCHIVIST = Principal("luu-tru", units=("AGENCY",), archive_units=("AGENCY", "UNIT-B"))
OTHER_ARCHIVE = Principal("luu-tru-c", units=("UNIT-C",), archive_units=("UNIT-C",))
CLERK_B = Principal("van-thu-b", units=("UNIT-B",))
EVERYTHING = Principal("kt", everything=True)


def doc(doc_id: str, **kw: object) -> IndexDocument:
    base: dict[str, object] = {
        "version": 1,
        "direction": "den",
        "owner_unit": "UNIT-B",
        "ngay_ban_hanh": date(2015, 3, 2),
        "title": "Công văn về việc triển khai hệ thống",
        "trich_yeu": "Về việc triển khai hệ thống",
        "so_ky_hieu": f"{doc_id[-1]}/BNV-VP",
        "text": "Báo cáo dự án thủy điện Sông Đà",
        "ho_so": ("HS-B",),
    }
    base.update(kw)
    return IndexDocument(id=doc_id, **base)  # type: ignore[arg-type]


DOCS = [
    doc("d-1", archive_units=("UNIT-B",)),  # its hồ sơ is at the archive
    doc("d-2", archive_units=("UNIT-B",), do_mat=1),  # Mật: above the archivist's clearance
    doc("d-3", cites=("1/BNV-VP",)),  # its hồ sơ is the phòng's
    doc("d-4", owner_unit="UNIT-C", archive_units=("UNIT-C",), cites=("1/BNV-VP",)),  # another archive's
]


def found(backend: SearchBackend, principal: Principal, typed: str = "") -> set[str]:
    return set(backend.search(parse_query(typed, principal, page_size=100)).ids)


def test_the_archive_finds_what_its_archive_reads(backend: SearchBackend) -> None:
    backend.index(DOCS)
    for typed in ("", "1/BNV-VP", "trien khai he thong", "thuy dien"):
        assert found(backend, ARCHIVIST, typed) & {"d-1", "d-2", "d-3", "d-4"} == {"d-1"}, typed
    assert found(backend, OTHER_ARCHIVE) == {"d-4"}
    assert found(backend, CLERK_B) == {"d-1", "d-3"}  # as before: the Mật one is above them
    assert found(backend, replace(ARCHIVIST, max_secrecy=1)) == {"d-1", "d-2"}
    result = backend.search(parse_query("", ARCHIVIST, facets=("ho_so", "unit")))
    assert result.total == 1
    assert result.facet("unit") == {"UNIT-B": 1}
    assert {h.id for h in backend.related("d-1", ARCHIVIST).cited_by} == set()
    assert {h.id for h in backend.related("d-1", CLERK_B).cited_by} == {"d-3"}
    assert {h.id for h in backend.related("d-3", ARCHIVIST).cites} == set()  # d-3 is not theirs


def test_set_archive_units_writes_that_field_alone(backend: SearchBackend) -> None:
    backend.index(DOCS)
    assert backend.set_archive_units({"d-3": ("UNIT-B",), "d-9": ("UNIT-B",)}) == {"d-9"}
    assert found(backend, ARCHIVIST, "thuy dien") == {"d-1", "d-3"}
    assert {h.id for h in backend.related("d-1", ARCHIVIST).cited_by} == {"d-3"}
    kept = backend.get("d-3")
    assert kept is not None and kept.archive_units == ("UNIT-B",)
    assert kept == replace(DOCS[2], archive_units=("UNIT-B",))  # every other field as indexed
    backend.set_archive_units({"d-1": (), "d-3": ()})  # returned (trả lại)
    assert found(backend, ARCHIVIST) == set()
    assert found(backend, CLERK_B) == {"d-1", "d-3"}


def test_an_embedded_index_of_text_schema_5_is_rebuilt_with_the_archive_units(tmp_path) -> None:
    """Text schema 5 had no ``arch_units``: opening it rebuilds the text index from ``docs``,
    whose bodies carry the field (a body written before u24 has none: fail closed)."""
    backend = EmbeddedBackend(tmp_path)
    backend.index(DOCS)
    backend.close()
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        old_dir = conn.execute("SELECT value FROM meta WHERE key='text_dir'").fetchone()[0]
        conn.execute("UPDATE meta SET value='5' WHERE key='text_schema'")
    rebuilt = EmbeddedBackend(tmp_path)
    try:
        assert found(rebuilt, ARCHIVIST, "thuy dien") == {"d-1"}
        with sqlite3.connect(tmp_path / FILE_NAME) as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        assert meta["text_schema"] == TEXT_SCHEMA_VERSION == "6"
        assert meta["text_dir"] != old_dir
    finally:
        rebuilt.close()


@pytest.mark.elasticsearch
def test_an_elasticsearch_index_made_before_the_field_gets_it_when_opened() -> None:
    """The mapping is strict: a document carrying ``archive_units`` was refused by an index
    made before u24. Opening the backend adds the field (additively) to such an index."""
    from search.elasticsearch import ANALYSIS, MAPPINGS, ElasticsearchBackend

    url = es_url_or_skip()
    prefix = f"kho-u24o-{uuid.uuid4().hex[:8]}"
    first = ElasticsearchBackend(url, prefix=prefix, refresh=True)
    try:
        (made,) = first._indices_of(prefix)
        old = {k: v for k, v in MAPPINGS["properties"].items() if k != "archive_units"}
        first.es.indices.delete(index=made)
        name = f"{prefix}-old"  # outside the template's pattern: the mapping of before u24
        first.es.indices.create(
            index=name,
            aliases={prefix: {"is_write_index": True}},
            mappings={**MAPPINGS, "properties": old},
            settings={"analysis": ANALYSIS},
        )
        mapping = first.es.indices.get_mapping(index=name).body[name]["mappings"]["properties"]
        assert "archive_units" not in mapping
        reopened = ElasticsearchBackend(url, prefix=prefix, refresh=True)
        reopened.index(DOCS)
        assert found(reopened, ARCHIVIST) == {"d-1"}
        reopened.close()
    finally:
        first.drop_all()
        first.close()
