"""Ingest does less per document than it used to, and nothing less of what it promises.

* a job is written twice for a new document (``đang xử lý`` before the first step, then its
  final state), not three times — and a run killed after the first write resumes;
* the modules a bulk worker needs are imported once by the parent before the pool forks;
* a bulk worker starts its verification worker before its first document, and that document
  is verified by it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import Pipeline
from ingest.signatures import _pool
from ingest.status import JobState, JobStore, job_key
from repository.storage.base import ObjectStore

ROOT = Path(__file__).resolve().parents[2]


class _CountingStore:
    """The real store, with every write of a job object remembered (key, state written)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.job_writes: list[tuple[str, str]] = []

    def put(self, key: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        self.job_writes.append((key, json.loads(data)["state"]))
        return self._store.put(key, data, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture()
def counted(pipeline: Pipeline) -> Iterator[_CountingStore]:
    store = _CountingStore(pipeline.repo.store)
    pipeline.jobs = JobStore(store)  # type: ignore[arg-type]
    # a step that runs longer than this writes the job again (progress); not what is counted
    pipeline.status_interval = 600.0
    yield store


def test_a_new_document_writes_its_job_twice(
    pipeline: Pipeline, counted: _CountingStore, signed: dict[str, bytes]
) -> None:
    status = pipeline.ingest(signed["valid-2"], "qd-2.pdf")

    assert status.state is JobState.DONE, status.reason
    key = job_key(status.job_id)
    assert counted.job_writes == [(key, "đang xử lý"), (key, "xong")]
    stored = pipeline.jobs.get(status.job_id)
    assert (stored.state, stored.attempts, stored.record_id) == (JobState.DONE, 1, status.record_id)


def test_bulk_mode_writes_the_job_twice_and_xong_only_after_the_index_commit(
    pipeline: Pipeline, counted: _CountingStore, signed: dict[str, bytes]
) -> None:
    pipeline.defer_index = True
    running = pipeline.ingest(signed["valid-2"], "qd-2.pdf")
    key = job_key(running.job_id)
    assert counted.job_writes == [(key, "đang xử lý")]
    assert pipeline.jobs.get(running.job_id).state is JobState.RUNNING

    (done,) = pipeline.flush_index()

    assert done.state is JobState.DONE
    assert counted.job_writes == [(key, "đang xử lý"), (key, "xong")]
    assert pipeline.backend().get(done.record_id) is not None


def test_accept_writes_the_job_before_it_stores_and_leaves_it_waiting(
    pipeline: Pipeline, counted: _CountingStore, signed: dict[str, bytes]
) -> None:
    status = pipeline.accept(signed["valid-2"], "qd-2.pdf")

    key = job_key(status.job_id)
    assert status.state is JobState.WAITING and status.record_id
    assert counted.job_writes == [(key, "đang xử lý"), (key, "chờ")]
    assert pipeline.jobs.get(status.job_id).record_id == status.record_id


def test_a_run_cut_after_its_first_job_write_resumes_to_one_record(
    pipeline: Pipeline, signed: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job exists (``đang xử lý``) from its first write on: a run that dies right after it
    (here: the store step raises like a killed process would stop) is found and finished by
    the next run of the same bytes."""
    from ingest.pipeline import StoreOriginal

    def killed(self: StoreOriginal, ctx: Any) -> Any:
        raise SystemExit("killed")

    with monkeypatch.context() as patch:
        patch.setattr(StoreOriginal, "run", killed)
        with pytest.raises(SystemExit):
            pipeline.ingest(signed["valid-2"], "qd-2.pdf")
    job_id = __import__("hashlib").sha256(signed["valid-2"]).hexdigest()
    assert pipeline.jobs.get(job_id).state is JobState.RUNNING

    again = pipeline.ingest(signed["valid-2"], "qd-2.pdf")

    assert again.state is JobState.DONE, again.reason
    assert again.attempts == 2
    assert list(pipeline.repo.record_ids()) == [again.record_id]


_MODULES_SCRIPT = """
import json, sys
from pathlib import Path
import ingest.bulk as bulk
if sys.argv[1] == "preload":
    from kho.config import Settings
    bulk.preload(Settings.from_env())
before = set(sys.modules)
bulk._init_worker("den")
path = Path(sys.argv[2])
((key, item),) = bulk._ingest_chunk([(str(path), bulk._file_key(path), bulk.source_identity(path))])
families = ("ingest", "repository", "search", "pyhanko", "pypdfium2", "tantivy", "asn1crypto")
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in families)
print(json.dumps({"state": item.state, "new": new}))
"""


def _worker_imports(mode: str, pdf: Path, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _MODULES_SCRIPT, mode, str(pdf)],
        env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_preload_imports_everything_a_bulk_worker_needs_for_a_signed_pdf(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str]
) -> None:
    pdf = tmp_path / "qd.pdf"
    pdf.write_bytes(signed["valid-1"])

    cold = _worker_imports("cold", pdf, env)
    warm = _worker_imports("preload", pdf, env)

    assert cold["state"] == warm["state"] == "xong"
    assert any(m.startswith("ingest.pipeline") for m in cold["new"])  # the check can fail
    assert warm["new"] == []


def test_import_paths_preloads_before_forking_its_workers(
    tmp_path: Path, signed: dict[str, bytes], env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ingest.bulk as bulk

    calls: list[str] = []
    real: Callable[[Any], None] = bulk.preload
    monkeypatch.setattr(bulk, "preload", lambda settings: (calls.append("preload"), real(settings))[1])
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(signed["valid-1"])
    (folder / "b.pdf").write_bytes(signed["valid-2"])

    report = bulk.import_paths([folder], workers=2)

    assert calls == ["preload"]
    assert (report.done, report.failed) == (2, 0)


def test_prestart_starts_the_worker_that_then_verifies(signed: dict[str, bytes], trust_dir: Path) -> None:
    from ingest.signatures import trustlist, verify_pdf

    trust = trustlist.resolve(trust_dir, trust_dir)
    pool = _pool.VerifierPool(1)
    try:
        pool.prestart()
        pool.prestart()  # a second call starts nothing more
        assert pool._started == 1 and len(pool._idle) == 1
        pid = pool._idle[0].process.pid

        result = verify_pdf(signed["valid-2"], trust, pool=pool)

        assert result.verdict.indication.value == "TOTAL-PASSED"
        assert [w.process.pid for w in pool._idle] == [pid]
    finally:
        pool.close()
