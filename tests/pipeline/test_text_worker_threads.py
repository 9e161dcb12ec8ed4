"""The text step's bound in a pipeline whose process has other threads: with fsync on (as in
production) the store's first durable write starts its write pools (repository/storage/group.py).

The pipeline runs in a process of its own, as a bulk or Celery worker does: the write pools it
starts live as long as their process, and this test session's other tests (``kho verify``'s
forked verifier) need a process without threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pdf_objects import nested_forms_pdf

ROOT = Path(__file__).resolve().parents[2]
SEARCH_PATH = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "support")])

SCRIPT = r"""
import json, sys, threading
from pathlib import Path
from ingest.pipeline import Pipeline, RetryPolicy
from ingest.text import TextSettings
from kho.config import Settings
from kho_peak import peak_mb, reset_peak

folder = Path(sys.argv[1])
pipeline = Pipeline.from_settings(
    Settings.from_env(), retry=RetryPolicy(max_retries=0, base_delay=0.05),
    text_settings=TextSettings(text_layer_memory_mb=256),
)
first = pipeline.ingest((folder / "qd-1.pdf").read_bytes(), "qd-1.pdf")
threads = threading.active_count()
before = reset_peak()
poison = pipeline.ingest((folder / "forms.pdf").read_bytes(), "forms.pdf")
grown_mb = peak_mb() - before
after = pipeline.ingest((folder / "qd-2.pdf").read_bytes(), "qd-2.pdf")
pipeline.close()
print(json.dumps({
    "first": first.state.value, "threads": threads, "poison": poison.state.value,
    "code": poison.reason_code, "reason": poison.reason, "grown_mb": grown_mb,
    "after": after.state.value,
}))
"""


def test_the_text_layer_is_bounded_after_the_store_started_its_write_threads(
    env: dict[str, str], signed: dict[str, bytes], tmp_path: Path
) -> None:
    """a17 read the text layer in a forked child only when the process had no other thread;
    after the first durable write (fsync on) it has the store's write threads, so a poison
    page was read in the worker itself, unbounded (nested forms 13 deep: 658 MB, ~4 s of CPU,
    and the job ended ``xong``). Now the read goes to a pre-started worker whatever the
    threads: FILE_TOO_COMPLEX, the caller unharmed, the next document read as before."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "qd-1.pdf").write_bytes(signed["valid-1"])
    (folder / "qd-2.pdf").write_bytes(signed["valid-2"])
    (folder / "forms.pdf").write_bytes(nested_forms_pdf(13))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder)],
        # fsync on, and the store overlapping its syncs on its write threads whatever the load
        # (the idle-core and fsync-time rules of repository/storage/overlap.py would keep a
        # busy machine's syncs inline, with no thread: the premise below)
        env={**os.environ, **env, "KHO_FSYNC": "true", "KHO_OVERLAP_SYNC_MS": "0", "PYTHONPATH": SEARCH_PATH},
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["first"] == "xong"
    assert result["threads"] > 1  # the store's write threads (the premise)
    assert result["poison"] == "lỗi", result
    assert result["code"] == "FILE_TOO_COMPLEX" and "quá phức tạp" in (result["reason"] or "")
    assert result["grown_mb"] < 200, result  # pdfium's 658 MB were not in the pipeline's process
    assert result["after"] == "xong"
