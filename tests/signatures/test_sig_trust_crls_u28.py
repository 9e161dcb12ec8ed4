"""CRLs the agency loads into Kho's trust list (``trustlist.add_crl``) are revocation data for
every verification, offline (bench/NOTES-rv48.md #2: a signer revoked by a CRL Kho had seen
still passed when the document carried no revocation data).

Real pyHanko signatures with the test PKI, a real CRL built here with ``cryptography`` and
signed by the test CA's key, a real trust list folder (manifest, certificates, ``crls/``), and
verification both in this process and in a real verification worker (the shared pool).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kho_crls import NEXT_UPDATE, THIS_UPDATE, make_crl, serial
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import Indication, PdfVerification, TrustStore, _pool, trustlist, verify_pdf
from ingest.signatures.verify import _verify_pdf
from ingest.testpki import REVOCATION_TIME, TestPKI, document_for, sign_as
from kho.errors import ConfigError, KhoError

INSIDE = datetime(2026, 6, 1, tzinfo=UTC)  # the validation time (the CRL is fresh)
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def listed(pki: TestPKI, tmp_path: Path) -> Path:
    """A managed trust list holding the shipped anchors, the test root and the test CA."""
    directory = tmp_path / "trust"
    for name, der in (("kho-test-root", pki.root.cert_der), ("kho-test-ca", pki.ca.cert_der)):
        trustlist.add(directory, der, source="ingest/testpki.py", note="", by="qt", now=NOW, name=name)
    return directory


def add_crl(directory: Path, data: bytes) -> trustlist.RevocationList:
    return trustlist.add_crl(directory, data, source="https://ca.kho.test/ca.crl", note="", by="qt", now=NOW)


def verdict(data: bytes, trust: TrustStore, moment: datetime = INSIDE) -> PdfVerification:
    return _verify_pdf(data, trust, False, moment, PdfFileReader)


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> dict[str, bytes]:
    """The revoked signer's documents: time-stamped 90 days after its revocation and 30 days
    before it, and the same without a time-stamp (the claimed time alone)."""
    page = document_for(pki.revoked_personal).data
    after, before = REVOCATION_TIME + timedelta(days=90), REVOCATION_TIME - timedelta(days=30)
    return {
        "after": sign_as(page, pki, pki.revoked_personal, at=after),
        "before": sign_as(page, pki, pki.revoked_personal, at=before),
        "after_claimed": sign_as(page, pki, pki.revoked_personal, at=after, timestamp=False),
        "before_claimed": sign_as(page, pki, pki.revoked_personal, at=before, timestamp=False),
        "good": sign_as(document_for(pki.personal).data, pki, pki.personal, at=after),
    }


def test_a_signer_revoked_before_the_time_stamp_fails_in_process_and_in_a_worker(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    without = trustlist.read(listed).store()
    assert verdict(signed["after"], without).verdict.indication is Indication.TOTAL_PASSED  # soft-fail

    entry = add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}))
    store = trustlist.read(listed).store()
    assert len(store.crls) == 1 and store.fingerprint != without.fingerprint
    assert entry.revoked == 1 and entry.issuer_sha256 == hashlib.sha256(pki.ca.cert_der).hexdigest()

    here = verdict(signed["after"], store)
    there = verify_pdf(signed["after"], store, now=INSIDE)  # a verification worker of the pool
    forked = verify_pdf(signed["after"], store, now=INSIDE, pool=_pool.ForkVerifier())  # kho verify's
    for result in (here, there, forked):
        found = (result.verdict.indication, result.verdict.sub_indication)
        assert found == (Indication.TOTAL_FAILED, "REVOKED")
        text = result.signatures[0].verdict.explanation
        assert "01/09/2025" in text and "lộ khóa bí mật" in text and "Kho Test CA" in text
        assert unicodedata.is_normalized("NFC", text)
        assert result.signatures[0].trusted is False
    # another signer of the same CA, not listed, still passes with the same (stale) CRL
    assert verdict(signed["good"], store).verdict.indication is Indication.TOTAL_PASSED


def test_without_a_time_stamp_the_claimed_time_decides(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}, pem=True))
    store = trustlist.read(listed).store()
    after = verdict(signed["after_claimed"], store).verdict
    assert (after.indication, after.sub_indication) == (Indication.TOTAL_FAILED, "REVOKED")
    assert "người ký tự khai" in after.explanation
    before = verdict(signed["before_claimed"], store).verdict
    assert (before.indication, before.sub_indication) == (Indication.INDETERMINATE, "REVOKED_NO_POE")


def test_a_signer_revoked_after_a_trusted_time_stamp_still_passes_and_the_report_says_so(
    pki: TestPKI, listed: Path, signed: dict[str, bytes]
) -> None:
    add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}))
    store = trustlist.read(listed).store()
    for result in (verdict(signed["before"], store), verify_pdf(signed["before"], store, now=INSIDE)):
        assert result.verdict.indication is Indication.TOTAL_PASSED
        notes = " ".join(result.signatures[0].findings)
        assert "bị thu hồi lúc 00:00:00 01/09/2025 UTC" in notes and "vẫn có giá trị" in notes


def test_a_crl_by_an_issuer_the_list_does_not_hold_is_refused(pki: TestPKI, listed: Path) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "CA lạ không có trong danh sách")])
    before = (listed / "manifest.json").read_bytes()
    with pytest.raises(KhoError) as unknown:
        add_crl(listed, make_crl(pki, {5: REVOCATION_TIME}, key=stranger, issuer=name))
    assert unknown.value.code == "TRUST_CRL_ISSUER_UNKNOWN"
    assert unicodedata.is_normalized("NFC", unknown.value.message) and "CA lạ" in unknown.value.message
    # the CA's own name, another key: made to look issued by a CA Kho trusts
    with pytest.raises(KhoError) as forged:
        add_crl(listed, make_crl(pki, {5: REVOCATION_TIME}, key=stranger))
    assert forged.value.code == "TRUST_CRL_SIGNATURE_INVALID"
    assert (listed / "manifest.json").read_bytes() == before
    assert not (listed / "crls").exists() or not any((listed / "crls").iterdir())


def test_a_tampered_crl_or_a_file_that_is_no_crl_is_refused(pki: TestPKI, listed: Path) -> None:
    good = make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME})
    # the revoked serial changed after signing: the signature no longer verifies
    target = serial(pki.revoked_personal.cert_der).to_bytes(20, "big").lstrip(b"\0")
    at = good.index(target)
    tampered = good[:at] + bytes([good[at] ^ 0x01]) + good[at + 1:]
    with pytest.raises(KhoError) as changed:
        add_crl(listed, tampered)
    assert changed.value.code == "TRUST_CRL_SIGNATURE_INVALID"
    for junk in (pki.ca.cert_der, b"not a crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"):
        with pytest.raises(KhoError) as wrong:
            add_crl(listed, junk)
        assert wrong.value.code == "TRUST_CRL_INVALID"
    assert trustlist.read(listed).crls == ()

    add_crl(listed, good)
    with pytest.raises(KhoError) as twice:
        add_crl(listed, good)
    assert twice.value.code == "TRUST_CRL_EXISTS"
    # a CRL file changed in the folder after it was added: the list is refused as a whole
    stored = next((listed / "crls").iterdir())
    stored.write_bytes(tampered)
    with pytest.raises(ConfigError) as mismatch:
        trustlist.read(listed)
    assert mismatch.value.code == "TRUST_LIST_MISMATCH"


def test_a_stale_crl_is_accepted_said_and_removable(pki: TestPKI, listed: Path) -> None:
    entry = add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}))
    assert entry.stale(INSIDE) and not entry.stale(THIS_UPDATE + timedelta(days=1))
    assert (entry.this_update, entry.next_update, entry.number) == (
        THIS_UPDATE.isoformat(), NEXT_UPDATE.isoformat(), "42"
    )
    with pytest.raises(KhoError) as missing:
        trustlist.remove_crl(listed, "0000000000")
    assert missing.value.code == "TRUST_CRL_NOT_FOUND"
    assert trustlist.remove_crl(listed, entry.sha256[:12]) == entry
    assert trustlist.read(listed).store().crls == ()


def test_the_manifest_is_format_2_format_1_is_still_read_and_an_unknown_one_refused(
    pki: TestPKI, listed: Path, tmp_path: Path
) -> None:
    add_crl(listed, make_crl(pki, {}))
    raw = json.loads((listed / "manifest.json").read_text(encoding="utf-8"))
    assert raw["format"] == "kho-trust-list/2" and len(raw["crls"]) == 1
    # the shipped list is format 1 (no crls): read as before
    assert json.loads((trustlist.BUNDLE_DIR / "manifest.json").read_text())["format"] == "kho-trust-list/1"
    assert trustlist.shipped().crls == ()
    raw["format"] = "kho-trust-list/9"
    (listed / "manifest.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError) as unknown:
        trustlist.read(listed)
    assert unknown.value.code == "TRUST_LIST_FORMAT_UNKNOWN"


def test_the_lookup_gives_the_same_answer_before_and_after_the_store_indexes_its_crls(
    pki: TestPKI, listed: Path
) -> None:
    add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME, 77: INSIDE}))
    store = trustlist.read(listed).store()
    revoked = [asn1_x509.Certificate.load(d) for d in (pki.ca.cert_der, pki.revoked_personal.cert_der)]
    good = [asn1_x509.Certificate.load(d) for d in (pki.ca.cert_der, pki.personal.cert_der)]
    answers = {(store.revocation(revoked), store.revocation(good)) for _ in range(40)}  # 80 > 32 lookups
    [(found, none)] = answers
    assert none is None and found is not None
    assert (found.date, found.reason, found.ca) == (REVOCATION_TIME, "key_compromise", False)


def test_a_watched_trust_list_reads_each_change_and_keeps_the_last_good_one_when_broken(
    pki: TestPKI, listed: Path, tmp_path: Path
) -> None:
    """What a running pipeline holds (``Pipeline.from_settings``): a change is read at the next
    call; a folder made unreadable while running keeps the list read last (no verification
    fails for it), and the change that mends it is read."""
    watched = trustlist.Watched(str(listed), tmp_path / "data")
    first = watched.current()
    assert watched.current() is first and first.crls == ()
    add_crl(listed, make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}))
    second = watched.current()
    assert len(second.crls) == 1 and second.fingerprint != first.fingerprint
    (listed / "crls" / "junk.crl").write_bytes(b"not a crl")
    assert watched.current() is second
    (listed / "crls" / "junk.crl").unlink()
    assert watched.current().fingerprint == second.fingerprint
