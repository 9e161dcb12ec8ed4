"""Client addresses as Kho counts them (pure): one client is an IPv4 address or an IPv6 /64.

Used by the login limits (:class:`web.pages.common.LoginLimiter`) and by the account's known
networks (:attr:`repository.accounts.Account.known_networks`, review a22)."""

from __future__ import annotations

import ipaddress

IPV6_CLIENT_PREFIX = 64
"""The IPv6 network one client is given (RFC 6177: a subscriber gets a /64 or more): the login
limits count it as one address (:func:`address_block`)."""


def address_block(address: str) -> str:
    """What the login limits count as one client: an IPv4 address (mapped into IPv6 or not)
    itself, an IPv6 address its /:data:`IPV6_CLIENT_PREFIX` network; anything else as written.
    Keyed by the full IPv6 address, a client turning through the 2^64 addresses of its line
    escaped both the per-address and the per-name budget."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def network_of(source: str | None) -> str | None:
    """The client block of ``source`` when it is an IP address (a web door), else None (``cli``,
    ``test``, nothing)."""
    if not source:
        return None
    try:
        ipaddress.ip_address(source.strip())
    except ValueError:
        return None
    return address_block(source)
