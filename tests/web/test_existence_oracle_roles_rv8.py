"""No existence oracle, for outsiders of other roles than a15's walk used (review rv8).

a15's walk (``test_existence_oracle.py``, which this module copies) sends every record route of
the app as the văn thư of phòng B. Roles reach other refusals first, so the same walk runs here
as the lãnh đạo of phòng B and its lưu trữ viên (on the agency's records), and as the agency's
lưu trữ viên on what phòng B never submitted (an open hồ sơ, documents): the archive receives
the hồ sơ of the units below it, and before rv8 its review, acceptance and return of such ids
answered "… không phải là hồ sơ", ``SUBMISSION_STATE_INVALID`` or the open hồ sơ whole. Local
folder only: the answers are decided by the policy, which a15's walk runs on both stores."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import UNIT_B, People, create_person, make_people
from kho_retention import kho_env
from kho_web import login, post
from werkzeug.routing.converters import AnyConverter

from kho.config import Settings
from repository.records import new_record_id
from web.app import create_app
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

    @property
    def unseen_pairs(self) -> list[tuple[str, str]]:
        """(record, hồ sơ) pairs of the other ids: the Mật document, and a document as a hồ sơ."""
        return [(self.unseen["record_id"][1], self.unseen["file_id"][1])]


@pytest.fixture(params=["lanh_dao_b", "luu_tru_b", "luu_tru"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    global OUTSIDER
    OUTSIDER = request.param  # (read by answer() and outsider(), as in a15's module)
    folder = tmp_path
    values = kho_env(folder)
    values = {**values, "KHO_TOKEN_FILE": str(folder / "tokens.json"), "KHO_COOKIE_SECURE": "false"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        patch.delenv("KHO_TOKEN", raising=False)
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        admin = kho.accounts.get(people.usernames["quan_tri"])
        head = kho.accounts.get(people.usernames["lanh_dao"])
        for who, role in (("lanh_dao_b", "lanh_dao"), ("luu_tru_b", "luu_tru")):
            account, _ = create_person(
                kho.accounts, f"Người {who}", UNIT_B, (role,), 0, None, admin, confirmer=head
            )
            people.usernames[who] = account.username
            people.tokens[who] = kho.accounts.issue_token(account.username, "test", account)
        hoso, secret, plain = file_with_a_secret(kho, people)
        if OUTSIDER == "luu_tru":  # the agency's archive, on what phòng B never submitted
            from kho_submission import phong_b_file
            from kho_testing import incoming
            hoso = phong_b_file(kho, people).record_id
            plain = kho.repo.create_document(
                "den", incoming(code_number="9915"), None, None, people.actor("van_thu_b")
            ).record_id
            secret = kho.repo.create_document(  # (a second document; phòng B holds no Mật one)
                "den", incoming(code_number="9916"), None, None, people.actor("van_thu_b")
            ).record_id
        # Each kind's routes also get an id of the other kind (a document where a hồ sơ is named).
        unseen = {
            "record_id": [plain, secret, hoso],
            "document_id": [plain, secret, hoso],
            "file_id": [hoso, plain, secret],
        }
        yield Site(create_app(kho.settings, kho=kho), kho, people, unseen)
        kho.close()


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
        headers = site.people.headers(OUTSIDER)
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
    assert login(client, site.people, OUTSIDER).status_code == 302
    return client


def test_an_unseen_record_answers_as_an_absent_id_on_every_route(site: Site) -> None:
    client = outsider(site)
    rules = record_rules(site.app)
    assert len(rules) >= 40, [r.rule for r in rules]  # the walk reaches the routes it names
    compared, reached, differ = 0, 0, []
    for rule in rules:
        for method in sorted(rule.methods - {"OPTIONS"}):
            for other in variants(rule):
                kinds = [name for name in RECORD_ARGS if name in rule.arguments]
                bodies = [{}] if method in ("GET", "HEAD") else [{}, FILLED]
                cases = range(max(len(site.unseen[name]) for name in kinds))
                for index, body in ((i, b) for i in cases for b in bodies):
                    absent = {name: new_record_id() for name in kinds}
                    unseen = {name: site.unseen[name][index % len(site.unseen[name])] for name in kinds}
                    a = answer(site, client, method, path_of(rule, {**other, **absent}), body)
                    b = answer(site, client, method, path_of(rule, {**other, **unseen}), body)
                    compared += 1
                    if a.status_code == 404:
                        reached += 1
                    left, right = shown(a, list(absent.values())), shown(b, list(unseen.values()))
                    if left != right:
                        differ.append(
                            f"{method} {rule.rule} {other}: absent {left[0]} {_code(a)} ≠ unseen"
                            f" {right[0]} {_code(b)}"
                        )
    # Ids in a query (?record=…): every GET route without path arguments.
    for rule in site.app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or rule.rule in ("/logout", "/api/logout"):
            continue
        for index in range(len(site.unseen["record_id"])):
            absent, unseen = new_record_id(), site.unseen["record_id"][index]
            asked = [
                answer(site, client, "GET", rule.rule + "?" + "&".join(f"{n}={x}" for n in QUERY_IDS), {})
                for x in (absent, unseen)
            ]
            compared += 1
            left, right = shown(asked[0], [absent]), shown(asked[1], [unseen])
            if left != right:
                differ.append(f"GET {rule.rule}?record=…: absent {left[0]} {_code(asked[0])} ≠ {right[0]}"
                              f" {_code(asked[1])}")
    assert compared >= 60, compared
    print(f"{compared} pairs compared, {reached} answered 404 for the absent id")
    assert not differ, f"{len(differ)} of {compared}:\n" + "\n".join(differ)


def _code(response: Any) -> str:
    if response.mimetype == "application/json":
        error = (response.get_json(silent=True) or {}).get("error") or {}
        return f"{error.get('code')} {str(error.get('message'))[:60]!r}"
    text = response.get_data().decode("utf-8", "replace")
    found = re.search(r"\b[A-Z][A-Z_]{5,}\b", text)
    return found.group(0) if found else text[:60]


