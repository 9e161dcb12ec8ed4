"""SHA-1 in organisation seals: refused by default, accepted before a configured cut-off date
(as DSS's cryptographic constraints), never in personal signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.signatures import Indication, SignerKind, TrustStore, verify_pdf
from ingest.signatures.rules import CryptoPolicy, SignatureFacts, signature_verdict
from ingest.testpki import FIXTURE_TIME, TestPKI, document_for, sign_as
from kho.config import Settings
from kho.errors import ConfigError

NOW = datetime(2026, 3, 9, tzinfo=UTC)


def _facts(kind: SignerKind, proven: datetime | None, digest: str = "sha1") -> SignatureFacts:
    return SignatureFacts(intact=True, valid=True, coverage="ENTIRE_FILE", digest_algorithm=digest,
                          signer_kind=kind, best_signature_time=proven)


def test_the_policy_is_a_pure_rule_with_its_cut_off() -> None:
    cut = datetime(2027, 1, 1, tzinfo=UTC)
    policy = CryptoPolicy(sha1_seals_until=cut)
    seal = SignerKind.ORGANISATION
    assert signature_verdict(_facts(seal, NOW))[0].indication is Indication.INDETERMINATE
    assert signature_verdict(_facts(seal, NOW), policy)[0].indication is Indication.TOTAL_PASSED
    late = signature_verdict(_facts(seal, cut), policy)[0]
    assert (late.indication, late.sub_indication) == (Indication.INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE")
    person = signature_verdict(_facts(SignerKind.PERSONAL, NOW), policy)[0]
    assert person.indication is Indication.INDETERMINATE
    assert signature_verdict(_facts(seal, None), policy)[0].indication is Indication.INDETERMINATE
    md5 = signature_verdict(_facts(seal, NOW, "md5"), policy)[0]
    assert md5.indication is Indication.INDETERMINATE


def test_the_cut_off_comes_from_the_settings() -> None:
    base = {"KHO_DATA_DIR": "/tmp/kho-x"}
    assert Settings.from_env(base).sha1_seals_until is None
    configured = Settings.from_env({**base, "KHO_SIGNATURE_SHA1_SEALS_UNTIL": "2027-01-01"})
    assert configured.sha1_seals_until == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({**base, "KHO_SIGNATURE_SHA1_SEALS_UNTIL": "1/1/2027"})
    assert "YYYY-MM-DD" in bad.value.message


@pytest.fixture(scope="module")
def sha1_seal(pki: TestPKI) -> bytes:
    base = document_for(pki.personal, 5, 1).data
    return sign_as(base, pki, pki.organisation, at=FIXTURE_TIME, md_algorithm="sha1")


@pytest.fixture(scope="module")
def sha1_personal(pki: TestPKI) -> bytes:
    base = document_for(pki.personal, 6, 1).data
    return sign_as(base, pki, pki.personal, at=FIXTURE_TIME, md_algorithm="sha1")


def test_a_sha1_organisation_seal_is_withheld_by_default(sha1_seal: bytes, pki_trust: TrustStore) -> None:
    result = verify_pdf(sha1_seal, pki_trust, now=NOW)
    (sig,) = result.signatures
    assert sig.digest_algorithm == "sha1" and sig.signer_kind is SignerKind.ORGANISATION
    assert (result.verdict.indication, result.verdict.sub_indication) == (
        Indication.INDETERMINATE, "CRYPTO_CONSTRAINTS_FAILURE"
    )


def test_a_sha1_seal_timestamped_before_the_cut_off_passes_and_says_why(
    sha1_seal: bytes, pki_trust: TrustStore
) -> None:
    before = CryptoPolicy(sha1_seals_until=FIXTURE_TIME + timedelta(days=1))
    passed = verify_pdf(sha1_seal, pki_trust, now=NOW, policy=before)
    assert passed.verdict.indication is Indication.TOTAL_PASSED
    assert any("KHO_SIGNATURE_SHA1_SEALS_UNTIL" in f for f in passed.signatures[0].findings)
    # the trusted timestamp, not the validation time, is what must precede the cut-off
    after = CryptoPolicy(sha1_seals_until=FIXTURE_TIME - timedelta(days=1))
    withheld = verify_pdf(sha1_seal, pki_trust, now=NOW, policy=after)
    assert withheld.verdict.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"


def test_a_sha1_personal_signature_is_never_accepted(sha1_personal: bytes, pki_trust: TrustStore) -> None:
    policy = CryptoPolicy(sha1_seals_until=datetime(2030, 1, 1, tzinfo=UTC))
    result = verify_pdf(sha1_personal, pki_trust, now=NOW, policy=policy)
    assert result.verdict.sub_indication == "CRYPTO_CONSTRAINTS_FAILURE"
