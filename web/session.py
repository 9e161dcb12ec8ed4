"""The CLI's login: ``kho login`` keeps a token; every command acts as that account.

The token is read from ``KHO_TOKEN`` (scripts, CI) or from the token file
(``KHO_TOKEN_FILE``, default ``~/.config/kho/tokens.json``, mode 0600), where one token is
kept per installation (keyed by its store URL). Only the token's SHA-256 is in the store.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from kho.config import Settings
from kho.errors import KhoError


class NotLoggedIn(KhoError):
    code = "AUTH_REQUIRED"
    http_status = 401


def token_file(settings: Settings) -> Path:
    configured = os.environ.get("KHO_TOKEN_FILE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "kho" / "tokens.json"


def _installation(settings: Settings) -> str:
    return settings.store_url or str(Path(settings.data_dir).resolve())


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def saved_token(settings: Settings) -> str:
    """The token to act with; :class:`NotLoggedIn` when there is none."""
    token = os.environ.get("KHO_TOKEN", "").strip()
    if token:
        return token
    token = _read(token_file(settings)).get(_installation(settings), "")
    if not token:
        raise NotLoggedIn("Chưa đăng nhập: hãy chạy “kho login”.")
    return token


def save_token(settings: Settings, token: str) -> Path:
    path = token_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tokens = _read(path)
    tokens[_installation(settings)] = token
    save_token_map(path, tokens)
    return path


def forget_token(settings: Settings) -> None:
    path = token_file(settings)
    tokens = _read(path)
    if tokens.pop(_installation(settings), None) is not None:
        save_token_map(path, tokens)


def save_token_map(path: Path, tokens: dict[str, str]) -> None:
    """Write the tokens through a new file of a random name (``mkstemp``: created, never opened
    through a link, mode 0600), then rename it over ``path``. The fixed ``<file>.tmp`` it used
    was opened following a link, so a link planted there by anyone who may write to the folder
    received the tokens (a16). ``tempfile`` is imported here: a command that only reads its
    token must not load it (``tests/web/test_cli_startup.py``)."""
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(tokens, out)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
