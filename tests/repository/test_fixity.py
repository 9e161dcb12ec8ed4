"""Fixity audits check every original within the period and mend a damaged one from a backup."""

from __future__ import annotations

from pathlib import Path

from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, new_repository

from repository.records import Actor, Repository, content_key
from repository.storage.local import LocalStore
from retention.backup import backup
from retention.fixity import audit_fixity, is_due

OPERATOR = Actor(user="system:fixity", source="test", system=True)


def test_every_key_is_due_exactly_once_per_period() -> None:
    keys = [f"records/{n:08x}/content/{n:064x}" for n in range(500)]
    counts = {k: sum(is_due(k, period=7, run=r) for r in range(100, 107)) for k in keys}
    assert set(counts.values()) == {1}
    assert 40 < sum(is_due(k, period=7, run=3) for k in keys) < 105  # about a seventh each run


def test_damaged_original_is_repaired_from_a_verified_backup(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    records = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * 300, "a.pdf", CLERK
        )
        for n in (1, 2, 3)
    ]
    copy = LocalStore(tmp_path / "backup")
    backup(repo.store, copy, label="store")
    assert audit_fixity(repo, actor=OPERATOR, copies=[copy]).damaged == ()

    rotten = content_key(records[0].record_id, records[0].files[0].sha256)
    lost = content_key(records[1].record_id, records[1].files[0].sha256)
    path = repo.store.root / "objects" / rotten
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))  # one flipped bit, never a no-op
    repo.store.delete(lost)

    report = audit_fixity(repo, actor=OPERATOR, copies=[copy])
    assert set(report.damaged) == {rotten, lost} and set(report.repaired) == {rotten, lost}
    assert report.checked == 3 and report.unrepaired == ()
    assert repo.read_content(records[0].record_id, actor=CLERK)[1].startswith(b"%PDF-1.4")
    actions = [e.action for e in repo.audit.events()]
    assert actions.count("fixity:repair") == 2 and actions.count("fixity:check") == 2

    repo.store.delete(rotten)
    assert audit_fixity(repo, actor=OPERATOR).unrepaired == (rotten,)  # no copy to mend it from


def test_an_original_whose_record_key_is_gone_or_garbled_is_reported_not_skipped(tmp_path: Path) -> None:
    """Deleting a live record's key shreds it without a decision; garbling it does the same. The
    fixity run cannot open those originals: it names them damaged and unverifiable (with the
    reason), where it used to skip them and report a clean run."""
    keystore = LocalStore(tmp_path / "k")
    repo = Repository(
        LocalStore(tmp_path / "s"), keystore, agency_id=AGENCY, agency_name=AGENCY_NAME,
        master_key=bytes(range(32)),
    )
    records = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * 300, "a.pdf", CLERK
        )
        for n in (1, 2, 3)
    ]
    assert audit_fixity(repo, actor=OPERATOR).damaged == ()
    gone, garbled, intact = records
    keystore.delete(f"keys/{gone.record_id}")
    keystore.put(f"keys/{garbled.record_id}", bytes(40))

    fresh = Repository(  # a new process: nothing cached
        LocalStore(tmp_path / "s"), keystore, agency_id=AGENCY, agency_name=AGENCY_NAME,
        master_key=bytes(range(32)),
    )
    report = audit_fixity(fresh, actor=OPERATOR)
    lost = content_key(gone.record_id, gone.files[0].sha256)
    spoilt = content_key(garbled.record_id, garbled.files[0].sha256)
    assert report.checked == 3
    assert set(report.damaged) == {lost, spoilt} and set(report.unrepaired) == {lost, spoilt}
    assert dict(report.unverifiable) == {lost: "KEY_DESTROYED", spoilt: "MASTER_KEY_MISMATCH"}
    event = [e for e in fresh.audit.events() if e.action == "fixity:check"][-1]
    assert set(event.details["damaged"]) == {lost, spoilt}
    assert event.details["unverifiable"] == {lost: "KEY_DESTROYED", spoilt: "MASTER_KEY_MISMATCH"}
    assert fresh.read_content(intact.record_id, actor=CLERK)[1].startswith(b"%PDF-1.4")
