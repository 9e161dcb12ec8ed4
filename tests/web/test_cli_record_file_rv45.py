"""Files named on the command line are read bounded. ``kho record create --file`` reads its
file as the folder import does (:mod:`ingest.source_files`): a device or a FIFO is refused
(``SOURCE_NOT_FILE``), and a file larger than the size rule takes is refused before it is read
(``FILE_TOO_LARGE``). Before review rv45 it called ``Path.read_bytes()``: ``/dev/zero`` and a
sparse 3 GB file were read until memory ran out (a MemoryError traceback; here under a 1.5 GB
address-space limit), a FIFO hung. The small files (a metadata or plan JSON, a checkpoint, a
certificate) go through :func:`kho.files.read_small_file`, which refuses the same shapes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))


def run_create(tmp_path: Path, source: Path, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
    env.update(
        KHO_DATA_DIR=str(tmp_path / "data"), KHO_AGENCY_ID="000.00.18.H40", KHO_TOKEN="", KHO_MAX_FILE_MB="1"
    )
    line = args or ("record", "create", "--direction", "den", "--file")
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *line, str(source)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_bounded,
    )


@pytest.mark.parametrize("shape", ["device", "fifo", "sparse-3gb"])
def test_a_file_that_is_no_document_is_refused_before_it_is_read(tmp_path: Path, shape: str) -> None:
    if shape == "device":
        source, code = Path("/dev/zero"), "SOURCE_NOT_FILE"
    elif shape == "fifo":
        source, code = tmp_path / "ong.pdf", "SOURCE_NOT_FILE"
        os.mkfifo(source)
    else:
        source, code = tmp_path / "lon.pdf", "FILE_TOO_LARGE"
        with source.open("wb") as out:
            out.truncate(3 * 1024**3)
    try:
        done = run_create(tmp_path, source)
    except subprocess.TimeoutExpired:
        pytest.fail("kho record create did not end (a FIFO read)")
    assert done.returncode == 2, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    assert f"Lỗi [{code}]:" in done.stderr, done.stderr[-500:]


SMALL_FILES = {
    "metadata": (("record", "create", "--direction", "den", "--metadata"), "METADATA_FILE_INVALID"),
    "plan": (("plan", "draft"), "BODY_INVALID"),
    "checkpoint": (("audit", "verify", "--checkpoint"), "CHECKPOINT_FILE_INVALID"),
}


@pytest.mark.parametrize("shape", ["device", "fifo", "sparse-3gb"])
@pytest.mark.parametrize("reader", sorted(SMALL_FILES))
def test_a_small_file_that_is_no_file_or_too_large_is_refused(
    tmp_path: Path, reader: str, shape: str
) -> None:
    args, code = SMALL_FILES[reader]
    if shape == "device":
        source = Path("/dev/zero")
    elif shape == "fifo":
        source = tmp_path / "ong.json"
        os.mkfifo(source)
    else:
        source = tmp_path / "lon.json"
        with source.open("wb") as out:
            out.truncate(3 * 1024**3)
    try:
        done = run_create(tmp_path, source, args)
    except subprocess.TimeoutExpired:
        pytest.fail(f"kho {' '.join(args)} did not end (a FIFO read)")
    assert done.returncode == 2, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    assert f"Lỗi [{code}]:" in done.stderr, done.stderr[-500:]
    assert "không phải tệp thông thường" in done.stderr or "quá lớn" in done.stderr, done.stderr[-300:]
