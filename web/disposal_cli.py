"""``kho archive …``: Xem xét hủy, destruction cases, legal holds, SIP transfer, recall.

Every command acts as the logged-in account (``kho login``) through :mod:`retention`; the
destruction's execution asks for the password again (QCVN 12 2.2.12.2.6).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from kho.timeutil import vn_date
from retention import dossier_docs
from retention.destruction import STATE_LABELS, Destructions, review_list
from retention.holds import Holds
from retention.recall import Recalls
from retention.sip import Transfers
from retention.sip_import import verdicts_said
from web.cli import Context, handles_errors, json_option, pass_ctx


def _out(data: Any, as_json: bool, line: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2) if as_json else line)


@click.group("archive")
def archive() -> None:
    """Lưu trữ: xem xét hủy, hủy tài liệu, phong tỏa, nộp lưu lịch sử, thu hồi."""


@archive.command("review")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Ngày xét (mặc định hôm nay).")
@json_option
@pass_ctx
@handles_errors
def review(ctx: Context, today: Any, as_json: bool) -> None:
    """Danh sách hồ sơ xem xét hủy (hết thời hạn bảo quản)."""
    day: date = today.date() if today else vn_date(ctx.repo.clock())
    items = review_list(ctx.repo, actor=ctx.actor, today=day)
    lines = [
        f"{c.record_id}  {c.file_code}  {c.maintenance}  hết hạn {c.expires_on}  {c.title}" for c in items
    ]
    _out([c.__dict__ for c in items], as_json, "\n".join(lines) or "Không có hồ sơ nào hết hạn.")


@archive.command("hold")
@click.argument("record_ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Lý do phong tỏa.")
@json_option
@pass_ctx
@handles_errors
def hold(ctx: Context, record_ids: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Phong tỏa văn bản/hồ sơ (một hay nhiều mã)."""
    order = Holds(ctx.repo).place(list(record_ids), reason, actor=ctx.actor)
    _out(order, as_json, f"Đã phong tỏa {len(order['targets'])} mục, lệnh {order['order_id']}.")


@archive.command("release")
@click.argument("order_id")
@click.option("--reason", required=True)
@json_option
@pass_ctx
@handles_errors
def release(ctx: Context, order_id: str, reason: str, as_json: bool) -> None:
    """Gỡ phong tỏa."""
    order = Holds(ctx.repo).release(order_id, reason, actor=ctx.actor)
    _out(order, as_json, f"Đã gỡ phong tỏa lệnh {order_id}.")


@archive.group("destruction")
def destruction() -> None:
    """Hủy tài liệu hết giá trị."""


def _case_line(case: dict[str, Any]) -> str:
    return f"{case['case_id']}  {STATE_LABELS.get(case['state'], case['state'])}  {len(case['items'])} hồ sơ"


@destruction.command("propose")
@click.argument("file_ids", nargs=-1, required=True)
@click.option("--explanation", required=True, help="Thuyết minh tài liệu đề nghị hủy.")
@json_option
@pass_ctx
@handles_errors
def propose(ctx: Context, file_ids: tuple[str, ...], explanation: str, as_json: bool) -> None:
    """Lập danh mục và thuyết minh hồ sơ đề nghị hủy (lưu trữ viên)."""
    case = Destructions(ctx.repo, ctx.kho.accounts, ctx.backend).propose(
        list(file_ids), explanation, actor=ctx.actor
    )
    _out(case, as_json, _case_line(case))


@destruction.command("council")
@click.argument("case_id")
@click.option("--member", "members", multiple=True, required=True)
@click.option("--decision", "decision_ref", required=True, help="Quyết định thành lập hội đồng.")
@json_option
@pass_ctx
@handles_errors
def council(ctx: Context, case_id: str, members: tuple[str, ...], decision_ref: str, as_json: bool) -> None:
    """Quyết định thành lập hội đồng xác định giá trị tài liệu (lãnh đạo)."""
    case = Destructions(ctx.repo, ctx.kho.accounts).establish_council(
        case_id, list(members), decision_ref, actor=ctx.actor
    )
    _out(case, as_json, _case_line(case))


@destruction.command("review")
@click.argument("case_id")
@click.argument("opinion", type=click.Choice(["agree", "disagree"]))
@click.option("--note", default="")
@json_option
@pass_ctx
@handles_errors
def member_review(ctx: Context, case_id: str, opinion: str, note: str, as_json: bool) -> None:
    """Ý kiến của thành viên hội đồng."""
    case = Destructions(ctx.repo, ctx.kho.accounts).review(case_id, opinion, note, actor=ctx.actor)
    _out(case, as_json, _case_line(case))


@destruction.command("minutes")
@click.argument("case_id")
@click.option("--text", required=True)
@json_option
@pass_ctx
@handles_errors
def minutes(ctx: Context, case_id: str, text: str, as_json: bool) -> None:
    """Biên bản họp hội đồng (khi mọi thành viên đã cho ý kiến)."""
    case = Destructions(ctx.repo, ctx.kho.accounts).record_minutes(case_id, text, actor=ctx.actor)
    _out(case, as_json, _case_line(case))


@destruction.command("appraisal")
@click.argument("case_id")
@click.option("--text", required=True)
@json_option
@pass_ctx
@handles_errors
def appraisal(ctx: Context, case_id: str, text: str, as_json: bool) -> None:
    """Ý kiến thẩm định."""
    case = Destructions(ctx.repo, ctx.kho.accounts).attach_appraisal(case_id, text, actor=ctx.actor)
    _out(case, as_json, _case_line(case))


@destruction.command("decide")
@click.argument("case_id")
@click.option("--decision", "decision_ref", required=True)
@click.option("--reject", is_flag=True)
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), help="Thời hạn thực hiện hủy (YYYY-MM-DD).")
@json_option
@pass_ctx
@handles_errors
def decide(
    ctx: Context, case_id: str, decision_ref: str, reject: bool, deadline: Any, as_json: bool
) -> None:
    """Quyết định hủy (hoặc --reject: không duyệt) của người đứng đầu, với thời hạn thực hiện."""
    case = Destructions(ctx.repo, ctx.kho.accounts).decide(
        case_id,
        decision_ref,
        approve=not reject,
        deadline=deadline.date() if deadline else None,
        actor=ctx.actor,
    )
    _out(case, as_json, _case_line(case))


@destruction.command("document")
@click.argument("case_id")
@click.argument("name", type=click.Choice(list(dossier_docs.BUILDERS)))
@click.option("--format", "fmt", type=click.Choice(list(dossier_docs.FORMATS)), default="pdf")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="Tệp ghi ra.")
@pass_ctx
@handles_errors
def document(ctx: Context, case_id: str, name: str, fmt: str, out_path: str) -> None:
    """Một tài liệu của hồ sơ hủy (danh mục, biên bản họp, thẩm định, quyết định hủy, biên bản
    hủy) dạng PDF hoặc XLSX."""
    doc, data = Destructions(ctx.repo, ctx.kho.accounts).document(case_id, name, fmt, actor=ctx.actor)
    Path(out_path).write_bytes(data)
    click.echo(f"Đã ghi “{doc.title}” ({fmt.upper()}, {len(data)} byte) vào {out_path}.")


@destruction.command("overdue")
@json_option
@pass_ctx
@handles_errors
def overdue(ctx: Context, as_json: bool) -> None:
    """Các hồ sơ hủy đã có quyết định nhưng quá thời hạn thực hiện."""
    cases = Destructions(ctx.repo).overdue(actor=ctx.actor, today=vn_date(ctx.repo.clock()))
    _out(cases, as_json, "\n".join(_case_line(c) for c in cases) or "Không có hồ sơ hủy quá hạn.")


@destruction.command("execute")
@click.argument("case_id")
@click.password_option("--password", confirmation_prompt=False, prompt="Nhập lại mật khẩu để xác nhận hủy")
@json_option
@pass_ctx
@handles_errors
def execute(ctx: Context, case_id: str, password: str, as_json: bool) -> None:
    """Thực hiện hủy (hoặc tiếp tục một lần hủy bị gián đoạn)."""
    case = Destructions(ctx.repo, ctx.kho.accounts, ctx.backend, forget=ctx.kho.forget_work).execute(
        case_id, password, actor=ctx.actor
    )
    _out(case, as_json, _case_line(case))


@destruction.command("list")
@json_option
@pass_ctx
@handles_errors
def destruction_list(ctx: Context, as_json: bool) -> None:
    """Các hồ sơ hủy tài liệu và bước hiện tại."""
    cases = Destructions(ctx.repo).list(actor=ctx.actor)
    _out(cases, as_json, "\n".join(_case_line(c) for c in cases) or "Chưa có hồ sơ hủy nào.")


@archive.command("export-sip")
@click.argument("file_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@json_option
@pass_ctx
@handles_errors
def export_sip(ctx: Context, file_id: str, out_dir: str, as_json: bool) -> None:
    """Lập, kiểm tra (E-ARK) và xuất gói tin SIP của một hồ sơ vĩnh viễn đã kết thúc."""
    receipt = Transfers(ctx.repo).export(file_id, Path(out_dir), actor=ctx.actor)
    lines = [f"{receipt['path']}  SHA-256 {receipt['sha256']}  lượt {receipt['transfer_id']}"]
    lines += [f"Không có trong gói tin: {o['message']}" for o in receipt["omitted"]]
    _out(receipt, as_json, "\n".join(lines))


@archive.command("receipt")
@click.argument("transfer_id")
@click.option("--reference", required=True, help="Số, ngày biên bản giao nhận.")
@json_option
@pass_ctx
@handles_errors
def receipt(ctx: Context, transfer_id: str, reference: str, as_json: bool) -> None:
    """Ghi nhận biên bản giao nhận của Lưu trữ lịch sử."""
    done = Transfers(ctx.repo).record_receipt(transfer_id, reference, actor=ctx.actor)
    _out(done, as_json, f"Đã ghi nhận giao nhận lượt {transfer_id}.")


@archive.command("check-sip")
@click.argument("package", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--resend", is_flag=True, help="Nhận bản gửi lại đã sửa của một gói tin đã nhận (cùng mã gói tin)."
)
@json_option
@pass_ctx
@handles_errors
def check_sip(ctx: Context, package: str, resend: bool, as_json: bool) -> None:
    """Kiểm tra và tiếp nhận một gói tin SIP (an toàn, mã băm, E-ARK, chữ ký số; không nhận lại)."""
    result = ctx.kho.import_package(Path(package), actor=ctx.actor, resend=resend)
    said = verdicts_said(result["signature_verdicts"])
    _out(result, as_json, f"Gói tin hợp lệ: {result['object_id']} ({result['files']} tệp).{said}")


@archive.command("recall-mark")
@json_option
@pass_ctx
@handles_errors
def recall_mark(ctx: Context, as_json: bool) -> None:
    """Ghi lệnh thu hồi vào các văn bản đi đã thu hồi trước đây (nơi nhận không còn được xem; vận hành)."""
    marked = Recalls(ctx.repo, ctx.backend).mark_earlier(actor=ctx.operator_access())
    _out({"marked": marked}, as_json, f"Đã ghi lệnh thu hồi vào {len(marked)} văn bản đi.")


@archive.command("recall-withdraw")
@click.argument("record_id")
@click.option("--reason", required=True, help="Lý do rút lại lệnh.")
@json_option
@pass_ctx
@handles_errors
def recall_withdraw(ctx: Context, record_id: str, reason: str, as_json: bool) -> None:
    """Rút lại lệnh thu hồi chưa thực hiện xong (người đã ghi lệnh hoặc lãnh đạo) để ghi lệnh mới."""
    done = Recalls(ctx.repo, ctx.backend, ctx.kho.forget_work).withdraw(record_id, reason, actor=ctx.actor)
    _out(done, as_json, f"Đã rút lại lệnh thu hồi {done['recall_id']} của {record_id}.")


@archive.command("recall")
@click.argument("record_id")
@click.option("--order", "order_ref", required=True, help="Số, ngày văn bản thu hồi.")
@click.option("--reason", required=True)
@json_option
@pass_ctx
@handles_errors
def recall(ctx: Context, record_id: str, order_ref: str, reason: str, as_json: bool) -> None:
    """Thu hồi: văn bản đi bị đóng băng; văn bản đến bị hủy và bên gửi được báo."""
    recalls = Recalls(ctx.repo, ctx.backend, ctx.kho.forget_work)
    record = ctx.repo.get(record_id, actor=ctx.actor)
    if record.kind == "di":
        done = recalls.recall_outgoing(record_id, order_ref, reason, actor=ctx.actor)
    else:
        done = recalls.recall_incoming(record_id, order_ref, reason, actor=ctx.actor)
    _out(done, as_json, f"Đã thu hồi {record_id} ({done['state']}).")
