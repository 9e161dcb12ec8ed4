"""``kho trust list/add/remove``: the trust list signatures are verified against.

    kho trust list [--json]                      (anyone logged in may read it)
    kho trust add CA.crt --source "where it came from" [--note TEXT]     (quản trị)
    kho trust remove FINGERPRINT                                      (quản trị)
    kho trust add-crl CA.crl --source "where it came from" [--note TEXT]  (quản trị)
    kho trust remove-crl FINGERPRINT                                  (quản trị)

The list lives in ``KHO_TRUST_DIR`` or ``<KHO_DATA_DIR>/trust`` (see
:mod:`ingest.signatures.trustlist`); the first change copies the shipped Vietnamese anchors
there. Every change is an audit event (``trust:add``, ``trust:remove``) with the certificate's
fingerprint and subject (``trust:add-crl``, ``trust:remove-crl`` for a CRL, with its
fingerprint and issuer). A running pipeline (Celery worker, web server, bulk import) reads the
list again at its next document after a change (:class:`trustlist.Watched`).
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
        unlisted = "(thư mục KHO_TRUST_DIR, không có manifest.json)"
        anchors = tuple(trustlist.describe(c, file="", source=unlisted) for c in store.anchors)
        crls = tuple(trustlist.describe_crl(c, file="", source=unlisted) for c in store.crls)
        return directory, trustlist.TrustList(directory, anchors, crls=crls), True
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
        now = datetime.now(UTC)
        click.echo(json.dumps(
            {"directory": str(directory), "managed": managed,
             "anchors": [asdict(a) for a in current.anchors],
             "crls": [{**asdict(c), "stale": c.stale(now)} for c in current.crls]},
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
    if current.crls:
        click.echo(f"Danh sách thu hồi chứng thư (CRL): {len(current.crls)}.")
    now = datetime.now(UTC)
    for c in current.crls:
        click.echo(f"- Tổ chức phát hành: {c.issuer}")
        click.echo(
            f"  Phát hành {c.this_update}, cập nhật tiếp {c.next_update or '(không ghi)'}"
            f"{' — ĐÃ QUÁ HẠN CẬP NHẬT, cần nạp danh sách mới' if c.stale(now) else ''}; "
            f"{c.revoked} chứng thư bị thu hồi"
        )
        click.echo(f"  SHA-256 {c.sha256}")
        click.echo(f"  Nguồn: {c.source}" + (f" — thêm bởi {c.added_by} {c.added_at}" if c.added_by else ""))


def _admin(ctx: Context) -> tuple[Actor, Path]:
    actor = ctx.actor
    ctx.repo.authorize_for_agency(actor, Action.OPERATE)
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


@trust.command("add-crl")
@click.argument("crl_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--source", required=True, help="Nguồn gốc danh sách thu hồi (địa chỉ công bố, văn bản kèm theo)."
)
@click.option("--note", default="", help="Ghi chú.")
@json_option
@pass_ctx
@handles_errors
def trust_add_crl(ctx: Context, crl_file: Path, source: str, note: str, as_json: bool) -> None:
    """Nạp danh sách thu hồi chứng thư (CRL, PEM hoặc DER) của một tổ chức chứng thực có trong
    danh sách tin cậy; mọi lần kiểm tra chữ ký sau đó dùng danh sách này (quản trị)."""
    actor, directory = _admin(ctx)
    if not source.strip():
        raise KhoError("Cần ghi nguồn gốc của danh sách thu hồi (--source).", code="TRUST_SOURCE_MISSING")
    from kho.files import read_small_file

    now = datetime.now(UTC)
    entry = trustlist.add_crl(
        directory, read_small_file(crl_file, code="TRUST_CRL_INVALID", label="danh sách thu hồi"),
        source=source.strip(), note=note.strip(), by=actor.user, now=now, name=crl_file.name,
    )
    ctx.repo.audit.append(
        actor.user, "trust:add-crl", source=actor.source,
        details={"sha256": entry.sha256, "issuer": entry.issuer, "this_update": entry.this_update,
                 "next_update": entry.next_update, "revoked": entry.revoked,
                 "provenance": entry.source, "directory": str(directory)},
    )
    if as_json:
        click.echo(json.dumps({**asdict(entry), "stale": entry.stale(now)}, ensure_ascii=False))
        return
    click.echo(
        f"Đã nạp danh sách thu hồi của {entry.issuer}: {entry.revoked} chứng thư bị thu hồi, "
        f"phát hành {entry.this_update} (SHA-256 {entry.sha256})."
    )
    if entry.stale(now):
        click.echo(
            f"Lưu ý: danh sách này đã quá hạn cập nhật ({entry.next_update}). Các chứng thư nó ghi "
            "là bị thu hồi vẫn được coi là bị thu hồi, nhưng chứng thư bị thu hồi sau ngày phát "
            "hành không có trong đó: hãy nạp danh sách mới nhất của tổ chức này."
        )


@trust.command("remove-crl")
@click.argument("fingerprint")
@json_option
@pass_ctx
@handles_errors
def trust_remove_crl(ctx: Context, fingerprint: str, as_json: bool) -> None:
    """Bỏ một danh sách thu hồi khỏi danh sách tin cậy theo dấu vân tay SHA-256 (quản trị)."""
    actor, directory = _admin(ctx)
    entry = trustlist.remove_crl(directory, fingerprint)
    ctx.repo.audit.append(
        actor.user, "trust:remove-crl", source=actor.source,
        details={"sha256": entry.sha256, "issuer": entry.issuer, "directory": str(directory)},
    )
    if as_json:
        click.echo(json.dumps(asdict(entry), ensure_ascii=False))
    else:
        click.echo(f"Đã bỏ danh sách thu hồi của {entry.issuer} (SHA-256 {entry.sha256}).")
