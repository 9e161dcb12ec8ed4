"""Review z3: a record rolled back by deleting its newest versions from the store.

Kho then serves the earlier version (the change undone, no event) and, before this check, fsck
said nothing, though the log names the deleted version (every event of an act on a record
carries the version it made or read). fsck now reports ``rolled-back``, never repaired."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository, pdf_bytes

from repository.fsck import fsck
from repository.records import version_key


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_record_rolled_back_in_the_store_is_reported(backend: str, tmp_path: Path) -> None:
    repo = new_repository(make_store(backend, tmp_path, "z3r"), make_store("local", tmp_path, "keys"))
    record = repo.create_document("den", incoming(), pdf_bytes("a"), "a.pdf", CLERK)
    changed = repo.update_metadata(
        record.record_id, {"subject": "Đổi trích yếu"}, expected_version=1, actor=CLERK
    )
    untouched = repo.create_document("den", incoming(code_number="99"), pdf_bytes("b"), "b.pdf", CLERK)
    repo.update_metadata(untouched.record_id, {"subject": "Khác"}, expected_version=1, actor=CLERK)
    assert not [i for i in fsck(repo, grace_seconds=0).issues if i.kind == "rolled-back"]

    repo.store.delete(version_key(record.record_id, changed.version))  # every version of the key
    assert repo._load(record.record_id).version == 1  # served as it was before the change
    found = [i for i in fsck(repo, repair=True, grace_seconds=0).issues if i.kind == "rolled-back"]
    assert [i.subject for i in found] == [version_key(record.record_id, 2)]  # before: no finding
    assert not found[0].repairable and not found[0].repaired
    assert "phiên bản 2" in found[0].message and "phiên bản 1" in found[0].message
