"""A deterministic test PKI that mirrors the Vietnamese official-use hierarchy.

The real hierarchy (Ban Cơ yếu Chính phủ, see ``/work/shared/corpora/pdf/trust``) is
``RootCA chuyên dùng Chính phủ G2`` → ``CA phục vụ các cơ quan Nhà nước G2`` → personal and
organisation (seal) certificates, plus a time-stamping server certificate issued by a root.
:class:`TestPKI` builds the same shape under a clearly named test root:

* ``root``  — "Kho Test RootCA chuyên dùng" (self-signed, the only trust anchor);
* ``ca``    — "Kho Test CA phục vụ các cơ quan Nhà nước" (pathlen 0, issues the leaves);
* ``personal`` — the competent signer: a person's name, title, unit and organisation;
* ``organisation`` — the agency seal certificate used by the văn thư (organisation name only);
* ``expired_personal`` — a personal certificate that expired before the fixture time;
* ``revoked_personal`` — a personal certificate revoked (key compromise) before the fixture time;
* ``tsa`` — "Kho Test Máy chủ cấp dấu thời gian 01", issued by the root, EKU timeStamping.

Everything is deterministic: EC P-256 keys are derived from a fixed seed, serials and validity
dates are constants, and certificates, CRLs and OCSP responses are signed with deterministic
ECDSA (RFC 6979), so :meth:`TestPKI.build` returns byte-identical DER on every run. Keys are EC,
not RSA like the real VGCA certificates, because only EC keys can be derived from a seed with
``cryptography``; every PAdES verifier handles ECDSA. The one exception is the TSA: pyHanko's
in-process ``DummyTimeStamper`` signs with RSA only, so its key is a fixed constant below.

Signed documents for tests: :func:`make_variant` (see :class:`Variant`), built from
:func:`sign_personal_then_organisation` and :func:`sign_as`.

The extensions copy the real leaves: critical key usage (digitalSignature, nonRepudiation),
EKU clientAuth/emailProtection, the VGCA certificate policy OID ``2.16.704.1.1.1.1.1`` (the
TSA uses ``2.16.704.1.1.1.2``), AIA and CRL distribution points. The URLs point at the
non-resolvable ``pki.kho.test`` domain: validation must run offline with the CRLs/OCSP
responses from :attr:`TestPKI.revocation`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from ingest.pdfgen import RenderedPdf, render_pdf, sample_document
from ingest.signing import RevocationInfo, SignatureRole, SignerIdentity, sign_pdf
from kho.timeutil import vn_date

SEED = b"kho-test-pki-v1"
"""Changing the seed changes every key and certificate."""

POLICY_OID = "2.16.704.1.1.1.1.1"
"""Certificate policy of the VGCA official-use leaves (copied from the real certificates)."""
TSA_POLICY_OID = "2.16.704.1.1.1.2"
"""Policy OID carried by the real VGCA time-stamping certificate."""
OID_MS_SMARTCARD_LOGON = "1.3.6.1.4.1.311.20.2.2"

PKI_BASE_URL = "http://pki.kho.test"

# Fixed moments (UTC). The fixture time is when generated documents are "signed" by default:
# 14:25:36 Vietnam time on 5 March 2026.
ROOT_VALIDITY = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC))
CA_VALIDITY = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
LEAF_VALIDITY = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
EXPIRED_VALIDITY = (datetime(2022, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
REVOCATION_TIME = datetime(2025, 9, 1, tzinfo=UTC)
REVINFO_THIS_UPDATE = datetime(2026, 3, 1, tzinfo=UTC)
REVINFO_NEXT_UPDATE = datetime(2036, 1, 1, tzinfo=UTC)
"""CRLs and OCSP responses stay fresh for ten years so offline validation at any time in that
window (frozen fixture time or the real clock) sees them as current."""
FIXTURE_TIME = datetime(2026, 3, 5, 7, 25, 36, tzinfo=UTC)


# The TSA key is RSA because pyHanko's in-process ``DummyTimeStamper`` signs with RSA only (as
# does the real VGCA TSA). RSA keys cannot be derived from a seed, so this test-only key is a
# constant (generated once with ``openssl genpkey -algorithm RSA``). Never trust it.
TSA_KEY_PEM = b"""\
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDkqGz3JNdV+cs9
b3E89c/pEFvovo4rg3h5htVmjT+Sz/To7+LJyyrRokdUi9gkcziRBX9so1klfyow
SuVz2r2XHDHJlyJVFe2xtPc57oj/HvkoG2HqiWleersqKoCXCDkAUi4d0lGAPBsp
143/eAer++dGNOyoYMY7JBl+FjBGjvPZvJwAcr2pHX6EuaNE53XiCKPGpVNsXiq1
OHKvGmUaoR7IqQT2bqD/SB9ky46vImuLXttpd3vCwkwhSl+ukE4EulYMLossUkUq
6whymg57FZbzPoUGrBYXYV4U31ZVEvp+C03Q0Zgy+PlTXG4zsuuOtUKdjNJlkp2l
K0gLVvTzAgMBAAECggEAPocmQRFEh4DHCLZMZ4iqwceU8pkFZLXPgKAUBDa0/085
4GcVA+y4eVogmmihgxo1CkdQGKO0sZHMNieNBnj3Jnbx0HgxTcYw2Uss3h0yPl24
cbTHOm04MLtsKjQ0NNjtSX6vmL0WR3RoUzFcZdNreabpkCPR4ZuRKcQN6pJjwi86
AQbZLl+5zcU/Ia3RoC7YadULsYlPhjVXfJDAnhxC7aa4svia+G3bjPBJc3LdB7gR
Y0udn0B7FU/OOHmqL4PcRhQ0CCOpM9UqAvVuhWLUwzo4KstRkQ/G7VrNDMHruj50
oFaoaW2E6FKeZ0jw1EHzbI5+UxVxrvJHA/kM5k9tyQKBgQDzqu+ZNZTmbzgUR5V2
Yjppw/B89j2kgFDDcLQjZ7h50RoYiJjDD/LwHK4uMkphsYpjMG8Q4dpoOsD9OtEX
yZDo6eKhpMnlR0VHmIKkuJwJTeKauNRKBvdCIAXqmgzdOQKPDkQ2UfQT+TvIVBH4
6Mc8XF2YJ171xHI4bTBHAUlmCwKBgQDwOwQlbA3tUTUwM6+H3uQXYrBubaf0oyy2
V0aw2BRKEPVnLNM2n0jRIqfK533578IHEH4sWh2szp9JkXJhDdubrC5GQhnFVcWT
yUEFjvZXFUmBnegmhhGbKXbM18dyFiBVoIp+R1IounMF36cibraxfxDWeJxexSNs
m3p1oaoFuQKBgQCQFKNYlLZXC6y9URavyaWApLuvKGuKudUHu7zIsqwCXAJyP1MV
BHlCQbM83b/dxH1v6VPDR8k9mIBFPGInDqkBEEtSCX7YdCwjCas2e3LIjaVQl7nv
i+7oysa00iKJLQy2SllLRWpt5RHUguGdrQciSfuN3Lnp2R8w/l9tnPUpwQKBgQDO
g71tujVCxSP3Owdzwy3L2MAZPlU7Xicq3V5c2nSes3Nzbbpo44eCmcsrB9RpTy46
SnhdAl8uVjXi1ZFBU9ttORhSt7JVzQVbpZArChpFBHy7W5bdvzVVcNC7Cehf8Bt9
4NQN+JvtfVMyQnD4jbqqXbSI2wh6A/kO/Z3Jj9+MqQKBgQDfvbMkf2pSwxECRXQ5
CWkZoBY92SNyQeByIuz6P+qvqyf/NmLnlgj1Ln8q8SHeiYhiS09g8jogqzMWf1sM
t0TAQ1s6EIo95zjOL8kl1/zqXyQqtZB1Xlbk6iV2bcK/s5I1P94f7c0imJBoBFMW
B+gtg48P/s+tqBUKvH79shp2BQ==
-----END PRIVATE KEY-----
"""

ORGANISATION_NAME = "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"
LOCALITY = "Thử Nghiệm"
ISSUER_ORG = "Kho Test Ban Cơ yếu"


@dataclass(frozen=True)
class TestPKI:
    """Keys and certificates of the test hierarchy. Build it with :meth:`build`."""

    __test__ = False  # not a pytest test class

    root: SignerIdentity
    ca: SignerIdentity
    tsa: SignerIdentity
    personal: SignerIdentity
    organisation: SignerIdentity
    expired_personal: SignerIdentity
    revoked_personal: SignerIdentity
    untrusted_personal: SignerIdentity
    """Same subject as ``personal`` but issued by a self-signed look-alike root that is not
    the trust anchor: the signature is intact, the chain does not reach :attr:`root`."""
    ca_crl: bytes
    """DER CRL of the CA, listing ``revoked_personal`` (reason keyCompromise)."""
    root_crl: bytes
    """DER CRL of the root (empty: the CA and the TSA are not revoked)."""
    ocsp_responses: dict[str, bytes]
    """DER OCSP responses by identity name (``personal``, ``organisation``, ``expired_personal``,
    ``revoked_personal``), signed by the CA itself; the revoked one says "revoked"."""

    @staticmethod
    def build() -> TestPKI:
        """The test PKI; cached, identical bytes on every call and every run."""
        return _build()

    @property
    def revocation(self) -> RevocationInfo:
        """Every CRL and OCSP response plus the CA and root certificates, ready to embed."""
        return RevocationInfo(
            crls=(self.ca_crl, self.root_crl),
            ocsps=tuple(self.ocsp_responses.values()),
            certs=(self.ca.cert_der, self.root.cert_der),
        )

    def revocation_for(self, identity: SignerIdentity) -> RevocationInfo:
        """The revocation data a signer's validation needs (its OCSP response and both CRLs)."""
        ocsps = tuple(
            der for name, der in self.ocsp_responses.items()
            if getattr(self, name).cert_der == identity.cert_der
        )
        return RevocationInfo(
            crls=(self.ca_crl, self.root_crl),
            ocsps=ocsps,
            certs=(self.ca.cert_der, self.root.cert_der),
        )

    def trust_roots_der(self) -> tuple[bytes, ...]:
        return (self.root.cert_der,)

    def write_trust_dir(self, path: Path | str) -> Path:
        """Write the root certificate only (``kho-test-root.crt``, DER) into ``path``.

        Point a verifier at this directory the way it is pointed at
        ``/work/shared/corpora/pdf/trust``. Returns the directory.
        """
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "kho-test-root.crt").write_bytes(self.root.cert_der)
        return directory

    def write_pem_bundle(self, path: Path | str) -> Path:
        """Write the root, CA and TSA certificates as one PEM file (for openssl and people)."""
        target = Path(path)
        pem = b"".join(
            x509.load_der_x509_certificate(i.cert_der).public_bytes(serialization.Encoding.PEM)
            for i in (self.root, self.ca, self.tsa)
        )
        target.write_bytes(pem)
        return target


# --- building blocks ---------------------------------------------------------------------


def derive_key(label: str, seed: bytes = SEED) -> ec.EllipticCurvePrivateKey:
    """An EC P-256 private key derived from ``seed`` and ``label`` (always the same)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    digest = hashlib.sha512(seed + b"\x00" + label.encode()).digest()
    scalar = int.from_bytes(digest, "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _name(attributes: Iterable[tuple[ObjectIdentifier, str]]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _ski(key: PublicKeyTypes) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key)


def _aki(issuer_key: ec.EllipticCurvePublicKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key)


def _policies(oid: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([
        x509.PolicyInformation(
            ObjectIdentifier(oid), [f"{PKI_BASE_URL}/policies/CP"]
        )
    ])


def _aia(issuer_file: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess([
        x509.AccessDescription(
            x509.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{PKI_BASE_URL}/crt/{issuer_file}.crt"),
        ),
        x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier(f"{PKI_BASE_URL}/ocsp"),
        ),
    ])


def _crl_dp(issuer_file: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([
        x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"{PKI_BASE_URL}/crl/{issuer_file}.crl")],
            relative_name=None, reasons=None, crl_issuer=None,
        )
    ])


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)
_SIGNING_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=True, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
    encipher_only=False, decipher_only=False,
)


def _sign_cert(
    builder: x509.CertificateBuilder, issuer_key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    return builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)


def _identity(
    name: str,
    cert: x509.Certificate,
    key: PrivateKeyTypes,
    chain: tuple[x509.Certificate, ...],
    role: SignatureRole | None,
) -> SignerIdentity:
    der = serialization.Encoding.DER
    return SignerIdentity.from_der(
        cert_der=cert.public_bytes(der),
        key_der=key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        chain_der=tuple(c.public_bytes(der) for c in chain),
        role=role,
        name=name,
    )


def _root_cert(
    key: ec.EllipticCurvePrivateKey, subject: x509.Name, serial: int
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(serial)
        .not_valid_before(ROOT_VALIDITY[0]).not_valid_after(ROOT_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(_ski(key.public_key()), critical=False)
        .add_extension(_aki(key.public_key()), critical=False)
    )
    return _sign_cert(builder, key)


def _leaf_cert(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    serial: int,
    validity: tuple[datetime, datetime],
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer_file: str,
    email: str,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer.subject)
        .public_key(key.public_key()).serial_number(serial)
        .not_valid_before(validity[0]).not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SIGNING_KEY_USAGE, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([
                ExtendedKeyUsageOID.CLIENT_AUTH,
                ExtendedKeyUsageOID.EMAIL_PROTECTION,
                ObjectIdentifier(OID_MS_SMARTCARD_LOGON),
            ]),
            critical=False,
        )
        .add_extension(_policies(POLICY_OID), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(_aia(issuer_file), critical=False)
        .add_extension(_crl_dp(issuer_file), critical=False)
        .add_extension(_ski(key.public_key()), critical=False)
        .add_extension(_aki(issuer_key.public_key()), critical=False)
    )
    return _sign_cert(builder, issuer_key)


def _person_name(full_name: str, title: str, unit: str, email: str) -> x509.Name:
    return _name([
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.LOCALITY_NAME, LOCALITY),
        (NameOID.ORGANIZATION_NAME, ORGANISATION_NAME),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        (NameOID.TITLE, title),
        (NameOID.COMMON_NAME, full_name),
        (NameOID.EMAIL_ADDRESS, email),
    ])


def _crl(
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    number: int,
    revoked: Iterable[tuple[int, datetime]] = (),
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(REVINFO_THIS_UPDATE)
        .next_update(REVINFO_NEXT_UPDATE)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(issuer_key.public_key()), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    crl = builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return crl.public_bytes(serialization.Encoding.DER)


def _ocsp_response(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    revoked_at: datetime | None,
) -> bytes:
    """A basic OCSP response signed by the issuing CA itself, with fixed times.

    Built with asn1crypto because ``cryptography``'s builder stamps producedAt with the clock.
    """
    asn_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn_issuer = asn1_x509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
    cert_id = asn1_ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(asn_issuer.subject.dump()).digest(),
        "issuer_key_hash": hashlib.sha1(asn_issuer.public_key["public_key"].native).digest(),
        "serial_number": asn_cert.serial_number,
    })
    if revoked_at is None:
        status = asn1_ocsp.CertStatus(name="good", value=asn1_core.Null())
    else:
        status = asn1_ocsp.CertStatus(
            name="revoked",
            value={"revocation_time": revoked_at, "revocation_reason": "key_compromise"},
        )
    tbs = asn1_ocsp.ResponseData({
        "responder_id": asn1_ocsp.ResponderId(
            name="by_key", value=hashlib.sha1(asn_issuer.public_key["public_key"].native).digest()
        ),
        "produced_at": REVINFO_THIS_UPDATE,
        "responses": [{
            "cert_id": cert_id,
            "cert_status": status,
            "this_update": REVINFO_THIS_UPDATE,
            "next_update": REVINFO_NEXT_UPDATE,
        }],
    })
    signature = issuer_key.sign(
        tbs.dump(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    basic = asn1_ocsp.BasicOCSPResponse({
        "tbs_response_data": tbs,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": signature,
    })
    response = asn1_ocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
    })
    return response.dump()


@cache
def _build() -> TestPKI:
    root_key, ca_key = derive_key("root"), derive_key("ca")
    tsa_key = serialization.load_pem_private_key(TSA_KEY_PEM, password=None)
    root_subject = _name([
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.ORGANIZATION_NAME, ISSUER_ORG),
        (NameOID.COMMON_NAME, "Kho Test RootCA chuyên dùng"),
    ])
    root = _root_cert(root_key, root_subject, 0x4B484F0001)

    ca = _sign_cert(
        x509.CertificateBuilder()
        .subject_name(_name([
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, ISSUER_ORG),
            (NameOID.COMMON_NAME, "Kho Test CA phục vụ các cơ quan Nhà nước"),
        ]))
        .issuer_name(root.subject)
        .public_key(ca_key.public_key()).serial_number(0x4B484F0002)
        .not_valid_before(CA_VALIDITY[0]).not_valid_after(CA_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(_policies(POLICY_OID), critical=False)
        .add_extension(_aia("kho-test-root"), critical=False)
        .add_extension(_crl_dp("kho-test-root"), critical=False)
        .add_extension(_ski(ca_key.public_key()), critical=False)
        .add_extension(_aki(root_key.public_key()), critical=False),
        root_key,
    )

    tsa = _sign_cert(
        x509.CertificateBuilder()
        .subject_name(_name([
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, ISSUER_ORG),
            (NameOID.COMMON_NAME, "Kho Test Máy chủ cấp dấu thời gian 01"),
        ]))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key()).serial_number(0x4B484F0003)
        .not_valid_before(CA_VALIDITY[0]).not_valid_after(CA_VALIDITY[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SIGNING_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.CertificatePolicies([
            x509.PolicyInformation(ObjectIdentifier(TSA_POLICY_OID), None)
        ]), critical=False)
        .add_extension(_crl_dp("kho-test-root"), critical=False)
        .add_extension(_ski(tsa_key.public_key()), critical=False)
        .add_extension(_aki(root_key.public_key()), critical=False),
        root_key,
    )

    def leaf(label: str, subject: x509.Name, serial: int, validity: tuple[datetime, datetime],
             email: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = derive_key(label)
        cert = _leaf_cert(
            subject=subject, key=key, serial=serial, validity=validity,
            issuer=ca, issuer_key=ca_key, issuer_file="kho-test-ca", email=email,
        )
        return cert, key

    personal = leaf(
        "personal",
        _person_name("Nguyễn Văn An", "Chủ tịch", "VĂN PHÒNG", "nvan@thunghiem.gov.vn"),
        0x4B484F1001, LEAF_VALIDITY, "nvan@thunghiem.gov.vn",
    )
    organisation = leaf(
        "organisation",
        _name([
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.LOCALITY_NAME, LOCALITY),
            (NameOID.ORGANIZATION_NAME, ORGANISATION_NAME),
            (NameOID.COMMON_NAME, ORGANISATION_NAME),
            (NameOID.EMAIL_ADDRESS, "ubnd@thunghiem.gov.vn"),
        ]),
        0x4B484F1002, LEAF_VALIDITY, "ubnd@thunghiem.gov.vn",
    )
    expired = leaf(
        "expired_personal",
        _person_name("Trần Thị Bình", "Phó Chủ tịch", "VĂN PHÒNG", "ttbinh@thunghiem.gov.vn"),
        0x4B484F1003, EXPIRED_VALIDITY, "ttbinh@thunghiem.gov.vn",
    )
    revoked = leaf(
        "revoked_personal",
        _person_name("Lê Văn Cường", "Phó Chủ tịch", "VĂN PHÒNG", "lvcuong@thunghiem.gov.vn"),
        0x4B484F1004, LEAF_VALIDITY, "lvcuong@thunghiem.gov.vn",
    )

    # A look-alike hierarchy that is not the trust anchor (same names, other keys).
    rogue_key = derive_key("rogue-root")
    rogue_root = _root_cert(rogue_key, root_subject, 0x4B484F9001)
    rogue_leaf_key = derive_key("untrusted_personal")
    rogue_leaf = _leaf_cert(
        subject=personal[0].subject, key=rogue_leaf_key, serial=0x4B484F9002,
        validity=LEAF_VALIDITY, issuer=rogue_root, issuer_key=rogue_key,
        issuer_file="kho-test-root", email="nvan@thunghiem.gov.vn",
    )

    ocsp_responses = {
        "personal": _ocsp_response(personal[0], ca, ca_key, None),
        "organisation": _ocsp_response(organisation[0], ca, ca_key, None),
        "expired_personal": _ocsp_response(expired[0], ca, ca_key, None),
        "revoked_personal": _ocsp_response(revoked[0], ca, ca_key, REVOCATION_TIME),
    }
    chain = (ca, root)
    return TestPKI(
        root=_identity("root", root, root_key, (), None),
        ca=_identity("ca", ca, ca_key, (root,), None),
        tsa=_identity("tsa", tsa, tsa_key, (root,), None),
        personal=_identity("personal", *personal, chain, SignatureRole.PERSONAL),
        organisation=_identity(
            "organisation", *organisation, chain, SignatureRole.ORGANISATION
        ),
        expired_personal=_identity("expired_personal", *expired, chain, SignatureRole.PERSONAL),
        revoked_personal=_identity("revoked_personal", *revoked, chain, SignatureRole.PERSONAL),
        untrusted_personal=_identity(
            "untrusted_personal", rogue_leaf, rogue_leaf_key, (rogue_root,),
            SignatureRole.PERSONAL,
        ),
        ca_crl=_crl(ca, ca_key, 1, [(revoked[0].serial_number, REVOCATION_TIME)]),
        root_crl=_crl(root, root_key, 1),
        ocsp_responses=ocsp_responses,
    )



def agency_seal(
    pki: TestPKI,
    organisation: str,
    *,
    serial: int,
    email: str = "vanthu@khac.gov.vn",
    common_name: str | None = None,
    unit: str | None = None,
) -> SignerIdentity:
    """The seal (organisation) certificate of another agency, ``organisation`` as its O and CN,
    issued by the test CA (so trusted, as a real CA issues any agency's seal): a PDF signed by
    "agency B", or by a look-alike of the agency's name. ``serial`` keeps the DER deterministic.
    ``common_name`` (and ``unit``, the OU): a sub-unit's seal as VGCA issues it, the agency in CN
    and its locality or parent body in O (CN "Sở Tài chính", O "UBND tỉnh X")."""
    ca = x509.load_der_x509_certificate(pki.ca.cert_der)
    key = derive_key(f"agency-seal-{serial:x}")
    cert = _leaf_cert(
        subject=_name([
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.ORGANIZATION_NAME, organisation),
            *([(NameOID.ORGANIZATIONAL_UNIT_NAME, unit)] if unit else []),
            (NameOID.COMMON_NAME, common_name or organisation),
            (NameOID.EMAIL_ADDRESS, email),
        ]),
        key=key, serial=serial, validity=LEAF_VALIDITY, issuer=ca, issuer_key=derive_key("ca"),
        issuer_file="kho-test-ca", email=email,
    )
    chain = (ca, x509.load_der_x509_certificate(pki.root.cert_der))
    return _identity(f"agency-seal-{serial:x}", cert, key, chain, SignatureRole.ORGANISATION)


@cache
def _signing_certificate_attribute(cert_der: bytes) -> bytes:
    """The DER of the ``signing_certificate`` attribute naming ``cert_der``, built once per
    certificate: building it copies and re-encodes the issuer's name (a third of a token's
    time); loaded from its DER, a token's attributes encode by copying bytes."""
    cert = asn1_x509.Certificate.load(cert_der)
    return simple_cms_attribute("signing_certificate", as_signing_certificate(cert)).dump()


@cache
def _load_rsa_key(der: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the test TSA key must be RSA")
    return key


class TestTimeStamper(DummyTimeStamper):
    """pyHanko's in-process RFC 3161 time-stamper, acting as the test TSA.

    Two changes to ``DummyTimeStamper``: the token carries the TSA policy OID of the test PKI,
    and the RSA key is parsed once per process. The parent re-parses it for every token; that parse
    (with cryptography's RSA consistency check) costs ~20 ms, most of a signature's time.
    Both hooks are pyHanko internals: if they change, the parent's behaviour applies and
    tokens are still valid, only slower.
    """

    __test__ = False

    def __init__(self, pki: TestPKI, at: datetime | None = None) -> None:
        super().__init__(
            tsa_cert=pki.tsa.cert,
            tsa_key=pki.tsa.key,
            certs_to_embed=[pki.root.cert],
            fixed_dt=at,
        )
        self._rsa_key = _load_rsa_key(pki.tsa.key_der)

    def _build_tst_info(self, message_imprint, dt, req):  # type: ignore[no-untyped-def]
        tst_info = super()._build_tst_info(message_imprint, dt, req)
        tst_info["policy"] = TSA_POLICY_OID
        return tst_info

    def _sign_tst_info(  # type: ignore[override]
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, asn1_cms.CMSAttributes]:
        hash_algorithm = get_pyca_cryptography_hash(md_algorithm)
        digest = hashes.Hash(hash_algorithm)
        digest.update(tst_info_data)
        signed_attrs = asn1_cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute(
                "signing_time", asn1_cms.Time({"utc_time": asn1_core.UTCTime(dt)})
            ),
            asn1_cms.CMSAttribute.load(_signing_certificate_attribute(self.tsa_cert.dump())),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._rsa_key.sign(signed_attrs.dump(), PKCS1v15(), hash_algorithm)
        return signature, signed_attrs


def timestamper(pki: TestPKI, at: datetime | None = None) -> TestTimeStamper:
    """The test TSA; ``at`` fixes the time in its tokens (default: the clock at signing)."""
    return TestTimeStamper(pki, at)


# --- signed document variants --------------------------------------------------------------


class Variant(StrEnum):
    """Signed test documents, named by what a verifier must find."""

    VALID = "valid"
    """Personal then organisation signature, both time-stamped, revocation data in the DSS."""
    NO_TIMESTAMP = "no-timestamp"
    """Personal then organisation signature, no time-stamps, no revocation data."""
    PERSONAL_ONLY = "personal-only"
    """Only the competent person's signature (time-stamped): the agency has not signed yet."""
    ORGANISATION_ONLY = "organisation-only"
    """Only the agency signature: violates NĐ 30 Điều 5 (needs the person and the agency)."""
    WRONG_ORDER = "wrong-order"
    """Agency signature first, personal second: violates NĐ 30 Điều 32 k2 d."""
    TAMPERED = "tampered"
    """``VALID`` with one byte changed inside both signed ranges (Info /CreationDate)."""
    EXPIRED = "expired"
    """The personal signer's certificate expired (2024-01-01) before signing."""
    REVOKED = "revoked"
    """The personal signer's certificate was revoked (2025-09-01) before signing; the CA's
    CRL and a "revoked" OCSP response are embedded in the DSS."""
    UNTRUSTED = "untrusted"
    """The personal signer chains to a look-alike root that is not the trust anchor."""


ORGANISATION_SIGNING_DELAY = timedelta(minutes=37)
"""The văn thư signs this long after the competent person (fixture documents)."""
SIGNATURE_RESERVE = 12_288
"""Signature placeholder for pyHanko, in hex digits (6,144 CMS bytes). The test PKI's CMS
with a time-stamp token is ~5.1 KB; a fixed size skips pyHanko's dry-run estimate."""


def document_for(identity: SignerIdentity, seed: int = 1, pages: int = 1) -> RenderedPdf:
    """A sample Quyết định whose printed signer is the person in ``identity``."""
    subject = identity.cert.subject.native
    title = str(subject.get("title", "Chủ tịch"))
    if title.casefold() == "chủ tịch":
        quyen_han, chuc_vu = "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"
    else:
        quyen_han, chuc_vu = "KT. CHỦ TỊCH", title.upper()
    doc = sample_document(
        seed, pages, nguoi_ky=identity.common_name, chuc_vu=chuc_vu, quyen_han=quyen_han,
        ngay=vn_date(FIXTURE_TIME),
    )
    return render_pdf(doc)


def sign_as(
    data: bytes,
    pki: TestPKI,
    identity: SignerIdentity,
    *,
    at: datetime,
    timestamp: bool = True,
    embed_revocation: bool = False,
    md_algorithm: str = "sha256",
) -> bytes:
    """One signature by ``identity`` at ``at`` (time-stamped by the test TSA at ``at``)."""
    return sign_pdf(
        data,
        identity,
        timestamper=timestamper(pki, at) if timestamp else None,
        signing_time=at,
        revocation=pki.revocation_for(identity) if embed_revocation else None,
        bytes_reserved=SIGNATURE_RESERVE,
        md_algorithm=md_algorithm,
    )


def sign_personal_then_organisation(
    data: bytes,
    pki: TestPKI,
    *,
    personal: SignerIdentity | None = None,
    organisation: SignerIdentity | None = None,
    at: datetime = FIXTURE_TIME,
    timestamp: bool = True,
    embed_revocation: bool = False,
) -> bytes:
    """The NĐ 30 sequence: the competent person signs, then the văn thư with the agency key."""
    once = sign_as(data, pki, personal or pki.personal, at=at, timestamp=timestamp,
                   embed_revocation=embed_revocation)
    return sign_as(once, pki, organisation or pki.organisation,
                   at=at + ORGANISATION_SIGNING_DELAY, timestamp=timestamp,
                   embed_revocation=embed_revocation)


def tamper(data: bytes) -> bytes:
    """Change one byte inside the first revision (covered by every signature)."""
    marker = b"/CreationDate (D:"
    position = data.find(marker)
    if position < 0:
        raise ValueError("no /CreationDate to tamper with")
    position += len(marker) + 3  # the last digit of the year
    changed = b"7" if data[position:position + 1] != b"7" else b"8"
    return data[:position] + changed + data[position + 1:]


def make_variant(
    variant: Variant | str,
    *,
    pki: TestPKI | None = None,
    seed: int = 1,
    pages: int = 1,
    at: datetime = FIXTURE_TIME,
) -> bytes:
    """The signed PDF for ``variant`` (a fresh document from ``seed``, ``pages`` long)."""
    pki = pki or TestPKI.build()
    variant = Variant(variant)
    later = at + ORGANISATION_SIGNING_DELAY
    match variant:
        case Variant.VALID | Variant.TAMPERED:
            data = sign_personal_then_organisation(
                document_for(pki.personal, seed, pages).data, pki, at=at,
                embed_revocation=True,
            )
            return tamper(data) if variant is Variant.TAMPERED else data
        case Variant.NO_TIMESTAMP:
            return sign_personal_then_organisation(
                document_for(pki.personal, seed, pages).data, pki, at=at, timestamp=False
            )
        case Variant.PERSONAL_ONLY:
            return sign_as(document_for(pki.personal, seed, pages).data, pki, pki.personal,
                           at=at)
        case Variant.ORGANISATION_ONLY:
            return sign_as(document_for(pki.personal, seed, pages).data, pki,
                           pki.organisation, at=at)
        case Variant.WRONG_ORDER:
            first = sign_as(document_for(pki.personal, seed, pages).data, pki,
                            pki.organisation, at=at)
            return sign_as(first, pki, pki.personal, at=later)
        case Variant.EXPIRED | Variant.REVOKED | Variant.UNTRUSTED:
            person = {
                Variant.EXPIRED: pki.expired_personal,
                Variant.REVOKED: pki.revoked_personal,
                Variant.UNTRUSTED: pki.untrusted_personal,
            }[variant]
            return sign_personal_then_organisation(
                document_for(person, seed, pages).data, pki, personal=person, at=at,
                embed_revocation=variant is Variant.REVOKED,
            )
    raise ValueError(f"unknown variant {variant}")
