"""rv24 (rv17's small open items): a zip that two kinds of reader read differently, and names
Windows changes.

* A local entry the central directory does not name: Kho (Python's zipfile) reads the central
  directory; a tool that reads front to back (Java's ``ZipInputStream``, a stream extractor, an
  unzip on a pipe) reads local headers, and extracts a file Kho never checked.
* A lone name part ending in a dot or a space: Windows (the archive's share) drops them, so the
  file is kept under another name than the one listed (rv17 refused only a collision)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, listed_beside_readme, refused, zipped

from retention.sip_import import import_package
from web.context import Kho

HIDDEN = "representations/rep1/data/003_an.pdf"


def _one_entry(name: str, data: bytes) -> bytes:
    """A zip holding one entry: its local header and data, then its central directory."""
    out = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
    path = out / f"rv24-one-{name.replace('/', '_')}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    raw = path.read_bytes()
    path.unlink()
    return raw


def _local_part(raw: bytes) -> bytes:
    """The bytes of a one-entry zip before its central directory (a local entry)."""
    return raw[: raw.rindex(b"PK\x01\x02")]


def _hidden_before_central_directory(archive: Path, entry: bytes) -> None:
    """``entry`` (a local header and its data) written between the last entry and the central
    directory, the end record's offset moved past it: every central entry still right."""
    raw = archive.read_bytes()
    end = raw.rindex(b"PK\x05\x06")
    offset = struct.unpack_from("<L", raw, end + 16)[0]
    patched = raw[:offset] + entry + raw[offset:]
    at = end + len(entry) + 16
    archive.write_bytes(patched[:at] + struct.pack("<L", offset + len(entry)) + patched[at + 4 :])


@pytest.mark.parametrize("where", ["before-central-directory", "before-first-entry"])
def test_a_local_entry_the_central_directory_does_not_name_is_refused(
    kho: Kho, people: People, tmp_path: Path, where: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    archive = zipped(root, tmp_path / "hidden.zip")
    entry = _local_part(_one_entry(f"{root.name}/{HIDDEN}", b"%PDF-1.4 what a stream reader extracts"))
    if where == "before-central-directory":
        _hidden_before_central_directory(archive, entry)
    else:  # prefixed: zipfile takes it as a self-extracting stub
        archive.write_bytes(entry + archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:  # Python's reading: the package alone
        assert not any(n.endswith("003_an.pdf") for n in zf.namelist())
        assert zf.testzip() is None
    error = refused(kho, people, archive)
    assert error.code == "SIP_HIDDEN_ENTRY" and "ẩn" in error.message


def test_a_prefix_without_a_local_header_is_still_accepted(kho: Kho, people: People, tmp_path: Path) -> None:
    """A self-extracting stub (bytes that no reader takes an entry from) is not judged."""
    root = good_package(kho, people, tmp_path, docs=1)
    archive = zipped(root, tmp_path / "stub.zip")
    archive.write_bytes(b"MZ" + bytes(4094) + archive.read_bytes())
    done = import_package(kho.repo, archive, actor=people.actor("luu_tru"))
    assert done["files"] > 0


@pytest.mark.parametrize(
    "name",
    ["documentation/Phụ lục.pdf.", "documentation/Ghi chú.txt ", "documentation/Tài liệu kèm. /a.txt"],
)
def test_a_lone_name_ending_in_a_dot_or_a_space_is_refused(
    kho: Kho, people: People, tmp_path: Path, name: str
) -> None:
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, name, b"a text Windows keeps under another name")
    error = refused(kho, people, zipped(root, tmp_path / "end.zip"))
    assert error.code == "SIP_UNSAFE_NAME" and "dấu chấm hoặc dấu cách" in error.message
