"""``kho verify FILE...``: verdicts for people, or one JSON object per file with ``--json``.

The click command is :data:`verify` (defined in :mod:`ingest.verify_cli`, re-exported here).
"""

from __future__ import annotations

import errno
import json
import logging
import stat
from pathlib import Path

import click

from ingest.signatures import _pool, rules, trustlist
from ingest.signatures.model import Indication, PdfVerification, SignatureReport, SignerKind
from ingest.signatures.verify import verify_pdf
from ingest.verify_cli import verify  # noqa: F401 - the command, re-exported
from kho.config import Settings
from kho.errors import KhoError
from kho.os_reasons import os_reason

_KIND_VI = {
    SignerKind.PERSONAL: "chữ ký cá nhân",
    SignerKind.ORGANISATION: "chữ ký cơ quan, tổ chức",
    SignerKind.UNKNOWN: "chưa xác định loại chữ ký",
}


def format_report(name: str, result: PdfVerification) -> str:
    """Vietnamese, multi-line description of one file's verification."""
    v = result.verdict
    sub = f"/{v.sub_indication}" if v.sub_indication else ""
    lines = [f"{name}: {rules.INDICATION_VI[v.indication].upper()} ({v.indication.value}{sub})"]
    lines.append(f"  {v.explanation}")
    for i, sig in enumerate(result.signatures, 1):
        lines.extend(_signature_lines(i, sig))
    if result.signatures:
        lines.append(f"  NĐ 30/2020 Điều 5: {result.nd30.message}")
    if result.return_reason:
        lines.append(f"  {result.return_reason}")
    return "\n".join(lines)


def _signature_lines(index: int, sig: SignatureReport) -> list[str]:
    who = "(không đọc được chứng thư)"
    if sig.signer is not None:
        who = rules.shown_name(sig.signer.common_name or sig.signer.subject)
        extra = ", ".join(
            rules.shown_name(x)
            for x in (sig.signer.organisational_unit, sig.signer.organisation) if x
        )
        if extra:
            who = f"{who} — {extra}"
        if sig.verdict.indication is not Indication.TOTAL_PASSED:
            # the name is what the certificate says, not who is proven to have signed
            who = f"tên ghi trong chứng thư (chưa được xác thực): {who}"
    kind = "dấu thời gian tài liệu" if sig.type.value == "document_timestamp" else _KIND_VI[
        sig.signer_kind
    ]
    v = sig.verdict
    sub = f"/{v.sub_indication}" if v.sub_indication else ""
    out = [
        f"  {index}. [{sig.field_name}] {who} ({kind}): "
        f"{rules.INDICATION_VI[v.indication]} ({v.indication.value}{sub})"
    ]
    if sig.signer is not None:
        out.append(
            f"     Chứng thư số: số hiệu {sig.signer.serial_hex}, do "
            f"{rules.shown_name(sig.signer.issuer_common_name or sig.signer.issuer)} cấp, hiệu lực "
            f"{sig.signer.not_before} đến {sig.signer.not_after}"
        )
    if sig.signing_time:
        ts = sig.timestamp
        stamp = ""
        if ts is not None:
            state = "đã xác thực" if ts.trusted else "chưa xác thực được"
            stamp = f"; dấu thời gian {ts.time} ({state})"
        out.append(f"     Thời điểm ký: {sig.signing_time}{stamp}")
    out.append(
        "     Dữ liệu thu hồi (OCSP/CRL) kèm theo: "
        + ("có" if sig.revocation_data_embedded else "không")
    )
    out.extend(f"     - {finding}" for finding in sig.findings)
    return out


_MAX_FILE_BYTES = 1 << 30  # larger "PDFs" are refused before they are read into memory


class _Refused(ValueError):
    """A path that is not read: its stable code and the Vietnamese reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def _read_file(path: Path) -> bytes:
    """The bytes of a regular file; a directory, a device or a pipe (which could block or
    never end) is refused (:class:`_Refused`), as is a file over 1 GiB."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise _Refused("NOT_A_FILE", "đây là một thư mục, không phải tệp PDF")
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("NOT_A_FILE", "không phải tệp thông thường (thiết bị, ống dẫn hoặc socket)")
    if info.st_size > _MAX_FILE_BYTES:
        raise _Refused(
            "FILE_TOO_LARGE", f"tệp quá lớn ({info.st_size} byte, tối đa {_MAX_FILE_BYTES} byte)"
        )
    with path.open("rb") as handle:
        return handle.read(_MAX_FILE_BYTES + 1)


_OS_REASON_VI = {
    errno.ENOENT: "không tồn tại",
    errno.EACCES: "không có quyền đọc",
    errno.EPERM: "không có quyền đọc",
    errno.EISDIR: "đây là một thư mục, không phải tệp PDF",
    errno.ENAMETOOLONG: "tên tệp quá dài",
    errno.ELOOP: "liên kết tượng trưng lặp vòng",
    errno.EIO: "lỗi vào/ra khi đọc đĩa",
}


def _error_code(exc: OSError | _Refused) -> str:
    """A stable code for machines: FILE_NOT_FOUND, NOT_A_FILE, FILE_TOO_LARGE, FILE_UNREADABLE."""
    if isinstance(exc, _Refused):
        return exc.code
    if isinstance(exc, FileNotFoundError):
        return "FILE_NOT_FOUND"
    if isinstance(exc, IsADirectoryError):
        return "NOT_A_FILE"
    return "FILE_UNREADABLE"


def _reason_vi(exc: OSError | _Refused) -> str:
    if isinstance(exc, OSError):
        return _OS_REASON_VI.get(exc.errno or 0) or os_reason(exc)
    return str(exc)


def run(files: tuple[Path, ...], as_json: bool, trust_dir: Path | None, allow_fetching: bool) -> None:
    """``kho verify``'s work (the command and its arguments: :mod:`ingest.verify_cli`, which
    imports this module, and with it the verification stack, only when the command runs)."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        settings = Settings.from_env()
        trust = trustlist.resolve(str(trust_dir or ""), settings.data_dir)
        policy = rules.CryptoPolicy(settings.sha1_seals_until)
    except KhoError as exc:  # as every kho command reports a refusal (web/cli.py)
        if as_json:
            click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False), err=True)
        else:
            click.echo(f"Lỗi [{exc.code}]: {exc.message}", err=True)
        raise SystemExit(2) from exc
    # One forked child per file (see _pool.ForkVerifier: this process is its own box), where
    # fork is available; otherwise the shared pool of fresh worker interpreters.
    verifier = _pool.ForkVerifier() if _pool.ForkVerifier.available() else None
    all_passed = True
    for path in files:
        try:
            data = _read_file(path)
        except (OSError, _Refused) as exc:
            all_passed = False
            message = f"Không đọc được tệp: {_reason_vi(exc)}"
            if as_json:
                click.echo(json.dumps(
                    {"file": str(path), "error": message, "code": _error_code(exc)},
                    ensure_ascii=False,
                ))
            else:
                click.echo(f"{path}: LỖI — {message}")
            continue
        result = verify_pdf(
            data, trust, allow_fetching=allow_fetching, policy=policy, pool=verifier
        )
        if result.verdict.indication is not Indication.TOTAL_PASSED:
            all_passed = False
        if as_json:
            click.echo(json.dumps({"file": str(path), **result.to_dict()}, ensure_ascii=False))
        else:
            click.echo(format_report(str(path), result))
    if not all_passed:
        raise SystemExit(1)
