"""The PDF bomb guard counts RunLength inside another layer and chains of any depth (review m2).

m2 left two chains open: a RunLength layer inside another one (``[/FlateDecode /RunLengthDecode
/FlateDecode]``: RunLength was known only as the outermost layer) and chains deeper than the four
layers the guard follows by their first bytes (the last layer's output was counted, what is under
it was not). pdfium decodes every filter a dictionary names, so each of these made a page of 40
MiB from a file of a few KiB. Now the chain the dictionary names is decoded as named, each layer
counted, and a chain the guard cannot follow (deeper than it counts) is refused as a bomb."""

from __future__ import annotations

import time

import pytest
from pdf_objects import chain_bomb_pdf

from ingest.text import FileBomb, TextSettings, extract_text
from ingest.text.guards import check_pdf_streams

SETTINGS = TextSettings(ocr_enabled=False)
CHAIN_SETTINGS = TextSettings(ocr_enabled=False, max_pdf_inflated_bytes=32 * 1024 * 1024)
CHAIN_INFLATED = 40 * 1024 * 1024


@pytest.mark.parametrize(
    "chain",
    [
        ["FlateDecode", "RunLengthDecode", "FlateDecode"],
        ["FlateDecode", "RunLengthDecode"],
        ["ASCIIHexDecode", "RunLengthDecode", "FlateDecode"],
        ["LZWDecode", "RunLengthDecode", "FlateDecode"],
        ["FlateDecode"] * 6,
        ["ASCIIHexDecode", *["FlateDecode"] * 5],
        ["ASCII85Decode", "FlateDecode", "FlateDecode", "FlateDecode", "FlateDecode", "LZWDecode"],
    ],
    ids=[
        "flate-rl-flate",
        "flate-rl",
        "hex-rl-flate",
        "lzw-rl-flate",
        "six-flate",
        "hex-five-flate",
        "a85-four-flate-lzw",
    ],
)
def test_runlength_inside_a_chain_and_deep_chains_are_bombs(chain: list[str]) -> None:
    data = chain_bomb_pdf(CHAIN_INFLATED, chain)
    assert len(data) * CHAIN_SETTINGS.max_pdf_inflate_ratio < CHAIN_SETTINGS.max_pdf_inflated_bytes
    started = time.perf_counter()
    with pytest.raises(FileBomb) as info:  # before: passed, and pdfium made the 40 MiB page
        check_pdf_streams(data, CHAIN_SETTINGS)
    assert info.value.code == "FILE_BOMB"
    assert time.perf_counter() - started < 30


def test_a_chain_longer_than_the_guard_follows_is_refused_even_when_small() -> None:
    """A decision: no sound PDF names more than a few filters; nine cannot be counted at a
    bounded memory (each LZW layer keeps its table), so the file is refused with a stable code."""
    data = chain_bomb_pdf(1_000, ["FlateDecode"] * 9)
    with pytest.raises(FileBomb) as info:
        check_pdf_streams(data, SETTINGS)
    assert info.value.code == "FILE_BOMB" and info.value.details["reason"] == "filter_chain_too_deep"
    assert "bộ lọc" in info.value.message


@pytest.mark.parametrize(
    "chain",
    [
        ["RunLengthDecode"],
        ["FlateDecode", "RunLengthDecode"],
        ["FlateDecode", "RunLengthDecode", "FlateDecode"],
        ["ASCII85Decode", "FlateDecode", "FlateDecode", "FlateDecode"],
    ],
)
def test_an_ordinary_chain_with_runlength_is_not_a_bomb(chain: list[str]) -> None:
    """Not a false refusal: a page of text through the same chains passes, and pdfium reads it
    (so it decodes these chains, which is why they must be counted)."""
    line = b"BT /F1 12 Tf 50 700 Td (Cong van so 12/UBND ve viec bao cao) Tj ET\n"
    data = chain_bomb_pdf(20_000, chain, tail=line)
    check_pdf_streams(data, SETTINGS)
    assert "Cong van so 12/UBND" in extract_text(data, "cong-van.pdf", settings=SETTINGS).text
