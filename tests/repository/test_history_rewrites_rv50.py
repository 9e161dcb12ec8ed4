"""Rewritten history, by someone who can write the store but not the anchor (review rv50).

Three acts, a signed checkpoint outside the store, three more acts; the writer closes (its
written head is noted beside the checkpoints). Then each attack of the brief: the last events
deleted and the witness lowered, two events exchanged, one event rewritten and the chain
recomputed after it, the whole log forged consistently from its first event, the store put back
to a copy taken at the checkpoint. Each is named by the anchored verify with a stable kind, and
the next write is refused with ``AUDIT_HISTORY_BEHIND`` wherever the log's end no longer holds
what was written (an exchange inside the log leaves the end as written: verify names it, the
writer, which checks only the end, goes on — the evidence is kept, nothing is repaired over it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import audit_tamper as tamper
import pytest
from kho_testing import CLERK, incoming, make_store, outside_anchor

from kho.errors import KhoError
from repository.anchor import make_checkpoint, verify_anchored
from repository.fsck import fsck
from repository.storage.base import ObjectStore


def _count(store: ObjectStore) -> int:
    return sum(len(o.events) for o in tamper.layout(store))


def _cut_last_two(store: ObjectStore, put_back: Callable[[], None]) -> None:
    n = _count(store)
    tamper.cut_from(store, n - 2)
    tamper.lower_witness(store, n - 3)


def _swap_two(store: ObjectStore, put_back: Callable[[], None]) -> None:
    n = _count(store)
    tamper.swap_events(store, n - 2, n - 4)


def _edit(seq: Callable[[int], int]) -> Callable[[ObjectStore, Callable[[], None]], None]:
    def attack(store: ObjectStore, put_back: Callable[[], None]) -> None:
        tamper.edit_event(store, seq(_count(store)), lambda raw: raw.update(actor="nguoi-khac"))
        tamper.rewrite_consistently(store, set())  # every hash after it recomputed, witness too

    return attack


def _rolled_back(store: ObjectStore, put_back: Callable[[], None]) -> None:
    put_back()


ATTACKS = {
    "cut-last-two": (_cut_last_two, {"truncated"}, "AUDIT_HISTORY_BEHIND"),
    "swap-two": (_swap_two, {"moved"}, None),
    "edit-one-after-checkpoint-rechained": (_edit(lambda n: n - 2), {"truncated"}, "AUDIT_HISTORY_BEHIND"),
    "whole-log-forged": (_edit(lambda n: 0), {"rewritten"}, "AUDIT_HISTORY_BEHIND"),
    "store-put-back": (_rolled_back, {"truncated"}, "AUDIT_HISTORY_BEHIND"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_rewrite_of_history_is_named_and_a_write_on_a_cut_end_refused(name: str, tmp_path: Path) -> None:
    attack, kinds, write_code = ATTACKS[name]
    store = make_store("local", tmp_path, "rv50-hist")
    keys = make_store("local", tmp_path, "rv50-hist-keys")
    anchor = outside_anchor(tmp_path)
    repo = tamper.fresh_process(store, keys, anchor)
    for n in range(3):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    make_checkpoint(store, anchor)
    put_back = tamper.snapshot(store, tmp_path / "copy")
    for n in range(3, 6):
        repo.create_document("den", incoming(code_number=f"{100 + n}"), None, None, CLERK)
    repo.close()  # (its written head noted outside the store)

    attack(store, put_back)

    repo = tamper.fresh_process(store, keys, anchor)
    report = verify_anchored(repo.audit, anchor)
    assert not report.ok
    assert kinds <= {f.kind for f in report.findings}, report.findings
    assert not fsck(repo, grace_seconds=0).clean
    if write_code is None:
        repo.create_document("den", incoming(code_number="999"), None, None, CLERK)
        assert kinds <= {f.kind for f in verify_anchored(repo.audit, anchor).findings}  # still named
    else:
        with pytest.raises(KhoError) as refused:
            repo.create_document("den", incoming(code_number="999"), None, None, CLERK)
        assert refused.value.code == write_code
    repo.close()
