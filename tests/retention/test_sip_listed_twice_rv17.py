"""rv17: a METS that names one file many times. Kho hashed the file once per listing, and the
E-ARK validator did the same after it: a 32 MiB file listed 1,000 times in a 40 MB upload cost
32 GB of hashing in each. A file is listed once, with one checksum; a second listing is refused
(``SIP_FILE_LISTED_TWICE``, audited) before the file is read again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, replace_listed, zipped

from web.context import Kho

REP = "representations/rep1/METS.xml"


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    return good_package(kho, people, tmp_path, docs=2)


def _file_element(mets: str, href: str) -> str:
    """The ``mets:file`` element whose FLocat names ``href``."""
    found = re.search(
        r"<mets:file [^>]*>\s*<mets:FLocat [^>]*xlink:href=\""
        + re.escape(href)
        + r"\"[^>]*/>\s*</mets:file>",
        mets,
    )
    assert found, href
    return found.group(0)


def _listed_again(element: str, href: str) -> str:
    """``element`` as a second listing of its file: another ID, the same checksum, ``href``."""
    again = re.sub(r'ID="([^"]+)"', r'ID="\1-again"', element, count=1)
    return re.sub(r'xlink:href="[^"]+"', f'xlink:href="{href}"', again)


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("same-href", "data/001_cv0.pdf"),
        ("other-spelling", "data/./001_cv0.pdf"),
        ("many-times", "data/001_cv0.pdf"),
    ],
)
def test_a_file_listed_twice_in_one_mets_is_refused_before_it_is_hashed_again(
    kho: Kho, people: People, package_root: Path, tmp_path: Path, case: str, named: str
) -> None:
    rep = (package_root / REP).read_text(encoding="utf-8")
    element = _file_element(rep, "data/001_cv0.pdf")
    copies = 50 if case == "many-times" else 1
    extra = "".join(_listed_again(element, named).replace('-again"', f'-again{i}"') for i in range(copies))
    replace_listed(package_root, REP, rep.replace(element, element + extra).encode())
    error = refused(kho, people, zipped(package_root, tmp_path / f"{case}.zip"))
    assert error.code == "SIP_FILE_LISTED_TWICE"
    assert "representations/rep1/data/001_cv0.pdf" in error.message and "một lần" in error.message
    assert error.details["file"] == "representations/rep1/data/001_cv0.pdf"


def test_a_file_listed_by_the_package_mets_and_a_representation_mets_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    """Across METS files: the package METS names a document its representation's METS names
    too (the validator hashes it once per METS)."""
    rep = (package_root / REP).read_text(encoding="utf-8")
    element = _listed_again(_file_element(rep, "data/001_cv0.pdf"), "representations/rep1/data/001_cv0.pdf")
    top = package_root / "METS.xml"
    text = top.read_text(encoding="utf-8")
    readme = _file_element(text, "documentation/README.txt")
    top.write_text(text.replace(readme, readme + element), encoding="utf-8")
    error = refused(kho, people, zipped(package_root, tmp_path / "across.zip"))
    assert error.code == "SIP_FILE_LISTED_TWICE" and "001_cv0.pdf" in error.message


def test_a_package_that_lists_each_file_once_is_still_accepted(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    from retention.sip_import import import_package

    done = import_package(kho.repo, zipped(package_root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))
    assert done["files"] == 10 and done["object_id"].startswith("urn:kho:")
