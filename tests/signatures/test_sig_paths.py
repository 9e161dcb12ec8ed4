"""Validated certificate paths remembered in a worker (:mod:`ingest.signatures._paths`) answer
only a validation whose every input is the same.

Real pyHanko signing with the test PKI, verified in this process with the fast path's
``certs`` part on (as in a verification worker). Each test first verifies a document whose
path validation succeeds and is remembered (``kept() > 0``: a candidate answer exists), then
one whose validation differs in a single input of the key: the other trust list, a moment past
the signer certificate's expiry, the CA's CRL revoking the signer. Each must get the verdict a
fresh validation gives. A key without that input turns the second verdict into the first one's
(checked by narrowing the key: bench/NOTES-m38.md §4).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ingest.signatures import Indication, TrustStore, _certs, _fastpath, _paths
from ingest.signatures._reader import CachingPdfReader
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import LEAF_VALIDITY, REVOCATION_TIME, TestPKI, document_for, sign_as

INSIDE = datetime(2026, 6, 1, tzinfo=UTC)
AFTER_EXPIRY = LEAF_VALIDITY[1] + timedelta(days=30)  # the leaf's end; CA and root still valid
SIGNED_AT = REVOCATION_TIME + timedelta(days=90)


@pytest.fixture
def worker_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a verification worker for the certificate part, nothing remembered."""
    _certs.install()
    _paths.install()
    monkeypatch.setattr(_fastpath, "_parts", frozenset({"reader", "certs"}))
    _paths.clear()
    yield
    _paths.clear()


def _verdict(data: bytes, trust: TrustStore, moment: datetime) -> tuple[Indication, str | None]:
    result = _verify_pdf(data, trust, False, moment, CachingPdfReader)
    return result.verdict.indication, result.verdict.sub_indication


def _fresh(data: bytes, trust: TrustStore, moment: datetime) -> tuple[Indication, str | None]:
    """The verdict with nothing remembered."""
    _paths.clear()
    return _verdict(data, trust, moment)


@pytest.mark.usefixtures("worker_paths")
def test_a_validated_path_is_remembered_and_answers_the_same_validation(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=SIGNED_AT, timestamp=False)
    first = _verdict(signed, pki_trust, INSIDE)
    assert _paths.kept() == 1
    again = _verdict(signed, pki_trust, INSIDE + timedelta(hours=5))  # another moment, same window
    assert first == again == (Indication.TOTAL_PASSED, None)
    assert _paths.kept() == 1


@pytest.mark.usefixtures("worker_paths")
def test_another_trust_list_is_not_answered_from_the_first(
    pki: TestPKI, pki_trust: TrustStore, corpus_trust: TrustStore
) -> None:
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=SIGNED_AT, timestamp=False)
    assert _verdict(signed, pki_trust, INSIDE)[0] is Indication.TOTAL_PASSED
    assert _paths.kept() == 1

    other = _verdict(signed, corpus_trust, INSIDE)

    assert other == _fresh(signed, corpus_trust, INSIDE)
    assert other[0] is not Indication.TOTAL_PASSED


@pytest.mark.usefixtures("worker_paths")
def test_a_moment_past_the_signer_s_expiry_is_not_answered_from_one_inside(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    # no time-stamp: nothing proves the signature existed while the certificate was valid
    signed = sign_as(document_for(pki.personal).data, pki, pki.personal, at=SIGNED_AT, timestamp=False)
    assert _verdict(signed, pki_trust, INSIDE)[0] is Indication.TOTAL_PASSED
    assert _paths.kept() == 1

    later = _verdict(signed, pki_trust, AFTER_EXPIRY)

    assert later == _fresh(signed, pki_trust, AFTER_EXPIRY)
    assert later[0] is not Indication.TOTAL_PASSED


@pytest.mark.usefixtures("worker_paths")
def test_a_crl_revoking_the_signer_is_not_answered_from_a_validation_without_it(
    pki: TestPKI, pki_trust: TrustStore
) -> None:
    page = document_for(pki.revoked_personal).data
    bare = sign_as(page, pki, pki.revoked_personal, at=SIGNED_AT)  # no revocation data
    assert _verdict(bare, pki_trust, INSIDE)[0] is Indication.TOTAL_PASSED  # soft-fail, offline
    assert _paths.kept() > 0
    with_crl = sign_as(page, pki, pki.revoked_personal, at=SIGNED_AT, embed_revocation=True)

    found = _verdict(with_crl, pki_trust, INSIDE)

    assert found == _fresh(with_crl, pki_trust, INSIDE) == (Indication.TOTAL_FAILED, "REVOKED")
