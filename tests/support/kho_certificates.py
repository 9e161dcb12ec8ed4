"""Certificates of the test PKI's trusted CA for the signer identity and signer kind tests (z2's
forged identities, f4's unfit certificates and personal names, rv2's seals): a leaf with chosen
extended key usages under any subject, a leaf as VGCA issues them; and the verdict the SHA-1
allowance for seals gives a signer kind."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509

from ingest import testpki
from ingest.signatures.model import SignerKind, Verdict
from ingest.signatures.rules import CryptoPolicy, SignatureFacts, signature_verdict
from ingest.signing import SignatureRole, SignerIdentity
from ingest.testpki import TestPKI


def leaf_with_purposes(
    pki: TestPKI, label: str, serial: int, subject: x509.Name, purposes: list[x509.ObjectIdentifier],
    role: SignatureRole = SignatureRole.PERSONAL,
) -> SignerIdentity:
    """A certificate of the trusted test CA for ``subject``, its key derived from ``label``, with
    key usage digitalSignature + nonRepudiation (as a signing certificate has) and the extended
    key usage ``purposes``."""
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    ca_key, key = testpki.derive_key("ca"), testpki.derive_key(label)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(testpki.LEAF_VALIDITY[0]).not_valid_after(testpki.LEAF_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(testpki._SIGNING_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
        .add_extension(testpki._ski(key.public_key()), critical=False)
        .add_extension(testpki._aki(ca_key.public_key()), critical=False)
        .sign(ca_key, testpki.hashes.SHA256(), ecdsa_deterministic=True)
    )
    return testpki._identity(label, cert, key, (ca,), role)


def vgca_leaf(
    pki: TestPKI, label: str, serial: int, attributes: list[tuple[x509.ObjectIdentifier, str]],
    role: SignatureRole, email: str,
) -> SignerIdentity:
    """A certificate of the trusted test CA as VGCA issues them: the subject ``attributes`` only
    (no title, given name or MST), its key derived from ``label``."""
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    key = testpki.derive_key(label)
    cert = testpki._leaf_cert(
        subject=testpki._name(attributes),
        key=key, serial=serial, validity=testpki.LEAF_VALIDITY, issuer=ca,
        issuer_key=testpki.derive_key("ca"), issuer_file="kho-test-ca", email=email,
    )
    return testpki._identity(label, cert, key, (ca,), role)


def sha1_seal_verdict(kind: SignerKind, at: datetime) -> Verdict:
    """The verdict of an intact, valid SHA-1 signature of a signer of ``kind`` made at ``at``,
    under ``KHO_SIGNATURE_SHA1_SEALS_UNTIL`` = 1 January 2027 (SHA-1 accepted in agency seals)."""
    policy = CryptoPolicy(sha1_seals_until=datetime(2027, 1, 1, tzinfo=UTC))
    facts = SignatureFacts(intact=True, valid=True, coverage="ENTIRE_FILE", digest_algorithm="sha1",
                           signer_kind=kind, best_signature_time=at)
    verdict, _ = signature_verdict(facts, policy)
    return verdict
