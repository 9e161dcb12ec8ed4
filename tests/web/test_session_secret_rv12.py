"""A session secret that repeats a piece is refused at start (review rv12 of a20): a20 refused a
value only when it was one piece repeated *whole*, so a name followed by ``"a" * 32`` or a short
pattern repeated with a remainder passed its rule, though anyone guessing would try them."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from kho.config import Settings, process_settings
from kho.errors import ConfigError

REPEATING = [
    "deployment-one-" + "a" * 32,  # a name and one character (11 different)
    "0123456789" * 3 + "01",  # a pattern repeated with a remainder
    "changeme-changeme-changeme-12345",  # a word repeated, then digits (13 different)
    "kho-secret-" + secrets.token_hex(8) + "-" + secrets.token_hex(4) * 2,  # a random piece twice
]


def _env(tmp_path: Path, secret: str) -> dict[str, str]:
    data = str(tmp_path / "data")
    return {"KHO_DATA_DIR": data, "KHO_AGENCY_ID": "000.00.18.H40", "KHO_SESSION_SECRET": secret}


@pytest.mark.parametrize("secret", REPEATING, ids=["name-aaaa", "pattern-remainder", "word", "piece-twice"])
def test_a_secret_that_repeats_a_piece_is_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env(_env(tmp_path, secret))
    assert refusal.value.details["variable"] == "KHO_SESSION_SECRET"
    assert secret not in refusal.value.message


def test_secrets_made_as_the_message_says_start(tmp_path: Path) -> None:
    for _ in range(300):
        for secret in (secrets.token_hex(32), secrets.token_urlsafe(32), " " + secrets.token_hex(32) + "\n"):
            Settings.from_env(_env(tmp_path, secret))  # starts
            assert process_settings(_env(tmp_path, secret)).session_secret == secret.strip()
