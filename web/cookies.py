"""The names of Kho's cookies (review a22).

With ``KHO_COOKIE_SECURE`` on, every cookie Kho sets carries the ``__Host-`` prefix: a browser
accepts such a cookie only from Kho's own host over a secure connection, with ``Path=/`` and no
``Domain``, so a sibling subdomain (``x.agency.gov.vn`` beside ``kho.agency.gov.vn``) can plant
neither a session (login CSRF: the victim working in the attacker's account, with a CSRF secret
the attacker knows) nor a cookie of the device cookie's name. Without ``Secure`` (plain http on
loopback, the tests) the names stay unprefixed.

Upgrading: the session is read under its prefixed name only, so an upgrade ends every page
session once (each person logs in again); reading the old ``kho_session`` would keep the
planting this prefix closes. Device cookies are read under both names for one release
(:data:`LEGACY_DEVICE_READ`): a planted device token is refused like any other forged one, and a
known browser stays known across the upgrade; the answer that sets the prefixed cookie removes
the old one.

The prefix does not stop a sibling subdomain from *evicting* Kho's cookies by filling the
browser's per-site cookie jar (measured in Chromium: 200 cookies for ``Domain=<parent>`` evict a
``__Host-`` cookie, whatever its ``Priority``); NOTES-a22.
"""

from __future__ import annotations

HOST_PREFIX = "__Host-"
SESSION = "kho_session"
LEGACY_DEVICE_READ = True
"""Read device cookies under the unprefixed names of earlier releases (one release: NOTES-a22)."""


def name(base: str, secure: bool) -> str:
    """The cookie name Kho sets for ``base`` (``kho_session``, ``kho_device_<user>``)."""
    return HOST_PREFIX + base if secure else base


def device_read_names(base: str, secure: bool) -> tuple[str, ...]:
    """The names a device cookie of ``base`` is read under, the current one first."""
    current = name(base, secure)
    return (current, base) if LEGACY_DEVICE_READ and current != base else (current,)
