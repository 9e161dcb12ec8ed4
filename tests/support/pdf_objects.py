"""A PDF written by hand from its objects, for tests that need a shape no library writes."""

from __future__ import annotations

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


def flate_bomb_pdf(inflated: int, *, hex_layer: bool = False, padded: bool = False, shape: str = "") -> bytes:
    """One page whose content stream is ``inflated`` bytes of "q Q " (save/restore: nothing
    drawn) in a Flate stream of about inflated/1000 bytes: a PDF decompression bomb. ``shape``
    hides it otherwise: "cr" (the stream keyword ends with a lone CR), "runlength" (a
    RunLength layer over the Flate data), "a85-indirect" (an ASCII85 layer whose /Filter is an
    indirect object), "double-flate" (Flate of Flate: the file is about 1/1000 smaller again)."""
    import base64
    import binascii
    import zlib

    compressor = zlib.compressobj(9)
    chunk = b"q Q " * (1 << 18)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    data = b"".join(parts) + compressor.compress(b" BT /F1 12 Tf 10 10 Td (bom) Tj ET") + compressor.flush()
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
