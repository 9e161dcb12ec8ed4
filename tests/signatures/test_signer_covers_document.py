"""Only a signature that covers the document as registered names its signer or sender (r30).

A văn thư received a genuine công văn sealed by Bộ Nội vụ, to which someone had added a page in
an unsigned incremental update. The verdict is FAILED (a change after signing no rule explains);
the văn thư may still register it with an override reason. On integ23 the seal's organisation
and the signer's name, both intact, valid and trusted over the *first* revision, still went into
``signature_organisations`` and ``signature_signers``: the metadata gate took the seal as naming
the sender of the rewritten document, and the signer gate the person as its Người ký. Real
pyHanko on real PDFs: the test PKI signs, ``add_page_update`` rewrites."""

from __future__ import annotations

from kho_testing import sealed_cong_van
from signature_shapes import add_page_update

from ingest.pipeline import signing_organisations
from ingest.signatures import Indication, TrustStore, verify_pdf

SEALED = sealed_cong_van(31)


def test_the_sealed_document_names_its_sender_and_signer(pki_trust: TrustStore) -> None:
    """Guard: the NĐ 30 sequence (person, then seal, with its long-term data) covers the
    document, so both still name someone."""
    from ingest.pipeline import names_its_signer, signing_people

    result = verify_pdf(SEALED, pki_trust)
    assert result.verdict.indication is Indication.TOTAL_PASSED
    assert all(names_its_signer(s) for s in result.signatures)
    assert "BỘ NỘI VỤ" in signing_organisations(result.signatures)
    assert signing_people(result.signatures) == ["Nguyễn Văn An"]


def test_a_page_added_after_the_seal_names_no_sender_and_no_signer(pki_trust: TrustStore) -> None:
    rewritten, _ = add_page_update(SEALED)
    result = verify_pdf(rewritten, pki_trust)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert all(s.intact and s.valid and s.trusted for s in result.signatures)  # over revision 1
    assert signing_organisations(result.signatures) == []
    from ingest.pipeline import signing_people  # (m8: the one rule of the signer gate's names)

    assert signing_people(result.signatures) == []
