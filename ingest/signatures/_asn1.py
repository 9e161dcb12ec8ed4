"""Make a parsed asn1crypto certificate safe to share between threads (bench/NOTES-rv57.md).

Kho shares parsed certificates between the verifications of one process: the trust store's
anchors (pyHanko's trust manager reads them in every verification) and the certificates of
:mod:`._certs`. Two things asn1crypto does on a *read* would let one thread see another's
half-done work:

* it parses fields lazily and fills them in place, some in several steps (rv56; rv57:
  ``self_signed`` is ``"no"`` for a moment before it becomes ``"maybe"``): :func:`read_whole`
  computes all of them before the object is shared;
* ``dump()`` takes any header whose last octet is ``0x80`` for the indefinite length form and
  re-encodes the value in place (``contents = None`` then ``set(native)``; a structure's
  header ``None`` then rebuilt), on every call. A definite long-form length whose last octet
  is ``0x80`` (128, 384, 640 ... octets: a 128-octet issuer name is ``30 81 80``) is taken
  for one too (asn1crypto issue #249, unfixed in 1.5.1). A thread reading the value meanwhile
  gets ``None`` (``TypeError: ... PrintableString value must be a unicode string, not
  NoneType``: a valid signature judged unreadable) or a header ``None``. :func:`install`
  makes ``dump()`` force re-encoding only for a header whose last length really is the
  indefinite form; any other dump returns the encoding as read, as asn1crypto does for every
  other length. For DER input the bytes are the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from asn1crypto import core, x509

__all__ = ["falsely_indefinite", "install", "read_whole"]

_INDEFINITE = 0x80
_lock = threading.Lock()
_installed = False


def falsely_indefinite(header: bytes | None) -> bool:
    """Whether asn1crypto's test (the last octet of ``header`` is ``0x80``) would take
    ``header`` for the indefinite length form when its last length is definite. ``header``
    is one or more identifier and length octet groups (an explicit tag's come first); a header
    that cannot be read as such is left to asn1crypto's test (False)."""
    if not header or header[-1] != _INDEFINITE:
        return False
    index, size, indefinite = 0, len(header), False
    while index < size:
        if header[index] & 0x1F == 0x1F:  # high tag number: more identifier octets follow
            index += 1
            while index < size and header[index] & 0x80:
                index += 1
        index += 1
        if index >= size:
            return False
        first = header[index]
        indefinite = first == _INDEFINITE
        index += 1 + (first & 0x7F if first > _INDEFINITE else 0)
    return index == size and not indefinite


_Dump = Callable[..., bytes]


def _as_read(original: _Dump) -> _Dump:
    """``original`` (``Asn1Value.dump`` or a subclass's that ends in it), without the forced
    re-encoding for a falsely indefinite header: the encoding as read or last dumped."""

    def dump(self: Any, force: bool = False) -> bytes:
        if force or not falsely_indefinite(self._header):
            return original(self, force)
        contents = self.contents  # a changed structure encodes itself here and drops its header
        header = self._header
        if header is None:
            return original(self, force)  # changed since its last encoding: asn1crypto's way
        return header + contents + self._trailer  # type: ignore[no-any-return]

    dump.__wrapped__ = original  # type: ignore[attr-defined]
    return dump


def _choice_as_read(original: _Dump) -> _Dump:
    """``Choice.dump`` without the forced re-encoding for a falsely indefinite header (an
    explicit tag around 128 octets): the chosen value's dump under the header as read."""

    def dump(self: Any, force: bool = False) -> bytes:
        header = self._header
        if force or not falsely_indefinite(header):
            return original(self, force)
        contents = self.chosen.dump()
        self._contents = contents  # what stock dump() stores: the same bytes as before
        return header + contents  # type: ignore[no-any-return]

    dump.__wrapped__ = original  # type: ignore[attr-defined]
    return dump


def install() -> None:
    """Make asn1crypto's ``dump()`` re-encode in place only values whose length is really
    indefinite (once per process)."""
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        for cls in (core.Asn1Value, core.Primitive, core.Sequence, core.SequenceOf):
            cls.dump = _as_read(cls.__dict__["dump"])  # type: ignore[method-assign]
        core.Choice.dump = _choice_as_read(core.Choice.__dict__["dump"])  # type: ignore[method-assign]
        _installed = True


def read_whole(cert: x509.Certificate) -> bool:
    """Prepare ``cert`` to be read by several threads at once: :func:`install`, then compute
    every value asn1crypto would otherwise compute on first read and store in place in more
    than one step: its fields, names and extension values (``native``); the named extensions
    and the set of critical ones (``critical_extensions``: empties a set, then fills it);
    ``self_signed`` (stores ``"no"``, then ``"maybe"`` for a self-issued certificate: a
    thread reading meanwhile builds no path for a self-signed signer, rv57); the valid
    domain names and addresses (an empty list, then appends). Whether it could: a part
    asn1crypto cannot parse is left as it is (False), for the verification that reads it to
    judge."""
    install()
    try:
        _ = cert.native
        _ = cert.critical_extensions
        _ = cert.self_signed
        _ = cert.valid_domains
        _ = cert.valid_ips
    except Exception:  # ValueError, TypeError, KeyError from a part asn1crypto cannot read
        return False
    return True
