"""The login limits count an IPv6 client by its /64, not by each of its addresses (r27, after
m5's per-address budget): one subscriber's line has 2^64 addresses to turn through."""

from __future__ import annotations

from flask.testing import FlaskClient
from kho_people import People
from kho_web import api_login_from

from web.proxies import address_block


def test_a_spray_from_one_ipv6_network_turning_through_its_addresses_is_slowed(
    client: FlaskClient, people: People
) -> None:
    """m5's per-address budget (50 failures in 15 minutes over every name) and the per-name one
    (10) were keyed by the full address. An IPv6 client is given a /64 (2^64 addresses): a
    spray that took a new address of its /64 for every try was never slowed, and one name could
    be guessed 10 times per address, without end. Both budgets now count the /64 of an IPv6
    address (an IPv4 address stays itself); another /64 is not slowed."""
    prefix = "2001:db8:0:7:"
    answers = [api_login_from(client, f"khong-co-{i}.ubnd", f"{prefix}:{i + 1:x}") for i in range(55)]
    assert answers[:50] == [401] * 50
    assert answers[50:] == [429] * 5
    assert api_login_from(client, "khong-co-moi.ubnd", "2001:db8:0:8::1") == 401
    # One name, a new address each try: the per-name budget (10) holds across the /64.
    name = people.usernames["van_thu"]
    tries = [api_login_from(client, name, f"2001:db8:0:9::{i + 1:x}") for i in range(12)]
    assert tries[:10] == [401] * 10 and tries[10:] == [429] * 2
    # The blocks themselves: an IPv4 address is itself, a mapped one too, v6 is its /64.
    assert address_block("198.51.100.7") == "198.51.100.7"
    assert address_block("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_block("2001:db8:0:7::1") == address_block("2001:db8:0:7:ffff::2") == "2001:db8:0:7::/64"
    assert address_block("not an address") == "not an address"
