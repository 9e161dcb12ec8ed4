"""Helpers for driving the web pages through Flask's test client (log in, CSRF, register)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import PASSWORD, People
from kho_testing import incoming

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')
SEALED_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
"""``KHO_MASTER_KEY`` of the web tests marked ``sealed`` (tests/web/conftest.py's ``env``)."""


def error_code(answer: Any) -> str | None:
    """The ``error.code`` of an API answer (None: not an error answer)."""
    return ((answer.get_json(silent=True) or {}).get("error") or {}).get("code")


def csrf(client: FlaskClient, path: str = "/login") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def login(client: FlaskClient, people: People, who: str, password: str = PASSWORD) -> Any:
    token = csrf(client)
    return client.post(
        "/login", data={"username": people.usernames[who], "password": password, "csrf_token": token}
    )


def logged_in(app: Flask, people: People, who: str) -> FlaskClient:
    """A new browser (test client) of ``app`` logged in as ``who``."""
    client = app.test_client()
    assert login(client, people, who).status_code == 302
    return client


def logout(client: FlaskClient) -> None:
    post(client, "/logout", {})


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/", **kw: Any) -> Any:
    """Open ``page`` and send its form to ``path``, as a browser does: with the session's CSRF
    secret and, when the page has one, the one-time token of its forms (web.pages.common.once_token)."""
    body = client.get(page).get_data(as_text=True)
    found = CSRF.search(body)
    assert found, page
    once = ONCE.search(body)
    extra = {"once": once.group(1)} if once else {}
    return client.post(path, data={**extra, **data, "csrf_token": found.group(1)}, **kw)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def upload(web: FlaskClient, pdf: bytes, name: str = "cong-van.pdf") -> str:
    """Upload one văn bản đến on the intake page as the logged-in văn thư; its review page's path
    (the document waits there, not registered)."""
    uploaded = post(
        web,
        "/intake",
        {"direction": "den", "files": (io.BytesIO(pdf), name)},
        "/intake",
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, text(uploaded)
    return str(uploaded.headers["Location"])


def register_one(web: FlaskClient, pdf: bytes, name: str = "cong-van.pdf", **overrides: Any) -> str:
    """Upload, review and confirm one document as the logged-in văn thư; the record page's path."""
    review_path = upload(web, pdf, name)
    review = web.get(review_path)
    version = re.search(r'name="expected_version" value="(\d+)"', text(review))
    assert version
    metadata = {**incoming(issued_date="02/03/2026", arrival_date="05/03/2026"), **overrides}
    confirmed = post(
        web, review_path + "/confirm", {**metadata, "expected_version": version.group(1)}, review_path
    )
    assert confirmed.status_code == 302, text(confirmed)
    return confirmed.headers["Location"]


def cli_as(people: People, who: str) -> Any:
    """A ``click`` runner logged in to the real ``kho`` CLI as ``who`` (``kho login``)."""
    from click.testing import CliRunner

    from web.cli import main

    runner = CliRunner()
    login = runner.invoke(main, ["login", people.usernames[who], "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    return runner


def api_login_from(client: FlaskClient, name: str, address: str, password: str = "sai-mat-khau") -> int:
    """The status of ``POST /api/login`` as ``name`` from ``address`` (``REMOTE_ADDR``)."""
    answer = client.post(
        "/api/login",
        json={"username": name, "password": password},
        environ_overrides={"REMOTE_ADDR": address},
    )
    return answer.status_code


def post_whole_and_chunked(client: FlaskClient, path: str, body: bytes, content_type: str) -> tuple[Any, Any]:
    """The answers to ``body`` posted to ``path`` twice: with its Content-Length, and chunked
    (no length; ``wsgi.input_terminated`` as gunicorn marks a chunked body)."""
    whole = client.post(path, data=body, content_type=content_type)
    chunked = client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    return whole, chunked


def post_incoming(
    client: FlaskClient, people: People, pdf: bytes, metadata: dict[str, Any], **form: str
) -> Any:
    """``POST /api/records`` of a văn bản đến with its PDF, as the văn thư (the API's one step)."""
    import json

    return client.post(
        "/api/records",
        data={
            "direction": "den",
            "metadata": json.dumps(metadata),
            "file": (io.BytesIO(pdf), "cv.pdf"),
            **form,
        },
        headers=people.headers("van_thu"),
    )


def recorded_acts(kho: Any) -> list[tuple[str, str]]:
    """(actor, action) of every event that records an act (not an ``account:``, ``access:`` or
    ``fixity:`` one, :data:`web.cross_site.UNGUARDED`): what a cross-site GET must not write."""
    from web.cross_site import UNGUARDED

    return [(e.actor, e.action) for e in kho.repo.audit.events() if not e.action.startswith(UNGUARDED)]
