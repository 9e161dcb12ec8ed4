"""Danh mục hồ sơ → lập hồ sơ → kết thúc → nộp lưu, through the retention service on a real
installation (accounts, the in-process pipeline with pyHanko, the store), with a controlled
clock; each bad step refused with its code and Vietnamese message, nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from kho_people import People
from kho_retention import PLAN
from kho_testing import incoming

from kho.errors import KhoError
from retention.service import FileState, RetentionService
from retention.tasks import run_due_alerts
from web.context import Kho


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock(kho: Kho) -> Clock:
    c = Clock(datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    kho.repo.clock = c
    return c


def refused(code: str, call: Callable[[], Any]) -> KhoError:
    with pytest.raises(KhoError) as info:
        call()
    assert info.value.code == code, info.value
    assert info.value.message and info.value.message.isascii() is False, "a Vietnamese message"
    return info.value


def issue_plan(kho: Kho, people: People) -> RetentionService:
    service = kho.retention
    plan = service.draft_plan(PLAN, actor=people.actor("van_thu"))
    refused(
        "PERMISSION_DENIED",
        lambda: service.approve_plan(2026, expected_version=1, actor=people.actor("chuyen_vien")),
    )
    refused(
        "PERMISSION_DENIED",
        lambda: service.approve_plan(2026, expected_version=1, actor=people.actor("van_thu")),
    )
    approved = service.approve_plan(2026, expected_version=plan.version, actor=people.actor("lanh_dao"))
    service.issue_plan(2026, expected_version=approved.version, actor=people.actor("lanh_dao"))
    return service


def register(kho: Kho, people: People, pdf: bytes, number: str, **fields: Any) -> str:
    fields.setdefault("issued_date", "2026-02-01")
    fields.setdefault("arrival_date", "2026-02-05")
    record = kho.receive.receive_and_register(
        pdf, f"cv{number}.pdf", "den", incoming(code_number=number, **fields), people.actor("van_thu")
    )
    return record.record_id


def test_a_year_from_the_plan_to_the_archive(
    kho: Kho, people: People, signed: dict[str, bytes], clock: Clock
) -> None:
    service = issue_plan(kho, people)
    assert service.plan(2026).state.value == "issued"
    worker, archivist = people.actor("chuyen_vien"), people.actor("luu_tru")

    file = service.open_file(2026, "01.th", actor=worker)
    clock.set(date(2026, 2, 10))
    md = file.metadata
    assert md.file_code == "000.00.18.H40.2026.01.TH" and md.maintenance == "20 năm"  # type: ignore[union-attr]
    first = register(kho, people, signed["valid"], "101", issued_date="2026-02-02")
    second = register(kho, people, signed["valid-2"], "102", issued_date="2026-01-20")
    for doc in (first, second):
        file = kho.repo.add_to_file(file.record_id, doc, expected_version=file.version, actor=worker)
    other = service.open_file(2026, "02.TH", actor=worker)
    other = kho.repo.add_to_file(other.record_id, first, expected_version=other.version, actor=worker)
    assert set(kho.repo.files_of(first)) == {file.record_id, other.record_id}, (
        "one document, two hồ sơ, no copy"
    )
    assert kho.repo._load(first).metadata.page_amount is None  # type: ignore[union-attr]

    clock.set(date(2026, 3, 20))
    closed = service.close_file(
        file.record_id, end_date=date(2026, 3, 15), expected_version=file.version, actor=worker
    )
    assert closed.state == FileState.CLOSED and closed.extra["doc_total"] == 2
    assert closed.extra["page_total"] == 2, "PageAmount filled from the PDFs"
    assert kho.repo._load(first).metadata.page_amount == 1  # type: ignore[union-attr]
    _, docs = service.catalogue(file.record_id, actor=worker)
    assert [d.record_id for d in docs] == [first, second]
    xml = service.export_file_xml(file.record_id, actor=worker)
    assert xml.index(b"<CodeNumber>102<") < xml.index(b"<CodeNumber>101<"), "chronological"

    late = kho.repo.create_document(
        "den",
        incoming(code_number="103", issued_date="2026-03-01", arrival_date="2026-03-02"),
        None,
        None,
        people.actor("van_thu"),
    ).record_id
    refused(
        "FILE_CLOSED",
        lambda: kho.repo.add_to_file(closed.record_id, late, expected_version=closed.version, actor=worker),
    )
    refused(
        "REASON_REQUIRED",
        lambda: service.reopen_file(
            closed.record_id, reason=" ", expected_version=closed.version, actor=worker
        ),
    )
    reopened = service.reopen_file(
        closed.record_id, reason="Bổ sung văn bản", expected_version=closed.version, actor=worker
    )
    assert reopened.state == FileState.OPEN
    closed = service.close_file(
        file.record_id, end_date=date(2026, 3, 15), expected_version=reopened.version, actor=worker
    )

    # Alerts: 30 days before the due date (15/03/2027), by the real beat task's body.
    clock.set(date(2027, 2, 12))
    assert run_due_alerts(kho.accounts, kho.retention) == []
    clock.set(date(2027, 2, 13))
    sent = run_due_alerts(kho.accounts, kho.retention)
    assert [a.file_id for a in sent] == [closed.record_id] and sent[0].due == date(2027, 3, 15)
    assert run_due_alerts(kho.accounts, kho.retention) == [], "each alert is sent once"
    for who in ("chuyen_vien", "luu_tru"):
        notes = kho.accounts.notifications(people.usernames[who])
        assert any(n.kind == "retention:due" and "15/03/2027" in n.message for n in notes), who
    assert [a.file_id for a in service.alerts(actor=worker)] == [closed.record_id]
    assert service.alerts(actor=people.actor("chuyen_vien_b")) == []

    refused(
        "FILE_NOT_CLOSED",
        lambda: service.submit(other.record_id, expected_version=other.version, actor=worker),
    )
    submitted = service.submit(closed.record_id, expected_version=closed.version, actor=worker)
    assert submitted.state == FileState.SUBMITTED
    assert [f.record_id for f in service.inbox(actor=archivist)] == [closed.record_id]
    refused("PERMISSION_DENIED", lambda: service.inbox(actor=worker))
    refused(
        "PERMISSION_DENIED",
        lambda: service.accept(closed.record_id, expected_version=submitted.version, actor=worker),
    )
    refused(
        "REASON_REQUIRED",
        lambda: service.return_file(
            closed.record_id, reason="", expected_version=submitted.version, actor=archivist
        ),
    )
    returned = service.return_file(
        closed.record_id,
        reason="Thiếu văn bản phê duyệt",
        expected_version=submitted.version,
        actor=archivist,
    )
    assert returned.state == FileState.CLOSED
    assert service.submission_of(returned)["history"][-1]["reason"] == "Thiếu văn bản phê duyệt"
    again = service.submit(closed.record_id, expected_version=returned.version, actor=worker)
    review = service.review(closed.record_id, actor=archivist)
    assert review.passed, review.checks
    accepted = service.accept(closed.record_id, expected_version=again.version, actor=archivist)
    assert accepted.state == FileState.ARCHIVED
    assert [s["state"] for s in service.submission_of(accepted)["history"]] == [
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]
    assert service.alerts(actor=worker) == []
    refused(
        "FILE_STATE_INVALID",
        lambda: kho.repo.update_metadata(
            accepted.record_id, {"title": "Đổi tên"}, expected_version=accepted.version, actor=worker
        ),
    )
    actions = [e.action for e in kho.repo.audit.events()]
    for step in (
        "plan:draft",
        "plan:approve",
        "plan:issue",
        "file:close",
        "file:reopen",
        "retention:alert",
        "submission:submit",
        "submission:return",
        "submission:accept",
    ):
        assert step in actions, step
    assert kho.repo.audit_verify(actor=people.actor("kiem_toan")).ok
    from repository.fsck import check_formats, fsck

    assert check_formats(kho.repo) == [], "plans, schedule and submission states load as stored"
    assert fsck(kho.repo).clean, fsck(kho.repo).issues


def test_closing_with_an_unregistered_document_is_refused_and_writes_nothing(
    kho: Kho, people: People, signed: dict[str, bytes], clock: Clock
) -> None:
    service = issue_plan(kho, people)
    worker = people.actor("chuyen_vien")
    file = service.open_file(2026, "01.TH", actor=worker)
    clock.set(date(2026, 2, 10))  # registered after it came on 05/02 (a ngày đến is not in the future)
    registered = register(kho, people, signed["valid"], "201")
    waiting = kho.receive.receive(
        signed["valid-2"], "cho.pdf", "den", people.actor("van_thu")
    ).record.record_id
    for doc in (registered, waiting):
        file = kho.repo.add_to_file(file.record_id, doc, expected_version=file.version, actor=worker)
    clock.set(date(2026, 3, 20))
    before = len(list(kho.repo.audit.events()))
    error = refused(
        "DOCUMENT_NOT_REGISTERED",
        lambda: service.close_file(
            file.record_id, end_date=date(2026, 3, 15), expected_version=file.version, actor=worker
        ),
    )
    assert "chưa được vào sổ" in error.message
    assert (
        kho.repo._load(file.record_id).version == file.version
        and kho.repo._load(file.record_id).state == "active"
    )
    assert kho.repo._load(registered).metadata.page_amount is None, "no page count written either"  # type: ignore[union-attr]
    assert not [
        e for e in list(kho.repo.audit.events())[before:] if e.action in ("file:close", "record:update")
    ]
    refused(
        "NOT_FOUND",  # another unit's chuyên viên may not know of the hồ sơ (a15)
        lambda: service.close_file(
            file.record_id,
            end_date=date(2026, 3, 15),
            expected_version=file.version,
            actor=people.actor("chuyen_vien_b"),
        ),
    )


def test_bad_plan_steps_are_refused_with_their_codes(kho: Kho, people: People, clock: Clock) -> None:
    service = kho.retention
    refused("PERMISSION_DENIED", lambda: service.draft_plan(PLAN, actor=people.actor("chuyen_vien")))
    bad = {**PLAN, "items": [{**PLAN["items"][0], "notation": "1.TH"}]}
    refused("PLAN_NOTATION_INVALID", lambda: service.draft_plan(bad, actor=people.actor("van_thu")))
    assert service.plan_years() == [], "nothing written"
    clock.set(date(2028, 2, 1))
    plan = service.draft_plan(PLAN, actor=people.actor("luu_tru"))
    refused("PLAN_NOT_ISSUED", lambda: service.open_file(2026, "01.TH", actor=people.actor("chuyen_vien")))
    approved = service.approve_plan(2026, expected_version=plan.version, actor=people.actor("lanh_dao"))
    refused(
        "VERSION_CONFLICT",
        lambda: service.issue_plan(2026, expected_version=plan.version, actor=people.actor("lanh_dao")),
    )
    refused(
        "PLAN_DUE_DATE_PAST",
        lambda: service.issue_plan(2026, expected_version=approved.version, actor=people.actor("lanh_dao")),
    )
    assert service.plan(2026).state.value == "approved", "not issued"


def test_the_schedule_is_edited_by_an_admin_as_a_new_audited_version(kho: Kho, people: People) -> None:
    service = kho.retention
    current = service.schedule()
    entries = [e.to_dict() for e in current.entries] + [
        {
            "code": "VP.09",
            "title": "Hồ sơ hội nghị tổng kết",
            "maintenance": "Vĩnh viễn",
            "keywords": ["hội nghị"],
        }
    ]
    refused(
        "PERMISSION_DENIED",
        lambda: service.edit_schedule(entries, expected_version=1, note="x", actor=people.actor("luu_tru")),
    )
    refused(
        "REASON_REQUIRED",
        lambda: service.edit_schedule(entries, expected_version=1, note="", actor=people.actor("quan_tri")),
    )
    refused(
        "RETENTION_INVALID",
        lambda: service.edit_schedule(
            [{**entries[0], "maintenance": "?"}], expected_version=1, note="x", actor=people.actor("quan_tri")
        ),
    )
    new = service.edit_schedule(
        entries, expected_version=1, note="Theo TT 10/2022", actor=people.actor("quan_tri")
    )
    assert new.version == 2 and service.schedule().version == 2
    assert service.propose("Hội nghị tổng kết ngành").code == "VP.09"  # type: ignore[union-attr]
    refused(
        "VERSION_CONFLICT",
        lambda: service.edit_schedule(entries, expected_version=1, note="x", actor=people.actor("quan_tri")),
    )
    assert any(e.action == "retention:schedule-edit" for e in kho.repo.audit.events())


def test_keeping_a_due_file_needs_the_head_and_at_most_two_years_and_a_leaver_hands_over(
    kho: Kho, people: People, signed: dict[str, bytes], clock: Clock
) -> None:
    service = issue_plan(kho, people)
    worker = people.actor("chuyen_vien")
    file = service.open_file(2026, "03.TCCB", actor=worker)
    clock.set(date(2026, 2, 10))  # registered after it came on 05/02 (a ngày đến is not in the future)
    file = kho.repo.add_to_file(
        file.record_id,
        register(kho, people, signed["valid"], "301"),
        expected_version=file.version,
        actor=worker,
    )
    clock.set(date(2026, 3, 20))
    file = service.close_file(
        file.record_id, end_date=date(2026, 3, 15), expected_version=file.version, actor=worker
    )
    clock.set(date(2027, 3, 1))
    keep = {"reason": "Còn giải quyết khiếu nại", "expected_version": file.version}
    refused(
        "PERMISSION_DENIED",
        lambda: service.keep(file.record_id, until=date(2028, 1, 1), actor=worker, **keep),
    )
    refused(
        "KEEP_TOO_LONG",
        lambda: service.keep(file.record_id, until=date(2029, 3, 16), actor=people.actor("lanh_dao"), **keep),
    )
    kept = service.keep(file.record_id, until=date(2029, 3, 15), actor=people.actor("lanh_dao"), **keep)
    assert kept.extra["kept_until"] == "2029-03-15"
    clock.set(date(2027, 4, 1))
    assert service.all_alerts() == [], "kept with an approval: no alert"
    moved = service.handover(
        people.usernames["chuyen_vien"], people.usernames["luu_tru"], actor=people.actor("lanh_dao")
    )
    assert moved == [file.record_id]
    assert service.holder(kho.repo._load(file.record_id)) == people.usernames["luu_tru"]


def test_a_handover_names_an_existing_account(client: Any, kho: Kho, people: People, clock: Clock) -> None:
    """A handover grants each hồ sơ to the successor and makes them its holder: like every
    grant (t1), it names an existing account, as stored (422 GRANT_USER_UNKNOWN, nothing
    written), or the hồ sơ would wait for whoever is later created under that name."""
    service = issue_plan(kho, people)
    file = service.open_file(2026, "01.th", actor=people.actor("chuyen_vien"))
    head, leaver = people.headers("lanh_dao"), people.usernames["chuyen_vien"]
    ghost = client.post("/api/retention/handover", json={"from": leaver, "to": "hainv.ubnd"}, headers=head)
    assert ghost.status_code == 422 and ghost.json["error"]["code"] == "GRANT_USER_UNKNOWN", ghost.json
    stored = kho.repo._load(file.record_id)
    assert (service.holder(stored), stored.grant_users, stored.version) == (leaver, (), file.version)
    successor = people.usernames["luu_tru"]
    body = {"from": leaver, "to": successor.upper()}
    moved = client.post("/api/retention/handover", json=body, headers=head)
    assert moved.status_code == 200 and moved.json["moved"] == [file.record_id], moved.json
    stored = kho.repo._load(file.record_id)
    assert (service.holder(stored), stored.grant_users) == (successor, (successor,))


def test_the_api_refuses_the_wrong_role_bad_input_and_runs_the_plan(
    client: Any, kho: Kho, people: People, clock: Clock
) -> None:
    drafted = client.post("/api/plans", json=PLAN, headers=people.headers("van_thu"))
    assert drafted.status_code == 201 and drafted.json["state"] == "draft"
    assert drafted.json["footer"] == {"permanent": 0, "years": 3, "until_superseded": 0, "total": 3}
    wrong = client.post(
        "/api/plans/2026/approve", json={"expected_version": 1}, headers=people.headers("chuyen_vien")
    )
    assert wrong.status_code == 403 and wrong.json["error"]["code"] == "PERMISSION_DENIED"
    bad = client.post(
        "/api/plans/2026/approve", json={"expected_version": "1"}, headers=people.headers("lanh_dao")
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "FIELD_INVALID"
    again = client.post("/api/plans", json={**PLAN, "year": "x"}, headers=people.headers("van_thu"))
    assert again.status_code == 422 and again.json["error"]["code"] == "PLAN_YEAR_INVALID"
    ok = client.post(
        "/api/plans/2026/approve", json={"expected_version": 1}, headers=people.headers("lanh_dao")
    )
    assert ok.status_code == 200 and ok.json["state"] == "approved" and ok.json["approved_by"]
    issued = client.post(
        "/api/plans/2026/issue", json={"expected_version": 2}, headers=people.headers("lanh_dao")
    )
    assert issued.json["state"] == "issued"
    opened = client.post(
        "/api/plans/2026/files", json={"notation": "02.TH"}, headers=people.headers("chuyen_vien")
    )
    assert opened.status_code == 201 and opened.json["state_label"] == "Đang lập"
    check = client.get(
        f"/api/files/{opened.json['record_id']}/closing?end_date=2026-01-05",
        headers=people.headers("chuyen_vien"),
    )
    assert check.json["blocked"] and check.json["findings"][0]["code"] == "FILE_EMPTY"
    closing = client.post(
        f"/api/files/{opened.json['record_id']}/close",
        json={"end_date": "05/01/2026", "expected_version": 1},
        headers=people.headers("chuyen_vien"),
    )
    assert closing.status_code == 422 and closing.json["error"]["code"] == "DATE_INVALID"
    inbox = client.get("/api/submissions", headers=people.headers("chuyen_vien"))
    assert inbox.status_code == 403
    assert client.get("/api/submissions", headers=people.headers("luu_tru")).json["total"] == 0


def test_the_cli_drafts_approves_issues_prints_and_opens(people: People, tmp_path: Any) -> None:
    import json

    from click.testing import CliRunner
    from kho_people import PASSWORD

    from web.cli import main

    runner = CliRunner()

    def as_(who: str) -> None:
        login = runner.invoke(
            main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n"
        )
        assert login.exit_code == 0, login.output

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({**PLAN, "year": 2099}, ensure_ascii=False), encoding="utf-8")
    as_("van_thu")
    drafted = runner.invoke(main, ["plan", "draft", str(plan_file)])
    assert drafted.exit_code == 0 and "Dự thảo" in drafted.output, drafted.output
    own = runner.invoke(main, ["plan", "approve", "2099", "--expected-version", "1"])
    assert own.exit_code == 2 and "[PERMISSION_DENIED]" in own.output
    as_("lanh_dao")
    assert runner.invoke(main, ["plan", "approve", "2099", "--expected-version", "1"]).exit_code == 0
    issued = runner.invoke(main, ["plan", "issue", "2099", "--expected-version", "2", "--json"])
    assert json.loads(issued.output)["state"] == "issued"
    pdf, xlsx = tmp_path / "dm.pdf", tmp_path / "dm.xlsx"
    assert runner.invoke(main, ["plan", "export", "2099", "-o", str(pdf)]).exit_code == 0
    assert runner.invoke(main, ["plan", "export", "2099", "--format", "xlsx", "-o", str(xlsx)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.read_bytes().startswith(b"PK")
    from openpyxl import load_workbook

    cells = [c for row in load_workbook(xlsx).active.iter_rows(values_only=True) for c in row if c]
    assert "01.TH" in cells and any("03 hồ sơ" in str(c) for c in cells), "rows and footer counts"
    as_("chuyen_vien")
    opened = runner.invoke(main, ["plan", "open", "2099", "03.TCCB", "--start-date", "2026-02-01", "--json"])
    assert opened.exit_code == 0, opened.output
    file_id = json.loads(opened.output)["record_id"]
    refused_close = runner.invoke(
        main, ["file", "close", file_id, "--end-date", "2026-02-02", "--expected-version", "1"]
    )
    assert refused_close.exit_code == 2 and "[FILE_EMPTY]" in refused_close.output
    bad = runner.invoke(
        main, ["file", "close", file_id, "--end-date", "02/02/2026", "--expected-version", "1"]
    )
    assert "[DATE_INVALID]" in bad.output
    xml = tmp_path / "hs.xml"
    assert (
        runner.invoke(main, ["file", "catalogue", file_id, "--format", "xml", "-o", str(xml)]).exit_code == 0
    )
    assert b"<FileNotation>03.TCCB</FileNotation>" in xml.read_bytes()


def test_nobody_accepts_their_own_submission_and_a_stale_accept_conflicts(
    kho: Kho, people: People, signed: dict[str, bytes], clock: Clock
) -> None:
    service = issue_plan(kho, people)
    archivist = people.actor("luu_tru")
    file = service.open_file(2026, "01.TH", actor=archivist)
    clock.set(date(2026, 2, 10))
    file = kho.repo.add_to_file(
        file.record_id,
        register(kho, people, signed["valid"], "401"),
        expected_version=file.version,
        actor=archivist,
    )
    clock.set(date(2026, 3, 20))
    file = service.close_file(
        file.record_id, end_date=date(2026, 3, 15), expected_version=file.version, actor=archivist
    )
    file = service.submit(file.record_id, expected_version=file.version, actor=archivist)
    refused(
        "SUBMISSION_SELF_ACCEPT",
        lambda: service.accept(file.record_id, expected_version=file.version, actor=archivist),
    )
    assert kho.repo._load(file.record_id).state == FileState.SUBMITTED, "nothing written"
    other = _second_archivist(kho, people)
    refused(
        "VERSION_CONFLICT",
        lambda: service.return_file(
            file.record_id, reason="Thiếu văn bản", expected_version=file.version - 1, actor=other
        ),
    )
    accepted = service.accept(file.record_id, expected_version=file.version, actor=other)
    assert accepted.state == FileState.ARCHIVED
    # The slower of two archivists: the hồ sơ is no longer waiting (a write racing past that
    # check loses on its version: put_if_absent).
    refused(
        "SUBMISSION_STATE_INVALID",
        lambda: service.accept(file.record_id, expected_version=file.version, actor=other),
    )


def _second_archivist(kho: Kho, people: People) -> Any:
    """Another lưu trữ viên of the agency (created through the account service)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    account, _ = kho.accounts.create_account("Trần Văn Lưu", "000.00.18.H40", ("luu_tru",), 0, None, admin)
    return kho.actor_of(account, "test")


def test_the_beat_entry_names_the_registered_alert_task() -> None:
    import retention.tasks  # noqa: F401 - the worker imports it through app.conf.include
    from ingest.celery_app import app

    entry = app.conf.beat_schedule["due-alerts"]
    assert entry["task"] == "kho.retention.due_alerts" and entry["task"] in app.tasks
    assert "retention.tasks" in app.conf.include


def test_the_daily_alert_task_runs_on_the_service_layer_alone(env: dict[str, str]) -> None:
    """The beat task opens the repository, accounts and retention service itself: no web layer."""
    import os
    import subprocess
    import sys

    probe = (
        "import sys, retention.tasks as t\n"
        "print(t.due_alerts())\n"
        "print(sorted(m for m in ('flask', 'web.app', 'web.context') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0", "[]"]
