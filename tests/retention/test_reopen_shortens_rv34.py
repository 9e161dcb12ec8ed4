"""Reopening is not a way to shorten a closed hồ sơ's life (review rv34).

A closed hồ sơ's thời hạn bảo quản and end date decide when it may be destroyed; they are not
edited in place (FILE_CLOSED). A chuyên viên could still reopen it with any reason, cut
"20 năm" to "01 năm" (or move the end date back to its last document's day) and close it
again: the hồ sơ was listed for destruction at once, the council shown only the new period. A
reopened hồ sơ is closed again only with a period and end date that keep it at least as long as
its earlier closing did (RETENTION_BELOW_EARLIER_CLOSING, nothing written).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from kho_people import People
from kho_retention import closed_file

from kho.errors import KhoError
from retention.destruction import Destructions, review_list
from web.context import Kho

STORES = pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)


def _reopened(kho: Kho, people: People, *, maintenance: str, end: str) -> Any:
    file, _ = closed_file(kho, people, maintenance=maintenance, end=end)
    officer = people.actor("chuyen_vien")
    return kho.retention.reopen_file(
        file.record_id, reason="Bổ sung văn bản còn thiếu", expected_version=file.version, actor=officer
    )


def _edit_and_close(kho: Kho, people: People, file: Any, changes: dict[str, str], end: str) -> Any:
    """Edit the reopened hồ sơ as its chuyên viên, then close it on ``end``."""
    officer = people.actor("chuyen_vien")
    if changes:
        file = kho.repo.update_metadata(file.record_id, changes, expected_version=file.version, actor=officer)
    return kho.retention.close_file(
        file.record_id, end_date=date.fromisoformat(end), expected_version=file.version, actor=officer
    )


def _listed(kho: Kho, people: People) -> list[str]:
    today = kho.repo.clock().date()
    return [c.record_id for c in review_list(kho.repo, actor=people.actor("luu_tru"), today=today)]


@STORES
@pytest.mark.parametrize(
    ("maintenance", "end", "changes", "new_end"),
    [
        ("20 năm", "2015-12-31", {"maintenance": "01 năm"}, "2015-12-31"),
        ("Vĩnh viễn", "2015-12-31", {"maintenance": "05 năm"}, "2015-12-31"),
        ("05 năm", "2024-12-31", {}, "2015-03-02"),
        ("20 năm", "2015-12-31", {"maintenance": "Đến khi văn bản hết hiệu lực"}, "2015-12-31"),
    ],
    ids=["period-cut", "permanent-cut", "end-moved-back", "years-to-until-superseded"],
)
def test_a_reopened_file_is_not_closed_again_to_expire_sooner(
    kho: Kho, people: People, maintenance: str, end: str, changes: dict[str, str], new_end: str
) -> None:
    file = _reopened(kho, people, maintenance=maintenance, end=end)
    with pytest.raises(KhoError) as info:
        _edit_and_close(kho, people, file, changes, new_end)
    assert info.value.code == "RETENTION_BELOW_EARLIER_CLOSING"
    assert maintenance in info.value.message and "kết thúc lần trước" in info.value.message
    written = kho.repo._load(file.record_id)
    assert written.version == file.version + (1 if changes else 0)  # the edit only: no closing
    assert kho.repo._load(file.record_id).state == "active"
    assert _listed(kho, people) == []
    with pytest.raises(KhoError) as proposed:
        Destructions(kho.repo, kho.accounts, kho.backend).propose(
            [file.record_id], "Hết hạn", actor=people.actor("luu_tru")
        )
    assert proposed.value.code in ("RETENTION_NOT_EXPIRED", "RETENTION_UNKNOWN")


@STORES
def test_a_reopened_file_closes_again_as_long_or_longer(kho: Kho, people: People) -> None:
    """The guard: the same period and end date, or a longer period and a later end, close."""
    officer = people.actor("chuyen_vien")
    file = _reopened(kho, people, maintenance="05 năm", end="2024-12-31")
    closed = _edit_and_close(kho, people, file, {}, "2024-12-31")
    assert closed.state == "closed"
    file = kho.retention.reopen_file(
        file.record_id, reason="Sửa thời hạn", expected_version=closed.version, actor=officer
    )
    closed = _edit_and_close(kho, people, file, {"maintenance": "20 năm"}, "2025-06-30")
    assert closed.state == "closed" and closed.metadata.maintenance == "20 năm"  # type: ignore[union-attr]
    # Once closed with 20 years, the earlier 05 năm is no floor any more: 20 is.
    file = kho.retention.reopen_file(
        file.record_id, reason="Bổ sung", expected_version=closed.version, actor=officer
    )
    with pytest.raises(KhoError) as info:
        _edit_and_close(kho, people, file, {"maintenance": "10 năm"}, "2025-06-30")
    assert info.value.code == "RETENTION_BELOW_EARLIER_CLOSING" and "20 năm" in info.value.message
