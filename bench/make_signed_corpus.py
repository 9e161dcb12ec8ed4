"""Write a corpus of born-digital signed PDFs and print how fast they were made.

    .venv/bin/python bench/make_signed_corpus.py OUTDIR --count 1000 --pages 3

Every document is generated afresh (its own số, trích yếu and body text from its index),
rendered with an embedded font subset, then signed twice as NĐ 30 expects: the competent
person, then the agency seal 37 minutes later, each with an RFC 3161 time-stamp from the
in-process test TSA. Nothing is copied between documents except the keys, the registered
fonts and the signature placeholder size. OUTDIR also gets ``trust/`` (the test root, the
only trust anchor a verifier needs) and ``MANIFEST.tsv`` (file, số ký hiệu, pages, bytes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.pdfgen import render_pdf, sample_document
from ingest.testpki import (
    FIXTURE_TIME,
    TestPKI,
    sign_personal_then_organisation,
)


@dataclass(frozen=True)
class Job:
    index: int
    outdir: Path
    pages: int
    timestamp: bool
    revocation: bool


@dataclass(frozen=True)
class Made:
    name: str
    so_ky_hieu: str
    size: int
    render_s: float
    sign_s: float


def make_one(job: Job) -> Made:
    pki = TestPKI.build()  # cached per process
    started = time.perf_counter()
    doc = sample_document(job.index, job.pages)
    rendered = render_pdf(doc)
    rendered_at = time.perf_counter()
    signed = sign_personal_then_organisation(
        rendered.data, pki, at=FIXTURE_TIME + timedelta(minutes=job.index),
        timestamp=job.timestamp, embed_revocation=job.revocation,
    )
    signed_at = time.perf_counter()
    name = f"signed-{job.index:06d}.pdf"
    (job.outdir / name).write_bytes(signed)
    return Made(name, doc.so_ky_hieu, len(signed), rendered_at - started,
                signed_at - rendered_at)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-timestamp", action="store_true",
                        help="sign without RFC 3161 time-stamps")
    parser.add_argument("--revocation", action="store_true",
                        help="embed CRLs and OCSP responses in the DSS after each signature")
    args = parser.parse_args(argv)

    args.outdir.mkdir(parents=True, exist_ok=True)
    pki = TestPKI.build()
    pki.write_trust_dir(args.outdir / "trust")
    render_pdf(sample_document(0, 1))  # register fonts before forking

    jobs = [Job(i, args.outdir, args.pages, not args.no_timestamp, args.revocation)
            for i in range(1, args.count + 1)]
    started = time.perf_counter()
    if args.workers > 1:
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            made = list(pool.imap_unordered(make_one, jobs, chunksize=8))
    else:
        made = [make_one(job) for job in jobs]
    elapsed = time.perf_counter() - started

    made.sort(key=lambda m: m.name)
    with (args.outdir / "MANIFEST.tsv").open("w", encoding="utf-8") as manifest:
        manifest.write("file\tso_ky_hieu\tpages\tbytes\n")
        for m in made:
            manifest.write(f"{m.name}\t{m.so_ky_hieu}\t{args.pages}\t{m.size}\n")

    total_bytes = sum(m.size for m in made)
    render_ms = 1000 * sum(m.render_s for m in made) / len(made)
    sign_ms = 1000 * sum(m.sign_s for m in made) / len(made)
    print(f"documents: {len(made)} ({args.pages} pages, 2 signatures, "
          f"time-stamps: {'no' if args.no_timestamp else 'yes'}, "
          f"revocation data: {'yes' if args.revocation else 'no'})")
    print(f"workers: {args.workers}")
    print(f"wall time: {elapsed:.1f} s")
    print(f"throughput: {len(made) / elapsed:.1f} docs/s")
    print(f"per document (CPU in one worker): render {render_ms:.1f} ms, "
          f"sign x2 {sign_ms:.1f} ms")
    print(f"output: {total_bytes / 1e6:.1f} MB, mean {total_bytes / len(made) / 1e3:.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
