"""The existence-oracle walk (review a15, rv8): every record route of the app and every GET
route with ids in its query, sent as one person with a fresh id and with the id of an existing
record they may not see; the answers must be the same (status, the headers that matter, the
body; the ids aside). Used by ``tests/web/test_existence_oracle.py`` (the văn thư of another
unit, local folder and S3) and ``test_existence_oracle_roles_rv8.py`` (other roles)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_web import login, post
from werkzeug.routing.converters import AnyConverter

from repository.records import new_record_id
from web.context import Kho

RECORD_ARGS = ("record_id", "file_id", "document_id")
OUTSIDER = "van_thu_b"
HEADERS = ("Content-Type", "Content-Disposition", "Allow", "Location", "Cache-Control", "WWW-Authenticate")
"""Headers an answer could differ by and a client reads (Date, Set-Cookie, Content-Length aside:
the bodies are compared whole)."""
OTHER_VALUES = {"number": "1", "fmt": "pdf", "name": "danh-muc"}
QUERY_IDS = ("record", "record_id", "file_id", "document_id")


@dataclass
class Site:
    app: Flask
    kho: Kho
    people: People
    unseen: dict[str, list[str]]
    """Path argument → ids of existing records of that kind the outsider may not see."""
    who: str = OUTSIDER
    """The person walking (a key of ``people.usernames``)."""

    @property
    def unseen_pairs(self) -> list[tuple[str, str]]:
        """(record, hồ sơ) pairs of the other ids: the Mật document, and a document as a hồ sơ."""
        return [(self.unseen["record_id"][1], self.unseen["file_id"][1])]


def record_rules(app: Flask) -> list[Any]:
    return sorted(
        (r for r in app.url_map.iter_rules() if set(r.arguments) & set(RECORD_ARGS)), key=lambda r: r.rule
    )


def variants(rule: Any) -> list[dict[str, str]]:
    """Every value of the rule's ``any(...)`` arguments, one fixed value of the others."""
    rows: list[dict[str, str]] = [{}]
    for name, converter in rule._converters.items():
        if name in RECORD_ARGS:
            continue
        choices = sorted(converter.items) if isinstance(converter, AnyConverter) else [OTHER_VALUES[name]]
        rows = [{**row, name: choice} for row in rows for choice in choices]
    return rows


def path_of(rule: Any, values: dict[str, str]) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<(?:[^:>]+:)?" + name + ">", value, path)
    return path


FILLED = {
    "act": "submit", "expected_seq": 0, "expected_version": 1, "reason": "Lý do kiểm tra",
    "order_ref": "Công văn số 16/UBND-VP ngày 02/03/2026", "end_date": "2026-03-15",
    "until": "2027-12-31", "changes": {"subject": "Về việc khác"}, "users": [], "units": [UNIT_B],
    "opinion": "dong_y", "note": "Ý kiến", "deadline": "2026-12-31", "metadata": {},
}
"""A body (and query) of plausible values, so that a write reaches the record it names instead
of stopping at a missing field (the walk sends each write twice: empty, then filled)."""


def answer(site: Site, client: FlaskClient, method: str, path: str, body: dict[str, Any]) -> Any:
    if path.startswith("/api/"):
        headers = site.people.headers(site.who)
        if method in ("GET", "HEAD"):
            return client.open(path, method=method, headers=headers)
        query = {"expected_version": 1, "reason": "Lý do"} if body else {}
        return client.open(path, method=method, json=body, query_string=query, headers=headers)
    if method in ("GET", "HEAD"):
        return client.open(path, method=method)
    form = {k: v for k, v in body.items() if isinstance(v, str | int)}
    return post(client, path, form, follow_redirects=True)


def shown(response: Any, ids: list[str]) -> tuple[int, dict[str, str], str]:
    """What a person gets from an answer, with the ids it was asked about put as ``<id>``."""
    body = response.get_data().decode("utf-8", "replace")
    if response.status_code < 400 and not response.mimetype.startswith(("text/", "application/json")):
        body = "<file>"  # an export of what the person sees, stamped with its time: not compared
    for value in ids:
        body = body.replace(value, "<id>")
    headers = {name: response.headers.get(name, "") for name in HEADERS}
    for value in ids:
        headers = {name: text.replace(value, "<id>") for name, text in headers.items()}
    return response.status_code, headers, body


def outsider(site: Site) -> FlaskClient:
    client = site.app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.0.1"
    assert login(client, site.people, site.who).status_code == 302
    return client


def walk_routes(site: Site) -> None:
    """Every record route of ``site.app`` (each method, each value of its other arguments, empty
    and filled bodies) and every GET route with ids in its query, as ``site.who``: an absent id
    and an unseen record must get the same answer (status, headers, body; ids aside)."""
    client = outsider(site)
    rules = record_rules(site.app)
    assert len(rules) >= 40, [r.rule for r in rules]  # the walk reaches the routes it names
    compared, reached, sent, differ = 0, 0, 0, []
    for rule in rules:
        for method in sorted(rule.methods - {"OPTIONS"}):
            for other in variants(rule):
                kinds = [name for name in RECORD_ARGS if name in rule.arguments]
                bodies = [{}] if method in ("GET", "HEAD") else [{}, FILLED]
                cases = range(max(len(site.unseen[name]) for name in kinds))
                for body in bodies:
                    # One absent id per route, method and body, its answer compared with each
                    # unseen record's: a fresh id names nothing, so its answer does not depend on
                    # which unseen record it is compared with (sent once, not once per record:
                    # a third fewer requests, every comparison kept; bench/NOTES-u20.md).
                    absent = {name: new_record_id() for name in kinds}
                    a = answer(site, client, method, path_of(rule, {**other, **absent}), body)
                    sent += 1
                    left = shown(a, list(absent.values()))
                    for index in cases:
                        unseen = {name: site.unseen[name][index % len(site.unseen[name])] for name in kinds}
                        b = answer(site, client, method, path_of(rule, {**other, **unseen}), body)
                        sent += 1
                        compared += 1
                        if a.status_code == 404:
                            reached += 1
                        right = shown(b, list(unseen.values()))
                        if left != right:
                            differ.append(
                                f"{method} {rule.rule} {other}: absent {left[0]} {code_of(a)} ≠ unseen"
                                f" {right[0]} {code_of(b)}"
                            )
    # Ids in a query (?record=…): every GET route without path arguments.
    for rule in site.app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.rule in ("/logout", "/api/logout"):
            continue
        absent = new_record_id()
        a = answer(site, client, "GET", with_ids(rule.rule, absent), {})
        sent += 1
        left = shown(a, [absent])
        for unseen in site.unseen["record_id"]:
            b = answer(site, client, "GET", with_ids(rule.rule, unseen), {})
            sent += 1
            compared += 1
            right = shown(b, [unseen])
            if left != right:
                differ.append(f"GET {rule.rule}?record=…: absent {left[0]} {code_of(a)} ≠ {right[0]}"
                              f" {code_of(b)}")
    assert compared >= 60, compared
    print(f"{compared} pairs compared ({sent} requests), {reached} answered 404 for the absent id")
    assert not differ, f"{len(differ)} of {compared}:\n" + "\n".join(differ)


def with_ids(path: str, value: str) -> str:
    """``path`` with ``value`` as every id of its query (?record=…&file_id=…)."""
    return path + "?" + "&".join(f"{name}={value}" for name in QUERY_IDS)


def code_of(response: Any) -> str:
    if response.mimetype == "application/json":
        error = (response.get_json(silent=True) or {}).get("error") or {}
        return f"{error.get('code')} {str(error.get('message'))[:60]!r}"
    text = response.get_data().decode("utf-8", "replace")
    found = re.search(r"\b[A-Z][A-Z_]{5,}\b", text)
    return found.group(0) if found else text[:60]
