"""a9: what the metadata gate costs per registration of a văn bản đến.

* store calls of one confirm (``ReceiveService.confirm`` → ``complete_intake``) of a signed PDF,
  with the gate and with ``Repository._pdf_identity`` stubbed to "the PDF says nothing" (the
  code before a9), alternating; the GETs of ``derived/metadata.json`` counted apart;
* wall time of those confirms (local store, fsync off, as the web tests run);
* the GET + open of a sealed ``metadata.json`` on the real S3 gateway (KHO_TEST_S3_ENDPOINT);
* the pure rule (``metadata_gate``) alone.

Usage: ``PYTHONPATH=.:tests/support .venv/bin/python bench/bench_metadata_gate_a9.py``."""

from __future__ import annotations

import os
import statistics
import time
import timeit
from collections import Counter
from pathlib import Path
from typing import Any

import scratch
from kho_people import make_people
from kho_testing import incoming_signed, make_store, seal_extra

from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from repository.records import EXTRACTED_METADATA, Repository
from repository.registration import PdfIdentity, metadata_gate
from web.context import Kho

RUNS = 12


def confirms(
    kho: Kho, clerk: Any, pdfs: list[tuple[int, bytes]]
) -> tuple[list[float], list[float], Counter[str]]:
    store = kho.repo.store
    calls: Counter[str] = Counter()
    real_get = store.get

    def get(key: str, *a: Any, **kw: Any) -> bytes:
        calls["get:metadata.json" if key.endswith("/derived/" + EXTRACTED_METADATA) else "get"] += 1
        return real_get(key, *a, **kw)

    store.get = get  # type: ignore[method-assign]
    gated, bare = [], []
    original = Repository._pdf_identity
    for n, (seed, pdf) in enumerate(pdfs):
        review = kho.receive.receive(pdf, f"qd{seed}.pdf", "den", clerk)
        stub = n % 2 == 1
        if stub:
            Repository._pdf_identity = lambda self, extra, record, md: PdfIdentity()  # type: ignore[method-assign]
        before = Counter(calls)
        start = time.perf_counter()
        kho.receive.confirm(
            review.record.record_id,
            incoming_signed(seed),
            expected_version=review.record.version,
            actor=clerk,
        )
        took = (time.perf_counter() - start) * 1000
        Repository._pdf_identity = original  # type: ignore[method-assign]
        (bare if stub else gated).append(took)
        if n < 2:
            print("  confirm", "without gate" if stub else "with gate", dict(calls - before))
    store.get = real_get  # type: ignore[method-assign]
    return gated, bare, calls


def local_kho(pki: TestPKI) -> Kho:
    """A Kho on a fresh local store (fsync off, as the web tests run) trusting ``pki``, with no
    broker, Tika or Elasticsearch: what a confirm costs in the repository alone."""
    tmp = Path(scratch.mkdtemp())
    trust = pki.write_trust_dir(tmp / "trust")
    os.environ.update(
        KHO_DATA_DIR=str(tmp / "kho"),
        KHO_AGENCY_ID="000.00.18.H40",
        KHO_AGENCY_NAME="Ủy ban nhân dân tỉnh Ninh Bình",
        KHO_TRUST_DIR=str(trust),
        KHO_FSYNC="false",
        KHO_BROKER_URL="",
        KHO_TIKA_URL="",
        KHO_ELASTICSEARCH_URL="",
        KHO_TOKEN_FILE=str(tmp / "tokens.json"),
        KHO_PASSWORD_MEMORY_KB="1024",
        KHO_PASSWORD_TIME_COST="1",
    )
    return Kho(Settings.from_env())


def s3_get_ms(bucket: str, key: str, size: int) -> None:
    """Median and min of 30 GETs of a ``size``-byte object on the real S3 gateway (nothing
    without KHO_TEST_S3_ENDPOINT); ``bucket`` names the fresh test bucket."""
    if not os.environ.get("KHO_TEST_S3_ENDPOINT"):
        return
    store = make_store("s3", Path(scratch.mkdtemp()), bucket)
    store.put(key, b"x" * size)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        store.get(key)
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"GET of a {size}-byte object on S3: median {statistics.median(times):.2f} ms, min {min(times):.2f}"
    )


def main() -> None:
    pki = TestPKI.build()
    kho = local_kho(pki)
    people = make_people(kho)
    pdfs = [(s, make_variant(Variant.VALID, pki=pki, seed=s, pages=1)) for s in range(100, 100 + RUNS)]
    gated, bare, _ = confirms(kho, people.actor("van_thu"), pdfs)
    print(
        f"confirm, local store: with gate median {statistics.median(gated):.1f} ms (min {min(gated):.1f}),"
        f" without median {statistics.median(bare):.1f} ms (min {min(bare):.1f}),"
        f" {len(gated)}+{len(bare)} runs"
    )
    kho.close()

    # the size of a sealed metadata.json of a one-page Quyết định
    s3_get_ms("a9gate", "records/a9/derived/" + EXTRACTED_METADATA, 2800)

    from kho_testing import incoming

    from repository.metadata import parse_document
    from repository.vocabulary import Direction

    md = parse_document(
        incoming(
            organ_name="UBND tỉnh Thử Nghiệm",
            code_number="52",
            code_notation="QĐ-UBND",
            issued_date="2026-03-05",
        ),
        Direction.DEN,
    )
    says = PdfIdentity.read(
        seal_extra("ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"),  # a10: the stored field the gate reads
        {
            "so_ky_hieu": {"value": "52/QĐ-UBND", "confidence": 0.95},
            "ngay_ban_hanh": {"value": "2026-03-05", "confidence": 0.95},
        },
    )
    per = min(timeit.repeat(lambda: metadata_gate(md, says, None), number=2000, repeat=5)) / 2000 * 1e6
    print(f"metadata_gate (pure, three fields agree): min {per:.1f} µs per call")


if __name__ == "__main__":
    main()
