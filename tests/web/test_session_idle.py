"""Idle timeout of page sessions and API tokens (KHO_SESSION_IDLE_MINUTES, KHO_TOKEN_IDLE_MINUTES).

The account service's clock is moved; the store, the tokens and the pages are real."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from kho_clock import MovedClock
from kho_people import PASSWORD, People

from kho.config import Settings
from kho.errors import SessionExpired
from repository.accounts import token_digest, token_revoked_key
from web.context import Kho

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock(kho: Kho, monkeypatch: pytest.MonkeyPatch) -> MovedClock:
    moved = MovedClock()
    monkeypatch.setattr(kho.accounts, "clock", moved)
    return moved


def _login(web: FlaskClient, people: People, who: str) -> None:
    found = CSRF.search(web.get("/login").get_data(as_text=True))
    assert found
    done = web.post(
        "/login",
        data={"username": people.usernames[who], "password": PASSWORD, "csrf_token": found.group(1)},
    )
    assert done.status_code == 302, done.get_data(as_text=True)


def test_the_defaults_are_thirty_minutes_for_pages_and_tokens() -> None:
    settings = Settings.from_env({})
    assert settings.session_idle_minutes == 30
    assert settings.token_idle_minutes == 30


def test_a_page_session_idle_past_its_timeout_ends_with_a_vietnamese_message(
    web: FlaskClient, people: People, kho: Kho, clock: MovedClock
) -> None:
    _login(web, people, "van_thu")
    assert web.get("/").status_code == 200
    clock.offset = timedelta(minutes=20)
    assert web.get("/").status_code == 200  # used within the 30 minutes: still on
    clock.offset = timedelta(minutes=45)
    assert web.get("/").status_code == 200  # 25 minutes after the last use: still on
    clock.offset = timedelta(minutes=45 + 31)
    ended = web.get("/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    page = web.get(ended.headers["Location"]).get_data(as_text=True)
    assert "Phiên làm việc đã hết hạn" in page and "30 phút" in page
    clock.offset = timedelta(minutes=45 + 32)
    assert web.get("/").status_code == 302  # and it stays ended
    events = [e for e in kho.repo.audit.events() if e.action == "account:token-revoke"]
    assert events and events[-1].details.get("reason") == "idle"


def test_an_api_token_idle_past_its_timeout_is_refused_and_revoked(
    client: FlaskClient, people: People, kho: Kho, clock: MovedClock
) -> None:
    headers = people.headers("chuyen_vien")
    assert client.get("/api/me", headers=headers).status_code == 200
    clock.offset = timedelta(minutes=29)
    assert client.get("/api/me", headers=headers).status_code == 200
    clock.offset = timedelta(minutes=29 + 31)
    refused = client.get("/api/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "SESSION_EXPIRED"
    digest = token_digest(people.tokens["chuyen_vien"])
    assert kho.repo.store.exists(token_revoked_key(digest))
    clock.offset = timedelta(minutes=29 + 32)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_the_timeouts_come_from_the_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHO_TOKEN_IDLE_MINUTES", "120")
    monkeypatch.setenv("KHO_SESSION_IDLE_MINUTES", "10")
    installation = Kho(Settings.from_env())
    try:
        assert installation.accounts.token_idle == timedelta(minutes=120)
        assert installation.accounts.session_idle == timedelta(minutes=10)
    finally:
        installation.close()
    monkeypatch.setenv("KHO_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(Exception, match="KHO_SESSION_IDLE_MINUTES"):
        Settings.from_env()


def test_a_token_used_through_its_slots_stays_on(
    client: FlaskClient, people: People, clock: MovedClock, kho: Kho
) -> None:
    headers = people.headers("van_thu")
    seen = f"token-seen/{token_digest(people.tokens['van_thu'])}/"
    for minutes in range(0, 180, 5):  # three hours of use, never idle 30 minutes
        clock.offset = timedelta(minutes=minutes)
        assert client.get("/api/me", headers=headers).status_code == 200, minutes
        # the markers of one window at most (a tenth of it each), not 10 per window for ever
        assert len(list(kho.repo.store.list(seen))) <= 11, minutes



def test_on_s3_an_idle_token_ends_and_a_used_one_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rule on the S3 gateway (its LIST with start-after, its create-if-absent)."""
    from kho_people import make_people
    from kho_retention import s3_env

    for key, value in s3_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    installation = Kho(Settings.from_env())
    try:
        people = make_people(installation)
        moved = MovedClock()
        monkeypatch.setattr(installation.accounts, "clock", moved)
        kept, idle = people.tokens["van_thu"], people.tokens["chuyen_vien"]
        resolve = installation.accounts.resolve_token
        for minutes in (0, 20, 40, 60):
            moved.offset = timedelta(minutes=minutes)
            assert resolve(kept).username == people.usernames["van_thu"]
        with pytest.raises(SessionExpired):
            resolve(idle)  # created 60 minutes ago (clock moved), never used since
        assert installation.repo.store.exists(token_revoked_key(token_digest(idle)))
        # the uses at 40 and 60 minutes are in the window; those at 0 and 20 were pruned
        assert len(list(installation.repo.store.list(f"token-seen/{token_digest(kept)}/"))) == 2
    finally:
        installation.close()
