"""Reading a certificate that Kho shares between threads must not write to it (bench/NOTES-rv57.md).

Kho shares parsed asn1crypto certificates between the verifications of one process: the
certificates of the CMS (:func:`ingest.signatures._certs.shared`) and the trust store's anchors
(read by pyHanko's trust manager, :attr:`TrustStore.trust_manager`). rv56 parsed them whole
before sharing them; two reads still wrote to them, and a thread reading meanwhile judged a
document wrongly in about one run in eight of ``test_sig_verify_threads_rv56.py``:

* ``self_signed`` stores ``"no"`` and only then ``"maybe"``: a self-signed signer
  (``dss__dss-2236_replace.pdf``) got NO_CERTIFICATE_CHAIN_FOUND instead of the chain
  constraints failure it gets alone;
* ``dump()`` re-encodes in place, on every call, a value whose header's last octet is ``0x80``
  (asn1crypto takes a definite length of 128 octets, ``30 81 80``, for the indefinite form):
  the time-stamping authority of ``dss__doc-firmado-T.pdf`` has such an issuer name, and a
  thread reading it meanwhile got ``None`` (a valid signature judged unreadable: TypeError).

Here the reads themselves race, many times, so that the race shows in nearly every run of the
code before the fix (700 of 1,000 trials for ``self_signed``, 420 of 1,000 for the name); the
whole-verification test stays beside it. A fresh interpreter: the switch interval is made tiny
there (1 µs) and nothing depends on speed.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import core, x509
from pyhanko.pdf_utils.reader import PdfFileReader

from ingest.signatures import _certs
from ingest.signatures.trust import TrustStore

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 200
THREADS = 8

_RACE = """
import io, json, sys, threading
from pathlib import Path
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from ingest.signatures import _certs
from ingest.signatures.trust import TrustStore

corpus, how, trials, threads = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def first_signature(name):
    return PdfFileReader(io.BytesIO((corpus / name).read_bytes())).embedded_signatures[0]


self_signed = first_signature("dss__dss-2236_replace.pdf").signer_cert.dump()
token = first_signature("dss__doc-firmado-T.pdf").signer_info["unsigned_attrs"][0]["values"][0]
tsa = token["content"]["certificates"][0].chosen.dump()
lists = TrustStore.from_dir(corpus / "trust")


def shared():  # fresh certificates, shared the way Kho shares them
    if how == "certs":
        _certs._shared.clear()
        return [_certs.shared(x509.Certificate.load(der)) for der in (self_signed, tsa)]
    store = TrustStore.from_der(lists.der + (self_signed, tsa), lists.source)
    _ = store.trust_manager  # the anchors are prepared for pyHanko here
    return list(store.anchors)


def read(certs):
    return [(c.self_signed, c.issuer.chosen.dump(), c.subject.chosen.dump(),
             [str(atv["value"].native) for rdn in c.issuer.chosen for atv in rdn]) for c in certs]


def answer(certs):
    try:
        return read(certs)
    except Exception as exc:  # an answer too: compared like any other
        return f"{type(exc).__name__}: {exc}"


alone = answer(shared())
wrong = []
sys.setswitchinterval(1e-6)
for trial in range(trials):
    certs = shared()
    barrier = threading.Barrier(threads, timeout=600)
    got = [None] * threads

    def work(index):
        barrier.wait()
        got[index] = answer(certs)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for one in workers:
        one.start()
    for one in workers:
        one.join(600)
    wrong += [{"trial": trial, "got": str(one)[:300]} for one in got if one != alone]
sys.setswitchinterval(0.005)
print(json.dumps({"alone": str(alone)[:2000], "selfsigned": [a[0] for a in alone],
                  "names": [len(a[1]) for a in alone], "wrong": wrong}))
"""


@pytest.mark.parametrize("how", ["certs", "anchors"])
def test_threads_reading_a_shared_certificate_all_read_what_one_thread_alone_reads(
    corpus_pdf_dir: Path, how: str
) -> None:
    """``certs``: certificates shared by ``_certs.shared``; ``anchors``: the anchors of a trust
    store once its trust manager is built (a store holding the same two certificates)."""
    done = subprocess.run(
        [sys.executable, "-c", _RACE, str(corpus_pdf_dir), how, str(TRIALS), str(THREADS)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert "maybe" in found["selfsigned"], found["alone"]  # the self-signed signer, read alone
    assert any(length == 2 + 1 + 128 for length in found["names"]), found["alone"]  # 30 81 80 ...
    wrong = found["wrong"]
    assert not wrong, f"{len(wrong)} of {TRIALS * THREADS} reads differ: {wrong[:3]}"


def _first_signature(corpus_pdf_dir: Path, name: str) -> object:
    return PdfFileReader(io.BytesIO((corpus_pdf_dir / name).read_bytes())).embedded_signatures[0]


def _self_signed_der(corpus_pdf_dir: Path) -> bytes:
    return _first_signature(corpus_pdf_dir, "dss__dss-2236_replace.pdf").signer_cert.dump()  # type: ignore[attr-defined,no-any-return]


def _tsa_der(corpus_pdf_dir: Path) -> bytes:
    signature = _first_signature(corpus_pdf_dir, "dss__doc-firmado-T.pdf")
    token = signature.signer_info["unsigned_attrs"][0]["values"][0]  # type: ignore[attr-defined]
    return token["content"]["certificates"][0].chosen.dump()  # type: ignore[no-any-return]


def _tree(value: object) -> Iterator[core.Asn1Value]:
    """``value`` and every asn1crypto object it holds (children, parsed values, caches)."""
    if isinstance(value, core.Asn1Value):
        yield value
        for held in vars(value).values():
            yield from _tree(held)
    elif isinstance(value, list | tuple):
        for one in value:
            yield from _tree(one)


def _state(value: core.Asn1Value) -> dict[tuple[int, str], int]:
    """Which object each attribute of each object in ``value`` holds (a rewrite, even of equal
    bytes, is a write another thread can see half done)."""
    return {(id(one), name): id(held) for one in _tree(value) for name, held in vars(one).items()}


def _shared_ways(corpus_pdf_dir: Path, der: bytes) -> Iterator[x509.Certificate]:
    """``der`` shared by ``_certs.shared``, and as the anchor of a store whose trust manager
    is built."""
    _certs._shared.clear()
    yield _certs.shared(x509.Certificate.load(der))
    store = TrustStore.from_der((der,), "rv57")
    _ = store.trust_manager
    yield store.anchors[0]


def test_reading_whether_a_shared_self_signed_certificate_is_self_signed_writes_nothing(
    corpus_pdf_dir: Path,
) -> None:
    """asn1crypto stores ``"no"`` before ``"maybe"``: computed before the certificate is shared,
    the read only reads."""
    for cert in _shared_ways(corpus_pdf_dir, _self_signed_der(corpus_pdf_dir)):
        before = _state(cert)
        assert cert.self_signed == "maybe"
        assert _state(cert) == before


def test_dumping_a_128_octet_name_of_a_shared_certificate_writes_nothing(corpus_pdf_dir: Path) -> None:
    """A definite length of 128 octets (``30 81 80``) is not the indefinite form: ``dump()``
    returns the encoding as read, the same bytes, without re-encoding the name in place."""
    der = _tsa_der(corpus_pdf_dir)
    for cert in _shared_ways(corpus_pdf_dir, der):
        name = cert.issuer.chosen
        assert name.dump()[:3] == bytes.fromhex("308180")
        before = _state(name)
        assert name.dump() in der and cert.issuer.dump() in der and cert.dump() == der
        assert _state(name) == before


def test_an_indefinite_length_is_still_re_encoded_as_der() -> None:
    """What asn1crypto's re-encoding is for stays: a BER indefinite length dumps as DER."""
    from ingest.signatures import _asn1

    _asn1.install()
    ber = bytes.fromhex("3080" + "0403666f6f" + "0000")
    value = core.Sequence.load(ber)
    assert value.dump() == bytes.fromhex("3005" + "0403666f6f")
    assert _asn1.falsely_indefinite(bytes.fromhex("308180"))
    assert _asn1.falsely_indefinite(bytes.fromhex("30820180"))
    assert _asn1.falsely_indefinite(bytes.fromhex("a0818330818 0".replace(" ", "")))
    assert not _asn1.falsely_indefinite(bytes.fromhex("3080"))
    assert not _asn1.falsely_indefinite(bytes.fromhex("a08130 3080".replace(" ", "")))
    assert not _asn1.falsely_indefinite(bytes.fromhex("1f8100 80".replace(" ", "")))  # high tag number
    assert not _asn1.falsely_indefinite(bytes.fromhex("300a"))
    assert not _asn1.falsely_indefinite(None)
