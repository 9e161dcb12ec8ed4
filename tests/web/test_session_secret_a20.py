"""``KHO_SESSION_SECRET`` is refused at start when it is too weak to sign the pages' cookies
(review a20): whoever knows it forges any session's cookie content (the ``change_for`` of a
password change, the CSRF and one-time form values, NOTES-a16). Before, any value was taken and
a missing one was only a warning. A missing one still starts (each process draws its own, which
is safe: sessions end with the process), so the one-command demo runs on a fresh data folder."""

from __future__ import annotations

import secrets
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kho.config import Settings
from kho.errors import ConfigError
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
WEAK = [
    "changeme",  # short
    "0123456789abcdef0123456789abcde",  # 31 characters
    "a" * 64,  # one character
    "changeme" * 4,  # 7 different characters
    "abcdefghij" * 4,  # 10 different, but one piece repeated
    secrets.token_hex(8) * 4,  # random-looking, but repeated
]


def _env(tmp_path: Path, secret: str) -> dict[str, str]:
    return {
        "KHO_DATA_DIR": str(tmp_path / "data"),
        "KHO_AGENCY_ID": "000.00.18.H40",
        "KHO_SESSION_SECRET": secret,
    }


@pytest.mark.parametrize(
    "secret", WEAK, ids=["short", "31-chars", "one-char", "7-distinct", "repeated", "random-repeated"]
)
def test_a_weak_session_secret_is_refused_at_start_with_how_to_make_one(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ConfigError) as refusal:
        Settings.from_env(_env(tmp_path, secret))
    error = refusal.value
    assert error.code == "CONFIG_INVALID" and error.details["variable"] == "KHO_SESSION_SECRET"
    assert "KHO_SESSION_SECRET" in error.message and "secrets.token_hex(32)" in error.message
    assert secret not in error.message  # the refused value is not echoed into logs
    assert unicodedata.is_normalized("NFC", error.message)


def test_the_web_app_refuses_a_weak_secret_even_when_settings_were_made_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages read the secret when the app is made (``register_pages``): a secret set after the
    settings were read is checked there too."""
    settings = Settings.from_env(_env(tmp_path, ""))
    monkeypatch.setenv("KHO_SESSION_SECRET", "changeme" * 4)
    with pytest.raises(ConfigError) as refusal:
        create_app(settings)
    assert refusal.value.details["variable"] == "KHO_SESSION_SECRET"


@pytest.mark.parametrize("production", [False, True], ids=["flask", "gunicorn"])
def test_the_server_command_stops_with_the_code_and_no_traceback(tmp_path: Path, production: bool) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **_env(tmp_path, "a" * 64)}
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--port", "0", *(["--production"] if production else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    assert "CONFIG_INVALID" in done.stderr and "KHO_SESSION_SECRET" in done.stderr


@pytest.mark.parametrize(
    "secret", ["", secrets.token_hex(32), secrets.token_urlsafe(32)], ids=["none", "hex", "urlsafe"]
)
def test_a_good_or_missing_secret_starts_and_signs_the_cookies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("KHO_SESSION_SECRET", secret)
    settings = Settings.from_env(_env(tmp_path, secret))
    app = create_app(settings)
    if secret:
        assert app.secret_key == secret
    else:  # each process its own, drawn at random
        assert isinstance(app.secret_key, str) and len(app.secret_key) == 64
        assert create_app(settings).secret_key != app.secret_key
