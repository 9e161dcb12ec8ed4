"""m42: the bomb guard learns whether a stream is ASCII85 text over zlib or LZW data from its
first five-digit group, decoded by ``guards._a85_group`` instead of the general
``guards._a85decode`` (26 probes a document in the bench, nearly all of plain streams). The
group decoder gives the standard library's bytes and errors; every ASCII85 bomb whose first
group opens any zlib header (each window size and level) or LZW's clear code is still refused,
at the first layer and under a Flate layer; and the general decoder is no longer called for
streams that are not ASCII85 over binary data."""

from __future__ import annotations

import base64
import random
import zlib

import pytest
from pdf_objects import lzw_run, one_page_pdf, pdf_from_objects

from ingest.text import TextSettings, guards
from ingest.text.errors import FileBomb
from ingest.text.guards import check_pdf_streams

SMALL = TextSettings(max_pdf_inflated_bytes=1 << 20, max_pdf_inflate_ratio=20)
"""Limits that a 4 MiB stream passes (a bomb that is quick to make)."""

_DIGITS = bytes(range(33, 118))


def _outcome(decode: object, group: bytes) -> bytes | str:
    try:
        return decode(group)  # type: ignore[operator]
    except ValueError:
        return "ValueError"


def _groups() -> list[bytes]:
    tails = (b"!!!", b"uuu", b"-!!", b"W-!", b"8W-", b"Xuu", b"8W-!"[:3])
    cases = [bytes([a, b]) + tail for a in _DIGITS for b in _DIGITS for tail in tails]
    rng = random.Random(42)
    cases += [bytes(rng.choice(_DIGITS) for _ in range(5)) for _ in range(50_000)]
    return [*cases, b"s8W-!", b's8W-"', b"s8W-u", b"s8W.!", b"uuuuu", b"!!!!!"]


def test_one_group_decodes_as_the_standard_library() -> None:
    refused = 0
    for group in _groups():
        expected = _outcome(base64.a85decode, group)
        assert _outcome(guards._a85_group, group) == expected, group
        refused += expected == "ValueError"
    assert refused > 1000  # overflowing groups (over 2**32 - 1) were compared too


def _zlib_kinds() -> list[tuple[int, int]]:
    """(wbits, level) giving every zlib header first byte (window 2**9..2**15) and each FLEVEL."""
    return [(wbits, level) for wbits in range(9, 16) for level in (1, 4, 6, 9)]


def _deflated(payload: bytes, wbits: int, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return packer.compress(payload) + packer.flush()


def _a85_stream_pdf(body: bytes, filters: bytes | None) -> bytes:
    named = b"" if filters is None else b" /Filter " + filters
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /Length %d%s >>\nstream\n" % (len(body), named) + body + b"\nendstream",
    ])


@pytest.mark.parametrize("filters", [b"[/ASCII85Decode /FlateDecode]", None], ids=["named", "unnamed"])
@pytest.mark.parametrize("adobe", [True, False], ids=["brackets", "bare"])
def test_an_ascii85_flate_bomb_is_refused_whatever_its_zlib_header(
    filters: bytes | None, adobe: bool
) -> None:
    seen = set()
    for wbits, level in _zlib_kinds():
        deflated = _deflated(bytes(4 << 20), wbits, level)
        seen.add(deflated[:2])
        body = base64.a85encode(deflated, adobe=adobe, wrapcol=72)
        with pytest.raises(FileBomb):
            check_pdf_streams(_a85_stream_pdf(body, filters), SMALL)
        small = base64.a85encode(_deflated(b"x" * 1000, wbits, level))
        check_pdf_streams(_a85_stream_pdf(small, filters), SMALL)  # a small one passes
    assert len(seen) >= 14  # distinct zlib headers, so distinct first groups


def test_an_ascii85_lzw_bomb_and_a_flate_layer_over_one_are_refused() -> None:
    lzw = base64.a85encode(lzw_run(0x20, 4 << 20, b" BT ET"), adobe=True, wrapcol=72)
    assert lzw[2:7].strip(_DIGITS) == b""  # the first group is plain digits: the probe decodes it
    with pytest.raises(FileBomb):
        check_pdf_streams(one_page_pdf(lzw, b"[/ASCII85Decode /LZWDecode]"), SMALL)
    for wbits, level in _zlib_kinds():  # ASCII85 text inside zlib: _layer_of's probe
        inner = base64.a85encode(_deflated(bytes(4 << 20), wbits, level), adobe=True)
        with pytest.raises(FileBomb):
            check_pdf_streams(
                one_page_pdf(zlib.compress(inner), b"[/FlateDecode /ASCII85Decode /FlateDecode]"), SMALL
            )


def test_plain_streams_are_probed_without_the_general_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The count: a page of ten plain content streams whose first bytes are ASCII85 digits
    (``BT/F1``) made ten calls of the general decoder; none now."""
    calls = []
    general = guards._a85decode

    def counted(data: bytes, *, adobe: bool = False) -> bytes:
        calls.append(len(data))
        return general(data, adobe=adobe)

    monkeypatch.setattr(guards, "_a85decode", counted)
    content = b"BT /F1 12 Tf 10 10 Td (plain text) Tj ET"
    streams = [b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream" for _ in range(10)]
    pdf = pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        *streams,
    ])
    check_pdf_streams(pdf, TextSettings())
    assert calls == []
