"""Recall: an outgoing document is frozen with its metadata and the recall kept; an incoming one
recalled by its issuer is destroyed (store and index) and the sender notification recorded."""

from __future__ import annotations

import pytest
from kho_people import People
from kho_retention import search_count
from kho_testing import incoming, outgoing, pdf_bytes

from kho.errors import KhoError, LegalHold, PermissionDenied
from repository import formats
from retention.recall import Recalls
from web.context import Kho


def test_an_outgoing_document_under_recall_is_frozen(kho: Kho, people: People) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("di", outgoing(), pdf_bytes("di"), "qd.pdf", clerk)
    recall = Recalls(kho.repo, kho.backend).recall_outgoing(
        doc.record_id, "Công văn số 15/UBND-VP ngày 01/03/2027", "Ban hành sai thẩm quyền", actor=clerk
    )
    assert recall["state"] == "frozen"  # u8: "recorded", the state of one under way (u9)
    with pytest.raises(LegalHold) as frozen:
        kho.repo.update_metadata(doc.record_id, {"subject": "Đổi"}, expected_version=doc.version, actor=clerk)
    assert "thu hồi" in frozen.value.message
    with pytest.raises(LegalHold):
        kho.repo.destroy(doc.record_id, decision="QĐ", actor=people.actor("quan_tri"))
    hold_id = kho.repo.holds_on(doc.record_id)[0]["hold_id"]
    with pytest.raises(LegalHold):
        kho.repo.release_hold(doc.record_id, hold_id, actor=people.actor("lanh_dao"), reason="gỡ")
    assert kho.repo.read_content(doc.record_id, actor=clerk)[1].startswith(b"%PDF")  # kept, readable


def test_an_incoming_document_recalled_by_its_issuer_is_destroyed_and_the_sender_told(
    kho: Kho, people: People
) -> None:
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document("den", incoming(code_number="88"), pdf_bytes("den"), "cv.pdf", clerk)
    text = {"parts": [{"page": 1, "text": "nộidungthuhồi"}], "format": "pdf"}
    kho.repo.put_derived(doc.record_id, "text.json", formats.dump_derived(text, "text.json"))
    kho.repo._emit(kho.repo._load(doc.record_id))
    assert search_count(kho, people, "nộidungthuhồi") == 1
    recalls = Recalls(kho.repo, kho.backend)
    with pytest.raises(PermissionDenied):
        recalls.recall_incoming(doc.record_id, "CV 20/BNV-VP", "Sai sót", actor=people.actor("chuyen_vien"))
    with pytest.raises(KhoError) as info:
        recalls.recall_incoming(doc.record_id, " ", "Sai sót", actor=clerk)
    assert info.value.code == "RECALL_REF_REQUIRED"
    done = recalls.recall_incoming(doc.record_id, "Công văn số 20/BNV-VP", "Ban hành nhầm", actor=clerk)
    assert done["state"] == "destroyed"
    assert not kho.repo.keys.exists(doc.record_id)
    assert kho.repo._load(doc.record_id).state == "destroyed"
    assert search_count(kho, people, "nộidungthuhồi") == 0
    notified = [e for e in kho.repo.audit.events() if e.action == "recall:notify"]
    assert [(e.record_id, e.details["to"]) for e in notified] == [(doc.record_id, "Bộ Nội vụ")]


def test_a_document_handed_over_to_the_archive_is_neither_edited_nor_destroyed_by_a_recall(
    kho: Kho, people: People
) -> None:
    """Once its hồ sơ is submitted for nộp lưu, a document is the lưu trữ's (ND30 Điều 30 k3): a
    văn thư does not change its trích yếu, nor make it disappear by typing in a recall order
    (one person, no council). Both refused with a code, nothing written, the document kept."""
    from kho_retention import closed_file

    file, docs = closed_file(kho, people, maintenance="Vĩnh viễn")
    kho.retention.submit(file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien"))
    clerk = people.actor("van_thu")
    doc = kho.repo._load(docs[0])
    with pytest.raises(KhoError) as edited:
        kho.repo.update_metadata(
            docs[0], {"subject": "Sửa sau khi nộp lưu"}, expected_version=doc.version, actor=clerk
        )
    assert edited.value.code == "DOCUMENT_IN_ARCHIVE" and "nộp lưu" in edited.value.message
    with pytest.raises(KhoError) as recalled:
        recalls = Recalls(kho.repo, kho.backend)
        recalls.recall_incoming(docs[1], "CV 12/BNV-VP", "Bên gửi thu hồi", actor=clerk)
    assert recalled.value.code == "DOCUMENT_IN_ARCHIVE"
    assert kho.repo._load(docs[0]).version == doc.version
    assert kho.repo._load(docs[1]).state != "destroyed" and kho.repo.keys.exists(docs[1])
    assert not list(kho.repo.store.list("retention/recalls/"))
