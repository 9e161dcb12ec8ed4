"""Native text of office and plain-text formats: python-docx, openpyxl, xlrd, odfpy, striprtf,
antiword (catdoc as fallback) for Word 97-2003."""

from __future__ import annotations

import codecs
import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ingest.text.errors import ExtractionFailed, FileCorrupt, FileEncrypted
from ingest.text.guards import check_doc_encrypted
from ingest.text.model import Format, TextWarning
from ingest.text.settings import TextSettings
from kho.zips import DAMAGED_ENTRY_ERRORS

# (label, text) per part, plus warnings
Parts = tuple[list[tuple[str | None, str]], list[TextWarning]]


def extract_office(data: bytes, fmt: Format, settings: TextSettings) -> Parts:
    handler = _HANDLERS[fmt]
    try:
        return handler(data, settings)
    except (FileCorrupt, FileEncrypted, ExtractionFailed):
        raise
    except (*DAMAGED_ENTRY_ERRORS, KeyError, ValueError, TypeError, IndexError, AttributeError,
            AssertionError, SyntaxError) as exc:
        # The parsers raise a wide range of exceptions on damaged input.
        raise FileCorrupt(
            f"Tệp {fmt.value} bị hỏng hoặc không đúng cấu trúc, không đọc được nội dung.",
            format=fmt.value, reason=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc


def _docx(data: bytes, settings: TextSettings) -> Parts:
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []

    def table_lines(table: Table) -> Iterator[str]:
        for row in table.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:
                    continue  # a merged cell is listed once per grid column it spans
                seen.add(id(cell._tc))
                cells.append(cell.text)
            yield "\t".join(cells)

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(table_lines(block))
        else:
            lines.append(block.text)
    return [(None, "\n".join(lines))], []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_text(rows: Iterator[tuple[Any, ...]]) -> str:
    lines = []
    for row in rows:
        cells = [_cell(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
    return "\n".join(lines)


def _xlsx(data: bytes, settings: TextSettings) -> Parts:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        parts: list[tuple[str | None, str]] = [
            (sheet.title, _rows_text(sheet.iter_rows(values_only=True)))
            for sheet in book.worksheets
        ]
    finally:
        book.close()
    return parts, []


def _xls(data: bytes, settings: TextSettings) -> Parts:
    import xlrd
    from xlrd.compdoc import CompDocError

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except (xlrd.XLRDError, CompDocError) as exc:
        if "encrypt" in str(exc).lower():
            raise FileEncrypted(
                "Tệp .xls được bảo vệ bằng mật khẩu, không thể đọc nội dung."
            ) from exc
        raise FileCorrupt("Tệp .xls bị hỏng.", reason=str(exc)) from exc
    try:
        parts: list[tuple[str | None, str]] = []
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = (tuple(sheet.row_values(r)) for r in range(sheet.nrows))
            parts.append((sheet.name, _rows_text(rows)))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return parts, []


def _odf_text(data: bytes) -> list[tuple[str | None, str]]:
    from odf import teletype
    from odf.element import Element
    from odf.namespaces import TABLENS, TEXTNS
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    paragraph = {(TEXTNS, "p"), (TEXTNS, "h")}
    parts: list[tuple[str | None, str]] = []
    lines: list[str] = []

    def walk(node: Element) -> None:
        for child in node.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            if child.qname in paragraph:
                lines.append(teletype.extractText(child))
            elif child.qname == (TABLENS, "table-row"):
                cells = []
                for cell in child.childNodes:
                    if cell.nodeType == cell.ELEMENT_NODE:
                        cells.append("\n".join(
                            teletype.extractText(p)
                            for p in cell.childNodes
                            if p.nodeType == p.ELEMENT_NODE and p.qname in paragraph
                        ))
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            else:
                walk(child)

    if document.mimetype.endswith("spreadsheet"):
        for table in document.spreadsheet.childNodes:
            if table.nodeType == table.ELEMENT_NODE and table.qname == (TABLENS, "table"):
                lines.clear()
                walk(table)
                parts.append((table.getAttribute("name"), "\n".join(lines)))
        return parts
    walk(document.text)
    return [(None, "\n".join(lines))]


def _odf(data: bytes, settings: TextSettings) -> Parts:
    return _odf_text(data), []


_RTF_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")


def _rtf(data: bytes, settings: TextSettings) -> Parts:
    from striprtf.striprtf import rtf_to_text

    match = _RTF_CODEPAGE.search(data[:4096])
    encoding = f"cp{int(match.group(1))}" if match else "cp1252"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "cp1252"
    text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
    return [(None, text)], []


def decode_text(data: bytes) -> tuple[str, TextWarning | None]:
    """UTF-8/16/32 by BOM, else UTF-8, else Windows-1258 (Vietnamese) with a warning."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError as exc:
                raise FileCorrupt(f"Tệp văn bản có BOM {encoding} nhưng nội dung sai mã.") from exc
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), TextWarning(
            code="TEXT_ENCODING_GUESSED",
            message="Tệp văn bản không phải UTF-8; đã đọc theo bảng mã Windows-1258 (tiếng Việt).",
        )


def _plain(data: bytes, settings: TextSettings) -> Parts:
    text, warning = decode_text(data)
    return [(None, text)], [warning] if warning else []


def _doc(data: bytes, settings: TextSettings) -> Parts:
    check_doc_encrypted(data)
    tools: list[tuple[str, Callable[[Path], list[str]]]] = [
        ("antiword", lambda p: ["antiword", "-m", "UTF-8.txt", "-w", "0", str(p)]),
        ("catdoc", lambda p: ["catdoc", "-d", "utf-8", "-w", str(p)]),
    ]
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kho-doc-") as tmp:
        path = Path(tmp) / "input.doc"
        path.write_bytes(data)
        for name, command in tools:
            if shutil.which(name) is None:
                errors.append(f"{name}: not installed")
                continue
            try:
                proc = subprocess.run(
                    command(path), capture_output=True, timeout=settings.tool_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                errors.append(f"{name}: timeout")
                continue
            if proc.returncode == 0:
                warnings = [] if name == "antiword" else [TextWarning(
                    code="DOC_FALLBACK_CATDOC",
                    message="Tệp .doc được đọc bằng catdoc (antiword không đọc được).",
                )]
                return [(None, proc.stdout.decode("utf-8", "replace"))], warnings
            errors.append(f"{name}: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    if all("not installed" in e for e in errors):
        raise ExtractionFailed(
            "Máy chủ thiếu công cụ đọc tệp .doc (antiword, catdoc).", tools=errors
        )
    raise FileCorrupt("Tệp .doc bị hỏng hoặc không đọc được.", format="doc", tools=errors)


_HANDLERS: dict[Format, Callable[[bytes, TextSettings], Parts]] = {
    Format.DOCX: _docx,
    Format.XLSX: _xlsx,
    Format.XLS: _xls,
    Format.ODT: _odf,
    Format.ODS: _odf,
    Format.RTF: _rtf,
    Format.TXT: _plain,
    Format.CSV: _plain,
    Format.DOC: _doc,
}
