"""s19: an audit append through the API that meets a claim left by a writer killed on another
machine (S3 claims mode) answered 404 ``NOT_FOUND`` (the plain ``NotFound`` of
``get_after_conflict``, after 10 s); now 409 ``CLAIM_PENDING``, and once the claim is stale the
act goes through, the chain has no hole and ``kho audit verify`` passes. Real Ceph S3, the Flask
test client, the CLI through click's runner (the same environment)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_claims import chained_at, next_event_key, plant_dead_claim
from kho_people import People, make_people
from kho_retention import s3_env
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import Conflict
from repository.records import hold_key
from web.app import create_app
from web.cli import main
from web.context import Kho


@pytest.fixture
def s3_site(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Kho, People, Any]]:
    for name, value in s3_env(tmp_path / "s3").items():
        monkeypatch.setenv(name, value)
    installation = Kho(Settings.from_env())
    try:
        people = make_people(installation)
        yield installation, people, create_app(installation.settings, kho=installation).test_client()
    finally:
        installation.close()


@pytest.mark.s3
def test_the_api_answers_a_dead_claim_on_the_log_409_claim_pending_and_the_cli_verifies_after(
    s3_site: tuple[Kho, People, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    kho, people, client = s3_site
    store = kho.repo.store
    key = next_event_key(store)
    plant_dead_claim(store, key)

    answer = client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
    assert answer.status_code == 409, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert error["code"] == "CLAIM_PENDING"
    assert unicodedata.is_normalized("NFC", error["message"]) and "thử lại sau ít phút" in error["message"]
    assert "Traceback" not in answer.get_data(as_text=True)

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    again = client.get("/api/audit/verify", headers=people.headers("kiem_toan"))
    assert again.status_code == 200 and again.json["ok"] is True, again.json
    chained_at(store, key)
    monkeypatch.setenv("KHO_TOKEN", people.tokens["kiem_toan"])
    verified = CliRunner().invoke(main, ["audit", "verify", "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True


@pytest.mark.s3
def test_a_hold_meeting_a_dead_claim_on_its_key_is_refused_then_placed_once_stale(
    s3_site: tuple[Kho, People, Any],
) -> None:
    """A hold is idempotent per hold id (its key create-if-absent, the holder read when taken):
    a dead claim on the key answered the plain ``NotFound`` of ``get_after_conflict``."""
    kho, people, _client = s3_site
    store = kho.repo.store
    doc = kho.repo.create_document("den", incoming(), pdf_bytes("giữ"), "qd.pdf", people.actor("van_thu"))
    plant_dead_claim(store, hold_key(doc.record_id, "s19hold000000001"))

    head = people.actor("lanh_dao")
    with pytest.raises(Conflict) as refused:
        kho.repo.place_hold(doc.record_id, "s19hold000000001", "Thanh tra", actor=head)
    assert refused.value.code == "CLAIM_PENDING" and "thử lại sau ít phút" in str(refused.value)

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    placed = kho.repo.place_hold(doc.record_id, "s19hold000000001", "Thanh tra", actor=head)
    assert placed["hold_id"] == "s19hold000000001"
    assert store.exists(hold_key(doc.record_id, "s19hold000000001"))
