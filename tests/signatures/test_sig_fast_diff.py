"""The fast reader reproduces stock pyHanko exactly: the same reference-path maps for the
difference analysis, and the same verification results, on every corpus file."""

from __future__ import annotations

import logging
from io import BytesIO
from pathlib import Path

import pytest
from pdf_equality import fast_path_map, stock_path_map
from pyhanko.pdf_utils.reader import PdfFileReader, RawPdfPath
from signature_corpus import CorpusVerdicts

from ingest.signatures import TrustStore
from ingest.signatures._reader import CachingPdfReader, _PathMapResolver
from ingest.signatures.evaluation import comparable, read_manifest
from ingest.signatures.verify import _verify_pdf

BIG = "vn-gov__03-vbhn-bkhcn.pdf"  # 7 revisions, ~7,000 structure elements


def _corpus_files(corpus_pdf_dir: Path) -> list[str]:
    return [entry.file for entry in read_manifest(corpus_pdf_dir / "MANIFEST.tsv")]


def test_path_maps_equal_upstream_on_every_corpus_revision(corpus_pdf_dir: Path) -> None:
    logging.disable(logging.CRITICAL)
    compared = 0
    try:
        for name in _corpus_files(corpus_pdf_dir):
            data = (corpus_pdf_dir / name).read_bytes()
            try:
                stock = PdfFileReader(BytesIO(data), strict=False)
                fast = CachingPdfReader(BytesIO(data), strict=False)
            except Exception:
                continue  # unreadable files never reach the difference analysis
            if not fast._plain_objects():
                assert not isinstance(fast.get_historical_resolver(0), _PathMapResolver)
                continue
            # the big document costs seconds per revision upstream: one signed revision
            revisions = [2] if name == BIG else range(stock.total_revisions)
            for revision in revisions:
                assert fast_path_map(fast, revision) == stock_path_map(stock, revision), (name, revision)
                compared += 1
    finally:
        logging.disable(logging.NOTSET)
    assert compared >= 100


def test_usages_are_empty_until_the_map_is_loaded(corpus_pdf_dir: Path) -> None:
    # upstream answers "no usage" before _load_reverse_xref_cache; the rules rely on the order
    data = (corpus_pdf_dir / "vn-quangngai__09_TTR.signed_20250219_012025.pdf").read_bytes()
    resolver = CachingPdfReader(BytesIO(data), strict=False).get_historical_resolver(1)
    root_ref = resolver.root_ref
    assert resolver._get_usages_of_ref(root_ref) == set()
    resolver._load_reverse_xref_cache()
    assert resolver._get_usages_of_ref(root_ref) == {RawPdfPath("/Root")}


@pytest.mark.parametrize("name", [BIG, "vn-quangngai__05.signed_20250517_044750.pdf"])
def test_multi_signature_results_equal_stock_pyhanko(
    corpus_pdf_dir: Path, corpus_trust: TrustStore, corpus_verdicts: CorpusVerdicts, name: str
) -> None:
    data = (corpus_pdf_dir / name).read_bytes()
    fast = corpus_verdicts[name]  # verify_pdf at corpus_verdicts.moment, shared with test_sig_corpus
    stock = _verify_pdf(data, corpus_trust, False, corpus_verdicts.moment, PdfFileReader)
    assert comparable(fast) == comparable(stock)
    levels = [s.modification_level for s in fast.signatures]
    assert len(levels) >= 5 and None not in levels[:-1]


def test_every_corpus_result_equals_stock_pyhanko(
    corpus_pdf_dir: Path, corpus_trust: TrustStore, corpus_verdicts: CorpusVerdicts
) -> None:
    different = []
    for name in _corpus_files(corpus_pdf_dir):
        if name == BIG:
            continue  # compared above
        data = (corpus_pdf_dir / name).read_bytes()
        fast = corpus_verdicts[name]  # verify_pdf at corpus_verdicts.moment
        stock = _verify_pdf(data, corpus_trust, False, corpus_verdicts.moment, PdfFileReader)
        if comparable(fast) != comparable(stock):
            different.append(name)
    assert different == []
