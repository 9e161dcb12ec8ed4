"""A signing time the signer claims that cannot be true does not pass (rv18).

The signing time in the CMS signingTime attribute (and /M) is what the signer's computer
says; Kho shows it as "Thời điểm ký". Before rv18 a signature claiming 01/01/2020 with a
certificate issued in 2025 (a back-dated decision), or claiming 2031 (after the validation
time, after the certificate expired), was TOTAL-PASSED "Hợp lệ" with that time shown: the
only hint was the note that a time without a time-stamp is self-declared. A claimed time
more than a day before the certificate was issued, or (without a trusted time-stamp, which
is shown beside the claim) more than a day after the validation time, is no clock skew and
no time zone written wrongly (real Vietnamese signing tools write local time as UTC: 7 hours
ahead of their time-stamps, which stays a pass): the pass is withheld (INDETERMINATE).

Real pyHanko signing with the test PKI (certificate valid 2025-01-01 to 2030-01-01).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import Indication, TrustStore, rules
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.signing import sign_pdf
from ingest.testpki import FIXTURE_TIME, TestPKI, document_for, timestamper

READERS = {"fast": CachingPdfReader, "stock": PdfFileReader}
MOMENT = datetime(2026, 6, 1, tzinfo=UTC)
ISSUED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def plain(pki: TestPKI) -> bytes:
    return document_for(pki.personal).data


def _signed(plain: bytes, pki: TestPKI, claimed: datetime, stamped_at: datetime | None) -> bytes:
    return sign_pdf(
        plain,
        pki.personal,
        timestamper=timestamper(pki, stamped_at) if stamped_at else None,
        signing_time=claimed,
        bytes_reserved=12_288,
    )


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("claimed", "stamped_at", "reason"),
    [
        # back-dated: before the certificate existed, no time-stamp
        (datetime(2020, 1, 1, tzinfo=UTC), None, "trước khi chứng thư số của người ký có hiệu lực"),
        # back-dated under a genuine time-stamp of 2026-03-05
        (datetime(2020, 1, 1, tzinfo=UTC), FIXTURE_TIME, "trước khi chứng thư số của người ký có hiệu lực"),
        # in the future: after the validation time (and after the certificate expired)
        (datetime(2031, 1, 1, tzinfo=UTC), None, "sau thời điểm"),
    ],
)
def test_an_impossible_claimed_signing_time_does_not_pass(
    plain: bytes,
    pki: TestPKI,
    pki_trust: TrustStore,
    claimed: datetime,
    stamped_at: datetime | None,
    reason: str,
    reader: str,
) -> None:
    result = _verify_pdf(_signed(plain, pki, claimed, stamped_at), pki_trust, False, MOMENT, READERS[reader])

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE,
        "SIG_CONSTRAINTS_FAILURE",
    )
    assert reason in result.verdict.explanation
    signature = result.signatures[0]
    assert signature.signing_time is not None and signature.signing_time.startswith(str(claimed.year))
    assert signature.verdict.indication is Indication.INDETERMINATE


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("claimed", "stamped_at"),
    [
        (FIXTURE_TIME, FIXTURE_TIME),
        # local time (UTC+7) written as UTC, as the Vietnamese signing tools in the corpus do
        (FIXTURE_TIME + timedelta(hours=7), FIXTURE_TIME),
        (MOMENT + timedelta(hours=7), None),
        # a few minutes of clock skew before a certificate issued that morning
        (ISSUED - timedelta(minutes=5), FIXTURE_TIME),
        # a claim long after its trusted time-stamp: both are shown, the time-stamp is proof
        (FIXTURE_TIME + timedelta(days=30), FIXTURE_TIME),
    ],
)
def test_a_plausible_claimed_signing_time_still_passes(
    plain: bytes,
    pki: TestPKI,
    pki_trust: TrustStore,
    claimed: datetime,
    stamped_at: datetime | None,
    reader: str,
) -> None:
    result = _verify_pdf(_signed(plain, pki, claimed, stamped_at), pki_trust, False, MOMENT, READERS[reader])

    assert result.verdict.indication is Indication.TOTAL_PASSED


def test_claimed_time_problem_is_pure() -> None:
    known = datetime(2026, 3, 5, tzinfo=UTC)
    assert rules.claimed_time_problem(None, ISSUED, known) is None
    assert rules.claimed_time_problem(known, None, None) is None
    assert rules.claimed_time_problem(known, ISSUED, known) is None
    assert rules.claimed_time_problem(known + timedelta(hours=23), ISSUED, known) is None
    assert rules.claimed_time_problem(ISSUED - timedelta(hours=23), ISSUED, known) is None
    assert "sau thời điểm" in (rules.claimed_time_problem(known + timedelta(days=2), ISSUED, known) or "")
    before = rules.claimed_time_problem(ISSUED - timedelta(days=2), ISSUED, known) or ""
    assert "trước khi chứng thư số của người ký có hiệu lực" in before
    assert "30/12/2024" in before
    # a claimed time without a zone (dss__pdf-eof.pdf's) is read as UTC, never a crash
    naive = datetime(2024, 9, 10, 11, 15, 23)
    assert rules.claimed_time_problem(naive, datetime(2024, 1, 1, tzinfo=UTC), known) is None
    assert rules.claimed_time_problem(naive, ISSUED.replace(year=2025, month=6), known) is not None


def test_a_corpus_signature_whose_claimed_time_has_no_zone_keeps_its_verdict(
    corpus_pdf_dir: Path, corpus_trust: TrustStore
) -> None:
    """dss__pdf-eof.pdf states its signing time without a zone: comparing it with an aware
    time raised, and the file became "unreadable" (INDETERMINATE) instead of its
    TOTAL-FAILED for the uncovered bytes."""
    data = (corpus_pdf_dir / "dss__pdf-eof.pdf").read_bytes()

    result = _verify_pdf(data, corpus_trust, False, MOMENT, CachingPdfReader)

    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        "FORMAT_FAILURE",
    )
