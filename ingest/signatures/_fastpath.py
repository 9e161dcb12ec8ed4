"""The fast path, switched on only inside the verification worker processes.

Its parts (:data:`kho.config.FAST_PATH_PARTS`) are the caching reader (:mod:`._reader`),
pausing the cyclic garbage collector during one verification, and memos that replace
functions of asn1crypto and pyHanko process-wide (:mod:`._names`; with the ``certs`` part
:mod:`._certs`, :mod:`._paths` and :mod:`._matches`). By default
every part is on (the name memo saves ~10 ms of the ~60 ms a two-signature document cost in
round 5b, the certificate memo ~8 ms of the ~52 ms in round 6c, see
:data:`kho.config.DEFAULT_FAST_PATH_PARTS`).
:func:`activate` is called only by :mod:`._pool`'s workers and forked children (and by tests
that compare the two paths): the web server, the pipeline process and any other code keep
stock libraries.

``KHO_SIGNATURE_FAST_PATH=0`` switches it off (stock pyHanko reader, no patches, the
collector left alone); verdicts are the same either way.
"""

from __future__ import annotations

import os

from kho.config import DEFAULT_FAST_PATH_PARTS as DEFAULT_PARTS
from kho.config import FAST_PATH_PARTS as PARTS
from kho.config import fast_path_parts as parts_of
from kho.errors import ConfigError

__all__ = ["DEFAULT_PARTS", "PARTS", "activate", "active", "parts_of", "uses", "wanted", "wanted_parts"]

_parts: frozenset[str] = frozenset()


def wanted_parts() -> frozenset[str]:
    """What ``KHO_SIGNATURE_FAST_PATH`` asks for (default: :data:`DEFAULT_PARTS`). A value that cannot be
    read turns the fast path off here (stock pyHanko: slower, never less exact); the settings
    refuse it with its message before any worker starts."""
    try:
        return parts_of(os.environ.get("KHO_SIGNATURE_FAST_PATH", "1"))
    except ConfigError:
        return frozenset()


def wanted() -> bool:
    return bool(wanted_parts())


def activate() -> bool:
    """Install the asked-for memos in this process; whether any part of the fast path is on."""
    global _parts
    if not _parts:
        parts = wanted_parts()
        if "names" in parts:
            from ingest.signatures import _names

            _names.install()
        if "certs" in parts:
            from ingest.signatures import _certs

            _certs.install()
            from ingest.signatures import _paths

            _paths.install()  # validated certificate paths remembered (:mod:`._paths`)
            from ingest.signatures import _matches

            _matches.install()  # which certificate a signature names, remembered (:mod:`._matches`)
        _parts = parts
    return bool(_parts)


def active() -> bool:
    return bool(_parts)


def uses(part: str) -> bool:
    """Whether ``part`` (one of :data:`PARTS`) is on in this process."""
    return part in _parts
