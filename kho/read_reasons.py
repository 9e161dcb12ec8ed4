"""Why a file's text could not be read as JSON or CSV, said in Vietnamese.

The exceptions' own texts are English ("Expecting ',' delimiter: line 1 column 9 (char 8)",
"'utf-8' codec can't decode byte 0xd4 in position 34", "field larger than field limit
(131072)"); a message a person reads says :func:`read_reason`'s phrase instead, and the machine
details keep its short code (:func:`read_reason_code`). Pure; the OS's refusals are
:mod:`kho.os_reasons`'.
"""

from __future__ import annotations

import csv
import json

from kho.jsontext import MAX_DEPTH, NestedTooDeep
from kho.os_reasons import errno_name, os_reason


def read_reason_code(exc: BaseException) -> str:
    """A stable UPPER_SNAKE name of why ``exc`` stopped the read (``NOT_UTF8``, ``JSON_SYNTAX``,
    ``TOO_DEEP``, ``NUMBER_TOO_LONG``, ``CSV_FIELD_TOO_LONG``, ``CSV_SYNTAX``, the errno's name
    of an ``OSError``, else ``UNREADABLE``)."""
    if isinstance(exc, UnicodeError):
        return "NOT_UTF8"
    if isinstance(exc, json.JSONDecodeError):
        return "JSON_SYNTAX"
    if isinstance(exc, (NestedTooDeep, RecursionError)):
        return "TOO_DEEP"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return "NUMBER_TOO_LONG"  # (int() of more than 4,300 digits)
    if isinstance(exc, csv.Error):
        return "CSV_FIELD_TOO_LONG" if "field larger than field limit" in str(exc) else "CSV_SYNTAX"
    if isinstance(exc, OSError):
        return errno_name(exc) or "UNREADABLE"
    return "UNREADABLE"


def read_reason(exc: BaseException) -> str:
    """The Vietnamese phrase (lower case, no full stop) for why ``exc`` stopped the read."""
    code = read_reason_code(exc)
    if code == "NOT_UTF8":
        return "không phải văn bản UTF-8 (có thể là tệp nhị phân hoặc bảng mã khác như Windows-1258)"
    if code == "JSON_SYNTAX":
        assert isinstance(exc, json.JSONDecodeError)
        return f"không đúng cú pháp JSON ở dòng {exc.lineno}, cột {exc.colno}"
    if code == "TOO_DEEP":
        return f"các mảng, đối tượng lồng nhau quá {MAX_DEPTH} tầng"
    if code == "NUMBER_TOO_LONG":
        return "có số quá dài (hơn 4.300 chữ số)"
    if code == "CSV_FIELD_TOO_LONG":
        return f"có một ô dài quá {csv.field_size_limit():,} ký tự".replace(",", ".")
    if code == "CSV_SYNTAX":
        return "không đúng dạng CSV"
    if isinstance(exc, OSError):
        return os_reason(exc)
    return "nội dung không đọc được"
