"""Every kind of bad input ends in its own error code and a Vietnamese message, and one bad
document does not stop a batch."""

from __future__ import annotations

import hashlib
import io
import socket
import zipfile

import pypdf
import pytest
import textdocs as docs
from PIL import Image

from ingest.text import (
    ExtractedText,
    FileBomb,
    FileCorrupt,
    FileEmpty,
    FileEncrypted,
    FileTooManyPages,
    FileTypeMismatch,
    FileUnsupported,
    Format,
    TextSettings,
    TextSource,
    TikaExtractor,
    TikaUnavailable,
    extract_text,
    sniff_format,
)
from kho.errors import KhoError

SETTINGS = TextSettings()


def _is_vietnamese_message(err: KhoError) -> bool:
    return any(ch in err.message for ch in "ăâđêôơưạảấầẩậắằẳặẹẻếềểệịỉọỏốồổộớờởợụủứừửữự")


def test_zero_byte_file_is_file_empty() -> None:
    with pytest.raises(FileEmpty) as info:
        extract_text(b"", "cong-van.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_EMPTY"
    assert _is_vietnamese_message(info.value)


def test_docx_named_pdf_is_a_type_mismatch_naming_both_types() -> None:
    data = docs.docx_bytes()
    assert sniff_format(data, "quyet-dinh.pdf").format is Format.DOCX
    with pytest.raises(FileTypeMismatch) as info:
        extract_text(data, "quyet-dinh.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_TYPE_MISMATCH"
    assert info.value.details["declared"] == "pdf"
    assert info.value.details["detected"] == "docx"
    assert ".pdf" in info.value.message and "docx" in info.value.message


def test_csv_named_txt_and_jpg_named_jpeg_are_not_mismatches() -> None:
    assert not sniff_format(docs.csv_bytes(), "a.txt").mismatch
    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, "JPEG")
    assert not sniff_format(buf.getvalue(), "anh.jpeg").mismatch
    assert not sniff_format(buf.getvalue(), "anh.JPG").mismatch


def test_unknown_content_is_unsupported() -> None:
    with pytest.raises(FileUnsupported) as info:
        extract_text(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "a.bin",
                     settings=SETTINGS)
    assert info.value.code == "FILE_UNSUPPORTED"


def test_garbage_after_pdf_header_is_corrupt() -> None:
    with pytest.raises(FileCorrupt) as info:
        extract_text(b"%PDF-1.7\n" + b"\x8f\x00garbage" * 100, "hong.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_CORRUPT"
    assert _is_vietnamese_message(info.value)


def test_truncated_docx_is_corrupt() -> None:
    data = docs.docx_bytes()
    with pytest.raises(FileCorrupt):
        extract_text(data[: len(data) // 2], "cut.docx", settings=SETTINGS)


def test_password_protected_pdf_is_file_encrypted() -> None:
    reader = pypdf.PdfReader(io.BytesIO(docs.blank_pdf(1)))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.encrypt(user_password="mat-khau", owner_password="chu", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(FileEncrypted) as info:
        extract_text(out.getvalue(), "mat.pdf", settings=SETTINGS)
    assert info.value.code == "FILE_ENCRYPTED"
    assert _is_vietnamese_message(info.value)


def test_password_protected_odt_is_file_encrypted() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>")
        zf.writestr("META-INF/manifest.xml",
                    '<manifest:file-entry manifest:full-path="content.xml">'
                    "<manifest:encryption-data/></manifest:file-entry>")
    with pytest.raises(FileEncrypted):
        extract_text(out.getvalue(), "mat.odt", settings=SETTINGS)


def test_zip_bomb_is_refused_before_parsing() -> None:
    bomb = docs.zip_bomb()
    assert len(bomb) < 1024 * 1024
    with pytest.raises(FileBomb) as info:
        extract_text(bomb, "bom.docx", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"
    assert info.value.details["ratio"] > SETTINGS.max_zip_ratio


def test_total_unzipped_size_is_capped() -> None:
    with pytest.raises(FileBomb) as info:
        extract_text(docs.docx_bytes(), "a.docx",
                     settings=TextSettings(max_unzipped_bytes=1000))
    assert info.value.details["limit"] == 1000


def test_image_claiming_huge_pixel_count_is_a_bomb() -> None:
    with pytest.raises(FileBomb) as info:
        extract_text(docs.png_header_only(100_000, 100_000), "scan.png", settings=SETTINGS)
    assert info.value.code == "FILE_BOMB"


def test_image_over_our_pixel_limit_is_a_bomb_without_decoding() -> None:
    with pytest.raises(FileBomb) as info:
        extract_text(docs.png_header_only(3000, 3000), "scan.png",
                     settings=TextSettings(max_image_pixels=1_000_000))
    assert info.value.details["width"] == 3000


def test_huge_page_count_is_refused() -> None:
    with pytest.raises(FileTooManyPages) as info:
        extract_text(docs.blank_pdf(12), "dai.pdf", settings=TextSettings(max_pages=10))
    assert info.value.code == "FILE_TOO_MANY_PAGES"
    assert info.value.details == {"pages": 12, "limit": 10}


def test_oversized_page_is_rendered_at_a_lower_dpi_with_a_warning() -> None:
    # A 5 m × 5 m scanned page at 300 dpi would be 3.5 gigapixels: it must be scaled down.
    scan = pypdf.PdfReader(docs.CORPUS_PDF / "vn-gov__196cd.signed.pdf")
    writer = pypdf.PdfWriter()
    writer.add_page(scan.pages[1])
    writer.pages[0].scale_to(14173, 14173)
    out = io.BytesIO()
    writer.write(out)
    result = extract_text(out.getvalue(), "kho-lon.pdf",
                          settings=TextSettings(max_render_pixels=2_000_000))
    codes = [w.code for w in result.warnings]
    assert "PAGE_RENDERED_SMALLER" in codes
    assert result.parts[0].source is TextSource.OCR


def test_tika_server_down_is_tika_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    extractor = TikaExtractor(url, TextSettings(tika_url=url, tika_timeout=2))
    with pytest.raises(TikaUnavailable) as info:
        extract_text(docs.docx_bytes(), "a.docx", settings=SETTINGS, extractor=extractor)
    assert info.value.code == "TIKA_UNAVAILABLE"
    assert info.value.http_status == 503
    assert _is_vietnamese_message(info.value)


def test_batch_goes_on_past_bad_documents_and_leaves_originals_untouched() -> None:
    batch = {
        "rong.pdf": b"",
        "nham.pdf": docs.docx_bytes(),
        "bom.docx": docs.zip_bomb(),
        "hong.pdf": b"%PDF-1.4\nxx",
        "tot.odt": docs.odt_bytes(),
        "tot.txt": docs.txt_bytes(),
    }
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in batch.items()}
    status: dict[str, str] = {}
    for name, data in batch.items():
        try:
            result: ExtractedText = extract_text(data, name, settings=SETTINGS)
        except KhoError as err:
            status[name] = err.code
        else:
            status[name] = "OK" if docs.HEADER in result.text else "WRONG"
    assert status == {
        "rong.pdf": "FILE_EMPTY",
        "nham.pdf": "FILE_TYPE_MISMATCH",
        "bom.docx": "FILE_BOMB",
        "hong.pdf": "FILE_CORRUPT",
        "tot.odt": "OK",
        "tot.txt": "OK",
    }
    assert {n: hashlib.sha256(d).hexdigest() for n, d in batch.items()} == digests


def test_damaged_legacy_doc_and_xls_are_corrupt() -> None:
    ole_header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000
    for name in ("cu.doc", "cu.xls"):
        with pytest.raises(FileCorrupt):
            extract_text(ole_header, name, settings=SETTINGS)


def test_decomposed_and_windows_1258_text_come_back_nfc() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", docs.HEADER).encode("utf-8")
    assert extract_text(nfd, "a.txt", settings=SETTINGS).text == docs.HEADER
    # Windows-1258 writes tone marks as combining characters.
    legacy = "\u0110\u00f4\u0323c l\u00e2\u0323p - T\u01b0\u0323 do - Ha\u0323nh phu\u0301c"
    legacy = legacy.encode("cp1258")
    result = extract_text(legacy, "b.txt", settings=SETTINGS)
    assert result.text == docs.MOTTO
    assert [w.code for w in result.warnings] == ["TEXT_ENCODING_GUESSED"]
