"""rv17: an XML file of an imported package whose declaration names an encoding Python does not
know (a Vietnamese legacy one, “TCVN3”, “VNI-Windows”). The parser raises LookupError, which is
not a ValueError: it escaped the XML check as a traceback (500 through the API), and the
refusal was not audited. It is SIP_XML_INVALID, saying to send the files in UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_listed, zipped

from web.app import create_app
from web.context import Kho


def _declared(text: str, encoding: str) -> bytes:
    return (f"<?xml version='1.0' encoding='{encoding}'?>" + text.split("?>", 1)[1]).encode()


@pytest.mark.parametrize("encoding", ["x-tcvn3", "VNI-Windows"])
@pytest.mark.parametrize("listed", ["METS.xml", "metadata/descriptive/ead.xml"])
def test_an_xml_file_in_an_encoding_python_does_not_know_is_refused_with_a_code(
    kho: Kho, people: People, tmp_path: Path, listed: str, encoding: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    hostile = _declared((root / listed).read_text(encoding="utf-8"), encoding)
    if listed == "METS.xml":
        (root / listed).write_bytes(hostile)
    else:
        replace_listed(root, listed, hostile)
    error = refused(kho, people, zipped(root, tmp_path / "encoding.zip"))
    assert error.code == "SIP_XML_INVALID" and listed.rsplit("/", 1)[-1] in error.message
    assert "UTF-8" in error.message and error.details["file"] == listed


def test_through_the_api_it_is_a_422_not_a_500(kho: Kho, people: People, tmp_path: Path) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    (root / "METS.xml").write_bytes(_declared((root / "METS.xml").read_text(encoding="utf-8"), "x-tcvn3"))
    archive = zipped(root, tmp_path / "encoding.zip")
    client = create_app(kho.settings, kho=kho).test_client()
    with archive.open("rb") as fh:
        answer = client.post(
            "/api/retention/transfers/import",
            data={"file": (fh, "goi-tin.zip")},
            headers=people.headers("luu_tru"),
        )
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"]["code"] == "SIP_XML_INVALID"
