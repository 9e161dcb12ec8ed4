"""Limits and switches of text extraction, read from ``KHO_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from kho.config import process_settings

MIB = 1024 * 1024


@dataclass(frozen=True)
class TextSettings:
    tika_url: str | None = None
    """Apache Tika server (``KHO_TIKA_URL``); ``None`` selects the native extractor."""
    tika_timeout: float = 120.0
    ocr_enabled: bool = True
    ocr_lang: str = "vie"
    """Tesseract language(s), e.g. ``vie`` or ``vie+eng`` (``KHO_OCR_LANG``); falls back to
    ``eng`` with a warning when a model is missing."""
    ocr_dpi: int = 300
    """Render resolution of image-only PDF pages (Tesseract's optimum; NĐ 30 scans are 200 dpi+)."""
    ocr_scan_images: bool = False
    """A PDF page that is only one upright scanned image, between :attr:`ocr_min_scan_dpi` and
    ``ocr_dpi``, is OCR'd from that image at its own resolution instead of a rendering of the
    page (``KHO_OCR_SCAN_IMAGES=1``). A 200 dpi scan then costs Tesseract about a third less
    CPU, but on the corpus it recognised slightly fewer words than the 300 dpi rendering
    (bench/NOTES-issue14-ocr.md), so it is off by default."""
    ocr_min_scan_dpi: int = 200
    """Scans coarser than this (NĐ 30/2020 Phụ lục I: 200 dpi) are rendered at ``ocr_dpi``."""
    ocr_page_timeout: float = 120.0
    """Seconds one page may take in Tesseract (``KHO_OCR_TIMEOUT``)."""
    ocr_memory_mb: int = 2048
    """Address space one Tesseract process may use (``KHO_OCR_MEMORY_MB``, ``RLIMIT_AS`` set in
    the child): a page of 144 megapixels (:attr:`max_image_pixels` allows 150) took 790 MB, an A4
    page at 300 dpi 76 MB. Past it the page fails FILE_TOO_COMPLEX naming it (review a21)."""
    ocr_jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Pages of one document OCR'd at once (``KHO_OCR_JOBS``, default: the cores). Every
    worker spreads its pages over all the cores; :attr:`ocr_slots` keeps the machine from
    running more Tesseracts than that, so a lone long document uses every core and two
    documents share them page by page."""
    ocr_slots: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Tesseract processes at once on this machine, across every worker process
    (``KHO_OCR_SLOTS``, default: the cores; 0: no limit)."""
    max_file_bytes: int = 512 * MIB
    max_text_chars: int = 10_000_000
    """More text than this in one file (``KHO_MAX_TEXT_CHARS``): FILE_TEXT_TOO_LARGE. Ten
    million characters are 5,000 pages (:attr:`max_pages`) of 2,000; an Office file the zip
    guard lets through may hold a gigabyte of text, which Tika's answer, the stored text and
    the index document would each carry whole."""
    max_pages: int = 5000
    """More pages than this: FILE_TOO_MANY_PAGES."""
    max_ocr_pages: int = 1000
    """More pages needing OCR than this: FILE_TOO_MANY_PAGES."""
    max_image_pixels: int = 150_000_000
    """An image (or TIFF frame) larger than this is a FILE_BOMB."""
    max_render_pixels: int = 40_000_000
    """A PDF page is rendered at a lower dpi when the target dpi would exceed this."""
    text_layer_timeout: float = 180.0
    """Seconds pdfium may take to read every page's text layer of one PDF. It runs in a bounded
    worker process (:mod:`ingest.text.box`) so that a page which never ends, or grows without end, costs
    this and no more: FILE_TOO_COMPLEX. 5,000 ordinary pages take ~50 s on a loaded core."""
    text_layer_memory_mb: int = 2048
    """Address space the text-layer worker (:mod:`ingest.text.box`) may add to what it maps at
    its start, pdfium loaded: a 2.7 KB PDF of forms
    drawn three times inside each other 13 deep took 658 MB, each level three times more; a
    48 MB content stream of text lines, 6.5 GB. Past it pdfium aborts: FILE_TOO_COMPLEX."""
    ocr_render_timeout: float = 60.0
    """Seconds pdfium may take to draw one page for OCR, in the text layer's worker process
    (:func:`ingest.text.pdf.rendered_in_worker`): a page of one 22000² image (470 KB of Flate)
    took 4.8 s and 670 MB; past it: FILE_TOO_COMPLEX naming the page."""
    ocr_render_memory_mb: int = 2048
    """Address space the worker drawing a page for OCR may add to its start (a 40 MP page,
    :attr:`max_render_pixels`, is 40 MB of gray; opening a 306 KB scan whose cross-reference
    stream inflates to 300 MiB took 658 MB). The same as :attr:`text_layer_memory_mb`, so one
    worker serves both; past it pdfium aborts: FILE_TOO_COMPLEX."""
    max_view_pixels: int = 8_000_000
    """A page image in the viewer (web process) is drawn smaller when ``PAGE_SCALE`` would make
    more pixels than this: a 333-byte PDF whose page is 200 × 200 inches (MediaBox 14400²) drew
    21600² pixels, 3.2 GB and 13 s of CPU in the web worker, per page. 8 MP is an A0 sheet at
    ~70 dpi, or A1 at 108 dpi (the viewer's usual scale); an A4 page is 1.1 MP."""
    max_view_side: int = 10_000
    """Neither side of a viewer page image is longer than this many pixels (a 1 × 200-inch strip
    is within :attr:`max_view_pixels` but not a picture anyone reads)."""
    view_timeout: float = 30.0
    """Seconds the viewer may take to draw one page image (in a worker process of the web
    process, :mod:`ingest.text.box`; gunicorn kills a worker at 120 s)."""
    view_memory_mb: int = 1024
    """Address space the viewer's drawing worker may add to its start: an 8 MP image is 24 MB;
    a 2.9 KB page of nested forms took 1.9 GB (14 deep) in the web worker, each level three times more."""
    print_timeout: float = 90.0
    """Seconds pypdf may take to make a print copy (in the page images' worker, under gunicorn's
    120 s): 2,000 blank pages took 11.5 s on one core. Past it: PRINT_TOO_COMPLEX."""
    print_memory_mb: int = 1024
    """Address space the print copy's worker may add to its start (the same as
    :attr:`view_memory_mb`, so the page images' worker makes it): 2,000 pages took 350 MB."""
    print_max_pages: int = 5000
    """A PDF of more pages than this (:attr:`max_pages`, the most ingest reads) gets no print
    copy: PRINT_TOO_COMPLEX. Its original, stored before the text step refused it, downloads."""
    print_max_bytes: int = 512 * MIB
    """The largest print copy sent back (pypdf writes content streams uncompressed: a 122 KB page
    of one 40 MB stream made a 42 MB copy); a larger one is PRINT_TOO_COMPLEX."""
    max_unzipped_bytes: int = 1024 * MIB
    max_zip_ratio: int = 200
    """Entries larger than 10 MiB must not be compressed more than this ratio."""
    max_zip_entries: int = 20_000
    max_pdf_inflated_bytes: int = 512 * MIB
    max_pdf_inflate_ratio: int = 200
    """A PDF whose Flate streams inflate to more than ``max_pdf_inflated_bytes`` in all *and* to
    more than ``max_pdf_inflate_ratio`` times the file's size is a FILE_BOMB (pdfium inflates a
    stream whole in memory: a 1 MiB file of one 1 GiB content stream took 2 GiB and 27 s). A
    long colour scan inflates to gigabytes too, but at a ratio of ~10, not ~1000."""
    tool_timeout: float = 120.0
    """Seconds for antiword/catdoc."""
    min_text_layer_chars: int = 16
    """A PDF page with fewer visible characters in its text layer is OCR'd."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TextSettings:
        """The limits set in ``env`` (default: the process environment), parsed and bounded by
        :func:`kho.config.process_settings` (a bad one is refused with its name)."""
        env = os.environ if env is None else env
        limits = process_settings(env)
        cores = os.cpu_count() or 1
        return cls(
            tika_url=(env.get("KHO_TIKA_URL") or "").strip() or None,
            ocr_enabled=limits.ocr_enabled,
            ocr_lang=(env.get("KHO_OCR_LANG") or "vie").strip(),
            ocr_dpi=limits.ocr_dpi,
            ocr_scan_images=env.get("KHO_OCR_SCAN_IMAGES", "0").strip().lower() in ("1", "true", "yes"),
            ocr_page_timeout=limits.ocr_timeout,
            ocr_memory_mb=limits.ocr_memory_mb,
            ocr_jobs=limits.ocr_jobs or cores,
            ocr_slots=cores if limits.ocr_slots is None else limits.ocr_slots,
            max_pages=limits.max_pages,
            max_text_chars=limits.max_text_chars,
            max_ocr_pages=limits.max_ocr_pages,
        )
