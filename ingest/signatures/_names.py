"""Memoised X.509 name comparison for asn1crypto.

pyHanko and pyhanko-certvalidator compare distinguished names many times per signature
(``match_issuer_serial`` over every certificate in the CMS, the ESS signing-certificate check,
path building). asn1crypto compares names by RFC 4518 string preparation of every attribute
value, and caches the prepared value only on the parsed object, so each document (whose
certificates are parsed afresh) prepares the same few strings again, character by character
through :mod:`stringprep`. On generated two-signature documents this was about a fifth of the
verification time.

The preparation is a pure function of the string, so :func:`install` puts a bounded memo in
front of ``NameTypeAndValue._ldap_string_prep``. Results are identical (strings that the
preparation rejects raise again every time: exceptions are not cached), which
``tests/signatures/test_names.py`` checks against the original on every name in the corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from asn1crypto import x509

_MEMO_SIZE = 8192
_original: Callable[[x509.NameTypeAndValue, str], str] | None = None


def install() -> None:
    """Put the memo in front of asn1crypto's string preparation (once per process)."""
    global _original
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

    _original = original
    x509.NameTypeAndValue._ldap_string_prep = memoised  # type: ignore[method-assign]


def original_string_prep(value: str) -> str:
    """The unmemoised preparation (for tests comparing the two)."""
    function = _original or x509.NameTypeAndValue._ldap_string_prep
    return function(x509.NameTypeAndValue(), value)
