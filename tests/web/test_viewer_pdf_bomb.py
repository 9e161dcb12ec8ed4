"""A stored PDF decompression bomb is not inflated by the viewer: the page images, the page
count of the record page and the print copy refuse it (FILE_BOMB, 422) before pdfium or pypdf
inflate its streams. Such a file is in the store when it was registered before the text step's
guard, or stored and then refused by ingest (the original is kept)."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from kho_peak import peak_mb, reset_peak
from kho_people import People
from kho_testing import incoming
from kho_web import login
from pdf_objects import flate_bomb_pdf, nested_forms_pdf, pdf_from_objects
from PIL import Image

from ingest.text.settings import TextSettings
from retention.service import page_count
from web.context import Kho

INFLATED = 600 * 1024 * 1024
"""Above the 512 MiB the text step allows at a ratio over 200 (about 600 KiB of Flate data)."""


def test_the_viewer_refuses_a_stored_bomb(app: Flask, client: FlaskClient, kho: Kho, people: People) -> None:
    """Before: pdfium inflated the 600 MiB content stream to draw page 1 (seconds of CPU and
    over a GiB of memory in the web process, for every request), and the print copy was a 500
    (pypdf's LimitReachedError)."""
    bomb = flate_bomb_pdf(INFLATED)
    record = kho.repo.create_document("den", incoming(), bomb, "cv.pdf", people.actor("van_thu"))
    clerk = people.headers("van_thu")
    page = client.get(f"/api/records/{record.record_id}/pages/1", headers=clerk)
    assert page.status_code == 422 and page.json["error"]["code"] == "FILE_BOMB", page.data[:300]
    assert "bom giải nén" in page.json["error"]["message"]
    printed = client.post(f"/api/records/{record.record_id}/print", headers=clerk)
    assert printed.status_code == 422 and printed.json["error"]["code"] == "FILE_BOMB"
    assert page_count(bomb) is None  # the lưu trữ viên's review counts no pages of it
    web = app.test_client()
    login(web, people, "van_thu")
    view = web.get(f"/records/{record.record_id}")
    assert view.status_code == 200  # the record page still opens, with no page images
    assert f"/records/{record.record_id}/pages/1.png" not in view.get_data(as_text=True)


def test_a_print_copy_pypdf_cannot_make_is_a_coded_refusal(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """One 80 MiB content stream is under the bomb limits (512 MiB) but over pypdf's 75 MB:
    the print copy raised LimitReachedError, a 500 with a traceback."""
    pdf = flate_bomb_pdf(80 * 1024 * 1024)
    record = kho.repo.create_document("den", incoming(), pdf, "cv.pdf", people.actor("van_thu"))
    printed = client.post(f"/api/records/{record.record_id}/print", headers=people.headers("van_thu"))
    assert printed.status_code == 422, printed.data[:300]
    error = printed.json["error"]
    assert error["code"] == "PRINT_UNAVAILABLE" and "tải bản gốc" in error["message"]


VIEW_PIXELS = 8_000_000
VIEW_SIDE = 10_000


def _one_blank_page(width: int, height: int) -> bytes:
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] >>" % (width, height),
    ])


def test_a_huge_page_is_drawn_within_the_viewer_pixel_bound(
    app: Flask, client: FlaskClient, kho: Kho, people: People
) -> None:
    """A 332-byte PDF whose one page is 200 × 42 inches: the viewer drew it at its usual scale,
    21600 × 4500 pixels (704 MB of memory and 1.7 s of CPU in the web worker; a 200 × 200-inch
    page took 3.2 GB and 13 s), and a 200,000-point page was a 500 (MemoryError). Now both are
    drawn within ``max_view_pixels``, and a page too thin to draw is a coded refusal."""
    clerk = people.headers("van_thu")

    def stored(width: int, height: int) -> str:
        pdf = _one_blank_page(width, height)
        fields = incoming(code_number=str(width))
        return kho.repo.create_document("den", fields, pdf, "a.pdf", people.actor("van_thu")).record_id

    wide = stored(14400, 3000)
    page = client.get(f"/api/records/{wide}/pages/1", headers=clerk)
    assert page.status_code == 200, page.data[:300]
    with Image.open(io.BytesIO(page.data)) as image:
        width, height = image.size
    assert width * height <= VIEW_PIXELS and max(width, height) <= VIEW_SIDE, (width, height)
    assert abs(width / height - 14400 / 3000) < 0.01  # the same page, only smaller
    huge = stored(200000, 200000)
    page = client.get(f"/api/records/{huge}/pages/1", headers=clerk)
    assert page.status_code == 200, page.data[:300]
    thin = stored(10**9, 1)
    page = client.get(f"/api/records/{thin}/pages/1", headers=clerk)
    assert page.status_code == 404 and page.json["error"]["code"] == "PAGE_NOT_RENDERED", page.data[:300]
    assert "tải bản gốc" in page.json["error"]["message"]
    web = app.test_client()
    login(web, people, "van_thu")
    shown = web.get(f"/records/{wide}/pages/1.png")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    limits = TextSettings()  # the bounds asserted above are the settings' defaults
    assert (limits.max_view_pixels, limits.max_view_side) == (VIEW_PIXELS, VIEW_SIDE)


def test_a_page_of_nested_forms_is_drawn_in_a_bounded_child(
    client: FlaskClient, kho: Kho, people: People
) -> None:
    """A 2.9 KB page of forms drawn three times inside each other 14 deep: pdfium drew it in the
    web worker with 1.9 GB and 5.8 s of CPU (16 deep: ~17 GB); no pixel bound helps. Now the
    drawing child hits ``view_memory_mb`` and the page is a coded refusal, the worker unharmed."""
    pdf = nested_forms_pdf(14)
    record = kho.repo.create_document("den", incoming(), pdf, "forms.pdf", people.actor("van_thu"))
    before = reset_peak()
    page = client.get(f"/api/records/{record.record_id}/pages/1", headers=people.headers("van_thu"))
    grown_mb = peak_mb() - before
    assert page.status_code == 404 and page.json["error"]["code"] == "PAGE_NOT_RENDERED", page.data[:300]
    assert grown_mb < 300, grown_mb  # the web process itself did not draw it
