"""Two installations sharing one checkpoint-signing key cannot acknowledge for each other
(review a25; rv19 open 3, rv23 §3's proposal, built).

A staging copy restored from production keeps ``KHO_AUDIT_SIGNING_KEY``. Its auditor cuts or
finds a cut and acknowledges it: an ``audit:acknowledge`` event chained after the same prefix as
production's, and a checkpoint signed with the shared key naming it. One who writes production's
store cuts production's tail the same way and copies staging's event, witness and checkpoint in.
Before, production's verification took the acknowledgement (signed with its key, naming that
event): the cut read as acknowledged and the next checkpoint was signed over it. Now, where a
place outside the store is configured (the checkpoint folder, the auditor's ``--checkpoint``
files), an acknowledgement counts only when its checkpoint is found there: staging's is in
staging's folder, not production's. Production's own acknowledgement still counts (its
checkpoint goes to its folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kho_testing import AUDITOR, CLERK, LOGIN, incoming, new_repository, pdf_bytes

from kho.errors import AuditChainBroken
from repository.acknowledge import FORGED, findings_digest
from repository.anchor import Anchor, generate_key, make_checkpoint, verify_anchored
from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.records import Repository
from repository.storage.local import LocalStore

REASON = "Đã đối chiếu phần cuối bị mất với bản sao lưu: sự cố đĩa, không phải can thiệp."


def _repo(root: Path, anchor: Anchor) -> Repository:
    repo = new_repository(LocalStore(root / "store"), LocalStore(root / "keys"))
    repo.anchor = anchor
    return repo


def _cut(root: Path) -> None:
    store = LocalStore(root / "store")
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)


def _acknowledge(root: Path, anchor: Anchor) -> None:
    auditor = _repo(root, anchor)
    digest = findings_digest(verify_anchored(auditor.audit, anchor).open_findings)
    auditor.audit_acknowledge(actor=AUDITOR, digest=digest, reason=REASON, login=LOGIN)


@pytest.fixture
def installations(tmp_path: Path) -> tuple[Path, Anchor, Path, Anchor]:
    """Production with three records and a signed checkpoint; staging, a copy of its store and
    keys with the same signing key and its own checkpoint folder."""
    key = tmp_path / "audit.key"
    generate_key(key)
    production, staging = tmp_path / "production", tmp_path / "staging"
    prod_anchor = Anchor(signing_key=key, checkpoint_dir=production / "checkpoints")
    repo = _repo(production, prod_anchor)
    for n in (1, 2, 3):
        repo.create_document("den", incoming(code_number=str(n)), pdf_bytes(f"s {n}"), "cv.pdf", CLERK)
    make_checkpoint(repo.store, prod_anchor)
    for part in ("store", "keys"):
        shutil.copytree(production / part, staging / part)
    return production, prod_anchor, staging, Anchor(signing_key=key, checkpoint_dir=staging / "checkpoints")


def test_stagings_acknowledgement_copied_into_productions_store_does_not_count(
    installations: tuple[Path, Anchor, Path, Anchor],
) -> None:
    production, prod_anchor, staging, staging_anchor = installations
    _cut(staging)
    _acknowledge(staging, staging_anchor)
    assert verify_anchored(_repo(staging, staging_anchor).audit, staging_anchor).ok  # staging's own: fine
    # The attack: production's tail cut the same way, staging's audit objects copied over.
    _cut(production)
    prod_store, staging_store = LocalStore(production / "store"), LocalStore(staging / "store")
    for info in staging_store.list("audit/"):
        if not prod_store.exists(info.key):
            prod_store.put(info.key, staging_store.get(info.key))
    prod_store.put(WITNESS_KEY, staging_store.get(WITNESS_KEY))
    report = verify_anchored(_repo(production, prod_anchor).audit, prod_anchor)
    assert not report.ok  # before: ok, the cut "acknowledged" by staging
    assert FORGED in {f.kind for f in report.open_findings}
    assert any(f.acknowledged is None and f.kind != FORGED for f in report.open_findings)  # the cut is open
    quick = verify_anchored(_repo(production, prod_anchor).audit, prod_anchor, incremental=True)
    assert not quick.ok
    with pytest.raises(AuditChainBroken):  # before: signed over the cut
        make_checkpoint(prod_store, prod_anchor)


def test_productions_own_acknowledgement_still_counts(
    installations: tuple[Path, Anchor, Path, Anchor],
) -> None:
    production, prod_anchor, _, _ = installations
    _cut(production)
    assert not verify_anchored(_repo(production, prod_anchor).audit, prod_anchor).ok
    _acknowledge(production, prod_anchor)
    report = verify_anchored(_repo(production, prod_anchor).audit, prod_anchor)
    assert report.ok and report.findings and not report.open_findings
    make_checkpoint(LocalStore(production / "store"), prod_anchor)  # signs again
    assert verify_anchored(_repo(production, prod_anchor).audit, prod_anchor, incremental=True).ok
