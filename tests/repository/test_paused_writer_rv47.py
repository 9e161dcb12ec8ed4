"""A live writer paused past the claim timeout, then resumed (review rv47, S3 claims mode).

On an S3 gateway that ignores ``If-None-Match`` on a versioned bucket (Ceph RGW, the test
gateway) a create is a claim in the companion bucket, then a plain data PUT. A claim older than
``claim_timeout_s`` without data is taken for a dead writer's and taken over. A writer that is
alive but was paused between its claim and its data PUT (SIGSTOP, a suspended VM, swap) is not
dead: once resumed, its data PUT lands on a key another writer has taken over and written. On
the old code it replaced the other writer's register entry: one number given to two documents,
the first one's entry gone from the register. Here a real process stops itself with SIGSTOP
just before its register entry's data PUT; another writer takes the number over; the process
is resumed with SIGCONT."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from kho_child import PausedChild, paused_child, stop_once_at
from kho_testing import CLERK, make_store, new_repository, outgoing

from repository.audit import AuditLog
from repository.fsck import fsck
from repository.records import Repository
from repository.registers import RegisterEntry
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

TIMEOUT_S = 3.0  # the taker's claim timeout (the default is 300 s)


def _number(repo: Repository) -> Any:
    """One register number (a văn bản đi, no file)."""
    return repo.create_document("di", outgoing(), None, None, CLERK)


def _entries(store: S3Store) -> dict[int, str]:
    """The register's entries: number → the record id the entry names."""
    found: dict[int, str] = {}
    for info in store.list("registers/"):
        number = int(info.key.rsplit("/", 1)[1].split(".")[0])
        found[number] = RegisterEntry.from_json(store.get(info.key)).record_id
    return found


def _paused_before_its_entry(
    store: S3Store, keys: LocalStore
) -> AbstractContextManager[PausedChild]:
    """In a forked child: one number, then a second that stops itself (SIGSTOP) just before its
    register entry's data PUT; once resumed it goes on and answers with the number it was given."""

    def work(stop: Callable[[], None]) -> str:
        repo = new_repository(store, keys)
        _number(repo)
        stop_once_at(
            S3Store, "_put_raw", stop,
            lambda self, bucket, key, *_: bucket == self.bucket and key.startswith("registers/"),
        )
        document = _number(repo)
        return f"{document.record_id} {document.registration.number}"

    return paused_child(work)


@pytest.mark.s3
def test_a_writer_paused_past_the_claim_timeout_does_not_overwrite_the_number_taken_over(
    tmp_path: Path,
) -> None:
    """The paused writer's claim is taken over (it looks stale) and the other writer's document
    gets the number. Resumed, the paused writer must not replace that entry: each number of the
    register names one document, the one whose register number it is; the paused writer's
    document gets the next number, the audit log verifies and fsck is
    clean after its repair."""
    store = make_store("s3", tmp_path, "rv47pause")
    assert isinstance(store, S3Store)
    keys = LocalStore(tmp_path / "rv47pause-keys")
    store.claim_timeout_s = TIMEOUT_S  # (every writer of the installation has the same setting)
    new_repository(store, keys)
    with _paused_before_its_entry(store, keys) as child:
        time.sleep(0.5)  # (the event claim beside the entry, if it was under way, stopped too)
        time.sleep(TIMEOUT_S + 1.0)
        repo = new_repository(store, keys)
        taker = _number(repo)
        assert taker.registration.number == 2  # the paused writer's number, taken over
        said = child.resume()
    entries = _entries(store)
    assert entries[2] == taker.record_id, entries  # the taker's entry is not replaced
    assert said[0] == "got" and int(said[2]) == 3, said  # the next number, not a refusal
    assert entries[3] == said[1], entries
    assert sorted(entries) == list(range(1, len(entries) + 1))  # no gap
    assert len(set(entries.values())) == len(entries)  # one number per document
    repo = new_repository(store, keys)
    assert AuditLog(store).verify().ok
    fsck(repo, repair=True, grace_seconds=0)
    report = fsck(repo, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
