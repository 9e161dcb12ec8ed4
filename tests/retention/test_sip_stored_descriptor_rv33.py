"""rv33: a stored entry with a data descriptor (a zip written to a pipe) whose data holds a zip
signature by chance.

rv27 refused every stored entry with a descriptor whose data held ``PK\\x03\\x04``,
``PK\\x07\\x08`` or ``PK\\x01\\x02``: 3 × 10⁸ four-byte windows in a 100 MB stored PDF give
about 7 % of honest packages such a signature by chance, each refused ``SIP_HIDDEN_ENTRY``.
A stream reader ends a stored entry only where a record follows the signature (a data
descriptor whose size or CRC-32 matches the bytes before it, or a header it can read), so
only that is refused now: honest data with bare signatures is accepted, and each record a
reader would take is refused.

Real services, real validator, real pyHanko."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import good_package, listed_beside_readme, refused, streamed

from web.context import Kho

APPENDIX = "documentation/Phụ lục.bin"


def _random(size: int, seed: int) -> bytearray:
    return bytearray(random.Random(seed).randbytes(size))


@pytest.mark.parametrize("kho", ["local", "s3"], indirect=True)
def test_stored_data_holding_bare_zip_signatures_by_chance_is_accepted(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    """Random bytes (as a compressed PDF's streams are) with each of the three signatures at a
    random place, followed by more random bytes: what 7 % of honest 100 MB entries hold."""
    data = _random(1 << 20, seed=33)
    for at, signature in ((1000, b"PK\x03\x04"), (300_000, b"PK\x07\x08"), (700_000, b"PK\x01\x02")):
        data[at : at + 4] = signature
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, APPENDIX, bytes(data))
    archive = streamed(root, tmp_path / "stored.zip", compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(archive) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".bin"))
        assert info.flag_bits & 0x08 and info.compress_type == zipfile.ZIP_STORED

    answer = kho.import_package(archive, actor=people.actor("luu_tru"))

    assert answer["package_version"] == 1 and answer["files"] > 0


def _with_record(record: bytes, at: int) -> bytes:
    data = _random(200_000, seed=34)
    data[at : at + len(record)] = record
    return bytes(data)


@pytest.mark.parametrize("checked", ["size", "crc"])
def test_a_descriptor_that_matches_inside_stored_data_is_refused(
    kho: Kho, people: People, tmp_path: Path, checked: str
) -> None:
    """A reader that checks the descriptor's size (or only its CRC-32) against what it read ends
    the entry here."""
    at = 50_000
    crc = zlib.crc32(_random(200_000, seed=34)[:at]) if checked == "crc" else 0xDEADBEEF
    size = at if checked == "size" else 7
    data = _with_record(b"PK\x07\x08" + struct.pack("<3L", crc, size, size), at)
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, APPENDIX, data)
    archive = streamed(root, tmp_path / "descriptor.zip", compression=zipfile.ZIP_STORED)

    assert refused(kho, people, archive).code == "SIP_HIDDEN_ENTRY"


def test_a_readable_central_header_inside_stored_data_is_refused(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("003_an.pdf", b"%PDF-1.7 not checked by Kho")
    central = inner.getvalue().index(b"PK\x01\x02")
    data = _with_record(inner.getvalue()[central:], 90_000)
    root = good_package(kho, people, tmp_path, docs=1)
    listed_beside_readme(root, APPENDIX, data)
    archive = streamed(root, tmp_path / "central.zip", compression=zipfile.ZIP_STORED)

    assert refused(kho, people, archive).code == "SIP_HIDDEN_ENTRY"
