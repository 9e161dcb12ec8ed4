"""Born-digital Vietnamese official documents (NĐ 30/2020 Phụ lục I layout) as PDF.

Used to make signed test documents and the signing benchmark corpus, and later by the web UI
for documents Kho issues. The PDF has a real text layer: every line is drawn as text in an
embedded TrueType subset with a ToUnicode map, so text extraction returns exactly the NFC
Vietnamese that was drawn.

Library: reportlab. It is mature, BSD-licensed, has C accelerators and embeds TrueType
subsets with ToUnicode maps; fpdf2 (LGPL) subsets through fontTools and is slower, and
pyHanko's layout only draws signature stamps. We wrap lines ourselves with reportlab's
metrics, so :class:`RenderedPdf` knows every line it drew (tests compare it with extraction).

Font: Liberation Serif (Debian ``fonts-liberation2``), metric-compatible with Times New Roman,
which NĐ 30 prescribes, and covering every Vietnamese precomposed letter. DejaVu Serif
(``fonts-dejavu-core``, no italic) is the fallback.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from kho.errors import ConfigError
from repository.vocabulary import format_number

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
_LIBERATION = {
    "R": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}
_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_DEJAVU = {
    "R": "DejaVuSerif.ttf",
    "B": "DejaVuSerif-Bold.ttf",
    "I": "DejaVuSerif.ttf",
    "BI": "DejaVuSerif-Bold.ttf",
}

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
MARGIN_LEFT = 30 * mm
MARGIN_RIGHT = 15 * mm
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE = 13.0
LEADING = 1.25
INDENT = 10 * mm
HEADER_COLUMN = 0.42 * TEXT_WIDTH
SIGNATURE_GAP = 28 * mm
"""Room between the signer's title and name for the signature and seal images (Phụ lục I)."""


@dataclass(frozen=True)
class OfficialDocument:
    """The parts of an NĐ 30 administrative document, as printed (NFC)."""

    co_quan: str
    """Tên cơ quan ban hành (bold, top left), e.g. "ỦY BAN NHÂN DÂN\nTỈNH THỬ NGHIỆM";
    a newline is where the printed name breaks."""
    so_ky_hieu: str
    """Số, ký hiệu without the label, e.g. "15/QĐ-UBND"."""
    dia_danh: str
    ngay: date
    ten_loai: str
    """Tên loại, e.g. "QUYẾT ĐỊNH"."""
    trich_yeu: str
    """Trích yếu nội dung, e.g. "Về việc ..."."""
    chuc_vu: str
    """Chức vụ of the signer, e.g. "CHỦ TỊCH"."""
    nguoi_ky: str
    """Full name of the signer."""
    co_quan_chu_quan: str = ""
    """Tên cơ quan chủ quản (regular, above the issuing agency), empty if none."""
    tham_quyen: str = ""
    """Authority line under the title, e.g. "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH ..."."""
    can_cu: tuple[str, ...] = ()
    """"Căn cứ ..." and "Theo đề nghị ..." lines (italic)."""
    mo_dau: str = ""
    """Centred heading before the body, e.g. "QUYẾT ĐỊNH:"."""
    body: tuple[str, ...] = ()
    noi_nhan: tuple[str, ...] = ()
    """Recipients ("- Như Điều 3;"), printed under "Nơi nhận:"."""
    quyen_han: str = ""
    """Authority prefix above the title, e.g. "TM. ỦY BAN NHÂN DÂN" (may be empty)."""

    @property
    def ten_co_quan(self) -> str:
        """The issuing agency's name on one line."""
        return " ".join(self.co_quan.split())

    @property
    def ngay_thang_nam(self) -> str:
        """"<địa danh>, ngày 05 tháng 3 năm 2026" (leading zero for days < 10, months 1–2)."""
        day = f"{self.ngay.day:02d}"
        month = f"{self.ngay.month:02d}" if self.ngay.month < 3 else str(self.ngay.month)
        return f"{self.dia_danh}, ngày {day} tháng {month} năm {self.ngay.year}"


@dataclass(frozen=True)
class TextLine:
    """One line of text drawn on a page (PDF points, origin bottom left)."""

    text: str
    x: float
    y: float
    style: str  # R, B, I or BI
    size: float
    align: str = "left"  # left or centre (x is then the centre)


@dataclass(frozen=True)
class Rule:
    x1: float
    x2: float
    y: float


@dataclass(frozen=True)
class Page:
    lines: tuple[TextLine, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(line.text for line in self.lines)


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: tuple[Page, ...]
    """What was drawn, page by page: the expected text layer."""


# --- fonts -------------------------------------------------------------------------------


@cache
def _font_names() -> dict[str, str]:
    """Register the serif family with reportlab once; map style → registered name."""
    files = _find_fonts()
    names: dict[str, str] = {}
    for style, path in files.items():
        name = f"KhoSerif-{style}"
        pdfmetrics.registerFont(TTFont(name, str(path)))
        names[style] = name
    return names


def _find_fonts() -> dict[str, Path]:
    for directory in FONT_DIRS:
        paths = {s: directory / f for s, f in _LIBERATION.items()}
        if all(p.is_file() for p in paths.values()):
            return paths
    paths = {s: _DEJAVU_DIR / f for s, f in _DEJAVU.items()}
    if all(p.is_file() for p in paths.values()):
        return paths
    raise ConfigError(
        "Không tìm thấy phông chữ có dấu tiếng Việt (cài gói fonts-liberation2).",
        code="FONT_MISSING",
        searched=[str(d) for d in (*FONT_DIRS, _DEJAVU_DIR)],
    )


@lru_cache(maxsize=65536)
def _width(text: str, style: str, size: float) -> float:
    """Width of ``text`` in points (remembered: the words of generated documents recur)."""
    return pdfmetrics.stringWidth(text, _font_names()[style], size)


def wrap(text: str, style: str, size: float, width: float, first_indent: float = 0.0
         ) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` points (the first line ``first_indent`` less).

    A newline in ``text`` is a hard line break.
    """
    if "\n" in text:
        head, _, tail = text.partition("\n")
        return wrap(head, style, size, width, first_indent) + wrap(tail, style, size, width)
    words = text.split()
    lines: list[str] = []
    current = ""
    limit = width - first_indent
    space = _width(" ", style, size)
    current_width = 0.0
    for word in words:
        word_width = _width(word, style, size)
        if current and current_width + space + word_width > limit:
            lines.append(current)
            current, current_width, limit = word, word_width, width
        elif current:
            current += " " + word
            current_width += space + word_width
        else:
            current, current_width = word, word_width
    if current:
        lines.append(current)
    return lines


# --- layout ------------------------------------------------------------------------------


@dataclass
class _Flow:
    """Cursor over pages; body text flows line by line onto new pages."""

    pages: list[tuple[list[TextLine], list[Rule]]] = field(default_factory=list)
    y: float = 0.0

    def __post_init__(self) -> None:
        self.new_page()

    def new_page(self) -> None:
        self.pages.append(([], []))
        self.y = PAGE_HEIGHT - MARGIN_TOP
        if len(self.pages) > 1:  # page numbers: top centre, none on page 1
            number = str(len(self.pages))
            self.pages[-1][0].append(
                TextLine(number, PAGE_WIDTH / 2, PAGE_HEIGHT - 12 * mm, "R", 13, "centre")
            )

    @property
    def page_index(self) -> int:
        return len(self.pages) - 1

    def room(self) -> float:
        return self.y - MARGIN_BOTTOM

    def line(self, text: str, style: str, size: float, x: float, align: str = "left") -> None:
        step = size * LEADING
        if self.room() < step:
            self.new_page()
        self.y -= step
        self.pages[-1][0].append(TextLine(text, x, self.y, style, size, align))

    def paragraph(self, text: str, style: str = "R", size: float = BODY_SIZE,
                  indent: float = INDENT, space_after: float = 3.0) -> None:
        for i, text_line in enumerate(wrap(text, style, size, TEXT_WIDTH, indent)):
            self.line(text_line, style, size, MARGIN_LEFT + (indent if i == 0 else 0))
        self.y -= space_after

    def centred(self, text: str, style: str, size: float, width: float = TEXT_WIDTH,
                centre: float = MARGIN_LEFT + TEXT_WIDTH / 2) -> None:
        for text_line in wrap(text, style, size, width):
            self.line(text_line, style, size, centre, "centre")

    def rule(self, centre: float, length: float, gap: float = 2.0) -> None:
        self.pages[-1][1].append(Rule(centre - length / 2, centre + length / 2, self.y - gap))

    def freeze(self) -> tuple[Page, ...]:
        return tuple(Page(tuple(lines), tuple(rules)) for lines, rules in self.pages)


def _column(texts: Sequence[tuple[str, str, float]], centre: float, width: float,
            top: float) -> tuple[list[TextLine], float]:
    """Centred lines in a header/closing column starting at ``top``; returns lines and bottom."""
    lines: list[TextLine] = []
    y = top
    for text, style, size in texts:
        for text_line in wrap(text, style, size, width):
            y -= size * LEADING
            lines.append(TextLine(text_line, centre, y, style, size, "centre"))
    return lines, y


def _header(flow: _Flow, doc: OfficialDocument) -> None:
    left_centre = MARGIN_LEFT + HEADER_COLUMN / 2
    right_width = TEXT_WIDTH - HEADER_COLUMN
    right_centre = MARGIN_LEFT + HEADER_COLUMN + right_width / 2
    top = flow.y
    left_texts: list[tuple[str, str, float]] = []
    if doc.co_quan_chu_quan:
        left_texts.append((doc.co_quan_chu_quan, "R", 12.5))
    left_texts.append((doc.co_quan, "B", 12.5))
    left, left_bottom = _column(left_texts, left_centre, HEADER_COLUMN, top)
    right, right_bottom = _column(
        [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "B", 12),
         ("Độc lập - Tự do - Hạnh phúc", "B", 13.5)],
        right_centre, right_width, top,
    )
    page_lines, rules = flow.pages[-1]
    page_lines.extend(left + right)
    rules.append(Rule(left_centre - 15 * mm, left_centre + 15 * mm, left_bottom - 3))
    motto_width = _width("Độc lập - Tự do - Hạnh phúc", "B", 13.5)
    rules.append(Rule(right_centre - motto_width / 2, right_centre + motto_width / 2,
                      right_bottom - 3))
    y = min(left_bottom, right_bottom) - 8
    page_lines.append(TextLine(f"Số: {doc.so_ky_hieu}", left_centre, y - 13 * LEADING, "R", 13,
                               "centre"))
    page_lines.append(TextLine(doc.ngay_thang_nam, right_centre, y - 13 * LEADING, "I", 13,
                               "centre"))
    flow.y = y - 13 * LEADING - 16

    flow.centred(doc.ten_loai, "B", 14)
    flow.centred(doc.trich_yeu, "B", 14, width=TEXT_WIDTH * 0.8)
    flow.rule(MARGIN_LEFT + TEXT_WIDTH / 2, 40 * mm)
    flow.y -= 14
    if doc.tham_quyen:
        flow.centred(doc.tham_quyen, "B", 14, width=TEXT_WIDTH * 0.9)
        flow.y -= 8
    for text in doc.can_cu:
        flow.paragraph(text, "I")
    if doc.mo_dau:
        flow.y -= 4
        flow.centred(doc.mo_dau, "B", 14)
        flow.y -= 4


def _closing_columns(doc: OfficialDocument, top: float
                     ) -> tuple[list[TextLine], float]:
    left_width = HEADER_COLUMN
    right_width = TEXT_WIDTH - left_width
    right_centre = MARGIN_LEFT + left_width + right_width / 2
    lines: list[TextLine] = []
    y = top
    if doc.noi_nhan:
        y -= 12 * LEADING
        lines.append(TextLine("Nơi nhận:", MARGIN_LEFT, y, "BI", 12))
        for item in doc.noi_nhan:
            for text_line in wrap(item, "R", 11, left_width):
                y -= 11 * 1.15
                lines.append(TextLine(text_line, MARGIN_LEFT, y, "R", 11))
    right_texts = [(t, "B", 13.5) for t in (doc.quyen_han, doc.chuc_vu) if t]
    right, right_y = _column(right_texts, right_centre, right_width, top)
    right_y -= SIGNATURE_GAP + 13.5 * LEADING
    right.append(TextLine(doc.nguoi_ky, right_centre, right_y, "B", 13.5, "centre"))
    return lines + right, min(y, right_y)


def _closing_height(doc: OfficialDocument) -> float:
    _, bottom = _closing_columns(doc, 0.0)
    return -bottom + 6


def _closing(flow: _Flow, doc: OfficialDocument) -> None:
    flow.y -= 6
    if flow.room() < _closing_height(doc):
        flow.new_page()
    lines, bottom = _closing_columns(doc, flow.y)
    flow.pages[-1][0].extend(lines)
    flow.y = bottom


def layout(doc: OfficialDocument) -> tuple[Page, ...]:
    """Where every line of ``doc`` goes (A4, NĐ 30 margins); pure, no PDF written."""
    flow = _Flow()
    _header(flow, doc)
    for text in doc.body:
        flow.paragraph(text)
    _closing(flow, doc)
    return flow.freeze()


def render_pdf(doc: OfficialDocument, *, title: str | None = None) -> RenderedPdf:
    """Draw ``doc`` into a PDF (reportlab, fonts embedded as subsets); deterministic bytes."""
    names = _font_names()
    pages = layout(doc)
    out = BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    pdf.setTitle(title or f"{doc.ten_loai.capitalize()} {doc.so_ky_hieu}")
    pdf.setAuthor(doc.ten_co_quan)
    pdf.setSubject(doc.trich_yeu)
    pdf.setCreator("Kho")
    for page in pages:
        for line in page.lines:
            pdf.setFont(names[line.style], line.size)
            if line.align == "centre":
                pdf.drawCentredString(line.x, line.y, line.text)
            else:
                pdf.drawString(line.x, line.y, line.text)
        pdf.setLineWidth(0.6)
        for rule in page.rules:
            pdf.line(rule.x1, rule.y, rule.x2, rule.y)
        pdf.showPage()
    pdf.save()
    return RenderedPdf(out.getvalue(), pages)


# --- sample documents --------------------------------------------------------------------

_TOPICS = (
    "phê duyệt Kế hoạch chuyển đổi số năm {year} của Ủy ban nhân dân tỉnh",
    "ban hành Quy chế quản lý văn bản điện tử và hồ sơ điện tử",
    "thành lập Tổ công tác rà soát thủ tục hành chính lĩnh vực đất đai",
    "phân bổ kinh phí bảo đảm an toàn thông tin mạng năm {year}",
    "giao chỉ tiêu lưu trữ hồ sơ điện tử cho các sở, ban, ngành",
    "công nhận xã đạt chuẩn nông thôn mới nâng cao năm {year}",
    "khen thưởng tập thể, cá nhân có thành tích xuất sắc trong phòng, chống thiên tai",
    "điều chỉnh dự toán ngân sách cho Trung tâm Phục vụ hành chính công",
)
_CAN_CU = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 02 năm 2025;",
    "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác "
    "văn thư;",
    "Căn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024;",
    "Căn cứ Luật Giao dịch điện tử ngày 22 tháng 6 năm 2023;",
)
_PROPOSERS = ("Giám đốc Sở Nội vụ", "Giám đốc Sở Khoa học và Công nghệ",
              "Giám đốc Sở Tài chính", "Chánh Văn phòng Ủy ban nhân dân tỉnh")
_SENTENCES = (
    "Các cơ quan, đơn vị có trách nhiệm tổ chức thực hiện đúng tiến độ, bảo đảm chất lượng "
    "và hiệu quả.",
    "Văn thư cơ quan kiểm tra thể thức, kỹ thuật trình bày và ký số của cơ quan trước khi "
    "phát hành văn bản điện tử.",
    "Hồ sơ điện tử được lập, quản lý và nộp lưu vào Lưu trữ lịch sử theo đúng thời hạn quy "
    "định.",
    "Người đứng đầu cơ quan chịu trách nhiệm về tính xác thực và toàn vẹn của dữ liệu trong "
    "hệ thống.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành.",
    "Sở Tài chính hướng dẫn thủ tục thanh toán, quyết toán kinh phí theo quy định.",
    "Định kỳ hằng quý, các đơn vị báo cáo kết quả thực hiện về Ủy ban nhân dân tỉnh.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, kịp thời phản ánh để xem xét, "
    "giải quyết.",
    "Chữ ký số chuyên dùng công vụ được sử dụng cho văn bản điện tử của cơ quan nhà nước.",
    "Dữ liệu đặc tả của văn bản được cập nhật đầy đủ, chính xác vào Hệ thống quản lý tài liệu "
    "điện tử.",
    "Thủ trưởng các sở, ban, ngành và Chủ tịch Ủy ban nhân dân cấp huyện chỉ đạo triển khai "
    "thống nhất.",
    "Việc sao y, sao lục, trích sao văn bản điện tử thực hiện theo Phụ lục I Nghị định số "
    "30/2020/NĐ-CP.",
)


def sample_document(
    seed: int,
    pages: int = 3,
    *,
    nguoi_ky: str = "Nguyễn Văn An",
    chuc_vu: str = "CHỦ TỊCH",
    quyen_han: str = "TM. ỦY BAN NHÂN DÂN",
    co_quan: str = "ỦY BAN NHÂN DÂN\nTỈNH THỬ NGHIỆM",
    dia_danh: str = "Thử Nghiệm",
    ngay: date = date(2026, 3, 5),
) -> OfficialDocument:
    """A Quyết định whose text varies with ``seed`` and whose layout fills exactly ``pages``."""
    if pages < 1:
        raise ValueError("pages must be >= 1")
    rng = random.Random(seed)
    number = 1 + seed % 999
    topic = rng.choice(_TOPICS).format(year=ngay.year)
    doc = OfficialDocument(
        co_quan=co_quan,
        so_ky_hieu=f"{format_number(number)}/QĐ-UBND",
        dia_danh=dia_danh,
        ngay=ngay,
        ten_loai="QUYẾT ĐỊNH",
        trich_yeu=f"Về việc {topic}",
        tham_quyen=f"CHỦ TỊCH {' '.join(co_quan.split())}",
        can_cu=(*rng.sample(_CAN_CU, 3), f"Theo đề nghị của {rng.choice(_PROPOSERS)}."),
        mo_dau="QUYẾT ĐỊNH:",
        noi_nhan=("- Như Điều 3;", "- Bộ Nội vụ;", "- Thường trực Tỉnh ủy;",
                  "- Các Phó Chủ tịch UBND tỉnh;", "- Lưu: VT, NC."),
        quyen_han=quyen_han,
        chuc_vu=chuc_vu,
        nguoi_ky=nguoi_ky,
    )
    body = _fill(doc, pages, _paragraphs(rng, topic))
    return replace(doc, body=tuple(body))


def _paragraphs(rng: random.Random, topic: str) -> Iterator[str]:
    yield f"Điều 1. {topic[0].upper()}{topic[1:]} (chi tiết tại các điều sau)."
    article = 2
    while True:
        if rng.random() < 0.3:
            yield f"Điều {article}. " + " ".join(rng.sample(_SENTENCES, 2))
            article += 1
        else:
            yield " ".join(rng.sample(_SENTENCES, rng.randint(1, 3)))


def _fill(doc: OfficialDocument, pages: int, source: Iterable[str]) -> list[str]:
    """Take paragraphs from ``source`` while the closing block still fits on page ``pages``."""
    flow = _Flow()
    _header(flow, doc)
    closing = _closing_height(doc) + 6
    body: list[str] = []
    for attempt, text in enumerate(source):
        if attempt > 10_000:
            raise ValueError(f"cannot fill exactly {pages} pages")
        lines = wrap(text, "R", BODY_SIZE, TEXT_WIDTH, INDENT)
        step = BODY_SIZE * LEADING
        # simulate the paragraph on a copy of the cursor
        page, y = flow.page_index, flow.y
        for _ in lines:
            if y - MARGIN_BOTTOM < step:
                page, y = page + 1, PAGE_HEIGHT - MARGIN_TOP
            y -= step
        y -= 3.0
        if page > pages - 1 or (page == pages - 1 and y - MARGIN_BOTTOM < closing):
            if flow.page_index == pages - 1:
                break
            continue  # too long to end here; try the next paragraph
        flow.paragraph(text)
        body.append(text)
    return body

