"""Files a caller names (a CLI argument, a setting): read with a Vietnamese refusal and a code.

One place for what every command that reads a caller's JSON file repeated, or forgot: a file
that is missing, a folder, unreadable, not UTF-8, not JSON, nested too deep or holding a number
of thousands of digits is refused with :class:`KhoError` (the cause chained), never a
``JSONDecodeError``/``UnicodeDecodeError``/``OSError`` traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kho.errors import KhoError


def is_utf8(text: str) -> bool:
    """Text, not bytes of another code page (a name or value from an old TCVN3 or Windows-1258
    machine, kept by Python as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str | os.PathLike[str]) -> str:
    """A file name, path or setting as text that can be printed, logged and stored: bytes that
    are not UTF-8 (kept by Python as lone surrogates) shown as ``\\xNN``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def file_error(path: Path | str, exc: OSError, *, code: str = "FILE_UNREADABLE") -> KhoError:
    """The refusal of a file the system could not open, read or write (``exc`` says why)."""
    reason = exc.strerror or type(exc).__name__
    return KhoError(f"Không dùng được tệp “{str(path)[:200]}”: {reason}.", code=code, path=str(path)[:200])


def read_json_file(path: Path | str, *, code: str, label: str) -> Any:
    """The JSON value in ``path`` (``label`` names the file for people, e.g. "điểm mốc"), or
    :class:`KhoError` with ``code``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise file_error(path, exc, code=code) from exc
    except UnicodeDecodeError as exc:
        raise KhoError(
            f"Tệp {label} “{str(path)[:200]}” không phải văn bản UTF-8.", code=code, path=str(path)[:200]
        ) from exc
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise KhoError(
            f"Tệp {label} “{str(path)[:200]}” không phải JSON hợp lệ.", code=code, path=str(path)[:200]
        ) from exc


def read_json_object(path: Path | str, *, code: str, label: str) -> dict[str, Any]:
    """As :func:`read_json_file`, for a file that must hold one JSON object."""
    value = read_json_file(path, code=code, label=label)
    if not isinstance(value, dict):
        raise KhoError(
            f"Tệp {label} “{str(path)[:200]}” phải là một đối tượng JSON.", code=code, path=str(path)[:200]
        )
    return value
