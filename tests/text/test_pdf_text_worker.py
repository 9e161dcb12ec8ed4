"""The bounded pdfium worker (:mod:`ingest.text.box`) gives what the in-process read gives: the
same text layer for every page and the same page image, over the corpus PDFs and the PDFs the
tests make; and a worker past its bound is replaced, the next document read as before."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import textdocs
from pdf_objects import nested_forms_pdf

from ingest.text import box
from ingest.text.errors import FileTooComplex
from ingest.text.extractor import extract_text
from ingest.text.pdf import read_text_layer
from ingest.text.settings import TextSettings
from web.pages.document_view import PAGE_SCALE, draw_page, render_page

SETTINGS = TextSettings(ocr_enabled=False)


def _made() -> dict[str, bytes]:
    return {
        "text-1": textdocs.pdf_with_text(),
        "text-3": textdocs.pdf_with_text(pages=3),
        "blank-2": textdocs.blank_pdf(2),
        "blank-a3": textdocs.blank_pdf(1, (842, 1191)),
    }


def _all_pdfs(corpus_pdf_dir: Path) -> dict[str, bytes]:
    found = {path.name: path.read_bytes() for path in sorted(corpus_pdf_dir.glob("*.pdf"))}
    assert len(found) >= 50  # the corpus is there (52 files)
    return {**found, **_made()}


def test_the_worker_reads_the_same_text_layer_as_the_process(corpus_pdf_dir: Path) -> None:
    differ, read = [], 0
    for name, data in _all_pdfs(corpus_pdf_dir).items():
        try:
            here = read_text_layer(data, SETTINGS)
        except Exception as exc:  # a file pdfium refuses must be refused the same way there
            with pytest.raises(type(exc)) as there:
                box.run("text", data, (SETTINGS,), timeout=60, memory_mb=SETTINGS.text_layer_memory_mb)
            assert there.value.args == exc.args, name
            continue
        there_infos = box.run("text", data, (SETTINGS,), timeout=60, memory_mb=SETTINGS.text_layer_memory_mb)
        read += 1
        if there_infos != here:
            differ.append(name)
    assert read >= 50 and differ == []


def test_the_worker_draws_the_same_page_image_as_the_process(corpus_pdf_dir: Path) -> None:
    differ, drawn = [], 0
    for name, data in _all_pdfs(corpus_pdf_dir).items():
        try:
            here = draw_page(data, 1, PAGE_SCALE, TextSettings())
        except Exception as exc:
            with pytest.raises(type(exc)):
                render_page(data, 1)
            continue
        drawn += 1
        if render_page(data, 1) != here:
            differ.append(name)
    assert drawn >= 50 and differ == []


def test_a_worker_past_its_bound_is_replaced_and_threads_share_the_pool() -> None:
    """Nested forms 14 deep under a 256 MB bound: the worker dies (or answers out of memory),
    the file is FILE_TOO_COMPLEX; documents read from four threads at once afterwards all get
    the in-process answer (the pool is shared by the process's threads)."""
    small = TextSettings(ocr_enabled=False, text_layer_memory_mb=256)
    with pytest.raises(FileTooComplex) as refused:
        extract_text(nested_forms_pdf(14), "forms.pdf", settings=small)
    assert refused.value.code == "FILE_TOO_COMPLEX"
    data = textdocs.pdf_with_text(pages=3)
    expected = read_text_layer(data, small)
    results: list[object] = []

    def read() -> None:
        results.append(box.run("text", data, (small,), timeout=60, memory_mb=256))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == [expected] * 4
