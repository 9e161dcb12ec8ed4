"""A bulk worker whose verification worker cannot be started ahead still ends its import.

The pool's initializer of ``kho ingest files`` starts each worker's verification worker ahead
of its first document. A failure there (EAGAIN or ENOMEM from ``Popen``, a missing
interpreter; here injected in the importing process, which the pool's workers fork from) must
not kill the pool's worker: ``multiprocessing.Pool`` would replace it, the new one would fail
the same way, for ever, and the import would hang (with one worker the error would escape
``import_paths``). The head start is only a head start: each document is verified as before
(found by review r14d)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import errno, json, sys
from pathlib import Path
from ingest import bulk
from ingest.signatures import _pool

def unstartable(self):
    raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

_pool.VerifierPool.prestart = unstartable  # the fault under test: every head start fails
report = bulk.import_paths([Path(sys.argv[1])], workers=int(sys.argv[2]))
print(json.dumps({"done": report.done, "failed": report.failed}))
"""


@pytest.mark.parametrize("workers", [2, 1])
def test_a_bulk_import_whose_verification_worker_cannot_start_ends(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str], workers: int
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(signed["valid-1"])
    (folder / "b.pdf").write_bytes(signed["valid-2"])
    child_env = {**os.environ, **env}
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(folder), str(workers)],
            env=child_env, cwd=str(tmp_path), capture_output=True, text=True, timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("kho ingest files hangs: the pool keeps replacing workers whose initializer fails")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"done": 2, "failed": 0}  # each verified by its own verification worker
