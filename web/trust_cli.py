"""``kho trust list/add/remove``: the trust list signatures are verified against.

    kho trust list [--json]                      (anyone logged in may read it)
    kho trust add CA.crt --source "where it came from" [--note TEXT]     (quản trị)
    kho trust remove FINGERPRINT                                      (quản trị)

The list lives in ``KHO_TRUST_DIR`` or ``<KHO_DATA_DIR>/trust`` (see
:mod:`ingest.signatures.trustlist`); the first change copies the shipped Vietnamese anchors
there. Every change is an audit event (``trust:add``, ``trust:remove``) with the certificate's
fingerprint and subject. The pipeline reads the list when it starts (restart workers after a
change).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click

from ingest.signatures import trustlist
from kho.errors import KhoError
from repository.policy import Action
from repository.records import Actor
from web.cli import Context, handles_errors, json_option, pass_ctx


@click.group("trust")
def trust() -> None:
    """Danh sách chứng thư gốc tin cậy dùng để kiểm tra chữ ký số."""


def _current(ctx: Context) -> tuple[Path, trustlist.TrustList, bool]:
    settings = ctx.settings
    directory = trustlist.managed_dir(settings.trust_dir, settings.data_dir)
    if directory.is_dir() and (directory / "manifest.json").is_file():
        return directory, trustlist.read(directory), True
    if settings.trust_dir:
        # An operator's folder without a manifest: list what it holds, as the verifier reads it.
        store = trustlist.TrustStore.from_dir(directory)
        anchors = tuple(
            trustlist.describe(c, file="", source="(thư mục KHO_TRUST_DIR, không có manifest.json)")
            for c in store.anchors
        )
        return directory, trustlist.TrustList(directory, anchors), True
    return trustlist.BUNDLE_DIR, trustlist.shipped(), False


@trust.command("list")
@json_option
@pass_ctx
@handles_errors
def trust_list(ctx: Context, as_json: bool) -> None:
    """Liệt kê các chứng thư tin cậy, dấu vân tay SHA-256 và nguồn gốc."""
    ctx.actor  # noqa: B018 - logged in (AUTH_REQUIRED otherwise)
    directory, current, managed = _current(ctx)
    if as_json:
        click.echo(json.dumps(
            {"directory": str(directory), "managed": managed,
             "anchors": [asdict(a) for a in current.anchors]},
            ensure_ascii=False, indent=2,
        ))
        return
    where = str(directory) if managed else "danh sách Kho cung cấp sẵn"
    click.echo(f"Danh sách tin cậy ({where}): {len(current.anchors)} chứng thư.")
    for a in current.anchors:
        kind = "gốc" if a.self_signed else "trung gian"
        click.echo(f"- {a.subject} [{kind}, hết hạn {a.not_after}]")
        click.echo(f"  SHA-256 {a.sha256}")
        click.echo(f"  Nguồn: {a.source}" + (f" — thêm bởi {a.added_by} {a.added_at}" if a.added_by else ""))


def _admin(ctx: Context) -> tuple[Actor, Path]:
    actor = ctx.actor
    ctx.repo.authorize(actor, Action.OPERATE)
    settings = ctx.settings
    return actor, trustlist.managed_dir(settings.trust_dir, settings.data_dir)


@trust.command("add")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--source", required=True, help="Nguồn gốc chứng thư (địa chỉ công bố, văn bản kèm theo).")
@click.option("--note", default="", help="Ghi chú (tên tổ chức cung cấp dịch vụ chứng thực).")
@json_option
@pass_ctx
@handles_errors
def trust_add(ctx: Context, certificate: Path, source: str, note: str, as_json: bool) -> None:
    """Thêm chứng thư của một tổ chức chứng thực (CA) vào danh sách tin cậy (quản trị)."""
    actor, directory = _admin(ctx)
    if not source.strip():
        raise KhoError("Cần ghi nguồn gốc của chứng thư (--source).", code="TRUST_SOURCE_MISSING")
    from kho.files import read_small_file

    anchor = trustlist.add(
        directory, read_small_file(certificate, code="TRUST_ANCHOR_INVALID", label="chứng thư"),
        source=source.strip(), note=note.strip(),
        by=actor.user, now=datetime.now(UTC), name=certificate.name,
    )
    ctx.repo.audit.append(
        actor.user, "trust:add", source=actor.source,
        details={"sha256": anchor.sha256, "subject": anchor.subject, "provenance": anchor.source,
                 "directory": str(directory)},
    )
    if as_json:
        click.echo(json.dumps(asdict(anchor), ensure_ascii=False))
    else:
        click.echo(f"Đã thêm vào danh sách tin cậy: {anchor.subject} (SHA-256 {anchor.sha256}).")
        click.echo("Khởi động lại tiến trình xử lý (kho worker) để áp dụng.")


@trust.command("remove")
@click.argument("fingerprint")
@json_option
@pass_ctx
@handles_errors
def trust_remove(ctx: Context, fingerprint: str, as_json: bool) -> None:
    """Bỏ một chứng thư khỏi danh sách tin cậy theo dấu vân tay SHA-256 (quản trị)."""
    actor, directory = _admin(ctx)
    anchor = trustlist.remove(directory, fingerprint)
    ctx.repo.audit.append(
        actor.user, "trust:remove", source=actor.source,
        details={"sha256": anchor.sha256, "subject": anchor.subject, "directory": str(directory)},
    )
    if as_json:
        click.echo(json.dumps(asdict(anchor), ensure_ascii=False))
    else:
        click.echo(f"Đã bỏ khỏi danh sách tin cậy: {anchor.subject} (SHA-256 {anchor.sha256}).")
