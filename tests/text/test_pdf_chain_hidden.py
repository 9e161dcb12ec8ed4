"""The PDF bomb guard reads a stream's /Filter chain however the dictionary writes it (review r25).

m6 decoded the chain a dictionary names when it holds RunLength, but found it with one regex
over the 4 KiB before ``stream`` cut at the last ``obj``: plain names only, no comment between
tokens, no reference. pdfium reads every one of these forms, so a file of 4 KiB whose chain
``[/FlateDecode /RunLengthDecode /FlateDecode]`` was written any other way passed the guard and
pdfium made a 600 MiB content stream of it (1.2 GiB RSS). Now names are read with their ``#xx``
escapes, comments are white space, references are followed, the dictionary is every byte since
the previous stream's end (a ``stream`` inside one of its strings does not cut it), and a
reference the guard cannot find is refused (``filter_chain_unresolved``)."""

from __future__ import annotations

import zlib

import pytest
from pdf_objects import pdf_from_objects

from ingest.text import FileBomb, TextSettings, extract_text
from ingest.text.guards import check_pdf_streams

SETTINGS = TextSettings(ocr_enabled=False, max_pdf_inflated_bytes=32 * 1024 * 1024)
CHAIN = b"[/FlateDecode /RunLengthDecode /FlateDecode]"
LINE = b"BT /F1 12 Tf 50 700 Td (Cong van so 12/UBND) Tj ET\n"


def _hidden_chain_data(inflated: int) -> bytes:
    """Flate of RunLength of Flate: the innermost Flate makes ``inflated`` spaces and a line of
    text; RunLength writes it as one-byte literal runs, so no run opens with a zlib header (the
    guard's sniffing does not see the layer under it); the outer Flate is all it counts."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    inner = b"".join(compressor.compress(chunk) for _ in range(inflated >> 20))
    inner += compressor.compress(LINE) + compressor.flush()
    runs = b"".join(b"\x00" + inner[i : i + 1] for i in range(len(inner))) + b"\x80"
    return zlib.compress(runs, 9)


def _pdf(dictionary: bytes, data: bytes, extra: tuple[bytes, ...] = ()) -> bytes:
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d %s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *extra,
        ]
    )


HIDDEN = {
    "name-escape": (b"/Filter [/FlateDecode /RunLength#44ecode /FlateDecode]", ()),
    "key-escape": (b"/F#69lter " + CHAIN, ()),
    "comment": (b"/Filter [/FlateDecode %note\n/RunLengthDecode /FlateDecode]", ()),
    "obj-after": (b"/Filter " + CHAIN + b" /X /obj", ()),
    "long-dictionary": (b"/Filter " + CHAIN + b" /Pad [" + b"0 " * 4000 + b"]", ()),
    "stream-in-string": (b"/Filter " + CHAIN + b" /X (stream\n) /Y (endstream) /Z (obj)", ()),
    "indirect-array": (b"/Filter 6 0 R", (CHAIN,)),
    "indirect-item": (b"/Filter [/FlateDecode 6 0 R /FlateDecode]", (b"/RunLengthDecode",)),
}


@pytest.mark.parametrize("shape", list(HIDDEN))
def test_a_chain_written_otherwise_is_still_counted(shape: str) -> None:
    dictionary, extra = HIDDEN[shape]
    data = _pdf(dictionary, _hidden_chain_data(40 * 1024 * 1024), extra)
    assert len(data) * SETTINGS.max_pdf_inflate_ratio < SETTINGS.max_pdf_inflated_bytes
    with pytest.raises(FileBomb) as info:  # before: passed, and pdfium made the 40 MiB page
        check_pdf_streams(data, SETTINGS)
    assert info.value.code == "FILE_BOMB"


def test_the_same_chain_written_plainly_was_already_counted() -> None:
    """The baseline these shapes hide: m6 refused the chain written plainly."""
    data = _pdf(b"/Filter " + CHAIN, _hidden_chain_data(40 * 1024 * 1024))
    with pytest.raises(FileBomb):
        check_pdf_streams(data, SETTINGS)


def test_a_filter_reference_the_guard_cannot_find_is_refused_with_its_reason() -> None:
    """A decision: a /Filter given by a reference to an object the file does not hold in plain
    (an object stream, or none) cannot be counted; no sound writer does so, and the corpus has
    none: refused with a stable reason rather than passed."""
    data = _pdf(b"/Filter 9 0 R", _hidden_chain_data(1024 * 1024))
    with pytest.raises(FileBomb) as info:
        check_pdf_streams(data, SETTINGS)
    assert info.value.details["reason"] == "filter_chain_unresolved"
    assert "tham chiếu" in info.value.message


@pytest.mark.parametrize("shape", ["name-escape", "comment", "indirect-array", "stream-in-string"])
def test_an_ordinary_page_through_such_a_chain_is_not_refused_and_pdfium_reads_it(shape: str) -> None:
    """Not a false refusal: a page of text through the same chain passes, and pdfium reads its
    text (so it decodes the chain written that way, which is why it must be counted)."""
    dictionary, extra = HIDDEN[shape]
    data = _pdf(dictionary, _hidden_chain_data(1024 * 1024), extra)
    check_pdf_streams(data, SETTINGS)
    assert "Cong van so 12/UBND" in extract_text(data, "cong-van.pdf", settings=SETTINGS).text
