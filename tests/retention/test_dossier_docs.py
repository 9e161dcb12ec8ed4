"""The destruction dossier's documents render as PDF and XLSX from the same case data, carry
the case's items, and are kept in the dossier hồ sơ; the decision's deadline is checked and a
case past it is listed as overdue."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
from kho_people import PASSWORD, People
from kho_retention import Clock, closed_file, council_ready
from openpyxl import load_workbook

from kho.errors import KhoError
from retention import dossier_docs
from retention.destruction import is_overdue
from web.context import Kho


def pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
    )


def squash(text: str) -> str:
    return "".join(text.split())


def test_every_dossier_document_renders_as_pdf_and_xlsx_with_the_cases_items(
    kho: Kho, people: People, clock: Clock
) -> None:
    file, docs = closed_file(kho, people, notation="07.VP")
    other, _ = closed_file(kho, people, notation="08.VP")
    d, case = council_ready(kho, people, [file.record_id, other.record_id])
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    case_id = case["case_id"]
    with pytest.raises(KhoError) as early:
        d.document(case_id, "quyet-dinh-huy", "pdf", actor=archivist)
    assert early.value.code == "DOSSIER_DOCUMENT_NOT_READY" and "quyết định" in early.value.message
    with pytest.raises(KhoError) as past:
        d.decide(case_id, "QĐ 09/QĐ-UBND", approve=True, deadline=date(2027, 2, 1), actor=head)
    assert past.value.code == "DEADLINE_PAST" and d.cases.latest(case_id)["state"] == "reviewed"
    d.decide(case_id, "QĐ 09/QĐ-UBND", approve=True, deadline=date(2027, 3, 16), actor=head)
    done = d.execute(case_id, PASSWORD, actor=archivist)
    codes = [i["file_code"] for i in done["items"]]
    assert len(codes) == 2

    expected = {
        "danh-muc": ["DANH MỤC TÀI LIỆU", *codes, "Hồ sơ 07.VP", "Hồ sơ 08.VP"],
        "bien-ban-hop": [
            "BIÊN BẢN HỌP",
            "Quyết định số 05/QĐ-UBND",
            "Đồng ý hủy",
            people.usernames["luu_tru"],
        ],
        "tham-dinh": ["THẨM ĐỊNH", "Công văn thẩm định số 12/SNV-LT"],
        "quyet-dinh-huy": ["QUYẾT ĐỊNH HỦY", "QĐ 09/QĐ-UBND", "16/03/2027", *codes],
        "bien-ban-huy": ["BIÊN BẢN HỦY", "crypto-shredding", *docs, file.record_id, other.record_id],
    }
    dossier_id = done["execution"]["dossier_file_id"]
    for name, words in expected.items():
        pdf = d.document(case_id, name, "pdf", actor=archivist)[1]
        xlsx = d.document(case_id, name, "xlsx", actor=archivist)[1]
        assert pdf.startswith(b"%PDF") and xlsx.startswith(b"PK")
        in_pdf, in_xlsx = squash(pdf_text(pdf)), squash(xlsx_text(xlsx))
        for word in words:
            assert squash(word) in in_pdf, (name, word)
            assert squash(word).lower() in in_xlsx.lower(), (name, word)
        # what is served once done is the copy kept in the dossier hồ sơ (20 năm)
        assert kho.repo.get_derived(dossier_id, dossier_docs.file_name(name, "pdf")) == pdf
        assert kho.repo.get_derived(dossier_id, dossier_docs.file_name(name, "xlsx")) == xlsx
    exports = [e for e in kho.repo.audit.events() if e.action == "destruction:export"]
    assert len(exports) == 2 * len(expected) and all(e.actor == people.usernames["luu_tru"] for e in exports)

    with pytest.raises(KhoError) as unknown:
        d.document(case_id, "khong-co", "pdf", actor=archivist)
    assert unknown.value.code == "NOT_FOUND"
    with pytest.raises(KhoError) as bad_format:
        d.document(case_id, "danh-muc", "docx", actor=archivist)
    assert bad_format.value.code == "FORMAT_INVALID"
    with pytest.raises(KhoError) as outsider:
        d.document(case_id, "danh-muc", "pdf", actor=people.actor("van_thu"))
    assert outsider.value.code == "PERMISSION_DENIED"


def test_a_decided_case_past_its_deadline_is_listed_overdue(kho: Kho, people: People, clock: Clock) -> None:
    file, _ = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    deadline = clock().date() + timedelta(days=15)
    case = d.decide(case["case_id"], "QĐ 10", approve=True, deadline=deadline, actor=head)
    assert case["decision"]["deadline"] == deadline.isoformat()
    assert d.overdue(actor=archivist, today=deadline) == []
    late = deadline + timedelta(days=1)
    assert [c["case_id"] for c in d.overdue(actor=archivist, today=late)] == [case["case_id"]]
    with pytest.raises(KhoError):
        d.overdue(actor=people.actor("chuyen_vien"), today=late)
    clock.now = clock.now + timedelta(days=31)
    with pytest.raises(KhoError) as lapsed:  # the lapsed decision is not carried out ...
        d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert lapsed.value.code == "DESTRUCTION_DECISION_LAPSED"
    d.decide(case["case_id"], "QĐ 11", approve=True, actor=head)  # ... a new one is
    done = d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert done["state"] == "done" and d.overdue(actor=archivist, today=late) == [], "done is not overdue"
    assert not is_overdue({"state": "decided", "decision": {"deadline": None}}, late), "no deadline"
    assert not is_overdue({"state": "rejected", "decision": {"deadline": "2027-01-01"}}, late)
    assert is_overdue({"state": "executing", "decision": {"deadline": "2027-01-01"}}, date(2027, 1, 2))


def test_an_old_approval_is_not_replayed_after_its_deadline(kho: Kho, people: People, clock: Clock) -> None:
    """TT 06/2025: the destruction is carried out at the latest 15 days after the decision. A
    decision that named no deadline gets those 15 days; past its deadline the lưu trữ viên does
    not start it (months later, when the council's reasons may no longer hold): refused with a
    code, nothing destroyed, and the head decides again (audited) or refuses."""
    file, docs = closed_file(kho, people)
    d, case = council_ready(kho, people, [file.record_id])
    archivist, head = people.actor("luu_tru"), people.actor("lanh_dao")
    case = d.decide(case["case_id"], "QĐ 10", approve=True, actor=head)
    assert case["decision"]["deadline"] == (clock().date() + timedelta(days=15)).isoformat()
    clock.now = clock.now + timedelta(days=16)
    with pytest.raises(KhoError) as lapsed:
        d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert lapsed.value.code == "DESTRUCTION_DECISION_LAPSED" and "quyết định hủy mới" in lapsed.value.message
    assert d.cases.latest(case["case_id"])["state"] == "decided"
    assert all(kho.repo.keys.exists(rid) for rid in [*docs, file.record_id])
    rejected = d.decide(case["case_id"], "QĐ 12: không hủy", approve=False, actor=head)
    assert rejected["state"] == "rejected"
    with pytest.raises(KhoError) as refused:
        d.execute(case["case_id"], PASSWORD, actor=archivist)
    assert refused.value.code == "DESTRUCTION_WRONG_STATE"
    assert all(kho.repo.keys.exists(rid) for rid in [*docs, file.record_id])
