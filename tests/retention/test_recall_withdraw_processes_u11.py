"""u11: the withdrawal of an unfinished recall (u10) with real processes, as two gunicorn workers
or a killed one would meet it.

* A withdrawal and a run of the same order (a click that takes the open recall over), in two
  spawned processes at the same moment: both take the recall by writing its next version
  conditionally, so exactly one of them gets it; the other is refused with a 409 (or, when the
  withdrawal was wholly done before the click read anything, the click makes a new recall of
  its own). The record's trail tells exactly what happened to each recall.
* A withdrawal killed (SIGKILL) right after its ``recall:withdraw`` event, before the recall's
  ``withdrawn`` version: the recall stays open with a dead run; a second withdrawal finishes it
  without a second event, and the version says the withdrawal the trail records (who, when, why),
  and who finished it."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kho_people import People, make_people
from kho_recall_worker import ORDERS, race_withdraw, withdraw_killed_after_event
from kho_retention import kho_env, s3_env
from kho_testing import outgoing, pdf_bytes

from kho.config import Settings
from kho.errors import Conflict, StoreUnavailable
from repository.records import RECALL_KEY
from retention.recall import Recalls
from web.context import Kho

CONFLICTS = {"VERSION_CONFLICT", "RECALL_IN_PROGRESS", "RECALL_ALREADY_DONE"}


def _store_down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("Kho lưu trữ tạm thời không phản hồi.")


def _stopped(kho: Kho, people: People, subject: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A văn bản đi whose recall run stopped at its hold (marked, ``recorded``, released)."""
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(subject=subject), pdf_bytes(subject), "qd.pdf", clerk)
    with monkeypatch.context() as patch:
        patch.setattr(kho.repo, "place_hold", _store_down)
        with pytest.raises(StoreUnavailable):
            Recalls(kho.repo, kho.backend).recall_outgoing(doc.record_id, *ORDERS["di"], actor=clerk)
    [(recall_id, state)] = _states(kho, doc.record_id)
    assert state == "recorded"
    return doc.record_id, recall_id


def _states(kho: Kho, record_id: str) -> list[tuple[str, str]]:
    recalls = Recalls(kho.repo, kho.backend).recalls.all()
    return sorted((r["recall_id"], r["state"]) for r in recalls if r["record_id"] == record_id)


def _story(kho: Kho, record_id: str) -> list[tuple[str, str | None]]:
    """The record's recall events, each with the recall it names (a hold by its ``hold_id``)."""
    return [
        (
            e.action,
            (e.details or {}).get("recall_id")
            or (e.details or {}).get("hold_id", "").removeprefix("recall-"),
        )
        for e in kho.repo.audit.record_events(record_id)
        if e.action.startswith(("record:recall", "recall:"))
    ]


def _recall_holds(kho: Kho, record_id: str) -> list[str]:
    return sorted(h["hold_id"] for h in kho.repo.holds_on(record_id) if h.get("kind") == "recall")


@pytest.fixture(params=["local", "s3"])
def installation(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Kho, People]]:
    """A Kho on the local folder or the S3 gateway, its environment (for the spawned processes)
    and its people."""
    env = kho_env(tmp_path) if request.param == "local" else s3_env(tmp_path)
    kho = Kho(Settings.from_env(env))
    try:
        yield env, kho, make_people(kho)
    finally:
        kho.close()


def test_a_withdrawal_racing_a_run_of_the_recall_in_two_processes_one_takes_it(
    installation: tuple[dict[str, str], Kho, People], monkeypatch: pytest.MonkeyPatch
) -> None:
    env, kho, people = installation
    head, clerk = people.actor("lanh_dao"), people.actor("van_thu")
    seen: set[str] = set()
    for round_ in range(4 if "KHO_S3_ENDPOINT" not in env else 2):
        record_id, first = _stopped(kho, people, f"Quyết định 6{round_}", monkeypatch)
        outcomes = race_withdraw(env, record_id, head, clerk)
        click, withdraw = outcomes  # sorted: "click" < "withdraw"
        assert "error" not in (click[1], withdraw[1]), outcomes
        states = _states(kho, record_id)
        story = _story(kho, record_id)
        if withdraw[1] == "done":  # the withdrawal took the recall
            assert withdraw[2:] == (first, "withdrawn"), outcomes
            assert story[:3] == [
                ("record:recall", first),
                ("record:recall-withdraw", first),
                ("recall:withdraw", first),
            ], story
            if click[1] == "refused":
                assert click[2] in CONFLICTS and click[3] == 409, outcomes
                assert states == [(first, "withdrawn")] and story[3:] == [], (states, story)
                assert _recall_holds(kho, record_id) == []
                assert not kho.repo._load(record_id).extra.get(RECALL_KEY)
                seen.add("withdrawn, click refused")
            else:  # the click came after the whole withdrawal: a recall of its own, carried out
                second = click[2]
                assert click[3] == "frozen" and second != first, outcomes
                assert states == sorted([(first, "withdrawn"), (second, "frozen")]), states
                assert story[3:] == [("record:recall", second), ("recall:place", second)], story
                assert _recall_holds(kho, record_id) == [f"recall-{second}"]
                seen.add("withdrawn, then a new recall")
        else:  # the run took the recall and carried it out
            assert withdraw[1] == "refused" and withdraw[2] in CONFLICTS and withdraw[3] == 409, outcomes
            assert click[1:] == ("done", first, "frozen"), outcomes
            assert states == [(first, "frozen")], states
            assert story == [("record:recall", first), ("recall:place", first)], story  # no withdrawal
            assert _recall_holds(kho, record_id) == [f"recall-{first}"]
            assert kho.repo._load(record_id).extra[RECALL_KEY]["recall_id"] == first
            seen.add("carried out, withdrawal refused")
    print("outcomes seen:", sorted(seen))


def test_a_withdrawal_killed_after_its_event_is_finished_by_a_second_without_a_second_event(
    installation: tuple[dict[str, str], Kho, People], monkeypatch: pytest.MonkeyPatch
) -> None:
    env, kho, people = installation
    head, clerk = people.actor("lanh_dao"), people.actor("van_thu")
    record_id, first = _stopped(kho, people, "Quyết định 71", monkeypatch)
    child = multiprocessing.get_context("spawn").Process(
        target=withdraw_killed_after_event, args=(env, record_id, head, "Ghi nhầm căn cứ")
    )
    child.start()
    child.join(90)
    assert child.exitcode == -9
    recalls = Recalls(kho.repo, kho.backend)
    left = recalls.recalls.latest(first)
    assert left["state"] == "recorded" and left["run"]["pid"] == child.pid  # the dead withdrawal's
    assert _story(kho, record_id) == [
        ("record:recall", first),
        ("record:recall-withdraw", first),
        ("recall:withdraw", first),
    ]
    assert not kho.repo._load(record_id).extra.get(RECALL_KEY)
    [event] = [e for e in kho.repo.audit.record_events(record_id) if e.action == "recall:withdraw"]

    # The run of the same order may not take it over now: the withdrawal was decided and
    # recorded; only a withdrawal finishes it.
    with pytest.raises(Conflict) as clicked:
        recalls.recall_outgoing(record_id, *ORDERS["di"], actor=clerk)
    assert clicked.value.code == "RECALL_WITHDRAWN", clicked.value
    assert "rút lại lệnh một lần nữa" in clicked.value.message
    assert _states(kho, record_id) == [(first, "recorded")]

    done = recalls.withdraw(record_id, "Hoàn tất việc rút lại", actor=clerk)  # the starter
    assert done["state"] == "withdrawn" and done["run"] is None
    # The version says the withdrawal the trail records, and who finished it.
    assert done["withdrawn"] == {"by": head.user, "at": event.at, "reason": "Ghi nhầm căn cứ"}
    assert done["finished_by"]["by"] == clerk.user
    assert _story(kho, record_id) == [
        ("record:recall", first),
        ("record:recall-withdraw", first),
        ("recall:withdraw", first),
    ]  # no second event
    assert _states(kho, record_id) == [(first, "withdrawn")]
    assert _recall_holds(kho, record_id) == []
    assert kho.repo.audit.verify().ok
