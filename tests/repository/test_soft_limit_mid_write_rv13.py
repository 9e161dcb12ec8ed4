"""rv13: Celery's soft time limit raised in the middle of a registered creation. In a prefork
pool the limit is a SIGUSR1 whose handler (billiard's ``soft_timeout_sighandler``) raises
``SoftTimeLimitExceeded`` in the task's main thread wherever it is: inside the store's write
group, a register number's allocation, an audit append. Unlike ``KeyboardInterrupt`` (what the
group's interrupt guarantees were built for) it is an ``Exception``: a broad ``except Exception``
took it for an object's own failure (or swallowed it) and the job ended with a wrong code
(``STORE_UNAVAILABLE`` is even retried). Here the very signal handler is installed and the
signal sent at the n-th ``os.fsync`` / ``os.link`` / ``os.replace`` of the creation (from any
thread: it is delivered in the main thread, as in the pool), for every n: the creation must end
with the time limit itself (the job then ends INGEST_TIMEOUT); after ``fsck --repair`` no temp
file is left, the same creation run again goes in or names the record the interrupted one
committed (never a second record: the guards of a committed record are kept, review rv13), the
store is clean, the register has no gap, the audit chain verifies."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from billiard.pool import soft_timeout_sighandler
from kho_testing import CLERK, checked_by_ingest, incoming, new_repository, pdf_bytes

from kho.errors import Duplicate
from kho.timelimit import is_time_limit
from repository.fsck import fsck
from repository.records import Repository
from repository.storage.local import LocalStore


@pytest.fixture()
def soft_limit_handler() -> Iterator[None]:
    previous = signal.signal(signal.SIGUSR1, soft_timeout_sighandler)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


def _create(repo: Repository, content: bytes, number: str) -> Any:
    return repo.create_document("den", incoming(code_number=number), content, "qd.pdf", CLERK)


def _limit_at(monkeypatch: pytest.MonkeyPatch, what: str, at: int) -> list[int]:
    count = [0]
    real = getattr(os, what)

    def limited(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        mine = count[0]  # (other threads count on meanwhile)
        result = real(*args, **kwargs)
        if mine == at:
            os.kill(os.getpid(), signal.SIGUSR1)  # the pool's soft limit, delivered now
        return result

    monkeypatch.setattr(os, what, limited)
    return count


def _round(what: str, at: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str] | None:
    """One creation limited at the ``at``-th call; what went wrong (None: fewer calls than that)."""
    store, keys = LocalStore(tmp_path / f"s{at}"), LocalStore(tmp_path / f"k{at}")
    earlier = _create(new_repository(store, keys), pdf_bytes("earlier"), "1").record_id
    content = pdf_bytes(f"soft limit {what} {at}", size=200_000)
    sha = hashlib.sha256(content).hexdigest()
    with monkeypatch.context() as patch:
        count = _limit_at(patch, what, at)
        error: BaseException | None = None
        try:
            _create(new_repository(store, keys), content, "2")
        except BaseException as exc:
            error = exc
        calls = count[0]
    if calls < at:
        assert error is None
        return None
    wrong: list[str] = []
    # The job's code comes from what the creation raised: the time limit, nothing else.
    if not (error is not None and is_time_limit(error)):
        wrong.append(f"raised {type(error).__name__}: {error}"[:200])
    repo = new_repository(store, keys)
    fsck(repo, repair=True, grace_seconds=0)
    # A temp file made just before the limit arrived (it can land right after ``os.open``
    # returned, before its name reached any caller: NOTES-rv13) is fsck's to clean.
    left = list((store.root / "tmp").iterdir()) + list((keys.root / "tmp").iterdir())
    if left:
        wrong.append(f"{len(left)} temp files left after fsck --repair")
    try:
        again = _create(repo, content, "2").record_id
    except Duplicate as exc:
        again = str(exc.details.get("existing_record_id"))
    repo = new_repository(store, keys)
    report = fsck(repo, grace_seconds=0)
    if not report.clean:
        wrong.append(f"fsck: {[(i.kind, i.subject) for i in report.issues]}")
    records = {r.record_id: r for r in repo.records()}
    registration = records[again].registration if again in records else None
    if set(records) != {earlier, again} or registration is None or registration.number != 2:
        wrong.append(f"records {sorted(records)} number {registration and registration.number}")
    elif [f.sha256 for f in records[again].files] != [sha]:
        wrong.append("file")
    if len(list(store.list("registers/"))) != 2:
        wrong.append("register entries")
    if not repo.audit.verify().ok:
        wrong.append("audit chain")
    return [f"{what} #{at}: {w}" for w in wrong]


@pytest.mark.usefixtures("soft_limit_handler")
@pytest.mark.parametrize("what", ["fsync", "link", "replace"])
def test_a_soft_time_limit_at_every_fsync_link_or_replace_of_a_creation(
    what: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, wrong = 1, []
    while (found := _round(what, at, tmp_path, monkeypatch)) is not None:
        wrong.extend(found)
        at += 1
    # Calls a creation makes (at least): its fsyncs and links; one replace, the audit witness's
    # (s16: the witness, a pointer, is no longer archived by a second replace into versions/).
    assert at > {"fsync": 2, "link": 2, "replace": 1}[what]
    assert wrong == [], "\n".join(wrong)


def _arrived(repo: Repository, name: str) -> Any:
    return checked_by_ingest(repo, repo.create_intake("den", pdf_bytes(name), "a.pdf", CLERK).record_id)


@pytest.mark.usefixtures("soft_limit_handler")
def test_a_soft_time_limit_at_every_link_of_an_intake_confirmation_keeps_a_committed_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registration of an arrived document (``complete_intake``): interrupted at any link,
    its (số, ký hiệu) guard stays exactly when its number was committed, so another copy of
    the same document is refused as a duplicate of it; else the confirmation goes in again."""
    md = incoming(code_number="77", issued_date="2026-03-02")
    at, wrong = 1, []
    while True:
        store, keys = LocalStore(tmp_path / f"s{at}"), LocalStore(tmp_path / f"k{at}")
        repo = new_repository(store, keys)
        first = _arrived(repo, f"a{at}")
        with monkeypatch.context() as patch:
            count = _limit_at(patch, "link", at)
            error: BaseException | None = None
            try:
                new_repository(store, keys).complete_intake(
                    first.record_id, md, expected_version=first.version, actor=CLERK
                )
            except BaseException as exc:
                error = exc
            calls = count[0]
        if calls < at:
            break
        if not (error is not None and is_time_limit(error)):
            wrong.append(f"#{at}: raised {type(error).__name__}: {error}"[:200])
        repo = new_repository(store, keys)
        fsck(repo, repair=True, grace_seconds=0)
        current = repo.get(first.record_id, actor=CLERK)
        if current.state == "intake":  # not committed: confirmed again
            repo.complete_intake(first.record_id, md, expected_version=current.version, actor=CLERK)
        other = _arrived(repo, f"b{at}")
        try:
            repo.complete_intake(other.record_id, md, expected_version=other.version, actor=CLERK)
            wrong.append(f"#{at}: the same số/ký hiệu registered twice")
        except Duplicate as exc:
            if exc.details.get("existing_record_id") != first.record_id:
                wrong.append(f"#{at}: duplicate of {exc.details.get('existing_record_id')}")
        report = fsck(new_repository(store, keys), grace_seconds=0)
        if not report.clean:
            wrong.append(f"#{at}: fsck {[(i.kind, i.subject) for i in report.issues]}")
        at += 1
    assert at > 2
    assert wrong == [], "\n".join(wrong)


def _file_md(notation: str) -> dict[str, str]:
    return {"file_notation": notation, "title": "Hồ sơ rv13", "maintenance": "10 năm",
            "creator": "Nguyễn An", "start_date": "2026-01-05"}


@pytest.mark.usefixtures("soft_limit_handler")
def test_a_soft_time_limit_at_every_link_of_a_correction_that_moves_a_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hồ sơ's số và ký hiệu corrected (its mã guard moves): interrupted at any link, the new
    mã is guarded exactly when the corrected version was committed, and the old one is free."""
    at, wrong = 1, []
    while True:
        store, keys = LocalStore(tmp_path / f"s{at}"), LocalStore(tmp_path / f"k{at}")
        made = new_repository(store, keys).create_file(_file_md("01.VP"), CLERK)
        with monkeypatch.context() as patch:
            count = _limit_at(patch, "link", at)
            error: BaseException | None = None
            try:
                new_repository(store, keys).update_metadata(
                    made.record_id, {"file_notation": "02.VP"}, expected_version=made.version, actor=CLERK
                )
            except BaseException as exc:
                error = exc
            calls = count[0]
        if calls < at:
            break
        if not (error is not None and is_time_limit(error)):
            wrong.append(f"#{at}: raised {type(error).__name__}: {error}"[:200])
        repo = new_repository(store, keys)
        fsck(repo, repair=True, grace_seconds=0)
        now = repo.get(made.record_id, actor=CLERK).metadata.to_dict()["file_notation"]
        taken, free = ("02.VP", "01.VP") if now == "02.VP" else ("01.VP", "02.VP")
        try:
            repo.create_file(_file_md(taken), CLERK)
            wrong.append(f"#{at}: {taken} (the hồ sơ's, now {now}) given to a second hồ sơ")
        except Duplicate:
            pass
        try:
            repo.create_file(_file_md(free), CLERK)
        except Duplicate:
            wrong.append(f"#{at}: {free} (no hồ sơ's) refused")
        at += 1
    assert at > 2
    assert wrong == [], "\n".join(wrong)
