"""rv17: a package carries two lists of its files' digests, the METS (which Kho checked) and
the PREMIS (which the archive's preservation system reads for its own fixity audits, and which
Kho did not read). A package whose PREMIS gave a document another digest or size passed every
check: at the archive the document then fails its first audit, or the PREMIS vouches for a
file that is not the one delivered. The PREMIS must agree with the files it names by path."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_listed, zipped

from retention.sip_import import import_package
from web.context import Kho

PREMIS = "metadata/preservation/premis.xml"
DOCUMENT = "representations/rep1/data/001_cv0.pdf"


@pytest.mark.parametrize("field", ["digest", "size"])
def test_a_premis_that_disagrees_with_a_file_is_refused(
    kho: Kho, people: People, tmp_path: Path, field: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    text = (root / PREMIS).read_text(encoding="utf-8")
    content = (root / DOCUMENT).read_bytes()
    if field == "digest":
        right = hashlib.sha256(content).hexdigest()
        assert right in text
        text = text.replace(right, hashlib.sha256(b"another document").hexdigest())
    else:
        right = f"<premis:size>{len(content)}</premis:size>"
        assert right in text
        text = text.replace(right, f"<premis:size>{len(content) + 1}</premis:size>", 1)
    replace_listed(root, PREMIS, text.encode())  # METS vouches for the changed PREMIS
    error = refused(kho, people, zipped(root, tmp_path / "premis.zip"))
    assert error.code == "SIP_CHECKSUM_MISMATCH" and "premis.xml" in error.message
    assert error.details["file"] == DOCUMENT


@pytest.mark.parametrize("named", ["uuid-6f1c2a1e-0b7d-4a49-9d0e-3c5b8a1f2e77", "METS.xml"])
def test_a_premis_naming_objects_otherwise_is_not_judged(
    kho: Kho, people: People, tmp_path: Path, named: str
) -> None:
    """Other tools name PREMIS objects by UUID, or a representation's PREMIS names its own
    METS.xml (which resolves to the package METS, whose digest no METS carries): nothing to
    compare, accepted as before."""
    root = good_package(kho, people, tmp_path, docs=1)
    text = (root / PREMIS).read_text(encoding="utf-8")
    assert f">{DOCUMENT}<" in text
    replace_listed(root, PREMIS, text.replace(f">{DOCUMENT}<", f">{named}<").encode())
    assert (
        import_package(kho.repo, zipped(root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))["files"]
        == 9
    )
