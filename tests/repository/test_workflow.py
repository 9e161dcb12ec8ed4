"""The pure rules of handling: working-day calendar, state derivation, the checks of the flow."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kho.errors import WorkflowRefused
from repository.workflow import (
    MAIN_TASK,
    Act,
    Step,
    WorkCalendar,
    check,
    classify,
    derive,
    load_holidays,
    timeliness,
)

CAL = WorkCalendar(frozenset({date(2026, 4, 30), date(2026, 5, 1)}))


def step(seq: int, act: Act, actor: str = "ld", on: str = "2026-03-02", **kw: Any) -> Step:
    return Step("r1", seq, act, actor, "", f"{on}T02:00:00.000000Z", on, **kw)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # Monday, same day
        (date(2026, 3, 2), 4, date(2026, 3, 6)),  # Friday
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday + 1 → Monday (weekend skipped)
        (date(2026, 4, 29), 1, date(2026, 5, 4)),  # 30/4 and 1/5 are holidays, then the weekend
        (date(2026, 4, 29), 2, date(2026, 5, 5)),
    ],
)
def test_working_days_skip_weekends_and_holidays(start: date, days: int, expected: date) -> None:
    assert CAL.add_working_days(start, days) == expected


class _CountingCalendar(WorkCalendar):
    """The calendar, counting the days it looks at one by one."""

    looked: ClassVar[list[date]] = []

    def is_working_day(self, day: date) -> bool:
        type(self).looked.append(day)
        return super().is_working_day(day)


def _walked(cal: WorkCalendar, start: date, end: date) -> int:
    """Working days after ``start`` up to ``end``, looked at one by one."""
    days = range(start.toordinal() + 1, end.toordinal() + 1)
    return sum(cal.is_working_day(date.fromordinal(n)) for n in days)


def test_a_far_deadline_costs_no_more_than_a_near_one() -> None:
    """A lãnh đạo may set any deadline (9999-12-31, or 2062 typed for 2026), and "Việc của tôi",
    the follow-up lists and the reports ask each open task how many working days are left on
    every render. Walking day by day looked at 2,880,000 days for 9999-12-31 (1.7 s of CPU per
    task per page). Counting weeks looks at fewer than 7, and gives the same answer."""
    holidays = load_holidays().holidays
    _CountingCalendar.looked.clear()
    _CountingCalendar(holidays).working_days_left(date(2026, 3, 2), date(9999, 12, 31))
    assert len(_CountingCalendar.looked) < 7
    cal = WorkCalendar(holidays)
    start, far = date(2026, 3, 2), date(2200, 1, 1)
    assert cal.working_days_left(start, far) == _walked(cal, start, far)
    for start in (date(2026, 1, 1), date(2026, 3, 2), date(2026, 4, 29), date(2026, 12, 25)):
        for length in range(0, 400, 3):
            end = date.fromordinal(start.toordinal() + length)
            assert cal.working_days_left(start, end) == _walked(cal, start, end), (start, end)


def test_working_days_left_counts_to_the_deadline_and_negative_once_passed() -> None:
    assert CAL.working_days_left(date(2026, 3, 6), date(2026, 3, 9)) == 1
    assert CAL.working_days_left(date(2026, 3, 9), date(2026, 3, 9)) == 0
    assert CAL.working_days_left(date(2026, 3, 10), date(2026, 3, 9)) == -1


def test_holidays_are_editable_data(tmp_path: Path) -> None:
    shipped = load_holidays()
    assert date(2026, 9, 2) in shipped.holidays and not shipped.is_working_day(date(2026, 9, 2))
    own = tmp_path / "holidays.json"
    own.write_text(json.dumps({"holidays": ["2026-03-03"]}))
    assert not load_holidays(own).is_working_day(date(2026, 3, 3))
    assert load_holidays(own).is_working_day(date(2026, 9, 2))


def _directed() -> list[Step]:
    return [
        step(1, Act.SUBMIT, "vt", users=("ld",)),
        step(2, Act.DIRECT, "ld", task=MAIN_TASK, units=("pth",), deadline="2026-03-10", note="PTH chủ trì"),
        step(3, Act.ASSIGN, "tp", task=MAIN_TASK, users=("cv",)),
    ]


def test_state_is_derived_from_the_steps_in_order() -> None:
    steps = _directed()
    state = derive("r1", list(reversed(steps)))
    assert state.seq == 3 and state.status == "assigned" and state.leaders == ("ld",)
    task = state.task(MAIN_TASK)
    assert task is not None and task.assigner == "ld" and task.handler == "cv" and task.units == ("pth",)
    assert state.participants == {"ld", "cv"}
    assert "PTH chủ trì" in state.trace() and state.trace().count("\n") == 2


def test_a_redirect_replaces_the_lead_and_keeps_the_earlier_direction() -> None:
    steps = [*_directed(), step(4, Act.DIRECT, "ld", task=MAIN_TASK, units=("vp",), deadline="2026-03-12")]
    state = derive("r1", steps)
    task = state.task(MAIN_TASK)
    assert (
        task is not None and task.units == ("vp",) and task.handler == "" and state.deadline == "2026-03-12"
    )
    assert set(state.units) == {"pth", "vp"}  # the earlier unit keeps sight of it
    assert [s.act for s in state.steps].count(Act.DIRECT) == 2


def test_extension_then_completion_counts_on_time_against_the_new_deadline() -> None:
    steps = [
        *_directed(),
        step(4, Act.REQUEST_EXTENSION, "cv", task=MAIN_TASK, deadline="2026-03-17"),
        step(5, Act.DECIDE_EXTENSION, "ld", task=MAIN_TASK, approved=True),
        step(6, Act.ANSWER, "cv", task=MAIN_TASK, ref="a1", ref_label="12/UBND-VP"),
        step(7, Act.REPORT_DONE, "cv", on="2026-03-16", task=MAIN_TASK),
        step(8, Act.APPROVE_DONE, "ld", on="2026-03-16", task=MAIN_TASK),
    ]
    state = derive("r1", steps)
    task = state.task(MAIN_TASK)
    assert task is not None and task.deadline == "2026-03-17" and task.extensions == 1
    assert state.status == "done" and timeliness(task, date(2026, 3, 20), CAL) == "on_time"
    assert classify(state, date(2026, 3, 31), CAL) == "done_on_time"
    late = derive(
        "r1",
        [
            *steps[:3],
            *[s for s in steps[5:7]],
            step(8, Act.APPROVE_DONE, "ld", on="2026-03-12", task=MAIN_TASK),
        ],
    )
    assert classify(late, date(2026, 3, 31), CAL) == "done_late"


def test_a_refused_extension_keeps_the_deadline() -> None:
    steps = [
        *_directed(),
        step(4, Act.REQUEST_EXTENSION, "cv", task=MAIN_TASK, deadline="2026-03-17"),
        step(5, Act.DECIDE_EXTENSION, "ld", task=MAIN_TASK, approved=False),
    ]
    task = derive("r1", steps).task(MAIN_TASK)
    assert task is not None and task.deadline == "2026-03-10" and task.extension is None


@pytest.mark.parametrize(
    ("today", "flag"),
    [
        (date(2026, 3, 2), "open"),
        (date(2026, 3, 6), "due_soon"),
        (date(2026, 3, 10), "due_soon"),
        (date(2026, 3, 11), "overdue"),
    ],
)
def test_timeliness_of_an_open_task(today: date, flag: str) -> None:
    task = derive("r1", _directed()).task(MAIN_TASK)
    assert task is not None and timeliness(task, today, CAL) == flag


def test_a_task_reported_but_never_approved_is_not_finished() -> None:
    state = derive("r1", [*_directed(), step(4, Act.REPORT_DONE, "cv", task=MAIN_TASK)])
    assert state.status == "in_progress"
    assert classify(state, date(2026, 3, 20), CAL) == "open_overdue"


@pytest.mark.parametrize(
    ("new", "today", "code"),
    [
        (
            step(4, Act.DIRECT, task=MAIN_TASK, units=("pth",), deadline="2026-03-01"),
            date(2026, 3, 2),
            "DEADLINE_IN_PAST",
        ),
        (step(4, Act.DIRECT, task=MAIN_TASK, units=("pth",)), date(2026, 3, 2), "DEADLINE_REQUIRED"),
        (step(4, Act.DIRECT, task=MAIN_TASK, deadline="2026-03-09"), date(2026, 3, 2), "TARGET_REQUIRED"),
        (
            step(4, Act.REQUEST_EXTENSION, "cv", task=MAIN_TASK, deadline="2026-03-20"),
            date(2026, 3, 11),
            "EXTENSION_TOO_LATE",
        ),
        (
            step(4, Act.REQUEST_EXTENSION, "cv", task=MAIN_TASK, deadline="2026-03-09"),
            date(2026, 3, 3),
            "EXTENSION_DATE_INVALID",
        ),
        (
            step(4, Act.DECIDE_EXTENSION, task=MAIN_TASK, approved=True),
            date(2026, 3, 3),
            "NO_EXTENSION_PENDING",
        ),
        (step(4, Act.APPROVE_DONE, task=MAIN_TASK), date(2026, 3, 3), "TASK_NOT_REPORTED"),
        (step(4, Act.PROGRESS, "cv", task="9"), date(2026, 3, 3), "TASK_NOT_FOUND"),
        (
            step(4, Act.ASSIGN, "tp", task=MAIN_TASK, users=("cv2",), deadline="2026-03-11"),
            date(2026, 3, 3),
            "DEADLINE_AFTER_DIRECTION",
        ),
        (
            step(4, Act.OUTGOING_STATUS, "vt", organ="Sở Nội vụ", code="07"),
            date(2026, 3, 3),
            "STATUS_CODE_UNKNOWN",
        ),
        (step(4, Act.ANSWER, "cv", task=MAIN_TASK), date(2026, 3, 3), "ANSWER_REQUIRED"),
    ],
)
def test_the_flow_refuses_with_a_code(new: Step, today: date, code: str) -> None:
    with pytest.raises(WorkflowRefused) as info:
        check(derive("r1", _directed()), new, today)
    assert info.value.code == code and info.value.message


def test_no_completion_without_an_answer_and_nothing_after_the_end() -> None:
    reported = derive("r1", [*_directed(), step(4, Act.REPORT_DONE, "cv", task=MAIN_TASK)])
    with pytest.raises(WorkflowRefused) as info:
        check(reported, step(5, Act.APPROVE_DONE, task=MAIN_TASK), date(2026, 3, 3))
    assert info.value.code == "ANSWER_MISSING"
    filed = derive("r1", [*_directed(), step(4, Act.FILE_ONLY, "cv")])
    assert filed.status == "file_only"
    with pytest.raises(WorkflowRefused) as info:
        check(filed, step(5, Act.PROGRESS, "cv", task=MAIN_TASK), date(2026, 3, 3))
    assert info.value.code == "HANDLING_FINISHED"


def test_a_step_round_trips_through_its_stored_form() -> None:
    s = step(2, Act.DIRECT, task=MAIN_TASK, units=("pth",), cooperate_units=("vp",), deadline="2026-03-10")
    assert Step.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_a_task_stored_with_a_number_no_step_may_give_any_more_does_not_break_the_reading() -> None:
    """Before TASK_ID_INVALID, a further task numbered "x" was stored: ordering the tasks by
    int() then failed on every reading of the document's handling. It is listed last."""
    steps = [
        step(1, Act.DIRECT, task=MAIN_TASK, units=("pth",), deadline="2026-03-10"),
        step(2, Act.ADD_TASK, task="x", units=("vp",), content="c", deadline="2026-03-11"),
        step(3, Act.ADD_TASK, task="2", units=("vp",), content="d", deadline="2026-03-12"),
    ]
    assert [t.task_id for t in derive("r1", steps).tasks] == ["1", "2", "x"]
