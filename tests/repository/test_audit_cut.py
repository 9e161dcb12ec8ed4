"""The end of the audit log cut together with its witness stays visible: ``fsck --repair``
refuses every repair while the chain has a finding it cannot mend (an appended event would chain
after the cut, and the witness it moves would make the shortened history verify whole), and an
application write after the cut is refused (``AUDIT_CHAIN_BROKEN``) instead of papering over it.
What a crash leaves (a witness one act behind; the first act of a log without its witness) still
repairs and still takes appends. On the local folder and on S3 (Ceph RGW)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from kho_testing import CLERK, incoming, make_store, new_repository, pdf_bytes

from kho.errors import AuditChainBroken, StoreUnavailable
from repository import audit, formats
from repository.audit import EVENTS_PREFIX, WITNESS_KEY, AuditLog, EventDraft, event_key, read_witness
from repository.fsck import REFUSED_CHAIN_BROKEN, fsck
from repository.records import Repository
from repository.storage.base import ObjectInfo, ObjectStore
from repository.storage.local import LocalStore

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


def _create(repo: Repository, number: int) -> str:
    content = pdf_bytes(f"cut {number}")
    record = repo.create_document("den", incoming(code_number=str(number)), content, "cv.pdf", CLERK)
    return record.record_id


def _event_keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(EVENTS_PREFIX)]


def _stores(backend: str, tmp_path: Path) -> tuple[ObjectStore, ObjectStore]:
    return make_store(backend, tmp_path, "cut"), make_store(backend, tmp_path, "cutk")


def _three_records_then_cut(store: ObjectStore, keys: ObjectStore) -> list[str]:
    """Three records (three acts); then the newest record's creation events — the last object
    of the log — are deleted with the witness, as someone who can write the store would."""
    repo = new_repository(store, keys)
    ids = [_create(repo, n) for n in (1, 2, 3)]
    last = _event_keys(store)[-1]
    assert ids[2] in store.get(last).decode()  # the tail holds the newest record's creation
    store.delete(last)
    store.delete(WITNESS_KEY)
    return ids


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsck_repair_refuses_to_append_over_a_cut_tail(backend: str, tmp_path: Path) -> None:
    store, keys = _stores(backend, tmp_path)
    ids = _three_records_then_cut(store, keys)
    events = _event_keys(store)
    for _ in range(2):  # and again: nothing the first run did makes the second one mend it
        report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
        unaudited = [i for i in report.issues if i.kind == "unaudited"]
        assert [i.subject for i in unaudited] == [ids[2]]
        assert unaudited[0].repairable and not unaudited[0].repaired
        assert unaudited[0].refused == REFUSED_CHAIN_BROKEN == "AUDIT_CHAIN_BROKEN"
        assert any(i.kind == "audit" and not i.repairable for i in report.issues), report.issues
        assert not any(i.kind == "witness-missing" for i in report.issues)
        assert report.unrepaired  # kho fsck exits non-zero
    assert _event_keys(store) == events  # nothing appended
    assert not store.exists(WITNESS_KEY)
    verified = new_repository(store, keys).audit.verify()
    assert [f.kind for f in verified.findings] == ["truncated"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsck_repair_mends_nothing_else_while_the_chain_is_broken(backend: str, tmp_path: Path) -> None:
    """A catalog marker lost besides the cut: reported, refused, not written (fsck writes nothing
    into a store whose history was cut before an auditor has looked)."""
    store, keys = _stores(backend, tmp_path)
    ids = _three_records_then_cut(store, keys)
    store.delete(f"catalog/records/{ids[0]}")
    report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    (marker,) = [i for i in report.issues if i.kind == "catalog-missing"]
    assert marker.refused == REFUSED_CHAIN_BROKEN and not marker.repaired
    assert not store.exists(f"catalog/records/{ids[0]}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_application_write_after_a_cut_tail_is_refused(backend: str, tmp_path: Path) -> None:
    store, keys = _stores(backend, tmp_path)
    _three_records_then_cut(store, keys)
    events = _event_keys(store)
    repo = new_repository(store, keys)  # a process started after the cut
    with pytest.raises(AuditChainBroken) as refused:
        repo.audit.append("clerk", "content:read", record_id="x")
    assert refused.value.code == "AUDIT_CHAIN_BROKEN" and refused.value.http_status == 503
    assert "witness" in refused.value.message
    with pytest.raises(AuditChainBroken):
        _create(repo, 4)
    assert _event_keys(store) == events and not store.exists(WITNESS_KEY)
    assert not repo.audit.verify().ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_running_process_does_not_write_the_witness_again_after_a_cut(backend: str, tmp_path: Path) -> None:
    """The process that wrote the witness finds it gone at its next append: it refuses before
    writing anything (the witness is read before the act's write), leaves the witness missing
    (``verify`` still names the cut) and writes nothing after that either."""
    store, keys = _stores(backend, tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2, 3):
        _create(repo, n)
    store.delete(_event_keys(store)[-1])
    store.delete(WITNESS_KEY)
    events = _event_keys(store)
    with pytest.raises(AuditChainBroken) as refused:
        repo.audit.append("clerk", "content:read", record_id="x")
    assert "đã bị xóa trong khi" in refused.value.message
    assert _event_keys(store) == events  # nothing written past the cut
    assert not store.exists(WITNESS_KEY)
    with pytest.raises(AuditChainBroken):
        repo.audit.append("clerk", "content:read", record_id="y")
    assert _event_keys(store) == events  # the second append checked the log before writing
    findings = {f.kind for f in repo.audit.verify().findings}
    assert "truncated" in findings


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_append_after_a_tail_cut_under_its_witness_is_refused(backend: str, tmp_path: Path) -> None:
    """The witness left in place, the events it names deleted: no append chains after them."""
    store, keys = _stores(backend, tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2, 3):
        _create(repo, n)
    store.delete(_event_keys(store)[-1])
    events = _event_keys(store)
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("clerk", "content:read", record_id="x")
    assert _event_keys(store) == events


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_append_under_a_witness_that_does_not_match_is_refused(backend: str, tmp_path: Path) -> None:
    store, keys = _stores(backend, tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2):
        _create(repo, n)
    witness = read_witness(store)
    store.put(WITNESS_KEY, formats.dumps(formats.WITNESS.name, {"seq": witness["seq"], "hash": "0" * 64}))
    events = _event_keys(store)
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("clerk", "content:read", record_id="x")
    assert _event_keys(store) == events


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_witness_one_act_behind_still_takes_appends_and_fsck_is_clean(backend: str, tmp_path: Path) -> None:
    """A writer killed between its events and its witness write leaves the witness one act
    behind: the next process appends (and moves it on), fsck repairs what is left."""
    store, keys = _stores(backend, tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2):
        _create(repo, n)
    behind = store.get(WITNESS_KEY)
    _create(repo, 3)
    store.put(WITNESS_KEY, behind)  # as if the third act's writer died before its witness write
    report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert report.clean, report.issues
    later = new_repository(store, keys)
    _create(later, 4)
    verified = later.audit.verify()
    assert verified.ok and read_witness(store)["seq"] == verified.last_seq
    assert fsck(new_repository(store, keys), grace_seconds=0).clean


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_first_act_without_witness_still_takes_appends_and_repairs(backend: str, tmp_path: Path) -> None:
    """The log's first act without its witness (its writer killed before the witness write):
    fsck --repair writes the witness and restores a missing creation event after it; a new
    process appends after it too."""
    store, keys = _stores(backend, tmp_path)
    _create(new_repository(store, keys), 1)
    store.delete(WITNESS_KEY)
    # A second record committed whose creation events never came (its writer killed after
    # the commit point, before the append): fsck restores its creation event.
    repo = new_repository(store, keys)
    repo.audit.append_many = _never  # type: ignore[method-assign]
    with pytest.raises(_Killed):
        _create(repo, 2)
    report = fsck(new_repository(store, keys), repair=True, grace_seconds=0)
    assert ("unaudited", True) in {(i.kind, i.repaired) for i in report.issues}, report.issues
    assert all(i.repaired and i.refused is None for i in report.issues), report.issues
    assert fsck(new_repository(store, keys), grace_seconds=0).clean
    assert new_repository(store, keys).audit.verify().ok
    # And without fsck: a first act without its witness takes the next append.
    store2, keys2 = make_store(backend, tmp_path, "cut2"), make_store(backend, tmp_path, "cut2k")
    _create(new_repository(store2, keys2), 1)
    store2.delete(WITNESS_KEY)
    _create(new_repository(store2, keys2), 2)
    verified = new_repository(store2, keys2).audit.verify()
    assert verified.ok and read_witness(store2)["seq"] == verified.last_seq


class _Killed(Exception):
    pass


def _never(*args: object, **kwargs: object) -> None:
    raise _Killed


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_append_under_a_witnessed_event_that_does_not_parse_is_refused(
    backend: str, tmp_path: Path
) -> None:
    """The object holding the witnessed event overwritten with garbage: refused with the code
    (the API answers 503), not a format error (500)."""
    store, keys = _stores(backend, tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2):
        _create(repo, n)
    store.put(_event_keys(store)[-1], b"not json")
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("clerk", "content:read", record_id="x")
    store.delete(WITNESS_KEY)  # and without the witness: the log cannot be shown to be one act
    with pytest.raises(AuditChainBroken):
        new_repository(store, keys).audit.append("clerk", "content:read", record_id="x")


class _FailingEventWrite(LocalStore):
    """A local folder whose next write of the event object ``fail_at`` fails (a disk error),
    the witness deleted just before (the tail cut while the act runs)."""

    fail_at: str | None = None

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        if key == self.fail_at:
            self.fail_at = None
            self.delete(WITNESS_KEY)
            raise StoreUnavailable("không ghi được (lỗi đĩa giả lập)")
        return super().put_if_absent(key, data)


def test_a_failed_act_whose_witness_is_refused_raises_its_own_error_caused_by_the_cut(tmp_path: Path) -> None:
    """An act's second event object fails to write after its first was written, and the witness
    it must then move was deleted meanwhile: the caller gets the act's own error (a retry or an
    operator needs it), with the refusal as its cause — neither is lost."""
    store = _FailingEventWrite(tmp_path / "s", fsync=False)
    log = AuditLog(store, group_commit=False)
    log.append("clerk", "content:read", record_id="a")  # this process has seen the witness
    store.fail_at = event_key(2)
    drafts = [EventDraft("clerk", "content:read", record_id=r) for r in ("b", "c")]
    with pytest.raises(StoreUnavailable) as raised:
        log.append_many(drafts)
    assert isinstance(raised.value.__cause__, AuditChainBroken)
    assert _event_keys(store) == [event_key(0), event_key(1)] and not store.exists(WITNESS_KEY)


def test_a_new_process_waits_for_a_missing_witness_without_holding_the_logs_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patience for a witness that a new store's first writers are about to write (up to a
    second) is spent outside the log's lock: the process's other threads do not queue behind
    it (NOTES-r4, "Reported, not fixed")."""
    store, keys = _stores("local", tmp_path)
    _three_records_then_cut(store, keys)
    log = new_repository(store, keys).audit  # a new process: it has not seen the witness
    held_while_waiting: list[bool] = []
    monkeypatch.setattr(audit.time, "sleep", lambda seconds: held_while_waiting.append(log._lock.locked()))
    with pytest.raises(AuditChainBroken):
        log.append("system", "test:cut")
    assert held_while_waiting == [False] * len(audit.WITNESS_PATIENCE)


def test_a_witness_check_made_before_another_thread_found_the_cut_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new process's first append checks the witness before it takes the log's lock; if,
    while it waits for the lock, another thread's append finds the witness gone, the check is
    made again under the lock: nothing is written past the cut."""
    store, keys = _stores("local", tmp_path)
    repo = new_repository(store, keys)
    for n in (1, 2, 3):
        _create(repo, n)
    log = new_repository(store, keys).audit  # a new process
    checked = threading.Event()
    real_check = log._checked_witness

    def check_then_tell() -> object:
        end = real_check()
        checked.set()
        return end

    monkeypatch.setattr(log, "_checked_witness", check_then_tell)
    monkeypatch.setattr(audit.time, "sleep", lambda seconds: None)
    refused: list[BaseException] = []

    def first_append() -> None:
        try:
            log.append("clerk", "content:read", record_id="a")
        except AuditChainBroken as exc:
            refused.append(exc)

    with log._lock:  # another thread of the process is appending
        writer = threading.Thread(target=first_append)
        writer.start()
        assert checked.wait(30)  # the witness was there when checked; the writer waits for the lock
        store.delete(_event_keys(store)[-1])
        store.delete(WITNESS_KEY)
        with pytest.raises(AuditChainBroken):  # what that other append's witness step meets
            log._write_witness(10**6, "x")
        events = _event_keys(store)
    writer.join(30)
    assert len(refused) == 1
    assert _event_keys(store) == events  # nothing written past the cut
