"""One parsed certificate object per distinct certificate, shared by every verification.

Documents from one agency carry the same certificates (signer, CA, time-stamping authority),
but each document's CMS is parsed afresh, and asn1crypto parses certificates lazily and caches
what it computes (extensions, key identifiers, name keys) on the parsed object. Every
document therefore paid again for parsing the same certificates and for every fact path
validation derives from them: about a fifth of the signature step on generated documents.

:func:`install` wraps ``extract_certificate_info`` as pyHanko's CMS validation calls it, so
that the certificates it returns are interned by their DER encoding: the first object seen
for an encoding (fully parsed before it is shared) stands for every later equal one. Equal
encodings are the same certificate, and neither pyHanko nor pyhanko-certvalidator mutates
certificate objects, so nothing that is checked or decided changes; the signer is still
identified in the CMS's own objects before its certificate is swapped for the shared one.
``tests/signatures/test_sig_certs.py`` checks the swap, and ``bench/eval_signatures.py
--compare`` still finds the corpus verdicts identical to a stock pyHanko run.
"""

from __future__ import annotations

import threading

from asn1crypto import x509
from pyhanko.sign.general import SignedDataCerts
from pyhanko.sign.validation import generic_cms

from ingest.signatures._asn1 import read_whole

_CAPACITY = 256  # about 50 KB per parsed certificate: at most ~13 MB per process
_lock = threading.Lock()
_shared: dict[bytes, x509.Certificate] = {}
_installed = False


def shared(cert: x509.Certificate) -> x509.Certificate:
    """The shared object for ``cert``'s encoding (``cert`` itself the first time)."""
    der = cert.dump()
    found = _shared.get(der)
    if found is not None:
        return found
    if not read_whole(cert):  # so that readers of the shared object only read
        return cert  # asn1crypto cannot read all of it: leave it to this document's checks
    with _lock:
        found = _shared.get(der)
        if found is None:
            if len(_shared) >= _CAPACITY:
                _shared.clear()
            _shared[der] = found = cert
    return found


def is_shared(cert: x509.Certificate, der: bytes) -> bool:
    """Whether ``cert`` (whose DER is ``der``) is the shared object for its encoding."""
    return _shared.get(der) is cert


def install() -> None:
    """Make pyHanko's CMS validation see shared certificate objects (once per process)."""
    global _installed
    if _installed:
        return
    extract = generic_cms.extract_certificate_info

    def extract_shared(signed_data: object) -> SignedDataCerts:
        found = extract(signed_data)
        return SignedDataCerts(
            signer_cert=shared(found.signer_cert),
            other_certs=[shared(c) for c in found.other_certs],
            attribute_certs=found.attribute_certs,
        )

    generic_cms.extract_certificate_info = extract_shared  # type: ignore[assignment]
    _installed = True
