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
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import pem, x509

from ingest.signatures.trust import MANIFEST_NAME, TrustStore, load_certs
from kho.errors import ConfigError, KhoError

BUNDLE_DIR = Path(__file__).with_name("anchors")


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
class TrustList:
    """A trust list: its folder and the anchors its manifest names."""

    directory: Path
    anchors: tuple[Anchor, ...]
    certs: tuple[x509.Certificate, ...] = field(default=(), repr=False, compare=False)
    """The certificates :func:`read` checked against the manifest, one per anchor (empty when
    the list was made otherwise)."""

    def store(self) -> TrustStore:
        """The store of these anchors: the certificates already read and checked when there
        are (what was checked is what is used, and it is not parsed twice: ``kho verify``'s
        start-up), else the folder read again; the same store either way."""
        if len(self.certs) != len(self.anchors) or not self.certs:
            return TrustStore.from_dir(self.directory)
        pairs = zip((a.file for a in self.anchors), self.certs, strict=True)
        by_file = sorted(pairs, key=lambda pair: pair[0])  # the folder's order, as from_dir reads it
        return TrustStore.from_certs((cert for _, cert in by_file), source=str(self.directory))


def fingerprint(cert: x509.Certificate) -> str:
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


def read(directory: Path) -> TrustList:
    """The trust list in ``directory``, each file checked against its manifest entry."""
    manifest = directory / MANIFEST_NAME
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
        anchors = tuple(Anchor(**entry) for entry in raw["anchors"])
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
    return TrustList(directory, anchors, tuple(checked))


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


def add(directory: Path, data: bytes, *, source: str, note: str, by: str, now: datetime,
        name: str | None = None) -> Anchor:
    """Add one CA certificate (PEM or DER) to the managed list. ``source`` and ``note`` are
    what a quản trị typed (a terminal may hand them over in NFD): stored NFC, refused with a
    hidden character, as every typed text (:func:`~repository.vocabulary.typed_text`, imported
    here: a cold ``kho verify`` reads the trust list but must not load the vocabulary)."""
    from repository.vocabulary import TextKind, typed_text

    source = typed_text(source, "source", "Nguồn gốc của chứng thư", line_breaks=False)
    # A note on one line (the manifest's), but a Ghi chú all the same: NOTE, not LINE (r34).
    note = typed_text(note, "note", "Ghi chú về chứng thư", line_breaks=False, kind=TextKind.NOTE)
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
    _write_manifest(directory, (*trust_list.anchors, anchor))
    return anchor


def remove(directory: Path, prefix: str) -> Anchor:
    """Remove the anchor whose fingerprint starts with ``prefix`` (at least 8 hex digits)."""
    trust_list = initialise(directory)
    wanted = prefix.lower().replace(":", "")
    hits = [a for a in trust_list.anchors if len(wanted) >= 8 and a.sha256.startswith(wanted)]
    if len(hits) != 1:
        raise KhoError(
            "Không tìm thấy đúng một chứng thư có dấu vân tay này (cần ít nhất 8 chữ số hex).",
            code="TRUST_ANCHOR_NOT_FOUND", fingerprint=prefix,
        )
    anchor = hits[0]
    _write_manifest(directory, tuple(a for a in trust_list.anchors if a is not anchor))
    (directory / anchor.file).unlink()
    return anchor


def _one_certificate(data: bytes) -> x509.Certificate:
    try:
        blobs = (
            [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
            if pem.detect(data) else [data]
        )
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


def _write_manifest(directory: Path, anchors: tuple[Anchor, ...]) -> None:
    body = {
        "format": "kho-trust-list/1",
        "anchors": [asdict(a) for a in anchors],
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
