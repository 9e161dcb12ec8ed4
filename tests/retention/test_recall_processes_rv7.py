"""rv7 review of u7's recall of a văn bản đến: two processes (two gunicorn workers, not two
threads of one, which share one store client and its locks) recalling one document at the same
moment finish one recall: one record:destroy, one recall:notify, one recall ``destroyed``."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from kho_people import People
from kho_recall_worker import race
from kho_retention import kho_env, s3_env
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import Conflict
from retention.recall import Recalls
from web.context import Kho


@pytest.mark.parametrize("where", ["local", "s3"])
def test_two_processes_recalling_one_incoming_document_at_once_finish_one_recall(
    tmp_path: Path, where: str
) -> None:
    from kho_people import make_people

    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path)
    kho = Kho(Settings.from_env(env))
    try:
        people: People = make_people(kho)
        clerk = people.actor("van_thu")
        for round_ in range(2):
            doc = kho.repo.create_document(
                "den", incoming(code_number=f"9{round_}"), pdf_bytes(f"p{round_}"), "cv.pdf", clerk
            )
            outcomes = race(env, doc.record_id, clerk, "den")
            finished = [o for o in outcomes if o[0] == "done"]
            refused = [o for o in outcomes if o[0] == "refused"]
            assert len(finished) == 1 and len(refused) == 1, outcomes
            assert finished[0][2] == "destroyed"
            assert refused[0][1] in {"VERSION_CONFLICT", "RECALL_IN_PROGRESS", "RECALL_ALREADY_DONE"}
            assert refused[0][2] == 409
            recalls = Recalls(kho.repo, kho.backend)
            mine = [
                (r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == doc.record_id
            ]
            assert mine == [(finished[0][1], "destroyed")]
            assert not kho.repo.keys.exists(doc.record_id)
            events = [e for e in kho.repo.audit.events() if e.record_id == doc.record_id]
            assert sum(e.action == "record:destroy" for e in events) == 1
            assert sum(e.action == "recall:notify" for e in events) == 1
    finally:
        kho.close()


@pytest.mark.parametrize("kho", ["local"], indirect=True)
def test_a_recall_killed_right_after_the_shredding_is_taken_over_and_its_destruction_audited(
    kho: Kho, people: People
) -> None:
    """A run killed (kill -9) after the record's key was destroyed and before its
    ``record:destroy`` event: the run that takes the recall over finds the record shredded
    (the "đã hủy" row, no key) and skipped the destruction (e2aea42), so the destruction was
    audited nowhere. One event after the takeover."""
    import os
    import signal

    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="65"), pdf_bytes("den65"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)

    def killed_run() -> None:
        shred = kho.repo.keys.destroy

        def shred_then_die(record_id: str) -> None:
            shred(record_id)
            os.kill(os.getpid(), signal.SIGKILL)

        kho.repo.keys.destroy = shred_then_die  # type: ignore[method-assign]
        recalls.recall_incoming(doc.record_id, "CV 25/BNV-VP", "Ban hành nhầm", actor=clerk)

    child = multiprocessing.get_context("fork").Process(target=killed_run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert not kho.repo.keys.exists(doc.record_id) and kho.repo.destroyed(doc.record_id) is not None
    events = [e.action for e in kho.repo.audit.events() if e.record_id == doc.record_id]
    assert "record:destroy" not in events  # killed before it
    done = recalls.recall_incoming(doc.record_id, "CV 25/BNV-VP", "Ban hành nhầm", actor=clerk)
    assert done["state"] == "destroyed"
    events = [e.action for e in kho.repo.audit.events() if e.record_id == doc.record_id]
    assert events.count("record:destroy") == 1
    assert events.count("recall:notify") == 1


@pytest.mark.parametrize("kho", ["local"], indirect=True)
@pytest.mark.parametrize("killed_after", ["recall:notify", "destroyed"])
def test_a_recall_killed_around_its_notice_tells_the_sender_once(
    kho: Kho, people: People, killed_after: str
) -> None:
    """A run killed (kill -9) right after it wrote the notice or right after it wrote the
    recall's ``destroyed`` version. With the notice written after that version (u7), a run killed
    between them left the recall destroyed, the sender never told, and the next click answered
    RECALL_ALREADY_DONE. Either way the sender is told once."""
    import os
    import signal

    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="66"), pdf_bytes("den66"), "cv.pdf", clerk)
    recalls = Recalls(kho.repo, kho.backend)

    def killed_run() -> None:
        if killed_after == "recall:notify":
            append = kho.repo.audit.append

            def append_then_die(user: str, action: str, *args: object, **kw: object) -> object:
                event = append(user, action, *args, **kw)  # type: ignore[arg-type]
                if action == "recall:notify":
                    os.kill(os.getpid(), signal.SIGKILL)
                return event

            kho.repo.audit.append = append_then_die  # type: ignore[method-assign]
        else:
            write = recalls.recalls.write

            def write_then_die(item_id: str, body: dict, *, expected: int) -> dict:  # type: ignore[type-arg]
                written = write(item_id, body, expected=expected)
                if body.get("state") == "destroyed":
                    os.kill(os.getpid(), signal.SIGKILL)
                return written

            recalls.recalls.write = write_then_die  # type: ignore[method-assign]
        recalls.recall_incoming(doc.record_id, "CV 26/BNV-VP", "Ban hành nhầm", actor=clerk)

    child = multiprocessing.get_context("fork").Process(target=killed_run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    try:
        recalls.recall_incoming(doc.record_id, "CV 26/BNV-VP", "Ban hành nhầm", actor=clerk)
    except Conflict as exc:
        assert exc.code == "RECALL_ALREADY_DONE"
    [(recall_id, state)] = [
        (r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == doc.record_id
    ]
    assert state == "destroyed"
    events = [e for e in kho.repo.audit.events() if e.record_id == doc.record_id]
    notices = [(e.details or {}).get("recall_id") for e in events if e.action == "recall:notify"]
    assert notices == [recall_id]
    events = [e.action for e in events]
    assert events.count("record:destroy") == 1
