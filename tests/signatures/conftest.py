"""Fixtures for the signature verification tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.signatures import TrustStore


@pytest.fixture(scope="session")
def corpus_trust(corpus_pdf_dir: Path) -> TrustStore:
    return TrustStore.from_dir(corpus_pdf_dir / "trust")
