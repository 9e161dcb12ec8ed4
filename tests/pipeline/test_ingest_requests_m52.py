"""Issue 14, m52: a document ingested on S3 costs the requests its promises need, and the ingest
worker waits for as few of them as it can. Real pipeline (the bulk import's: text and
verification from one read, the index deferred to a batch commit), real S3 gateway (Ceph RGW,
claims mode), every HTTP request the client sends counted by kind and by the thread that sent
it: a request sent by the pipeline's own thread is one it waits for, alone."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kho_counting import count_http_requests
from kho_testing import s3_options_or_skip, s3_store_env

from ingest.indexing import to_index_document
from ingest.pipeline import Pipeline, RetryPolicy
from ingest.status import JobState, StepState
from ingest.testpki import TestPKI, Variant, make_variant
from kho.config import Settings
from repository.records import SYSTEM

pytestmark = pytest.mark.s3


def _kind(method: str, url: str) -> str:
    """``METHOD bucket-kind what``: the request as the table of bench/NOTES-m52.md names it."""
    path = url.split("://", 1)[-1].split("?", 1)[0].split("/", 2)
    bucket, key = path[1], path[2] if len(path) > 2 else ""
    where = "claims" if bucket.endswith("-claims") else "data"
    if "?" in url and not key:
        return f"{method} {where} LIST"
    parts = key.split("/")
    if parts[0] == "records" and len(parts) > 2:
        what = "derived/" + parts[-1] if parts[2] == "derived" else parts[2].rstrip("0123456789")
        return f"{method} {where} records:{what}"
    if parts[0] == "claims" and parts[1] == "records" and len(parts) > 3:
        what = "derived/" + parts[-1] if parts[3] == "derived" else parts[3].rstrip("0123456789")
        return f"{method} {where} claims/records:{what}"
    if parts[0] == "keys":  # (the key store's bucket: one object per record)
        return f"{method} keys"
    return f"{method} {where} {'/'.join(parts[:2])}"


class Requests:
    """Every request from now on: its kind and whether the counting thread sent it."""

    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.beside: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.thread = threading.get_ident()

    def clear(self) -> None:
        with self.lock:
            self.own.clear()
            self.beside.clear()

    def add(self, method: str, url: str) -> None:
        with self.lock:
            mine = threading.get_ident() == self.thread
            (self.own if mine else self.beside)[_kind(method, url)] += 1


@pytest.fixture()
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Requests]:
    seen = Requests()
    count_http_requests(monkeypatch, seen.add)
    yield seen


@pytest.fixture()
def s3_pipeline(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    for key, value in s3_store_env(s3_options_or_skip(), "m52r").items():
        monkeypatch.setenv(key, value)
    pipeline = Pipeline.from_settings(
        Settings.from_env(), read_once=True, retry=RetryPolicy(max_retries=2, base_delay=0.05)
    )
    pipeline.defer_index = True
    # The job is written once a step starts after ``status_interval`` (1 s) since its last
    # write: a step slowed past it by load adds a job write (a claim and its data) from the
    # pipeline's thread (CI at load 15). Counted here: a document whose steps write no such
    # progress, the job's first and last writes only.
    pipeline.status_interval = 600.0
    yield pipeline
    pipeline.close()


def _documents(count: int) -> list[bytes]:
    pki = TestPKI.build()
    return [make_variant(Variant.NO_TIMESTAMP, pki=pki, seed=900 + n, pages=1) for n in range(count)]


# What one new signed PDF costs once the worker is warm (its caches filled, its installation's
# first writes made), on a server without If-None-Match on versioned buckets (Ceph RGW):
OWN = Counter({
    # the job: looked for
    "GET data ingest/jobs": 1,
    # store: the SHA-256 guard looked for, claimed (the claim carries it) and its claim read
    # back; the record's first version (claim-free: put_new)
    "GET data claims/sha256": 1,
    "PUT claims claims/claims": 1,
    "GET claims claims/claims": 1,
    "PUT data records:v": 2,
    # the creation event: the witness read, the event's claim and data, the witness moved
    "GET claims pointers/audit": 1,
    "PUT claims claims/audit": 1,
    "PUT data audit/events": 2,
    "PUT claims pointers/audit": 2,
    # signatures: the verdict's version 2, a create (its claim here, its data above), and its
    # event (its data above, the witness moved above)
    "PUT claims claims/records:v": 1,
    # index: the hồ sơ the document sits in (who may find it)
    "GET data LIST": 1,
})
BESIDE = Counter({
    # the job: ``đang xử lý`` beside the store step, ``xong`` beside the other jobs of the
    # batch commit; the data alone, no claim (m56: ``kho ingest scrub`` writes a job again with
    # ``put_again``, which needs none; m53 kept 2 claims here)
    "PUT data ingest/jobs": 2,
    # m63: the job's first write with its record (``xong``, beside) removes its older version
    # that names the file (``đang xử lý``); session 51: by the id its write was answered with,
    # no listing and no read (m63 listed the versions and read that one: 3 requests); rv64: a
    # HEAD first, so that the current version is never the one removed (VERSION_IS_CURRENT)
    "HEAD data ingest/jobs": 1,
    "DELETE data ingest/jobs": 1,
    # store: the catalog marker, the key and the original in one group
    "PUT data catalog/records": 1,
    "PUT keys": 1,
    "PUT data records:content": 1,
    # text, verdict and extracted metadata, each a replace beside later steps: the data alone,
    # no claim (m53: nothing ever creates a derived object conditionally)
    "PUT data records:derived/text.json": 1,
    "PUT data records:derived/signatures.json": 1,
    "PUT data records:derived/metadata.json": 1,
    # signatures: the act's witness read beside the version's claim, its event's number
    # claimed beside the version's data
    "GET claims pointers/audit": 1,
    "PUT claims claims/audit": 1,
})


def test_an_ingested_document_costs_its_requests_and_waits_for_few(
    s3_pipeline: Pipeline, requests: Requests
) -> None:
    """Main sent 41 requests per document, 38 of them from the pipeline's thread, each one
    waited for: it read back what it had just written (the record twice, text and metadata for
    the index), looked for derived objects of a record it had just made, and waited for every
    derived object, the job's writes and the update's witness read and event claim. m52: 29, 14
    of them from the pipeline's thread; the others go beside it. m53: 26, the derived objects'
    replaces without their claims. m56: 24, the jobs' replaces without theirs. m63: 27, the job's
    older version that names the file removed beside the batch commit. Session 51: 25, that
    version removed by its id. rv64: 26, the current version asked (HEAD) before that removal,
    beside the batch commit (no wait added to the pipeline's thread)."""
    first, doc = _documents(2)
    warm = s3_pipeline.ingest(first, "warm.pdf")
    (warm,) = s3_pipeline.flush_index()
    assert warm.state is JobState.DONE, warm.reason

    requests.clear()
    started = s3_pipeline.ingest(doc, "qd.pdf")
    (status,) = s3_pipeline.flush_index()

    assert started.state is JobState.RUNNING  # until the batch commit
    assert status.state is JobState.DONE, status.reason
    assert all(s.state is StepState.DONE for s in status.steps.values()), status.steps
    with requests.lock:
        own, beside = dict(requests.own), dict(requests.beside)
    assert (own, beside) == (dict(OWN), dict(BESIDE))
    assert sum(OWN.values()) == 14 and sum(OWN.values()) + sum(BESIDE.values()) == 26


def test_what_ingest_keeps_in_memory_is_what_the_store_holds(s3_pipeline: Pipeline) -> None:
    """The index document built from what the run wrote equals the one built from the store
    alone (what ``kho reindex`` builds); every derived object and the job are stored."""
    (doc,) = _documents(1)
    s3_pipeline.ingest(doc, "qd.pdf")
    deferred = s3_pipeline._deferred[0][1]
    (status,) = s3_pipeline.flush_index()
    assert status.state is JobState.DONE, status.reason

    repo = s3_pipeline.repo
    record = repo.get(status.record_id, actor=SYSTEM)
    assert record.version == 2 and record.extra["signature_verdict"]
    assert deferred == to_index_document(repo, record)
    for name in ("text.json", "signatures.json", "metadata.json"):
        assert json.loads(repo.get_derived(status.record_id, name))
    assert s3_pipeline.jobs.get(status.job_id) == status
    assert s3_pipeline.backend().get(status.record_id).version == 2


def test_a_run_on_an_adopted_record_still_looks_for_what_is_stored(
    s3_pipeline: Pipeline, tmp_path: Path, requests: Requests
) -> None:
    """Only a record this run made skips the looks for its derived objects: a re-run (``kho
    ingest retry``) of a finished job finds each step's output and writes nothing new."""
    (doc,) = _documents(1)
    s3_pipeline.ingest(doc, "qd.pdf")
    (done,) = s3_pipeline.flush_index()
    requests.clear()
    again = s3_pipeline.run(done.job_id, force=True)
    (again,) = s3_pipeline.flush_index()

    assert again.state is JobState.DONE, again.reason
    assert [s.state for s in again.steps.values()] == [StepState.DONE] * 5  # the timings kept
    with requests.lock:
        sent = requests.own + requests.beside
    assert sent["GET data records:derived/text.json"] == 1
    assert sent["GET data records:derived/metadata.json"] == 1
    assert not [k for k in sent if k.startswith("PUT") and "derived" in k]
    assert sent["PUT data records:v"] == 0
