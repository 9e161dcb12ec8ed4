"""rv27 (rv24's open item): a package imported twice was accepted twice, each time audited as a
new package checked: the same METS OBJID again, the same documents under a new OBJID, or the
same OBJID with a document changed, all silently. Each accepted package is now a versioned
record of its OBJID and every file's SHA-256 (:mod:`retention.sip_replay`); a replay is refused
with ``SIP_REPLAYED`` naming the earlier import, and a corrected re-send is taken only when the
archivist says it is one, as the package's next version. Real services, real validator, real
pyHanko on the package's PDFs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_document, zipped
from kho_testing import pdf_bytes

from kho.errors import KhoError
from repository import formats
from web.context import Kho

FIRST = "representations/rep1/data/001_cv0.pdf"


def _checked(kho: Kho) -> list[dict[str, object]]:
    return [e.details for e in kho.repo.audit.events() if e.action == "transfer:import-checked"]


def test_the_same_package_imported_twice_is_refused_naming_the_earlier_import(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    archive = zipped(good_package(kho, people, tmp_path, docs=2), tmp_path / "package.zip")
    first = kho.import_package(archive, actor=people.actor("luu_tru"))
    again = tmp_path / "again.zip"  # the same bytes under another file name
    shutil.copy(archive, again)

    error = refused(kho, people, again)

    assert error.code == "SIP_REPLAYED"
    assert error.details["earlier_import"] == first["import_id"] and first["import_id"] in error.message
    assert error.details["earlier_object_id"] == first["object_id"]
    assert len(_checked(kho)) == 1  # one package accepted, once
    rejected = [e for e in kho.repo.audit.events() if e.action == "transfer:import-rejected"][-1]
    assert rejected.details["earlier_import"] == first["import_id"]
    with pytest.raises(KhoError) as info:  # saying it is a re-send does not make a replay one
        kho.import_package(again, actor=people.actor("luu_tru"), resend=True)
    assert info.value.code == "SIP_REPLAYED"


def test_the_same_documents_under_a_new_object_id_are_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=2)
    first = kho.import_package(zipped(root, tmp_path / "first.zip"), actor=people.actor("luu_tru"))
    mets = root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    mets.write_text(re.sub(r'OBJID="[^"]*"', 'OBJID="urn:kho:re-sent-under-a-new-id"', text, count=1))

    error = refused(kho, people, zipped(root, tmp_path / "renamed.zip"))

    assert error.code == "SIP_REPLAYED" and error.details["earlier_import"] == first["import_id"]
    assert first["object_id"] in error.message
    assert len(_checked(kho)) == 1


def test_a_corrected_resend_is_taken_only_when_the_archivist_says_so_as_the_next_version(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=2)
    archivist = people.actor("luu_tru")
    first = kho.import_package(zipped(root, tmp_path / "first.zip"), actor=archivist)
    assert first["package_version"] == 1 and first["replaces"] is None
    replace_document(root, FIRST, pdf_bytes("the corrected document"))
    corrected = zipped(root, tmp_path / "corrected.zip")

    error = refused(kho, people, corrected)  # not said to be a re-send: refused, the changes named
    assert error.code == "SIP_RESENT" and error.details["earlier_import"] == first["import_id"]
    # The document, and the manifests that state its digest (the package METS among them).
    assert error.details["changed"] == [
        "METS.xml",
        "metadata/preservation/premis.xml",
        "representations/rep1/METS.xml",
        FIRST,
    ]
    assert error.details["added"] == error.details["removed"] == [] and error.details["changes_total"] == 4

    second = kho.import_package(corrected, actor=archivist, resend=True)

    assert second["package_version"] == 2 and second["replaces"] == first["import_id"]
    assert FIRST in second["changes"]["changed"]
    assert [d["import_id"] for d in _checked(kho)] == [first["import_id"], second["import_id"]]
    versions = sorted(i.key for i in kho.repo.store.list("retention/sip-imports/"))
    assert len(versions) == 2  # the first version stays as it was accepted
    kept = formats.loads(formats.SIP_IMPORT.name, kho.repo.store.get(versions[0]))
    assert kept["import_id"] == first["import_id"] and kept["files"][FIRST] != second_digest(kho, versions[1])
    with pytest.raises(KhoError) as info:  # and the corrected one, sent again, is a replay
        kho.import_package(corrected, actor=archivist, resend=True)
    assert info.value.code == "SIP_REPLAYED" and info.value.details["earlier_import"] == second["import_id"]


def second_digest(kho: Kho, key: str) -> str:
    return str(formats.loads(formats.SIP_IMPORT.name, kho.repo.store.get(key))["files"][FIRST])


def test_a_resend_that_changes_only_the_package_mets_is_a_changed_one(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """The package METS is listed nowhere with a digest, but a re-send that corrects it (its
    label, its agent) is not the same package: it is recorded with the package's digests."""
    root = good_package(kho, people, tmp_path, docs=1)
    first = kho.import_package(zipped(root, tmp_path / "first.zip"), actor=people.actor("luu_tru"))
    mets = root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    assert 'LABEL="' in text
    mets.write_text(re.sub(r'LABEL="[^"]*"', 'LABEL="Hồ sơ đã sửa nhãn"', text, count=1), encoding="utf-8")

    error = refused(kho, people, zipped(root, tmp_path / "relabelled.zip"))

    assert error.code == "SIP_RESENT" and error.details["changed"] == ["METS.xml"]
    assert error.details["earlier_import"] == first["import_id"]
