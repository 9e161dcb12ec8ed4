"""Two verifications at once in one process must not change a verdict (bench/NOTES-rv56.md).

Real signed PDFs of the corpus (``corpora/pdf``: VGCA documents chaining to the corpus trust
list with RFC 3161 time-stamps, a PAdES-T document, a PAdES-LTA document, an untrusted chain,
a tampered document, an uncovered byte range) are verified by the function a verification
worker calls (:func:`verify_in_process`), with the fast path on as in a worker, by 16 threads
released together by a barrier, each round with a fresh trust store made the worker's way
(:class:`_TrustStores`: :meth:`TrustStore.from_der`, nothing of the anchors parsed ahead) and
the process's certificate, path, signature and matching memos emptied. Every thread's verdict
(the whole result: status, codes, findings, chain, signer identity, time-stamp) must equal the
verdict of one thread alone.

pyHanko reads the trust store's anchors during every verification, outside any lock of
Kho's, and asn1crypto parses them lazily in place: before rv56 a thread read another's
half-parsed anchor (``KeyError: No field numbered 1 is present in this
asn1crypto.keys.PublicKeyInfo``, a good signature judged unreadable) or silently built
another chain.

It runs in a fresh interpreter: the fast path replaces functions of asn1crypto and pyHanko
process-wide, which the test process must keep stock. The switch interval is made tiny there
so that threads change in the middle of a lazy parse; no assertion depends on how fast
anything runs (the barrier and the joins wait up to 600 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THREADS = 16
ROUNDS = 8

DOCUMENTS = (
    "vn-gov__194-ttg.signed.pdf",
    "vn-gov__196cd.signed.pdf",
    "vn-gov__15557btc.signed.pdf",
    "dss__doc-firmado-T.pdf",
    "pyhanko__pades-lta-dss-indirect-arrs-test.pdf",
    "pyhanko__sig-with-ski-sid.pdf",
    "dss__dss-2236_replace.pdf",
    "pyhanko__coverage-anomalies_tail-uncovered.pdf",
)

_RACE = """
import json, logging, sys, threading
from datetime import UTC, datetime
from pathlib import Path

logging.disable(logging.CRITICAL)  # pyHanko logs every untrusted chain; the verdict says it
from ingest.signatures import _fastpath

assert _fastpath.activate()
from ingest.signatures import _certs, _matches, _paths, _sigcheck
from ingest.signatures._pool import _TrustStores
from ingest.signatures.trust import TrustStore
from ingest.signatures.verify import verify_in_process
from ingest.workerpool import trust_material

corpus, how, threads, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = json.loads(sys.argv[5])
datas = [(corpus / name).read_bytes() for name in names]
lists = TrustStore.from_dir(corpus / "trust")
material = trust_material(lists.der, lists.source, ())
MOMENT = datetime(2026, 12, 1, tzinfo=UTC)


def fresh():
    _certs._shared.clear()
    _paths.clear()
    _matches.clear()
    _sigcheck.shared_validator()._verified.clear()
    if how == "worker":  # as a worker builds a store that arrives (its trust manager too)
        return _TrustStores(TrustStore).get(material.digest, material.payload)
    return TrustStore.from_der(lists.der, lists.source)  # no thread has used it yet


def verdict(data, store):
    try:
        return verify_in_process(data, store, now=MOMENT).to_dict()
    except BaseException as exc:  # an answer too: compared like any other
        return f"{type(exc).__name__}: {exc}"


alone = [verdict(data, fresh()) for data in datas]
wrong = []
sys.setswitchinterval(1e-6)
for round_ in range(rounds):
    store = fresh()
    barrier = threading.Barrier(threads, timeout=600)
    got = [None] * threads

    def work(index):
        barrier.wait()
        got[index] = [verdict(datas[(index + k) % len(datas)], store) for k in range(2)]

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for one in workers:
        one.start()
    for one in workers:
        one.join(600)
    for index in range(threads):
        for k in range(2):
            which = (index + k) % len(datas)
            if got[index] is None or got[index][k] != alone[which]:
                answer = None if got[index] is None else got[index][k]
                wrong.append({"round": round_, "thread": index, "file": names[which],
                              "got": answer if isinstance(answer, str) else json.dumps(
                                  answer, sort_keys=True, default=str)[:600]})
sys.setswitchinterval(0.005)
print(json.dumps({"alone": alone, "wrong": wrong}, sort_keys=True, default=str))
"""


def _race(corpus_pdf_dir: Path, how: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _RACE, str(corpus_pdf_dir), how, str(THREADS), str(ROUNDS),
         json.dumps(DOCUMENTS)],
        env={**os.environ, "KHO_SIGNATURE_FAST_PATH": "1"}, cwd=ROOT,
        capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _check(found: dict) -> None:
    alone = found["alone"]
    assert all(isinstance(one, dict) for one in alone), alone  # each file gets a verdict alone
    # the documents differ in what a race could change: verdicts, chains, time-stamps
    assert len({one["verdict"]["indication"] for one in alone}) >= 2
    signatures = [s for one in alone for s in one["signatures"]]
    assert any(s["chain"] for s in signatures) and any(not s["chain"] for s in signatures)
    assert len({s["signer"]["sha256"] for s in signatures if s["signer"]}) >= 4  # signers
    assert any(s["timestamp"] for s in signatures)
    wrong = found["wrong"]
    assert not wrong, f"{len(wrong)} of {THREADS * ROUNDS * 2} verdicts differ: {wrong[:3]}"


@pytest.mark.parametrize("how", ["worker", "unused"])
def test_sixteen_threads_verifying_real_documents_with_one_fresh_store_get_the_verdicts_of_one_thread(
    corpus_pdf_dir: Path, how: str
) -> None:
    """``worker``: the store as a worker keeps it (its trust manager built when it arrived);
    ``unused``: a store no thread has used, whose trust manager the racing threads build."""
    _check(_race(corpus_pdf_dir, how))
