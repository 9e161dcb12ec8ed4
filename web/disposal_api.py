"""JSON API of retention (part B): Xem xét hủy, destruction cases, legal holds, SIP transfer,
recall. Registered by :func:`web.app.create_app`; documented in :mod:`web.openapi_disposal`.
No rule lives here: each route reads its input, calls :mod:`retention`, and answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, Response, request

from kho.errors import KhoError
from kho.scratch import working_folder
from kho.timeutil import vn_date
from repository.records import Actor
from repository.vocabulary import Direction
from retention import dossier_docs
from retention.destruction import Destructions, review_list
from retention.holds import Holds
from retention.recall import Recalls
from retention.sip import Transfers
from retention.sip_import import UPLOAD_PREFIX
from retention.workflow import checked_id
from web.app import takes_upload
from web.context import Kho
from web.heads import FileHeaders, attachment, file_response, file_route


class ApiInputError(KhoError):
    http_status = 422


def dossier_headers(stop: Any, case_id: str, name: str) -> FileHeaders:
    """The headers of one document of a destruction dossier (API and page; ``?format=``)."""
    fmt = request.args.get("format", "pdf")
    return FileHeaders(dossier_docs.FORMATS[fmt], attachment(dossier_docs.file_name(name, fmt)))


_workflow_id = checked_id
"""The one check of a workflow id (also made by every read of one: ``Versions.latest``)."""


def register_disposal_api(
    app: Flask,
    kho: Kho,
    actor: Callable[[], Actor],
    *,
    reply: Callable[..., Response],
    body: Callable[[], dict[str, Any]],
    text: Callable[..., str | None],
    strings: Callable[[dict[str, Any], str], tuple[str, ...]],
    flag: Callable[[dict[str, Any], str, bool], bool],
    record_id: Callable[[str], str],
) -> None:
    repo = kho.repo
    checked_id = record_id

    def destructions() -> Destructions:
        return Destructions(repo, kho.accounts, kho.backend, forget=kho.forget_work)

    def ids(data: dict[str, Any], name: str) -> list[str]:
        values = strings(data, name)
        if not values:
            raise ApiInputError(f"Trường “{name}” cần ít nhất một mã.", code="FIELD_REQUIRED", field=name)
        return [record_id(v) for v in values]

    @app.get("/api/retention/disposal")
    def disposal_list() -> Response:
        raw = request.args.get("today")
        try:
            today = date.fromisoformat(raw) if raw else vn_date(repo.clock())
        except ValueError as exc:
            raise ApiInputError("Ngày “today” phải có dạng YYYY-MM-DD.", code="DATE_INVALID") from exc
        items = review_list(repo, actor=actor(), today=today)
        return reply({"items": [c.__dict__ for c in items], "total": len(items)})

    @app.get("/api/retention/holds")
    def hold_list() -> Response:
        items = Holds(repo).list(actor=actor())
        return reply({"items": items, "total": len(items)})

    @app.post("/api/retention/holds")
    def hold_place() -> Response:
        data = body()
        order = Holds(repo).place(
            ids(data, "record_ids"),
            text(data, "reason", required=True) or "",
            actor=actor(),
            query=text(data, "query"),
        )
        return reply(order, 201)

    @app.post("/api/retention/holds/<order_id>/release")
    def hold_release(order_id: str) -> Response:
        data = body()
        order = Holds(repo).release(
            _workflow_id(order_id), text(data, "reason", required=True) or "", actor=actor()
        )
        return reply(order)

    @app.get("/api/retention/destructions")
    def destruction_list() -> Response:
        items = destructions().list(actor=actor())
        return reply({"items": items, "total": len(items)})

    @app.post("/api/retention/destructions")
    def destruction_propose() -> Response:
        data = body()
        case = destructions().propose(
            ids(data, "record_ids"), text(data, "explanation", required=True) or "", actor=actor()
        )
        return reply(case, 201)

    @app.get("/api/retention/destructions/<case_id>")
    def destruction_show(case_id: str) -> Response:
        return reply(destructions().get(_workflow_id(case_id), actor=actor()))

    @app.post("/api/retention/destructions/<case_id>/council")
    def destruction_council(case_id: str) -> Response:
        data = body()
        case = destructions().establish_council(
            _workflow_id(case_id),
            strings(data, "members"),
            text(data, "decision_ref", required=True) or "",
            actor=actor(),
        )
        return reply(case)

    @app.post("/api/retention/destructions/<case_id>/review")
    def destruction_review(case_id: str) -> Response:
        data = body()
        case = destructions().review(
            _workflow_id(case_id),
            text(data, "opinion", required=True) or "",
            text(data, "note") or "",
            actor=actor(),
        )
        return reply(case)

    @app.post("/api/retention/destructions/<case_id>/minutes")
    def destruction_minutes(case_id: str) -> Response:
        data = body()
        case = destructions().record_minutes(
            _workflow_id(case_id), text(data, "text", required=True) or "", actor=actor()
        )
        return reply(case)

    @app.post("/api/retention/destructions/<case_id>/appraisal")
    def destruction_appraisal(case_id: str) -> Response:
        data = body()
        case = destructions().attach_appraisal(
            _workflow_id(case_id), text(data, "text", required=True) or "", actor=actor()
        )
        return reply(case)

    @app.post("/api/retention/destructions/<case_id>/decision")
    def destruction_decide(case_id: str) -> Response:
        data = body()
        raw = text(data, "deadline")
        try:
            deadline = date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise ApiInputError(
                "Thời hạn thực hiện hủy “deadline” phải có dạng YYYY-MM-DD.", code="DATE_INVALID"
            ) from exc
        case = destructions().decide(
            _workflow_id(case_id),
            text(data, "decision_ref", required=True) or "",
            approve=flag(data, "approve", True),
            deadline=deadline,
            actor=actor(),
        )
        return reply(case)

    @app.get("/api/retention/destructions/overdue")
    def destruction_overdue() -> Response:
        items = destructions().overdue(actor=actor(), today=vn_date(repo.clock()))
        return reply({"items": items, "total": len(items)})

    @app.get("/api/retention/destructions/<case_id>/documents/<name>")
    @file_route(dossier_headers)
    def destruction_document(case_id: str, name: str) -> Response:
        fmt = request.args.get("format", "pdf")
        document, data = destructions().document(_workflow_id(case_id), name, fmt, actor=actor())
        return file_response(data, dossier_headers(None, case_id, document.name))

    @app.post("/api/retention/destructions/<case_id>/execute")
    def destruction_execute(case_id: str) -> Response:
        data = body()
        case = destructions().execute(
            _workflow_id(case_id), text(data, "password", required=True) or "", actor=actor()
        )
        return reply(case)

    @app.get("/api/retention/transfers")
    def transfer_list() -> Response:
        items = Transfers(repo).list(actor=actor())
        return reply({"items": items, "total": len(items)})

    @app.post("/api/retention/transfers")
    def transfer_export() -> Response:
        data = body()
        out = kho.settings.data_dir / "transfers"
        receipt = Transfers(repo).export(
            record_id(text(data, "file_id", required=True) or ""), out, actor=actor()
        )
        receipt.pop("path", None)
        return reply(receipt, 201)

    @app.post("/api/retention/transfers/<transfer_id>/receipt")
    def transfer_receipt(transfer_id: str) -> Response:
        data = body()
        receipt = Transfers(repo).record_receipt(
            _workflow_id(transfer_id), text(data, "reference", required=True) or "", actor=actor()
        )
        return reply(receipt)

    @app.post("/api/retention/transfers/import")
    @takes_upload
    def transfer_import() -> Response:
        who = actor()
        upload = request.files.get("file")
        if upload is None:
            raise ApiInputError("Cần gửi tệp gói tin (trường “file”).", code="FIELD_REQUIRED", field="file")
        with working_folder(kho.work_root, UPLOAD_PREFIX) as tmp:
            path = tmp / "package.zip"
            upload.save(path)
            resend = request.form.get("resend", "").strip().lower() in ("1", "true")
            result = kho.import_package(path, actor=who, resend=resend)
        return reply(result)

    @app.post("/api/records/<record_id>/recall")
    def record_recall(record_id: str) -> Response:
        data = body()
        target = checked_id(record_id)
        recalls = Recalls(repo, kho.backend, kho.forget_work)
        order_ref = text(data, "order_ref", required=True) or ""
        reason = text(data, "reason", required=True) or ""
        record = repo.get(target, actor=actor())
        if record.kind == Direction.DI.value:
            return reply(recalls.recall_outgoing(target, order_ref, reason, actor=actor()))
        return reply(recalls.recall_incoming(target, order_ref, reason, actor=actor()))

    @app.post("/api/records/<record_id>/recall/withdraw")
    def record_recall_withdraw(record_id: str) -> Response:
        data = body()
        target = checked_id(record_id)
        reason = text(data, "reason", required=True) or ""
        return reply(Recalls(repo, kho.backend, kho.forget_work).withdraw(target, reason, actor=actor()))
