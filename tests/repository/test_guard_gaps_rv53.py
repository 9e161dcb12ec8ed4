"""Duplicate guards attacked where m43 and rv51 left them open (review rv53).

A guard (``claims/sha256/<SHA-256>``, ``claims/skh/<digest of số/ký hiệu/cơ quan/năm>``) is what
stops a second record of one file or one số/ký hiệu. On a claims-mode S3 store (Ceph RGW) m43
keeps it in its claim (companion bucket); a store written before keeps it in the data bucket.
What is attacked here, on the real gateway: a guard of the earlier layout with no claim over it
(the create path did not read it), a claim of unbounded size, and records whose guards are gone
or name another record (``kho fsck`` did not look)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, outgoing, pdf_bytes, s3_options_or_skip

from kho.errors import Duplicate, FormatInvalid
from kho.textkey import nfc
from kho.timeutil import utcnow
from repository import formats
from repository.fsck import fsck
from repository.records import SYSTEM, claim_body
from repository.storage import open_store
from repository.storage.base import ObjectInfo, ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, restore

OLD_RECORD = "000000000001aaaaaaaaaaaa"  # minted in 1970: far past every grace


def _claims_mode(store: ObjectStore) -> None:
    # The test gateway (Ceph RGW) ignores If-None-Match on a versioned bucket: the companion
    # bucket's claims are what this is about. Said, not skipped, on a server that honours it.
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]


def _reopened(store: ObjectStore) -> ObjectStore:
    """The same bucket opened again, as the next process (a web worker, a ``kho`` command) does."""
    return open_store(f"s3://{store.bucket}", **s3_options_or_skip())  # type: ignore[attr-defined]


def _to_earlier_layout_without_claim(store: ObjectStore, key: str) -> None:
    """``key``'s guard moved by hand where a store written before m43 (or by a server that
    creates conditionally) keeps it: the data bucket, with no claim in the companion bucket."""
    guard = store.get(key)
    store._client.remove_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    store._put_raw(store.bucket, key, guard)  # type: ignore[attr-defined]


def _records(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list("catalog/records/")]


@pytest.mark.s3
@pytest.mark.parametrize("guard", ["skh", "sha256"])
def test_a_guard_of_the_earlier_layout_without_a_claim_refuses_the_second_record(
    tmp_path: Path, guard: str
) -> None:
    store, keys = make_store("s3", tmp_path, "rv53old"), make_store("s3", tmp_path, "rv53oldk")
    _claims_mode(store)
    content = pdf_bytes("stored before m43")
    record = new_repository(store, keys).create_document(
        "den", incoming(code_number="7"), content, "a.pdf", CLERK
    )
    for info in list(store.list("claims/")):
        _to_earlier_layout_without_claim(store, info.key)

    repo = new_repository(_reopened(store), keys)
    with pytest.raises(Duplicate) as refused:
        if guard == "skh":  # the same số/ký hiệu, another file
            repo.create_document("den", incoming(code_number="7"), pdf_bytes("other"), "b.pdf", CLERK)
        else:  # the same file under another số
            repo.create_document("den", incoming(code_number="8"), content, "b.pdf", CLERK)
    assert refused.value.details["existing_record_id"] == record.record_id
    assert len(_records(store)) == 1
    assert fsck(repo).clean


@pytest.mark.s3
def test_a_stale_guard_of_the_earlier_layout_is_still_taken_over(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "rv53stale"), make_store("s3", tmp_path, "rv53stalek")
    _claims_mode(store)
    new_repository(store, keys).create_document(
        "den", incoming(code_number="1"), pdf_bytes("w"), "w.pdf", CLERK
    )
    content = pdf_bytes("a dead writer's file")
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    dead = {"record_id": OLD_RECORD, "at": "2026-01-01T00:00:00Z", "host": "another-machine/", "pid": 4242}
    store._put_raw(store.bucket, key, formats.dumps(formats.CLAIM.name, {**dead, "decision": None}))  # type: ignore[attr-defined]

    fresh = _reopened(store)
    made = new_repository(fresh, keys).create_intake("den", content, "a.pdf", CLERK)
    assert formats.loads(formats.CLAIM.name, fresh.get(key))["record_id"] == made.record_id
    client = store._client  # type: ignore[attr-defined]
    assert [o.object_name for o in client.list_objects(store.bucket, prefix=key)] == []  # type: ignore[attr-defined]


@pytest.mark.s3
def test_a_claim_past_the_size_cap_is_refused_naming_it(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "rv53big"), make_store("s3", tmp_path, "rv53bigk")
    _claims_mode(store)
    repo = new_repository(store, keys)
    content = pdf_bytes("guarded")
    record = repo.create_document("den", incoming(code_number="3"), content, "a.pdf", CLERK)
    key = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    # A claim written by hand: a valid guard, padded to 3 MiB. Read whole before, on every read
    # of its key (the 1 GB one as well); now refused at the cap, naming the object.
    body: dict[str, Any] = {
        "writer": "w",
        "pid": 4242,
        "host": "another-machine",
        "at": 0,
        "format_version": 1,
    }
    body["guard"] = base64.b64encode(claim_body(record.record_id, utcnow())).decode("ascii")
    body["padding"] = "x" * (3 << 20)
    store._put_raw(store.claims_bucket, "claims/" + key, json.dumps(body).encode())  # type: ignore[attr-defined]

    for attempt in (
        lambda: repo.find_by_sha256(hashlib.sha256(content).hexdigest()),
        lambda: repo.create_intake("den", content, "again.pdf", CLERK),
    ):
        with pytest.raises(FormatInvalid) as refused:
            attempt()
        assert refused.value.code == "FORMAT_INVALID"
        assert refused.value.details["key"] == key
        assert key in refused.value.message and refused.value.message == nfc(refused.value.message)
    found = fsck(repo)
    assert [(i.kind, i.subject) for i in found.issues] == [("format", key)]
    assert len(_records(store)) == 1


def _drop_guard(store: ObjectStore, key: str) -> None:
    """``key``'s guard lost as it is lost in the field: on S3 its claim removed from the
    companion bucket by hand (the bucket emptied, a lifecycle rule), locally the file deleted."""
    if store.name == "s3":
        store._client.remove_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    else:
        store.delete(key)


def _sha_guard(content: bytes) -> str:
    return f"claims/sha256/{hashlib.sha256(content).hexdigest()}"


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_finds_a_record_without_its_guard_and_restores_it(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv53gone"), make_store(kind, tmp_path, "rv53gonek")
    repo = new_repository(store, keys)
    content = pdf_bytes("its guard lost")
    record = repo.create_document("den", incoming(code_number="4"), content, "a.pdf", CLERK)
    guard = _sha_guard(content)
    _drop_guard(store, guard)

    found = fsck(repo)
    assert [(i.kind, i.subject, i.repairable) for i in found.issues] == [("guard-missing", guard, True)]
    assert found.issues[0].details["record_id"] == record.record_id
    assert record.record_id in found.issues[0].message
    mended = fsck(repo, repair=True)
    assert [i.repaired for i in mended.issues] == [True]
    assert formats.loads(formats.CLAIM.name, store.get(guard))["record_id"] == record.record_id
    assert fsck(repo).clean
    with pytest.raises(Duplicate) as again:
        repo.create_document("den", incoming(code_number="5"), content, "b.pdf", CLERK)
    assert again.value.details["existing_record_id"] == record.record_id


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_never_picks_a_guard_between_two_records_of_one_file(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv53two"), make_store(kind, tmp_path, "rv53twok")
    repo = new_repository(store, keys)
    content = pdf_bytes("sent twice")
    # (văn bản đi: a văn bản đến registered again waits for ingest's reading of its first)
    first = repo.create_document("di", outgoing(), content, "a.pdf", CLERK)
    again = repo.create_document(  # as ingest registers a re-sent document again (ingest.receive)
        "di",
        outgoing(subject="Gửi lại"),
        content,
        "b.pdf",
        CLERK,
        allow_duplicate_content=True,
        extra={"registered_again_from": first.record_id},
    )
    guard = _sha_guard(content)
    assert fsck(repo).clean  # the guard names the first: a copy registered again holds none
    _drop_guard(store, guard)

    found = fsck(repo, repair=True)
    assert [(i.kind, i.subject, i.repairable, i.repaired) for i in found.issues] == [
        ("guard-conflict", guard, False, False)
    ]
    assert found.issues[0].details["records"] == sorted([first.record_id, again.record_id])
    assert not store.exists(guard)


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
@pytest.mark.parametrize("guard_kind", ["sha256", "skh"])
def test_fsck_reports_a_guard_naming_another_record(tmp_path: Path, kind: str, guard_kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv53wrong"), make_store(kind, tmp_path, "rv53wrongk")
    repo = new_repository(store, keys)
    content = pdf_bytes("the guarded file")
    first = repo.create_document("den", incoming(code_number="4"), content, "a.pdf", CLERK)
    other = repo.create_document("den", incoming(code_number="9"), pdf_bytes("other"), "b.pdf", CLERK)
    if guard_kind == "sha256":
        guard = _sha_guard(content)
    else:
        guard = next(
            k
            for k in (i.key for i in store.list("claims/skh/"))
            if json.loads(store.get(k))["record_id"] == first.record_id
        )
    # A forged guard (or one written by a tool): it names the other record. The next upload of
    # the file (or số/ký hiệu) is refused naming a record that does not hold it.
    store.put(guard, claim_body(other.record_id, utcnow()))

    found = fsck(repo, repair=True)
    assert [(i.kind, i.subject, i.repairable, i.repaired) for i in found.issues] == [
        ("guard-wrong-record", guard, False, False)
    ]
    assert found.issues[0].details["named"] == other.record_id
    assert other.record_id in found.issues[0].message
    assert formats.loads(formats.CLAIM.name, store.get(guard))["record_id"] == other.record_id  # untouched


def _data_bucket_guards(store: ObjectStore) -> list[str]:
    """What the data bucket itself holds under the guard prefixes (not the merged listing)."""
    client, bucket = store._client, store.bucket  # type: ignore[attr-defined]
    return sorted(
        o.object_name or ""
        for prefix in ("claims/sha256/", "claims/skh/")
        for o in client.list_objects(bucket, prefix=prefix, recursive=True)
    )


@pytest.mark.s3
def test_the_guard_migration_moves_earlier_guards_into_claims(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "rv53move"), make_store("s3", tmp_path, "rv53movek")
    _claims_mode(store)
    repo = new_repository(store, keys)
    content = pdf_bytes("moved")
    record = repo.create_document("den", incoming(code_number="6"), content, "a.pdf", CLERK)
    sha, skh = _sha_guard(content), next(i.key for i in store.list("claims/skh/"))
    _to_earlier_layout_without_claim(store, sha)  # no claim at all
    _to_earlier_layout_without_claim(store, skh)  # ... and one under a writer's stamp (version 0)
    stamp = {"writer": "w0", "pid": 4242, "host": "another-machine", "at": 0}
    store._put_raw(store.claims_bucket, "claims/" + skh, json.dumps(stamp).encode())  # type: ignore[attr-defined]
    # A shadowed guard: the claim names the record, the data bucket another (left for a person).
    other = "claims/sha256/" + "e" * 64
    store.put_if_absent(other, claim_body(record.record_id, utcnow()))
    store._put_raw(store.bucket, other, claim_body(OLD_RECORD, utcnow()))  # type: ignore[attr-defined]
    assert _data_bucket_guards(store) == sorted([sha, skh, other])

    done = new_repository(_reopened(store), keys).reclaim_duplicate_guards(SYSTEM)
    assert (done.moved, done.kept) == (2, (other,))
    assert _data_bucket_guards(store) == [other]
    for key in (sha, skh):
        claim = json.loads(store._fetch(store.claims_bucket, "claims/" + key)[0])  # type: ignore[attr-defined]
        assert claim["format_version"] == 1
        assert (
            formats.loads(formats.CLAIM.name, base64.b64decode(claim["guard"]))["record_id"]
            == record.record_id
        )
    event = [e for e in repo.audit.events() if e.action == "migration:duplicate-guards"][-1]
    assert (event.details["moved"], event.details["kept"]) == (2, [other])
    fresh = new_repository(_reopened(store), keys)
    for attempt in (
        lambda: fresh.create_document("den", incoming(code_number="6"), pdf_bytes("x"), "b.pdf", CLERK),
        lambda: fresh.create_document("den", incoming(code_number="8"), content, "c.pdf", CLERK),
    ):
        with pytest.raises(Duplicate) as refused:
            attempt()
        assert refused.value.details["existing_record_id"] == record.record_id
    again = new_repository(_reopened(store), keys).reclaim_duplicate_guards(SYSTEM)
    assert (again.moved, again.kept) == (0, (other,))


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_reports_a_file_stored_twice_behind_a_lost_guard(tmp_path: Path, kind: str) -> None:
    store, keys = make_store(kind, tmp_path, "rv53twice"), make_store(kind, tmp_path, "rv53twicek")
    repo = new_repository(store, keys)
    content = pdf_bytes("stored twice")
    first = repo.create_document("den", incoming(code_number="4"), content, "a.pdf", CLERK)
    _drop_guard(store, _sha_guard(content))
    # With its guard gone the same file is taken again (the guard now names the second).
    second = repo.create_document("den", incoming(code_number="5"), content, "b.pdf", CLERK)

    found = fsck(repo, repair=True)
    assert [(i.kind, i.subject, i.repairable, i.repaired) for i in found.issues] == [
        ("guard-duplicate", _sha_guard(content), False, False)
    ]
    assert found.issues[0].details["records"] == sorted([first.record_id, second.record_id])
    assert first.record_id in found.issues[0].message and second.record_id in found.issues[0].message
    assert len(_records(store)) == 2  # nothing removed: which one stays is for a person


def test_a_local_guard_past_the_size_cap_is_refused_naming_it(tmp_path: Path) -> None:
    store, keys = make_store("local", tmp_path, "rv53bigl"), make_store("local", tmp_path, "rv53bigkl")
    repo = new_repository(store, keys)
    content = pdf_bytes("guarded here")
    record = repo.create_document("den", incoming(code_number="3"), content, "a.pdf", CLERK)
    key = _sha_guard(content)
    # The guard file rewritten by hand: the record's own guard, padded to 3 MiB. Read whole
    # before on every create of the file (a 300 MB one as well); now refused at the cap.
    body = json.loads(store.get(key))
    body["padding"] = "x" * (3 << 20)
    store.put(key, json.dumps(body).encode())

    for attempt in (
        lambda: repo.find_by_sha256(hashlib.sha256(content).hexdigest()),
        lambda: repo.create_intake("den", content, "again.pdf", CLERK),
    ):
        with pytest.raises(FormatInvalid) as refused:
            attempt()
        assert refused.value.details["key"] == key and key in refused.value.message
        assert refused.value.message == nfc(refused.value.message)
    assert [(i.kind, i.subject) for i in fsck(repo).issues] == [("format", key)]
    assert _records(store) == [f"catalog/records/{record.record_id}"]


def _catch_up_listing_with_a_pause(store: ObjectStore, between: Callable[[], None]) -> list[int]:
    """Make the second full listing of ``store`` while armed (a backup's catch-up listing) pass
    ``catalog/`` and ``claims/``, run ``between``, then go on from ``records/``: a writer quicker
    than the listing (test_backup.py's ``_list_with_a_pause``, the commit inside the pause)."""
    plain = store.list
    state = [0, 0]  # armed, full listings since

    def listing(prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        if prefix or start_after is not None or not state[0]:
            yield from plain(prefix, start_after)
            return
        state[1] += 1
        if state[1] != 2:
            yield from plain("")
            return
        yield from [info for info in plain("") if info.key < "records/"]
        between()
        yield from plain("", start_after="records")

    store.list = listing  # type: ignore[method-assign]
    return state


@pytest.mark.parametrize("kind", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_a_backup_keeps_the_guards_of_a_record_committed_during_its_catch_up(
    tmp_path: Path, kind: str
) -> None:
    store, keys = make_store(kind, tmp_path, "rv53bk"), make_store(kind, tmp_path, "rv53bkk")
    repo = new_repository(store, keys)
    for n in range(3):
        repo.create_document(
            "den", incoming(code_number=str(n + 1)), pdf_bytes(f"before {n}"), "a.pdf", CLERK
        )
    late_content = pdf_bytes("committed while the backup listed")
    made: list[str] = []

    def between() -> None:  # guards land after claims/ was passed, the commit before registers/
        made.append(
            repo.create_document("den", incoming(code_number="99"), late_content, "l.pdf", CLERK).record_id
        )

    listings = _catch_up_listing_with_a_pause(store, between)
    copy, key_copy = LocalStore(tmp_path / "b-store"), LocalStore(tmp_path / "b-keys")
    listings[0] = 1
    held = backup(store, copy, label="store").records
    listings[0] = 0
    backup(keys, key_copy, label="keys", records=held)
    assert listings[1] >= 2 and made

    fresh = new_repository(LocalStore(tmp_path / "again"), LocalStore(tmp_path / "again-keys"))
    restore(copy, fresh.store)
    restore(key_copy, fresh.keys.store)
    assert made[0] in set(fresh.record_ids())  # committed in the copy: whole
    report = fsck(fresh, deep=True, grace_seconds=0)
    assert report.clean, [(i.kind, i.subject) for i in report.issues]
    with pytest.raises(Duplicate) as again:  # its file is still guarded in the restored store
        fresh.create_document("den", incoming(code_number="100"), late_content, "m.pdf", CLERK)
    assert again.value.details["existing_record_id"] == made[0]
