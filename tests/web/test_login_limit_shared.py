"""The login rate limit holds across the web workers of one Kho and across a restart.

The limiter kept its failures in each process's memory: with ``gunicorn --workers 4`` (the
production compose file) an attacker had four budgets for one (address, name), a restart forgot
them all, and the page, the API and the audit acknowledgement form each wrote the limiter's
steps out again. The failures are now kept in the store, which every worker and container of
one Kho shares; the test runs two app instances (each with its own ``Kho``, as two workers
have) on one store."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from kho_people import PASSWORD, People

from kho.errors import LoginFailed, LoginRateLimited
from web.app import create_app
from web.context import Kho

LIMIT = 4


def _worker(kho: Kho, *, own: bool = True) -> Flask:
    """One web worker: a Flask app with its own Kho on the store ``kho`` uses."""
    app = create_app(kho.settings) if own else create_app(kho.settings, kho=kho)
    app.extensions["kho_login_limiter"].attempts = LIMIT
    return app


def test_failures_on_two_workers_count_together_and_survive_a_restart(
    kho: Kho, people: People, monkeypatch
) -> None:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")
    name = people.usernames["van_thu"]
    first, second = _worker(kho, own=False), _worker(kho)
    a, b = first.test_client(), second.test_client()
    for i in range(LIMIT // 2):  # two wrong passwords on each worker
        for client in (a, b):
            wrong = client.post("/api/login", json={"username": name, "password": f"Sai#{i}"})
            assert wrong.status_code == 401, wrong.json
    for client in (a, b):  # before: each worker had seen 2 of 4 and let the next guess in
        limited = client.post("/api/login", json={"username": name, "password": PASSWORD})
        assert limited.status_code == 429 and limited.json["error"]["code"] == "LOGIN_RATE_LIMITED"
    restarted = _worker(kho).test_client()  # a new process: the count is in the store
    assert restarted.post("/api/login", json={"username": name, "password": PASSWORD}).status_code == 429
    page = restarted.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    by_page = restarted.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert by_page.status_code == 429  # the page's door shares the budget
    other = people.usernames["chuyen_vien"]  # another name from the same address is not held
    assert b.post("/api/login", json={"username": other, "password": PASSWORD}).status_code == 200


def test_a_right_password_clears_the_failures_for_every_worker(kho: Kho, people: People) -> None:
    name = people.usernames["van_thu"]
    a, b = _worker(kho, own=False).test_client(), _worker(kho).test_client()
    for i in range(LIMIT - 1):
        assert a.post("/api/login", json={"username": name, "password": f"Sai#{i}"}).status_code == 401
    assert b.post("/api/login", json={"username": name, "password": PASSWORD}).status_code == 200
    for i in range(LIMIT - 1):  # the budget starts again, on either worker
        assert a.post("/api/login", json={"username": name, "password": f"Sai#{i}"}).status_code == 401
    assert a.post("/api/login", json={"username": name, "password": PASSWORD}).status_code == 200


def test_failures_of_names_never_tried_again_are_swept_from_the_store(kho: Kho) -> None:
    """A spray of names, each tried once, left one object per name in the store (and in every
    backup) for ever: a failure was only cleaned up when its own (address, name) came back.
    Each process now sweeps what is out of the window once per window, a bounded slice at a
    time; failures still in the window stay and still count."""
    from web.pages.common import LOGIN_FAILURES_PREFIX, LoginLimiter

    now = [1_000_000.0]
    limiter = LoginLimiter(3, 60, kho.repo.store, clock=lambda: now[0])
    limiter.SWEEP_KEYS = 4  # a small slice, to see the next sweep go on from the last

    def fail(name: str) -> None:
        def wrong() -> None:
            raise LoginFailed("sai", username=name)

        with pytest.raises(LoginFailed):
            limiter.guarded("10.0.0.9", name, wrong)

    def stored() -> list[str]:
        return [info.key for info in kho.repo.store.list(LOGIN_FAILURES_PREFIX)]

    for i in range(10):  # ten names sprayed once each
        fail(f"khong-co-{i}")
    sprayed = set(stored())
    assert len(sprayed) == 10
    now[0] += 61  # all ten out of the window
    fail("moi-0")  # the first failure of a new window sweeps one slice of four keys
    assert 6 <= len(sprayed & set(stored())) <= 7  # a slice, not all: bounded work
    fail("moi-1")  # the same process sweeps again only a window later
    assert 6 <= len(sprayed & set(stored())) <= 7
    for n in (2, 3, 4):  # each later window goes on after the last slice, wrapping at the end
        now[0] += 61
        fail(f"moi-{n}")
    assert not sprayed & set(stored())  # the spray is gone from the store
    live = "moi-4"  # failed in this window: its failure stays and counts
    fail(live)
    with pytest.raises(LoginRateLimited):  # 2 + 1 = 3 failures in the window: the next is held
        fail(live)
        limiter.guarded("10.0.0.9", live, lambda: None)
