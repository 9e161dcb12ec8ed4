"""Metadata of văn bản đi, văn bản đến and hồ sơ (NĐ 30/2020/NĐ-CP Phụ lục VI, Phần II).

Pure: parsing and validation need no store. Each field has its Phụ lục VI name, its type and
its length; every kind of error has its own code and a Vietnamese message naming the field.
The agency catalogue check (unknown mã định danh) takes a predicate so it stays pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from kho.digits import ascii_int
from kho.errors import FieldError, ValidationFailed
from kho.textkey import describe, foreign_letters
from repository.formats import as_dict, field_names
from repository.vocabulary import (
    Direction,
    Secrecy,
    Urgency,
    blank,
    canonical_type,
    has_hidden_characters,
    is_code_notation,
    is_code_number,
    is_organ_id,
    nfc,
    pad_code_number,
    parse_file_code,
)

# Field labels for messages (Vietnamese, as in Phụ lục VI).
LABELS: dict[str, str] = {
    "type_name": "Tên loại văn bản",
    "code_number": "Số của văn bản",
    "code_notation": "Ký hiệu của văn bản",
    "issued_date": "Ngày, tháng, năm văn bản",
    "organ_name": "Tên cơ quan, tổ chức ban hành văn bản",
    "organ_id": "Mã định danh của cơ quan, tổ chức ban hành",
    "subject": "Trích yếu nội dung",
    "language": "Ngôn ngữ",
    "page_amount": "Số trang của văn bản",
    "description": "Ghi chú",
    "signer_position": "Chức vụ của người ký văn bản",
    "signer_full_name": "Họ và tên người ký văn bản",
    "recipients": "Nơi nhận",
    "urgency": "Mức độ khẩn",
    "secrecy": "Độ mật",
    "issued_amount": "Số lượng bản phát hành",
    "due_date": "Hạn trả lời / thời hạn giải quyết",
    "arrival_date": "Ngày, tháng, năm đến",
    "to_places": "Đơn vị hoặc người nhận",
    "trace_header_list": "Ý kiến phân phối, chỉ đạo, trạng thái xử lý",
    "unit": "Đơn vị quản lý",
    "series": "Sổ đăng ký",
    # hồ sơ
    "file_notation": "Số và ký hiệu hồ sơ",
    "title": "Tiêu đề hồ sơ",
    "maintenance": "Thời hạn bảo quản",
    "rights": "Chế độ sử dụng",
    "creator": "Người lập hồ sơ",
    "start_date": "Thời gian bắt đầu",
    "end_date": "Thời gian kết thúc",
    "file_catalog": "Năm hình thành hồ sơ",
}

# Lengths from Phụ lục VI (organ ids sized for QĐ 20/2020: 35).
MAX_LENGTH: dict[str, int] = {
    "type_name": 100,
    "code_number": 11,
    "code_notation": 30,
    "organ_name": 200,
    "organ_id": 35,
    "subject": 500,
    "language": 30,
    "description": 500,
    "signer_position": 100,
    "signer_full_name": 50,
    "to_places": 1000,
    "unit": 100,
    "file_notation": 20,
    "title": 500,
    "maintenance": 30,
    "rights": 30,
    "creator": 30,
}
MAX_DIGITS: dict[str, int] = {"page_amount": 3, "issued_amount": 3}


@dataclass(frozen=True)
class Recipient:
    organ_name: str
    organ_id: str | None = None


@dataclass(frozen=True)
class DocumentMetadata:
    """Văn bản đi / văn bản đến (Phụ lục VI, Phần II, I and II)."""

    direction: Direction
    type_name: str
    code_notation: str
    organ_name: str
    subject: str
    signer_position: str
    signer_full_name: str
    issued_date: date | None = None
    code_number: str | None = None
    organ_id: str | None = None
    language: str = "vi"
    page_amount: int | None = None
    description: str | None = None
    recipients: tuple[Recipient, ...] = ()
    urgency: Urgency = Urgency.THUONG
    secrecy: Secrecy = Secrecy.THUONG
    issued_amount: int | None = None
    due_date: date | None = None
    # văn bản đến only
    arrival_date: date | None = None
    to_places: str | None = None
    trace_header_list: str | None = None
    # Kho's own: the unit that owns the record (access scoping)
    unit: str | None = None

    @property
    def so_ky_hieu(self) -> str | None:
        if not self.code_number:
            return None
        return f"{self.code_number}/{self.code_notation}"

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


@dataclass(frozen=True)
class FileMetadata:
    """Hồ sơ (Phụ lục VI, Phần II, III)."""

    organ_id: str
    file_catalog: int
    file_notation: str
    title: str
    maintenance: str
    creator: str
    start_date: date
    end_date: date | None = None
    rights: str = "Hạn chế"
    language: str = "vi"
    description: str | None = None
    unit: str | None = None

    @property
    def file_code(self) -> str:
        return f"{self.organ_id}.{self.file_catalog}.{self.file_notation}"

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


_JSON_ATOMS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """``_to_jsonable(as_dict(value))`` in one pass (issue 14, m32: a record's metadata is
    encoded for every version sealed): the same values of the same types, without the deep copy
    of each date and enum that :func:`_to_jsonable` turns into a string or a number at once.
    ``tests/repository/test_as_dict.py`` holds the two equal."""
    if type(value) in _JSON_ATOMS:
        return value
    names = field_names(value)
    if names is not None:
        return {name: _jsonable(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {as_dict(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | Direction | Urgency | Secrecy):
        return _scalar(value)
    return _to_jsonable(as_dict(value))


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    """A date as ISO text, a direction as its value, an urgency or secrecy level as its number;
    anything else as it is (the one rule of :func:`_jsonable` and :func:`_to_jsonable`)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Direction):
        return value.value
    if isinstance(value, Urgency | Secrecy):
        return int(value)
    return value


# --- parsing helpers ----------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d")


_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(value: Any) -> date | None:
    """Accepts ``date``, ``YYYY-MM-DD``, ``DD/MM/YYYY``; returns None for empty; raises
    ValueError for anything else (including impossible dates such as 31/02/2026)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if _ISO_DATE_RE.fullmatch(text):
        # How every stored date is written: read in C (strptime imports its own module and
        # parses in Python; every record read in a command parses its dates). Same result.
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            raise ValueError(value) from None
        if parsed.year < 1900 or parsed.year > 2200:
            raise ValueError(value)
        return parsed
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if parsed.year < 1900 or parsed.year > 2200:
            raise ValueError(value)
        return parsed
    raise ValueError(value)


# ASCII digits only: "٣ năm" or "１ năm" is refused, never stored as "03 năm" (kho.digits).
_MAINTENANCE_RE = re.compile(r"^(?:0?[1-9]|[1-9][0-9])\s*năm$", re.IGNORECASE)
MAINTENANCE_PERMANENT = "Vĩnh viễn"
MAINTENANCE_UNTIL_SUPERSEDED = "Đến khi văn bản hết hiệu lực"


def normalize_maintenance(value: str) -> str | None:
    """``Vĩnh viễn``, ``N năm`` (1–99), or ``Đến khi văn bản hết hiệu lực``; None if invalid."""
    text = " ".join(nfc(value).split())
    folded = text.casefold()
    if folded == MAINTENANCE_PERMANENT.casefold():
        return MAINTENANCE_PERMANENT
    if folded == MAINTENANCE_UNTIL_SUPERSEDED.casefold():
        return MAINTENANCE_UNTIL_SUPERSEDED
    if _MAINTENANCE_RE.match(text):
        years = int(text.split()[0]) if " " in text else int(text[:-3])
        return f"{years:02d} năm"
    return None


class _Collector:
    """Collects field errors while reading a raw mapping."""

    def __init__(self, raw: Mapping[str, Any], stored: Mapping[str, Any] | None = None) -> None:
        self.raw = raw
        self.stored = stored or {}
        """The record's stored metadata when ``raw`` is its update: a text kept exactly as stored
        is not judged for hidden characters again (an earlier Kho stored C1 controls and bidi
        overrides; refusing them would make the record unchangeable, a frozen field for ever)."""
        self.errors: list[FieldError] = []

    def fail(self, name: str, code: str, message: str) -> None:
        self.errors.append(FieldError(field=name, code=code, message=message))

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        label = LABELS.get(name, name)
        # The one rule of a text that shows nothing (a zero-width space passed ``str.strip``: a
        # hồ sơ titled U+200B was made from the files page, u21); a text kept exactly as stored
        # is not judged again (a record stored before this rule stays correctable).
        kept = isinstance(value, str) and value.strip() != "" and self.stored.get(name) == value
        if value is None or (isinstance(value, str) and blank(value) and not kept):
            if required:
                self.fail(name, "FIELD_REQUIRED", f"Trường “{label}” là bắt buộc.")
            return None
        if not isinstance(value, str):
            self.fail(name, "FIELD_NOT_TEXT", f"Trường “{label}” phải là chuỗi ký tự.")
            return None
        if has_hidden_characters(value) and self.stored.get(name) != value:
            self.fail(
                name,
                "FIELD_CONTROL_CHARS",
                f"Trường “{label}” chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản không hợp lệ.",
            )
            return None
        text = nfc(value).strip()
        limit = MAX_LENGTH.get(name)
        if limit is not None and len(text) > limit:
            self.fail(
                name,
                "FIELD_TOO_LONG",
                f"Trường “{label}” dài {len(text)} ký tự, vượt quá giới hạn {limit} ký tự.",
            )
            return None
        return text

    def code(self, name: str, text: str) -> None:
        """A code a person types (ký hiệu) holds only letters of the Vietnamese alphabet, ASCII
        digits and punctuation: a Cyrillic ``В``, an eth ``Ð`` or a full-width ``Ｑ`` prints
        like the letter it imitates, and two different ký hiệu would read the same in the
        register. A code kept exactly as stored is not judged again (stored before this rule)."""
        foreign = foreign_letters(text)
        if foreign and self.stored.get(name) != text:
            label = LABELS.get(name, name)
            self.fail(
                name,
                "CODE_LOOKALIKE_CHARS",
                f"Trường “{label}” có ký tự không thuộc bảng chữ cái tiếng Việt ({describe(foreign)}):"
                " chữ Kirin, Hy Lạp, chữ toàn độ rộng hoặc ký tự trông giống chữ Việt. Hãy gõ lại"
                " bằng chữ cái tiếng Việt và chữ số 0–9.",
            )

    def date(self, name: str, *, required: bool = False) -> date | None:
        label = LABELS.get(name, name)
        value = self.raw.get(name)
        try:
            parsed = parse_date(value)
        except ValueError:
            self.fail(
                name,
                "FIELD_INVALID_DATE",
                f"Trường “{label}” không phải ngày hợp lệ: “{value}” (dùng dạng YYYY-MM-DD hoặc DD/MM/YYYY).",
            )
            return None
        if parsed is None and required:
            self.fail(name, "FIELD_REQUIRED", f"Trường “{label}” là bắt buộc.")
        return parsed

    def number(self, name: str, *, required: bool = False) -> int | None:
        label = LABELS.get(name, name)
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "FIELD_REQUIRED", f"Trường “{label}” là bắt buộc.")
            return None
        # Text: ASCII digits only (ascii_int), up to 100 of them (longer is told by the limit below).
        number = value if isinstance(value, int) else None
        if isinstance(value, str):
            number = ascii_int(value.strip(), max_digits=100)
        if isinstance(value, bool) or number is None:
            self.fail(name, "FIELD_NOT_NUMBER", f"Trường “{label}” phải là số nguyên không âm.")
            return None
        digits = MAX_DIGITS.get(name)
        if number < 0 or (digits is not None and len(str(number)) > digits):
            self.fail(
                name,
                "FIELD_OUT_OF_RANGE",
                f"Trường “{label}” phải nằm trong khoảng 0–{10 ** (digits or 9) - 1}.",
            )
            return None
        return number

    def enum(self, name: str, enum: type[Urgency] | type[Secrecy], code: str) -> Any:
        label = LABELS.get(name, name)
        value = self.raw.get(name)
        if value is None or value == "":
            return enum(0)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return enum(value)
            except ValueError:
                pass
        if isinstance(value, str):
            folded = nfc(value).strip().casefold().replace("hoả", "hỏa")
            for member in enum:
                if folded in (member.label.casefold(), member.name.casefold(), str(int(member))):
                    return member
        allowed = ", ".join(f"{int(m)} = {m.label}" for m in enum)
        self.fail(name, code, f"Trường “{label}” không hợp lệ: “{value}”. Giá trị cho phép: {allowed}.")
        return enum(0)

    def organ_id(self, name: str, known: Callable[[str], bool] | None) -> str | None:
        text = self.text(name)
        if text is None:
            return None
        label = LABELS.get(name, name)
        if not is_organ_id(text):
            self.fail(
                name,
                "ORGAN_ID_INVALID",
                f"{label} “{text}” sai định dạng: tối đa 35 ký tự gồm chữ in hoa A–Z, chữ số và"
                " dấu chấm ngăn cách các nhóm (QĐ 20/2020/QĐ-TTg), ví dụ 000.00.18.H40.",
            )
            return None
        if known is not None and not known(text):
            self.fail(
                name,
                "ORGAN_ID_UNKNOWN",
                f"{label} “{text}” không có trong danh mục cơ quan, tổ chức của hệ thống.",
            )
            return None
        return text


def parse_document(
    raw: Mapping[str, Any],
    direction: Direction | str,
    *,
    known_organ: Callable[[str], bool] | None = None,
    numbered_by_register: bool | None = None,
    stored: Mapping[str, Any] | None = None,
) -> DocumentMetadata:
    """Validate raw văn bản metadata; raise :class:`ValidationFailed` listing every error.
    ``stored``: the record's metadata (``to_dict``) when ``raw`` is its update.

    For văn bản đi the số is allocated by the register (``code_number`` must be absent unless
    ``numbered_by_register`` is False); for văn bản đến it is the sender's number and required.
    """
    direction = Direction(direction)
    if numbered_by_register is None:
        numbered_by_register = direction is Direction.DI
    c = _Collector(raw, stored)
    unknown = set(raw) - {f.name for f in fields(DocumentMetadata)} - {"series"}
    for name in sorted(unknown):
        c.fail(name, "FIELD_UNKNOWN", f"Trường “{name}” không thuộc dữ liệu đặc tả văn bản.")

    type_raw = c.text("type_name", required=True)
    type_name = None
    if type_raw is not None:
        type_name = canonical_type(type_raw)
        if type_name is None:
            c.fail(
                "type_name",
                "DOCUMENT_TYPE_UNKNOWN",
                f"Tên loại văn bản “{type_raw}” không thuộc danh mục loại văn bản"
                " (NĐ 30/2020/NĐ-CP Điều 7, Phụ lục III).",
            )

    code_number = c.text("code_number", required=not numbered_by_register)
    if code_number is not None and not numbered_by_register:
        code_number = pad_code_number(code_number)
    if code_number is not None:
        if numbered_by_register:
            c.fail(
                "code_number",
                "CODE_NUMBER_ASSIGNED_BY_REGISTER",
                "Số của văn bản đi do hệ thống cấp khi đăng ký, không nhập tay.",
            )
        elif not is_code_number(code_number) and c.stored.get("code_number") != code_number:
            c.fail(
                "code_number",
                "CODE_NUMBER_INVALID",
                f"Số của văn bản “{code_number}” không hợp lệ: chỉ gồm chữ số Ả Rập, số nhỏ hơn"
                " 10 phải có số 0 đứng trước (01…09).",
            )
    code_notation = c.text("code_notation", required=True)
    if code_notation is not None and not is_code_notation(code_notation):
        c.fail(
            "code_notation",
            "CODE_NOTATION_INVALID",
            f"Ký hiệu “{code_notation}” không hợp lệ: các nhóm chữ viết tắt nối bằng dấu gạch"
            " nối, không có khoảng trắng, bắt đầu bằng chữ in hoa (ví dụ QĐ-UBND, UBND-VP).",
        )
    elif code_notation is not None:
        c.code("code_notation", code_notation)

    issued_date = c.date("issued_date", required=direction is Direction.DEN)
    organ_name = c.text("organ_name", required=True)
    organ_id = c.organ_id("organ_id", known_organ)
    subject = c.text("subject", required=True)
    language = c.text("language") or "vi"
    page_amount = c.number("page_amount")
    description = c.text("description")
    signer_position = c.text("signer_position", required=True)
    signer_full_name = c.text("signer_full_name", required=True)

    recipients: list[Recipient] = []
    raw_recipients = raw.get("recipients") or []
    stored_recipients = list((stored or {}).get("recipients") or [])
    if isinstance(raw_recipients, str):
        raw_recipients = [{"organ_name": part} for part in raw_recipients.split(";") if part.strip()]
    if not isinstance(raw_recipients, list | tuple):
        c.fail("recipients", "FIELD_NOT_LIST", "Trường “Nơi nhận” phải là danh sách.")
        raw_recipients = []
    for i, item in enumerate(raw_recipients):
        if isinstance(item, str):
            item = {"organ_name": item}
        if not isinstance(item, Mapping):
            c.fail(f"recipients[{i}]", "FIELD_NOT_LIST", "Mỗi nơi nhận phải có tên cơ quan.")
            continue
        sub = _Collector(item, item if item in stored_recipients else None)
        name = sub.text("organ_name", required=True)
        rid = sub.organ_id("organ_id", known_organ)
        for err in sub.errors:
            c.errors.append(replace(err, field=f"recipients[{i}].{err.field}"))
        if name:
            recipients.append(Recipient(organ_name=name, organ_id=rid))
    if direction is Direction.DI and not recipients and "recipients" not in unknown:
        c.fail("recipients", "FIELD_REQUIRED", "Văn bản đi phải có ít nhất một nơi nhận.")

    urgency = c.enum("urgency", Urgency, "URGENCY_INVALID")
    secrecy = c.enum("secrecy", Secrecy, "SECRECY_INVALID")
    issued_amount = c.number("issued_amount")
    due_date = c.date("due_date")
    arrival_date = c.date("arrival_date")
    to_places = c.text("to_places")
    trace = c.text("trace_header_list")
    unit = c.text("unit")
    if direction is Direction.DI and (arrival_date or to_places or trace):
        c.fail(
            "arrival_date",
            "FIELD_NOT_FOR_DIRECTION",
            "Ngày đến, đơn vị nhận và ý kiến phân phối chỉ dùng cho văn bản đến.",
        )
    if issued_date and arrival_date and arrival_date < issued_date:
        c.fail(
            "arrival_date",
            "DATE_ORDER_INVALID",
            "Ngày đến không thể trước ngày ban hành văn bản.",
        )
    if c.errors:
        raise ValidationFailed(c.errors)
    assert type_name and code_notation and organ_name and subject
    assert signer_position and signer_full_name
    return DocumentMetadata(
        direction=direction,
        type_name=type_name,
        code_number=code_number,
        code_notation=code_notation,
        issued_date=issued_date,
        organ_name=organ_name,
        organ_id=organ_id,
        subject=subject,
        language=language,
        page_amount=page_amount,
        description=description,
        signer_position=signer_position,
        signer_full_name=signer_full_name,
        recipients=tuple(recipients),
        urgency=urgency,
        secrecy=secrecy,
        issued_amount=issued_amount,
        due_date=due_date,
        arrival_date=arrival_date,
        to_places=to_places,
        trace_header_list=trace,
        unit=unit,
    )


_FILE_NOTATION_RE = re.compile(r"^[0-9]{2,}(?:\.[A-ZĐ0-9]+)*$")  # ASCII: "０1.TH" prints like "01.TH"


def parse_file(
    raw: Mapping[str, Any],
    *,
    default_organ_id: str,
    known_organ: Callable[[str], bool] | None = None,
    stored: Mapping[str, Any] | None = None,
) -> FileMetadata:
    """Validate raw hồ sơ metadata (fields 1.3, 2, 3, 5 and 7 are required: NĐ 30 Điều 29 k2 c).

    ``file_code`` (``000.00.18.H40.2011.01.TH``) may be given instead of its three parts.
    """
    raw = dict(raw)
    c = _Collector(raw, stored)
    unknown = set(raw) - {f.name for f in fields(FileMetadata)} - {"file_code"}
    for name in sorted(unknown):
        c.fail(name, "FIELD_UNKNOWN", f"Trường “{name}” không thuộc dữ liệu đặc tả hồ sơ.")
    year_from_code: int | None = None
    if raw.get("file_code"):
        parsed = parse_file_code(str(raw["file_code"]))
        if parsed is None:
            c.fail(
                "file_code",
                "FILE_CODE_INVALID",
                f"Mã hồ sơ “{raw['file_code']}” sai định dạng: <mã định danh cơ quan>.<năm>.<số và"
                " ký hiệu hồ sơ>, ví dụ 000.00.18.H40.2011.01.TH.",
            )
        else:
            raw.setdefault("organ_id", parsed.organ_id)
            raw.setdefault("file_notation", parsed.notation)
            year_from_code = parsed.year
    organ_id = c.organ_id("organ_id", known_organ) if raw.get("organ_id") else default_organ_id
    notation = c.text("file_notation", required=True)
    if (
        notation is not None
        and not _FILE_NOTATION_RE.match(notation)
        and c.stored.get("file_notation") != notation  # kept as stored before digits were ASCII
    ):
        c.fail(
            "file_notation",
            "FILE_NOTATION_INVALID",
            f"Số và ký hiệu hồ sơ “{notation}” không hợp lệ: số thứ tự (01, 02…) và chữ viết tắt"
            " đề mục lớn nối bằng dấu chấm, ví dụ 01.TCCB.",
        )
    title = c.text("title", required=True)
    maintenance_raw = c.text("maintenance", required=True)
    maintenance = None
    if maintenance_raw is not None:
        maintenance = normalize_maintenance(maintenance_raw)
        if maintenance is None:
            c.fail(
                "maintenance",
                "MAINTENANCE_INVALID",
                f"Thời hạn bảo quản “{maintenance_raw}” không hợp lệ: “Vĩnh viễn”, số năm (ví dụ"
                " “20 năm”) hoặc “Đến khi văn bản hết hiệu lực”.",
            )
    creator = c.text("creator", required=True)
    start_date = c.date("start_date", required=True)
    end_date = c.date("end_date")
    if start_date and end_date and end_date < start_date:
        c.fail(
            "end_date",
            "DATE_ORDER_INVALID",
            "Thời gian kết thúc không thể trước thời gian bắt đầu.",
        )
    rights = c.text("rights") or "Hạn chế"
    language = c.text("language") or "vi"
    description = c.text("description")
    unit = c.text("unit")
    file_catalog = c.number("file_catalog")
    if file_catalog is None:
        file_catalog = year_from_code or (start_date.year if start_date else None)
    if file_catalog is not None and not 1900 <= file_catalog <= 2200:
        c.fail("file_catalog", "FIELD_OUT_OF_RANGE", "Năm hình thành hồ sơ không hợp lệ.")
    if c.errors:
        raise ValidationFailed(c.errors)
    assert notation and title and maintenance and creator and start_date and organ_id
    assert file_catalog is not None
    return FileMetadata(
        organ_id=organ_id,
        file_catalog=file_catalog,
        file_notation=notation,
        title=title,
        maintenance=maintenance,
        creator=creator,
        start_date=start_date,
        end_date=end_date,
        rights=rights,
        language=language,
        description=description,
        unit=unit,
    )


def document_from_dict(data: Mapping[str, Any]) -> DocumentMetadata:
    """Rebuild stored (already valid) metadata without re-validating."""
    values = dict(data)
    values["direction"] = Direction(values["direction"])
    values["urgency"] = Urgency(values.get("urgency", 0))
    values["secrecy"] = Secrecy(values.get("secrecy", 0))
    values["recipients"] = tuple(Recipient(**r) for r in values.get("recipients", ()))
    for name in ("issued_date", "due_date", "arrival_date"):
        values[name] = parse_date(values.get(name))
    return DocumentMetadata(**values)


def file_from_dict(data: Mapping[str, Any]) -> FileMetadata:
    values = dict(data)
    for name in ("start_date", "end_date"):
        values[name] = parse_date(values.get(name))
    return FileMetadata(**values)
