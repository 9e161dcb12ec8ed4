"""Click's own words in the ``kho`` help pages, in Vietnamese.

Click writes its help in English through ``gettext`` with no catalogue for Vietnamese: "Usage:",
"Options:", "Commands:", "-h, --help  Show this message and exit.", "[required]",
"[default: …]", and the metavars (TEXT, INTEGER, FILE, an argument's name upper-cased). The one
place that says them in Vietnamese is the help formatter of :class:`KhoContext`
(``Context.formatter_class``, click's own hook): every help page of the tree is written through
it, because the root group gives each command it hands out this context class (:func:`adopt`).
Pure text rules over what click passes to the formatter; nothing of click is patched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import click

HEADINGS = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Positional arguments": "Tham số",
    "Arguments": "Tham số",
}
"""Click's section headings (and the usage prefix)."""

HELP_TEXTS = {
    "Show this message and exit.": "Hiện trợ giúp này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
}
"""Help texts of the options click adds itself."""

EXTRAS = (
    ("default: ", "mặc định: "),
    ("env var: ", "biến môi trường: "),
    ("required", "bắt buộc"),
)
"""The items click puts in brackets after an option's help (``[default: 0; required]``)."""

METAVARS = {
    # click's own: usage placeholders and the names of its types
    "OPTIONS": "TÙY_CHỌN",
    "COMMAND": "LỆNH",
    "COMMAND1": "LỆNH_1",
    "COMMAND2": "LỆNH_2",
    "ARGS": "THAM_SỐ",
    "TEXT": "CHUỖI",
    "INTEGER": "SỐ_NGUYÊN",
    "INTEGER RANGE": "SỐ_NGUYÊN",
    "FLOAT": "SỐ",
    "FLOAT RANGE": "SỐ",
    "BOOLEAN": "ĐÚNG_SAI",
    "FILE": "TỆP",
    "FILENAME": "TÊN_TỆP",
    "PATH": "ĐƯỜNG_DẪN",
    "DIRECTORY": "THƯ_MỤC",
    # the names of the tree's arguments (click shows an argument by its name upper-cased)
    "CASE_ID": "MÃ_HỒ_SƠ_HỦY",
    "CERTIFICATE": "CHỨNG_THƯ",
    "CODE": "MÃ",
    "CRL_FILE": "TỆP_DANH_SÁCH_THU_HỒI",
    "CSV_FILE": "TỆP_CSV",
    "DOCUMENT_ID": "MÃ_VĂN_BẢN",
    "FIELDS": "TRƯỜNG",
    "FILES": "TỆP",
    "FILE_ID": "MÃ_HỒ_SƠ",
    "FILE_IDS": "MÃ_HỒ_SƠ",
    "FINGERPRINT": "VÂN_TAY",
    "FROM_USER": "NGƯỜI_GIAO",
    "JOB": "MÃ_LƯỢT_NHẬP",
    "LEVEL": "MỨC",
    "NAME": "TÊN",
    "NOTATION": "KÝ_HIỆU",
    "ORDER_ID": "MÃ_LỆNH",
    "ORGAN_ID": "MÃ_CƠ_QUAN",
    "PACKAGE": "GÓI",
    "PATHS": "ĐƯỜNG_DẪN",
    "PLAN_FILE": "TỆP_DANH_MỤC",
    "RECORD_ID": "MÃ_VĂN_BẢN",
    "RECORD_IDS": "MÃ_VĂN_BẢN",
    "TARGET": "ĐÍCH",
    "TO_USER": "NGƯỜI_NHẬN",
    "TRANSFER_ID": "MÃ_BÀN_GIAO",
    "UNIT_ID": "MÃ_ĐƠN_VỊ",
    "USERNAME": "TÊN_ĐĂNG_NHẬP",
    "YEAR": "NĂM",
}
"""Metavars in Vietnamese; a name not listed is shown as click made it."""

_METAVAR = re.compile(r"\b(?:INTEGER RANGE|FLOAT RANGE|[A-Z][A-Z0-9_]*)\b")
_EXTRA = re.compile(r"(\s*)\[([^\[\]]*)\]$")
_DATE_CODES = (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "hh"), ("%M", "mm"), ("%S", "ss"))
_DEPRECATED = ("(DEPRECATED", "(KHÔNG DÙNG NỮA")


def metavar(text: str) -> str:
    """``text`` (a usage line's arguments, an option's names and metavar, a parameter's name)
    with every metavar :data:`METAVARS` lists in Vietnamese: "[OPTIONS] RECORD_ID" →
    "[TÙY_CHỌN] MÃ_VĂN_BẢN", "[%Y-%m-%d]" → "[YYYY-MM-DD]"; option names and choices
    ("--out", "[den|di]") are kept."""
    for code, shown in _DATE_CODES:  # a click.DateTime's formats ("[%Y-%m-%d]")
        text = text.replace(code, shown)
    return _METAVAR.sub(lambda m: METAVARS.get(m.group(0), m.group(0)), text)


def help_text(text: str) -> str:
    """An option's or a command's help with click's own words in Vietnamese."""
    text = HELP_TEXTS.get(text, text).replace(*_DEPRECATED)
    extra = _EXTRA.search(text)
    if extra is None:
        return text
    items = []
    for item in extra.group(2).split("; "):
        for english, vietnamese in EXTRAS:
            if item.startswith(english):
                item = vietnamese + item[len(english) :].replace("(dynamic)", "(tùy lúc chạy)")
                break
        items.append(item)
    return f"{text[: extra.start()]}{extra.group(1)}[{'; '.join(items)}]"


class KhoHelpFormatter(click.HelpFormatter):
    """Click's formatter with click's own words in Vietnamese (the text rules above)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, metavar(args), HEADINGS["Usage:"] + " " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(metavar(term), help_text(text)) for term, text in rows], col_max, col_spacing)


class KhoContext(click.Context):
    """The context of every ``kho`` command: its help is written by :class:`KhoHelpFormatter`."""

    formatter_class = KhoHelpFormatter


def adopt(commands: Iterable[click.Command]) -> None:
    """Give ``commands`` and everything below them :class:`KhoContext` (a command that chose a
    context class of its own keeps it). Called by the root group for each command it hands out;
    walks what is already imported, imports nothing."""
    for command in commands:
        if command.context_class is click.Context:
            command.context_class = KhoContext
        if isinstance(command, click.Group):
            adopt(command.commands.values())


# -- questions ---------------------------------------------------------------------------------
REPEAT = "Nhập lại để xác nhận"
"""Click's "Repeat for confirmation" (the second prompt of a value typed twice)."""

MISMATCH = "Lỗi: hai lần nhập không khớp nhau; hãy nhập lại."
"""Click's "Error: The two entered values do not match." (click takes no text for it)."""

YES_NO = ("c", "k")
"""The answers of :func:`confirm` ("có", "không"), where click asks "[y/N]"."""


def ask(text: str, *, hide_input: bool = False, twice: bool = False) -> str:
    """A value typed at a prompt, in Vietnamese: ``click.prompt`` asks once per call (its ": "
    after ``text`` carries no English); ``twice`` asks again with :data:`REPEAT` and says
    :data:`MISMATCH` until both agree, as click's ``confirmation_prompt`` does in English.
    Every question of the ``kho`` tree goes through here (``tests/web/test_cli_prompts_u27.py``)."""
    while True:
        value = str(click.prompt(text, hide_input=hide_input))
        if not twice:
            return value
        if value == str(click.prompt(REPEAT, hide_input=hide_input)):
            return value
        click.echo(MISMATCH, err=True)


def confirm(text: str, *, default: bool = False) -> bool:
    """A yes/no question in Vietnamese ("[c/K]"): click's ``confirm`` asks "[y/N]" and takes
    only y/yes/n/no. An empty answer is ``default``; anything else asks again."""
    yes, no = YES_NO
    choices = f"{yes.upper()}/{no}" if default else f"{yes}/{no.upper()}"
    while True:
        answer = str(click.prompt(f"{text} [{choices}]", default="", show_default=False)).strip().lower()
        if not answer:
            return default
        if answer in (yes, "có", "co"):
            return True
        if answer in (no, "không", "khong"):
            return False
        click.echo(f"Lỗi: hãy trả lời {yes} (có) hoặc {no} (không).", err=True)
