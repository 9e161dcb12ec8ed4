"""The audit witness of an S3 store lives in the companion unversioned bucket (s2).

Ceph RGW refuses every ``If-Match`` PUT on the versioned data bucket, but honours ``If-Match``
and ``If-None-Match: *`` on the unversioned ``<bucket>-claims``: the witness is kept there
(``pointers/audit/witness.json``) and moved with one conditional PUT. A store written before
kept it in the data bucket: it is read from there until its first conditional move, which
leaves a marker (format ``s3-pointer-moved``) under the old key; from then on a witness missing
from its new place is missing, never the older copy in the data bucket.

Real Ceph gateway; every test makes its own buckets."""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kho_buckets import new_bucket
from kho_claims import claim_held
from kho_testing import backup_s3_options, make_store, s3_options, two_event_act
from minio.error import S3Error

from kho.errors import (
    AlreadyExists,
    AuditChainBroken,
    Conflict,
    FormatUnsupported,
    NotFound,
    StoreUnavailable,
)
from repository import formats
from repository.audit import WITNESS_KEY, AuditLog, read_witness
from repository.storage import open_store
from repository.storage.base import ABSENT
from repository.storage.s3 import S3Store, is_moved_marker, pointer_envelope, pointer_from_envelope
from retention.backup import backup, restore, store_hashes

pytestmark = pytest.mark.s3

NEW_PLACE = "pointers/" + WITNESS_KEY


def _s3(tmp_path: Path, name: str) -> S3Store:
    store = make_store("s3", tmp_path, name)
    assert isinstance(store, S3Store)
    return store


def _raw_put(
    store: S3Store, bucket: str, key: str, body: bytes, headers: dict[str, str] | None = None
) -> str:
    """One PUT past the store (what an operator's or attacker's S3 client does): the ETag, or
    the S3 error code."""
    try:
        response = store._client._execute("PUT", bucket, key, body=body, headers=headers or {})
    except S3Error as exc:
        return exc.code or "?"
    return "ok " + (response.headers.get("ETag") or "").strip('"')


def _data_versions(store: S3Store) -> list[bytes]:
    """The bytes of every version of the witness key in the data bucket, oldest first."""
    client = store._client
    out = []
    for obj in client.list_objects(store.bucket, prefix=WITNESS_KEY, include_version=True):
        if obj.object_name == WITNESS_KEY and not obj.is_delete_marker:
            response = client.get_object(store.bucket, WITNESS_KEY, version_id=obj.version_id)
            try:
                out.append(response.read())
            finally:
                response.close()
                response.release_conn()
    return list(reversed(out))


def _in_new_place(store: S3Store) -> bool:
    return claim_held(store, NEW_PLACE)


def _old_layout(store: S3Store, acts: int) -> None:
    """A store as Kho wrote it before s2: ``acts`` acts, the witness written into the data
    bucket with a plain PUT after each (every version kept there), nothing in the companion
    bucket's ``pointers/``."""
    log = AuditLog(store)
    for n in range(acts):
        events = two_event_act(log, f"old{n}")
        witness = formats.dumps(formats.WITNESS.name, {"seq": events[-1].seq, "hash": events[-1].hash})
        assert _raw_put(store, store.bucket, WITNESS_KEY, witness).startswith("ok")
    store._client.remove_object(store.claims_bucket, NEW_PLACE)
    assert not _in_new_place(store)


class _Requests:
    """Every request the store's client sends (method, bucket, key), counted while active."""

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.seen: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> _Requests:
        client = self.store._client
        original = client._execute

        def counting(method: str, bucket_name: Any = None, object_name: Any = None, **kw: Any) -> Any:
            with self._lock:
                self.seen.append((method, str(bucket_name), str(object_name)))
            return original(method, bucket_name, object_name, **kw)

        client._execute = counting  # type: ignore[method-assign]
        self._original = original
        return self

    def __exit__(self, *exc: object) -> None:
        self.store._client._execute = self._original  # type: ignore[method-assign]

    def to(self, method: str, key: str) -> list[str]:
        return [bucket for m, bucket, k in self.seen if m == method and k == key]

    def writes(self) -> Iterator[tuple[str, str, str]]:
        return (r for r in self.seen if r[0] in ("PUT", "POST", "DELETE"))


def test_the_gateway_honours_conditions_on_the_companion_bucket_only(tmp_path: Path) -> None:
    """What the design rests on, checked on the real gateway: on the versioned data bucket RGW
    refuses an ``If-Match`` PUT even with the current ETag (and ignores ``If-None-Match: *``); on
    the unversioned companion bucket it creates only while absent, replaces with the current
    (unquoted) ETag and refuses a stale one, and refuses ``If-Match`` on a missing key."""
    store = _s3(tmp_path, "s2gw")
    data, claims = store.bucket, store.claims_bucket
    key = "probe/x"
    assert _raw_put(store, data, key, b"1").startswith("ok")
    current = store._client.stat_object(data, key).etag.strip('"')
    assert _raw_put(store, data, key, b"2", {"If-Match": current}) == "PreconditionFailed"
    assert _raw_put(store, data, key, b"3", {"If-None-Match": "*"}).startswith("ok")  # ignored

    first = _raw_put(store, claims, key, b"1", {"If-None-Match": "*"})
    assert first.startswith("ok")
    assert _raw_put(store, claims, key, b"2", {"If-None-Match": "*"}) == "PreconditionFailed"
    second = _raw_put(store, claims, key, b"2", {"If-Match": first.split()[1]})
    assert second.startswith("ok")
    assert _raw_put(store, claims, key, b"3", {"If-Match": first.split()[1]}) == "PreconditionFailed"
    store._client.remove_object(claims, key)
    assert _raw_put(store, claims, key, b"4", {"If-Match": second.split()[1]}) == "PreconditionFailed"
    for obj in store._client.list_objects(data, prefix=key, include_version=True):
        store._client.remove_object(data, key, version_id=obj.version_id)


def test_an_act_moves_the_witness_with_one_conditional_put_and_no_read_again(tmp_path: Path) -> None:
    """A process that has appended before: its act reads the witness once (before the act) and
    replaces it with one ``If-Match`` PUT in the companion bucket; no read again, nothing of the
    witness in the data bucket (before s2: read, read again, plain PUT in the data bucket)."""
    store = _s3(tmp_path, "s2one")
    log = AuditLog(store)
    two_event_act(log, "a")
    with _Requests(store) as requests:
        events = two_event_act(log, "b")
    assert requests.to("GET", NEW_PLACE) == [store.claims_bucket]
    assert requests.to("PUT", NEW_PLACE) == [store.claims_bucket]
    assert requests.to("GET", WITNESS_KEY) == [] and requests.to("PUT", WITNESS_KEY) == []
    assert read_witness(store)["seq"] == events[-1].seq == 3
    stored = store._client.get_object(store.claims_bucket, NEW_PLACE)
    try:
        envelope = formats.loads(formats.S3_POINTER.name, stored.read())
    finally:
        stored.close()
        stored.release_conn()
    assert envelope["pending"] is False
    assert json.loads(pointer_from_envelope(json.dumps(envelope).encode())[0])["seq"] == 3
    assert [i.key for i in store.list("audit/w")] == [WITNESS_KEY]  # listed once, where it is read
    assert not AuditLog(store).verify().findings


def test_an_old_layout_store_is_read_as_it_is_and_moved_by_its_first_act(tmp_path: Path) -> None:
    """Upgrade without an operator step: a store whose witness is in the data bucket is read
    from there (verify, ``read_witness``; reads write nothing), and the first act moves it:
    the copy in the companion bucket, the marker left in the data bucket on top of the old
    versions (kept there), verify clean; the next act is one conditional PUT."""
    store = _s3(tmp_path, "s2up")
    _old_layout(store, acts=2)
    with _Requests(store) as reads:
        assert read_witness(store)["seq"] == 3
        report = AuditLog(store).verify()
    assert not report.findings and report.last_seq == 3
    assert list(reads.writes()) == []
    assert [i.key for i in store.list("audit/w")] == [WITNESS_KEY]

    log = AuditLog(store)
    events = two_event_act(log, "new")
    assert _in_new_place(store) and read_witness(store)["seq"] == events[-1].seq == 5
    versions = _data_versions(store)
    assert [json.loads(v)["seq"] for v in versions[:-1]] == [1, 3]  # history kept
    assert is_moved_marker(versions[-1])
    assert formats.loads(formats.S3_POINTER_MOVED.name, versions[-1])["moved_to"] == {
        "bucket": store.claims_bucket,
        "key": NEW_PLACE,
    }
    assert not AuditLog(store).verify().findings
    with _Requests(store) as requests:
        two_event_act(log, "after")
    assert requests.to("GET", WITNESS_KEY) == [] and requests.to("PUT", NEW_PLACE) == [store.claims_bucket]


def test_a_witness_deleted_from_its_new_place_is_refused_not_taken_from_the_data_bucket(
    tmp_path: Path,
) -> None:
    """The upgrade cannot be abused: after the move, an attacker who deletes the witness in the
    companion bucket (or also puts a delete marker over the data bucket's key) finds the store
    refusing exactly as for a deleted witness; the older, lower witness still in the data
    bucket's history is never read."""
    store = _s3(tmp_path, "s2del")
    _old_layout(store, acts=2)  # the data bucket holds witnesses at #1 and #3
    log = AuditLog(store)
    two_event_act(log, "new")  # moved: witness at #5 in the companion bucket
    store._client.remove_object(store.claims_bucket, NEW_PLACE)  # the attacker, past the store
    with pytest.raises(NotFound):
        read_witness(store)
    assert not store.exists(WITNESS_KEY) and [i.key for i in store.list("audit/w")] == []
    with pytest.raises(AuditChainBroken):
        two_event_act(log, "refused")  # a process that saw the witness: refused
    assert not _in_new_place(store)  # and not written back
    store._client.remove_object(store.bucket, WITNESS_KEY)  # a delete marker over the marker
    with pytest.raises(NotFound):
        read_witness(store)
    findings = AuditLog(store).verify().findings
    assert [f.kind for f in findings] == [f.kind for f in _deleted_witness_findings(tmp_path)]


def _deleted_witness_findings(tmp_path: Path) -> list[Any]:
    """What verify finds in a store of the same acts whose witness was simply deleted."""
    store = _s3(tmp_path, "s2ref")
    log = AuditLog(store)
    for n in range(3):
        two_event_act(log, f"r{n}")
    store.delete(WITNESS_KEY)
    return AuditLog(store).verify().findings


def test_a_move_cut_short_before_its_marker_is_finished_by_the_next_act(tmp_path: Path) -> None:
    """A process killed between the copy (pending) and the marker: readers read the copy; the
    next act first leaves the marker, so a later deletion of the copy is refused, not answered
    with the data bucket's older witness. A plain ``put`` (``kho audit acknowledge``, a
    restore) writes a pending copy the same way."""
    store = _s3(tmp_path, "s2cut")
    _old_layout(store, acts=2)
    witness = store._client.get_object(store.bucket, WITNESS_KEY)
    try:
        below = witness.read()
    finally:
        witness.close()
        witness.release_conn()
    copy = pointer_envelope(below, pending=True)
    assert _raw_put(store, store.claims_bucket, NEW_PLACE, copy).startswith("ok")
    assert read_witness(store)["seq"] == 3  # the copy, pending
    assert not is_moved_marker(_data_versions(store)[-1])
    two_event_act(AuditLog(store), "next")
    assert is_moved_marker(_data_versions(store)[-1])
    store._client.remove_object(store.claims_bucket, NEW_PLACE)
    with pytest.raises(NotFound):
        read_witness(store)

    fresh = _s3(tmp_path, "s2put")
    fresh.put(WITNESS_KEY, b'{"seq": 0, "hash": "x", "format_version": 1}')
    assert is_moved_marker(_data_versions(fresh)[-1])
    fresh._client.remove_object(fresh.claims_bucket, NEW_PLACE)
    assert not fresh.exists(WITNESS_KEY)


def test_a_restore_into_an_empty_store_puts_the_witness_where_the_store_reads_it(tmp_path: Path) -> None:
    """``put_if_absent`` of the witness (a restore) writes it into the companion bucket and the
    marker; refused while a witness is there, in either place."""
    store = _s3(tmp_path, "s2rest")
    body = formats.dumps(formats.WITNESS.name, {"seq": 0, "hash": "a" * 64})
    store.put_if_absent(WITNESS_KEY, body)
    assert store.get(WITNESS_KEY) == body and _in_new_place(store)
    assert is_moved_marker(_data_versions(store)[-1])
    with pytest.raises(AlreadyExists):
        store.put_if_absent(WITNESS_KEY, body)
    old = _s3(tmp_path, "s2rest-old")
    _old_layout(old, acts=1)
    with pytest.raises(AlreadyExists):
        old.put_if_absent(WITNESS_KEY, body)


def test_a_witness_envelope_of_a_newer_format_is_refused_with_its_code(tmp_path: Path) -> None:
    """An envelope (or marker) written by a newer Kho is never guessed at: ``FORMAT_UNSUPPORTED``;
    bytes that are no envelope read as they are (a damaged witness is refused by its reader)."""
    store = _s3(tmp_path, "s2fmt")
    future = json.dumps({"format_version": 2, "write": "x", "pending": False, "data": "e30="}).encode()
    assert _raw_put(store, store.claims_bucket, NEW_PLACE, future).startswith("ok")
    with pytest.raises(FormatUnsupported) as refused:
        store.get(WITNESS_KEY)
    assert refused.value.code == "FORMAT_UNSUPPORTED"
    assert _raw_put(store, store.claims_bucket, NEW_PLACE, b"not json").startswith("ok")
    assert store.get(WITNESS_KEY) == b"not json"
    store._client.remove_object(store.claims_bucket, NEW_PLACE)
    marker = json.dumps({"format_version": 2, "moved_to": {"bucket": "b", "key": "k"}}).encode()
    assert _raw_put(store, store.bucket, WITNESS_KEY, marker).startswith("ok")
    with pytest.raises(FormatUnsupported):
        store.get(WITNESS_KEY)


@pytest.mark.parametrize("layout", ["moved", "old"])
def test_a_backup_carries_the_witness_and_a_restore_puts_it_where_the_store_reads_it(
    tmp_path: Path, layout: str
) -> None:
    """Backup of an S3 store (the witness moved, or still in the data bucket of an old-layout
    store) onto the second gateway, restored into a new store and over a store that has a
    witness of its own (``force``): the restored witness is read from the companion bucket,
    every object's bytes equal the origin's, the log verifies and takes the next act."""
    source = _s3(tmp_path, "s2bsrc")
    if layout == "old":
        _old_layout(source, acts=2)
    else:
        log = AuditLog(source)
        for n in range(2):
            two_event_act(log, f"m{n}")
    copy = open_store(f"s3://{new_bucket('s2bdst', backup_s3_options())}", **backup_s3_options())
    backup(source, copy, settle_seconds=0)
    assert [i.key for i in source.list("audit/w")] == [WITNESS_KEY]

    fresh = _s3(tmp_path, "s2bnew")
    restore(copy, fresh)
    assert _in_new_place(fresh) and read_witness(fresh)["seq"] == 3
    assert is_moved_marker(_data_versions(fresh)[-1])
    assert store_hashes(fresh) == store_hashes(source)
    assert not AuditLog(fresh).verify().findings
    assert two_event_act(AuditLog(fresh), "after")[-1].seq == read_witness(fresh)["seq"] == 5

    over = _s3(tmp_path, "s2bover")
    other = AuditLog(over)
    for n in range(3):
        two_event_act(other, f"o{n}")  # witness at #5 of another history
    restore(copy, over, force=True)
    assert read_witness(over)["seq"] == 3 and store_hashes(over) == store_hashes(source)
    assert not AuditLog(over).verify().findings


def test_racing_conditional_replaces_of_the_witness_end_in_one_winner_and_conflicts(tmp_path: Path) -> None:
    """Writers racing to replace the same witness version: exactly one wins, every other gets
    ``Conflict`` (re-read, as the audit does), never ``StoreUnavailable``: RGW answers a
    conditional PUT that lost the race ``500 UnknownError`` as often as 412 (measured; the
    concurrent-writers test of ``test_group_commit.py`` met it). The winner's bytes stay."""
    store = _s3(tmp_path, "s2race")
    store.put_if_match(WITNESS_KEY, b"0", ABSENT)
    writers = 8
    for round_ in range(12):
        _, tag = store.get_tagged(WITNESS_KEY)
        outcomes: dict[int, str] = {}
        start = threading.Barrier(writers)

        def replace(
            n: int, tag: str, round_: int, outcomes: dict[int, str], start: threading.Barrier
        ) -> None:
            start.wait()
            try:
                store.put_if_match(WITNESS_KEY, f"{round_}-{n}".encode(), tag)
                outcomes[n] = "won"
            except Conflict:
                outcomes[n] = "conflict"
            except Exception as exc:  # reported below
                outcomes[n] = repr(exc)

        threads = [
            threading.Thread(target=replace, args=(n, tag, round_, outcomes, start)) for n in range(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["conflict"] * (writers - 1) + ["won"], outcomes
        winner = next(n for n, outcome in outcomes.items() if outcome == "won")
        assert store.get(WITNESS_KEY) == f"{round_}-{winner}".encode()


def _same_store(store: S3Store) -> S3Store:
    """Another process's handle on the same buckets."""
    return S3Store(store.bucket, **(s3_options() or {}))  # type: ignore[arg-type]


def test_a_reader_racing_the_move_reads_the_moved_witness_not_a_deleted_one(tmp_path: Path) -> None:
    """Two processes of the upgraded code on an old-layout store: one reads the witness (verify,
    or the read before an act), the other's first act moves it. The reader misses the companion
    bucket, the move lands (copy, then marker), the reader then finds the marker in the data
    bucket: before r17 it answered "no witness" (NotFound: ``verify`` names a deleted witness, an
    act of a process that saw the witness is refused as a cut), although the witness was only
    moved. The copy is always written before the marker, so a reader that meets the marker reads
    the companion bucket once more."""
    store = _s3(tmp_path, "r17race")
    _old_layout(store, acts=2)
    reader = _same_store(store)
    mover = AuditLog(_same_store(store))
    original = reader._fetch
    moved: list[int] = []

    def fetch(bucket: str, key: str) -> tuple[bytes, str, str]:
        try:
            return original(bucket, key)
        except NotFound:
            if bucket == reader.claims_bucket and not moved:
                moved.append(two_event_act(mover, "moving")[-1].seq)  # lands between the two GETs
            raise

    reader._fetch = fetch  # type: ignore[method-assign]
    assert read_witness(reader)["seq"] == 5
    assert moved == [5]


def test_a_read_of_the_witness_creates_no_bucket(tmp_path: Path) -> None:
    """Reads never write: a store opened without creating buckets (``create_bucket=False``:
    buckets provisioned by the operator, a read-only credential, a mistyped name) whose
    companion bucket does not exist reads the witness without making one. Before r17 the read
    created ``<bucket>-claims`` (and with a read-only credential failed on it instead of
    reading the data bucket)."""
    options = s3_options() or {}
    name = new_bucket("r17ro", options)  # never made: a mistyped name
    store = S3Store(name, create_bucket=False, **options)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        store.get(WITNESS_KEY)
    assert not store._client.bucket_exists(store.claims_bucket)

    old = _s3(tmp_path, "r17ro-old")
    _old_layout(old, acts=1)
    for obj in old._client.list_objects(old.claims_bucket, recursive=True):  # provisioned without it
        old._client.remove_object(old.claims_bucket, obj.object_name)
    old._client.remove_bucket(old.claims_bucket)
    reader = S3Store(old.bucket, create_bucket=False, **options)  # type: ignore[arg-type]
    assert read_witness(reader)["seq"] == 1 and reader.exists(WITNESS_KEY)
    assert not AuditLog(reader).verify().findings
    assert not reader._client.bucket_exists(old.claims_bucket)


MOVE_STEPS = {
    # the request of the move the writer is killed before: (bucket, key, condition header)
    "before-copy": ("claims", NEW_PLACE, "If-None-Match"),
    "before-marker": ("data", WITNESS_KEY, None),
    "before-unpending": ("claims", NEW_PLACE, "If-Match"),
}


def _kill_the_move_before(store: S3Store, step: str) -> None:
    """A real child process (``fork``) of the upgraded code makes its first act on the
    old-layout ``store`` and is SIGKILLed just before the request ``step`` of the move."""
    where, key, condition = MOVE_STEPS[step]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            original = S3Store._put_raw

            def put_raw(self: S3Store, bucket: str, k: str, data: bytes, headers: Any = None) -> Any:
                wanted = self.claims_bucket if where == "claims" else self.bucket
                if bucket == wanted and k == key and (condition is None or condition in (headers or {})):
                    os.write(write_end, b"held\n")
                    time.sleep(120)  # the parent kills us here
                return original(self, bucket, k, data, headers)

            S3Store._put_raw = put_raw  # type: ignore[method-assign]
            two_event_act(AuditLog(_same_store(store)), "killed")
        finally:
            os._exit(2)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 60)
        assert ready and os.read(read_end, 100) == b"held\n", "the writer never reached the step"
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(read_end)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("step", list(MOVE_STEPS))
def test_a_move_killed_at_each_request_leaves_a_witness_every_reader_finds_and_the_next_act_finishes_it(
    tmp_path: Path, step: str
) -> None:
    """The move of an old-layout witness SIGKILLed before each of its writes (the copy, the
    marker, the copy made not pending): every reader still finds a witness at or past the
    old one, verify is clean, the next act of another process moves it on, and from then on
    a witness deleted from its new place is refused, never answered with the older copy."""
    store = _s3(tmp_path, f"r17kill{len(step)}")
    _old_layout(store, acts=2)  # witness #3 in the data bucket
    _kill_the_move_before(store, step)  # the killed act wrote events #4, #5
    reader = _same_store(store)
    assert read_witness(reader)["seq"] in (3, 5)
    assert not AuditLog(reader).verify().findings
    events = two_event_act(AuditLog(_same_store(store)), "next")
    assert events[-1].seq == 7 and read_witness(reader)["seq"] == 7
    assert is_moved_marker(_data_versions(store)[-1])
    assert not AuditLog(reader).verify().findings
    store._client.remove_object(store.claims_bucket, NEW_PLACE)  # the attacker
    with pytest.raises(NotFound):
        read_witness(reader)


def _failing_conditional_puts(store: S3Store) -> list[dict[str, str]]:
    """The gateway answers every conditional PUT of the witness ``500 UnknownError`` without
    writing anything (what RGW answers a lost race with, here for a fault of its own: an OSD
    error, a cancelled write): injected at the HTTP call, since the running gateway cannot be
    made to fail so on demand. Returns the conditions refused."""
    original = store._put_raw
    refused: list[dict[str, str]] = []

    def put_raw(bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None) -> Any:
        if bucket == store.claims_bucket and key == NEW_PLACE and headers:
            refused.append(dict(headers))
            response = urllib3.HTTPResponse(body=b"", status=500)
            raise S3Error(response, "UnknownError", "", key, "tx-injected", "", bucket, key)
        return original(bucket, key, data, headers)

    store._put_raw = put_raw  # type: ignore[method-assign]
    return refused


def test_a_server_fault_on_the_conditional_put_is_not_taken_for_a_lost_race(tmp_path: Path) -> None:
    """RGW's ``500 UnknownError`` is a lost race only if another write landed: one that leaves
    the witness as it was is a fault of the server, reported as such (``STORE_UNAVAILABLE``).
    Before r17 it was a ``Conflict``: the act read the witness again, found it unchanged and
    fell back to a PUT without condition (the protection of w1/s2 silently off for that act),
    and a restore's create of the witness was refused as ``AlreadyExists`` (then failed with
    ``NOT_FOUND``)."""
    store = _s3(tmp_path, "r17fault")
    log = AuditLog(store)
    two_event_act(log, "a")
    _, tag = store.get_tagged(WITNESS_KEY)
    refused = _failing_conditional_puts(store)
    with pytest.raises(StoreUnavailable):
        store.put_if_match(WITNESS_KEY, b"x", tag)
    with pytest.raises(StoreUnavailable):
        two_event_act(log, "b")
    assert read_witness(store)["seq"] == 1  # not moved: no write without condition
    assert refused and all(refused)

    empty = _s3(tmp_path, "r17fault-new")
    _failing_conditional_puts(empty)
    with pytest.raises(StoreUnavailable):
        empty.put_if_absent(WITNESS_KEY, b'{"seq": 0}')
    assert not empty.exists(WITNESS_KEY)


def test_a_forged_marker_or_a_removed_companion_bucket_is_refused_as_a_deleted_witness(
    tmp_path: Path,
) -> None:
    """Attacks on the upgrade from either bucket: a marker forged over an old-layout witness
    (data-bucket access) and the companion bucket emptied and removed (claims-bucket access)
    both read as a deleted witness: a new process's act is refused, verify names it as for a
    deleted witness; nothing falls back to an older copy, nothing fails with a server error."""
    reference = [f.kind for f in _deleted_witness_findings(tmp_path)]
    old = _s3(tmp_path, "r17forge")
    _old_layout(old, acts=2)
    two_event_act(AuditLog(old), "third")  # #4–#5, moved
    forged = _s3(tmp_path, "r17forge-old")
    _old_layout(forged, acts=3)  # #0–#5, witness #5 in the data bucket, not moved
    marker = json.dumps({"format_version": 1, "moved_to": {"bucket": "x", "key": "y"}}).encode()
    assert _raw_put(forged, forged.bucket, WITNESS_KEY, marker).startswith("ok")

    client = old._client
    for obj in client.list_objects(old.claims_bucket, recursive=True):
        client.remove_object(old.claims_bucket, obj.object_name)
    client.remove_bucket(old.claims_bucket)

    for store in (forged, old):
        process = _same_store(store)  # a new process (re-creates an empty companion bucket)
        with pytest.raises(NotFound):
            read_witness(process)
        with pytest.raises(AuditChainBroken):
            two_event_act(AuditLog(process), "refused")
        assert [f.kind for f in AuditLog(process).verify().findings] == reference


def test_an_act_reads_no_event_past_its_own_once_its_conditional_replace_succeeded(tmp_path: Path) -> None:
    """The conditional replace cannot have put this act's witness over a higher one, so the act
    does not look for events past its own (before: one GET of the next event's key, a 404, per
    act). Its only reads: the witness, once, before its events."""
    store = _s3(tmp_path, "v1nochase")
    log = AuditLog(store)
    two_event_act(log, "a")
    with _Requests(store) as requests:
        two_event_act(log, "b")
    gets = [(bucket, key) for method, bucket, key in requests.seen if method in ("GET", "HEAD")]
    assert gets == [(store.claims_bucket, NEW_PLACE)]
