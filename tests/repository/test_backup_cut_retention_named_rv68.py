"""rv68: a backup cut holds the retention objects its copied log names.

rv66 made the settle step fetch the hold, "đã hủy" row, hồ sơ link and handling step a copied
event names. It left the objects of the retention workflow, each written before its event under
``retention/`` (which the settle loop never lists again): a version of the schedule
(``retention/schedule/v<n>.json``, ``retention:schedule-edit``), of a year's danh mục hồ sơ
(``retention/plans/<year>/v<n>.json``, ``plan:*``), of a workflow record
(``retention/<area>/<id>/v…``: a hold order, a destruction case, a recall, a transfer) and a
handling step's withheld distribution (``workflow-withheld/<record>/<seq>``). An act taken as
the settle step's catch-up listing ends (m68's ``_catch_up_cut``) had its event in the copy and
its object not: the restored store's log edited a schedule, drafted a plan or placed a hold
order the store lacks. Now each is fetched; after the restore fsck --deep is clean and the
object's effect holds (the schedule edited, the plan drafted, the order active and releasable).

Real stores: the local folder and the S3 gateway (Ceph RGW)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kho_backup_cut import catch_up_cut, cut_and_restore
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from repository.audit import EventDraft
from repository.records import Actor, Record, Repository
from repository.saved_searches import SavedSearches
from repository.storage.base import ObjectInfo, ObjectStore
from retention.backup import backup
from retention.holds import Holds
from retention.service import RetentionService

OPERATOR = Actor(user="operator", source="test", system=True)
ALERT = "retention:alert"

PLAN = {
    "year": 2026,
    "headings": [{"number": "I", "title": "Tổng hợp", "abbreviation": "TH"}],
    "items": [
        {
            "notation": "01.TH",
            "title": "Công văn trao đổi về công tác văn thư",
            "maintenance": "05 năm",
            "creator": "Văn phòng",
            "heading": "I",
        }
    ],
}


def _create(repo: Repository, n: int) -> Record:
    """A registered incoming document (m68's test's)."""
    content = b"%PDF-1.4\n" + f"rv68 record {n} ".encode() * 60
    record = repo.create_document("den", incoming(code_number=str(n)), content, f"cv{n}.pdf", CLERK)
    assert record.registration is not None
    return record


def _catch_up_cut(store: ObjectStore, after: Callable[[], None]) -> list[int]:
    """m68's cut, its ``between`` left out: :func:`kho_backup_cut.catch_up_cut`."""
    return catch_up_cut(store, None, after)


def _cut_and_restore(backend: str, tmp_path: Path, repo: Repository, after: Callable[[], None]) -> Repository:
    """:func:`kho_backup_cut.cut_and_restore`."""
    return cut_and_restore(backend, tmp_path, repo, after)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_schedule_edited_while_the_cut_settles_is_edited_in_the_copy(backend: str, tmp_path: Path) -> None:
    """Main: the copy's log has ``retention:schedule-edit`` version 1, the copy has no
    ``retention/schedule/v000001.json``: the restored schedule is the shipped one."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    _create(repo, 1)
    service = RetentionService(repo)
    shipped = service.schedule()
    entries = [e.to_dict() for e in shipped.entries][:-1]

    def after() -> None:
        service.edit_schedule(
            entries, expected_version=shipped.version, note="Bỏ một dòng (rv68)", actor=OPERATOR
        )

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert any(e.action == "retention:schedule-edit" for e in fresh.audit.events())
    again = RetentionService(fresh).schedule()
    assert again.version == shipped.version + 1
    assert again.note == "Bỏ một dòng (rv68)"
    assert len(again.entries) == len(entries)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_plan_drafted_while_the_cut_settles_is_in_the_copy(backend: str, tmp_path: Path) -> None:
    """Main: the copy's log has ``plan:draft`` of 2026 version 1, the copy has no plan of 2026
    (``PLAN_NOT_FOUND`` on the restored store)."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    _create(repo, 1)

    def after() -> None:
        RetentionService(repo).draft_plan(PLAN, actor=OPERATOR)

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert any(e.action == "plan:draft" for e in fresh.audit.events())
    plan = RetentionService(fresh).plan(2026)
    assert plan.version == 1
    assert [i.notation for i in plan.items] == ["01.TH"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hold_order_placed_while_the_cut_settles_is_in_the_copy_and_releases(
    backend: str, tmp_path: Path
) -> None:
    """Main: the record's hold is in the copy (rv66), its order
    (``retention/holds/<order>/v000001``) not: the restored order is unknown (``NOT_FOUND``)
    and the lưu trữ's list of orders lacks it."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    record = _create(repo, 1)
    _create(repo, 2)
    placed: list[str] = []

    def after() -> None:
        placed.append(Holds(repo).place([record.record_id], "Thanh tra (rv68)", actor=OPERATOR)["order_id"])

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    holds = Holds(fresh)
    order = holds.orders.latest(placed[0])
    assert order["state"] == "active" and order["targets"] == [record.record_id]
    assert [h["hold_id"] for h in fresh.holds_on(record.record_id)] == placed
    released = holds.release(placed[0], "Kết thúc thanh tra", actor=OPERATOR)
    assert released["state"] == "released"
    assert fresh.holds_on(record.record_id) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_search_saved_while_the_cut_settles_is_in_the_copy(backend: str, tmp_path: Path) -> None:
    """Main: the copy's log has ``search:save``, the copy has no
    ``saved-searches/<owner hash>/<id>.json``: the person's saved search is gone."""
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    _create(repo, 1)
    saved: list[str] = []

    def after() -> None:
        made = SavedSearches(repo).save("Công văn đến (rv68)", "công văn", {}, [], actor=CLERK)
        saved.append(made.search_id)

    fresh = _cut_and_restore(backend, tmp_path, repo, after)
    assert [s.search_id for s in SavedSearches(fresh).list(actor=CLERK)] == saved
    assert SavedSearches(fresh).get(saved[0], actor=CLERK).name == "Công văn đến (rv68)"


def test_crafted_retention_events_make_the_cut_read_no_key_outside_their_folders(tmp_path: Path) -> None:
    """Events naming a schedule or plan version out of range or not an int, a plan year that is
    a path, a withheld step of a record id that is a path or a step out of range, a workflow id
    or a saved search id that is a path, an alert's due date that is a path: the backup ends
    and reads or lists nothing under ``keys``, ``retention/``, ``workflow-withheld/``,
    ``saved-searches/`` (no ``ValueError`` traceback)."""
    repo = new_repository(make_store("local", tmp_path, "store"), make_store("local", tmp_path, "keys"))
    record = _create(repo, 1)
    crafted = [
        EventDraft("x", "retention:schedule-edit", details={"version": 10**9}),
        EventDraft("x", "retention:schedule-edit", details={"version": "../../keys/x"}),
        EventDraft("x", "plan:draft", details={"year": "../../keys", "version": 1}),
        EventDraft("x", "plan:approve", details={"year": 20260, "version": 1}),
        EventDraft("x", "handling:distribute-withheld", record_id="../keys", details={"seqs": [1]}),
        EventDraft(
            "x", "handling:distribute-withheld", record_id=record.record_id, details={"seqs": [10**9, "../x"]}
        ),
        EventDraft("x", "destruction:propose", details={"case_id": "../../keys/abcdef"}),
        EventDraft("x", "hold:place", record_id=record.record_id, details={"hold_id": "../../keys"}),
        EventDraft("x", "transfer:export", details={"transfer_id": "0123456789abcdef/../../keys"}),
        EventDraft("x", ALERT, record_id=record.record_id, details={"level": "overdue", "due": "../k"}),
        EventDraft("x", ALERT, record_id="../keys", details={"level": "soon", "due": "2026-01-01"}),
        EventDraft("../../keys", "search:save", details={"search_id": "../../keys/0123456789abcdef"}),
    ]
    read: list[str] = []
    listed: list[str] = []
    plain_get, plain_list = repo.store.get, repo.store.list

    def get(key: str, version_id: str | None = None) -> bytes:
        read.append(key)
        return plain_get(key, version_id)

    def after() -> None:
        repo.audit.append_many(crafted)
        repo.store.get = get  # type: ignore[method-assign]

    store = repo.store
    _catch_up_cut(store, after)
    cut_list = store.list

    def listing(prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        listed.append(prefix)
        yield from cut_list(prefix, start_after)

    store.list = listing  # type: ignore[method-assign]
    made = backup(store, make_store("local", tmp_path, "b-store"), label="store", settle_seconds=10)
    del store.list  # type: ignore[attr-defined]
    assert plain_list  # the store's own listing is back
    assert made.records.record_ids
    outside = ("keys", "retention/", "workflow-withheld/", "saved-searches/")
    assert not [key for key in read if key.startswith(outside)], read
    assert not [p for p in listed if p.startswith(outside)], listed
