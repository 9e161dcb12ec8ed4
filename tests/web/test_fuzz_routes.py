"""Fuzz table of every route of the real app (API and pages), as each role and logged out.

Every rule of ``app.url_map`` and each of its methods gets, as văn thư, lãnh đạo, chuyên viên,
lưu trữ viên, kiểm toán viên, quản trị, the văn thư of another unit and nobody: ids that do not
exist or carry path characters, query parameters with bad values (long, NUL, bidi overrides,
control characters, non-NFC, impossible dates, huge and negative numbers, repeated, invalid
percent-encoding), and bodies that are empty, not JSON, JSON of the wrong shape or with every
known field of the wrong type, or forms of bad values. The rule: no 500, no traceback, every
JSON error carries ``code``; and what was refused changed nothing in the store.

One installation and one set of people for the module; the known parameter and field names are
read from the code of ``web/`` and its templates, so a new route or field is fuzzed unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kho_people import UNIT_B, People, make_people
from kho_retention import kho_env
from kho_testing import sealed_cong_van
from kho_web import CSRF, login, register_one

from ingest.testpki import TestPKI
from kho.config import Settings
from web.app import create_app
from web.context import Kho

WEB = Path(__file__).resolve().parents[2] / "web"
ROLES = ("anon", "van_thu", "lanh_dao", "chuyen_vien", "luu_tru", "kiem_toan", "quan_tri", "van_thu_b")
NOT_FUZZED = {"/logout", "/api/logout"}
"""They end the session the table runs under (covered by the session tests)."""
COSTLY = {"/audit/verify", "/api/audit/verify"}
"""They read the whole audit chain, which grows with every request sent: one request per role."""
SELF_LOCKING = {"/password", "/api/password", "/login", "/api/login"}
"""Fuzzed logged out only: wrong current passwords in a row lock the account that sends them."""

TEXTS = [
    "",
    "x" * 3000,
    "a\x00b",
    "\u202eabc\u202c",
    "a\r\nb\x07",
    "-1",
    "1" * 31,
    "NaN",
    "true",
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "../../etc/passwd",
    "a%2fb\\c",
    "Hoa\u0300",
]
JSON_VALUES: list[Any] = [
    None,
    [],
    {"a": 1},
    10**30,
    -1,
    float("nan"),
    True,
    "x" * 3000,
    "2026-02-30",
    "\x00",
    1.5,
]
BODIES = [
    (b"", "application/json"),
    (b"{bad", "application/json"),
    (b"[1]", "application/json"),
    (b'{"a":1,"a":2}', "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"x=1", "text/plain"),
]


def names(pattern: str, *roots: Path, glob: str = "*.py") -> list[str]:
    found: set[str] = set()
    for root in roots:
        for path in root.rglob(glob):
            found |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return sorted(found)


ARGS = names(r'(?:args\.(?:get|getlist)|_arg)\("([a-z_]+)"', WEB)
FIELDS = sorted(
    set(names(r'form(?:\.(?:get|getlist)\(|\[)"([a-z_]+)"', WEB))
    | set(names(r'name="([a-z_]+)"', WEB / "pages" / "templates", glob="*.html")) - {"csrf_token", "once"}
)
JSON_FIELDS = names(r'(?:\(data, |data\.get\(|data\[)"([a-z_]+)"', WEB)


@dataclass
class Site:
    app: Flask
    kho: Kho
    people: People
    record: str
    clients: dict[str, FlaskClient]
    ip: int = 0

    def client(self, role: str) -> FlaskClient:
        """The role's browser, logged in again (from a fresh address) if a route ended it."""
        client = self.clients[role]
        if role == "anon" or client.get("/").status_code == 200:
            return client
        self.ip += 1
        client = self.clients[role] = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.7.{self.ip // 250}.{self.ip % 250 + 1}"
        assert login(client, self.people, role).status_code == 302
        return client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("fuzz-routes")
    pki = TestPKI.build()
    pki.write_trust_dir(folder / "trust")
    values = kho_env(
        folder,
        KHO_TRUST_DIR=str(folder / "trust"),
        KHO_TOKEN_FILE=str(folder / "tokens.json"),
        KHO_COOKIE_SECURE="false",
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        patch.delenv("KHO_TOKEN", raising=False)
        kho = Kho(Settings.from_env())
        people = make_people(kho)
        app = create_app(kho.settings, kho=kho)
        clerk = app.test_client()
        login(clerk, people, "van_thu")
        record = register_one(clerk, sealed_cong_van(41)).rstrip("/")  # Bộ Nội vụ's, as register_one types it
        clients = {"anon": app.test_client()}
        for number, role in enumerate(ROLES[1:], start=1):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.6.0.{number}"
            assert login(client, people, role).status_code == 302, role
            clients[role] = client
        yield Site(app, kho, people, record.split("/")[-1], clients)
        kho.close()


def fault(path: str, response: Any) -> str | None:
    """What is wrong with an answer to bad input, or None."""
    body = response.get_data()
    if response.status_code >= 500:
        return f"{response.status_code}: {body[:200]!r}"
    if b"Traceback" in body:
        return "traceback in the answer"
    if path.startswith("/api/") and response.status_code >= 400 and response.mimetype == "application/json":
        error = json.loads(body).get("error")
        if not (isinstance(error, dict) and error.get("code") and error.get("message")):
            return f"JSON error without code: {body[:200]!r}"
    return None


REAL = {"year": "2026", "number": "1", "fmt": "pdf", "series": "den", "unit_id": UNIT_B}
"""A real value per path argument (every other id: the registered document); the person named
by ``<username>`` is the other unit's chuyên viên, whom no fuzzed role logs in as."""
MALFORMED = {"year": ["0", "9" * 30], "number": ["0", "9" * 30], "fmt": ["exe"], "unit_id": ["x.y"]}


def urls(rule: Any, site: Site, full: bool) -> list[str]:
    """The rule's path with real values, then (when ``full``) missing and malformed ones."""
    if not rule.arguments:
        return [rule.rule]
    real = {**REAL, "username": site.people.usernames["chuyen_vien_b"]}
    rows = [{name: real.get(name, site.record) for name in rule.arguments}]
    if full:
        for value in ("0" * 24, "..%2f..%2fetc", "a\\b%00", "x" * 300):
            rows.append(dict.fromkeys(rule.arguments, value))
        for name in rule.arguments:
            rows += [{**rows[0], name: value} for value in MALFORMED.get(name, [])]
    filled = []
    for row in rows:
        path = rule.rule
        for name, value in row.items():
            path = re.sub(r"<(?:[^:>]+:)?" + name + ">", value, path)
        filled.append(path)
    return filled


def send_all(site: Site, rule: Any, method: str, role: str, full: bool) -> tuple[int, list[str]]:
    """Send the table to one route as one role: every case when ``full`` (one role per route in
    turn, so that each role gets the whole table on a share of the routes), else a short one."""
    client = site.client(role)
    api = rule.rule.startswith("/api/")
    headers = site.people.headers(role) if api and role != "anon" else {}
    sent, faults = 0, []
    texts = TEXTS if full else TEXTS[1:2]
    values = JSON_VALUES if full else JSON_VALUES[1:2]
    bodies = BODIES if full else BODIES[1:2]

    def check(response: Any, url: str, case: str) -> None:
        nonlocal sent
        sent += 1
        if (found := fault(url, response)) is not None:
            faults.append(f"{method} {url[:80]} as {role} ({case}): {found}")

    token = ""
    if method != "GET" and not api:
        found = CSRF.search(client.get("/login" if role == "anon" else "/").get_data(as_text=True))
        token = found.group(1) if found else ""
    for number, url in enumerate(urls(rule, site, full)):
        if number:  # a missing or malformed id: one plain request
            answer = client.open(
                url, method=method, headers=headers, data=b"{}", content_type="application/json"
            )
            check(answer, url, "id")
            continue
        if method == "GET":
            for value in texts:
                check(
                    client.get(url, query_string=dict.fromkeys(ARGS, value), headers=headers),
                    url,
                    repr(value[:20]),
                )
            check(
                client.get(url + "?page=-1&page=" + "9" * 31 + "&year=x&year=2026", headers=headers),
                url,
                "repeated",
            )
            if full:
                check(
                    client.get(url + "?q=%ff%fe&unit=%c3&sort=%", headers=headers),
                    url,
                    "bad percent-encoding",
                )
        elif api:
            for body, kind in bodies:
                check(
                    client.open(url, method=method, data=body, content_type=kind, headers=headers),
                    url,
                    repr(body),
                )
            for value in values:
                data = json.dumps(dict.fromkeys(JSON_FIELDS, value))
                check(
                    client.open(
                        url, method=method, data=data, content_type="application/json", headers=headers
                    ),
                    url,
                    f"every field {str(value)[:20]!r}",
                )
        else:
            for value in texts:
                form = {**dict.fromkeys(FIELDS, value), "csrf_token": token}
                check(client.open(url, method=method, data=form), url, f"form {value[:20]!r}")
            raw = b"csrf_token=" + token.encode() + b"&subject=%ff%fe&year=%c3&files=x"
            if full:
                check(
                    client.open(
                        url, method=method, data=raw, content_type="application/x-www-form-urlencoded"
                    ),
                    url,
                    "bad bytes",
                )
            if full:
                check(
                    client.open(url, method=method, data=b"{}", content_type="application/json"),
                    url,
                    "JSON to a page",
                )
    return sent, faults


def rules(app: Flask) -> list[Any]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint not in ("static", "assets") and r.rule not in NOT_FUZZED
    ]


@pytest.mark.parametrize("part", ["api", "pages"])
def test_every_route_as_every_role_answers_bad_input_with_a_refusal(site: Site, part: str) -> None:
    chosen = [r for r in rules(site.app) if r.rule.startswith("/api/") == (part == "api")]
    assert len(chosen) >= (60 if part == "api" else 70)
    sent, faults = 0, []
    for number, rule in enumerate(chosen):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                if role != "anon" and method != "GET" and rule.rule in SELF_LOCKING:
                    continue
                full = role == ROLES[number % len(ROLES)] or rule.rule in SELF_LOCKING
                count, found = send_all(site, rule, method, role, full)
                sent += count
                faults += found
    assert sent >= 2000, sent
    print(f"{part}: {sent} requests")  # (bench/NOTES-a7.md)
    assert not faults, f"{len(faults)} of {sent}:\n" + "\n".join(faults[:40])


def stored_keys(kho: Kho) -> set[str]:
    """What a refusal must not change: every object but the audit log (a refusal may be
    audited), the login limiter's and the tokens' last use (any authenticated request)."""
    return {
        info.key
        for info in kho.repo.store.list("")
        if not info.key.startswith(("audit/", "login-limit", "ratelimit", "token-seen/"))
    }


def test_a_refused_write_changes_nothing_stored(site: Site) -> None:
    """Every API write sent malformed bodies and ids by the quản trị and the văn thư: where
    every answer refused, the store holds the same objects after, and the audit chain verifies."""
    writes = [
        r
        for r in rules(site.app)
        if r.rule.startswith("/api/") and r.methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    refused = 0
    for rule in writes:
        if rule.rule in SELF_LOCKING:
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            for role in ("quan_tri", "van_thu"):
                before = stored_keys(site.kho)
                statuses = []
                for url in urls(rule, site, role == "quan_tri"):
                    for body, kind in BODIES[:3]:
                        answer = site.app.test_client().open(
                            url,
                            method=method,
                            data=body,
                            content_type=kind,
                            headers=site.people.headers(role),
                        )
                        statuses.append(answer.status_code)
                assert max(statuses) < 500, (method, rule.rule, role, statuses)
                if min(statuses) >= 400:  # all refused (an act with no body, e.g. a lock, may act)
                    refused += len(statuses)
                    assert stored_keys(site.kho) == before, (method, rule.rule, role)
    assert refused >= 200
    assert site.kho.repo.audit.verify().ok


def test_the_table_sees_a_crash_and_a_missing_code() -> None:
    """The harness itself: a 500, a traceback and an API error without ``code`` are faults."""
    probe = Flask("probe")

    @probe.get("/api/crash")
    def crash() -> Any:
        raise ZeroDivisionError

    @probe.get("/api/bare")
    def bare() -> Any:
        return {"error": {"message": "x"}}, 422

    @probe.get("/page")
    def page() -> Any:
        return "Traceback (most recent call last):", 400

    @probe.get("/api/fine")
    def fine() -> Any:
        return {"error": {"code": "FIELD_INVALID", "message": "Trường “x” không hợp lệ."}}, 422

    client = probe.test_client()
    assert fault("/api/crash", client.get("/api/crash")) is not None
    assert fault("/api/bare", client.get("/api/bare")) is not None
    assert fault("/page", client.get("/page")) is not None
    assert fault("/api/fine", client.get("/api/fine")) is None
