"""``kho fsck --repair`` beside a live writer (review rv50, rv47's open 1).

A creation writes its catalog marker, its key and its original, then commits (its register
entry). fsck removes an uncommitted record once it is older than the in-flight grace, taking
its writer for dead. A writer that is alive but paused there (SIGSTOP, a suspended VM, swap)
past the grace is not dead: on the old code the repair destroyed its key and original, the
writer then committed a numbered record whose original nobody could ever read. Here a real
process stops itself (SIGSTOP) just before its commit; fsck runs with a grace it is past; the
process is resumed. A writer of this machine that is alive is asked, not guessed; a killed one
is still cleaned after the grace (the rule is unchanged for it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from kho_child import PausedChild, paused_child, stop_once_at
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

import repository.fsck as fsck_module
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore

GRACE_S = 1.0  # the repair's grace, which the paused creation is past


def _paused_before_its_commit(store: Any, keys: LocalStore) -> AbstractContextManager[PausedChild]:
    """In a forked child: a document with an original that stops itself (SIGSTOP) just before
    its register entry (its commit point); once resumed it answers with its record id."""

    def work(stop: Callable[[], None]) -> str:
        repo = new_repository(store, keys)
        stop_once_at(Repository, "_allocate", stop)
        return repo.create_document("den", incoming(), pdf_bytes("rv50"), "a.pdf", CLERK).record_id

    return paused_child(work)


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_a_repair_beside_a_paused_live_writer_keeps_what_it_is_about_to_commit(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(kind, tmp_path, "rv50fsckpause")
    keys = LocalStore(tmp_path / "rv50fsckpause-keys")
    new_repository(store, keys)
    monkeypatch.setattr(fsck_module, "CLOCK_SKEW_SECONDS", 0.0)  # (no other machine writes)
    with _paused_before_its_commit(store, keys) as child:
        time.sleep(GRACE_S + 1.0)  # the creation's id is now past the repair's grace
        repo = new_repository(store, keys)
        report = fsck(repo, repair=True, grace_seconds=GRACE_S)
        assert not [i for i in report.issues if i.kind == "uncommitted"], report.issues
        said = child.resume()
    assert said[0] == "got", said
    repo = new_repository(store, keys)
    _, data = repo.read_content(said[1], actor=CLERK)  # its original is readable
    assert data == pdf_bytes("rv50")
    after = fsck(repo, grace_seconds=GRACE_S)
    assert after.clean, [(i.kind, i.subject) for i in after.issues]


def test_a_killed_writer_s_creation_is_still_removed_after_the_grace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store("local", tmp_path, "rv50fsckkilled")
    keys = LocalStore(tmp_path / "rv50fsckkilled-keys")
    new_repository(store, keys)
    monkeypatch.setattr(fsck_module, "CLOCK_SKEW_SECONDS", 0.0)
    with _paused_before_its_commit(store, keys) as child:
        time.sleep(GRACE_S + 1.0)  # the creation's id is now past the repair's grace
        child.kill()
    repo = new_repository(store, keys)
    report = fsck(repo, repair=True, grace_seconds=GRACE_S)
    assert [i.kind for i in report.issues if i.kind == "uncommitted"] == ["uncommitted"], report.issues
    after = fsck(repo, grace_seconds=GRACE_S)
    assert after.clean, [(i.kind, i.subject) for i in after.issues]
    assert not list(keys.list(""))  or all("rv50" not in k.key for k in keys.list(""))


def test_only_a_running_writer_of_this_machine_keeps_a_creation_past_the_grace() -> None:
    """The rule, pure: another machine's writer cannot be asked (the grace alone decides), a
    dead one is gone, grace 0 says nothing is under way, and a live one is waited for a day at
    most (a server that gave a creation up and runs on)."""
    here = "host-a/boot-1/ns-1"
    running = {"host": here, "pid": 4242}

    def alive(pid: int) -> bool:
        return pid == 4242

    def rule(age: float, grace: float, writer: object) -> bool:
        return fsck_module.creation_in_flight(age, grace, writer, here=here, alive=alive)

    assert rule(400, 300, running)
    assert not rule(400, 300, {"host": "host-b/boot-1/ns-1", "pid": 4242})
    assert not rule(400, 300, {"host": here, "pid": 1})
    assert not rule(400, 0, running)
    assert not rule(fsck_module.LIVE_WRITER_HOLD_SECONDS + 1, 300, running)
    assert not rule(400, 300, None)
    assert not rule(400, 300, {"host": here, "pid": "4242"})
