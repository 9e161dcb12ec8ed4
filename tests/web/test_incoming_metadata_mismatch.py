"""A văn bản đến whose typed metadata its own signed PDF contradicts (a forged sender).

A văn thư, whoever prepares an intake, or a sending system registered a document as coming from
one agency with one số/ký hiệu and date, while the attached PDF was sealed by another agency or
printed another số/ký hiệu or date. Kho registered it without a word: the register, search and
every later step trusted a sender the document itself contradicts. The PDFs here are real,
signed by the test PKI (``ingest.testpki``): the Quyết định of seed ``s`` is sealed by "ỦY BAN
NHÂN DÂN TỈNH THỬ NGHIỆM" and prints số ``{1 + s}/QĐ-UBND`` and the date 05/03/2026."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming, incoming_signed, plain_page
from kho_web import cli_as, login, logout, post, post_incoming, text, upload

from ingest.testpki import (
    FIXTURE_TIME,
    TestPKI,
    Variant,
    agency_seal,
    document_for,
    make_variant,
    sign_as,
)
from kho.errors import KhoError
from web.cli import main
from web.context import Kho

INCOMING = "den"
"""The series of the sổ văn bản đến."""
SEED = 51
"""The signed Quyết định of these tests prints "52/QĐ-UBND"."""


def _registered(kho: Kho) -> list[str]:
    year = kho.repo.clock().year
    return [e.record_id for e in kho.repo.registers.entries(kho.repo.agency_id, year, INCOMING)]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_variant(Variant.VALID, pki=TestPKI.build(), seed=SEED, pages=1)


def test_a_forged_sender_is_refused_through_the_api_and_nothing_is_numbered(
    client: FlaskClient, people: People, kho: Kho, pdf: bytes
) -> None:
    forged = incoming(
        organ_name="Bộ Nội vụ", code_number="1234", code_notation="BNV-VP", issued_date="2026-03-02"
    )
    answer = post_incoming(client, people, pdf, forged)
    assert answer.status_code == 409, answer.json
    error = answer.json["error"]
    assert error["code"] == "METADATA_MISMATCH"
    message = error["message"]
    assert unicodedata.is_normalized("NFC", message)
    for said in ("Cơ quan ban hành", "Bộ Nội vụ", "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"):
        assert said in message
    for said in ("Số, ký hiệu", "1234/BNV-VP", "52/QĐ-UBND", "Ngày ban hành", "02/03/2026", "05/03/2026"):
        assert said in message
    fields = [m["field"] for m in error["details"]["mismatches"]]
    assert fields == ["organ_name", "code", "issued_date"]
    assert _registered(kho) == [], "no number taken"
    assert not [e for e in kho.repo.audit.events() if e.action == "register:assign"]


def test_the_genuine_document_with_the_sender_spelled_otherwise_goes_in(
    client: FlaskClient, people: People, kho: Kho, pdf: bytes
) -> None:
    """Case, NFD, the other tone-mark placement ("Uỷ") and "UBND" for "Ủy ban nhân dân" are the
    same sender."""
    spelled = unicodedata.normalize("NFD", "UBND tỉnh Thử Nghiệm")
    answer = post_incoming(
        client,
        people,
        pdf,
        incoming_signed(SEED, organ_name=spelled),
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["registration"]["number"] == 1
    assert "metadata_mismatch" not in answer.json.get("extra", {})

    other = make_variant(Variant.VALID, pki=TestPKI.build(), seed=SEED + 1, pages=1)
    record = kho.receive.receive_and_register(
        other,
        "qd.pdf",
        "den",
        incoming_signed(SEED + 1, organ_name="Uỷ ban nhân dân tỉnh Thử nghiệm"),
        people.actor("van_thu"),
    )
    assert record.registration is not None and record.registration.number == 2


def test_a_mismatch_goes_in_only_with_a_reason_audited_as_its_own_event(
    client: FlaskClient, people: People, kho: Kho, pdf: bytes
) -> None:
    typed = incoming_signed(SEED, code_number="53")
    blank = post_incoming(client, people, pdf, typed, override_reason="   ")
    assert blank.status_code == 409 and blank.json["error"]["code"] == "METADATA_MISMATCH"
    reason = "Văn bản gửi lại, số in trên bản PDF nhầm; đã gọi điện xác minh với Văn phòng UBND tỉnh"
    answer = post_incoming(client, people, pdf, typed, override_reason=reason, duplicate_reason="Gửi lại")
    assert answer.status_code == 201, answer.json
    rid = answer.json["record_id"]
    [event] = kho.repo.audit.query(record_id=rid, action="record:metadata-override")
    assert event.details["fields"] == ["code"]
    assert event.details["reason"] == reason
    assert event.details["mismatches"] == [
        {
            "field": "code",
            "label": "Số, ký hiệu",
            "typed": "53/QĐ-UBND",
            "pdf": "52/QĐ-UBND",
            "look_alike": False,
        }
    ]
    assert event.actor == people.usernames["van_thu"]
    # The record page shows the registered mismatch to those who may see the record.
    page = client.get(f"/api/records/{rid}", headers=people.headers("van_thu"))
    assert page.json["extra"]["metadata_mismatch"][0]["pdf"] == "52/QĐ-UBND"


def test_the_intake_page_confirm_refuses_and_then_takes_a_reason(
    kho: Kho, people: People, pdf: bytes
) -> None:
    """The one received first (``kho ingest``, the intake page), then confirmed."""
    clerk = people.actor("van_thu")
    review = kho.receive.receive(pdf, "qd.pdf", "den", clerk)
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            review.record.record_id,
            incoming_signed(SEED, organ_name="Sở Tài chính tỉnh Thử Nghiệm"),
            expected_version=review.record.version,
            actor=clerk,
        )
    assert info.value.code == "METADATA_MISMATCH"
    assert "Sở Tài chính tỉnh Thử Nghiệm" in info.value.message
    assert _registered(kho) == []
    [waiting] = kho.repo.intake_queue(actor=clerk)
    assert waiting.version == review.record.version, "nothing written"
    record = kho.receive.confirm(
        waiting.record_id, incoming_signed(SEED), expected_version=waiting.version, actor=clerk
    )
    assert record.registration is not None


def test_a_pdf_with_no_signature_and_nothing_read_asks_nothing(kho: Kho, people: People) -> None:
    """No seal and no số/ký hiệu or date in its text: whatever the văn thư types is not
    contradicted, and the document is registered as before."""
    blank = plain_page("Bien ban hop giao ban tuan")
    record = kho.receive.receive_and_register(blank, "bb.pdf", "den", incoming(), people.actor("van_thu"))
    assert record.registration is not None and _registered(kho) == [record.record_id]
    assert record.extra.get("signature_organisations") == []
    assert "metadata_mismatch" not in record.extra
    assert not list(kho.repo.audit.query(record_id=record.record_id, action="record:metadata-override"))


def test_a_look_alike_agency_is_a_mismatch(kho: Kho, people: People) -> None:
    """A seal certificate a trusted CA issued to "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" written with
    a Cyrillic "Т" reads as the agency on every screen; the same for a neighbouring agency."""
    pki = TestPKI.build()
    clerk = people.actor("van_thu")
    for serial, name in (
        (0x4B484F7001, "ỦY BAN NHÂN DÂN TỈNH \u0422HỬ NGHIỆM"),
        (0x4B484F7002, "ỦY BAN NHÂN DÂN HUYỆN THỬ NGHIỆM"),
    ):
        seal = agency_seal(pki, name, serial=serial)
        data = sign_as(document_for(pki.personal, SEED).data, pki, seal, at=FIXTURE_TIME)
        with pytest.raises(KhoError) as info:
            kho.receive.receive_and_register(data, "qd.pdf", "den", incoming_signed(SEED), clerk)
        assert info.value.code == "METADATA_MISMATCH"
        [mismatch] = info.value.details["mismatches"]
        assert mismatch["field"] == "organ_name" and name in mismatch["pdf"]
        assert mismatch["look_alike"] is (serial == 0x4B484F7001)
        if mismatch["look_alike"]:
            assert "U+0422" in info.value.message
    assert _registered(kho) == []


def test_the_cli_refuses_a_forged_sender_with_its_code_and_takes_a_reason(
    people: People, kho: Kho, pdf: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "cv.pdf"
    source.write_bytes(pdf)
    pairs = [f"{k}={v}" for k, v in incoming(organ_name="Bộ Nội vụ", issued_date="02/03/2026").items()]
    cli = cli_as(people, "van_thu")
    refused = cli.invoke(main, ["record", "create", "--direction", "den", "--file", str(source), *pairs])
    assert refused.exit_code == 2 and "METADATA_MISMATCH" in refused.output, refused.output
    assert "Traceback" not in refused.output and "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" in refused.output
    assert _registered(kho) == []
    reason = "Công văn của Bộ Nội vụ chuyển kèm Quyết định của UBND tỉnh"
    done = cli.invoke(
        main,
        [
            "record",
            "create",
            "--direction",
            "den",
            "--file",
            str(source),
            "--override-reason",
            reason,
            *pairs,
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    rid = json.loads(done.output)["record_id"]
    [event] = kho.repo.audit.query(record_id=rid, action="record:metadata-override")
    assert (
        event.details["fields"] == ["organ_name", "code", "issued_date"] and event.details["reason"] == reason
    )


def test_the_intake_page_asks_the_reason_and_the_record_page_shows_the_mismatch(
    web: FlaskClient, people: People, pdf: bytes
) -> None:
    login(web, people, "van_thu")
    review_path = upload(web, pdf, "qd.pdf")
    review = text(web.get(review_path))
    assert 'name="override_reason"' not in review  # a valid signature: nothing to override yet
    version = re.search(r'name="expected_version" value="(\d+)"', review).group(1)  # type: ignore[union-attr]
    typed = {**incoming(issued_date="02/03/2026", arrival_date="05/03/2026"), "expected_version": version}
    refused = post(web, review_path + "/confirm", typed, review_path)
    assert refused.status_code == 409
    page = html.unescape(text(refused))
    assert "Bộ Nội vụ" in page and "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" in page and "52/QĐ-UBND" in page
    assert 'name="override_reason"' in page and "không khớp với tệp văn bản" in page
    reason = "Đã xác minh với Văn phòng Bộ: gửi nhầm tệp đính kèm"
    confirmed = post(web, review_path + "/confirm", {**typed, "override_reason": reason}, review_path)
    assert confirmed.status_code == 302, text(confirmed)
    record_path = confirmed.headers["Location"]
    shown = html.unescape(text(web.get(record_path)))
    assert 'id="metadata-mismatch"' in shown and reason in shown
    assert "nhập “1234/BNV-VP”, tệp ghi “52/QĐ-UBND”" in shown
    logout(web)
    login(web, people, "chuyen_vien_b")  # another unit's chuyên viên may not see the record
    other = web.get(record_path)
    assert other.status_code in (403, 404) and reason not in text(other)


def test_a_document_sent_again_is_compared_with_what_its_first_registration_read(
    client: FlaskClient, people: People, kho: Kho, pdf: bytes
) -> None:
    """The same file received again is registered as a new record (with a duplicate reason) from
    the first one's verdict: the gate reads the first registration's signatures and text."""
    first = post_incoming(client, people, pdf, incoming_signed(SEED))
    assert first.status_code == 201, first.json
    again = post_incoming(client, people, pdf, incoming(), duplicate_reason="Bộ Nội vụ gửi lại")
    assert again.status_code == 409 and again.json["error"]["code"] == "METADATA_MISMATCH", again.json
    assert _registered(kho) == [first.json["record_id"]]
    resent = post_incoming(client, people, pdf, incoming_signed(SEED), duplicate_reason="Gửi lại lần hai")
    assert resent.status_code == 201, resent.json
