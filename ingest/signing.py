"""Sign PDFs (PAdES baseline) with pyHanko.

Kho signs documents in two roles (NĐ 30/2020 Điều 5, Phụ lục I; STANDARDS.md §1.8, §5):
first the competent person signs with a personal certificate, then the văn thư adds the
organisation signature with the agency (seal) key. :func:`sign_pdf` adds one signature as an
incremental update, so calling it twice (personal, then organisation) yields the two-signature
document the law expects; it does not enforce that order, because tests must also be able to
build documents that break it.

The keys come from a :class:`SignerIdentity`: the test PKI (``ingest.testpki``) builds them
from a seed, :meth:`SignerIdentity.from_pkcs12` loads a real ``.p12`` file. Time-stamping takes
any pyHanko ``TimeStamper`` (``HTTPTimeStamper`` for a real TSA, the in-process
``DummyTimeStamper`` for tests, see ``ingest.testpki.timestamper``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from io import BytesIO

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from kho.errors import KhoError

DEFAULT_FIELD_NAMES = {
    "personal": "PersonalSignature",
    "organisation": "OrganisationSignature",
}


class SigningFailed(KhoError):
    code = "SIGNING_FAILED"
    http_status = 422


class SignatureRole(StrEnum):
    """Who signs: the competent person, or the agency (văn thư with the seal key)."""

    PERSONAL = "personal"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class SignerIdentity:
    """A signing certificate, its private key and the chain to embed.

    ``cert_der``: the signer certificate (DER). ``key_der``: its private key, unencrypted
    PKCS#8 DER. ``chain_der``: intermediates (and optionally the root), embedded in the CMS so
    a verifier can build the path offline. ``role``: personal or organisation; ``name`` is a
    label for logs and file names only.
    """

    cert_der: bytes
    key_der: bytes = field(repr=False)
    chain_der: tuple[bytes, ...] = ()
    role: SignatureRole | None = None
    name: str = ""

    @classmethod
    def from_der(
        cls,
        *,
        cert_der: bytes,
        key_der: bytes,
        chain_der: Sequence[bytes] = (),
        role: SignatureRole | None = None,
        name: str = "",
    ) -> SignerIdentity:
        identity = cls(cert_der, key_der, tuple(chain_der), role, name)
        try:
            _ = identity.cert, identity.key, identity.chain
        except ValueError as exc:
            raise SigningFailed(
                "Chứng thư số hoặc khóa bí mật không đọc được.", name=name
            ) from exc
        return identity

    @classmethod
    def from_pkcs12(
        cls,
        data: bytes,
        passphrase: bytes | None,
        *,
        role: SignatureRole | None = None,
        name: str = "",
    ) -> SignerIdentity:
        """Load a PKCS#12 (``.p12``/``.pfx``) file: the key, its certificate and the chain."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            raise SigningFailed(
                "Không mở được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng).", name=name
            ) from exc
        if key is None or cert is None:
            raise SigningFailed("Tệp PKCS#12 không chứa khóa bí mật và chứng thư số.", name=name)
        der = serialization.Encoding.DER
        return cls.from_der(
            cert_der=cert.public_bytes(der),
            key_der=key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            chain_der=tuple(c.public_bytes(der) for c in extra or ()),
            role=role,
            name=name,
        )

    @cached_property
    def cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert_der)

    @cached_property
    def key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key_der)

    @cached_property
    def chain(self) -> tuple[asn1_x509.Certificate, ...]:
        return tuple(asn1_x509.Certificate.load(d) for d in self.chain_der)

    @property
    def common_name(self) -> str:
        return str(self.cert.subject.native.get("common_name", ""))

    def pyhanko_signer(self) -> signers.SimpleSigner:
        return signers.SimpleSigner(
            signing_cert=self.cert,
            signing_key=self.key,
            cert_registry=SimpleCertificateStore.from_certs(self.chain),
        )


@dataclass(frozen=True)
class RevocationInfo:
    """Revocation data to embed in the document security store (DSS), all DER."""

    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()
    certs: tuple[bytes, ...] = ()


def sign_pdf(
    data: bytes,
    signer: SignerIdentity,
    *,
    field_name: str | None = None,
    timestamper: TimeStamper | None = None,
    signing_time: datetime | None = None,
    revocation: RevocationInfo | None = None,
    reason: str | None = None,
    location: str | None = None,
    bytes_reserved: int | None = None,
    md_algorithm: str = "sha256",
) -> bytes:
    """Add one PAdES signature (``/ETSI.CAdES.detached``, SHA-256) to ``data``; return the PDF.

    The signature goes into a new invisible signature field ``field_name`` (default
    ``PersonalSignature``/``OrganisationSignature`` by role, with a numeric suffix if the name
    is taken) as an incremental update, so earlier signatures stay intact.

    ``timestamper``: adds an RFC 3161 signature time-stamp token (PAdES-T) if given.
    ``signing_time``: the claimed signing time (CMS signingTime and ``/M``); default the clock.
    ``revocation``: CRLs/OCSP responses/certificates written to the DSS in a further
    incremental update right after the signature (what offline validation reads), without
    validating the signer first, so revoked or expired signers can be documented too.
    ``bytes_reserved``: size of the signature placeholder; default: pyHanko's estimate
    (a dry run). ``md_algorithm``: the digest (tests of weak digests use ``sha1``).
    Raises :class:`SigningFailed` on unreadable input or a pyHanko failure.
    """
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        existing = {name for name, _, _ in fields.enumerate_sig_fields(reader)}
        writer = IncrementalPdfFileWriter.from_reader(reader)
    except (PdfError, ValueError, OSError) as exc:
        raise SigningFailed("Tệp PDF không đọc được để ký số.") from exc

    name = field_name or _free_field_name(signer.role, existing)
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm=md_algorithm,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=signer.common_name or None,
    )
    pdf_signer = signers.PdfSigner(meta, signer.pyhanko_signer(), timestamper=timestamper)
    try:
        signed = asyncio.run(_sign(pdf_signer, writer, signing_time, bytes_reserved))
    except (SigningError, PdfError, ValueError) as exc:
        raise SigningFailed(
            "Ký số văn bản không thành công.", field=name, signer=signer.name
        ) from exc
    if revocation is not None:
        signed = add_revocation_info(signed, revocation)
    return signed


async def _sign(
    pdf_signer: signers.PdfSigner,
    writer: IncrementalPdfFileWriter,
    signing_time: datetime | None,
    bytes_reserved: int | None,
) -> bytes:
    # PdfSigner.async_sign_pdf, with the session's clock replaced by ``signing_time``.
    session = pdf_signer.init_signing_session(writer)
    if signing_time is not None:
        session.system_time = signing_time
    validation_info = await session.perform_presign_validation(writer)
    if bytes_reserved is None:
        bytes_reserved = await session.estimate_signature_container_size(
            validation_info, tight=False
        )
    tbs = session.prepare_tbs_document(
        validation_info=validation_info, bytes_reserved=bytes_reserved
    )
    digest, output = tbs.digest_tbs_document()
    post = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=session.system_time),
    )
    await post.post_signature_processing(output)
    return output.getvalue()


def add_revocation_info(data: bytes, revocation: RevocationInfo) -> bytes:
    """Append (or extend) the document security store with ``revocation``, tied to the last
    signature's VRI entry, as an incremental update."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            raise SigningFailed("Văn bản chưa có chữ ký số để gắn thông tin thu hồi.")
        writer = IncrementalPdfFileWriter.from_reader(reader)
        DocumentSecurityStore.supply_dss_in_writer(
            writer,
            sigs[-1].pkcs7_content,
            certs=[asn1_x509.Certificate.load(c) for c in revocation.certs],
            ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in revocation.ocsps],
            crls=[asn1_crl.CertificateList.load(c) for c in revocation.crls],
        )
        out = BytesIO()
        writer.write(out)
    except (PdfError, ValueError) as exc:
        raise SigningFailed("Không gắn được thông tin thu hồi chứng thư số.") from exc
    return out.getvalue()


def _free_field_name(role: SignatureRole | None, existing: set[str]) -> str:
    base = DEFAULT_FIELD_NAMES.get(str(role), "Signature") if role else "Signature"
    if base not in existing:
        return base
    n = 2
    while f"{base}{n}" in existing:
        n += 1
    return f"{base}{n}"
