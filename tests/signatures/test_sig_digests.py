"""Shared-prefix digests (:mod:`ingest.signatures._digests`) equal pyHanko's own byte-range
digests, in any order of requests, and decline what they do not handle."""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import byte_range_digest
from pyhanko.sign.validation import EmbeddedPdfSignature

from ingest.signatures._digests import PrefixDigests, SharedDigestSignature

ALGORITHMS = ["sha1", "sha224", "sha256", "sha384", "sha512"]


def _pyhanko(data: bytes, algorithm: str, byte_range: list[int]) -> bytes:
    return byte_range_digest(BytesIO(data), byte_range, algorithm)[1]


ranges = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=1, max_size=4
).map(lambda pairs: [v for pair in pairs for v in pair])


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=256),
    requests=st.lists(st.tuples(st.sampled_from(ALGORITHMS), ranges), min_size=1, max_size=8),
)
def test_any_sequence_of_requests_equals_pyhanko(data: bytes, requests: list) -> None:
    """Prefixes kept from earlier requests (longer, shorter, other algorithms, ranges past
    the end of the data) never change a later digest."""
    digests = PrefixDigests(data)
    for algorithm, byte_range in requests:
        assert digests.of_ranges(algorithm, byte_range) == _pyhanko(data, algorithm, byte_range)
    assert digests.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_longer_prefix_is_never_used_for_a_shorter_one() -> None:
    data = bytes(range(256)) * 40
    digests = PrefixDigests(data)
    long, short = [0, 9000, 9500, 100], [0, 4000, 4100, 5000]
    assert digests.of_ranges("sha256", long) == _pyhanko(data, "sha256", long)
    assert digests.of_ranges("sha256", short) == _pyhanko(data, "sha256", short)
    # the same prefix length under another algorithm is hashed on its own
    assert digests.of_ranges("sha1", short) == _pyhanko(data, "sha1", short)
    assert digests.hexdigest() == hashlib.sha256(data).hexdigest()
    # another document with the same prefix lengths gets its own digests
    other = bytes(reversed(data))
    assert PrefixDigests(other).of_ranges("sha256", long) == _pyhanko(other, "sha256", long)


@pytest.mark.parametrize(
    ("algorithm", "byte_range"),
    [
        ("sha256", [0, 10, 20]),  # odd count
        ("sha256", [0, -1, 20, 5]),  # negative
        ("sha256", [0, 10.0, 20, 5]),  # not an integer
        ("sha256", [0, True, 20, 5]),  # a boolean is no length
        ("sha256", [generic.IndirectObject(1, 0, None), 10, 20, 5]),
        ("sha256", 17),  # not a list
        ("md5", [0, 10, 20, 5]),  # left to pyHanko
        ("sha3_256", [0, 10, 20, 5]),
    ],
)
def test_what_it_does_not_handle_is_left_to_pyhanko(algorithm: str, byte_range: object) -> None:
    assert PrefixDigests(b"%PDF-1.7\n" * 10).of_ranges(algorithm, byte_range) is None


def test_corpus_signatures_get_pyhankos_digests(corpus_pdf_dir: Path) -> None:
    """Every signature of the real multi-signature documents, digested through the shared
    prefixes (signatures in document order, then again newest first), equals pyHanko's."""
    names = ["vn-gov__03-vbhn-bkhcn.pdf", "vn-quangngai__05.signed_20250517_044750.pdf",
             "vn-quangngai__11_CT.signed_20250513_153510.pdf", "vn-gov__19-bkhcn.pdf"]
    checked = 0
    for name in names:
        data = (corpus_pdf_dir / name).read_bytes()
        reader = PdfFileReader(BytesIO(data), strict=False)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
        assert len(fields) >= 2
        digests = PrefixDigests(data)
        for order in (fields, list(reversed(fields))):
            for field_name, _, sig_field in order:
                stock = EmbeddedPdfSignature(reader, sig_field, field_name)
                shared = SharedDigestSignature(reader, sig_field, field_name, digests)
                assert shared.compute_digest() == stock.compute_digest()
                assert shared.compute_digest("sha512") == stock.compute_digest("sha512")
                checked += 1
        assert digests.hexdigest() == hashlib.sha256(data).hexdigest()
    assert checked == 2 * (5 + 5 + 2 + 2)


def test_a_range_pyhanko_cannot_read_still_fails_as_in_pyhanko(corpus_pdf_dir: Path) -> None:
    """A /ByteRange the shared digests decline (an indirect value) goes to pyHanko's own
    digest, which raises as before."""
    data = (corpus_pdf_dir / "vn-quangngai__11_CT.signed_20250513_153510.pdf").read_bytes()
    reader = PdfFileReader(BytesIO(data), strict=False)
    (field_name, _, sig_field), *_ = enumerate_sig_fields(reader, filled_status=True)
    shared = SharedDigestSignature(reader, sig_field, field_name, PrefixDigests(data))
    stock = EmbeddedPdfSignature(reader, sig_field, field_name)
    catalog = reader.root_ref  # a reference to a dictionary where a number belongs
    bad = generic.ArrayObject([catalog, *(generic.NumberObject(v) for v in (10, 20, 5))])
    shared.byte_range = stock.byte_range = bad
    with pytest.raises(Exception) as from_stock:
        stock.compute_digest()
    with pytest.raises(type(from_stock.value)):
        shared.compute_digest()


def test_a_change_after_the_first_signature_breaks_only_the_second(
    corpus_pdf_dir: Path, corpus_trust: object
) -> None:
    """Where reusing the first signature's prefix would be wrong: a byte changed inside the
    second signature's range after the first signature's revision must make the second
    signature not intact and leave the first intact; a byte changed in the shared prefix breaks
    both. The shared digests give stock pyHanko's answer in both cases."""
    from ingest.signatures._reader import CachingPdfReader
    from ingest.signatures.verify import _verify_pdf

    data = (corpus_pdf_dir / "vn-quangngai__11_CT.signed_20250513_153510.pdf").read_bytes()
    second = data.rindex(b"/M(D:2024091207")
    first_end = 2735177 + 28470  # the first signature's /ByteRange end
    assert second > first_end and data.count(b"/ByteRange") == 2
    after_first = data[:second + 13] + b"8" + data[second + 14:]
    # a byte of an image's data before the first signature's /Contents: in both ranges
    in_prefix_at = data.index(b"stream", data.index(b"/Subtype/Image")) + 100
    assert in_prefix_at < 2710407  # the first signature's /Contents starts there
    in_prefix = data[:in_prefix_at] + bytes([data[in_prefix_at] ^ 1]) + data[in_prefix_at + 1:]

    def intact(pdf: bytes, reader_class: type) -> list[bool | None]:
        result = _verify_pdf(pdf, corpus_trust, False, None, reader_class)  # type: ignore[arg-type]
        return [s.intact for s in sorted(result.signatures, key=lambda s: s.signed_revision or 0)]

    assert intact(data, CachingPdfReader) == [True, True]
    assert intact(after_first, CachingPdfReader) == [True, False] == intact(after_first, PdfFileReader)
    assert intact(in_prefix, CachingPdfReader) == [False, False] == intact(in_prefix, PdfFileReader)
