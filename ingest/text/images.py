"""Image files (JPEG, PNG, TIFF, ...): every frame OCR'd, with pixel limits checked first."""

from __future__ import annotations

import io
import warnings as py_warnings
from collections.abc import Iterator

from PIL import Image, ImageOps, UnidentifiedImageError

from ingest.text.errors import FileBomb, FileCorrupt, FileTooManyPages, OcrTimeout
from ingest.text.model import (
    ExtractedText,
    Format,
    TextPart,
    TextSource,
    TextWarning,
    clean_text,
    detect_language,
)
from ingest.text.ocr import (
    PageImage,
    encode_page,
    machine_slots,
    ocr_pages,
    resolve_language,
    retry_warning,
)
from ingest.text.settings import TextSettings

DEFAULT_DPI = 300


def _open(data: bytes, fmt: Format, settings: TextSettings) -> Image.Image:
    try:
        with py_warnings.catch_warnings():
            # Our own limit (below Pillow's error threshold) is checked right after opening.
            py_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise FileBomb(
            "Ảnh có kích thước điểm ảnh quá lớn: nghi là bom giải nén.", format=fmt.value
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise FileCorrupt(f"Tệp ảnh {fmt.value} bị hỏng hoặc không đọc được.") from exc
    _check_pixels(image, 1, settings)
    return image


def _check_pixels(image: Image.Image, frame: int, settings: TextSettings) -> None:
    width, height = image.size
    if width * height > settings.max_image_pixels:
        raise FileBomb(
            f"Ảnh (khung {frame}) có {width}×{height} điểm ảnh, vượt giới hạn "
            f"{settings.max_image_pixels:,} điểm ảnh: nghi là bom giải nén.",
            width=width, height=height, limit=settings.max_image_pixels,
        )


def _dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError, IndexError):
        value = 0
    return value if 50 <= value <= 1200 else DEFAULT_DPI


def extract_image(data: bytes, fmt: Format, settings: TextSettings, *, extractor: str
                  ) -> ExtractedText:
    image = _open(data, fmt, settings)
    frames = getattr(image, "n_frames", 1)
    if frames > settings.max_pages:
        raise FileTooManyPages(
            f"Ảnh có {frames} trang, vượt giới hạn {settings.max_pages} trang.",
            pages=frames, limit=settings.max_pages,
        )
    if frames > settings.max_ocr_pages:
        raise FileTooManyPages(
            f"Ảnh có {frames} trang cần nhận dạng chữ, vượt giới hạn {settings.max_ocr_pages}.",
            pages=frames, limit=settings.max_ocr_pages,
        )
    if fmt is Format.GIF:
        frames = 1  # animation frames are not pages
    warnings: list[TextWarning] = []
    if not settings.ocr_enabled:
        warnings.append(TextWarning(
            code="OCR_DISABLED", message="Tệp là ảnh nhưng chức năng nhận dạng chữ đang tắt."
        ))
        parts = tuple(TextPart(n, "", TextSource.NONE) for n in range(1, frames + 1))
        return ExtractedText(fmt, parts, frames, None, extractor, None, tuple(warnings))
    lang, lang_warning = resolve_language(settings.ocr_lang)
    if lang_warning:
        warnings.append(lang_warning)

    def pages() -> Iterator[PageImage]:
        for index in range(frames):
            try:
                image.seek(index)
                _check_pixels(image, index + 1, settings)
                frame = ImageOps.exif_transpose(image) if index == 0 else image
                yield PageImage(index + 1, encode_page(frame), _dpi(image))
            except (OSError, ValueError, EOFError) as exc:
                raise FileCorrupt(
                    f"Không giải mã được khung {index + 1} của ảnh {fmt.value}."
                ) from exc

    texts: dict[int, str] = {}
    timed_out: list[int] = []
    try:
        for result in ocr_pages(
            pages(), lang=lang, timeout=settings.ocr_page_timeout, jobs=settings.ocr_jobs,
            slots=machine_slots(settings.ocr_slots) if settings.ocr_slots else None,
            memory_mb=settings.ocr_memory_mb,
        ):
            if result.timed_out:
                timed_out.append(result.number)
            else:
                texts[result.number] = clean_text(result.text).strip("\n")
                if retried := retry_warning(result):
                    warnings.append(retried)
    finally:
        image.close()
    parts = tuple(
        TextPart(n, texts.get(n, ""), TextSource.OCR if n in texts else TextSource.NONE)
        for n in range(1, frames + 1)
    )
    for n in range(1, frames + 1):
        if n not in texts:
            warnings.append(TextWarning(
                code="OCR_TIMEOUT" if n in timed_out else "OCR_NOT_RUN",
                message=f"Trang {n}: không nhận dạng được chữ trong thời gian cho phép.",
                page=n,
            ))
    result_text = ExtractedText(
        format=fmt, parts=parts, page_count=frames,
        language=detect_language(" ".join(texts.values())), extractor=extractor,
        ocr_language=lang, warnings=tuple(warnings),
    )
    if timed_out:
        raise OcrTimeout(
            f"Nhận dạng chữ trang {timed_out[0]} của ảnh vượt quá "
            f"{settings.ocr_page_timeout:g} giây.",
            partial=result_text, pages=timed_out, timeout_seconds=settings.ocr_page_timeout,
        )
    return result_text
