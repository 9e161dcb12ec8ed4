"""Permanent hồ sơ pass to the Lưu trữ lịch sử within 5 years of nộp lưu (Luật Lưu trữ 2024):
the pure due-date rule and the listing the archivist sees."""

from __future__ import annotations

from datetime import date

from repository.metadata import MAINTENANCE_PERMANENT
from retention.sip import transfer_due, transfers_due


def test_the_deadline_is_five_years_after_nop_luu_and_29_february_falls_back() -> None:
    assert transfer_due(date(2027, 3, 15)) == date(2032, 3, 15)
    assert transfer_due(date(2028, 2, 29)) == date(2033, 2, 28)


def test_only_permanent_untransferred_files_due_within_the_horizon_are_listed_most_urgent_first() -> None:
    files = [
        ("a", "01.TH", "Vĩnh viễn, quá hạn", MAINTENANCE_PERMANENT, date(2026, 1, 10)),
        ("b", "02.TH", "Vĩnh viễn, còn 3 tháng", MAINTENANCE_PERMANENT, date(2026, 9, 1)),
        ("c", "03.TH", "Vĩnh viễn, còn 4 năm", MAINTENANCE_PERMANENT, date(2030, 1, 1)),
        ("d", "04.TH", "20 năm", "20 năm", date(2025, 1, 1)),
        ("e", "05.TH", "Đã nộp", MAINTENANCE_PERMANENT, date(2025, 1, 1)),
        ("f", "06.TH", "Chưa có ngày nộp lưu", MAINTENANCE_PERMANENT, None),
    ]
    due = transfers_due(files, transferred={"e"}, today=date(2031, 6, 1))
    assert [(d.record_id, d.due, d.overdue) for d in due] == [
        ("a", date(2031, 1, 10), True),
        ("b", date(2031, 9, 1), False),
    ]
    overdue_only = transfers_due(files, transferred={"e"}, today=date(2031, 6, 1), horizon_days=0)
    assert [d.record_id for d in overdue_only] == ["a"]
