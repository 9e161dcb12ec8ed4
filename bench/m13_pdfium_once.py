"""What reading the final document with pdfium once would save (m12 §4 lead 1), per document.

    .venv/bin/python bench/m13_pdfium_once.py [N] [ROUNDS]

On N (default 60) documents of ``~/.cache/kho-bench/signed-200x3`` (``bench/bench_ingest.py
--count 200`` makes them), in this process, CPU per document of:

* the text worker's read, ``ingest.text.pdf.read_text_layer`` (open, every page, its text page,
  ``get_text_bounded``, the object walk for the OCR decision);
* the verifier's view of the final document, ``ingest.signatures._viewer.page_view`` (open,
  every page, its text page, ``get_text_range``, every page object);
* both from one open: each page and text page loaded once, both readings taken from them;
* the text layer's own calls on pages and text pages already loaded (the cost option (a) would
  add to the verification worker).

Nothing is changed: this measures the prize, not a change.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdfium2 as pdfium

from ingest.signatures._viewer import page_objects, page_view
from ingest.text import TextSettings
from ingest.text.pdf import _objects_and_image_area, _usable, clean_text, read_text_layer

FOLDER = Path.home() / ".cache" / "kho-bench" / "signed-200x3"
SETTINGS = TextSettings.from_env()


def both(data: bytes) -> list[Any]:
    doc = pdfium.PdfDocument(data)
    out = []
    try:
        for index in range(len(doc)):
            page = doc[index]
            page.get_size()
            textpage = page.get_textpage()
            viewer_text, text = textpage.get_text_range(), clean_text(textpage.get_text_bounded())
            textpage.close()
            objects, (has_objects, image_area) = page_objects(page.raw), _objects_and_image_area(page)
            out.append(
                (
                    viewer_text,
                    text,
                    objects,
                    has_objects,
                    image_area,
                    _usable(text, SETTINGS.min_text_layer_chars),
                )
            )
            page.close()
    finally:
        doc.close()
    return out


def text_on_open_pages(data: bytes) -> float:
    doc = pdfium.PdfDocument(data)
    pages = [doc[i] for i in range(len(doc))]
    textpages = [p.get_textpage() for p in pages]
    began = time.process_time()
    for page, textpage in zip(pages, textpages, strict=True):
        text = clean_text(textpage.get_text_bounded())
        _objects_and_image_area(page)
        _usable(text, SETTINGS.min_text_layer_chars)
    spent = time.process_time() - began
    for textpage in textpages:
        textpage.close()
    for page in pages:
        page.close()
    doc.close()
    return spent


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    datas = [p.read_bytes() for p in sorted(FOLDER.glob("signed-*.pdf"))[:count]]
    readers = {
        "text worker read": lambda d: read_text_layer(d, SETTINGS),
        "viewer final view": page_view,
        "both from one open": both,
    }
    for _ in range(rounds):
        figures = {}
        for name, read in readers.items():
            began = time.process_time()
            for data in datas:
                read(data)
            figures[name] = 1000 * (time.process_time() - began) / len(datas)
        extra = 1000 * sum(text_on_open_pages(d) for d in datas) / len(datas)
        print(
            " | ".join(f"{k} {v:.2f} ms" for k, v in figures.items()),
            f"| text calls on open pages {extra:.2f} ms",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
