"""The retention rules are pure functions: periods, the schedule, the file plan, closing checks,
nộp lưu due dates, alerts, keeping and the lưu trữ viên's checks — each with a clock given."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from kho.errors import KhoError, ValidationFailed
from retention import fileplan, submission
from retention.closing import ClosingRefused, DocumentFacts, catalogue, check_closing, file_xml
from retention.fileplan import PlanState
from retention.schedule import (
    Retention,
    RetentionKind,
    default_schedule,
    parse_entries,
    parse_retention,
    propose,
)
from retention.submission import AlertLevel, DocumentEvidence, DueItem, due_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vĩnh viễn", Retention(RetentionKind.PERMANENT)),
        ("vĩnh viễn", Retention(RetentionKind.PERMANENT)),
        ("20 năm", Retention(RetentionKind.YEARS, 20)),
        ("5năm", Retention(RetentionKind.YEARS, 5)),
        ("Đến khi văn bản hết hiệu lực", Retention(RetentionKind.UNTIL_SUPERSEDED)),
    ],
)
def test_a_retention_period_reads_its_three_forms(text: str, expected: Retention) -> None:
    assert parse_retention(text) == expected


@pytest.mark.parametrize("text", ["", "mãi mãi", "0 năm", "100 năm", "20 tháng"])
def test_a_bad_retention_period_is_refused_with_its_code(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_retention(text)
    assert info.value.code == "RETENTION_INVALID"
    assert "Thời hạn bảo quản" in info.value.message


def test_periods_compare_permanent_longest_and_until_superseded_only_to_itself() -> None:
    perm, y20, y5 = parse_retention("Vĩnh viễn"), parse_retention("20 năm"), parse_retention("05 năm")
    until = parse_retention("Đến khi văn bản hết hiệu lực")
    assert perm.at_least(y20) and y20.at_least(y5) and not y5.at_least(y20)
    assert not y20.at_least(perm) and not until.at_least(y5) and until.at_least(until)
    assert y5.label == "05 năm" and perm.label == "Vĩnh viễn"


def test_the_shipped_schedule_proposes_periods_from_a_title() -> None:
    schedule = default_schedule()
    assert schedule.version == 1 and len(schedule.entries) >= 10
    assert propose(schedule, "Báo cáo tổng kết năm 2026 của Ủy ban").retention.permanent
    tender = propose(schedule, "HỒ SƠ ĐẤU THẦU MUA SẮM THIẾT BỊ")
    assert tender is not None and tender.retention == Retention(RetentionKind.YEARS, 20)
    assert propose(schedule, "Ho so bo nhiem can bo") is not None, "accents are optional"
    assert propose(schedule, "Xyz không liên quan") is None


def test_a_schedule_edit_with_bad_rows_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_entries(
            [
                {"code": "A", "title": "Một", "maintenance": "10 năm"},
                {"code": "A", "title": "Hai", "maintenance": "10 năm"},
                {"code": "B", "title": "Ba", "maintenance": "mãi"},
                "x",
            ]
        )
    codes = [e.code for e in info.value.errors]
    assert codes == ["SCHEDULE_CODE_DUPLICATE", "RETENTION_INVALID", "SCHEDULE_INVALID"]
    with pytest.raises(ValidationFailed) as empty:
        parse_entries([])
    assert empty.value.code == "SCHEDULE_INVALID"


def plan_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "year": 2026,
        "headings": [
            {"number": "I", "title": "Tổng hợp", "abbreviation": "TH"},
            {"number": "II", "title": "Tổ chức cán bộ", "abbreviation": "TCCB"},
        ],
        "items": [
            {
                "notation": "01.TH",
                "title": "Báo cáo tổng kết năm",
                "maintenance": "Vĩnh viễn",
                "creator": "Văn phòng",
                "heading": "I",
            },
            {
                "notation": "02.TH",
                "title": "Công văn trao đổi chung",
                "maintenance": "10 năm",
                "creator": "Văn phòng",
                "heading": "I",
            },
            {
                "notation": "03.TCCB",
                "title": "Hồ sơ bổ nhiệm",
                "maintenance": "70 năm",
                "creator": "Phòng TCCB",
                "heading": "II",
                "note": "mật",
            },
        ],
    }
    raw.update(overrides)
    return raw


def test_a_plan_numbers_its_files_across_or_within_large_headings() -> None:
    plan = fileplan.parse_plan(plan_raw(), organ_id="000.00.18.H40")
    assert [i.notation for i in plan.items] == ["01.TH", "02.TH", "03.TCCB"]
    assert plan.footer == {"permanent": 1, "years": 2, "until_superseded": 0, "total": 3}
    rows = fileplan.plan_rows(plan)
    assert rows[0] == ("", "I. TỔNG HỢP", "", "", "") and rows[-1][0] == "03.TCCB"
    within = plan_raw()
    within["items"][2]["notation"] = "01.TCCB"
    assert fileplan.parse_plan(within, organ_id="x").items[2].number == 1
    assert fileplan.footer_lines(plan)[0].endswith("03 hồ sơ, bao gồm:")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: r["items"][0].update(notation="1-TH"), "PLAN_NOTATION_INVALID"),
        (lambda r: r["items"][0].update(notation="01.TCCB"), "PLAN_NOTATION_INVALID"),
        (lambda r: r["items"][1].update(notation="01.TH"), "PLAN_NOTATION_DUPLICATE"),
        (lambda r: r["items"][2].update(notation="05.TCCB"), "PLAN_NUMBERING_INVALID"),
        (lambda r: r["items"][0].update(heading="IX"), "PLAN_HEADING_UNKNOWN"),
        (lambda r: r["items"][0].update(maintenance="lâu"), "RETENTION_INVALID"),
        (lambda r: r["headings"][0].update(number="A"), "PLAN_HEADING_NUMBER_INVALID"),
        (lambda r: r.update(year="2026"), "PLAN_YEAR_INVALID"),
        (lambda r: r.update(items=[]), "PLAN_ITEMS_REQUIRED"),
    ],
)
def test_a_bad_plan_is_refused_with_the_code_of_its_problem(change: Any, code: str) -> None:
    raw = plan_raw()
    change(raw)
    with pytest.raises(ValidationFailed) as info:
        fileplan.parse_plan(raw, organ_id="x")
    assert code in [e.code for e in info.value.errors]


def test_a_plan_is_approved_by_someone_else_then_issued_while_its_due_dates_are_ahead() -> None:
    draft = replace(fileplan.parse_plan(plan_raw(), organ_id="x"), drafted_by="khue")
    with pytest.raises(KhoError) as own:
        fileplan.approve(draft, by="khue", at="t")
    assert own.value.code == "PLAN_SELF_APPROVAL"
    with pytest.raises(KhoError) as early:
        fileplan.issue(draft, by="hung", at="t", today=date(2026, 1, 2))
    assert early.value.code == "PLAN_STATE_INVALID"
    approved = fileplan.approve(draft, by="hung", at="t")
    assert approved.state is PlanState.APPROVED and approved.version == 2
    with pytest.raises(KhoError) as edit:
        fileplan.revise(approved, draft, by="khue", at="t")
    assert edit.value.code == "PLAN_NOT_DRAFT"
    issued = fileplan.issue(approved, by="hung", at="t", today=date(2026, 1, 2))
    assert issued.state is PlanState.ISSUED
    with pytest.raises(KhoError) as past:
        fileplan.issue(approved, by="hung", at="t", today=date(2028, 1, 1))
    assert past.value.code == "PLAN_DUE_DATE_PAST" and "đã qua" in past.value.message
    assert fileplan.plan_from_dict(issued.to_dict()) == replace(issued, extra={})


@pytest.mark.parametrize(
    ("end", "settled", "due", "rule"),
    [
        (date(2026, 3, 15), None, date(2027, 3, 15), "nd30"),
        (date(2026, 12, 31), None, date(2027, 12, 31), "nd30"),
        (date(2024, 2, 29), None, date(2025, 2, 28), "nd30"),
        (date(2026, 3, 15), date(2026, 5, 31), date(2026, 8, 31), "xdcb"),
        (date(2026, 3, 15), date(2027, 11, 30), date(2027, 12, 31), "luat2024"),
    ],
)
def test_the_due_date_is_the_stricter_of_the_decree_and_the_law(
    end: date, settled: date | None, due: date, rule: str
) -> None:
    result = due_date(end, settled=settled)
    assert (result.due, result.rule) == (due, rule)
    assert result.alert_from == date.fromordinal(due.toordinal() - 30)


def test_alerts_start_30_days_before_the_due_date() -> None:
    item = DueItem("f1", date(2026, 3, 15), title="Hồ sơ A")
    assert submission.alert_for(item, date(2027, 2, 12)).level is AlertLevel.NOT_DUE
    soon = submission.alert_for(item, date(2027, 2, 13))
    assert soon.level is AlertLevel.SOON and soon.days_left == 30 and "15/03/2027" in soon.message
    assert submission.alert_for(item, date(2027, 3, 16)).level is AlertLevel.OVERDUE
    kept = replace(item, kept_until=date(2028, 1, 1))
    assert submission.alert_for(kept, date(2027, 6, 1)).level is AlertLevel.KEPT
    assert submission.alert_for(kept, date(2028, 1, 2)).level is AlertLevel.KEEP_EXPIRED
    raised = submission.due_alerts(
        [item, replace(item, file_id="f0", end_date=date(2026, 1, 1))], date(2027, 2, 20)
    )
    assert [a.file_id for a in raised] == ["f0", "f1"], "overdue first"


def test_keeping_a_due_file_is_limited_to_two_years() -> None:
    end = date(2026, 3, 15)
    assert submission.check_keep(end, date(2029, 3, 15), date(2027, 3, 1)) == date(2029, 3, 15)
    with pytest.raises(KhoError) as long:
        submission.check_keep(end, date(2029, 3, 16), date(2027, 3, 1))
    assert long.value.code == "KEEP_TOO_LONG" and "02 năm" in long.value.message
    with pytest.raises(KhoError) as before:
        submission.check_keep(end, date(2027, 3, 1), date(2027, 2, 1))
    assert before.value.code == "KEEP_INVALID"


def doc(record_id: str, **fields: Any) -> DocumentFacts:
    base = {
        "so_ky_hieu": f"{record_id}/UBND-VP",
        "issued_date": date(2026, 2, 1),
        "type_name": "Công văn",
        "subject": "Về việc A",
        "organ_name": "UBND tỉnh",
        "page_amount": 2,
    }
    registered = fields.pop("registered", True)
    draft = fields.pop("draft", False)
    dup = fields.pop("dup", None)
    return DocumentFacts(record_id, registered, "active", {**base, **fields}, dup, draft)


def closing(docs: list[DocumentFacts], **kw: Any) -> Any:
    args: dict[str, Any] = {
        "retention": parse_retention("20 năm"),
        "plan_retention": parse_retention("20 năm"),
        "start_date": date(2026, 1, 5),
        "end_date": date(2026, 3, 15),
        "today": date(2026, 3, 20),
    }
    args.update(kw)
    return check_closing(docs, **args)


def test_closing_blocks_on_unregistered_documents_missing_metadata_and_a_shorter_period() -> None:
    report = closing(
        [
            doc("1"),
            doc("2", registered=False),
            doc("3", subject=""),
            doc("4", dup="k"),
            doc("5", dup="k", draft=True),
        ],
        retention=parse_retention("10 năm"),
    )
    codes = [(f.code, f.blocking) for f in report.findings]
    assert ("DOCUMENT_NOT_REGISTERED", True) in codes
    assert ("DOCUMENT_METADATA_MISSING", True) in codes
    assert ("RETENTION_BELOW_PLAN", True) in codes
    assert ("DOCUMENT_DUPLICATE", False) in codes and ("DOCUMENT_DRAFT", False) in codes
    with pytest.raises(ClosingRefused) as info:
        report.raise_if_blocked()
    assert info.value.code == "RETENTION_BELOW_PLAN" and "Chưa kết thúc được hồ sơ" in info.value.message
    assert len(info.value.details["findings"]) == len(report.findings)
    assert closing([doc("1")]).blocking == ()
    assert closing([]).blocking[0].code == "FILE_EMPTY"
    assert closing([doc("1")], end_date=date(2026, 4, 1)).blocking[0].code == "FILE_END_DATE_INVALID"


def test_the_end_date_is_not_before_the_last_document_of_the_file() -> None:
    """The period runs from the end of the work: not a day before the hồ sơ's last document."""
    docs = [doc("1", issued_date=date(2026, 1, 10)), doc("2", issued_date=date(2026, 3, 2))]
    early = closing(docs, start_date=date(2001, 1, 1), end_date=date(2026, 3, 1)).blocking
    assert [f.code for f in early] == ["FILE_END_BEFORE_DOCUMENTS"] and "02/03/2026" in early[0].message
    assert closing(docs, end_date=date(2026, 3, 2)).blocking == ()


def test_the_catalogue_is_chronological_with_running_page_numbers_and_exports_as_xml() -> None:
    docs = [
        doc("2", issued_date=date(2026, 3, 1), page_amount=3),
        doc("1", page_amount=1),
        doc("3", page_amount=None),
    ]
    rows = catalogue(docs)
    assert [r.record_id for r in rows] == ["1", "3", "2"], "by date, then the order they were added"
    assert [r.pages for r in rows] == ["1", "", "2-4"]
    assert rows[0].cells()[3] == "Công văn: Về việc A"
    xml = file_xml(
        {"OrganId": "000.00.18.H40", "FileCatalog": 2026, "FileNotation": "01.TH", "Title": "Hồ sơ"}, docs
    )
    root = ET.fromstring(xml)
    assert root.findtext("FileCode/FileNotation") == "01.TH"
    assert [d.get("id") for d in root.iter("Document")] == ["1", "3", "2"]
    assert root.find("Documents/Document/PageAmount").text == "1"  # type: ignore[union-attr]
    assert [d.findtext("FileCode/FileNotation") for d in root.iter("Document")] == ["01.TH"] * 3, (
        "every document carries the hồ sơ's code"
    )


def test_the_archivist_checks_fail_on_a_bad_signature_a_changed_file_a_format_and_an_unplanned_file() -> None:
    good = DocumentEvidence("1", "1/UBND", "TOTAL-PASSED", True, "application/pdf")
    checks = submission.run_checks([good], file_notation="01.TH", plan_notations=["01.TH"])
    assert all(c.passed for c in checks)
    bad = [
        DocumentEvidence("2", "2/UBND", "TOTAL-FAILED", True, "application/pdf"),
        DocumentEvidence("3", "3/UBND", "TOTAL-PASSED", False, "image/png"),
    ]
    failed = {
        c.name.value: c.passed
        for c in submission.run_checks(bad, file_notation="09.X", plan_notations=["01.TH"])
    }
    assert failed == {"authenticity": False, "integrity": False, "format": False, "completeness": False}
    with pytest.raises(KhoError) as own:
        submission.check_accept("submitted", submitted_by="chinh", by="chinh", checks=checks)
    assert own.value.code == "SUBMISSION_SELF_ACCEPT"
    with pytest.raises(KhoError) as failing:
        submission.check_accept(
            "submitted",
            submitted_by="chinh",
            by="ha",
            checks=submission.run_checks(bad, file_notation="01.TH", plan_notations=None),
        )
    assert failing.value.code == "SUBMISSION_CHECKS_FAILED"
    with pytest.raises(KhoError) as no_reason:
        submission.check_return("submitted", "   ")
    assert no_reason.value.code == "REASON_REQUIRED"
    with pytest.raises(KhoError) as state:
        submission.check_accept("accepted", submitted_by="chinh", by="ha", checks=checks)
    assert state.value.code == "SUBMISSION_STATE_INVALID"
