"""One logged-in page request reads the person's account once (m29, issue #14).

The page session's checks (:meth:`AccountService.token_holder`: lock, idle lock, sign-out
everywhere) read the account; the page then read it a second time for ``current_account``: one
LIST and one GET more on every page, the same object within one request. Counted on the store
object the installation uses, on a local folder and on the real S3 gateway. That the next
request still sees a lock, a revocation or a sign-out everywhere is the business of
test_session_idle, test_token_replay_a30, test_existence_oracle and the lock tests (unchanged)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from kho_counting import StoreReads as Reads
from kho_people import People
from kho_testing import incoming
from kho_web import login

from repository.accounts import LockReason
from web.context import Kho

LINKS_LISTED_BY_THE_RECORD_PAGE = 1
"""Listings of ``links/<id>/`` (the hồ sơ a document sits in) by ``GET /records/<id>`` of a document
in no hồ sơ: 6 before m29 (may_see asked again), 5 before u22 (each access question of the page
listed them); the page now reads them once with the record (:meth:`Repository.opened`)."""


def test_a_logged_in_page_reads_the_account_once(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, people, web = store_site
    assert kho.accounts.store is kho.repo.store  # one store: every read below is counted
    doc = kho.repo.create_document("den", incoming(code_number="2901"), None, None, people.actor("van_thu"))
    assert login(web, people, "van_thu").status_code == 302
    reads = Reads(kho.repo.store, monkeypatch)
    name = people.usernames["van_thu"]
    for path in ("/", "/search?q=c%C3%B4ng+v%C4%83n", f"/records/{doc.record_id}"):
        reads.clear()
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert reads.account_reads(name) == reads.account_read_once(), (path, reads.account_reads(name))


def test_a_locked_account_ends_the_next_page_request(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    """The account read once per request is still read on every request: a lock written
    between two pages ends the session on the second (nothing is kept across requests)."""
    kho, people, web = store_site
    assert login(web, people, "chuyen_vien").status_code == 302
    assert web.get("/").status_code == 200
    admin = kho.accounts.get(people.usernames["quan_tri"])
    kho.accounts.lock(people.usernames["chuyen_vien"], LockReason.ADMIN, admin, "test")
    ended = web.get("/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert ended.headers.get("X-Kho-Error") == "ACCOUNT_LOCKED"


def test_an_api_call_about_the_caller_reads_the_account_once(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GET /api/me`` (the caller's account) reads it once: the token's checks read it, the
    view used to read it again (as every API view that acts as the caller's account)."""
    kho, people, web = store_site
    reads = Reads(kho.repo.store, monkeypatch)
    for who in ("van_thu", "quan_tri"):
        reads.clear()
        answer = web.get("/api/me", headers=people.headers(who))
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["account"]["username"] == people.usernames[who]
        name = people.usernames[who]
        assert reads.account_reads(name) == reads.account_read_once(), (who, reads.account_reads(name))


def test_the_record_page_asks_its_access_once_for_the_hoso_form(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record page's "add to a hồ sơ" form asked whether the person may see the document
    (one listing of its hồ sơ links, and a read of each hồ sơ) after the page had read the
    same facts for its history: it uses those. The document's links are listed once fewer."""
    kho, people, web = store_site
    doc = kho.repo.create_document("den", incoming(code_number="2902"), None, None, people.actor("van_thu"))
    assert login(web, people, "van_thu").status_code == 302
    reads = Reads(kho.repo.store, monkeypatch)
    assert web.get(f"/records/{doc.record_id}").status_code == 200
    links = reads.lists[f"links/{doc.record_id}/"]
    assert links == LINKS_LISTED_BY_THE_RECORD_PAGE


def test_a_token_request_reads_the_audit_log_at_most_once(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rollback check (review s18: an account whose newest stored version is older than the
    one the audit log names is refused) asks the log's by-record index, a local file, after
    catching it up: one GET of the witness, no listing of the log, no event read when the index
    is up to date — the whole cost per request with a token. Everything else read is as before
    (the account once: the tests above)."""
    kho, people, web = store_site
    reads = Reads(kho.repo.store, monkeypatch)
    for who in ("van_thu", "quan_tri", "van_thu"):
        reads.clear()
        answer = web.get("/api/me", headers=people.headers(who))
        assert answer.status_code == 200, answer.get_json()
        audit_gets = {k: n for k, n in reads.gets.items() if k.startswith("audit/")}
        audit_lists = {p: n for p, n in reads.lists.items() if p.startswith("audit/")}
        assert audit_gets == {"audit/witness.json": 1} and not audit_lists, (audit_gets, audit_lists)
        assert reads.account_reads(people.usernames[who]) == reads.account_read_once()


def test_a_unit_tree_request_reads_the_store_no_more_than_before(
    store_site: tuple[Kho, People, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit rollback check (review s20: a unit whose newest stored version is older than the
    one the audit log names is refused) asks the log's index as it is (a local SQLite query, no
    catch-up of its own): ``GET /api/units`` with a token reads the witness once (the token's
    check, s18) and lists ``units/`` once, as before."""
    kho, people, web = store_site
    reads = Reads(kho.repo.store, monkeypatch)
    answer = web.get("/api/units", headers=people.headers("quan_tri"))
    assert answer.status_code == 200, answer.get_json()
    audit_gets = {k: n for k, n in reads.gets.items() if k.startswith("audit/")}
    audit_lists = {p: n for p, n in reads.lists.items() if p.startswith("audit/")}
    assert audit_gets == {"audit/witness.json": 1} and not audit_lists, (audit_gets, audit_lists)
    assert {p: n for p, n in reads.lists.items() if p.startswith("units/")} == {"units/": 1}
