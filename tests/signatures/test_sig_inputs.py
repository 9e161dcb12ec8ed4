"""Malformed inputs get a verdict, results round-trip through JSON, the CLI prints both."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.signatures import Indication, PdfVerification, TrustStore, verify_pdf
from ingest.signatures.cli import verify
from kho.errors import ConfigError

VALID = "vn-gov__143-qd.signed.pdf"
TWO_SIGS = "vn-quangngai__09_TTR.signed_20250219_012025.pdf"


@pytest.fixture(scope="module")
def valid_pdf(corpus_pdf_dir: Path) -> bytes:
    return (corpus_pdf_dir / VALID).read_bytes()


def _contents_span(data: bytes) -> tuple[int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert match
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize(
    ("data", "indication", "sub"),
    [
        (b"", Indication.TOTAL_FAILED, "FORMAT_FAILURE"),
        (b"hello, not a pdf" * 10, Indication.TOTAL_FAILED, "FORMAT_FAILURE"),
        (b"%PDF-1.7\n%garbage without xref\n", Indication.INDETERMINATE, "SIGNED_DATA_NOT_FOUND"),
    ],
)
def test_junk_gets_a_verdict(
    data: bytes, indication: Indication, sub: str, corpus_trust: TrustStore
) -> None:
    result = verify_pdf(data, corpus_trust)
    assert (result.verdict.indication, result.verdict.sub_indication) == (indication, sub)
    assert result.signatures == ()
    assert result.summary


def test_truncated_pdf_gets_a_verdict(valid_pdf: bytes, corpus_trust: TrustStore) -> None:
    result = verify_pdf(valid_pdf[: len(valid_pdf) // 2], corpus_trust)
    assert result.verdict.indication is not Indication.TOTAL_PASSED
    assert result.verdict.explanation


def test_byte_changed_inside_the_signed_range_is_a_hash_failure(
    valid_pdf: bytes, corpus_trust: TrustStore
) -> None:
    start, _ = _contents_span(valid_pdf)
    pos = start - 200  # inside the first signed range, in the signature dictionary area
    pos = valid_pdf.rfind(b"/M", 0, start) + 5 if valid_pdf.rfind(b"/M", 0, start) > 0 else pos
    changed = b"0" if valid_pdf[pos:pos + 1] != b"0" else b"1"
    tampered = valid_pdf[:pos] + changed + valid_pdf[pos + 1:]
    result = verify_pdf(tampered, corpus_trust)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == "HASH_FAILURE"


def test_zeroed_cms_is_a_format_failure(valid_pdf: bytes, corpus_trust: TrustStore) -> None:
    start, end = _contents_span(valid_pdf)  # /Contents <...> lies between the two ranges
    broken = valid_pdf[: start + 1] + b"0" * (end - start - 2) + valid_pdf[end - 1:]
    result = verify_pdf(broken, corpus_trust)
    assert result.verdict.indication is Indication.TOTAL_FAILED
    assert result.verdict.sub_indication == "FORMAT_FAILURE"


def test_appended_garbage_after_signing_is_not_passed(
    valid_pdf: bytes, corpus_trust: TrustStore
) -> None:
    result = verify_pdf(valid_pdf + b"\n% appended junk\n", corpus_trust)
    assert result.verdict.indication is not Indication.TOTAL_PASSED or (
        result.signatures[0].coverage == "ENTIRE_REVISION"
    )


def test_empty_trust_store_never_passes_and_never_fails_a_valid_file(
    valid_pdf: bytes, tmp_path: Path
) -> None:
    result = verify_pdf(valid_pdf, TrustStore.from_dir(tmp_path))
    assert result.verdict.indication is Indication.INDETERMINATE
    assert result.verdict.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"


def test_trust_store_rejects_a_non_certificate(tmp_path: Path) -> None:
    (tmp_path / "junk.crt").write_bytes(b"not a certificate")
    with pytest.raises(ConfigError) as info:
        TrustStore.from_dir(tmp_path)
    assert info.value.code == "TRUST_STORE_INVALID"
    with pytest.raises(ConfigError):
        TrustStore.from_dir(tmp_path / "missing")


def test_json_round_trip(corpus_pdf_dir: Path, corpus_trust: TrustStore) -> None:
    result = verify_pdf((corpus_pdf_dir / TWO_SIGS).read_bytes(), corpus_trust)
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    again = PdfVerification.from_dict(json.loads(text))
    assert again == result
    assert len(again.signatures) == 2


def test_cli_human_output_and_exit_code(corpus_pdf_dir: Path) -> None:
    runner = CliRunner()
    trust = str(corpus_pdf_dir / "trust")
    ok = runner.invoke(verify, [str(corpus_pdf_dir / VALID), "--trust-dir", trust])
    assert ok.exit_code == 0, ok.output
    assert "HỢP LỆ (TOTAL-PASSED)" in ok.output
    assert "CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ" in ok.output
    assert "NĐ 30/2020 Điều 5" in ok.output
    bad = runner.invoke(
        verify, [str(corpus_pdf_dir / "dss__pdf-byterange-overlap.pdf"), "--trust-dir", trust]
    )
    assert bad.exit_code == 1
    assert "KHÔNG HỢP LỆ (TOTAL-FAILED/HASH_FAILURE)" in bad.output
    assert "Trả lại văn bản" in bad.output


def test_cli_json_one_object_per_file_and_env_trust_dir(corpus_pdf_dir: Path) -> None:
    runner = CliRunner(env={"KHO_TRUST_DIR": str(corpus_pdf_dir / "trust")})
    files = [str(corpus_pdf_dir / VALID), str(corpus_pdf_dir / TWO_SIGS)]
    out = runner.invoke(verify, [*files, "--json"])
    assert out.exit_code == 1  # the second file is INDETERMINATE
    lines = out.output.strip().splitlines()
    assert len(lines) == 2
    objects = [json.loads(line) for line in lines]
    assert [o["file"] for o in objects] == files
    assert objects[0]["verdict"]["indication"] == "TOTAL-PASSED"
    assert objects[1]["verdict"]["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"
