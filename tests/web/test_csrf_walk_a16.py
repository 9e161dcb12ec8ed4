"""CSRF on every state-changing route, walked from Flask's ``url_map`` (a16).

A logged-in quản trị's browser is made to send, by another site, each write of every page: a
plain cross-site form (no token), a form carrying the token of another session (the attacker's
own), and a ``text/plain`` body shaped like JSON (the one content type a cross-site form sends
that a JSON parser might read). Each is refused with 400 ``CSRF_INVALID`` and nothing is
written (the audit log does not grow). The API takes no cookie: each of its writes sent with the
session cookie alone answers 401 ``AUTH_REQUIRED`` before its input is read, and its two
routes without a token (login, password change) refuse a body that is not ``application/json``.
A page route that took PUT, PATCH or DELETE would pass the check (it reads POST only): there is
none."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from kho_people import PASSWORD, UNIT_B, People
from kho_web import csrf, login
from werkzeug.routing.converters import AnyConverter

from repository.records import new_record_id
from web.context import Kho

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
EVIL = {"Origin": "https://evil.example", "Referer": "https://evil.example/trap.html"}
NO_TOKEN_NEEDED = {"/api/login", "/api/password"}


def _value(name: str, converter: Any, people: People) -> str:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return {
        "username": people.usernames["chuyen_vien"],
        "unit_id": UNIT_B,
        "year": "2026",
        "digest": "0" * 64,
    }.get(name, new_record_id())


def _writes(app: Flask, people: People) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for name, converter in rule._converters.items():
            path = re.sub(r"<(?:[^:>]+:)?" + name + ">", _value(name, converter, people), path)
        out.extend((method, path) for method in sorted(set(rule.methods or ()) & WRITES))
    return sorted(out)


def _audit_size(kho: Kho) -> int:
    return sum(1 for _ in kho.repo.audit.events())


def test_no_page_route_takes_a_write_method_the_csrf_check_does_not_read(app: Flask, people: People) -> None:
    pages = [(m, p) for m, p in _writes(app, people) if not p.startswith("/api/")]
    assert pages and {m for m, _ in pages} == {"POST"}, pages


def test_every_page_write_refuses_a_cross_site_post_and_writes_nothing(
    app: Flask, kho: Kho, people: People
) -> None:
    victim, attacker = app.test_client(), app.test_client()
    assert login(victim, people, "quan_tri").status_code == 302
    assert login(attacker, people, "chuyen_vien_b").status_code == 302
    theirs = csrf(attacker, "/")
    assert theirs != csrf(victim, "/")
    before = _audit_size(kho)
    pages = [p for m, p in _writes(app, people) if not p.startswith("/api/")]
    assert len(pages) > 30, pages
    for path in pages:
        sent = {
            "no token": victim.post(path, data={"x": "1"}, headers=EVIL),
            "another session's token": victim.post(path, data={"csrf_token": theirs}, headers=EVIL),
            "text/plain": victim.post(
                path, data=json.dumps({"csrf_token": theirs}), content_type="text/plain", headers=EVIL
            ),
            "multipart, no token": victim.post(
                path, data={"x": "1"}, content_type="multipart/form-data", headers=EVIL
            ),
        }
        for how, answer in sent.items():
            assert (answer.status_code, answer.headers.get("X-Kho-Error")) == (400, "CSRF_INVALID"), (
                path, how, answer.status_code, answer.get_data(as_text=True)[:300],
            )
    assert _audit_size(kho) == before  # nothing was done, not even a refusal to audit
    assert victim.get("/").status_code == 200  # and the victim is still logged in


def test_the_api_takes_no_session_cookie_and_no_cross_site_body(
    app: Flask, kho: Kho, people: People
) -> None:
    victim = app.test_client()
    assert login(victim, people, "quan_tri").status_code == 302
    writes = [(m, p) for m, p in _writes(app, people) if p.startswith("/api/")]
    assert len(writes) > 30, writes
    before = _audit_size(kho)
    wrong = []
    for method, path in writes:
        if path in NO_TOKEN_NEEDED:
            continue
        for answer in (
            victim.open(path, method=method, json={}, headers=EVIL),
            victim.open(path, method=method, data="{}", content_type="text/plain", headers=EVIL),
        ):
            if (answer.status_code, answer.json["error"]["code"]) != (401, "AUTH_REQUIRED"):
                wrong.append((method, path, answer.status_code, answer.json["error"]["code"]))
    # Before a16 about 27 routes read their input first: 422 BODY_INVALID/FIELD_REQUIRED (or 404
    # for an id of the wrong form) to a caller without a token.
    assert not wrong, "\n".join(map(str, wrong))
    assert _audit_size(kho) == before
    # The two doors without a token read JSON only: a cross-site form cannot send it.
    who = people.usernames["chuyen_vien"]
    for path, body in (
        ("/api/login", {"username": who, "password": PASSWORD}),
        ("/api/password", {"username": who, "old_password": PASSWORD, "new_password": "Khac#Moi-2026-abc"}),
    ):
        answer = victim.post(path, data=json.dumps(body), content_type="text/plain", headers=EVIL)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "BODY_INVALID", path
    still = victim.post("/api/login", json={"username": who, "password": PASSWORD})
    assert still.status_code == 200  # the password was not changed
