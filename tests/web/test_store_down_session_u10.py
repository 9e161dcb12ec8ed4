"""u10: the object store unreachable (the S3 gateway down) while a person has a page session:
the page answers 503 with the store's code (``STORE_UNAVAILABLE``) and its Vietnamese message,
the session cookie is kept, and the same session works again once the store is back. Before, the
session was cleared and the person landed on the login page as if logged out. The gateway is
cut for real (a TCP relay closed, connections refused), and the local store's folder is taken
away for real (renamed, as a disk unmounted: the tests run as root, so an unreadable mode would
not stop them); nothing is patched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_people import People, make_people
from kho_relay import Relay
from kho_web import login, text

from web.app import create_app
from web.context import Kho


def _session_cookie(web: FlaskClient) -> str | None:
    cookie = web.get_cookie(web.application.config["SESSION_COOKIE_NAME"])
    return None if cookie is None else cookie.value


def _down_then_back(
    web: FlaskClient, name: str, cut: Callable[[], None], back: Callable[[], None]
) -> None:
    """``name``'s page session on ``/``: 200, then 503 ``STORE_UNAVAILABLE`` twice with its
    cookie kept while the store is cut, then 200 again with the same session."""
    home = web.get("/")
    assert home.status_code == 200 and name in text(home)
    assert _session_cookie(web)
    cut()
    for _ in range(2):
        down = web.get("/")
        body = text(down)
        assert down.status_code == 503, (down.status_code, down.headers.get("Location"))
        assert "STORE_UNAVAILABLE" in body and ("kho lưu trữ" in body or "Máy chủ S3" in body), body
        assert _session_cookie(web), "the session cookie was cleared"
        assert "kho_session=;" not in (down.headers.get("Set-Cookie") or "")
    back()
    again = web.get("/")
    assert again.status_code == 200, (again.status_code, again.headers.get("Location"))
    assert name in text(again)


def test_a_page_session_survives_the_local_store_folder_gone(
    web: FlaskClient, people: People, kho: Kho
) -> None:
    assert login(web, people, "van_thu").status_code == 302
    root = Path(kho.settings.store_url.removeprefix("file://"))
    away = root.with_name("store-unmounted")
    _down_then_back(web, people.usernames["van_thu"], lambda: root.rename(away), lambda: away.rename(root))


@pytest.mark.s3
def test_a_page_session_survives_the_store_being_unreachable(
    relayed_kho: tuple[Kho, dict[str, str]], relay: Relay
) -> None:
    kho, _ = relayed_kho
    people = make_people(kho)
    web = create_app(kho.settings, kho=kho).test_client()
    assert login(web, people, "van_thu").status_code == 302
    _down_then_back(web, people.usernames["van_thu"], relay.stop, relay.start)
