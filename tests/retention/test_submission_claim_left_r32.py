"""A nộp lưu's claim ``claims/submitting/<hồ sơ>`` left by a writer that died (review r32).

a11 made a hand-over to the archive take ``claims/submitting/<hồ sơ>`` before it looks for the
destruction claims of its documents, so that a recall (thu hồi) racing it sees it. A writer
killed between its claim and the delete left the claim behind: ``kho fsck`` never named it (it
skips every claim whose record is live), and one left on **another machine** refused every
recall of the hồ sơ's documents and its next nộp lưu (409 ``FILE_BEING_SUBMITTED``) for ever.
Now the claim's state follows the one rule ``kho fsck`` reports destruction claims by
(:func:`kho.process.claim_state`): a live writer, or another machine's claim younger than the
grace, still refuses; an older one refuses nothing; fsck reports each claim left and
``--repair`` clears those whose writer is provably dead or whose hồ sơ is handed over already.

The writer is a real forked child that dies (``os._exit(137)``, as SIGKILL) at the real store's
write, on the local folder and on Ceph S3."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import Any

import pytest
from kho_people import People
from kho_retention import closed_file, dead_pid, left_claim, recall_outcome, submit_outcome

from kho.errors import Conflict
from kho.timeutil import to_iso_utc
from repository.fsck import Issue, fsck
from repository.records import Record, submitting_key, version_key
from web.context import Kho

pytestmark = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)

OTHER_HOST = "may-xu-ly-2/4f1c0b3e-boot/pid:[4026531836]"


def _killed_submitting(kho: Kho, people: People, file: Record, at: str, on: str = "create") -> None:
    """A child submits the hồ sơ and dies at the store's ``on`` (``create`` or ``delete``) of
    key ``at``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        store = kho.repo.store
        real_create, real_delete = store.put_if_absent, store.delete

        def create(key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
            if on == "create" and key == at:
                os._exit(137)
            return real_create(key, data, *args, **kwargs)

        def delete(key: str, *args: Any, **kwargs: Any) -> Any:
            if on == "delete" and key == at:
                os._exit(137)
            return real_delete(key, *args, **kwargs)

        store.put_if_absent = create  # type: ignore[method-assign]
        store.delete = delete  # type: ignore[method-assign]
        try:
            submit_outcome(kho, people, file)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 137, "the submission was not killed where chosen"
    assert kho.repo.store.exists(submitting_key(file.record_id))  # its claim, left behind


def _left(kho: Kho, repair: bool = False) -> list[Issue]:
    return [i for i in fsck(kho.repo, repair=repair).issues if i.kind == "submission-claim"]


def test_a_submission_killed_before_its_version_is_reported_and_repaired(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")
    _killed_submitting(kho, people, file, version_key(file.record_id, file.version + 1))
    assert kho.repo._load(file.record_id).state == "closed"
    [issue] = _left(kho)  # before: fsck said nothing of it
    assert issue.subject == submitting_key(file.record_id)
    assert (issue.repairable, issue.repaired) == (True, False)
    assert issue.details["state"] == "abandoned" and issue.details["record_id"] == file.record_id
    assert "Khóa nộp lưu" in issue.message and "đã dừng trước khi hồ sơ được nộp lưu" in issue.message
    [repaired] = _left(kho, repair=True)
    assert repaired.repaired
    assert not kho.repo.store.exists(submitting_key(file.record_id)) and _left(kho) == []
    done = submit_outcome(kho, people, kho.repo._load(file.record_id))
    assert isinstance(done, Record) and done.state == "submitted", done


def test_a_submission_killed_after_its_version_leaves_a_claim_fsck_clears(kho: Kho, people: People) -> None:
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    _killed_submitting(kho, people, file, submitting_key(file.record_id), on="delete")
    assert kho.repo._load(file.record_id).state == "submitted"  # the version was written
    [issue] = _left(kho)
    assert issue.details["state"] == "finished" and "hồ sơ đã nộp lưu; xóa khóa" in issue.message
    refused = recall_outcome(
        kho, people, docs[0], "Công văn số 21/BNV-VP"
    )  # the archive's now: refused, as with no claim
    assert isinstance(refused, Conflict) and refused.code == "DOCUMENT_IN_ARCHIVE"
    [repaired] = _left(kho, repair=True)
    assert repaired.repaired and not kho.repo.store.exists(submitting_key(file.record_id))


def test_another_machines_old_claim_does_not_refuse_a_recall_for_ever(kho: Kho, people: People) -> None:
    """A worker on another machine died two hours into a nộp lưu (the hồ sơ is still closed):
    the recall of one of its documents goes through; fsck names the claim and keeps it."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    two_hours_ago = to_iso_utc(kho.repo.clock() - timedelta(hours=2))
    left_claim(kho, submitting_key(file.record_id), file.record_id, 4242, host=OTHER_HOST, at=two_hours_ago)
    done = recall_outcome(kho, people, docs[0])
    assert isinstance(done, dict) and done["state"] == "destroyed", done  # before: 409, for ever
    for repair in (False, True):
        [issue] = _left(kho, repair=repair)
        assert issue.details["state"] == "unknown" and (issue.repairable, issue.repaired) == (False, False)
        assert "may-xu-ly-2" in issue.message and "giữ từ 2 giờ trước" in issue.message
    assert kho.repo.store.exists(submitting_key(file.record_id))


def test_another_machines_old_claim_is_taken_over_by_the_next_submission(kho: Kho, people: People) -> None:
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")
    two_hours_ago = to_iso_utc(kho.repo.clock() - timedelta(hours=2))
    left_claim(kho, submitting_key(file.record_id), file.record_id, 4242, host=OTHER_HOST, at=two_hours_ago)
    done = submit_outcome(kho, people, file)
    assert isinstance(done, Record) and done.state == "submitted", done  # before: 409, for ever
    assert not kho.repo.store.exists(submitting_key(file.record_id)) and _left(kho) == []


def test_another_machines_recent_claim_still_refuses(kho: Kho, people: People) -> None:
    """Within the grace the other machine's nộp lưu may be running: recall and a second nộp lưu
    are refused (409), fsck says nothing and clears nothing."""
    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    just_now = to_iso_utc(kho.repo.clock() - timedelta(seconds=20))
    left_claim(kho, submitting_key(file.record_id), file.record_id, 4242, host=OTHER_HOST, at=just_now)
    refused = recall_outcome(kho, people, docs[0])
    assert isinstance(refused, Conflict) and refused.code == "FILE_BEING_SUBMITTED"
    again = submit_outcome(kho, people, file)
    assert isinstance(again, Conflict) and again.code == "FILE_BEING_SUBMITTED"
    assert _left(kho, repair=True) == [] and kho.repo.store.exists(submitting_key(file.record_id))
    assert kho.repo.keys.exists(docs[0]) and kho.repo._load(file.record_id).state == "closed"


def test_a_claim_taken_over_meanwhile_is_not_taken_over_again(kho: Kho, people: People) -> None:
    """Two nộp lưu of one hồ sơ find a dead writer's claim. a11 judged the claim from one read
    and took over what a second read returned: when the first had taken it over in between, the
    second removed that live writer's claim and both went on as its holder (a recall meanwhile
    saw no claim). Now the bytes judged are the bytes taken over: the second is refused (409)."""
    file, _ = closed_file(kho, people, maintenance="Vĩnh viễn")
    key = submitting_key(file.record_id)
    left_claim(kho, key, file.record_id, dead_pid())
    store = kho.repo.store
    real_get, real_create = store.get, store.put_if_absent
    main = threading.current_thread()
    paused, go = threading.Event(), threading.Event()
    first: list[Any] = []

    def create(k: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if k == version_key(file.record_id, file.version + 1) and threading.current_thread() is not main:
            paused.set()  # the first holds the claim, before its version
            go.wait(30)
        return real_create(k, data, *args, **kwargs)

    def get(k: str, *args: Any, **kwargs: Any) -> Any:
        data = real_get(k, *args, **kwargs)
        if k == key and threading.current_thread() is main and not first:
            thread = threading.Thread(target=lambda: first.append(submit_outcome(kho, people, file)))
            first.append(thread)
            thread.start()
            assert paused.wait(30), "the first submission did not take the claim over"
        return data

    store.get, store.put_if_absent = get, create  # type: ignore[method-assign]
    try:
        second = submit_outcome(kho, people, file)
    finally:
        go.set()
        first[0].join(30)
        store.get, store.put_if_absent = real_get, real_create  # type: ignore[method-assign]
    assert isinstance(second, Conflict) and second.code == "FILE_BEING_SUBMITTED", second  # before: submitted
    assert isinstance(first[1], Record) and first[1].state == "submitted", first[1]
    assert not store.exists(key)
