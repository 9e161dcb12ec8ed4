"""The API of what the pages of issue 12 added (token-authenticated, documented in
:mod:`web.openapi`): a record's rendered pages, its print with a mark and what changed between
versions; search exports and saved searches; unit changes and grants; the audit export with its
checkpoint and access statistics. Each calls the same helper as its page: no rule lives here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import MultiDict

from kho.errors import NotFound
from kho.timeutil import to_vn
from repository.records import Actor
from repository.saved_searches import SavedSearches
from web.context import Kho
from web.heads import FileHeaders, file_response, file_route
from web.heads import attachment as disposition


def register_extra_api(
    app: Flask, kho: Kho, actor: Callable[[], Actor], account_of: Callable[[Actor], Any]
) -> None:
    from web.app import ApiError, _body, _paged, _record_id, _reply, _strings, _text
    from web.pages import audit as audit_pages
    from web.pages import document_view
    from web.pages import search as search_pages
    from web.pages.search_export import FORMATS as search_export_formats

    service = kho.repo

    def attachment(data: bytes, media_type: str, name: str, inline: bool = False) -> Response:
        response = Response(data, mimetype=media_type)
        response.headers["Content-Disposition"] = disposition(name, inline)
        return response

    def export_headers(formats: Mapping[str, str], name: str) -> Callable[..., FileHeaders]:
        """The headers of an export whose ``format`` argument names its type (``name.<format>``)."""

        def headers(stop: Any) -> FileHeaders:
            fmt = request.args.get("format", "")
            return FileHeaders(formats[fmt], disposition(f"{name}.{fmt}"))

        return headers

    # -- the document shown -------------------------------------------------------------------
    @app.get("/api/records/<record_id>/pages/<int:number>")
    @file_route(document_view.page_headers)
    def record_page(record_id: str, number: int) -> Response:
        if not 1 <= number <= document_view.MAX_PAGES_SHOWN:
            raise NotFound(f"Văn bản không có trang {number}.", code="PAGE_NOT_FOUND", page=number)
        png = service.read_rendition(
            _record_id(record_id),
            f"page-{number}.png",
            lambda original: document_view.render_page(original, number),
            actor=actor(),
            details={"page": number},
        )
        return Response(png, mimetype="image/png")

    @app.post("/api/records/<record_id>/print")
    def record_print(record_id: str) -> Response:
        who = actor()
        mark = document_view.print_mark(
            account_of(who).full_name, to_vn(service.clock()).strftime("%d/%m/%Y %H:%M")
        )
        stored, data = service.read_content(_record_id(record_id), actor=who, action="content:print")
        if stored.media_type != "application/pdf":
            raise NotFound("Văn bản này không phải tệp PDF.", code="NOT_A_PDF", record_id=record_id)
        return attachment(document_view.stamp_pdf(data, mark), "application/pdf", "ban-in.pdf", inline=True)

    @app.get("/api/records/<record_id>/changes")
    def record_changes(record_id: str) -> Response:
        versions = service.history_as_seen(_record_id(record_id), actor=actor())
        return _paged(
            document_view.version_changes(versions),
            lambda v: {
                "version": v.version,
                "created_at": v.created_at,
                "actor": v.actor,
                "note": v.note,
                "changes": [c.__dict__ for c in v.changes],
            },
        )

    @app.get("/api/records/<record_id>/grants")
    def record_grants(record_id: str) -> Response:
        kind, users, units = service.grants_of(_record_id(record_id), actor=actor())
        return _reply({"kind": kind, "users": list(users), "units": list(units)})

    # -- search exports and saved searches ---------------------------------------------------
    search_headers = export_headers(search_export_formats, "ket-qua-tim-kiem")

    @app.get("/api/search/export")
    @file_route(search_headers)
    def search_export() -> Response:
        who = actor()
        fmt = request.args.get("format", "")
        data, _media_type = search_pages.export_results(who, account_of(who).full_name, request.args, fmt)
        return file_response(data, search_headers(None))

    def saved_dict(saved: Any) -> dict[str, Any]:
        return {
            "search_id": saved.search_id,
            "name": saved.name,
            "query": saved.query,
            "filters": {k: list(v) for k, v in saved.filters.items()},
            "columns": list(saved.columns),
            "created_at": saved.created_at,
        }

    @app.get("/api/saved-searches")
    def saved_list() -> Response:
        return _paged(SavedSearches(service).list(actor=actor()), saved_dict)

    @app.post("/api/saved-searches")
    def saved_create() -> Response:
        who = actor()
        data = _body()
        filters = data.get("filters", {})
        if not isinstance(filters, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
            for k, v in filters.items()
        ):
            raise ApiError(
                "Trường “filters” phải là đối tượng {tên: [giá trị]}.", code="FIELD_INVALID", field="filters"
            )
        # The filters must be ones the search accepts (checked the way a search checks them).
        from search.query import filters_from_mapping

        checked = search_pages.request_filters(MultiDict([(k, v) for k, vs in filters.items() for v in vs]))
        filters_from_mapping(checked)
        saved = SavedSearches(service).save(
            _text(data, "name", required=True) or "",
            _text(data, "query") or "",
            {k: (v if isinstance(v, list) else [v]) for k, v in checked.items()},
            _strings(data, "columns"),
            actor=who,
        )
        return _reply(saved_dict(saved), 201)

    @app.delete("/api/saved-searches/<search_id>")
    def saved_delete(search_id: str) -> Response:
        SavedSearches(service).delete(search_id, actor=actor())
        return _reply({"ok": True})

    # -- units ---------------------------------------------------------------------------------
    @app.patch("/api/units/<unit_id>")
    def unit_update(unit_id: str) -> Response:
        who = actor()
        data = _body()
        unit = kho.accounts.update_unit(
            unit_id,
            name=_text(data, "name"),
            parent_id=_text(data, "parent_id"),
            actor=account_of(who),
            source=request.remote_addr,
        )
        return _reply(unit.to_dict())

    # -- audit exports and statistics ----------------------------------------------------------
    audit_headers = export_headers(audit_pages.EXPORT_TYPES, "nhat-ky")

    @app.get("/api/audit/export")
    @file_route(audit_headers)
    def audit_export() -> Response:
        who = actor()
        fmt = request.args.get("format", "")
        data, _media_type = audit_pages.export_events(who, account_of(who).full_name, request.args, fmt)
        return file_response(data, audit_headers(None))

    @app.get("/api/audit/handling-report")
    def audit_handling_report() -> Response:
        report, names = audit_pages.handling_totals(request.args, actor())
        return _reply({
            **{k: report[k] for k in ("unit", "kind", "total", "totals")},
            "start": report["start"].isoformat(),
            "end": report["end"].isoformat(),
            "by_unit": [
                {"unit": u, "name": names.get(u, u), **counts} for u, counts in report["by_unit"].items()
            ],
        })

    @app.get("/api/audit/stats")
    def audit_stats() -> Response:
        stats, names = audit_pages.access_statistics(request.args, actor())
        return _reply({
            "total": stats.total,
            "by_person": [{"user": u, "count": n} for u, n in stats.by_person],
            "by_unit": [{"unit": u, "name": names.get(u, u), "count": n} for u, n in stats.by_unit],
            "by_action": [{"action": a, "count": n} for a, n in stats.by_action],
            "by_record": [{"record_id": r, "count": n} for r, n in stats.by_record],
        })
