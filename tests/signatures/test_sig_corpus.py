"""The whole corpus against the rule, with real pyHanko and the real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from signature_corpus import CorpusVerdicts

from ingest.signatures import Indication, PdfVerification, SignerKind
from ingest.signatures.evaluation import read_manifest, rule_violation


@pytest.fixture(scope="module")
def corpus_results(
    corpus_pdf_dir: Path, corpus_verdicts: CorpusVerdicts
) -> dict[str, tuple[str, PdfVerification]]:
    return {
        entry.file: (entry.expected, corpus_verdicts[entry.file])
        for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv")
    }


def test_corpus_obeys_the_rule(corpus_results: dict[str, tuple[str, PdfVerification]]) -> None:
    assert len(corpus_results) == 52
    violations = {
        name: problem
        for name, (expected, result) in corpus_results.items()
        if (problem := rule_violation(expected, result.verdict))
    }
    assert violations == {}


def test_government_portal_documents_pass_with_the_vgca_anchor(
    corpus_results: dict[str, tuple[str, PdfVerification]],
) -> None:
    _, result = corpus_results["vn-gov__143-qd.signed.pdf"]
    assert result.verdict.indication is Indication.TOTAL_PASSED
    (sig,) = result.signatures
    assert sig.signer is not None and sig.signer.common_name == "CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ"
    assert sig.signer_kind is SignerKind.ORGANISATION
    # cpcag2.crt (the VGCA intermediate) is itself an anchor in trust/, so the path ends there
    assert sig.chain[0].startswith("Email Address: thongtinchinhphu@chinhphu.vn")
    assert sig.chain[-1].startswith("Common Name: CA phục vụ các cơ quan Nhà nước G2")
    assert sig.timestamp is not None and sig.timestamp.intact and not sig.timestamp.trusted
    # an organisation signature alone does not meet NĐ 30 Điều 5
    assert not result.nd30.ok and not result.nd30.has_personal


def test_missing_anchor_is_named_not_failed(
    corpus_results: dict[str, tuple[str, PdfVerification]],
) -> None:
    _, result = corpus_results["vn-quangngai__05.signed_20250517_044750.pdf"]
    assert result.verdict.indication is Indication.INDETERMINATE
    assert result.verdict.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    kinds = [s.signer_kind for s in result.signatures]
    assert kinds[0] is SignerKind.PERSONAL and SignerKind.ORGANISATION in kinds[1:]
    assert result.nd30.ok and result.nd30.organisation_after_personal
    seal = result.signatures[1]
    assert seal.intact and seal.valid and not seal.trusted
    assert seal.modification_level == "FORM_FILLING" and seal.modifications_permitted
    assert result.return_reason is None


@pytest.mark.parametrize(
    ("name", "sub"),
    [
        ("dss__hello_signed_INCSAVE_signed_EDITED.pdf", "HASH_FAILURE"),
        ("dss__pdf-byterange-overlap.pdf", "HASH_FAILURE"),
        ("dss__BadEncodedCMS.pdf", "FORMAT_FAILURE"),
        ("pyhanko__coverage-anomalies_tail-uncovered.pdf", "FORMAT_FAILURE"),
        ("dss__wrong-digest-algo.pdf", "FORMAT_FAILURE"),
    ],
)
def test_broken_files_fail_with_a_return_reason(
    corpus_results: dict[str, tuple[str, PdfVerification]], name: str, sub: str
) -> None:
    _, result = corpus_results[name]
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == sub
    assert result.return_reason is not None and "Trả lại" in result.return_reason


def test_changes_after_signing_that_pyhanko_cannot_explain_are_indeterminate(
    corpus_results: dict[str, tuple[str, PdfVerification]],
) -> None:
    for name in ("pyhanko__form-update-override-appearance-stream-sneaky.pdf",):
        _, result = corpus_results[name]
        assert result.verdict.sub_indication == "SIG_CONSTRAINTS_FAILURE", name
        assert result.signatures[0].modification_level == "OTHER"
        assert result.signatures[0].modifications_permitted is False


def test_a_page_added_after_signing_fails_as_a_viewer_shows_it(
    corpus_results: dict[str, tuple[str, PdfVerification]],
) -> None:
    _, result = corpus_results["dss__pdf-signed-added-page.pdf"]
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == "FORMAT_FAILURE"
    assert "trang" in result.verdict.explanation
    assert result.signatures[0].modification_level == "OTHER"
