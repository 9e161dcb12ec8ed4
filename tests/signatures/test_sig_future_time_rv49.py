"""Time-stamps from the future are no proof (rv49).

Before rv49 a trusted time-stamp was proof of existence whatever time it stated. So, validated
on 3 December 2026, a token stating 1 June 2027 (a TSA whose clock is ahead, or a server whose
clock is behind):

* was shown as a trusted time-stamp, and a claimed signing time of 1 June 2027 under it
  passed (the same claim without the token was INDETERMINATE, rv18);
* was shown as trusted beside a signer certificate valid only from 1 January 2027 (the
  verdict was INDETERMINATE/CERTIFICATE_CHAIN_GENERAL_FAILURE; it is now TOTAL-FAILED/
  NOT_YET_VALID: the signature exists at the validation time, before its certificate);
* as a document time-stamp (PAdES-LTA), passed.

A token stating a time more than :data:`rules.CLAIMED_TIME_SLACK` after the validation time is
no proof: its trust problem is TIMESTAMP_ORDER_FAILURE, reported and otherwise treated as any
untrusted time-stamp (the signature is judged at the validation time, its claimed time too).
Real pyHanko signing with the test PKI; the stock and fast readers, and the worker pool cold
and after a good document of the same chain, agree.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from ingest import testpki
from ingest.signatures import Indication, TrustStore, rules
from ingest.signatures._pool import ForkVerifier, VerifierPool
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.model import PdfVerification
from ingest.signatures.verify import _verify_pdf, verify_pdf
from ingest.signing import SignatureRole, SignerIdentity, sign_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, document_for, timestamper

READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 12, 3, tzinfo=UTC)  # the validation time
FUTURE = datetime(2027, 6, 1, tzinfo=UTC)  # six months after it


@pytest.fixture(scope="module")
def plain(pki: TestPKI) -> bytes:
    return document_for(pki.personal).data


def _signed(
    plain: bytes, identity: SignerIdentity, pki: TestPKI, claimed: datetime, stamped_at: datetime
) -> bytes:
    return sign_pdf(
        plain, identity, timestamper=timestamper(pki, stamped_at), signing_time=claimed,
        bytes_reserved=12_288,
    )


def _not_yet_valid_signer(pki: TestPKI) -> SignerIdentity:
    """A personal certificate of the test CA valid from 1 January 2027 to 2030."""
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    key = testpki.derive_key("rv49-valid-from-2027")
    cert = testpki._leaf_cert(
        subject=testpki._person_name("Nguyễn Văn An", "Chủ tịch", "VĂN PHÒNG", "nvan@thunghiem.gov.vn"),
        key=key, serial=0x4B484F4901,
        validity=(datetime(2027, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
        issuer=ca, issuer_key=testpki.derive_key("ca"), issuer_file="kho-test-ca",
        email="nvan@thunghiem.gov.vn",
    )
    return testpki._identity("rv49-valid-from-2027", cert, key, (ca,), SignatureRole.PERSONAL)


def _verify(data: bytes, trust: TrustStore, reader: str) -> PdfVerification:
    return _verify_pdf(data, trust, False, MOMENT, READERS[reader])


@pytest.mark.parametrize("reader", READERS)
def test_a_time_stamp_from_the_future_is_no_proof(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """A genuine claim (5 March 2026) under a token stating 1 June 2027: the token is reported
    and ignored, as any untrusted time-stamp; the signature is judged at the validation time."""
    result = _verify(_signed(plain, pki.personal, pki, FIXTURE_TIME, FUTURE), pki_trust, reader)

    (signature,) = result.signatures
    assert signature.timestamp is not None
    assert signature.timestamp.intact and signature.timestamp.valid
    assert not signature.timestamp.trusted
    assert signature.timestamp.problem == "TIMESTAMP_ORDER_FAILURE"
    assert any("sau thời điểm kiểm tra" in note for note in signature.findings), signature.findings


@pytest.mark.parametrize("reader", READERS)
def test_a_claim_and_a_time_stamp_both_from_the_future_do_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    result = _verify(_signed(plain, pki.personal, pki, FUTURE, FUTURE), pki_trust, reader)

    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict


@pytest.mark.parametrize("reader", READERS)
def test_a_future_time_stamp_does_not_validate_a_certificate_not_yet_valid(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    """The certificate is valid from 1 January 2027: at the validation time it is not yet
    valid. A token of 1 June 2027 must not be taken as proof of a time that has not come."""
    early = _not_yet_valid_signer(pki)
    result = _verify(_signed(plain, early, pki, FUTURE, FUTURE), pki_trust, reader)

    assert result.verdict.indication is not Indication.TOTAL_PASSED, result.verdict
    (signature,) = result.signatures
    assert signature.timestamp is not None and not signature.timestamp.trusted
    # no token proves the time the verdict names: the validation time is named as such
    assert "Dấu thời gian tin cậy chứng minh" not in result.verdict.explanation


@pytest.mark.parametrize("reader", READERS)
def test_a_document_time_stamp_from_the_future_does_not_pass(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore, reader: str
) -> None:
    signed = _signed(plain, pki.personal, pki, FIXTURE_TIME, FIXTURE_TIME)
    out = BytesIO()
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    stamper = signers.PdfTimeStamper(timestamper(pki, FUTURE), field_name="DocTs")
    asyncio.run(stamper.async_timestamp_pdf(writer, "sha256", output=out))

    result = _verify(out.getvalue(), pki_trust, reader)

    stamp = next(s for s in result.signatures if s.field_name == "DocTs")
    assert (stamp.verdict.indication, stamp.trust_problem) == (
        Indication.INDETERMINATE, "TIMESTAMP_ORDER_FAILURE",
    )
    assert result.verdict.indication is not Indication.TOTAL_PASSED


def test_the_worker_pool_agrees_cold_and_warm(
    plain: bytes, pki: TestPKI, pki_trust: TrustStore
) -> None:
    """The pool's workers (their path and match caches) give the in-process verdicts, in a
    fresh worker and in one that has just passed a good document of the same chain; and so does
    the forked child of ``kho verify``."""
    good = _signed(plain, pki.personal, pki, FIXTURE_TIME, FIXTURE_TIME)
    cases = [
        _signed(plain, pki.personal, pki, FUTURE, FUTURE),
        _signed(plain, _not_yet_valid_signer(pki), pki, FUTURE, FUTURE),
    ]
    warm, fresh = VerifierPool(1), VerifierPool(1)
    forked = ForkVerifier()  # what ``kho verify`` uses where fork is available
    try:
        assert verify_pdf(good, pki_trust, now=MOMENT, pool=warm).verdict.indication is (
            Indication.TOTAL_PASSED
        )
        for data in cases:
            in_process = _verify(data, pki_trust, "stock")
            after_good = verify_pdf(data, pki_trust, now=MOMENT, pool=warm)
            alone = verify_pdf(data, pki_trust, now=MOMENT, pool=fresh)
            by_fork = verify_pdf(data, pki_trust, now=MOMENT, pool=forked)
            assert after_good.verdict.indication is not Indication.TOTAL_PASSED
            assert after_good.verdict == alone.verdict == in_process.verdict == by_fork.verdict
    finally:
        warm.close()
        fresh.close()


def test_timestamp_problem_bounds_the_token_by_the_validation_time() -> None:
    slack = rules.CLAIMED_TIME_SLACK
    assert rules.timestamp_problem(None, None, MOMENT + slack, MOMENT) is None
    assert rules.timestamp_problem(None, None, MOMENT + slack + timedelta(seconds=1), MOMENT) == (
        "TIMESTAMP_ORDER_FAILURE"
    )
    # a problem pyHanko found comes first; no validation time given: no bound
    assert rules.timestamp_problem("NO_CERTIFICATE_CHAIN_FOUND", None, FUTURE, MOMENT) == (
        "NO_CERTIFICATE_CHAIN_FOUND"
    )
    assert rules.timestamp_problem(None, None, FUTURE, None) is None
