"""Tesseract OCR: one process per page, single-threaded, fed an uncompressed BMP file.

``OMP_THREAD_LIMIT=1`` keeps each Tesseract on one core; throughput comes from running one
process per core. Pages, not documents, are spread over the cores: every document's pages are
OCR'd ``jobs`` at a time, and :class:`OcrSlots` (lock files shared by every worker process on
the machine) lets at most one Tesseract per core run at once, so a long document left alone
at the end of a batch still uses every core, and several workers share them page by page.

A page reaches Tesseract as a private temporary file, not on stdin: Tesseract reads stdin one
character at a time through ``std::cin`` (about 0.3 s of CPU for a 300 dpi A4 page, a tenth of
its whole OCR time) and Leptonica reads PGM one byte per ``fread``; an uncompressed BMP file is
read in one go and costs Python 10 ms to write (bench/NOTES-issue14-ocr.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ingest.text.errors import FileTooComplex, OcrFailed, OcrKilled, OcrUnavailable
from ingest.text.model import TextWarning

TESSERACT = "tesseract"
FALLBACK_LANG = "eng"
RETRY_SCALE = 0.7
"""A page whose Tesseract was killed (SIGKILL) is read once more at this fraction of its width
and height: about half the pixels, so about half of Tesseract's memory."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageImage:
    """One page to OCR: encoded image bytes (from :func:`encode_page`, or any format Leptonica
    reads) and its resolution."""

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
    retried_dpi: int | None = None
    """The resolution the page was read at after its first Tesseract was killed (None: read
    at its own)."""


def encode_page(image: Image.Image) -> bytes:
    """Grayscale uncompressed BMP: nothing to compress or decompress, and Leptonica reads it
    with one ``fread`` (PGM costs Tesseract 6 % more CPU, PNG costs Python 0.1–0.2 s)."""
    if image.mode != "L":
        image = image.convert("L")
    buf = io.BytesIO()
    image.save(buf, format="BMP")
    return buf.getvalue()


def tesseract_command(lang: str, dpi: int, source: str = "stdin") -> list[str]:
    """The exact command line used for every page (the benchmark's baseline reuses it)."""
    return [TESSERACT, source, "stdout", "-l", lang, "--dpi", str(dpi), "--psm", "3"]


def bounded(command: list[str], memory_mb: int | None) -> list[str]:
    """``command`` with its address space capped at ``memory_mb`` MiB (``RLIMIT_AS``), set by a
    shell that then ``exec``s it: no Python runs between fork and exec (``preexec_fn`` is unsafe
    beside the OCR threads), and the cap is the child's only. None: no cap."""
    if memory_mb is None:
        return command
    return ["/bin/sh", "-c", 'ulimit -v "$0" && exec "$@"', str(memory_mb * 1024), *command]


# What Tesseract and Leptonica print when an allocation fails under the cap (measured at 300 and
# 100 MiB: "pixdata_malloc fail", "libpng error: Out of memory"; also on a SIGSEGV after a failed
# malloc or a SIGABRT after std::bad_alloc). Only that is the cap: a signal without it is a crash
# or a kill from outside (review rv16), not a page past the bound.
_OUT_OF_MEMORY = (b"malloc fail", b"bad_alloc", b"failed to map segment", b"Cannot allocate memory",
                  b"Out of memory")


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


class OcrSlots:
    """At most ``count`` Tesseract processes at once across every process of this machine.

    Slot ``i`` is an exclusive ``flock`` on ``<directory>/slot-<i>``: released by the kernel
    when its holder exits, however it exits, so a crashed worker never keeps a slot. A page
    waits for a free slot (polled every :attr:`POLL` seconds, small beside a page's 1–3 s).
    """

    POLL = 0.005

    def __init__(self, count: int, directory: Path | None = None) -> None:
        self.count = count
        self.directory = directory or Path(tempfile.gettempdir()) / "kho-ocr-slots"

    @contextlib.contextmanager
    def hold(self) -> Iterator[int]:
        if self.count <= 0:
            yield -1
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            for number in range(self.count):
                fd = os.open(self.directory / f"slot-{number}", os.O_RDWR | os.O_CREAT, 0o666)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield number
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            time.sleep(self.POLL)


@functools.cache
def machine_slots(count: int) -> OcrSlots:
    return OcrSlots(count)


def ocr_image(
    page: PageImage, *, lang: str, timeout: float, slots: OcrSlots | None = None,
    memory_mb: int | None = None,
) -> OcrResult:
    """OCR one page; a timeout kills Tesseract and returns ``timed_out=True``; past
    ``memory_mb`` (:func:`bounded`) the page is FILE_TOO_COMPLEX.

    With ``slots``, Tesseract starts once a machine-wide slot is free (the wait is not part
    of the page's timeout).

    A Tesseract killed from outside (SIGKILL: the kernel's out-of-memory killer) is run once
    more on the page scaled by :data:`RETRY_SCALE`, in the same slot; killed again, the page is
    OCR_KILLED (:class:`~ingest.text.errors.OcrKilled`)."""
    with slots.hold() if slots is not None else contextlib.nullcontext():
        try:
            return _run_tesseract(page, lang=lang, timeout=timeout, memory_mb=memory_mb)
        except OcrFailed as exc:
            if exc.details.get("signal") != "SIGKILL":
                raise
        smaller = _smaller(page)
        logger.warning(
            "tesseract killed (SIGKILL) on page %d; reading it again at %d dpi", page.number, smaller.dpi
        )
        try:
            result = _run_tesseract(smaller, lang=lang, timeout=timeout, memory_mb=memory_mb)
        except OcrFailed as exc:
            if exc.details.get("signal") != "SIGKILL":
                raise
            raise OcrKilled(
                f"Tiến trình nhận dạng chữ trang {page.number} bị hệ điều hành dừng (SIGKILL, thường"
                f" do máy chủ thiếu bộ nhớ) hai lần, kể cả khi đọc lại ở độ phân giải thấp hơn"
                f" ({smaller.dpi} dpi). Bản gốc vẫn được lưu; hãy chạy lại khi máy chủ rảnh hơn"
                " (“kho ingest retry”) hoặc gửi bản quét nhỏ hơn.",
                page=page.number,
                dpi=page.dpi,
                retried_dpi=smaller.dpi,
                returncode=-signal.SIGKILL,
                signal="SIGKILL",
            ) from exc
        return dataclasses.replace(result, retried_dpi=smaller.dpi)


def _smaller(page: PageImage) -> PageImage:
    """``page`` scaled by :data:`RETRY_SCALE` (its resolution with it), encoded as pages are."""
    with Image.open(io.BytesIO(page.data)) as image:
        width, height = (max(1, round(side * RETRY_SCALE)) for side in image.size)
        smaller = image.convert("L").resize((width, height), Image.Resampling.LANCZOS)
    return PageImage(page.number, encode_page(smaller), max(1, round(page.dpi * RETRY_SCALE)))


def retry_warning(result: OcrResult) -> TextWarning | None:
    """The warning a page read again at a lower resolution carries (None for any other)."""
    if result.retried_dpi is None:
        return None
    return TextWarning(
        code="OCR_RETRIED_SMALLER",
        message=(
            f"Trang {result.number}: tiến trình nhận dạng chữ bị dừng (thường do thiếu bộ nhớ) nên"
            f" đã nhận dạng lại ở độ phân giải thấp hơn ({result.retried_dpi} dpi); chữ có thể kém"
            " chính xác hơn."
        ),
        page=result.number,
    )


# Leptonica's image signatures (BMP, PNM, PNG, TIFF, JPEG). Tesseract takes an input it cannot
# identify as a list of file names and OCRs each file it names: such bytes never reach it.
_IMAGE_MAGIC = (b"BM", b"P4", b"P5", b"P6", b"\x89PNG", b"II*\x00", b"MM\x00*", b"\xff\xd8\xff")


def _run_tesseract(page: PageImage, *, lang: str, timeout: float, memory_mb: int | None = None) -> OcrResult:
    if not page.data.startswith(_IMAGE_MAGIC):
        raise OcrFailed(
            f"Ảnh trang {page.number} không ở định dạng ảnh được hỗ trợ để nhận dạng chữ.",
            page=page.number, reason="not-an-image",
        )
    start = time.perf_counter()
    # Readable by this user only (mkstemp), removed however Tesseract ends; never fsync'd:
    # it lives for seconds, in the page cache.
    with tempfile.NamedTemporaryFile(prefix="kho-ocr-", suffix=".img") as image:
        try:
            image.write(page.data)
            image.flush()
        except OSError as exc:
            raise OcrUnavailable(
                "Không ghi được ảnh trang vào thư mục tạm để nhận dạng chữ.", page=page.number
            ) from exc
        try:
            proc = subprocess.run(
                bounded(tesseract_command(lang, page.dpi, source=image.name), memory_mb),
                stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                env=tesseract_env(), check=False,
            )
        except subprocess.TimeoutExpired:
            return OcrResult(page.number, "", time.perf_counter() - start, timed_out=True)
        except OSError as exc:
            raise OcrUnavailable("Không chạy được Tesseract trên máy chủ.") from exc
    if proc.returncode != 0 and memory_mb is not None and any(mark in proc.stderr for mark in _OUT_OF_MEMORY):
        raise FileTooComplex(
            f"Ảnh trang {page.number} quá phức tạp: nhận dạng chữ vượt giới hạn bộ nhớ cho phép"
            f" ({memory_mb} MB). Bản gốc vẫn được lưu; hãy kiểm tra tệp hoặc gửi bản quét nhỏ hơn.",
            page=page.number, reason="memory", limit_mb=memory_mb, returncode=proc.returncode,
        )
    if proc.returncode < 0:  # a crash (an image made to break the reader?) or a kill from outside
        ended = _signal_name(-proc.returncode)
        raise OcrFailed(
            f"Tesseract bị dừng đột ngột ({ended}) khi nhận dạng trang {page.number}.",
            page=page.number, returncode=proc.returncode, signal=ended,
            stderr=proc.stderr.decode("utf-8", "replace").strip()[-500:],
        )
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise OcrFailed(
            f"Tesseract lỗi khi nhận dạng trang {page.number}.",
            page=page.number, returncode=proc.returncode, stderr=tail,
        )
    return OcrResult(page.number, proc.stdout.decode("utf-8", "replace"),
                     time.perf_counter() - start)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"tín hiệu {number}"


def ocr_pages(
    pages: Iterable[PageImage], *, lang: str, timeout: float, jobs: int = 2,
    slots: OcrSlots | None = None, memory_mb: int | None = None,
) -> Iterator[OcrResult]:
    """OCR many pages with ``jobs`` Tesseract processes at once; results in input order.

    ``pages`` is consumed lazily in the caller's thread (so it may render with pdfium, which
    is not thread-safe) and at most ``2 * jobs`` images are held at a time. After a page times
    out no further page is started: the pages in flight finish, then the iterator ends.
    """
    if jobs <= 1:
        for page in pages:
            result = ocr_image(page, lang=lang, timeout=timeout, slots=slots, memory_mb=memory_mb)
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
                    pending.append(
                        pool.submit(
                            ocr_image, page, lang=lang, timeout=timeout, slots=slots, memory_mb=memory_mb
                        )
                    )
                if not pending:
                    return
                result = pending.popleft().result()
                if result.timed_out:
                    stop = True
                yield result
        finally:
            for fut in pending:
                fut.cancel()
