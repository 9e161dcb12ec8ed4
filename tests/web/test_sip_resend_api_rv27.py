"""rv27: the import API's door for a package accepted before. The same package again is refused
``SIP_REPLAYED`` (422, naming the earlier import); a corrected re-send is refused ``SIP_RESENT``
until the form says ``resend=1``, then taken as the package's next version."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from kho_people import People
from kho_sip import good_package, replace_document, zipped
from kho_testing import pdf_bytes

from web.context import Kho

URL = "/api/retention/transfers/import"


def _send(client: FlaskClient, people: People, archive: Path, **form: str) -> tuple[int, dict[str, object]]:
    with archive.open("rb") as fh:
        answer = client.post(
            URL, data={"file": (fh, "goi-tin.zip"), **form}, headers=people.headers("luu_tru")
        )
    return answer.status_code, answer.get_json()


def test_the_api_refuses_a_replay_and_takes_a_resend_only_when_the_form_says_so(
    kho: Kho, people: People, client: FlaskClient, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    first = zipped(root, tmp_path / "first.zip")
    status, accepted = _send(client, people, first)
    assert status == 200 and accepted["package_version"] == 1

    status, answer = _send(client, people, first)
    assert status == 422 and answer["error"]["code"] == "SIP_REPLAYED"
    assert answer["error"]["details"]["earlier_import"] == accepted["import_id"]

    replace_document(root, "representations/rep1/data/001_cv0.pdf", pdf_bytes("corrected"))
    corrected = zipped(root, tmp_path / "corrected.zip")
    status, answer = _send(client, people, corrected)
    assert status == 422 and answer["error"]["code"] == "SIP_RESENT"

    status, second = _send(client, people, corrected, resend="1")
    assert status == 200 and second["package_version"] == 2 and second["replaces"] == accepted["import_id"]
