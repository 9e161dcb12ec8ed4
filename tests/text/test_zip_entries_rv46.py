"""An OpenDocument file whose zip zipfile opens but cannot read an entry of is refused with a
code and a Vietnamese message (review rv46). Before, three crafted ``.odt`` files went past
the format sniffer and the zip guard as Python errors (the pipeline answered
INGEST_STEP_FAILED with an English ``RuntimeError``/``NotImplementedError``/``ValueError``
text): the ``mimetype`` entry marked encrypted, the ``mimetype`` entry in a compression method
zipfile lacks (Deflate64), and an end record whose central directory offset is past the real
one (every entry's header offset then lies before the file's start: ``BytesIO.seek`` of a
negative value is a ``ValueError``, where a real file's is an ``OSError``)."""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable

import pytest
import textdocs

from ingest.text import FileCorrupt, FileEncrypted, TextSettings, extract_text
from kho.errors import KhoError


def _central(data: bytearray, name: bytes) -> int:
    """Where the central directory header of the entry ``name`` starts."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == name:
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def _mimetype_encrypted(data: bytearray) -> None:
    at = _central(data, b"mimetype")
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | 0x1)


def _mimetype_deflate64(data: bytearray) -> None:
    struct.pack_into("<H", data, _central(data, b"mimetype") + 10, 9)


def _directory_offset_too_far(data: bytearray) -> None:
    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<L", data, end + 16)[0]
    struct.pack_into("<L", data, end + 16, offset + 5000)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (_mimetype_encrypted, FileEncrypted),
        (_mimetype_deflate64, FileCorrupt),
        (_directory_offset_too_far, FileCorrupt),
    ],
    ids=["mimetype-encrypted", "mimetype-deflate64", "directory-offset-too-far"],
)
def test_an_odt_with_an_entry_zipfile_cannot_read_is_refused_with_a_code(
    change: Callable[[bytearray], None], refusal: type[KhoError]
) -> None:
    data = bytearray(textdocs.odt_bytes())
    change(data)
    with pytest.raises(KhoError) as info:
        extract_text(bytes(data), "to-trinh.odt", settings=TextSettings(ocr_enabled=False))
    assert isinstance(info.value, refusal), repr(info.value)
    assert info.value.code in ("FILE_CORRUPT", "FILE_ENCRYPTED")
    assert unicodedata.is_normalized("NFC", info.value.message)
