"""Certificate paths that validated, remembered for the verification workers.

Every document of one agency carries the same two chains (the signer's, the time-stamping
authority's), and pyHanko validated each again in every document: 4 path validations of a
bench document (two signatures, each with its time-stamp token), ~5 of the ~46 ms a document
cost under cProfile (bench/NOTES-m38.md). :func:`install` wraps
``pyhanko_certvalidator.async_validate_path`` as ``find_valid_path`` (pyHanko's CMS
validation) calls it, so that a path that validated is not validated again when nothing the
answer depends on has changed.

What RFC 5280 path validation (``intl_validate_path``) reads, and how each part is held:

* the path: the DER of every certificate from the first below the anchor to the leaf, and the
  trust anchor's certificate DER and its qualifiers: all in the key, compared whole;
* the validation context's settings: only contexts that :func:`register` was given are
  remembered for (those built by ``verify._validation_context``, whose revocation mode,
  weak-hash list and signature validator are fixed); the trust manager itself (by identity:
  a trust store read again is another object), the revocation policy, the time tolerance, the
  algorithm policy's exact class and thresholds, and the signature validator are in the key;
* revocation material: a context that holds any CRL or OCSP response, or that may fetch, is
  never remembered for nor answered from (its answer depends on that material and on the
  moment against its update times); without material and without fetching nothing revocation
  checking reads depends on the moment. The trust list's CRLs (``kho trust add-crl``) never
  enter a validation context: they are looked up after the path validated
  (:meth:`TrustStore.revocation`), so a remembered path never hides them (u28);
* the moment: compared only with each certificate's validity (widened by the tolerance) and
  the anchor's qualifiers (``valid_from``, ``valid_until``); the algorithm policy
  (``DisallowWeakAlgorithmsPolicy``, exact class only) ignores it. A success is stored with the
  window those bounds allow, and answers only a moment inside it: a moment past a
  certificate's expiry (or before its start) validates again and fails as before.
* ``parameters`` (PKIX initial policy set etc.): only ``None`` is remembered for.

Only successes are kept: a failure raises again, with its own error, every time. The one
side effect on the path that later code reads (its qualified policies) is replayed on a hit.
The other side effect, ``record_validation`` on the context, is read only while validating a
CRL issuer's path (``revinfo/validate_crl.py``), which a context without CRLs never does.
``tests/signatures/test_sig_paths.py`` checks that another trust list, a moment across an
expiry and a CRL revoking the signer each get their own answer.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from asn1crypto import x509

__all__ = ["install", "kept", "register"]

_CAPACITY = 256  # a key is a few certificates' DER: at most ~1 MB per process

_lock = threading.Lock()
_kept: OrderedDict[Hashable, tuple[datetime, datetime, Any]] = OrderedDict()
_registered: weakref.WeakSet[Any] = weakref.WeakSet()
_cert_facts: dict[int, tuple[x509.Certificate, tuple[bytes, datetime, datetime]]] = {}
_installed = False


def register(validation_context: Any) -> None:
    """Allow remembering paths validated in ``validation_context`` (one built with Kho's fixed
    settings)."""
    _registered.add(validation_context)


def kept() -> int:
    """How many validated paths are remembered."""
    return len(_kept)


def clear() -> None:
    with _lock:
        _kept.clear()
        _cert_facts.clear()


def _facts(cert: object) -> tuple[bytes, datetime, datetime]:
    """A certificate's DER and validity bounds, read once per certificate object. The object
    is held with its facts, so its ``id`` cannot be reused meanwhile; certificate objects are
    not mutated by pyHanko or pyhanko-certvalidator (the premise :mod:`._certs` shares them
    on), so the DER read once is the DER ``dump()`` would give."""
    if type(cert) is not x509.Certificate:
        raise TypeError("not an X.509 certificate")  # not remembered (see _plan's caller)
    found = _cert_facts.get(id(cert))
    if found is not None and found[0] is cert:
        return found[1]
    validity = cert["tbs_certificate"]["validity"]
    facts = (cert.dump(), validity["not_before"].native, validity["not_after"].native)
    with _lock:
        if len(_cert_facts) >= _CAPACITY:
            _cert_facts.clear()
        _cert_facts[id(cert)] = (cert, facts)
    return facts


def _plan(validation_context: Any, path: Any, parameters: Any) -> tuple[Hashable, datetime, datetime] | None:
    """The key of a validation and the window of moments its success holds for, or ``None``
    where it is not remembered."""
    from pyhanko_certvalidator.authority import AuthorityWithCert
    from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

    vc = validation_context
    if parameters is not None or vc not in _registered:
        return None
    if vc.crls or vc.ocsps or vc.fetching_allowed:
        return None
    policy = vc.algorithm_policy
    if type(policy) is not DisallowWeakAlgorithmsPolicy:
        return None
    if type(path.leaf) is not x509.Certificate or path.pkix_len < 1:
        return None
    anchor = path.trust_anchor
    if not isinstance(anchor.authority, AuthorityWithCert):
        return None
    quals = anchor.trust_qualifiers
    tolerance = vc.time_tolerance
    certs = [_facts(path[index]) for index in range(1, path.pkix_len + 1)]
    starts = [start - tolerance for _, start, _ in certs]
    ends = [end + tolerance for _, _, end in certs]
    if quals.valid_from is not None:
        starts.append(quals.valid_from)
    if quals.valid_until is not None:
        ends.append(quals.valid_until)
    key = (
        vc.path_builder.trust_manager,  # identity: no __eq__
        _facts(anchor.authority.certificate)[0],
        quals,
        tuple(der for der, _, _ in certs),
        tolerance,
        vc.revinfo_policy,
        frozenset(policy.weak_hash_algos),
        frozenset(policy.weak_signature_algos),
        policy.rsa_key_size_threshold,
        policy.dsa_key_size_threshold,
        vc.sig_validator,
    )
    hash(key)  # TypeError where a part cannot be compared: not remembered
    return key, max(starts), min(ends)


def install() -> None:
    """Make ``find_valid_path`` answer from remembered validations (once per process)."""
    global _installed
    if _installed:
        return
    import pyhanko_certvalidator

    validate = pyhanko_certvalidator.async_validate_path

    async def validate_remembering(validation_context: Any, path: Any, parameters: Any = None) -> Any:
        try:
            plan = _plan(validation_context, path, parameters)
        except Exception:  # a part the plan cannot read: validated as it is, not remembered
            plan = None
        if plan is not None:
            key, start, end = plan
            moment = validation_context.moment
            with _lock:
                found = _kept.get(key)
                if found is not None:
                    _kept.move_to_end(key)
            if found is not None and found[0] <= moment <= found[1]:
                path._set_qualified_policies(found[2])
                return path.last
        result = await validate(validation_context, path, parameters)  # raises on failure
        if plan is not None:
            key, start, end = plan
            if start <= validation_context.moment <= end:  # always so after a success
                with _lock:
                    _kept[key] = (start, end, path.qualified_policies())
                    while len(_kept) > _CAPACITY:
                        _kept.popitem(last=False)
        return result

    pyhanko_certvalidator.async_validate_path = validate_remembering  # type: ignore[assignment]
    _installed = True
