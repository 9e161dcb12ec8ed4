"""A destroyed record (its key crypto-shredded) keeps its "đã hủy" row: registers, reindex,
index-check and fsck keep working, and its content stays unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository

from ingest.indexing import check_index, reindex_all
from kho.errors import KeyDestroyed, KhoError, PermissionDenied
from repository.fsck import fsck
from repository.records import DESTROYED_PLACEHOLDER, Actor, Repository
from repository.storage.local import LocalStore
from search import open_backend

ARCHIVIST = Actor(user="system:retention", source="test", system=True)
DECISION = "Quyết định số 12/QĐ-UBND ngày 20/11/2026"


@pytest.fixture
def destroyed(tmp_path: Path) -> tuple[Repository, str]:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    ids = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4 " + bytes([n]) * 64, "cv.pdf", CLERK
        ).record_id
        for n in range(1, 4)
    ]
    repo.destroy(ids[1], decision=DECISION, actor=ARCHIVIST)
    return repo, ids[1]


def test_register_keeps_the_destroyed_row(destroyed: tuple[Repository, str]) -> None:
    repo, gone = destroyed
    rows = repo.register("den", 2026, actor=ARCHIVIST)
    assert [r.registration.number for r in rows if r.registration] == [1, 2, 3]
    row = next(r for r in rows if r.record_id == gone)
    assert row.state == "destroyed" and not row.files
    assert row.metadata is not None and row.metadata.subject == DESTROYED_PLACEHOLDER
    assert row.metadata.code_number == "02"  # the register columns stay


def test_content_is_unreadable_and_the_destruction_audited(destroyed: tuple[Repository, str]) -> None:
    repo, gone = destroyed
    assert not repo.keys.exists(gone)
    with pytest.raises(KeyDestroyed):
        repo.keys.get(gone)
    event = [e for e in repo.audit.events() if e.action == "record:destroy"]
    assert [(e.record_id, e.details["decision"], e.actor) for e in event] == [
        (gone, DECISION, ARCHIVIST.user)
    ]


def test_reindex_and_index_check_keep_working(destroyed: tuple[Repository, str], tmp_path: Path) -> None:
    repo, _ = destroyed
    backend = open_backend(tmp_path / "index")
    report = reindex_all(repo, backend)
    assert report.total == 3
    assert check_index(repo, backend).ok


def test_fsck_is_clean_and_finds_a_resurrected_key(destroyed: tuple[Repository, str]) -> None:
    repo, gone = destroyed
    report = fsck(repo, deep=True)
    assert report.clean, report.issues
    assert report.records == 3
    repo.keys.store.put(f"keys/{gone}", b"k" * 32)  # an old key-store backup put back
    assert [(i.kind, i.subject) for i in fsck(repo).issues] == [("key-not-destroyed", f"keys/{gone}")]


def test_only_operators_destroy_and_only_with_a_decision(destroyed: tuple[Repository, str]) -> None:
    repo, gone = destroyed
    live = next(r for r in repo.record_ids() if r != gone)
    with pytest.raises(PermissionDenied):
        repo.destroy(live, decision=DECISION, actor=CLERK)
    with pytest.raises(KhoError) as info:
        repo.destroy(live, decision="  ", actor=ARCHIVIST)
    assert info.value.code == "DECISION_REQUIRED"
