"""Fixtures for the signing tests: the test PKI and the signed variants (built once)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.testpki import TestPKI, Variant, make_variant


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI.build()


@pytest.fixture(scope="session")
def variant_pdf(pki: TestPKI) -> Callable[[Variant], bytes]:
    cache: dict[Variant, bytes] = {}

    def get(variant: Variant) -> bytes:
        if variant not in cache:
            cache[variant] = make_variant(variant, pki=pki)
        return cache[variant]

    return get
