"""Memoised X.509 name comparison for asn1crypto.

pyHanko and pyhanko-certvalidator compare distinguished names many times per signature
(``match_issuer_serial`` over every certificate in the CMS, the ESS signing-certificate check,
path building). asn1crypto compares names by RFC 4518 string preparation of every attribute
value, and caches the prepared value only on the parsed object, so each document (whose
certificates are parsed afresh) prepares the same few strings again, character by character
through :mod:`stringprep`. On generated two-signature documents this was about a fifth of the
verification time.

The preparation (a function of the string), name equality (a function of the two DER
encodings) and the name's lookup key (``Name.hashable``, a function of its encoding: the
certificate registry looks issuers up by it) are pure, so :func:`install` puts bounded memos
in front of ``NameTypeAndValue._ldap_string_prep``, ``Name.__eq__`` and ``Name.hashable``.
Results are identical (inputs that the preparation rejects raise again every time:
exceptions are not cached), which ``tests/signatures/test_sig_names.py`` checks against the
originals.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from asn1crypto import x509

_MEMO_SIZE = 8192
_original: Callable[[x509.NameTypeAndValue, str], str] | None = None
_original_name_eq: Callable[[x509.Name, object], bool] | None = None
_original_hashable: property | None = None


def install() -> None:
    """Put the memos in front of asn1crypto's string preparation, name equality and name
    key (once per process)."""
    global _original, _original_name_eq, _original_hashable
    if _original is not None:
        return
    original = x509.NameTypeAndValue._ldap_string_prep
    # The method never reads ``self``: one shared instance-free cache is correct.
    prototype = x509.NameTypeAndValue()

    @lru_cache(maxsize=_MEMO_SIZE)
    def prepared(value: str) -> str:
        return original(prototype, value)

    def memoised(self: x509.NameTypeAndValue, value: str) -> str:
        return prepared(value)

    name_eq = x509.Name.__eq__
    known: dict[tuple[bytes, bytes], bool] = {}

    def memoised_eq(self: x509.Name, other: object) -> bool:
        if not isinstance(other, x509.Name):
            return False
        # The RDN sequences' encodings: a Name inside a GeneralName carries a context tag
        # of its own that is not part of the name.
        key = (self.chosen.dump(), other.chosen.dump())
        found = known.get(key)
        if found is None:
            # byte-identical names still go through the RFC 4518 preparation: stock
            # asn1crypto rejects a name it cannot prepare even when compared with itself
            found = name_eq(self, other)
            if len(known) >= _MEMO_SIZE:
                known.clear()
            known[key] = found
        return found

    hashable = x509.Name.hashable
    hashables: dict[bytes, str] = {}

    def memoised_hashable(self: x509.Name) -> str:
        key = self.chosen.dump()
        found = hashables.get(key)
        if found is None:
            found = hashable.fget(self)  # type: ignore[misc]
            if len(hashables) >= _MEMO_SIZE:
                hashables.clear()
            hashables[key] = found
        return found

    _original = original
    _original_name_eq = name_eq
    _original_hashable = hashable
    x509.Name.hashable = property(memoised_hashable)  # type: ignore[method-assign,assignment]
    x509.NameTypeAndValue._ldap_string_prep = memoised  # type: ignore[method-assign]
    x509.Name.__eq__ = memoised_eq  # type: ignore[method-assign,assignment]


def original_names_equal(left: x509.Name, right: x509.Name) -> bool:
    """The unmemoised name comparison (for tests comparing the two)."""
    function = _original_name_eq or x509.Name.__eq__
    return function(left, right)


def original_hashable(name: x509.Name) -> str:
    """The unmemoised name key (for tests comparing the two)."""
    prop = _original_hashable or x509.Name.hashable
    return prop.fget(name)  # type: ignore[attr-defined,no-any-return]


def original_string_prep(value: str) -> str:
    """The unmemoised preparation (for tests comparing the two)."""
    function = _original or x509.NameTypeAndValue._ldap_string_prep
    return function(x509.NameTypeAndValue(), value)
