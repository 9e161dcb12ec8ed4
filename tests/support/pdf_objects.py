"""A PDF written by hand from its objects, for tests that need a shape no library writes."""

from __future__ import annotations

import functools
from collections.abc import Sequence


def pdf_from_objects(objects: Sequence[bytes]) -> bytes:
    """A PDF 1.7 whose objects are ``objects`` (numbered from 1, the first the catalog), with
    a classic cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@functools.lru_cache(maxsize=4)
def _deflated_q_q(inflated: int) -> bytes:
    """``inflated`` bytes of "q Q " then a line of text, deflated at level 9: the same bytes
    for every bomb of that size, made once per process (deflating 600 MiB costs ~4 CPU-s,
    and a test module makes a dozen bombs of one size)."""
    import zlib

    compressor = zlib.compressobj(9)
    chunk = b"q Q " * (1 << 18)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join(parts) + compressor.compress(b" BT /F1 12 Tf 10 10 Td (bom) Tj ET") + compressor.flush()


def flate_bomb_pdf(inflated: int, *, hex_layer: bool = False, padded: bool = False, shape: str = "") -> bytes:
    """One page whose content stream is ``inflated`` bytes of "q Q " (save/restore: nothing
    drawn) in a Flate stream of about inflated/1000 bytes: a PDF decompression bomb. ``shape``
    hides it otherwise: "cr" (the stream keyword ends with a lone CR), "runlength" (a
    RunLength layer over the Flate data), "a85-indirect" (an ASCII85 layer whose /Filter is an
    indirect object), "double-flate" (Flate of Flate: the file is about 1/1000 smaller again)."""
    import base64
    import binascii
    import zlib

    data = _deflated_q_q(inflated)
    filters, keyword, extra = b"/FlateDecode", b"stream\n", []
    if hex_layer:
        data, filters = binascii.hexlify(data) + b">", b"[/ASCIIHexDecode /FlateDecode]"
    if padded:  # a dictionary longer than the guard reads back from "stream"
        filters += b" /Pad [" + b"0 " * 4000 + b"]"
    if shape == "cr":
        keyword = b"stream\r"
    elif shape == "runlength":
        runs = [bytes([len(data[i : i + 128]) - 1]) + data[i : i + 128] for i in range(0, len(data), 128)]
        data, filters = b"".join(runs) + b"\x80", b"[/RunLengthDecode /FlateDecode]"
    elif shape == "a85-indirect":
        data, filters = base64.a85encode(data, adobe=True)[2:], b"6 0 R"
        extra = [b"[/ASCII85Decode /FlateDecode]"]
    elif shape == "double-flate":
        data, filters = zlib.compress(data, 9), b"[/FlateDecode /FlateDecode]"
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter %s >>\n" % (len(data), filters) + keyword + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra,
    ])


class _CodeWriter:
    """LZW codes packed MSB first, as LZWDecode (EarlyChange 1) reads them back: the width
    grows when the table the reader builds (one entry per code after the first after a clear)
    is one short of the next power of two."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.buffer = 0
        self.bits = 0
        self.size = 258  # codes in the reader's table
        self.first = True

    def _width(self) -> int:
        return min(12, max(9, (self.size + 1).bit_length()))

    def code(self, code: int) -> None:
        width = self._width()
        self.buffer = (self.buffer << width) | code
        self.bits += width
        while self.bits >= 8:
            self.bits -= 8
            self.out.append((self.buffer >> self.bits) & 0xFF)
        self.buffer &= (1 << self.bits) - 1
        if code == 256:
            self.size, self.first = 258, True
        elif self.first:
            self.first = False
        else:
            self.size += 1
        if self.size >= 4000 and code != 256:
            self.code(256)

    def close(self) -> bytes:
        self.code(257)
        if self.bits:
            self.out.append((self.buffer << (8 - self.bits)) & 0xFF)
            self.bits = 0
        return bytes(self.out)


def one_page_pdf(data: bytes, filters: bytes, *more: bytes) -> bytes:
    """One page in Helvetica whose content stream is ``data`` with ``/Filter filters``
    (object 4), then ``more`` objects from number 6 on."""
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filters) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *more,
    ])


def lzw_run(byte: int, count: int, tail: bytes, *, clear_first: bool = True) -> bytes:
    """LZW data of ``count`` bytes ``byte`` then ``tail``, written fast: a run's codes are
    the table's newest entries, each one byte longer than the last (~1,300:1 with a clear
    every 4,000 codes). ``clear_first``: open with the clear-table code, as the PDF standard
    asks of an encoder (pdfium decodes it without too)."""
    writer = _CodeWriter()
    if clear_first:
        writer.code(256)
    left, last = count, 0  # last: the length of the code before (0 after a clear)
    while left:
        last = 0 if writer.first else last
        run = min(left, last + 1)
        writer.code(byte if run == 1 else writer.size if run == last + 1 else 258 + run - 2)
        left, last = left - run, run
    for value in tail:
        writer.code(value)
    return writer.close()


def lzw_bomb_pdf(
    inflated: int, *, clear_first: bool = True, filters: bytes = b"/LZWDecode", flate: bool = False
) -> bytes:
    """One page whose content stream is ``inflated`` spaces, then a line of text, in LZW data
    about 1/1,100 of that: a PDF decompression bomb through LZWDecode. ``filters``: what the
    stream dictionary says (``b"6 0 R"``: an indirect object naming /LZWDecode); ``flate``: the
    LZW data deflated in turn, ``[/FlateDecode /LZWDecode]``."""
    import zlib

    data = lzw_run(0x20, inflated, b" BT /F1 12 Tf 10 10 Td (bom) Tj ET", clear_first=clear_first)
    if flate:
        data, filters = zlib.compress(data, 9), b"[/FlateDecode /LZWDecode]"
    return one_page_pdf(data, filters, b"/LZWDecode")


def run_length_encode(data: bytes) -> bytes:
    """RunLengthDecode's input for ``data`` (ISO 32000-1 7.4.5): runs of one byte as repeats,
    the rest as literal runs, then the end-of-data byte."""
    out = bytearray()
    i = 0
    while i < len(data):
        run = 1
        while run < 128 and i + run < len(data) and data[i + run] == data[i]:
            run += 1
        if run > 1:
            out += bytes([257 - run, data[i]])
            i += run
            continue
        start = i
        while i < len(data) and i - start < 128 and not (i + 1 < len(data) and data[i + 1] == data[i]):
            i += 1
        if i == start:
            i += 1
        out += bytes([i - start - 1]) + data[start:i]
    return bytes(out + b"\x80")


def chain_bomb_pdf(
    inflated: int, chain: Sequence[str], *, clear_first: bool = True,
    tail: bytes = b" BT /F1 12 Tf 10 10 Td (bom) Tj ET",
) -> bytes:
    """One page whose content stream is ``inflated`` spaces, then a line of text, encoded by the
    filter ``chain`` as the stream's /Filter array names it (the first filter is the outermost:
    ``["ASCIIHexDecode", "LZWDecode"]`` is LZW data written as hex text). The innermost LZW is
    :func:`lzw_run` (``clear_first`` as there); an LZW layer over other data is pypdf's encoder;
    the innermost Flate is a streamed deflate of the spaces."""
    import base64
    import binascii
    import zlib

    from pypdf._codecs._codecs import LzwCodec

    *outer, inner = chain
    if inner == "LZWDecode":
        data = lzw_run(0x20, inflated, tail, clear_first=clear_first)
    elif inner == "RunLengthDecode":  # repeats of 128 spaces: 64 times their size
        data = bytes([129, 0x20]) * (inflated // 128) + run_length_encode(tail)
    elif inner == "FlateDecode":
        compressor = zlib.compressobj(9)
        chunk = b" " * (1 << 20)
        parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
        data = b"".join(parts) + compressor.compress(tail) + compressor.flush()
    else:
        raise ValueError(inner)
    for name in reversed(outer):
        if name == "FlateDecode":
            data = zlib.compress(data, 9)
        elif name == "LZWDecode":
            data = LzwCodec().encode(data)
        elif name == "ASCIIHexDecode":
            data = binascii.hexlify(data) + b">"
        elif name == "ASCII85Decode":
            data = base64.a85encode(data, adobe=True)[2:]
        elif name == "RunLengthDecode":
            data = run_length_encode(data)
        else:
            raise ValueError(name)
    filters = b"[" + b" ".join(b"/" + n.encode() for n in chain) + b"]"
    return one_page_pdf(data, filters)


def nested_forms_pdf(levels: int, fan_out: int = 3) -> bytes:
    """One page drawing form 1, each form drawing the next ``fan_out`` times, ``levels`` deep:
    a few KB that a reader expanding every draw (pdfium's text page) makes ``fan_out**levels``
    objects of (13 levels: 658 MB; each level three times more)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /XObject << /X 5 0 R >> >> >>",
        b"<< /Length 5 >>\nstream\n/X Do\nendstream",
    ]
    for level in range(levels):
        last = level == levels - 1
        content = b"BT ET" if last else b" ".join([b"/X Do"] * fan_out)
        resources = b"" if last else b" /Resources << /XObject << /X %d 0 R >> >>" % (level + 6)
        objects.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10]" + resources
            + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
        )
    return pdf_from_objects(objects)


def xref_stream_bomb_pdf(inflated: int) -> bytes:
    """One blank page whose cross-reference stream inflates to ``inflated`` bytes: its five
    true entries, then zeros past ``/Size`` (a few hundred KB of Flate, under the bomb guard's
    ratio). pdfium inflates the whole stream when it opens the file, before anything else: 300
    MiB took 658 MB of the opening process."""
    import zlib

    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate((
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ), 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)

    def entry(kind: int, field: int, generation: int) -> bytes:
        return bytes([kind]) + field.to_bytes(4, "big") + generation.to_bytes(2, "big")

    rows = entry(0, 0, 65535) + b"".join(entry(1, o, 0) for o in offsets) + entry(1, xref, 0)
    packer = zlib.compressobj(9)
    parts, left, zeros = [packer.compress(rows)], inflated - len(rows), bytes(1 << 20)
    while left > 0:
        parts.append(packer.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    parts.append(packer.flush())
    data = b"".join(parts)
    out += (b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode"
            b" /Length %d >>\nstream\n" % len(data)) + data + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
