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


def flate_bomb_pdf(inflated: int, *, hex_layer: bool = False, padded: bool = False) -> bytes:
    """One page whose content stream is ``inflated`` bytes of "q Q " (save/restore: nothing
    drawn) in a Flate stream of about inflated/1000 bytes: a PDF decompression bomb."""
    import binascii
    import zlib

    compressor = zlib.compressobj(9)
    chunk = b"q Q " * (1 << 18)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    data = b"".join(parts) + compressor.compress(b" BT /F1 12 Tf 10 10 Td (bom) Tj ET") + compressor.flush()
    filters = b"/FlateDecode"
    if hex_layer:
        data, filters = binascii.hexlify(data) + b">", b"[/ASCIIHexDecode /FlateDecode]"
    if padded:  # a dictionary longer than the guard reads back from "stream"
        filters += b" /Pad [" + b"0 " * 4000 + b"]"
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filters) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])
