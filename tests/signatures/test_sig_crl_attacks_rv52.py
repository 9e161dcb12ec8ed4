"""Attacks on the trust list's CRLs (u28) and on the future time-stamp rule (rv49), rv52.

Real pyHanko signatures of the test PKI, real CRLs signed with the test CA's (or root's) key
(``tests/support/kho_crls.py``), a real managed trust list folder, verification in this process
and in a real verification worker of the pool.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kho_crls import THIS_UPDATE, make_crl, serial
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import Indication, PdfVerification, TrustStore, rules, trustlist, verify_pdf
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import REVOCATION_TIME, TestPKI, document_for, sign_as
from kho.errors import KhoError

INSIDE = datetime(2026, 6, 1, tzinfo=UTC)  # the validation time
PLUS7 = timezone(timedelta(hours=7))
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
OTHER_CA = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "CA khác cùng số hiệu")])


@pytest.fixture
def listed(pki: TestPKI, tmp_path: Path) -> Path:
    directory = tmp_path / "trust"
    for name, der in (("kho-test-root", pki.root.cert_der), ("kho-test-ca", pki.ca.cert_der)):
        trustlist.add(directory, der, source="ingest/testpki.py", note="", by="qt", now=NOW, name=name)
    return directory


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> dict[str, bytes]:
    page = document_for(pki.revoked_personal).data
    after = REVOCATION_TIME + timedelta(days=90)
    return {
        "after": sign_as(page, pki, pki.revoked_personal, at=after),
        "after_claimed": sign_as(page, pki, pki.revoked_personal, at=after, timestamp=False),
    }


def store_with(listed: Path, *crls: bytes) -> TrustStore:
    for data in crls:
        trustlist.add_crl(listed, data, source="https://ca.kho.test/ca.crl", note="", by="qt", now=NOW)
    return trustlist.read(listed).store()


def found(result: PdfVerification) -> tuple[Indication, str | None]:
    return result.verdict.indication, result.verdict.sub_indication


def verdict(data: bytes, trust: TrustStore) -> PdfVerification:
    return _verify_pdf(data, trust, False, INSIDE, PdfFileReader)


def test_an_indirect_crl_is_refused_and_never_revokes_the_issuers_own_certificate(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    """The test CA's indirect CRL lists, for another CA, the serial number the signer's own
    certificate has: Kho matched by the CRL issuer's name, so it revoked the wrong certificate.
    ``add-crl`` refuses such a CRL; one in a store by other means (a folder read without its
    manifest, a worker's request) is ignored."""
    number = serial(pki.revoked_personal.cert_der)
    before = (listed / "manifest.json").read_bytes()
    for indirect in (
        make_crl(pki, {number: REVOCATION_TIME}, indirect=True),
        make_crl(pki, {number: REVOCATION_TIME}, certificate_issuer=OTHER_CA),
    ):
        with pytest.raises(KhoError) as refused:
            store_with(listed, indirect)
        assert refused.value.code == "TRUST_CRL_INDIRECT"
        message = refused.value.message
        assert unicodedata.is_normalized("NFC", message) and "gián tiếp" in message
        assert (listed / "manifest.json").read_bytes() == before
        store = TrustStore.from_der((pki.root.cert_der, pki.ca.cert_der), "rv52", (indirect,))
        for result in (verdict(signed["after"], store), verify_pdf(signed["after"], store, now=INSIDE)):
            assert found(result) == (Indication.TOTAL_PASSED, None)


def test_a_hold_lifted_by_a_newer_crl_no_longer_revokes_but_a_revocation_stays(
    pki: TestPKI, listed: Path, tmp_path: Path, signed: dict[str, bytes]
) -> None:
    number = serial(pki.revoked_personal.cert_der)
    held = make_crl(pki, {number: REVOCATION_TIME}, reason=cx509.ReasonFlags.certificate_hold)
    newer = make_crl(pki, {}, this_update=THIS_UPDATE + timedelta(days=4), number=43)
    assert found(verdict(signed["after"], store_with(listed, held))) == (Indication.TOTAL_FAILED, "REVOKED")
    assert found(verdict(signed["after"], store_with(listed, newer))) == (Indication.TOTAL_PASSED, None)
    # the newer CRL first in the folder, the older hold after it: the order of loading is no matter
    again = tmp_path / "again"
    trustlist.add(again, pki.ca.cert_der, source="ingest/testpki.py", note="", by="qt", now=NOW, name="ca")
    assert found(verdict(signed["after"], store_with(again, newer, held))) == (Indication.TOTAL_PASSED, None)
    # a delta CRL lifting the hold (removeFromCRL) lifts it; one that does not list it does not
    delta = tmp_path / "delta"
    trustlist.add(delta, pki.ca.cert_der, source="ingest/testpki.py", note="", by="qt", now=NOW, name="ca")
    silent = make_crl(pki, {}, this_update=THIS_UPDATE + timedelta(days=2), number=44, delta_of=42)
    still = verdict(signed["after"], store_with(delta, held, silent))
    assert found(still) == (Indication.TOTAL_FAILED, "REVOKED")
    lifting = make_crl(
        pki, {number: REVOCATION_TIME}, reason=cx509.ReasonFlags.remove_from_crl,
        this_update=THIS_UPDATE + timedelta(days=3), number=45, delta_of=42,
    )
    assert found(verdict(signed["after"], store_with(delta, lifting))) == (Indication.TOTAL_PASSED, None)


def test_a_permanent_revocation_stays_when_a_newer_crl_omits_it(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    number = serial(pki.revoked_personal.cert_der)
    old = make_crl(pki, {number: REVOCATION_TIME})
    newer = make_crl(pki, {}, this_update=THIS_UPDATE + timedelta(days=4), number=43)
    result = verdict(signed["after"], store_with(listed, old, newer))
    assert found(result) == (Indication.TOTAL_FAILED, "REVOKED")


def test_a_crl_of_another_ca_does_not_revoke_and_a_revoked_ca_certificate_does(
    pki: TestPKI, listed: Path, tmp_path: Path, signed: dict[str, bytes]
) -> None:
    """The root's CRL listing the signer's serial (issued by the test CA, not the root) must
    not revoke it; the root's CRL listing the test CA's own certificate revokes the path."""
    root_key = serialization.load_der_private_key(pki.root.key_der, password=None)
    root_name = cx509.load_der_x509_certificate(pki.root.cert_der).subject
    by_root = make_crl(
        pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}, key=root_key, issuer=root_name  # type: ignore[arg-type]
    )
    assert found(verdict(signed["after"], store_with(listed, by_root))) == (Indication.TOTAL_PASSED, None)
    other = tmp_path / "other"
    for name, der in (("root", pki.root.cert_der), ("ca", pki.ca.cert_der)):
        trustlist.add(other, der, source="ingest/testpki.py", note="", by="qt", now=NOW, name=name)
    ca_revoked = make_crl(pki, {serial(pki.ca.cert_der): REVOCATION_TIME}, key=root_key, issuer=root_name)  # type: ignore[arg-type]
    result = verdict(signed["after"], store_with(other, ca_revoked))
    assert found(result) == (Indication.TOTAL_FAILED, "REVOKED")
    assert "tổ chức cấp chứng thư" in result.signatures[0].verdict.explanation


def test_a_revocation_dated_after_the_validation_time_changes_nothing_yet(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    """Without a time-stamp the signature is proven to exist at the validation time; a
    revocation the CA dated after it was INDETERMINATE/REVOKED_NO_POE."""
    later = INSIDE + timedelta(days=200)
    store = store_with(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): later}))
    claimed = signed["after_claimed"]
    for result in (verdict(claimed, store), verify_pdf(claimed, store, now=INSIDE)):
        assert found(result) == (Indication.TOTAL_PASSED, None)
        assert any("sau thời điểm kiểm tra" in note for note in result.signatures[0].findings)
    # at a validation time after that date the same revocation counts
    late = _verify_pdf(claimed, store, False, later + timedelta(days=1), PdfFileReader)
    assert found(late)[1] in ("REVOKED_NO_POE", "REVOKED")


@pytest.mark.parametrize(
    ("stamped", "problem"),
    [
        (INSIDE + timedelta(days=1), None),  # exactly the slack: still proof
        (INSIDE + timedelta(days=1, microseconds=1), "TIMESTAMP_ORDER_FAILURE"),  # fractional seconds
        # the same instants written at UTC+7
        ((INSIDE + timedelta(days=1)).astimezone(PLUS7), None),
        ((INSIDE + timedelta(days=1, seconds=1)).astimezone(PLUS7), "TIMESTAMP_ORDER_FAILURE"),
        # a time written without a zone is read as UTC
        ((INSIDE + timedelta(days=1, seconds=1)).replace(tzinfo=None), "TIMESTAMP_ORDER_FAILURE"),
    ],
)
def test_the_future_time_stamp_bound_is_exact_in_any_zone(stamped: datetime, problem: str | None) -> None:
    assert rules.timestamp_problem(None, None, stamped, INSIDE) == problem
    local = INSIDE.astimezone(PLUS7)  # the validation time at UTC+7
    assert rules.timestamp_problem(None, None, stamped, local) == problem


def test_a_forged_crl_dropped_into_the_folder_by_hand_revokes_nothing(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    """Not through ``kho trust add-crl``: the managed read refuses the unlisted file, and a
    store read from the folder without its manifest still checks the CRL's signature."""
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}, key=stranger)
    (listed / "crls").mkdir(exist_ok=True)
    (listed / "crls" / "by-hand.crl").write_bytes(forged)
    with pytest.raises(KhoError) as refused:
        trustlist.read(listed)
    assert refused.value.code == "TRUST_LIST_MISMATCH"
    store = TrustStore.from_dir(listed)
    assert len(store.crls) == 1
    assert found(verdict(signed["after"], store)) == (Indication.TOTAL_PASSED, None)


def _root_crl(pki: TestPKI, revoked: dict[int, datetime], reason: cx509.ReasonFlags) -> bytes:
    root_key = serialization.load_der_private_key(pki.root.key_der, password=None)
    root_name = cx509.load_der_x509_certificate(pki.root.cert_der).subject
    return make_crl(pki, revoked, key=root_key, issuer=root_name, reason=reason)  # type: ignore[arg-type]


def test_a_time_stamp_of_a_revoked_tsa_proves_nothing(pki: TestPKI, tmp_path: Path) -> None:
    """An expired signer certificate, time-stamped inside its validity by the test TSA: AdES-T
    passes. Once the root's CRL revokes the TSA's certificate for key compromise, a token of
    that key may be back-dated by whoever holds it; it was still taken as proof (u28 looked up
    the signer's path only)."""
    stamped_at = datetime(2023, 6, 1, tzinfo=UTC)
    signed = sign_as(document_for(pki.expired_personal).data, pki, pki.expired_personal, at=stamped_at)
    tsa = serial(pki.tsa.cert_der)

    def listed_with(name: str, *crls: bytes) -> TrustStore:
        directory = tmp_path / name
        for anchor, der in (("root", pki.root.cert_der), ("ca", pki.ca.cert_der)):
            trustlist.add(directory, der, source="ingest/testpki.py", note="", by="qt", now=NOW, name=anchor)
        return store_with(directory, *crls)

    assert found(verdict(signed, listed_with("none"))) == (Indication.TOTAL_PASSED, None)
    lost = _root_crl(pki, {tsa: REVOCATION_TIME}, cx509.ReasonFlags.key_compromise)
    compromised = listed_with("compromised", lost)
    for result in (verdict(signed, compromised), verify_pdf(signed, compromised, now=INSIDE)):
        assert found(result) == (Indication.INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")
        stamp = result.signatures[0].timestamp
        assert stamp is not None and (stamp.trusted, stamp.problem) == (False, "REVOKED")
        assert any("đơn vị cấp dấu thời gian đã bị thu hồi" in note for note in result.signatures[0].findings)
    # retired (superseded) after the token: the token stands; before it: it proves nothing
    retired = listed_with("retired", _root_crl(pki, {tsa: REVOCATION_TIME}, cx509.ReasonFlags.superseded))
    assert found(verdict(signed, retired)) == (Indication.TOTAL_PASSED, None)
    early = stamped_at - timedelta(days=1)
    before = listed_with("before", _root_crl(pki, {tsa: early}, cx509.ReasonFlags.superseded))
    assert found(verdict(signed, before)) == (Indication.INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")
