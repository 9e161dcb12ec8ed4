"""What a person reads on the pages names things in Vietnamese: the audit actions in a record's
Lịch sử xử lý and the auditor's log, and the record's state and signature verdict in its versions;
never a raw code on its own (u2: the walk of a working day)."""

from __future__ import annotations

import io
import re
import unicodedata

from flask.testing import FlaskClient
from kho_files import new_file
from kho_people import People
from kho_testing import incoming
from kho_web import login, logout, post, register_one, text, upload

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


OUTGOING = {
    "type_name": "Quyết định",
    "code_notation": "QĐ-UBND",
    "organ_name": "Ủy ban nhân dân tỉnh Ninh Bình",
    "subject": "Ban hành Quy chế văn bản điện tử",
    "signer_position": "Chủ tịch",
    "signer_full_name": "Nguyễn Văn An",
    "recipients": "Sở Nội vụ",
    "urgency": "0",
    "secrecy": "0",
}


def test_a_reason_typed_before_a_refusal_is_still_there_and_the_so_di_comes_with_its_ky_hieu(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The văn thư types why a document goes in despite its signature (or as a re-sent one) and a
    date wrong: the refusal names the date and keeps the reason. A numbered văn bản đi is announced
    with its số and ký hiệu, the number written on the document."""
    login(web, people, "van_thu")
    reason = "Bản gốc giấy đã đối chiếu, ký nhận ngày 03/12"
    bad_date = {**OUTGOING, "issued_date": "31/02/2026", "override_reason": reason}
    refused = post(
        web,
        "/outgoing/new",
        {**bad_date, "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")},
        "/outgoing/new",
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "31/02/2026" in text(refused)
    assert f'name="override_reason" rows="2">{reason}</textarea>' in text(refused)
    no_file = post(web, "/outgoing/new", bad_date, "/outgoing/new")
    assert no_file.status_code == 422 and f">{reason}</textarea>" in text(no_file)

    done = post(
        web,
        "/outgoing/new",
        {**OUTGOING, "file": (io.BytesIO(signed["valid-2"]), "qd.pdf")},
        "/outgoing/new",
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, text(done)
    shown = text(web.get(done.headers["Location"]))
    assert "Đã vào sổ văn bản đi. Số, ký hiệu: 01/QĐ-UBND." in shown

    review_path = upload(web, signed["tampered"], "bi-sua.pdf")  # needs a reason to go in
    review = text(web.get(review_path))
    version = re.search(r'name="expected_version" value="(\d+)"', review)
    assert version and 'name="override_reason"' in review
    typed = {**incoming(issued_date="31/02/2026"), "override_reason": reason}
    again = post(web, review_path + "/confirm", {**typed, "expected_version": version.group(1)}, review_path)
    assert again.status_code == 422 and "31/02/2026" in text(again)
    assert f'name="override_reason" rows="2" required>{reason}</textarea>' in text(again)


def test_the_search_names_a_hoso_by_its_number_and_title_not_its_id(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    login(web, people, "van_thu")
    document_id = register_one(web, signed["valid"]).rsplit("/", 1)[1]
    worker = people.actor("chuyen_vien")
    hoso = new_file(people.kho, worker, "01.VP", "Hồ sơ triển khai hệ thống", "Phạm Minh Chính")
    people.kho.repo.add_to_file(hoso.record_id, document_id, expected_version=hoso.version, actor=worker)
    file_id = hoso.record_id
    found = text(web.get("/search?q=trien+khai+he+thong"))
    assert "Hồ sơ triển khai hệ thống" in found.split("Lọc theo", 1)[1]
    assert ">01.VP — Hồ sơ triển khai hệ thống</a> (1)" in found
    assert f">{file_id}</a>" not in found
    filtered = text(web.get(f"/search?q=trien+khai&ho_so={file_id}"))
    assert 'class="tag">Hồ sơ: 01.VP — Hồ sơ triển khai hệ thống</span>' in filtered
    odd = web.get("/search?q=trien+khai&ho_so=..%2Fx")  # a typed id that names nothing
    assert odd.status_code in (200, 422) and "Traceback" not in text(odd)


def test_a_damaged_hoso_in_the_search_filter_is_not_named_and_the_page_still_answers(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """A hồ sơ whose key is garbled (fsck reports it) is listed by id and nothing else: the
    page answers 200, as every listing built from an index query does (``Repository.visible``
    let a damaged record's error out of the hồ sơ names, and out of every list built with it)."""
    import os

    login(web, people, "van_thu")
    document_id = register_one(web, signed["valid"]).rsplit("/", 1)[1]
    worker = people.actor("chuyen_vien")
    hoso = new_file(people.kho, worker, "02.VP", "Hồ sơ bị hỏng khóa", "Phạm Minh Chính")
    people.kho.repo.add_to_file(hoso.record_id, document_id, expected_version=hoso.version, actor=worker)
    people.kho.repo.keys.store.put(f"keys/{hoso.record_id}", os.urandom(40))
    people.kho.repo.keys._cache.clear()  # (as a fresh process finds it)
    page = web.get(f"/search?q=&ho_so={hoso.record_id}")
    assert page.status_code == 200
    assert "Hồ sơ bị hỏng khóa" not in text(page)
    listed = people.kho.repo.visible([hoso.record_id, document_id], actor=people.actor("van_thu"))
    assert [r.record_id for r in listed] == [document_id]


def test_a_refused_handling_step_shows_what_was_typed_in_its_form_again(
    web: FlaskClient, people: People, signed: dict[str, bytes]
) -> None:
    """The lãnh đạo writes an ý kiến chỉ đạo while someone else records a step (refused as a
    conflict); the handler attaches an answer that is not found: each sees the page again with
    their words, date, chosen act and reference in the form they sent, not an empty one."""
    from kho_people import UNIT_B

    login(web, people, "van_thu")
    path = register_one(web, signed["valid"])
    record_id = path.rsplit("/", 1)[1]
    leader, handler = people.usernames["lanh_dao"], people.usernames["chuyen_vien_b"]
    people.kho.handling.take(
        record_id, Act.SUBMIT, expected_seq=0, actor=people.actor("van_thu"), users=[leader]
    )
    logout(web)
    login(web, people, "lanh_dao")
    page_path = f"/handling/{record_id}"
    note = "Phòng Tổng hợp chủ trì, báo cáo trước ngày 05/01"
    direct = {"form": "d-", "act": "direct", "units": UNIT_B, "users": handler, "deadline": "2099-01-05"}
    late = post(web, page_path, {**direct, "expected_seq": "0", "note": note}, page_path)
    assert late.status_code == 409 and "WORKFLOW_CONFLICT" in text(late)
    assert f'<textarea id="d-note" name="note">{note}</textarea>' in text(late)
    assert 'value="2099-01-05" required' in text(late)
    done = post(web, page_path, {**direct, "expected_seq": "1", "note": note}, page_path)
    assert done.status_code == 302, text(done)
    logout(web)

    login(web, people, "chuyen_vien_b")
    report = "Đã có văn bản trả lời số 12/UBND-TH"
    answer = {
        "form": "p1-",
        "task": "1",
        "act": "answer",
        "ref": "0" * 24,
        "note": report,
        "expected_seq": "2",
    }
    refused = post(web, page_path, answer, page_path)
    assert refused.status_code in (403, 404, 409, 422) and "mã lỗi" in text(refused)
    body = text(refused)
    assert f'<textarea id="p1-note" name="note">{report}</textarea>' in body
    assert f'name="ref" pattern="[0-9a-f]{{24}}" value="{"0" * 24}"' in body
    assert re.search(r'<option value="answer"\s+selected>', body)
    assert re.search(r'<option value="progress"\s*>', body)  # the first act is not chosen again
