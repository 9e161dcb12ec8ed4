"""What an ingest job object (``ingest/jobs/<sha256>.json``) may keep in plaintext, and the
scrub of the jobs written before (review a3, item 9 and its open item 1).

A job object is not sealed: anyone who reads the store (or a backup of it) reads it. a3 took the
document's description out of the job summary for new jobs (số/ký hiệu, loại văn bản, ngày ban
hành, trích yếu: they are in the record, sealed with its key, and in ``metadata.json``). Jobs
written before kept them, and every job kept its file name, which often is the subject itself
("QD-ky-luat-Nguyen-Van-A.pdf"). The rule, in one place (:func:`scrubbed`, pure):

- the summary never holds :data:`PLAINTEXT_SUMMARY`;
- once the record exists (``record_id``), the file name is the record's, sealed: the job keeps
  a neutral name (the job id's first 16 digits and the file's suffix, which the text step reads
  the format by), and no ``source`` (a bulk import's path, which holds the name too: it is
  only read to store the original again). Before that, both are needed, and kept; once it
  exists, no *version* of the job keeps them either, the ones written before it included
  (:func:`named_in`, judged by the current version; m63): the job's first write with its record
  removes them (:func:`remove_older_named`, from ``JobStore.put``), and a crash before that
  removal is finished by the scrub below.

Job format 2 (:data:`repository.formats.JOB`) is written under this rule, and older jobs read
through it. :func:`scrub_jobs` rewrites the jobs still stored under format 1 or holding any of
it (``kho ingest scrub``, ``kho fsck --repair``), audited ``ingest:scrub``; it is resumable: each
job is rewritten through a staged copy (``ingest/scrub/<sha256>.json``), so one stopped between
removing the old object (with its old versions) and writing the new one is finished by the next
run, and a run stopped anywhere is finished by running it again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from kho.errors import KhoError, NotFound
from kho.process import process_alive, this_host, writer_gone
from repository import formats
from repository.storage.base import ABSENT, ObjectInfo, ObjectStore, Replaced, replace_every_version

if TYPE_CHECKING:
    from repository.audit import AuditLog
    from repository.policy import RecordFacts
    from repository.records import Actor, Repository

logger = logging.getLogger(__name__)

JOBS_PREFIX = "ingest/jobs/"
STAGED_PREFIX = "ingest/scrub/"
LEASE_PREFIX = "ingest/scrub-leases/"
"""A running scrub's lease (``<run id>.json``: its host and process id), renewed while it runs
and removed when it ends (:func:`scrub_lease`, review rv64). Not under :data:`STAGED_PREFIX`."""
LEASE_RENEW_SECONDS = 5.0
"""How often a running scrub writes its lease again."""
LEASE_EXPIRY_SECONDS = 30.0
"""A lease not written again for this long, by the store's clock (:meth:`ObjectStore.age`), is a
stopped scrub's (six renewals missed: a run paused for that long is taken for stopped, and the
repair's scrub beside it is safe, m62/rv61)."""
PLAINTEXT_SUMMARY = ("so_ky_hieu", "loai_van_ban", "ngay_ban_hanh", "trich_yeu")
"""Summary fields of a document's description that a job kept before a3 (item 9)."""
_SUFFIX = re.compile(r"\.[0-9A-Za-z]{1,8}")


def neutral_filename(job_id: str, filename: str) -> str:
    """The name a job keeps once its record exists: no word of the original name, its suffix."""
    suffix = PurePosixPath(filename or "").suffix
    return f"{job_id[:16]}{suffix.lower() if _SUFFIX.fullmatch(suffix) else ''}"


def plaintext_left(data: Mapping[str, Any]) -> list[str]:
    """The fields of a stored job (as stored) the rule does not let it keep (pure)."""
    left = [f"summary.{name}" for name in PLAINTEXT_SUMMARY if name in (data.get("summary") or {})]
    job_id, filename = str(data.get("job_id") or ""), data.get("filename")
    if data.get("record_id") and filename != neutral_filename(job_id, str(filename or "")):
        left.append("filename")
    if data.get("record_id") and data.get("source"):
        left.append("source")
    return left


def scrubbed(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (a job, any format) under the rule (pure; a new dict, the format key untouched)."""
    out = dict(data)
    summary = out.get("summary")
    if isinstance(summary, Mapping):
        out["summary"] = {k: v for k, v in summary.items() if k not in PLAINTEXT_SUMMARY}
    if out.get("record_id"):
        out["filename"] = neutral_filename(str(out.get("job_id") or ""), str(out.get("filename") or ""))
        out["source"] = None
    return out


BARE_REASON = "(đã ẩn: lượt tiếp nhận chưa lưu được bản gốc, không thuộc đơn vị của bạn)"
"""The message a :attr:`~repository.policy.JobSight.BARE` job shows in place of its own, which
quotes the file name."""


def bare(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (a job) as :attr:`~repository.policy.JobSight.BARE` (pure): no file name (the
    neutral one), no source path, no message of its own; its code, state, steps and times kept."""
    out = dict(data)
    out["filename"] = neutral_filename(str(out.get("job_id") or ""), str(out.get("filename") or ""))
    out["source"] = None
    if out.get("reason"):
        out["reason"] = BARE_REASON
    out["summary"] = {}
    return out


def shown_job(
    repo: Repository, actor: Actor, data: Mapping[str, Any], *, facts: RecordFacts | None = None
) -> dict[str, Any] | None:
    """``data`` (a job as stored) as ``actor`` may have it (:func:`repository.policy.job_sight`):
    whole, bare, or None (not to be shown: answered as a job that does not exist). Kho's own
    processes get it whole. A record that cannot be opened any more is one the person may not
    see (:data:`repository.records.UNOPENABLE`). ``facts``: the job's record as the process that
    just wrote it knows it (a bulk import's worker), used instead of reading it; only for the
    record the job names."""
    from repository.policy import INTAKE_STATE, JobSight, RecordFacts, job_sight
    from repository.records import SYSTEM, UNOPENABLE

    if actor.system:
        return dict(data)
    record_id = data.get("record_id")
    if not record_id:  # the intake it would have made: of no unit, so the agency's (Repository.facts)
        facts = RecordFacts(str(data.get("job_id") or ""), INTAKE_STATE, repo.agency_id, state=INTAKE_STATE)
    elif facts is None or facts.record_id != record_id:
        try:
            facts = repo.facts(repo.get(str(record_id), actor=SYSTEM))
        except UNOPENABLE:
            return None
    sight = job_sight(actor.as_principal, facts, stored=bool(record_id))
    if sight is JobSight.WHOLE:
        return dict(data)
    return bare(data) if sight is JobSight.BARE else None


def read_job(raw: bytes) -> dict[str, Any]:
    """A stored job's bytes as the scrub and fsck's plaintext check read them: a JSON object
    whose ``summary``, if it has one, is an object. ``ValueError`` otherwise: an object under
    the jobs' prefix that is not a job (damaged, or put there by hand) is reported unreadable
    and left as it is, beside a staged copy too (review rv61: it stopped ``kho ingest scrub``,
    ``kho fsck`` and ``kho fsck --repair`` with a traceback); ``kho fsck --deep`` names it."""
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("summary") or {}, Mapping):
        raise ValueError("not a job object")
    return data


def _is_job(raw: bytes) -> bool:
    """Whether ``raw`` reads as a job (:func:`read_job`)."""
    try:
        read_job(raw)
    except ValueError:
        return False
    return True


def named_in(version: Mapping[str, Any], record_id: str | None) -> list[str]:
    """The fields (:func:`plaintext_left`) that one stored ``version`` of a job holds, judged by
    the state of the job's *current* version (m63): ``record_id`` its record (None: none yet).
    Once the record exists no version of the job may name the file or its source, the ones
    written before it included (a3: "once the record exists, the file name is the record's");
    before, each version is judged by its own state (pure)."""
    if record_id and not version.get("record_id"):
        version = {**version, "record_id": record_id}
    return plaintext_left(version)


@dataclass(frozen=True)
class OlderVersion:
    """A stored version of a job older than its current one that holds what the rule forbids."""

    version_id: str
    fields: tuple[str, ...]


def older_named(store: ObjectStore, key: str, record_id: str | None) -> list[OlderVersion]:
    """The versions of the job ``key`` older than its current one that hold what the rule does
    not let them keep (:func:`named_in`, judged by ``record_id``, the current version's record).
    One listing of the key's versions (S3: one LIST), then a read of each older one; a key with
    one version reads nothing more. The last version listed (the current one) and any archive
    with its id are never among them. A version gone meanwhile, or not a JSON job, holds none."""
    versions = store.list_versions(key)  # (oldest first: the last is the current one)
    if len(versions) < 2:
        return []
    current = versions[-1].version_id
    found: list[OlderVersion] = []
    for info in versions[:-1]:
        if not info.version_id or info.version_id == current:  # ("": none, review rv62)
            continue
        try:
            old = read_job(store.get(key, info.version_id))
        except (NotFound, ValueError):
            continue
        fields = named_in(old, record_id)
        if fields:
            found.append(OlderVersion(info.version_id, tuple(fields)))
    return found


def older_plaintext(store: ObjectStore, key: str, record_id: str | None = None) -> list[str]:
    """The fields that a stored version of the job ``key`` older than its current one still
    holds (:func:`older_named`; m62, judged by the current version's ``record_id`` since m63):
    a pipeline ``put`` over a job keeps the version it replaces (the local folder's archive, an
    S3 version), so a job written before a3 and written again by the pipeline keeps its
    plaintext there while its current version is clean, and every job's versions written before
    its record existed keep the file name and source until the pipeline's first write with the
    record removes them (:func:`remove_older_named`)."""
    found: list[str] = []
    for version in older_named(store, key, record_id):
        found.extend(f for f in version.fields if f not in found)
    return found


def remove_older_named(store: ObjectStore, key: str, record_id: str) -> tuple[str, ...]:
    """Remove the versions of the job ``key`` older than its current one that name its file or
    source (or hold any other field the rule forbids), judged by ``record_id``, the record the
    caller has just written the job with (m63): only those versions, each by its id
    (:meth:`ObjectStore.delete_older_version`), never the current one. Their ids.

    Safe beside a scrub (which removes every version only while the current one is the version
    it read, and writes it again: a version it removed first is gone, not an error) and beside a
    second writer (a version written after the listing is not in it; one listed as older stays
    older). A crash before or during it leaves such versions under a current job with its record:
    :func:`scrub_jobs` and fsck's ``job-plaintext`` judge older versions by the current one and
    finish it."""
    found = older_named(store, key, record_id)
    for version in found:
        store.delete_older_version(key, version.version_id)
    return tuple(v.version_id for v in found)


def _needs_scrub(stored: Mapping[str, Any]) -> bool:
    return (
        bool(plaintext_left(stored))
        or formats.version_of(formats.JOB.name, stored) < formats.KINDS[formats.JOB.name].current
    )


@dataclass(frozen=True)
class ScrubReport:
    checked: int
    """Job objects read."""
    scrubbed: tuple[str, ...]
    """Jobs rewritten under the rule (their keys)."""
    finished: tuple[str, ...]
    """Jobs a stopped run had staged, finished now."""
    unreadable: tuple[str, ...]
    """Job objects that are not JSON jobs: left as they are (fsck names them)."""
    overtaken: tuple[str, ...] = ()
    """Jobs the pipeline wrote again after each of this run's :data:`RACE_TRIES` reads of them:
    the pipeline's job kept current, an older version of it may still hold what the rule does
    not allow; the next run finds it there (:func:`older_plaintext`, m62) and rewrites it."""
    hidden: tuple[str, ...] = ()
    """Jobs with no current version (a delete marker on top, left by another S3 client) whose
    versions under it held what the rule forbids: those versions removed by id, the marker and
    the clean ones left (review rv64: no run listed them)."""


RACE_TRIES = 3
"""How many times a run rewrites one job that the pipeline writes meanwhile, each time from a
new read, before it leaves it (:attr:`ScrubReport.overtaken`)."""


def scrub_audited(store: ObjectStore, audit: AuditLog, user: str, source: str) -> ScrubReport:
    """:func:`scrub_jobs`, audited ``ingest:scrub`` (counts and the keys rewritten: a job's key
    is the SHA-256 of its file, no word of it) when it rewrote anything. The one path of
    ``kho ingest scrub`` and ``kho fsck --repair``."""
    report = scrub_jobs(store)
    if report.scrubbed or report.finished or report.hidden:
        audit.append(
            user,
            "ingest:scrub",
            source=source,
            details={
                "format": formats.KINDS[formats.JOB.name].current,
                "checked": report.checked,
                "scrubbed": list(report.scrubbed),
                "finished": list(report.finished),
                "unreadable": list(report.unreadable),
                **({"overtaken": list(report.overtaken)} if report.overtaken else {}),
                **({"hidden": list(report.hidden)} if report.hidden else {}),
            },
        )
    return report


def _lease_body(run: str) -> bytes:
    return json.dumps({"format_version": 1, "run": run, "host": this_host(), "pid": os.getpid()}).encode()


@contextmanager
def scrub_lease(store: ObjectStore) -> Iterator[str]:
    """Hold a lease for the scrub run inside (its key): written before the run writes anything,
    written again every :data:`LEASE_RENEW_SECONDS` by a thread (the version it replaces
    removed by id, so a long run leaves no trail of versions), removed at the end. fsck takes a
    staged copy for a live scrub's only while a lease is live (:func:`scrub_running`): a killed
    scrub is named within :data:`LEASE_EXPIRY_SECONDS` by the store's clock (at once where it
    ran on fsck's machine: its process is gone), not after fsck's grace and the S3 clock-skew
    margin (up to 20 min, m62's open item). A failed renewal is logged, not raised: the run
    goes on, and fsck may name its copy meanwhile (a repair beside a live scrub is safe)."""
    run = uuid.uuid4().hex
    key = f"{LEASE_PREFIX}{run}.json"
    made = store.put(key, _lease_body(run))
    stop = threading.Event()

    def renew() -> None:
        previous = made.version_id
        while not stop.wait(LEASE_RENEW_SECONDS):
            try:
                info = store.put(key, _lease_body(run))
                if previous not in (None, "", "null", info.version_id):
                    store.delete_older_version(key, str(previous))
                previous = info.version_id
            except (KhoError, OSError) as exc:
                logger.warning("scrub lease %s not renewed (%s)", key, exc)

    thread = threading.Thread(target=renew, name="kho-scrub-lease", daemon=True)
    thread.start()
    try:
        yield key
    finally:
        stop.set()
        thread.join()
        try:
            store.delete(key)
        except (KhoError, OSError) as exc:  # (expires by itself: the next scrub removes it)
            logger.warning("scrub lease %s not removed (%s)", key, exc)


LEASE_MAX_BYTES = 4096
"""The largest lease read (a true one is ~150 bytes): a larger one, put there by hand, is judged
by its age alone and never read whole (as :data:`~repository.storage.base.CLAIM_MAX_BYTES`)."""


def _lease_live(store: ObjectStore, info: ObjectInfo, *, remove_dead: bool = False) -> bool:
    """Whether the lease ``info`` (as listed) is a running scrub's: its process not provably
    gone (one of this machine: asked) and the lease written again within
    :data:`LEASE_EXPIRY_SECONDS` by the store's clock. A lease that does not read as one
    (damaged, too large, written by hand) is live only by its age: it cannot hide a stopped
    run's copy for longer than a true one. ``remove_dead``: a dead one is removed (the scrub's
    own start)."""
    key = info.key
    body: object = None
    if info.size <= LEASE_MAX_BYTES:
        try:
            body = json.loads(store.get(key))
        except NotFound:
            return False
        except ValueError:
            body = None
    pid, host = (body.get("pid"), body.get("host")) if isinstance(body, dict) else (None, None)
    if writer_gone(pid, host, here=this_host(), alive=process_alive):
        live = False
    else:
        try:
            live = store.age(key) < LEASE_EXPIRY_SECONDS
        except NotFound:
            return False
    if not live and remove_dead:
        store.delete(key)
    return live


def scrub_running(store: ObjectStore) -> bool:
    """Whether any scrub holds a live lease (:func:`scrub_lease`): the one question fsck asks
    before it takes a staged copy for a live run's (review rv64). One listing of the leases
    (none: nothing more), then a GET and, unless its process is known gone, a HEAD a lease."""
    return any(_lease_live(store, info) for info in store.list(LEASE_PREFIX))


def hidden_named(store: ObjectStore, key: str) -> list[OlderVersion]:
    """The versions of the job ``key`` that has no current version (its newest entry a delete
    marker: :meth:`ObjectStore.list_hidden`) which hold what the rule forbids, each judged by
    :func:`named_in` with the newest record id any of them carries (a job's record, once it has
    one, is the record of every version before it; review rv64). None of them is current: each
    is older than nothing, and removable by id."""
    read: list[tuple[str, dict[str, Any]]] = []
    for info in store.list_versions(key):
        if not info.version_id:
            continue
        try:
            read.append((info.version_id, read_job(store.get(key, info.version_id))))
        except (NotFound, ValueError):
            continue
    record_id = next((str(v["record_id"]) for _, v in reversed(read) if v.get("record_id")), None)
    found = []
    for version_id, version in read:
        fields = named_in(version, record_id)
        if fields:
            found.append(OlderVersion(version_id, tuple(fields)))
    return found


def _dump(data: Mapping[str, Any]) -> bytes:
    return json.dumps(formats.upcast(formats.JOB.name, data), ensure_ascii=False).encode()


def scrub_jobs(store: ObjectStore) -> ScrubReport:
    """Rewrite every job that keeps what the rule does not allow (or is of an older format), in
    its current version or in an older one (:func:`older_plaintext`, m62):
    staged copy first, then the old object removed with every old version it has (a ``put``
    over it would keep them on a versioned bucket or folder) while it is still the version read
    (m57), then the new one written, then the staged copy removed. A job the pipeline wrote
    after the read is newer: kept, the staged copy dropped, and rewritten from a new read (at
    most :data:`RACE_TRIES` times), so that the version read goes. Idempotent; the caller
    audits it. A store that does not keep every version (an S3 bucket whose versioning is
    suspended) is refused before anything is read: :class:`~kho.errors.StoreVersioningOff`
    (review rv64; every job was ``overtaken`` there, with no word of why). The run holds a
    lease (:func:`scrub_lease`) from before its first write to its end, and removes the leases of
    stopped runs it finds. Jobs with no current version whose versions under the delete marker
    hold plaintext (:meth:`ObjectStore.list_hidden`) lose those versions (:attr:`ScrubReport.hidden`)."""
    store.check_versions_kept()
    for info in list(store.list(LEASE_PREFIX)):  # (a stopped run's: its copies are finished below)
        _lease_live(store, info, remove_dead=True)
    with scrub_lease(store):
        return _scrub_jobs(store)


def _scrub_hidden(store: ObjectStore) -> list[str]:
    """The versions that hold plaintext of every job with no current version, removed by id
    (:func:`hidden_named`; :meth:`ObjectStore.delete_older_version` refuses none of them: none
    is current, unless the pipeline wrote the job again meanwhile, which makes them older). The
    keys that had any."""
    done = []
    for key in store.list_hidden(JOBS_PREFIX):
        if not key.endswith(".json"):
            continue
        found = hidden_named(store, key)
        for version in found:
            store.delete_older_version(key, version.version_id)
        if found:
            done.append(key)
    return done


def _scrub_jobs(store: ObjectStore) -> ScrubReport:
    finished = []
    unreadable: list[str] = []
    # Jobs the pipeline wrote after this run read them: the version read (older now, under the
    # pipeline's) is still stored; each is rewritten below from a new read.
    lost: set[str] = set()
    for info in list(store.list(STAGED_PREFIX)):  # a run stopped midway: finish its jobs
        key = JOBS_PREFIX + info.key.removeprefix(STAGED_PREFIX)
        try:
            staged = store.get(info.key)
        except NotFound:
            continue
        try:
            current, tag = store.get_tagged(key)
        except NotFound:
            current, tag = None, ABSENT
        try:
            unfinished = current is None or _needs_scrub(read_job(current))
        except (ValueError, KhoError):
            # Not a job (damaged, or put there by hand): left as it is with the staged copy,
            # which a run finishes once the object is mended or removed (fsck names both).
            unreadable.append(key)
            continue
        if unfinished and not _is_job(staged):
            # A staged copy that is not a job (damaged) is never written as the job (review
            # rv61: it replaced the job). Dropped where the job is there (scrubbed below from
            # its own content); left where it is absent, reported (fsck names the copy).
            if current is None:
                unreadable.append(key)
                continue
            unfinished = False
        # (a job the pipeline wrote since that read, or since the delete, is newer than the
        # staged copy: kept, the staged copy dropped)
        if unfinished:
            if not store.delete_if_current(key, tag):
                lost.add(key)
            elif store.put_again(key, staged):
                finished.append(key)
        store.delete(info.key)
    checked = 0
    done: list[str] = []
    overtaken: list[str] = []
    for info in list(store.list(JOBS_PREFIX)):
        if not info.key.endswith(".json"):
            continue
        checked += 1
        if info.key in unreadable:  # (found so by the finish above)
            continue
        staged_key = STAGED_PREFIX + info.key.removeprefix(JOBS_PREFIX)
        again = info.key in lost
        for _ in range(RACE_TRIES):
            try:
                raw, tag = store.get_tagged(info.key)
                stored = read_job(raw)
                # (a clean job is rewritten too while an older version of it is not, m62)
                if not (
                    again
                    or _needs_scrub(stored)
                    or older_plaintext(store, info.key, stored.get("record_id"))
                ):
                    break
                body = _dump(scrubbed(stored))
            except NotFound:
                # Listed, gone when read (another scrub removed it to write it again; a stopped
                # one leaves its staged copy, which fsck names): nothing here to read, not a
                # job that cannot be read (review rv61).
                break
            except (ValueError, KhoError):
                unreadable.append(info.key)
                break
            # Removed only while it is the version read. A job the pipeline wrote since is
            # newer: kept; if it came before the removal (CHANGED), the version read is still
            # stored under it: the pipeline's job is rewritten from a new read (what it holds
            # stays), which removes that version too.
            replaced = replace_every_version(store, info.key, body, staged_key, tag)
            if replaced is Replaced.REPLACED:
                done.append(info.key)
                break
            store.delete(staged_key)
            if replaced is Replaced.OVERTAKEN:  # (landed after the removal: nothing older left)
                break
            again = True
        else:
            overtaken.append(info.key)
    hidden = _scrub_hidden(store)
    return ScrubReport(
        checked, tuple(done), tuple(finished), tuple(unreadable), tuple(overtaken), tuple(hidden)
    )
