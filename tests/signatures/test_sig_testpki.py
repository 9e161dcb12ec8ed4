"""The verifier over the deterministic test PKI's signed variants (ingest/testpki.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.signatures import Indication, PdfVerification, SignerKind, TrustStore, verify_pdf
from ingest.testpki import TestPKI, Variant, make_variant


@pytest.fixture(scope="module")
def verified(pki: TestPKI, pki_trust: TrustStore) -> Callable[[Variant], PdfVerification]:
    cache: dict[Variant, PdfVerification] = {}

    def get(variant: Variant) -> PdfVerification:
        if variant not in cache:
            cache[variant] = verify_pdf(make_variant(variant, pki=pki), pki_trust)
        return cache[variant]

    return get


def test_valid_passes_with_person_then_agency(verified: Callable[[Variant], PdfVerification]) -> None:
    result = verified(Variant.VALID)
    assert result.verdict.indication is Indication.TOTAL_PASSED, result.summary
    assert [s.signer_kind for s in result.signatures] == [
        SignerKind.PERSONAL, SignerKind.ORGANISATION]
    assert result.nd30.ok
    first = result.signatures[0]
    assert first.timestamp is not None and first.timestamp.trusted
    assert first.revocation_data_embedded
    assert first.signer is not None and first.signer.title


def test_no_timestamp_still_passes(verified: Callable[[Variant], PdfVerification]) -> None:
    result = verified(Variant.NO_TIMESTAMP)
    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert all(s.timestamp is None for s in result.signatures)


@pytest.mark.parametrize(
    ("variant", "personal", "organisation", "after"),
    [
        (Variant.PERSONAL_ONLY, True, False, False),
        (Variant.ORGANISATION_ONLY, False, True, False),
        (Variant.WRONG_ORDER, True, True, False),
    ],
)
def test_nd30_article5_flags(
    verified: Callable[[Variant], PdfVerification],
    variant: Variant, personal: bool, organisation: bool, after: bool,
) -> None:
    result = verified(variant)
    assert result.verdict.indication is Indication.TOTAL_PASSED  # the signatures are fine
    nd30 = result.nd30
    assert (nd30.ok, nd30.has_personal, nd30.has_organisation) == (False, personal, organisation)
    assert nd30.organisation_after_personal is after
    assert nd30.message in result.summary


def test_tampered_fails_with_hash_failure(verified: Callable[[Variant], PdfVerification]) -> None:
    result = verified(Variant.TAMPERED)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == "HASH_FAILURE"
    assert all(s.intact is False for s in result.signatures)
    assert result.return_reason is not None


def test_untrusted_root_is_indeterminate(verified: Callable[[Variant], PdfVerification]) -> None:
    result = verified(Variant.UNTRUSTED)
    assert result.verdict.indication is Indication.INDETERMINATE
    assert result.verdict.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_expired_and_revoked_do_not_pass(verified: Callable[[Variant], PdfVerification]) -> None:
    expired = verified(Variant.EXPIRED)
    revoked = verified(Variant.REVOKED)
    assert expired.verdict.indication is not Indication.TOTAL_PASSED
    assert revoked.verdict.indication is not Indication.TOTAL_PASSED
    # revoked 2025-09-01, signed 2026-03-05 under a trusted timestamp: ETSI TOTAL-FAILED/REVOKED
    assert (revoked.verdict.indication, revoked.verdict.sub_indication) == (
        Indication.TOTAL_FAILED, "REVOKED")
    assert expired.verdict.sub_indication == "OUT_OF_BOUNDS_NO_POE"
