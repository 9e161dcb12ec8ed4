"""Reading a trust list that holds a large CRL (issue 14, branch m47).

``kho trust add-crl`` stores a CRL as PEM; asn1crypto's PEM reader adds each base64 line to a
growing byte string (quadratic): a CRL of 100,000 entries (3.4 MB of PEM) took 22 s of CPU to
read at the start of every cold ``kho verify`` and of every process that reads the list.
Kho's reader (:func:`ingest.signatures.trust.pem_blocks`) gives what asn1crypto gives, in
linear time. Real CRLs signed by the test CA's key, a real managed trust list folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kho_crls import NEXT_UPDATE, THIS_UPDATE, make_crl, serial

from ingest.signatures import TrustStore, trustlist
from ingest.signatures.trust import pem_blocks
from ingest.testpki import REVOCATION_TIME, TestPKI

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.fixture
def listed(pki: TestPKI, tmp_path: Path) -> Path:
    """A managed trust list (in ``<data>/trust``) holding the shipped anchors and the test CA."""
    directory = tmp_path / "data" / "trust"
    trustlist.add(directory, pki.ca.cert_der, source="ingest/testpki.py", note="", by="qt", now=NOW,
                  name="kho-test-ca")
    return directory

_BLOCK = b"-----BEGIN CERTIFICATE-----\nTUFO\nTUFO\n-----END CERTIFICATE-----\n"
PEM_CASES = [
    _BLOCK,
    b"Subject: text a bundle prints before its block\n" + _BLOCK + b"trailing text",
    _BLOCK.replace(b"\n", b"\r\n"),
    b"-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\nTUFO\n"
    b"-----END CERTIFICATE-----\n",
    b"---- BEGIN X509 CRL ----\nQUJD\n---- END X509 CRL ----\n" + _BLOCK + _BLOCK,
    b"-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n",  # an empty block
    b"-----BEGIN X509 CRL-----\n\n\nQUJD\n\nQUJD\n-----END X509 CRL-----\n",  # blank lines
]
BROKEN_PEM = [
    b"no block at all",
    b"-----BEGIN CERTIFICATE-----\nTUFO\n",  # no END
    b"-----BEGIN CERTIFICATE-----\nTUF\n-----END CERTIFICATE-----\n",  # bad base64
    b"-----BEGIN X509 CRL-----\nTUF\n-----END X509 CRL-----\n" + _BLOCK,  # another kind, broken
    b"-----BEGIN CERTIFICATE-----\nName: \xff\n\nTUFO\n-----END CERTIFICATE-----\n",  # header
]


@pytest.mark.parametrize("data", PEM_CASES)
@pytest.mark.parametrize("kind", ["CERTIFICATE", "X509 CRL"])
def test_pem_blocks_gives_what_asn1crypto_gives(data: bytes, kind: str) -> None:
    expected = [der for found, _, der in pem.unarmor(data, multiple=True) if found == kind]
    assert pem_blocks(data, kind) == expected


@pytest.mark.parametrize("data", BROKEN_PEM)
def test_pem_blocks_refuses_what_asn1crypto_refuses(data: bytes) -> None:
    with pytest.raises(ValueError):
        list(pem.unarmor(data, multiple=True))
    with pytest.raises(ValueError):
        pem_blocks(data, "CERTIFICATE")


def large_crl(pki: TestPKI, size: int) -> bytes:
    """A real CRL of the test CA, signed by its key, of about ``size`` bytes of DER (one
    non-critical extension of that size: as long to read as a public CA's CRL of ~300,000
    entries, built in milliseconds)."""
    ca = cx509.load_der_x509_certificate(pki.ca.cert_der)
    key = serialization.load_der_private_key(pki.ca.key_der, password=None)
    filler = cx509.UnrecognizedExtension(cx509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x00" * size)
    builder = (
        cx509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(THIS_UPDATE)
        .next_update(NEXT_UPDATE)
        .add_extension(cx509.CRLNumber(7), critical=False)
        .add_extension(filler, critical=False)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


_READ = """
import json, sys
from pathlib import Path
from ingest.signatures import trustlist
folder = Path(sys.argv[1])
store = trustlist.resolve("", folder.parent)  # what kho verify reads (<KHO_DATA_DIR>/trust)
checked = trustlist.read(folder)  # what kho trust list reads, each file against the manifest
print(json.dumps({"crls": [len(c.dump()) for c in store.crls],
                  "listed": [c.sha256 for c in checked.crls],
                  "fingerprint": store.fingerprint}))
"""


def test_a_trust_list_with_a_large_crl_is_read_in_linear_time(pki: TestPKI, listed: Path) -> None:
    """An 8 MB CRL (11 MB of PEM in ``crls/``) is read by ``resolve`` and ``read`` well inside
    a generous minute (before: the quadratic PEM reader, ~4 minutes of CPU for this file)."""
    data = large_crl(pki, 8_000_000)
    entry = trustlist.add_crl(listed, data, source="https://ca.kho.test/ca.crl", note="", by="qt", now=NOW)
    stored = (listed / "crls" / entry.file).read_bytes()
    assert stored.startswith(b"-----BEGIN X509 CRL-----") and len(stored) > 10_000_000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _READ, str(listed)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout)
    assert found["crls"] == [len(data)]
    assert found["listed"] == [entry.sha256]


def test_a_path_no_crl_of_the_list_can_name_is_not_looked_up_and_others_still_are(
    pki: TestPKI, listed: Path
) -> None:
    """A CRL lists only certificates of its issuer: for a signer whose CAs (the path and the
    anchors above it) issued none of the list's CRLs, the lookup answers None without reading
    any CRL with cryptography (the child of a cold ``kho verify`` parsed every CRL of the list
    and checked the anchors' signatures for such a document); a path one of them names is
    still looked up, its intermediate anchor's CA included (rv52 #8)."""
    root_crl = make_crl(pki, {serial(pki.ca.cert_der): REVOCATION_TIME}, key=_root_key(pki),
                        issuer=_name(pki.root.cert_der))
    trustlist.add(listed, pki.root.cert_der, source="ingest/testpki.py", note="", by="qt", now=NOW,
                  name="kho-test-root")
    for data in (make_crl(pki, {serial(pki.revoked_personal.cert_der): REVOCATION_TIME}), root_crl):
        trustlist.add_crl(listed, data, source="https://ca.kho.test/ca.crl", note="", by="qt", now=NOW)
    store = trustlist.read(listed).store()
    for anchor in trustlist.shipped().certs:  # the Chính phủ CA below its root, and the others
        assert store.revocation([anchor]) is None
    assert "_readable_crls" not in store.__dict__  # no CRL read by cryptography
    assert "_above" not in store.__dict__  # no anchor's signature checked
    leaf = [asn1_x509.Certificate.load(d) for d in (pki.ca.cert_der, pki.revoked_personal.cert_der)]
    found = store.revocation(leaf)  # the signer first: the CA's CRL lists it
    assert found is not None and found.ca is False and found.reason == "key_compromise"
    root = asn1_x509.Certificate.load(pki.root.cert_der).subject.hashable
    by_root = [c for c in store.crls if c.issuer.hashable == root]
    only_root = TrustStore.from_certs(store.anchors, crls=by_root)
    found = only_root.revocation(leaf)  # lists the CA, itself an anchor
    assert found is not None and found.ca is True and found.date == REVOCATION_TIME

def _root_key(pki: TestPKI) -> ec.EllipticCurvePrivateKey:
    return serialization.load_der_private_key(pki.root.key_der, password=None)  # type: ignore[return-value]


def _name(cert_der: bytes) -> cx509.Name:
    return cx509.load_der_x509_certificate(cert_der).subject


def test_a_cold_kho_verify_with_a_large_crl_in_the_list_gives_its_verdict_promptly(
    pki: TestPKI, listed: Path, corpus_pdf_dir: Path
) -> None:
    """The whole ``kho`` program (``KHO_VERIFY_AGENT=0``, forked verification child) on an
    installation whose managed list holds an 8 MB CRL of the test CA: the government document
    keeps its verdict (no CRL of the list names its CAs), well inside a generous two minutes
    (before: the list's PEM read alone took ~4 minutes of CPU)."""
    trustlist.add_crl(listed, large_crl(pki, 8_000_000), source="https://ca.kho.test/ca.crl",
                      note="", by="qt", now=NOW)
    pdf = corpus_pdf_dir / "vn-gov__194-ttg.signed.pdf"
    env = {k: v for k, v in os.environ.items() if k != "KHO_TRUST_DIR"}
    env.update(KHO_VERIFY_AGENT="0", KHO_DATA_DIR=str(listed.parent), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "web.cli", "verify", "--json", str(pdf)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["verdict"]["indication"] == "TOTAL-PASSED"
