"""Attack shapes for the whole-document checks: a signed document, an unsigned incremental
update that adds a page, and one byte of that update's cross-reference table changed."""

from __future__ import annotations

import asyncio
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from ingest.testpki import FIXTURE_TIME, TestPKI, timestamper


def add_page_update(data: bytes) -> tuple[bytes, int]:
    """``data`` with an incremental update that adds a page; and the object number of the
    page tree root it rewrites."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    pages_ref = writer.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    first = pages["/Kids"][0].get_object()
    content = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (ADDED PAGE) Tj ET")
    )
    page = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/Parent"): pages_ref,
            generic.NameObject("/MediaBox"): first["/MediaBox"],
            generic.NameObject("/Contents"): content,
            generic.NameObject("/Resources"): first.raw_get("/Resources"),
        }
    )
    pages["/Kids"].append(writer.add_object(page))
    pages[generic.NameObject("/Count")] = generic.NumberObject(int(pages["/Count"]) + 1)
    writer.update_container(pages)
    out = BytesIO()
    writer.write(out)
    return out.getvalue(), pages_ref.idnum


def xref_entry_position(data: bytes, idnum: int) -> int:
    """Start of ``idnum``'s entry in the last cross-reference table."""
    import re

    pos = data.rfind(b"\nxref") + 5
    for sub in re.finditer(rb"(\d+) (\d+)\r?\n", data[pos:data.find(b"trailer", pos)]):
        first, count = int(sub.group(1)), int(sub.group(2))
        if first <= idnum < first + count and len(sub.group(0)) < 20:
            return pos + sub.end() + 20 * (idnum - first)
    raise ValueError(f"no entry for {idnum}")


def malformed_marker(data: bytes, idnum: int) -> bytes:
    pos = xref_entry_position(data, idnum) + 17
    return data[:pos] + b"x" + data[pos + 1:]


def off_generation(data: bytes, idnum: int) -> bytes:
    pos = xref_entry_position(data, idnum) + 11
    return data[:pos] + b"00001" + data[pos + 5:]


def sign_with_docmdp(data: bytes, pki: TestPKI, docmdp: int | None) -> bytes:
    """An approval signature (``docmdp=None``) or a certification signature with P=docmdp, by
    the test PKI's personal identity, time-stamped at the fixture time."""
    writer = IncrementalPdfFileWriter(BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="Sig1",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=docmdp is not None,
        docmdp_permissions=fields.MDPPerm(docmdp or 2),
    )
    signer = signers.PdfSigner(
        meta, pki.personal.pyhanko_signer(), timestamper=timestamper(pki, FIXTURE_TIME)
    )
    out = BytesIO()
    asyncio.run(signer.async_sign_pdf(writer, output=out))
    return out.getvalue()
