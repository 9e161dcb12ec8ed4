"""The API and the same văn bản đến written differently (a8), on the real Flask app: a sender
spelt with the other tone-mark placement or a Cyrillic letter is the same document (409
DUPLICATE_DOCUMENT), a ký hiệu with a look-alike letter is refused (422 CODE_LOOKALIKE_CHARS,
a Vietnamese NFC message), and the register keeps one entry."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming, plain_page, sealed_cong_van

from repository import records as records_module
from web.cli import main
from web.context import Kho


def _post(client: FlaskClient, people: People, pdf: bytes, **fields: Any) -> Any:
    return client.post(
        "/api/records",
        data={
            "direction": "den",
            "metadata": json.dumps(incoming(**fields)),
            "file": (io.BytesIO(pdf), "cv.pdf"),
        },
        headers=people.headers("van_thu"),
    )


@pytest.fixture(scope="module")
def papers() -> dict[str, bytes]:
    """The công văn of "UBND xã Hòa Bình" these tests register (sealed by it: a PDF sealed by
    another agency is refused as a forged sender since a9), and an unsigned page with no số or
    date, which contradicts nothing typed: here only the typed sender is compared with the register."""
    return {
        "hoa-binh": sealed_cong_van(1, "ỦY BAN NHÂN DÂN XÃ HÒA BÌNH"),
        "plain": plain_page("Cong van gui lai"),
    }


def test_the_same_document_spelt_differently_is_refused_by_the_api(
    client: FlaskClient, people: People, papers: dict[str, bytes]
) -> None:
    first = _post(client, people, papers["hoa-binh"], organ_name="UBND xã Hòa Bình", code_notation="UBND-VP")
    assert first.status_code == 201, first.json
    for organ in ("UBND xã Hoà Bình", "UВND xã Hòa Bình", "UBND xã Hòa\u200b Bình"):
        again = _post(client, people, papers["plain"], organ_name=organ, code_notation="UBND-VP")
        assert again.status_code == 409, (organ, again.json)
        assert again.json["error"]["code"] == "DUPLICATE_DOCUMENT"
    lookalike = _post(client, people, papers["plain"], organ_name="UBND xã Hòa Bình", code_notation="UBND-VР")
    assert lookalike.status_code == 422, lookalike.json
    error = lookalike.json["error"]
    fields = {e["field"]: e["code"] for e in error["details"]["errors"]}
    assert fields == {"code_notation": "CODE_LOOKALIKE_CHARS"}
    assert error["message"] == unicodedata.normalize("NFC", error["message"])
    register = client.get("/api/registers/den/2026", headers=people.headers("van_thu"))
    assert register.status_code == 200
    assert [e["record_id"] for e in register.json["items"]] == [first.json["record_id"]]


def test_kho_duplicate_guards_migrates_a_record_registered_before(
    client: FlaskClient, people: People, kho: Kho, papers: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kho duplicate-guards`` (operator): a document registered before a8 with the sender "Hoà"
    is then caught when sent again as "Hòa" (before the migration it got a second number)."""
    with monkeypatch.context() as old_kho:
        old_kho.setattr(records_module, "duplicate_key", records_module.legacy_duplicate_key)
        old = kho.repo.create_document(
            "den", incoming(organ_name="UBND xã Hoà Bình"), None, None, people.actor("van_thu")
        )
    done = CliRunner().invoke(main, ["duplicate-guards", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.splitlines()[-1]) == {"checked": 1, "taken": 1, "shared": []}
    again = _post(client, people, papers["hoa-binh"], organ_name="UBND xã Hòa Bình")
    assert again.status_code == 409 and again.json["error"]["code"] == "DUPLICATE_DOCUMENT"
    assert again.json["error"]["details"]["existing_record_id"] == old.record_id


def test_kho_trust_add_stores_what_the_terminal_gave_in_nfd_as_nfc(
    env: dict[str, str], kho: Kho, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A terminal (macOS's among them) may hand arguments over in NFD: ``kho trust add --note``
    stored the note and the source as given (not read through typed_text),
    and a bidi override in them too."""
    from ingest.signatures import trustlist
    from ingest.testpki import TestPKI

    monkeypatch.delenv("KHO_TRUST_DIR")
    runner = CliRunner()
    login = runner.invoke(
        main, ["login", people.usernames["quan_tri"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    root = tmp_path / "root.der"
    root.write_bytes(TestPKI.build().root.cert_der)
    note = unicodedata.normalize("NFD", "Ban Cơ yếu Chính phủ")
    source = unicodedata.normalize("NFD", "Công văn số 12/BCY-VP")
    refused = runner.invoke(main, ["trust", "add", str(root), "--source", source, "--note", "gia\u202emạo"])
    assert refused.exit_code == 2 and "FIELD_CONTROL_CHARS" in refused.output
    added = runner.invoke(main, ["trust", "add", str(root), "--source", source, "--note", note, "--json"])
    assert added.exit_code == 0, added.output
    digest = json.loads(added.output)["sha256"]
    stored = [a for a in trustlist.read(Path(env["KHO_DATA_DIR"]) / "trust").anchors if a.sha256 == digest]
    assert [(a.note, a.source) for a in stored] == [("Ban Cơ yếu Chính phủ", "Công văn số 12/BCY-VP")]
