"""``kho audit verify --quick`` after an acknowledgement (r5, point 4): the full walk that finds
every finding acknowledged saves its mark with those findings and the acknowledgements covering
them, so the quick check resumes from the newest signed head instead of walking the whole log
for ever; it lists the same acknowledged findings, and anything it cannot vouch for (an
acknowledgement edited or removed, a new finding) still goes to the full walk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_testing import AUDITOR, CLERK, LOGIN, incoming, new_repository, pdf_bytes

from repository.acknowledge import findings_digest
from repository.anchor import VERIFIED_STATE, Anchor, generate_key, make_checkpoint, verify_anchored
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog, VerifyReport
from repository.records import Repository
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore

REASON = "Đã đối chiếu phần cuối bị mất với bản sao lưu: sự cố đĩa, không phải can thiệp."


class _CountingStore(LocalStore):
    """Counts the reads of audit event objects (a full walk reads every one)."""

    reads = 0

    def get(self, key: str, version_id: str | None = None) -> bytes:
        if key.startswith(EVENTS_PREFIX):
            type(self).reads += 1
        return super().get(key, version_id)


def _create(repo: Repository, number: int) -> None:
    repo.create_document("den", incoming(code_number=str(number)), pdf_bytes(f"q {number}"), "cv.pdf", CLERK)
    # Its written head noted outside the store now, as a process that ends notes it: a head left
    # to the guard's timer (``HistoryGuard.noted``, 0.5 s) was noted late, over a newer one a later
    # repository had noted, between the two verifications a test compares (m59: the quick check
    # named the cut at the newer head, the full walk then read the older one).
    repo.close()


def _cut_tail(store: ObjectStore, repo: Repository, anchor: Anchor) -> None:
    for n in (1, 2, 3):
        _create(repo, n)


def _cut_below_checkpoint(store: ObjectStore, repo: Repository, anchor: Anchor) -> None:
    for n in (1, 2, 3):
        _create(repo, n)
    make_checkpoint(store, anchor)  # contradicted by the cut, accepted by the acknowledgement


@pytest.fixture(params=["cut-tail", "cut-below-checkpoint"])
def acknowledged(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[_CountingStore, LocalStore, Anchor]:
    """A log cut at its tail (below a signed checkpoint, or not), acknowledged, grown by 20
    records and checkpointed; then one full walk (it saves the mark)."""
    store, keys = _CountingStore(tmp_path / "s"), LocalStore(tmp_path / "k")
    key = tmp_path / "outside" / "audit.key"
    key.parent.mkdir()
    generate_key(key)
    anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "outside" / "checkpoints")
    repo = _repo(store, keys, anchor)
    setups: dict[str, Callable[[ObjectStore, Repository, Anchor], None]] = {
        "cut-tail": _cut_tail,
        "cut-below-checkpoint": _cut_below_checkpoint,
    }
    setups[request.param](store, repo, anchor)
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    auditor = _repo(store, keys, anchor)
    digest = findings_digest(verify_anchored(auditor.audit, anchor).open_findings)
    auditor.audit_acknowledge(actor=AUDITOR, digest=digest, reason=REASON, login=LOGIN)
    for n in range(20):
        _create(auditor, 100 + n)
    make_checkpoint(store, anchor)
    full = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert full.ok and full.findings and not full.open_findings
    assert "acknowledged" in json.loads((anchor.checkpoint_dir / VERIFIED_STATE).read_text())  # type: ignore[operator]
    return store, keys, anchor


def _repo(store: ObjectStore, keys: ObjectStore, anchor: Anchor) -> Repository:
    repo = new_repository(store, keys)
    repo.anchor = anchor
    return repo


def _listed(report: VerifyReport) -> list[tuple[object, ...]]:
    return sorted((f.seq, f.kind, f.message, f.seen, json.dumps(f.acknowledged)) for f in report.findings)


def test_the_quick_check_resumes_after_an_acknowledgement_and_lists_what_it_acknowledged(
    acknowledged: tuple[_CountingStore, LocalStore, Anchor],
) -> None:
    store, keys, anchor = acknowledged
    objects = sum(1 for _ in store.list(EVENTS_PREFIX))
    for n in range(3):  # more records and a checkpoint between the quick checks: the mark moves on
        _create(_repo(store, keys, anchor), 200 + n)
        make_checkpoint(store, anchor)
        _CountingStore.reads = 0
        quick = verify_anchored(_repo(store, keys, anchor).audit, anchor, incremental=True)
        # at most 11 reads from the mark, and one or two of the event at the head the writers
        # noted outside the store (rv28's written head, checked by every verification)
        assert _CountingStore.reads < 14 < objects, "the quick check walked the whole log"
        full = verify_anchored(_repo(store, keys, anchor).audit, anchor)
        assert quick.ok and not quick.open_findings
        assert _listed(quick) == _listed(full)
        assert (quick.events, quick.last_seq, quick.last_hash) == (full.events, full.last_seq, full.last_hash)


def test_the_quick_check_does_not_vouch_for_an_acknowledgement_removed_after_its_mark(
    acknowledged: tuple[_CountingStore, LocalStore, Anchor],
) -> None:
    store, keys, anchor = acknowledged
    ack = next(e for e in AuditLog(store).events() if e.action == "audit:acknowledge")
    store.delete(next(i.key for i in store.list(EVENTS_PREFIX) if i.key.endswith(f"{ack.seq:012d}.json")))
    quick = verify_anchored(_repo(store, keys, anchor).audit, anchor, incremental=True)
    assert not quick.ok and quick.open_findings


def test_the_quick_check_does_not_vouch_for_a_new_finding_after_an_acknowledgement(
    acknowledged: tuple[_CountingStore, LocalStore, Anchor],
) -> None:
    """A new cut after the mark, its witness deleted: a new open finding, as the full walk says."""
    store, keys, anchor = acknowledged
    _create(_repo(store, keys, anchor), 300)
    store.delete([i.key for i in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    quick = verify_anchored(_repo(store, keys, anchor).audit, anchor, incremental=True)
    full = verify_anchored(_repo(store, keys, anchor).audit, anchor)
    assert not quick.ok and _listed(quick) == _listed(full)
