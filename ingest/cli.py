"""``kho ingest`` (take in files and folders, follow jobs, retry, trả lại) and ``kho worker``.

    kho ingest PATH... [--direction den|di] [--workers N] [--wait/--no-wait] [--retry-failed]
    kho ingest status [JOB] [--json]
    kho ingest retry JOB
    kho ingest return RECORD_OR_JOB [--reason TEXT]
    kho worker [--concurrency N] [--pool prefork|solo]

Human output is Vietnamese; ``--json`` gives one JSON document. Errors print
``Lỗi [CODE]: message`` on stderr and exit with status 2.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from ingest.bulk import SYSTEM_STATE, BulkItem, import_paths
from ingest.status import JobState, JobStatus, JobStore, checked_job_id, job_not_found
from kho.cli_int import AsciiInt
from kho.config import Settings
from kho.errors import KhoError, NotFound
from kho.files import printable
from repository.ingest_jobs import bare, shown_job
from repository.policy import Action
from repository.records import Actor, is_record_id

F = TypeVar("F", bound=Callable[..., Any])

STEP_LABELS = {
    "store": "Lưu bản gốc",
    "text": "Trích xuất văn bản",
    "signatures": "Kiểm tra chữ ký số",
    "metadata": "Trích xuất siêu dữ liệu",
    "index": "Đánh chỉ mục",
}


def _shown(text: object) -> str:
    """A value from outside (a file's name or path, a reason quoting it) for one line of a
    terminal, escaped by the one rule (:func:`kho.files.printable`): whoever names files in an
    intake folder must not write on the operator's screen."""
    return printable(str(text))


def _handles_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KhoError as error:
            if kwargs.get("as_json"):
                click.echo(json.dumps({"error": error.to_dict()}, ensure_ascii=False), err=True)
            else:
                click.echo(f"Lỗi [{error.code}]: {error.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


class _DefaultGroup(click.Group):
    """``kho ingest PATH...`` runs the ``files`` subcommand; ``kho ingest status`` etc. as usual."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


def _person(action: Action) -> tuple[Any, Actor]:
    """The ``kho`` command's context (its ``obj``) and the logged-in account, if the access
    policy lets it do ``action``. Identity comes from ``kho login``, never from a flag."""
    obj = click.get_current_context().find_root().obj
    actor: Actor = obj.actor
    obj.repo.authorize(actor, action)
    return obj, actor


def _as_seen(obj: Any, actor: Actor, status: JobStatus) -> JobStatus | None:
    """``status`` as ``actor`` may have it (:func:`repository.ingest_jobs.shown_job`), or None."""
    shown = shown_job(obj.repo, actor, status.to_dict())
    return None if shown is None else JobStatus.from_dict(shown)


def _job_for(obj: Any, actor: Actor, job: str) -> JobStatus:
    """The job ``job`` names, as ``actor`` may have it; one whose record they may not see is
    answered as a job that does not exist (``JOB_NOT_FOUND``: its id is the file's SHA-256, so
    any other answer tells them the agency received that file), the refusal audited."""
    found = JobStore(obj.repo.store).get(job)
    shown = _as_seen(obj, actor, found)
    if shown is None:
        obj.repo.audit_denied(
            actor,
            found.record_id,
            {"action": Action.INTAKE_LIST.value, "job_id": found.job_id, "answered": "JOB_NOT_FOUND"},
            as_absent=True,
        )
        raise job_not_found(checked_job_id(job))
    return shown


def _item_as_seen(obj: Any, actor: Actor, item: BulkItem) -> BulkItem:
    """A bulk import's ``item`` without the record id of a record ``actor`` may not see: a file
    the agency received before (the same SHA-256, the same job) answered the id of another
    unit's record, a Mật one too (:func:`repository.policy.job_sight`)."""
    if item.record_id is None or item.job_id is None:
        return item
    job = {"job_id": item.job_id, "record_id": item.record_id}
    if shown_job(obj.repo, actor, job, facts=item.facts) is not None:
        return item
    return replace(item, record_id=None)


def _described(status: JobStatus) -> dict[str, Any]:
    """What the job's document says (số, ký hiệu, loại, ngày, trích yếu), read from the record's
    sealed metadata when the person may read the record; nothing otherwise (a destroyed record,
    a secret one above the person's clearance, a job not stored yet). The job object itself no
    longer carries them (only jobs written before this release do)."""
    from ingest.pipeline import METADATA_DERIVED
    from kho.errors import KhoError

    if not status.record_id:
        return {}
    obj = click.get_current_context().find_root().obj
    try:
        obj.repo.get(status.record_id, actor=obj.actor)  # the access policy decides
        stored = json.loads(obj.repo.get_derived(status.record_id, METADATA_DERIVED))
    except (KhoError, ValueError, AttributeError):
        return {}
    return {
        key: (stored.get(key) or {}).get("value")
        for key in ("so_ky_hieu", "loai_van_ban", "ngay_ban_hanh", "trich_yeu")
    }


def _print_status(status: JobStatus) -> None:
    click.echo(f"Lượt tiếp nhận: {status.job_id}")
    click.echo(f"  Tệp:        {_shown(status.filename)}")
    click.echo(f"  Trạng thái: {status.state.value}" + (f" (bước: {status.step})" if status.step else ""))
    if status.record_id:
        click.echo(f"  Văn bản:    {status.record_id}")
    if status.reason_code:
        click.echo(f"  Lý do:      [{status.reason_code}] {_shown(status.reason)}")
    for name, rec in status.steps.items():
        note = f" — {rec.note}" if rec.note else ""
        label = STEP_LABELS.get(name, name)
        click.echo(f"  - {label}: {rec.state.value} ({rec.seconds * 1000:.0f} ms){note}")
    s = status.summary
    if s.get("signature_verdict"):
        click.echo(f"  Chữ ký số:  {s['signature_verdict']} — {s.get('signature_explanation') or ''}")
        if s.get("signature_return_reason"):
            click.echo(f"  Lý do trả lại: {s['signature_return_reason']}")
    described = _described(status)
    for key, label in (
        ("so_ky_hieu", "Số, ký hiệu"),
        ("loai_van_ban", "Loại"),
        ("ngay_ban_hanh", "Ngày"),
        ("trich_yeu", "Trích yếu"),
    ):
        if described.get(key):
            click.echo(f"  {label}: {described[key]}")


@click.group("ingest", cls=_DefaultGroup)
def ingest() -> None:
    """Tiếp nhận văn bản: lưu bản gốc, trích xuất văn bản, kiểm tra chữ ký số, siêu dữ liệu."""


def progress_line(done: int, total: int, rate: float) -> str:
    """One progress line of a bulk import: files done, the rate, and the time left at it."""
    line = f"{done}/{total} tệp — {rate:.1f} văn bản/giây"
    if done >= total or rate <= 0:
        return line
    minutes = round((total - done) / rate / 60)
    left = "dưới 1 phút" if minutes < 1 else f"khoảng {minutes} phút"
    return f"{line} — còn {left}"


@ingest.command("files")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--direction",
    type=click.Choice(["den", "di"]),
    default="den",
    show_default=True,
    help="Văn bản đến (den) hay văn bản đi (di).",
)
@click.option(
    "--workers", type=AsciiInt(), default=None, help="Số tiến trình xử lý (chế độ nhúng; mặc định = số lõi)."
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Có broker: chờ các worker xử lý xong rồi mới kết thúc.",
)
@click.option("--retry-failed", is_flag=True, help="Chạy lại cả các tệp đã lỗi ở lần trước.")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False),
    default=None,
    help="Tệp ghi tiến độ (để chạy tiếp sau khi bị ngắt).",
)
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")
@_handles_errors
def files(
    paths: tuple[str, ...],
    direction: str,
    workers: int | None,
    wait: bool,
    retry_failed: bool,
    manifest: str | None,
    as_json: bool,
) -> None:
    """Tiếp nhận các tệp và thư mục ĐƯỜNG_DẪN (chạy tiếp được sau khi bị ngắt, không tạo bản trùng)."""
    from pathlib import Path

    from ingest.pipeline import quiet_validation_logs

    quiet_validation_logs()
    obj, actor = _person(Action.RECORD_CREATE)
    settings = Settings.from_env()
    last = [0.0]

    def progress(n: int, total: int, rate: float, item: BulkItem) -> None:
        if as_json:
            return
        if item.state == JobState.FAILED.value and not item.skipped:
            click.echo(f"  lỗi [{item.reason_code}] {_shown(item.path)}: {_shown(item.reason)}", err=True)
        elif item.state == SYSTEM_STATE:
            click.echo(f"  bỏ qua [{item.reason_code}] {_shown(item.path)}: {_shown(item.reason)}")
        now = time.monotonic()
        if now - last[0] >= 1.0 or n == total:
            last[0] = now
            click.echo(progress_line(n, total, rate))

    report = import_paths(
        paths,
        direction=direction,
        settings=settings,
        workers=workers,
        wait=wait,
        manifest_path=Path(manifest) if manifest else None,
        retry_failed=retry_failed,
        progress=progress,
        owner=actor.user,
        shown=functools.partial(_item_as_seen, obj, actor),
        name_skipped=as_json,  # the text report counts the files done before, names none
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(
            f"Xong: {report.done}, lỗi: {report.failed}, đang chờ: {report.waiting},"
            f" bỏ qua (đã xử lý trước): {report.skipped} / {report.total} tệp;"
            + (f" tệp hệ thống bỏ qua: {report.system};" if report.system else "")
            + f" {report.seconds:.1f} s, {report.rate:.1f} văn bản/giây."
        )
    if report.failed:
        sys.exit(1)


@ingest.command("status")
@click.argument("job", required=False)
@click.option(
    "--state",
    type=click.Choice([s.value for s in JobState]),
    default=None,
    help="Chỉ liệt kê các lượt ở trạng thái này.",
)
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")
@_handles_errors
def status_cmd(job: str | None, state: str | None, as_json: bool) -> None:
    """Trạng thái một lượt tiếp nhận (MÃ_LƯỢT_NHẬP = mã băm SHA-256 hoặc 8+ ký tự đầu), hoặc tất cả."""
    obj, actor = _person(Action.INTAKE_LIST)
    if job:
        found = _job_for(obj, actor, job)
        if as_json:
            click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        else:
            _print_status(found)
        return
    chosen = (s for s in JobStore(obj.repo.store).all() if state is None or s.state.value == state)
    listed = [shown for s in chosen if (shown := _as_seen(obj, actor, s)) is not None]
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in listed], ensure_ascii=False))
        return
    counts = {s: sum(1 for j in listed if j.state is s) for s in JobState}
    for item in listed:
        reason = f" [{item.reason_code}] {_shown(item.reason)}" if item.reason_code else ""
        click.echo(f"{item.job_id[:16]}  {item.state.value:<11} {_shown(item.filename)}{reason}")
    click.echo(", ".join(f"{s.value}: {n}" for s, n in counts.items()))


@ingest.command("scrub")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")
@_handles_errors
def scrub_cmd(as_json: bool) -> None:
    """Xóa bản rõ (tên tệp, số/ký hiệu, loại, ngày, trích yếu) khỏi các lượt tiếp nhận ghi trước
    đây; chạy lại được nếu bị dừng giữa chừng (ghi vào nhật ký)."""
    from repository.ingest_jobs import scrub_audited

    obj = click.get_current_context().find_root().obj
    actor = obj.operator_access()
    report = scrub_audited(obj.repo.store, obj.repo.audit, actor.user, actor.source)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "checked": report.checked,
                    "scrubbed": list(report.scrubbed),
                    "finished": list(report.finished),
                    "unreadable": list(report.unreadable),
                    "overtaken": list(report.overtaken),
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        f"Đã kiểm tra {report.checked} lượt tiếp nhận; xóa bản rõ ở {len(report.scrubbed)} lượt"
        + (f", hoàn tất {len(report.finished)} lượt bị dừng lần trước" if report.finished else "")
        + (f"; {len(report.unreadable)} lượt không đọc được (xem kho fsck)" if report.unreadable else "")
        + (
            f"; {len(report.overtaken)} lượt đang được tiếp nhận ghi lại liên tục, chưa xóa hết bản cũ"
            " (chạy lại sau)"
            if report.overtaken
            else ""
        )
        + "."
    )


@ingest.command("retry")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")
@_handles_errors
def retry_cmd(job: str, as_json: bool) -> None:
    """Chạy lại một lượt tiếp nhận từ bước chưa xong (bản gốc đã lưu được giữ nguyên)."""
    from ingest.pipeline import Pipeline, quiet_validation_logs
    from ingest.tasks import dispatch

    quiet_validation_logs()
    obj, actor = _person(Action.RECORD_CREATE)
    settings = Settings.from_env()
    current = _job_for(obj, actor, job)
    pipeline = Pipeline.from_settings(settings)
    result = dispatch(current.job_id, settings=settings, pipeline=pipeline, force=True)
    if result is None:
        result = pipeline.jobs.get(current.job_id)
        if not as_json:
            click.echo("Đã gửi lại cho worker xử lý.")
    # A job that named no record (shown bare) may now have one the person may not see.
    unseen = {**bare(result.to_dict()), "record_id": None}
    result = _as_seen(obj, actor, result) or JobStatus.from_dict(unseen)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _print_status(result)
    if result.state is JobState.FAILED:
        sys.exit(1)


@ingest.command("return")
@click.argument("target")
@click.option(
    "--reason", default=None, help="Lý do trả lại (mặc định: lý do Kho tìm thấy khi kiểm tra chữ ký số)."
)
@click.option("--json", "as_json", is_flag=True, help="Kết quả dạng JSON cho máy.")
@_handles_errors
def return_cmd(target: str, reason: str | None, as_json: bool) -> None:
    """Trả lại văn bản (ĐÍCH = mã văn bản hoặc mã lượt tiếp nhận) kèm lý do."""
    obj, actor = _person(Action.INTAKE_LIST)
    record_id = target
    if not is_record_id(target):
        found = _job_for(obj, actor, target)
        if found.record_id is None:
            raise NotFound(
                "Lượt tiếp nhận này chưa lưu được bản gốc, không có văn bản để trả lại.",
                job_id=found.job_id,
            ) from None
        record_id = found.record_id
    record = obj.kho.receive.return_document(record_id, actor, reason)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "record_id": record.record_id,
                    "version": record.version,
                    "return_reason": record.extra.get("return_reason"),
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(f"Đã trả lại văn bản {record.record_id}. Lý do: {record.extra.get('return_reason')}")


@click.command("worker")
@click.option("--concurrency", "-c", type=AsciiInt(), default=None, help="Số tiến trình (mặc định = số lõi).")
@click.option(
    "--pool", type=click.Choice(["prefork", "solo", "threads"]), default="prefork", show_default=True
)
@click.option("--loglevel", default="INFO", show_default=True)
@_handles_errors
def worker(concurrency: int | None, pool: str, loglevel: str) -> None:
    """Chạy worker Celery xử lý hàng đợi tiếp nhận (cần KHO_BROKER_URL)."""
    settings = Settings.from_env()
    if not settings.broker_url:
        raise KhoError(
            "Chưa đặt KHO_BROKER_URL (ví dụ redis://127.0.0.1:6379/0): không có hàng đợi để xử lý."
            " Ở chế độ nhúng, văn bản được xử lý ngay khi tiếp nhận.",
            code="CONFIG_INVALID",
        )
    from repository.service import refuse_missing_keystore
    from repository.storage import open_store

    # At start, not at the first task: a worker that started on an unmounted key-store folder
    # made an empty one and wrote new records' keys there (u9).
    refuse_missing_keystore(settings, open_store(settings.store_url, **settings.store_options()))
    from ingest.celery_app import app, ingest_queue

    argv = ["worker", f"--pool={pool}", f"--loglevel={loglevel}", "-Q", ingest_queue()]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


if __name__ == "__main__":  # python -m ingest.cli ...
    ingest()
