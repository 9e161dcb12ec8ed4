"""The viewer cross-check (:mod:`ingest.signatures._viewer`) sees where things are drawn, not
only what: two pages with the same text and the same kinds of objects, drawn at other places,
are different pages for a person. (With pypdfium2 5, whose page objects have ``get_bounds``
instead of 4's ``get_pos``, every position used to read as empty, so a moved text or image
compared equal.)"""

from __future__ import annotations

import zlib

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
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


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
