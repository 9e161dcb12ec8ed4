"""m62 (m57's open item): ``kho fsck`` beside a running ``kho ingest scrub`` named the job the
scrub was rewriting (``job-scrub-unfinished``: its staged copy), as if a stopped run had left
it. A staged copy younger than fsck's grace is a live scrub's and is neither named nor repaired,
as a temp file or an uncommitted record in flight is not. A repair that does act beside a live
scrub (past the grace, or for another job's plaintext: the repair's scrub finishes every staged
copy) is shown safe here with a real second process: the scrub stopped (SIGSTOP) at each step
of its rewrite, the repair run to its end, the scrub let go.

Real pipeline, the local folder and the S3 gateway (Ceph RGW, claims mode)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from kho_child import paused_child, stop_once_at
from kho_claims import claim_held
from kho_jobs import as_before_a3, ingested, plaintext_versions, scrub_pipeline

from ingest.pipeline import Pipeline
from ingest.testpki import TestPKI, Variant, make_variant
from repository.fsck import fsck
from repository.ingest_jobs import STAGED_PREFIX, plaintext_left, scrub_jobs
from repository.storage.base import ObjectStore
from repository.storage.s3 import S3Store

BACKENDS = ["local", pytest.param("s3", marks=pytest.mark.s3)]


@pytest.fixture()
def pipeline(backend: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The bulk import's pipeline on ``backend`` (:func:`kho_jobs.scrub_pipeline`)."""
    with scrub_pipeline(backend, monkeypatch) as made:
        yield made


def _old_job(pipeline: Pipeline, seed: int) -> tuple[str, str]:
    """A job written before a3 (plaintext): its key and its record id."""
    done = ingested(pipeline, make_variant(Variant.NO_TIMESTAMP, pki=TestPKI.build(), seed=seed, pages=1))
    return as_before_a3(pipeline, done), str(done.record_id)


def _stop(store: ObjectStore, key: str, point: str) -> Callable[[Callable[[], None]], None]:
    """The hook (installed in the child) that stops its scrub at ``point`` of the job's rewrite:
    ``staged`` (its copy written, the job not removed yet), ``removed`` (the job removed with
    every version, not written again: absent), ``written`` (written again, the copy not yet
    removed). None of them holds the local folder's lock (a repair would wait for it)."""
    staged = STAGED_PREFIX + key.rsplit("/", 1)[1]

    def install(stop: Callable[[], None]) -> None:
        if point == "staged":
            stop_once_at(type(store), "delete_if_current", stop, lambda _s, k, *_: k == key)
        elif point == "removed":
            stop_once_at(type(store), "put_again", stop, lambda _s, k, *_: k == key)
        elif point == "written":
            stop_once_at(type(store), "delete", stop, lambda _s, k, *_: k == staged)
        else:
            raise AssertionError(point)

    return install


def _scrub_in_child(install: Callable[[Callable[[], None]], None], store: ObjectStore):  # type: ignore[no-untyped-def]
    def work(stop: Callable[[], None]) -> str:
        install(stop)
        report = scrub_jobs(store)
        return "ok" if not report.unreadable else f"unreadable:{report.unreadable}"

    return paused_child(work)


def _ends_scrubbed(pipeline: Pipeline, key: str, record_id: str) -> None:
    """The job current, scrubbed, its record kept; no version with the plaintext, no staged
    copy, no claim; fsck clean; the next scrub has nothing to do."""
    store = pipeline.repo.store
    stored = json.loads(store.get(key))
    assert stored["format_version"] == 2 and stored["record_id"] == record_id
    assert plaintext_left(stored) == []
    assert plaintext_versions(store, key) == []
    assert not list(store.list(STAGED_PREFIX))
    if isinstance(store, S3Store):
        assert not claim_held(store, f"claims/{key}")
    assert fsck(pipeline.repo, grace_seconds=0).clean
    again = scrub_jobs(store)
    assert again.scrubbed == () and again.finished == ()


@pytest.mark.parametrize("backend", BACKENDS)
def test_fsck_beside_a_live_scrub_does_not_name_the_job_it_rewrites(backend: str, pipeline: Pipeline) -> None:
    """The scrub stopped with the job removed and its copy staged (the moment fsck named): fsck
    with its grace is clean (before: ``job-scrub-unfinished``), its repair touches nothing; past
    the grace (0) the copy is a stopped run's and is named. The scrub then ends as alone."""
    store = pipeline.repo.store
    key, record_id = _old_job(pipeline, 6260)
    with _scrub_in_child(_stop(store, key, "removed"), store) as child:
        assert not store.exists(key) and list(store.list(STAGED_PREFIX))
        checked = fsck(pipeline.repo)
        assert [(i.kind, i.subject) for i in checked.issues] == []
        repaired = fsck(pipeline.repo, repair=True)
        assert repaired.issues == () and not store.exists(key)  # the live scrub's work left to it
        past = fsck(pipeline.repo, grace_seconds=0)
        assert [(i.kind, i.subject) for i in past.issues] == [("job-scrub-unfinished", key)]
        assert child.resume() == ["got", "ok"]
    _ends_scrubbed(pipeline, key, record_id)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("point", ["staged", "removed", "written"])
def test_a_repair_beside_a_live_scrub_is_safe(backend: str, point: str, pipeline: Pipeline) -> None:
    """A real scrub process stopped at each step of one job's rewrite; ``fsck --repair`` past the
    grace (0: it takes the staged copy for a stopped run's and finishes it) runs to its end
    meanwhile; the scrub is let go and ends without an error. The job ends scrubbed, current,
    with no older version holding the plaintext and nothing left over, whichever finished it."""
    store = pipeline.repo.store
    key, record_id = _old_job(pipeline, 6270 + 3 * ["staged", "removed", "written"].index(point))
    with _scrub_in_child(_stop(store, key, point), store) as child:
        repaired = fsck(pipeline.repo, repair=True, grace_seconds=0)
        kinds = {i.kind for i in repaired.issues}
        assert kinds <= {"job-scrub-unfinished", "job-plaintext"} and all(i.repaired for i in repaired.issues)
        stored = json.loads(store.get(key))  # the repair finished the job already
        assert stored["record_id"] == record_id and plaintext_left(stored) == []
        assert child.resume() == ["got", "ok"]
    _ends_scrubbed(pipeline, key, record_id)
