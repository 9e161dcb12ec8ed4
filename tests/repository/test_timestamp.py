"""RFC 3161 time-stamps of audit checkpoints against a real TSA over HTTP: the test PKI's TSA
(pyHanko's RFC 3161 responder with the test TSA certificate) served by an HTTP server in the
test; tokens validated by pyHanko offline against the test root."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import tsp
from kho_testing import CLERK, incoming, new_repository

from ingest.testpki import TestPKI, timestamper
from kho.errors import KhoError
from kho.timeutil import parse_iso
from repository.anchor import Anchor, checkpoint_key, generate_key, make_checkpoint, verify_anchored
from repository.records import Repository
from repository.storage.local import LocalStore
from repository.timestamp import check_checkpoint, load_anchors


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI.build()


@pytest.fixture(scope="module")
def tsa(pki: TestPKI) -> Iterator[str]:
    """An RFC 3161 TSA over HTTP (application/timestamp-query → application/timestamp-reply)."""
    responder = timestamper(pki)
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_response(415)
                self.end_headers()
                return
            seen.append(body)
            reply = responder.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    assert seen  # the tests did talk to it


@pytest.fixture
def stamped(tmp_path: Path, pki: TestPKI, tsa: str) -> tuple[Repository, LocalStore, Anchor]:
    store = LocalStore(tmp_path / "store")
    repo = new_repository(store, LocalStore(tmp_path / "keys"))
    key = tmp_path / "audit.key"
    generate_key(key)
    trust = pki.write_trust_dir(tmp_path / "trust")
    repo.anchor = Anchor(signing_key=key, checkpoint_dir=tmp_path / "cps", tsa_url=tsa, trust_dir=trust)
    for n in range(3):
        repo.create_document("den", incoming(code_number=f"{n + 1}"), None, None, CLERK)
    return repo, store, repo.anchor


def _kinds(repo: Repository) -> list[str]:
    return [f.kind for f in verify_anchored(repo.audit, repo.anchor).findings]


def test_checkpoint_carries_a_token_that_validates(stamped: tuple[Repository, LocalStore, Anchor]) -> None:
    repo, store, anchor = stamped
    cp = make_checkpoint(store, anchor)
    assert cp["tsa"] == anchor.tsa_url and cp["timestamp"]
    check = check_checkpoint(cp, load_anchors(anchor.trust_dir))
    assert check is not None and check.ok and check.at is not None
    assert abs((check.at - parse_iso(cp["at"])).total_seconds()) < 60
    assert verify_anchored(repo.audit, anchor).ok


def test_a_checkpoint_changed_after_stamping_fails_its_token(
    stamped: tuple[Repository, LocalStore, Anchor],
) -> None:
    """Even someone holding the signing key cannot move a stamped checkpoint: re-signed with
    another head, its token no longer matches."""
    from cryptography.hazmat.primitives import serialization

    from repository import audit_offline as offline

    repo, store, anchor = stamped
    cp = make_checkpoint(store, anchor)
    forged = {**cp, "at": "2020-01-01T00:00:00.000000Z"}
    key = serialization.load_pem_private_key(anchor.signing_key.read_bytes(), password=None)  # type: ignore[union-attr]
    forged["signature"] = base64.b64encode(key.sign(offline.signing_payload(forged))).decode()  # type: ignore[union-attr]
    path = store.root / "objects" / checkpoint_key(cp["number"])
    path.chmod(0o644)
    path.write_text(json.dumps(forged))
    for copy in anchor.checkpoint_dir.glob("*.json"):  # type: ignore[union-attr]
        copy.write_text(json.dumps(forged))
    assert _kinds(repo) == ["timestamp"]
    assert "đã bị sửa" in verify_anchored(repo.audit, anchor).findings[0].message


def test_removed_or_untrusted_tokens_are_named(
    stamped: tuple[Repository, LocalStore, Anchor], tmp_path: Path
) -> None:
    repo, store, anchor = stamped
    cp = make_checkpoint(store, anchor)
    unstamped = {k: v for k, v in cp.items() if k != "timestamp"}  # the signature still holds
    path = store.root / "objects" / checkpoint_key(cp["number"])
    path.chmod(0o644)
    path.write_text(json.dumps(unstamped))
    for copy in anchor.checkpoint_dir.glob("*.json"):  # type: ignore[union-attr]
        copy.write_text(json.dumps(unstamped))
    findings = verify_anchored(repo.audit, anchor).findings
    assert [f.kind for f in findings] == ["timestamp"] and "mất dấu thời gian" in findings[0].message

    empty = tmp_path / "no-trust"
    empty.mkdir()
    check = check_checkpoint(cp, load_anchors(empty))
    assert check is not None and not check.ok and "KHO_TRUST_DIR" in check.problem


def test_an_unreachable_tsa_writes_no_checkpoint(tmp_path: Path, pki: TestPKI) -> None:
    store = LocalStore(tmp_path / "store")
    repo = new_repository(store, LocalStore(tmp_path / "keys"))
    key = tmp_path / "audit.key"
    generate_key(key)
    repo.anchor = Anchor(signing_key=key, tsa_url="http://127.0.0.1:9/tsa", trust_dir=None)
    repo.create_document("den", incoming(), None, None, CLERK)
    with pytest.raises(KhoError) as caught:
        make_checkpoint(store, repo.anchor)
    assert caught.value.code == "TSA_UNAVAILABLE"
    assert not list(store.list("audit/checkpoints/"))
