"""rv66: a handling step taken while a backup cut settles is in the copy with its event.

A step (``workflow/<record>/<seq>``) is written before its ``handling:<act>`` event; ``workflow/``
sorts after ``registers/``, so a step taken as the settle step's catch-up listing ends had its
event in the copy (a settle round lists the log) and its object not: the restored document's
log named a step its handling did not show. The cut now looks for the step the event's
``details.seq`` names (at most ``_LOOKS`` times). The real installation (``Kho``), local folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kho_backup_cut import catch_up_cut
from kho_people import People
from kho_testing import incoming, new_repository

from repository.handling import step_key
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from repository.workflow import Act
from retention.backup import backup, restore
from web.context import Kho


def _catch_up_cut(store: ObjectStore, after: Callable[[], None]) -> list[int]:
    """m68's cut, its ``between`` left out: :func:`kho_backup_cut.catch_up_cut`."""
    return catch_up_cut(store, None, after)


def test_a_handling_step_taken_while_the_cut_settles_is_in_the_copy(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """Main: the copy's log has the ``handling:submit`` event, the copy has no step 1."""
    repo = kho.repo
    clerk = people.actor("van_thu")
    record = repo.create_document("den", incoming(code_number="66"), None, None, clerk)
    leader = people.usernames["lanh_dao"]

    def after() -> None:
        kho.handling.take(record.record_id, Act.SUBMIT, expected_seq=0, actor=clerk, users=[leader])

    full = _catch_up_cut(repo.store, after)
    copy = LocalStore(tmp_path / "b-store")
    backup(repo.store, copy, label="store", settle_seconds=10)
    del repo.store.list  # type: ignore[attr-defined]
    assert full[0] >= 2 and repo.store.exists(step_key(record.record_id, 1))
    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    assert any(e.action == "handling:submit" for e in fresh.audit.events())
    assert fresh.store.exists(step_key(record.record_id, 1))
