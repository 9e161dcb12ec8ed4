"""f4: a /ByteRange that repeats the file is refused before it is hashed.

pyHanko hashes whatever ranges a signature dictionary lists, each cut at the end of the file:
a signature dictionary rewritten with 20,000 pairs ``0 10^12`` (the whole file each time)
made a 0.4 MB PDF cost seconds of CPU, growing with the square of the file (30,000 pairs:
10.6 s on a 0.6 MB file; about 100,000 pairs take a pool worker to its 120 s limit), and the
verdict came only at the end (HASH_FAILURE). Ranges that add up to more bytes than the file
holds cannot be a signed range: FORMAT_FAILURE at once."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest import testpki
from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import Indication
from ingest.signatures.rules import byte_range_problem
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import TestPKI

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _rewritten(signed: bytes, extra_pairs: list[tuple[int, int]]) -> bytes:
    """``signed`` with its signature dictionary written again in an incremental update, the
    /ByteRange followed by ``extra_pairs``."""
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    field = writer.root["/AcroForm"]["/Fields"][0].get_object()
    ref = field.raw_get("/V")
    sig = ref.get_object()
    values = list(sig["/ByteRange"])
    for offset, length in extra_pairs:
        values += [generic.NumberObject(offset), generic.NumberObject(length)]
    sig["/ByteRange"] = generic.ArrayObject(values)
    writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("reader", [PdfFileReader, CachingPdfReader], ids=["stock", "fast"])
def test_a_byte_range_that_repeats_the_file_is_refused_unhashed(
    pki: TestPKI, pki_trust: TrustStore, reader: type[PdfFileReader]
) -> None:
    signed = testpki.sign_as(testpki.document_for(pki.personal).data, pki, pki.personal,
                             at=testpki.FIXTURE_TIME)
    data = _rewritten(signed, [(0, 10**12)] * 20000)

    result = _verify_pdf(data, pki_trust, False, NOW, reader)

    (signature,) = result.signatures
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert signature.verdict.sub_indication == "FORMAT_FAILURE"
    assert "/ByteRange gồm 20002 đoạn" in signature.verdict.explanation
    assert f"nhiều hơn cả tệp ({len(data)} byte)" in signature.verdict.explanation
    assert signature.intact is None  # judged before any digest was computed


@pytest.mark.parametrize(
    ("byte_range", "size", "refused"),
    [
        ([0, 100, 200, 800], 1000, False),  # a signature: all but its /Contents
        ([0, 1000], 1000, False),  # one range (pyHanko judges the coverage)
        ([0, 5265, 43155, 486], 82414, False),  # DSS pdf-byterange-overlap: pyHanko's verdict
        ([0, 600, 500, 600], 1000, True),  # overlapping past the file's size
        ([0, 1000, 0, 1], 1000, True),
        ([0, 10**12] * 3, 1000, True),
        ([0, 100, 2000, 10**9], 1000, False),  # past the end: cut, pyHanko judges it
        ([0, 100, 200], 1000, False),  # odd count: malformed, pyHanko judges it
        ([0, -5, 0, 2000], 1000, False),  # negative: malformed
        ([0, "x"], 1000, False),
    ],
)
def test_which_byte_ranges_are_refused_before_hashing(
    byte_range: list[object], size: int, refused: bool
) -> None:
    assert (byte_range_problem(byte_range, size) is not None) is refused
