"""The trust store: a directory of anchor certificates (PEM or DER, any file name), and the
certificate revocation lists the agency loaded (``crls/`` inside it, PEM or DER), which every
verification uses as revocation data beside what a document carries (Kho never fetches)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from asn1crypto import crl, pem, x509

from ingest.signatures._asn1 import read_whole
from ingest.workerpool import Material, trust_material
from kho.errors import ConfigError

if TYPE_CHECKING:
    from pyhanko_certvalidator.registry import SimpleTrustManager

    from ingest.signatures.rules import Revocation

MANIFEST_NAME = "manifest.json"
"""A trust list's description of its certificates (:mod:`.trustlist`), not a certificate."""
_Signed = TypeVar("_Signed", x509.Certificate, crl.CertificateList)
_Built = TypeVar("_Built")
_INDEX_AFTER = 32
"""Lookups of one store before its CRLs are indexed by serial number (:meth:`_listing_of`)."""
_BUILDING = threading.Lock()
"""Held while a store builds what its lookups share (:meth:`TrustStore._once`), only then: one
lock for every store, so a store costs nothing more to make (a process holds one store, or
two while a watched trust list changes)."""
CRL_DIR = "crls"
"""The sub-folder of a trust store that holds its CRLs (a folder: a reader of trust list
format 1, which reads only the files beside the manifest, never takes a CRL for an anchor)."""


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors for signature verification. An empty store trusts nothing."""

    anchors: tuple[x509.Certificate, ...]
    source: str = ""
    crls: tuple[crl.CertificateList, ...] = ()
    """Revocation lists loaded into the trust list (``kho trust add-crl``): revocation data of
    every verification. pyHanko checks each CRL's signature and issuer when it uses it."""
    one_thread: bool = field(default=False, compare=False, repr=False)
    """Only one thread ever reads the store (:meth:`from_der`): :attr:`trust_manager` leaves its
    anchors to pyHanko's lazy reading."""

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
        return cls.from_certs(certs, source=str(directory), crls=load_crl_dir(directory / CRL_DIR))

    @classmethod
    def from_certs(
        cls, certs: Iterable[x509.Certificate], source: str = "",
        crls: Iterable[crl.CertificateList] = (),
    ) -> TrustStore:
        """The store of these certificates and CRLs, in this order, each one once (by its DER
        bytes)."""
        return cls(anchors=_once(certs), source=source, crls=_once(crls))

    @classmethod
    def from_der(
        cls, anchors: tuple[bytes, ...], source: str = "", crls: tuple[bytes, ...] = (),
        *, one_thread: bool = False,
    ) -> TrustStore:
        """The store whose anchors are these DER encodings, as :attr:`der` gives them: of a store
        that was read and parsed fully when it was made (:meth:`from_dir`, :func:`load_certs`)
        by the process that sends them to a verification worker or child. So they are not
        parsed fully when the store is made: a store that verifies parses them once, when its
        :attr:`trust_manager` is built (before any thread can share them).

        ``one_thread``: the caller promises that only one thread ever reads the store (a forked
        ``kho verify`` child, which has one thread and one document). Its anchors are then
        never parsed fully: pyHanko reads what it uses of them (the full parse of the four
        shipped anchors was ~6 ms of each forked child, the idea of branch p14a; ~2.4 ms of CPU
        for the four corpus anchors in bench/NOTES-rv56.md)."""
        return cls(
            anchors=tuple(x509.Certificate.load(blob) for blob in anchors), source=source,
            crls=tuple(crl.CertificateList.load(blob) for blob in crls), one_thread=one_thread,
        )

    @property
    def der(self) -> tuple[bytes, ...]:
        return tuple(c.dump() for c in self.anchors)

    @property
    def crl_der(self) -> tuple[bytes, ...]:
        """The CRLs' DER encodings (what a verification worker is sent beside :attr:`der`)."""
        return tuple(c.dump() for c in self.crls)

    @cached_property
    def worker_material(self) -> Material:
        """What a verification worker builds this store from (anchors, source, CRLs), with its
        digest: hashed once a store, sent to each worker once (:class:`ingest.workerpool.Material`)."""
        return trust_material(self.der, self.source, self.crl_der)

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the sorted anchor digests, then the sorted CRL digests when the store
        has CRLs: identifies the store a verdict used (a store without CRLs keeps the
        fingerprint it had before CRLs existed). Computed once per store under
        :data:`_BUILDING` (:meth:`_once`): ``dump()`` of an anchor another thread is parsing
        can raise, and the full parse in :attr:`trust_manager` holds the same lock."""

        def build() -> str:
            digests = sorted(hashlib.sha256(c.dump()).hexdigest() for c in self.anchors)
            if self.crls:
                digests += ["crl", *sorted(hashlib.sha256(c.dump()).hexdigest() for c in self.crls)]
            return hashlib.sha256("\n".join(digests).encode()).hexdigest()

        return self._once("_fingerprint_state", build)

    def impersonated(self, certs: Iterable[x509.Certificate]) -> str | None:
        """The common name of an anchor that one of ``certs`` names as its issuer (by name and,
        when the certificate says, by key identifier) without being signed by that anchor's
        key: a certificate made to look issued by a trusted CA (a fake "CA phục vụ các cơ quan
        Nhà nước G2") or altered after issue. None when there is none. The chain's verdict is
        pyHanko's either way; this only says why it failed. What it reads of the anchors is
        read once per store (:meth:`_settled`: threads share no half-parsed anchor)."""
        settled = self._settled()
        for cert in certs:
            issuer = cert.issuer.hashable
            for anchor in self.anchors:
                known = settled.anchors[id(anchor)]
                if known.subject != issuer:
                    continue
                claimed = cert.authority_key_identifier
                if claimed is not None and claimed != known.key_id:
                    continue  # another key of a CA of that name: not a claim on this anchor
                if not _der_signed_by(cert.dump(), known.der):
                    return known.name
        return None

    def revocation(self, path: Sequence[x509.Certificate]) -> Revocation | None:
        """The first revocation, signer first, that a CRL of this store records for a
        certificate of ``path`` (anchor first, each certificate issued by the one before it,
        as pyHanko's validated path gives them): the CRL must name the certificate's issuer
        and carry that issuer's signature (checked here against the path's issuer, not
        trusted from the file). An entry that lifts a hold (``removeFromCRL``) is no
        revocation. None when no CRL lists any of them.

        Pure lookup, no pyHanko: the trust list's CRLs are not given to pyHanko's validation
        context, where one past its ``nextUpdate`` makes every signature of its CA
        INDETERMINATE (a CRL loaded by hand goes stale within days) and where any CRL turns
        off the validated-path memory of the workers (:mod:`._paths`); a revocation stays a
        revocation however old the list that records it.

        Safe from many threads on one store (a web server's): what it reads of the store's
        CRLs and anchors (asn1crypto objects, parsed lazily and not thread-safe) is read once,
        under a lock, into :class:`_Settled` (:meth:`_settled`); afterwards only
        plain values and cryptography's readings are shared."""
        from ingest.signatures.rules import Revocation

        if not self.crls or not self._may_list(path):
            return None
        settled = self._settled()
        certs = list(path)
        if certs:
            certs[:0] = self._issuers_of(certs[0], settled)  # an intermediate anchor's own CA
        for index in range(len(certs) - 1, 0, -1):  # the signer first, a self-signed root never
            cert, issuer = settled.fact(certs[index]), certs[index - 1]
            for one in self._listing_of(cert, settled):
                entry = one.fast.get_revoked_certificate_by_serial_number(cert.serial)
                if entry is None or indirect_crl(one.fast, entry):
                    continue
                if not self._crl_signed_by(one, issuer, settled):
                    continue
                reason = _reason(entry)
                if reason == "remove_from_crl":
                    continue
                if reason == "certificate_hold" and self._hold_lifted(one, cert, issuer, settled):
                    continue
                return Revocation(
                    date=entry.revocation_date_utc, reason=reason, ca=index != len(certs) - 1,
                    issuer=one.name,
                )
        return None

    def _may_list(self, path: Sequence[x509.Certificate]) -> bool:
        """Whether a CRL of this store may list a certificate the lookup looks at: one of
        ``path`` or one of the anchors above its anchor (:meth:`_issuers_of`), found here by
        name alone, without checking a signature (a superset of those :meth:`_issuers_of`
        verifies). A CRL lists only certificates of its issuer, so when no CRL's issuer is the
        issuer of any of them the lookup cannot find a revocation: it is skipped, and with it
        cryptography's parse of every CRL and of the anchors (a cold ``kho verify`` of a
        document whose CAs publish none of the list's CRLs: issue 14, branch m47). The names
        of the store's own objects (``path`` starts with an anchor) are read once
        (:meth:`_names`); the others are the caller's own."""
        issuers_by_subject, anchor_issuers, crl_issuers = self._names()
        issuers = [anchor_issuers.get(id(cert)) or cert.issuer.hashable for cert in path]
        named = set(issuers)
        pending = issuers[:1]
        walked: set[str] = set()
        while pending:  # every anchor above, by name: each name once, so it ends
            name = pending.pop()
            if name in walked:
                continue
            walked.add(name)
            for issuer in issuers_by_subject.get(name, ()):
                named.add(issuer)
                pending.append(issuer)
        return not named.isdisjoint(crl_issuers)

    def _names(self) -> tuple[dict[str, tuple[str, ...]], dict[int, str], frozenset[str]]:
        """The issuer names of the anchors by subject name and by ``id()`` of the anchor, and
        the issuer names of the CRLs: read once per store under :data:`_BUILDING` (asn1crypto
        parses names lazily, not thread-safe), without cryptography's parse that
        :meth:`_settled` makes."""

        def build() -> tuple[dict[str, tuple[str, ...]], dict[int, str], frozenset[str]]:
            by_subject: dict[str, list[str]] = {}
            by_id: dict[int, str] = {}
            for one in self.anchors:
                by_id[id(one)] = one.issuer.hashable
                by_subject.setdefault(one.subject.hashable, []).append(by_id[id(one)])
            issuers = frozenset(one.issuer.hashable for one in self.crls)
            return {name: tuple(found) for name, found in by_subject.items()}, by_id, issuers

        return self._once("_names_state", build)

    def _settled(self) -> _Settled:
        """What the lookups read of this store's CRLs and anchors, read once per store and
        process under :data:`_BUILDING` (held only for this); a store without CRLs never reads it."""
        return self._once("_settled_state", lambda: _settle(self.anchors, self.crls))

    def _once(self, name: str, build: Callable[[], _Built]) -> _Built:
        """``build()``, once per store: the first thread builds it under :data:`_BUILDING`, any
        other waits for it and never sees it half-built (a frozen store's ``__dict__`` holds
        it, as :func:`functools.cached_property` would, which takes no lock from Python 3.12)."""
        found = self.__dict__.get(name)
        if found is None:
            with _BUILDING:
                found = self.__dict__.get(name)
                if found is None:
                    found = self.__dict__[name] = build()
        return found  # type: ignore[no-any-return]

    def _issuers_of(self, anchor: x509.Certificate, settled: _Settled) -> list[x509.Certificate]:
        """The anchors above ``anchor`` (root first), each the issuer of the next by name and
        key: pyHanko's path ends at the first anchor it meets, so an intermediate CA that is
        itself on the list (the shipped list holds the Chính phủ CA beside its root) would
        otherwise never be looked up in its root's CRL. Found once per store for each anchor
        (:func:`_settle`); a certificate that is no anchor of the store has none."""
        known = settled.anchors.get(id(anchor)) or settled.by_digest.get(_digest(anchor))
        return [] if known is None else list(known.above)

    def _hold_lifted(
        self, held: _Crl, cert: _Cert, issuer: x509.Certificate, settled: _Settled
    ) -> bool:
        """Whether a CRL of ``cert``'s issuer issued after ``held`` (a later thisUpdate, signed
        by ``issuer``'s key, not indirect) lifts the hold ``held`` records: a complete CRL that
        no longer lists the serial, or any CRL (a delta too) that lists it as ``removeFromCRL``
        (RFC 5280, 5.3.1: only a hold is ever lifted; any other revocation is final, so an
        older CRL's permanent revocation stands whatever a newer CRL says)."""
        for one in settled.crls:
            if one.issuer != cert.issuer or one.this_update <= held.this_update:
                continue
            if indirect_crl(one.fast) or not self._crl_signed_by(one, issuer, settled):
                continue
            entry = one.fast.get_revoked_certificate_by_serial_number(cert.serial)
            if entry is None:
                if not _delta(one.fast):
                    return True
            elif not indirect_crl(one.fast, entry) and _reason(entry) == "remove_from_crl":
                return True
        return False

    def _listing_of(self, cert: _Cert, settled: _Settled) -> Sequence[_Crl]:
        """The CRLs that may list ``cert`` (same issuer name; those of :meth:`_listing` that
        do, once this store has answered enough lookups to be worth indexing: a one-shot
        ``kho verify`` child scans natively, ~0.1 s for 100,000 entries; a worker indexes
        once, ~3 s on the loaded test machine, then reads a dictionary)."""
        if next(settled.lookups) > _INDEX_AFTER:  # itertools.count: atomic under the GIL
            return self._listing(settled).get((cert.issuer, cert.serial), ())
        return [one for one in settled.crls if one.issuer == cert.issuer]

    def _listing(self, settled: _Settled) -> dict[tuple[str, int], list[_Crl]]:
        """The CRLs that list a serial number, by (issuer name, serial number): built once per
        store and process, under :data:`_BUILDING` (another thread waits rather than read it
        half-built), so that a lookup is a dictionary read (100,000 entries: ~0.1 s to scan
        natively on every signature, once here)."""

        def build() -> dict[tuple[str, int], list[_Crl]]:
            listing: dict[tuple[str, int], list[_Crl]] = {}
            for one in settled.crls:
                for entry in one.fast:
                    listing.setdefault((one.issuer, entry.serial_number), []).append(one)
            return listing

        return self._once("_listing_state", build)

    def _crl_signed_by(self, one: _Crl, issuer: x509.Certificate, settled: _Settled) -> bool:
        """:func:`crl_signed_by`, remembered per CRL and issuer for this store."""
        key = (id(one), settled.fact(issuer).digest)  # ``one`` lives as long as ``settled``
        found = settled.checks.get(key)
        if found is None:
            found = settled.checks[key] = crl_signed_by(one.asn1, issuer, one.fast)
        return found

    @property
    def trust_manager(self) -> SimpleTrustManager:
        """pyHanko's trust manager for these anchors, built once per store and process and
        shared by every validation context (it only indexes the anchors). Imported here: the
        processes that load a store without verifying (a bulk import's parent and workers)
        need not import pyhanko_certvalidator.

        Built under :data:`_BUILDING` (:meth:`_once`; ``cached_property`` takes no lock from
        Python 3.12), after every anchor is parsed whole (:func:`._asn1.read_whole`): pyHanko reads
        the anchors during every verification, outside any lock of Kho's, and asn1crypto
        fills what it parses lazily in place, so two verifications at once in one process read
        each other's half-parsed anchor (``KeyError: No field numbered 1 is present in this
        asn1crypto.keys.PublicKeyInfo``: a good signature judged unreadable; rv56). A store
        made with ``one_thread`` (:meth:`from_der`) leaves its anchors to be parsed lazily."""

        def build() -> SimpleTrustManager:
            from pyhanko_certvalidator.registry import SimpleTrustManager

            if not self.one_thread:
                for anchor in self.anchors:
                    read_whole(anchor)
            return SimpleTrustManager.build(trust_roots=list(self.anchors))

        return self._once("_trust_manager_state", build)


@dataclass(frozen=True)
class _Crl:
    """One readable CRL of a store with what the lookups read of it, read once (:func:`_settle`)
    so that threads share plain values, not asn1crypto's lazily parsed fields."""

    asn1: crl.CertificateList
    fast: Any
    """cryptography's reading of it (parsed in Rust: a public CA's CRL of 100,000 entries took
    ~1 min to index with asn1crypto on the loaded test machine, a lookup scans it natively)."""
    issuer: str
    """Its issuer name, asn1crypto's ``hashable`` form (what a certificate's issuer is matched by)."""
    name: str
    """Its issuer's common name (else the whole name), as a revocation reports it."""
    this_update: datetime


@dataclass(frozen=True)
class _Cert:
    """What a lookup reads of a certificate of the path: its serial, issuer name (``hashable``)
    and SHA-256 of its DER."""

    serial: int
    issuer: str
    digest: bytes


@dataclass(frozen=True)
class _Anchor:
    cert: _Cert
    der: bytes
    subject: str
    """Its subject name, ``hashable`` form."""
    key_id: bytes | None
    """Its subject key identifier, when it has one."""
    name: str
    """Its common name (else its whole subject), as :meth:`TrustStore.impersonated` says it."""
    above: tuple[x509.Certificate, ...]
    """The anchors above it, root first (:meth:`TrustStore._issuers_of`)."""


@dataclass(frozen=True)
class _Settled:
    """What :meth:`TrustStore.revocation` shares between threads, built once per store."""

    crls: tuple[_Crl, ...]
    anchors: dict[int, _Anchor]
    """By ``id()`` of the store's own anchor objects (the ones pyHanko's path starts with)."""
    by_digest: dict[bytes, _Anchor]
    checks: dict[tuple[int, bytes], bool] = field(default_factory=dict)
    """:func:`crl_signed_by` by (``id()`` of a :class:`_Crl` of :attr:`crls`, issuer digest; no
    hash of a CRL of megabytes): a complete bool is set or not."""
    lookups: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def fact(self, cert: x509.Certificate) -> _Cert:
        """``cert``'s :class:`_Cert`: read once for an anchor of the store (shared by every
        thread), read now for any other certificate (the caller's own)."""
        known = self.anchors.get(id(cert))
        if known is not None:
            return known.cert
        return _Cert(cert.serial_number, cert.issuer.hashable, _digest(cert))


def _settle(anchors: tuple[x509.Certificate, ...], crls: tuple[crl.CertificateList, ...]) -> _Settled:
    """Read what the lookups use of ``anchors`` and ``crls`` (those cryptography cannot read
    are left out: pyHanko's reading of the document judges them)."""
    from cryptography import x509 as cx509

    readable = []
    for one in crls:
        try:
            fast = cx509.load_der_x509_crl(one.dump())
            issuer = one.issuer
            readable.append(_Crl(
                asn1=one, fast=fast, issuer=issuer.hashable,
                name=str(issuer.native.get("common_name") or issuer.human_friendly),
                this_update=one["tbs_cert_list"]["this_update"].native,
            ))
        except (ValueError, TypeError):  # unreadable: pyHanko's reading of the document judges
            continue
    facts = [
        (cert, _Cert(cert.serial_number, cert.issuer.hashable, _digest(cert)), cert.subject.hashable,
         cert.self_issued)
        for cert in anchors
    ]
    table: dict[int, _Anchor] = {}
    for cert, fact, _, self_issued in facts:
        above: list[x509.Certificate] = []
        current, current_fact, current_self = cert, fact, self_issued
        while len(above) < 8 and not current_self:
            parent = next(
                ((one, one_fact, one_self) for one, one_fact, subject, one_self in facts
                 if subject == current_fact.issuer and one_fact.digest != current_fact.digest
                 and _signed_by(current, one)),
                None,
            )
            if parent is None or any(_digest(parent[0]) == _digest(seen) for seen in above):
                break
            above.insert(0, parent[0])
            current, current_fact, current_self = parent
        subject = cert.subject
        table[id(cert)] = _Anchor(
            fact, cert.dump(), subject.hashable, cert.key_identifier,
            str(subject.native.get("common_name") or subject.human_friendly), tuple(above),
        )
    return _Settled(
        crls=tuple(readable), anchors=table,
        by_digest={known.cert.digest: known for known in table.values()},
    )


def _digest(item: x509.Certificate | crl.CertificateList) -> bytes:
    return hashlib.sha256(item.dump()).digest()


def load_certs(file: Path) -> list[x509.Certificate]:
    data = file.read_bytes()
    try:
        blobs = pem_blocks(data, "CERTIFICATE") if pem.detect(data) else [data]
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


def load_crls(file: Path) -> list[crl.CertificateList]:
    """The CRLs of one file (DER, or PEM ``X509 CRL`` blocks), each parsed fully; a file that
    holds none, or a broken one, is refused (``TRUST_STORE_INVALID``)."""
    try:
        lists = parse_crls(file.read_bytes())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"Tệp trong thư mục danh sách thu hồi không phải danh sách thu hồi chứng thư (CRL) "
            f"hợp lệ: {file.name}",
            code="TRUST_STORE_INVALID",
            path=str(file),
        ) from exc
    return lists


def load_crl_dir(directory: Path) -> list[crl.CertificateList]:
    """The CRLs of every file in ``directory`` (none when there is no such folder)."""
    if not directory.is_dir():
        return []
    return [
        one
        for file in sorted(p for p in directory.iterdir() if p.is_file())
        if not (file.name.startswith(".") or file.name == MANIFEST_NAME)
        for one in load_crls(file)
    ]


def parse_crls(data: bytes) -> list[crl.CertificateList]:
    """The CRLs in ``data`` (DER, or PEM ``X509 CRL`` blocks), each parsed fully (by
    cryptography, in Rust: a CRL of 100,000 entries is a few megabytes). Raises ``ValueError``
    when there is none or one is not a CRL (a certificate is not a CRL)."""
    from cryptography import x509 as cx509

    blobs = pem_blocks(data, "X509 CRL") if pem.detect(data) else [data]
    if not blobs:
        raise ValueError("no X509 CRL block")
    lists = []
    for blob in blobs:
        cx509.load_der_x509_crl(blob)  # a full parse: raises ValueError on anything else
        lists.append(crl.CertificateList.load(blob, strict=True))
    return lists


_PEM_BEGIN = re.compile(rb"^(?:---- |-----)BEGIN ([A-Z0-9 ]+)(?: ----|-----)")


def pem_blocks(data: bytes, kind: str) -> list[bytes]:
    """The DER of every PEM block of ``kind`` ("CERTIFICATE", "X509 CRL") in ``data``, in order:
    what ``asn1crypto.pem.unarmor(data, multiple=True)`` gives, read the same way (text before
    a block and header lines skipped, blank lines ignored), in time linear in the size.
    asn1crypto adds each base64 line to a growing byte string, quadratic: a CRL of 100,000
    entries (3.4 MB of PEM, as ``kho trust add-crl`` stores it) took 22 s of CPU to read, in
    every cold ``kho verify`` and at every start of a process reading the list (issue 14,
    branch m47). Raises ``ValueError`` when ``data`` holds no complete block (as asn1crypto)."""
    found: list[bytes] = []
    state, block_kind, lines, ended = "trash", "", [], False
    for line in data.splitlines(False):
        if not line:
            continue
        if state == "trash":
            begin = _PEM_BEGIN.match(line)
            if begin is not None:
                state, block_kind, lines = "headers", begin.group(1).decode("ascii"), []
            continue
        if state == "headers":
            if b":" in line:
                line.decode("ascii")  # (a header asn1crypto cannot read refuses the file there too)
                continue
            state = "body"
        if line[:5] in (b"-----", b"---- "):
            der = base64.b64decode(b"".join(lines))  # every block, as asn1crypto: a broken one refuses
            if block_kind == kind:
                found.append(der)
            state, ended = "trash", True
            continue
        lines.append(line)
    if not ended:
        raise ValueError("no PEM block: no BEGIN/END pair found")
    return found


def revoked_count(one: crl.CertificateList) -> int:
    """How many certificates ``one`` lists (read by cryptography, not entry by entry)."""
    from cryptography import x509 as cx509

    return len(cx509.load_der_x509_crl(one.dump()))


def _reason(entry: Any) -> str:
    """An entry's CRLReason as asn1crypto names it ("key_compromise"); "unspecified" when
    the entry gives none."""
    from cryptography import x509 as cx509

    try:
        flag = entry.extensions.get_extension_for_class(cx509.CRLReason).value.reason
    except cx509.ExtensionNotFound:
        return "unspecified"
    return str(flag.name)


def indirect_crl(fast: Any, entry: Any = None) -> bool:
    """Whether a CRL (cryptography's reading) is indirect, or its ``entry`` names another
    issuer (a ``certificateIssuer`` entry extension): its entries may then be certificates of
    another CA that happen to share a serial number with one of the CRL issuer's own. Kho
    matches an entry by the CRL issuer's name and key only, so it ignores such a CRL (or
    entry) rather than revoke the wrong certificate."""
    from cryptography import x509 as cx509

    try:
        point = fast.extensions.get_extension_for_class(cx509.IssuingDistributionPoint).value
        if point.indirect_crl:
            return True
    except cx509.ExtensionNotFound:
        pass
    if entry is None:
        return False
    try:
        entry.extensions.get_extension_for_class(cx509.CertificateIssuer)
    except cx509.ExtensionNotFound:
        return False
    return True


def _delta(fast: Any) -> bool:
    """Whether a CRL (cryptography's reading) is a delta CRL (``deltaCRLIndicator``): it lists
    only the changes since its base, so a serial it does not list tells nothing."""
    from cryptography import x509 as cx509

    try:
        fast.extensions.get_extension_for_class(cx509.DeltaCRLIndicator)
    except cx509.ExtensionNotFound:
        return False
    return True


def _once(items: Iterable[_Signed]) -> tuple[_Signed, ...]:
    """``items`` in order, each once by its DER bytes."""
    kept: list[_Signed] = []
    seen: set[bytes] = set()
    for item in items:
        digest = hashlib.sha256(item.dump()).digest()
        if digest not in seen:
            seen.add(digest)
            kept.append(item)
    return tuple(kept)


def crl_signed_by(one: crl.CertificateList, issuer: x509.Certificate, fast: Any = None) -> bool:
    """Whether ``issuer``'s key made the signature on the CRL ``one`` (``fast``: cryptography's
    reading of it, when the caller has one). A key or signature cryptography cannot read
    counts as not signed."""
    from cryptography import x509 as cx509

    try:
        key = cx509.load_der_x509_certificate(issuer.dump()).public_key()
        readable = fast if fast is not None else cx509.load_der_x509_crl(one.dump())
        return bool(readable.is_signature_valid(key))  # type: ignore[arg-type]
    except Exception:  # ValueError, TypeError, UnsupportedAlgorithm
        return False


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made the signature on ``cert`` (any algorithm cryptography knows;
    a key or signature it cannot read counts as not signed)."""
    return _der_signed_by(cert.dump(), issuer.dump())


def _der_signed_by(cert: bytes, issuer: bytes) -> bool:
    """:func:`_signed_by` of DER encodings."""
    from cryptography import x509 as cx509

    try:
        cx509.load_der_x509_certificate(cert).verify_directly_issued_by(
            cx509.load_der_x509_certificate(issuer)
        )
    except Exception:  # InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm
        return False
    return True
