"""``kho verify`` on hostile inputs: a directory, a pipe, a device, cross-reference offsets
past the end of the file, a ``/Prev`` loop, recursion bombs (nested arrays, nested
dictionaries, a reference cycle, a page tree that contains itself), a signed file whose last
update hides its signature. Each gets a verdict or a Vietnamese reason with a stable code,
nothing passes, and no traceback is ever printed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from verify_cli import run_kho_verify

from ingest.signatures import Indication, TrustStore, verify_pdf
from ingest.testpki import TestPKI, make_variant


def _xref(body: bytes, count: int, root: int = 1) -> bytes:
    """``body`` (objects 1..count) with a classic cross-reference table and trailer."""
    offsets = [body.find(b"%d 0 obj" % n) for n in range(1, count + 1)]
    table = b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1)
    table += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        count + 1, root, len(body)
    )
    return body + table + trailer


def _last_startxref(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def _root(data: bytes) -> bytes:
    return re.findall(rb"/Root\s+(\d+\s+\d+)\s+R", data)[-1]


def _hostile(signed: bytes) -> dict[str, bytes]:
    depth = 100_000
    page = b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>\nendobj\n"
    pages = b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    update = len(signed) + 1
    return {
        "startxref-past-eof.pdf": re.sub(
            rb"startxref\s+\d+\s+%%EOF\s*$", b"startxref\n999999999\n%%EOF\n", signed
        ),
        "startxref-negative.pdf": re.sub(
            rb"startxref\s+\d+\s+%%EOF\s*$", b"startxref\n-5\n%%EOF\n", signed
        ),
        # an update whose entry for the catalog points past the end of the file
        "entry-past-eof.pdf": signed + b"\nxref\n0 1\n0000000000 65535 f \n%s 1\n"
        b"9999999999 00000 n \ntrailer\n<< /Size 999 /Prev %d /Root %s R >>\nstartxref\n%d\n"
        b"%%%%EOF\n" % (_root(signed).split()[0], _last_startxref(signed), _root(signed), update),
        "prev-loop.pdf": signed + b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 "
        b"/Prev %d /Root %s R >>\nstartxref\n%d\n%%%%EOF\n" % (update, _root(signed), update),
        "nested-arrays.pdf": _xref(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + b"[" * depth
            + b"]" * depth + b" >>\nendobj\n" + pages + page, 3
        ),
        "nested-dictionaries.pdf": _xref(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + b"<< /A " * depth
            + b"1" + b" >>" * depth + b" >>\nendobj\n" + pages + page, 3
        ),
        "reference-cycle.pdf": _xref(b"%PDF-1.7\n1 0 obj\n2 0 R\nendobj\n2 0 obj\n1 0 R\nendobj\n", 2),
        "page-tree-loop.pdf": _xref(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [2 0 R] >> >>"
            b"\nendobj\n2 0 obj\n<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>\nendobj\n",
            2,
        ),
        # the last update points the trailer at another dictionary (the /Info): the signed
        # revision is in the bytes, the final document lists no signature
        "signature-hidden.pdf": signed + b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 999 "
        b"/Prev %d /Root %s R >>\nstartxref\n%d\n%%%%EOF\n" % (
            _last_startxref(signed),
            re.findall(rb"/Info\s+(\d+\s+\d+)\s+R", signed)[-1],
            update,
        ),
        "only-header.pdf": b"%PDF-1.7\n",
        "png.pdf": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
    }


@pytest.fixture(scope="module")
def signed(pki: TestPKI) -> bytes:
    return make_variant("personal-only", pki=pki)




def test_hostile_inputs_get_verdicts_and_no_traceback(signed: bytes, tmp_path: Path) -> None:
    files = []
    for name, data in _hostile(signed).items():
        (tmp_path / name).write_bytes(data)
        files.append(tmp_path / name)
    folder = tmp_path / "thu-muc.pdf"
    folder.mkdir()
    pipe = tmp_path / "ong.pdf"
    os.mkfifo(pipe)  # reading it would block forever: refused, never opened
    done = run_kho_verify("--json", *map(str, files), str(folder), str(pipe), "/dev/null",
                       tmp_path=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    assert done.returncode == 1
    results = {Path(r["file"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert len(results) == len(files) + 3
    for path in files:
        verdict = results[path.name]["verdict"]
        assert verdict["indication"] != "TOTAL-PASSED", (path.name, verdict)
        assert verdict["explanation"], path.name
    for name, code in (("thu-muc.pdf", "NOT_A_FILE"), ("ong.pdf", "NOT_A_FILE"),
                       ("null", "NOT_A_FILE")):
        assert results[name]["code"] == code
        assert results[name]["error"].startswith("Không đọc được tệp: ")
    assert "thư mục" in results["thu-muc.pdf"]["error"]
    hidden = results["signature-hidden.pdf"]["verdict"]
    assert (hidden["indication"], hidden["sub_indication"]) == (
        "INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"
    )
    assert "không còn chữ ký nào" in hidden["explanation"]


def test_human_output_names_a_directory_in_vietnamese(tmp_path: Path) -> None:
    folder = tmp_path / "ho-so"
    folder.mkdir()
    done = run_kho_verify(str(folder), str(tmp_path / "khong-co.pdf"), tmp_path=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    assert "Usage" not in done.stdout + done.stderr  # every path gets its line, none aborts
    assert done.returncode == 1
    assert f"{folder}: LỖI — Không đọc được tệp: đây là một thư mục" in done.stdout
    assert "khong-co.pdf: LỖI — Không đọc được tệp: không tồn tại" in done.stdout


def test_a_hidden_signature_is_not_an_unsigned_document(
    signed: bytes, pki_trust: TrustStore
) -> None:
    """NO_SIGNATURE would let a văn thư register it as an unsigned document; the signed
    revision in its bytes withholds that (INDETERMINATE with the reason)."""
    result = verify_pdf(_hostile(signed)["signature-hidden.pdf"], pki_trust)
    assert result.verdict.indication is Indication.INDETERMINATE, result.verdict
    assert any("không còn chữ ký nào" in f for f in result.document_findings)
    assert verify_pdf(signed, pki_trust).passed
