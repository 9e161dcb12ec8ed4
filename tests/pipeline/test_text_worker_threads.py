"""The text step's bound in a pipeline whose process has other threads: with fsync on (as in
production) the store's first durable write starts its write pools (repository/storage/group.py)."""

from __future__ import annotations

import resource
import threading

import pytest
from pdf_objects import nested_forms_pdf

from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import JobState
from ingest.text import TextSettings
from kho.config import Settings


def test_the_text_layer_is_bounded_after_the_store_started_its_write_threads(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, signed: dict[str, bytes]
) -> None:
    """a17 read the text layer in a forked child only when the process had no other thread;
    after the first durable write (fsync on) it has the store's write threads, so a poison
    page was read in the worker itself, unbounded (nested forms 13 deep: 658 MB, ~4 s of CPU,
    and the job ended ``xong``). Now the read goes to a pre-started worker whatever the
    threads: FILE_TOO_COMPLEX, the caller unharmed, the next document read as before."""
    monkeypatch.setenv("KHO_FSYNC", "true")
    pipeline = Pipeline.from_settings(
        Settings.from_env(), retry=RetryPolicy(max_retries=0, base_delay=0.05),
        text_settings=TextSettings(text_layer_memory_mb=256),
    )
    try:
        first = pipeline.ingest(signed["valid-1"], "qd-1.pdf")
        assert first.state is JobState.DONE, first.reason
        assert threading.active_count() > 1  # the store's write threads (the premise)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        poison = pipeline.ingest(nested_forms_pdf(13), "forms.pdf")
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert poison.state is JobState.FAILED, (poison.state, poison.reason)
        assert poison.reason_code == "FILE_TOO_COMPLEX" and "quá phức tạp" in (poison.reason or "")
        assert grown_mb < 200, grown_mb  # pdfium's 658 MB were not in this process
        after = pipeline.ingest(signed["valid-2"], "qd-2.pdf")
        assert after.state is JobState.DONE, after.reason
    finally:
        pipeline.close()
