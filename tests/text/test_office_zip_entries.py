"""An Office document whose zip entries Python cannot read (Deflate64, AES, damaged Deflate
data) is FILE_CORRUPT with a Vietnamese message, not an unexpected error of the ingest step."""

from __future__ import annotations

import pytest
import textdocs
from zip_entries import patch_zip_entry

from ingest.text import FileCorrupt, TextSettings, extract_text


@pytest.mark.parametrize(
    "options",
    [{"method": 9}, {"method": 99}, {"scramble": 0}],
    ids=["deflate64", "aes", "damaged-deflate"],
)
def test_a_docx_with_an_unreadable_entry_is_corrupt(options: dict[str, object]) -> None:
    """Before: NotImplementedError and zlib.error escaped extract_text, and the pipeline
    logged a traceback and answered INGEST_STEP_FAILED."""
    data = patch_zip_entry(textdocs.docx_bytes(), b"word/document.xml", **options)  # type: ignore[arg-type]
    with pytest.raises(FileCorrupt) as info:
        extract_text(data, "cong-van.docx", settings=TextSettings(ocr_enabled=False))
    assert info.value.code == "FILE_CORRUPT" and "docx" in info.value.message
