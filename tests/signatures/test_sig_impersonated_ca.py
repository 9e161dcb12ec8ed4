"""A signature whose certificate names a trusted Vietnamese CA as its issuer (same name, same
key identifiers) but was made by an attacker's own CA: never TOTAL-PASSED, and the verdict
shown to people says the certificate impersonates that CA, not "an error in the chain"."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ingest.signatures import TrustStore
from ingest.signatures.verify import verify_in_process

UNSIGNED = "vn-gov__1.-du-thao-1_thong-tu_2609.pdf"
NOW = datetime.now(UTC)
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _load(path: Path) -> x509.Certificate:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _cert(subject: x509.Name, issuer: x509.Name, key: Key,
          signer: Key, *, ca: bool, ski: x509.SubjectKeyIdentifier | None = None,
          aki: x509.SubjectKeyIdentifier | None = None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(ski or x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(not ca, not ca, False, False, False, ca, ca, False, False), critical=True
        )
    )
    if aki is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(aki.digest, None, None), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _signed(unsigned: bytes, leaf: x509.Certificate, key: Key,
            others: list[x509.Certificate]) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=_asn1(leaf),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in others]),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Signature1")
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()


@pytest.mark.parametrize("key", ["rsa", "ecdsa"])
@pytest.mark.parametrize("shape", ["fake-intermediate", "fake-root"])
def test_a_certificate_impersonating_a_trusted_vietnamese_ca_is_named_as_such(
    corpus_pdf_dir: Path, corpus_trust: TrustStore, shape: str, key: str
) -> None:
    """RSA keys (the real CAs' kind): pyHanko's chain check fails, INDETERMINATE. ECDSA keys
    under the RSA CAs' names: pyHanko's path validation raised an AssertionError, shown to
    people as "không đúng định dạng ... (AssertionError)", TOTAL-FAILED."""
    root = _load(corpus_pdf_dir / "trust" / "rootcag2.crt")
    intermediate = _load(corpus_pdf_dir / "trust" / "cpcag2.crt")
    own_root, own_ca, own_leaf = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) if key == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
        for _ in range(3)
    )
    person = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VĂN PHÒNG CHÍNH PHỦ"),
        x509.NameAttribute(NameOID.COMMON_NAME, "CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ"),
    ])
    fake_root = _cert(root.subject, root.subject, own_root, own_root, ca=True, ski=_ski(root))
    if shape == "fake-intermediate":
        fake_ca = _cert(intermediate.subject, root.subject, own_ca, own_root, ca=True,
                        ski=_ski(intermediate), aki=_ski(root))
        leaf = _cert(person, intermediate.subject, own_leaf, own_ca, ca=False, aki=_ski(intermediate))
        others, named = [fake_ca, fake_root], "CA phục vụ các cơ quan Nhà nước G2"
    else:
        leaf = _cert(person, root.subject, own_leaf, own_root, ca=False, aki=_ski(root))
        others, named = [fake_root], "RootCA chuyên dùng Chính phủ G2"
    data = _signed((corpus_pdf_dir / UNSIGNED).read_bytes(), leaf, own_leaf, others)

    result = verify_in_process(data, corpus_trust)

    assert result.verdict.indication != "TOTAL-PASSED"
    (signature,) = result.signatures
    assert not signature.trusted
    if key == "rsa":
        assert signature.intact and signature.valid
    else:
        assert result.verdict.indication == "TOTAL-FAILED"
    explanation = result.verdict.explanation
    assert f"ghi do “{named}” cấp" in explanation and "giả danh" in explanation
    assert any("giả danh" in finding for finding in signature.findings)


def test_a_genuine_certificate_is_not_called_an_impersonation(
    corpus_pdf_dir: Path, corpus_trust: TrustStore
) -> None:
    """The shipped Government documents chain to the same anchors: nothing is said of them."""
    result = verify_in_process((corpus_pdf_dir / "vn-gov__186-cd.signed.pdf").read_bytes(), corpus_trust)
    assert result.verdict.indication == "TOTAL-PASSED"
    assert not any("giả danh" in f for s in result.signatures for f in s.findings)
    assert corpus_trust.impersonated([corpus_trust.anchors[0]]) is None
