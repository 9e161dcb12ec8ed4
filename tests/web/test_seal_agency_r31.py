"""Attacks on a10's fix through the real app (r31): real sealed PDFs, real pyHanko, the real store.

* The "unit within" tail: a Sở's seal typed "Ủy ban nhân dân tỉnh Thử Nghiệm - Sở Tài chính"
  (the parent, then the Sở) was registered by a10 (201); main refused it (409).
* A record verified before a10 keeps only a9's flat list; a10 works the agencies out again from
  its stored ``signatures.json``. When that object is missing or does not open (deleted, or
  rewritten without the record's key), a10 read "no trusted agency" and registered the document
  under any sender typed ("Bộ Quốc phòng" too), where main still compared the flat list and
  refused a sender outside it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People, make_people
from kho_testing import SO_NAME, SO_PARENT, incoming, numbered_incoming, s3_options, s3_store_env
from kho_web import cli_as, login, post, post_incoming, text

from ingest.pipeline import SIGNATURES_DERIVED
from kho.config import Settings
from kho.errors import KhoError
from repository.records import SYSTEM
from web.cli import main
from web.context import Kho


@pytest.mark.parametrize(
    "organ", ["Ủy ban nhân dân tỉnh Thử Nghiệm - Sở Tài chính", "Văn phòng Chính phủ, Sở Tài chính"]
)
def test_a_head_naming_another_body_is_refused_through_the_api(
    client: FlaskClient, people: People, kho: Kho, so_pdf: bytes, organ: str
) -> None:
    forged = post_incoming(client, people, so_pdf, incoming(organ_name=organ))
    assert forged.status_code == 409, forged.json
    assert forged.json["error"]["code"] == "METADATA_MISMATCH"
    assert [m["field"] for m in forged.json["error"]["details"]["mismatches"]] == ["organ_name"]
    assert numbered_incoming(kho) == [], "nothing numbered"
    unit = post_incoming(client, people, so_pdf, incoming(organ_name="Phòng Quản lý ngân sách, Sở Tài chính"))
    assert unit.status_code == 201, unit.json


def test_the_cli_refuses_a_head_naming_the_parent(
    people: People, kho: Kho, so_pdf: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "cv.pdf"
    source.write_bytes(so_pdf)
    typed = [f"{k}={v}" for k, v in incoming(organ_name="UBND tỉnh Thử Nghiệm, Sở Tài chính").items()]
    refused = cli_as(people, "van_thu").invoke(
        main, ["record", "create", "--direction", "den", "--file", str(source), *typed]
    )
    assert refused.exit_code == 2 and "METADATA_MISMATCH" in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert numbered_incoming(kho) == []


def _verified_before_a10(kho: Kho, people: People, pdf: bytes) -> Any:
    """An intake record as a9 left it: the flat list, no ``signature_agencies``."""
    review = kho.receive.receive(pdf, "cv.pdf", "den", people.actor("van_thu"))
    return kho.repo.set_extra(
        review.record.record_id,
        {"signature_agencies": None, "signature_organisations": [SO_PARENT, SO_NAME]},
        actor=SYSTEM,
        action="ingest:signatures",
    )


@pytest.mark.parametrize("damage", ["deleted", "rewritten"])
def test_a_pre_a10_record_whose_signature_report_is_lost_is_not_registered_under_any_sender(
    client: FlaskClient, kho: Kho, people: People, so_pdf: bytes, damage: str
) -> None:
    old = _verified_before_a10(kho, people, so_pdf)
    key = f"records/{old.record_id}/derived/{SIGNATURES_DERIVED}"
    if damage == "deleted":
        kho.repo.store.delete(key)
    else:
        kho.repo.store.put(key, b'{"signatures": [], "verdict": "unsigned"}')
    clerk = people.actor("van_thu")
    for organ in (SO_PARENT, "Bộ Quốc phòng"):
        with pytest.raises(KhoError) as info:
            kho.receive.confirm(
                old.record_id, incoming(organ_name=organ), expected_version=old.version, actor=clerk
            )
        assert info.value.code == "SIGNATURES_NOT_CHECKED", info.value
        assert "kho ingest retry" in info.value.message
    answer = client.post(
        f"/api/intake/{old.record_id}/confirm",
        json={
            "metadata": incoming(organ_name=SO_NAME),
            "expected_version": old.version,
            "override_reason": "x",
        },
        headers=people.headers("van_thu"),
    )
    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "SIGNATURES_NOT_CHECKED"
    cli = cli_as(people, "van_thu")
    typed = [f"{k}={v}" for k, v in incoming(organ_name="Bộ Quốc phòng").items()]
    refused = cli.invoke(
        main, ["intake", "confirm", old.record_id, "--expected-version", str(old.version), *typed]
    )
    assert refused.exit_code == 2 and "SIGNATURES_NOT_CHECKED" in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert numbered_incoming(kho) == []
    assert kho.repo.get(old.record_id, actor=clerk).version == old.version, "nothing written"


def test_a_pre_a9_record_without_any_list_or_report_still_registers(
    kho: Kho, people: People, so_pdf: bytes
) -> None:
    """What already held on main: a record a9 stored no flat list for, nor any report, says
    nothing about its sender; a10's rule is not asked (an empty flat list: no trusted agency)."""
    review = kho.receive.receive(so_pdf, "cv.pdf", "den", people.actor("van_thu"))
    old = kho.repo.set_extra(
        review.record.record_id,
        {"signature_agencies": None, "signature_organisations": []},
        actor=SYSTEM,
        action="ingest:signatures",
    )
    kho.repo.store.delete(f"records/{old.record_id}/derived/{SIGNATURES_DERIVED}")
    done = kho.receive.confirm(
        old.record_id,
        incoming(organ_name="Bộ Quốc phòng"),
        expected_version=old.version,
        actor=people.actor("van_thu"),
    )
    assert done.registration is not None


@pytest.mark.s3
def test_on_s3_a_lost_signature_report_is_refused_too(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, so_pdf: bytes
) -> None:
    """The same attack on the real S3 gateway (a deleted object answers 404 there, not a missing file)."""
    options = s3_options()
    assert options is not None, "KHO_TEST_S3_ENDPOINT is not set"
    for name, value in s3_store_env(options, "r31-report").items():
        monkeypatch.setenv(name, value)
    kho = Kho(Settings.from_env())
    try:
        people = make_people(kho)
        old = _verified_before_a10(kho, people, so_pdf)
        kho.repo.store.delete(f"records/{old.record_id}/derived/{SIGNATURES_DERIVED}")
        with pytest.raises(KhoError) as info:
            kho.receive.confirm(
                old.record_id,
                incoming(organ_name="Bộ Quốc phòng"),
                expected_version=old.version,
                actor=people.actor("van_thu"),
            )
        assert info.value.code == "SIGNATURES_NOT_CHECKED"
        assert numbered_incoming(kho) == []
    finally:
        kho.close()


def test_the_intake_page_refuses_a_lost_report_with_its_message(
    web: FlaskClient, people: People, kho: Kho, so_pdf: bytes
) -> None:
    old = _verified_before_a10(kho, people, so_pdf)
    kho.repo.store.delete(f"records/{old.record_id}/derived/{SIGNATURES_DERIVED}")
    login(web, people, "van_thu")
    page = f"/intake/{old.record_id}"
    typed = {
        **incoming(organ_name="Bộ Quốc phòng", issued_date="02/03/2026"),
        "expected_version": str(old.version),
    }
    refused = post(web, page + "/confirm", typed, page)
    assert refused.status_code == 409
    assert "Báo cáo kiểm tra chữ ký số" in html.unescape(text(refused))
    assert numbered_incoming(kho) == []
