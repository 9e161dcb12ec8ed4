"""rv24 (rv17's open item): the signed PDFs of an imported package were never verified. A sender
who changed a signed PDF after signing and recomputed the package's checksums got "Gói tin hợp
lệ". Every PDF of a package is now verified with the verification ingest gives every document;
a failed signature refuses the package (``SIP_SIGNATURE_INVALID``, naming the file), any other
verdict is reported for each PDF in the fields ingest records on a document. Real signed PDFs of
the corpus, by path; the tampered copy is made here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, replace_document, replace_listed, zipped

from kho.errors import KhoError
from repository.records import SYSTEM
from retention.sip_import import import_package
from web.context import Kho

CORPUS = Path("/work/shared/corpora/pdf")
FIRST = "representations/rep1/data/001_cv0.pdf"
SECOND = "representations/rep1/data/002_cv1.pdf"


def changed_after_signing(path: Path) -> bytes:
    """``path`` with one bit of its first content stream flipped: a byte the signature covers
    (inside the first range of its /ByteRange), the file still a readable PDF."""
    data = bytearray(path.read_bytes())
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", data)
    assert found, path
    at = data.index(b"\n", data.index(b"stream")) + 40
    assert int(found.group(1)) <= at < int(found.group(2))
    data[at] ^= 0x01
    return bytes(data)


def _package(kho: Kho, people: People, tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = good_package(kho, people, tmp_path, docs=2)
    for relative, content in files.items():
        replace_document(root, FIRST if relative == "first" else SECOND, content)
    return zipped(root, tmp_path / "package.zip")


@pytest.mark.parametrize(
    "case",
    [
        "tampered copy of vn-gov__143-qd.signed.pdf",
        "dss__hello_signed_INCSAVE_signed_EDITED.pdf",  # changed after signing, in the corpus
        "dss__pdf-signed-added-page.pdf",  # a page added after signing
    ],
)
@pytest.mark.parametrize("door", ["library", "installation"])
def test_a_pdf_changed_after_signing_refuses_the_package_naming_it(
    kho: Kho, people: People, tmp_path: Path, case: str, door: str
) -> None:
    if case.startswith("tampered copy of "):
        content = changed_after_signing(CORPUS / case.removeprefix("tampered copy of "))
    else:
        content = (CORPUS / case).read_bytes()
    archive = _package(kho, people, tmp_path, {"first": content})
    archivist = people.actor("luu_tru")
    with pytest.raises(KhoError) as info:
        if door == "library":
            import_package(kho.repo, archive, actor=archivist)
        else:
            kho.import_package(archive, actor=archivist)
    error = info.value
    assert error.code == "SIP_SIGNATURE_INVALID" and error.http_status == 422
    assert "001_cv0.pdf" in error.message and "chữ ký số" in error.message
    assert error.details["file"].endswith("001_cv0.pdf")
    last = [e for e in kho.repo.audit.events() if e.action.startswith("transfer:import")][-1]
    assert last.action == "transfer:import-rejected"
    assert last.details["code"] == "SIP_SIGNATURE_INVALID" and last.details["file"] == error.details["file"]


def test_a_pdf_with_another_extension_is_verified_all_the_same(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """What makes a PDF is its content, not the name its sender chose."""
    root = good_package(kho, people, tmp_path, docs=2)
    readme = root / "documentation" / "README.txt"
    tampered = changed_after_signing(CORPUS / "vn-gov__194-ttg.signed.pdf")
    replace_listed(root, "documentation/README.txt", tampered)
    assert readme.read_bytes().startswith(b"%PDF")
    with pytest.raises(KhoError) as info:
        kho.import_package(zipped(root, tmp_path / "renamed.zip"), actor=people.actor("luu_tru"))
    assert info.value.code == "SIP_SIGNATURE_INVALID" and "README.txt" in info.value.message


def test_other_verdicts_are_reported_as_ingest_records_them_on_a_document(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    from ingest.pipeline import signature_fields

    untrusted = (CORPUS / "dss__pades-bes.pdf").read_bytes()  # intact, its CA not trusted
    trusted = (CORPUS / "vn-gov__194-ttg.signed.pdf").read_bytes()  # VGCA G2, shipped list
    archive = _package(kho, people, tmp_path, {"first": untrusted, "second": trusted})

    done = kho.import_package(archive, actor=people.actor("luu_tru"))

    documents = {d["file"]: d for d in done["documents"]}
    first, second = documents[FIRST], documents[SECOND]
    assert first["signature_verdict"] == "INDETERMINATE"
    assert first["signature_sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
    assert second["signature_verdict"] == "TOTAL-PASSED"
    # Exactly what ingest's signature step records on the record of the same file.
    status = kho.pipeline.ingest(untrusted, "pades-bes.pdf")
    record = kho.repo.get(status.record_id, actor=SYSTEM)
    fields = signature_fields(kho.pipeline.verify(untrusted))
    assert {k: first[k] for k in fields} == {k: record.extra[k] for k in fields}
    assert record.extra["signature_verdict"] == "INDETERMINATE"
    checked = [e for e in kho.repo.audit.events() if e.action == "transfer:import-checked"][-1]
    assert checked.details["signature_verdicts"] == {"INDETERMINATE": 1, "TOTAL-PASSED": 1}
