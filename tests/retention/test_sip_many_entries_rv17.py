"""rv17: ``zipfile.ZipFile`` builds an object for every entry of the central directory as it
opens a file, and the import counted the entries only after that. A package of 950,000 empty
entries fits in a 51 MB upload; opening it cost 450 MB of memory and 5 s of CPU in the web
worker before the refusal. The entries are now counted by walking the central directory's
headers (at most ``MAX_ENTRIES + 1`` of them) before zipfile opens the file."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from kho_people import People
from kho_sip import refused
from zip_entries import bare_central_directory

from kho.zips import entries_at_most
from web.context import Kho


def test_a_package_of_too_many_entries_is_refused_before_zipfile_builds_them(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    archive = tmp_path / "many.zip"
    archive.write_bytes(bare_central_directory(600_000))
    tracemalloc.start()
    try:
        error = refused(kho, people, archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.code == "SIP_TOO_LARGE" and "quá nhiều tệp" in error.message
    assert peak < 40 * 1024**2, f"{peak / 1024**2:.0f} MiB held while refusing"


def _zip(entries: int, *, comment: bytes = b"", prefix: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(entries):
            zf.writestr(f"a/{i}", b"x")
        zf.comment = comment
    return prefix + buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _zip(0),
        _zip(7),
        _zip(7, comment=b"bien ban giao nhan"),
        _zip(7, prefix=b"MZ" * 500),
        _zip(70_000),  # a ZIP64 end record
    ],
    ids=["empty", "plain", "comment", "prefixed", "zip64"],
)
def test_the_count_agrees_with_zipfile(data: bytes) -> None:
    count = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert entries_at_most(io.BytesIO(data), count)
    assert count == 0 or not entries_at_most(io.BytesIO(data), count - 1)
