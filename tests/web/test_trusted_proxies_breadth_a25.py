"""``KHO_TRUSTED_PROXIES`` that trusts everyone, or a very wide range (review a25; a24 open 3).

Every address inside a listed network is believed when it sends ``X-Forwarded-For``: a list
holding ``0.0.0.0/0`` (or a /8, or the IPv4-mapped IPv6 range) let any client choose the
address the login limiter, the known networks and the audit log see. Before, it was taken
silently; now the start is refused with ``TRUSTED_PROXIES_TOO_WIDE`` naming the variable,
unless ``KHO_TRUSTED_PROXIES_WIDE=true`` says the operator means it. The proxies' own
addresses and narrow networks are taken as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kho.config import Settings
from kho.errors import ConfigError

BASE = {"KHO_DATA_DIR": "/tmp/kho-a25-none"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "value",
    [
        "0.0.0.0/0",
        "::/0",
        "10.0.0.5, 0.0.0.0/0",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/15",
        "::ffff:0:0/96",
        "::ffff:10.0.0.0/104",
        "2001:db8::/32",
        "0.0.0.0/1",
        "128.0.0.0/1",
    ],
)
def test_a_proxy_list_that_trusts_everyone_or_a_wide_range_is_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigError) as refused:  # before: taken as it is
        Settings.from_env({**BASE, "KHO_TRUSTED_PROXIES": value})
    assert refused.value.code == "TRUSTED_PROXIES_TOO_WIDE"
    assert refused.value.details["variable"] == "KHO_TRUSTED_PROXIES"
    assert "KHO_TRUSTED_PROXIES" in refused.value.message and "quá rộng" in refused.value.message
    assert "KHO_TRUSTED_PROXIES_WIDE" in refused.value.message  # and how to mean it


@pytest.mark.parametrize(
    "value", ["10.0.0.5", "10.0.0.5,10.0.0.6", "10.0.0.0/24", "172.18.0.0/16", "2001:db8:1::/48", "::1"]
)
def test_the_proxies_own_addresses_and_narrow_networks_are_taken(value: str) -> None:
    assert Settings.from_env({**BASE, "KHO_TRUSTED_PROXIES": value}).trusted_proxies


def test_the_operator_may_mean_a_wide_range_explicitly() -> None:
    settings = Settings.from_env(
        {**BASE, "KHO_TRUSTED_PROXIES": "10.0.0.0/8", "KHO_TRUSTED_PROXIES_WIDE": "true"}
    )
    assert settings.trusted_proxies == ("10.0.0.0/8",)
    with pytest.raises(ConfigError) as refused:  # the switch is a plain yes/no
        Settings.from_env({**BASE, "KHO_TRUSTED_PROXIES": "10.0.0.0/8", "KHO_TRUSTED_PROXIES_WIDE": "maybe"})
    assert refused.value.details["variable"] == "KHO_TRUSTED_PROXIES_WIDE"


def test_the_command_line_stops_with_the_code_and_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "KHO_DATA_DIR": str(tmp_path), "KHO_TRUSTED_PROXIES": "0.0.0.0/0", "KHO_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "TRUSTED_PROXIES_TOO_WIDE" in done.stderr and "KHO_TRUSTED_PROXIES" in done.stderr
    assert "Traceback" not in done.stderr
