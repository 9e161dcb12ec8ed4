"""The trust list Kho ships: the Vietnamese anchors with fingerprints and provenance."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest
import yaml
from asn1crypto import pem, x509

from ingest.signatures import Indication, TrustStore, trustlist, verify_pdf
from kho.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_list_names_every_certificate_with_its_fingerprint_and_source() -> None:
    shipped = trustlist.shipped()
    subjects = {a.subject for a in shipped.anchors}
    assert any("RootCA chuyên dùng Chính phủ G2" in s for s in subjects)
    assert any("CA phục vụ các cơ quan Nhà nước G2" in s for s in subjects)
    assert any("Vietnam National Root CA" in s for s in subjects)
    store = shipped.store()
    assert len(store.anchors) == len(shipped.anchors) == 4
    assert {hashlib.sha256(c.dump()).hexdigest() for c in store.anchors} == {
        a.sha256 for a in shipped.anchors
    }
    assert all(a.source.startswith("https://") for a in shipped.anchors)


def test_the_shipped_list_holds_the_corpus_anchors(corpus_trust: TrustStore) -> None:
    assert trustlist.default_store().fingerprint == corpus_trust.fingerprint


def test_a_changed_or_unlisted_file_in_a_trust_list_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "trust"
    shutil.copytree(trustlist.BUNDLE_DIR, copy)
    assert trustlist.read(copy).store().fingerprint == trustlist.default_store().fingerprint
    shutil.copy(copy / "vnrca256.crt", copy / "cpcag2.crt")
    with pytest.raises(ConfigError) as swapped:
        trustlist.read(copy)
    assert swapped.value.code == "TRUST_LIST_MISMATCH"
    shutil.copytree(trustlist.BUNDLE_DIR, tmp_path / "extra")
    (tmp_path / "extra" / "stray.crt").write_bytes((copy / "vnrca256.crt").read_bytes())
    with pytest.raises(ConfigError) as extra:
        trustlist.read(tmp_path / "extra")
    assert extra.value.code == "TRUST_LIST_MISMATCH"


def test_the_shipped_list_gives_the_store_of_the_folder_and_refuses_a_broken_file(
    tmp_path: Path,
) -> None:
    """Reading a trust list gives the same store as reading its folder (fingerprint, DER,
    subjects), and refuses a broken file with ``TRUST_STORE_INVALID``."""
    shipped = trustlist.shipped()
    assert len(shipped.certs) == 4
    full = TrustStore.from_dir(trustlist.BUNDLE_DIR)  # every file parsed to the end
    assert shipped.store().fingerprint == full.fingerprint
    assert [c.dump() for c in shipped.store().anchors] == [c.dump() for c in full.anchors]
    assert {c.subject.human_friendly for c in shipped.certs} == {
        c.subject.human_friendly for c in full.anchors}
    copy = tmp_path / "trust"
    shutil.copytree(trustlist.BUNDLE_DIR, copy)
    (copy / "vnrca256.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError) as broken:
        trustlist.read(copy)
    assert broken.value.code == "TRUST_STORE_INVALID"


def test_without_configuration_the_shipped_list_is_used(tmp_path: Path) -> None:
    assert trustlist.resolve("", tmp_path).fingerprint == trustlist.default_store().fingerprint
    managed = trustlist.initialise(tmp_path / "trust")
    assert trustlist.resolve("", tmp_path).fingerprint == managed.store().fingerprint


def test_a_government_signed_pdf_passes_with_the_shipped_list(corpus_pdf_dir: Path) -> None:
    data = (corpus_pdf_dir / "vn-gov__190-ttg.signed.pdf").read_bytes()
    result = verify_pdf(data, trustlist.default_store())
    assert result.verdict.indication is Indication.TOTAL_PASSED


def test_docker_compose_mounts_only_folders_that_exist() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    mounts = []
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            # ${KHO_BACKUP_DIR:-./backup}:/backup mounts ./backup when the variable is unset.
            volume = re.sub(r"^\$\{\w+:-([^}]*)\}", r"\1", volume)
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                mounts.append(source)
    assert mounts, "expected bind mounts (tls, minio policies)"
    missing = [m for m in mounts if not (REPO / m).is_dir()]
    assert missing == []


def _damaged_inside(der: bytes) -> bytes:
    """``der`` with its notBefore month made 99: the certificate's outer structure, subject,
    key and extensions still read, only the full parse (its validity) fails."""
    cert = x509.Certificate.load(der)
    raw = cert["tbs_certificate"]["validity"]["not_before"].chosen.dump()
    at = der.index(raw) + 2 + 2  # tag, length, then "YYMM..."
    return der[:at] + b"99" + der[at + 2:]


def test_a_listed_anchor_that_does_not_parse_fully_is_refused(tmp_path: Path) -> None:
    """A manifest that names the fingerprint of a certificate damaged inside (a hand-edited
    manifest, a file changed and "re-listed") is refused when the list is read, with
    ``TRUST_STORE_INVALID``: a matching fingerprint says the file is the one listed, not that
    it parses. Branch p3 skipped the full parse for such files, and the damaged anchor was then
    trusted (a document signed under it verified TOTAL-PASSED)."""
    copy = tmp_path / "trust"
    shutil.copytree(trustlist.BUNDLE_DIR, copy)
    data = (copy / "cpcag2.crt").read_bytes()
    der = pem.unarmor(data)[2] if pem.detect(data) else data
    damaged = _damaged_inside(der)
    x509.Certificate.load(damaged).subject  # noqa: B018 - the outer parse still succeeds
    (copy / "cpcag2.crt").write_bytes(damaged)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["anchors"]:
        if entry["file"] == "cpcag2.crt":
            entry["sha256"] = hashlib.sha256(damaged).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConfigError) as broken:
        trustlist.read(copy)
    assert broken.value.code == "TRUST_STORE_INVALID"
    assert broken.value.details["path"] == str(copy / "cpcag2.crt")


def test_the_anchors_of_a_trust_list_can_be_shared_by_threads() -> None:
    """The certificates a trust list read gives are read by several threads at once without
    error and with the same values (a web server's threads share one store). asn1crypto
    parses lazily and not thread-safely (a child list filled while another thread reads it:
    ``KeyError: No field numbered 5 ...`` or wrong values), so they must be parsed when read.
    A tiny switch interval makes the interleaving that hits it likely."""
    reference = {
        c.dump(): (c.subject.native, c.public_key.native, c.not_valid_after, c.key_identifier)
        for c in TrustStore.from_dir(trustlist.BUNDLE_DIR).anchors
    }
    problems: list[str] = []

    def read_all(certs: tuple[x509.Certificate, ...], wanted: list[tuple[object, ...]],
                 start: threading.Barrier) -> None:
        start.wait()
        for cert, want in zip(certs, wanted, strict=True):
            try:
                got = (cert.subject.native, cert.public_key.native, cert.not_valid_after,
                       cert.key_identifier)
            except Exception as exc:  # every failure is the finding
                problems.append(f"{type(exc).__name__}: {exc}")
                continue
            if got != want:
                problems.append(f"wrong values for {want[0]}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            certs = trustlist.shipped().certs
            wanted = [reference[c.dump()] for c in certs]
            start = threading.Barrier(6)
            threads = [threading.Thread(target=read_all, args=(certs, wanted, start))
                       for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert problems == [], problems[:5]
