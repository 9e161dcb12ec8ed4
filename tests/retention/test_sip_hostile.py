"""Packages from another agency built to mislead the check of an imported SIP: each is refused
with a stable code and a Vietnamese message (audited), never accepted and never a traceback."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_listed, zipped
from zip_entries import patch_zip_entry

from web.context import Kho


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    """A good package folder of a closed permanent hồ sơ (it passes every check)."""
    return good_package(kho, people, tmp_path, docs=2)


def test_a_package_with_two_entries_of_one_name_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    """Two entries with one name: Python keeps the last, other unzip tools the first, so the
    checked file need not be the one the archive keeps. Same for names that differ only in case
    (one file on the archive's Windows share)."""
    pdf = next(package_root.glob("representations/rep1/data/*.pdf"))
    name = f"{package_root.name}/{pdf.relative_to(package_root).as_posix()}"
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = zipped(package_root, tmp_path / "twice.zip", before=[(name, b"%PDF-1.4 another document")])
    assert refused(kho, people, twice).code == "SIP_DUPLICATE_NAME"
    upper = name.rsplit("/", 1)[0] + "/" + pdf.name.upper()
    case = zipped(package_root, tmp_path / "case.zip", after=[(upper, b"%PDF-1.4 another document")])
    assert refused(kho, people, case).code == "SIP_DUPLICATE_NAME"


@pytest.mark.parametrize(
    "name",
    [
        "documentation/a\x1b[31mb.txt",  # a terminal escape
        "documentation/Tờ trình\u202egnp.exe",  # right-to-left override: shows "exe.png"
        "documentation/x\u200b.txt",  # zero-width space
        "documentation/line\nbreak.txt",
        unicodedata.normalize("NFD", "documentation/Tờ trình.txt"),
    ],
    ids=["escape", "bidi", "zero-width", "newline", "nfd"],
)
def test_a_package_with_a_name_that_hides_what_it_is_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path, name: str
) -> None:
    archive = zipped(package_root, tmp_path / "name.zip", after=[(f"{package_root.name}/{name}", b"x")])
    error = refused(kho, people, archive)
    assert error.code == "SIP_UNSAFE_NAME" and "tên tệp không an toàn" in error.message


def test_a_vietnamese_name_in_nfc_is_not_refused_for_its_name(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    from retention.sip_import import safe_extract

    archive = zipped(package_root, tmp_path / "ok.zip")
    root = safe_extract(archive, tmp_path / "x")
    assert root.name == package_root.name


def test_a_file_no_mets_names_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    """Every file of an accepted package has a checksum Kho checked: a file beside the listed
    ones (a program, another document) is refused, not carried along unchecked."""
    extra = zipped(
        package_root, tmp_path / "extra.zip",
        after=[(f"{package_root.name}/representations/rep1/data/phu-luc.exe", b"MZ not listed")],
    )
    error = refused(kho, people, extra)
    assert error.code == "SIP_FILE_UNLISTED" and "phu-luc.exe" in error.message


def test_a_representation_no_mets_points_to_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    """A second representation the package METS does not list was read by the validator only,
    never by Kho's checksums (nor, before SIP_XML_UNSAFE, by its safe parser)."""
    hostile = (package_root / "representations/rep1/METS.xml").read_text(encoding="utf-8")
    archive = zipped(
        package_root, tmp_path / "rep2.zip",
        after=[
            (f"{package_root.name}/representations/rep2/METS.xml", hostile.encode()),
            (f"{package_root.name}/representations/rep2/data/a.pdf", b"%PDF-1.4"),
        ],
    )
    assert refused(kho, people, archive).code == "SIP_FILE_UNLISTED"


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE ead:ead [<!ENTITY x SYSTEM "file:///etc/hostname">]>',  # XXE
        '<!DOCTYPE ead:ead SYSTEM "http://127.0.0.1:9/ead.dtd">',  # external DTD
        '<!DOCTYPE ead:ead [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
    ids=["xxe", "external-dtd", "entities"],
)
def test_a_listed_xml_file_with_a_dtd_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path, doctype: str
) -> None:
    """The EAD (listed, checksum right) was never parsed by Kho: a DTD in it reached the
    validator's parser and any archive tool after it. No XML file of a package needs one."""
    ead = (package_root / "metadata/descriptive/ead.xml").read_text(encoding="utf-8")
    body = ead.split("?>", 1)[1]
    replace_listed(package_root, "metadata/descriptive/ead.xml", (doctype + body).encode())
    error = refused(kho, people, zipped(package_root, tmp_path / "dtd.zip"))
    assert error.code == "SIP_XML_UNSAFE" and "ead.xml" in error.message


def test_a_mets_of_too_many_elements_is_refused_before_it_is_parsed(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    """A METS of empty elements cost ~45 times its size in Kho's tree and as much again in the
    validator (45 MB: 2 GB and 2 minutes each). Now counted while streaming, and refused."""
    mets = package_root / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    mets.write_text(text.replace("</mets:mets>", "<mets:x/>" * 250_001 + "</mets:mets>"))
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # no zip-bomb ratio to trip
        for path in sorted(package_root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{package_root.name}/{path.relative_to(package_root).as_posix()}")
    error = refused(kho, people, archive)
    assert error.code == "SIP_TOO_LARGE" and "quá nhiều phần tử" in error.message
    from retention.sip_import import MAX_XML_ELEMENTS

    assert MAX_XML_ELEMENTS < 250_001


def _patched(archive: Path, out: Path, suffix: bytes, **options: int) -> Path:
    out.write_bytes(patch_zip_entry(archive.read_bytes(), suffix, **options))
    return out


@pytest.mark.parametrize(
    ("shape", "code"),
    [("encrypted", "SIP_ENCRYPTED"), ("deflate64", "SIP_NOT_ZIP"), ("aes", "SIP_NOT_ZIP"),
     ("damaged-deflate", "SIP_NOT_ZIP"), ("damaged-lzma", "SIP_NOT_ZIP")],
)
def test_an_entry_zipfile_cannot_read_is_refused_with_a_code(
    kho: Kho, people: People, package_root: Path, tmp_path: Path, shape: str, code: str
) -> None:
    """Before: RuntimeError (password), NotImplementedError (Deflate64, AES), zlib.error and
    LZMAError (damaged data) escaped as a 500, and the refusal was not audited."""
    method = zipfile.ZIP_LZMA if shape == "damaged-lzma" else zipfile.ZIP_DEFLATED
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w", method) as zf:
        for path in sorted(package_root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{package_root.name}/{path.relative_to(package_root).as_posix()}")
    target = b"documentation/README.txt"
    options = {
        "encrypted": {"flag": 0x1},
        "deflate64": {"method": 9},
        "aes": {"method": 99},
        "damaged-deflate": {"scramble": 0},
        "damaged-lzma": {"scramble": 10},  # past the LZMA properties, into the data
    }[shape]
    hostile = _patched(plain, tmp_path / f"{shape}.zip", target, **options)  # type: ignore[arg-type]
    error = refused(kho, people, hostile)
    assert error.code == code
