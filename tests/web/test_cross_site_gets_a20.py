"""Audited GETs refused when another site starts them (review a20, :mod:`web.cross_site`).

Session cookies are ``SameSite=Lax``: a link or a redirect on another site is a top-level GET
that carries them. Before a20 such a GET downloaded a record, printed or exported a register,
exported a search, all audited as the person's act. Every GET route is walked from Flask's
``url_map`` as a logged-in văn thư and kiểm toán viên with ``Sec-Fetch-Site: cross-site``: none
writes an act to the audit log, and the known downloads and exports answer 403
``CROSS_SITE_REFUSED``. ``same-origin``, ``none`` (a typed address, a bookmark) and
no header at all (the CLI, a script with a token) still work. A GET route added later that
audits is covered without being listed (the test adds one)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from kho_people import UNIT_B, People
from kho_web import login, recorded_acts, register_one
from werkzeug.routing.converters import AnyConverter

from kho.errors import KhoError
from repository.records import new_record_id
from web.context import Kho

CROSS = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Referer": "https://evil.example/"}
QUERIES = {
    "/registers/print.pdf": "?series=den&year=2026",
    "/registers/export.xlsx": "?series=den&year=2026",
    "/audit/export.csv": "",
}


def _value(name: str, converter: Any, people: People, record_id: str) -> str:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return {
        "username": people.usernames["chuyen_vien"],
        "unit_id": UNIT_B,
        "year": "2026",
        "digest": "0" * 64,
        "fmt": "csv",  # (the search's export: below)
        "record_id": record_id,
    }.get(name, new_record_id())


def _gets(app: Flask, people: People, record_id: str) -> list[str]:
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = rule.rule
        for name, converter in rule._converters.items():
            path = re.sub(r"<(?:[^:>]+:)?" + name + ">", _value(name, converter, people, record_id), path)
        out.append(path + QUERIES.get(path, ""))
    return sorted({*out, "/search/export.xlsx?q=quyet"})  # its formats are pdf, docx, xlsx


def _record(web: FlaskClient, people: People, signed: dict[str, bytes]) -> str:
    login(web, people, "van_thu")
    return register_one(web, signed["valid"])


def test_no_get_route_writes_an_act_when_another_site_starts_it(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    clerk = app.test_client()
    record_path = _record(clerk, people, signed)
    record_id = record_path.rstrip("/").rsplit("/", 1)[1]
    auditor = app.test_client()
    login(auditor, people, "kiem_toan")
    paths = _gets(app, people, record_id)
    assert len(paths) > 40, paths
    refused: set[str] = set()
    for who, web in (("van_thu", clerk), ("kiem_toan", auditor)):
        for path in paths:
            before = recorded_acts(kho)
            token = people.headers(who) if path.startswith("/api/") else {}  # the API takes no cookie
            answer = web.get(path, headers={**CROSS, **token})
            after = recorded_acts(kho)
            assert after == before, (who, path, answer.status_code, after[len(before):])
            if answer.status_code == 403 and (
                answer.headers.get("X-Kho-Error") == "CROSS_SITE_REFUSED"
                or (answer.is_json and answer.json["error"]["code"] == "CROSS_SITE_REFUSED")
            ):
                assert "trang web khác" in answer.get_data(as_text=True)
                refused.add(path.split("?")[0])
    for expected in (
        f"{record_path}/download",
        record_path,  # the record page records a view
        "/registers/print.pdf",
        "/registers/export.xlsx",
        "/search/export.xlsx",
        "/audit/export.csv",
        f"/api/records/{record_id}/content",
    ):
        assert expected in refused, (expected, sorted(refused))
    print("refused cross-site:", len(refused), "of", len(paths), sorted(refused))


def test_the_same_gets_from_kho_itself_a_typed_address_or_a_client_without_the_header_work(
    app: Flask, kho: Kho, people: People, signed: dict[str, bytes]
) -> None:
    web = app.test_client()
    record_path = _record(web, people, signed)
    # (same-site, a sibling subdomain, is refused since rv12: test_cross_site_rv12.py)
    for header in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        before = len(recorded_acts(kho))
        download = web.get(record_path + "/download", headers=header)
        assert download.status_code == 200 and download.data == signed["valid"], header
        assert len(recorded_acts(kho)) > before, header  # audited, as before
        before = len(recorded_acts(kho))
        printed = web.get("/registers/print.pdf?series=den&year=2026", headers=header)
        assert printed.status_code == 200 and printed.mimetype == "application/pdf", header
        assert len(recorded_acts(kho)) > before, header
    record_id = record_path.rstrip("/").rsplit("/", 1)[1]
    api = app.test_client()
    token = people.headers("van_thu")
    assert api.get(f"/api/records/{record_id}/content", headers=token).status_code == 200  # the CLI's way
    refused = api.get(f"/api/records/{record_id}/content", headers={**token, **CROSS})
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "CROSS_SITE_REFUSED")


def test_a_new_audited_get_is_covered_even_if_it_swallows_the_refusal(
    app: Flask, kho: Kho, people: People
) -> None:
    """A route added after a20 that audits and, wrongly, catches every error and answers anyway:
    nothing of it leaves, and its act is not written."""

    @app.get("/a20-new-export")
    def new_export() -> str:
        try:
            kho.repo.audit.append(people.usernames["van_thu"], "record:export", details={"n": 1})
        except KhoError:
            pass
        return "SECRET-EXPORT"

    web = app.test_client()
    login(web, people, "van_thu")
    before = recorded_acts(kho)
    answer = web.get("/a20-new-export", headers=CROSS)
    assert answer.status_code == 403 and answer.headers["X-Kho-Error"] == "CROSS_SITE_REFUSED"
    assert "SECRET-EXPORT" not in answer.get_data(as_text=True)
    assert recorded_acts(kho) == before
    assert web.get("/a20-new-export").get_data(as_text=True) == "SECRET-EXPORT"
    assert len(recorded_acts(kho)) == len(before) + 1
