"""``kho verify FILE...``: verdicts for people, or one JSON object per file with ``--json``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click

from ingest.signatures import _pool, rules, trustlist
from ingest.signatures.model import Indication, PdfVerification, SignatureReport, SignerKind
from ingest.signatures.verify import verify_pdf
from kho.config import Settings
from kho.errors import KhoError

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
        who = sig.signer.common_name or sig.signer.subject
        extra = ", ".join(x for x in (sig.signer.organisational_unit, sig.signer.organisation) if x)
        if extra:
            who = f"{who} — {extra}"
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
            f"{sig.signer.issuer_common_name or sig.signer.issuer} cấp, hiệu lực "
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


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Mỗi tệp một đối tượng JSON trên một dòng.")
@click.option(
    "--trust-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("KHO_TRUST_DIR"),
    help=(
        "Thư mục chứng thư gốc tin cậy (mặc định: KHO_TRUST_DIR, danh sách do `kho trust` "
        "quản lý, hoặc danh sách Kho cung cấp sẵn)."
    ),
)
@click.option(
    "--allow-fetching",
    is_flag=True,
    help="Cho phép tải OCSP/CRL và chứng thư qua mạng (mặc định: ngoại tuyến).",
)
def verify(files: tuple[Path, ...], as_json: bool, trust_dir: Path | None, allow_fetching: bool) -> None:
    """Kiểm tra chữ ký số trong các tệp PDF (PAdES), kết luận theo ETSI AdES."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        settings = Settings.from_env()
        trust = trustlist.resolve(str(trust_dir or ""), settings.data_dir)
        policy = rules.CryptoPolicy(settings.sha1_seals_until)
    except KhoError as exc:
        raise click.ClickException(f"[{exc.code}] {exc.message}") from exc
    # One forked child per file (see _pool.ForkVerifier: this process is its own box), where
    # fork is available; otherwise the shared pool of fresh worker interpreters.
    verifier = _pool.ForkVerifier() if _pool.ForkVerifier.available() else None
    all_passed = True
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            all_passed = False
            message = f"Không đọc được tệp: {exc.strerror or exc}"
            if as_json:
                click.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
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
