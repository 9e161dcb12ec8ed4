"""Fixtures of the pipeline tests: a fresh embedded Kho per test, a trust store holding the
corpus anchors and the test PKI's root, signed documents made by the test PKI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest.pipeline import Pipeline, RetryPolicy
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))
CORPUS_PDF = SHARED / "corpora" / "pdf"


@pytest.fixture(scope="session")
def trust_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS_PDF.is_dir():
        pytest.fail(f"corpus not found at {CORPUS_PDF} (set KHO_SHARED_DIR)")
    out = tmp_path_factory.mktemp("trust")
    for cert in (CORPUS_PDF / "trust").iterdir():
        shutil.copy(cert, out / cert.name)
    pki_dir = tmp_path_factory.mktemp("pki-trust")
    TestPKI.build().write_trust_dir(pki_dir)
    for cert in pki_dir.iterdir():
        shutil.copy(cert, out / f"testpki-{cert.name}")
    return out


@pytest.fixture(scope="session")
def signed() -> dict[str, bytes]:
    """Born-digital signed Quyết định (3 pages, personal + agency signature) and variants."""
    pki = TestPKI.build()
    return {
        "valid-1": make_variant(Variant.VALID, pki=pki, seed=1, pages=3),
        "valid-2": make_variant(Variant.VALID, pki=pki, seed=2, pages=1),
        "tampered": make_variant(Variant.TAMPERED, pki=pki, seed=3, pages=1),
    }


@pytest.fixture(scope="session")
def signed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve distinct signed documents (for bulk, resume and Celery tests)."""
    pki = TestPKI.build()
    out = tmp_path_factory.mktemp("signed")
    for seed in range(10, 22):
        (out / f"qd-{seed}.pdf").write_bytes(make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=seed))
    return out


def _kho_env(data_dir: Path, trust_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        "KHO_DATA_DIR": str(data_dir),
        "KHO_TRUST_DIR": str(trust_dir),
        "KHO_FSYNC": "false",
        "KHO_BROKER_URL": "",
        "KHO_TIKA_URL": "",
        "KHO_INGEST_RETRIES": "2",
        "KHO_INGEST_RETRY_DELAY": "0.05",
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_PASSWORD_MEMORY_KB": "1024",
        "KHO_PASSWORD_TIME_COST": "1",
    }
    env.update(extra)
    return env


@pytest.fixture()
def make_env(trust_dir: Path) -> Callable[..., dict[str, str]]:
    """Environment of a Kho in ``data_dir`` (for subprocesses: CLI runs, Celery workers)."""

    def make(data_dir: Path, **extra: str) -> dict[str, str]:
        return {**os.environ, **_kho_env(data_dir, trust_dir, **extra)}

    return make


@pytest.fixture()
def env(tmp_path: Path, trust_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = _kho_env(tmp_path / "kho", trust_dir)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture()
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env()


@pytest.fixture()
def pipeline(settings: Settings) -> Iterator[Pipeline]:
    p = Pipeline.from_settings(settings, retry=RetryPolicy(max_retries=2, base_delay=0.05))
    yield p
    p.close()
