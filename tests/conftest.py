"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared material not found at {SHARED} (set KHO_SHARED_DIR)")
    return SHARED


@pytest.fixture(scope="session")
def corpus_pdf_dir(shared_dir: Path) -> Path:
    return shared_dir / "corpora" / "pdf"
