"""The trust store: a directory of anchor certificates (PEM or DER, any file name)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import pem, x509

from kho.errors import ConfigError

if TYPE_CHECKING:
    from pyhanko_certvalidator.registry import SimpleTrustManager

MANIFEST_NAME = "manifest.json"
"""A trust list's description of its certificates (:mod:`.trustlist`), not a certificate."""


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors for signature verification. An empty store trusts nothing."""

    anchors: tuple[x509.Certificate, ...]
    source: str = ""

    @classmethod
    def empty(cls) -> TrustStore:
        return cls(anchors=(), source="")

    @classmethod
    def from_dir(cls, path: str | Path) -> TrustStore:
        """Load every certificate in ``path`` (not recursive). Files that hold no certificate
        are an error: a typo in the trust store must not silently trust less."""
        directory = Path(path)
        if not directory.is_dir():
            raise ConfigError(
                f"Thư mục kho chứng thư tin cậy không tồn tại: {directory}",
                code="TRUST_STORE_MISSING",
                path=str(directory),
            )
        certs = [
            cert
            for file in sorted(p for p in directory.iterdir() if p.is_file())
            if not (file.name.startswith(".") or file.name == MANIFEST_NAME)
            for cert in load_certs(file)
        ]
        return cls.from_certs(certs, source=str(directory))

    @classmethod
    def from_certs(cls, certs: Iterable[x509.Certificate], source: str = "") -> TrustStore:
        """The store of these certificates, in this order, each one once (by its DER bytes)."""
        anchors: list[x509.Certificate] = []
        seen: set[bytes] = set()
        for cert in certs:
            digest = hashlib.sha256(cert.dump()).digest()
            if digest not in seen:
                seen.add(digest)
                anchors.append(cert)
        return cls(anchors=tuple(anchors), source=source)

    @classmethod
    def from_der(cls, anchors: tuple[bytes, ...], source: str = "") -> TrustStore:
        """The store whose anchors are these DER encodings, as :attr:`der` gives them: of a store
        that was read and parsed fully when it was made (:meth:`from_dir`, :func:`load_certs`)
        by the process that sends them to a verification worker or child. So they are not
        parsed fully again: pyHanko reads what it uses of them (the full parse of the four
        shipped anchors was ~6 ms of each forked ``kho verify`` child, the idea of branch p14a)."""
        return cls(anchors=tuple(x509.Certificate.load(blob) for blob in anchors), source=source)

    @property
    def der(self) -> tuple[bytes, ...]:
        return tuple(c.dump() for c in self.anchors)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 over the sorted anchor digests: identifies the store a verdict used."""
        digests = sorted(hashlib.sha256(c.dump()).hexdigest() for c in self.anchors)
        return hashlib.sha256("\n".join(digests).encode()).hexdigest()

    def impersonated(self, certs: Iterable[x509.Certificate]) -> str | None:
        """The common name of an anchor that one of ``certs`` names as its issuer (by name and,
        when the certificate says, by key identifier) without being signed by that anchor's
        key: a certificate made to look issued by a trusted CA (a fake "CA phục vụ các cơ quan
        Nhà nước G2") or altered after issue. None when there is none. The chain's verdict is
        pyHanko's either way; this only says why it failed."""
        for cert in certs:
            for anchor in self.anchors:
                if anchor.subject != cert.issuer:
                    continue
                claimed = cert.authority_key_identifier
                if claimed is not None and claimed != anchor.key_identifier:
                    continue  # another key of a CA of that name: not a claim on this anchor
                if not _signed_by(cert, anchor):
                    return str(anchor.subject.native.get("common_name") or anchor.subject.human_friendly)
        return None

    @cached_property
    def trust_manager(self) -> SimpleTrustManager:
        """pyHanko's trust manager for these anchors, built once per store and process and
        shared by every validation context (it only indexes the anchors). Imported here: the
        processes that load a store without verifying (a bulk import's parent and workers)
        need not import pyhanko_certvalidator."""
        from pyhanko_certvalidator.registry import SimpleTrustManager

        return SimpleTrustManager.build(trust_roots=list(self.anchors))


def load_certs(file: Path) -> list[x509.Certificate]:
    data = file.read_bytes()
    try:
        if pem.detect(data):
            blobs = [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        else:
            blobs = [data]
        certs = [x509.Certificate.load(blob) for blob in blobs]
        for cert in certs:
            cert.native  # noqa: B018 - force a full parse so a broken file fails here
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"Tệp trong kho chứng thư tin cậy không phải chứng thư số hợp lệ: {file.name}",
            code="TRUST_STORE_INVALID",
            path=str(file),
        ) from exc
    if not certs:
        raise ConfigError(
            f"Tệp trong kho chứng thư tin cậy không chứa chứng thư số: {file.name}",
            code="TRUST_STORE_INVALID",
            path=str(file),
        )
    return certs


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made the signature on ``cert`` (any algorithm cryptography knows;
    a key or signature it cannot read counts as not signed)."""
    from cryptography import x509 as cx509

    try:
        cx509.load_der_x509_certificate(cert.dump()).verify_directly_issued_by(
            cx509.load_der_x509_certificate(issuer.dump())
        )
    except Exception:  # InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm
        return False
    return True
