"""Fewer S3 requests when people are made (s27, issue #14): one account operation reads the
unit tree, its unit and its actor once.

Making the test people on S3 sent 166 LISTs (455 requests): ``create_account`` listed its unit's
versions three times (the unit, the memberships, the notification's words), ``confirm_reset``
listed the confirmer's versions and the unit tree twice each (its two policy checks), and
``issue_token`` listed the person's versions three times (the target, the actor, which is the
target, and the re-read after the write). Now each operation decides with one view of the
actor and of the unit tree (:meth:`AccountService._one_view`); the reads a write builds on stay
(:meth:`AccountService._update`'s read, the token's re-read after its write). The guards below
show that a view lasts one operation: a lock or a role taken away by another process between two
operations counts at the next one.

The record page (``/records/<id>``) listed the record's versions twice (to find the newest, then
for the history) and caught the audit log's index up twice (the token check, then the page's
history of events): the versions listed are handed to :meth:`Repository.history`, and a record
view's request catches the index up once (:func:`repository.audit.one_catch_up_begin`). Every
request still lists the versions and reads the log: a version or an event another process writes
between two pages is on the second (guards below). ``GET /api/records/<id>`` already listed and
caught up once; its two witness reads are the token check's catch-up and the append's read
that its conditional write of the witness rests on, which stays.

Counts are of the HTTP requests this process sends to the real Ceph gateway."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_counting import NamedRequests, named_requests
from kho_people import AGENCY, PASSWORD, UNIT_B, People, make_people
from kho_retention import s3_env
from kho_testing import incoming
from kho_web import login

from kho.config import Settings
from kho.errors import PermissionDenied
from repository import audit
from repository import keys as keys_module
from repository.accounts import LockReason
from repository.policy import Role
from web.app import create_app
from web.context import Kho

pytestmark = pytest.mark.s3

PEOPLE = {"LIST": 129, "GET": 69, "PUT": 203, "HEAD": 16, "DELETE": 1}
"""The requests of :func:`make_people` on a fresh installation, by kind (NOTES-s27 §1): LIST
166 → 129 (455 → 418 requests); nothing else changed."""


@pytest.fixture
def s3_kho(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Iterator[Kho]:
    for key, value in s3_env(tmp_path / "s3").items():
        monkeypatch.setenv(key, value)
    Kho(Settings.from_env()).close()  # the process's probe of the gateway made (s26), as in a suite
    installation = Kho(Settings.from_env())
    try:
        yield installation
    finally:
        installation.close()


def _kinds(named: NamedRequests) -> dict[str, int]:
    return dict(collections.Counter("LIST" if "/prefix=" in s else s.split()[0] for s in named.seen))


def _lists(named: NamedRequests, prefix: str) -> int:
    """The listings of ``prefix`` (its exact ``prefix=`` value, '/' as %2F)."""
    wanted = "prefix=" + prefix.replace("/", "%2F")
    return sum(s.split(" ", 1)[1].split("/", 1)[1] == wanted for s in named.seen)


def test_making_the_test_people_sends_its_pinned_requests(
    s3_kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = named_requests(monkeypatch)
    make_people(s3_kho)
    assert _kinds(named) == PEOPLE, collections.Counter(named.seen).most_common(12)


def test_an_account_is_created_with_one_read_of_its_unit_and_of_its_creator(
    s3_kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    named = named_requests(monkeypatch)
    account, _ = accounts.create_account("Vũ Thị Lan", UNIT_B, ["chuyen_vien"], 0, None, admin)
    assert _lists(named, f"units/{UNIT_B}/v") == 1  # 3 before s27
    assert _lists(named, "units/") == 1
    assert _lists(named, f"accounts/{admin.username}/v") == 1
    assert sum("/prefix=" in s for s in named.seen) == 4, named.seen  # 6 before
    assert "Phòng Tổng hợp" in accounts.notifications(account.username)[0].message


def test_a_confirmation_reads_its_confirmer_and_the_unit_tree_once(
    s3_kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    head = accounts.get(people.usernames["lanh_dao"])
    account, _ = accounts.create_account("Vũ Thị Lan", AGENCY, ["chuyen_vien"], 0, None, admin)
    named = named_requests(monkeypatch)
    accounts.confirm_reset(account.username, head)
    assert _lists(named, f"accounts/{head.username}/v") == 1  # 2 before s27
    assert _lists(named, "units/") == 1  # 3 before
    assert _lists(named, f"accounts/{account.username}/v") == 2  # the target, and _update's read
    assert sum("/prefix=" in s for s in named.seen) == 5, named.seen  # 8 before


def test_a_token_is_issued_with_two_reads_of_its_person(s3_kho: Kho, monkeypatch: pytest.MonkeyPatch) -> None:
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    me = accounts.get(people.usernames["chuyen_vien"])
    named = named_requests(monkeypatch)
    accounts.issue_token(me.username, "test s27", me)
    # the person as the target (and actor), then again after the token's write (review a6)
    assert _lists(named, f"accounts/{me.username}/v") == 2  # 3 before s27
    assert sum("/prefix=" in s for s in named.seen) == 2, named.seen


@pytest.fixture
def other_process(s3_kho: Kho) -> Iterator[Kho]:
    """Another installation object on the same buckets: its own store objects and services."""
    other = Kho(Settings.from_env())
    try:
        yield other
    finally:
        other.close()


def test_a_confirmer_locked_by_another_process_is_refused_at_the_next_confirmation(
    s3_kho: Kho, other_process: Kho
) -> None:
    """The view is the operation's: the lãnh đạo confirms one account, is locked by another
    process, and their next confirmation is refused (nothing of the first one's view kept)."""
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    head = accounts.get(people.usernames["lanh_dao"])
    first, _ = accounts.create_account("Vũ Thị Lan", AGENCY, ["chuyen_vien"], 0, None, admin)
    second, _ = accounts.create_account("Đặng Văn Nam", AGENCY, ["chuyen_vien"], 0, None, admin)
    accounts.confirm_reset(first.username, head)
    other_admin = other_process.accounts.get(people.usernames["quan_tri"])
    other_process.accounts.lock(head.username, LockReason.ADMIN, other_admin, "test s27")
    with pytest.raises(PermissionDenied) as refused:
        accounts.confirm_reset(second.username, head)
    assert refused.value.code == "ACCOUNT_LOCKED"
    assert accounts.get(second.username).awaiting_confirmation  # nothing written for them


def test_a_role_taken_away_by_another_process_counts_at_the_next_creation(
    s3_kho: Kho, other_process: Kho
) -> None:
    """A second quản trị creates an account, loses the role in another process, and their next
    creation is refused: the policy sees the actor as stored when the operation begins."""
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    head = accounts.get(people.usernames["lanh_dao"])
    second_admin, first_half = accounts.create_account("Mai Văn Quản", AGENCY, ["quan_tri"], 0, None, admin)
    _, second_half = accounts.confirm_reset(second_admin.username, head)
    accounts.change_password(second_admin.username, first_half + second_half, PASSWORD)
    acting = accounts.get(second_admin.username)
    accounts.create_account("Vũ Thị Lan", AGENCY, ["chuyen_vien"], 0, None, acting)
    other_admin = other_process.accounts.get(people.usernames["quan_tri"])
    other_process.accounts.set_roles(acting.username, [(AGENCY, Role.CHUYEN_VIEN)], other_admin)
    with pytest.raises(PermissionDenied):
        accounts.create_account("Đặng Văn Nam", AGENCY, ["chuyen_vien"], 0, None, acting)


def test_a_unit_made_by_another_process_is_known_at_the_next_creation(
    s3_kho: Kho, other_process: Kho
) -> None:
    people = make_people(s3_kho)
    accounts = s3_kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    accounts.create_account("Vũ Thị Lan", UNIT_B, ["chuyen_vien"], 0, None, admin)
    other_admin = other_process.accounts.get(people.usernames["quan_tri"])
    other_process.accounts.create_unit("000.02.18.H40", "Phòng Lưu trữ", "plt", AGENCY, other_admin)
    account, _ = accounts.create_account("Đặng Văn Nam", "000.02.18.H40", ["chuyen_vien"], 0, None, admin)
    assert [m.unit for m in accounts.get(account.username).memberships] == ["000.02.18.H40"]
    assert "Phòng Lưu trữ" in accounts.notifications(account.username)[0].message


PAGE = 14
"""S3 requests of the record page, warm, asked more than :data:`repository.keys.KEY_RECHECK_SECONDS`
after the page before (so with the HEAD of the record's key; 15 before s28, whose version object
this process had read under the same ETag, 17 before s27, 20 before s26: NOTES-s27 §2, NOTES-s28)."""


def _page_site(kho: Kho) -> tuple[People, FlaskClient, str]:
    people = make_people(kho)
    web = create_app(kho.settings, kho=kho).test_client()
    doc = kho.repo.create_document("den", incoming(code_number="2701"), None, None, people.actor("van_thu"))
    assert login(web, people, "van_thu").status_code == 302
    assert web.get(f"/records/{doc.record_id}").status_code == 200
    return people, web, doc.record_id


def test_the_record_page_lists_its_versions_once_and_catches_the_log_up_once(
    s3_kho: Kho, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, web, record_id = _page_site(s3_kho)
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)  # the count does not hang on the load (ci59)
    named = named_requests(monkeypatch)
    page = web.get(f"/records/{record_id}")
    assert page.status_code == 200
    assert _lists(named, f"records/{record_id}/v") == 1, named.seen  # 2 before s27
    witness = [s for s in named.seen if s.startswith("GET ") and s.endswith("/pointers/audit/witness.json")]
    assert len(witness) == 2, named.seen  # the token check's catch-up and the append (3 before)
    assert len(named.seen) == PAGE, named.seen
    assert audit._CAUGHT_UP.get() is None  # nothing of the request's view outlives it


def test_a_version_and_an_event_written_by_another_process_show_on_the_next_page(
    s3_kho: Kho, other_process: Kho
) -> None:
    """Between two record pages of a warm browser another process corrects the record (a new
    version, an ``record:update`` event): the next page lists the new version in its history
    and shows the event, the token check's catch-up having read the log once for the page."""
    people, web, record_id = _page_site(s3_kho)
    first = web.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Về việc sửa trích yếu s27" not in first and "Sửa dữ liệu đặc tả" not in first
    clerk = other_process.actor_of(other_process.accounts.get(people.usernames["van_thu"]), "test")
    other_process.repo.update_metadata(
        record_id, {"subject": "Về việc sửa trích yếu s27"}, expected_version=1, actor=clerk
    )
    page = web.get(f"/records/{record_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Về việc sửa trích yếu s27" in text  # the newest version, listed by this request
    assert "Sửa dữ liệu đặc tả" in text  # the other process's record:update, in the page's events
