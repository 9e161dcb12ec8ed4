"""A live writer paused past the claim timeout at its *audit event's* data PUT (review rv50,
rv47's open 1; S3 claims mode).

rv47 pinned the pause at the register entry's data PUT. Here a real process stops itself
(SIGSTOP) just before the data PUT of the audit event object of its second document; another
writer appends after the claim is stale (it takes the event number over); the paused process is
then resumed (SIGCONT). The log must stay one chain: no event of the taker replaced, the paused
writer's event chained after it, the chain verifies and fsck is clean."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from kho_child import PausedChild, paused_child, stop_once_at
from kho_testing import CLERK, make_store, new_repository, outgoing

from repository.audit import EVENTS_PREFIX, AuditLog
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

TIMEOUT_S = 3.0  # the installation's claim timeout (the default is 300 s)


def _number(repo: Repository) -> Any:
    """One register number (a văn bản đi, no file)."""
    return repo.create_document("di", outgoing(), None, None, CLERK)


def _paused_at_its_event(store: S3Store, keys: LocalStore) -> AbstractContextManager[PausedChild]:
    """In a forked child: one document, then a second whose audit event object's data PUT stops
    the process (SIGSTOP) first; once resumed it goes on and answers with what it was given."""

    def work(stop: Callable[[], None]) -> str:
        repo = new_repository(store, keys)
        _number(repo)
        stop_once_at(
            S3Store, "_put_raw", stop,
            lambda self, bucket, key, *_: bucket == self.bucket and key.startswith(EVENTS_PREFIX),
        )
        document = _number(repo)
        return f"{document.record_id} {document.registration.number}"

    return paused_child(work)


@pytest.mark.s3
def test_a_writer_paused_at_its_event_past_the_claim_timeout_keeps_the_chain_whole(
    tmp_path: Path,
) -> None:
    store = make_store("s3", tmp_path, "rv50evpause")
    assert isinstance(store, S3Store)
    keys = LocalStore(tmp_path / "rv50evpause-keys")
    store.claim_timeout_s = TIMEOUT_S
    new_repository(store, keys)
    with _paused_at_its_event(store, keys) as child:
        time.sleep(0.5)
        time.sleep(TIMEOUT_S + 1.0)
        repo = new_repository(store, keys)
        taker = _number(repo)
        said = child.resume()
    assert said[0] == "got", said
    log = AuditLog(store)
    result = log.verify()
    assert result.ok, result
    created = [e.record_id for e in log.events() if e.action == "record:create"]
    # each creation's event once, none written over (which of the two holds the number the
    # paused writer had claimed depends on the machine's load: not asserted)
    assert created.count(taker.record_id) == 1 and created.count(said[1]) == 1, created
    fsck(repo, repair=True, grace_seconds=0)
    report = fsck(new_repository(store, keys), grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
