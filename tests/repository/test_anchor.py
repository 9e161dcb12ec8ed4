"""Signed checkpoints find what a store writer can do to the chain unseen by the chain alone."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository

from repository import audit_offline as offline
from repository.anchor import Anchor, checkpoint_key, export, generate_key, make_checkpoint, verify_anchored
from repository.audit import WITNESS_KEY, AuditEvent, event_key
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture
def anchored(tmp_path: Path) -> tuple[Repository, LocalStore, Anchor]:
    store = LocalStore(tmp_path / "s")
    repo = new_repository(store, LocalStore(tmp_path / "k"))
    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")
    repo.anchor = anchor
    for n in range(4):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    return repo, store, anchor


def _path(store: LocalStore, seq: int) -> Path:
    return store.root / "objects" / event_key(seq)


def _kinds(repo: Repository, anchor: Anchor) -> list[str]:
    return [f.kind for f in verify_anchored(repo.audit, anchor).findings]


def _rewrite_consistently(store: LocalStore, drop: set[int]) -> None:
    """What an attacker with store write access does: drop events, renumber and rehash the rest,
    rewrite the witness, so the chain alone verifies."""
    events = []
    seq = 0
    while _path(store, seq).exists():
        events.append(AuditEvent.from_json(_path(store, seq).read_bytes()))
        _path(store, seq).unlink()
        seq += 1
    prev = "0" * 64
    kept = [e for e in events if e.seq not in drop]
    for n, event in enumerate(kept):
        forged = replace(event, seq=n, prev=prev, hash="")
        forged = replace(forged, hash=forged.compute_hash())
        _path(store, n).parent.mkdir(parents=True, exist_ok=True)
        _path(store, n).write_bytes(forged.to_json())
        prev = forged.hash
    store.put(WITNESS_KEY, json.dumps({"seq": len(kept) - 1, "hash": prev, "format_version": 1}).encode())


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
    for seq in (6, 7):
        _path(store, seq).unlink()
    five = AuditEvent.from_json(_path(store, 5).read_bytes())
    store.put(WITNESS_KEY, json.dumps({"seq": 5, "hash": five.hash, "format_version": 1}).encode())
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
    data = json.loads((out / "events.jsonl").read_text().splitlines()[2])["event"]
    assert data == {**asdict(AuditEvent.from_json(_path(store, 2).read_bytes()))}
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
    assert quick.ok and quick.events == sum(1 for _ in store.list("audit/events/"))
    assert _CountingStore.reads <= 10  # the tail after the mark and the checkpoint heads
    _CountingStore.reads = 0
    full = verify_anchored(repo.audit, anchor)
    assert full.ok and full.last_hash == quick.last_hash and _CountingStore.reads > 2 * quick.events - 5

    # A consistent rewrite before the mark changes the signed heads: found, named by the full walk.
    _rewrite_consistently(store, drop={4})
    kinds = [f.kind for f in verify_anchored(repo.audit, anchor, incremental=True).findings]
    assert kinds == ["rewritten", "rewritten"]  # against each of the two checkpoints


def test_incremental_verification_finds_a_changed_tail_event(
    anchored: tuple[Repository, LocalStore, Anchor],
) -> None:
    repo, store, anchor = anchored
    make_checkpoint(store, anchor)
    assert verify_anchored(repo.audit, anchor).ok  # sets the mark
    repo.create_document("den", incoming(code_number="300"), None, None, CLERK)
    last = max(int(i.key.rsplit("/", 1)[1].split(".")[0]) for i in store.list("audit/events/"))
    raw = json.loads(_path(store, last).read_bytes())
    raw["actor"] = "someone.else"
    _path(store, last).chmod(0o644)
    _path(store, last).write_text(json.dumps(raw))
    kinds = [f.kind for f in verify_anchored(repo.audit, anchor, incremental=True).findings]
    assert kinds == ["changed"]
