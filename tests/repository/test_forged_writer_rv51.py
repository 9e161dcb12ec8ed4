"""A stored object naming a writer process that is no process (review rv51).

Catalog markers (rv50: ``kho fsck --repair`` keeps an uncommitted record whose writer runs on
this machine), duplicate guards and S3 create claims name their writer ``{host, pid}``; Kho asks
this machine's kernel whether that pid runs (``kill(pid, 0)``). Whoever can write the store (or
the S3 companion bucket) writes those fields. Before rv51 a ``pid`` of 0, -1 or ``true`` asked a
process group, every process, or pid 1 — all "alive", so a forged marker kept garbage out of
every repair for 24 h — and a pid past the C long made ``kill`` raise ``OverflowError``: a
traceback out of ``kho fsck`` and out of every create of the guarded file. Such a pid names no
writer that can be asked: it is judged by its age alone, as another machine's writer."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from kho_child import PausedChild, paused_child, stop_once_at
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

import repository.fsck as fsck_module
from kho.errors import Duplicate, KhoError
from kho.process import claim_state, process_alive, this_host, writer_alive, writer_gone
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore

GRACE_S = 1.0

NO_PROCESS = [0, -1, -4242, True, 2**70, -(2**70), 4_194_305, "4242", 4242.0, None, [1]]
"""``pid`` values a forged or garbled object may carry, none of them one process's id."""


@pytest.mark.parametrize("pid", NO_PROCESS, ids=repr)
def test_a_pid_that_names_no_process_is_never_asked(pid: object) -> None:
    here = this_host()
    assert writer_alive(pid, here, here=here, alive=process_alive) is False
    assert writer_gone(pid, here, here=here, alive=process_alive) is False
    writer = {"host": here, "pid": pid}
    assert fsck_module.creation_in_flight(400, 300, writer, here=here, alive=process_alive) is False
    # An act's claim naming it is judged by its age, as another machine's writer's.
    assert (
        claim_state(writer, done=False, age_seconds=10, here=here, alive=process_alive, grace_seconds=300)
        == "running"
    )
    assert (
        claim_state(writer, done=False, age_seconds=400, here=here, alive=process_alive, grace_seconds=300)
        == "unknown"
    )


def _paused_before_its_commit(store: Any, keys: LocalStore) -> AbstractContextManager[PausedChild]:
    """A real creation of the document ``pdf_bytes("rv51")`` stopped (SIGSTOP) between its
    in-flight objects (catalog marker, guards, original) and its register entry; resumed, it
    answers with its record id."""

    def work(stop: Callable[[], None]) -> str:
        repo = new_repository(store, keys)
        stop_once_at(Repository, "_allocate", stop)
        return repo.create_document("den", incoming(), pdf_bytes("rv51"), "a.pdf", CLERK).record_id

    return paused_child(work)


def _killed_before_its_commit(store: Any, keys: LocalStore) -> str:
    """A real creation killed (SIGKILL) between its in-flight objects and its commit, past the
    repair's grace: its record id."""
    with _paused_before_its_commit(store, keys) as child:
        child.kill()
    time.sleep(GRACE_S + 1.0)
    (marker,) = [i.key for i in store.list("catalog/records/")]
    return marker.rsplit("/", 1)[1]


@pytest.mark.parametrize("pid", [0, -1, True, 2**70], ids=repr)
def test_a_marker_naming_no_process_neither_keeps_the_garbage_nor_breaks_the_repair(
    tmp_path: Path, pid: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store("local", tmp_path, "rv51marker")
    keys = LocalStore(tmp_path / "rv51marker-keys")
    new_repository(store, keys)
    monkeypatch.setattr(fsck_module, "CLOCK_SKEW_SECONDS", 0.0)  # (no other machine writes)
    record_id = _killed_before_its_commit(store, keys)
    marker_key = f"catalog/records/{record_id}"
    marker = formats.loads(formats.CATALOG_MARKER.name, store.get(marker_key))
    marker["writer"] = {"host": this_host(), "pid": pid}  # forged by whoever writes the store
    store.put(marker_key, formats.dumps(formats.CATALOG_MARKER.name, marker))

    repo = new_repository(store, keys)
    report = fsck(repo, repair=True, grace_seconds=GRACE_S)
    assert [(i.kind, i.subject) for i in report.issues if i.kind == "uncommitted"] == [
        ("uncommitted", record_id)
    ]
    after = fsck(repo, grace_seconds=GRACE_S)
    assert after.clean, [(i.kind, i.subject) for i in after.issues]
    assert not list(store.list(f"records/{record_id}/"))


def _claim(store: Any, key: str, body: dict[str, Any]) -> None:
    store._put_raw(store.claims_bucket, "claims/" + key, json.dumps(body).encode())  # type: ignore[attr-defined]


@pytest.mark.s3
@pytest.mark.parametrize("layout", ["guard-as-claim", "writer-stamp"])
def test_a_guard_naming_a_pid_past_any_process_refuses_with_a_code_not_a_traceback(
    tmp_path: Path, layout: str
) -> None:
    """Someone with write access to the S3 companion bucket writes, for a file's SHA-256 key, a
    guard kept as its claim (m43, version 1) or a writer's stamp alone (version 0) naming this
    machine and pid 2**70. Before rv51 every create of that file raised OverflowError (HTTP 500,
    traceback); now the claim is judged by its age: young, the create is refused with a code."""
    store, keys = make_store("s3", tmp_path, "rv51pid"), make_store("s3", tmp_path, "rv51pidk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    repo = new_repository(store, keys)
    kept = repo.create_document("den", incoming(code_number="1"), pdf_bytes("kept"), "k.pdf", CLERK)
    content = pdf_bytes("forged pid")
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    huge = {"host": this_host(), "pid": 2**70}
    if layout == "guard-as-claim":
        guard = formats.dumps(
            formats.CLAIM.name,
            {"record_id": "000000000001aaaaaaaaaaaa", "at": to_iso_utc(utcnow()), **huge, "decision": None},
        )
        _claim(
            store,
            key,
            {
                "writer": "w1",
                "at": time.time(),
                **huge,
                "format_version": 1,
                "guard": base64.b64encode(guard).decode("ascii"),
            },
        )
        expected: type[KhoError] = Duplicate
    else:
        _claim(store, key, {"writer": "w1", "at": time.time(), **huge})
        expected = KhoError  # CLAIM_PENDING: a writer's claim younger than claim_timeout_s

    with pytest.raises(expected) as refused:
        repo.create_intake("den", content, "a.pdf", CLERK)
    assert refused.value.code in {"DUPLICATE_DOCUMENT", "CLAIM_PENDING"}, refused.value.code
    with pytest.raises(expected):
        repo.create_document("den", incoming(code_number="2"), content, "b.pdf", CLERK)
    _, data = repo.read_content(kept.record_id, actor=CLERK)  # nothing stored lost
    assert data == pdf_bytes("kept")
    fsck(repo)  # reads the claim without a traceback


@pytest.mark.s3
@pytest.mark.parametrize(
    ("claim", "code"),
    [
        ({"format_version": 1, "guard": "!!! not base64"}, "FORMAT_INVALID"),
        ({"format_version": 7, "guard": ""}, "FORMAT_UNSUPPORTED"),
    ],
    ids=["bad-base64", "newer-version"],
)
def test_a_claim_written_by_hand_is_named_by_the_refusals_it_causes(
    tmp_path: Path, claim: dict[str, Any], code: str
) -> None:
    """A claim of a guard key the software cannot read (garbled, or from a newer Kho) refuses
    every create of its file and every ``kho backup`` of the store, with its code; before rv51
    neither refusal said which object of the companion bucket to look at (fsck did)."""
    from retention.backup import backup

    store, keys = make_store("s3", tmp_path, "rv51bad"), make_store("s3", tmp_path, "rv51badk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    repo = new_repository(store, keys)
    kept = repo.create_document("den", incoming(code_number="1"), pdf_bytes("kept"), "k.pdf", CLERK)
    content = pdf_bytes("garbled claim")
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    _claim(store, key, {"writer": "w1", "pid": 4242, "host": "another-machine", "at": 0, **claim})

    with pytest.raises(KhoError) as refused:
        repo.create_intake("den", content, "a.pdf", CLERK)
    assert refused.value.code == code and key in refused.value.message, refused.value.message
    assert refused.value.details["key"] == key
    with pytest.raises(KhoError) as refused:
        backup(store, LocalStore(tmp_path / "copy"), label="store")
    assert refused.value.code == code and key in refused.value.message, refused.value.message
    found = fsck(repo)
    assert [(i.kind, i.subject) for i in found.issues] == [("format", key)]
    _, data = repo.read_content(kept.record_id, actor=CLERK)
    assert data == pdf_bytes("kept")


@pytest.mark.s3
def test_three_writer_processes_of_the_same_documents_make_one_record_and_no_gap(tmp_path: Path) -> None:
    """Three real processes store the same 4 documents (same bytes, same số/ký hiệu) at once on
    the claims-mode gateway: each document made once, the two others refused as duplicates
    naming it, the register numbered 1..4 without a gap or a repeat, fsck clean."""
    import multiprocessing as mp

    from kho_claims import store_same_documents
    from kho_testing import store_url

    from repository.storage import open_store

    url, options = store_url("s3", tmp_path, "rv51three")
    key_url, key_options = store_url("s3", tmp_path, "rv51threek")
    store = open_store(url, **options)
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    docs = 4
    with mp.get_context("spawn").Pool(3) as pool:
        results = pool.map(store_same_documents, [(url, options, key_url, key_options, docs)] * 3)
    numbers = []
    for n in range(docs):
        outcomes = sorted(
            (kind, rid, number) for result in results for i, kind, rid, number in result if i == n
        )
        assert [kind for kind, _, _ in outcomes] == ["DUPLICATE_DOCUMENT", "DUPLICATE_DOCUMENT", "made"], (
            n,
            outcomes,
        )
        made = outcomes[2][1]
        assert {rid for _, rid, _ in outcomes[:2]} == {made}, ("a duplicate names the record made", outcomes)
        numbers.append(outcomes[2][2])
    assert sorted(numbers) == list(range(1, docs + 1)), numbers
    store = open_store(url, **options)
    assert len(list(store.list("catalog/records/"))) == docs
    repo = new_repository(store, open_store(key_url, **key_options))
    assert repo.audit.verify().ok
    report = fsck(repo)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]


@pytest.mark.s3
def test_a_writer_killed_after_its_guard_claims_leaves_the_document_to_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real writer killed (SIGKILL) after its two guards were stored as claims (m43) and
    before its register entry: the next writer of the same document on this machine takes the
    guards over at once (their writer is gone), gets number 1, and the repair leaves one record."""
    store, keys = make_store("s3", tmp_path, "rv51kill"), make_store("s3", tmp_path, "rv51killk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    new_repository(store, keys)
    monkeypatch.setattr(fsck_module, "CLOCK_SKEW_SECONDS", 0.0)
    killed = _killed_before_its_commit(store, keys)
    guards = [i.key for i in store.list("claims/")]
    assert len(guards) == 2 and all(
        formats.loads(formats.CLAIM.name, store.get(g))["record_id"] == killed for g in guards
    )

    repo = new_repository(store, keys)
    made = repo.create_document("den", incoming(), pdf_bytes("rv51"), "b.pdf", CLERK)
    assert made.registration is not None and made.registration.number == 1
    assert all(formats.loads(formats.CLAIM.name, store.get(g))["record_id"] == made.record_id for g in guards)
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(), pdf_bytes("rv51"), "c.pdf", CLERK)
    report = fsck(repo, repair=True, grace_seconds=GRACE_S)
    assert [(i.kind, i.subject) for i in report.issues] == [("uncommitted", killed)], report.issues
    assert fsck(repo, grace_seconds=GRACE_S).clean
    assert [i.key for i in store.list("catalog/records/")] == [f"catalog/records/{made.record_id}"]


@pytest.mark.s3
def test_a_writer_paused_past_the_guard_grace_keeps_its_guards_and_stores_one_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer of this machine paused (SIGSTOP) holding its guards (claims, m43) past
    CLAIM_GRACE_SECONDS, between them and its commit. Before rv51 another writer of the same
    document took them over by their age and stored it; the paused one, resumed, committed a
    second record of the same file and số/ký hiệu (numbers 1 and 2). Its writer is alive and
    can be asked: the other writer is refused as a duplicate naming it; one record, number 1."""
    import repository.records as records_module

    store, keys = make_store("s3", tmp_path, "rv51stop"), make_store("s3", tmp_path, "rv51stopk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    new_repository(store, keys)
    with _paused_before_its_commit(store, keys) as child:
        (marker,) = [i.key for i in store.list("catalog/records/")]
        paused = marker.rsplit("/", 1)[1]
        monkeypatch.setattr(records_module, "CLAIM_GRACE_SECONDS", 1)  # (this process only)
        time.sleep(2.0)
        repo = new_repository(store, keys)
        with pytest.raises(Duplicate) as refused:
            repo.create_document("den", incoming(), pdf_bytes("rv51"), "b.pdf", CLERK)
        assert refused.value.details["existing_record_id"] == paused
        said = " ".join(child.resume())
    assert said == f"got {paused}", said
    assert [i.key for i in store.list("catalog/records/")] == [marker]
    repo = new_repository(store, keys)
    assert repo.get(paused, actor=CLERK).registration.number == 1  # type: ignore[union-attr]
    with pytest.raises(Duplicate):
        repo.create_document("den", incoming(), pdf_bytes("rv51"), "c.pdf", CLERK)
    assert fsck(repo).clean


def test_a_guard_of_a_running_writer_of_this_machine_is_not_stale_by_its_age() -> None:
    """The rule, pure: a guard's writer that runs on this machine is asked, not timed (up to
    LIVE_WRITER_HOLD_SECONDS); another machine's, or one naming no process, by its age."""
    from datetime import timedelta

    from kho.process import LIVE_WRITER_HOLD_SECONDS
    from repository.records import CLAIM_GRACE_SECONDS, claim_is_stale

    here, now = "host-a/boot-1/ns-1", utcnow()
    holder = {"record_id": "r1", "at": to_iso_utc(now), "host": here, "pid": 4242}

    def stale(after_s: float, *, pid: object = 4242, host: str = here, running: bool = True) -> bool:
        return claim_is_stale(
            {**holder, "pid": pid, "host": host},
            now=now + timedelta(seconds=after_s),
            host=here,
            alive=lambda p: running,
        )

    assert not stale(CLAIM_GRACE_SECONDS + 60)
    assert not stale(LIVE_WRITER_HOLD_SECONDS - 1)
    assert stale(LIVE_WRITER_HOLD_SECONDS)
    assert stale(0, running=False)  # its writer is gone: at once
    assert stale(CLAIM_GRACE_SECONDS, host="host-b/boot-1/ns-1")  # cannot be asked
    assert stale(CLAIM_GRACE_SECONDS, pid=0) and stale(CLAIM_GRACE_SECONDS, pid=2**70)
