"""No modified document passes: revisions after signing that only lenient reading can read,
or a viewer showing other pages than were signed, withhold the pass (issue 9 repro shapes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from signature_shapes import add_page_update, malformed_marker, off_generation

from ingest.signatures import Indication, PdfVerification, TrustStore, _structure, verify_pdf
from ingest.signatures._pool import Limits, VerifierPool
from ingest.testpki import TestPKI, make_variant

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)


@pytest.fixture(scope="module")
def added(signed: bytes) -> tuple[bytes, int]:
    return add_page_update(signed)


def test_the_signed_document_passes(signed: bytes, pki_trust: TrustStore) -> None:
    result = verify_pdf(signed, pki_trust)
    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert result.document_findings == ()
    assert result.appended_bytes == 0


@pytest.mark.parametrize("mutate", [malformed_marker, off_generation])
def test_an_added_page_behind_a_broken_xref_entry_never_passes(
    mutate, added: tuple[bytes, int], signed: bytes, pki_trust: TrustStore  # type: ignore[no-untyped-def]
) -> None:
    data, pages = added
    mutant = mutate(data, pages)
    assert _structure.audit(mutant, len(signed)).problems
    result = verify_pdf(mutant, pki_trust)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert any("tham chiếu chéo" in f for f in result.document_findings)
    assert all(s.verdict.indication is not Indication.TOTAL_PASSED for s in result.signatures)


def test_bytes_after_the_last_eof_are_reported(signed: bytes, pki_trust: TrustStore) -> None:
    result = verify_pdf(signed + b"\n% appended junk\n", pki_trust)
    assert result.appended_bytes == len(b"% appended junk")
    assert any("%%EOF" in f for f in result.document_findings)


def test_a_version_1_result_is_upcast(signed: bytes, pki_trust: TrustStore) -> None:
    stored = verify_pdf(signed, pki_trust).to_dict()
    stored["schema_version"] = 1
    del stored["document_findings"], stored["appended_bytes"]
    old = PdfVerification.from_dict(json.loads(json.dumps(stored)))
    assert old.schema_version == 2 and old.appended_bytes is None and old.document_findings == ()


def test_verification_leaves_the_callers_process_alone(corpus_pdf_dir: Path) -> None:
    code = (
        "import gc, asn1crypto.x509 as x, pyhanko.sign.validation.generic_cms as g\n"
        "eq, prep, ext = x.Name.__eq__, x.NameTypeAndValue._ldap_string_prep, g.extract_certificate_info\n"
        "from ingest.signatures import TrustStore, verify_pdf\n"
        f"d = open({str(corpus_pdf_dir / 'vn-gov__143-qd.signed.pdf')!r}, 'rb').read()\n"
        f"r = verify_pdf(d, TrustStore.from_dir({str(corpus_pdf_dir / 'trust')!r}))\n"
        "assert r.verdict.indication.value == 'TOTAL-PASSED', r.verdict\n"
        "assert x.Name.__eq__ is eq and x.NameTypeAndValue._ldap_string_prep is prep\n"
        "assert g.extract_certificate_info is ext and gc.isenabled()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_a_document_over_the_time_limit_gets_a_verdict(signed: bytes, pki_trust: TrustStore) -> None:
    pool = VerifierPool(1, Limits(timeout=0.001, memory_mb=2048))
    try:
        status, _ = pool.verify(signed, pki_trust.der, "", False, None)
    finally:
        pool.close()
    assert status == "timeout"
