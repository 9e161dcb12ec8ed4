"""rv8 review of u8's outgoing recalls: two processes (two gunicorn workers, each with its own
Kho and store client) recalling one văn bản đi at the same moment write one recall, one recall
hold and one mark; the other click is a 409. u8 tested two threads of one process."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from kho_people import People, make_people
from kho_recall_worker import click_outgoing_killed, race
from kho_retention import kho_env, s3_env
from kho_testing import outgoing, pdf_bytes

from kho.config import Settings
from repository.records import RECALL_KEY
from retention.recall import Recalls
from web.context import Kho


@pytest.mark.parametrize("where", ["local", "s3"])
def test_two_processes_recalling_one_outgoing_document_at_once_write_one_recall_and_one_hold(
    tmp_path: Path, where: str
) -> None:
    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path)
    kho = Kho(Settings.from_env(env))
    try:
        people: People = make_people(kho)
        clerk = people.actor("van_thu")
        for round_ in range(2):
            doc = kho.repo.create_document(
                "di", outgoing(subject=f"Quyết định 9{round_}"), pdf_bytes(f"d{round_}"), "qd.pdf", clerk
            )
            outcomes = race(env, doc.record_id, clerk, "di")
            finished = [o for o in outcomes if o[0] == "done"]
            refused = [o for o in outcomes if o[0] == "refused"]
            assert len(finished) == 1 and len(refused) == 1, outcomes
            assert refused[0][1] in {"VERSION_CONFLICT", "RECALL_IN_PROGRESS", "RECALL_ALREADY_DONE"}
            assert refused[0][2] == 409
            recall_id = finished[0][1]
            recalls = Recalls(kho.repo, kho.backend)
            mine = [
                (r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == doc.record_id
            ]
            assert mine == [(recall_id, "frozen")]  # u8: "recorded" (u9)
            holds = sorted(
                h["hold_id"] for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"
            )
            assert holds == [f"recall-{recall_id}"]
            assert kho.repo._load(doc.record_id).extra[RECALL_KEY]["recall_id"] == recall_id
            events = [e for e in kho.repo.audit.events() if e.record_id == doc.record_id]
            assert sum(e.action == "record:recall" for e in events) == 1
    finally:
        kho.close()


@pytest.mark.parametrize("where", ["local", "s3"])
def test_an_outgoing_recall_killed_in_another_process_is_taken_over_and_finished(
    tmp_path: Path, where: str
) -> None:
    """u8 tested the kill -9 takeover on the local folder only (a forked child and the S3
    client's threads do not mix); a spawned child works on both stores."""
    env = kho_env(tmp_path) if where == "local" else s3_env(tmp_path)
    kho = Kho(Settings.from_env(env))
    try:
        people: People = make_people(kho)
        clerk = people.actor("van_thu")
        doc = kho.repo.create_document(
            "di", outgoing(subject="Quyết định 97"), pdf_bytes("d97"), "qd.pdf", clerk
        )
        child = multiprocessing.get_context("spawn").Process(
            target=click_outgoing_killed, args=(env, doc.record_id, clerk)
        )
        child.start()
        child.join(90)
        assert child.exitcode == -9
        recalls = Recalls(kho.repo, kho.backend)
        [(left, state)] = [
            (r["recall_id"], r["state"]) for r in recalls.recalls.all() if r["record_id"] == doc.record_id
        ]
        assert state == "recorded"
        assert recalls.recalls.latest(left)["run"]["pid"] == child.pid  # named the dead run
        done = recalls.recall_outgoing(doc.record_id, "CV 33/UBND-VP", "Ban hành sai thẩm quyền", actor=clerk)
        assert done["recall_id"] == left and done["run"] is None
        holds = sorted(
            h["hold_id"] for h in kho.repo.holds_on(doc.record_id) if h.get("kind") == "recall"
        )
        assert holds == [f"recall-{left}"]
        assert kho.repo._load(doc.record_id).extra[RECALL_KEY]["recall_id"] == left
        events = [e for e in kho.repo.audit.events() if e.record_id == doc.record_id]
        assert sum(e.action == "record:recall" for e in events) == 1
    finally:
        kho.close()
