"""A recipient who filed a văn bản đi that is then recalled (thu hồi) must be able to do what
ND30 Điều 18 k4 asks of them, "hủy bỏ văn bản điện tử bị thu hồi trên hệ thống": take it out
of their hồ sơ, and go on with that hồ sơ (r27, after m5's recall rule)."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_files import new_file
from kho_people import UNIT_B, People
from kho_testing import outgoing

from repository.policy import decide_take_out
from retention.recall import Recalls
from web.context import Kho


def test_a_recipient_can_take_a_recalled_document_out_of_their_hồ_sơ(
    kho: Kho, people: People, client: FlaskClient, signed: dict[str, bytes]
) -> None:
    """Phòng B's chuyên viên files a văn bản đi distributed to phòng B in a hồ sơ of phòng B;
    the issuer recalls it. m5 took the document from phòng B's sight (403 RECORD_RECALLED) and
    so also refused them taking it out of their own hồ sơ (the same 403): the hồ sơ kept a
    document nobody in phòng B may see or remove, for ever. Taking it out is now allowed to
    who lost it by the recall, and only that: its content stays refused to them."""
    clerk = people.actor("van_thu")
    doc = kho.repo.create_document(
        "di", outgoing(subject="Quy chế bị thu hồi"), signed["valid"], "qd.pdf", clerk
    )
    rid = doc.record_id
    kho.repo.distribute(rid, units=[UNIT_B], actor=clerk)
    staff = people.actor("chuyen_vien_b")
    hoso = new_file(kho, staff, "09.TH", "Hồ sơ quy chế phòng Tổng hợp", "Trần Đại Nghĩa", UNIT_B)
    filed = kho.repo.add_to_file(hoso.record_id, rid, expected_version=hoso.version, actor=staff)
    Recalls(kho.repo, kho.backend).recall_outgoing(
        rid, "Công văn số 15/UBND-VP ngày 01/03/2026", "Ban hành sai thẩm quyền", actor=clerk
    )
    headers = people.headers("chuyen_vien_b")
    assert client.get(f"/api/records/{rid}", headers=headers).json["error"]["code"] == "RECORD_RECALLED"
    taken = client.delete(
        f"/api/files/{hoso.record_id}/documents/{rid}",
        query_string={"expected_version": filed.version, "reason": "Văn bản bị thu hồi"},
        headers=headers,
    )
    assert taken.status_code == 200, taken.json
    assert rid not in kho.repo._load(hoso.record_id).documents
    # Only the taking out: the recalled document is still refused to them, and kept whole.
    assert client.get(f"/api/records/{rid}/content", headers=headers).status_code == 403
    assert kho.repo._load(rid).extra["recall"]["order_ref"].startswith("Công văn số 15")
    # Only who lost it by the recall: a văn bản đi never sent to phòng B, recalled, is still
    # one they may not take out of anything (nor learn of).
    other = kho.repo.create_document("di", outgoing(subject="Khác"), None, None, clerk)
    Recalls(kho.repo, kho.backend).recall_outgoing(
        other.record_id, "Công văn số 16/UBND-VP ngày 02/03/2026", "Sai sót", actor=clerk
    )
    refused = decide_take_out(staff.as_principal, kho.repo.facts(kho.repo._load(other.record_id)))
    assert not refused.allowed and refused.code == "NOT_FOUND"  # the answer of an absent id (a15)
