"""rv17: a zip entry may carry a second name, the Info-ZIP Unicode Path extra field (0x7075),
which 7-Zip and libarchive extract it under instead of the header's name; Python's zipfile, and
so Kho's check, ignores it. A package whose listed README carried the Unicode Path
“../../../tmp/evil.txt”, or the name of a signed document, passed every check: at the archive
the README lands outside the folder (zip-slip), or over the document Kho checked."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, refused, zipped

from retention.sip_import import import_package
from web.context import Kho

README = "documentation/README.txt"


def _unicode_path(header_name: str, name: str) -> bytes:
    """An Info-ZIP Unicode Path field naming ``name`` for an entry called ``header_name`` (its
    CRC-32 matches, as the tools that use it require)."""
    body = b"\x01" + struct.pack("<L", zlib.crc32(header_name.encode())) + name.encode()
    return struct.pack("<2H", 0x7075, len(body)) + body


@pytest.mark.parametrize(
    "second",
    [
        "../../../tmp/evil.txt",
        "{root}/representations/rep1/data/001_cv0.pdf",
        "{root}/documentation/Đọc tôi.txt",
    ],
    ids=["traversal", "over-a-document", "another-name"],
)
def test_an_entry_with_a_second_name_is_refused(
    kho: Kho, people: People, tmp_path: Path, second: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    header_name = f"{root.name}/{README}"
    field = _unicode_path(header_name, second.format(root=root.name))
    error = refused(kho, people, zipped(root, tmp_path / "second.zip", extras={README: field}))
    assert (
        error.code == "SIP_UNSAFE_NAME" and "Unicode Path" in error.message and "README.txt" in error.message
    )


def test_a_unicode_path_that_repeats_the_name_is_accepted(kho: Kho, people: People, tmp_path: Path) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    field = _unicode_path(f"{root.name}/{README}", f"{root.name}/{README}")
    archive = zipped(root, tmp_path / "same.zip", extras={README: field})
    assert import_package(kho.repo, archive, actor=people.actor("luu_tru"))["files"] == 9
