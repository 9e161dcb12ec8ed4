"""Signature checks remembered by what was checked, for the verification workers.

Path validation checks the signature on every certificate of a chain (the signer's, its CA's,
the time-stamping authority's), and documents from one agency carry the same chains: each
document checked the same few certificate signatures again (6 of the 10 public-key operations
of a generated two-signature document with its two time-stamps, ~80 µs each with ECDSA P-256:
~0.5 ms of its ~20 ms; bench/NOTES-m14.md). Whether a signature verifies is a function
of the signature, the signed bytes, the public key, the algorithm and the check's context only,
so :class:`RememberingSignatureValidator` keeps the successful checks, keyed by those exact
bytes (the DER encodings of the key and algorithm): a later check of the very same bytes is
answered without the public-key operation. Nothing that differs in any byte can match (the
keys are compared whole, not by a digest), failures are never kept (they raise again, with
pyhanko-certvalidator's own error), and signed data larger than :data:`MAX_SIGNED_BYTES` (a
CMS without signed attributes signs the document itself) is checked without being remembered.

It reaches pyHanko as the validation context's ``signature_validator`` (a documented
parameter), only where the fast path's ``certs`` part is on (the workers): the stock path keeps
pyhanko-certvalidator's default validator. ``tests/signatures/test_sig_sigcheck.py`` checks it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from asn1crypto import algos, keys
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

__all__ = ["MAX_SIGNED_BYTES", "RememberingSignatureValidator", "shared_validator"]

MAX_SIGNED_BYTES = 16 * 1024  # a certificate's TBS part or a CMS's signed attributes fit easily
_CAPACITY = 256  # at most ~5 MB of keys per process

_Key = tuple[bytes, bytes, bytes, bytes, SignatureValidationContext]


class RememberingSignatureValidator(DefaultSignatureValidator):
    """pyhanko-certvalidator's default validator, remembering the checks that succeeded."""

    def __init__(self, capacity: int = _CAPACITY) -> None:
        self._capacity = capacity
        self._verified: OrderedDict[_Key, None] = OrderedDict()
        self._lock = threading.Lock()

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        key = _key(signature, signed_data, public_key_info, signature_algorithm, context)
        if key is not None:
            with self._lock:
                if key in self._verified:
                    self._verified.move_to_end(key)
                    return
        super().validate_signature(
            signature, signed_data, public_key_info, signature_algorithm, context
        )  # raises when the signature does not verify: nothing is kept then
        if key is not None:
            with self._lock:
                self._verified[key] = None
                while len(self._verified) > self._capacity:
                    self._verified.popitem(last=False)

    def kept(self) -> int:
        """How many checks are remembered (no ``__len__``: pyhanko-certvalidator replaces a
        falsy validator by its default)."""
        return len(self._verified)


def _key(
    signature: object,
    signed_data: object,
    public_key_info: object,
    signature_algorithm: object,
    context: object,
) -> _Key | None:
    """The exact bytes of a check, or ``None`` where it is not remembered (unexpected types,
    large signed data, an encoding asn1crypto cannot produce)."""
    if type(signature) is not bytes or type(signed_data) is not bytes:
        return None
    if len(signed_data) > MAX_SIGNED_BYTES or not isinstance(context, SignatureValidationContext):
        return None
    if not isinstance(public_key_info, keys.PublicKeyInfo) or not isinstance(
        signature_algorithm, algos.SignedDigestAlgorithm
    ):
        return None
    try:
        return (signature, signed_data, public_key_info.dump(), signature_algorithm.dump(), context)
    except Exception:  # left to the validator, which judges what it cannot read
        return None


_shared = RememberingSignatureValidator()


def shared_validator() -> RememberingSignatureValidator:
    """The one remembering validator of this process (a verification worker)."""
    return _shared
