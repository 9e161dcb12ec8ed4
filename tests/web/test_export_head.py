"""A HEAD on a route that sends a file answers the headers its GET would, under the same
permission check, without building the file or recording an export (m7; r27 left it open).

Flask answers HEAD by running the GET view and dropping the body: every export (search, audit
log, access statistics, handling reports, registers, a hồ sơ's mục lục, the archive's mục lục)
was built and recorded as ``…:export`` in the audit log for a file never sent. Downloads (m5)
and page images (r27) had their own HEAD branch each; all now go through one rule
(:mod:`kho.head`, :mod:`web.heads`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from kho_files import file_with_a_secret
from kho_people import People
from kho_web import login

from retention import closing
from web.app import create_app
from web.context import Kho
from web.pages import audit_reports, handling_export, registers, retention, search_export

BUILDERS: list[tuple[Any, str]] = [
    (registers, "to_pdf"),
    (registers, "to_xlsx"),
    (retention, "_sheet_bytes"),
    (audit_reports, "events_csv"),
    (audit_reports, "events_pdf"),
    (audit_reports, "stats_csv"),
    (handling_export, "to_xlsx"),
    (handling_export, "to_pdf"),
    (closing, "file_xml"),
]


@pytest.fixture
def produced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the file builders called (each still builds its file)."""
    calls: list[str] = []

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def builder(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return real(*args, **kwargs)

        return builder

    for module, name in BUILDERS:
        monkeypatch.setattr(module, name, counted(name, getattr(module, name)))
    for fmt, writer in list(search_export.WRITERS.items()):
        monkeypatch.setitem(search_export.WRITERS, fmt, counted(f"search:{fmt}", writer))
    return calls


def _browser(kho: Kho, people: People, who: str, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv("KHO_COOKIE_SECURE", "false")  # the test client speaks plain http
    browser = create_app(kho.settings, kho=kho).test_client()
    login(browser, people, who)
    return browser


def _exports(kho: Kho) -> list[str]:
    return [e.action for e in kho.repo.audit.events() if e.action.endswith(":export")]


def _head_then_get(kho: Kho, client: FlaskClient, path: str, produced: list[str], **kw: Any) -> None:
    before = _exports(kho)
    head = client.head(path, **kw)
    assert head.status_code == 200, (path, head.status_code)
    assert head.get_data() == b"" and "Content-Length" not in head.headers, path
    assert produced == [], (path, produced)  # no file built
    assert _exports(kho) == before, path  # no export recorded
    got = client.get(path, **kw)
    assert got.status_code == 200 and got.get_data(), (path, got.status_code)
    for name in ("Content-Type", "Content-Disposition"):
        assert head.headers.get(name) == got.headers.get(name), (path, name)
    assert produced and len(_exports(kho)) == len(before) + 1, path  # the GET still exports
    produced.clear()


def test_a_head_on_an_export_builds_no_file_and_records_no_export(
    kho: Kho,
    people: People,
    client: FlaskClient,
    produced: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hoso, _secret, _plain = file_with_a_secret(kho, people)
    routes = {
        "van_thu": [
            "/registers/print.pdf?series=den&year=2026",
            "/registers/export.xlsx?series=den&year=2026",
            "/search/export.xlsx?q=khảo+sát",
            f"/files/{hoso}/catalogue.xlsx",
            f"/files/{hoso}/catalogue.xml",
        ],
        "kiem_toan": [
            "/audit/export.csv",
            "/audit/export.pdf?action=record:",
            "/audit/stats.csv",
            "/audit/handling-reports?format=xlsx",
        ],
        "lanh_dao": ["/handling/reports?format=xlsx"],
        "luu_tru": ["/archive/muc-luc.xlsx", "/archive/bien-ban.pdf"],
    }
    for who, paths in routes.items():
        browser = _browser(kho, people, who, monkeypatch)
        for path in paths:
            _head_then_get(kho, browser, path, produced)
    for who, path in (
        ("van_thu", "/api/search/export?format=xlsx&q=khảo"),
        ("kiem_toan", "/api/audit/export?format=csv"),
    ):
        _head_then_get(kho, client, path, produced, headers=people.headers(who))


def test_a_head_on_an_export_is_refused_as_its_get_is(
    kho: Kho, people: People, client: FlaskClient, produced: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who may not export may not HEAD the export either: the same status and code, nothing
    recorded, no file built. A bad format is refused the same way too."""
    cases = [
        (client, "/api/audit/export?format=csv", {"headers": people.headers("van_thu")}),
        (client, "/api/audit/export?format=exe", {"headers": people.headers("kiem_toan")}),
        (client, "/api/search/export?format=exe", {"headers": people.headers("van_thu")}),
        (_browser(kho, people, "chuyen_vien", monkeypatch), "/audit/export.csv", {}),
    ]
    for who, path, kw in cases:
        before = len(list(kho.repo.audit.events()))
        head = who.head(path, **kw)
        got = who.get(path, **kw)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert got.status_code in (400, 403, 422), path
        assert head.get_data() == b""
        after = list(kho.repo.audit.events())[before:]
        assert produced == [] and not [e for e in after if e.action.endswith(":export")], path


def test_every_get_route_that_sends_a_file_declares_its_head(kho: Kho) -> None:
    """A new export route that forgot to declare its headers would answer a HEAD with a bare
    octet-stream: every GET view that records an export, reads an original or a rendition, or
    sends a Content-Disposition declares them (:func:`web.heads.file_route`)."""
    import inspect

    app = create_app(kho.settings, kho=kho)
    marks = ("audit_export(", "read_content(", "read_rendition(", "Content-Disposition", ".document(")
    marks += ("file_response(",)
    marks += ("export_results(", "export_events(", "export_plan(", "export_file_xml(")
    sending: dict[str, bool] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        source = inspect.getsource(inspect.unwrap(view)) if "GET" in (rule.methods or ()) else ""
        if any(mark in source for mark in marks):
            sending[rule.rule] = hasattr(view, "kho_file_headers")
    assert len(sending) >= 18 and [r for r, declared in sending.items() if not declared] == []
