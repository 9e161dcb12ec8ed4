"""The viewer cross-check (:mod:`ingest.signatures._viewer`) sees where things are drawn, not
only what: two pages with the same text and the same kinds of objects, drawn at other places,
are different pages for a person. (With pypdfium2 5, whose page objects have ``get_bounds``
instead of 4's ``get_pos``, every position used to read as empty, so a moved text or image
compared equal.)"""

from __future__ import annotations

import zlib

from pdf_objects import pdf_from_objects

from ingest.signatures import _viewer


def _pdf(content: bytes) -> bytes:
    """A one-page PDF (Helvetica, A4) whose page draws ``content``."""
    stream = zlib.compress(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def _text_at(x: int, y: int) -> bytes:
    return b"BT /F1 14 Tf %d %d Td (Quyet dinh so 12) Tj ET\n" % (x, y)


def test_the_same_text_drawn_elsewhere_is_a_different_page() -> None:
    signed = _viewer.page_view(_pdf(_text_at(72, 760)))
    moved = _viewer.page_view(_pdf(_text_at(72, 120)))
    assert signed.pages[0].text == moved.pages[0].text  # the text alone cannot tell them apart
    assert all(bounds for _, bounds, _ in signed.pages[0].objects)  # every position was read
    assert _viewer.differences(signed, moved) == "nội dung hiển thị của trang 1 khác phiên bản đã ký"


def test_the_same_page_is_the_same_view() -> None:
    page = _pdf(_text_at(72, 760) + b"0 0 1 rg 100 100 50 50 re f\n")
    assert _viewer.differences(_viewer.page_view(page), _viewer.page_view(page)) is None


def test_a_rectangle_moved_under_the_same_text_is_a_different_page() -> None:
    text = _text_at(72, 760)
    signed = _viewer.page_view(_pdf(text + b"1 1 1 rg 60 750 300 30 re f\n"))
    # a white box moved over the text hides it on screen; the text layer is unchanged
    covered = _viewer.page_view(_pdf(text + b"1 1 1 rg 60 750 300 30 re f\n".replace(b"750", b"755")))
    assert signed.pages[0].text == covered.pages[0].text
    assert _viewer.differences(signed, covered) is not None


def _wrapped_objects(page: object) -> tuple[tuple[int, tuple[float, ...], str], ...]:
    """The page objects as the view read them before, through pypdfium2's wrappers
    (``page.get_objects(max_depth=2)``): what :func:`_viewer.page_objects` must reproduce."""
    import hashlib

    import pypdfium2 as pdfium

    out = []
    for obj in page.get_objects(max_depth=2):  # type: ignore[attr-defined]
        try:
            bounds = tuple(round(v, 2) for v in obj.get_bounds())
        except pdfium.PdfiumError:
            bounds = ()
        digest = ""
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE:
            digest = hashlib.sha256(bytes(obj.get_data(decode_simple=False))).hexdigest()
        out.append((int(obj.type), bounds, digest))
    return tuple(out)


def test_page_objects_read_through_the_c_api_are_those_of_the_wrappers() -> None:
    """Every page of the corpus (scans: images; born-digital: text, paths, forms; signed:
    stamps) gives the same objects, in the same order, read either way."""
    import os
    from pathlib import Path

    import pypdfium2 as pdfium

    shared = Path(os.environ.get("KHO_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
    files = sorted((shared / "corpora" / "pdf").glob("*.pdf"))
    assert len(files) >= 20, "corpus not found (set KHO_SHARED_DIR)"
    kinds: set[int] = set()
    pages = 0
    for path in files:
        try:
            doc = pdfium.PdfDocument(path.read_bytes())
        except pdfium.PdfiumError:
            continue  # unreadable on purpose (the hostile part of the corpus)
        try:
            for index in range(min(len(doc), 6)):
                page = doc[index]
                try:
                    got = _viewer.page_objects(page.raw)
                    assert got == _wrapped_objects(page), f"{path.name} page {index + 1}"
                    kinds.update(kind for kind, _, _ in got)
                    pages += 1
                finally:
                    page.close()
        finally:
            doc.close()
    raw = pdfium.raw
    # the comparison covered text, paths, images and form XObjects (nested objects included)
    wanted = {raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_FORM}
    assert wanted <= kinds
    assert pages >= 60
