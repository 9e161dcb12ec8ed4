"""The ``kho`` command: every function of the repository from the command line.

Human output is Vietnamese; ``--json`` gives machines one JSON document. Errors print
``Lỗi [CODE]: message`` on stderr and exit with status 2 (1 for a failed check).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from kho import jsontext, startup
from kho.cli_int import AsciiInt
from kho.config import Settings, configuration_table
from kho.errors import KhoError, ValidationFailed
from kho.timeutil import parse_iso, vn_day_start, vn_display
from web.cli_help import KhoContext, adopt, ask
from web.terminal import one_line, shown_streams

if TYPE_CHECKING:
    from repository.accounts import Account
    from repository.records import Actor, Record, Repository
    from web.context import Kho

# The repository, the web context and every command module are imported inside the commands
# that use them: ``kho --help`` and each command load only what they need (start-up time).

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What one command works with: the settings, the installation's services, and who acts.

    Record commands act as the account logged in with ``kho login`` (its token); operator
    commands (``fsck``, ``reindex``, ``index-check``, ``account init``) act with direct store
    access and say so.
    """

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._kho: Kho | None = None
        self._actor: Actor | None = None
        self._account: Account | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def kho(self) -> Kho:
        if self._kho is None:
            with startup.imports():  # the repository's modules, imported here
                from web.context import Kho

                self._kho = Kho(self.settings)
            command = click.get_current_context(silent=True)
            if command is not None:  # closed when the command ends, also on its error exit
                command.find_root().call_on_close(self.close)
        return self._kho

    @property
    def repo(self) -> Repository:
        """The repository, with the search index following every change made through it."""
        return self.kho.repo

    @property
    def backend(self) -> Any:
        """The search index (opened once per command)."""
        return self.kho.backend

    @property
    def actor(self) -> Actor:
        """The logged-in account (``kho login``); ``AUTH_REQUIRED`` when there is none."""
        if self._actor is None:
            from web.session import saved_token

            self._actor, self._account = self.kho.holder_from_token(
                saved_token(self.settings), "cli", command_method()
            )
        return self._actor

    @property
    def account(self) -> Account:
        """The logged-in account as the token's checks read it (:meth:`Kho.holder_from_token`),
        for the account commands that act as it: reading it again cost one LIST and one GET of
        the store more per command (m29, the web does the same with ``current_account``)."""
        actor = self.actor
        assert self._account is not None and self._account.username == actor.user
        return self._account

    def search_identity(self) -> tuple[Any, Callable[[str, int, dict[str, Any]], None]]:
        """Who searches (from the access policy) and how their search is audited."""
        from repository.policy import search_scope
        from search.query import Principal

        actor = self.actor

        def audit(text: str, total: int, filters: dict[str, Any]) -> None:
            self.repo.audit_search(actor, text, total, filters)

        return Principal.from_scope(search_scope(actor.as_principal)), audit

    def shown_hits(self, result: Any) -> Any:
        """The hits of a search that the logged-in person may see now, each read from the store
        and decided by the policy again (:func:`web.worklists.shown_hits`, as the page, the API
        and the exports do): the index can lag the store. Reading a record decrypts it, which
        imports ``cryptography``; a search with no hit to show reads nothing and imports
        nothing more (the start-up budget of ``kho search``, issue 14)."""
        if not result.hits:
            return result
        from web.worklists import shown_hits

        return shown_hits(self.repo, self.actor, result)

    def facet_names(self, units: list[str], hoso: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """The names ``kho search`` prints for the unit and hồ sơ ids its facets count: the unit
        list (one read), and the hồ sơ the logged-in person may see, each read and decided by
        the policy as the search page does (:func:`web.worklists.hoso_names`); an id they may
        not see keeps no name."""
        from web.worklists import hoso_names, unit_names

        return (unit_names(self.kho) if units else {},
                hoso_names(self.repo, self.actor, hoso) if hoso else {})

    def close(self) -> None:
        """At the command's end (also on its error exit; registered when :attr:`kho` opens the
        installation): close it, so its last written head is noted outside the store before the
        process ends (:meth:`web.context.Kho.close`; a timer would die with the process)."""
        if self._kho is not None:
            self._kho.close()

    def refusal(self, error: KhoError) -> KhoError:
        """``error`` as the web answers it (:meth:`web.context.Kho.refusal`), if this command
        opened the installation (an error raised before names no record it read)."""
        return error if self._kho is None else self._kho.refusal(error, self._actor)

    def operator_access(self) -> Actor:
        """Direct store access, said aloud: whoever can run an operator command can already read
        the store's files, so no account stands between them and it."""
        click.echo("(Thao tác vận hành trực tiếp trên kho lưu trữ.)", err=True)
        return operator_actor()


READING_COMMANDS = frozenset(
    {
        "whoami",
        "search",
        "record show",
        "record history",
        "record download",
        "register list",
        "agency list",
        "account list",
        "unit list",
        "intake list",
        "intake show",
        "handling show",
        "handling work",
        "plan show",
        "plan export",
        "submission list",
        "retention alerts",
        "trust list",
        "archive destruction list",
        "audit log",
        "audit export",
        "audit verify",
        "audit handling-report",
    }
)
"""The commands that act with the logged-in account's token and only read (as an HTTP ``GET``
does): the only ones a ``read`` token may run (review a28). Any other command counts as a
write, so one added later is refused to a read token until it is listed here (fail closed)."""


def command_method() -> str:
    """The HTTP method the running command stands for, for the access policy's one rule on a
    token's scope (:func:`repository.policy.token_permits`): ``GET`` for one of
    :data:`READING_COMMANDS`, ``POST`` for any other."""
    command = click.get_current_context(silent=True)
    path = " ".join(command.command_path.split()[1:]) if command is not None else ""
    return "GET" if path in READING_COMMANDS else "POST"


@functools.cache
def operator_actor() -> Actor:
    """Who acts in an operator command (direct store access, no account)."""
    from repository.accounts import OPERATOR  # the one name the operator acts under
    from repository.records import Actor

    return Actor(user=OPERATOR, source="cli", system=True)


def _fail(error: KhoError, as_json: bool) -> None:
    error = _refusal(error)
    if as_json:
        click.echo(json.dumps({"error": error.to_dict()}, ensure_ascii=False), err=True)
    else:
        click.echo(f"Lỗi [{error.code}]: {error.message}", err=True)
        if isinstance(error, ValidationFailed) and len(error.errors) > 1:
            for item in error.errors:
                click.echo(f"  - {item.field} [{item.code}]: {item.message}", err=True)
    sys.exit(2)


def _refusal(error: KhoError) -> KhoError:
    """What the person is told for ``error``: the web's rule (:meth:`web.context.Kho.refusal`),
    so a record whose key is garbled is ``RECORD_UNREADABLE`` and a fixity finding here too. The
    CLI printed ``MASTER_KEY_MISMATCH`` and recorded nothing. Only an installation the command
    already opened is asked: an error raised before it was opened names no record read."""
    click_ctx = click.get_current_context(silent=True)
    context = click_ctx.find_object(Context) if click_ctx is not None else None
    return error if context is None else context.refusal(error)


def handles_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KhoError as error:
            _fail(error, bool(kwargs.get("as_json")))

    return wrapper  # type: ignore[return-value]


pass_ctx = click.make_pass_decorator(Context, ensure=True)
json_option = click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")


def _meta_pairs(pairs: tuple[str, ...], json_file: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if json_file:
        from kho.files import read_small_file

        try:
            raw = read_small_file(json_file, code="METADATA_FILE_INVALID", label="dữ liệu đặc tả")
            data = jsontext.loads(raw.decode("utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # (not UTF-8, too deep, 5,000 digits)
            from kho.read_reasons import read_reason, read_reason_code

            raise KhoError(  # (the exception's own text is English: its reason in Vietnamese, u27)
                f"Không đọc được tệp dữ liệu đặc tả “{json_file}”: {read_reason(exc)}.",
                code="METADATA_FILE_INVALID",
                reason=read_reason_code(exc),
            ) from exc
        if not isinstance(data, dict):
            raise KhoError("Tệp dữ liệu đặc tả phải là một đối tượng JSON.", code="METADATA_FILE_INVALID")
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise KhoError(
                f'“{pair}” không đúng dạng tên=giá trị (ví dụ subject="Về việc …").',
                code="METADATA_ARGUMENT_INVALID",
            )
        if name == "recipients":
            data[name] = [part.strip() for part in value.split(";") if part.strip()]
        else:
            data[name] = value
    return data


def _show_record(record: Record, as_json: bool) -> None:
    from repository.metadata import DocumentMetadata, FileMetadata
    from repository.registers import series_label

    if as_json:
        click.echo(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
        return
    md = record.metadata
    kinds = {"den": "Văn bản đến", "di": "Văn bản đi", "hoso": "Hồ sơ"}
    click.echo(f"{kinds[record.kind]} {record.record_id} — phiên bản {record.version}")
    click.echo(f"  Cập nhật: {vn_display(parse_iso(record.created_at))} bởi {record.actor}")
    if record.registration:
        reg = record.registration
        click.echo(f"  {series_label(reg.series)} năm {reg.year}: số {reg.display_number}")
    if isinstance(md, DocumentMetadata):
        if md.so_ky_hieu:
            click.echo(f"  Số, ký hiệu: {md.so_ky_hieu}")
        if record.document_id:
            click.echo(f"  Mã định danh văn bản: {record.document_id}")
        click.echo(f"  Tên loại: {md.type_name}")
        click.echo(f"  Cơ quan ban hành: {md.organ_name}")
        if md.issued_date:
            click.echo(f"  Ngày ban hành: {md.issued_date:%d/%m/%Y}")
        if md.arrival_date:
            click.echo(f"  Ngày đến: {md.arrival_date:%d/%m/%Y}")
        click.echo(f"  Trích yếu: {md.subject}")
        click.echo(f"  Người ký: {md.signer_position} {md.signer_full_name}")
        click.echo(f"  Độ khẩn: {md.urgency.label}; độ mật: {md.secrecy.label}")
    elif isinstance(md, FileMetadata):
        click.echo(f"  Mã hồ sơ: {md.file_code}")
        click.echo(f"  Tiêu đề: {md.title}")
        click.echo(f"  Thời hạn bảo quản: {md.maintenance}; người lập: {md.creator}")
        click.echo(f"  Số văn bản trong hồ sơ: {len(record.documents)}")
        for ordinal, doc_id in enumerate(record.documents, start=1):
            click.echo(f"    {ordinal:02d}. {doc_id}")
    for stored in record.files:
        click.echo(f"  Tệp: {stored.original_name} ({stored.size} byte, SHA-256 {stored.sha256[:16]}…)")


LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("ingest.verify_cli:verify",
               "Kiểm tra chữ ký số trong các tệp PDF (PAdES), kết luận theo ETSI AdES."),
    "search": ("search.cli:search_command",
               "Tìm văn bản (có hoặc không dấu, theo số/ký hiệu, cụm từ trong dấu ngoặc kép)."),
    "ingest": ("ingest.cli:ingest",
               "Tiếp nhận văn bản: lưu bản gốc, trích xuất văn bản, kiểm tra chữ ký số, siêu dữ liệu."),
    "worker": ("ingest.cli:worker",
               "Chạy worker Celery xử lý hàng đợi tiếp nhận (cần KHO_BROKER_URL)."),
    "demo": ("web.demo:demo",
             "Nạp dữ liệu mẫu (tài khoản; văn bản đến, đi đã ký số; hồ sơ) vào kho nhúng và lập "
             "chỉ mục."),
    "login": ("web.accounts_cli:login", "Đăng nhập; mã truy cập được lưu cho các lệnh sau."),
    "logout": ("web.accounts_cli:logout", "Đăng xuất: thu hồi mã truy cập đang dùng."),
    "whoami": ("web.accounts_cli:whoami", "Tài khoản đang đăng nhập, vai trò và thông báo."),
    "password": ("web.accounts_cli:password", "Đổi mật khẩu của tài khoản đang đăng nhập."),
    "account": ("web.accounts_cli:account", "Tài khoản người dùng (quản trị)."),
    "unit": ("web.accounts_cli:unit", "Đơn vị (phòng, ban) của cơ quan."),
    "intake": ("web.accounts_cli:intake", "Văn bản đã tiếp nhận, chờ xác nhận và vào sổ."),
    "handling": ("web.handling_cli:handling",
                 "Xử lý văn bản đến: trình, chỉ đạo, giao xử lý, gia hạn, hoàn thành, theo dõi."),
    "plan": ("web.retention_cli:plan", "Danh mục hồ sơ (Điều 28, Phụ lục V): lập, duyệt, ban hành, in."),
    "submission": ("web.retention_cli:submission", "Tiếp nhận hồ sơ nộp lưu (lưu trữ viên)."),
    "retention": ("web.retention_cli:retention", "Thời hạn bảo quản, cảnh báo nộp lưu, bàn giao hồ sơ."),
    "trust": ("web.trust_cli:trust", "Danh sách chứng thư gốc tin cậy dùng để kiểm tra chữ ký số."),
    "archive": ("web.disposal_cli:archive",
                "Lưu trữ: xem xét hủy, hủy tài liệu, phong tỏa, nộp lưu lịch sử, thu hồi."),
}
"""Commands of other modules: ``name -> ("module:attribute", help shown by kho --help)``.

Imported only when that command runs (click's lazy-group pattern), so that ``kho --help`` and
every other command start without pyHanko, Celery or the search engine. The help text is kept
here so that listing the commands imports nothing; a test checks it against each command."""


class LazyGroup(click.Group):
    """A group whose :data:`LAZY_COMMANDS` are imported on first use."""

    context_class = KhoContext
    """Help pages in Vietnamese (:mod:`web.cli_help`); every command this group hands out
    (:meth:`get_command`) and those below it are given the same class."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The ``kho`` program (its entry point calls the group; click's test runner calls
        ``main`` and leaves the process as it is): what a command imports is frozen for the
        collector (:mod:`kho.startup`: collecting it at exit cost 0.05 s). ``kho verify`` is
        handed to the user's warm verification agent when one runs (:mod:`kho.verify_agent`:
        the same command, without importing pyHanko here), and starts one when none does;
        ``kho login`` and ``kho whoami`` start one after their output (:meth:`_then_prestart`)."""
        startup.program()
        argv = sys.argv[1:] if not args and "args" not in kwargs else None
        if argv is not None and argv[:1] in (["login"], ["whoami"]):  # verify_agent.PRESTARTING
            return self._then_prestart(argv, *args, **kwargs)
        if argv is None or argv[:1] != ["verify"]:
            return super().__call__(*args, **kwargs)
        from kho import verify_agent  # (sockets: only for this command)

        if not verify_agent.wanted(argv):
            self._verify_here(None, *args, **kwargs)
        prog_name = kwargs.get("prog_name") or click.utils._detect_program_name()
        code = verify_agent.run(argv, prog_name)
        if code is not None:
            sys.exit(code)
        self._verify_here(verify_agent.start, *args, **kwargs)

    def _verify_here(self, then: Callable[[], None] | None, *args: Any, **kwargs: Any) -> NoReturn:
        """``kho verify`` in this process, then ``then`` (the agent's start), then the exit
        without the interpreter's finalization (:func:`kho.startup.leave`: the command's only
        output is its standard streams)."""
        try:
            super().__call__(*args, **kwargs)
        except SystemExit as done:
            code = done.code
        else:  # (click's standalone mode always exits)
            code = None
        finally:
            if then is not None:
                then()
        startup.leave(code)

    def _then_prestart(self, argv: list[str], *args: Any, **kwargs: Any) -> Any:
        """``kho login`` / ``kho whoami``, then, once it succeeded and its output is written,
        the verification agent started in the background (:func:`kho.verify_agent.prestart`,
        switched off by ``KHO_VERIFY_AGENT=0`` or ``KHO_VERIFY_AGENT_PRESTART=0``): the first
        ``kho verify`` of the session finds it warm."""
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            if done.code in (0, None):
                from kho import verify_agent

                verify_agent.prestart(argv)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        """Every command under one refusal: a :class:`KhoError` a command did not catch itself
        (``kho demo`` on an installation that has accounts printed a ``PermissionDenied``
        traceback) and a file the system could not use (``kho audit export``, ``kho audit keygen``
        or ``kho verify`` with a name too long, a file where a folder is wanted: ``OSError``
        tracebacks) end as ``Lỗi [CODE]: …`` on stderr and exit 2, as :func:`handles_errors`; and
        so does a command line click cannot parse (:func:`web.cli_usage.usage_refusal`), which
        click printed in English without a code."""
        as_json = bool(ctx.meta.get("kho.json"))
        with shown_streams(as_json):  # (a stored ESC must not drive the terminal: web.terminal)
            return self._invoke(ctx, as_json)

    def _invoke(self, ctx: click.Context, as_json: bool) -> Any:
        try:
            return super().invoke(ctx)
        except KhoError as error:
            _fail(error, as_json)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group named alone: click prints its help
        except click.UsageError as exc:  # a command line click could not parse (web.cli_usage)
            from web.cli_usage import usage_refusal

            _fail(usage_refusal(exc), as_json)
        except (click.Abort, KeyboardInterrupt, EOFError) as exc:  # click printed "Aborted!"
            from web.cli_usage import aborted

            error = aborted(exc)
            shown = {"error": error.to_dict()}
            line = f"\nLỗi [{error.code}]: {error.message}"
            click.echo(json.dumps(shown, ensure_ascii=False) if as_json else line, err=True)
            sys.exit(1)  # (click's status for it)
        except OSError as exc:
            if exc.filename is None:
                raise
            from kho.files import file_error

            _fail(file_error(exc.filename, exc), as_json)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["kho.json"] = "--json" in args  # (how :meth:`invoke` prints a refusal)
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # ``kho --nosuch``: as :meth:`invoke` answers
            from web.cli_usage import usage_refusal

            _fail(usage_refusal(exc), bool(ctx.meta["kho.json"]))
            raise  # (not reached: _fail exits)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            command = load_lazy_command(cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        if command is not None:
            adopt((command,))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but a command not yet imported shows its help from :data:`LAZY_COMMANDS`."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name) or (
                click.Command(name, help=LAZY_COMMANDS[name][1]) if name in LAZY_COMMANDS else None
            )
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in rows])


def load_lazy_command(name: str) -> click.Command | None:
    """Import one of :data:`LAZY_COMMANDS` (None if its package is not installed)."""
    import importlib

    module_name, attribute = LAZY_COMMANDS[name][0].split(":")
    try:
        with startup.imports():
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None  # an optional package left out of this installation
        raise
    command = getattr(module, attribute, None)
    return command if isinstance(command, click.Command) else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(click_ctx: click.Context) -> None:
    """Kho — kho lưu trữ văn bản, hồ sơ điện tử (NĐ 30/2020/NĐ-CP)."""
    click_ctx.ensure_object(Context)


@main.command("config")
def config_command() -> None:
    """In bảng biến cấu hình."""
    click.echo(configuration_table())


# -- records --------------------------------------------------------------------------------
@main.group()
def record() -> None:
    """Văn bản đến, văn bản đi."""


@record.command("create")
@click.option("--direction", type=click.Choice(["den", "di"]), required=True, help="đến hoặc đi")
@click.option("--file", "file_path", type=click.Path(dir_okay=False), help="Tệp văn bản.")
@click.option("--metadata", "metadata_file", type=click.Path(dir_okay=False), help="Tệp JSON.")
@click.option("--no-register", is_flag=True, help="Chỉ lưu, chưa vào sổ.")
@click.option("--advisory-body", help="Mã tổ chức tư vấn có sổ riêng (Phụ lục I II.3.a).")
@click.option(
    "--override-reason",
    help="Lý do vẫn vào sổ văn bản có chữ ký số không hợp lệ, người ký hoặc thông tin không khớp với tệp.",
)
@click.option("--duplicate-reason", help="Lý do vào sổ lại văn bản trùng (văn bản gửi lại).")
@click.argument("fields", nargs=-1)
@json_option
@pass_ctx
@handles_errors
def record_create(
    ctx: Context,
    direction: str,
    file_path: str | None,
    metadata_file: str | None,
    no_register: bool,
    advisory_body: str | None,
    override_reason: str | None,
    duplicate_reason: str | None,
    fields: tuple[str, ...],
    as_json: bool,
) -> None:
    """Tạo văn bản từ tệp và dữ liệu đặc tả (tên=giá trị), cấp số đến/số đi."""
    metadata = _meta_pairs(fields, metadata_file)
    content = name = None
    if file_path:
        # The folder import's reader (ingest.source_files): a device or FIFO (/dev/zero was read
        # until memory ran out, a FIFO hung), a link, or more than the size rule takes is
        # refused with its code before it is read whole (review rv45).
        from ingest.source_files import read_source, source_refused

        if (refusal := source_refused(Path(file_path))) is not None:
            raise refusal
        content = read_source(Path(file_path), max_bytes=ctx.kho.repo.max_file_bytes)
        name = Path(file_path).name
    options: dict[str, Any] = {
        "register": not no_register,
        "advisory_body": advisory_body,
        "override_reason": override_reason,
        "duplicate_reason": duplicate_reason,
    }
    if content is not None and name is not None:
        rec = ctx.kho.receive.receive_and_register(content, name, direction, metadata, ctx.actor, **options)
    else:
        rec = ctx.repo.create_document(direction, metadata, None, None, ctx.actor, **options)
    _show_record(rec, as_json)


@record.command("show")
@click.argument("record_id")
@click.option("--version", type=AsciiInt(), help="Phiên bản (mặc định: mới nhất).")
@json_option
@pass_ctx
@handles_errors
def record_show(ctx: Context, record_id: str, version: int | None, as_json: bool) -> None:
    """Xem một văn bản hoặc hồ sơ."""
    record = ctx.repo.get(record_id, version, actor=ctx.actor)
    _show_record(ctx.repo.as_seen_by(record, ctx.actor), as_json)


@record.command("history")
@click.argument("record_id")
@json_option
@pass_ctx
@handles_errors
def record_history(ctx: Context, record_id: str, as_json: bool) -> None:
    """Các phiên bản của một bản ghi."""
    versions = ctx.repo.history_as_seen(record_id, actor=ctx.actor)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in versions], ensure_ascii=False, indent=2))
        return
    for rec in versions:
        click.echo(f"v{rec.version}  {vn_display(parse_iso(rec.created_at))}  {rec.actor}  {rec.note or ''}")


@record.command("update")
@click.argument("record_id")
@click.option("--expected-version", type=AsciiInt(), required=True, help="Phiên bản bạn đang sửa.")
@click.option("--note", help="Lý do sửa.")
@click.argument("fields", nargs=-1, required=True)
@json_option
@pass_ctx
@handles_errors
def record_update(
    ctx: Context,
    record_id: str,
    expected_version: int,
    note: str | None,
    fields: tuple[str, ...],
    as_json: bool,
) -> None:
    """Sửa dữ liệu đặc tả (tạo phiên bản mới)."""
    rec = ctx.repo.update_metadata(
        record_id,
        _meta_pairs(fields, None),
        expected_version=expected_version,
        actor=ctx.actor,
        note=note,
    )
    _show_record(ctx.repo.shown_to(rec, ctx.actor), as_json)


@record.command("download")
@click.argument("record_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Ghi ra tệp (mặc định tên gốc).")
@pass_ctx
@handles_errors
def record_download(ctx: Context, record_id: str, output: str | None) -> None:
    """Tải tệp gốc (kiểm tra SHA-256 trước khi trả)."""
    stored, data = ctx.repo.read_content(record_id, actor=ctx.actor, action="content:download")
    target = Path(output or stored.stored_name)
    target.write_bytes(data)
    click.echo(f"Đã ghi {target} ({len(data)} byte, SHA-256 khớp).")


@record.command("grant")
@click.argument("record_id")
@click.option("--user", "users", multiple=True, help="Tài khoản được cấp quyền (lặp lại được).")
@click.option("--unit", "units", multiple=True, help="Đơn vị được cấp quyền (lặp lại được).")
@click.option("--revoke", is_flag=True, help="Thu hồi thay vì cấp.")
@json_option
@pass_ctx
@handles_errors
def record_grant(
    ctx: Context, record_id: str, users: tuple[str, ...], units: tuple[str, ...], revoke: bool, as_json: bool
) -> None:
    """Phân quyền xem một văn bản hoặc hồ sơ (cả các văn bản trong hồ sơ) cho người, đơn vị."""
    rec = ctx.kho.grant(record_id, users=users, units=units, revoke=revoke, actor=ctx.actor)
    _show_record(ctx.repo.shown_to(rec, ctx.actor), as_json)


# -- registers ------------------------------------------------------------------------------
@main.group()
def register() -> None:
    """Sổ đăng ký văn bản đến / đi (Phụ lục IV)."""


@register.command("note")
@click.option(
    "--series",
    default="den",  # repository.registers.INCOMING
    show_default=True,
    help="den, den-mat, hanh-chinh, mat, ban-sao, qppl-…, tu-van-…",
)
@click.option("--year", type=AsciiInt(), default=lambda: date.today().year)
@pass_ctx
@handles_errors
def register_note(ctx: Context, series: str, year: int) -> None:
    """In ghi chú về các số của sổ bị mất khi khôi phục bản sao lưu, dạng JSON (null nếu không có).

    u36: ``kho register list --json`` keeps its bare list of rows; a script reads the note
    here, the API's ``numbers_lost_in_backup`` object, under the same access rule."""
    from repository.registers import register_year

    note = ctx.repo.register_note(series, register_year(year), actor=ctx.actor)
    click.echo(json.dumps(note, ensure_ascii=False, indent=2))


@register.command("list")
@click.option(
    "--series",
    default="den",  # repository.registers.INCOMING
    show_default=True,
    help="den, den-mat, hanh-chinh, mat, ban-sao, qppl-…, tu-van-…",
)
@click.option("--year", type=AsciiInt(), default=lambda: date.today().year)
@click.option("--from", "date_from", help="Từ ngày (YYYY-MM-DD hoặc DD/MM/YYYY).")
@click.option("--to", "date_to", help="Đến ngày.")
@json_option
@pass_ctx
@handles_errors
def register_list(
    ctx: Context, series: str, year: int, date_from: str | None, date_to: str | None, as_json: bool
) -> None:
    """In sổ đăng ký cho một năm hoặc một khoảng thời gian."""
    from repository.metadata import DocumentMetadata, parse_date
    from repository.registers import register_year, series_label
    from repository.vocabulary import Direction

    year = register_year(year)  # the page's and the API's rule
    try:
        start, end = parse_date(date_from), parse_date(date_to)
    except ValueError as exc:
        raise KhoError(f"Ngày không hợp lệ: {exc}.", code="DATE_INVALID") from exc
    rows = ctx.repo.register(series, year, date_from=start, date_to=end, actor=ctx.actor)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    click.echo(f"{series_label(series).upper()} — NĂM {year} ({len(rows)} văn bản)")
    note = ctx.repo.register_note(series, year, actor=ctx.actor)
    if note is not None:  # numbers a restore found given to documents its copy does not hold
        click.echo(f"Ghi chú: {one_line(note['message'])}")  # its ids are stored text
    for rec in rows:
        md = rec.metadata
        assert isinstance(md, DocumentMetadata) and rec.registration
        if md.direction is Direction.DEN:
            click.echo(
                f"{md.arrival_date:%d/%m/%Y} | {rec.registration.display_number} | {md.organ_name} |"
                f" {md.so_ky_hieu} | {md.issued_date:%d/%m/%Y} | {md.type_name}: {md.subject} |"
                f" {md.to_places or ''}"
            )
        else:
            places = "; ".join(r.organ_name for r in md.recipients)
            click.echo(
                f"{md.so_ky_hieu} | {md.issued_date:%d/%m/%Y} | {md.type_name}: {md.subject} |"
                f" {md.signer_full_name} | {places} | {md.issued_amount or ''}"
            )


# -- hồ sơ ----------------------------------------------------------------------------------
FILE_COMMANDS_ELSEWHERE = ("close", "reopen", "submit", "keep", "catalogue")
"""``kho file`` commands of :mod:`web.retention_cli` (which attaches them to this group when it
is imported; nothing imported it for ``kho file reopen``, so they answered "No such command")."""


class FileGroup(click.Group):
    """``kho file``: its retention commands imported on first use, as :class:`LazyGroup`'s."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *FILE_COMMANDS_ELSEWHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in FILE_COMMANDS_ELSEWHERE:
            import importlib

            with startup.imports():
                importlib.import_module("web.retention_cli")
            command = super().get_command(ctx, cmd_name)
        return command


@main.group("file", cls=FileGroup)
def file_group() -> None:
    """Hồ sơ."""


@file_group.command("create")
@click.option("--metadata", "metadata_file", type=click.Path(dir_okay=False))
@click.argument("fields", nargs=-1)
@json_option
@pass_ctx
@handles_errors
def file_create(ctx: Context, metadata_file: str | None, fields: tuple[str, ...], as_json: bool) -> None:
    """Mở hồ sơ: file_notation, title, maintenance, creator, start_date (bắt buộc)."""
    _show_record(ctx.repo.create_file(_meta_pairs(fields, metadata_file), ctx.actor), as_json)


@file_group.command("add")
@click.argument("file_id")
@click.argument("document_id")
@click.option("--expected-version", type=AsciiInt(), required=True)
@json_option
@pass_ctx
@handles_errors
def file_add(ctx: Context, file_id: str, document_id: str, expected_version: int, as_json: bool) -> None:
    """Đưa văn bản vào hồ sơ (không sao chép)."""
    rec = ctx.repo.add_to_file(file_id, document_id, expected_version=expected_version, actor=ctx.actor)
    _show_record(ctx.repo.shown_to(rec, ctx.actor), as_json)


@file_group.command("remove")
@click.argument("file_id")
@click.argument("document_id")
@click.option("--expected-version", type=AsciiInt(), required=True)
@click.option("--reason", default="", help="Lý do (ghi vào nhật ký).")
@json_option
@pass_ctx
@handles_errors
def file_remove(
    ctx: Context, file_id: str, document_id: str, expected_version: int, reason: str, as_json: bool
) -> None:
    """Bỏ văn bản ra khỏi hồ sơ (hồ sơ có phiên bản mới; văn bản vẫn giữ nguyên)."""
    rec = ctx.repo.remove_from_file(
        file_id, document_id, expected_version=expected_version, actor=ctx.actor, reason=reason
    )
    _show_record(ctx.repo.shown_to(rec, ctx.actor), as_json)


# -- agencies -------------------------------------------------------------------------------
@main.group()
def agency() -> None:
    """Danh mục cơ quan, tổ chức (mã định danh QĐ 20/2020)."""


@agency.command("add")
@click.argument("organ_id")
@click.argument("name")
@pass_ctx
@handles_errors
def agency_add(ctx: Context, organ_id: str, name: str) -> None:
    ctx.repo.add_agency(organ_id, name, ctx.actor)
    click.echo(f"Đã thêm {organ_id} — {name}.")


@agency.command("list")
@pass_ctx
@handles_errors
def agency_list(ctx: Context) -> None:
    for item in ctx.repo.agencies():
        click.echo(f"{item['organ_id']}\t{item['name']}")


# -- audit and integrity --------------------------------------------------------------------
@main.group()
def audit() -> None:
    """Nhật ký kiểm toán."""


@audit.command("keygen")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def audit_keygen(path: Path) -> None:
    """Tạo khóa Ed25519 ký điểm mốc nhật ký (giữ ngoài kho; đặt KHO_AUDIT_SIGNING_KEY)."""
    from repository.anchor import generate_key

    try:
        public = generate_key(path)
    except FileExistsError as exc:
        raise KhoError(f"Tệp “{path}” đã có; không ghi đè khóa.", code="FILE_EXISTS") from exc
    click.echo(f"Khóa ký: {path} (chỉ chủ sở hữu đọc được). Khóa công khai: {public}.")


@audit.command("checkpoint")
@click.option("--out", "outs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Ghi thêm một bản điểm mốc cho kiểm toán viên giữ.")
@json_option
@pass_ctx
@handles_errors
def audit_checkpoint(ctx: Context, outs: tuple[Path, ...], as_json: bool) -> None:
    """Ký điểm mốc của chuỗi nhật ký (khóa ngoài kho) và lưu ở nơi người ghi kho không sửa được."""
    from repository.anchor import Anchor, make_checkpoint

    actor = ctx.operator_access()
    repo = ctx.repo
    cp = make_checkpoint(repo.store, repo.anchor or Anchor(), sealer=repo.audit.sealer, out=outs)
    repo.audit.append(
        actor.user,
        "audit:checkpoint",
        source=actor.source,
        details={"number": cp["number"], "seq": cp["seq"], "head": cp["head"]},
    )
    if as_json:
        click.echo(json.dumps(cp, ensure_ascii=False))
    else:
        click.echo(f"Điểm mốc #{cp['number']}: sự kiện #{cp['seq']}, mã băm {cp['head']}.")


@audit.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
@handles_errors
def audit_export(ctx: Context, directory: Path) -> None:
    """Xuất nhật ký, các điểm mốc, khóa công khai và công cụ kiểm tra ngoại tuyến."""
    from repository.anchor import export

    actor = ctx.actor
    repo = ctx.repo
    repo.authorize_audit_export(actor)
    if not actor.system:
        # Audited before a byte is written, as every export is (review rv19): a log that refuses
        # acts, or a process killed between the two, must not leave an unaudited copy of the
        # whole log. The export holds this event too.
        repo.audit.append(
            actor.user, "audit:export", source=actor.source,
            details={"format": "offline", "directory": str(directory.absolute())},
        )
    events, checkpoints = export(repo.audit, repo.anchor, directory)
    click.echo(f"Đã xuất {events} sự kiện, {checkpoints} điểm mốc vào {directory} (xem VERIFY.md).")


@audit.command("verify")
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Điểm mốc kiểm toán viên tự giữ (có thể lặp lại).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Khóa công khai kiểm toán viên tự giữ.")
@click.option("--quick", is_flag=True,
              help="Chỉ đọc từ điểm mốc đã kiểm tra gần nhất (nhanh, nhưng không thấy một sự kiện cũ bị"
                   " sửa tại chỗ mà giữ nguyên mã băm; mặc định đọc lại toàn bộ chuỗi).")
@json_option
@pass_ctx
@handles_errors
def audit_verify(
    ctx: Context, checkpoint_files: tuple[Path, ...], public_key: Path | None, quick: bool, as_json: bool
) -> None:
    """Kiểm tra chuỗi nhật ký với mọi điểm mốc đã ký: sự kiện bị sửa, xóa, chèn, đảo, cắt, viết lại."""
    from kho.files import read_json_object
    from repository.audit_offline import load_public_key

    checkpoints = [
        read_json_object(p, code="CHECKPOINT_FILE_INVALID", label="điểm mốc") for p in checkpoint_files
    ]
    key = None
    if public_key:
        try:
            key = load_public_key(public_key)
        except (ValueError, TypeError) as exc:  # not PEM, or not an Ed25519 key
            raise KhoError(
                f"Tệp “{public_key}” không phải khóa công khai Ed25519 dạng PEM.", code="PUBLIC_KEY_INVALID"
            ) from exc
    report = ctx.repo.audit_verify(
        actor=ctx.actor, checkpoints=checkpoints, public_key=key, incremental=quick
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "events": report.events,
                    "last_seq": report.last_seq,
                    "last_hash": report.last_hash,
                    **_findings_json(report),
                },
                ensure_ascii=False,
            )
        )
    else:
        _print_findings(report)
    if not report.ok:
        sys.exit(1)


def _findings_json(report: Any) -> dict[str, Any]:
    """A verify report's findings as ``--json`` prints them, with the digest an auditor repeats
    to ``kho audit acknowledge --findings`` while any is open."""
    from repository.acknowledge import findings_digest

    return {
        "findings": [f.__dict__ for f in report.findings],
        "findings_digest": findings_digest(report.findings) if not report.ok else None,
    }


def _print_findings(report: Any) -> None:
    """A verify report for people: the open findings with the digest to acknowledge them by, and
    the acknowledged ones (who, when, why, which event)."""
    from repository.acknowledge import findings_digest

    opened = report.open_findings
    if not opened:
        click.echo(f"Nhật ký toàn vẹn: {report.events} sự kiện, mã băm cuối {report.last_hash}.")
    else:
        click.echo(f"NHẬT KÝ KHÔNG TOÀN VẸN ({len(opened)} vấn đề):")
        for finding in opened:
            click.echo(f"  - [{finding.kind}] {finding.message}")
        click.echo(
            f"Mã tóm tắt các phát hiện: {findings_digest(opened)} (kiểm toán viên chấp nhận bằng"
            " “kho audit acknowledge --findings MÃ --reason LÝ_DO”)."
        )
    acknowledged = [f for f in report.findings if f.acknowledged is not None]
    if acknowledged:
        click.echo(f"Đã được kiểm toán viên chấp nhận ({len(acknowledged)} phát hiện):")
        for finding in acknowledged:
            mark = finding.acknowledged
            click.echo(
                f"  - [{finding.kind}] {finding.message} — chấp nhận bởi {mark['by']} lúc"
                f" {vn_display(parse_iso(mark['at']))} (sự kiện #{mark['event']}):"
                f" {one_line(str(mark['reason']))}"
            )


@audit.command("acknowledge")
@click.option("--findings", "digest",
              help="Mã tóm tắt các phát hiện đã xem (in bởi “kho audit verify” hoặc lệnh này khi thiếu"
                   " --findings).")
@click.option("--reason", required=True, help="Lý do chấp nhận (bắt buộc).")
@click.option("--user", "username", help="Tên đăng nhập của kiểm toán viên (mặc định: hỏi).")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin.")
@click.option("--out", "outs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Ghi thêm một bản điểm mốc đã ký cho kiểm toán viên giữ.")
@click.option("--locked-out", is_flag=True,
              help="Kiểm toán viên duy nhất không vào được trong khi nhật ký từ chối sự kiện (bị khóa"
                   " do nhập sai mật khẩu, do 90 ngày không đăng nhập, hoặc mật khẩu quá 3 tháng):"
                   " chỉ trên máy chủ, vẫn cần đúng mật khẩu; việc này được ghi trong sự kiện chấp"
                   " nhận, tài khoản giữ nguyên cho đến khi quản trị mở khóa / người dùng đổi mật khẩu.")
@json_option
@pass_ctx
@handles_errors
def audit_acknowledge(
    ctx: Context,
    digest: str,
    reason: str,
    username: str | None,
    password_stdin: bool,
    outs: tuple[Path, ...],
    locked_out: bool,
    as_json: bool,
) -> None:
    """Kiểm toán viên chấp nhận các phát hiện của nhật ký sau khi xem xét (ghi lại và ký ngoài kho).

    Lệnh tự xác thực kiểm toán viên bằng mật khẩu (khi nhật ký đang từ chối mọi sự kiện, kể cả
    đăng nhập) và ghi lần đăng nhập đó vào chính sự kiện chấp nhận. Không có --findings: chỉ in
    các phát hiện và mã tóm tắt của chúng, không ghi gì. Không cần dừng các tiến trình Kho khác:
    tiến trình chạy từ trước khi nhật ký bị cắt sẽ tìm lại điểm cuối thật và ghi sau quyết định."""
    from web.accounts_cli import _read_secret

    name = (username or ask("Tên đăng nhập kiểm toán viên")).strip().lower()
    password = _read_secret("Mật khẩu", password_stdin)
    login: dict[str, object] = {"user": name, "method": "password", "source": "cli"}
    if locked_out:  # the only auditor kept out while the log refuses (x1, r14)
        way = ctx.kho.accounts.authenticate_locked_auditor(name, password, "cli")
        account = way.account
        login |= way.login()
    else:
        account = ctx.kho.accounts.authenticate_unrecorded(name, password, "cli")
    login["user"] = account.username
    actor = ctx.kho.actor_of(account, "cli")
    ctx.repo.authorize_acknowledge(actor)
    if not digest:
        report = ctx.repo.audit_verify(actor=actor)
        if as_json:
            click.echo(
                json.dumps(
                    {"ok": report.ok, **_findings_json(report)},
                    ensure_ascii=False,
                )
            )
        else:
            _print_findings(report)
            click.echo("Chưa ghi gì: xem các phát hiện rồi chạy lại với --findings MÃ.")
        sys.exit(1)
    event, cp, report = ctx.repo.audit_acknowledge(
        actor=actor,
        digest=digest,
        reason=reason,
        login=login,
        out=outs,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "event": event.seq,
                    "checkpoint": cp["number"],
                    "ok": report.ok,
                    "findings": [f.__dict__ for f in report.findings],
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        f"Đã ghi quyết định chấp nhận: sự kiện #{event.seq}, ký bằng điểm mốc #{cp['number']}."
    )
    _print_findings(report)


@audit.command("handling-report")
@click.option("--start", help="Từ ngày (YYYY-MM-DD hoặc DD/MM/YYYY; mặc định đầu tháng).")
@click.option("--end", help="Đến ngày (mặc định hôm nay).")
@click.option("--kind", type=click.Choice(["den", "di"]), default="den", show_default=True)
@click.option("--unit", help="Mã đơn vị.")
@json_option
@pass_ctx
@handles_errors
def audit_handling_report(
    ctx: Context, start: str | None, end: str | None, kind: str, unit: str | None, as_json: bool
) -> None:
    """Báo cáo tình hình giải quyết văn bản (Phụ lục VI V.2, V.4): chỉ số liệu tổng hợp."""
    from repository.handling import COLUMN_LABELS
    from web.pages.audit import handling_totals

    args = {k: v for k, v in {"start": start, "end": end, "kind": kind, "unit": unit}.items() if v}
    report, names = handling_totals(args, ctx.actor, ctx.kho)
    if as_json:
        click.echo(json.dumps({
            **{k: report[k] for k in ("unit", "kind", "total", "totals")},
            "start": report["start"].isoformat(), "end": report["end"].isoformat(),
            "by_unit": [{"unit": u, "name": names.get(u, u), **c} for u, c in report["by_unit"].items()],
        }, ensure_ascii=False))
        return
    click.echo(f"Từ {report['start']:%d/%m/%Y} đến {report['end']:%d/%m/%Y}: {report['total']} văn bản")
    for key, label in COLUMN_LABELS.items():
        click.echo(f"  {label}: {report['totals'][key]}")
    for u, c in report["by_unit"].items():
        click.echo(f"  [{names.get(u, u)}] {c['total']}")


@audit.command("log")
@click.option("--record", "record_id", help="Mã văn bản/hồ sơ.")
@click.option("--actor", "--user", "user", help="Tài khoản thực hiện.")
@click.option("--action", help="Hành động (tiền tố, ví dụ content: hoặc account:login).")
@click.option("--since", help="Từ ngày (YYYY-MM-DD hoặc DD/MM/YYYY, giờ Việt Nam).")
@click.option("--until", help="Đến hết ngày.")
@json_option
@pass_ctx
@handles_errors
def audit_log(
    ctx: Context,
    record_id: str | None,
    user: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Ai đã làm gì, với bản ghi nào, khi nào (giờ Việt Nam)."""
    from repository.metadata import parse_date

    try:
        start, end = parse_date(since), parse_date(until)
    except ValueError as exc:
        raise KhoError(f"Ngày không hợp lệ: {exc}.", code="DATE_INVALID") from exc
    events = ctx.repo.audit_events(
        actor=ctx.actor,
        record_id=record_id,
        user=user,
        action=action,
        since=vn_day_start(start) if start else None,
        until=vn_day_start(end + timedelta(days=1)) if end else None,
    )
    for event in events:
        if as_json:
            click.echo(json.dumps(event.__dict__, ensure_ascii=False))
        else:
            click.echo(
                f"#{event.seq} {vn_display(parse_iso(event.at))} {event.actor} {event.action}"
                f" {event.record_id or ''} v{event.version or ''} ({event.source or ''})"
            )


@main.command("fsck")
@click.option("--repair", is_flag=True, help="Sửa những gì sửa được.")
@click.option("--deep", is_flag=True, help="Kiểm tra SHA-256 của mọi tệp gốc.")
@json_option
@pass_ctx
@handles_errors
def fsck_command(ctx: Context, repair: bool, deep: bool, as_json: bool) -> None:
    """Kiểm tra tính nhất quán của kho (sau sự cố)."""
    from repository.fsck import REFUSED_MESSAGE, fsck

    ctx.operator_access()
    report = fsck(ctx.repo, repair=repair, deep=deep)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "clean": report.clean,
                    "records": report.records,
                    "register_entries": report.register_entries,
                    "issues": [_issue_json(i) for i in report.issues],
                    "open": len(report.unrepaired),
                    "notes": [_issue_json(i) for i in report.notes],
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"{report.records} bản ghi, {report.register_entries} mục sổ đăng ký.")
        for issue in report.issues:
            click.echo(_issue_line(issue, REFUSED_MESSAGE))
        for note in report.notes:  # no fault, nothing to do (m64)
            click.echo(f"  * Ghi chú [{note.kind}] {note.subject}: {one_line(note.message)}")
        if report.clean:
            click.echo("Kho nhất quán.")
        elif not report.unrepaired:
            click.echo(
                f"Kho nhất quán, trừ {len(report.acknowledged)} phát hiện không sửa được đã có người có"
                " thẩm quyền chấp nhận (liệt kê ở trên)."
            )
    if report.unrepaired:
        sys.exit(1)


def _issue_json(issue: Any) -> dict[str, Any]:
    """An fsck issue as ``--json`` prints it; one a person may acknowledge carries the digest
    ``kho fsck-acknowledge --finding`` repeats (``finding``)."""
    return {**issue.__dict__, "finding": issue.digest if issue.acknowledgeable else None}


def _issue_line(issue: Any, refused_message: str) -> str:
    """An fsck issue for people: its kind, subject and message, and its state (repaired, to
    repair, refused, not repaired; acknowledged: by whom, when, why; or how to acknowledge it)."""
    fixable = "sửa được bằng --repair" if issue.repairable else "CHƯA SỬA"
    if issue.refused:
        fixable = f"CHƯA SỬA [{issue.refused}]: {refused_message}"
    state = "đã sửa" if issue.repaired else fixable
    mark = issue.acknowledged
    hint = ""
    if mark is not None:
        state = (
            f"KHÔNG SỬA, ĐÃ CHẤP NHẬN bởi {mark['by']} lúc {vn_display(parse_iso(mark['at']))} (sự kiện"
            f" #{mark['event']}): {one_line(str(mark['reason']))}"
        )
    elif issue.acknowledgeable:
        hint = (
            f" Mã phát hiện {issue.digest}: người có thẩm quyền ghi quyết định bằng “kho"
            f" fsck-acknowledge {issue.kind} {issue.subject} --finding MÃ --reason LÝ_DO”."
        )
    return f"  - [{issue.kind}] {issue.subject}: {issue.message} ({state}){hint}"


@main.command("fsck-acknowledge")
@click.argument("kind", metavar="LOẠI")
@click.argument("subject", metavar="ĐỐI_TƯỢNG")
@click.option("--finding", "digest",
              help="Mã phát hiện đã xem (in bởi “kho fsck” hoặc lệnh này khi thiếu --finding).")
@click.option("--reason", help="Lý do, quyết định đã đưa ra (bắt buộc khi ghi).")
@json_option
@pass_ctx
@handles_errors
def fsck_acknowledge_command(
    ctx: Context, kind: str, subject: str, digest: str | None, reason: str | None, as_json: bool
) -> None:
    """Quản trị hoặc lưu trữ viên của cơ quan ghi quyết định về một phát hiện của “kho fsck” không
    sửa được (một số của sổ đăng ký cấp cho hai văn bản): ghi vào nhật ký kiểm toán (ai, khi nào,
    vì sao); “kho fsck” vẫn liệt kê phát hiện đó nhưng là đã chấp nhận và không báo lỗi vì nó, cho
    đến khi dữ kiện của nó thay đổi. Không có --finding: chỉ in phát hiện và mã của nó, không ghi gì.
    """
    from repository.fsck import REFUSED_MESSAGE, acknowledge_finding, current_finding

    actor = ctx.actor
    if not digest:
        issue = current_finding(ctx.repo, actor, kind, subject)
        if as_json:
            click.echo(json.dumps({"issue": _issue_json(issue)}, ensure_ascii=False))
        else:
            click.echo(_issue_line(issue, REFUSED_MESSAGE))
            click.echo("Chưa ghi gì: xem phát hiện rồi chạy lại với --finding MÃ --reason LÝ_DO.")
        sys.exit(1)
    event, issue = acknowledge_finding(ctx.repo, actor, kind, subject, digest, reason)
    if as_json:
        click.echo(json.dumps({"event": event.seq, "issue": _issue_json(issue)}, ensure_ascii=False))
        return
    click.echo(f"Đã ghi quyết định: sự kiện #{event.seq}.")
    click.echo(_issue_line(issue, REFUSED_MESSAGE))


@main.command("duplicate-guards")
@json_option
@pass_ctx
@handles_errors
def duplicate_guards_command(ctx: Context, as_json: bool) -> None:
    """Chuyển khóa chống đăng ký trùng (số, ký hiệu, cơ quan, năm) của văn bản đến đã vào sổ
    sang cách so sánh mới (a8: chữ trông giống nhau là một); chạy lại được, không sửa văn bản."""
    actor = ctx.operator_access()
    done = ctx.repo.reclaim_duplicate_guards(actor)
    if as_json:
        shared = [{"record_id": r, "same_as": h} for r, h in done.shared]
        out = {"checked": done.checked, "taken": done.taken, "shared": shared}
        if done.moved or done.kept:  # (an S3 store with guards of the layout before m43)
            out.update(moved=done.moved, kept=list(done.kept))
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if done.moved or done.kept:
        click.echo(f"{done.moved} khóa chống trùng kiểu cũ (bucket dữ liệu S3) đã chuyển sang bucket phụ.")
    for key in done.kept:
        click.echo(f"  - {key}: bucket phụ giữ một khóa khác cho mục này; giữ cả hai, cần người xem lại.")
    click.echo(f"{done.checked} văn bản đến đã kiểm tra, {done.taken} khóa mới.")
    for record_id, holder in done.shared:
        click.echo(f"  - {record_id} trùng với {holder} theo cách so sánh mới: cần người xem lại.")


@main.group("backup", invoke_without_command=True)
@click.option(
    "--to", "targets", multiple=True, help="Nơi sao lưu kho (file:///…, s3://…); mặc định KHO_BACKUP_URLS."
)
@click.option(
    "--keys-to", help="Nơi sao lưu kho khóa, tách khỏi nơi sao lưu kho; mặc định KHO_BACKUP_KEYS_URL."
)
@json_option
@click.pass_context
@handles_errors
def backup_group(
    click_ctx: click.Context, targets: tuple[str, ...], keys_to: str | None, as_json: bool
) -> None:
    """Sao lưu toàn bộ kho và kho khóa (kiểm tra ngay khi tạo, ghi nhật ký)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from kho.timeutil import utcnow
    from retention.operations import run_backup

    ctx = click_ctx.ensure_object(Context)
    actor = ctx.operator_access()
    done = run_backup(ctx.repo, ctx.settings, actor, targets=targets, keys_to=keys_to, now=utcnow())
    if as_json:
        click.echo(json.dumps(list(done.copies), ensure_ascii=False))
        return
    for copy in done.copies:
        click.echo(
            f"Đã sao lưu {copy['label']} → {copy['destination']}: {copy['objects']} đối tượng,"
            f" {copy['bytes'] / 1e6:.1f} MB (ghi mới {copy['copied_bytes'] / 1e6:.1f} MB), đọc lại kiểm"
            f" tra {copy['sampled']}, mã {copy['backup_id']}."
            + (f" Khóa ghi một lần {copy['lock_days']} ngày." if copy["lock_days"] else "")
        )
    if done.shredded.due:
        click.echo(f"Đã xóa khóa của {len(done.shredded.due)} bản ghi đã hủy khỏi các bản sao lưu khóa.")


@backup_group.command("shred-keys")
@click.option("--from", "source", required=True, help="Nơi sao lưu kho khóa.")
@pass_ctx
@handles_errors
def backup_shred_keys(ctx: Context, source: str) -> None:
    """Xóa khóa của các bản ghi đã hủy (quá KHO_KEY_BACKUP_SHRED_DAYS) khỏi mọi bản sao lưu khóa."""
    from kho.timeutil import utcnow
    from retention.operations import shred_key_backups

    actor = ctx.operator_access()
    report = shred_key_backups(ctx.repo, ctx.settings, actor, source, now=utcnow())
    click.echo(f"Đã xóa khóa của {len(report.due)} bản ghi đã hủy khỏi các bản sao lưu khóa ở {source}.")


@backup_group.command("verify")
@click.option("--from", "source", required=True, help="Nơi sao lưu.")
@click.option("--id", "backup_id", help="Mã bản sao lưu (mặc định: bản mới nhất).")
@click.option("--label", type=click.Choice(["store", "keys"]), help="Loại bản sao lưu.")
@pass_ctx
@handles_errors
def backup_verify(ctx: Context, source: str, backup_id: str | None, label: str | None) -> None:
    """Đọc lại và kiểm tra SHA-256 của mọi đối tượng trong một bản sao lưu."""
    from repository.storage import open_store
    from retention.backup import verify_backup
    from retention.operations import manifest_sealer

    actor = ctx.operator_access()
    options = ctx.settings.key_backup_options() if label == "keys" else ctx.settings.backup_options()
    from repository.ledger import verify_ledger

    destination = open_store(source, **options)
    report = verify_backup(destination, backup_id, label, sealer=manifest_sealer(ctx.settings))
    anchor = ctx.repo.anchor
    ledger = verify_ledger(destination, anchor.public_key() if anchor is not None else None)
    ledger_problems = [f"[{p.kind}] {p.message}" for p in ledger.problems]
    ctx.repo.audit.append(
        actor.user, "backup:verify", source=actor.source,
        details={"backup_id": report.backup_id, "destination": source, "ok": report.ok,
                 "ledger_entries": ledger.entries, "ledger_problems": ledger_problems},
    )
    for problem in (*report.problems, *ledger_problems):
        click.echo(f"  - {problem}")
    click.echo(
        f"Bản sao lưu {report.backup_id}: {report.objects} đối tượng, "
        + ("nguyên vẹn." if report.ok else f"{len(report.problems)} vấn đề.")
    )
    if ledger.present:
        click.echo(
            f"Sổ tiêu hủy: {ledger.entries} mục, "
            + ("nguyên vẹn." if not ledger.problems else f"{len(ledger.problems)} vấn đề.")
        )
    else:
        click.echo("Nơi sao lưu này chưa có sổ tiêu hủy.")
    if not report.ok or ledger.problems:
        sys.exit(1)


@main.command("fixity")
@click.option("--period-days", default=30, show_default=True, type=AsciiInt(1, 3650),
              help="Mỗi tệp gốc được kiểm tra một lần trong chừng ấy ngày (chạy hằng ngày).")
@click.option("--all", "check_all", is_flag=True, help="Kiểm tra mọi tệp gốc trong lần chạy này.")
@click.option(
    "--from", "sources", multiple=True, help="Nơi sao lưu để sửa tệp hỏng; mặc định KHO_BACKUP_URLS."
)
@pass_ctx
@handles_errors
def fixity_command(ctx: Context, period_days: int, check_all: bool, sources: tuple[str, ...]) -> None:
    """Kiểm tra SHA-256 tệp gốc theo lượt và tự sửa tệp hỏng từ bản sao lưu đã kiểm tra."""
    from retention.operations import run_fixity

    actor = ctx.operator_access()
    report = run_fixity(
        ctx.repo, ctx.settings, actor, today=date.today(), period_days=1 if check_all else period_days,
        sources=sources,
    )
    click.echo(
        f"Đã kiểm tra {report.checked} tệp gốc ({report.bytes / 1e6:.1f} MB, {report.seconds:.1f} s):"
        f" hỏng {len(report.damaged)}, đã sửa {len(report.repaired)}."
    )
    reasons = dict(report.unverifiable)
    for key in report.unrepaired:
        why = f" (không mở được bản ghi: {reasons[key]})" if key in reasons else ""
        click.echo(f"  - CHƯA SỬA ĐƯỢC: {key}{why}")
    if report.unrepaired:
        sys.exit(1)


@main.command("status")
@json_option
@pass_ctx
@handles_errors
def status_command(ctx: Context, as_json: bool) -> None:
    """Dung lượng kho, kho khóa và nơi sao lưu; cảnh báo trước khi đầy."""
    from retention.operations import run_capacity

    actor = ctx.operator_access()
    found = run_capacity(ctx.repo, ctx.settings, actor)
    if as_json:
        rows = [{**c.__dict__, "percent": round(c.percent, 1)} for c in found]
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for c in found:
            shown = f"{c.percent:.0f}% của {c.total / 1e9:.1f} GB" if c.total else "không đo được (S3)"
            click.echo(f"  {c.name}: {shown} [{c.level}]")
    if any(c.level == "critical" for c in found):
        sys.exit(1)


@main.command("restore")
@click.option("--from", "source", required=True, help="Nơi sao lưu kho.")
@click.option("--keys-from", required=True, help="Nơi sao lưu kho khóa.")
@click.option("--id", "backup_id", help="Mã bản sao lưu kho (mặc định: bản mới nhất).")
@click.option("--keys-id", help="Mã bản sao lưu kho khóa (mặc định: bản mới nhất).")
@click.option("--force", is_flag=True, help="Ghi đè kho không rỗng về đúng trạng thái của bản sao lưu.")
@click.option(
    "--without-ledger", is_flag=True,
    help="Khôi phục dù không đọc được sổ tiêu hủy ở nơi sao lưu nào (ghi vào nhật ký; bản ghi đã hủy"
    " sau bản sao lưu có thể bị khôi phục lại).",
)
@click.option(
    "--accept-older-history", metavar="LÝ_DO",
    help="Vẫn khôi phục dù nhật ký của bản sao lưu không khớp điểm mốc ký số ngoài kho (bản sao cũ"
    " hơn hoặc đã bị sửa), khi chắc chắn không còn bản nào mới hơn; lý do được ghi vào nhật ký.",
)
@click.option(
    "--from-another-installation", metavar="LÝ_DO",
    help="Vẫn khôi phục bản sao lưu của một cài đặt khác (cơ quan khác) đè lên kho đang được dùng,"
    " thay hồ sơ và nhật ký của kho này; lý do và mã định danh của hai cài đặt được ghi vào nhật ký.",
)
@click.option(
    "--as-new-installation", is_flag=True,
    help="Cho kho được khôi phục một mã định danh cài đặt mới (bản nhân bản là một cài đặt khác).",
)
@pass_ctx
@handles_errors
def restore_command(
    ctx: Context, source: str, keys_from: str, backup_id: str | None, keys_id: str | None, force: bool,
    without_ledger: bool, accept_older_history: str | None, from_another_installation: str | None,
    as_new_installation: bool,
) -> None:
    """Khôi phục kho và kho khóa từ bản sao lưu (giống từng byte), hủy lại mọi bản ghi có trong sổ
    tiêu hủy, rồi dựng lại chỉ mục."""
    from ingest.indexing import reindex_all
    from retention.operations import run_restore

    actor = ctx.operator_access()
    done = run_restore(
        ctx.repo, ctx.settings, actor, source=source, keys_from=keys_from,
        reindex=lambda: reindex_all(ctx.repo, ctx.backend).total, backup_id=backup_id, keys_id=keys_id,
        force=force, without_ledger=without_ledger, accept_older_history=accept_older_history,
        from_another_installation=from_another_installation, as_new_installation=as_new_installation,
        warn=lambda message: click.echo(message, err=True),
    )
    if not done.ledger.reached:
        click.echo(
            "CẢNH BÁO: khôi phục không có sổ tiêu hủy (--without-ledger); đã ghi vào nhật ký.", err=True
        )
    if done.redestroyed:
        click.echo(f"Đã hủy lại {len(done.redestroyed)} bản ghi theo sổ tiêu hủy.")
    if done.reapplied:
        click.echo(
            f"Đã áp dụng lại việc hủy {len(done.reapplied)} bản ghi bị hủy sau thời điểm của bản sao lưu."
        )
    click.echo(
        f"Đã khôi phục {done.store.objects} đối tượng ({done.store.bytes / 1e6:.1f} MB) từ"
        f" {done.store.backup_id} và {done.keys.objects} khóa từ {done.keys.backup_id}; chỉ mục:"
        f" {done.indexed} bản ghi; sổ tiêu hủy đã đọc: {len(done.ledger.reached)}."
    )
    if done.history_findings:  # restored only because --accept-older-history said why
        click.echo(
            f"CẢNH BÁO: nhật ký của bản sao lưu có {len(done.history_findings)} điểm không khớp điểm mốc"
            " ký số ngoài kho (bản sao cũ hơn điểm mốc, hoặc đã bị sửa): các việc sau đó (đăng ký, hủy,"
            " thu hồi …) không có trong kho đã khôi phục. Đã khôi phục theo --accept-older-history (ghi"
            " vào nhật ký). Kiểm toán viên cần xem xét: “kho audit verify”, rồi “kho audit"
            " acknowledge” nếu chấp nhận.",
            err=True,
        )


WSGI_APP = "web.app:create_app()"
"""What gunicorn loads (the web container of docker-compose.yml runs the same)."""

GUNICORN_CONFIG = "python:web.serving"
"""gunicorn's configuration for Kho's web processes: its ``worker_exit`` hook closes each
worker's installation (:mod:`web.serving`; the web container passes the same)."""


def gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    """The gunicorn command ``kho serve --production`` replaces itself with (its workers close
    their installation as they end: :mod:`web.serving`)."""
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--timeout", "120",
        "--access-logfile", "-",
        "--config", GUNICORN_CONFIG,
        WSGI_APP,
    ]  # fmt: skip


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=AsciiInt())
@click.option(
    "--production",
    is_flag=True,
    help="Chạy bằng gunicorn (máy chủ WSGI thật), không phải máy chủ phát triển của Flask.",
)
@click.option("--workers", default=2, show_default=True, type=AsciiInt(1, 64))
def serve_command(host: str, port: int, production: bool, workers: int) -> None:
    """Chạy Kho: trang web tiếng Việt và API JSON (/api); --production chạy bằng gunicorn.
    Chạy qua http (không TLS) thì đặt KHO_COOKIE_SECURE=false; nhiều tiến trình dùng chung phiên
    thì đặt KHO_SESSION_SECRET."""
    if production:
        import os

        from kho.config import process_settings

        process_settings()  # a bad setting (a weak KHO_SESSION_SECRET) stops here, with its code
        argv = gunicorn_argv(host, port, workers)
        os.execv(argv[0], argv)
        return  # not reached: gunicorn replaced this process
    from web.app import create_app
    from web.serving import close_app

    app = create_app()
    try:
        app.run(host=host, port=port)
    finally:
        close_app(app)  # stopped (Ctrl-C): its last written head noted outside the store


@main.command("reindex")
@pass_ctx
@handles_errors
def reindex_command(ctx: Context) -> None:
    """Dựng lại toàn bộ chỉ mục tìm kiếm từ kho (tiếp tục được nếu bị ngắt) và chỉ mục nhật ký
    theo văn bản."""
    from ingest.indexing import reindex_all

    ctx.operator_access()
    backend = ctx.backend

    def progress(p: Any) -> None:
        click.echo(f"\r  đã đọc {p.seen}, đã ghi {p.written}, bỏ qua {p.skipped} ({p.rate:.0f}/s)", nl=False)

    report = reindex_all(ctx.repo, backend, progress=progress)
    click.echo(
        f"\nĐã dựng lại chỉ mục: {report.total} bản ghi, ghi {report.written}, bỏ qua"
        f" {report.skipped}, {report.elapsed:.1f} s."
    )
    events = ctx.repo.audit.rebuild_index()
    click.echo(f"Đã dựng lại chỉ mục nhật ký theo văn bản: {events} sự kiện.")


@main.command("index-check")
@json_option
@pass_ctx
@handles_errors
def index_check_command(ctx: Context, as_json: bool) -> None:
    """So sánh chỉ mục với kho: thiếu, thừa, lỗi thời."""
    from ingest.indexing import check_index

    ctx.operator_access()
    report = check_index(ctx.repo, ctx.backend)
    if as_json:
        click.echo(
            json.dumps(
                {"ok": report.ok, "missing": report.missing, "extra": report.extra, "stale": report.stale},
                ensure_ascii=False,
            )
        )
    else:
        click.echo(
            "Chỉ mục khớp với kho."
            if report.ok
            else f"Khác biệt: thiếu {len(report.missing)}, thừa {len(report.extra)},"
            f" lỗi thời {len(report.stale)}."
        )
    if not report.ok:
        sys.exit(1)


if __name__ == "__main__":  # python -m web.cli ...
    main()
