"""A metadata correction of a document's độ mật, which decides who may see it, is decided like
the record it makes (rv14): registering a document checks its level against the person's
clearance (``decide_new``), a correction did not; and lowering a độ mật (giải mật, hạ độ mật) is
the lãnh đạo's decision, not a văn thư's correction."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from kho_people import AGENCY, UNIT_B, People
from kho_testing import incoming, pdf_bytes

from web.context import Kho


def _patch(
    client: FlaskClient, record_id: str, changes: dict[str, object], version: int, headers: dict[str, str]
) -> Any:
    return client.patch(
        f"/api/records/{record_id}", json={"changes": changes, "expected_version": version}, headers=headers
    )


def test_a_clerk_neither_declassifies_nor_lifts_a_document_out_of_their_own_reach(
    kho: Kho, people: People, client: FlaskClient
) -> None:
    """On main the agency's văn thư turned a Mật document into a Thường one by a correction
    (``PATCH /api/records/<id>`` ``{"secrecy": 0}``: 200, and every Thường chuyên viên of the
    agency then read it), and Phòng Tổng hợp's văn thư, cleared Thường, set their own document
    to Tuyệt mật (out of everyone's sight in the phòng, theirs too). Now: 403
    ``SECRECY_LOWER_DENIED`` and 403 ``SECRECY_DENIED``, audited, nothing written. A correction
    that raises a level the văn thư is cleared for still passes, and a person who is the unit's
    lãnh đạo as well as its văn thư lowers it."""
    clerk = people.actor("van_thu")
    secret = kho.repo.create_document(
        "den",
        incoming(code_number="601", issued_date="2026-03-02", secrecy=2),
        pdf_bytes("m601"),
        "a.pdf",
        clerk,
    )
    reader = people.headers("chuyen_vien")
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 403

    lowered = _patch(client, secret.record_id, {"secrecy": 0}, secret.version, people.headers("van_thu"))
    assert lowered.status_code == 403, lowered.get_data(as_text=True)[:300]
    assert lowered.json["error"]["code"] == "SECRECY_LOWER_DENIED"
    assert "lãnh đạo" in lowered.json["error"]["message"]
    assert kho.repo._load(secret.record_id).version == secret.version
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 403

    clerk_b = people.actor("van_thu_b")
    own = kho.repo.create_document(
        "den", incoming(code_number="602", issued_date="2026-03-02"), pdf_bytes("b602"), "b.pdf", clerk_b
    )
    assert own.metadata.unit == UNIT_B  # type: ignore[union-attr]
    hidden = _patch(client, own.record_id, {"secrecy": 3}, own.version, people.headers("van_thu_b"))
    assert hidden.status_code == 403, hidden.get_data(as_text=True)[:300]
    assert hidden.json["error"]["code"] == "SECRECY_DENIED"
    assert kho.repo._load(own.record_id).version == own.version
    denied = [
        e
        for e in kho.repo.audit.query(action="access:denied")
        if e.record_id in (secret.record_id, own.record_id) and e.details["action"] == "record:update"
    ]
    assert sorted(e.details["code"] for e in denied) == ["SECRECY_DENIED", "SECRECY_LOWER_DENIED"]

    plain = kho.repo.create_document(
        "den", incoming(code_number="603", issued_date="2026-03-02"), pdf_bytes("t603"), "c.pdf", clerk
    )
    raised = _patch(client, plain.record_id, {"secrecy": 1}, plain.version, people.headers("van_thu"))
    assert raised.status_code == 200, raised.get_data(as_text=True)[:300]

    people.add("both", "Đinh Thị Hoa", AGENCY, ("van_thu", "lanh_dao"), 3)
    token = people.headers("both")
    declassified = client.patch(  # with its căn cứ, which rv15 requires of a declassification
        f"/api/records/{secret.record_id}",
        json={"changes": {"secrecy": 0}, "expected_version": secret.version, "note": "QĐ 12/QĐ-UBND"},
        headers=token,
    )
    assert declassified.status_code == 200, declassified.get_data(as_text=True)[:300]
    assert client.get(f"/api/records/{secret.record_id}", headers=reader).status_code == 200
