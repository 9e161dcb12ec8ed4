"""The fast path's parts switch one by one (``KHO_SIGNATURE_FAST_PATH=reader,names,…``), so
``bench/bench_fastpath_parts.py`` can measure what each adds; verdicts never depend on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kho.config import FAST_PATH_PARTS, Settings, fast_path_parts
from kho.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_setting_names_all_none_or_some_parts() -> None:
    assert fast_path_parts("1") == fast_path_parts("") == {"reader", "names", "certs", "gc"}  # what pays
    assert fast_path_parts("all") == frozenset(FAST_PATH_PARTS)
    assert fast_path_parts("0") == fast_path_parts("off") == frozenset()
    assert fast_path_parts(" Reader , GC ") == {"reader", "gc"}


def test_an_unknown_part_is_refused_with_its_message_before_any_worker_starts() -> None:
    with pytest.raises(ConfigError) as caught:
        fast_path_parts("reader,turbo")
    assert caught.value.code == "CONFIG_INVALID" and "không có phần “turbo”" in str(caught.value)
    with pytest.raises(ConfigError, match="KHO_SIGNATURE_FAST_PATH"):
        Settings.from_env({"KHO_AGENCY_ID": "000.00.18.H40", "KHO_SIGNATURE_FAST_PATH": "turbo"})


_PROBE = """
import json, sys
from asn1crypto import x509
from ingest.signatures import TrustStore, _fastpath
from ingest.signatures.verify import verify_in_process
stock_eq = x509.Name.__eq__
_fastpath.activate()
path, trust = sys.argv[1], sys.argv[2]
result = verify_in_process(open(path, "rb").read(), TrustStore.from_dir(trust)).to_dict()
result.pop("validated_at")  # the moment of the check, not its outcome
print(json.dumps({
    "uses": {part: _fastpath.uses(part) for part in _fastpath.PARTS},
    "names_patched": x509.Name.__eq__ is not stock_eq,
    "result": result,
}, sort_keys=True, default=str))
"""


def _probe(parts: str, pdf: Path, trust: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(pdf), str(trust)],
        env={**os.environ, "KHO_SIGNATURE_FAST_PATH": parts}, cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_each_part_switches_alone_and_the_verdict_stays_the_same(corpus_pdf_dir: Path) -> None:
    pdf = corpus_pdf_dir / "dss__pades-bes.pdf"
    trust = corpus_pdf_dir / "trust"
    default = _probe("1", pdf, trust)
    # the default: the parts that pay (kho.config.DEFAULT_FAST_PATH_PARTS); the name memo is
    # installed in this (worker-like) process only, the caller's stays stock
    # (test_sig_document_checks, test_sig_pool_limits)
    assert default["uses"] == {"reader": True, "gc": True, "names": True, "certs": True}
    assert default["names_patched"]
    every = _probe("all", pdf, trust)
    assert all(every["uses"].values()) and every["names_patched"]
    assert default["result"] == every["result"]
    stock = _probe("0", pdf, trust)
    assert not any(stock["uses"].values()) and not stock["names_patched"]
    for part in FAST_PATH_PARTS:
        rest = ",".join(p for p in FAST_PATH_PARTS if p != part)
        seen = _probe(rest, pdf, trust)
        assert seen["uses"] == {p: p != part for p in FAST_PATH_PARTS}, part
        assert seen["names_patched"] is (part != "names"), part
        assert seen["result"] == every["result"], part
    assert stock["result"] == every["result"]
