"""``kho verify``'s command line: its arguments and help, without the verification stack.

The stack (pyHanko, pyhanko-certvalidator, asn1crypto, cryptography, asyncio and Kho's signature
modules: ~380 modules, ~0.2 s of CPU) is imported by the command when it runs
(:func:`ingest.signatures.cli.run`), not when click loads the command: ``kho verify --help``
and a usage error (a missing file argument, an unknown option) are answered from this module
alone, as every other command's help is. The verification itself is unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
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
    from kho import startup

    with startup.imports():  # as web.cli's lazy commands: the collector paused, then frozen
        from ingest.signatures.cli import run
    run(files, as_json, trust_dir, allow_fetching)
