"""The historical archive's biên bản giao nhận of a nộp lưu package: a reference with a hidden
character (a control character, a bidi override, a line break) is refused with a code before
anything is written; the package stays exported and its hồ sơ may still be received once."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_people import People
from kho_retention import closed_file

from retention.sip import Transfers
from web.context import Kho

BAD = ["Biên bản\x00 số 3", "Biên bản số 3\u202e", "Biên bản\r\nsố 3", "Biên bản số 3\x07"]


@pytest.fixture
def exported(kho: Kho, people: People, tmp_path: Path) -> str:
    """A package of a closed permanent hồ sơ, exported, waiting for the archive's receipt."""
    file, _ = closed_file(kho, people, notation="01.VP", maintenance="Vĩnh viễn", docs=1)
    done = Transfers(kho.repo).export(file.record_id, tmp_path / "out", actor=people.actor("luu_tru"))
    return str(done["transfer_id"])


def test_a_receipt_reference_with_a_hidden_character_is_refused(
    kho: Kho, people: People, client: FlaskClient, exported: str
) -> None:
    url = f"/api/retention/transfers/{exported}/receipt"
    headers = people.headers("luu_tru")
    for reference in BAD:
        answer = client.post(url, json={"reference": reference}, headers=headers)
        assert answer.status_code == 422, (reference, answer.get_data(as_text=True)[:300])
        error = answer.json["error"]
        assert error["code"] == "FIELD_CONTROL_CHARS", error
        assert error["details"]["errors"][0]["field"] == "reference"
        assert "ký tự điều khiển" in error["message"]
    [transfer] = Transfers(kho.repo).list(actor=people.actor("luu_tru"))
    assert transfer["state"] == "exported" and transfer["receipt"] is None
    assert not [e for e in kho.repo.audit.events() if e.action == "transfer:receipt"]
    typed = "Bie\u0302n ba\u0309n số 03/BB-LTLS"  # decomposed, as some keyboards send it
    answer = client.post(url, json={"reference": typed}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.json["receipt"]["ref"] == "Biên bản số 03/BB-LTLS"  # stored in NFC
