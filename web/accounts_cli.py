"""``kho login``/``logout``/``whoami``/``password``, ``kho account …``, ``kho unit …`` and
``kho intake …`` (receive → check → confirm → register, from the command line).

    kho account init --agency-name NAME --code CODE --admin "Họ và tên"    (operator, first start)
    kho login [USERNAME] [--password-stdin]
    kho account create --full-name "Nguyễn Văn An" --unit UNIT --role van_thu [--clearance 1]   (nửa đầu)
    kho account confirm-reset USER [--operator]          (người thứ hai: tài khoản mới hoặc cấp lại; nửa sau)
    kho account lock USER --reason left|admin      kho account unlock USER
    kho account forget-devices USER        (quản trị: no browser of USER is trusted any more)
    kho account recover USER --reason "…"                               (operator: last quản trị locked out)
    kho account accept-rollback USER --reason "…"       (operator: an ACCOUNT_ROLLED_BACK no backup restores)
    kho account clearance USER LEVEL [--operator --reason "Quyết định số …"]   (quản trị; operator: the first)
    kho account seal                   (operator, upgrade: seal what the audit log vouches for)
    kho account record-ended-tokens    (operator, upgrade: name tokens ended before a30 in their accounts)
    kho unit accept-rollback UNIT --reason "…"          (operator: a UNIT_ROLLED_BACK no backup restores)
    kho intake list | show ID | confirm ID --expected-version N [tên=giá trị...] | return ID
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from kho.cli_int import AsciiInt
from kho.errors import KhoError, PasswordChangeRequired
from repository.policy import Action
from repository.vocabulary import Secrecy
from web.cli import Context, _meta_pairs, _show_record, handles_errors, json_option, pass_ctx
from web.cli_help import ask
from web.session import forget_token, save_token, saved_token
from web.terminal import one_line


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read_secret(prompt: str, from_stdin: bool, *, confirm: bool = False) -> str:
    """A password typed or piped in: UTF-8 text, or refused (``PASSWORD_NOT_TEXT``) before anything
    checks it. Bytes that are not UTF-8 raised ``UnicodeDecodeError``, or (stdin read with
    ``surrogateescape``) reached the hasher as half UTF-16 pairs: a traceback either way (review a26)."""
    try:
        if from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise KhoError("Không đọc được mật khẩu từ đầu vào chuẩn.", code="PASSWORD_MISSING")
            secret = line.rstrip("\n")
        else:
            secret = ask(prompt, hide_input=True, twice=confirm)
        secret.encode("utf-8")
    except UnicodeError:
        raise KhoError(
            "Mật khẩu đọc được không phải văn bản UTF-8; hãy nhập lại bằng bảng mã UTF-8.",
            code="PASSWORD_NOT_TEXT",
        ) from None
    return secret


# -- login ------------------------------------------------------------------------------------
@click.command("login")
@click.argument("username", required=False)
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu (và mật khẩu mới nếu phải đổi) từ stdin.")
@pass_ctx
@handles_errors
def login(ctx: Context, username: str | None, password_stdin: bool) -> None:
    """Đăng nhập; mã truy cập được lưu cho các lệnh sau."""
    accounts = ctx.kho.accounts
    name = (username or ask("Tên đăng nhập")).strip().lower()
    password = _read_secret("Mật khẩu", password_stdin)
    try:
        account = accounts.authenticate(name, password, "cli")
    except PasswordChangeRequired as required:
        click.echo(f"{required.message}", err=True)
        new = _read_secret("Mật khẩu mới", password_stdin, confirm=not password_stdin)
        accounts.change_password(name, password, new, "cli")
        account = accounts.authenticate(name, new, "cli")
    token = accounts.issue_token(account.username, "cli", account, "cli")
    path = save_token(ctx.settings, token)
    click.echo(f"Đã đăng nhập: {account.username} ({account.full_name}). Mã truy cập lưu ở {path}.")


@click.command("logout")
@pass_ctx
@handles_errors
def logout(ctx: Context) -> None:
    """Đăng xuất: thu hồi mã truy cập đang dùng."""
    from repository.accounts import token_digest

    token = saved_token(ctx.settings)
    account = ctx.kho.accounts.resolve_token(token)
    ctx.kho.accounts.revoke_token(account.username, token_digest(token), account, "cli")
    forget_token(ctx.settings)
    click.echo("Đã đăng xuất.")


@click.command("whoami")
@json_option
@pass_ctx
@handles_errors
def whoami(ctx: Context, as_json: bool) -> None:
    """Tài khoản đang đăng nhập, vai trò và thông báo."""
    account = ctx.account
    notes = ctx.kho.notifications(ctx.actor)
    if as_json:
        _echo_json({"account": account.public_dict(), "notifications": [n.to_dict() for n in notes]})
        return
    click.echo(f"{account.username} — {account.full_name}")
    for m in account.memberships:
        click.echo(f"  {m.role.label} tại {m.unit}")
    for note in notes[-5:]:
        click.echo(f"  • {note.message}")


@click.command("password")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu cũ rồi mật khẩu mới từ stdin.")
@pass_ctx
@handles_errors
def password(ctx: Context, password_stdin: bool) -> None:
    """Đổi mật khẩu của tài khoản đang đăng nhập."""
    old = _read_secret("Mật khẩu hiện tại", password_stdin)
    new = _read_secret("Mật khẩu mới", password_stdin, confirm=not password_stdin)
    from repository.accounts import token_digest
    from web.session import saved_token

    # The token this command runs with stays valid; every other one of the account ends.
    keep = token_digest(saved_token(ctx.settings))
    ctx.kho.accounts.change_password(ctx.actor.user, old, new, "cli", keep=keep)
    click.echo("Đã đổi mật khẩu.")


# -- accounts ---------------------------------------------------------------------------------
@click.group("account")
def account() -> None:
    """Tài khoản người dùng (quản trị)."""


@account.command("init")
@click.option("--unit-id", help="Mã định danh của cơ quan (mặc định KHO_AGENCY_ID).")
@click.option("--agency-name", help="Tên cơ quan (mặc định KHO_AGENCY_NAME).")
@click.option("--code", required=True, help="Chữ viết tắt của cơ quan dùng trong tên tài khoản.")
@click.option("--admin", "admin_name", required=True, help="Họ và tên người quản trị đầu tiên.")
@json_option
@pass_ctx
@handles_errors
def account_init(
    ctx: Context, unit_id: str | None, agency_name: str | None, code: str, admin_name: str, as_json: bool
) -> None:
    """Lần khởi tạo đầu tiên: đơn vị gốc và tài khoản quản trị đầu tiên (truy cập trực tiếp kho)."""
    actor = ctx.operator_access()
    settings = ctx.settings
    unit, admin, initial = ctx.kho.accounts.bootstrap(
        unit_id or settings.agency_id, agency_name or settings.agency_name, code, admin_name
    )
    from repository.installation import ensure_installation

    # The installation's identity, named by every backup it makes (review rv39).
    ensure_installation(ctx.repo.store, ctx.repo.audit, actor, why="init")
    if as_json:
        _echo_json({"unit": unit.to_dict(), "account": admin.public_dict(), "initial_password": initial})
        return
    click.echo(f"Đơn vị gốc: {unit.unit_id} — {unit.name}")
    click.echo(f"Tài khoản quản trị: {admin.username}; mật khẩu ban đầu: {initial}")
    click.echo("Phải đổi mật khẩu ở lần đăng nhập đầu tiên (kho login).")


@account.command("create")
@click.option("--full-name", required=True, help="Họ và tên.")
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--role", "roles", multiple=True, required=True,
              help="van_thu, lanh_dao, chuyen_vien, luu_tru, kiem_toan, quan_tri (lặp lại được).")
@click.option("--clearance", type=AsciiInt(0, 3), default=0, show_default=True,
              help="Mức mật được xem: 0 thường, 1 Mật, 2 Tối mật, 3 Tuyệt mật.")
@click.option("--email")
@json_option
@pass_ctx
@handles_errors
def account_create(
    ctx: Context,
    full_name: str,
    unit: str,
    roles: tuple[str, ...],
    clearance: int,
    email: str | None,
    as_json: bool,
) -> None:
    """Tạo tài khoản (hai người): người tạo nhận nửa đầu mật khẩu ban đầu; một quản trị khác hoặc
    lãnh đạo đơn vị xác nhận (kho account confirm-reset) và nhận nửa sau."""
    accounts = ctx.kho.accounts
    actor_account = ctx.account
    created, first = accounts.create_account(full_name, unit, roles, clearance, email, actor_account, "cli")
    if as_json:
        _echo_json({"account": created.public_dict(), "first_half": first})
        return
    click.echo(f"Đã tạo tài khoản {created.username}. Nửa đầu mật khẩu ban đầu: {first}")
    click.echo(
        "Tài khoản chưa đăng nhập được: một quản trị khác hoặc lãnh đạo đơn vị phải xác nhận (kho account"
        " confirm-reset) và nhận nửa sau; người dùng nhập nửa đầu rồi nửa sau liền nhau, trong 24 giờ sau"
        " khi xác nhận, và phải đổi mật khẩu ngay."
    )
    _confirmer_note(accounts, actor_account, created.clearance)


def _confirmer_note(accounts: Any, actor_account: Any, clearance: int) -> None:
    """Tell the creator (or the quản trị who reset) when only a person holding the account's
    clearance may confirm (review a24)."""
    from repository.policy import confirmer_must_hold

    note = confirmer_must_hold(accounts.principal_of(actor_account), clearance)
    if note:
        click.echo(note)


@account.command("list")
@json_option
@pass_ctx
@handles_errors
def account_list(ctx: Context, as_json: bool) -> None:
    """Danh sách tài khoản."""
    ctx.repo.authorize(ctx.actor, Action.ACCOUNT_MANAGE)
    items = ctx.kho.accounts.accounts()
    if as_json:
        _echo_json([a.public_dict() for a in items])
        return
    for item in items:
        roles = ", ".join(f"{m.role.label}@{m.unit}" for m in item.memberships)
        click.echo(f"{item.username}\t{item.full_name}\t{item.status.value}\t{roles}")


@account.command("lock")
@click.argument("username")
@click.option("--reason", default="admin", show_default=True, help="admin hoặc left (nghỉ việc).")
@pass_ctx
@handles_errors
def account_lock(ctx: Context, username: str, reason: str) -> None:
    """Khóa tài khoản (quản trị; lãnh đạo đơn vị khi người đó nghỉ việc)."""
    accounts = ctx.kho.accounts
    accounts.lock(username, reason, ctx.account, "cli")
    click.echo(f"Đã khóa tài khoản {username}.")


@account.command("unlock")
@click.argument("username")
@pass_ctx
@handles_errors
def account_unlock(ctx: Context, username: str) -> None:
    """Mở khóa tài khoản (quản trị)."""
    accounts = ctx.kho.accounts
    accounts.unlock(username, ctx.account, "cli")
    click.echo(f"Đã mở khóa tài khoản {username}.")


@account.command("forget-devices")
@click.argument("username")
@pass_ctx
@handles_errors
def account_forget_devices(ctx: Context, username: str) -> None:
    """Bỏ tin cậy mọi trình duyệt đã đăng nhập tài khoản (quản trị): nhập sai mật khẩu từ bất kỳ
    trình duyệt nào chỉ còn khóa đăng nhập từ trình duyệt mới cho đến lần đăng nhập đúng kế tiếp."""
    accounts = ctx.kho.accounts
    accounts.forget_devices(username, ctx.account, "cli")
    click.echo(f"Đã bỏ tin cậy mọi trình duyệt của tài khoản {username}.")


@account.command("recover")
@click.argument("username")
@click.option("--reason", required=True, help="Lý do khôi phục (ghi vào nhật ký).")
@pass_ctx
@handles_errors
def account_recover(ctx: Context, username: str, reason: str) -> None:
    """Khôi phục quản trị cuối cùng bị khóa do nhập sai mật khẩu (người vận hành, trên máy chủ)."""
    ctx.operator_access()
    account = ctx.kho.accounts.recover(username, reason, "cli")
    click.echo(
        f"Đã mở khóa tài khoản {account.username}. Mọi mã truy cập của tài khoản đã bị thu hồi; người"
        " dùng phải đổi mật khẩu khi đăng nhập. Hãy giao vai trò quản trị cho một người thứ hai để"
        " không phải khôi phục lần nữa."
    )


@account.command("accept-rollback")
@click.argument("username")
@click.option("--reason", required=True, help="Lý do chấp nhận phiên bản cũ (ghi vào nhật ký).")
@pass_ctx
@handles_errors
def account_accept_rollback(ctx: Context, username: str, reason: str) -> None:
    """Chấp nhận phiên bản cũ của một tài khoản bị từ chối vì các phiên bản mới hơn đã bị xóa khỏi
    kho lưu trữ (ACCOUNT_ROLLED_BACK), khi không bản sao lưu nào còn giữ chúng (người vận hành,
    trên máy chủ)."""
    ctx.operator_access()
    account = ctx.kho.accounts.accept_rollback(username, reason, "cli")
    click.echo(
        f"Đã chấp nhận phiên bản cũ của tài khoản {account.username} (ghi thành phiên bản"
        f" {account.version}). Mọi phiên và mã truy cập của tài khoản đã bị chấm dứt. Không mật khẩu nào"
        " của tài khoản dùng được nữa (mật khẩu trong phiên bản cũ có thể là mật khẩu người dùng đã"
        " thay vì bị lộ): quản trị cấp lại mật khẩu, một quản trị khác hoặc lãnh đạo đơn vị xác nhận."
        " Hãy để quản trị kiểm tra lại vai trò và trạng thái khóa của tài khoản."
    )


@account.command("seal")
@json_option
@pass_ctx
@handles_errors
def account_seal(ctx: Context, as_json: bool) -> None:
    """Nâng cấp: niêm phong (KHO_MASTER_KEY) mọi tài khoản và đơn vị có phiên bản mới nhất chưa niêm
    phong, chỉ khi nhật ký kiểm toán có sự kiện của phiên bản đó (người vận hành, trên máy chủ)."""
    from repository.accounts import OPERATOR
    from repository.sealing import seal_unsealed

    ctx.operator_access()
    outcome = seal_unsealed(ctx.repo, ctx.kho.accounts, OPERATOR, "cli")
    refused = [o for o in outcome if o.sealed_as is None]
    if as_json:
        _echo_json({"items": [o.__dict__ for o in outcome], "refused": len(refused)})
    else:
        for item in outcome:
            if item.sealed_as is not None:
                click.echo(f"  - {item.key}: đã niêm phong thành {item.sealed_as}")
            else:
                click.echo(f"  - {item.key}: KHÔNG niêm phong [{item.code}]: {item.reason}")
        click.echo(
            f"Đã niêm phong {len(outcome) - len(refused)}, từ chối {len(refused)}."
            + (" Khi không còn phiên bản bị từ chối, hãy bỏ KHO_ALLOW_UNSEALED." if not refused else "")
        )
    if refused:
        sys.exit(1)


@account.command("record-ended-tokens")
@json_option
@pass_ctx
@handles_errors
def account_record_ended_tokens(ctx: Context, as_json: bool) -> None:
    """Nâng cấp: ghi vào tài khoản mọi mã truy cập đã bị thu hồi trước bản a30 (theo tệp của mã
    và theo nhật ký kiểm toán), để khôi phục tệp của mã không làm nó dùng lại được (người vận
    hành, trên máy chủ; chạy lại không ghi gì thêm)."""
    from repository.accounts import OPERATOR
    from repository.ended_tokens import record_ended_tokens

    ctx.operator_access()
    report = record_ended_tokens(ctx.repo, ctx.kho.accounts, OPERATOR, "cli")
    if as_json:
        _echo_json(
            {
                "recorded": [r.__dict__ for r in report.recorded],
                "unmatched": [u.__dict__ for u in report.unmatched],
                "skipped": list(report.skipped),
            }
        )
        return
    for item in report.recorded:
        names = ", ".join(item.tokens)
        click.echo(f"  - {item.username}: đã ghi {len(item.tokens)} mã ({item.found_by}): {names}")
    for miss in report.unmatched:
        click.echo(
            f"  - {miss.username}: nhật ký (sự kiện {miss.seq}) nêu mã {miss.token} đã thu hồi nhưng không"
            " còn tệp nào của mã này trong kho lưu trữ"
        )
    for key in report.skipped:
        click.echo(f"  - {key}: không đọc được, bỏ qua")
    total = sum(len(r.tokens) for r in report.recorded)
    click.echo(f"Đã ghi {total} mã truy cập đã thu hồi vào {len(report.recorded)} lần ghi tài khoản.")


@account.command("reset-password")
@click.argument("username")
@pass_ctx
@handles_errors
def account_reset_password(ctx: Context, username: str) -> None:
    """Cấp lại mật khẩu (quản trị): nhận nửa đầu mật khẩu dùng một lần; người thứ hai xác nhận."""
    accounts = ctx.kho.accounts
    actor_account = ctx.account
    account, first = accounts.reset_password(username, actor_account, "cli")
    click.echo(f"Đã cấp lại mật khẩu cho {account.username}. Nửa đầu mật khẩu dùng một lần: {first}")
    click.echo(
        "Một quản trị khác hoặc lãnh đạo đơn vị phải xác nhận (kho account confirm-reset) và nhận"
        " nửa sau; người dùng nhập nửa đầu rồi nửa sau liền nhau, trong 24 giờ sau khi xác nhận."
    )
    _confirmer_note(accounts, actor_account, account.clearance)


@account.command("confirm-reset")
@click.argument("username")
@click.option(
    "--operator",
    is_flag=True,
    help="Người vận hành (trên máy chủ, truy cập trực tiếp kho lưu trữ) xác nhận, khi chưa có người thứ"
    " hai nào (quản trị đầu tiên tạo lãnh đạo hoặc quản trị thứ hai).",
)
@json_option
@pass_ctx
@handles_errors
def account_confirm_reset(ctx: Context, username: str, operator: bool, as_json: bool) -> None:
    """Xác nhận (người thứ hai) việc cấp lại mật khẩu hoặc tài khoản mới: nhận nửa sau mật khẩu dùng
    một lần."""
    accounts = ctx.kho.accounts
    if operator:
        ctx.operator_access()
        account, second = accounts.confirm_by_operator(username, "cli")
    else:
        account, second = accounts.confirm_reset(username, ctx.account, "cli")
    if as_json:
        _echo_json({"account": account.public_dict(), "second_half": second})
        return
    new_account = account.reset is not None and account.reset.new_account
    what = "tài khoản mới" if new_account else "cấp lại mật khẩu cho"
    click.echo(f"Đã xác nhận {what} {account.username}. Nửa sau mật khẩu dùng một lần: {second}")
    click.echo("Hãy trao nửa sau tận tay người dùng, không qua người đã tạo hoặc cấp lại.")


@account.command("roles")
@click.argument("username")
@click.option("--role", "pairs", multiple=True, required=True, help="ĐƠN_VỊ:VAI_TRÒ (lặp lại được).")
@pass_ctx
@handles_errors
def account_roles(ctx: Context, username: str, pairs: tuple[str, ...]) -> None:
    """Đặt lại vai trò của một tài khoản (người đó được thông báo)."""
    memberships = []
    for pair in pairs:
        unit, sep, role = pair.rpartition(":")
        if not sep or not unit:
            raise KhoError(f"“{pair}” không đúng dạng ĐƠN_VỊ:VAI_TRÒ.", code="ROLE_INVALID")
        memberships.append((unit, role))
    accounts = ctx.kho.accounts
    accounts.set_roles(username, memberships, ctx.account, "cli")
    click.echo(f"Đã cập nhật vai trò của {username}.")


@account.command("clearance")
@click.argument("username")
@click.argument("level", type=AsciiInt(0, 3))
@click.option(
    "--operator",
    is_flag=True,
    help="Người vận hành (trên máy chủ) cấp mức cho quản trị hoặc lãnh đạo đầu tiên, khi chưa quản trị nào"
    " có mức đó cấp được.",
)
@click.option("--reason", default="", help="Căn cứ: quyết định của người đứng đầu (bắt buộc với --operator).")
@pass_ctx
@handles_errors
def account_clearance(ctx: Context, username: str, level: int, operator: bool, reason: str) -> None:
    """Đặt mức được tiếp cận thông tin mật (0 Thường, 1 Mật, 2 Tối mật, 3 Tuyệt mật): quản trị chỉ nâng
    đến mức của chính mình; người vận hành (--operator) chỉ nâng cho quản trị hoặc lãnh đạo đầu tiên."""
    accounts = ctx.kho.accounts
    if operator:
        ctx.operator_access()
        account = accounts.clear_by_operator(username, level, reason, "cli")
    else:
        account = accounts.set_clearance(username, level, ctx.account, "cli")
    click.echo(f"Mức được tiếp cận thông tin mật của {account.username}: {Secrecy(account.clearance).label}.")


@account.command("token")
@click.argument("username")
@click.option("--name", default="api", show_default=True, help="Tên gợi nhớ của mã truy cập.")
@click.option("--days", default=None, help="Số ngày mã còn hiệu lực, từ 1 đến 365 (mặc định 90).")
@click.option(
    "--scope", default=None, help="Phạm vi: “read” (chỉ đọc) hoặc “read-write” (đọc và ghi, mặc định)."
)
@pass_ctx
@handles_errors
def account_token(ctx: Context, username: str, name: str, days: str | None, scope: str | None) -> None:
    """Cấp mã truy cập cá nhân cho API (in ra một lần duy nhất)."""
    accounts = ctx.kho.accounts
    click.echo(
        accounts.issue_token(username, name, ctx.account, "cli", days=days, scope=scope)
    )


# -- units ------------------------------------------------------------------------------------
@click.group("unit")
def unit() -> None:
    """Đơn vị (phòng, ban) của cơ quan."""


@unit.command("create")
@click.argument("unit_id")
@click.argument("name")
@click.argument("code")
@click.option("--parent", help="Mã đơn vị cấp trên (mặc định: cơ quan).")
@pass_ctx
@handles_errors
def unit_create(ctx: Context, unit_id: str, name: str, code: str, parent: str | None) -> None:
    accounts = ctx.kho.accounts
    parent_id = parent or ctx.settings.agency_id
    created = accounts.create_unit(unit_id, name, code, parent_id, ctx.account)
    click.echo(f"Đã tạo đơn vị {created.unit_id} — {created.name}.")


@unit.command("list")
@pass_ctx
@handles_errors
def unit_list(ctx: Context) -> None:
    ctx.repo.authorize(ctx.actor, Action.SEARCH)  # any logged-in person
    for item in ctx.kho.accounts.units():
        click.echo(f"{item.unit_id}\t{item.code}\t{item.name}\t{item.parent_id or ''}")


@unit.command("accept-rollback")
@click.argument("unit_id")
@click.option("--reason", required=True, help="Lý do chấp nhận phiên bản cũ (ghi vào nhật ký).")
@pass_ctx
@handles_errors
def unit_accept_rollback(ctx: Context, unit_id: str, reason: str) -> None:
    """Chấp nhận phiên bản cũ của một đơn vị bị từ chối vì các phiên bản mới hơn đã bị xóa khỏi kho
    lưu trữ (UNIT_ROLLED_BACK), khi không bản sao lưu nào còn giữ chúng (người vận hành, trên máy
    chủ)."""
    ctx.operator_access()
    unit = ctx.kho.accounts.accept_unit_rollback(unit_id, reason, "cli")
    click.echo(
        f"Đã chấp nhận phiên bản cũ của đơn vị {unit.unit_id} — {unit.name} (ghi thành phiên bản"
        f" {unit.version}). Hãy để quản trị kiểm tra lại tên và đơn vị cấp trên của đơn vị."
    )


# -- intake: receive → check → confirm → register ---------------------------------------------
@click.group("intake")
def intake() -> None:
    """Văn bản đã tiếp nhận, chờ xác nhận và vào sổ."""


def _show_review(review: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(review.to_dict())
        return
    record = review.record
    name = record.files[0].original_name if record.files else ""
    click.echo(f"{record.record_id}  v{record.version}  {name}")
    verdict = review.signature_verdict or "không kiểm tra (không phải PDF)"
    click.echo(f"  Chữ ký số: {verdict}")
    if review.signature_explanation:
        click.echo(f"    {review.signature_explanation}")
    if review.return_reason:
        click.echo(f"    Lý do có thể trả lại: {one_line(review.return_reason)}")
    if review.needs_override:
        click.echo("    Chữ ký KHÔNG HỢP LỆ: chỉ vào sổ được với --override-reason.")
    if review.duplicate_of:
        click.echo(f"  Trùng với văn bản đã vào sổ {review.duplicate_of} (cần --duplicate-reason).")
    for key, value in review.suggested.items():
        click.echo(f"  Đề xuất {key} = {value}  ({review.confidence.get(key, 0):.0%})")


@intake.command("list")
@json_option
@pass_ctx
@handles_errors
def intake_list(ctx: Context, as_json: bool) -> None:
    """Văn bản chờ vào sổ."""
    reviews = ctx.kho.receive.pending(ctx.actor)
    if as_json:
        _echo_json([r.to_dict() for r in reviews])
        return
    click.echo(f"{len(reviews)} văn bản chờ vào sổ")
    for review in reviews:
        _show_review(review, False)


@intake.command("show")
@click.argument("record_id")
@json_option
@pass_ctx
@handles_errors
def intake_show(ctx: Context, record_id: str, as_json: bool) -> None:
    """Kết quả kiểm tra chữ ký và dữ liệu đặc tả đề xuất của một văn bản."""
    _show_review(ctx.kho.receive.review(record_id, ctx.actor), as_json)


@intake.command("confirm")
@click.argument("record_id")
@click.option("--expected-version", type=AsciiInt(), required=True, help="Phiên bản bạn đã xem.")
@click.option("--use-suggestions", is_flag=True, help="Lấy các trường còn thiếu từ đề xuất của Kho.")
@click.option(
    "--override-reason",
    help="Lý do vẫn vào sổ văn bản có chữ ký số không hợp lệ, người ký hoặc thông tin không khớp với tệp.",
)
@click.option("--duplicate-reason", help="Lý do vào sổ lại văn bản trùng.")
@click.option("--no-register", is_flag=True, help="Chỉ lưu, chưa vào sổ.")
@click.option("--advisory-body", help="Mã tổ chức tư vấn có sổ riêng.")
@click.argument("fields", nargs=-1)
@json_option
@pass_ctx
@handles_errors
def intake_confirm(
    ctx: Context,
    record_id: str,
    expected_version: int,
    use_suggestions: bool,
    override_reason: str | None,
    duplicate_reason: str | None,
    no_register: bool,
    advisory_body: str | None,
    fields: tuple[str, ...],
    as_json: bool,
) -> None:
    """Xác nhận dữ liệu đặc tả (tên=giá trị) và vào sổ: cấp số đến/số đi."""
    record = ctx.kho.receive.confirm(
        record_id,
        _meta_pairs(fields, None),
        expected_version=expected_version,
        actor=ctx.actor,
        register=not no_register,
        advisory_body=advisory_body,
        override_reason=override_reason,
        duplicate_reason=duplicate_reason,
        use_suggestions=use_suggestions,
    )
    _show_record(record, as_json)


@intake.command("return")
@click.argument("record_id")
@click.option("--reason", help="Lý do trả lại (mặc định: lý do Kho tìm thấy khi kiểm tra chữ ký số).")
@json_option
@pass_ctx
@handles_errors
def intake_return(ctx: Context, record_id: str, reason: str | None, as_json: bool) -> None:
    """Trả lại văn bản cho nơi gửi, kèm lý do."""
    record = ctx.kho.receive.return_document(record_id, ctx.actor, reason)
    if as_json:
        _echo_json(record.to_dict())
        return
    click.echo(f"Đã trả lại {record.record_id}: {one_line(str(record.extra.get('return_reason')))}")
