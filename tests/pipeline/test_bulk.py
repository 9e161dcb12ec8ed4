"""Bulk import: bad inputs end in ``lỗi`` with their code while the batch goes on; a run killed
with SIGKILL resumes with no duplicates; the same bytes twice are one record."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
import textdocs
from kho_buckets import new_bucket
from kho_people import make_people
from kho_testing import BACKENDS, CLERK, s3_options_or_skip

from ingest.bulk import import_paths
from ingest.status import JobState, JobStore
from kho.config import Settings
from repository.service import open_repository
from web.context import Kho

ROOT = Path(__file__).resolve().parents[2]


def _encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(textdocs.blank_pdf(1))))
    writer.encrypt(user_password="mat-khau", owner_password="chu", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _scan_png() -> bytes:
    """Page 1 of a real scanned Công điện as a 150 dpi PNG (an image that needs OCR)."""
    return textdocs.scan_png(150)


def test_bad_inputs_fail_with_their_code_and_the_batch_goes_on(
    tmp_path: Path, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("KHO_MAX_PAGES", "4")
    monkeypatch.setenv("KHO_OCR_TIMEOUT", "0.01")
    folder = tmp_path / "in"
    folder.mkdir()
    inputs = {
        "a-good.pdf": (signed["valid-1"], "xong"),
        "rong.pdf": (b"", "FILE_EMPTY"),
        "docx-that-says-pdf.pdf": (textdocs.docx_bytes(), "FILE_TYPE_MISMATCH"),
        "mat-khau.pdf": (_encrypted_pdf(), "FILE_ENCRYPTED"),
        "cut.pdf": (signed["valid-2"][:4000], "FILE_CORRUPT"),
        "bom.docx": (textdocs.zip_bomb(), "FILE_BOMB"),
        "qua-nhieu-trang.pdf": (textdocs.blank_pdf(6), "FILE_TOO_MANY_PAGES"),
        "scan.png": (_scan_png(), "OCR_TIMEOUT"),
        "z-good.pdf": (signed["tampered"], "xong"),
    }
    for name, (data, _) in inputs.items():
        (folder / name).write_bytes(data)

    report = import_paths([folder], settings=Settings.from_env(), workers=2)

    by_name = {Path(i.path).name: i for i in report.items}
    got = {name: (i.state if i.state == "xong" else i.reason_code) for name, i in by_name.items()}
    assert got == {name: want for name, (_, want) in inputs.items()}
    assert (report.total, report.done, report.failed) == (9, 2, 7)
    repo = open_repository(Settings.from_env())
    jobs = JobStore(repo.store)
    for name, item in by_name.items():
        status = jobs.get(item.job_id)
        assert status.state.value == item.state
        if item.state == "lỗi":
            assert status.reason and status.reason_code == item.reason_code
        if item.record_id is not None:  # stored before the failing step: kept, unchanged
            _, data = repo.read_content(item.record_id, actor=CLERK)
            assert data == inputs[name][0]
    # Refused at the door (nothing stored): empty and mismatched files.
    assert by_name["rong.pdf"].record_id is None
    assert by_name["docx-that-says-pdf.pdf"].record_id is None
    assert by_name["mat-khau.pdf"].record_id is not None


def test_same_bytes_twice_in_a_folder_are_one_record(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.pdf").write_bytes(signed["valid-2"])
    (folder / "sub" / "copy of a.pdf").write_bytes(signed["valid-2"])

    report = import_paths([folder], settings=Settings.from_env(), workers=1)

    assert report.done == 2
    assert {i.record_id for i in report.items} == {report.items[0].record_id}
    assert len(list(open_repository(Settings.from_env()).record_ids())) == 1


def clerk_token(env: dict[str, str]) -> str:
    """A văn thư of the installation in ``env`` (bulk import needs the right to receive)."""
    people = make_people(Kho(Settings.from_env(env), follow_index=False))
    return people.tokens["van_thu"]


def _statuses(data_dir: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "web.cli", "ingest", "status", "--json"],
        env={**env, "KHO_DATA_DIR": str(data_dir)}, cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def _store_env(backend: str) -> dict[str, str]:
    """Where the installation keeps its store: the local folder, or buckets on the S3 gateway."""
    if backend == "local":
        return {}
    options = s3_options_or_skip()
    return {
        "KHO_STORE_URL": f"s3://{new_bucket('bulk', options)}",
        "KHO_KEYSTORE_URL": f"s3://{new_bucket('bulk-keys', options)}",
        "KHO_S3_ENDPOINT": options["endpoint"],
        "KHO_S3_ACCESS_KEY": options["access_key"],
        "KHO_S3_SECRET_KEY": options["secret_key"],
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_bulk_import_resumes_after_sigkill_without_duplicates(
    backend: str, tmp_path: Path, signed_folder: Path, make_env: Callable[..., dict[str, str]]
) -> None:
    data_dir = tmp_path / "kho"
    env = make_env(data_dir, **_store_env(backend))
    env["KHO_TOKEN"] = clerk_token(env)
    manifest = tmp_path / "manifest.jsonl"
    command = [sys.executable, "-m", "web.cli", "ingest", str(signed_folder), "--workers", "1",
               "--manifest", str(manifest)]
    total = len(list(signed_folder.iterdir()))

    proc = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            done = manifest.read_text().count("\n") if manifest.exists() else 0
            if done >= 3:
                # Into the next document's steps. Under load the kill lands inside create_intake;
                # every such point (S3's claim without data included) is covered one by one by
                # tests/repository/test_intake_kill.py.
                time.sleep(0.05)
                break
            assert proc.poll() is None, "the import ended before it could be killed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    first = manifest.read_text().count("\n")
    assert 3 <= first < total

    rerun = subprocess.run([*command, "--json"], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    report = json.loads(rerun.stdout) if rerun.stdout.strip() else {}
    failed = [i for i in report.get("items", []) if i["state"] != JobState.DONE.value]
    assert rerun.returncode == 0, (rerun.stderr, failed)
    assert report["done"] == total and report["failed"] == 0
    assert report["skipped"] >= first  # finished files were not read again

    statuses = _statuses(data_dir, env)
    assert len(statuses) == total
    assert {s["state"] for s in statuses} == {JobState.DONE.value}
    repo = open_repository(Settings.from_env({**env, "KHO_DATA_DIR": str(data_dir)}))
    committed = [r for r in repo.records() if r.files]
    assert len(committed) == total  # one record per file: nothing duplicated by the kill
    assert len({r.files[0].sha256 for r in committed}) == total
    assert {s["record_id"] for s in statuses} == {r.record_id for r in committed}
