"""Write a large corpus of signed legacy documents for the bulk import, fast, and print the rate.

    .venv/bin/python bench/make_legacy_corpus.py OUTDIR --count 100000 [--templates 500]

``bench/make_signed_corpus.py`` renders and signs every document through reportlab and pyHanko
(~86 ms of CPU per document here: 100,000 take ~1.2 h on 2 cores). This script makes the same
kind of document — 3 pages, the NĐ 30 pair of signatures (the competent person, then the agency
seal 37 minutes later), no time-stamps — from a pool of ``--templates`` documents rendered and
signed through pyHanko, and then re-signs a copy of a template for every document:

* each document gets its own creation date (``/CreationDate`` in every ``/Info``) and its own
  signing times (``/M`` of both signatures), so no two files have the same bytes;
* both signatures are made afresh over the document's own bytes: the ``/ByteRange`` digest, the
  CMS ``messageDigest`` attribute and a new ECDSA signature by the signer's key, in the
  template's CMS (same certificates and attributes), padded into the same ``/Contents``.

Nothing is changed at another offset, so the templates' cross-reference tables stay exact. The
first documents and every ``--check-every``-th are verified with Kho's own verifier against the
test root; the script stops with an error if one is not TOTAL-PASSED. OUTDIR/pdfs gets the PDFs,
OUTDIR/trust the test root (the only trust anchor a verifier needs).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ingest.pdfgen import render_pdf, sample_document
from ingest.signing import SignerIdentity
from ingest.testpki import (
    ORGANISATION_SIGNING_DELAY,
    TestPKI,
    sign_personal_then_organisation,
)

FIRST_SIGNING = datetime(2025, 2, 3, 1, 30, tzinfo=UTC)
STEP = timedelta(minutes=7)
"""Document i is signed at FIRST_SIGNING + i·STEP (100,000 documents end in mid 2026)."""
REPORTLAB_CREATED = b"(D:20000101000000+00'00')"
"""The creation date reportlab writes with ``invariant=True`` (same length as any other)."""


@dataclass
class _Signature:
    contents: int
    """Offset of the first hex digit inside ``/Contents <…>``."""
    reserved: int
    """Hex digits between the angle brackets."""
    ranges: tuple[int, int, int, int]
    moment: int
    """Offset of the ``/M (`` string's first byte after the parenthesis."""
    cms: cms.ContentInfo
    key: ec.EllipticCurvePrivateKey


@dataclass
class _Template:
    data: bytes
    created: tuple[int, ...]
    signatures: tuple[_Signature, ...]


def _pdf_date(moment: datetime) -> bytes:
    """``/M`` as pyHanko writes it: ``D\\072YYYYMMDDHHMMSSZ`` (the colon escaped)."""
    return b"D\\072" + moment.strftime("%Y%m%d%H%M%SZ").encode()


def _created(moment: datetime) -> bytes:
    local = moment + timedelta(hours=7)
    return local.strftime("(D:%Y%m%d%H%M%S+07'00')").encode()


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found, at = [], data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def _template(seed: int, pages: int, pki: TestPKI) -> _Template:
    rendered = render_pdf(sample_document(seed, pages)).data
    signed = sign_personal_then_organisation(rendered, pki, timestamp=False)
    created = tuple(_find_all(signed, b"/CreationDate " + REPORTLAB_CREATED))
    if not created:
        raise SystemExit(f"template {seed}: no /CreationDate written by reportlab")
    signatures = []
    for identity, start in zip((pki.personal, pki.organisation),
                               _find_all(signed, b"/Contents <"), strict=True):
        contents = start + len(b"/Contents <")
        end = signed.index(b">", contents)
        ranges_at = signed.index(b"/ByteRange [", end) + len(b"/ByteRange [")
        ranges = tuple(int(v) for v in signed[ranges_at:signed.index(b"]", ranges_at)].split())
        moment = signed.index(b"/M (", end) + len(b"/M (")
        if len(ranges) != 4 or ranges[1] != contents - 1 or ranges[2] != end + 1:
            raise SystemExit(f"template {seed}: unexpected /ByteRange {ranges}")
        info = cms.ContentInfo.load(bytes.fromhex(signed[contents:end].decode()))
        signatures.append(_Signature(contents, end - contents, ranges, moment, info,
                                     _private_key(identity)))
    return _Template(signed, created, tuple(signatures))


def _private_key(identity: SignerIdentity) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_der_private_key(identity.key_der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SystemExit("the test PKI's signers are expected to hold EC keys")
    return key


def _resign(data: bytearray, sig: _Signature) -> None:
    a, b, c, d = sig.ranges
    digest = hashlib.sha256()
    digest.update(memoryview(data)[a:a + b])
    digest.update(memoryview(data)[c:c + d])
    signer_info = sig.cms["content"]["signer_infos"][0]
    for attribute in signer_info["signed_attrs"]:
        if attribute["type"].native == "message_digest":
            attribute["values"] = [digest.digest()]
    tagged = signer_info["signed_attrs"].dump()
    to_sign = b"\x31" + tagged[1:]  # the SET OF encoding is what is signed (RFC 5652 §5.4)
    signer_info["signature"] = sig.key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    hexed = sig.cms.dump().hex().upper().encode()
    if len(hexed) > sig.reserved:
        raise SystemExit("the re-signed CMS does not fit the template's placeholder")
    data[sig.contents:sig.contents + sig.reserved] = hexed.ljust(sig.reserved, b"0")


_TEMPLATES: list[_Template] = []


def _make(args: tuple[Path, int]) -> int:
    outdir, index = args
    template = _TEMPLATES[index % len(_TEMPLATES)]
    data = bytearray(template.data)
    signed_at = FIRST_SIGNING + index * STEP
    created = _created(signed_at - timedelta(hours=2))
    for at in template.created:
        start = at + len(b"/CreationDate ")
        data[start:start + len(created)] = created
    for sig, moment in zip(template.signatures,
                           (signed_at, signed_at + ORGANISATION_SIGNING_DELAY), strict=True):
        stamp = _pdf_date(moment)
        data[sig.moment:sig.moment + len(stamp)] = stamp
    for sig in template.signatures:  # the personal signature first: the seal covers it
        _resign(data, sig)
    (outdir / f"legacy-{index:06d}.pdf").write_bytes(data)
    return len(data)


def _check(outdir: Path, trust_dir: Path, indexes: list[int]) -> None:
    from ingest.signatures.trust import TrustStore
    from ingest.signatures.verify import verify_pdf

    trust = TrustStore.from_dir(trust_dir)
    for index in indexes:
        result = verify_pdf((outdir / f"legacy-{index:06d}.pdf").read_bytes(), trust)
        names = [s.verdict.indication.name for s in result.signatures]
        if result.verdict.indication.name != "TOTAL_PASSED" or names != ["TOTAL_PASSED"] * 2:
            raise SystemExit(f"legacy-{index:06d}.pdf: {result.verdict.indication.name} "
                             f"{names}: {result.summary}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=500)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--check-every", type=int, default=10_000)
    args = parser.parse_args(argv)

    pdfs = args.outdir / "pdfs"
    pdfs.mkdir(parents=True, exist_ok=True)
    pki = TestPKI.build()
    trust_dir = pki.write_trust_dir(args.outdir / "trust")

    started = time.perf_counter()
    _TEMPLATES.extend(_template(seed, args.pages, pki)
                      for seed in range(1, min(args.templates, args.count) + 1))
    templated = time.perf_counter()
    jobs = [(pdfs, index) for index in range(args.count)]
    if args.workers > 1:
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            sizes = list(pool.imap_unordered(_make, jobs, chunksize=256))
    else:
        sizes = [_make(job) for job in jobs]
    made = time.perf_counter()
    checked = sorted({*range(min(3, args.count)), *range(0, args.count, args.check_every),
                      args.count - 1})
    _check(pdfs, trust_dir, checked)

    print(f"documents: {len(sizes)} ({args.pages} pages, 2 signatures, no time-stamps) "
          f"from {len(_TEMPLATES)} templates; workers: {args.workers}")
    print(f"templates (render + pyHanko sign x2): {templated - started:.1f} s, "
          f"{1000 * (templated - started) / len(_TEMPLATES):.1f} ms each")
    print(f"documents (re-sign x2 + write): {made - templated:.1f} s = "
          f"{len(sizes) / (made - templated):.0f} docs/s")
    print(f"verified TOTAL_PASSED with Kho's verifier: {len(checked)} documents")
    print(f"output: {sum(sizes) / 1e9:.2f} GB, mean {sum(sizes) / len(sizes) / 1e3:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
