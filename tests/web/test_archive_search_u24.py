"""The lưu trữ viên finds the documents of the hồ sơ their archive holds (review u24).

u21 gave the Lưu trữ cơ quan the reading of a submitted hồ sơ's documents
(:func:`repository.policy.archive_reads`) but search kept :func:`repository.policy.sees`: an
archivist who took in thousands of hồ sơ could not find one document by số, trích yếu or text.
The index now stores the archive's reach (:func:`repository.policy.index_archive`), kept current
when a hồ sơ is submitted or returned, and the search filter carries the archive units
(:attr:`repository.policy.SearchScope.archive_units`). Walked through real HTTP (the REST API and
the search page, Flask test client, logged in), the ``kho search`` command, on a real local store,
with the embedded index and with the test Elasticsearch server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from click.testing import CliRunner
from flask import Flask
from kho_people import AGENCY, PASSWORD, UNIT_B, People
from kho_submission import phong_b_file
from kho_testing import es_url_or_skip, incoming, pdf_bytes
from kho_web import logged_in

from ingest.indexing import follow
from repository import formats
from repository.records import Record
from search.elasticsearch import ElasticsearchBackend
from web.cli import main
from web.context import Kho

UNIT_C = "000.03.18.H40"
FULL_TEXT_WORD = "thủy điện"  # only in the derived text, not in the metadata
FULL_TEXT_WORD_PLAIN = "thuy dien"
SO = "9913/BNV-VP"
TRICH_YEU_PLAIN = "trien khai he thong quan ly"


@dataclass
class Site:
    kho: Kho
    people: People
    app: Flask
    file: Record
    document_id: str
    secret_id: str


def _document(kho: Kho, people: People, code: str, secrecy: int, text: str) -> Record:
    doc = kho.repo.create_document(
        "den",
        incoming(code_number=code, issued_date="2015-03-02", secrecy=secrecy),
        pdf_bytes(f"b-{code}"),
        "b.pdf",
        people.actor("van_thu_b_mat" if secrecy else "van_thu_b"),
    )
    derived = {"parts": [{"page": 1, "text": text}], "format": "pdf"}
    kho.repo.put_derived(doc.record_id, "text.json", formats.dump_derived(derived, "text.json"))
    kho.repo._emit(kho.repo._load(doc.record_id))  # as ingest's text step does
    return doc


def _closed_file(kho: Kho, people: People) -> tuple[Record, str, str]:
    """A closed hồ sơ of phòng B with one Thường document (its text holds
    :data:`FULL_TEXT_WORD`) and one Mật document."""
    officer_b = people.actor("chuyen_vien_b")
    file = phong_b_file(kho, people)
    plain = _document(kho, people, "9913", 0, f"Báo cáo dự án {FULL_TEXT_WORD} Sông Đà")
    secret = _document(kho, people, "9914", 1, "Báo cáo mật")
    for doc, who in ((plain, officer_b), (secret, people.actor("van_thu_b_mat"))):
        file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=who)
    file = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=officer_b
    )
    return file, plain.record_id, secret.record_id


def _site(kho: Kho, people: People, app: Flask) -> Site:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.create_unit(UNIT_C, "Phòng Kế toán", "pkt", AGENCY, admin)
    people.add("luu_tru_c", "Vũ Thị Lan", UNIT_C, ("luu_tru",), 0)  # a sibling's archive
    people.add("van_thu_b_mat", "Đinh Văn Mật", UNIT_B, ("van_thu",), 1)  # cleared for Mật
    people.add("luu_tru_mat", "Hà Thị Mật", AGENCY, ("luu_tru",), 1)  # reviews the whole hồ sơ
    file, document_id, secret_id = _closed_file(kho, people)
    return Site(kho, people, app, file, document_id, secret_id)


@pytest.fixture(params=["embedded", "elasticsearch"])
def site(request: pytest.FixtureRequest, kho: Kho, people: People, app: Flask) -> Iterator[Site]:
    if request.param == "embedded":
        yield _site(kho, people, app)
        return
    es_url = es_url_or_skip()
    backend = ElasticsearchBackend(es_url, prefix=f"kho-u24-{uuid.uuid4().hex[:8]}", refresh=True)
    kho._backend = backend
    follow(kho.repo, backend)
    try:
        yield _site(kho, people, app)
    finally:
        backend.drop_all()


def _api_ids(site: Site, who: str, q: str) -> list[str]:
    answer = site.app.test_client().get(
        "/api/search", query_string={"q": q}, headers=site.people.headers(who)
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [hit["id"] for hit in answer.get_json()["hits"]]


def _submit(site: Site) -> Record:
    site.file = site.kho.retention.submit(
        site.file.record_id, expected_version=site.file.version, actor=site.people.actor("chuyen_vien_b")
    )
    return site.file


QUERIES = (SO, TRICH_YEU_PLAIN, FULL_TEXT_WORD_PLAIN, FULL_TEXT_WORD)


def test_the_archivist_finds_a_submitted_hồ_sơ_s_document_by_số_trích_yếu_and_text(site: Site) -> None:
    for q in QUERIES:
        assert site.document_id not in _api_ids(site, "luu_tru", q), f"found before submission: {q}"
        assert site.document_id in _api_ids(site, "van_thu_b", q), f"the phòng finds it: {q}"
    _submit(site)
    for q in QUERIES:
        found = _api_ids(site, "luu_tru", q)
        assert site.document_id in found, q  # not found before u24
        assert site.secret_id not in found, q  # Mật, above the archivist's clearance (Thường)
        assert site.file.record_id not in found, q  # the hồ sơ is read on its review page
        assert site.document_id not in _api_ids(site, "luu_tru_c", q), q  # another archive
        assert site.document_id in _api_ids(site, "van_thu_b", q), q  # the phòng, as before
        assert site.document_id not in _api_ids(site, "chuyen_vien", q), q  # the agency's officer
    # The Mật document is in the index for who may see it (else the check above proves nothing).
    assert site.secret_id not in _api_ids(site, "van_thu_b", "9914/BNV-VP")
    assert site.secret_id in _api_ids(site, "lanh_dao", "9914/BNV-VP")


def test_the_archivist_no_longer_finds_it_once_returned(site: Site) -> None:
    _submit(site)
    assert site.document_id in _api_ids(site, "luu_tru", SO)
    site.kho.retention.return_file(
        site.file.record_id,
        reason="Thiếu mục lục văn bản",
        expected_version=site.file.version,
        actor=site.people.actor("luu_tru_mat"),  # the Mật document: a cleared archivist returns it
    )
    for q in QUERIES:
        assert site.document_id not in _api_ids(site, "luu_tru", q), q
        assert site.document_id in _api_ids(site, "van_thu_b", q), q


def test_the_archivist_finds_it_on_the_search_page(site: Site) -> None:
    _submit(site)
    archivist = logged_in(site.app, site.people, "luu_tru")
    page = archivist.get("/search", query_string={"q": TRICH_YEU_PLAIN})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/records/{site.document_id}" in text
    assert f"/records/{site.secret_id}" not in text
    other = logged_in(site.app, site.people, "luu_tru_c").get("/search", query_string={"q": TRICH_YEU_PLAIN})
    assert other.status_code == 200 and f"/records/{site.document_id}" not in other.get_data(as_text=True)
    # The hit found opens (the policy decides the page as the index did).
    assert archivist.get(f"/records/{site.document_id}").status_code == 200


def test_kho_search_lists_it_to_the_archivist(kho: Kho, people: People, app: Flask) -> None:
    site = _site(kho, people, app)
    _submit(site)

    def found(who: str) -> list[str]:
        runner = CliRunner()
        login = runner.invoke(
            main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n"
        )
        assert login.exit_code == 0, login.output
        answer = runner.invoke(main, ["search", SO, "--json"])
        assert answer.exit_code == 0, answer.output
        return [h["id"] for h in json.loads(answer.output)["hits"]]

    assert site.document_id in found("luu_tru")
    assert site.document_id not in found("luu_tru_c")
    assert site.document_id in found("van_thu_b")


def test_submitting_writes_the_archive_field_alone(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hồ sơ submitted (or returned) changes only the archive's reach of its documents: the
    index writes that field, it does not read each document's derived text, verdict and metadata
    from the store again (a 200-document hồ sơ: ``bench/u24_submit_cost.py``)."""
    read: list[tuple[str, str]] = []
    real = site.kho.repo.get_derived

    def counted(record_id: str, name: str, *args: object, **kwargs: object) -> bytes:
        read.append((record_id, name))
        return real(record_id, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(site.kho.repo, "get_derived", counted)
    _submit(site)
    assert not [r for r in read if r[0] in (site.document_id, site.secret_id)], read
    indexed = site.kho.backend.get(site.document_id)
    assert indexed is not None and indexed.archive_units == (UNIT_B,)
    assert FULL_TEXT_WORD in indexed.text  # the text kept as indexed
    assert site.document_id in _api_ids(site, "luu_tru", FULL_TEXT_WORD_PLAIN)
