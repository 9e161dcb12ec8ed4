"""The fast path, switched on only inside the verification worker processes.

It is the fast reader (:mod:`._reader`), the name and certificate memos that replace
functions of asn1crypto and pyHanko (:mod:`._names`, :mod:`._certs`) and pausing the cyclic
garbage collector during one verification. All of it changes process-wide state, so
:func:`activate` is called only by :mod:`._pool`'s workers (and by tests that compare the
two paths): the web server, the pipeline process and any other code keep stock libraries.

``KHO_SIGNATURE_FAST_PATH=0`` switches it off (stock pyHanko reader, no patches, the
collector left alone); verdicts are the same either way.
"""

from __future__ import annotations

import os

_active = False


def wanted() -> bool:
    """What ``KHO_SIGNATURE_FAST_PATH`` asks for (default on)."""
    value = os.environ.get("KHO_SIGNATURE_FAST_PATH", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def activate() -> bool:
    """Install the memos in this process when the fast path is wanted; whether it is on."""
    global _active
    if wanted() and not _active:
        from ingest.signatures import _certs, _names

        _names.install()
        _certs.install()
        _active = True
    return _active


def active() -> bool:
    return _active
