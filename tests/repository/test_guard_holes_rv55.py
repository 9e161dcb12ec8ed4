"""Duplicate guards: the holes rv53 left open (review rv55).

1. A local store's guard path (``claims/sha256/…``, ``claims/skh/…``) that is no file Kho wrote —
   a folder, a dangling link, a link leading out of the store, a FIFO — made every create of its
   key wait ``get_after_conflict``'s 10 s and fail ``CLAIM_PENDING`` for ever (a FIFO: hang for
   ever; a link out of the store: read through, its bytes taken as the guard), and ``kho fsck``
   did not list it. Now the create is refused at once (``CLAIM_NOT_A_FILE``, naming the guard),
   nothing is followed, and fsck lists it for a person (``guard-not-a-file``, never repaired).
2. Every repair fsck makes of a guard or claim is audited, one event per key it changed.

Real local stores and the real Ceph gateway; no mocks. A case that hung before runs in a thread
with a generous limit, so a hang is a failure, not a stuck run."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, outgoing, pdf_bytes

from kho.errors import Duplicate, KhoError
from kho.textkey import nfc
from kho.timeutil import parse_iso
from repository import formats
from repository.fsck import fsck
from repository.records import claim_body
from repository.storage.base import ObjectStore

HANG_LIMIT_S = 120.0
"""How long a step may take before it counts as hung (the machine is slow and shared: only a
step that never returns passes this)."""

OLD_RECORD = "000000000001aaaaaaaaaaaa"  # minted in 1970: far past every grace


def _within(step: Callable[[], Any]) -> Any:
    """``step``'s result, or the error it raised; fails when it has not returned in
    :data:`HANG_LIMIT_S` (a read blocked on a FIFO)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = step()
        except BaseException as exc:  # (handed to the test)
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_LIMIT_S)
    assert not worker.is_alive(), f"still running after {HANG_LIMIT_S:.0f} s (hung)"
    return out.get("error", out.get("value"))


def _release_fifo(path: Path) -> None:
    """Let a reader blocked on the FIFO ``path`` go (the code before this change opened it)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        if exc.errno not in (errno.ENXIO, errno.ENOENT):
            raise


def _records(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list("catalog/records/")]


def _skh_guard(tmp_path: Path, metadata: dict[str, Any]) -> str:
    """The số/ký hiệu guard a văn bản đến of ``metadata`` takes (learnt on a scratch store)."""
    scratch = make_store("local", tmp_path, "rv55scratch")
    new_repository(scratch, make_store("local", tmp_path, "rv55scratchk")).create_document(
        "den", metadata, pdf_bytes("scratch"), "s.pdf", CLERK
    )
    (key,) = [info.key for info in scratch.list("claims/skh/")]
    return key


def _make_odd(path: Path, kind: str, outside: Path, guard_bytes: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        path.mkdir()
        (path / "x").write_bytes(guard_bytes)  # (what a walk into it would find)
    elif kind == "dangling-link":
        path.symlink_to(outside / "gone")
    elif kind == "link-out-of-store":
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "guard").write_bytes(guard_bytes)
        path.symlink_to(outside / "guard")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("guard_kind", ["sha256", "skh"])
@pytest.mark.parametrize("kind", ["folder", "dangling-link", "link-out-of-store", "fifo"])
def test_a_local_guard_path_that_is_no_file_refuses_at_once_and_fsck_lists_it(
    tmp_path: Path, kind: str, guard_kind: str
) -> None:
    store, keys = make_store("local", tmp_path, "rv55odd"), make_store("local", tmp_path, "rv55oddk")
    repo = new_repository(store, keys)
    first = repo.create_document("den", incoming(code_number="1"), pdf_bytes("first"), "a.pdf", CLERK)
    content, metadata = pdf_bytes("blocked"), incoming(code_number="7")
    if guard_kind == "sha256":
        key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    else:
        key = _skh_guard(tmp_path, metadata)
    path = store.root / "objects" / key  # type: ignore[attr-defined]
    outside = tmp_path / "outside"
    # The bytes of a valid guard naming the first record: followed, the link "works" (the
    # upload is refused as a duplicate of a record that does not hold the file).
    guard_bytes = claim_body(first.record_id, parse_iso(first.created_at))
    _make_odd(path, kind, outside, guard_bytes)
    mode = os.lstat(path).st_mode

    try:
        refused = _within(lambda: repo.create_document("den", metadata, content, "b.pdf", CLERK))
        assert isinstance(refused, KhoError) and refused.code == "CLAIM_NOT_A_FILE", repr(refused)
        assert refused.details["key"] == key and key in refused.message
        assert refused.message == nfc(refused.message)
        assert os.lstat(path).st_mode == mode  # never removed, never replaced
        assert _records(store) == [f"catalog/records/{first.record_id}"]
        if kind == "link-out-of-store":
            assert (outside / "guard").read_bytes() == guard_bytes

        found = _within(lambda: fsck(repo, repair=True))
        assert [(i.kind, i.subject, i.repairable, i.repaired) for i in found.issues] == [
            ("guard-not-a-file", key, False, False)
        ]
        assert found.issues[0].details["key"] == key
        assert key in found.issues[0].message and found.issues[0].message == nfc(found.issues[0].message)
        assert os.lstat(path).st_mode == mode  # --repair did not touch what it did not write
        assert stat.S_ISLNK(mode) == (kind in ("dangling-link", "link-out-of-store"))
    finally:
        if kind == "fifo":
            for _ in range(3):
                _release_fifo(path)


def test_a_guard_folder_linked_out_of_the_store_is_not_followed(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "rv55dir"), make_store("local", tmp_path, "rv55dirk")
    repo = new_repository(store, keys)
    first = repo.create_document("den", incoming(code_number="1"), pdf_bytes("first"), "a.pdf", CLERK)
    content = pdf_bytes("guarded elsewhere")
    digest = hashlib.sha256(content).hexdigest()
    # claims/sha256/ moved out of the store and linked back: a guard there names the first record.
    objects = store.root / "objects"  # type: ignore[attr-defined]
    elsewhere = tmp_path / "elsewhere"
    (objects / "claims" / "sha256").rename(elsewhere)
    (elsewhere / digest).write_bytes(claim_body(first.record_id, parse_iso(first.created_at)))
    (objects / "claims" / "sha256").symlink_to(elsewhere)

    refused = _within(lambda: repo.create_document("den", incoming(code_number="8"), content, "b.pdf", CLERK))
    assert isinstance(refused, KhoError) and refused.code == "CLAIM_NOT_A_FILE", repr(refused)
    assert refused.details["key"] == f"claims/sha256/{digest}"
    # A file not guarded there: its guard is not written out of the store either.
    other = pdf_bytes("not guarded anywhere")
    there = sorted(p.name for p in elsewhere.iterdir())  # (the first record's guard moved too)
    refused = _within(lambda: repo.create_document("den", incoming(code_number="9"), other, "c.pdf", CLERK))
    assert isinstance(refused, KhoError) and refused.code == "CLAIM_NOT_A_FILE", repr(refused)
    assert sorted(p.name for p in elsewhere.iterdir()) == there
    assert _records(store) == [f"catalog/records/{first.record_id}"]
    found = _within(lambda: fsck(repo))
    assert ("claim-not-a-file", "claims/sha256") in [(i.kind, i.subject) for i in found.issues]
    assert not any(i.subject.startswith("claims/sha256/") for i in found.issues)  # not walked into


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_audits_each_guard_it_writes_again(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv55aud"), make_store(kind, tmp_path, "rv55audk")
    repo = new_repository(store, keys)
    content = pdf_bytes("its guard lost")
    record = repo.create_document("den", incoming(code_number="4"), content, "a.pdf", CLERK)
    guard = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    if store.name == "s3":
        store._client.remove_object(store.claims_bucket, "claims/" + guard)  # type: ignore[attr-defined]
    else:
        store.delete(guard)

    assert [i.repaired for i in fsck(repo, repair=True).issues] == [True]
    events = [e for e in repo.audit.events() if e.action == "fsck:guard-restored"]
    assert [(e.record_id, e.details["key"], e.details["issue"], e.actor) for e in events] == [
        (record.record_id, guard, "guard-missing", "system:fsck")
    ]
    assert fsck(repo).clean  # (the event names a live record: nothing else to say)


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_audits_each_stale_claim_it_removes(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv55st"), make_store(kind, tmp_path, "rv55stk")
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("w"), "w.pdf", CLERK)
    dead = {"record_id": OLD_RECORD, "at": "2026-01-01T00:00:00Z", "host": "another-machine/", "pid": 4242}
    stale = [f"claims/sha256/{hashlib.sha256(f'dead {n}'.encode()).hexdigest()}" for n in range(2)]
    for key in stale:
        store.put_if_absent(key, formats.dumps(formats.CLAIM.name, {**dead, "decision": None}))

    found = fsck(repo, repair=True)
    assert sorted((i.kind, i.subject, i.repaired) for i in found.issues) == [
        ("stale-claim", key, True) for key in sorted(stale)
    ]
    events = [e for e in repo.audit.events() if e.action == "fsck:claim-removed"]
    removed = sorted((e.details["key"], e.details["issue"], e.details["named"], e.record_id) for e in events)
    assert removed == [(key, "stale-claim", OLD_RECORD, None) for key in sorted(stale)]
    assert all(not store.exists(key) for key in stale)
    assert fsck(repo).clean  # (no event names the never-committed record: step 3 unaffected)


def test_a_refused_create_leaves_nothing_behind(tmp_path: Path) -> None:
    """The refusal withdraws what the create wrote before it (as a duplicate's does)."""
    store, keys = make_store("local", tmp_path, "rv55left"), make_store("local", tmp_path, "rv55leftk")
    repo = new_repository(store, keys)
    content = pdf_bytes("left")
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    (store.root / "objects" / key).mkdir(parents=True)  # type: ignore[attr-defined]
    refused = _within(lambda: repo.create_document("den", incoming(code_number="2"), content, "b.pdf", CLERK))
    assert isinstance(refused, KhoError) and refused.code == "CLAIM_NOT_A_FILE", repr(refused)
    assert [i.kind for i in fsck(repo).issues] == ["guard-not-a-file"]
    assert not any(info.key.startswith("records/") for info in store.list(""))
    json.dumps(refused.to_dict())  # (an API answer carries it whole)
    assert not isinstance(refused, Duplicate)


def _claim_object(store: ObjectStore, key: str) -> bytes:
    response = store._client.get_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    try:
        return bytes(response.read())
    finally:
        response.close()
        response.release_conn()


@pytest.mark.s3
@pytest.mark.parametrize("body", [b"not a claim at all", b'{"x": 1}', b"[]"], ids=["text", "object", "array"])
def test_an_s3_guard_claim_that_is_no_claim_refuses_at_once_and_fsck_names_it(
    tmp_path: Path, body: bytes
) -> None:
    store, keys = make_store("s3", tmp_path, "rv55s3odd"), make_store("s3", tmp_path, "rv55s3oddk")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    repo = new_repository(store, keys)
    first = repo.create_document("den", incoming(code_number="1"), pdf_bytes("first"), "a.pdf", CLERK)
    content = pdf_bytes("blocked on s3")
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    # The S3 analogue of a folder at a guard's path: an object in the companion bucket at the
    # guard's claim that no Kho wrote. Read as a writer's stamp before: every create of the file
    # waited 10 s for CLAIM_PENDING, and overwrote it once claim_timeout_s old; fsck was clean.
    store._put_raw(store.claims_bucket, "claims/" + key, body)  # type: ignore[attr-defined]

    refused = _within(lambda: repo.create_document("den", incoming(code_number="7"), content, "b.pdf", CLERK))
    assert isinstance(refused, KhoError) and refused.code == "FORMAT_INVALID", repr(refused)
    assert refused.details["key"] == key and key in refused.message
    assert refused.message == nfc(refused.message)
    assert _records(store) == [f"catalog/records/{first.record_id}"]

    found = fsck(repo, repair=True)
    assert [(i.kind, i.subject, i.repaired) for i in found.issues] == [("format", key, False)]
    assert _claim_object(store, key) == body  # never overwritten, never removed


def _drop(store: ObjectStore, key: str) -> None:
    if store.name == "s3":
        store._client.remove_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    else:
        store.delete(key)


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_finds_a_document_without_its_skh_guard_and_restores_it(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv55skh"), make_store(kind, tmp_path, "rv55skhk")
    repo = new_repository(store, keys)
    record = repo.create_document("den", incoming(code_number="4"), pdf_bytes("a"), "a.pdf", CLERK)
    # Registered again with a reason: it takes no số/ký hiệu guard, and is not reported.
    again = repo.create_document(
        "den", incoming(code_number="4"), pdf_bytes("b"), "b.pdf", CLERK, duplicate_reason="Gửi lại bản đúng"
    )
    # A văn bản đi numbered by its register: its số is the register's, no guard either.
    unnumbered = repo.create_document("di", outgoing(), pdf_bytes("c"), "c.pdf", CLERK)
    (guard,) = [info.key for info in store.list("claims/skh/")]
    assert json.loads(store.get(guard))["record_id"] == record.record_id
    assert fsck(repo).clean
    _drop(store, guard)

    found = fsck(repo)
    assert [(i.kind, i.subject, i.repairable) for i in found.issues] == [("guard-missing", guard, True)]
    assert found.issues[0].details["record_id"] == record.record_id
    assert record.record_id in found.issues[0].message
    assert found.issues[0].message == nfc(found.issues[0].message)
    mended = fsck(repo, repair=True)
    assert [i.repaired for i in mended.issues] == [True]
    assert formats.loads(formats.CLAIM.name, store.get(guard))["record_id"] == record.record_id
    events = [e for e in repo.audit.events() if e.action == "fsck:guard-restored"]
    assert [(e.record_id, e.details["key"]) for e in events] == [(record.record_id, guard)]
    assert fsck(repo).clean
    with pytest.raises(Duplicate) as refused:
        repo.create_document("den", incoming(code_number="4"), pdf_bytes("d"), "d.pdf", CLERK)
    assert refused.value.details["existing_record_id"] == record.record_id
    assert {again.record_id, unnumbered.record_id}.isdisjoint(e.record_id for e in events)


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_never_picks_a_skh_guard_between_two_documents(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv55pair"), make_store(kind, tmp_path, "rv55pairk")
    repo = new_repository(store, keys)
    first = repo.create_document("den", incoming(code_number="6"), pdf_bytes("a"), "a.pdf", CLERK)
    (guard,) = [info.key for info in store.list("claims/skh/")]
    _drop(store, guard)  # lost: the same số/ký hiệu is let in again, and that guard lost too
    second = repo.create_document("den", incoming(code_number="6"), pdf_bytes("b"), "b.pdf", CLERK)
    _drop(store, guard)

    found = fsck(repo, repair=True)
    assert [(i.kind, i.subject, i.repairable, i.repaired) for i in found.issues] == [
        ("guard-conflict", guard, False, False)
    ]
    assert found.issues[0].details["records"] == sorted([first.record_id, second.record_id])
    assert not store.exists(guard)
    assert not [e for e in repo.audit.events() if e.action.startswith("fsck:")]
