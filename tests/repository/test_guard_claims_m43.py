"""On an S3 server that claims in a companion bucket (Ceph RGW), a duplicate guard is its claim
(issue 14, task m43, "cut A" of ``bench/NOTES-m40.md``): one ``If-None-Match: *`` PUT of a
claim that carries the guard (format ``s3-claim`` version 1), no guard PUT in the data bucket
(main: the claim, then the guard — two PUTs a guard, four a stored document).

What must still hold: two writers of one file make one record; a dead writer's guard is taken
over; a store written before (its guards in the data bucket under a version-0 claim, or with no
claim at all) is read as before; ``kho fsck`` sees and mends guards of both layouts; a backup and
its restore carry them, so duplicates are still refused after a restore."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing as mp
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kho_claims import store_same_files
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes, store_url

from kho.errors import AlreadyExists, Duplicate, FormatUnsupported
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.fsck import fsck
from repository.records import claim_body
from repository.storage import open_store
from repository.storage.base import ObjectStore
from repository.storage.local import LocalStore
from retention.backup import backup, restore

pytestmark = pytest.mark.s3

OLD_RECORD = "000000000001aaaaaaaaaaaa"  # minted in 1970: far past every grace
"""A record id of no record, old enough that fsck never takes it for a creation under way."""


def _claims_mode(store: ObjectStore) -> None:
    # The companion bucket's claims are what this is about: the test gateway (Ceph RGW) ignores
    # If-None-Match on a versioned bucket. A server that honours it has no claims: this test is
    # not for it, and says so instead of skipping.
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]


def _count_requests(store: ObjectStore) -> Counter[str]:
    """The HTTP requests of an S3 store by method and bucket (``claims``: the companion)."""
    sent: Counter[str] = Counter()
    client = store._client  # type: ignore[attr-defined]
    real = client._http.urlopen
    claims = store.claims_bucket  # type: ignore[attr-defined]

    def urlopen(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        where = "claims" if f"/{claims}/" in url or url.endswith(f"/{claims}") else "data"
        sent[f"{method} {where}"] += 1
        return real(method, url, *args, **kwargs)

    client._http.urlopen = urlopen
    return sent


def _data_bucket_keys(store: ObjectStore, prefix: str) -> list[str]:
    """What the data bucket itself holds under ``prefix`` (not the store's merged listing)."""
    client, bucket = store._client, store.bucket  # type: ignore[attr-defined]
    return sorted(o.object_name or "" for o in client.list_objects(bucket, prefix=prefix, recursive=True))


def _claim_object(store: ObjectStore, key: str) -> dict[str, Any]:
    """The claim of ``key`` in the companion bucket, parsed."""
    client = store._client  # type: ignore[attr-defined]
    response = client.get_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    try:
        return json.loads(response.read())
    finally:
        response.close()
        response.release_conn()


def _guard_as_claim(store: ObjectStore, key: str, guard: bytes) -> None:
    """A guard as m43 keeps it, written by hand (its claim, version 1, carrying it)."""
    body = {"writer": "w1", "pid": 4242, "host": "another-machine", "at": 0, "format_version": 1}
    body["guard"] = base64.b64encode(guard).decode("ascii")
    store._put_raw(store.claims_bucket, "claims/" + key, json.dumps(body).encode(), {"If-None-Match": "*"})  # type: ignore[attr-defined]


def _earlier_layout(store: ObjectStore, key: str, guard: bytes, *, claim: bool = True) -> None:
    """A guard as main (before m43) kept it, written by hand: its claim (the writer's stamp,
    version 0) in the companion bucket, unless ``claim`` is False (a store whose companion bucket
    lost its claims), and the guard in the data bucket."""
    client = store._client  # type: ignore[attr-defined]
    client.remove_object(store.claims_bucket, "claims/" + key)  # type: ignore[attr-defined]
    if claim:
        stamp = {"writer": "w0", "pid": 4242, "host": "another-machine", "at": 0}
        store._put_raw(store.claims_bucket, "claims/" + key, json.dumps(stamp).encode())  # type: ignore[attr-defined]
    store._put_raw(store.bucket, key, guard)  # type: ignore[attr-defined]


def test_a_guard_is_written_once_as_its_claim(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "m43one"), make_store("s3", tmp_path, "m43onek")
    _claims_mode(store)
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("warm"), "w.pdf", CLERK)
    sent = _count_requests(store)
    content = pdf_bytes("once")
    record = repo.create_document("den", incoming(code_number="2"), content, "a.pdf", CLERK)

    guard = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    # No guard in the data bucket: catalog, original, register entry, v000001, the act's audit
    # events (5 PUTs; main: 7, the two guards' PUTs too) ...
    assert _data_bucket_keys(store, "claims/") == []
    assert sent["PUT data"] == 5, sent
    # ... and in the companion bucket the two guards' claims, the register number's and the audit
    # number's, and the witness (5 PUTs, as main).
    assert sent["PUT claims"] == 5, sent
    claim = _claim_object(store, guard)
    assert claim["format_version"] == 1 and claim["pid"] and claim["writer"]
    held = formats.loads(formats.CLAIM.name, base64.b64decode(claim["guard"]))
    assert held["record_id"] == record.record_id
    assert repo.find_by_sha256(hashlib.sha256(content).hexdigest()) == record.record_id
    with pytest.raises(Duplicate) as again:
        repo.create_document("den", incoming(code_number="3"), content, "b.pdf", CLERK)
    assert again.value.details["existing_record_id"] == record.record_id
    with pytest.raises(Duplicate) as same_number:
        repo.create_document("den", incoming(code_number="2"), pdf_bytes("other"), "c.pdf", CLERK)
    assert same_number.value.details["existing_record_id"] == record.record_id
    assert fsck(repo).clean


@pytest.mark.parametrize("claim", [True, False], ids=["version-0-claim", "no-claim"])
def test_a_document_stored_in_the_earlier_layout_is_still_a_duplicate(tmp_path: Path, claim: bool) -> None:
    store, keys = make_store("s3", tmp_path, "m43old"), make_store("s3", tmp_path, "m43oldk")
    _claims_mode(store)
    repo = new_repository(store, keys)
    content = pdf_bytes("stored by main")
    record = repo.create_document("den", incoming(code_number="7"), content, "a.pdf", CLERK)
    sha = hashlib.sha256(content).hexdigest()
    for key in (f"claims/sha256/{sha}", *(i.key for i in store.list("claims/skh/"))):
        _earlier_layout(store, key, store.get(key), claim=claim)  # as main's write path left it

    assert repo.find_by_sha256(sha) == record.record_id
    with pytest.raises(Duplicate) as refused:
        new_repository(store, keys).create_intake("den", content, "again.pdf", CLERK)
    assert refused.value.details["existing_record_id"] == record.record_id
    guard = f"claims/sha256/{sha}"
    if claim:
        # The số/ký hiệu guard is not read before its create: its claim refuses it. (Without
        # a claim — a companion bucket emptied by hand — nothing refuses it, as on main, where
        # the create's claim is won too and its guard PUT replaces the old one: left open.)
        with pytest.raises(Duplicate) as numbered:
            repo.create_document("den", incoming(code_number="7"), pdf_bytes("x"), "b.pdf", CLERK)
        assert numbered.value.details["existing_record_id"] == record.record_id
        # the guard's own create meets it too (a writer that has not read first: the race path)
        taken = claim_body("another", utcnow())
        with pytest.raises(AlreadyExists):
            store.put_if_absent(guard, taken)
        assert json.loads(store.get_after_conflict(guard))["record_id"] == record.record_id
    assert [i.key for i in store.list("claims/sha256/")] == [guard]
    assert fsck(repo).clean


def test_two_writer_processes_of_the_same_files_make_one_record_each(tmp_path: Path) -> None:
    url, options = store_url("s3", tmp_path, "m43race")
    key_url, key_options = store_url("s3", tmp_path, "m43racek")
    _claims_mode(open_store(url, **options))
    files = 6
    with mp.get_context("spawn").Pool(2) as pool:
        results = pool.map(store_same_files, [(url, options, key_url, key_options, files)] * 2)
    for n in range(files):
        outcomes = sorted(outcome for result in results for i, *outcome in result if i == n)
        assert [kind for kind, _ in outcomes] == ["duplicate", "made"], (n, outcomes)
        assert outcomes[0][1] == outcomes[1][1], "the duplicate names the record made"
    store = open_store(url, **options)
    made = [info.key for info in store.list("catalog/records/")]
    assert len(made) == files  # (a refused writer's record is withdrawn)
    assert len(list(store.list("claims/sha256/"))) == files
    assert _data_bucket_keys(store, "claims/") == []
    repo = new_repository(store, open_store(key_url, **key_options))
    assert repo.audit.verify().ok
    assert fsck(repo).clean


def test_a_dead_writers_guard_is_taken_over_in_the_companion_bucket(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "m43dead"), make_store("s3", tmp_path, "m43deadk")
    _claims_mode(store)
    repo = new_repository(store, keys)
    content = pdf_bytes("dead writer")
    guard = f"claims/sha256/{hashlib.sha256(content).hexdigest()}"
    # A writer on another machine took the guard and died before its commit: young, it still
    # refuses (its writer cannot be asked); past the grace, it is taken over.
    young = {"record_id": OLD_RECORD, "at": to_iso_utc(utcnow()), "host": "another-machine/", "pid": 4242}
    _guard_as_claim(store, guard, formats.dumps(formats.CLAIM.name, {**young, "decision": None}))
    with pytest.raises(Duplicate):
        repo.create_intake("den", content, "a.pdf", CLERK)

    store.delete(guard)
    old = {**young, "at": "2026-01-01T00:00:00Z", "decision": None}
    _guard_as_claim(store, guard, formats.dumps(formats.CLAIM.name, old))
    made = repo.create_intake("den", content, "a.pdf", CLERK)

    assert formats.loads(formats.CLAIM.name, store.get(guard))["record_id"] == made.record_id
    assert _claim_object(store, guard)["format_version"] == 1
    assert _data_bucket_keys(store, "claims/") == []
    assert list(store.list("claims/takeover/")) == []
    with pytest.raises(Duplicate):
        repo.create_intake("den", content, "b.pdf", CLERK)


@pytest.mark.parametrize("layout", ["claim", "earlier"])
def test_fsck_finds_and_mends_a_guard_of_no_record(tmp_path: Path, layout: str) -> None:
    store, keys = make_store("s3", tmp_path, "m43fsck"), make_store("s3", tmp_path, "m43fsckk")
    _claims_mode(store)
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(code_number="1"), pdf_bytes("live"), "a.pdf", CLERK)
    dangling = "claims/sha256/" + "d" * 64
    body = claim_body(OLD_RECORD, utcnow())
    if layout == "claim":
        _guard_as_claim(store, dangling, body)
    else:
        _earlier_layout(store, dangling, body)

    found = fsck(repo)
    assert [(i.kind, i.subject) for i in found.issues] == [("stale-claim", dangling)]
    mended = fsck(repo, repair=True)
    assert [i.repaired for i in mended.issues] == [True]
    assert fsck(repo).clean
    assert not store.exists(dangling)
    assert [i.key for i in store.list("claims/sha256/")] != [] and dangling not in [
        i.key for i in store.list("claims/")
    ]


def test_backup_and_restore_carry_the_guards_kept_as_claims(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "m43bk"), make_store("s3", tmp_path, "m43bkk")
    _claims_mode(store)
    repo = new_repository(store, keys)
    content = pdf_bytes("backed up")
    record = repo.create_document("den", incoming(code_number="5"), content, "a.pdf", CLERK)
    guards = sorted(info.key for info in store.list("claims/"))
    assert len(guards) == 2  # its SHA-256 and its số/ký hiệu

    copy, key_copy = LocalStore(tmp_path / "copy"), LocalStore(tmp_path / "keycopy")
    made = backup(store, copy, label="store")
    backup(keys, key_copy, label="keys")
    assert set(guards) <= {entry["key"] for entry in _manifest_objects(copy, made.backup_id)}

    fresh_store, fresh_keys = make_store("s3", tmp_path, "m43rs"), make_store("s3", tmp_path, "m43rsk")
    restore(copy, fresh_store, label="store")
    restore(key_copy, fresh_keys, label="keys")
    fresh = new_repository(fresh_store, fresh_keys)
    assert sorted(info.key for info in fresh_store.list("claims/")) == guards
    assert _data_bucket_keys(fresh_store, "claims/") == []  # restored as claims
    with pytest.raises(Duplicate) as refused:
        fresh.create_intake("den", content, "again.pdf", CLERK)
    assert refused.value.details["existing_record_id"] == record.record_id
    with pytest.raises(Duplicate):
        fresh.create_document("den", incoming(code_number="5"), pdf_bytes("y"), "b.pdf", CLERK)
    assert fsck(fresh).clean


def _manifest_objects(destination: ObjectStore, backup_id: str) -> list[dict[str, Any]]:
    from retention.backup import read_manifest

    return list(read_manifest(destination, backup_id)["objects"])


def test_a_claim_of_a_newer_format_is_refused_with_its_code(tmp_path: Path) -> None:
    store = make_store("s3", tmp_path, "m43new")
    _claims_mode(store)
    key = "claims/sha256/" + "e" * 64
    body = {"writer": "w", "pid": 1, "host": "h", "at": 0, "format_version": 2, "guard": "e30="}
    store._put_raw(store.claims_bucket, "claims/" + key, json.dumps(body).encode())  # type: ignore[attr-defined]
    with pytest.raises(FormatUnsupported) as refused:
        store.get(key)
    assert refused.value.code == "FORMAT_UNSUPPORTED"
    assert "nâng cấp Kho" in refused.value.message
    # listed, so that fsck names it (unloadable), never a crash of the whole walk
    assert [info.key for info in store.list("claims/")] == [key]
    report = fsck(new_repository(store, make_store("s3", tmp_path, "m43newk")))
    assert [(i.kind, i.subject) for i in report.issues if i.subject == key] == [("format", key)]
