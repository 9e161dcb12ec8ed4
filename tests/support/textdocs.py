"""Small documents built inside the tests (never copied from anywhere)."""

from __future__ import annotations

import ctypes
import io
import os
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KHO_SHARED_DIR", REPO.parent / "shared"))
CORPUS_PDF = SHARED / "corpora" / "pdf"

HEADER = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SUBJECT = "Về việc tăng cường quản lý hồ sơ điện tử, lưu trữ tài liệu số"
SIGNER = "Nguyễn Thị Hằng, Phó Giám đốc Sở Khoa học và Công nghệ"
LINES = (HEADER, MOTTO, SUBJECT, SIGNER)

FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
)


def font_path() -> Path | None:
    return next((p for p in FONTS if p.exists()), None)


def pdf_with_text(lines: tuple[str, ...] = LINES, *, pages: int = 1,
                  size: tuple[float, float] = (595, 842)) -> bytes:
    """A PDF whose pages carry ``lines`` in an embedded TrueType font (a real text layer)."""
    font = font_path()
    if font is None:
        raise RuntimeError("no TrueType font with Vietnamese glyphs installed")
    font_data = font.read_bytes()
    pdf = pdfium.PdfDocument.new()
    buf = (ctypes.c_uint8 * len(font_data)).from_buffer_copy(font_data)
    handle = pdfium_c.FPDFText_LoadFont(
        pdf, buf, len(font_data), pdfium_c.FPDF_FONT_TRUETYPE, True
    )
    for _ in range(pages):
        page = pdf.new_page(*size)
        y = size[1] - 72
        for line in lines:
            obj = pdfium_c.FPDFPageObj_CreateTextObj(pdf, handle, 12.0)
            encoded = (line + "\x00").encode("utf-16-le")
            wide = ctypes.create_string_buffer(encoded, len(encoded))
            pdfium_c.FPDFText_SetText(obj, ctypes.cast(wide, pdfium_c.FPDF_WIDESTRING))
            pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 56, y)
            pdfium_c.FPDFPage_InsertObject(page, obj)
            y -= 24
        pdfium_c.FPDFPage_GenerateContent(page)
        page.close()
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    pdfium_c.FPDFFont_Close(handle)
    return out.getvalue()


def blank_pdf(pages: int, size: tuple[float, float] = (595, 842)) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(HEADER)
    document.add_paragraph(MOTTO)
    document.add_paragraph(SUBJECT)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Người ký"
    table.rows[0].cells[1].text = SIGNER
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sổ đăng ký"
    for line in LINES:
        sheet.append([line])
    sheet.append(["Số", 15])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def odt_bytes() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=HEADER))
    for line in LINES[1:]:
        document.text.addElement(P(text=line))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def ods_bytes() -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Danh mục")
    for line in LINES:
        row = TableRow()
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=line))
        row.addElement(cell)
        table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def rtf_bytes() -> bytes:
    """RTF as Word writes it: ASCII with ``\\uN?`` escapes for every non-ASCII character."""

    def escape(text: str) -> str:
        return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in text)

    body = "\\par\n".join(escape(line) for line in LINES)
    return ("{\\rtf1\\ansi\\ansicpg1258\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n\\f0 "
            + body + "\\par\n}").encode("ascii")


def txt_bytes() -> bytes:
    return ("\n".join(LINES) + "\n").encode("utf-8")


def csv_bytes() -> bytes:
    return ("so_ky_hieu,trich_yeu\n"
            + "".join(f'15/QĐ-UBND,"{line}"\n' for line in LINES)).encode("utf-8")


def zip_bomb(entry_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A .docx-shaped package whose one entry inflates ~1000× (zeros)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/zeros.bin", "w", force_zip64=True) as fh:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(entry_bytes // len(chunk)):
                fh.write(chunk)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels but carries almost no data."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def scan_png(dpi: int = 150) -> bytes:
    """Page 1 of a real scanned Công điện (194/CĐ-TTg) as a PNG (an image that needs OCR)."""
    pdf = pdfium.PdfDocument((CORPUS_PDF / "vn-gov__194-ttg.signed.pdf").read_bytes())
    try:
        image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def large_text_png(side: int) -> bytes:
    """A ``side`` × ``side`` white page with a line of text every 400 pixels: a small PNG that
    Tesseract needs a lot of memory for (12000: 144 MP, 790 MB unbounded, review a21)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    for y in range(100, side - 200, 400):
        draw.text((100, y), "Cong van so 123 ngay 01 thang 01 nam 2026", fill=0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
