"""Review rv44, attack on rv43's claim age (its ``Date`` minus the claim's ``Last-Modified``, one
answer of the server): answers whose ``Date`` is far in the past, unreadable, or without a zone.
Gateways behind one address whose clocks differ, or a cache in front of them, give such answers.

A claim whose body names a writer of this host that is gone (a dead pid: the body says so, and
may lie) is taken over after :data:`repository.storage.s3.DEAD_WRITER_SETTLE_S` of age: the
writer sleeps ``DEAD_WRITER_SETTLE_S - age``. Before rv44 a ``Date`` an hour before the claim's
``Last-Modified`` gave an age of -3600 s and a sleep of an hour inside ``put_if_absent``; an
unreadable ``Date`` raised ``ValueError`` out of the write (a traceback, no code). Now the age is
never below 0 and an unreadable date is the host's clock (:func:`repository.storage.s3.claim_age`).

Real Ceph S3 gateway, reached through a small real HTTP proxy of this test that passes every
request and answer through unchanged (the signature covers the ``Host`` the client sent, which it
keeps) but writes the ``Date`` of the answers to GETs of claims."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from kho_testing import make_store, s3_options_or_skip

from kho.process import this_host
from repository.storage import open_store
from repository.storage.s3 import _CLAIMS_PREFIX, claim_age

KEY = "registers/000.00.18.H40/2026/hanh-chinh/00000009.json"
PATIENCE_S = 240.0
"""Far above the 10 s a dead writer's claim is waited for, far below the hour of the attack."""


def _proxy(upstream: str, date: Iterator[str] | str) -> ThreadingHTTPServer:
    host, port = upstream.rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _pass(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() in ("transfer-encoding", "connection", "content-length", "date"):
                    continue
                self.send_header(name, value)
            claim = self.command == "GET" and f"/{_CLAIMS_PREFIX}" in self.path
            self.send_header("Date", date if claim else format_datetime(datetime.now(UTC), usegmt=True))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _dead_pid() -> int:
    command = [sys.executable, "-c", "import os; print(os.getpid())"]
    done = subprocess.run(command, capture_output=True, check=True)
    return int(done.stdout)


@pytest.fixture
def claimed(tmp_path: Path) -> tuple[object, str]:
    """A claim on :data:`KEY` without data whose body names a dead writer of this host."""
    store = make_store("s3", tmp_path, "rv44-claim-date")
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    body = json.dumps({"pid": _dead_pid(), "host": this_host()}).encode()
    store._put_raw(store.claims_bucket, _CLAIMS_PREFIX + KEY, body, {})  # type: ignore[attr-defined]
    return store, store.bucket  # type: ignore[attr-defined]


def _write_through(bucket: str, date: str) -> tuple[threading.Thread, list[object]]:
    options = s3_options_or_skip()
    server = _proxy(options["endpoint"], date)
    proxied = open_store(f"s3://{bucket}", **{**options, "endpoint": f"127.0.0.1:{server.server_port}"})
    outcome: list[object] = []

    def write() -> None:
        try:
            outcome.append(proxied.put_if_absent(KEY, b'{"number": 9}'))
        except BaseException as exc:
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(PATIENCE_S)
    server.shutdown()
    return writer, outcome


@pytest.mark.s3
@pytest.mark.parametrize(
    "date",
    [
        format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True),  # an hour behind
        "not a date",  # unreadable
        (datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S -0000"),  # no zone said
    ],
    ids=["an-hour-behind", "unreadable", "no-zone"],
)
def test_a_dead_writers_claim_is_taken_over_whatever_date_the_answer_says(
    claimed: tuple[object, str], date: str
) -> None:
    store, bucket = claimed
    writer, outcome = _write_through(bucket, date)
    assert not writer.is_alive(), f"put_if_absent still waiting after {PATIENCE_S} s"
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert store.get(KEY) == b'{"number": 9}'  # type: ignore[attr-defined]


def test_the_claim_age_rule() -> None:
    here = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    written = "Sun, 06 Dec 2026 09:59:00 GMT"
    assert claim_age("Sun, 06 Dec 2026 10:04:00 GMT", written, here) == 300.0  # the server's clock
    assert claim_age(None, written, here) == 60.0  # no Date: this host's
    assert claim_age("rác", written, here) == 60.0  # unreadable Date: this host's
    assert claim_age("Sun, 06 Dec 2026 08:59:00 GMT", written, here) == 0.0  # never below 0
    assert claim_age("Sun, 06 Dec 2026 10:00:00 -0000", written, here) == 60.0  # no zone: UTC
    assert claim_age("Sun, 06 Dec 2026 10:00:00 GMT", None, here) == 0.0
    assert claim_age("Sun, 06 Dec 2026 10:00:00 GMT", "Mon, 32 Dec 2026 09:00:00 GMT", here) == 0.0
