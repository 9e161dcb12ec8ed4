"""The address a request comes from, behind the reverse proxies the operator names.

Behind a proxy every request's ``REMOTE_ADDR`` is the proxy's: the login limiter counted every
person's failures under one address, and the audit log recorded the proxy for every act. The
``X-Forwarded-For`` header says who the proxy spoke for, but anyone may send it, so it is read
only when the request comes from a proxy listed in ``KHO_TRUSTED_PROXIES`` (empty by default:
the header is never read), and only as far back as the chain of listed proxies goes
(:func:`client_address`; werkzeug's ``ProxyFix`` trusts a fixed count of hops from whoever
connects instead).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

# Moved to repository.networks (review a22: the account service counts known networks too).
from repository.networks import IPV6_CLIENT_PREFIX as IPV6_CLIENT_PREFIX
from repository.networks import address_block as address_block

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(settings: tuple[str, ...]) -> tuple[Network, ...]:
    """The proxies of ``KHO_TRUSTED_PROXIES`` (checked by :mod:`kho.config`)."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in settings)


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> str:
    """Who a request comes from: ``peer`` (the connection's address) unless it is a trusted
    proxy; then the nearest address of ``X-Forwarded-For`` (read from the right) that is not a
    trusted proxy itself. A value that is not an address ends the walk at the last trusted hop
    (a forged or garbled header names nobody)."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    current = peer
    for hop in reversed((forwarded_for or "").split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return current
        current = hop
        if not _trusted(hop, proxies):
            return hop
    return current


class TrustedProxies:
    """WSGI middleware setting ``REMOTE_ADDR`` to :func:`client_address` (the proxy's own
    address kept as ``kho.proxy_addr``)."""

    def __init__(self, app: Callable[..., Any], proxies: tuple[Network, ...]) -> None:
        self.app, self.proxies = app, proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        client = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.proxies)
        if client != peer:
            environ["kho.proxy_addr"] = peer
            environ["REMOTE_ADDR"] = client
        return self.app(environ, start_response)
