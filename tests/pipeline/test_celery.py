"""The pipeline under Celery: a real Redis broker, a real worker process started here, real
documents end to end; transient failures retried by the worker with backoff."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import textdocs
from kho_redis import NEEDS_REDIS, REDIS_URL
from kho_worker import worker_command
from pdf_objects import flate_bomb_pdf, nested_forms_pdf
from textdocs import CORPUS_PDF

from ingest.bulk import import_paths
from ingest.status import JobState, JobStore
from kho.config import Settings
from repository.records import SYSTEM
from repository.service import open_repository

ROOT = Path(__file__).resolve().parents[2]

pytestmark = NEEDS_REDIS


@pytest.fixture()
def broker_env(tmp_path: Path, make_env: Callable[..., dict[str, str]]) -> dict[str, str]:
    # A queue of its own: other test runs on the same Redis database never take these tasks.
    return make_env(
        tmp_path / "kho", KHO_BROKER_URL=REDIS_URL, KHO_INGEST_QUEUE=f"kho-test-{uuid.uuid4().hex[:12]}",
        KHO_INGEST_RETRIES="2", KHO_INGEST_RETRY_DELAY="0.2",
    )


@pytest.fixture()
def start_worker(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a real Celery worker process (solo pool) on the test queue, with an address-space
    limit if given; stopped at the end."""
    procs: list[tuple[subprocess.Popen[bytes], object]] = []

    def start(env: dict[str, str], memory: int | None = None) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(procs)}.log").open("wb")

        def limited() -> None:
            if memory is not None:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        proc = subprocess.Popen(
            worker_command(env["KHO_INGEST_QUEUE"]),
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limited,
        )
        procs.append((proc, log))
        return proc

    yield start
    for proc, log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()  # type: ignore[attr-defined]


def _apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for key, value in env.items():
        if key.startswith("KHO_"):
            monkeypatch.setenv(key, value)
    return Settings.from_env()


def test_worker_process_runs_real_documents_end_to_end(
    start_worker: Callable[[dict[str, str]], subprocess.Popen[bytes]], broker_env: dict[str, str],
    tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _apply_env(monkeypatch, broker_env)
    worker = start_worker(broker_env)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "qd-1.pdf").write_bytes(signed["valid-1"])
    (folder / "sua.pdf").write_bytes(signed["tampered"])
    shutil.copy(CORPUS_PDF / "dss__pades-bes.pdf", folder / "pades-bes.pdf")
    (folder / "rong.pdf").write_bytes(b"")

    started = time.monotonic()
    report = import_paths([folder], settings=settings, wait=True, poll_interval=0.2, wait_timeout=90)

    assert time.monotonic() - started < 90
    assert worker.poll() is None
    by_name = {Path(i.path).name: i for i in report.items}
    assert {n: i.state for n, i in by_name.items()} == {
        "qd-1.pdf": "xong", "sua.pdf": "xong", "pades-bes.pdf": "xong", "rong.pdf": "lỗi",
    }
    assert by_name["rong.pdf"].reason_code == "FILE_EMPTY"
    repo = open_repository(settings)
    jobs = JobStore(repo.store)
    valid = jobs.get(by_name["qd-1.pdf"].job_id)
    assert valid.summary["signature_verdict"] == "TOTAL-PASSED"
    assert valid.summary["text_sources"] == ["text-layer"]
    assert valid.summary["metadata"] == "metadata.json"  # what it says stays sealed with the record
    assert all(step.state.value == "xong" for step in valid.steps.values())
    tampered = repo.get(by_name["sua.pdf"].record_id, actor=SYSTEM)
    assert tampered.extra["signature_verdict"] == "TOTAL-FAILED"
    assert tampered.extra["signature_return_reason"]
    assert repo.get(by_name["pades-bes.pdf"].record_id, actor=SYSTEM).extra["signature_count"] == 1


def test_worker_retries_a_transient_failure_with_backoff_then_reports_it(
    start_worker: Callable[[dict[str, str]], subprocess.Popen[bytes]], broker_env: dict[str, str],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {**broker_env, "KHO_TIKA_URL": "http://127.0.0.1:9"}  # a Tika server that is down
    settings = _apply_env(monkeypatch, env)
    start_worker(env)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cong-van.docx").write_bytes(textdocs.docx_bytes())

    report = import_paths([folder], settings=settings, wait=True, poll_interval=0.2, wait_timeout=60)

    (item,) = report.items
    assert item.state == JobState.FAILED.value and item.reason_code == "TIKA_UNAVAILABLE"
    status = JobStore(open_repository(settings).store).get(item.job_id)
    # Runs: the store step here, the worker's first run and its two retries with backoff.
    assert status.attempts == 4
    assert status.step == "text" and status.record_id is not None
    worker_log = (tmp_path / "worker-0.log").read_text()
    assert worker_log.count("Retry in") == 2


def _pool_processes(parent: int) -> list[int]:
    """Pids of the processes whose parent is ``parent`` (the prefork pool of a worker)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                out.append(int(entry.name))
    return out


def test_a_file_whose_runs_kill_the_worker_process_ends_in_error_and_the_queue_goes_on(
    broker_env: dict[str, str], tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pool process running a file dies (the kernel's OOM killer, a native abort outside the
    bounded text child): here it is SIGKILLed each time it runs the file, as the OOM killer
    would. Celery puts a task whose process died back on the queue, so before this the file ran
    again for ever (on main a 450 MiB content stream made pdfium abort under a 900 MB limit: 82
    pool processes killed in 300 s) and its job stayed "đang xử lý". Now, past
    KHO_INGEST_RETRIES deaths in a row, the job ends in lỗi (INGEST_WORKER_LOST, Vietnamese
    reason), its original stays stored, and the other documents finish."""
    settings = _apply_env(monkeypatch, broker_env)
    command = worker_command(broker_env["KHO_INGEST_QUEUE"])
    command[command.index("--pool=solo")] = "--pool=prefork"
    command += ["--concurrency", "1"]
    folder = tmp_path / "in"
    folder.mkdir()
    slow = flate_bomb_pdf(450 * 1024 * 1024)  # seconds in the text step: time to kill its process
    (folder / "a-doc.pdf").write_bytes(slow)
    (folder / "qd-1.pdf").write_bytes(signed["valid-1"])
    (folder / "qd-2.pdf").write_bytes(signed["valid-2"])
    jobs = JobStore(open_repository(settings).store)
    killed = 0
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(command, env=broker_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            started = import_paths([folder], settings=settings, wait=False)
            job_id = next(i.job_id for i in started.items if Path(i.path).name == "a-doc.pdf")
            assert job_id
            killed_at: set[int] = set()
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                status = jobs.get(job_id)
                if status.state.final:
                    break
                # Past KHO_INGEST_RETRIES deaths the run only adopts the stored original and
                # ends the job: that run is not killed (it may be done within the second below,
                # and the pool process would then be running another document).
                gives_up = status.lost_runs > 2
                if status.state is JobState.RUNNING and status.attempts not in killed_at and not gives_up:
                    time.sleep(1.0)  # into the text step (its box takes seconds on this file)
                    now = jobs.get(job_id)
                    if now.state is JobState.RUNNING and now.attempts == status.attempts:  # still this run
                        for pid in _pool_processes(worker.pid):
                            os.kill(pid, signal.SIGKILL)
                        killed += 1
                    killed_at.add(status.attempts)
                time.sleep(0.05)
            ids = {Path(i.path).name: i.job_id for i in started.items}
            while time.monotonic() < deadline + 120:
                final = {n: jobs.get(str(j)) for n, j in ids.items()}
                if all(st.state.final for st in final.values()):
                    break
                time.sleep(0.5)
            alive = worker.poll() is None
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    log_text = (tmp_path / "worker.log").read_text(errors="replace")
    assert alive
    assert {n: st.state.value for n, st in final.items()} == {
        "a-doc.pdf": "lỗi", "qd-1.pdf": "xong", "qd-2.pdf": "xong",
    }, log_text[-3000:]
    lost = final["a-doc.pdf"]
    assert lost.reason_code == "INGEST_WORKER_LOST"
    assert "dừng đột ngột" in (lost.reason or "")
    assert killed == 3 and log_text.count("WorkerLostError") >= 3  # the pool process really died
    repo = open_repository(settings)
    status = JobStore(repo.store).get(lost.job_id)
    assert status.lost_runs == 3  # KHO_INGEST_RETRIES=2: three deaths, the fourth run ends it
    assert status.record_id is not None and status.steps["store"].state.value == "xong"
    _stored, data = repo.read_content(status.record_id, actor=SYSTEM, action="content:read")
    assert data == slow  # the original is kept


def test_a_page_that_pdfium_expands_without_end_is_refused_and_the_worker_goes_on(
    start_worker: Callable[..., subprocess.Popen[bytes]], broker_env: dict[str, str],
    tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An 11 KB PDF of forms drawn three times inside each other 60 deep: pdfium's text page
    expands every draw (13 deep: 658 MB; each level ×3). Before, the text step ran it in the
    worker itself until the memory ran out: under the worker's limit (3 GB here, as a
    deployment's) pdfium aborted and the solo worker died with the queue. Now the text layer is
    read in a bounded child: FILE_TOO_COMPLEX with a Vietnamese message, the worker lives and
    the other documents finish."""
    settings = _apply_env(monkeypatch, broker_env)
    limit = 3 * 1024 * 1024 * 1024
    worker = start_worker(broker_env, limit)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-forms.pdf").write_bytes(nested_forms_pdf(60))
    (folder / "qd-1.pdf").write_bytes(signed["valid-1"])
    (folder / "qd-2.pdf").write_bytes(signed["valid-2"])

    report = import_paths([folder], settings=settings, wait=True, poll_interval=0.5, wait_timeout=150)

    by_name = {Path(i.path).name: i for i in report.items}
    assert worker.poll() is None
    assert {n: i.state for n, i in by_name.items()} == {
        "a-forms.pdf": "lỗi", "qd-1.pdf": "xong", "qd-2.pdf": "xong",
    }
    refused = by_name["a-forms.pdf"]
    assert refused.reason_code == "FILE_TOO_COMPLEX" and "quá phức tạp" in (refused.reason or "")
