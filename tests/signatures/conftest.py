"""Fixtures for the signature verification tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from signature_corpus import CorpusVerdicts

from ingest.signatures import TrustStore
from ingest.testpki import TestPKI


@pytest.fixture(scope="session")
def corpus_trust(corpus_pdf_dir: Path) -> TrustStore:
    return TrustStore.from_dir(corpus_pdf_dir / "trust")


@pytest.fixture(scope="session")
def corpus_verdicts(corpus_pdf_dir: Path, corpus_trust: TrustStore) -> CorpusVerdicts:
    return CorpusVerdicts(corpus_pdf_dir, corpus_trust)


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI.build()


@pytest.fixture(scope="session")
def pki_trust(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> TrustStore:
    return TrustStore.from_dir(pki.write_trust_dir(Path(tmp_path_factory.mktemp("trust"))))


@pytest.fixture
def quiet_logging() -> Iterator[None]:
    """No log output while hostile and generated documents are read (pyHanko logs every
    recovery it makes); the modules that read thousands of them use it."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)
