"""An Office document whose zip entries Python cannot read (Deflate64, AES, damaged Deflate
data) is FILE_CORRUPT with a Vietnamese message, not an unexpected error of the ingest step."""

from __future__ import annotations

import struct

import pytest
import textdocs

from ingest.text import FileCorrupt, TextSettings, extract_text


def _patched(data: bytes, suffix: bytes, *, method: int | None = None, scramble: bool = False) -> bytes:
    out = bytearray(data)
    for signature, name_at, flags_at in ((b"PK\x03\x04", 26, 6), (b"PK\x01\x02", 28, 8)):
        at = out.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", out, at + name_at)[0]
            start = at + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(out[start : start + length]).endswith(suffix):
                if method is not None:
                    struct.pack_into("<H", out, at + flags_at + 2, method)
                if scramble and signature == b"PK\x03\x04":
                    body = start + length + struct.unpack_from("<H", out, at + 28)[0]
                    for i in range(body, body + 40):
                        out[i] ^= 0xA5
            at = out.find(signature, at + 4)
    return bytes(out)


@pytest.mark.parametrize(
    "options",
    [{"method": 9}, {"method": 99}, {"scramble": True}],
    ids=["deflate64", "aes", "damaged-deflate"],
)
def test_a_docx_with_an_unreadable_entry_is_corrupt(options: dict[str, object]) -> None:
    """Before: NotImplementedError and zlib.error escaped extract_text, and the pipeline
    logged a traceback and answered INGEST_STEP_FAILED."""
    data = _patched(textdocs.docx_bytes(), b"word/document.xml", **options)  # type: ignore[arg-type]
    with pytest.raises(FileCorrupt) as info:
        extract_text(data, "cong-van.docx", settings=TextSettings(ocr_enabled=False))
    assert info.value.code == "FILE_CORRUPT" and "docx" in info.value.message
