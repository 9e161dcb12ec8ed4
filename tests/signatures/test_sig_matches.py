"""Remembered certificate matches (:mod:`ingest.signatures._matches`) answer only the exact
bytes they were computed for.

A real signature of the test PKI (signer, CA and root embedded, a ``signing_certificate_v2``
attribute naming the signer), read back with pyHanko, and pyHanko's own functions as a
verification worker calls them (``_matches`` installed). Each test first gets an answer
remembered, then asks with one argument changed: another certificate, another signer
identifier, a signing-certificate attribute whose digest or issuer serial was altered. Each
must get the answer pyHanko's unwrapped function gives. A key without that argument's bytes
returns the first answer instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO

import pytest
from asn1crypto import cms, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import general
from pyhanko.sign.validation import errors, generic_cms

from ingest.signatures import _certs, _matches
from ingest.testpki import TestPKI, document_for, sign_as

SIGNED_AT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def worker_matches() -> Iterator[None]:
    """This process as a verification worker for the certificate part, nothing remembered."""
    _certs.install()
    _matches.install()
    _matches.clear()
    yield
    _matches.clear()


@pytest.fixture(scope="module")
def signed_data(pki: TestPKI) -> cms.SignedData:
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=SIGNED_AT, timestamp=False)
    (signature,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    return _fresh(signature.signed_data)


def _fresh(data: cms.SignedData) -> cms.SignedData:
    """The same CMS parsed anew, as the next document's would be."""
    info = cms.ContentInfo({"content_type": "signed_data", "content": data})
    return cms.ContentInfo.load(info.dump(force=True))["content"]


def _cert(der: bytes) -> x509.Certificate:
    return x509.Certificate.load(der)


def _signing_certificate_check(cert: x509.Certificate, attrs: cms.CMSAttributes) -> bool:
    try:
        generic_cms._check_signing_certificate(cert, attrs)
    except errors.SignatureValidationError:
        return False
    return True


def _unwrapped(name: str) -> object:
    wrapped = generic_cms.check_ess_certid if name == "ess" else general.match_issuer_serial
    return wrapped.__wrapped__  # type: ignore[attr-defined]


@pytest.mark.usefixtures("worker_matches")
def test_the_signing_certificate_attribute_matches_only_the_certificate_it_names(
    pki: TestPKI, signed_data: cms.SignedData
) -> None:
    attrs = signed_data["signer_infos"][0]["signed_attrs"]
    assert _signing_certificate_check(_cert(pki.personal.cert_der), attrs)
    assert _matches.kept("ess_certid") == 1
    again = _fresh(signed_data)["signer_infos"][0]["signed_attrs"]
    assert _signing_certificate_check(_cert(pki.personal.cert_der), again)
    assert _matches.kept("ess_certid") == 1  # the same bytes: answered from the first

    for other in (pki.organisation, pki.untrusted_personal, pki.ca):  # untrusted: same subject
        assert not _signing_certificate_check(_cert(other.cert_der), attrs)


def _tampered_attrs(signed_data: cms.SignedData, change: str) -> cms.CMSAttributes:
    """The signed attributes with the signing-certificate attribute's first identifier changed:
    one bit of its certificate digest, or its issuer serial's serial number."""
    data = _fresh(signed_data)
    for attr in data["signer_infos"][0]["signed_attrs"]:
        if attr["type"].native in ("signing_certificate", "signing_certificate_v2"):
            certid = attr["values"][0]["certs"][0]
            if change == "digest":
                digest = bytearray(certid["cert_hash"].native)
                digest[0] ^= 1
                certid["cert_hash"] = bytes(digest)
            else:
                certid["issuer_serial"]["serial_number"] = certid["issuer_serial"]["serial_number"].native + 1
            return _fresh(data)["signer_infos"][0]["signed_attrs"]
    raise AssertionError("no signing-certificate attribute")


@pytest.mark.parametrize("change", ["digest", "serial"])
@pytest.mark.usefixtures("worker_matches")
def test_a_tampered_signing_certificate_attribute_gets_its_own_answer(
    pki: TestPKI, signed_data: cms.SignedData, change: str
) -> None:
    signer = _cert(pki.personal.cert_der)
    assert _signing_certificate_check(signer, signed_data["signer_infos"][0]["signed_attrs"])
    assert _matches.kept("ess_certid") == 1

    tampered = _tampered_attrs(signed_data, change)

    assert not _signing_certificate_check(signer, tampered)
    with pytest.raises(errors.SignatureValidationError) as refused:
        generic_cms._check_signing_certificate(signer, tampered)
    assert refused.value.ades_subindication.name == "NO_SIGNING_CERTIFICATE_FOUND"


@pytest.mark.usefixtures("worker_matches")
def test_the_signer_identifier_picks_only_the_certificate_it_names(
    pki: TestPKI, signed_data: cms.SignedData
) -> None:
    first = general.extract_certificate_info(_fresh(signed_data))
    assert first.signer_cert.dump() == pki.personal.cert_der
    assert _matches.kept("issuer_serial") >= 2  # the signer and at least one other certificate

    again = general.extract_certificate_info(_fresh(signed_data))
    assert again.signer_cert.dump() == pki.personal.cert_der

    # The same certificates, the signer identifier naming the CA: the CA is the signer now.
    renamed = _fresh(signed_data)
    ca = _cert(pki.ca.cert_der)
    renamed["signer_infos"][0]["sid"] = cms.SignerIdentifier(
        name="issuer_and_serial_number",
        value={"issuer": ca.issuer, "serial_number": ca.serial_number},
    )
    renamed = _fresh(renamed)
    assert general.extract_certificate_info(renamed).signer_cert.dump() == pki.ca.cert_der

    # Each remembered answer equals pyHanko's own for the same two arguments.
    sid = renamed["signer_infos"][0]["sid"].chosen
    match = _unwrapped("match")
    for identity in (pki.personal, pki.ca, pki.root, pki.untrusted_personal):
        cert = _cert(identity.cert_der)
        assert general.match_issuer_serial(sid, cert) is match(sid, cert)  # type: ignore[operator]
