"""Certificates of the test PKI's trusted CA for the signer identity tests (z2's forged
identities, f4's unfit certificates): a leaf with the signing key usages and chosen extended
key usages, under any subject."""

from __future__ import annotations

from cryptography import x509

from ingest import testpki
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
