"""Checking a package that arrives (an imported SIP): safe extraction, then the same checks as
an export — every METS checksum and size, then the independent E-ARK validator.

Refused with a code, never a traceback: ``SIP_NOT_ZIP``, ``SIP_UNSAFE_PATH`` (absolute paths,
``..``, links: zip-slip), ``SIP_UNSAFE_NAME`` (control or invisible characters, not NFC),
``SIP_DUPLICATE_NAME`` (two entries that extract to the same file, or differ only in case),
``SIP_TOO_LARGE`` (total, per file, entry count, compression ratio), ``SIP_ENCRYPTED`` (an entry
behind a password), ``SIP_HIDDEN_ENTRY`` (a local entry the central directory does not name),
``SIP_LAYOUT`` (not one folder at the top), ``SIP_XML_UNSAFE`` (a DTD or entity in any XML file),
``SIP_XML_INVALID`` (an XML file that is not well-formed), ``SIP_METS_MISSING``, ``SIP_METS_INVALID``,
``SIP_CHECKSUM_MISMATCH``, ``SIP_FILE_MISSING``, ``SIP_FILE_UNLISTED`` (a file no METS names),
``SIP_FILE_LISTED_TWICE`` (a file the METS name more than once: each listing is hashed again),
``SIP_UNSAFE_TEXT`` (a METS value with a control or invisible character, or not NFC),
``SIP_METS_REFERENCE`` (a METS ID reference, or a pointer to a representation, that names nothing),
``SIP_REFERENCE_AMBIGUOUS`` (a METS href with a percent escape, which a URI reader decodes),
``SIP_DATE_IN_FUTURE`` (a PREMIS event or METS date later than now),
``SIP_INVALID`` (the validator), ``SIP_SIGNATURE_INVALID`` (a PDF whose signature fails: changed
after signing, or broken), ``SIP_TIME_LIMIT`` (the whole check took longer than
``KHO_SIP_TIME_LIMIT``), ``SIP_REPLAYED`` and ``SIP_RESENT`` (a package accepted before:
:mod:`retention.sip_replay`).

Every PDF of the package is verified with the verification every document of Kho gets (ingest's
signature step, :class:`PackageChecks`): the package's own checksums say only that the files are
what the sender listed, and a sender who changes a signed PDF recomputes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from kho.files import FILE, FOLDER, LINK, kind
from kho.process import CLOCK_SKEW_SECONDS
from kho.scratch import working_folder
from kho.sentences import sentences
from kho.xmltext import NOT_IN_XML, code_point
from kho.zips import (
    DAMAGED_ENTRY_ERRORS,
    READABLE_METHODS,
    ZipNameNotUtf8,
    entries_at_most,
    hidden_local_entry,
    local_extra,
    open_zip,
    unicode_paths,
)
from repository.policy import Action
from repository.records import Actor, Repository
from retention.sip import METS_NS, PREMIS_NS, XLINK_NS, SipError, ValidationResult, validate_with_eark

MAX_TOTAL_BYTES = 2 * 1024**3
MAX_FILE_BYTES = 512 * 1024**2
MAX_ENTRIES = 20_000
MAX_RATIO = 200
"""Uncompressed / compressed: above this an entry is treated as a zip bomb."""
VALIDATOR_TIMEOUT = 300.0
"""Seconds the E-ARK validator may take on one package (within the package's own limit)."""
MAX_XML_BYTES = 32 * 1024**2
MAX_XML_ELEMENTS = 250_000
"""Per XML file (METS, EAD, PREMIS, schemas). A parsed element costs ~600 bytes in Kho and more
in the validator: a 45 MB METS of empty elements took 2 GB in each before these limits. A real
METS needs about four elements per file, and a package holds at most MAX_ENTRIES files."""
XML_SUFFIXES = (".xml", ".xsd")
XINCLUDE_NAMESPACES = ("{http://www.w3.org/2001/XInclude}", "{http://www.w3.org/2003/XInclude}")
"""An element of these asks the reader to insert another resource (``file:///etc/passwd``, a
URL) where it stands: a tool of the archive that processes XInclude reads its own files or
fetches for the sender (rv27). No METS, EAD or PREMIS needs one."""
WORK_PREFIX = "kho-sip-"
"""The working folders of imports (:mod:`kho.scratch`): a killed import's is swept by the next."""
UPLOAD_PREFIX = "kho-upload-"
"""The working folders an uploaded package is saved in (the API and the page) before its check."""

if TYPE_CHECKING:
    from ingest.signatures import PdfVerification


def _name_fault(name: str) -> str | None:
    """Why an entry name is refused, or None: a control, format (bidi, zero-width) or unassigned
    character hides what a person sees; a name not in NFC can name a second file that looks the
    same as another (TCVN/STANDARDS: Vietnamese text is NFC)."""
    for char in name:
        if unicodedata.category(char)[0] == "C":
            return f"ký tự điều khiển hoặc ký tự ẩn (U+{ord(char):04X})"
    if not unicodedata.is_normalized("NFC", name):
        return NOT_NFC
    return None


NOT_NFC = "không ở dạng chuẩn Unicode NFC"
"""The fault of a text that is only decomposed (NFD, as some tools write Vietnamese): not hidden,
but a second spelling of the same text (r33: the message says so, and what to do)."""


def _text_fault(text: str) -> str | None:
    """Why a METS value (an attribute, an element's text) is refused, or None: as an entry name
    (:func:`_name_fault`), but line breaks and tabs are white space there."""
    return _name_fault(text.translate(_WHITESPACE))


_WHITESPACE = {ord(c): " " for c in "\t\n\r"}
MAX_OBJID = 255
"""A METS OBJID names the package's root folder (CSIP1), one path component: 255 at most. It is
shown to the person importing and kept in the audit chain, which nothing may shorten: a package
of a 5,000,000-character OBJID passed every check and wrote 5 MB into the chain (rv17)."""
ID_REFERENCES = ("DMDID", "ADMID", "FILEID")
"""METS attributes that name other elements of the same METS by their ID (IDREFS)."""


def check_manifest(mets: ET.Element, name: str) -> None:
    """A METS's own fields, before anything reads or shows them (the OBJID is shown to the
    person importing and audited): every value in NFC without a control or invisible character
    (``SIP_UNSAFE_TEXT``), and every ID reference naming an element of this METS
    (``SIP_METS_REFERENCE``: a structure map pointing at descriptive metadata or files that are
    not there describes nothing, and the E-ARK validator lets it through); an OBJID of at most
    :data:`MAX_OBJID` characters (``SIP_METS_INVALID``)."""
    object_id = mets.get("OBJID", "")
    if len(object_id) > MAX_OBJID:
        raise SipError(
            f"Tệp {name}: mã gói tin (OBJID) dài {len(object_id)} ký tự, quá {MAX_OBJID} ký tự cho"
            " phép (OBJID là tên thư mục gốc của gói tin).",
            code="SIP_METS_INVALID",
            file=name,
            field="mets/@OBJID",
        )
    ids = {el.get("ID") for el in mets.iter() if el.get("ID")}
    for el in mets.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        values = [(attr.rsplit("}", 1)[-1], value) for attr, value in el.attrib.items()]
        values += [("", el.text)] if el.text and el.text.strip() else []
        for attr, value in values:
            fault = _text_fault(value)
            if fault:
                field = f"{tag}/@{attr}" if attr else tag
                said = (
                    f"Tệp {name}: “{field}” viết chữ tiếng Việt ở dạng tổ hợp ({fault}), thường do"
                    " phần mềm của cơ quan gửi. Kho không tự sửa gói tin nhận được: đề nghị cơ quan"
                    " gửi xuất lại gói tin với văn bản ở dạng NFC."
                    if fault == NOT_NFC
                    else f"Tệp {name} có giá trị không an toàn ({fault}) ở “{field}”."
                )
                raise SipError(
                    said,
                    code="SIP_UNSAFE_TEXT",
                    file=name,
                    field=field,
                )
        for attr in ID_REFERENCES:
            for ref in el.get(attr, "").split():
                if ref not in ids:
                    raise SipError(
                        f"Tệp {name}: “{tag}/@{attr}” trỏ tới “{ref[:80]}” nhưng METS không có phần tử"
                        " mang mã này.",
                        code="SIP_METS_REFERENCE",
                        file=name,
                        field=f"{tag}/@{attr}",
                    )


DEFAULT_TIME_LIMIT = 3600.0
"""``KHO_SIP_TIME_LIMIT``'s default, in seconds."""
DEFAULT_MAX_PDF_BYTES = 50 * 1024**2
"""``KHO_MAX_FILE_MB``'s default, in bytes."""


class Deadline:
    """The end of one package's check (:attr:`PackageChecks.time_limit`), read on a monotonic
    clock between its steps and before each PDF (a PDF's own verification is bounded by
    ``KHO_SIGNATURE_TIMEOUT``, so the check ends at most one PDF's limit after this)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

    def left(self) -> float:
        return self.end - self.clock()

    def check(self, step: str) -> None:
        """Refuse the package (``SIP_TIME_LIMIT``) if its time is over, naming the ``step``."""
        if self.left() <= 0:
            raise SipError(
                f"Kiểm tra gói tin vượt quá thời gian cho phép ({self.seconds:g} giây, KHO_SIP_TIME_LIMIT)"
                f" ở bước {step}: gói tin không được tiếp nhận, Kho không ghi gì về gói tin này. Hãy đề nghị"
                " cơ quan gửi chia nhỏ gói tin, hoặc quản trị tăng giới hạn, rồi kiểm tra lại từ đầu.",
                code="SIP_TIME_LIMIT",
                limit=self.seconds,
                step=step,
            )


@dataclass(frozen=True)
class PackageChecks:
    """What an import checks a package with beyond the package itself, wired from the settings
    (:attr:`web.context.Kho.sip_checks`)."""

    verify: Callable[[bytes], PdfVerification]
    """The verification every document of Kho gets (:meth:`ingest.pipeline.Pipeline.verify`)."""
    work_root: Path | None = None
    """Where packages are unpacked (:mod:`kho.scratch`): the installation's ``<data>/tmp``;
    None: the system's temporary folder (library callers)."""
    clock: Callable[[], datetime] | None = None
    """The installation's clock, which the package's dates may not be later than
    (:func:`check_dates`); None: dates are not judged (a package checked alone)."""
    time_limit: float = DEFAULT_TIME_LIMIT
    """Seconds the whole check may take (``KHO_SIP_TIME_LIMIT``): each PDF alone is bounded by
    ``KHO_SIGNATURE_TIMEOUT``, and 500 PDFs of 119 s each held an import for 16 hours."""
    max_pdf_bytes: int = DEFAULT_MAX_PDF_BYTES
    """The largest PDF whose signatures are verified (``KHO_MAX_FILE_MB``, the largest original
    Kho takes): a PDF is read whole to be verified, and a package's files may be of
    :data:`MAX_FILE_BYTES`. A larger PDF refuses the package (``SIP_TOO_LARGE``): an
    unverified signature is never let through."""

    @classmethod
    def offline(cls, clock: Callable[[], datetime] | None = None) -> PackageChecks:
        """Kho's shipped trust list, offline, in the system's temporary folder: for callers
        that have no settings (every door of Kho passes the installation's own)."""
        from ingest.signatures import trustlist, verify_pdf

        store = trustlist.default_store()
        return cls(verify=lambda data: verify_pdf(data, store), clock=clock)


@dataclass(frozen=True)
class SignedDocument:
    """The signature verification of one PDF of a package."""

    file: str
    """Its path in the package, ``/``-separated."""
    verification: PdfVerification


@dataclass(frozen=True)
class ImportReport:
    object_id: str
    files: int
    bytes: int
    validation: ValidationResult
    documents: tuple[SignedDocument, ...] = ()
    """Every PDF of the package with its verification (none of them failed)."""
    digests: tuple[tuple[str, str], ...] = ()
    """Every listed file's path in the package and SHA-256, as checked, and the package METS's."""


def safe_extract(
    archive: Path, target: Path, *, max_total: int = MAX_TOTAL_BYTES, max_file: int = MAX_FILE_BYTES
) -> Path:
    """Extract ``archive`` into ``target``, refusing anything unsafe *before* writing a byte;
    returns the package's root folder."""
    try:
        with archive.open("rb") as fp:
            few = entries_at_most(fp, MAX_ENTRIES)  # before zipfile builds an object per entry
        zf = open_zip(archive) if few else None
    except ZipNameNotUtf8 as exc:
        raise SipError(
            "Gói tin có tên mục được đánh dấu là UTF-8 nhưng không phải UTF-8 hợp lệ: không biết"
            " tệp sẽ được giải nén ra với tên nào. Hãy nén lại gói tin với tên tệp UTF-8.",
            code="SIP_UNSAFE_NAME",
        ) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise SipError("Tệp gói tin không phải là tệp ZIP hợp lệ.", code="SIP_NOT_ZIP") from exc
    if zf is None:
        raise _too_many()
    with zf, archive.open("rb") as raw:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _too_many()
        total = 0
        tops = set()
        seen: dict[str, str] = {}
        folders: set[tuple[str, str]] = set()
        faults = _Faults()
        for info in infos:
            with faults.entry(info.filename):
                name = info.filename
                path = PurePosixPath(name)
                mode = info.external_attr >> 16
                shown = _shown(name)
                fault = _name_fault(name)
                if fault:
                    raise SipError(
                        f"Gói tin chứa tên tệp không an toàn ({fault}): “{shown}”.", code="SIP_UNSAFE_NAME"
                    )
                for other in unicode_paths(info.extra) + unicode_paths(local_extra(raw, info)):
                    if other != name:  # what another unzip tool extracts it as
                        raise SipError(
                            f"Mục “{shown}” mang thêm tên thứ hai “{_shown(other)}”"
                            " (trường Unicode Path của ZIP) mà nhiều công cụ giải nén dùng thay cho tên này:"
                            " Kho không kiểm tra được tệp sẽ được giải nén ra.",
                            code="SIP_UNSAFE_NAME",
                        )
                # Two entries that extract to one file are ambiguous: each unzip tool keeps another
                # one, so what Kho checks need not be what the archive keeps (also on a file system
                # that ignores case, or on Windows, which drops the dots and spaces ending a name).
                key = _one_file_key(path.parts)
                if key in seen:
                    raise SipError(
                        f"Gói tin chứa hai mục cùng tên: “{seen[key][:200]}” và “{name[:200]}”.",
                        code="SIP_DUPLICATE_NAME",
                    )
                seen[key] = name
                parts = path.parts
                folders.update((_one_file_key(parts[:i]), "/".join(parts[:i])) for i in range(1, len(parts)))
                if (
                    name.startswith(("/", "\\"))
                    or "\\" in name
                    or ".." in path.parts
                    or ":" in name
                    or stat.S_ISLNK(mode)
                ):
                    raise SipError(f"Gói tin chứa đường dẫn không an toàn: “{name}”.", code="SIP_UNSAFE_PATH")
                if stat.S_IFMT(mode) in SPECIAL_MODES:
                    raise _not_a_file(name[:200])
                windows = _windows_fault(path.parts)
                if windows:
                    raise SipError(
                        f"Gói tin chứa tên tệp “{shown}” {windows}: trên máy Windows của lưu trữ, tệp này"
                        " không được giải nén đúng tên.",
                        code="SIP_UNSAFE_NAME",
                    )
                if info.flag_bits & 0x1:
                    raise SipError(
                        f"Tệp “{name[:200]}” trong gói tin được mã hóa bằng mật khẩu, không kiểm tra được.",
                        code="SIP_ENCRYPTED",
                    )
                if info.compress_type not in READABLE_METHODS:
                    raise SipError(
                        f"Tệp “{name[:200]}” trong gói tin dùng phương pháp nén không được hỗ trợ "
                        f"(mã {info.compress_type}); hãy nén lại bằng Deflate.",
                        code="SIP_NOT_ZIP",
                    )
                if info.file_size > max_file:
                    raise SipError(f"Tệp “{name}” trong gói tin quá lớn.", code="SIP_TOO_LARGE")
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    raise SipError(f"Tệp “{name}” có tỉ lệ nén bất thường (zip bomb).", code="SIP_TOO_LARGE")
                total += info.file_size
                tops.add(path.parts[0])
        faults.raise_if_any()
        for key, folder in sorted(folders):
            if key in seen and not seen[key].endswith("/"):
                raise SipError(
                    f"Gói tin có “{seen[key][:200]}” vừa là tệp vừa là thư mục “{folder[:200]}/”.",
                    code="SIP_DUPLICATE_NAME",
                )
        # After the twins (“a.txt.” beside “a.txt” is SIP_DUPLICATE_NAME, the graver fault):
        # a lone name whose part ends in a dot or a space.
        for info in infos:
            with faults.entry(info.filename):
                _check_name_end(PurePosixPath(info.filename).parts)
        faults.raise_if_any()
        hidden = hidden_local_entry(raw, infos, zf.start_dir)
        if hidden is not None:
            raise SipError(
                f"Gói tin chứa dữ liệu ZIP ẩn ở byte {hidden}: một mục có tiêu đề cục bộ mà danh mục"
                " trung tâm của tệp ZIP không ghi. Công cụ giải nén đọc tuần tự (dạng luồng) sẽ giải"
                " nén ra tệp mà Kho không kiểm tra; đề nghị cơ quan gửi nén lại gói tin.",
                code="SIP_HIDDEN_ENTRY",
                offset=hidden,
            )
        if total > max_total:
            raise SipError("Gói tin quá lớn.", code="SIP_TOO_LARGE", bytes=total)
        if len(tops) != 1:
            raise SipError("Gói tin phải có đúng một thư mục gốc.", code="SIP_LAYOUT")
        try:
            for info in infos:
                dest = target / info.filename
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as out:
                    written = 0
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        written += len(chunk)
                        if written > info.file_size or written > max_file:  # a lying header
                            raise SipError(f"Tệp “{info.filename}” lớn hơn khai báo.", code="SIP_TOO_LARGE")
                        out.write(chunk)
        except DAMAGED_ENTRY_ERRORS as exc:
            raise SipError("Không đọc được nội dung gói tin (tệp hỏng).", code="SIP_NOT_ZIP") from exc
    return target / tops.pop()


def _shown(name: str) -> str:
    """An entry's name as a refusal shows it: escapes for what is not printable ASCII."""
    return name.encode("unicode_escape").decode("ascii")[:200]


WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
"""Names Windows gives to devices, whatever extension follows (“CON.pdf” opens the console)."""
WINDOWS_FORBIDDEN = frozenset('<>"|?*')


def _windows_fault(parts: tuple[str, ...]) -> str | None:
    """Why a name cannot be a file of that name on Windows (the archive's share), or None: a
    device name, or a character Windows forbids in names (``:`` and ``\\`` are refused as paths)."""
    for part in parts:
        if part.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES:
            return f"mang tên thiết bị của Windows (“{part[:40]}”)"
        bad = WINDOWS_FORBIDDEN.intersection(part)
        if bad:
            return f"có ký tự Windows không cho phép trong tên tệp ({' '.join(sorted(bad))})"
    return None


def _check_name_end(parts: tuple[str, ...]) -> None:
    """Refuse a name a part of which ends in a dot or a space (``SIP_UNSAFE_NAME``): Windows
    (the archive's share) drops them, so “Báo cáo.pdf.” is extracted as another name than the
    one listed, and one that looks like a name it is not (rv17's open item)."""
    for part in parts:
        if part != part.rstrip(" ."):
            raise SipError(
                f"Gói tin chứa tên “{_shown(part)[:80]}” kết thúc bằng dấu chấm hoặc dấu cách: trên máy"
                " Windows của lưu trữ, tên này bị cắt bớt thành một tên khác.",
                code="SIP_UNSAFE_NAME",
            )


def _one_file_key(parts: tuple[str, ...]) -> str:
    """What a path of ``parts`` is called where names that differ in case, or in the dots and
    spaces that end them, are one file (Windows, the archive's share). Upper case first: Windows
    compares names by their upper case, where ``ı`` (dotless i) is ``I`` like ``i``, and
    ``casefold`` alone keeps ``ı`` apart from ``i`` (rv27)."""
    return "/".join(part.rstrip(" .") for part in parts).upper().casefold()


def _too_many() -> SipError:
    return SipError(
        f"Gói tin có quá nhiều tệp (tối đa {MAX_ENTRIES}).", code="SIP_TOO_LARGE", limit=MAX_ENTRIES
    )


SPECIAL_MODES = frozenset({stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK})

MAX_FAULTS_LISTED = 50
"""How many bad entries of one package a refusal lists (with their total)."""


class _Faults:
    """The bad entries of one package, each refused by its own check, gathered so that the
    package is refused once with all of them (the first :data:`MAX_FAULTS_LISTED` and the
    total) rather than at the first: whoever built it mends every entry in one go (u9). The
    refusal keeps the first entry's code and message; ``bad_entries`` lists each
    (``file``, ``code``, ``message``), ``bad_total`` counts them."""

    def __init__(self) -> None:
        self.found: list[tuple[str, SipError]] = []

    @contextlib.contextmanager
    def entry(self, name: str) -> Iterator[None]:
        try:
            yield
        except SipError as exc:
            self.found.append((_shown(name), exc))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        first = self.found[0][1]
        listed = [
            {"file": name, "code": e.code, "message": e.message} for name, e in self.found[:MAX_FAULTS_LISTED]
        ]
        message = first.message
        if len(self.found) > 1:
            more = f", {MAX_FAULTS_LISTED} mục đầu" if len(self.found) > MAX_FAULTS_LISTED else ""
            message = sentences(
                message,
                f"Gói tin có tất cả {len(self.found)} mục không hợp lệ{more}: "
                + "; ".join(f"“{e['file'][:80]}” [{e['code']}]" for e in listed),
            )
        details = {k: v for k, v in first.details.items() if k not in ("bad_entries", "bad_total")}
        raise SipError(message, code=first.code, **details, bad_entries=listed, bad_total=len(self.found))


def _not_a_file(name: str) -> SipError:
    return SipError(
        f"Mục “{name}” trong gói tin là ống dẫn FIFO, thiết bị hoặc socket, không phải tệp: "
        "Kho không nhận gói tin này.",
        code="SIP_NOT_FILE",
        file=name,
    )


def package_files(root: Path) -> list[Path]:
    """Every regular file under ``root``, in order, by the rule of :func:`kho.files.kind`
    (``lstat``, nothing followed or opened): a symbolic link is refused (``SIP_UNSAFE_PATH``,
    as a link entry in the zip is) and a FIFO, device or socket too (``SIP_NOT_FILE``), never
    skipped without a word; a linked folder is not walked."""
    files = []
    faults = _Faults()
    for path in sorted(root.rglob("*")):
        what = kind(path)
        name = path.relative_to(root).as_posix()[:200]
        with faults.entry(name):
            if what == LINK:
                raise SipError(
                    f"Gói tin chứa liên kết tượng trưng (symlink) “{name}”: Kho không đi theo liên kết.",
                    code="SIP_UNSAFE_PATH",
                    file=name,
                )
            if what == FILE:
                files.append(path)
            elif what not in (FOLDER, None):
                raise _not_a_file(name)
    faults.raise_if_any()
    return files


EXPAT_BAD_CHAR_REF = 14
"""expat's ``XML_ERROR_BAD_CHAR_REF``: a character reference (``&#1;``, ``&#xFFFE;``) to a character
XML 1.0 forbids, which some senders write for a control character of an old text."""


EXPAT_INVALID_TOKEN = 4
"""expat's ``XML_ERROR_INVALID_TOKEN``: among other faults, a character XML 1.0 forbids written as
it is (a raw U+0001 of an old text the sender's system exported without a check)."""

XML_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")


def _xml_text(path: Path) -> str:
    """The file's text as expat read it, for finding a character it refused: UTF-16 by its BOM,
    else the encoding its declaration names (UTF-8 by default); a byte that does not decode is
    U+FFFD (it cannot be one of the characters looked for)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        declared = XML_DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return data.decode(encoding, errors="replace").removeprefix("\ufeff")
    except LookupError:
        return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def forbidden_character_at(text: str, line: int, column: int) -> tuple[int, str] | None:
    """The character XML 1.0 forbids (:data:`kho.xmltext.NOT_IN_XML`) that expat stopped at, with
    its column counted from 1: at ``line`` (from 1) and ``column`` (from 0, in characters) of
    ``text``, else the first such character of that line; None when the line holds none (the
    file is refused for another fault). Pure."""
    lines = re.split(r"\r\n|\r|\n", text)  # expat's line ends (a vertical tab ends none)
    if not 1 <= line <= len(lines):
        return None
    shown = lines[line - 1]
    if 0 <= column < len(shown) and NOT_IN_XML.fullmatch(shown[column]):
        return column + 1, shown[column]
    found = NOT_IN_XML.search(shown)
    return (found.start() + 1, found.group()) if found else None


def _not_well_formed(name: str, exc: ET.ParseError, path: Path) -> SipError:
    """Why a package's XML file is refused, in Vietnamese: what its sender must fix and where
    (columns counted from 1, as editors count them)."""
    line, column = getattr(exc, "position", (0, 0))
    code = getattr(exc, "code", None)
    if code == EXPAT_BAD_CHAR_REF:
        return SipError(
            f"Tệp “{name}” không phải XML hợp lệ: dòng {line}, cột {column + 1} có tham chiếu tới ký tự"
            " điều khiển mà XML 1.0 không cho phép (ví dụ “&#1;”). Đề nghị cơ quan gửi thay ký tự đó"
            " (ví dụ bằng “\ufffd”) rồi xuất lại gói tin.",
            code="SIP_XML_INVALID", file=name, line=line, column=column + 1,
        )
    found = forbidden_character_at(_xml_text(path), line, column) if code == EXPAT_INVALID_TOKEN else None
    if found is not None:
        at, character = found
        what = "ký tự điều khiển" if ord(character) < 0x20 else "mã không phải ký tự"
        return SipError(
            f"Tệp “{name}” không phải XML hợp lệ: dòng {line}, cột {at} có {what} {code_point(character)}"
            " (viết thẳng trong tệp) mà XML 1.0 không cho phép. Đề nghị cơ quan gửi thay ký tự đó"
            " (ví dụ bằng “\ufffd”) rồi xuất lại gói tin.",
            code="SIP_XML_CONTROL_CHARACTER", file=name, line=line, column=at,
            character=code_point(character),
        )
    return SipError(
        f"Tệp “{name}” không phải XML hợp lệ (dòng {line}, cột {column + 1}).",
        code="SIP_XML_INVALID", file=name, line=line, column=column + 1,
    )


def check_xml_files(root: Path) -> int:
    """Every XML file of the package, before anything parses it to build a tree (Kho's METS
    reader, the validator's lxml): within the size and element limits, well-formed, and without
    a DTD (no entity, external or internal, is ever expanded). Streams each file, so the check
    itself holds only one element at a time. Returns how many files were read."""
    count = 0
    for path in package_files(root):
        if path.suffix.casefold() not in XML_SUFFIXES:
            continue
        name = path.relative_to(root).as_posix()[:200]
        if path.stat().st_size > MAX_XML_BYTES:
            raise SipError(
                f"Tệp XML “{name}” quá lớn (tối đa {MAX_XML_BYTES // 1024**2} MiB).",
                code="SIP_TOO_LARGE", file=name,
            )
        elements = 0
        try:
            for _event, element in SafeET.iterparse(path, events=("end",), forbid_dtd=True):
                if str(element.tag).startswith(XINCLUDE_NAMESPACES):
                    raise SipError(
                        f"Tệp XML “{name}” có chỉ thị XInclude (nhúng tệp khác vào khi đọc, kể cả tệp của"
                        " máy đọc gói tin): không được phép trong gói tin.",
                        code="SIP_XML_UNSAFE",
                        file=name,
                    )
                element.clear()
                elements += 1
                if elements > MAX_XML_ELEMENTS:
                    raise SipError(
                        f"Tệp XML “{name}” có quá nhiều phần tử (tối đa {MAX_XML_ELEMENTS}).",
                        code="SIP_TOO_LARGE", file=name,
                    )
        except DefusedXmlException as exc:
            raise SipError(
                f"Tệp XML “{name}” khai báo DTD hoặc thực thể (entity), không được phép trong gói tin.",
                code="SIP_XML_UNSAFE", file=name,
            ) from exc
        except ET.ParseError as exc:
            raise _not_well_formed(name, exc, path) from exc
        except (ValueError, UnicodeError) as exc:
            raise SipError(
                f"Tệp “{name}” không phải XML hợp lệ.", code="SIP_XML_INVALID", file=name
            ) from exc
        except LookupError as exc:  # an encoding Python does not know ("TCVN3", "VNI"): not a ValueError
            raise SipError(
                f"Tệp “{name}” khai báo bảng mã Kho không đọc được ({str(exc)[:80]}): đề nghị cơ quan gửi"
                " xuất lại gói tin với các tệp XML ở bảng mã UTF-8.",
                code="SIP_XML_INVALID",
                file=name,
            ) from exc
        count += 1
    return count


def _mets(path: Path) -> ET.Element:
    if not path.is_file():
        raise SipError(f"Thiếu tệp METS.xml ({path.parent.name}).", code="SIP_METS_MISSING")
    try:
        return SafeET.parse(path).getroot()
    except Exception as exc:  # defusedxml raises several kinds for hostile or broken XML
        raise SipError("Tệp METS.xml không phải XML hợp lệ.", code="SIP_METS_INVALID") from exc


def _check_refs(root: Path, mets_path: Path, seen: dict[Path, str]) -> int:
    """Check every file/mdRef of one METS (and the METS it points to); returns files checked.
    ``seen`` collects every file named (resolved path → SHA-256): a file named a second time, in this
    METS or another, is refused before it is read again (``SIP_FILE_LISTED_TWICE``)."""
    mets = _mets(mets_path)
    base = mets_path.parent
    check_manifest(mets, mets_path.relative_to(root).as_posix()[:200])
    for pointer in mets.iter(f"{{{METS_NS}}}mptr"):  # a representation's METS, listed below too
        href = pointer.get(f"{{{XLINK_NS}}}href", "")
        _check_unescaped(href)
        target = (base / href).resolve()
        try:
            present = bool(href) and target.is_relative_to(root.resolve()) and target.is_file()
        except OSError:  # a name no file can have (too long for the file system)
            present = False
        if not present:
            raise SipError(
                f"METS trỏ tới METS của một biểu diễn “{href[:200]}” nhưng gói tin không có tệp đó.",
                code="SIP_METS_REFERENCE",
                file=href[:200],
            )
    checked = 0
    refs: list[tuple[str, dict[str, str]]] = []
    for el in mets.iter(f"{{{METS_NS}}}file"):
        loc = el.find(f"{{{METS_NS}}}FLocat")
        if loc is not None:
            refs.append((loc.get(f"{{{XLINK_NS}}}href", ""), dict(el.attrib)))
    for el in mets.iter(f"{{{METS_NS}}}mdRef"):
        refs.append((el.get(f"{{{XLINK_NS}}}href", ""), dict(el.attrib)))
    for href, attrs in refs:
        _check_unescaped(href)
        target = (base / href).resolve()
        if not target.is_relative_to(root.resolve()):
            raise SipError(f"METS trỏ ra ngoài gói tin: “{href[:200]}”.", code="SIP_UNSAFE_PATH")
        if target in seen:
            # Each listing is read and hashed again, here and in the validator: one file of
            # 32 MiB listed 60,000 times is 2 TB to hash from a 40 MB upload (rv17).
            name = target.relative_to(root.resolve()).as_posix()[:200]
            raise SipError(
                f"METS nêu tệp “{name}” nhiều hơn một lần: mỗi tệp của gói tin chỉ được liệt kê"
                " một lần, với một mã băm.",
                code="SIP_FILE_LISTED_TWICE",
                file=name,
            )
        try:
            present = target.is_file()
        except OSError:  # a name no file can have (too long for the file system)
            present = False
        if not present:
            raise SipError(f"METS nêu tệp “{href[:200]}” nhưng gói tin không có.", code="SIP_FILE_MISSING")
        if attrs.get("CHECKSUMTYPE", "").upper() != "SHA-256" or not attrs.get("CHECKSUM"):
            raise SipError(f"Tệp “{href}” thiếu mã băm SHA-256 trong METS.", code="SIP_CHECKSUM_MISSING")
        digest = hashlib.sha256()
        with target.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest().lower() != attrs["CHECKSUM"].lower():
            raise SipError(
                f"Tệp “{href}” không khớp mã băm SHA-256 ghi trong METS.",
                code="SIP_CHECKSUM_MISMATCH",
                file=href,
            )
        size = attrs.get("SIZE")
        if size and not _is_size(size):
            raise SipError(
                f"Tệp “{href}” có kích thước ghi trong METS không hợp lệ: “{size[:40]}”.",
                code="SIP_METS_INVALID",
                file=href,
            )
        if size and int(size) != target.stat().st_size:
            raise SipError(
                f"Tệp “{href}” không khớp kích thước ghi trong METS.", code="SIP_CHECKSUM_MISMATCH", file=href
            )
        checked += 1
        seen[target] = digest.hexdigest()
        if target.name == "METS.xml":
            checked += _check_refs(root, target, seen)
    return checked



def _check_unescaped(href: str) -> None:
    """Refuse a METS reference with a percent escape (``SIP_REFERENCE_AMBIGUOUS``). Kho reads
    an href letter for letter (its own packages never escape a name); a reader that takes it as
    a URI, as XLink says, decodes it: ``data/a%20b.pdf`` is the file ``a b.pdf`` there and the
    file ``a%20b.pdf`` here, so a METS listing both names lists, for that reader, one file twice
    with two checksums, and a file it never checked."""
    decoded = unquote(href)
    if decoded != href:
        raise SipError(
            f"METS nêu tệp “{href[:200]}” bằng địa chỉ có mã phần trăm (%): phần mềm đọc địa chỉ theo"
            f" chuẩn URI hiểu là “{decoded[:200]}”, còn Kho đọc đúng từng ký tự, nên hai bên có thể hiểu"
            " là hai tệp khác nhau. Đề nghị cơ quan gửi ghi tên tệp trực tiếp, không mã hóa.",
            code="SIP_REFERENCE_AMBIGUOUS",
            file=href[:200],
        )

def check_checksums(root: Path) -> int:
    """Kho's own check of a package folder: every file the METS name is there, with its SHA-256
    and size, and there is no file that no METS names (nothing arrives unchecked: an unlisted
    file, or a whole representation the METS do not point to, which only the validator would
    read). Returns how many files were checked."""
    return len(checked_digests(root))


def checked_digests(root: Path) -> dict[str, str]:
    """:func:`check_checksums`'s checks, returning each listed file's SHA-256 (as checked) by
    its path in the package, ``/``-separated (the package METS itself has none)."""
    top = (root / "METS.xml").resolve()
    seen = {top: ""}
    files = package_files(root)  # first: a link or a FIFO the METS name is refused as such
    _check_refs(root, root / "METS.xml", seen)
    for path in files:
        if path.resolve() not in seen:
            name = path.relative_to(root).as_posix()
            raise SipError(
                f"Gói tin chứa tệp “{name[:200]}” mà METS không liệt kê (không có mã băm để kiểm tra).",
                code="SIP_FILE_UNLISTED",
                file=name[:200],
            )
    for path in files:
        if path.suffix.casefold() == ".xml":
            _check_premis(root, path, seen)
    base = root.resolve()
    return {path.relative_to(base).as_posix(): digest for path, digest in seen.items() if digest}


_SHA256_NAMES = frozenset({"SHA-256", "SHA256"})


def _is_size(text: str) -> bool:
    """A size as a manifest writes it: ASCII digits, at most 19 (int() refuses a text of over
    4,300 digits with a ValueError, a traceback instead of a refusal)."""
    return text.isascii() and text.isdigit() and len(text) <= 19


def _check_premis(root: Path, path: Path, digests: dict[Path, str]) -> None:
    """A PREMIS file of the package gives each file it names by its path the SHA-256 and size
    the file has: the archive's own fixity audits read PREMIS, not METS, so a PREMIS whose
    digest is another file's (or nobody's) passes Kho's checks and fails, or lies, there. An
    object named otherwise (a UUID, another tool's convention) is not judged."""
    if _root_tag(path) != f"{{{PREMIS_NS}}}premis":
        return
    premis = SafeET.parse(path, forbid_dtd=True).getroot()
    name = path.relative_to(root).as_posix()[:200]
    for obj in premis.iter(f"{{{PREMIS_NS}}}object"):
        value = obj.findtext(f"{{{PREMIS_NS}}}objectIdentifier/{{{PREMIS_NS}}}objectIdentifierValue") or ""
        try:
            target = (root / value.strip()).resolve() if value.strip() else None
        except (OSError, ValueError):
            target = None
        if target is None or not digests.get(target):  # the package METS itself has no digest here
            continue
        named = value.strip()[:200]
        for fixity in obj.iter(f"{{{PREMIS_NS}}}fixity"):
            algorithm = (fixity.findtext(f"{{{PREMIS_NS}}}messageDigestAlgorithm") or "").strip().upper()
            digest = (fixity.findtext(f"{{{PREMIS_NS}}}messageDigest") or "").strip().lower()
            if algorithm in _SHA256_NAMES and digest != digests[target]:
                raise SipError(
                    f"Tệp {name} ghi mã băm SHA-256 của “{named}” khác với tệp trong gói tin (METS và"
                    " nội dung tệp khớp nhau): hai bản kê của gói tin mâu thuẫn.",
                    code="SIP_CHECKSUM_MISMATCH",
                    file=named,
                )
        size = (obj.findtext(f"{{{PREMIS_NS}}}objectCharacteristics/{{{PREMIS_NS}}}size") or "").strip()
        if size and (not _is_size(size) or int(size) != target.stat().st_size):
            raise SipError(
                f"Tệp {name} ghi kích thước của “{named}” là “{size[:40]}”, khác với tệp trong gói tin.",
                code="SIP_CHECKSUM_MISMATCH",
                file=named,
            )


def _root_tag(path: Path) -> str | None:
    """The tag of ``path``'s root element, read without parsing the rest; None when it is not
    XML Kho reads (check_xml_files refuses it first in an import, with its reason)."""
    try:
        for _event, element in SafeET.iterparse(path, events=("start",), forbid_dtd=True):
            return str(element.tag)
    except Exception:  # defusedxml and expat raise several kinds for hostile or broken XML
        return None
    return None


DATE_ATTRIBUTES = ("CREATEDATE", "LASTMODDATE", "CREATED")
"""METS attributes that date the package, its header or a file (xs:dateTime)."""
_EARLIEST_OFFSET = timedelta(hours=14)
"""A time without a zone is read in the zone furthest ahead (UTC+14), the earliest instant it
can name: nothing that may be past somewhere is called future."""


_CALENDAR_DATE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])", re.ASCII)
"""The calendar date an ISO 8601 value starts with (``2026-02-31``, ``2026-02-31T10:00Z``, the
start of an interval ``2026-02-31/…``)."""


def impossible_date(text: str | None) -> bool:
    """Does ``text`` start with an ISO 8601 calendar date that no calendar holds (31 February,
    29 February of a common year, month 13)? Pure. Other forms (``2027``, ``2027-03``, free
    text) are not judged here (review rv50: ``2026-02-31`` passed as "another form")."""
    found = _CALENDAR_DATE.match(text or "")
    if found is None:
        return False
    year, month, day = (int(part) for part in found.groups())
    try:
        datetime(year, month, day)
    except ValueError:
        return True
    return False


def check_dates(root: Path, now: datetime | None) -> None:
    """No date of the package is later than ``now`` (plus the clock skew :mod:`kho.process`
    allows): a PREMIS event (``eventDateTime``) or a METS date (:data:`DATE_ATTRIBUTES`) in the
    future records what has not happened, and the archive orders a package's history by these
    dates (``SIP_DATE_IN_FUTURE``). A value written as an ISO 8601 date that no calendar holds
    (31 February) is a wrong date, refused too (``SIP_DATE_INVALID``, :func:`impossible_date`).
    A value that is not an ISO 8601 date or time (PREMIS allows other forms) is not judged.
    ``now`` None (checks without a clock): only the impossible dates are refused."""
    latest = None if now is None else now + timedelta(seconds=CLOCK_SKEW_SECONDS)
    event_time = f"{{{PREMIS_NS}}}eventDateTime"
    for path in package_files(root):
        if path.suffix.casefold() != ".xml":
            continue
        name = path.relative_to(root).as_posix()[:200]
        for _event, element in SafeET.iterparse(path, events=("end",), forbid_dtd=True):
            values = [(f"{element.tag.rsplit('}', 1)[-1]}/@{a}", element.get(a)) for a in DATE_ATTRIBUTES]
            if element.tag == event_time:
                values.append(("premis:eventDateTime", element.text))
            for field, text in values:
                if impossible_date(text):
                    raise SipError(
                        f"Tệp {name}: “{field}” ghi ngày “{(text or '').strip()[:40]}”, một ngày không có"
                        " trên lịch (như 31/02): gói tin ghi sai ngày, hãy sửa rồi gửi lại.",
                        code="SIP_DATE_INVALID",
                        file=name,
                        field=field,
                    )
                moment = _moment(text)
                if moment is not None and latest is not None and moment > latest:
                    raise SipError(
                        f"Tệp {name}: “{field}” ghi thời điểm “{(text or '').strip()[:40]}”, sau thời điểm"
                        " kiểm tra: gói tin không thể ghi lại một việc chưa xảy ra.",
                        code="SIP_DATE_IN_FUTURE",
                        file=name,
                        field=field,
                    )


def _moment(text: str | None) -> datetime | None:
    """An ISO 8601 date or time as the earliest instant it can name, or None."""
    value = (text or "").strip()
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC) - _EARLIEST_OFFSET
    return moment

PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WITHIN = 1024
"""A file is a PDF when its first 1,024 bytes hold ``%PDF-`` (as PDF readers take it, and the
verifier): the name's extension is the sender's to choose."""


_HIDDEN_PDF = re.compile(rb"%PDF-\d\.\d")
"""A PDF header with its version, as a reader that searches past the first 1,024 bytes finds it."""


def _refuse_hidden_pdf(fh: BinaryIO, name: str, tail: bytes) -> None:
    """Refuse (``SIP_HIDDEN_PDF``) a file that is not a PDF by its first 1,024 bytes but holds a
    PDF header after them (a polyglot: the verifier and Kho take it for another file, some PDF
    readers search further and open the PDF, whose signature no one checked). Read from the
    current position to the end, in chunks, after the ``tail`` of the bytes read before."""
    chunk = 1 << 20
    while data := fh.read(chunk):
        if _HIDDEN_PDF.search(tail + data):
            raise SipError(
                f"Tệp “{name[:200]}” trong gói tin chứa một tệp PDF nằm sau nội dung khác: Kho không kiểm tra"
                " được chữ ký số của tệp PDF ẩn đó nên không nhận gói tin này. Đề nghị cơ quan gửi tệp PDF"
                " thành tệp riêng.",
                code="SIP_HIDDEN_PDF",
                file=name[:200],
            )
        tail = data[-7:]


def check_signatures(
    root: Path,
    verify: Callable[[bytes], PdfVerification],
    *,
    deadline: Deadline | None = None,
    max_pdf_bytes: int = DEFAULT_MAX_PDF_BYTES,
) -> tuple[SignedDocument, ...]:
    """Verify every PDF of the package with ``verify`` (the verification ingest gives every
    document); a PDF whose signature fails (``TOTAL-FAILED``: changed after signing, a broken
    signature) refuses the package with ``SIP_SIGNATURE_INVALID`` naming it. Any other verdict
    (not trusted, indeterminate, unsigned) is returned, for the report, as ingest records it.
    A PDF larger than ``max_pdf_bytes`` is refused before it is read (``SIP_TOO_LARGE``), and
    the ``deadline`` is checked before each PDF."""
    from ingest.signatures import Indication

    documents = []
    for path in package_files(root):
        with path.open("rb") as fh:
            head = fh.read(PDF_MAGIC_WITHIN)
            if PDF_MAGIC not in head:
                _refuse_hidden_pdf(fh, path.relative_to(root).as_posix(), head[-7:])
                continue
            size = os.fstat(fh.fileno()).st_size
        name = path.relative_to(root).as_posix()
        if size > max_pdf_bytes:
            raise SipError(
                f"Tệp PDF “{name[:200]}” trong gói tin lớn {size // 1024**2} MB, quá giới hạn một văn bản của"
                f" Kho ({max_pdf_bytes // 1024**2} MB): Kho không kiểm tra được chữ ký số của tệp nên không"
                " nhận gói tin này.",
                code="SIP_TOO_LARGE",
                file=name[:200],
                bytes=size,
                limit=max_pdf_bytes,
            )
        if deadline is not None:
            deadline.check(f"kiểm tra chữ ký số (trước tệp “{name[:80]}”)")
        verification = verify(path.read_bytes())
        verdict = verification.verdict
        if verdict.indication is Indication.TOTAL_FAILED:
            raise SipError(
                f"Tệp “{name[:200]}” trong gói tin có chữ ký số không hợp lệ: {verdict.explanation[:300]}"
                " Tệp đã bị thay đổi sau khi ký hoặc chữ ký bị hỏng; Kho không nhận gói tin này.",
                code="SIP_SIGNATURE_INVALID",
                file=name[:200],
                sub_indication=verdict.sub_indication,
            )
        documents.append(SignedDocument(name, verification))
    return tuple(documents)


def check_package(archive: Path, *, checks: PackageChecks | None = None) -> ImportReport:
    """Safe extraction, Kho's checks, the independent validator, then every PDF's signatures;
    raises ``SIP_*`` codes. Unpacked in a working folder of :mod:`kho.scratch` (``checks``'s
    ``work_root``), which a killed import leaves to the next to sweep."""
    checks = checks or PackageChecks.offline()
    deadline = Deadline(checks.time_limit)
    work_root = checks.work_root or Path(tempfile.gettempdir())
    with working_folder(work_root, WORK_PREFIX) as temp:
        root = safe_extract(archive, temp)
        deadline.check("giải nén")
        check_xml_files(root)
        mets = _mets(root / "METS.xml")
        digests = checked_digests(root)
        deadline.check("kiểm tra mã băm")
        check_dates(root, checks.clock() if checks.clock is not None else None)
        try:
            verdict = validate_with_eark(root, timeout=max(1.0, min(VALIDATOR_TIMEOUT, deadline.left())))
        except SipError as exc:
            if exc.code == "VALIDATOR_FAILED":
                deadline.check("kiểm tra E-ARK")  # killed at the package's limit: that is the answer
            raise
        if not verdict.valid:
            raise SipError(
                "Gói tin không đạt kiểm tra E-ARK.", code="SIP_INVALID", errors=list(verdict.errors)[:20]
            )
        deadline.check("kiểm tra E-ARK")
        documents = check_signatures(
            root, checks.verify, deadline=deadline, max_pdf_bytes=checks.max_pdf_bytes
        )
        size = sum(p.stat().st_size for p in package_files(root))
        # The package METS is listed nowhere with a digest; it is the package's too (a re-send
        # that corrects only it is a changed one, :mod:`retention.sip_replay`).
        recorded = {**digests, "METS.xml": hashlib.sha256((root / "METS.xml").read_bytes()).hexdigest()}
        return ImportReport(
            mets.get("OBJID", ""), len(digests), size, verdict, documents, tuple(sorted(recorded.items()))
        )


def verdicts_said(verdicts: dict[str, int]) -> str:
    """The PDFs' signature verdicts of a checked package, for the person who imported it (the
    page's message, the CLI's line): empty when there is nothing to look at."""
    doubtful = verdicts.get("INDETERMINATE", 0)
    if not doubtful:
        return ""
    return (
        f" {doubtful} tệp PDF có chữ ký số chưa xác định được (chứng thư chưa tin cậy hoặc không kiểm tra"
        " xong): xem “documents” trong kết quả kiểm tra."
    )
def import_package(
    repo: Repository,
    archive: Path,
    *,
    actor: Actor,
    checks: PackageChecks | None = None,
    resend: bool = False,
) -> dict[str, Any]:
    """Check an arriving package (lưu trữ viên) and record it as accepted
    (:mod:`retention.sip_replay`: a package accepted before is refused, ``SIP_REPLAYED``, and a
    changed re-send of one is taken only when the archivist says it is one, ``resend``); the
    verdict is audited either way. The answer lists every PDF's signature verdict as ingest
    records it on a document (:func:`ingest.pipeline.signature_fields`); the audit event counts
    them by verdict."""
    from ingest.pipeline import signature_fields
    from retention.sip_replay import PackageImports

    repo.authorize_for_agency(actor, Action.TRANSFER_IMPORT)  # the agency archive's act
    imports = PackageImports(repo.store)
    completed = False
    try:
        report = check_package(archive, checks=checks or PackageChecks.offline(repo.clock))
        try:
            accepted = imports.accept(
                report.object_id,
                dict(report.digests),
                package=archive.name,
                by=actor.user,
                at=repo.clock(),
                resend=resend,
            )
        except SipError as exc:
            # The same package recorded by an import killed before its audit event: this one
            # finishes it (the event is written now, naming that import), never a second record.
            unfinished = imports.unaudited(report.object_id, exc)
            if unfinished is None:
                raise
            if _checked_event(repo, unfinished["import_id"]):  # killed after its event: done
                imports.mark_audited(unfinished)
                raise
            accepted, completed = unfinished, True
    except SipError as exc:
        named = {"file": exc.details["file"]} if exc.code == "SIP_SIGNATURE_INVALID" else {}
        if exc.code in REPLAY_CODES:
            named = {"earlier_import": exc.details.get("earlier_import")}
        repo.audit.append(
            actor.user,
            "transfer:import-rejected",
            source=actor.source,
            details={"package": archive.name, "code": exc.code, **named},
        )
        raise
    verdicts: dict[str, int] = {}
    for document in report.documents:
        indication = document.verification.verdict.indication.value
        verdicts[indication] = verdicts.get(indication, 0) + 1
    result = {
        "object_id": report.object_id,
        "files": report.files,
        "bytes": report.bytes,
        "validator": report.validation.validator,
        "warnings": report.validation.warnings,
        "signature_verdicts": verdicts,
        "import_id": accepted["import_id"],
        "package_version": accepted["version"],
        "replaces": accepted["replaces"],
    }
    repo.audit.append(
        actor.user,
        "transfer:import-checked",
        source=actor.source,
        details={"package": archive.name, **result, **({"completes_import": True} if completed else {})},
    )
    imports.mark_audited(accepted)
    documents = [{"file": d.file, **signature_fields(d.verification)} for d in report.documents]
    return {**result, "changes": accepted["changes"], "documents": documents}


def _checked_event(repo: Repository, import_id: str) -> bool:
    """Whether the audit log holds the ``transfer:import-checked`` event of ``import_id``: read
    only for a recorded import without its audit mark (an import killed after its record),
    so the whole log is read once per such crash, never on an ordinary import."""
    return any(
        event.action == "transfer:import-checked" and event.details.get("import_id") == import_id
        for event in repo.audit.events()
    )


REPLAY_CODES = frozenset({"SIP_REPLAYED", "SIP_RESENT", "SIP_OVERLAP"})
"""Refusals of a package accepted before (:mod:`retention.sip_replay`)."""
