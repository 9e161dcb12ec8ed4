"""A real CRL of the test CA for the trust-list CRL tests (u28), built with ``cryptography``."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ingest.testpki import TestPKI

THIS_UPDATE = datetime(2026, 3, 1, tzinfo=UTC)
NEXT_UPDATE = datetime(2026, 3, 8, tzinfo=UTC)  # a week, as a real CA's: stale by June 2026


def make_crl(
    pki: TestPKI,
    revoked: dict[int, datetime],
    *,
    this_update: datetime = THIS_UPDATE,
    next_update: datetime = NEXT_UPDATE,
    key: ec.EllipticCurvePrivateKey | None = None,
    issuer: cx509.Name | None = None,
    pem: bool = False,
    reason: cx509.ReasonFlags = cx509.ReasonFlags.key_compromise,
    certificate_issuer: cx509.Name | None = None,
    indirect: bool = False,
    delta_of: int | None = None,
    number: int = 42,
) -> bytes:
    """A CRL of the test CA (its name, its key unless ``key``) listing ``revoked`` (serial ->
    revocation date, reason keyCompromise unless ``reason``). ``certificate_issuer``: each
    entry names that issuer (a certificateIssuer entry extension); ``indirect``: an
    issuingDistributionPoint marking the CRL indirect; ``delta_of``: a delta CRL of that base
    CRL number."""
    ca = cx509.load_der_x509_certificate(pki.ca.cert_der)
    signer = key or serialization.load_der_private_key(pki.ca.key_der, password=None)
    builder = (
        cx509.CertificateRevocationListBuilder()
        .issuer_name(issuer or ca.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(cx509.CRLNumber(number), critical=False)
    )
    if indirect:
        point = cx509.IssuingDistributionPoint(None, None, False, False, None, True, False)
        builder = builder.add_extension(point, critical=True)
    if delta_of is not None:
        builder = builder.add_extension(cx509.DeltaCRLIndicator(delta_of), critical=True)
    for serial, when in revoked.items():
        entry = (
            cx509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(cx509.CRLReason(reason), critical=False)
        )
        if certificate_issuer is not None:
            names = cx509.CertificateIssuer([cx509.DirectoryName(certificate_issuer)])
            entry = entry.add_extension(names, critical=True)
        builder = builder.add_revoked_certificate(entry.build())
    made = builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]
    return made.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


def serial(identity_der: bytes) -> int:
    return cx509.load_der_x509_certificate(identity_der).serial_number
