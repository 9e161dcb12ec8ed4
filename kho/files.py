"""Files a caller names (a CLI argument, a setting): read with a Vietnamese refusal and a code.

One place for what every command that reads a caller's JSON file repeated, or forgot: a file
that is missing, a folder, unreadable, not UTF-8, not JSON, nested too deep or holding a number
of thousands of digits is refused with :class:`KhoError` (the cause chained), never a
``JSONDecodeError``/``UnicodeDecodeError``/``OSError`` traceback.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

from kho import jsontext
from kho.errors import KhoError
from kho.os_reasons import errno_name, os_reason
from kho.sentences import clause, sentence


def is_utf8(text: str) -> bool:
    """Text, not bytes of another code page (a name or value from an old TCVN3 or Windows-1258
    machine, kept by Python as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


LINK, SPECIAL, FILE, FOLDER = "link", "special", "file", "folder"


def kind(path: Path) -> str | None:
    """What ``path`` itself is, from ``lstat`` (nothing followed, nothing opened): ``LINK``,
    ``FOLDER``, ``FILE`` (regular), ``SPECIAL`` (a FIFO, device or socket), or None (gone).

    The one rule of every import from files a person hands over (``kho ingest`` with files
    or folders, a SIP package's folder): a symbolic link is never followed, whether it is
    named on the command line or found in a folder, and whatever it points to (a file, a
    folder, a FIFO, nothing); it and every special file are listed and refused with their code,
    never left out without a word. Only a folder is walked and only a regular file is read."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return FOLDER
    if stat.S_ISREG(mode):
        return FILE
    return SPECIAL


HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Characters a name must not bring onto a screen or a log line as they are: controls (ESC
sequences that move the cursor, rewrite lines or set the clipboard; CR, LF), format characters
(bidi marks and overrides that reorder the line, zero-width ones, U+FEFF) and the line and
paragraph separators. Ordinary spaces stay."""


def _escaped(char: str) -> str:
    n = ord(char)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(name: str | os.PathLike[str]) -> str:
    """A file name, path, setting or any value from outside as text that can be printed on one
    line of a terminal, logged and stored: bytes that are not UTF-8 (kept by Python as lone
    surrogates) shown as ``\\xNN``, and every character of :data:`HIDDEN_CATEGORIES` as
    ``\\xNN`` / ``\\uNNNN``. The one rule for names shown to people (``kho ingest``'s lines,
    refusals, settings)."""
    text = os.fspath(name)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text.isprintable():  # no control, format, separator other than a space, surrogate
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to (from JSON, say)
        raw = text.encode("utf-8", "surrogatepass")
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(_escaped(c) if unicodedata.category(c) in HIDDEN_CATEGORIES else c for c in text)


def file_error(path: Path | str, exc: OSError, *, code: str = "FILE_UNREADABLE") -> KhoError:
    """The refusal of a file the system could not open, read or write (``exc`` says why)."""
    # (``OSError.filename`` may be a descriptor number: ``os.stat(999)``)
    shown = printable(path)[:200] if isinstance(path, str | bytes | os.PathLike) else str(path)[:200]
    return KhoError(
        sentence(f"Không dùng được tệp “{shown}”: {clause(os_reason(exc))}"),
        code=code,
        path=shown,
        errno=errno_name(exc),
    )


SMALL_FILE_MAX = 16 * 1024 * 1024
"""Largest small file a person names (a JSON file, a certificate) that is read."""


def read_small_file(
    path: Path | str, *, code: str, label: str, max_bytes: int = SMALL_FILE_MAX
) -> bytes:
    """The bytes of a small file a caller named (``label`` names it for people), or
    :class:`KhoError` with ``code``: a path that is not a regular file (a device: ``/dev/zero``
    was read until memory ran out, a MemoryError traceback; a FIFO, whose read hangs) or holds
    more than ``max_bytes`` (at most ``max_bytes + 1`` bytes are read) is refused (review rv45)."""
    shown = printable(path)[:200]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # (a FIFO: no wait)
    except OSError as exc:
        raise file_error(path, exc, code=code) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KhoError(
                f"Tệp {label} “{shown}” không phải tệp thông thường (thiết bị, ống dẫn FIFO hoặc socket).",
                code=code,
                path=shown,
            )
        with os.fdopen(os.dup(fd), "rb") as source:
            data = source.read(max_bytes + 1)
    except OSError as exc:
        raise file_error(path, exc, code=code) from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise KhoError(
            f"Tệp {label} “{shown}” quá lớn: tối đa {max_bytes // (1024 * 1024)} MB.", code=code, path=shown
        )
    return data


def read_json_file(path: Path | str, *, code: str, label: str) -> Any:
    """The JSON value in ``path`` (``label`` names the file for people, e.g. "điểm mốc"), or
    :class:`KhoError` with ``code``."""
    try:
        text = read_small_file(path, code=code, label=label).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KhoError(
            f"Tệp {label} “{printable(path)[:200]}” không phải văn bản UTF-8.",
            code=code,
            path=printable(path)[:200],
        ) from exc
    try:
        return jsontext.loads(text)
    except (ValueError, RecursionError) as exc:
        raise KhoError(
            f"Tệp {label} “{printable(path)[:200]}” không phải JSON hợp lệ.",
            code=code,
            path=printable(path)[:200],
        ) from exc


def read_json_object(path: Path | str, *, code: str, label: str) -> dict[str, Any]:
    """As :func:`read_json_file`, for a file that must hold one JSON object."""
    value = read_json_file(path, code=code, label=label)
    if not isinstance(value, dict):
        raise KhoError(
            f"Tệp {label} “{printable(path)[:200]}” phải là một đối tượng JSON.",
            code=code,
            path=printable(path)[:200],
        )
    return value
