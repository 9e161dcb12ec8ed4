"""u9: a package with several bad entries is refused once with every one of them listed (the
first 50 and the total), not at the first: before, whoever built it mended one entry, sent it
again, and met the next. The refusal keeps the first entry's code and message."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped

from kho.errors import KhoError
from retention.sip_import import MAX_FAULTS_LISTED, check_checksums
from web.context import Kho


@pytest.fixture
def package_root(kho: Kho, people: People, tmp_path: Path) -> Path:
    return good_package(kho, people, tmp_path, docs=1)


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_every_bad_entry_of_an_imported_package_is_listed_in_one_refusal(
    kho: Kho, people: People, package_root: Path, tmp_path: Path
) -> None:
    archive = zipped(package_root, tmp_path / "bad.zip")
    top = package_root.name
    with zipfile.ZipFile(archive, "a") as zf:
        fifo = zipfile.ZipInfo(f"{top}/documentation/ong-dan")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, b"")
        zf.writestr(f"{top}/../ra-ngoai.txt", b"x")
        link = zipfile.ZipInfo(f"{top}/documentation/lien-ket")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, b"/etc/passwd")
    error = refused(kho, people, archive)
    assert error.code == "SIP_NOT_FILE", error  # the first one's code, as before
    listed = [(e["file"], e["code"]) for e in error.details["bad_entries"]]
    assert listed == [
        (f"{top}/documentation/ong-dan", "SIP_NOT_FILE"),
        (f"{top}/../ra-ngoai.txt", "SIP_UNSAFE_PATH"),
        (f"{top}/documentation/lien-ket", "SIP_UNSAFE_PATH"),
    ]
    assert error.details["bad_total"] == 3
    for name in ("ong-dan", "ra-ngoai.txt", "lien-ket"):
        assert name in error.message  # told in the one message too


def test_many_bad_entries_in_a_package_folder_are_listed_up_to_the_bound_with_their_total(
    package_root: Path,
) -> None:
    for n in range(MAX_FAULTS_LISTED + 10):
        os.mkfifo(package_root / "documentation" / f"ong-dan-{n:03d}")
    with pytest.raises(KhoError) as info:
        check_checksums(package_root)
    assert info.value.code == "SIP_NOT_FILE"
    assert info.value.details["bad_total"] == MAX_FAULTS_LISTED + 10
    listed = [e["file"] for e in info.value.details["bad_entries"]]
    assert listed == [f"documentation/ong-dan-{n:03d}" for n in range(MAX_FAULTS_LISTED)]
    assert "60 mục không hợp lệ" in info.value.message
