"""An Office document whose central zip directory zipfile itself cannot decode (a name marked
UTF-8 that is not UTF-8; a header claiming a later zip version) is
FILE_CORRUPT with a Vietnamese message. Before review rv45 ``UnicodeDecodeError`` and
``NotImplementedError`` escaped the zip guard: the pipeline logged a traceback and answered
INGEST_STEP_FAILED."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest
import textdocs
from zip_entries import rewrite_entry_header

from ingest.text import FileCorrupt, TextSettings, extract_text

NAME = "customXml/Tờ trình.xml".encode()


def docx_with_vietnamese_entry() -> bytes:
    buffer = io.BytesIO(textdocs.docx_bytes())
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr(NAME.decode(), b"<a/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "change",
    [
        {"new_name": NAME.replace("ờ".encode(), b"\xe1\x20\x9d")},
        {"new_name": NAME.replace("ờ".encode(), b"\xe1\x20\x9d"), "local": False},
        {"version": 159},
    ],
    ids=["name-both-headers", "name-central-header", "later-version"],
)
def test_a_docx_with_a_header_zipfile_cannot_decode_is_corrupt(change: dict[str, object]) -> None:
    data = rewrite_entry_header(docx_with_vietnamese_entry(), NAME, **change)  # type: ignore[arg-type]
    with pytest.raises(FileCorrupt) as info:
        extract_text(data, "cong-van.docx", settings=TextSettings(ocr_enabled=False))
    assert info.value.code == "FILE_CORRUPT" and "docx" in info.value.message
    assert unicodedata.is_normalized("NFC", info.value.message)
