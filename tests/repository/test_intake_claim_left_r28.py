"""A confirmation (``complete_intake``) whose writer was killed between taking the record's
intake claim (``claims/intake/<id>``, a6) and giving it back (review r28).

The claim sits on every registration confirm. A văn thư whose worker was killed (kill -9, OOM)
must not leave the document unconfirmable: a claim whose process is gone on this machine is
taken over at once, one from another machine after ``CLAIM_GRACE_SECONDS``; until then the next
văn thư gets a 409 with a Vietnamese message, never a 500. Guards what a6 built (there is no
claim on main, so these pass there)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from kho_testing import CLERK, checked_by_ingest, incoming, pdf_bytes

from kho.errors import Conflict, Duplicate
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.records import CLAIM_GRACE_SECONDS, Record, Repository, claim_body


@pytest.fixture
def repo(repo_on: Repository) -> Repository:
    return repo_on


def _received(repo: Repository, name: str = "left-claim") -> Record:
    received = repo.create_intake("den", pdf_bytes(name), "cv.pdf", CLERK)
    return checked_by_ingest(repo, received.record_id)


def _claim_of(pid: int | None, host: str | None, seconds_ago: float) -> bytes:
    body = formats.loads(formats.CLAIM.name, claim_body("01killedwriter", utcnow()))
    body.update(pid=pid, host=host, at=to_iso_utc(utcnow() - timedelta(seconds=seconds_ago)))
    return formats.dumps(formats.CLAIM.name, body)


def _confirm(repo: Repository, rec: Record) -> Record:
    md = incoming(code_number="77", issued_date="2026-03-02")
    return repo.complete_intake(rec.record_id, md, expected_version=rec.version, actor=CLERK)


def test_a_claim_of_a_killed_worker_on_this_machine_is_taken_over_at_once(repo: Repository) -> None:
    rec = _received(repo)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    held = formats.loads(formats.CLAIM.name, claim_body("x", utcnow()))
    repo.store.put(f"claims/intake/{rec.record_id}", _claim_of(int(dead.stdout), held["host"], 0))
    done = _confirm(repo, rec)
    assert done.state == "active" and done.version == rec.version + 1
    assert not repo.store.exists(f"claims/intake/{rec.record_id}")  # given back


def test_a_claim_from_another_machine_waits_the_grace_then_is_taken_over(repo: Repository) -> None:
    rec = _received(repo)
    key = f"claims/intake/{rec.record_id}"
    repo.store.put(key, _claim_of(4242, "may-khac/boot", 0))
    with pytest.raises(Conflict) as refused:
        _confirm(repo, rec)
    assert refused.value.code == "VERSION_CONFLICT" and refused.value.http_status == 409
    assert "đang được người khác vào sổ" in refused.value.message
    assert repo._load(rec.record_id).state == rec.state  # nothing numbered
    repo.store.delete(key)
    repo.store.put(key, _claim_of(4242, "may-khac/boot", CLAIM_GRACE_SECONDS + 1))
    assert _confirm(repo, rec).state == "active"


def test_a_refused_confirmation_gives_the_claim_back(repo: Repository) -> None:
    """Refused after the claim (a duplicate of a registered document): the claim is gone and the
    văn thư corrects the form and confirms at once."""
    first = _received(repo)
    _confirm(repo, first)
    second = _received(repo, "left-claim-2")
    with pytest.raises(Duplicate):
        _confirm(repo, second)
    assert not repo.store.exists(f"claims/intake/{second.record_id}")
    md = incoming(code_number="78", issued_date="2026-03-02")
    assert (
        repo.complete_intake(second.record_id, md, expected_version=second.version, actor=CLERK).state
        == "active"
    )
