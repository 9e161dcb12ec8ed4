"""One trust store read by many threads at once (bench/NOTES-m48.md): a web server's threads
and the verification code look revocations up in the same :class:`TrustStore`, whose CRLs and
anchors are asn1crypto objects parsed lazily (a field's children on first access, which is
not thread-safe) and whose serial index is built after ``_INDEX_AFTER`` lookups.

Real CRLs built and signed here with the test PKI's keys (``kho_crls``), a fresh store per
round made the way a verification worker makes it (:meth:`TrustStore.from_der`: nothing parsed
ahead), 16 threads released together by a barrier, each answer compared with the answer of
one thread alone. The interpreter's switch interval is made tiny for the test so that threads
change in the middle of a lazy parse (the default 5 ms lets one thread finish most of them);
no assertion depends on how fast anything runs.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from kho_crls import THIS_UPDATE, make_crl, serial

from ingest.signatures import TrustStore
from ingest.signatures.trust import _INDEX_AFTER
from ingest.testpki import REVOCATION_TIME, TestPKI

THREADS = 16
ROUNDS = 12
LOOKUPS = _INDEX_AFTER  # per thread: the store's lookup count passes _INDEX_AFTER mid-round

Answer = tuple[object, ...]


@pytest.fixture
def fine_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _crls(pki: TestPKI) -> tuple[bytes, ...]:
    """The CA's CRL revoking ``revoked_personal`` (keyCompromise, 200 other serials beside
    it), a later one putting ``personal`` on hold, and a later one still that no longer lists
    it (the hold lifted: :meth:`TrustStore._hold_lifted` reads every CRL's issuer and date)."""
    others = {10_000 + n: REVOCATION_TIME for n in range(200)}
    return (
        make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME, **others}),
        make_crl(
            pki, {serial(pki.personal.cert_der): REVOCATION_TIME}, number=43,
            this_update=THIS_UPDATE + timedelta(days=1), reason=cx509.ReasonFlags.certificate_hold,
        ),
        make_crl(pki, {}, number=44, this_update=THIS_UPDATE + timedelta(days=2)),
    )


def _fresh(pki: TestPKI, crls: tuple[bytes, ...]) -> TrustStore:
    return TrustStore.from_der((pki.root.cert_der, pki.ca.cert_der), source="m48", crls=crls)


def _answers(store: TrustStore, pki: TestPKI) -> list[Answer]:
    """Each lookup's answer, or the exception it raised; the path's CA is the store's own
    anchor object (shared, as pyHanko's validated path gives it), its leaf this thread's."""
    ca = store.anchors[1]
    leaves = [asn1_x509.Certificate.load(d) for d in (pki.revoked_personal.cert_der, pki.personal.cert_der)]
    answers: list[Answer] = []
    for n in range(LOOKUPS):
        leaf = leaves[n % 2]
        try:
            found = store.revocation([ca, leaf])
        except Exception as exc:  # a race's exception is an answer to compare
            answers.append(("raised", type(exc).__name__, str(exc)))
            continue
        answers.append(
            None if found is None else (found.date, found.reason, found.ca, found.issuer)
        )
    return answers


def _disagreeing(
    fresh: Callable[[], TrustStore], answers: Callable[[TrustStore], list[Any]], alone: list[Any]
) -> list[tuple[int, int, list[Any]]]:
    """(round, thread, answers) of every thread whose ``answers`` on a store made by ``fresh``
    differ from ``alone``: :data:`ROUNDS` rounds of :data:`THREADS` threads on one fresh store
    each, released together by a barrier."""
    wrong: list[tuple[int, int, list[Any]]] = []
    for round_ in range(ROUNDS):
        store = fresh()
        barrier = threading.Barrier(THREADS, timeout=600)
        results: dict[int, list[Any]] = {}

        def run(
            index: int, store: TrustStore = store, barrier: threading.Barrier = barrier,
            results: dict[int, list[Any]] = results,
        ) -> None:
            barrier.wait()
            results[index] = answers(store)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert len(results) == THREADS
        wrong += [(round_, i, got) for i, got in results.items() if got != alone]
    return wrong


def test_sixteen_threads_on_one_fresh_store_get_the_single_threaded_answers(
    pki: TestPKI, fine_switching: None
) -> None:
    crls = _crls(pki)
    alone = _answers(_fresh(pki, crls), pki)
    assert alone[0] is not None and alone[0][1] == "key_compromise" and alone[1] is None
    assert "Kho Test" in str(alone[0][3]) and not str(alone[0][3]).startswith("Common Name")
    wrong = _disagreeing(lambda: _fresh(pki, crls), lambda store: _answers(store, pki), alone)
    assert not wrong, f"{len(wrong)} of {ROUNDS * THREADS} threads got another answer: {wrong[:2]}"


def _look_alike(pki: TestPKI) -> bytes:
    """A certificate that names the test CA as its issuer but is signed by another key (what
    :meth:`TrustStore.impersonated` names the CA for)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca = cx509.load_der_x509_certificate(pki.ca.cert_der)
    key = ec.generate_private_key(ec.SECP256R1())
    made = (
        cx509.CertificateBuilder()
        .subject_name(cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "Giả mạo")]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(4242)
        .not_valid_before(REVOCATION_TIME).not_valid_after(REVOCATION_TIME + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return made.public_bytes(serialization.Encoding.DER)


def test_sixteen_threads_naming_an_impersonated_anchor_of_one_fresh_store_agree(
    pki: TestPKI, fine_switching: None
) -> None:
    fake = _look_alike(pki)

    def named(store: TrustStore) -> list[object]:
        answers: list[object] = []
        for _ in range(8):
            try:
                answers.append(store.impersonated([asn1_x509.Certificate.load(fake)]))
            except Exception as exc:  # a race's exception is an answer to compare
                answers.append(("raised", type(exc).__name__, str(exc)))
        return answers

    alone = named(_fresh(pki, ()))
    assert alone == ["Kho Test CA phục vụ các cơ quan Nhà nước"] * 8
    wrong = _disagreeing(lambda: _fresh(pki, ()), named, alone)
    assert not wrong, f"{len(wrong)} of {ROUNDS * THREADS} threads got another answer: {wrong[:2]}"
