"""Differential fuzzing of the unsigned, appended bytes of signed and tampered documents.

Bounded: seeded (``KHO_FUZZ_SEED``, default 9) and time-boxed (``KHO_FUZZ_SECONDS``, default
40 s for the whole run). Every mutant is verified by Kho (fast reader and whole-document
checks) and by stock pyHanko; Kho must agree with stock pyHanko or be the stricter one, and
no mutant may pass while pdfium renders it differently from the last signed revision.

As cheap per mutant as the design allows: the render comparison runs only on mutants Kho
passes; stock pyHanko is skipped where its result cannot matter (Kho TOTAL-FAILED on
whole-document evidence is stricter than or equal to anything stock can say, see
``agrees_or_stricter``); the next base is the one that has used the least time, so one slow
document does not eat the budget; Kho renders each signed revision once (``_signed_view``).
The longer run for the notes is ``KHO_FUZZ_SECONDS=900 KHO_FUZZ_SEED=... pytest -s --timeout=0``
on this file under ``nice`` (``--timeout=0``: a budget beyond pytest-timeout's 600 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from signature_shapes import add_page_update

from ingest.signatures import Indication, TrustStore, _fastpath
from ingest.signatures.evaluation import agrees_or_stricter
from ingest.signatures.verify import _verify_pdf, verify_in_process
from ingest.testpki import TestPKI, make_variant

SEED = int(os.environ.get("KHO_FUZZ_SEED", "9"))
SECONDS = float(os.environ.get("KHO_FUZZ_SECONDS", "40"))
MOMENT = datetime(2026, 3, 2, tzinfo=UTC)
CORPUS_BASES = (
    "dss__pdf-signed-added-page.pdf",
    "pyhanko__form-update-override-appearance-stream.pdf",
    "pyhanko__form-update-override-appearance-stream-sneaky.pdf",
    "dss__pades-signed-filled-form.pdf",
)


def _signed_end(data: bytes) -> int:
    reader = PdfFileReader(__import__("io").BytesIO(data), strict=False)
    ends = []
    for sig in reader.embedded_signatures:
        byte_range = [int(v) for v in sig.sig_object["/ByteRange"]]
        ends.append(byte_range[-2] + byte_range[-1])
    return max(ends)


def _render(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        out = []
        for index in range(len(doc)):
            page = doc[index]
            bitmap = page.render(scale=0.25)
            out.append(hashlib.sha256(bytes(bitmap.buffer)).hexdigest())
            page.close()
        return out
    finally:
        doc.close()


def _mutate(rng: random.Random, data: bytes, start: int) -> bytes:
    pos = rng.randrange(start, len(data))
    kind = rng.randrange(6)
    byte = data[pos:pos + 1]
    if kind == 0:  # another digit
        new = bytes([rng.choice(b"0123456789")])
    elif kind == 1:  # any byte
        new = bytes([rng.randrange(256)])
    elif kind == 2:  # delete
        new = b""
    elif kind == 3:  # insert whitespace or a digit
        new = bytes([rng.choice(b" \n\r0123456789")]) + byte
    elif kind == 4:  # an xref marker or keyword letter
        new = bytes([rng.choice(b"nfx R")])
    else:  # duplicate a few bytes
        new = data[pos:pos + rng.randrange(1, 8)] + byte
    return data[:pos] + new + data[pos + 1:]


@pytest.fixture(scope="module")
def bases(pki: TestPKI, pki_trust: TrustStore, corpus_pdf_dir: Path, corpus_trust: TrustStore
          ) -> list[tuple[str, bytes, TrustStore]]:
    valid = make_variant("valid", pki=pki)  # two signatures, then an unsigned DSS update
    one = make_variant("personal-only", pki=pki)
    added, _ = add_page_update(one)
    out = [("valid+dss", valid, pki_trust), ("added-page", added, pki_trust)]
    out += [(n, (corpus_pdf_dir / n).read_bytes(), corpus_trust) for n in CORPUS_BASES]
    return out


def test_no_mutant_of_the_unsigned_bytes_passes_while_rendering_differently(
    bases: list[tuple[str, bytes, TrustStore]],
) -> None:
    _fastpath.activate()  # this test process compares the fast path with stock pyHanko
    logging.disable(logging.CRITICAL)
    rng = random.Random(SEED)
    prepared = []
    for name, data, trust in bases:
        end = _signed_end(data)
        if end < len(data) - 1:
            prepared.append((name, data, trust, end, _render(data[:end])))
    assert prepared
    started = time.monotonic()
    deadline = started + SECONDS
    tried = passed = stricter = without_stock = 0
    spent = [0.0] * len(prepared)
    per_base = [0] * len(prepared)
    problems: list[str] = []
    verify: Callable[..., object] = verify_in_process
    while time.monotonic() < deadline:
        which = min(range(len(prepared)), key=lambda i: (spent[i], per_base[i]))
        name, data, trust, end, signed_view = prepared[which]
        t0 = time.monotonic()
        mutant = _mutate(rng, data, end)
        tried += 1
        per_base[which] += 1
        kho = verify(mutant, trust, now=MOMENT)
        if kho.verdict.indication is Indication.TOTAL_FAILED and kho.document_findings:  # type: ignore[attr-defined]
            without_stock += 1  # agrees_or_stricter holds whatever stock pyHanko says
            spent[which] += time.monotonic() - t0
            continue
        stock = _verify_pdf(mutant, trust, False, MOMENT, PdfFileReader, cross_check=False)
        if not agrees_or_stricter(kho, stock):  # type: ignore[arg-type]
            problems.append(  # the indications and sub-indications first: the explanations are long
                f"{name} #{tried}: Kho {kho.verdict.indication}/{kho.verdict.sub_indication} vs stock"  # type: ignore[attr-defined]
                f" {stock.verdict.indication}/{stock.verdict.sub_indication}: Kho {kho.verdict.explanation}"  # type: ignore[attr-defined]
                f" | stock {stock.verdict.explanation}"  # type: ignore[attr-defined]
            )
        if kho.verdict.indication is not stock.verdict.indication:  # type: ignore[attr-defined]
            stricter += 1
        if kho.verdict.indication is Indication.TOTAL_PASSED:  # type: ignore[attr-defined]
            passed += 1
            try:
                shown = _render(mutant)
            except Exception:
                shown = None
            if shown != signed_view:
                problems.append(f"{name} #{tried}: passes but renders differently")
        spent[which] += time.monotonic() - t0
    print(f"fuzz: seed {SEED}, {tried} mutants in {time.monotonic() - started:.0f} s, "
          f"{passed} passed, {stricter} where Kho is stricter than stock pyHanko, "
          f"{without_stock} failed by Kho on whole-document evidence, {len(problems)} problems; "
          "per base: " + ", ".join(f"{p[0]} {n}" for p, n in zip(prepared, per_base, strict=True)))
    assert tried > 0
    for problem in problems:
        print(problem)
    assert not problems, problems[:5]
