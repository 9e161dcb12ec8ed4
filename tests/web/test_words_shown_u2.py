"""What a person reads on the pages names things in Vietnamese: the audit actions in a record's
Lịch sử xử lý and the auditor's log, and the record's state and signature verdict in its versions;
never a raw code on its own (u2: the walk of a working day)."""

from __future__ import annotations

import re
import unicodedata

from flask.testing import FlaskClient
from kho_people import People
from kho_web import login, logout, register_one, text

from repository.workflow import Act
from web.pages.common import action_label


def _cells(body: str, section: str) -> list[str]:
    """The text of each table cell after the heading ``section``."""
    part = body.split(section, 1)[1]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", part, re.S)]


def test_a_records_history_and_versions_name_each_action_and_state_in_vietnamese(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    record_id = path.rsplit("/", 1)[1]
    people.kho.handling.take(
        record_id,
        Act.SUBMIT,
        expected_seq=0,
        actor=people.actor("van_thu"),
        users=[people.usernames["lanh_dao"]],
        note="Kính trình",
    )
    body = text(web.get(path))
    assert unicodedata.is_normalized("NFC", body)
    history = _cells(body, "Lịch sử xử lý")
    actions = [c for c in history if re.fullmatch(r"[^()]*\([a-z-]+:[a-z:-]+\)|[a-z-]+:[a-z:-]+", c)]
    assert "Trình lãnh đạo (handling:submit)" in actions
    assert "Cấp số vào sổ (register:assign)" in actions
    assert "Phân phối văn bản (record:distribute)" in actions
    bare = [c for c in actions if not c.endswith(")")]
    assert not bare, f"audit actions shown as a bare code: {bare}"

    versions = body.split("Các phiên bản", 1)[1].split("Lịch sử xử lý", 1)[0]
    assert "<del>Chờ kiểm tra, vào sổ</del> → <ins>Đã tiếp nhận</ins>" in versions
    assert "→ <ins>Hợp lệ</ins>" in versions
    for code in ("intake", "active", "TOTAL-PASSED"):
        assert f">{code}<" not in versions, code
    logout(web)

    login(web, people, "kiem_toan")  # the auditor filters the log by these actions, by name
    log = text(web.get(f"/audit?record={record_id}"))
    assert re.search(r'<option value="handling:submit"\s*>Trình lãnh đạo</option>', log)
    assert re.search(r'<option value="register:assign"\s*>Cấp số vào sổ</option>', log)
    assert "Trình lãnh đạo (handling:submit)" in log


def test_every_handling_step_and_an_unnamed_action_read_as_vietnamese() -> None:
    for act in Act:
        label = action_label(f"handling:{act.value}")
        assert label == f"{act.label} (handling:{act.value})"
    assert action_label("something:new") == "Hành động khác (something:new)"
