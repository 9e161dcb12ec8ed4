"""rv17: the OBJID of an imported package is shown to the person importing it and kept in the
audit chain (``transfer:import-checked``), which nothing may shorten. It had no bound: a package
whose OBJID was 5,000,000 characters passed every check, and each import of it wrote 5 MB into
the chain. An OBJID names the package's root folder (CSIP1): 255 characters at most."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped

from retention.sip_import import MAX_OBJID, import_package
from web.context import Kho


def _with_object_id(root: Path, object_id: str) -> None:
    mets = root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    mets.write_text(re.sub(r'OBJID="[^"]*"', f'OBJID="{object_id}"', text, count=1), encoding="utf-8")


@pytest.mark.parametrize("length", [MAX_OBJID + 1, 20_000])
def test_a_package_with_an_object_id_longer_than_a_folder_name_is_refused(
    kho: Kho, people: People, tmp_path: Path, length: int
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    object_id = ("urn:kho:" + "0123456789" * (length // 10 + 1))[:length]
    _with_object_id(root, object_id)
    error = refused(kho, people, zipped(root, tmp_path / "long.zip"))
    assert error.code == "SIP_METS_INVALID" and "OBJID" in error.message and str(length) in error.message
    assert error.details["field"] == "mets/@OBJID" and object_id not in error.message
    assert not any(object_id in str(e.details) for e in kho.repo.audit.events())


def test_an_object_id_of_a_folder_name_s_length_is_still_accepted(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    object_id = "urn:kho:" + "A" * (MAX_OBJID - len("urn:kho:"))
    _with_object_id(root, object_id)
    done = import_package(kho.repo, zipped(root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))
    assert done["object_id"] == object_id
