"""Kho's trust list: the Vietnamese root and intermediate certificates it ships, and the
folder an administrator keeps up to date (``kho trust list/add/remove``).

The shipped list (``anchors/`` beside this module) holds public certificates: the Vietnam
National Root CA (NEAC, Bộ Thông tin và Truyền thông) and the VNPT-CA SHA2 intermediate it
issued, and the government's own PKI (VGCA, Ban Cơ yếu Chính phủ): RootCA chuyên dùng Chính
phủ G2 and its intermediate "CA phục vụ các cơ quan Nhà nước G2". ``anchors/manifest.json``
names each file with its SHA-256 certificate fingerprint and where it came from; loading the
shipped list checks every fingerprint, so a changed file is an error, not a silent new anchor.

Which store a verification uses (:func:`resolve`): ``KHO_TRUST_DIR`` when set; otherwise the
installation's managed folder ``<KHO_DATA_DIR>/trust`` when an administrator has created it
(``kho trust add`` copies the shipped list there first); otherwise the shipped list. A managed
folder holds the certificates and the same kind of ``manifest.json`` (who added what, when,
from where).

Since format 2 (``kho-trust-list/2``) a managed list also holds the certificate revocation
lists (CRLs) the agency loads (``kho trust add-crl``): the files in ``crls/``, each named in the
manifest's ``crls`` with its fingerprint, issuer and update times. Every verification uses them
as revocation data (:attr:`TrustStore.crls`). Format 1 (no ``crls``) is still read; every
change writes format 2. A Kho older than format 2 reads the anchors of a format 2 list and
ignores its CRLs (the ``crls/`` folder is not a file beside the manifest).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from asn1crypto import crl, pem, x509

from ingest.signatures.trust import (
    CRL_DIR,
    MANIFEST_NAME,
    TrustStore,
    crl_signed_by,
    indirect_crl,
    load_certs,
    load_crls,
    parse_crls,
    pem_blocks,
    revoked_count,
)
from kho.errors import ConfigError, KhoError

logger = logging.getLogger(__name__)

BUNDLE_DIR = Path(__file__).with_name("anchors")
FORMAT = "kho-trust-list/2"
"""The manifest format every change writes (2: with ``crls``)."""
_READABLE = frozenset({"kho-trust-list/1", FORMAT})


@dataclass(frozen=True)
class Anchor:
    """One entry of a trust list manifest."""

    file: str
    sha256: str  # of the certificate's DER encoding
    subject: str
    issuer: str
    not_after: str
    self_signed: bool
    source: str  # provenance: where the certificate was obtained
    note: str = ""
    added_at: str = ""
    added_by: str = ""


@dataclass(frozen=True)
class RevocationList:
    """One CRL of a trust list manifest (format 2)."""

    file: str  # inside crls/
    sha256: str  # of the CRL's DER encoding
    issuer: str
    issuer_sha256: str  # the trust list certificate whose key signed it (when it was added)
    this_update: str  # ISO 8601, UTC
    next_update: str  # ISO 8601, UTC; "" when the CRL names none
    revoked: int  # how many certificates it lists
    number: str  # its CRL number ("" when it has none)
    source: str
    note: str = ""
    added_at: str = ""
    added_by: str = ""

    def stale(self, now: datetime) -> bool:
        """Whether its ``nextUpdate`` has passed (a newer list should exist): still used, a
        revocation it lists stays a revocation, but a certificate revoked since is not in it."""
        return bool(self.next_update) and datetime.fromisoformat(self.next_update) < now


_Listed = TypeVar("_Listed", Anchor, RevocationList)


@dataclass(frozen=True)
class TrustList:
    """A trust list: its folder and the anchors and CRLs its manifest names."""

    directory: Path
    anchors: tuple[Anchor, ...]
    certs: tuple[x509.Certificate, ...] = field(default=(), repr=False, compare=False)
    """The certificates :func:`read` checked against the manifest, one per anchor (empty when
    the list was made otherwise)."""
    crls: tuple[RevocationList, ...] = ()
    lists: tuple[crl.CertificateList, ...] = field(default=(), repr=False, compare=False)
    """The CRLs :func:`read` checked against the manifest, one per entry of :attr:`crls`."""

    def store(self) -> TrustStore:
        """The store of these anchors and CRLs: those already read and checked when there
        are (what was checked is what is used, and it is not parsed twice: ``kho verify``'s
        start-up), else the folder read again; the same store either way."""
        if len(self.certs) != len(self.anchors) or not self.certs or len(self.lists) != len(self.crls):
            return TrustStore.from_dir(self.directory)
        pairs = zip((a.file for a in self.anchors), self.certs, strict=True)
        by_file = sorted(pairs, key=lambda pair: pair[0])  # the folder's order, as from_dir reads it
        crl_pairs = sorted(zip((c.file for c in self.crls), self.lists, strict=True), key=lambda p: p[0])
        return TrustStore.from_certs(
            (cert for _, cert in by_file), source=str(self.directory),
            crls=(one for _, one in crl_pairs),
        )


def fingerprint(cert: x509.Certificate | crl.CertificateList) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def describe(cert: x509.Certificate, *, file: str, source: str, note: str = "",
             added_at: str = "", added_by: str = "") -> Anchor:
    return Anchor(
        file=file,
        sha256=fingerprint(cert),
        subject=cert.subject.human_friendly,
        issuer=cert.issuer.human_friendly,
        not_after=cert.not_valid_after.date().isoformat(),
        self_signed=cert.self_signed == "maybe" or cert.self_signed == "yes",
        source=source,
        note=note,
        added_at=added_at,
        added_by=added_by,
    )


def describe_crl(one: crl.CertificateList, *, file: str, source: str, issuer_sha256: str = "",
                 note: str = "", added_at: str = "", added_by: str = "") -> RevocationList:
    tbs = one["tbs_cert_list"]
    next_update = tbs["next_update"].native
    return RevocationList(
        file=file,
        sha256=fingerprint(one),
        issuer=one.issuer.human_friendly,
        issuer_sha256=issuer_sha256,
        this_update=tbs["this_update"].native.isoformat(),
        next_update=next_update.isoformat() if next_update is not None else "",
        revoked=revoked_count(one),
        number=str(one.crl_number_value.native) if one.crl_number_value is not None else "",
        source=source,
        note=note,
        added_at=added_at,
        added_by=added_by,
    )


def read(directory: Path) -> TrustList:
    """The trust list in ``directory``, each file checked against its manifest entry."""
    manifest = directory / MANIFEST_NAME
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        version = raw.get("format", "kho-trust-list/1")
        anchors = tuple(Anchor(**entry) for entry in raw["anchors"])
        crl_entries = tuple(RevocationList(**entry) for entry in raw.get("crls") or ())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Danh sách tin cậy {directory} thiếu tệp {MANIFEST_NAME}.",
            code="TRUST_LIST_INVALID", path=str(manifest),
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"Tệp {MANIFEST_NAME} của danh sách tin cậy {directory} không đọc được.",
            code="TRUST_LIST_INVALID", path=str(manifest),
        ) from exc
    if version not in _READABLE:
        raise ConfigError(
            f"Danh sách tin cậy {directory} có định dạng {version!s:.40}, phiên bản Kho này chỉ "
            f"đọc được {', '.join(sorted(_READABLE))}: cập nhật Kho trước khi dùng danh sách này.",
            code="TRUST_LIST_FORMAT_UNKNOWN", path=str(manifest),
        )
    listed = {a.file for a in anchors}
    checked: list[x509.Certificate] = []
    for anchor in anchors:
        certs = load_certs(directory / anchor.file) if (directory / anchor.file).is_file() else []
        checked.extend(certs[:1])
        if len(certs) != 1 or fingerprint(certs[0]) != anchor.sha256:
            raise ConfigError(
                f"Chứng thư {anchor.file} trong danh sách tin cậy không khớp dấu vân tay đã ghi "
                f"({anchor.sha256[:16]}…): tệp bị thiếu hoặc bị thay.",
                code="TRUST_LIST_MISMATCH", path=str(directory / anchor.file),
            )
    extra = sorted(
        p.name for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_NAME and p.name not in listed
    )
    if extra:
        raise ConfigError(
            f"Danh sách tin cậy {directory} có tệp không ghi trong {MANIFEST_NAME}: {', '.join(extra)}.",
            code="TRUST_LIST_MISMATCH", path=str(directory),
        )
    lists = _read_crls(directory, crl_entries)
    return TrustList(directory, anchors, tuple(checked), crl_entries, lists)


def _read_crls(directory: Path, entries: tuple[RevocationList, ...]) -> tuple[crl.CertificateList, ...]:
    """The CRLs of ``crls/``, each checked against its manifest entry; a file the manifest
    does not name is refused as an unlisted certificate is."""
    folder = directory / CRL_DIR
    checked: list[crl.CertificateList] = []
    for entry in entries:
        path = folder / entry.file
        lists = load_crls(path) if path.is_file() else []
        if len(lists) != 1 or fingerprint(lists[0]) != entry.sha256:
            raise ConfigError(
                f"Danh sách thu hồi {entry.file} trong danh sách tin cậy không khớp dấu vân tay "
                f"đã ghi ({entry.sha256[:16]}…): tệp bị thiếu hoặc bị thay.",
                code="TRUST_LIST_MISMATCH", path=str(path),
            )
        checked.append(lists[0])
    listed = {e.file for e in entries}
    extra = sorted(
        p.name for p in (folder.iterdir() if folder.is_dir() else ())
        if p.is_file() and not p.name.startswith(".") and p.name not in listed
    )
    if extra:
        raise ConfigError(
            f"Thư mục {folder} có tệp không ghi trong {MANIFEST_NAME}: {', '.join(extra)}.",
            code="TRUST_LIST_MISMATCH", path=str(folder),
        )
    return tuple(checked)


def shipped() -> TrustList:
    """The trust list Kho ships (checked against its manifest)."""
    return read(BUNDLE_DIR)


def default_store() -> TrustStore:
    return shipped().store()


def managed_dir(trust_dir: str, data_dir: Path) -> Path:
    """The folder ``kho trust`` manages: ``KHO_TRUST_DIR`` or ``<KHO_DATA_DIR>/trust``."""
    return Path(trust_dir).expanduser() if trust_dir else data_dir / "trust"


def resolve(trust_dir: str, data_dir: Path) -> TrustStore:
    """The store verifications use (see the module text)."""
    if trust_dir:
        return TrustStore.from_dir(trust_dir)
    managed = data_dir / "trust"
    if managed.is_dir():
        return TrustStore.from_dir(managed)
    return default_store()


class Watched:
    """The store :func:`resolve` gives, read again whenever the trust list's files change: a
    long-lived process (a Celery worker's pipeline, the web server's, a bulk import's workers)
    learns of ``kho trust add/remove/add-crl/remove-crl`` at its next document, without a
    restart. Each :meth:`current` looks at the folder (a ``stat`` of its few files, tens of
    microseconds) and reads it only when a name, size, time or inode changed (every change
    ``kho trust`` makes replaces the manifest, so its inode changes even within one
    timestamp tick)."""

    def __init__(self, trust_dir: str, data_dir: Path) -> None:
        self.trust_dir = trust_dir
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._state: tuple[object, ...] | None = None
        self._broken: tuple[object, ...] | None = None  # a state that could not be read
        self._store: TrustStore | None = None

    def current(self) -> TrustStore:
        state = self._look()
        with self._lock:
            if self._store is not None and state in (self._state, self._broken):
                return self._store
        try:
            store = resolve(self.trust_dir, self.data_dir)
        except KhoError:
            if self._store is None:
                raise  # at start: a broken trust list stops the process, as before
            # changed into something unreadable while running (a file dropped in by hand):
            # the list read last stays in use, said once per change; the next change is read
            logger.warning("trust list %s could not be read again; the previous one stays in use",
                           state[0], exc_info=True)
            self._broken = state
            return self._store
        with self._lock:
            self._state, self._store = state, store
        return store

    def _look(self) -> tuple[object, ...]:
        folder = Path(self.trust_dir).expanduser() if self.trust_dir else self.data_dir / "trust"
        return (str(folder), *_entries(folder), *_entries(folder / CRL_DIR))


def _entries(folder: Path) -> tuple[tuple[str, int, int, int], ...]:
    """(name, size, mtime ns, inode) of every entry of ``folder``; empty when it is missing."""
    try:
        with os.scandir(folder) as listing:
            found = []
            for entry in listing:
                try:
                    info = entry.stat()
                except OSError:
                    continue  # removed while listed: the next look sees the change
                found.append((entry.name, info.st_size, info.st_mtime_ns, info.st_ino))
    except OSError:
        return ()
    return tuple(sorted(found))


def initialise(directory: Path) -> TrustList:
    """Create a managed folder holding the shipped list (no-op when it exists)."""
    if directory.is_dir() and any(directory.iterdir()):
        return read(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bundle = shipped()
    for anchor in bundle.anchors:
        (directory / anchor.file).write_bytes((BUNDLE_DIR / anchor.file).read_bytes())
    _write_manifest(directory, bundle.anchors)
    return read(directory)


def _typed_provenance(source: str, note: str, what: str) -> tuple[str, str]:
    """The ``source`` and ``note`` a quản trị typed for an entry of the list (``what``: "chứng
    thư", "danh sách thu hồi"), as every typed text: NFC, a hidden character refused. The
    vocabulary is imported here: a cold ``kho verify`` reads the trust list but must not load
    it."""
    from repository.vocabulary import TextKind, typed_text

    source = typed_text(source, "source", f"Nguồn gốc của {what}", line_breaks=False)
    # A note on one line (the manifest's), but a Ghi chú all the same: NOTE, not LINE (r34).
    note = typed_text(note, "note", f"Ghi chú về {what}", line_breaks=False, kind=TextKind.NOTE)
    return source, note


def add(directory: Path, data: bytes, *, source: str, note: str, by: str, now: datetime,
        name: str | None = None) -> Anchor:
    """Add one CA certificate (PEM or DER) to the managed list. ``source`` and ``note`` are
    what a quản trị typed (a terminal may hand them over in NFD): stored NFC, refused with a
    hidden character, as every typed text (:func:`~repository.vocabulary.typed_text`, imported
    here: a cold ``kho verify`` reads the trust list but must not load the vocabulary)."""
    source, note = _typed_provenance(source, note, "chứng thư")
    trust_list = initialise(directory)
    cert = _one_certificate(data)
    digest = fingerprint(cert)
    if any(a.sha256 == digest for a in trust_list.anchors):
        raise KhoError(
            "Chứng thư này đã có trong danh sách tin cậy.", code="TRUST_ANCHOR_EXISTS", sha256=digest
        )
    if not _is_ca(cert):
        raise KhoError(
            "Chỉ thêm được chứng thư của tổ chức cung cấp dịch vụ chứng thực (CA), không thêm "
            "chứng thư của người ký.",
            code="TRUST_ANCHOR_NOT_CA", sha256=digest,
        )
    file = _safe_name(name, digest)
    if (directory / file).exists():
        file = f"{digest[:16]}.crt"
    anchor = describe(cert, file=file, source=source, note=note,
                      added_at=now.isoformat(timespec="seconds"), added_by=by)
    _atomic_write(directory / file, pem.armor("CERTIFICATE", cert.dump()))
    _write_manifest(directory, (*trust_list.anchors, anchor), trust_list.crls)
    return anchor


def remove(directory: Path, prefix: str) -> Anchor:
    """Remove the anchor whose fingerprint starts with ``prefix`` (at least 8 hex digits)."""
    trust_list = initialise(directory)
    anchor = _by_fingerprint(trust_list.anchors, prefix, "chứng thư", "TRUST_ANCHOR_NOT_FOUND")
    _write_manifest(directory, tuple(a for a in trust_list.anchors if a is not anchor), trust_list.crls)
    (directory / anchor.file).unlink()
    return anchor


def _by_fingerprint(entries: tuple[_Listed, ...], prefix: str, what: str, code: str) -> _Listed:
    """The one entry of ``entries`` whose SHA-256 fingerprint starts with ``prefix`` (at least
    8 hex digits, colons allowed); refused with ``code`` when none or several match."""
    wanted = prefix.lower().replace(":", "")
    hits = [e for e in entries if len(wanted) >= 8 and e.sha256.startswith(wanted)]
    if len(hits) != 1:
        raise KhoError(
            f"Không tìm thấy đúng một {what} có dấu vân tay này (cần ít nhất 8 chữ số hex).",
            code=code, fingerprint=prefix,
        )
    return hits[0]


def add_crl(directory: Path, data: bytes, *, source: str, note: str, by: str, now: datetime,
            name: str | None = None) -> RevocationList:
    """Add one CRL (PEM or DER) to the managed list, after checking that a certificate of the
    list (an anchor or an intermediate Kho knows) signed it: a CRL nobody Kho trusts signed,
    or one changed after signing, would make any certificate look revoked (or not). A CRL whose
    ``nextUpdate`` has passed is accepted (a revocation stays a revocation); the caller says it
    is stale (:meth:`RevocationList.stale`)."""
    source, note = _typed_provenance(source, note, "danh sách thu hồi")
    trust_list = initialise(directory)
    one = _one_crl(data)
    digest = fingerprint(one)
    if any(c.sha256 == digest for c in trust_list.crls):
        raise KhoError(
            "Danh sách thu hồi này đã có trong danh sách tin cậy.", code="TRUST_CRL_EXISTS", sha256=digest
        )
    issuer = check_crl_issuer(one, trust_list.certs or trust_list.store().anchors)
    check_crl_direct(one)
    stem = "".join(c for c in Path(name or "").stem if c.isascii() and (c.isalnum() or c in "-_."))
    file = f"{stem or digest[:16]}.crl"
    folder = directory / CRL_DIR
    if (folder / file).exists():
        file = f"{digest[:16]}.crl"
    entry = describe_crl(
        one, file=file, source=source, issuer_sha256=fingerprint(issuer), note=note,
        added_at=now.isoformat(timespec="seconds"), added_by=by,
    )
    folder.mkdir(exist_ok=True)
    _atomic_write(folder / file, pem.armor("X509 CRL", one.dump()))
    _write_manifest(directory, trust_list.anchors, (*trust_list.crls, entry))
    return entry


def remove_crl(directory: Path, prefix: str) -> RevocationList:
    """Remove the CRL whose fingerprint starts with ``prefix`` (at least 8 hex digits)."""
    trust_list = initialise(directory)
    entry = _by_fingerprint(trust_list.crls, prefix, "danh sách thu hồi", "TRUST_CRL_NOT_FOUND")
    _write_manifest(directory, trust_list.anchors, tuple(c for c in trust_list.crls if c is not entry))
    (directory / CRL_DIR / entry.file).unlink()
    return entry


def check_crl_issuer(one: crl.CertificateList, certs: tuple[x509.Certificate, ...]) -> x509.Certificate:
    """The certificate among ``certs`` whose key signed ``one``; refused with
    ``TRUST_CRL_ISSUER_UNKNOWN`` when none is named as its issuer, ``TRUST_CRL_SIGNATURE_INVALID``
    when those named did not sign it (a changed CRL, or one made to look issued by a known CA)."""
    named = [c for c in certs if c.subject == one.issuer]
    issuer_name = str(one.issuer.native.get("common_name") or one.issuer.human_friendly)
    if not named:
        raise KhoError(
            f"Danh sách thu hồi do \u201c{issuer_name}\u201d phát hành, nhưng tổ chức này không có "
            "trong danh sách tin cậy: thêm chứng thư của tổ chức đó (kho trust add) trước.",
            code="TRUST_CRL_ISSUER_UNKNOWN", issuer=one.issuer.human_friendly,
        )
    for cert in named:
        if crl_signed_by(one, cert):
            return cert
    raise KhoError(
        f"Chữ ký trên danh sách thu hồi không khớp khóa của \u201c{issuer_name}\u201d: tệp đã bị "
        "sửa sau khi ký, hoặc không do tổ chức này phát hành.",
        code="TRUST_CRL_SIGNATURE_INVALID", issuer=one.issuer.human_friendly,
    )


def check_crl_direct(one: crl.CertificateList) -> None:
    """Refuse an indirect CRL (``TRUST_CRL_INDIRECT``): one marked indirect, or with an entry
    naming another issuer (``certificateIssuer``). Its entries may be certificates of other CAs,
    which Kho, matching by the CRL issuer's name, would take for the issuer's own; the lookup
    ignores them as well (:func:`ingest.signatures.trust.indirect_crl`), this says so at once."""
    from cryptography import x509 as cx509

    fast = cx509.load_der_x509_crl(one.dump())
    if indirect_crl(fast) or any(indirect_crl(fast, entry) for entry in fast):
        raise KhoError(
            "Danh sách thu hồi gián tiếp (indirect CRL: có mục thu hồi chứng thư do tổ chức khác "
            "cấp) không được hỗ trợ: hãy nạp danh sách thu hồi do chính tổ chức cấp chứng thư "
            "phát hành.",
            code="TRUST_CRL_INDIRECT", issuer=one.issuer.human_friendly,
        )


def _one_crl(data: bytes) -> crl.CertificateList:
    try:
        lists = parse_crls(data)
        if len(lists) != 1:
            raise ValueError("expected one CRL")
        return lists[0]
    except (ValueError, TypeError) as exc:
        raise KhoError(
            "Tệp không phải một danh sách thu hồi chứng thư (CRL) X.509 duy nhất (PEM hoặc DER).",
            code="TRUST_CRL_INVALID",
        ) from exc


def _one_certificate(data: bytes) -> x509.Certificate:
    try:
        blobs = pem_blocks(data, "CERTIFICATE") if pem.detect(data) else [data]
        if len(blobs) != 1:
            raise ValueError("expected one certificate")
        cert = x509.Certificate.load(blobs[0])
        cert.native  # noqa: B018 - parse fully
        return cert
    except (ValueError, TypeError) as exc:
        raise KhoError(
            "Tệp không phải một chứng thư số X.509 (PEM hoặc DER) duy nhất.", code="TRUST_ANCHOR_INVALID"
        ) from exc


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = cert.basic_constraints_value
    return bool(constraints is not None and constraints["ca"].native)


def _safe_name(name: str | None, digest: str) -> str:
    stem = "".join(c for c in Path(name or "").stem if c.isascii() and (c.isalnum() or c in "-_."))
    return f"{stem or digest[:16]}.crt"


def _write_manifest(
    directory: Path, anchors: tuple[Anchor, ...], crls: tuple[RevocationList, ...] = ()
) -> None:
    body = {
        "format": FORMAT,
        "anchors": [asdict(a) for a in anchors],
        "crls": [asdict(c) for c in crls],
    }
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    _atomic_write(directory / MANIFEST_NAME, text.encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    import tempfile  # (with shutil and random: ~3 ms that reading a trust list never needs)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
