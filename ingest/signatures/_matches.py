"""Which certificate a signature names, remembered for the verification workers.

Every CMS structure pyHanko validates (a signature, its time-stamp token) asks twice which of
its certificates it names: sorting the embedded certificates into signer and others
(``extract_certificate_info`` → ``match_issuer_serial`` against the signer identifier, once per
embedded certificate, at least twice per CMS) and checking that the signed attributes'
signing-certificate attribute names the signer's certificate (``_check_signing_certificate`` →
``check_ess_certid``: a digest of the certificate's DER and ``match_issuer_serial`` against the
attribute's ``IssuerSerial``). Both compare X.500 names, which asn1crypto normalises afresh on
every freshly parsed document: ~5.7 of the ~46 ms a bench document cost under cProfile
(bench/NOTES-m38.md §1). Every document of one agency asks the same questions with the same
bytes.

Both functions are pure functions of the exact bytes of their two arguments: they read only
values asn1crypto parses from those encodings (issuer name, serial number, the ESS identifier's
hash algorithm, digest and ``IssuerSerial``) and no time, context or configuration. The key
holds both arguments' whole DER and their asn1crypto classes (the class decides how the bytes
are read: ``ESSCertID`` is SHA-1 by definition, ``ESSCertIDv2`` names its algorithm; a
``GeneralNames`` issuer is unwrapped, a ``Name`` is not), compared whole, no digest. A call that
raises is not remembered (it raises again). The answer is a ``bool``: nothing else is returned
and neither function has side effects.

pyHanko offers no hook for either, so :func:`install` (called once by
:func:`._fastpath.activate` with the ``certs`` part, never at import time) replaces
``pyhanko.sign.general.match_issuer_serial`` (the module global its callers there use: the
signer predicate and ``check_ess_certid``) and ``generic_cms.check_ess_certid`` (the name
``_check_signing_certificate`` calls). A certificate's DER is read once per shared certificate
object of :mod:`._certs` (the same no-mutation premise); any other object's is read with
``dump()`` each time. Bound: 1024 answers per function, least recently used dropped.
``tests/signatures/test_sig_matches.py`` checks that another certificate, another signer
identifier and a tampered signing-certificate attribute each get their own answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from asn1crypto import x509

__all__ = ["clear", "install", "kept"]

_CAPACITY = 1024  # a key is two DER encodings (~1–2 KB): at most ~4 MB per function
_lock = threading.Lock()
_answers: dict[str, OrderedDict[Hashable, bool]] = {
    "issuer_serial": OrderedDict(),
    "ess_certid": OrderedDict(),
}
_der_of: dict[int, tuple[x509.Certificate, bytes]] = {}
_installed = False


def kept(kind: str) -> int:
    """How many answers of ``kind`` (``issuer_serial`` or ``ess_certid``) are remembered."""
    return len(_answers[kind])


def clear() -> None:
    with _lock:
        for answers in _answers.values():
            answers.clear()
        _der_of.clear()


def _cert_der(cert: x509.Certificate) -> bytes:
    """``cert``'s DER; read once for the shared objects of :mod:`._certs` (held with it, so its
    ``id`` is not reused), by ``dump()`` for any other object."""
    found = _der_of.get(id(cert))
    if found is not None and found[0] is cert:
        return found[1]
    der = cert.dump()
    from ingest.signatures import _certs

    if _certs.is_shared(cert, der):
        with _lock:
            if len(_der_of) >= _CAPACITY:
                _der_of.clear()
            _der_of[id(cert)] = (cert, der)
    return der


def _remembering(
    kind: str, compute: Callable[[Any, Any], bool], cert_first: bool
) -> Callable[[Any, Any], bool]:
    """``compute`` (``(expected, cert)``, or ``(cert, expected)`` where ``cert_first``) with its
    answers remembered by both arguments' exact bytes."""
    answers = _answers[kind]

    def answer(first: Any, second: Any) -> bool:
        expected, cert = (second, first) if cert_first else (first, second)
        try:
            if type(cert) is not x509.Certificate:
                raise TypeError("not an X.509 certificate")
            key: Hashable | None = (type(expected), expected.dump(), _cert_der(cert))
        except Exception:  # bytes that cannot be read whole: answered as they are, not remembered
            key = None
        if key is not None:
            with _lock:
                found = answers.get(key)
                if found is not None:
                    answers.move_to_end(key)
            if found is not None:
                return found
        result = compute(first, second)  # raises: not remembered
        if key is not None and type(result) is bool:
            with _lock:
                answers[key] = result
                while len(answers) > _CAPACITY:
                    answers.popitem(last=False)
        return result

    answer.__wrapped__ = compute  # type: ignore[attr-defined]
    return answer


def install() -> None:
    """Make pyHanko's certificate matching answer from remembered answers (once per process)."""
    global _installed
    if _installed:
        return
    from pyhanko.sign import general
    from pyhanko.sign.validation import generic_cms

    general.match_issuer_serial = _remembering(
        "issuer_serial", general.match_issuer_serial, cert_first=False
    )  # type: ignore[assignment]
    generic_cms.check_ess_certid = _remembering(
        "ess_certid", generic_cms.check_ess_certid, cert_first=True
    )  # type: ignore[assignment]
    _installed = True
