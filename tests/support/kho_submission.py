"""A hồ sơ of phòng B (``UNIT_B``) with one incoming document, closed and submitted for nộp lưu
by its chuyên viên: what the agency's archive receives from a phòng below it."""

from __future__ import annotations

from datetime import date

from kho_people import UNIT_B, People
from kho_testing import incoming, pdf_bytes

from repository.policy import Action
from repository.records import SYSTEM, Record
from retention.service import FileState
from web.context import Kho


def phong_b_file(kho: Kho, people: People, *, maintenance: str = "05 năm") -> Record:
    """A hồ sơ of phòng B (kept ``maintenance``, opened 05/01/2015) made by its chuyên viên."""
    return kho.repo.create_file(
        {
            "file_notation": "02.PTH",
            "title": "Hồ sơ phòng Tổng hợp",
            "maintenance": maintenance,
            "creator": "Trần Đại Nghĩa",
            "start_date": "2015-01-05",
            "unit": UNIT_B,
        },
        people.actor("chuyen_vien_b"),
    )


def submitted_by_phong_b(kho: Kho, people: People, *, maintenance: str = "05 năm") -> Record:
    officer_b = people.actor("chuyen_vien_b")
    file = phong_b_file(kho, people, maintenance=maintenance)
    doc = kho.repo.create_document(
        "den",
        incoming(code_number="9913", issued_date="2015-03-02"),
        pdf_bytes("b-9913"),
        "b.pdf",
        people.actor("van_thu_b"),
    )
    file = kho.repo.add_to_file(file.record_id, doc.record_id, expected_version=file.version, actor=officer_b)
    file = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=officer_b
    )
    return kho.retention.submit(file.record_id, expected_version=file.version, actor=officer_b)


def taken_in(kho: Kho, submitted: Record, *, archived_at: str | None = None) -> Record:
    """The submitted hồ sơ taken in by the archive (``archived``), its state written as the
    take-in writes it, by Kho's own process. The test documents are unsigned, so take-in's own
    checks (:meth:`RetentionService.accept`, tested with signed documents in test_retention.py)
    would refuse them. ``archived_at``: the date of the take-in, written as it writes it (what
    the transfers due are counted from)."""
    return kho.repo.transition_file(
        submitted.record_id,
        expected_version=submitted.version,
        actor=SYSTEM,
        permission=Action.SUBMISSION_REVIEW,
        action="submission:accept",
        state=FileState.ARCHIVED,
        extra={"archived_at": archived_at} if archived_at else None,
    )
