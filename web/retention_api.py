"""The retention part of the JSON API (``/api/plans``, ``/api/retention/…``, ``/api/files/<id>/
close|reopen|submit|keep|catalogue``, ``/api/submissions``): Danh mục hồ sơ, closing, nộp lưu.

Registered by :func:`web.app.create_app`; same identity, errors and paging as the rest of the
API; every step goes through :class:`retention.service.RetentionService`, where the access
policy decides and every step is audited. Described in :mod:`web.openapi`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, Response, request

from kho.errors import IdentifierInvalid
from repository.records import Actor, Record
from retention.closing import catalogue
from retention.fileplan import FilePlan
from retention.service import FILE_STATE_LABELS, RetentionService
from retention.submission import Alert
from web.context import Kho


def plan_dict(plan: FilePlan) -> dict[str, Any]:
    return {**plan.to_dict(), "footer": plan.footer}


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "file_id": alert.file_id,
        "level": alert.level.value,
        "due": alert.due.isoformat(),
        "days_left": alert.days_left,
        "holder": alert.holder,
        "title": alert.title,
        "file_notation": alert.file_notation,
        "message": alert.message,
    }


def file_summary(
    service: RetentionService, file: Record, who: Actor, *, acted_on: Record | None = None
) -> dict[str, Any]:
    """A hồ sơ in an answer, as ``who`` may see it (:meth:`RetentionService.shown_to`)."""
    return {
        **service.shown_to(file, who, acted_on=acted_on).to_dict(),
        "state_label": FILE_STATE_LABELS.get(file.state, file.state),
        "submission": service.submission_of(file) if service.sees(file, who, acted_on=acted_on) else None,
    }


def register_retention_api(app: Flask, kho: Kho, actor: Callable[[], Actor]) -> None:
    from web.app import ApiError, _body, _int, _paged, _record_id, _reply, _text

    def service() -> RetentionService:
        return kho.retention

    def _date(data: dict[str, Any], name: str, *, required: bool = True) -> date | None:
        raw = _text(data, name, required=required)
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ApiError(
                f"Ngày “{name}” không hợp lệ (yyyy-mm-dd).", code="DATE_INVALID", field=name
            ) from exc

    def _year(year: int) -> int:
        if not 2000 <= year <= 2100:
            raise IdentifierInvalid("Năm của danh mục hồ sơ phải từ 2000 đến 2100.", code="PLAN_YEAR_INVALID")
        return year

    # -- retention schedule ----------------------------------------------------------------
    @app.get("/api/retention/schedule")
    def schedule_get() -> Response:
        actor()
        return _reply(service().schedule().to_dict())

    @app.put("/api/retention/schedule")
    def schedule_put() -> Response:
        data = _body()
        new = service().edit_schedule(
            data.get("entries"),
            expected_version=_int(data, "expected_version"),
            note=_text(data, "note", required=True) or "",
            actor=actor(),
        )
        return _reply(new.to_dict())

    @app.get("/api/retention/alerts")
    def alerts() -> Response:
        return _paged(service().alerts(actor=actor()), alert_dict)

    @app.post("/api/retention/handover")
    def handover() -> Response:
        data = _body()
        moved = kho.handover(
            _text(data, "from", required=True) or "", _text(data, "to", required=True) or "", actor=actor()
        )
        return _reply({"moved": moved})

    # -- Danh mục hồ sơ --------------------------------------------------------------------
    @app.get("/api/plans")
    def plan_list() -> Response:
        actor()
        return _paged(service().plans(), plan_dict)

    @app.post("/api/plans")
    def plan_draft() -> Response:
        data = _body()
        version = data.get("expected_version")
        if version is not None:
            version = _int(data, "expected_version")
        plan = service().draft_plan(data, actor=actor(), expected_version=version)
        return _reply(plan_dict(plan), 201 if plan.version == 1 else 200)

    @app.get("/api/plans/<int:year>")
    def plan_get(year: int) -> Response:
        actor()
        return _reply(plan_dict(service().plan(_year(year))))

    @app.post("/api/plans/<int:year>/approve")
    def plan_approve(year: int) -> Response:
        data = _body()
        plan = service().approve_plan(
            _year(year), expected_version=_int(data, "expected_version"), actor=actor()
        )
        return _reply(plan_dict(plan))

    @app.post("/api/plans/<int:year>/issue")
    def plan_issue(year: int) -> Response:
        data = _body()
        plan = service().issue_plan(
            _year(year), expected_version=_int(data, "expected_version"), actor=actor()
        )
        return _reply(plan_dict(plan))

    @app.post("/api/plans/<int:year>/files")
    def plan_open_file(year: int) -> Response:
        data = _body()
        file = service().open_file(
            _year(year),
            _text(data, "notation", required=True) or "",
            actor=actor(),
            start_date=_date(data, "start_date", required=False),
            description=_text(data, "description") or "",
        )
        return _reply(file_summary(service(), file, actor()), 201)

    # -- closing -----------------------------------------------------------------------------
    @app.get("/api/files/<file_id>/closing")
    def file_closing(file_id: str) -> Response:
        raw = request.args.get("end_date", "")
        try:
            end = date.fromisoformat(raw)
        except ValueError as exc:
            raise ApiError("Tham số “end_date” phải là ngày yyyy-mm-dd.", code="DATE_INVALID") from exc
        file, report, _ = service().closing_report(_record_id(file_id), end_date=end, actor=actor())
        return _reply(
            {
                "file_id": file.record_id,
                "version": file.version,
                "findings": [f.to_dict() for f in report.findings],
                "blocked": bool(report.blocking),
            }
        )

    @app.post("/api/files/<file_id>/close")
    def file_close(file_id: str) -> Response:
        data = _body()
        end = _date(data, "end_date")
        assert end is not None
        file = service().close_file(
            _record_id(file_id), end_date=end, expected_version=_int(data, "expected_version"), actor=actor()
        )
        return _reply(file_summary(service(), file, actor()))

    @app.post("/api/files/<file_id>/reopen")
    def file_reopen(file_id: str) -> Response:
        data = _body()
        file = service().reopen_file(
            _record_id(file_id),
            reason=_text(data, "reason", required=True) or "",
            expected_version=_int(data, "expected_version"),
            actor=actor(),
        )
        return _reply(file_summary(service(), file, actor()))

    @app.get("/api/files/<file_id>/catalogue")
    def file_catalogue(file_id: str) -> Response:
        file, docs = service().catalogue(_record_id(file_id), actor=actor())
        rows = [
            dict(
                zip(
                    ("ordinal", "so_ky_hieu", "issued", "type_subject", "author", "pages", "note"),
                    r.cells(),
                    strict=True,
                )
            )
            | {"record_id": r.record_id}
            for r in catalogue(docs)
        ]
        return _reply({"file": file_summary(service(), file, actor()), "rows": rows})

    # -- nộp lưu -----------------------------------------------------------------------------
    @app.post("/api/files/<file_id>/submit")
    def file_submit(file_id: str) -> Response:
        data = _body()
        file = service().submit(
            _record_id(file_id), expected_version=_int(data, "expected_version"), actor=actor()
        )
        return _reply(file_summary(service(), file, actor()))

    @app.post("/api/files/<file_id>/keep")
    def file_keep(file_id: str) -> Response:
        data = _body()
        until = _date(data, "until")
        assert until is not None
        file = service().keep(
            _record_id(file_id),
            until=until,
            reason=_text(data, "reason", required=True) or "",
            expected_version=_int(data, "expected_version"),
            actor=actor(),
        )
        return _reply(file_summary(service(), file, actor()))

    @app.get("/api/submissions")
    def submission_inbox() -> Response:
        s, who = service(), actor()
        return _paged(s.inbox(actor=who), lambda f: file_summary(s, f, who))

    @app.get("/api/submissions/<file_id>/review")
    def submission_review(file_id: str) -> Response:
        review = service().review(_record_id(file_id), actor=actor())
        return _reply(
            {
                "file_id": review.file.record_id,
                "version": review.file.version,
                "passed": review.passed,
                "checks": [
                    {"name": c.name.value, "label": c.label, "passed": c.passed, "detail": c.detail}
                    for c in review.checks
                ],
            }
        )

    @app.post("/api/submissions/<file_id>/accept")
    def submission_accept(file_id: str) -> Response:
        data = _body()
        file = service().accept(
            _record_id(file_id), expected_version=_int(data, "expected_version"), actor=actor()
        )
        return _reply(file_summary(service(), file, actor()))

    @app.post("/api/submissions/<file_id>/return")
    def submission_return(file_id: str) -> Response:
        data = _body()
        expected = _int(data, "expected_version")
        file = service().return_file(
            _record_id(file_id),
            reason=_text(data, "reason", required=True) or "",
            expected_version=expected,
            actor=actor(),
        )
        # Returned, the hồ sơ is its phòng's again: the answer shows what the archivist returned.
        before = service().version_acted_on(file, expected)
        return _reply(file_summary(service(), file, actor(), acted_on=before))
