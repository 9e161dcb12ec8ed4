"""a10: what "which agency a seal names" costs.

* the pure rule: ``seal_names_sender`` and the whole ``metadata_gate`` (three fields agree), for
  an agency seal whose CN is its O (the test PKI's) and for a Sở's (CN + O), µs per call;
* store GETs of one confirm of a signed văn bản đến (``ReceiveService.confirm``), by key, for a
  document ingested by a10 (``signature_agencies`` in ``extra``) and for one stored before it
  (the field removed: worked out again from ``signatures.json``), and the size of that object;
* that GET on the real S3 gateway (KHO_TEST_S3_ENDPOINT), median of 30.

Usage: ``PYTHONPATH=.:tests/support .venv/bin/python bench/bench_seal_agency_a10.py``."""

from __future__ import annotations

import sys
import time
import timeit
from collections import Counter
from pathlib import Path
from typing import Any

from kho_people import make_people
from kho_testing import incoming, sealed_cong_van

sys.path.insert(0, str(Path(__file__).parent))
from bench_metadata_gate_a9 import local_kho, s3_get_ms

from ingest.pipeline import SIGNATURES_DERIVED
from ingest.testpki import TestPKI
from repository.metadata import parse_document
from repository.records import SYSTEM
from repository.registration import PdfIdentity, SealAgency, metadata_gate, seal_names_sender
from repository.vocabulary import Direction


def pure() -> None:
    read = {
        "so_ky_hieu": {"value": "52/QĐ-UBND", "confidence": 0.95},
        "ngay_ban_hanh": {"value": "2026-03-05", "confidence": 0.95},
    }
    for label, seal, organ in (
        (
            "seal CN = O",
            SealAgency("ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM", "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM"),
            "UBND tỉnh Thử Nghiệm",
        ),
        ("Sở seal, CN + O", SealAgency("Sở Tài chính", "UBND tỉnh Thử Nghiệm"), "Sở TC tỉnh Thử Nghiệm"),
        (
            "Sở seal, parent typed (refused)",
            SealAgency("Sở Tài chính", "UBND tỉnh Thử Nghiệm"),
            "UBND tỉnh Thử Nghiệm",
        ),
    ):
        md = parse_document(
            incoming(organ_name=organ, code_number="52", code_notation="QĐ-UBND", issued_date="2026-03-05"),
            Direction.DEN,
        )
        says = PdfIdentity.read(
            {"signature_agencies": {"format_version": 1, "agencies": [seal.to_dict()]}}, read
        )
        rule = (
            min(
                timeit.repeat(
                    lambda organ=organ, seal=seal: seal_names_sender(organ, (seal,)), number=2000, repeat=5
                )
            )
            / 2000
            * 1e6
        )
        gate = (
            min(timeit.repeat(lambda md=md, says=says: metadata_gate(md, says, None), number=2000, repeat=5))
            / 2000
            * 1e6
        )
        print(f"{label}: seal_names_sender min {rule:.1f} µs, metadata_gate min {gate:.1f} µs per call")


def confirms() -> int:
    kho = local_kho(TestPKI.build())
    clerk = make_people(kho).actor("van_thu")
    store = kho.repo.store
    calls: Counter[str] = Counter()
    real_get = store.get

    def get(key: str, *a: Any, **kw: Any) -> bytes:
        calls["get " + (key.rsplit("/", 1)[-1] if "/derived/" in key else "other")] += 1
        return real_get(key, *a, **kw)

    size = 0
    for n, old in enumerate((False, True)):
        review = kho.receive.receive(
            sealed_cong_van(90 + n, "UBND tỉnh Thử Nghiệm", common_name="Sở Tài chính"),
            f"cv{n}.pdf",
            "den",
            clerk,
        )
        record = review.record
        if old:
            record = kho.repo.set_extra(
                record.record_id, {"signature_agencies": None}, actor=SYSTEM, action="ingest:signatures"
            )
            size = len(real_get(f"records/{record.record_id}/derived/{SIGNATURES_DERIVED}"))
        store.get = get  # type: ignore[method-assign]
        calls.clear()
        start = time.perf_counter()
        kho.receive.confirm(
            record.record_id,
            incoming(organ_name="Sở Tài chính tỉnh Thử Nghiệm", code_number=str(100 + n)),
            expected_version=record.version,
            actor=clerk,
        )
        took = (time.perf_counter() - start) * 1000
        store.get = real_get  # type: ignore[method-assign]
        print(f"confirm, {'stored before a10' if old else 'ingested by a10'}: {dict(calls)}, {took:.1f} ms")
    kho.close()
    print(f"signatures.json of that công văn (2 signatures): {size} bytes")
    return size


if __name__ == "__main__":
    pure()
    s3_get_ms("a10seal", "records/a10/derived/" + SIGNATURES_DERIVED, confirms())
