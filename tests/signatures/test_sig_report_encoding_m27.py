"""A verification's stored form (``signatures.json``, the verification worker's reply) is made
without deep-copying every string of it, and is the same as before, value for value and byte
for byte (issue #14: the copies were done twice per ingested document, in the verification
worker and in the bulk worker)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import pytest

from ingest.signatures import PdfVerification, TrustStore, verify_pdf
from ingest.testpki import TestPKI, Variant, make_variant
from repository.formats import dump_derived


@pytest.fixture(scope="module")
def verified(pki: TestPKI, pki_trust: TrustStore) -> Callable[[Variant], PdfVerification]:
    cache: dict[Variant, PdfVerification] = {}

    def get(variant: Variant) -> PdfVerification:
        if variant not in cache:
            cache[variant] = verify_pdf(make_variant(variant, pki=pki), pki_trust)
        return cache[variant]

    return get


def _former_encoding(verification: PdfVerification) -> dict[str, Any]:
    """The encoding as ``to_dict`` made it before (``dataclasses.asdict``), verbatim."""

    def report(s: Any) -> dict[str, Any]:
        data = asdict(s)
        data["type"] = s.type.value
        data["signer_kind"] = s.signer_kind.value
        data["verdict"] = s.verdict.to_dict()
        data["findings"] = list(s.findings)
        data["chain"] = list(s.chain)
        return data

    v = verification
    return {
        "schema_version": v.schema_version,
        "verdict": v.verdict.to_dict(),
        "signatures": [report(s) for s in v.signatures],
        "nd30": asdict(v.nd30),
        "summary": v.summary,
        "return_reason": v.return_reason,
        "sha256": v.sha256,
        "validated_at": v.validated_at,
        "trust_store": v.trust_store,
        "offline": v.offline,
        "document_findings": list(v.document_findings),
        "appended_bytes": v.appended_bytes,
    }


@pytest.fixture
def string_copies(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every plain string handed to ``copy.deepcopy`` while the test runs (``dataclasses.asdict``
    and ``repository.formats.as_dict`` both call it through the module)."""
    seen: list[str] = []
    real = copy.deepcopy

    def counting(value: Any, *args: Any, **kwargs: Any) -> Any:
        if type(value) is str:  # an enum member (a str too) is copied as itself: not counted
            seen.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(copy, "deepcopy", counting)
    yield seen


@pytest.mark.parametrize("variant", [Variant.VALID, Variant.TAMPERED, Variant.UNTRUSTED])
def test_encoding_a_verification_deep_copies_no_string(
    verified: Callable[[Variant], PdfVerification], string_copies: list[str], variant: Variant
) -> None:
    verification = verified(variant)
    assert len(verification.signatures) >= 1
    string_copies.clear()
    verification.to_dict()
    assert string_copies == []


@pytest.mark.parametrize("variant", list(Variant))
def test_the_stored_verification_is_the_same_as_before_value_and_byte(
    verified: Callable[[Variant], PdfVerification], variant: Variant
) -> None:
    verification = verified(variant)
    now = verification.to_dict()
    before = _former_encoding(verification)
    assert now == before
    assert [type(v) for v in now.values()] == [type(v) for v in before.values()]
    for mine, theirs in zip(now["signatures"], before["signatures"], strict=True):
        assert list(mine) == list(theirs)  # the same keys in the same order
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in theirs.items()}
    assert dump_derived(now, "signatures.json") == dump_derived(before, "signatures.json")
    assert PdfVerification.from_dict(now) == verification
