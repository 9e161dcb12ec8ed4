"""rv43: a register's số must be continuous within a year (NĐ 30). On an S3 server that needs
claims (a companion bucket), a writer on another machine killed between its claim of number n
and the PUT of the entry leaves n claimed with no entry; a writer here cannot ask whether that
process lives. Before rv43 the next creation took n + 1 (the failed create read as "taken"), and
n stayed a gap for ever (fsck ``register-gap``, not repairable). Now the creation is refused
with ``CLAIM_PENDING`` (not committed) until the claim is stale and taken over, and the
number is then used: no gap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

from kho.errors import Conflict
from repository.fsck import fsck
from repository.records import Record, Repository
from repository.registers import entry_key


def _create(repo: Repository, tag: str, number: str) -> Record:
    return repo.create_document("den", incoming(code_number=number), pdf_bytes(tag), "qd.pdf", CLERK)


@pytest.mark.s3
def test_a_number_claimed_by_a_writer_killed_on_another_machine_is_not_skipped(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "rvgap"), make_store("s3", tmp_path, "rvgapk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    first = _create(new_repository(store, keys), "first", "1")
    reg = first.registration
    assert reg is not None and reg.number == 1
    # The state a writer on another machine leaves when killed after its claim of number 2 was
    # stored and before its entry's PUT was sent.
    key = entry_key(reg.organ_id, reg.year, reg.series, 2)
    body = json.dumps({"writer": "w", "pid": 4242, "host": "another-machine", "at": 0}).encode()
    store._put_raw(store.claims_bucket, "claims/" + key, body, {"If-None-Match": "*"})  # type: ignore[attr-defined]

    repo = new_repository(store, keys)
    with pytest.raises(Conflict) as refused:
        _create(repo, "second", "2")
    assert refused.value.code == "CLAIM_PENDING"
    assert not store.exists(entry_key(reg.organ_id, reg.year, reg.series, 3))  # not skipped
    # not committed: no entry names it (what it wrote before its number is a creation that
    # stopped, which fsck removes past the grace, as after any failed allocation)
    assert {e.record_id for e in repo.registers.all_entries()} == {first.record_id}

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]  # the claim is stale now
    second = _create(repo, "second", "2")
    assert second.registration is not None and second.registration.number == 2
    fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert report.clean, report.issues  # no register-gap
