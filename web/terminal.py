"""What the ``kho`` command writes on a terminal, under one rule.

A trích yếu, a name, a title, an audit note stored before control characters were refused may
hold ESC (U+001B), CSI (U+009B), BEL, backspace, or a bidirectional override: printed as stored,
``kho record show`` or ``kho audit log`` let whoever wrote that text drive the văn thư's
terminal (move the cursor, rewrite lines, change the window's title) or reverse what is shown.
The command's ~200 output lines are scattered ``click.echo`` calls over ten modules with no
shared printer, so the rule is applied where they all end: the standard streams, wrapped for
the time a command runs (:func:`shown_streams`, from :meth:`web.cli.LazyGroup.invoke`). Each
text written goes through :func:`kho.xmltext.shown_text` (each such character shown as U+FFFD,
tab and line feeds kept; a carriage return only where Kho's own output puts one:
:func:`terminal_text`). With ``--json`` the output stays exact: JSON's encoder writes every C0
control as ``\\u001b`` but leaves DEL, the C1 controls (CSI is U+009B) and the bidirectional
overrides raw, and :func:`json_text` writes those as ``\\u009b`` too, which a JSON reader decodes
to the same string. Bytes written to the binary buffer (a document's content) are not touched."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from kho.xmltext import NOT_SHOWN, SHOWN_INSTEAD, shown_text

_CARRIAGE_RETURN_INSIDE = re.compile("(?<=.)\r(?!\n)", re.DOTALL)


def terminal_text(text: str) -> str:
    """``text`` as the terminal is given it: :func:`kho.xmltext.shown_text`, and a carriage
    return shown as U+FFFD unless it starts the text written or ends a line (CR LF). A progress
    line redrawn in place is written as one text starting with CR (``kho reindex``), and each
    ``click.echo`` is one write ending its line; a CR in the middle of a stored trích yếu would
    move the cursor back and write the rest over what the line showed before it."""
    return _CARRIAGE_RETURN_INSIDE.sub(SHOWN_INSTEAD, shown_text(text))


def json_text(text: str) -> str:
    """JSON text with each :data:`kho.xmltext.NOT_SHOWN` character written as its ``\\uXXXX``
    escape. Such a character can stand only inside a JSON string (the rest of the text is ASCII
    punctuation, digits and letters), where the escape means the same character: the output
    decodes to the same value and no raw control reaches the terminal."""
    return NOT_SHOWN.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


_ENDS_A_LINE = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
"""What :meth:`str.splitlines` ends a line at: LF, CR, VT, FF, FS–RS, NEL, U+2028, U+2029."""


def one_line(text: str) -> str:
    """``text`` kept on the line it is printed in: each character that ends a line written as its
    escape (``\\n``, ``\\r``, ``\\u2028``…), so that a stored text (a reason an auditor or an
    archivist typed before such characters were refused, u35) printed after ``: `` on one line of
    a list cannot add lines that read as Kho's own (a forged finding, an acknowledgement no one
    made). Pure; the stored text is not changed."""

    def escaped(found: re.Match[str]) -> str:
        c = found.group()
        return {"\n": "\\n", "\r": "\\r"}.get(c) or f"\\u{ord(c):04x}"

    return _ENDS_A_LINE.sub(escaped, text)


class ShownStream:
    """A text stream that writes what it is given, as ``shown`` makes it, to ``stream``
    (:func:`terminal_text`, or :func:`json_text` for ``--json``); everything else
    (``buffer``, ``encoding``, ``isatty``, ``flush``) is the stream's."""

    def __init__(self, stream: TextIO, shown: Callable[[str], str] = terminal_text) -> None:
        self.stream = stream
        self.shown = shown

    def write(self, text: str) -> int:
        self.stream.write(self.shown(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def shown_streams(as_json: bool = False) -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`ShownStream` while the block runs (a closed
    one stays None), under :func:`json_text` when the command writes JSON, the streams as they
    were afterwards."""
    if isinstance(sys.stdout, ShownStream):
        yield
        return
    shown = json_text if as_json else terminal_text
    out, err = sys.stdout, sys.stderr
    # (a stream the shell closed is None: click then writes nothing, and so it stays)
    sys.stdout = ShownStream(out, shown) if out is not None else None  # type: ignore[assignment]
    sys.stderr = ShownStream(err, shown) if err is not None else None  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
