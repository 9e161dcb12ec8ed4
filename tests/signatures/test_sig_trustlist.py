"""The trust list Kho ships: the Vietnamese anchors with fingerprints and provenance."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml

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


def test_listed_anchors_are_not_parsed_again_and_damaged_ones_are_still_refused(
    tmp_path: Path,
) -> None:
    """Reading a trust list parses to the end no certificate whose bytes are the ones its
    manifest's fingerprint names (they were parsed when listed; ~6 ms of ``kho verify``'s
    start-up), gives the same store as a full parse, and refuses a damaged file as before."""
    shipped = trustlist.shipped()
    assert len(shipped.certs) == 4
    assert all(cert._native is None for cert in shipped.certs)  # asn1crypto's full-parse cache
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
