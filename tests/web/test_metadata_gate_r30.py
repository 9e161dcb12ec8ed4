"""Review of a9's metadata gate (r30): routes around it.

* A văn bản đến confirmed after its signatures were checked but before ingest read its text
  (the ``metadata`` step runs after ``signatures``: a Celery worker still busy, or one that died
  between the two) was compared with nothing: a forged số/ký hiệu and date went in unasked.
* A re-sent copy registered again *from a re-sent copy* read the derived metadata of a record
  that has none (only the first registration has ``metadata.json``): the same forgery went in.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import incoming, incoming_signed
from kho_web import post_incoming

from ingest.testpki import TestPKI, Variant, make_variant
from kho.errors import KhoError
from repository.metadata import parse_document
from repository.registration import PdfIdentity, SealAgency, metadata_mismatches
from repository.vocabulary import Direction
from web.context import Kho

SEED = 71
"""The signed Quyết định of these tests prints "72/QĐ-UBND", dated 05/03/2026."""
FORGED = {"code_number": "9", "issued_date": "2026-02-01"}
"""The sender as its seal says, with another số and date than the PDF prints."""


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_variant(Variant.VALID, pki=TestPKI.build(), seed=SEED, pages=1)


def _registered(kho: Kho) -> list[str]:
    year = kho.repo.clock().year
    return [e.record_id for e in kho.repo.registers.entries(kho.repo.agency_id, year, "den")]


def test_a_document_whose_text_was_not_read_yet_is_not_registered_unchecked(
    kho: Kho, people: People, pdf: bytes
) -> None:
    clerk = people.actor("van_thu")
    pipeline = kho.receive.pipeline
    job = pipeline.accept(pdf, "qd.pdf", "den")
    status = pipeline.run(job.job_id, until="signatures", force=True)
    assert status.record_id is not None
    record = kho.repo.get(status.record_id, actor=clerk)
    assert record.extra.get("signature_verdict"), "the signatures were checked"
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            record.record_id,
            incoming_signed(SEED, **FORGED),
            expected_version=record.version,
            actor=clerk,
            override_reason="Đã gọi điện xác minh",
        )
    assert info.value.code == "METADATA_NOT_READ", info.value.code
    assert info.value.http_status == 409
    assert "chưa được đọc xong" in info.value.message and "kho ingest retry" in info.value.message
    assert _registered(kho) == []
    assert kho.repo.get(record.record_id, actor=clerk).version == record.version, "nothing written"
    # Once read, the forgery is named and the genuine metadata goes in.
    pipeline.run(job.job_id, force=True)
    record = kho.repo.get(record.record_id, actor=clerk)
    with pytest.raises(KhoError) as named:
        kho.receive.confirm(
            record.record_id, incoming_signed(SEED, **FORGED), expected_version=record.version, actor=clerk
        )
    assert named.value.code == "METADATA_MISMATCH"
    assert [m["field"] for m in named.value.details["mismatches"]] == ["code", "issued_date"]
    done = kho.receive.confirm(
        record.record_id, incoming_signed(SEED), expected_version=record.version, actor=clerk
    )
    assert done.registration is not None


def test_a_copy_registered_again_from_a_copy_is_compared_with_the_first_reading(
    client: FlaskClient, kho: Kho, people: People, pdf: bytes
) -> None:
    clerk = people.actor("van_thu")
    first = post_incoming(client, people, pdf, incoming_signed(SEED))
    assert first.status_code == 201, first.json
    again = post_incoming(client, people, pdf, incoming_signed(SEED), duplicate_reason="Gửi lại")
    assert again.status_code == 201, again.json
    copy = again.json["record_id"]
    assert copy != first.json["record_id"]
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            copy,
            incoming_signed(SEED, **FORGED),
            expected_version=kho.repo.get(copy, actor=clerk).version,
            actor=clerk,
            duplicate_reason="Gửi lại lần hai",
        )
    assert info.value.code == "METADATA_MISMATCH", info.value.code
    assert [m["field"] for m in info.value.details["mismatches"]] == ["code", "issued_date"]
    assert _registered(kho) == [first.json["record_id"], copy]
    # The genuine metadata registers the third copy, read from the first registration.
    third = kho.receive.confirm(
        copy,
        incoming_signed(SEED),
        expected_version=kho.repo.get(copy, actor=clerk).version,
        actor=clerk,
        duplicate_reason="Gửi lại lần hai",
    )
    assert third.registration is not None
    assert third.extra["registered_again_from"] == first.json["record_id"]


@pytest.mark.parametrize(
    "typed", ["UBND TP.Hà Nội", "Ủy ban nhân dân TP.Hà Nội", "UBND TP. Hà Nội", "UBND Thành phố Hà Nội,"]
)
def test_an_abbreviation_written_without_its_space_is_the_same_sender(typed: str) -> None:
    """ "TP.Hà Nội" (no space after the dot, as văn thư often type it) was a mismatch with the seal
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI": a genuine document needed an override."""
    md = parse_document(incoming(organ_name=typed, issued_date="2026-03-05"), Direction.DEN)
    seal = PdfIdentity(agencies=(SealAgency("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"),))
    assert metadata_mismatches(md, seal) == ()
    neighbour = PdfIdentity(agencies=(SealAgency("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NAM"),))
    assert [m.field for m in metadata_mismatches(md, neighbour)] == ["organ_name"]


def test_a_document_verified_before_a9_is_compared_with_its_stored_seal(
    kho: Kho, people: People, pdf: bytes
) -> None:
    """A document received before a9 waits in intake with its verdict but without
    ``signature_organisations`` (ingest did not keep them yet): the sender was not compared at all,
    so any agency could be typed for a PDF sealed by "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"."""
    from repository.records import SYSTEM

    clerk = people.actor("van_thu")
    review = kho.receive.receive(pdf, "qd.pdf", "den", clerk)
    old = kho.repo.set_extra(  # as a9's predecessor left it: no organisation names
        review.record.record_id, {"signature_organisations": None}, actor=SYSTEM, action="ingest:signatures"
    )
    assert old.extra.get("signature_verdict") and not old.extra.get("signature_organisations")
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            old.record_id,
            incoming_signed(SEED, organ_name="Bộ Nội vụ"),
            expected_version=old.version,
            actor=clerk,
        )
    assert info.value.code == "METADATA_MISMATCH", info.value.code
    [mismatch] = info.value.details["mismatches"]
    assert mismatch["field"] == "organ_name" and "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM" in mismatch["pdf"]
    assert _registered(kho) == []
    done = kho.receive.confirm(
        old.record_id, incoming_signed(SEED), expected_version=old.version, actor=clerk
    )
    assert done.registration is not None
