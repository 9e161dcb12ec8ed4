"""The viewer's page image under a web server that serves each request in a thread (werkzeug
``threaded=True``, as a threaded gunicorn or ``kho serve``): the bound must hold there too."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from flask import Flask
from kho_peak import peak_mb, reset_peak
from kho_people import People
from kho_testing import incoming
from pdf_objects import nested_forms_pdf
from werkzeug.serving import make_server

from web.context import Kho


def test_a_page_of_nested_forms_is_refused_by_a_threaded_web_server(
    app: Flask, kho: Kho, people: People
) -> None:
    """A 2.9 KB page of forms drawn three times inside each other 14 deep (1.9 GB, 5.8 s in
    pdfium). a17 drew it in a forked child only when the process had no other thread: under a
    threaded server the request's thread is never alone, so the page was drawn in the web
    process itself, unbounded. Now it goes to a pre-started worker whatever the threads: a coded
    refusal, the web process unharmed."""
    pdf = nested_forms_pdf(14)
    record = kho.repo.create_document("den", incoming(), pdf, "forms.pdf", people.actor("van_thu"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        before = reset_peak()
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/api/records/{record.record_id}/pages/1",
            headers=people.headers("van_thu"),
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            status, body = refused.code, refused.read()
        grown_mb = peak_mb() - before
    finally:
        server.shutdown()
        serving.join(10)
    assert status == 404, (status, body[:300])
    error = json.loads(body)["error"]
    assert error["code"] == "PAGE_NOT_RENDERED" and "tải bản gốc" in error["message"]
    assert grown_mb < 300, grown_mb  # the web process itself did not draw it
