"""Nộp lưu: who sees a submitted or archived hồ sơ (policy.receives_submission). ND30 Điều 30
k3, Điều 31 k3 c: the units of an agency submit to its Lưu trữ cơ quan, which checks and receives
them. A lưu trữ viên receives the hồ sơ of their unit and the units below it, none above their
clearance; the inbox, the archived list, the review, acceptance and return all ask the same rule."""

from __future__ import annotations

from datetime import date

import pytest
from kho_people import AGENCY, UNIT_B, People, create_person
from kho_retention import closed_file
from kho_submission import submitted_by_phong_b, taken_in
from kho_testing import incoming, pdf_bytes

from kho.errors import NotFound, PermissionDenied
from repository.records import Actor, Record
from web.context import Kho


def _archivist_b(kho: Kho, people: People) -> Actor:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    head = kho.accounts.get(people.usernames["lanh_dao"])
    account, _ = create_person(
        kho.accounts, "Đinh Thị Lưu", UNIT_B, ("luu_tru",), 3, None, admin, confirmer=head
    )
    return kho.actor_of(account, "test")


def _submitted(kho: Kho, people: People, **kwargs: str) -> Record:
    file, _ = closed_file(kho, people, **kwargs)
    return kho.retention.submit(
        file.record_id, expected_version=file.version, actor=people.actor("chuyen_vien")
    )


def test_a_lưu_trữ_viên_of_a_phòng_does_not_receive_the_agency_s_hồ_sơ(kho: Kho, people: People) -> None:
    archivist_b = _archivist_b(kho, people)
    agency_archivist = people.actor("luu_tru")
    submitted = _submitted(kho, people)
    service = kho.retention
    assert [f.record_id for f in service.inbox(actor=agency_archivist)] == [submitted.record_id]
    assert service.inbox(actor=archivist_b) == []  # the hồ sơ of a unit above is not theirs
    for attempt in (
        lambda: service.review(submitted.record_id, actor=archivist_b),
        lambda: service.accept(submitted.record_id, expected_version=submitted.version, actor=archivist_b),
        lambda: service.return_file(
            submitted.record_id, reason="Thiếu", expected_version=submitted.version, actor=archivist_b
        ),
    ):
        # Not theirs to receive, nor to know of: refused as an absent id (a15); the audit keeps why.
        with pytest.raises(NotFound) as info:
            attempt()
        assert info.value.code == "NOT_FOUND"
    assert kho.repo._load(submitted.record_id).version == submitted.version  # nothing written
    denied = [e for e in kho.repo.audit.events() if e.action == "access:denied"]
    assert denied[-1].actor == archivist_b.user and denied[-1].record_id == submitted.record_id
    assert denied[-1].details["code"] == "SUBMISSION_OTHER_UNIT"

    # Accepted (its checks are the review's own tests): the archived list follows the same rule.
    archived = taken_in(kho, submitted)
    assert [f.record_id for f in service.archived(actor=agency_archivist)] == [archived.record_id]
    assert service.archived(actor=archivist_b) == []


def test_the_agency_s_archive_receives_the_hồ_sơ_of_a_phòng_below_it(kho: Kho, people: People) -> None:
    archivist_b = _archivist_b(kho, people)
    submitted = submitted_by_phong_b(kho, people)
    for archivist in (people.actor("luu_tru"), archivist_b):
        assert [f.record_id for f in kho.retention.inbox(actor=archivist)] == [submitted.record_id]
    assert kho.retention.review(submitted.record_id, actor=people.actor("luu_tru")).file.unit == UNIT_B


def test_a_hồ_sơ_holding_a_secret_document_is_not_listed_to_an_archivist_not_cleared(
    kho: Kho, people: People
) -> None:
    file, _ = closed_file(kho, people, end="", notation="12.MAT")
    secret = kho.repo.create_document(
        "den",
        incoming(code_number="9912", issued_date="2015-03-02", subject="Phương án XYZ", secrecy=1),
        pdf_bytes("secret-9912"),
        "mat.pdf",
        people.actor("van_thu"),
    )
    head = people.actor("lanh_dao")
    file = kho.repo.add_to_file(file.record_id, secret.record_id, expected_version=file.version, actor=head)
    file = kho.retention.close_file(
        file.record_id, end_date=date(2015, 12, 31), expected_version=file.version, actor=head
    )
    submitted = kho.retention.submit(file.record_id, expected_version=file.version, actor=head)
    archivist = people.actor("luu_tru")  # cleared for Thường only
    assert kho.retention.inbox(actor=archivist) == []
    with pytest.raises(PermissionDenied) as info:
        kho.retention.review(submitted.record_id, actor=archivist)
    assert info.value.code == "SECRECY_DENIED" and "XYZ" not in info.value.message
    assert [f.record_id for f in kho.retention.inbox(actor=_archivist_b(kho, people))] == []  # other unit
    assert kho.repo.facts(submitted).unit == AGENCY
