"""Fixtures for the signature verification tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.signatures import TrustStore
from ingest.testpki import TestPKI


@pytest.fixture(scope="session")
def corpus_trust(corpus_pdf_dir: Path) -> TrustStore:
    return TrustStore.from_dir(corpus_pdf_dir / "trust")


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI.build()


@pytest.fixture(scope="session")
def pki_trust(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> TrustStore:
    return TrustStore.from_dir(pki.write_trust_dir(Path(tmp_path_factory.mktemp("trust"))))
