"""m65: a person records the decision taken on an fsck finding that cannot be repaired.

Since m61 ``kho fsck`` reports ``register-number-reused`` (a number of one register given to two
records) and never repairs it: both records are legal documents, the log cannot be changed. With
nothing to record the decision, fsck failed on that store for ever. Now a quản trị or lưu trữ
viên of the agency acknowledges the exact finding (kind, subject, and the facts: the records
sharing the number, the events, the entry; their digest) with a reason: one sealed
``fsck:acknowledge`` event (who, when, why), after which fsck lists the finding as acknowledged
and does not fail on it, until its facts change (a third record given the number). Everything
else is refused with a code and writes nothing. Real stores (local folder and the Ceph S3
gateway); finding names and codes written as literals so that each test fails on main."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_tamper import append_forged
from kho_testing import AGENCY, AUDITOR, BACKENDS, CLERK, make_store, outgoing, person

from kho.errors import KhoError
from repository.audit import EventDraft
from repository.fsck import FsckReport, fsck
from repository.policy import Role
from repository.records import Actor, Record, Repository, new_record_id
from repository.storage.local import LocalStore

SERIES = "hanh-chinh"
REUSED = "register-number-reused"
ACTION = "fsck:acknowledge"
ADMIN = person("quantri.vien", (AGENCY, Role.QUAN_TRI))
ARCHIVIST = person("luutru.ha", (AGENCY, Role.LUU_TRU))
PHONG_ADMIN = person("quantri.phong", ("000.01.18.H40", Role.QUAN_TRI))
REASON = "Lãnh đạo quyết định văn bản cấp trước giữ số 01; văn bản sau được cấp số mới (Công văn 15/UBND)."


def _acknowledge(repo: Repository, actor: Actor, kind: str, subject: str, digest: str, reason: Any) -> Any:
    from repository.fsck import acknowledge_finding  # (m65: not on main)

    return acknowledge_finding(repo, actor, kind, subject, digest, reason)


def _repo(backend: str, tmp_path: Path, name: str) -> Repository:
    store, keys = make_store(backend, tmp_path, name), LocalStore(tmp_path / "keys")
    return Repository(store, keys, agency_id=AGENCY, master_key=b"k" * 32)


def _registered(repo: Repository) -> Record:
    record = repo.create_document("di", outgoing(), None, None, CLERK)
    assert record.registration is not None
    return record


def _give(repo: Repository, record: Record, number: int, year: int) -> None:
    """A sealed ``register:assign`` giving ``record`` the number (a writer with the key, or a bug)."""
    details = {"series": SERIES, "year": year, "number": number, "organ_id": AGENCY}
    given = EventDraft("x", "register:assign", record_id=record.record_id, version=1, details=details)
    repo.audit.append_many([given])


def _number_given_twice(repo: Repository) -> tuple[Record, Record, Any]:
    x, y = _registered(repo), _registered(repo)
    assert x.registration is not None
    _give(repo, y, x.registration.number, x.registration.year)
    [issue] = fsck(repo, grace_seconds=0).issues
    assert issue.kind == REUSED and not issue.repairable
    return x, y, issue


def _decisions(repo: Repository) -> list[Any]:
    return [e for e in repo.audit.events() if e.action == ACTION]


def _open(report: FsckReport) -> list[tuple[str, str]]:
    return [(i.kind, i.subject) for i in report.unrepaired]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_acknowledged_number_given_twice_is_listed_and_no_longer_fails_fsck_until_a_third_record_takes_it(
    backend: str, tmp_path: Path
) -> None:
    repo = _repo(backend, tmp_path, "m65ack")
    x, y, issue = _number_given_twice(repo)
    assert _open(fsck(repo, grace_seconds=0)) == [(REUSED, issue.subject)]  # main: fails for ever

    event, acknowledged = _acknowledge(repo, ADMIN, REUSED, issue.subject, issue.digest, REASON)
    assert event.action == ACTION and event.actor == ADMIN.user
    assert event.details["kind"] == REUSED and event.details["subject"] == issue.subject
    assert event.details["facts"]["records"] == sorted([x.record_id, y.record_id])  # what was decided on
    assert event.details["reason"] == REASON and event.details["digest"] == issue.digest
    mark = {"by": ADMIN.user, "at": event.at, "reason": REASON, "event": event.seq}
    assert acknowledged.acknowledged == mark

    report = fsck(repo, grace_seconds=0)
    [listed] = report.issues  # still listed, as acknowledged
    assert listed.kind == REUSED and listed.subject == issue.subject and not listed.repaired
    assert listed.acknowledged == acknowledged.acknowledged
    assert report.unrepaired == ()  # fsck does not fail on it
    assert fsck(repo, repair=True, grace_seconds=0).unrepaired == ()
    assert repo.audit.verify().ok  # the decision is on the tamper-evident record

    # A third record given the same number: another finding, which the decision does not cover.
    z = _registered(repo)
    assert x.registration is not None
    _give(repo, z, x.registration.number, x.registration.year)
    [changed] = fsck(repo, grace_seconds=0).issues
    assert changed.subject == issue.subject and changed.acknowledged is None
    assert changed.details["records"] == sorted([x.record_id, y.record_id, z.record_id])
    assert changed.digest != issue.digest
    assert _open(fsck(repo, grace_seconds=0)) == [(REUSED, issue.subject)]
    # The old digest is refused; the finding as it is now is acknowledged again (a lưu trữ viên).
    with pytest.raises(KhoError) as stale:
        _acknowledge(repo, ARCHIVIST, REUSED, issue.subject, issue.digest, REASON)
    assert stale.value.code == "FSCK_FINDING_CHANGED" and stale.value.details["finding"] == changed.digest
    _acknowledge(repo, ARCHIVIST, REUSED, issue.subject, changed.digest.upper(), "Văn bản thứ ba giữ số cũ.")
    assert fsck(repo, grace_seconds=0).unrepaired == ()
    assert [e.actor for e in _decisions(repo)] == [ADMIN.user, ARCHIVIST.user]


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        ("no-such-kind", "FSCK_KIND_UNKNOWN", "không có loại phát hiện"),
        ("uncommitted", "FSCK_KIND_NOT_ACKNOWLEDGEABLE", "kho fsck --repair"),
        ("guard-missing", "FSCK_KIND_NOT_ACKNOWLEDGEABLE", "kho fsck --repair"),
        ("audit", "FSCK_KIND_NOT_ACKNOWLEDGEABLE", "kho audit acknowledge"),
        ("fixity", "FSCK_KIND_NOT_ACKNOWLEDGEABLE", "bản sao lưu"),
        ("register-gap", "FSCK_KIND_NOT_ACKNOWLEDGEABLE", "bản sao lưu"),
    ],
)
def test_a_kind_that_cannot_be_acknowledged_is_refused_with_its_code(
    kind: str, code: str, words: str, tmp_path: Path
) -> None:
    repo = _repo("local", tmp_path, "m65kind")
    _, _, issue = _number_given_twice(repo)
    with pytest.raises(KhoError) as refused:
        _acknowledge(repo, ADMIN, kind, issue.subject, issue.digest, REASON)
    assert refused.value.code == code and words in refused.value.message, refused.value.message
    assert REUSED in refused.value.message  # says which kinds can be
    assert _decisions(repo) == []


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "REASON_INVALID"),
        (None, "REASON_INVALID"),
        ("  \u200b \u00ad ", "REASON_INVALID"),
        ("Đã xem\x1b[2J", "FIELD_CONTROL_CHARS"),
        ("Đã xem\n  - [register-gap] giả", "FIELD_CONTROL_CHARS"),
        ("x" * 1001, "FIELD_TOO_LONG"),
    ],
    ids=["empty", "none", "blank", "escape", "line-break", "too-long"],
)
def test_a_bad_reason_is_refused_and_nothing_is_written(reason: Any, code: str, tmp_path: Path) -> None:
    repo = _repo("local", tmp_path, "m65reason")
    _, _, issue = _number_given_twice(repo)
    with pytest.raises(KhoError) as refused:
        _acknowledge(repo, ADMIN, REUSED, issue.subject, issue.digest, reason)
    assert refused.value.code == code, refused.value
    assert _decisions(repo) == [] and fsck(repo, grace_seconds=0).unrepaired


def test_a_reason_is_kept_in_nfc(tmp_path: Path) -> None:
    repo = _repo("local", tmp_path, "m65nfc")
    _, _, issue = _number_given_twice(repo)
    decomposed = "Quyết định cu\u0309a lãnh đạo"  # "của" typed as u + combining hook above
    event, _ = _acknowledge(repo, ADMIN, REUSED, issue.subject, issue.digest, decomposed)
    assert event.details["reason"] == "Quyết định của lãnh đạo"


def test_no_such_finding_a_wrong_digest_and_a_second_acknowledgement_are_refused(tmp_path: Path) -> None:
    repo = _repo("local", tmp_path, "m65find")
    _, _, issue = _number_given_twice(repo)
    other = issue.subject.replace("00000001.json", "00000002.json")
    with pytest.raises(KhoError) as missing:
        _acknowledge(repo, ADMIN, REUSED, other, issue.digest, REASON)
    assert missing.value.code == "FSCK_FINDING_NOT_FOUND" and other in missing.value.message
    with pytest.raises(KhoError) as wrong:
        _acknowledge(repo, ADMIN, REUSED, issue.subject, "0" * 64, REASON)
    assert wrong.value.code == "FSCK_FINDING_CHANGED" and issue.digest in wrong.value.message
    assert _decisions(repo) == []
    event, _ = _acknowledge(repo, ADMIN, REUSED, issue.subject, issue.digest, REASON)
    with pytest.raises(KhoError) as again:
        _acknowledge(repo, ARCHIVIST, REUSED, issue.subject, issue.digest, REASON)
    assert again.value.code == "FSCK_ALREADY_ACKNOWLEDGED" and again.value.details["event"] == event.seq
    assert len(_decisions(repo)) == 1


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (CLERK, "PERMISSION_DENIED"),
        (AUDITOR, "PERMISSION_DENIED"),
        (PHONG_ADMIN, "AGENCY_HEAD_ONLY"),
        (Actor(user="system", source="cli", system=True), "PERMISSION_DENIED"),
    ],
    ids=["van-thu", "kiem-toan", "phong-quan-tri", "system"],
)
def test_a_person_without_the_right_is_refused_and_the_denial_is_audited(
    actor: Actor, code: str, tmp_path: Path
) -> None:
    repo = _repo("local", tmp_path, "m65who")
    _, _, issue = _number_given_twice(repo)
    with pytest.raises(KhoError) as refused:
        _acknowledge(repo, actor, REUSED, issue.subject, issue.digest, REASON)
    assert refused.value.code == code, refused.value
    assert _decisions(repo) == [] and fsck(repo, grace_seconds=0).unrepaired
    if not actor.system:
        [denied] = [e for e in repo.audit.events() if e.action == "access:denied" and e.actor == actor.user]
        assert denied.details["action"] == ACTION


@pytest.mark.parametrize("seal", ["none", "copied"])
def test_a_decision_forged_into_the_store_without_the_master_key_covers_nothing(
    seal: str, tmp_path: Path
) -> None:
    """One who writes the store but holds no KHO_MASTER_KEY appends an ``fsck:acknowledge`` with
    the right facts and digest, chained and witnessed (with no seal, or another event's): its
    seal does not check, fsck does not count it."""
    repo = _repo("local", tmp_path, "m65forge")
    _, _, issue = _number_given_twice(repo)
    from repository.acknowledge import fsck_details  # (m65)

    details = fsck_details(REUSED, issue.subject, issue.details, issue.message, REASON)
    copied = list(repo.audit.events())[-1].seal if seal == "copied" else None
    assert seal == "none" or copied is not None
    append_forged(repo.store, {"actor": ADMIN.user, "action": ACTION, "details": details}, seal=copied)
    report = fsck(repo, grace_seconds=0)
    [reused] = [i for i in report.issues if i.kind == REUSED]
    assert reused.acknowledged is None and (REUSED, issue.subject) in _open(report)


def test_an_assign_of_a_record_the_store_does_not_hold_is_acknowledged_too(tmp_path: Path) -> None:
    """``register-assign-orphan`` (m61: an event before m61, no agency, in a store of two agencies,
    naming a record the store does not hold, whose number another record holds) is a person's
    to decide as well."""
    repo = _repo("local", tmp_path, "m65orphan")
    ours = _registered(repo)
    assert ours.registration is not None
    theirs = Repository(repo.store, repo.keys.store, agency_id="000.00.19.H41", master_key=b"k" * 32)
    theirs.create_document(
        "di", outgoing(organ_name="Ủy ban nhân dân tỉnh Thử Nghiệm"), None, None, CLERK
    )
    details = {"series": SERIES, "year": ours.registration.year, "number": 1}  # no organ_id: before m61
    ghost = EventDraft("x", "register:assign", record_id=new_record_id(), version=1, details=details)
    repo.audit.append_many([ghost])
    [orphan] = fsck(repo, grace_seconds=0).issues
    assert orphan.kind == "register-assign-orphan"
    _acknowledge(repo, ARCHIVIST, orphan.kind, orphan.subject, orphan.digest, REASON)
    report = fsck(repo, grace_seconds=0)
    assert report.unrepaired == () and report.issues[0].acknowledged is not None


def test_a_number_given_twice_in_another_agencys_register_is_not_this_agencys_to_acknowledge(
    tmp_path: Path,
) -> None:
    """A store of two agencies (m61): each agency's registers are its own; the quản trị of one
    does not decide on a number the other's register gave twice."""
    repo = _repo("local", tmp_path, "m65agency")
    other = "000.00.19.H41"
    theirs = Repository(repo.store, repo.keys.store, agency_id=other, master_key=b"k" * 32)
    name = "Ủy ban nhân dân tỉnh Thử Nghiệm"
    a, b = (theirs.create_document("di", outgoing(organ_name=name), None, None, CLERK) for _ in range(2))
    assert a.registration is not None
    details = {"series": SERIES, "year": a.registration.year, "number": 1, "organ_id": other}
    given = EventDraft("x", "register:assign", record_id=b.record_id, version=1, details=details)
    repo.audit.append_many([given])
    [issue] = fsck(repo, grace_seconds=0).issues
    assert issue.kind == REUSED and issue.details["organ_id"] == other
    with pytest.raises(KhoError) as refused:
        _acknowledge(repo, ADMIN, REUSED, issue.subject, issue.digest, REASON)
    assert refused.value.code == "FSCK_FINDING_OTHER_AGENCY" and other in refused.value.message
    assert _decisions(repo) == []
    their_admin = person("quantri.khac", (other, Role.QUAN_TRI))
    _acknowledge(theirs, their_admin, REUSED, issue.subject, issue.digest, REASON)
    assert fsck(repo, grace_seconds=0).unrepaired == ()
