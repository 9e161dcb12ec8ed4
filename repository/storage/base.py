"""The object-store contract shared by every backend."""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from kho.errors import AlreadyExists, KeyNeverCreated, VersionIsCurrent


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing or a stat says of one object."""

    key: str
    size: int
    version_id: str | None = None
    """Backend version id (S3 versioning); ``None`` where the backend keeps one version."""
    modified: float | None = None
    """When this version was written (POSIX seconds), by the store's clock (the local folder:
    this machine's, the file's modification time; S3: the server's ``LastModified``), as
    :meth:`ObjectStore.list` gives it; None where not known (a number, not a ``datetime``: the
    local listing makes none per file). fsck tells a live writer's object from a dead one's by it
    (a scrub's staged copy, m62)."""
    etag: str | None = None
    """The S3 listing's ETag of the object (unquoted: the MD5 of its bytes for a single PUT);
    None where the backend's listing gives none (the local folder). A reader that kept the
    bytes it read of a key under the same ETag need not read them again (s26)."""


@dataclass(frozen=True)
class Retention:
    """WORM retention of one object (S3 Object Lock semantics)."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    until: datetime


class Staged:
    """An object of a group (``storage.group.write_group``): made durable by
    :meth:`ObjectStore.stage`, made visible by :meth:`publish`, or given up by :meth:`discard`.

    This default stages nothing: :meth:`publish` is the store's own create (``put_new`` or
    ``put_if_absent``, so a wrapper of those sees every write), which makes the object durable
    and visible at once.
    """

    ordered = True
    """Whether the group is published in order, stopping at the first failure (the default,
    and the local folder, where publishing is a link); False where publishing is the write
    itself and a round trip (S3: a request): the group's requests are sent concurrently."""

    def __init__(self, store: ObjectStore, key: str, data: bytes, *, fresh: bool) -> None:
        self.store, self.key, self.data, self.fresh = store, key, data, fresh
        self.ordered = store.groups_in_order

    def publish(self) -> ObjectInfo:
        put = self.store.put_new if self.fresh else self.store.put_if_absent
        return put(self.key, self.data)

    def discard(self) -> None:
        """Give up an object that was staged but will not be published."""

    def unsynced_directories(self) -> frozenset[str]:
        """After :meth:`publish`: the directories whose new entries are not durable yet (the
        local folder links a staged file into one); the group syncs each distinct one once with
        :meth:`ObjectStore.sync_directories` before it returns. Empty where publishing made the
        object durable (this default, S3)."""
        return frozenset()

    def synced(self) -> None:
        """Every directory of :meth:`unsynced_directories` was synced (the group calls it): none
        is left unsynced, and the local folder then trusts the object's directory for later
        writes."""


class ObjectStore(abc.ABC):
    """Keys are ``/``-separated ASCII paths (``records/<id>/v000001.json``).

    Errors: :class:`kho.errors.NotFound` for a missing key,
    :class:`kho.errors.AlreadyExists` when ``put_if_absent`` finds the key taken,
    :class:`kho.errors.StoreUnavailable` / :class:`kho.errors.StoreFull` for the backend,
    :class:`kho.errors.RetentionLocked` for a delete refused by retention or legal hold.
    """

    name: str = "abstract"

    @abc.abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        """Create ``key`` atomically; raise ``AlreadyExists`` if it exists (content untouched).

        Readers never see a partially written object.
        """

    def put_new(self, key: str, data: bytes) -> ObjectInfo:
        """Create ``key`` whose name no other writer can produce (it sits under a record id this
        process has just made), or that every writer writes with the same bytes.

        No race is possible on such a key, so a backend may write it without the guard
        ``put_if_absent`` needs (S3 servers that ignore ``If-None-Match`` on versioned buckets:
        one PUT instead of a claim and a PUT). Elsewhere it is ``put_if_absent``;
        ``AlreadyExists`` may or may not be raised for a key that exists.
        """
        return self.put_if_absent(key, data)

    def stage(self, key: str, data: bytes, *, fresh: bool = False) -> Staged:
        """Make ``key``'s bytes durable without making them visible (one object of a group
        written with ``storage.group.write_group``); ``fresh`` as for :meth:`put_new`."""
        return Staged(self, key, data, fresh=fresh)

    groups_in_order: bool = True
    """False where a create is a round trip that makes the object durable and visible at once
    (S3): the objects of a group are then sent concurrently (``storage.group``)."""

    reads_are_round_trips: bool = False
    """True where a read is a network round trip (S3: ~3 ms): worth starting in a thread ahead
    of writes it does not depend on (``AuditLog.reading_ahead``). The local folder's read
    (~55 µs) is made in place: a thread hand-off would cost more than it hides."""

    def sync_directories(self, directories: set[str]) -> None:  # noqa: B027 - local folder only
        """Make the entries of ``directories`` (:meth:`Staged.unsynced_directories`) durable."""

    def overlaps_syncs(self) -> bool:
        """Whether :meth:`stage` does a durable write slow enough to be worth a thread of its
        own (and the group's directory syncs too): the local folder while its recent fsyncs
        take longer than a thread hand-off costs, or while a core is idle to run the threads
        beside the writer (``storage.overlap``)."""
        return False

    def put_again(self, key: str, data: bytes) -> bool:
        """Write ``key`` again after :meth:`delete` removed it with every version (a rewrite that
        keeps no older version: :func:`replace_every_version`). False when another writer put
        ``key`` since the delete (a ``put`` or a create, whether it landed before or while this
        write was made): its object is kept current and nothing of this write stays. True when
        this write is current; a ``put`` that lands after it replaces it, as any replace does.

        Not a create of ``key``: allowed on a key of a replaced-only family (:data:`REPLACED_ONLY`:
        the ingest jobs), whose writers send no claim. This default is :meth:`put_if_absent`
        (the local folder's ``link(2)``, an ``If-None-Match: *`` PUT find the other writer's
        object itself); S3 in the claims mode writes a replaced-only key and then lists its
        versions (:meth:`.s3.S3Store.put_again`)."""
        try:
            self.put_if_absent(key, data)
        except AlreadyExists:
            return False
        return True

    @abc.abstractmethod
    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes of ``key`` (or of one earlier version of it)."""

    def get_listed(self, info: ObjectInfo) -> bytes:
        """The bytes of the object a :meth:`list` of this store just gave (``info``): as
        :meth:`get` of its key. A backend whose listing names the bytes (S3's ETag) may answer
        from bytes it read before under the same name, without a request (s26)."""
        return self.get(info.key)

    def taken_before_written(self) -> bool:
        """Whether ``put_if_absent`` may report a key taken whose data has not landed (and may
        never land: its writer died between its claim and its data). False here: a create is
        atomic. S3 servers without conditional PUT claim the key first (:class:`S3Store`)."""
        return False

    def claim_ahead(self, key: str) -> bool:
        """Take ``key`` now for a :meth:`put_if_absent` of it that comes later (which then sends
        its data only), where a create is a claim and then the data (:meth:`taken_before_written`):
        the claim's round trip can overlap another write (issue 14, m36). True when taken for this
        store object (give it back with :meth:`release_ahead` if that create never comes);
        ``AlreadyExists`` when another writer holds it. False here: a create is one atomic step,
        there is nothing to take apart from it."""
        return False

    def release_ahead(self, key: str) -> None:  # noqa: B027 - nothing taken ahead here
        """Give back ``key`` if :meth:`claim_ahead` took it and no :meth:`put_if_absent` used it
        since (nothing otherwise): a key taken and never written blocks every other writer of it
        until the claim is stale."""

    def when_claimed(self, key: str, then: Callable[[], None] | None) -> None:  # noqa: B027
        """Where a create is a claim and then the data (:meth:`taken_before_written`): call
        ``then`` (in the creating thread; it must not raise) once :meth:`put_if_absent` of
        ``key`` by this store object has won its claim, before the data is sent (None: no
        longer). Nothing here: a create is one step."""

    def get_after_conflict(self, key: str, timeout_s: float = 10.0) -> bytes:
        """Read a key that ``put_if_absent`` just reported as taken.

        On backends whose create-if-absent claims the key before the data lands (S3 servers
        without conditional PUT), the winner's bytes can be a moment behind its claim.
        """
        import time

        from kho.errors import NotFound

        deadline = time.monotonic() + timeout_s
        delay = 0.005
        while True:
            try:
                return self.get(key)
            except NotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def get_landed(self, key: str, refusal: str) -> bytes:
        """:meth:`get_after_conflict` for a writer that must not move past ``key``: on a store
        that takes a key before its data lands (:meth:`taken_before_written`), a key still
        without data after the wait is a claim whose writer did not finish (killed between its
        claim and its data, maybe on another machine, which cannot be asked): refused as
        ``CLAIM_PENDING`` (409; ``refusal`` is the message for people) instead of a plain
        ``NotFound``. The claim is taken over by the next ``put_if_absent`` once it is stale
        (``claim_timeout_s``): the caller retries then (review s19)."""
        from kho.errors import Conflict, NotFound

        try:
            return self.get_after_conflict(key)
        except NotFound as exc:
            if not self.taken_before_written():
                raise
            raise Conflict(refusal, code="CLAIM_PENDING", key=key) from exc

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size and version of ``key``; ``NotFound`` if absent."""

    def exists(self, key: str) -> bool:
        from kho.errors import NotFound

        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    @abc.abstractmethod
    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in ascending key order."""

    @abc.abstractmethod
    def list_versions(self, key: str) -> list[ObjectInfo]:
        """Every stored version of ``key``, oldest first."""

    def list_hidden(self, prefix: str) -> Iterator[str]:
        """The keys under ``prefix``, in ascending order, that keep stored versions but have no
        current object, so :meth:`list` does not give them: on S3 a key whose newest entry is a
        delete marker (another client's plain DELETE, or anyone's with write access to the
        bucket), on the local folder a key whose current file was removed by hand while its
        archives stay. Their versions are still readable by id (:meth:`list_versions`,
        :meth:`get`): a rewrite that must leave no version holding plaintext has to see them
        (review rv64: the scrub and fsck listed current keys only). This default: none."""
        return iter(())

    def age(self, key: str) -> float:
        """Seconds since the current version of ``key`` was written, by the store's own clock
        (the local folder: this machine's, against the file's modification time; S3: the
        server's ``Date`` on a HEAD against the object's ``Last-Modified``, so a writer's clock
        skew does not enter): how a live writer's lease is told from a dead one's, whichever
        machine wrote it (review rv64). :class:`~kho.errors.NotFound` if absent. Never below 0.
        This default: only where the backend knows it."""
        raise NotImplementedError(f"{self.name} does not tell an object's age")

    def first_age(self, key: str) -> float:
        """Seconds since the *oldest* stored version of ``key`` was written, by the store's own
        clock (:meth:`age` of a key written once): how long a copy has been there, which
        writing the same bytes again does not make younger (review rv65: a writer of the
        store renewed a dead scrub's staged copy in place and fsck took it for a live run's
        for ever). :class:`~kho.errors.NotFound` if there is no current version. This default:
        :meth:`age` (a backend that keeps no versions)."""
        return self.age(key)

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (all versions). Refused with ``RetentionLocked`` under retention or
        legal hold. Deleting a missing key is not an error."""

    def delete_if_current(self, key: str, tag: str) -> bool:
        """:meth:`delete` (``key`` with every version) only while its current version is still
        the one :meth:`get_tagged` tagged ``tag`` (:data:`ABSENT`: while none is current; its
        older versions go). False, nothing removed, when another writer put ``key`` (or
        removed it) since that read: a rewrite that removes an object to write a scrubbed copy
        of what it read (:func:`replace_every_version`) must not remove a newer one (m57).

        One step against every writer's :meth:`put`: the local folder compares and removes
        under the lock of the key's folder that every ``put`` takes; S3 lists the versions and
        goes on only if the newest is the one read (a PUT landing after that listing is not in
        it and stays current once the listed ones are gone). Only those two backends; a
        replaced-only key (:data:`REPLACED_ONLY`) or a due notice, never a pointer."""
        raise NotImplementedError(f"{self.name} does not delete conditionally")

    def delete_older_version(self, key: str, version_id: str) -> None:
        """Remove the one version ``version_id`` of ``key``, which its caller listed
        (:meth:`list_versions`) as *not* the current one: the current version and every other
        one stay (a version is immutable, so the removal takes exactly what the caller read).
        A version gone meanwhile (another removal, a scrub's :meth:`delete_if_current`) is not
        an error. Used by ``JobStore.put`` (m63) for a job's versions that name its file once
        its record exists. Only the local folder and S3; never a pointer. An empty ``version_id``
        names no version: ``ValueError`` (review rv62: S3 took it for a plain delete). The
        current version named is refused on every backend, nothing removed:
        :class:`~kho.errors.VersionIsCurrent` (review rv64: S3 removed it, and the version under
        it became current). A version under a delete marker (S3) or an archive whose key has no
        current object (the local folder) is older than nothing current: removed."""
        raise NotImplementedError(f"{self.name} does not remove one version")

    def check_versions_kept(self) -> None:  # noqa: B027 - S3 only
        """Refuse, with :class:`~kho.errors.StoreVersioningOff` naming where, a store whose
        ``put`` does not keep the version it replaces under an id of its own (an S3 bucket whose
        versioning is suspended or was never enabled: every PUT replaces the one ``null``
        version). A rewrite that removes "the version it read" by its id (the scrub's
        :meth:`delete_if_current`, :meth:`delete_older_version`) cannot tell it from another
        writer's there, so it refuses to start (review rv64: the scrub gave up after 3 tries a
        job, ``overtaken``, with no word of why); ``kho fsck`` names it. Nothing here: the local
        folder archives every version it replaces."""

    def discard_new(self, made: ObjectInfo) -> None:
        """Remove what one :meth:`put_new` of this caller made (``made``, its answer), on a key
        no other writer can produce (a login attempt's claim, ``web.pages.common.LoginLimiter``).
        Where the backend keeps versions, only that version goes: one request, with nothing to
        list first (:meth:`delete` lists every version of the key). This default is
        :meth:`delete`."""
        self.delete(made.key)

    # Retention / legal hold: optional capabilities.
    supports_retention: bool = False

    def set_retention(self, key: str, retention: Retention) -> None:
        raise NotImplementedError(f"{self.name} does not support retention")

    def get_retention(self, key: str, version_id: str | None = None) -> Retention | None:
        """The retention of ``key`` (of one version of it where the backend keeps versions)."""
        raise NotImplementedError(f"{self.name} does not support retention")

    def set_legal_hold(self, key: str, on: bool) -> None:
        raise NotImplementedError(f"{self.name} does not support legal hold")

    def get_legal_hold(self, key: str) -> bool:
        raise NotImplementedError(f"{self.name} does not support legal hold")

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Replace ``key`` (a new version; earlier versions stay readable by version id).

        Used only for the few mutable pointers (e.g. the audit witness); records, originals,
        register entries and audit events are created with ``put_if_absent``.
        """
        raise NotImplementedError

    replaces_conditionally: bool = False
    """Whether :meth:`put_if_match` replaces an object only while it is still the version a
    :meth:`get_tagged` read, in one atomic step against every other writer that uses this store's
    ``put`` or ``put_if_match``. Where False (the default), a caller that must not replace a
    changed pointer reads it again just before its ``put``, and compares the tags of its two
    reads."""

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The bytes of ``key`` and a tag naming the version read: two reads of the same
        version give the same tag, a write in between (where the backend tells versions apart:
        also one of the same bytes) another. This default tags nothing (``""``)."""
        return self.get(key), ""

    def put_if_match(self, key: str, data: bytes, tag: str) -> ObjectInfo:
        """Replace ``key`` only if it is still the version :meth:`get_tagged` tagged ``tag``
        (:data:`ABSENT`: create it only if there is none); :class:`kho.errors.Conflict` if it
        was replaced, deleted (or created) meanwhile (nothing written). Only where
        :attr:`replaces_conditionally`."""
        raise NotImplementedError(f"{self.name} does not replace conditionally")

    def prepare_put(self, key: str, data: bytes, tag: str | None = None) -> PreparedPut:
        """:meth:`put` in two parts: what can be made durable before the new version may become
        visible (on the local folder: the old version archived, the new one's temp file written
        and fsync'd), and :meth:`PreparedPut.commit`, which makes it visible and durable. The
        caller commits only once what the new version refers to is durable (the audit witness,
        staged while its events' directories sync). Elsewhere the whole put is the commit.

        ``tag``: the commit is :meth:`put_if_match` on that tag (only where
        :attr:`replaces_conditionally`): the version is compared at the commit, not here, so
        a replace or deletion while the caller waited is refused (:class:`kho.errors.Conflict`,
        nothing made visible)."""
        return PreparedPut(self, key, data, tag)

    def move_earlier_guards(self) -> tuple[int, tuple[str, ...]]:
        """Move duplicate guards kept in an earlier layout of this store into the current one
        (``kho duplicate-guards``): how many were moved, and the keys left for a person. A
        store that only ever had one layout moves nothing (this default; S3 overrides it)."""
        return 0, ()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


ABSENT = ""
"""The tag of no version (:meth:`ObjectStore.put_if_match`: only while the key is absent)."""

CLAIM_MAX_BYTES = 64 * 1024
"""The largest claim or duplicate guard (``claims/…``) a store reads: a writer's stamp is ~150
bytes, an S3 claim carrying its guard ~500, a guard ~200. A larger one was not written by Kho
(by hand, a tool): it is refused with :class:`~kho.errors.FormatInvalid` naming it after reading
this much, never read whole on every create of its file (review rv53: a 28 MB S3 claim, a 300 MB
local guard file were read whole on each create)."""

POINTERS = frozenset({"audit/witness.json"})
"""Mutable pointers (the audit witness): replaced conditionally, never claimed, and a conditional
replace keeps no older version — on S3 they live in the companion unversioned bucket
(:class:`.s3.S3Store`, "Pointers"); the local folder does not archive the version a conditional
replace of one replaces (:meth:`.local.LocalStore.put_if_match`)."""



@dataclass(frozen=True)
class ReplacedOnly:
    """A family of keys that is only ever written with :meth:`ObjectStore.put` (a replace) and
    never created conditionally (``put_if_absent``, ``put_new``, ``stage``, ``claim_ahead``:
    refused with :class:`~kho.errors.KeyNeverCreated`, on every backend).

    Why it matters (m53): an S3 store in the claims mode sends a claim before the data of every
    replace so that a later conditional create of the same key finds it taken, as
    ``If-None-Match: *`` or the local folder's ``link(2)`` find the data itself. A key nothing
    ever creates conditionally needs no such claim: its replace is one PUT. Every key outside
    these families keeps its claim (the safe default)."""

    name: str
    pattern: re.Pattern[str]
    """The keys of the family (``fullmatch``)."""
    writers: str
    """Who writes them, and why none of them creates one (read by people, kept beside the rule)."""

    def holds(self, key: str) -> bool:
        return self.pattern.fullmatch(key) is not None


DERIVED = ReplacedOnly(
    "derived",
    re.compile(r"records/[^/]+/derived/.+"),
    "Repository.put_derived (the ingest steps' text, verdicts and metadata, a hồ sơ's destruction"
    " dossier): last writer wins, every writer writes what its read of the record gives; a"
    " restore compares and replaces (retention.backup.restore_store).",
)
"""Text, signature verdicts, extracted metadata beside a record's original."""

JOBS = ReplacedOnly(
    "jobs",
    re.compile(r"ingest/jobs/.+"),
    "JobStore.put (the pipeline's state of a job, last writer wins); kho ingest scrub and kho fsck"
    " --repair remove one with every version only while it is the version they read"
    " (ObjectStore.delete_if_current) and write it again only with ObjectStore.put_again"
    " (replace_every_version), never with a create; a restore compares and replaces"
    " (retention.backup.restore_object).",
)
"""The ingest jobs (``ingest/jobs/<sha256>.json``). Until m56 they kept their claim: the scrub
re-created a job with ``put_if_absent``, which on S3 in the claims mode only the claim of the
pipeline's replace could make fail (r29). The scrub now writes it again with
:meth:`ObjectStore.put_again`, which needs no claim on any backend."""

REPLACED_ONLY: tuple[ReplacedOnly, ...] = (DERIVED, JOBS)
"""The families of keys never created conditionally (a key removed with every version and
written again goes through :meth:`ObjectStore.put_again`, which is not a create of it)."""


def replaced_only(key: str) -> ReplacedOnly | None:
    """The family of :data:`REPLACED_ONLY` that ``key`` belongs to, None for any other key."""
    for family in REPLACED_ONLY:
        if family.holds(key):
            return family
    return None


def check_created(key: str) -> None:
    """Refuse a conditional create of a key of a replaced-only family (:class:`ReplacedOnly`):
    :class:`~kho.errors.KeyNeverCreated`. Called by every backend's create methods."""
    family = replaced_only(key)
    if family is not None:
        raise KeyNeverCreated(
            f"Đối tượng {key} thuộc nhóm “{family.name}” chỉ được ghi đè, không được tạo có điều"
            " kiện: đây là lỗi của chương trình.",
            key=key,
            family=family.name,
        )


def version_is_current(key: str, version_id: str) -> VersionIsCurrent:
    """The refusal of :meth:`ObjectStore.delete_older_version` naming ``key``'s current version
    (one message and code on every backend)."""
    return VersionIsCurrent(
        f"Phiên bản {version_id} là phiên bản hiện hành của đối tượng {key}: chỉ xóa riêng được"
        " phiên bản cũ hơn, không xóa gì.",
        key=key,
        version_id=version_id,
    )


class PreparedPut:
    """A :meth:`ObjectStore.put` made ready (:meth:`ObjectStore.prepare_put`): nothing of it is
    visible before :meth:`commit`; :meth:`discard` gives it up (a no-op once committed)."""

    def __init__(self, store: ObjectStore, key: str, data: bytes, tag: str | None = None) -> None:
        self.store, self.key, self.data, self.tag = store, key, data, tag

    def commit(self) -> ObjectInfo:
        """Make the new version visible: :meth:`ObjectStore.put`, or with a ``tag``
        :meth:`ObjectStore.put_if_match` (:class:`kho.errors.Conflict` if the key is no longer
        that version; nothing is then left of the prepared put)."""
        if self.tag is None:
            return self.store.put(self.key, self.data)
        return self.store.put_if_match(self.key, self.data, self.tag)

    def discard(self) -> None:
        """Give up what was prepared (a temp file)."""


class Replaced(StrEnum):
    """What :func:`replace_every_version` did."""

    REPLACED = "replaced"
    """``key`` removed with every version and written again: only the new object is left."""
    CHANGED = "changed"
    """Another writer put ``key`` after the read the caller tagged: nothing removed, its object
    current, the version read still stored (older now)."""
    OVERTAKEN = "overtaken"
    """Another writer put ``key`` between the removal and the write: its object kept, nothing
    older left."""


def replace_every_version(
    store: ObjectStore, key: str, body: bytes, staged_key: str, tag: str | None = None
) -> Replaced:
    """Replace ``key`` by ``body`` so that none of its older versions stays (a ``put`` over it
    would keep them on a versioned bucket or folder): ``body`` staged at ``staged_key`` first (what
    a stopped run finishes from), the object removed with every version, written again, the
    staged copy removed. Used by the rewrites of objects that kept plaintext (jobs, notices).

    ``tag``: the version ``body`` was made from (:meth:`ObjectStore.get_tagged`); the object is
    removed only while it is still that version (:meth:`ObjectStore.delete_if_current`, m57: a
    job the pipeline wrote after the scrub read it was removed). None: removed whatever it is
    (the due notices, whose writers create new keys only).

    Unless :attr:`Replaced.REPLACED`, another writer's object is kept (a ``put`` here replaced
    it, r29: a notification numbered meanwhile was lost) and so is the staged copy, for the
    caller to file elsewhere or drop."""
    store.put(staged_key, body)
    if tag is None:
        store.delete(key)
    elif not store.delete_if_current(key, tag):
        return Replaced.CHANGED
    if not store.put_again(key, body):
        return Replaced.OVERTAKEN
    store.delete(staged_key)
    return Replaced.REPLACED
