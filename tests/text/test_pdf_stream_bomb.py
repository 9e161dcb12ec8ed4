"""A PDF decompression bomb (a small file whose Flate content stream inflates to hundreds of MiB)
is refused before pdfium inflates it whole: FILE_BOMB, a Vietnamese message, bounded work."""

from __future__ import annotations

import io
import time
import zlib

import pytest
from pdf_objects import chain_bomb_pdf, flate_bomb_pdf, lzw_bomb_pdf, pdf_from_objects
from pypdf import PdfReader, PdfWriter

from ingest.text import FileBomb, TextSettings, extract_text
from ingest.text.errors import FileCorrupt
from ingest.text.guards import check_pdf_streams

SETTINGS = TextSettings(ocr_enabled=False)
INFLATED = 600 * 1024 * 1024
"""Above the 512 MiB the settings allow at a ratio over 200: about 600 KiB of Flate data."""


_pdf = pdf_from_objects


def _bomb(*, hex_layer: bool, padded: bool = False) -> bytes:
    return flate_bomb_pdf(INFLATED, hex_layer=hex_layer, padded=padded)


@pytest.mark.parametrize(
    ("hex_layer", "padded"), [(False, False), (True, False), (False, True)],
    ids=["flate", "hex-then-flate", "long-dictionary"],
)
def test_a_pdf_whose_stream_inflates_600_mib_is_a_bomb(hex_layer: bool, padded: bool) -> None:
    """Before: pdfium inflated the stream whole (a 1 MiB file of 1 GiB took 2 GiB and 27 s)
    and the document went on with an empty text."""
    data = _bomb(hex_layer=hex_layer, padded=padded)
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(FileBomb) as info:
        extract_text(data, "cong-van.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"
    assert "bom giải nén" in info.value.message and "MiB" in info.value.message


@pytest.mark.parametrize("shape", ["cr", "runlength", "a85-indirect", "double-flate"])
def test_a_bomb_in_another_shape_is_a_bomb(shape: str) -> None:
    """pdfium inflates each of these whole (checked: the text at the end of the stream is read)
    but the first guard passed them: it looked for "stream" then LF only, knew the layers by
    the dictionary's filter names only (not RunLength, not a /Filter given as an indirect
    object), and counted one Flate layer (Flate of Flate: a 1 KiB file inflating 600 MiB)."""
    data = flate_bomb_pdf(INFLATED, shape=shape)
    with pytest.raises(FileBomb) as info:
        extract_text(data, "cong-van.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"


def test_an_encrypted_bomb_without_a_user_password_is_a_bomb() -> None:
    """Encrypted for permissions only (no password to open, as official documents often are):
    pdfium decrypts and inflates the stream whole, the guard saw ciphertext and passed it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(flate_bomb_pdf(INFLATED))))
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(FileBomb) as info:
        extract_text(out.getvalue(), "cong-van.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"


def test_a_pdf_with_ordinary_flate_streams_is_not_a_bomb() -> None:
    """A page of real text in a Flate stream passes the guard and is read."""
    text = b"BT /F1 12 Tf 50 700 Td (Cong van so 12/UBND ve viec bao cao) Tj ET"
    data = zlib.compress(text * 2000)
    pdf = _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])
    assert "Cong van so 12" in extract_text(pdf, "cong-van.pdf", settings=SETTINGS).text


def test_many_stream_keywords_are_read_in_time_linear_in_the_file() -> None:
    # Every ``stream`` keyword used to search the rest of the file for its ``endstream``: 280 KB
    # of keywords took 2.8 s, 700 KB ~18 s (quadratic); now the ends are found once.
    data = b"%PDF-1.7\n" + b"stream\n" * 100_000 + b"%%EOF\n"
    started = time.process_time()
    check_pdf_streams(data, SETTINGS)  # not a bomb: nothing inflates
    assert time.process_time() - started < 8.0


def test_overlapping_layered_stream_bodies_are_refused_not_read_again_and_again() -> None:
    # ASCIIHex text opening a zlib header after every keyword, no ``>`` and no ``endstream``:
    # each body runs to the file's end, and reading each was quadratic in the file.
    data = b"%PDF-1.7\n" + b"stream\n789c" * 100_000 + b"%%EOF\n"
    with pytest.raises(FileCorrupt) as refused:
        check_pdf_streams(data, SETTINGS)
    assert refused.value.code == "FILE_CORRUPT" and "chồng lên nhau" in refused.value.message


@pytest.mark.parametrize(
    ("clear_first", "filters", "flate"),
    [
        (True, b"/LZWDecode", False),
        (False, b"/LZWDecode", False),
        (False, b"6 0 R", False),
        (True, b"", True),
    ],
    ids=["lzw", "lzw-without-clear-code", "lzw-named-indirectly", "flate-then-lzw"],
)
def test_an_lzw_bomb_is_a_bomb(clear_first: bool, filters: bytes, flate: bool) -> None:
    """LZW reaches ~1,300:1 here (2,500:1 at best), Flate ~1,000:1, and the guard counted Flate
    only: a 463 KiB file of 600 MiB of LZW content took pdfium 5-7 s and 1.2 GiB, and its text
    was read (checked by hand, each of the four shapes; deflated, the file is 25 KiB)."""
    data = lzw_bomb_pdf(INFLATED, clear_first=clear_first, filters=filters, flate=flate)
    assert len(data) < 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(FileBomb) as info:
        extract_text(data, "cong-van.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"
    assert time.perf_counter() - started < 20


def test_a_pdf_with_an_ordinary_lzw_stream_is_not_a_bomb() -> None:
    """A page of text in an LZW stream, as old scanners and writers made them, passes the
    guard and its text is read."""
    from pypdf._codecs._codecs import LzwCodec

    text = b"BT /F1 12 Tf 50 700 Td (Cong van so 12/UBND ve viec bao cao) Tj ET\n"
    data = LzwCodec().encode(text * 200)
    pdf = _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /LZWDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])
    check_pdf_streams(pdf, SETTINGS)
    assert "Cong van so 12/UBND" in extract_text(pdf, "cong-van.pdf", settings=SETTINGS).text


CHAIN_SETTINGS = TextSettings(ocr_enabled=False, max_pdf_inflated_bytes=32 * 1024 * 1024)
CHAIN_INFLATED = 40 * 1024 * 1024
"""The chain tests run at a lower bound (32 MiB) than the default (512 MiB): the same counting,
files a tenth the size (pypdf's LZW encoder, pure Python, writes them)."""


@pytest.mark.parametrize(
    ("chain", "clear_first"),
    [
        (["ASCIIHexDecode", "LZWDecode"], True),
        (["ASCIIHexDecode", "LZWDecode"], False),
        (["ASCII85Decode", "LZWDecode"], True),
        (["LZWDecode", "FlateDecode"], True),
        (["FlateDecode", "LZWDecode", "FlateDecode"], True),
        (["ASCII85Decode", "LZWDecode", "FlateDecode", "FlateDecode"], True),
        (["LZWDecode", "LZWDecode"], True),
    ],
    ids=["hex-lzw", "hex-lzw-without-clear-code", "a85-lzw", "lzw-flate", "flate-lzw-flate",
         "a85-lzw-flate-flate", "lzw-lzw"],
)
def test_lzw_under_or_over_another_filter_is_a_bomb(chain: list[str], clear_first: bool) -> None:
    """m1 counted LZW alone and under Flate; pdfium decodes every filter of a chain, and the
    guard passed LZW under an ASCII layer (its data looked like text), LZW whose output is
    Flate data (the LZW output was counted, not its inflation) and longer chains. Each layer
    is now counted in order, with one bound over all of them."""
    data = chain_bomb_pdf(CHAIN_INFLATED, chain, clear_first=clear_first)
    assert len(data) * CHAIN_SETTINGS.max_pdf_inflate_ratio < CHAIN_SETTINGS.max_pdf_inflated_bytes
    started = time.perf_counter()
    with pytest.raises(FileBomb) as info:
        check_pdf_streams(data, CHAIN_SETTINGS)
    assert info.value.code == "FILE_BOMB"
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("chain", [["ASCIIHexDecode", "LZWDecode"], ["LZWDecode", "FlateDecode"],
                                   ["ASCII85Decode", "LZWDecode", "FlateDecode"]])
def test_an_ordinary_chain_with_lzw_is_not_a_bomb(chain: list[str]) -> None:
    """Not a false refusal: a page of text through the same chains passes and is read."""
    line = b"BT /F1 12 Tf 50 700 Td (Cong van so 12/UBND ve viec bao cao) Tj ET\n"
    data = chain_bomb_pdf(20_000, chain, tail=line)
    check_pdf_streams(data, SETTINGS)
    assert "Cong van so 12/UBND" in extract_text(data, "cong-van.pdf", settings=SETTINGS).text
