"""RFC 3161 time-stamps of audit checkpoints (a TSA vouches that a checkpoint existed then).

When ``KHO_TSA_URL`` is set, every checkpoint is sent to the time-stamping authority (its
SHA-256 imprint only) and the token is kept in the checkpoint (``timestamp``, base64 DER of the
``TimeStampToken``). :func:`check_token` validates a token with pyHanko: the CMS signature, the
TSA certificate's chain to a trust anchor of ``KHO_TRUST_DIR`` (offline, no fetching), the
timeStamping key usage, and the message imprint against the checkpoint. A checkpoint someone
rewrote later (even with the signing key) no longer matches its token, and a token cannot be
made after the fact for an earlier time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, pem, x509

from kho.errors import KhoError

TIMESTAMP_FIELD = "timestamp"


class TimestampUnavailable(KhoError):
    code = "TSA_UNAVAILABLE"
    http_status = 503


def imprint_payload(checkpoint: Mapping[str, Any]) -> bytes:
    """What the token's imprint covers: the signed checkpoint (signature included) as
    canonical JSON, without the token itself."""
    body = {k: v for k, v in checkpoint.items() if k != TIMESTAMP_FIELD}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def request_token(url: str, payload: bytes, *, timeout: float = 10.0) -> bytes:
    """A TimeStampToken (DER) over SHA-256 of ``payload`` from the TSA at ``url``."""
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    stamper = HTTPTimeStamper(url, timeout=timeout)
    digest = hashlib.sha256(payload).digest()
    try:
        token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    except Exception as exc:  # network, HTTP status, a refusal or a malformed answer
        raise TimestampUnavailable(
            f"Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian {url}: {exc}", url=url
        ) from exc
    return bytes(token.dump())


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    at: datetime | None
    """The time the TSA vouches for (``genTime``)."""
    problem: str = ""
    """Why the token does not hold (Vietnamese), empty when it does."""


def load_anchors(folder: Path | None) -> tuple[x509.Certificate, ...]:
    """Trust anchors (PEM or DER files) of ``folder``; none when it is not set or missing."""
    if folder is None or not folder.is_dir():
        return ()
    found: list[x509.Certificate] = []
    for file in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = file.read_bytes()
        blobs = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        for der in blobs:
            try:
                cert = x509.Certificate.load(der)
                cert.native  # noqa: B018 - parse fully: a bad file must not pass silently
            except ValueError:
                continue
            found.append(cert)
    return tuple(found)


def check_token(token_der: bytes, payload: bytes, anchors: Sequence[x509.Certificate]) -> TokenCheck:
    """Validate a token over ``payload`` against ``anchors`` (offline)."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    try:
        info = cms.ContentInfo.load(token_der)
        signed = info["content"]
        gen_time = signed["encap_content_info"]["content"].parsed["gen_time"].native
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return TokenCheck(False, None, f"dấu thời gian không đọc được ({exc})")
    if not anchors:
        problem = "chưa có chứng thư tin cậy (KHO_TRUST_DIR) để kiểm tra dấu thời gian"
        return TokenCheck(False, gen_time, problem)
    context = ValidationContext(trust_roots=list(anchors), allow_fetching=False, moment=gen_time)

    def expected(algorithm: str) -> bytes:
        return hashlib.new(algorithm, payload).digest()

    try:
        status = asyncio.run(validate_tst_signed_data(signed, context, expected))
    except Exception as exc:
        return TokenCheck(False, gen_time, f"chữ ký của dấu thời gian không kiểm tra được ({exc})")
    if not status.get("intact"):
        return TokenCheck(False, gen_time, "dấu thời gian không khớp nội dung điểm mốc (đã bị sửa)")
    if not status.get("valid"):
        return TokenCheck(False, gen_time, "chữ ký của máy chủ cấp dấu thời gian không hợp lệ")
    if status.get("trust_problem_indic") is not None:
        return TokenCheck(
            False, gen_time, f"máy chủ cấp dấu thời gian không được tin cậy ({status['trust_problem_indic']})"
        )
    return TokenCheck(True, gen_time)


def stamp(checkpoint: dict[str, Any], url: str) -> dict[str, Any]:
    """The checkpoint with a token from the TSA at ``url``."""
    token = request_token(url, imprint_payload(checkpoint))
    return {**checkpoint, TIMESTAMP_FIELD: base64.b64encode(token).decode()}


def check_checkpoint(checkpoint: Mapping[str, Any], anchors: Sequence[x509.Certificate]) -> TokenCheck | None:
    """The token of a checkpoint checked; None when it carries none."""
    raw = checkpoint.get(TIMESTAMP_FIELD)
    if raw is None:
        return None
    try:
        token = base64.b64decode(str(raw), validate=True)
    except ValueError:
        return TokenCheck(False, None, "dấu thời gian không phải base64 hợp lệ")
    return check_token(token, imprint_payload(checkpoint), anchors)
