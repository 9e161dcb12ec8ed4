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
