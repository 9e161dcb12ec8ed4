"""Tesseract OCR: one process per page, single-threaded, fed a PGM image on stdin.

``OMP_THREAD_LIMIT=1`` keeps each Tesseract on one core; throughput comes from running one
process per core (``ocr_pages(..., jobs=2)``, or one worker per core with ``jobs=1``).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from ingest.text.errors import OcrFailed, OcrUnavailable
from ingest.text.model import TextWarning

TESSERACT = "tesseract"
FALLBACK_LANG = "eng"


@dataclass(frozen=True)
class PageImage:
    """One page to OCR: encoded image bytes (PGM from :func:`encode_pgm`) and its resolution."""

    number: int
    data: bytes
    dpi: int


@dataclass(frozen=True)
class OcrResult:
    number: int
    text: str
    """Raw Tesseract output (not yet NFC-normalised)."""
    seconds: float
    timed_out: bool = False


def encode_pgm(image: Image.Image) -> bytes:
    """Grayscale binary PGM: no compression to pay for, and Leptonica reads it from stdin."""
    if image.mode != "L":
        image = image.convert("L")
    buf = io.BytesIO()
    image.save(buf, format="PPM")
    return buf.getvalue()


def tesseract_command(lang: str, dpi: int, source: str = "stdin") -> list[str]:
    """The exact command line used for every page (the benchmark's baseline reuses it)."""
    return [TESSERACT, source, "stdout", "-l", lang, "--dpi", str(dpi), "--psm", "3"]


def tesseract_env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


@functools.cache
def available_languages() -> frozenset[str]:
    if shutil.which(TESSERACT) is None:
        raise OcrUnavailable("Không tìm thấy chương trình nhận dạng chữ Tesseract trên máy chủ.")
    proc = subprocess.run(
        [TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    )
    lines = (proc.stdout or "").splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def resolve_language(requested: str) -> tuple[str, TextWarning | None]:
    """``requested`` if all its models are installed, else ``eng`` with a warning."""
    have = available_languages()
    wanted = [lang for lang in requested.split("+") if lang]
    if wanted and all(lang in have for lang in wanted):
        return "+".join(wanted), None
    if FALLBACK_LANG not in have:
        raise OcrUnavailable(
            f"Thiếu mô hình ngôn ngữ Tesseract “{requested}” và cả “{FALLBACK_LANG}”.",
            requested=requested,
        )
    missing = [lang for lang in wanted if lang not in have]
    return FALLBACK_LANG, TextWarning(
        code="OCR_LANG_FALLBACK",
        message=(
            f"Thiếu mô hình ngôn ngữ Tesseract {', '.join(missing) or requested}; đã nhận "
            "dạng bằng tiếng Anh (eng), dấu tiếng Việt có thể bị mất."
        ),
    )


def ocr_image(page: PageImage, *, lang: str, timeout: float) -> OcrResult:
    """OCR one page; a timeout kills Tesseract and returns ``timed_out=True``."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            tesseract_command(lang, page.dpi),
            input=page.data, capture_output=True, timeout=timeout, env=tesseract_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return OcrResult(page.number, "", time.perf_counter() - start, timed_out=True)
    except OSError as exc:
        raise OcrUnavailable("Không chạy được Tesseract trên máy chủ.") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise OcrFailed(
            f"Tesseract lỗi khi nhận dạng trang {page.number}.",
            page=page.number, returncode=proc.returncode, stderr=tail,
        )
    return OcrResult(page.number, proc.stdout.decode("utf-8", "replace"),
                     time.perf_counter() - start)


def ocr_pages(
    pages: Iterable[PageImage], *, lang: str, timeout: float, jobs: int = 2
) -> Iterator[OcrResult]:
    """OCR many pages with ``jobs`` Tesseract processes at once; results in input order.

    ``pages`` is consumed lazily in the caller's thread (so it may render with pdfium, which
    is not thread-safe) and at most ``2 * jobs`` images are held at a time. After a page times
    out no further page is started: the pages in flight finish, then the iterator ends.
    """
    if jobs <= 1:
        for page in pages:
            result = ocr_image(page, lang=lang, timeout=timeout)
            yield result
            if result.timed_out:
                return
        return
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ocr") as pool:
        pending: deque[Future[OcrResult]] = deque()
        source = iter(pages)
        stop = False
        try:
            while True:
                while not stop and len(pending) < 2 * jobs:
                    page = next(source, None)
                    if page is None:
                        stop = True
                        break
                    pending.append(pool.submit(ocr_image, page, lang=lang, timeout=timeout))
                if not pending:
                    return
                result = pending.popleft().result()
                if result.timed_out:
                    stop = True
                yield result
        finally:
            for fut in pending:
                fut.cancel()
