"""The login limiter's budget holds under parallel guesses (a29).

:class:`web.pages.common.LoginLimiter` counted a (address, name)'s failures, then let the
password be checked, then recorded a failure: N wrong passwords sent at once all counted before
any of them was recorded, so all N were checked against a budget of 4 (an earlier attempt
measured 23-24 of 24). Here two threaded web servers (each with its own ``Kho``, as two
workers of one deployment have) share one store, the local folder or the real Ceph S3 gateway,
and requests go over real HTTP. Each server's accounts count the password checks that reach
them (the limiter itself is untouched but for its budget and its ``clock``); each check takes
``CHECK_S``, as argon2id at its production cost does, so that parallel guesses overlap."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kho_people import PASSWORD, People, make_people
from kho_retention import kho_env, s3_env
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from kho.config import Settings
from web.app import create_app
from web.context import Kho
from web.pages.common import LOGIN_FAILURES_PREFIX

BUDGET = 4
"""Wrong passwords per (address, name) in the window."""
PER_ADDRESS = 6
"""Wrong passwords per address over every name in the window."""
WINDOW = 60.0
CHECK_S = 0.2
"""How long a counted password check takes (argon2id at the production cost: ~0.3 s)."""
STORM = 24


@dataclass
class Pair:
    """Two web servers on one store, the password checks that reached them, the limiters' clock."""

    urls: list[str]
    people: People
    store: Any
    checked: list[str] = field(default_factory=list)
    now: list[float] = field(default_factory=lambda: [time.time()])

    def login(self, name: str, password: str, server: int = 0) -> tuple[int, str]:
        """``POST /api/login`` on one server: the status and the error code (``""`` for none)."""
        request = urllib.request.Request(
            f"{self.urls[server]}/api/login",
            data=json.dumps({"username": name, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                return answer.status, ""
        except urllib.error.HTTPError as refused:
            body = json.loads(refused.read() or b"{}")
            return refused.code, str(body.get("error", {}).get("code", ""))

    def storm(self, tries: list[tuple[str, str]]) -> list[tuple[int, str]]:
        """Every try at once (a barrier), spread over both servers."""
        barrier = threading.Barrier(len(tries))

        def one(index: int) -> tuple[int, str]:
            name, password = tries[index]
            barrier.wait(timeout=300)
            return self.login(name, password, index % 2)

        with ThreadPoolExecutor(len(tries)) as pool:
            return list(pool.map(one, range(len(tries))))


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """(Not a line per request in a failing test's output.)"""


def _counting(real: Callable[..., Any], checked: list[str], lock: threading.Lock) -> Callable[..., Any]:
    def authenticate(username: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            checked.append(username)
        time.sleep(CHECK_S)
        return real(username, *args, **kwargs)

    return authenticate


@pytest.fixture(params=["local", "s3"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    values = s3_env(tmp_path) if request.param == "s3" else kho_env(tmp_path)
    values = {**values, "KHO_TOKEN_FILE": str(tmp_path / "tokens.json"), "KHO_COOKIE_SECURE": "false"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        patch.delenv("KHO_TOKEN", raising=False)
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        apps: list[Flask] = [create_app(kho.settings, kho=kho), create_app(kho.settings)]
        made = Pair(urls=[], people=people, store=kho.repo.store)
        lock = threading.Lock()
        servers: list[tuple[BaseWSGIServer, threading.Thread]] = []
        try:
            for app in apps:
                limiter = app.extensions["kho_login_limiter"]
                limiter.attempts, limiter.per_address, limiter.window = BUDGET, PER_ADDRESS, WINDOW
                limiter.clock = lambda: made.now[0]
                accounts = app.extensions["kho"].accounts
                patch.setattr(accounts, "authenticate", _counting(accounts.authenticate, made.checked, lock))
                server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
                serving = threading.Thread(target=server.serve_forever, daemon=True)
                serving.start()
                servers.append((server, serving))
                made.urls.append(f"http://127.0.0.1:{server.server_port}")
            yield made
        finally:
            for server, serving in servers:
                server.shutdown()
                serving.join(30)
            apps[1].extensions["kho"].close()
            kho.close()


def _refused(answers: list[tuple[int, str]]) -> int:
    assert all(a == (429, "LOGIN_RATE_LIMITED") or a[0] == 401 for a in answers), answers
    return sum(1 for status, _ in answers if status == 429)


def test_parallel_wrong_passwords_for_one_name_get_the_budget_at_most(pair: Pair) -> None:
    """24 wrong passwords for one name at once, budget 4: before, all of them counted the same
    few failures and nearly all were checked; now at most 4 reach the password check and the
    rest are refused (429). The budget is spent: the right password is refused in the window
    and accepted after it."""
    name = pair.people.usernames["van_thu"]
    answers = pair.storm([(name, f"Sai#{i}") for i in range(STORM)])
    checked = len(pair.checked)
    assert checked <= BUDGET, f"{checked} of {STORM} parallel guesses were checked (budget {BUDGET})"
    assert _refused(answers) == STORM - checked
    for i in range(BUDGET - checked):  # what the storm left of the budget (fail closed: maybe some)
        assert pair.login(name, f"Con#{i}", i % 2) == (401, "LOGIN_FAILED")
    assert len(pair.checked) == BUDGET
    assert pair.login(name, "Sai-nua", 1) == (429, "LOGIN_RATE_LIMITED")
    assert pair.login(name, PASSWORD, 0) == (429, "LOGIN_RATE_LIMITED")  # spent in the window
    assert len(pair.checked) == BUDGET
    pair.now[0] += WINDOW + 1
    assert pair.login(name, PASSWORD, 1) == (200, "")


def test_parallel_wrong_passwords_over_many_names_get_the_address_budget_at_most(pair: Pair) -> None:
    """One wrong password for each of 24 names at once from one address, per-address budget 6:
    at most 6 are checked, the rest refused; the address's budget is then spent for every name."""
    answers = pair.storm([(f"khong-co-{i}.ubnd", "sai-mat-khau") for i in range(STORM)])
    checked = len(pair.checked)
    assert checked <= PER_ADDRESS, f"{checked} of {STORM} parallel guesses were checked ({PER_ADDRESS})"
    assert _refused(answers) == STORM - checked
    for i in range(PER_ADDRESS - checked):
        assert pair.login(f"con-lai-{i}.ubnd", "sai-mat-khau", i % 2) == (401, "LOGIN_FAILED")
    assert len(pair.checked) == PER_ADDRESS
    assert pair.login("moi.ubnd", "sai-mat-khau", 1) == (429, "LOGIN_RATE_LIMITED")
    name = pair.people.usernames["chuyen_vien"]
    assert pair.login(name, PASSWORD, 0) == (429, "LOGIN_RATE_LIMITED")
    assert len(pair.checked) == PER_ADDRESS
    pair.now[0] += WINDOW + 1
    assert pair.login(name, PASSWORD, 1) == (200, "")


def test_sequential_wrong_passwords_get_exactly_the_budgets(pair: Pair) -> None:
    """One at a time nothing is refused early: exactly 4 wrong passwords for a name, then 429;
    exactly 6 for the address over every name, then 429 (claims of refused tries do not count)."""
    name = pair.people.usernames["van_thu"]
    answers = [pair.login(name, f"Sai#{i}", i % 2) for i in range(BUDGET + 2)]
    assert [status for status, _ in answers] == [401] * BUDGET + [429] * 2
    assert len(pair.checked) == BUDGET
    more = PER_ADDRESS - BUDGET + 2
    others = [pair.login(f"khong-co-{i}.ubnd", "sai-mat-khau", i % 2) for i in range(more)]
    assert [status for status, _ in others] == [401] * (PER_ADDRESS - BUDGET) + [429] * 2
    assert len(pair.checked) == PER_ADDRESS
    assert len(_stored(pair)) == PER_ADDRESS  # the failures; no refused try's claim is left
    pair.now[0] += WINDOW + 1  # a new window: the budgets again, the right password accepted
    assert pair.login(name, PASSWORD, 0) == (200, "")
    assert len(_stored(pair)) == PER_ADDRESS - BUDGET  # its claim and its name's failures went


def _stored(pair: Pair) -> list[str]:
    """The limiter's keys; on S3 also every version and delete marker under them, none of which
    may outlive its key (a claim's one version removed, nothing left in the bucket's history)."""
    keys = [info.key for info in pair.store.list(LOGIN_FAILURES_PREFIX)]
    if hasattr(pair.store, "_client"):
        listed = pair.store._client.list_objects(
            pair.store.bucket, prefix=LOGIN_FAILURES_PREFIX, recursive=True, include_version=True
        )
        assert sorted(obj.object_name for obj in listed) == sorted(keys)
    return keys
