"""A small JSON API over the repository (the staff UI comes later, on the same functions).

Errors answer ``{"error": {"code": ..., "message": <Vietnamese>}}`` with the error's HTTP status.
The caller is named by the ``X-Kho-User`` header (authentication sits in front, at the proxy,
until accounts and sessions land).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request

from kho.config import Settings
from kho.errors import KhoError
from repository.records import Actor, Repository


def create_app(settings: Settings | None = None, repo: Repository | None = None) -> Flask:
    app = Flask("kho")
    if repo is None:
        from ingest.indexing import follow
        from repository.service import open_repository
        from search import open_backend

        settings = settings or Settings.from_env()
        repo = open_repository(settings)
        # Changes made through the API update the search index, as through the CLI.
        follow(repo, open_backend(settings.elasticsearch_url or settings.data_dir / "index"))
    app.extensions["kho.repo"] = repo

    def actor() -> Actor:
        user = request.headers.get("X-Kho-User", "").strip()
        if not user:
            raise KhoError("Thiếu danh tính người dùng (X-Kho-User).", code="AUTH_REQUIRED")
        return Actor(user=user, source=request.remote_addr)

    def reply(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, ensure_ascii=False), status, mimetype="application/json")

    @app.errorhandler(KhoError)
    def on_error(error: KhoError) -> Response:
        status = 401 if error.code == "AUTH_REQUIRED" else error.http_status
        return reply({"error": error.to_dict()}, status)

    @app.errorhandler(404)
    def on_404(_: Exception) -> Response:
        return reply({"error": {"code": "NOT_FOUND", "message": "Không tìm thấy địa chỉ này."}}, 404)

    @app.get("/healthz")
    def healthz() -> Response:
        repo.store.exists("catalog/health")
        return reply({"status": "ok"})

    @app.get("/api/records/<record_id>")
    def get_record(record_id: str) -> Response:
        version = request.args.get("version", type=int)
        return reply(repo.get(record_id, version, actor=actor()).to_dict())

    @app.post("/api/records")
    def create_record() -> Response:
        who = actor()
        raw = request.form.get("metadata", "{}")
        try:
            metadata = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise KhoError("Trường metadata phải là JSON hợp lệ.", code="METADATA_FILE_INVALID") from exc
        direction = request.form.get("direction", "")
        if direction not in ("den", "di"):
            raise KhoError("Trường direction phải là “den” hoặc “di”.", code="DIRECTION_INVALID")
        upload = request.files.get("file")
        content = upload.read() if upload else None
        record = repo.create_document(direction, metadata, content, upload.filename if upload else None, who)
        return reply(record.to_dict(), 201)

    @app.get("/api/registers/<series>/<int:year>")
    def register_list(series: str, year: int) -> Response:
        rows = repo.register(series, year, actor=actor())
        return reply([r.to_dict() for r in rows])

    @app.get("/api/audit/verify")
    def audit_verify() -> Response:
        actor()
        report = repo.audit.verify()
        return reply(
            {"ok": report.ok, "events": report.events, "findings": [f.__dict__ for f in report.findings]}
        )

    return app
