"""The per-document memory limit of the verification workers stops a hostile PDF (a page
added after signing whose content stream decompresses to a gigabyte) with a named
INDETERMINATE reason, and the pool goes on verifying the next document."""

from __future__ import annotations

import mmap
import zlib
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest.signatures import Indication, TrustStore, verify_pdf
from ingest.signatures._pool import Limits, VerifierPool
from ingest.testpki import TestPKI, make_variant

BOMB_MB = 1024  # decompressed size of the hostile stream
LIMIT_MB = 600  # the workers' address-space limit in this test


def _bomb(mb: int) -> bytes:
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    return b"".join([*(packer.compress(zeros) for _ in range(mb)), packer.flush()])


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)


@pytest.fixture(scope="module")
def hostile(signed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    content = writer.add_object(generic.StreamObject(
        {"/Filter": generic.NameObject("/FlateDecode")}, encoded_data=_bomb(BOMB_MB)
    ))
    pages_ref = writer.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    page = writer.add_object(generic.DictionaryObject({
        "/Type": generic.NameObject("/Page"),
        "/Parent": pages_ref,
        "/Contents": content,
        "/MediaBox": generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
    }))
    pages["/Kids"].append(page)
    pages["/Count"] = generic.NumberObject(int(pages["/Count"]) + 1)
    writer.mark_update(pages_ref)
    out = BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert len(data) < 4 * 1024 * 1024  # small on disk, a gigabyte once inflated
    return data


def test_a_decompression_bomb_is_stopped_by_the_memory_limit_and_the_pool_keeps_working(
    signed: bytes, hostile: bytes, pki_trust: TrustStore
) -> None:
    pool = VerifierPool(1, Limits(timeout=300, memory_mb=LIMIT_MB))
    try:
        result = verify_pdf(hostile, pki_trust, pool=pool)
        verdict = result.verdict
        assert verdict.indication is Indication.INDETERMINATE
        assert verdict.sub_indication == "SIGNED_DATA_NOT_FOUND"
        assert "giới hạn bộ nhớ" in verdict.explanation
        assert result.signatures == ()
        # the worker that died was replaced: the next document is verified as usual
        after = verify_pdf(signed, pki_trust, pool=pool)
        assert after.verdict.indication is Indication.TOTAL_PASSED
        assert pool._started == 1
    finally:
        pool.close()


def test_the_forked_verifier_of_kho_verify_keeps_the_limits_and_the_caller_stock(
    signed: bytes, hostile: bytes, pki_trust: TrustStore
) -> None:
    """``kho verify`` verifies each file in a forked child (no second interpreter): the same
    memory and time limits and verdicts as the pool, and nothing of the fast path in the
    caller."""
    import gc

    from asn1crypto import x509

    from ingest.signatures import _fastpath
    from ingest.signatures._pool import ForkVerifier

    assert ForkVerifier.available()
    name_eq = x509.Name.__eq__
    # (the fuzz test switches the fast path on in this process to compare it with stock
    # pyHanko: what is asserted is that the children change nothing here)
    was_active = _fastpath.active()
    forked = ForkVerifier(Limits(timeout=300, memory_mb=LIMIT_MB))
    # The caller may already map more than the limit (a long test run, a big CLI process): the
    # child's limit counts on top of what it inherits, so only the document's own use hits it.
    ballast = mmap.mmap(-1, (LIMIT_MB + 200) * 1024 * 1024)  # address space, never touched
    bomb = verify_pdf(hostile, pki_trust, pool=forked)
    assert bomb.verdict.indication is Indication.INDETERMINATE
    assert "giới hạn bộ nhớ" in bomb.verdict.explanation
    assert bomb.signatures == ()
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    good = verify_pdf(signed, pki_trust, pool=forked, now=moment)
    assert good.verdict.indication is Indication.TOTAL_PASSED
    ballast.close()
    pool = VerifierPool(1, Limits(timeout=300, memory_mb=LIMIT_MB))
    try:
        assert verify_pdf(signed, pki_trust, pool=pool, now=moment).to_dict() == good.to_dict()
    finally:
        pool.close()
    slow = verify_pdf(signed, pki_trust, pool=ForkVerifier(Limits(timeout=0.001, memory_mb=600)))
    assert slow.verdict.indication is Indication.INDETERMINATE
    assert "thời gian" in slow.verdict.explanation
    # the caller's process kept stock libraries and its garbage collector
    assert _fastpath.active() is was_active and gc.isenabled() and x509.Name.__eq__ is name_eq


def test_the_pool_reads_the_cpu_time_of_its_idle_worker(signed: bytes, pki_trust: TrustStore) -> None:
    """What bench/eval_signatures.py reports beside the wall time: the CPU a document took in
    the worker (its reading before and after a verification)."""
    pool = VerifierPool(1, Limits(timeout=300, memory_mb=LIMIT_MB))
    try:
        assert pool.idle_worker_cpu() == {}  # no worker started yet
        verify_pdf(signed, pki_trust, pool=pool)
        before = pool.idle_worker_cpu()
        assert len(before) == 1
        (pid,) = before
        assert pid == pool._idle[0].process.pid
        assert before[pid] > 0  # it imported pyHanko and verified a document
        result = verify_pdf(signed, pki_trust, pool=pool)
        assert result.verdict.indication is Indication.TOTAL_PASSED
        after = pool.idle_worker_cpu()
        assert after.keys() == before.keys() and after[pid] >= before[pid]
    finally:
        pool.close()
    assert pool.idle_worker_cpu() == {}  # closed: no worker left to read
