"""Signed checkpoints find what a store writer can do to the chain unseen by the chain alone."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import AGENCY, AGENCY_NAME, CLERK, incoming, new_repository

from repository import audit_offline as offline
from repository.anchor import Anchor, checkpoint_key, export, generate_key, make_checkpoint, verify_anchored
from repository.audit import AuditLog
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture(params=[True, False], ids=["batches", "single-events"])
def anchored(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Repository, LocalStore, Anchor]:
    """Four registered records (events 0..7) as four batches (group commit, the default) or as
    eight single events, checkpointed outside the store."""
    store = LocalStore(tmp_path / "s")
    repo = Repository(store, LocalStore(tmp_path / "k"), agency_id=AGENCY, agency_name=AGENCY_NAME,
                      audit_group_commit=request.param)
    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")
    repo.anchor = anchor
    for n in range(4):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    assert tamper.is_batched(store) is request.param
    return repo, store, anchor


def _kinds(repo: Repository, anchor: Anchor) -> list[str]:
    return [f.kind for f in verify_anchored(repo.audit, anchor).findings]


_rewrite_consistently = tamper.rewrite_consistently


def test_untouched_chain_agrees_with_its_checkpoints(anchored: tuple[Repository, LocalStore, Anchor]) -> None:
    repo, store, anchor = anchored
    first = make_checkpoint(store, anchor)
    repo.create_document("den", incoming(code_number="200"), None, None, CLERK)
    second = make_checkpoint(store, anchor)
    assert (first["number"], second["number"]) == (1, 2)
    assert second["registers"] and max(second["registers"].values()) == 5
    report = verify_anchored(repo.audit, anchor)
    assert report.ok, report.findings


def test_consistent_rewrite_is_found_given_a_checkpoint(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    _rewrite_consistently(store, drop={3, 5})
    assert repo.audit.verify().ok  # the chain alone is fooled
    findings = verify_anchored(repo.audit, anchor).findings
    assert [f.kind for f in findings] == ["rewritten"]
    assert findings[0].seq <= 3 and "#7" in findings[0].message


def test_tail_truncation_with_lowered_witness_is_found(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    tamper.cut_from(store, 6)  # the last act (its batch, or its two events)
    tamper.lower_witness(store, 5)
    assert repo.audit.verify().ok
    findings = verify_anchored(repo.audit, anchor).findings
    assert [(f.kind, f.seq) for f in findings] == [("truncated", 6)]


def test_rewrite_after_a_later_checkpoint_names_where_it_starts(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)  # covers 0..7
    repo.create_document("den", incoming(code_number="300"), None, None, CLERK)  # 8, 9
    repo.create_document("den", incoming(code_number="301"), None, None, CLERK)  # 10, 11
    make_checkpoint(store, anchor)  # covers 0..11
    _rewrite_consistently(store, drop={9})
    findings = verify_anchored(repo.audit, anchor).findings
    assert [f.kind for f in findings] == ["rewritten"]
    assert findings[0].seq > 7  # events up to the first checkpoint are vouched for


def test_deleted_checkpoint_is_found_from_the_copy_outside(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    store.delete(checkpoint_key(1))
    _rewrite_consistently(store, drop={2})
    kinds = _kinds(repo, anchor)
    assert "checkpoint" in kinds and "rewritten" in kinds


def test_auditors_own_checkpoint_file_is_used(
    anchored: tuple[Repository, LocalStore, Anchor], tmp_path: Path
) -> None:
    repo, store, anchor = anchored
    kept = tmp_path / "mine.json"
    make_checkpoint(store, Anchor(signing_key=anchor.signing_key), out=[kept])
    store.delete(checkpoint_key(1))
    _rewrite_consistently(store, drop={1})
    bare = Anchor(signing_key=anchor.signing_key)  # no folder: only the auditor's file is left
    assert verify_anchored(repo.audit, bare).ok is True  # nothing to compare with
    report = verify_anchored(repo.audit, bare, [json.loads(kept.read_text())])
    assert [f.kind for f in report.findings] == ["checkpoint", "rewritten"]  # deleted, then the rewrite


def test_forged_checkpoint_is_named_and_ignored(anchored: tuple[Repository, LocalStore, Anchor]) -> None:
    repo, store, anchor = anchored
    cp = make_checkpoint(store, anchor)
    forged = {**cp, "seq": 2}
    (store.root / "objects" / checkpoint_key(1)).write_text(json.dumps(forged))
    assert anchor.checkpoint_dir is not None
    for path in anchor.checkpoint_dir.glob("*.json"):
        path.unlink()
    findings = verify_anchored(repo.audit, anchor).findings
    assert [f.kind for f in findings] == ["checkpoint"]


def test_sample_points_are_logarithmic() -> None:
    assert offline.sample_points(-1) == []
    assert offline.sample_points(0) == [0]
    assert offline.sample_points(7) == [7, 6, 4, 0]
    assert len(offline.sample_points(1_000_000)) <= 22


def test_export_verifies_offline_and_finds_the_same(
    anchored: tuple[Repository, LocalStore, Anchor], tmp_path: Path
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    out = tmp_path / "export"
    events, checkpoints = export(repo.audit, anchor, out)
    assert (events, checkpoints) == (8, 1)
    assert {p.name for p in out.iterdir()} >= {
        "events.jsonl",
        "checkpoints",
        "public-key.pem",
        "verify_audit.py",
    }
    key = offline.load_public_key(out / "public-key.pem")
    assert offline.verify_export(out, key) == []
    assert offline.main([str(out)]) == 0

    _rewrite_consistently(store, drop={3, 4})
    tampered = tmp_path / "tampered"
    export(repo.audit, Anchor(signing_key=anchor.signing_key), tampered)  # the store lost nothing yet
    mine = json.loads(next((out / "checkpoints").glob("*.json")).read_text())
    kinds = [f.kind for f in offline.verify_export(tampered, key, [mine])]
    assert kinds == ["rewritten"]


def test_export_script_runs_standalone(
    anchored: tuple[Repository, LocalStore, Anchor], tmp_path: Path
) -> None:
    import subprocess
    import sys

    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    out = tmp_path / "export"
    export(repo.audit, anchor, out)
    data = json.loads((out / "events.jsonl").read_text().splitlines()[3])["event"]
    # the second event of a batch, as stored (no ``seal`` field: this log has no seal key)
    assert data == tamper.event_at(store, 3).stored() == {
        k: v for k, v in asdict(tamper.event_at(store, 3)).items() if k != "seal"
    }
    done = subprocess.run(
        [sys.executable, "-I", str(out / "verify_audit.py"), str(out)],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_checkpoints_are_write_once_where_the_store_has_retention(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    from kho.errors import RetentionLocked

    _repo, store, anchor = anchored
    locked = Anchor(signing_key=anchor.signing_key, retention_days=30)
    make_checkpoint(store, locked)
    retention = store.get_retention(checkpoint_key(1))
    assert retention is not None and retention.mode == "COMPLIANCE"
    with pytest.raises(RetentionLocked):
        store.delete(checkpoint_key(1))


class _CountingStore(LocalStore):
    """Counts the audit events read (to show what an incremental verification rereads)."""

    reads = 0

    def get(self, key: str, version_id: str | None = None) -> bytes:
        if key.startswith("audit/events/"):
            type(self).reads += 1
        return super().get(key, version_id)


def test_incremental_verification_reads_only_the_tail_and_still_finds_a_rewrite(tmp_path: Path) -> None:
    from repository.anchor import VERIFIED_STATE

    store = _CountingStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")
    repo.anchor = anchor
    for n in range(30):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor, incremental=True).ok  # no mark yet: the full walk
    assert (anchor.checkpoint_dir / VERIFIED_STATE).exists()  # type: ignore[operator]
    for n in range(3):
        repo.create_document("den", incoming(code_number=f"{200 + n}"), None, None, CLERK)
    make_checkpoint(store, anchor)
    _CountingStore.reads = 0
    quick = verify_anchored(repo.audit, anchor, incremental=True)
    assert _CountingStore.reads <= 10  # the tail after the mark and the checkpoint heads
    objects = sum(1 for _ in store.list("audit/events/"))  # 33 batches of two events
    assert quick.ok and quick.events == sum(1 for _ in AuditLog(store).events()) == 2 * objects
    _CountingStore.reads = 0
    full = verify_anchored(repo.audit, anchor)
    assert full.ok and full.last_hash == quick.last_hash and _CountingStore.reads > 2 * objects - 5

    # A consistent rewrite before the mark changes the signed heads: found, named by the full walk.
    _rewrite_consistently(store, drop={4})
    kinds = [f.kind for f in verify_anchored(repo.audit, anchor, incremental=True).findings]
    assert kinds == ["rewritten", "rewritten"]  # against each of the two checkpoints



@pytest.mark.parametrize("which", [1, 2])
def test_incremental_verification_names_a_checkpoint_deleted_from_the_store(
    anchored: tuple[Repository, LocalStore, Anchor], which: int
) -> None:
    """A checkpoint deleted from the store (its copy outside kept; the older one, or the newest)
    is named by the full walk; the quick check must not say ok: it leaves it to the full walk
    (before r10 it did not look and said ok)."""
    from repository.anchor import checkpoint_key

    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    repo.create_document("den", incoming(code_number="301"), None, None, CLERK)
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor).ok  # sets the mark
    store.delete(checkpoint_key(which))
    full = verify_anchored(repo.audit, anchor)
    assert [f.kind for f in full.findings] == ["checkpoint"]
    quick = verify_anchored(repo.audit, anchor, incremental=True)
    assert not quick.ok and quick.findings == full.findings


def test_a_checkpoint_deleted_from_the_store_does_not_give_its_number_again(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    """One who can write the store deletes its newest checkpoint: the next checkpoint must not
    take that number again, which would overwrite the copy outside the store (where a store
    writer must not be able to rewrite a checkpoint) and hide the deletion from verify."""
    from repository.anchor import checkpoint_key

    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    second = make_checkpoint(store, anchor)
    assert anchor.checkpoint_dir is not None
    outside = anchor.checkpoint_dir / f"{second['number']:012d}.json"
    kept = outside.read_bytes()
    store.delete(checkpoint_key(second["number"]))
    repo.create_document("den", incoming(code_number="302"), None, None, CLERK)
    third = make_checkpoint(store, anchor)
    assert third["number"] == second["number"] + 1
    assert outside.read_bytes() == kept
    assert [f.kind for f in verify_anchored(repo.audit, anchor).findings] == ["checkpoint"]

def test_incremental_verification_finds_a_changed_tail_event(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor).ok  # sets the mark
    repo.create_document("den", incoming(code_number="300"), None, None, CLERK)
    last = AuditLog(store).verify().last_seq
    assert last is not None

    def forge(raw: dict[str, object]) -> None:
        raw["actor"] = "someone.else"

    tamper.edit_event(store, last, forge)  # inside the newest batch
    kinds = [f.kind for f in verify_anchored(repo.audit, anchor, incremental=True).findings]
    assert kinds == ["changed"]
