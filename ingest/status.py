"""Per-document ingest status: one JSON object per job in the object store.

Layout: ``ingest/jobs/<job id>.json``. The job id is the SHA-256 of the arrived bytes, so the
same file dropped twice is the same job (and the same original). A person reads the status with
``kho ingest status``; the API reads it with :func:`read_status`.

States (Vietnamese, shown as they are): ``chờ`` (waiting, also while a transient error waits
for its retry), ``đang xử lý`` (a step is running), ``xong`` (every step done), ``lỗi`` (a step
failed for good: ``reason_code`` + ``reason`` say why; the stored original is kept).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from kho.errors import IdentifierInvalid, KhoError, NotFound
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.ingest_jobs import remove_older_named, scrubbed
from repository.storage.base import ObjectStore

JOBS_PREFIX = "ingest/jobs/"

logger = logging.getLogger(__name__)


class JobState(StrEnum):
    WAITING = "chờ"
    RUNNING = "đang xử lý"
    DONE = "xong"
    FAILED = "lỗi"

    @property
    def final(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED)


class StepState(StrEnum):
    DONE = "xong"
    SKIPPED = "bỏ qua"
    FAILED = "lỗi"


@dataclass(frozen=True)
class StepRecord:
    """What one step did: its state, its wall time in seconds, a short note."""

    state: StepState
    seconds: float
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "seconds": round(self.seconds, 4), "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepRecord:
        return cls(StepState(data["state"]), float(data["seconds"]), data.get("note"))


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    """SHA-256 (hex) of the arrived bytes."""
    filename: str
    direction: str
    state: JobState
    created_at: str
    updated_at: str
    step: str | None = None
    """The step running, or the one that failed."""
    record_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    """Vietnamese, for people."""
    source: str | None = None
    """Where the file came from (a path for bulk imports): lets a job whose original could not
    be stored be run again."""
    attempts: int = 0
    lost_runs: int = 0
    """Runs in a row that began and never ended (the process running the job died: a native
    abort or the memory limit while reading a hostile file); see ``Pipeline.run``."""
    steps: dict[str, StepRecord] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    """Results worth showing at a glance: signature verdict, pages, text sources, số/ký hiệu."""
    older_named: bool = field(default=False, compare=False, repr=False)
    """Not stored: whether a stored version of this job that this process did not write may
    name its file and source (this status was read before its record existed, or its run
    resumes one that may have stopped before the removal). :meth:`JobStore.put`'s first write
    of it with a record id lists the job's versions and removes those (m63); what it returns
    is False."""
    named_versions: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """Not stored: the ids of the versions of this job that this process wrote before its
    record existed (each names the file). :meth:`JobStore.put`'s first write with a record id
    removes exactly these, one request each, where ``older_named`` is False (session 51: the
    listing and reads of m63's removal were 2 of an S3 ingest's 27 requests)."""

    @property
    def sha256(self) -> str:
        return self.job_id

    def to_dict(self) -> dict[str, Any]:
        """The stored form (stamped with its format version)."""
        return formats.stamp(
            formats.JOB.name,
            scrubbed(
                {
                    "job_id": self.job_id,
                    "filename": self.filename,
                    "direction": self.direction,
                    "state": self.state.value,
                    "created_at": self.created_at,
                    "updated_at": self.updated_at,
                    "step": self.step,
                    "record_id": self.record_id,
                    "reason_code": self.reason_code,
                    "reason": self.reason,
                    "source": self.source,
                    "attempts": self.attempts,
                    **({"lost_runs": self.lost_runs} if self.lost_runs else {}),
                    "steps": {name: rec.to_dict() for name, rec in self.steps.items()},
                    "summary": self.summary,
                }
            ),
        )

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> JobStatus:
        """A job status of any known format version."""
        data = formats.upcast(formats.JOB.name, stored)
        return cls(
            job_id=data["job_id"],
            filename=data["filename"],
            direction=data["direction"],
            state=JobState(data["state"]),
            created_at=data["created_at"],
            updated_at=data["updated_at"],
            step=data.get("step"),
            record_id=data.get("record_id"),
            reason_code=data.get("reason_code"),
            reason=data.get("reason"),
            source=data.get("source"),
            attempts=int(data.get("attempts", 0)),
            lost_runs=int(data.get("lost_runs", 0)),
            steps={k: StepRecord.from_dict(v) for k, v in (data.get("steps") or {}).items()},
            summary=dict(data.get("summary") or {}),
            older_named=not data.get("record_id"),
        )

    def as_stored(self) -> JobStatus:
        """This status as :meth:`JobStore.put` stores it (the rule of
        :func:`repository.ingest_jobs.scrubbed` applied), with what is not stored kept."""
        return replace(
            JobStatus.from_dict(self.to_dict()),
            older_named=self.older_named,
            named_versions=self.named_versions,
        )

    def evolve(self, **changes: Any) -> JobStatus:
        return replace(self, updated_at=to_iso_utc(utcnow()), **changes)


def new_status(job_id: str, filename: str, direction: str, *, source: str | None = None) -> JobStatus:
    now = to_iso_utc(utcnow())
    return JobStatus(
        job_id=job_id,
        filename=filename,
        direction=direction,
        state=JobState.WAITING,
        created_at=now,
        updated_at=now,
        source=source,
        # (made only where no job was stored: its versions naming the file are the ones this
        # process writes, which ``named_versions`` keeps)
        older_named=False,
    )


JOB_ID_DIGITS = 64
JOB_PREFIX_MIN = 8


def checked_job_id(job_id: str) -> str:
    """A job id as a caller typed it (the whole SHA-256, or a prefix of at least
    :data:`JOB_PREFIX_MIN` of its hex digits), or :class:`IdentifierInvalid` (``JOB_ID_INVALID``):
    ``../x``, a path or a non-ASCII name reached the store as a key and came back as a
    ``ValueError`` traceback from ``kho ingest retry|return|status``."""
    text = job_id.strip().lower()
    if not (
        JOB_PREFIX_MIN <= len(text) <= JOB_ID_DIGITS
        and text.isascii()
        and all(c in "0123456789abcdef" for c in text)
    ):
        raise IdentifierInvalid(
            f"Mã lượt tiếp nhận “{job_id[:80]}” không hợp lệ: cần {JOB_ID_DIGITS} chữ số thập lục"
            f" phân (mã băm SHA-256) hoặc ít nhất {JOB_PREFIX_MIN} chữ số đầu.",
            code="JOB_ID_INVALID",
            job_id=job_id[:80],
        )
    return text


def job_not_found(job_id: str) -> NotFound:
    """The answer to a job id that names no job (``job_id`` as :func:`checked_job_id` gives it),
    word for word also the answer to a job the person may not see
    (:func:`repository.policy.job_sight`)."""
    return NotFound(f"Không tìm thấy lượt tiếp nhận “{job_id}”.", code="JOB_NOT_FOUND", job_id=job_id)


def job_key(job_id: str) -> str:
    return f"{JOBS_PREFIX}{job_id}.json"


class JobStore:
    """Reads and writes job status objects (last writer wins; one job runs in one place)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def put(self, status: JobStatus) -> JobStatus:
        """Write ``status``; what was written (the job as stored, under the rule of
        :func:`repository.ingest_jobs.scrubbed`: no file name once the record exists).

        A write without the record id returns the status with the id of the version it made
        added to ``named_versions``. The first write with the record id then removes the job's
        older versions that name the file or its source: where ``status.older_named`` (a
        version this process did not write may), every such version the listing finds
        (:func:`repository.ingest_jobs.remove_older_named`, m63: on S3 one LIST, a GET and a
        DELETE per such version); otherwise exactly ``named_versions`` (one DELETE each). Nothing
        more on the later writes.

        The removal is best-effort (session 51): the job is written by then, so a store error in
        it (a transient S3 failure, a bucket whose default retention keeps every version) is
        logged, not raised into the run it would end. What it leaves, ``kho ingest scrub`` and
        fsck's ``job-plaintext`` find and remove, as after a crash at the same point; a run that
        resumes the job (:meth:`ingest.pipeline.Pipeline.run`) tries again."""
        stored = status.to_dict()
        key = job_key(status.job_id)
        made = self.store.put(key, json.dumps(stored, ensure_ascii=False).encode())
        if not stored.get("record_id"):
            # S3 names the one version of a bucket whose versioning is suspended "null": the
            # next put replaces it, and a removal by that id would take the current job. A
            # store that names no version of its own: the listing finds what this write left.
            own = made.version_id if made.version_id not in (None, "", "null") else None
            return replace(
                JobStatus.from_dict(stored),
                older_named=status.older_named or own is None,
                named_versions=status.named_versions + ((own,) if own else ()),
            )
        if status.older_named or status.named_versions:
            try:
                if status.older_named:
                    remove_older_named(self.store, key, str(stored["record_id"]))
                else:
                    for version_id in status.named_versions:
                        self.store.delete_older_version(key, version_id)
            except (KhoError, OSError) as exc:
                logger.warning(
                    "job %s: its older versions naming the file were not removed (%s: %s);"
                    " kho ingest scrub removes them",
                    status.job_id, getattr(exc, "code", type(exc).__name__), exc,
                )
        return JobStatus.from_dict(stored)

    def get(self, job_id: str) -> JobStatus:
        """A job by its id or by a unique prefix of at least 8 hex digits."""
        job_id = checked_job_id(job_id)
        try:
            return JobStatus.from_dict(json.loads(self.store.get(job_key(job_id))))
        except NotFound:
            pass
        if len(job_id) >= 8:
            matches = [
                info.key for info in self.store.list(f"{JOBS_PREFIX}{job_id}") if info.key.endswith(".json")
            ]
            if len(matches) == 1:
                return JobStatus.from_dict(json.loads(self.store.get(matches[0])))
        raise job_not_found(job_id)

    def find(self, job_id: str) -> JobStatus | None:
        try:
            return JobStatus.from_dict(json.loads(self.store.get(job_key(job_id))))
        except NotFound:
            return None

    def all(self) -> Iterator[JobStatus]:
        for info in self.store.list(JOBS_PREFIX):
            if info.key.endswith(".json"):
                try:
                    yield JobStatus.from_dict(json.loads(self.store.get(info.key)))
                except NotFound:
                    continue


def read_status(store: ObjectStore, job_id: str) -> JobStatus:
    """The status of one ingest job (for the API and the CLI)."""
    return JobStore(store).get(job_id)
