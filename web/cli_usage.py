"""What a person is told for a command line the ``kho`` program cannot parse: click's own usage
errors (an unknown command or option, a missing argument, a value of the wrong type, an extra
argument) as a Kho refusal with a stable code and a Vietnamese message, printed like every
other refusal (``Lỗi [CODE]: …`` on stderr, exit 2; JSON with ``--json``).

Before review rv45 click printed them itself, in English and without a code (``Error: No such
option '--limit'.``), the one kind of refusal of the CLI a script could not tell apart but by
its English text."""

from __future__ import annotations

import re

import click

from kho.errors import KhoError
from web.cli_help import metavar

EXTRA_ARGUMENTS = re.compile(r"^Got unexpected extra arguments? \((.*)\)$", re.DOTALL)
"""click's text for arguments left over (``ctx.fail``: a plain UsageError, no subclass)."""


class CommandLineInvalid(KhoError):
    code = "CLI_USAGE_INVALID"
    http_status = 400


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "?"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)  # the long form a person reads in --help
    return metavar(param.human_readable_name)  # as the help page shows it (web.cli_help)


def _value_rule(param_type: click.ParamType | None) -> str:
    """What a value of ``param_type`` must be, in Vietnamese."""
    if isinstance(param_type, click.Choice):
        return "phải là một trong: " + ", ".join(str(c) for c in param_type.choices)
    if isinstance(param_type, click.IntRange | click.FloatRange) and (
        param_type.min is not None or param_type.max is not None
    ):
        low = "" if param_type.min is None else str(param_type.min)
        high = "" if param_type.max is None else str(param_type.max)
        kind = "số nguyên (chữ số 0–9)" if isinstance(param_type, click.IntRange) else "số"
        if low and high:
            return f"phải là {kind} từ {low} đến {high}"
        return f"phải là {kind} " + (f"từ {low} trở lên" if low else f"không quá {high}")
    if isinstance(param_type, click.types.IntParamType):
        return "phải là số nguyên (chữ số 0–9)"
    if isinstance(param_type, click.types.FloatParamType):
        return "phải là số"
    if isinstance(param_type, click.types.BoolParamType):
        return "phải là true hoặc false"
    if isinstance(param_type, click.DateTime):
        return "phải là ngày theo dạng " + " hoặc ".join(
            f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for f in param_type.formats
        )
    if isinstance(param_type, click.Path | click.File):
        return "không dùng được: tệp hoặc thư mục không có, không đọc được, hoặc không đúng loại"
    return "không hợp lệ"


def usage_refusal(error: click.UsageError) -> KhoError:
    """The refusal for ``error`` (chained to it), with a hint to the command's help."""
    command = error.ctx.command_path if error.ctx is not None else "kho"
    if isinstance(error, click.exceptions.NoSuchCommand):
        code, message = "CLI_COMMAND_UNKNOWN", f"Không có lệnh “{error.command_name}”."
    elif isinstance(error, click.NoSuchOption):
        code, message = "CLI_OPTION_UNKNOWN", f"Không có tùy chọn “{error.option_name}”."
        if error.possibilities:
            message += " Có phải ý bạn là " + ", ".join(f"“{p}”" for p in error.possibilities) + "?"
    elif isinstance(error, click.MissingParameter):
        if isinstance(error.param, click.Option):
            code, message = "CLI_OPTION_MISSING", f"Thiếu tùy chọn “{_param_name(error.param)}”."
        else:
            code, message = "CLI_ARGUMENT_MISSING", f"Thiếu tham số “{_param_name(error.param)}”."
    elif isinstance(error, click.BadParameter):
        param = error.param
        code = "CLI_VALUE_INVALID"
        message = f"Giá trị của “{_param_name(param)}” {_value_rule(param.type if param else None)}."
    elif isinstance(error, click.BadOptionUsage):
        code = "CLI_OPTION_INVALID"
        message = f"Tùy chọn “{error.option_name}” dùng không đúng: thiếu giá trị, hoặc có giá trị thừa."
    elif extra := EXTRA_ARGUMENTS.match(error.message):
        code, message = "CLI_ARGUMENT_EXTRA", f"Thừa tham số: {extra.group(1)}."
    else:
        code, message = "CLI_USAGE_INVALID", "Lệnh gõ không đúng cú pháp."
    refusal = CommandLineInvalid(f"{message} Xem hướng dẫn: {command} --help", code=code)
    refusal.__cause__ = error
    return refusal


def aborted(cause: BaseException) -> KhoError:
    """A command stopped at a question: declined (``click.confirm``), no more input (Ctrl+D,
    standard input closed) or Ctrl+C; click printed ``Aborted!``."""
    refusal = CommandLineInvalid(
        "Đã dừng lệnh: câu hỏi bị từ chối, hoặc không còn dữ liệu nhập (Ctrl+C, Ctrl+D).",
        code="CLI_ABORTED",
    )
    refusal.__cause__ = cause
    return refusal
