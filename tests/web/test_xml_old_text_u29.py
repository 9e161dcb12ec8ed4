"""u29: every XML Kho writes is well-formed, whatever text was stored before the input rules
(rv54, left open). A trích yếu or a hồ sơ title stored before control characters were refused
(here ``\\x0b``, ``\\x01``, ``\\x1f``, U+FFFF) went as it was into the mục lục hồ sơ XML (a file a
strict parser refuses whole) and into the nộp lưu package's EAD (the E-ARK check refused the
export: the hồ sơ could never be sent). Each such character is now written as U+FFFD by the one
rule :func:`kho.xmltext.xml_safe`. The texts are planted the way old data is: a version written
by the repository layer below the input check, never through the API that refuses them.

And reading: a package from another agency whose XML holds ``&#1;`` is refused
``SIP_XML_INVALID`` with a Vietnamese message saying what and where, never a 500."""

from __future__ import annotations

import dataclasses
import importlib
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from kho_people import People
from kho_retention import closed_file
from kho_sip import good_package, replace_listed, zipped
from kho_web import login
from lxml import etree

from repository.records import SYSTEM
from web.context import Kho

OLD_SUBJECT = "Về việc\x0b\x01 tiếp nhận hồ sơ\uffff cũ"
SHOWN_SUBJECT = "Về việc\ufffd\ufffd tiếp nhận hồ sơ\ufffd cũ"
OLD_TITLE = "Hồ sơ\x1f lưu trữ\x08 cũ"
SHOWN_TITLE = "Hồ sơ\ufffd lưu trữ\ufffd cũ"


def _strict(xml: bytes) -> Any:
    """``xml`` parsed by lxml refusing anything not well-formed (no recovery)."""
    return etree.fromstring(xml, etree.XMLParser(recover=False, resolve_entities=False))


def _as_stored_long_ago(kho: Kho, record_id: str, **fields: str) -> None:
    """A new version of the record whose metadata holds ``fields`` as given: written by the
    repository layer below the input rules, as a text stored before them is."""
    repo = kho.repo
    current = repo._load(record_id)
    assert current.metadata is not None
    new = dataclasses.replace(
        current, version=current.version + 1, metadata=dataclasses.replace(current.metadata, **fields)
    )
    repo._write_version(current, new, SYSTEM, "record:update", {"fields": sorted(fields)})


def _old_file(kho: Kho, people: People, notation: str) -> tuple[str, str]:
    file, (doc_id,) = closed_file(kho, people, notation=notation, maintenance="Vĩnh viễn", docs=1)
    _as_stored_long_ago(kho, doc_id, subject=OLD_SUBJECT)
    _as_stored_long_ago(kho, file.record_id, title=OLD_TITLE)
    return file.record_id, doc_id


def test_the_rule_shows_each_character_xml_forbids_and_keeps_the_rest_in_nfc() -> None:
    xml_safe = importlib.import_module("kho.xmltext").xml_safe  # (before u29: no such module)
    for forbidden in ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"):
        assert xml_safe(f"a{forbidden}b") == "a\ufffdb", repr(forbidden)
    kept = "Tab\tLF\nCR\r – \x7f\u0085 ệ \ue000 \ufffd 𝄞"  # all of them XML 1.0 characters
    assert xml_safe(kept) == kept
    assert xml_safe("Quye\u0302\u0301t \u0111i\u0323nh") == unicodedata.normalize("NFC", "Quyết định")
    assert xml_safe("e\x01\u0301") == "e\ufffd\u0301"  # what followed it still follows it


def test_the_catalogue_xml_of_a_text_stored_long_ago_parses_and_shows_what_was_there(
    store_site: tuple[Kho, People, FlaskClient], tmp_path: Path
) -> None:
    kho, people, web = store_site
    file_id, _ = _old_file(kho, people, "07.TCCB")
    assert login(web, people, "chuyen_vien").status_code == 302
    answer = web.get(f"/files/{file_id}/catalogue.xml")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    tree = _strict(answer.data)  # before: "not well-formed (invalid token)"
    assert tree.findtext("Title") == SHOWN_TITLE
    assert tree.findtext("Documents/Document/Subject") == SHOWN_SUBJECT

    from kho_web import cli_as

    from web.cli import main

    target = tmp_path / "ho-so.xml"
    ran = cli_as(people, "chuyen_vien").invoke(
        main, ["file", "catalogue", file_id, "--format", "xml", "-o", str(target)]
    )
    assert ran.exit_code == 0, ran.output
    assert _strict(target.read_bytes()).findtext("Documents/Document/Subject") == SHOWN_SUBJECT
    stored = kho.repo._load(file_id).metadata
    assert stored is not None and stored.title == OLD_TITLE  # the store keeps what it holds


def test_a_transfer_package_of_a_text_stored_long_ago_is_exported_well_formed(
    store_site: tuple[Kho, People, FlaskClient],
) -> None:
    kho, people, client = store_site
    file_id, _ = _old_file(kho, people, "08.VP")
    answer = client.post(
        "/api/retention/transfers", json={"file_id": file_id}, headers=people.headers("luu_tru")
    )
    # before: 422 SIP_INVALID (the E-ARK check could not read the EAD), the hồ sơ never sent
    assert answer.status_code == 201, answer.get_data(as_text=True)[:500]
    package = kho.settings.data_dir / "transfers" / answer.json["package"]
    with zipfile.ZipFile(io.BytesIO(package.read_bytes())) as zf:
        xmls = {n: zf.read(n) for n in zf.namelist() if n.endswith(".xml")}
    assert len(xmls) >= 4  # METS, representation METS, EAD, PREMIS
    trees = {name: _strict(data) for name, data in xmls.items()}
    [ead] = [t for n, t in trees.items() if n.endswith("metadata/descriptive/ead.xml")]
    ns = {"ead": "urn:isbn:1-931666-22-9"}
    assert ead.findtext(".//ead:titleproper", namespaces=ns) == SHOWN_TITLE
    titles = [t.text for t in ead.iterfind(".//ead:c/ead:did/ead:unittitle", ns)]
    assert len(titles) == 1 and titles[0].endswith(SHOWN_SUBJECT)
    [root_mets] = [t for n, t in trees.items() if n.count("/") == 1 and n.endswith("/METS.xml")]
    assert root_mets.get("LABEL") == SHOWN_TITLE  # an attribute value, too


def test_a_package_whose_xml_holds_a_character_reference_xml_forbids_is_refused_with_a_code(
    kho: Kho, people: People, client: FlaskClient, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1, notation="09.VP")
    ead_path = "metadata/descriptive/ead.xml"
    ead = (root / ead_path).read_text(encoding="utf-8")
    sent, count = re.subn(r"(<ead:titleproper>)", r"\1Hồ sơ&#1;&#x1F; ", ead, count=1)
    assert count == 1
    replace_listed(root, ead_path, sent.encode())  # its checksums fixed: only the XML is wrong
    archive = zipped(root, tmp_path / "goi-tin.zip")
    with archive.open("rb") as fh:
        answer = client.post(
            "/api/retention/transfers/import",
            data={"file": (fh, "goi-tin.zip")},
            headers=people.headers("luu_tru"),
        )
    assert answer.status_code == 422, answer.get_data(as_text=True)[:500]
    error = answer.json["error"]
    assert error["code"] == "SIP_XML_INVALID"
    message = error["message"]
    assert message == unicodedata.normalize("NFC", message)
    assert ead_path in message and "ký tự điều khiển" in message and "&#1;" in message
    assert re.search(r"dòng \d+, cột \d+", message), message
