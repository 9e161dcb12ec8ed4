"""Duplicate guards left by a killed writer: taken over at once when its process is known to be
gone, after the grace period otherwise; guards of the older format still hold."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, new_repository, pdf_bytes

from kho.errors import Duplicate
from kho.timeutil import parse_iso, to_iso_utc, utcnow
from repository import formats
from repository.records import CLAIM_GRACE_SECONDS, Repository, claim_is_stale, this_host
from repository.storage.local import LocalStore

NOW = parse_iso("2026-11-21T03:00:00Z")
HOST = "kho-1/6a1c"


def _holder(**fields: object) -> dict[str, object]:
    return {"record_id": "r1", "at": to_iso_utc(NOW), "host": HOST, "pid": 4242, **fields}


def test_claim_staleness_rule() -> None:
    def dead(pid: int) -> bool:
        return False

    def alive(pid: int) -> bool:
        return True

    assert claim_is_stale(_holder(), now=NOW, host=HOST, alive=dead)
    assert not claim_is_stale(_holder(), now=NOW, host=HOST, alive=alive)
    # another machine (or another boot): its process cannot be asked, only the age counts
    assert not claim_is_stale(_holder(host="kho-2/77"), now=NOW, host=HOST, alive=dead)
    assert not claim_is_stale(_holder(host="kho-1/"), now=NOW, host="kho-1/", alive=dead)
    later = NOW + timedelta(seconds=CLAIM_GRACE_SECONDS)
    assert claim_is_stale(_holder(host="kho-2/77"), now=later, host=HOST, alive=alive)
    # a guard of the older format names no process
    old = formats.upcast(formats.CLAIM.name, {"record_id": "r1", "at": to_iso_utc(NOW)})
    assert old["pid"] is None and old["host"] is None
    assert not claim_is_stale(old, now=NOW, host=HOST, alive=dead)
    assert claim_is_stale(old, now=later, host=HOST, alive=dead)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))


def _leave_guard(repo: Repository, data: bytes, **fields: object) -> str:
    """The SHA-256 guard a writer that died before its commit leaves (its record never made)."""
    import hashlib

    key = f"claims/sha256/{hashlib.sha256(data).hexdigest()}"
    body = {"record_id": "0" * 24, "at": to_iso_utc(utcnow()), **fields}
    repo.store.put_if_absent(key, json.dumps(body).encode())
    return key


def test_a_guard_of_a_killed_process_is_taken_over_at_once(repo: Repository) -> None:
    data = pdf_bytes("killed")
    key = _leave_guard(repo, data, host=this_host(), pid=_dead_pid(), format_version=2)

    record = repo.create_document("den", incoming(), data, "a.pdf", CLERK)

    holder = formats.loads(formats.CLAIM.name, repo.store.get(key))
    assert holder["record_id"] == record.record_id
    assert holder["pid"] == os.getpid() and holder["host"] == this_host()
    assert json.loads(repo.store.get(key))[formats.FORMAT_KEY] == formats.CLAIM.current == 3


def test_a_guard_of_a_live_process_or_of_the_old_format_holds(repo: Repository) -> None:
    data = pdf_bytes("live")
    _leave_guard(repo, data, host=this_host(), pid=os.getppid(), format_version=2)
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(), data, "a.pdf", CLERK)

    older = pdf_bytes("old format")
    _leave_guard(repo, older)  # format 1: no process named
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(code_number="77"), older, "b.pdf", CLERK)
