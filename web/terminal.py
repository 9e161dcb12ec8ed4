"""What the ``kho`` command writes on a terminal, under one rule.

A trích yếu, a name, a title, an audit note stored before control characters were refused may
hold ESC (U+001B), CSI (U+009B), BEL, backspace, or a bidirectional override: printed as stored,
``kho record show`` or ``kho audit log`` let whoever wrote that text drive the văn thư's
terminal (move the cursor, rewrite lines, change the window's title) or reverse what is shown.
The command's ~200 output lines are scattered ``click.echo`` calls over ten modules with no
shared printer, so the rule is applied where they all end: the standard streams, wrapped for
the time a command runs (:func:`shown_streams`, from :meth:`web.cli.LazyGroup.invoke`). Each
text written goes through :func:`kho.xmltext.shown_text` (each such character shown as U+FFFD,
tab and line breaks kept). Not when the command was asked for ``--json``: JSON output stays
exact (its encoder writes every C0 control as ``\\u001b``); nor bytes written to the binary
buffer (a document's content)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from kho.xmltext import shown_text


class ShownStream:
    """A text stream that writes what it is given as :func:`kho.xmltext.shown_text` shows it
    to ``stream``; everything else (``buffer``, ``encoding``, ``isatty``, ``flush``) is the
    stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(shown_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def shown_streams(wanted: bool = True) -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`ShownStream` while the block runs (when
    ``wanted``; a closed one stays None), the streams as they were afterwards."""
    if not wanted or isinstance(sys.stdout, ShownStream):
        yield
        return
    out, err = sys.stdout, sys.stderr
    # (a stream the shell closed is None: click then writes nothing, and so it stays)
    sys.stdout = ShownStream(out) if out is not None else None  # type: ignore[assignment]
    sys.stderr = ShownStream(err) if err is not None else None  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
