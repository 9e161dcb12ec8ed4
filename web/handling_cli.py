"""``kho handling``: trình, chỉ đạo, giao xử lý and the follow-up from the command line, as the
logged-in account (the same service the pages and the API call); ``reindex`` and ``flag`` are
operator commands on the derived work index."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from kho.cli_int import AsciiInt
from kho.errors import KhoError
from repository.workflow import Act
from web.cli import Context, handles_errors, json_option, pass_ctx
from web.retention_cli import _day


@click.group("handling")
def handling() -> None:
    """Xử lý văn bản đến: trình, chỉ đạo, giao xử lý, gia hạn, hoàn thành, theo dõi."""


@handling.command("show")
@click.argument("record_id")
@json_option
@pass_ctx
@handles_errors
def show(ctx: Context, record_id: str, as_json: bool) -> None:
    """Phiếu giải quyết của một văn bản: tình trạng, nhiệm vụ, các bước."""
    _, state = ctx.kho.handling.state(record_id, actor=ctx.actor)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "seq": state.seq,
                    "status": state.status,
                    "deadline": state.deadline,
                    "steps": [s.to_dict() for s in state.steps],
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"Tình trạng: {state.status_label} (bước {state.seq})")
    if state.deadline:
        click.echo(f"Thời hạn giải quyết: {date.fromisoformat(state.deadline):%d/%m/%Y}")
    click.echo(state.trace())


@handling.command("step")
@click.argument("record_id")
@click.argument("act", type=click.Choice([a.value for a in Act]))
@click.option(
    "--expected-seq", type=AsciiInt(), required=True, help="Số bước bạn đã thấy (kho handling show)."
)
@click.option("--user", "users", multiple=True, help="Người nhận/chủ trì/xử lý (lặp lại được).")
@click.option("--unit", "units", multiple=True, help="Đơn vị nhận/chủ trì (lặp lại được).")
@click.option("--cooperate-unit", "cooperate_units", multiple=True, help="Đơn vị phối hợp.")
@click.option("--task", help="Số nhiệm vụ (1: nhiệm vụ theo ý kiến chỉ đạo).")
@click.option("--deadline", help="Thời hạn (YYYY-MM-DD).")
@click.option("--note", help="Ý kiến, nội dung.")
@click.option("--content", help="Nội dung nhiệm vụ (add_task).")
@click.option("--ref", help="Mã văn bản trả lời / văn bản đề nghị gia hạn.")
@click.option("--approve/--refuse", "approved", default=None, help="Quyết định gia hạn.")
@click.option("--code", help="Mã trạng thái QCVN 102 (outgoing_status).")
@click.option("--organ", help="Cơ quan nhận (outgoing_status).")
@json_option
@pass_ctx
@handles_errors
def step(ctx: Context, record_id: str, act: str, expected_seq: int, as_json: bool, **options: Any) -> None:
    """Ghi một bước xử lý."""
    fields = {k: v for k, v in options.items() if v not in (None, ())}
    state = ctx.kho.handling.take(record_id, act, expected_seq=expected_seq, actor=ctx.actor, **fields)
    if as_json:
        click.echo(json.dumps({"seq": state.seq, "status": state.status}, ensure_ascii=False))
    else:
        click.echo(f"Đã ghi bước {state.seq}: {Act(act).label}. Tình trạng: {state.status_label}.")


@handling.command("work")
@json_option
@pass_ctx
@handles_errors
def work(ctx: Context, as_json: bool) -> None:
    """Việc của tôi."""
    h = ctx.kho.handling
    sight = h.sight(ctx.actor)
    counts, items = h.counts(ctx.actor, sight=sight), h.my_work(ctx.actor, sight=sight)
    if as_json:
        click.echo(
            json.dumps({"counts": counts.__dict__, "items": [i.__dict__ for i in items]}, ensure_ascii=False)
        )
        return
    click.echo(
        f"Mới đến: {counts.inbox} · Chờ chỉ đạo: {counts.to_direct} · Đang giải quyết: {counts.open}"
        f" · Sắp đến hạn: {counts.due_soon} · Quá hạn: {counts.overdue} · Chờ duyệt: {counts.to_approve}"
    )
    for i in items:
        click.echo(f"{i.record_id}  {i.label}  hạn {i.deadline or '-'}  {i.flag}")


@handling.command("import-status")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
@handles_errors
def import_status(ctx: Context, csv_file: str) -> None:
    """Nhập trạng thái bên nhận của văn bản đi (QCVN 102) từ tệp CSV: record_id,organ,code,note."""
    import csv

    try:
        with open(csv_file, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:  # (not UTF-8 text: a PDF, Windows-1258)
        from kho.read_reasons import read_reason, read_reason_code

        raise KhoError(  # (the exception's own text is English: its reason in Vietnamese, u27)
            f"Không đọc được tệp “{csv_file}”: cần tệp CSV văn bản UTF-8 ({read_reason(exc)}).",
            code="STATUS_IMPORT_INVALID",
            reason=read_reason_code(exc),
        ) from exc
    count = ctx.kho.handling.import_statuses(rows, actor=ctx.actor)
    click.echo(f"Đã ghi {count} trạng thái.")


@handling.command("reindex")
@pass_ctx
@handles_errors
def reindex(ctx: Context) -> None:
    """Dựng lại chỉ mục công việc (work-index.sqlite) từ các bước trong kho lưu trữ."""
    ctx.operator_access()
    count = ctx.kho.handling.rebuild_index()
    click.echo(f"Đã dựng lại chỉ mục công việc: {count} văn bản có bước xử lý.")


@handling.command("flag")
@click.option("--today", help="Ngày chạy (YYYY-MM-DD; mặc định hôm nay).")
@pass_ctx
@handles_errors
def flag(ctx: Context, today: str | None) -> None:
    """Chạy ngay việc hằng ngày: đánh dấu quá hạn, sắp đến hạn và thông báo."""
    ctx.operator_access()
    counts = ctx.kho.handling.flag_deadlines(_day(today, "--today") if today else None)
    click.echo(
        f"Quá hạn: {counts['overdue']} · Sắp đến hạn: {counts['due_soon']} · Thông báo: {counts['notified']}"
    )
