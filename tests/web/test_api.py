"""The JSON API answers with the repository's data and its error codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kho_testing import incoming, new_repository, pdf_bytes

from repository.storage.local import LocalStore
from web.app import create_app


def test_api_creates_reads_and_reports_errors(tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "s"), LocalStore(tmp_path / "k"))
    client = create_app(repo=repo).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    headers = {"X-Kho-User": "vanthu.a"}
    created = client.post(
        "/api/records",
        data={
            "direction": "den",
            "metadata": json.dumps(incoming()),
            "file": (io.BytesIO(pdf_bytes("api")), "Công văn.pdf"),
        },
        headers=headers,
    )
    assert created.status_code == 201
    record = created.json
    assert record["registration"]["number"] == 1
    got = client.get(f"/api/records/{record['record_id']}", headers=headers)
    assert got.json["metadata"]["subject"] == incoming()["subject"]
    year = record["registration"]["year"]
    register = client.get(f"/api/registers/den/{year}", headers=headers).json
    assert [r["record_id"] for r in register] == [record["record_id"]]

    # A number below 10 typed without its leading zero is read with it (5 → 05).
    five = client.post(
        "/api/records",
        data={"direction": "den", "metadata": json.dumps(incoming(code_number="5"))},
        headers=headers,
    )
    assert five.status_code == 201, five.json
    assert five.json["metadata"]["code_number"] == "05"
    bad = client.post(
        "/api/records",
        data={"direction": "den", "metadata": json.dumps(incoming(code_number="005"))},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "CODE_NUMBER_INVALID"
    assert "số 0" in bad.json["error"]["message"]
    assert client.get("/api/records/khong-co", headers=headers).json["error"]["code"] == "NOT_FOUND"
    assert client.get(f"/api/records/{record['record_id']}").status_code == 401
    assert client.get("/api/audit/verify", headers=headers).json["ok"] is True
