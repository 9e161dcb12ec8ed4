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


def test_the_auditor_goes_from_an_event_to_the_records_whole_history_and_exports_it_in_words(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The kiểm toán viên may not open a document, so a record's link in the log leads to the log
    of that record (its 24-digit id was shown as 8 digits, and typing those is refused); the
    export names its conditions in Vietnamese with days as dd/mm/yyyy."""
    login(web, people, "van_thu")
    record_id = register_one(web, signed["valid"]).rsplit("/", 1)[1]
    logout(web)
    login(web, people, "kiem_toan")
    assert web.get(f"/records/{record_id}").status_code == 403  # the document itself stays closed
    log = text(web.get("/audit?action=register:assign"))
    links = re.findall(r'<a href="([^"]+)" title="' + record_id + '">' + record_id[-8:] + "</a>", log)
    assert links == [f"/audit?record={record_id}"], links
    history = text(web.get(links[0].replace("&amp;", "&")))
    assert "Cấp số vào sổ (register:assign)" in history and "Tạo văn bản (record:create)" in history
    assert people.usernames["van_thu"] in history

    export = web.get(f"/audit/export.csv?record={record_id}&action=register:assign&since=2026-01-02")
    assert export.status_code == 200
    head = export.get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert head == (
        f"Điều kiện tra cứu: Mã văn bản: {record_id}; Hành động: Cấp số vào sổ (register:assign);"
        " Từ ngày: 02/01/2026"
    ), head
    stats = web.get("/audit/stats.csv?since=2026-01-02").get_data(as_text=True)
    assert "từ 02/01/2026 đến (nay)" in stats and "2026-01-02" not in stats
