"""A package from another agency holds only folders and regular files (u8): a FIFO, device or
socket in it, as a zip entry or in a package folder, is refused as ``SIP_NOT_FILE`` and a
symbolic link in a package folder as ``SIP_UNSAFE_PATH`` (as a link entry in the zip already
was), never skipped without a word. Before, a FIFO entry was written out as a plain file and
checked as one, and a FIFO or a link in a package folder was passed over by the walk."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped

from kho.errors import KhoError
from retention.sip_import import check_checksums
from web.context import Kho


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    return good_package(kho, people, tmp_path, docs=1)


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_a_fifo_entry_in_an_imported_package_is_refused(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    archive = zipped(package_root, tmp_path / "fifo.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        entry = zipfile.ZipInfo(f"{package_root.name}/documentation/ong-dan")
        entry.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(entry, b"")
    error = refused(kho, people, archive)
    assert error.code == "SIP_NOT_FILE", error
    assert "ống dẫn FIFO, thiết bị hoặc socket" in error.message and "ong-dan" in error.message


def test_a_fifo_in_a_package_folder_is_refused_not_passed_over(package_root: Path) -> None:
    assert check_checksums(package_root) > 0  # the good package passes
    os.mkfifo(package_root / "documentation" / "ong-dan")
    with pytest.raises(KhoError) as info:
        check_checksums(package_root)
    assert info.value.code == "SIP_NOT_FILE" and "documentation/ong-dan" in info.value.message


@pytest.mark.parametrize("to", ["file-in-package", "outside", "nothing"])
def test_a_link_in_a_package_folder_is_refused(package_root: Path, tmp_path: Path, to: str) -> None:
    listed = next(package_root.glob("representations/rep1/data/*.pdf"))
    target = {
        "file-in-package": listed,
        "outside": tmp_path / "khoa-bi-mat.txt",
        "nothing": tmp_path / "khong-co",
    }[to]
    if to == "outside":
        target.write_text("Khóa bí mật.\n", encoding="utf-8")
    (package_root / "documentation" / "lien-ket.pdf").symlink_to(target)
    with pytest.raises(KhoError) as info:
        check_checksums(package_root)
    assert info.value.code == "SIP_UNSAFE_PATH" and "lien-ket.pdf" in info.value.message
