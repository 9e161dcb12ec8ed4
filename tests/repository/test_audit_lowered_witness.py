"""A process that has appended before reads the witness before each act. When the witness is
below its cached end, it has evidence that events it knew were removed — or only that a writer
overtaken wrote the witness lower for a moment. It tells the two apart by the last event it knew:

- still there with its hash: nothing it knew was removed; the act goes at its cached end (not
  after the lowered witness: that could put it into a gap below, an event removed in the middle);
- gone, and an auditor's acknowledgement written after it: the act goes after the real end
  (``test_audit_acknowledge_stale.py``);
- gone, and no acknowledgement since: the act is refused (``AUDIT_CHAIN_BROKEN``), writing
  nothing, instead of chaining after the real end and making the cut verify whole. Once: the next
  append checks the log as a new process does, which accepts a consistently lowered witness
  (only a signed checkpoint finds that; ``test_audit_cut.py``).

During an act (between its witness read and its witness write; w1): the witness is moved only
while it is still the version read before the act (a conditional replace: the local folder; S3,
where the witness lives in the companion unversioned bucket since s2). A witness deleted,
damaged or put back lower meanwhile is refused.

The attacker here can write the store but holds neither the checkpoint key nor an auditor's
password. Each act is two events, one batch object with group commit. Local folder and S3."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kho_testing import BACKENDS, acknowledge_cut, make_store, outside_anchor, s3_options, two_event_act

from kho.errors import AuditChainBroken, Conflict, StoreFull
from repository import formats
from repository.anchor import verify_anchored
from repository.audit import (
    EVENTS_PREFIX,
    WITNESS_KEY,
    AuditEvent,
    AuditLog,
    event_key,
    read_witness,
)
from repository.storage.base import ObjectInfo, ObjectStore, PreparedPut
from repository.storage.local import LocalStore
from repository.storage.s3 import S3Store

REASON = "Đã đối chiếu phần cuối bị mất với bản sao lưu: sự cố đĩa, không phải can thiệp."


def _set_witness(store: ObjectStore, event: AuditEvent) -> None:
    """The witness written at ``event`` by one who can write the store (consistent: it names an
    event that is there, with its hash)."""
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": event.seq, "hash": event.hash}))


def _keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_running_process_refuses_an_act_after_a_cut_of_its_events_with_the_witness_lowered(
    backend: str, tmp_path: Path
) -> None:
    """The tail the running process wrote is cut and the witness lowered to the real end, with
    no acknowledgement. On a2 the act was chained after the real end: the cut verified whole."""
    store = make_store(backend, tmp_path, "lc")
    running, other = AuditLog(store), AuditLog(store)
    first = two_event_act(other, "a")  # #0–#1
    two_event_act(running, "b")  # #2–#3: the running process's cached next number is #4
    store.delete(event_key(2))
    _set_witness(store, first[-1])
    with pytest.raises(AuditChainBroken) as refused:
        two_event_act(running, "c")
    assert "#3" in refused.value.message
    assert _keys(store) == [event_key(0)]  # nothing written
    # Once: the next append checks the log as a new process does (f1: a consistently lowered
    # witness is accepted; only a signed checkpoint finds the cut).
    assert two_event_act(running, "d")[0].seq == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledgement_older_than_the_events_cut_does_not_let_the_act_through(
    backend: str, tmp_path: Path
) -> None:
    """An auditor acknowledged an earlier cut; the running process then wrote after the
    acknowledgement, and its events were cut with the witness lowered to the acknowledgement.
    That acknowledgement was written before the events it lost: it does not cover their cut."""
    store = make_store(backend, tmp_path, "lo")
    anchor = outside_anchor(tmp_path)
    other = AuditLog(store)
    two_event_act(other, "a")  # #0–#1
    two_event_act(other, "b")  # #2–#3, cut below with the witness
    store.delete(event_key(2))
    store.delete(WITNESS_KEY)
    ack = acknowledge_cut(store, anchor, REASON)  # asserts it was accepted
    assert ack.seq == 2
    running = AuditLog(store)
    assert two_event_act(running, "c")[0].seq == 3  # #3–#4, after the acknowledgement
    store.delete(event_key(3))
    _set_witness(store, ack)
    with pytest.raises(AuditChainBroken):
        two_event_act(running, "d")
    assert _keys(store) == [event_key(0), event_key(2)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_lowered_over_a_gap_does_not_draw_the_act_into_the_gap(
    backend: str, tmp_path: Path
) -> None:
    """An act removed in the middle and the witness lowered below it; the running process's own
    events are still there. On a2 it found the head again from the lowered witness and wrote
    its act into the removed act's number: new events in place of removed ones."""
    store = make_store(backend, tmp_path, "lg")
    running, other = AuditLog(store), AuditLog(store)
    first = two_event_act(other, "a")  # #0–#1
    two_event_act(other, "b")  # #2–#3, removed below
    two_event_act(running, "c")  # #4–#5: the running process's cached next number is #6
    store.delete(event_key(2))
    _set_witness(store, first[-1])
    written = two_event_act(running, "d")
    assert written[0].seq == 6
    assert not store.exists(event_key(2))
    findings = AuditLog(store).verify().findings
    assert [(f.seq, f.kind) for f in findings] == [(2, "removed")], findings


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_written_lower_by_a_writer_overtaken_is_no_cut(backend: str, tmp_path: Path) -> None:
    """A writer overtaken writes the witness below the newest event for a moment (it moves it on
    after): nothing the running process knew is gone, so its act goes at its cached end."""
    store = make_store(backend, tmp_path, "lt")
    running, other = AuditLog(store), AuditLog(store)
    first = two_event_act(other, "a")  # #0–#1
    two_event_act(running, "b")  # #2–#3
    _set_witness(store, first[-1])
    written = two_event_act(running, "c")
    assert written[0].seq == 4
    report = AuditLog(store).verify()
    assert not report.findings and report.last_seq == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledgement_behind_acts_appended_after_it_lets_the_act_through(
    backend: str, tmp_path: Path
) -> None:
    """The running process's tail was cut and acknowledged, and another process appended after
    the acknowledgement before the running one acts again (the witness is below its cached
    end): it finds the acknowledgement behind those acts and writes after the real end."""
    store = make_store(backend, tmp_path, "la")
    anchor = outside_anchor(tmp_path)
    running = AuditLog(store)
    for name in ("a", "b", "c", "d"):  # #0–#7: the running process's cached next number is #8
        two_event_act(running, name)
    store.delete(event_key(6))
    store.delete(event_key(4))
    store.delete(WITNESS_KEY)
    ack = acknowledge_cut(store, anchor, REASON)  # asserts it was accepted
    assert ack.seq == 4
    after = two_event_act(AuditLog(store), "e")  # #5–#6, the witness at #6: below #7
    written = two_event_act(running, "f")
    assert [e.seq for e in written] == [7, 8] and written[0].prev == after[-1].hash
    report = verify_anchored(AuditLog(store), anchor)
    assert report.ok and not report.open_findings, report.open_findings


def _meanwhile_at(store: ObjectStore, at: str, meanwhile: Callable[[], None]) -> None:
    """Run ``meanwhile`` once, just before the event object ``at`` is written (what other
    processes and an attacker do while an act runs): between the act's witness read and its
    witness write. Either backend (the instance's own create is wrapped)."""
    real = store.put_if_absent

    def put_if_absent(key: str, data: bytes) -> ObjectInfo:
        nonlocal meanwhile
        if key == at and meanwhile is not None:
            run, meanwhile = meanwhile, None
            run()
        return real(key, data)

    store.put_if_absent = put_if_absent  # type: ignore[method-assign]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_act_cut_with_the_witness_while_another_act_is_written_is_not_covered(
    backend: str, tmp_path: Path
) -> None:
    """Between the running process's witness read and its event write, another process completes
    an act at the same number (events and witness), and an attacker deletes that act and the
    witness. The running process's events then take the freed number: unless it notices the
    witness gone, it writes the witness again and the other act vanishes without a finding.
    (r10's strict xfail: since a2 the read before the act was reused for the witness write.)
    The conditional replace fails (local folder; S3: in the companion bucket)."""
    store = make_store(backend, tmp_path, "wd")
    running = AuditLog(store)
    two_event_act(running, "a")  # #0–#1: the running process's next number is #2, the witness at #1

    def meanwhile() -> None:
        two_event_act(AuditLog(store), "b")  # #2–#3, the witness at #3
        store.delete(event_key(2))
        store.delete(WITNESS_KEY)

    _meanwhile_at(store, event_key(2), meanwhile)
    with pytest.raises(AuditChainBroken) as refused:
        two_event_act(running, "c")
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert not store.exists(WITNESS_KEY)  # left missing: not written back
    findings = AuditLog(store).verify().findings
    assert [f.kind for f in findings] == ["truncated"], findings
    with pytest.raises(AuditChainBroken):  # and not covered by the next act either
        two_event_act(running, "d")
    assert not store.exists(WITNESS_KEY)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_put_back_lower_during_an_act_is_not_moved_over_the_cut(
    backend: str, tmp_path: Path
) -> None:
    """As above, but the attacker puts the witness back where the running process read it
    (#1, the very bytes) instead of deleting it. A witness moved by conditional replaces only
    goes up: one rewritten at or below the version read before the act is refused, and left
    where it is."""
    store = make_store(backend, tmp_path, "wl")
    running = AuditLog(store)
    first = two_event_act(running, "a")  # #0–#1

    def meanwhile() -> None:
        two_event_act(AuditLog(store), "b")  # #2–#3, the witness at #3
        store.delete(event_key(2))
        _set_witness(store, first[-1])  # back at #1: the same bytes as before

    _meanwhile_at(store, event_key(2), meanwhile)
    with pytest.raises(AuditChainBroken) as refused:
        two_event_act(running, "c")
    assert "#1" in refused.value.message
    assert read_witness(store)["seq"] == 1  # not moved over the cut


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_moved_up_by_another_writer_during_an_act_is_moved_on_not_refused(
    backend: str, tmp_path: Path
) -> None:
    """The legitimate race: another process completes an act while the running one writes
    its events. The running process's events collide and go after the other act's; its
    witness replace against the version read before the act fails (local folder), the witness
    is read again (moved up, not past the running act) and replaced: no refusal, no finding."""
    store = make_store(backend, tmp_path, "wu")
    running = AuditLog(store)
    two_event_act(running, "a")  # #0–#1
    _meanwhile_at(store, event_key(2), lambda: two_event_act(AuditLog(store), "b"))  # #2–#3
    written = two_event_act(running, "c")
    assert [e.seq for e in written] == [4, 5]
    witness = read_witness(store)
    assert (witness["seq"], witness["hash"]) == (5, written[-1].hash)
    report = AuditLog(store).verify()
    assert not report.findings and report.last_seq == 5
    assert two_event_act(running, "d")[0].seq == 6


def test_the_local_folder_replaces_a_pointer_only_while_it_is_the_version_read(tmp_path: Path) -> None:
    """``put_if_match`` on the local folder: replaced under the tag read (the old version kept
    readable), refused (:class:`Conflict`, nothing written) once another write — even of the
    same bytes — or a deletion came between."""
    store = LocalStore(tmp_path / "s", fsync=False)
    assert store.replaces_conditionally
    first = store.put("p/x", b"1").version_id
    data, tag = store.get_tagged("p/x")
    assert data == b"1"
    store.put_if_match("p/x", b"2", tag)
    assert store.get("p/x") == b"2" and store.get("p/x", first) == b"1"
    with pytest.raises(Conflict):
        store.put_if_match("p/x", b"3", tag)  # stale
    _, tag = store.get_tagged("p/x")
    store.put("p/x", b"2")  # the same bytes again: another version
    with pytest.raises(Conflict):
        store.put_if_match("p/x", b"3", tag)
    _, tag = store.get_tagged("p/x")
    store.delete("p/x")
    with pytest.raises(Conflict):
        store.put_if_match("p/x", b"3", tag)
    assert not store.exists("p/x")
    assert not list((tmp_path / "s" / "tmp").iterdir())  # no temp file left behind


@pytest.mark.s3
def test_a_conditional_replace_refused_on_s3_falls_back_without_hanging_appends(tmp_path: Path) -> None:
    """A server that refused the very version just read (as a server that does not honour the
    condition after all would): the write falls back to the read-again ``put`` instead of
    looping, appends still move the witness, and a deleted witness is still found."""
    store = make_store("s3", tmp_path, "wp")
    assert store.replaces_conditionally  # the witness lives where If-Match is honoured (s2)
    refusing = S3Store(store.bucket, **s3_options())  # type: ignore[attr-defined,arg-type]

    def refuse(key: str, data: bytes, tag: str) -> ObjectInfo:
        raise Conflict("refused", key=key)

    refusing.put_if_match = refuse  # type: ignore[method-assign]
    log = AuditLog(refusing)
    two_event_act(log, "a")
    assert two_event_act(log, "b")[-1].seq == read_witness(refusing)["seq"] == 3
    _meanwhile_at(refusing, event_key(4), lambda: refusing.delete(WITNESS_KEY))
    with pytest.raises(AuditChainBroken):
        two_event_act(log, "c")
    assert not refusing.exists(WITNESS_KEY)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_damaged_during_an_act_is_refused_with_its_code_and_left_as_it_is(
    backend: str, tmp_path: Path
) -> None:
    """The witness overwritten with bytes that are no witness while an act writes its events:
    the act is refused with AUDIT_CHAIN_BROKEN and a Vietnamese message (not a parse error or
    a traceback), and the damaged witness is not written over (what verify and fsck look at)."""
    store = make_store(backend, tmp_path, "wx")
    running = AuditLog(store)
    two_event_act(running, "a")  # #0–#1
    _meanwhile_at(store, event_key(2), lambda: store.put(WITNESS_KEY, b"{not a witness"))
    with pytest.raises(AuditChainBroken) as refused:
        two_event_act(running, "c")
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert "không đọc được" in refused.value.message
    assert store.get(WITNESS_KEY) == b"{not a witness"


def test_a_witness_put_back_during_a_first_act_is_not_moved_over_the_cut(tmp_path: Path) -> None:
    """The same during the first act of a process (every CLI command is one): the witness the
    log's end was checked against before the act is the version the act moves it from, so one
    put back where it was during the act is refused, not moved over the cut (local folder)."""
    store = LocalStore(tmp_path / "s", fsync=False)
    first = two_event_act(AuditLog(store), "a")  # #0–#1, the witness at #1

    def meanwhile() -> None:
        two_event_act(AuditLog(store), "b")  # #2–#3, the witness at #3
        store.delete(event_key(2))
        _set_witness(store, first[-1])  # back at #1: the same bytes as before

    _meanwhile_at(store, event_key(2), meanwhile)
    with pytest.raises(AuditChainBroken):
        two_event_act(AuditLog(store), "c")  # a new process: its first act
    assert read_witness(store)["seq"] == 1


def test_a_witness_deleted_while_its_events_sync_is_not_written_over(tmp_path: Path) -> None:
    """r15 (the merge of w1 and f1): f1 stages the witness (temp file fsync'd, old version
    archived) while the act's events' directories sync, and renames it only after. The
    conditional replace must compare the version at that rename, not at the staging: a witness
    deleted in between (with a cut) is refused and left missing, not written back over it."""
    store = LocalStore(tmp_path / "s", fsync=False)
    running = AuditLog(store)
    two_event_act(running, "a")  # #0–#1
    real = store.prepare_put

    def prepare_put(key: str, data: bytes, tag: str | None = None) -> PreparedPut:
        prepared = real(key, data, tag)
        if key == WITNESS_KEY:
            store.delete(WITNESS_KEY)  # while the events' directories sync
        return prepared

    store.prepare_put = prepare_put  # type: ignore[method-assign]
    assert store.replaces_conditionally
    with pytest.raises(AuditChainBroken):
        two_event_act(running, "b")
    assert not store.exists(WITNESS_KEY)  # left missing: not written back
    assert not list((tmp_path / "s" / "tmp").iterdir())  # the staged temp file given up



def test_a_first_witness_written_late_does_not_move_the_witness_down(tmp_path: Path) -> None:
    """r15: on a new store (no witness yet) a process's first act found no witness to move
    from, and put its witness without condition: another process's first act that completed
    meanwhile (witness at #3) was written over with #1 until the late one moved it on. In that
    moment a third process's act, which had read #3, found it lowered and was refused as a cut
    (``/tmp/r15-contend.py``: 1 of 160 acts). The first witness is created only while there
    is none; every version the store kept goes up."""
    store = LocalStore(tmp_path / "s", fsync=False)
    real = store.prepare_put
    meanwhile: Callable[[], object] | None = lambda: two_event_act(AuditLog(store), "b")  # noqa: E731
    committed: list[int] = []  # every witness made visible (s16: the store keeps no older one)

    def prepare_put(key: str, data: bytes, tag: str | None = None) -> PreparedPut:
        nonlocal meanwhile
        if key == WITNESS_KEY and meanwhile is not None:
            run, meanwhile = meanwhile, None
            run()  # another process's first act completes (#2–#3, the witness at #3)
        prepared = real(key, data, tag)
        if key == WITNESS_KEY:
            commit = prepared.commit

            def counted() -> ObjectInfo:
                info = commit()
                committed.append(formats.loads(formats.WITNESS.name, data)["seq"])
                return info

            prepared.commit = counted  # type: ignore[method-assign]
        return prepared

    store.prepare_put = prepare_put  # type: ignore[method-assign]
    assert store.replaces_conditionally
    assert [e.seq for e in two_event_act(AuditLog(store), "a")] == [0, 1]
    seqs = [formats.loads(formats.WITNESS.name, store.get(WITNESS_KEY, v.version_id))["seq"]
            for v in store.list_versions(WITNESS_KEY)]
    assert seqs == sorted(seqs), seqs  # never moved down
    assert committed == sorted(committed) and committed[-1] == 3, committed
    assert read_witness(store)["seq"] == 3
    assert not AuditLog(store).verify().findings


@pytest.mark.parametrize("kept", ["archive", "own link"])
def test_a_witness_linked_back_during_an_act_is_not_moved_over_the_cut(tmp_path: Path, kept: str) -> None:
    """r15: as the put-back test above, but the attacker puts back the very file the act read
    (same inode, same modification time): a hard link they made themselves before the act, or
    (``archive``) the store's own archive of it. A tag of inode and mtime alone took it for
    the version read and the act moved the witness over the cut. The change time is in the tag
    (set by the kernel on every new name, not by ``utime``), and no writer of the store changes
    the current version's inode. s16: a conditional replace of the witness keeps no archive
    any more (a pointer, as in S3's unversioned companion bucket): in the ``archive`` case the
    store has none to link back, and the attacker puts back a copy they kept of W's bytes with
    W's modification time (another inode: refused as well)."""
    root = tmp_path / "s"
    store = LocalStore(root, fsync=False)
    running = AuditLog(store)
    two_event_act(running, "a")  # #0–#1, the witness file W
    witness = store._path(WITNESS_KEY)
    st = witness.stat()
    own = root / "saved"
    saved = witness.read_bytes()
    if kept == "own link":
        os.link(witness, own)  # before the act reads W
    time.sleep(0.05)  # (a new kernel clock tick: file times are coarse)

    def meanwhile() -> None:
        two_event_act(AuditLog(store), "b")  # #2–#3, the witness at #3 (W archived)
        store.delete(event_key(2))
        time.sleep(0.05)
        spare = witness.with_name("spare")
        if kept == "archive":
            assert not (root / "versions" / WITNESS_KEY).exists()  # no archive of W to link back
            spare.write_bytes(saved)
            os.utime(spare, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            os.link(own, spare)
        os.replace(spare, witness)  # W (or a copy of it with W's times) back in place

    _meanwhile_at(store, event_key(2), meanwhile)
    with pytest.raises(AuditChainBroken):
        two_event_act(running, "c")
    assert read_witness(store)["seq"] == 1  # not moved over the cut


def test_a_conditional_replace_archives_a_copy_and_mends_one_torn_by_a_crash(tmp_path: Path) -> None:
    """r15: ``put_if_match`` archives the version it replaces by a copy (the current file's
    inode is never touched by the store: its change time is part of the tag), and the copy's
    fsync runs with its directory's sync. A crash between them can leave a torn copy while the
    version is still current; the next replace finds it unequal and writes it again, so the
    old version stays readable by its version id."""
    root = tmp_path / "s"
    store = LocalStore(root)
    first = store.put("p/x", b"first version")
    _, tag = store.get_tagged("p/x")
    archive = root / "versions" / "p/x" / store._archive_name(first.version_id)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"")  # torn: named, its bytes lost
    ino = store._path("p/x").stat().st_ino
    store.put_if_match("p/x", b"second", tag)
    assert store.get("p/x", first.version_id) == b"first version"
    assert archive.stat().st_ino != ino  # a copy, not a link to the file read
    assert not list((root / "tmp").iterdir())


def test_a_full_disk_while_archiving_the_copy_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """r15: the archive copy of a conditional replace is written into ``tmp/`` first; a full
    disk there is ``STORE_FULL``, the pointer left as it was and no temp file behind."""
    root = tmp_path / "s"
    store = LocalStore(root, fsync=False)
    store.put("p/x", b"first version")
    _, tag = store.get_tagged("p/x")
    real = os.write

    def full(fd: int, data: bytes | memoryview) -> int:
        monkeypatch.setattr(os, "write", real)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StoreFull):
        store.put_if_match("p/x", b"second", tag)
    assert store.get("p/x") == b"first version"
    assert not list((root / "tmp").iterdir())
