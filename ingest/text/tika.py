"""Client of an Apache Tika server (``PUT /rmeta/text``, ``GET /version``) over plain HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
import urllib3

from ingest.text.errors import (
    ExtractionFailed,
    FileCorrupt,
    FileEncrypted,
    FileUnsupported,
    TikaUnavailable,
    text_too_large,
)
from ingest.text.model import FileFormat
from ingest.text.settings import TextSettings

_CONTENT = "X-TIKA:content"
_EXCEPTION = "X-TIKA:EXCEPTION:container_exception"
_RESOURCE = "X-TIKA:embedded_resource_path"
_WRITE_LIMIT_REACHED = "X-TIKA:EXCEPTION:write_limit_reached"
_CHUNK = 1 << 20
_METADATA_BYTES = 4 << 20
"""What an answer may hold besides the text: the metadata of the container and its parts."""


class TikaClient:
    def __init__(self, url: str, *, timeout: float = 120.0, max_text_chars: int = 10_000_000,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_text_chars = max_text_chars
        self.session = session or requests.Session()

    @property
    def max_answer_bytes(self) -> int:
        """The most an answer within the write limit can be: JSON writes a character in at
        most 6 bytes (``\\u0001``), plus the metadata."""
        return 6 * self.max_text_chars + _METADATA_BYTES

    def _read(self, resp: requests.Response, started: float) -> bytes:
        """The body, read in chunks: refused past :attr:`max_answer_bytes` (a server that
        ignored the write limit) and past the timeout in all (``timeout`` alone bounds each
        read, not a body that trickles)."""
        body = bytearray()
        try:
            # read1: what one read of the socket brings, so the deadline is checked as bytes
            # arrive. (iter_content's read(_CHUNK) waits for a whole MiB of a body with a
            # Content-Length: a server trickling a byte within each read timeout held the
            # worker for as long as it liked.)
            while chunk := resp.raw.read1(_CHUNK, decode_content=True):
                body += chunk
                if len(body) > self.max_answer_bytes:
                    raise text_too_large(self.max_text_chars, answer_bytes=len(body))
                if time.monotonic() - started > self.timeout:
                    raise self._unavailable(None, what="không trả lời xong trong thời hạn",
                                           reason="answer not complete in time")
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._unavailable(exc) from exc
        finally:
            resp.close()
        return bytes(body)

    def _unavailable(
        self, exc: Exception | None, *, what: str = "không phản hồi", **details: Any
    ) -> TikaUnavailable:
        # Whether the document is tried again is the caller's decision (its retry policy), so
        # the message says what happened and promises nothing (review rv6: the last attempt's
        # error said "sẽ được xử lý lại sau" and a cut answer read as a server that is down).
        err = TikaUnavailable(
            f"Máy chủ trích xuất văn bản Apache Tika ({self.url}) {what}.",
            url=self.url, **details,
        )
        if exc is not None:
            err.__cause__ = exc
        return err

    def version(self) -> str:
        try:
            resp = self.session.get(f"{self.url}/version", timeout=10)
        except requests.RequestException as exc:
            raise self._unavailable(exc) from exc
        if resp.status_code != 200:
            raise self._unavailable(None, status=resp.status_code)
        return resp.text.strip()

    def rmeta_text(self, data: bytes, fmt: FileFormat) -> list[dict[str, Any]]:
        """Metadata and plain text of the container and each embedded resource."""
        headers = {
            "Content-Type": fmt.mime_type,
            "Accept": "application/json",
            # Kho runs its own OCR; Tika must not start Tesseract on embedded images.
            "X-Tika-OCRskipOcr": "true",
            # Tika stops writing text past this, container and embedded parts together, and
            # says so (_WRITE_LIMIT_REACHED): the file is refused, no half text is kept.
            "writeLimit": str(self.max_text_chars),
        }
        started = time.monotonic()
        try:
            resp = self.session.put(
                f"{self.url}/rmeta/text", data=data, headers=headers, timeout=self.timeout,
                stream=True,
            )
        except requests.RequestException as exc:
            raise self._unavailable(exc) from exc
        raw = self._read(resp, started)
        # How the body's end was told: a Content-Length or chunks say where it ends, and a
        # connection cut before that is an error of the read (Tika unavailable, retried). With
        # neither (HTTP/1.0's way; the Tika here chunks every /rmeta answer to an HTTP/1.1
        # request, a proxy in front of it may not) the closing connection ends the body, a
        # clean close and a cut alike.
        framed = "content-length" in resp.headers or "chunked" in resp.headers.get(
            "transfer-encoding", ""
        ).lower()
        body = raw[:2000].decode("utf-8", "replace") if resp.status_code != 200 else ""
        if resp.status_code == 422:
            raise _unreadable(fmt, encrypted="Encrypted" in body, reason=body[:300])
        if resp.status_code == 415:
            raise FileUnsupported(
                f"Tika không hỗ trợ định dạng {fmt.mime_type}.", format=fmt.format.value
            )
        if resp.status_code >= 500 or resp.status_code in (404, 408, 429):
            raise self._unavailable(None, status=resp.status_code)
        if resp.status_code != 200:
            raise ExtractionFailed(
                f"Máy chủ Tika trả về mã lỗi {resp.status_code}.", status=resp.status_code
            )
        try:
            items = json.loads(raw)
        except ValueError as exc:
            if not framed:
                # An answer /rmeta completed is whole JSON, and a cut one is a prefix of it,
                # never whole: unframed, the connection was cut mid-answer.
                raise self._unavailable(
                    exc, what="trả lời không trọn vẹn (kết nối bị cắt giữa chừng)",
                    reason="answer cut short", answer_bytes=len(raw),
                ) from exc
            raise ExtractionFailed("Máy chủ Tika trả về dữ liệu không phải JSON.") from exc
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise ExtractionFailed("Máy chủ Tika trả về dữ liệu không đúng dạng /rmeta.")
        if any(isinstance(item, dict) and str(item.get(_WRITE_LIMIT_REACHED)).lower() == "true"
               for item in items):
            raise text_too_large(self.max_text_chars)
        trace = str(items[0].get(_EXCEPTION) or "")
        if trace:
            raise _unreadable(
                fmt, encrypted="EncryptedDocumentException" in trace, reason=trace.splitlines()[0][:300]
            )
        return items


def _unreadable(fmt: FileFormat, *, encrypted: bool, reason: str) -> FileEncrypted | FileCorrupt:
    """What Tika's refusal of a file means for the person: a password, or a broken file."""
    if encrypted:
        return FileEncrypted(
            "Tệp được bảo vệ bằng mật khẩu, không thể đọc nội dung.", format=fmt.format.value
        )
    return FileCorrupt(
        f"Tệp {fmt.format.value} bị hỏng: Tika không phân tích được.",
        format=fmt.format.value, reason=reason,
    )


def tika_parts(items: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    """The container's text first, then each embedded resource that has text."""
    parts: list[tuple[str | None, str]] = [(None, str(items[0].get(_CONTENT) or ""))]
    for item in items[1:]:
        text = str(item.get(_CONTENT) or "")
        if text.strip():
            parts.append((str(item.get(_RESOURCE) or "") or None, text))
    return parts


def client_for(settings: TextSettings) -> TikaClient:
    if not settings.tika_url:
        raise ValueError("tika_url is not configured")
    return TikaClient(settings.tika_url, timeout=settings.tika_timeout,
                      max_text_chars=settings.max_text_chars)
