"""Objects under the audit log's folder whose key is not an event key as Kho writes one. The walk
of ``verify`` took any key's number as an event's position: an event renamed to
``…/000000000002.x`` verified clean although every reader by key (a record's history, the
witness check) no longer found it, and an object named ``README.json`` stopped ``verify`` (and
``kho audit verify``, fsck's first step) with a ValueError traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository

from repository.anchor import Anchor, generate_key, make_checkpoint, verify_anchored
from repository.audit import event_key, raw_holding
from repository.records import Repository


def _repo(backend: str, tmp_path: Path) -> tuple[Repository, list[str]]:
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store("local", tmp_path, "keys"))
    key = tmp_path / "offsite" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    repo.anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "offsite" / "checkpoints")
    ids = [
        repo.create_document(
            "den", incoming(code_number=str(n + 1)), b"%PDF-1.4\n" + bytes([n]) * 900, f"a{n}.pdf", CLERK
        ).record_id
        for n in range(4)
    ]
    return repo, ids


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_event_renamed_out_of_its_key_is_named_not_verified_whole(backend: str, tmp_path: Path) -> None:
    repo, ids = _repo(backend, tmp_path)
    make_checkpoint(repo.store, repo.anchor)
    second = [e for e in repo.audit.events() if e.record_id == ids[1]]
    home = event_key(second[0].seq)
    assert repo.store.exists(home)
    repo.store.put(home.replace(".json", ".x"), repo.store.get(home))  # the same bytes, renamed
    repo.store.delete(home)
    for report in (repo.audit.verify(), verify_anchored(repo.audit, repo.anchor)):
        assert not report.ok
        kinds = {(f.kind, f.seq) for f in report.open_findings}
        assert ("removed", second[0].seq) in kinds, report.findings
        assert any("000000000002.x" in f.message for f in report.open_findings), report.findings
    # What verify says is what readers by key find: no object holds the event there.
    assert raw_holding(repo.store, second[0].seq) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_foreign_object_in_the_log_is_a_finding_not_a_traceback(backend: str, tmp_path: Path) -> None:
    repo, ids = _repo(backend, tmp_path)
    make_checkpoint(repo.store, repo.anchor)
    repo.store.put("audit/events/000000/README.json", b'{"note": "not an event"}')
    for report in (repo.audit.verify(), verify_anchored(repo.audit, repo.anchor)):
        assert [f.kind for f in report.open_findings] == ["inserted"], report.findings
        assert "README.json" in report.open_findings[0].message
    assert [e.seq for e in repo.audit.events()] == sorted(e.seq for e in repo.audit.events())
    assert {e.record_id for e in repo.audit.query(record_id=ids[0])} == {ids[0]}


def test_an_auditor_can_acknowledge_a_foreign_object_and_a_changed_one_is_named_again(tmp_path: Path) -> None:
    """The finding stays at one place as the log grows (position 0), so
    the auditor's signed acknowledgement, always after it, covers it; it covers only the bytes
    seen: the same object with other bytes is a finding again."""
    from kho_testing import AUDITOR, LOGIN

    from repository.acknowledge import findings_digest

    repo, _ = _repo("local", tmp_path)
    make_checkpoint(repo.store, repo.anchor)
    repo.store.put("audit/events/000000/README.json", b'{"note": "not an event"}')
    digest = findings_digest(verify_anchored(repo.audit, repo.anchor).findings)
    repo.audit_acknowledge(
        actor=AUDITOR, digest=digest, reason="Tệp ghi chú do quản trị đặt nhầm chỗ.", login=LOGIN
    )
    report = verify_anchored(repo.audit, repo.anchor)
    assert report.ok and any("README.json" in f.message for f in report.findings), report.findings
    repo.store.put("audit/events/000000/README.json", b'{"note": "other bytes"}')
    assert not verify_anchored(repo.audit, repo.anchor).ok
