"""rv68: the retention workflow objects an act writes while a backup cut settles are in the copy.

A destruction case's step writes its next version (``retention/destruction/<case>/v…``) before
its ``destruction:*`` event; a handling step's withheld distribution
(``workflow-withheld/<record>/<seq>``) is written before its ``handling:distribute-withheld``
event. Both sort after ``registers/`` and the settle loop never lists them again, so an act
taken as the catch-up listing ends had its event in the copy (a settle round lists the log) and
its object not. The cut now lists the case's folder once / looks for the withheld key the event
names. The submission for nộp lưu (a hồ sơ version, m68's ``versions_behind``) is pinned too.
The real installation (``Kho``), local folder (the web ``kho`` fixture's store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kho_backup_cut import catch_up_cut, cut_and_restore
from kho_people import People
from kho_retention import closed_file
from kho_testing import incoming

from kho.timeutil import vn_date
from repository import formats
from repository.handling import WITHHELD_PREFIX, step_key, withheld_key
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.workflow import Act
from retention.destruction import Destructions
from retention.holds import Holds
from retention.service import FileState, RetentionService
from retention.workflow import Versions
from web.context import Kho


def _catch_up_cut(store: ObjectStore, after: Callable[[], None]) -> list[int]:
    """m68's cut, its ``between`` left out: :func:`kho_backup_cut.catch_up_cut`."""
    return catch_up_cut(store, None, after)


def _cut_and_restore(kho: Kho, tmp_path: Path, after: Callable[[], None]) -> Repository:
    """:func:`kho_backup_cut.cut_and_restore` of the web ``kho``'s store (a local folder)."""
    return cut_and_restore("local", tmp_path, kho.repo, after)


def test_a_destruction_proposed_while_the_cut_settles_is_pending_in_the_copy(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """Main: the copy's log has ``destruction:propose`` (and its attested events), the copy has
    no case: the restored case is ``NOT_FOUND``, the proposal gone."""
    file, _ = closed_file(kho, people)
    proposed: list[dict[str, Any]] = []

    def after() -> None:
        d = Destructions(kho.repo, kho.accounts, kho.backend)
        proposed.append(d.propose([file.record_id], "Hết hạn (rv68)", actor=people.actor("luu_tru")))

    fresh = _cut_and_restore(kho, tmp_path, after)
    case_id = proposed[0]["case_id"]
    assert any(
        e.action == "destruction:propose" and (e.details or {}).get("case_id") == case_id
        for e in fresh.audit.events()
    )
    cases = Versions(fresh.store, "destruction", formats.DESTRUCTION_CASE.name, "hồ sơ hủy tài liệu")
    case = cases.latest(case_id)
    assert case["state"] == "proposed"
    assert [i["record_id"] for i in case["items"]] == [file.record_id]
    assert fresh.destroyed(file.record_id) is None


def test_a_file_submitted_while_the_cut_settles_is_still_submitted_in_the_copy(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """The submission is a version of the hồ sơ (m68 fetches the version its event names): pinned,
    passes before rv68's change too."""
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")

    def after() -> None:
        kho.retention.submit(file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien"))

    fresh = _cut_and_restore(kho, tmp_path, after)
    assert fresh._load(file.record_id).state == FileState.SUBMITTED


class _Died(BaseException):
    """The writing process ends here."""


def test_a_distribution_withheld_while_the_cut_settles_is_in_the_copy(
    app: Flask, kho: Kho, people: People, tmp_path: Path
) -> None:
    """rv6's state (a step committed, its writer dead, then a legal hold): the first read of the
    handling withholds the step's distribution as the catch-up listing ends. Main: the copy's
    log has ``handling:distribute-withheld``, the copy has no ``workflow-withheld/…/000002``: a
    later regrant on the restored store would not know the step's people were never given sight."""
    doc = kho.repo.create_document("den", incoming(code_number="968"), None, None, people.actor("van_thu"))
    kho.handling.take(
        doc.record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
    )
    store = kho.repo.store
    real = store.put_if_absent

    def dies_after_the_step(key: str, *args: Any, **kwargs: Any) -> Any:
        out = real(key, *args, **kwargs)
        if key == step_key(doc.record_id, 2):
            raise _Died
        return out

    store.put_if_absent = dies_after_the_step  # type: ignore[method-assign]
    try:
        with pytest.raises(_Died):
            kho.handling.take(
                doc.record_id, Act.DIRECT, expected_seq=1, actor=people.actor("lanh_dao"),
                users=[people.usernames["chuyen_vien_b"]],
                deadline=(vn_date(kho.handling.clock()) + timedelta(days=14)).isoformat(),
            )
    finally:
        store.put_if_absent = real  # type: ignore[method-assign]
    Holds(kho.repo).place([doc.record_id], "Phục vụ thanh tra", actor=people.actor("lanh_dao"))

    def after() -> None:
        answer = app.test_client().get(f"/api/handling/{doc.record_id}", headers=people.headers("lanh_dao"))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]

    fresh = _cut_and_restore(kho, tmp_path, after)
    assert store.exists(withheld_key(doc.record_id, 2))
    assert any(
        e.action == "handling:distribute-withheld" and e.record_id == doc.record_id
        for e in fresh.audit.events()
    )
    assert [i.key for i in fresh.store.list(f"{WITHHELD_PREFIX}{doc.record_id}/")] == [
        withheld_key(doc.record_id, 2)
    ]


def test_an_alert_sent_while_the_cut_settles_is_not_sent_again_from_the_copy(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """The sent marker (``retention/alerts/<file>/<level>-<due>.json``) is written just after
    ``retention:alert``. Main: the copy holds the event, not the marker: the restored store's
    next run tells the holder and the lưu trữ of the same overdue hồ sơ again."""
    file, _ = closed_file(kho, people, notation="68.CAT")  # closed 2015: overdue
    told: list[str] = []

    def after() -> None:
        kho.retention.send_alerts(lambda user, *_: told.append(user), [people.actor("luu_tru")])

    fresh = _cut_and_restore(kho, tmp_path, after)
    assert told, "no alert was sent while the cut settled"
    assert [e.record_id for e in fresh.audit.events() if e.action == "retention:alert"] == [file.record_id]
    again: list[str] = []
    sent = RetentionService(fresh).send_alerts(lambda user, *_: again.append(user), [people.actor("luu_tru")])
    assert sent == [] and again == []
