"""rv17: names that are one file on the archive's Windows share. Windows drops the dots and
spaces that end a name, so “README.txt.” and “README.txt ” are “README.txt”: a package that
lists both, each with its own checksum, passes every check, and on the share one overwrites the
other, so what Kho checked is not what the archive keeps (as for names that differ in case,
already refused). A name used as a file and as a folder (“a” and “a/b”) cannot be extracted
at all: it was refused as a damaged zip."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_people import People
from kho_sip import README, good_package, listed_beside_readme, refused, zipped

from web.context import Kho


@pytest.mark.parametrize("name", [README + ".", README + " ", README + ". .", "documentation. /README.txt"])
def test_names_windows_makes_one_are_refused(kho: Kho, people: People, tmp_path: Path, name: str) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, name, b"another text in the README's place")
    error = refused(kho, people, zipped(root, tmp_path / "twin.zip"))
    assert error.code == "SIP_DUPLICATE_NAME" and "README.txt" in error.message


def test_a_name_used_as_a_file_and_as_a_folder_is_refused_as_such(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    archive = zipped(root, tmp_path / "both.zip", after=[(f"{root.name}/{README}/phu-luc.pdf", b"%PDF-1.4")])
    error = refused(kho, people, archive)
    assert error.code == "SIP_DUPLICATE_NAME" and "vừa là tệp vừa là thư mục" in error.message


def test_names_that_only_contain_dots_and_spaces_are_still_accepted(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    from retention.sip_import import import_package

    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, "documentation/Tờ trình v1. 2 (bản cuối).txt", b"a second text")
    done = import_package(kho.repo, zipped(root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))
    assert done["files"] == 10


@pytest.mark.parametrize(
    "name",
    [
        "documentation/CON.txt",
        "documentation/nul",
        "documentation/com1.pdf",
        "documentation/Tờ trình <cuối>.txt",
        "documentation/a?b.txt",
        "documentation/thư|mục/x.txt",
    ],
)
def test_names_windows_cannot_give_a_file_are_refused(
    kho: Kho, people: People, tmp_path: Path, name: str
) -> None:
    """Listed with their checksums they passed: on the archive's Windows share “CON.txt” opens
    the console and “a?b.txt” cannot be made, so the file Kho checked is not the one kept."""
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, name, b"a text with a name Windows cannot give")
    error = refused(kho, people, zipped(root, tmp_path / "windows.zip"))
    assert error.code == "SIP_UNSAFE_NAME" and "Windows" in error.message


def test_a_name_that_only_starts_like_a_device_is_accepted(kho: Kho, people: People, tmp_path: Path) -> None:
    from retention.sip_import import import_package

    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, "documentation/CONSOLE-com10.txt", b"a second text")
    assert (
        import_package(kho.repo, zipped(root, tmp_path / "ok.zip"), actor=people.actor("luu_tru"))["files"]
        == 10
    )
