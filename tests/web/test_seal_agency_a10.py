"""A sub-unit's seal typed as its parent (a10), through the real app, CLI and pipeline.

The PDFs are real công văn sealed with a certificate the trusted test CA issued as VGCA issues a
Sở's seal: CN "Sở Tài chính", O "UBND tỉnh Thử Nghiệm" (``ingest.testpki.agency_seal``). On a9 a
văn thư (or a sending system) who typed the sender "UBND tỉnh Thử Nghiệm" got it registered: the
seal proves the Sở sent it, not the UBND.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_testing import SO_NAME, SO_PARENT, incoming, numbered_incoming, sealed_cong_van
from kho_web import cli_as, login, post, post_incoming, text, upload

from kho.errors import KhoError
from repository import formats
from repository.records import SYSTEM
from web.cli import main
from web.context import Kho

PARENT = SO_PARENT
SO = SO_NAME
_registered = numbered_incoming


def test_a_sos_seal_typed_as_its_ubnd_is_refused_through_the_api(
    client: FlaskClient, people: People, kho: Kho, so_pdf: bytes
) -> None:
    forged = post_incoming(client, people, so_pdf, incoming(organ_name=PARENT))
    assert forged.status_code == 409, forged.json
    error = forged.json["error"]
    assert error["code"] == "METADATA_MISMATCH"
    [mismatch] = error["details"]["mismatches"]
    assert mismatch["field"] == "organ_name" and mismatch["typed"] == PARENT
    assert mismatch["pdf"] == f"{SO} ({PARENT})"
    assert "Cơ quan ban hành" in error["message"] and SO in error["message"]
    assert _registered(kho) == [], "nothing numbered"
    genuine = post_incoming(client, people, so_pdf, incoming(organ_name="Sở Tài chính tỉnh Thử Nghiệm"))
    assert genuine.status_code == 201, genuine.json
    stored = kho.repo.get(genuine.json["record_id"], actor=people.actor("van_thu")).extra[
        "signature_agencies"
    ]
    assert stored == {
        formats.FORMAT_KEY: 1,
        "agencies": [{"kind": "seal", "cn": SO, "o": PARENT, "ou": ""}],
    }


def test_the_re_sent_copy_typed_as_the_parent_is_refused(
    client: FlaskClient, people: People, kho: Kho, so_pdf: bytes
) -> None:
    first = post_incoming(client, people, so_pdf, incoming(organ_name=SO))
    assert first.status_code == 201, first.json
    again = post_incoming(client, people, so_pdf, incoming(organ_name=PARENT), duplicate_reason="Gửi lại")
    assert again.status_code == 409 and again.json["error"]["code"] == "METADATA_MISMATCH", again.json
    assert _registered(kho) == [first.json["record_id"]]


def test_the_cli_refuses_a_sos_seal_typed_as_its_ubnd(
    people: People, kho: Kho, so_pdf: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "cv.pdf"
    source.write_bytes(so_pdf)
    cli = cli_as(people, "van_thu")
    pairs = [f"{k}={v}" for k, v in incoming(organ_name=PARENT).items()]
    refused = cli.invoke(main, ["record", "create", "--direction", "den", "--file", str(source), *pairs])
    assert refused.exit_code == 2 and "METADATA_MISMATCH" in refused.output, refused.output
    assert "Traceback" not in refused.output and SO in refused.output
    assert _registered(kho) == []
    # kho ingest, then kho intake confirm: the same rule.
    taken = cli.invoke(main, ["ingest", str(source), "--workers", "1", "--json"])
    assert taken.exit_code == 0, taken.output
    rid = json.loads(taken.output)["items"][0]["record_id"]
    version = str(json.loads(cli.invoke(main, ["intake", "show", rid, "--json"]).output)["record"]["version"])
    confirm = ["intake", "confirm", rid, "--expected-version", version]
    again = cli.invoke(main, [*confirm, *pairs])
    assert again.exit_code == 2 and "METADATA_MISMATCH" in again.output, again.output
    ok = [f"{k}={v}" for k, v in incoming(organ_name="Sở TC tỉnh Thử Nghiệm").items()]
    done = cli.invoke(main, [*confirm, *ok, "--json"])
    assert done.exit_code == 0, done.output
    assert _registered(kho) == [rid]


def test_the_intake_page_refuses_a_sos_seal_typed_as_its_ubnd_and_asks_the_reason(
    web: FlaskClient, people: People, kho: Kho, so_pdf: bytes
) -> None:
    login(web, people, "van_thu")
    review_path = upload(web, so_pdf, "cv.pdf")
    version = re.search(r'name="expected_version" value="(\d+)"', text(web.get(review_path))).group(1)  # type: ignore[union-attr]
    typed = {**incoming(organ_name=PARENT, issued_date="02/03/2026"), "expected_version": version}
    refused = post(web, review_path + "/confirm", typed, review_path)
    assert refused.status_code == 409
    shown = html.unescape(text(refused))
    assert f"{SO} ({PARENT})" in shown and 'name="override_reason"' in shown
    assert _registered(kho) == []
    corrected = {**typed, "organ_name": "Sở Tài chính tỉnh Thử Nghiệm"}
    assert post(web, review_path + "/confirm", corrected, review_path).status_code == 302
    assert len(_registered(kho)) == 1


def _received(kho: Kho, people: People, pdf: bytes) -> Any:
    return kho.receive.receive(pdf, "cv.pdf", "den", people.actor("van_thu"))


def test_a_document_verified_before_a10_is_read_from_its_stored_signatures(
    kho: Kho, people: People, so_pdf: bytes
) -> None:
    """Stored by a9: the flat list (which has "UBND tỉnh Thử Nghiệm" in it, the seal's O) and no
    ``signature_agencies``. The flat list is not trusted: the agencies are worked out again from
    ``signatures.json``."""
    review = _received(kho, people, so_pdf)
    old = kho.repo.set_extra(
        review.record.record_id,
        {"signature_agencies": None, "signature_organisations": [PARENT, SO]},
        actor=SYSTEM,
        action="ingest:signatures",
    )
    assert old.extra.get("signature_agencies") is None
    clerk = people.actor("van_thu")
    with pytest.raises(KhoError) as info:
        kho.receive.confirm(
            old.record_id, incoming(organ_name=PARENT), expected_version=old.version, actor=clerk
        )
    assert info.value.code == "METADATA_MISMATCH"
    assert _registered(kho) == []
    done = kho.receive.confirm(
        old.record_id, incoming(organ_name=SO), expected_version=old.version, actor=clerk
    )
    assert done.registration is not None


def test_a_newer_stored_format_is_refused_with_its_code(
    client: FlaskClient, kho: Kho, people: People, so_pdf: bytes
) -> None:
    review = _received(kho, people, so_pdf)
    newer = kho.repo.set_extra(
        review.record.record_id,
        {"signature_agencies": {formats.FORMAT_KEY: 2, "agencies": [], "issuers": []}},
        actor=SYSTEM,
        action="ingest:signatures",
    )
    answer = client.post(
        f"/api/intake/{newer.record_id}/confirm",
        json={"metadata": incoming(organ_name=SO), "expected_version": newer.version},
        headers=people.headers("van_thu"),
    )
    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "FORMAT_UNSUPPORTED"
    assert "định dạng" in answer.json["error"]["message"]
    assert _registered(kho) == []
    assert kho.repo.get(newer.record_id, actor=SYSTEM).version == newer.version, "nothing written"


def test_use_suggestions_takes_the_so_of_a_code_with_its_year(
    people: People, kho: Kho, tmp_path: Path
) -> None:
    """NOTES-a9, found not fixed: "30/2020/NĐ-CP" was suggested as số "30", ký hiệu
    "2020/NĐ-CP", which the metadata check refuses (``CODE_NOTATION_INVALID``)."""
    source = tmp_path / "nd.pdf"
    source.write_bytes(sealed_cong_van(62, printed=True, code="30/2020/NĐ-CP"))
    cli = cli_as(people, "van_thu")
    taken = cli.invoke(main, ["ingest", str(source), "--workers", "1", "--json"])
    assert taken.exit_code == 0, taken.output
    rid = json.loads(taken.output)["items"][0]["record_id"]
    review = json.loads(cli.invoke(main, ["intake", "show", rid, "--json"]).output)
    assert review["suggested"]["code_number"] == "30" and review["suggested"]["code_notation"] == "NĐ-CP"
    typed = {k: v for k, v in incoming().items() if k not in ("code_number", "code_notation", "issued_date")}
    done = cli.invoke(
        main,
        [
            "intake",
            "confirm",
            rid,
            "--expected-version",
            str(review["record"]["version"]),
            "--use-suggestions",
            *[f"{k}={v}" for k, v in typed.items()],
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    record = json.loads(done.output)
    assert (record["metadata"]["code_number"], record["metadata"]["code_notation"]) == ("30", "NĐ-CP")
