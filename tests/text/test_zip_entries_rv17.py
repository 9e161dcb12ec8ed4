"""rv17: an Office document is a zip, and ``zipfile.ZipFile`` builds an object for every entry
of its central directory as it opens it. Sniffing the format opened it first, the bomb check
(``max_zip_entries``) counted only afterwards: a .docx of 900,000 empty entries (47 MB) cost
520 MB of memory and 5 s of CPU, then was called an unsupported format. The entries are now
counted from the central directory's headers before zipfile opens the file."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from zip_entries import bare_central_directory

from ingest.text.errors import FileBomb
from ingest.text.extractor import check_file
from ingest.text.settings import TextSettings

NAME = b"word/document.xml"
LOCAL_HEADER = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(NAME), 0) + NAME


def test_an_office_file_of_too_many_entries_is_a_bomb_before_zipfile_builds_them() -> None:
    data = bare_central_directory(600_000, head=LOCAL_HEADER)
    tracemalloc.start()
    try:
        with pytest.raises(FileBomb) as info:
            check_file(data, "bao-cao.docx", TextSettings())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "FILE_BOMB" and "quá nhiều thành phần" in info.value.message
    assert peak < 40 * 1024**2, f"{peak / 1024**2:.0f} MiB held while refusing"
