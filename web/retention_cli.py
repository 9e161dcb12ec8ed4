"""``kho plan …``, ``kho file close|reopen|submit|keep|catalogue``, ``kho submission …``,
``kho retention …``: Danh mục hồ sơ, closing and nộp lưu from the command line, as the logged-in
account (the same service, policy and audit as the API and the pages)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from kho import jsontext
from kho.cli_int import AsciiInt
from kho.errors import KhoError
from kho.timeutil import utcnow, vn_display
from repository.records import Record
from retention.closing import catalogue
from retention.fileplan import FilePlan, plan_rows
from retention.service import FILE_STATE_LABELS
from web.cli import Context, _show_record, file_group, handles_errors, json_option, pass_ctx
from web.retention_api import alert_dict, plan_dict


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise KhoError(f"Ngày “{name}” không hợp lệ (yyyy-mm-dd).", code="DATE_INVALID") from exc


def _show_plan(plan: FilePlan, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(plan_dict(plan), ensure_ascii=False, indent=2))
        return
    click.echo(f"Danh mục hồ sơ năm {plan.year} — {plan.state.label}, phiên bản {plan.version}")
    for row in plan_rows(plan):
        click.echo("  " + " | ".join(cell for cell in row if cell))
    f = plan.footer
    click.echo(f"  Tổng số {f['total']} hồ sơ: {f['permanent']} vĩnh viễn, {f['years']} có thời hạn.")


def _write(data: bytes, output: str) -> None:
    Path(output).write_bytes(data)
    click.echo(f"Đã ghi {output} ({len(data)} byte).")


def _file_state(ctx: Context, record: Record, as_json: bool, *, acted_on: Record | None = None) -> None:
    """A hồ sơ after a retention act, as the person may see it (the stored record carried the
    ids of documents above their clearance); ``acted_on``: :meth:`RetentionService.shown_to`."""
    _show_record(ctx.kho.retention.shown_to(record, ctx.actor, acted_on=acted_on), as_json)
    if not as_json:
        click.echo(f"  Trạng thái: {FILE_STATE_LABELS.get(record.state, record.state)}")


# -- kho plan ----------------------------------------------------------------------------------
@click.group("plan")
def plan() -> None:
    """Danh mục hồ sơ (Điều 28, Phụ lục V): lập, duyệt, ban hành, in."""


@plan.command("draft")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--expected-version", type=AsciiInt(), help="Phiên bản dự thảo đang sửa (khi sửa).")
@json_option
@pass_ctx
@handles_errors
def plan_draft(ctx: Context, plan_file: str, expected_version: int | None, as_json: bool) -> None:
    """Lập/sửa dự thảo từ tệp JSON {year, headings[], items[]}."""
    from kho.files import read_small_file

    try:
        data = read_small_file(plan_file, code="BODY_INVALID", label="danh mục")
        raw = jsontext.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # (UnicodeDecodeError is a ValueError)
        raise KhoError("Tệp danh mục không phải JSON hợp lệ.", code="BODY_INVALID") from exc
    if not isinstance(raw, dict):
        raise KhoError("Tệp danh mục phải là một đối tượng JSON.", code="BODY_INVALID")
    _show_plan(ctx.kho.retention.draft_plan(raw, actor=ctx.actor, expected_version=expected_version), as_json)


@plan.command("show")
@click.argument("year", type=AsciiInt())
@json_option
@pass_ctx
@handles_errors
def plan_show(ctx: Context, year: int, as_json: bool) -> None:
    ctx.actor  # noqa: B018 - logged in
    _show_plan(ctx.kho.retention.plan(year), as_json)


@plan.command("approve")
@click.argument("year", type=AsciiInt())
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def plan_approve(ctx: Context, year: int, expected_version: int, as_json: bool) -> None:
    """Phê duyệt (lãnh đạo; không phải người lập)."""
    _show_plan(
        ctx.kho.retention.approve_plan(year, expected_version=expected_version, actor=ctx.actor), as_json
    )


@plan.command("issue")
@click.argument("year", type=AsciiInt())
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def plan_issue(ctx: Context, year: int, expected_version: int, as_json: bool) -> None:
    """Ban hành danh mục đã duyệt (lãnh đạo)."""
    _show_plan(
        ctx.kho.retention.issue_plan(year, expected_version=expected_version, actor=ctx.actor), as_json
    )


@plan.command("export")
@click.argument("year", type=AsciiInt())
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@pass_ctx
@handles_errors
def plan_export(ctx: Context, year: int, fmt: str, output: str) -> None:
    """In danh mục hồ sơ (PDF) hoặc xuất XLSX, có dòng tổng cộng."""
    from web.pages.retention_export import plan_sheet, to_pdf, to_xlsx

    who = ctx.actor
    sheet = plan_sheet(ctx.kho.retention.export_plan(year, actor=who, fmt=fmt), ctx.settings.agency_name)
    _write(to_pdf(sheet, who.user, vn_display(utcnow())) if fmt == "pdf" else to_xlsx(sheet), output)


@plan.command("open")
@click.argument("year", type=AsciiInt())
@click.argument("notation")
@click.option("--start-date", help="Ngày bắt đầu (yyyy-mm-dd; mặc định hôm nay).")
@json_option
@pass_ctx
@handles_errors
def plan_open(ctx: Context, year: int, notation: str, start_date: str | None, as_json: bool) -> None:
    """Mở hồ sơ theo một dòng của danh mục đã ban hành (ví dụ 01.TCCB)."""
    start = _day(start_date, "start-date") if start_date else None
    _file_state(ctx, ctx.kho.retention.open_file(year, notation, actor=ctx.actor, start_date=start), as_json)


# -- kho file close|reopen|submit|keep|catalogue -----------------------------------------------
@file_group.command("close")
@click.argument("file_id")
@click.option("--end-date", required=True, help="Ngày kết thúc công việc (yyyy-mm-dd).")
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def file_close(ctx: Context, file_id: str, end_date: str, expected_version: int, as_json: bool) -> None:
    """Kết thúc hồ sơ: kiểm tra, điền số trang, lập mục lục văn bản."""
    record = ctx.kho.retention.close_file(
        file_id, end_date=_day(end_date, "end-date"), expected_version=expected_version, actor=ctx.actor
    )
    _file_state(ctx, record, as_json)
    for flag in record.extra.get("closing_flags", []) if not as_json else []:
        click.echo(f"  Lưu ý [{flag['code']}]: {flag['message']}")


@file_group.command("reopen")
@click.argument("file_id")
@click.option("--reason", required=True)
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def file_reopen(ctx: Context, file_id: str, reason: str, expected_version: int, as_json: bool) -> None:
    """Mở lại hồ sơ đã kết thúc (ghi lý do vào nhật ký)."""
    record = ctx.kho.retention.reopen_file(
        file_id, reason=reason, expected_version=expected_version, actor=ctx.actor
    )
    _file_state(ctx, record, as_json)


@file_group.command("submit")
@click.argument("file_id")
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def file_submit(ctx: Context, file_id: str, expected_version: int, as_json: bool) -> None:
    """Nộp lưu hồ sơ đã kết thúc."""
    _file_state(
        ctx, ctx.kho.retention.submit(file_id, expected_version=expected_version, actor=ctx.actor), as_json
    )


@file_group.command("keep")
@click.argument("file_id")
@click.option("--until", required=True, help="Giữ lại đến ngày (yyyy-mm-dd; tối đa 02 năm sau hạn).")
@click.option("--reason", required=True)
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def file_keep(
    ctx: Context, file_id: str, until: str, reason: str, expected_version: int, as_json: bool
) -> None:
    """Duyệt giữ lại hồ sơ đến hạn nộp lưu (lãnh đạo)."""
    record = ctx.kho.retention.keep(
        file_id, until=_day(until, "until"), reason=reason, expected_version=expected_version, actor=ctx.actor
    )
    _file_state(ctx, record, as_json)


@file_group.command("catalogue")
@click.argument("file_id")
@click.option("--format", "fmt", type=click.Choice(["text", "pdf", "xlsx", "xml"]), default="text")
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@pass_ctx
@handles_errors
def file_catalogue(ctx: Context, file_id: str, fmt: str, output: str | None) -> None:
    """Mục lục văn bản trong hồ sơ; xuất PDF, XLSX hoặc XML (Phụ lục VI III.4.g)."""
    from web.pages.retention_export import catalogue_sheet, to_pdf, to_xlsx

    service, who = ctx.kho.retention, ctx.actor
    if fmt == "text":
        _, docs = service.catalogue(file_id, actor=who)
        for row in catalogue(docs):
            click.echo(" | ".join(row.cells()))
        return
    if output is None:
        raise KhoError("Cần --output cho định dạng pdf, xlsx, xml.", code="FIELD_REQUIRED")
    if fmt == "xml":
        _write(service.export_file_xml(file_id, actor=who), output)
        return
    file, docs = service.catalogue(file_id, actor=who)
    ctx.repo.audit_export(who, "file", {"record_id": file_id, "format": fmt})
    sheet = catalogue_sheet(file, docs)
    _write(to_pdf(sheet, who.user, vn_display(utcnow())) if fmt == "pdf" else to_xlsx(sheet), output)


# -- kho submission ----------------------------------------------------------------------------
@click.group("submission")
def submission() -> None:
    """Tiếp nhận hồ sơ nộp lưu (lưu trữ viên)."""


@submission.command("list")
@json_option
@pass_ctx
@handles_errors
def submission_list(ctx: Context, as_json: bool) -> None:
    files = ctx.kho.retention.inbox(actor=ctx.actor)
    if as_json:
        shown = [ctx.kho.retention.shown_to(f, ctx.actor).to_dict() for f in files]
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for f in files:
        md: Any = f.metadata
        click.echo(f"{f.record_id}  {md.file_notation}  {md.title}  (phiên bản {f.version})")


@submission.command("review")
@click.argument("file_id")
@json_option
@pass_ctx
@handles_errors
def submission_review(ctx: Context, file_id: str, as_json: bool) -> None:
    review = ctx.kho.retention.review(file_id, actor=ctx.actor)
    if as_json:
        click.echo(json.dumps([c.__dict__ for c in review.checks], ensure_ascii=False, default=str))
        return
    for check in review.checks:
        click.echo(f"{'Đạt' if check.passed else 'KHÔNG ĐẠT'}: {check.label} {check.detail}")


@submission.command("accept")
@click.argument("file_id")
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def submission_accept(ctx: Context, file_id: str, expected_version: int, as_json: bool) -> None:
    _file_state(
        ctx, ctx.kho.retention.accept(file_id, expected_version=expected_version, actor=ctx.actor), as_json
    )


@submission.command("return")
@click.argument("file_id")
@click.option("--reason", required=True)
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def submission_return(ctx: Context, file_id: str, reason: str, expected_version: int, as_json: bool) -> None:
    record = ctx.kho.retention.return_file(
        file_id, reason=reason, expected_version=expected_version, actor=ctx.actor
    )
    before = ctx.kho.retention.version_acted_on(record, expected_version)
    _file_state(ctx, record, as_json, acted_on=before)


# -- kho retention -----------------------------------------------------------------------------
@click.group("retention")
def retention() -> None:
    """Thời hạn bảo quản, cảnh báo nộp lưu, bàn giao hồ sơ."""


@retention.command("alerts")
@json_option
@pass_ctx
@handles_errors
def retention_alerts(ctx: Context, as_json: bool) -> None:
    """Hồ sơ của bạn (hoặc, với lưu trữ viên, của đơn vị) đến hạn / quá hạn nộp lưu."""
    alerts = ctx.kho.retention.alerts(actor=ctx.actor)
    if as_json:
        click.echo(json.dumps([alert_dict(a) for a in alerts], ensure_ascii=False, indent=2))
        return
    for alert in alerts:
        click.echo(alert.message)
    if not alerts:
        click.echo("Không có hồ sơ đến hạn nộp lưu.")


@retention.command("send-alerts")
@pass_ctx
@handles_errors
def retention_send_alerts(ctx: Context) -> None:
    """Gửi cảnh báo nộp lưu ngay (việc hằng ngày của Celery beat; vận hành)."""
    from retention.tasks import run_due_alerts

    ctx.operator_access()
    click.echo(f"Đã gửi {len(run_due_alerts(ctx.kho.accounts, ctx.kho.retention))} cảnh báo.")


@retention.command("schedule")
@json_option
@pass_ctx
@handles_errors
def retention_schedule(ctx: Context, as_json: bool) -> None:
    """Bảng thời hạn bảo quản hiện hành."""
    ctx.actor  # noqa: B018 - logged in
    schedule = ctx.kho.retention.schedule()
    if as_json:
        click.echo(json.dumps(schedule.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Bảng thời hạn bảo quản — phiên bản {schedule.version}")
    for entry in schedule.entries:
        click.echo(f"  {entry.code:10} {entry.retention.label:30} {entry.title}")


@retention.command("handover")
@click.argument("from_user")
@click.argument("to_user")
@pass_ctx
@handles_errors
def retention_handover(ctx: Context, from_user: str, to_user: str) -> None:
    """Bàn giao mọi hồ sơ của người chuyển công tác (Điều 31 k3 đ)."""
    moved = ctx.kho.handover(from_user, to_user, actor=ctx.actor)
    click.echo(f"Đã bàn giao {len(moved)} hồ sơ cho {to_user}.")
