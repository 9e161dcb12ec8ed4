"""A nộp lưu package whose zip headers zipfile itself cannot decode: a name marked UTF-8 that is
not UTF-8 (central or local header), a header that claims a later version of the zip format.
Before review rv45 the first two escaped the import as ``UnicodeDecodeError`` and the third as
``NotImplementedError``: ``POST /api/retention/transfers/import`` answered 500 INTERNAL_ERROR
(``kho archive import``: a traceback). Each is refused with a code and a Vietnamese message, and
nothing of the package is kept."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped
from zip_entries import rewrite_entry_header

from web.context import Kho

NAME = "documentation/Tờ trình.txt"
"""A Vietnamese name (NFC): zipfile marks it UTF-8 (flag bit 11) and writes ờ as E1 BB 9D."""


def stored(kho: Kho) -> set[str]:
    """Every object but the audit log (a refusal is audited)."""
    return {info.key for info in kho.repo.store.list("") if not info.key.startswith("audit/")}


@pytest.fixture
def package(kho: Kho, people: People, tmp_path: Path) -> tuple[Path, bytes]:
    """A good package as a zip with one more Vietnamese-named file, and that entry's name."""
    root = good_package(kho, people, tmp_path, docs=1)
    archive = zipped(root, tmp_path / "goi.zip", after=[(f"{root.name}/{NAME}", b"x")])
    return archive, f"{root.name}/{NAME}".encode()


@pytest.mark.parametrize(
    ("local", "central", "code"),
    [(True, True, "SIP_UNSAFE_NAME"), (False, True, "SIP_UNSAFE_NAME"), (True, False, "SIP_NOT_ZIP")],
    ids=["both-headers", "central-header", "local-header"],
)
def test_a_name_marked_utf8_that_is_not_is_refused_and_nothing_is_kept(
    kho: Kho, people: People, package: tuple[Path, bytes], local: bool, central: bool, code: str
) -> None:
    archive, name = package
    garbled = name.replace("ờ".encode(), b"\xe1\x20\x9d")  # not UTF-8, as many bytes
    archive.write_bytes(
        rewrite_entry_header(archive.read_bytes(), name, new_name=garbled, local=local, central=central)
    )
    before = stored(kho)
    error = refused(kho, people, archive)
    assert error.code == code, (error.code, error.message)
    assert unicodedata.is_normalized("NFC", error.message)
    assert stored(kho) == before


def test_a_header_of_a_later_zip_version_is_refused(
    kho: Kho, people: People, package: tuple[Path, bytes]
) -> None:
    archive, name = package
    # zipfile: NotImplementedError("zip file version 15.9")
    archive.write_bytes(rewrite_entry_header(archive.read_bytes(), name, version=159))
    before = stored(kho)
    error = refused(kho, people, archive)
    assert error.code == "SIP_NOT_ZIP" and "không phải là tệp ZIP hợp lệ" in error.message
    assert stored(kho) == before
