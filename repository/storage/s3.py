"""Object storage on any S3 server through the ``minio`` client (MinIO in production, Ceph RGW
in the tests).

The data bucket is versioned (``put`` keeps earlier versions readable) and, when asked, has
Object Lock (retention / legal hold). Every object is written with one single PUT, so a reader
never sees a partial object and a failed write leaves nothing behind.

Create-if-absent is a PUT with ``If-None-Match: *`` (``412`` → :class:`AlreadyExists`). Not every
server honours that header on a *versioned* bucket: Ceph RGW 16 ignores it there and lets every
writer win. :class:`S3Store` therefore probes the bucket when it opens it (once per process and
kind of bucket: :data:`_LEARNT`) and, if the
precondition is ignored, claims keys in a companion *unversioned* bucket (``<bucket>-claims``,
where RGW's conditional PUT is atomic) before writing the data:

1. PUT ``claims/<key>`` with ``If-None-Match: *`` — the single winner of a race;
2. PUT the data into the data bucket (on failure the claim is withdrawn).

A writer whose claim is refused reads the key's data first: there, the key is taken and those
bytes answer that thread's next :meth:`S3Store.get_after_conflict` of it (no second read);
absent, the claim is read for its age and writer (below).

A claim whose data never arrived (a writer that died between 1 and 2) is taken over with a
compare-and-swap PUT (``If-Match: <etag of the stale claim>``): after ``claim_timeout_s``, or — when
the claim names a writer process of this machine that is gone (a killed import re-run at once) and
is younger than a request may take — once it is :data:`DEAD_WRITER_SETTLE_S` old, so that a data
PUT the writer had sent before dying has landed.

A duplicate guard (:data:`GUARD_PREFIXES`: ``claims/sha256/``, ``claims/skh/``) is its claim
(m43): step 1's body carries the guard (:func:`guard_claim`, format ``s3-claim`` 1) and there is
no step 2. Readers look in the companion bucket first, then in the data bucket, where stores
written before keep their guards (under a claim of version 0, the writer's stamp alone); a
listing merges both. The takeover of a stale guard stays the repository's (its token, then a
delete and a create): RGW ignores ``If-Match`` on a DELETE, so a conditional replace of the claim
could not be made safe against ``kho fsck``'s removal of the same guard without that token.

Claims are taken only where a race is possible: ``put_new`` (a key under a record id the writer
has just made, or one every writer writes with the same bytes) is one PUT, and so is the ``put``
of a key nothing ever creates conditionally (:data:`~repository.storage.base.REPLACED_ONLY`:
a replace claims its key only for the conditional creates that may come after it, m53; the
ingest jobs, m56, which :meth:`S3Store.put_again` writes again after a delete by writing and
then listing the key's versions, no claim needed).

Pointers (:data:`POINTERS`, the audit witness) live in the companion bucket too, under
``pointers/<key>``: it is unversioned, and there RGW honours ``If-Match`` (it refuses every
``If-Match`` PUT on the versioned data bucket, even with the current ETag), so
:meth:`S3Store.put_if_match` is one conditional PUT on every S3 server. Each write stores the
pointer in an envelope with a random write id (:func:`pointer_envelope`), so no two writes share an
ETag. Stores written before kept the pointer in the data bucket: it is read from there while the
companion bucket has none, and its first conditional replace moves it (create the copy with
``If-None-Match: *``, then leave :func:`moved_marker` in the data bucket under its key). Once the
marker is there, a pointer missing from the companion bucket is missing (a deleted witness), never
the older copy below the marker. A copy written before its marker (a plain ``put``, the move) is
``pending`` until a conditional replace has made sure the marker is there.

Fork safety: a child of ``fork`` has only the thread that forked, so a lock another thread held
at that moment stays held for ever, and the parent's pooled connections are the parent's sockets.
After a ``fork`` every store of the child starts afresh (:meth:`S3Store._start_after_fork`, run by
the write path's one fork hook, ``storage.group.start_after_fork``): a new lock and no client, so
its first request builds the child's own connection pool. The parent's
client is kept in the child unused, never closed (closing it takes locks of its pool that a parent
thread may have held, and would act on the parent's connections). The store also pickles as its
configuration, so one store may be handed to worker processes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import io
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit
from xml.etree import ElementTree

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.retention import Retention as MinioRetention
from minio.versioningconfig import VersioningConfig
from urllib3.exceptions import HTTPError as Urllib3Error

from kho.errors import (
    AlreadyExists,
    ConfigError,
    Conflict,
    FormatInvalid,
    FormatUnsupported,
    NotFound,
    RetentionLocked,
    StoreFull,
    StoreUnavailable,
    StoreVersioningOff,
)
from kho.process import process_alive, this_host, writer_gone
from repository import formats
from repository.storage.base import (
    ABSENT,
    CLAIM_MAX_BYTES,
    POINTERS,
    ObjectInfo,
    ObjectStore,
    Retention,
    check_created,
    replaced_only,
    version_is_current,
)
from repository.storage.group import start_after_fork
from repository.storage.local import check_key

T = TypeVar("T")

_NOT_FOUND_CODES = frozenset(
    {"NoSuchKey", "NoSuchVersion", "NoSuchObject", "MethodNotAllowed", "ResourceNotFound"}
)
_FULL_CODES = frozenset(
    {
        "QuotaExceeded",
        "XMinioStorageFull",
        "XMinioAdminBucketQuotaExceeded",
        "StorageFull",
        "InsufficientStorage",
    }
)
_NO_LOCK_CODES = frozenset({"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"})
_FRACTION = re.compile(r"\.(\d{6})\d*")
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_CLAIMS_PREFIX = "claims/"
_PROBE_PREFIX = ".kho-probe/"

LISTED_KEPT = 4_096
"""How many objects' bytes an :class:`S3Store` keeps for :meth:`S3Store.get_listed`."""
LISTED_MAX_BYTES = 64 * 1024
"""Larger objects are not kept (at most ``LISTED_KEPT`` × this in memory: 256 MiB; accounts,
units and notifications are a few KiB)."""

_LEARNT: dict[tuple[object, ...], bool] = {}
"""What this process learnt of a server's conditional PUTs, so that a ``Kho`` opened again (a
``kho`` command run in-process, each test's installation, the key store beside the data store)
does not send the same probe again (s26: five requests a bucket, twice per ``Kho`` opened).
Keys: ``("versioned", secure, endpoint, access key, object lock)`` → the data bucket's verdict
(:meth:`S3Store._probe_conditional_put`) for a bucket this process made sure is versioned: the
answer is the server's for that kind of bucket, not the bucket's own (Ceph RGW ignores
``If-None-Match: *`` on every versioned bucket, AWS S3 and MinIO honour it on all of them);
``("bucket", secure, endpoint, access key, bucket)`` → the verdict for a data bucket opened
without ``create_bucket`` (its versioning not known); ``("companion", ..., bucket)`` → True once
the companion bucket passed :func:`conditions_failed` (a refusal is not kept: it raises each
time). Only process memory (a fork inherits it: the same server), never the store, so no writer
of the store can plant an answer; a long-running process already kept its one probe's answer
for its whole life before."""


def _learnt(key: tuple[object, ...], learn: Callable[[], bool], keep: Callable[[bool], bool]) -> bool:
    """``_LEARNT[key]``, or ``learn()`` kept there when ``keep`` of its answer says so (no lock:
    two threads that both learn it probe twice, as two processes do)."""
    known = _LEARNT.get(key)
    if known is not None:
        return known
    answer = learn()
    if keep(answer):
        _LEARNT[key] = answer
    return answer


def forget_learnt() -> None:
    """Forget :data:`_LEARNT` (a test that plays a fresh process)."""
    _LEARNT.clear()


def _http_date(value: str | None) -> datetime | None:
    """An HTTP date header as an aware datetime (a zone left unsaid, ``-0000``, read as UTC);
    None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def claim_age(date: str | None, last_modified: str | None, here: datetime) -> float:
    """The age in seconds of a claim from one answer's ``Date`` and the claim's
    ``Last-Modified`` (review rv43: the server's clock alone). ``Date`` absent or unreadable:
    ``here`` (this host's clock). ``Last-Modified`` absent or unreadable: 0, taken for just
    written, so never taken over on a guess. Never below 0 (review rv44): a ``Date`` before the
    claim was written (gateways behind one address whose clocks differ, a cache) made the
    waiting for a dead writer's PUT ``DEAD_WRITER_SETTLE_S - age`` seconds — an hour for a
    ``Date`` an hour behind — and an unreadable header or one without a zone raised out of the
    write (ValueError, TypeError). Pure."""
    written = _http_date(last_modified)
    if written is None:
        return 0.0
    now = _http_date(date) or here
    return max(0.0, (now - written).total_seconds())


DEAD_WRITER_SETTLE_S = 10.0
"""The age a claim of a dead writer must reach before it is taken over: a data PUT the writer had
sent (or was sending) when it was killed is stored by the server well within this time of the
claim (tens of milliseconds measured on Ceph RGW, under load too). Nothing on the server can
confirm it, so the margin is wide; a claim older than the client's read timeout may stand for a
PUT whose answer was lost and still in progress, and waits for ``claim_timeout_s``."""
_POINTERS_PREFIX = "pointers/"


def pointer_envelope(data: bytes, *, pending: bool) -> bytes:
    """The stored bytes of a pointer in the companion bucket (:data:`formats.S3_POINTER`): a new
    random ``write`` id every time, so every write has its own ETag."""
    return formats.dumps(
        formats.S3_POINTER.name,
        {"write": uuid.uuid4().hex, "pending": pending, "data": base64.b64encode(data).decode("ascii")},
        sort_keys=True,
    )


def pointer_from_envelope(raw: bytes) -> tuple[bytes, bool]:
    """The pointer's bytes and ``pending`` from :func:`pointer_envelope`'s bytes. Bytes that are
    no envelope are returned as they are, not pending: a damaged pointer reads as damaged (its
    reader refuses it with its own code). A newer envelope format raises
    :class:`FormatUnsupported` (never guessed at)."""
    try:
        body = formats.loads(formats.S3_POINTER.name, raw)
        return base64.b64decode(body["data"], validate=True), body.get("pending") is True
    except FormatUnsupported:
        raise
    except (FormatInvalid, KeyError, TypeError, ValueError, binascii.Error):
        return raw, False


GUARD_PREFIXES = ("claims/sha256/", "claims/skh/")
"""Duplicate guards (a document's SHA-256; its số/ký hiệu/cơ quan/năm) whose claim *is* the
guard on a store in the claims mode (m43): one ``If-None-Match: *`` PUT of ``claims/<key>`` in the
companion bucket whose body (:data:`formats.S3_CLAIM` version 1, :func:`guard_claim`) carries the
guard's bytes beside the writer's stamp; nothing in the data bucket (the claim and the guard's
PUT were two requests a guard before). Stores written before keep their guards in the data
bucket under a claim of version 0: every reader falls back to it (:meth:`S3Store._guard_read`)."""


def guard_claim(data: bytes, writer: str) -> bytes:
    """A guard's claim (:data:`formats.S3_CLAIM` version 1): the writer's stamp (what stale
    claims are judged by, as every claim) and the guard's bytes."""
    return formats.dumps(
        formats.S3_CLAIM.name,
        {
            "writer": writer,
            "pid": os.getpid(),
            "host": this_host(),
            "at": time.time(),
            "guard": base64.b64encode(data).decode("ascii"),
        },
        sort_keys=True,
    )


def guard_from_claim(raw: bytes) -> bytes | None:
    """The guard's bytes a claim carries (:func:`guard_claim`), None for a claim of version 0
    (a writer's stamp alone: the key's object, if any, is in the data bucket). A newer claim
    format raises :class:`FormatUnsupported` (never guessed at); a version-1 claim without a
    readable guard, and bytes that are no claim (not a JSON object, or one without the string
    ``writer`` every claim Kho wrote carries), :class:`FormatInvalid`. Such bytes were read as a
    version-0 claim: every create of the guard waited 10 s for ``CLAIM_PENDING``, took it over
    (overwrote it) once ``claim_timeout_s`` old, and ``kho fsck`` did not list it (review rv55)."""
    no_claim = FormatInvalid(
        "Đối tượng ở bucket phụ của kho S3 không phải yêu cầu giữ chỗ Kho đã ghi (không phải JSON có"
        " người ghi): Kho không đọc nó là khóa chống trùng, không chờ và không ghi đè nó. Người quản"
        " trị cần xem và xóa nó bằng tay.",
        kind=formats.S3_CLAIM.name,
    )
    try:
        body = formats.parse(formats.S3_CLAIM.name, raw)
    except FormatInvalid as exc:
        raise no_claim from exc
    if not isinstance(body, dict):
        raise no_claim
    if formats.version_of(formats.S3_CLAIM.name, body) == 0:
        if not isinstance(body.get("writer"), str):
            raise no_claim
        return None
    body = formats.upcast(formats.S3_CLAIM.name, body)
    try:
        return base64.b64decode(body["guard"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise FormatInvalid(
            "Yêu cầu giữ chỗ ở bucket phụ của kho S3 không mang khóa chống trùng đọc được.",
            kind=formats.S3_CLAIM.name,
        ) from exc


def _condition_failed(exc: S3Error) -> bool:
    """Whether a conditional PUT was refused (nothing written): ``412``, the key gone, or a race
    lost to another conditional PUT of the same key: AWS S3 answers ``409
    ConditionalRequestConflict``, Ceph RGW ``500 UnknownError`` (its compare-and-swap of the
    object's head cancelled; measured: of racing ``If-Match`` PUTs exactly one succeeds and its
    bytes are what stays, every other one gets 412 or this 500; ``bench/NOTES-s2.md``)."""
    if exc.code in ("PreconditionFailed", "ConditionalRequestConflict", *_NOT_FOUND_CODES):
        return True
    return _server_fault(exc)


def conditions_failed(client: Minio, bucket: str) -> str:
    """Which conditional PUT ``bucket`` does not honour, ``""`` when it honours both: a second
    ``If-None-Match: *`` create of one key must be refused, an ``If-Match`` of another ETag
    refused, and an ``If-Match`` of the current ETag accepted (Ceph RGW's versioned buckets
    ignore the first and refuse the last). One probe key, removed after: one DELETE where no
    write made a version (an unversioned bucket), else every version listed and removed."""
    key = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
    versioned = False

    def put(body: bytes, headers: dict[str, str]) -> str | None:
        nonlocal versioned
        try:
            response = client._execute("PUT", bucket, key, body=body, headers=headers)
        except S3Error as exc:
            if exc.code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return None
            versioned = True  # (not known: clean up as if it were)
            raise
        versioned = versioned or response.headers.get("x-amz-version-id") not in (None, "", "null")
        return (response.headers.get("ETag") or "").strip('"')

    failed = "If-None-Match"
    try:
        etag = put(b"1", {"If-None-Match": "*"})
        if etag is None:
            return failed  # (a fresh key: refused although absent)
        if put(b"2", {"If-None-Match": "*"}) is not None:
            return failed
        failed = "If-Match"
        if put(b"3", {"If-Match": "0" * 32}) is not None:
            return failed
        if put(b"4", {"If-Match": etag}) is None:
            return failed
        failed = ""
        return failed
    finally:
        if failed or versioned:
            for version in client.list_objects(bucket, prefix=key, include_version=True):
                client.remove_object(bucket, key, version_id=version.version_id)
        else:
            client.remove_object(bucket, key)


def _server_fault(exc: S3Error) -> bool:
    """RGW's ``500 UnknownError``: a conditional PUT that lost a race, or any other fault of
    the server; which one is told by reading the key again (:meth:`S3Store._pointer_changed`)."""
    status = exc.response.status if exc.response is not None else None
    return exc.code == "UnknownError" and status == 500


def moved_marker(bucket: str, key: str) -> bytes:
    """The data bucket's marker under a pointer's key once the pointer lives in ``bucket``
    (:data:`formats.S3_POINTER_MOVED`)."""
    return formats.dumps(
        formats.S3_POINTER_MOVED.name,
        {"moved_to": {"bucket": bucket, "key": _POINTERS_PREFIX + key}},
        sort_keys=True,
    )


def is_moved_marker(raw: bytes) -> bool:
    """Whether bytes read under a pointer's key in the data bucket are :func:`moved_marker`'s
    (anything else there is the pointer itself, as stores wrote it before it moved)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(data, dict) or "moved_to" not in data:
        return False
    formats.upcast(formats.S3_POINTER_MOVED.name, data)  # a newer marker: FormatUnsupported
    return True


def _parse_s3_date(text: str) -> datetime:
    """An S3 timestamp; Ceph RGW sends 9 fractional digits, which ``minio`` 7.2 rejects."""
    text = _FRACTION.sub(r".\1", text.strip()).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _xml_text(xml: bytes, tag: str) -> str | None:
    root = ElementTree.fromstring(xml)
    for name in (f"{_S3_NS}{tag}", tag):
        node = root.find(f".//{name}")
        if node is not None and node.text is not None:
            return node.text
    return None


_inherited: list[Minio] = []
"""Clients a ``fork`` child inherited: kept so that nothing closes or collects them here."""


class S3Store(ObjectStore):
    name = "s3"
    groups_in_order = False  # a group's requests are sent concurrently (storage.group)
    reads_are_round_trips = True  # the audit witness read overlaps an act's writes (m31)

    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool | None = None,
        region: str = "us-east-1",
        object_lock: bool = False,
        create_bucket: bool = True,
        conditional_create: bool | None = None,
        claims_bucket: str | None = None,
        claim_timeout_s: float = 300.0,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 120.0,
        max_connections: int = 16,
    ) -> None:
        """Open ``bucket`` on ``endpoint`` (``host:port`` or ``http(s)://host:port``).

        ``create_bucket``: create the bucket(s) if missing, turn versioning on and probe the
        conditional PUT — a :class:`StoreUnavailable` here means the server is unreachable.
        ``conditional_create``: ``True``/``False`` skips the probe (``None``: probe).
        The companion bucket (``claims_bucket``: claims, and the pointers) is created if missing.
        """
        parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
        try:
            port_ok = parts.port is None or parts.port > 0  # "host:abc", ":::": ValueError
        except ValueError:
            port_ok = False
        if not parts.netloc or parts.path not in ("", "/") or not port_ok or not parts.hostname:
            raise ConfigError(
                f"Địa chỉ máy chủ S3 không hợp lệ: {endpoint!r} (cần dạng máy:cổng).",
                endpoint=endpoint,
            )
        if secure is None:
            secure = parts.scheme != "http"
        self.bucket = bucket
        self.endpoint = parts.netloc
        self.secure = secure
        self.region = region
        self.object_lock = object_lock
        self.supports_retention = object_lock
        self.claims_bucket = claims_bucket or f"{bucket}-claims"
        self.claim_timeout_s = claim_timeout_s
        self._access_key = access_key
        self._secret_key = secret_key
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_connections = max_connections
        self._lock = threading.RLock()
        self._client_obj: Minio | None = None
        self._conditional = conditional_create
        self._claims_made = False  # the companion bucket exists
        self._claims_ready = False  # ... and honours the conditions (checked before a write)
        self._ahead: dict[str, tuple[str, float]] = {}
        """Keys :meth:`claim_ahead` claimed that no :meth:`put_if_absent` has used yet: the claim's
        writer id and when it was sent (``time.monotonic``), see :meth:`_still_mine`."""
        self._ahead_lock = threading.Lock()
        self._listed: dict[str, tuple[str, bytes]] = {}
        """Keys read by :meth:`get_listed`: the listing's ETag and the bytes (whose MD5 it is),
        at most :data:`LISTED_KEPT` (forgotten all at once when full, as the accounts' checks)."""
        self._then: dict[tuple[int, str], Callable[[], None]] = {}
        """Per thread and key, what :meth:`when_claimed` asked to be called once the claim is won."""
        self._landed: dict[int, tuple[str, bytes]] = {}
        """Per thread, the key and bytes its last create found taken and already written
        (:meth:`_claim`): the answer of that thread's next :meth:`get_after_conflict` of the key."""
        self._earlier: bool | None = None
        """Does the data bucket hold a guard of the layout before m43 (:meth:`_earlier_guards`)?
        None until this store object's first guard create asks."""
        start_after_fork(self)
        if create_bucket:
            self._open_buckets()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Store:
        """``s3://bucket`` plus options (``endpoint``, ``access_key``, ``secret_key``,
        ``secure``, ``region``, ``object_lock``, ...)."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.path not in ("", "/"):
            raise ConfigError(f"Địa chỉ kho S3 không hợp lệ: {url!r} (cần dạng s3://tên-bucket).", url=url)
        if not options.get("endpoint"):
            raise ConfigError("Thiếu địa chỉ máy chủ S3 (endpoint) cho kho lưu trữ.", url=url)
        return cls(parts.netloc, **options)

    # -- pickling: configuration only; each process builds its own connection pool ----------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_client_obj"] = None
        state["_ahead"] = {}  # (claims of this process, not of the one that unpickles)
        state["_ahead_lock"] = None
        state["_listed"] = {}
        state["_then"] = {}
        state["_landed"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._ahead_lock = threading.Lock()
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        """Called in the child of a ``fork``, before any other code runs there."""
        if self._client_obj is not None:
            _inherited.append(self._client_obj)
        self._client_obj = None
        self._lock = threading.RLock()
        # The parent's claims taken ahead are its own to write or give back.
        self._ahead = {}
        self._ahead_lock = threading.Lock()
        self._then = {}
        self._landed = {}

    @property
    def _client(self) -> Minio:
        if self._client_obj is None:
            with self._lock:
                if self._client_obj is None:
                    http = urllib3.PoolManager(
                        num_pools=4,
                        maxsize=self._max_connections,
                        timeout=urllib3.Timeout(connect=self._connect_timeout_s, read=self._read_timeout_s),
                        # Retry only what cannot have reached the server (connection
                        # errors) and explicit "try again" answers. A lost answer is never
                        # retried: a conditional PUT would then refuse its own write.
                        retries=urllib3.Retry(
                            total=3,
                            connect=2,
                            read=0,
                            other=0,
                            status=2,
                            backoff_factor=0.1,
                            status_forcelist=[502, 503],
                            raise_on_status=False,
                        ),
                    )
                    self._client_obj = Minio(
                        self.endpoint,
                        access_key=self._access_key,
                        secret_key=self._secret_key,
                        secure=self.secure,
                        region=self.region,
                        http_client=http,
                    )
        return self._client_obj

    def close(self) -> None:
        with self._lock:
            if self._client_obj is not None:
                self._client_obj._http.clear()
            self._client_obj = None

    # -- error mapping -----------------------------------------------------------------------
    def _fail(self, exc: Exception, key: str | None = None, *, locked: bool = False) -> NoReturn:
        details: dict[str, Any] = {"endpoint": self.endpoint, "bucket": self.bucket}
        if key is not None:
            details["key"] = key
        if isinstance(exc, S3Error):
            code = exc.code or ""
            details["s3_code"] = code
            if code in _NOT_FOUND_CODES:
                raise NotFound(f"Không tìm thấy đối tượng {key}.", **details) from exc
            if code in _FULL_CODES:
                raise StoreFull(
                    "Kho lưu trữ S3 đã đầy hoặc vượt hạn mức, không ghi được dữ liệu.", **details
                ) from exc
            if code == "AccessDenied" and locked:
                raise RetentionLocked(
                    f"Đối tượng {key} đang trong thời hạn lưu giữ bắt buộc hoặc bị phong tỏa "
                    "(legal hold), không được xóa hay rút ngắn thời hạn.",
                    **details,
                ) from exc
            if code == "NoSuchBucket":
                raise StoreUnavailable(
                    f"Không tìm thấy bucket {self.bucket} trên máy chủ S3 {self.endpoint}.",
                    **details,
                ) from exc
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise StoreUnavailable(
                    f"Máy chủ S3 {self.endpoint} từ chối truy cập (sai khóa truy cập hoặc thiếu quyền).",
                    **details,
                ) from exc
            raise StoreUnavailable(
                f"Máy chủ S3 {self.endpoint} báo lỗi {code}: {exc.message or ''}".strip(),
                **details,
            ) from exc
        if isinstance(exc, ServerError):
            details["http_status"] = exc.status_code
            if exc.status_code == 507:
                raise StoreFull("Kho lưu trữ S3 đã đầy, không ghi được dữ liệu.", **details) from exc
            raise StoreUnavailable(
                f"Máy chủ S3 {self.endpoint} đang gặp sự cố (HTTP {exc.status_code}).",
                **details,
            ) from exc
        if isinstance(exc, InvalidResponseError):
            raise StoreUnavailable(f"Máy chủ S3 {self.endpoint} trả lời không hợp lệ.", **details) from exc
        raise StoreUnavailable(
            f"Không kết nối được kho lưu trữ S3 tại {self.endpoint}: máy chủ không phản hồi "
            "hoặc mạng gián đoạn.",
            **details,
        ) from exc

    def _call(self, fn: Callable[[], T], key: str | None = None, *, locked: bool = False) -> T:
        try:
            return fn()
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key, locked=locked)

    # -- buckets -----------------------------------------------------------------------------
    def _ensure_bucket(self, name: str, *, versioned: bool, object_lock: bool) -> None:
        client = self._client
        if not client.bucket_exists(name):
            try:
                client.make_bucket(name, object_lock=object_lock)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        if versioned and client.get_bucket_versioning(name).status != ENABLED:
            client.set_bucket_versioning(name, VersioningConfig(ENABLED))
        if object_lock:
            try:
                client.get_object_lock_config(name)
            except S3Error as exc:
                if exc.code in _NO_LOCK_CODES:
                    raise ConfigError(
                        f"Bucket {name} đã có sẵn nhưng không bật Object Lock; không thể dùng "
                        "thời hạn lưu giữ bắt buộc.",
                        bucket=name,
                    ) from exc
                raise

    def holds(self, prefix: str, *, mark: bool = False) -> bool | None:
        """Whether the bucket holds an object under ``prefix`` or the folder marker named
        ``prefix`` (an empty object ``keys/``, :meth:`mark`, or made by an operator as ``mkdir``
        makes a folder); None when the bucket does not exist. Two requests, reads only (``HEAD``
        bucket, one listing of at most one key: the marker sorts first), whatever the bucket
        holds; nothing is created, whatever ``create_bucket`` was, except with ``mark``: a bucket
        that holds objects under ``prefix`` but not the marker (a key bucket made before u10) gets
        the marker (:meth:`mark`, a third request, once), so that it is still told from an empty
        bucket once every object under ``prefix`` is deleted (review rv13). The probe's objects
        are not under ``prefix``."""

        def run() -> bool | str | None:
            client = self._client
            if not client.bucket_exists(self.bucket):
                return None
            # minio's public list_objects asks for pages of 1,000 keys: one key is enough here.
            try:
                for first in client._list_objects(self.bucket, prefix=prefix, max_keys=1):
                    return True if first.object_name == prefix else "unmarked"
            except S3Error as exc:
                if exc.code == "AccessDenied":  # a credential that may read keys but not list
                    return True  # them: cannot tell, judged as before (the local PermissionError)
                raise
            return False

        found = self._call(run)
        if found == "unmarked":
            if mark:
                self.mark(prefix)
            return True
        return found  # type: ignore[return-value]  # (True, False or None here)

    def mark(self, prefix: str) -> None:
        """Put the empty folder marker ``prefix`` (``keys/``): a bucket Kho made as a key store
        is one from then on, even once every key in it was destroyed (as the local key store's
        ``objects/keys`` folder stays), so :meth:`holds` never takes it for an empty bucket.
        :meth:`list` does not list it (a name ending with "/")."""
        self._call(lambda: self._client.put_object(self.bucket, prefix, io.BytesIO(b""), 0), prefix)

    def _open_buckets(self) -> None:
        def run() -> None:
            self._ensure_bucket(self.bucket, versioned=True, object_lock=self.object_lock)
            if self._conditional is None:
                self._conditional = _learnt(
                    ("versioned", *self._server, self.object_lock),
                    lambda: self._probe_conditional_put(versioned=True),
                    lambda _: True,
                )
            self._ensure_bucket(self.claims_bucket, versioned=False, object_lock=False)
            self._claims_made = True

        self._call(run)

    def _ensure_claims_bucket(self) -> None:
        """Before the store's first write (every write path comes here, or through
        :meth:`_create_conditionally`, before it writes anything): the companion bucket exists
        (made if missing, as the claims mode does) and honours the conditions
        (:meth:`_check_companion`), once per store. Reads never come here: they write nothing
        and pay nothing for the check (a ``kho`` command that only reads)."""
        if self._claims_ready:
            return
        with self._lock:
            if not self._claims_ready:

                def run() -> None:
                    if not self._claims_made:
                        self._ensure_bucket(self.claims_bucket, versioned=False, object_lock=False)
                        self._claims_made = True
                    self._check_companion()

                self._call(run)
                self._claims_ready = True

    @property
    def create_mode(self) -> str:
        """``"conditional"`` (``If-None-Match: *``) or ``"claims"`` (companion bucket)."""
        return "conditional" if self._create_conditionally() else "claims"

    def taken_before_written(self) -> bool:
        """In the claims mode, a key is taken by its claim, before (or without) its data."""
        return self.create_mode == "claims"

    def _create_conditionally(self) -> bool:
        """Whether objects are created ``If-None-Match: *`` in the data bucket (else claimed in
        the companion bucket). Every write of the data bucket asks this first, so here, once,
        a store opened with ``create_bucket=False`` checks its companion bucket
        (:meth:`_check_companion`) before anything is written, whatever the data bucket's
        verdict: a refusal at the first pointer write (the witness, after an act's events)
        would leave what the act wrote behind it (review r20)."""
        self._ensure_claims_bucket()
        if self._conditional is None:  # opened with create_bucket=False: probe on first use
            with self._lock:
                if self._conditional is None:
                    self._conditional = _learnt(
                        ("bucket", *self._server, self.bucket),
                        lambda: self._call(self._probe_conditional_put),
                        lambda _: True,
                    )
        return self._conditional

    @property
    def _server(self) -> tuple[bool, str, str | None]:
        """Who answers this store's requests, as :data:`_LEARNT` tells servers apart."""
        return (self.secure, self.endpoint, self._access_key)

    def _probe_conditional_put(self, *, versioned: bool = False) -> bool:
        """Does the data bucket refuse a second ``If-None-Match: *`` PUT of one key?

        ``versioned`` (a bucket this store has just made versioned, whose answer is kept as the
        server's for every versioned bucket): a refusal counts only when the first PUT made a
        version and the bucket's versioning is still enabled after the second (one GET more,
        only then). Ceph RGW honours the condition on an unversioned or suspended bucket and
        ignores it on an enabled one, so versioning suspended while the probe ran (by anyone
        allowed to change it, between Kho turning it on and the probe) made "honoured" the
        answer for this store and, kept in :data:`_LEARNT`, for every versioned bucket of the
        server: creates with the condition alone, ignored there, and two writers of one key
        both won (rv65). False (claims in the companion bucket) is right on every server."""
        key = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
        client = self._client
        first = client._execute("PUT", self.bucket, key, body=b"1", headers={"If-None-Match": "*"})
        try:
            client._execute("PUT", self.bucket, key, body=b"2", headers={"If-None-Match": "*"})
            honoured = False
        except S3Error as exc:
            if exc.code != "PreconditionFailed":
                raise
            honoured = not versioned or (
                first.headers.get("x-amz-version-id") not in (None, "", "null")
                and client.get_bucket_versioning(self.bucket).status == ENABLED
            )
        for version in client.list_objects(self.bucket, prefix=key, include_version=True):
            client.remove_object(self.bucket, key, version_id=version.version_id)
        return honoured

    def _check_companion(self) -> None:
        """Refuse a companion bucket where conditional PUTs are not what Kho builds on
        (:class:`ConfigError`, code ``S3_CONDITIONS_IGNORED``): claims (exact registers, one
        writer per audit event) need ``If-None-Match: *`` honoured, the audit witness needs
        ``If-Match`` honoured (a replace that ignored it could put a lower witness over a
        higher one, and the log's newest events could then be cut unseen). Five requests
        (four PUTs and the probe key's DELETE), once, before the store's first write
        (:meth:`_ensure_claims_bucket`): a process that only reads pays none (review r20
        measured six at every open before). A pass is kept for the process (:data:`_LEARNT`):
        another store object on the same companion bucket does not check it again (s26)."""
        found: list[str] = []

        def check() -> bool:
            found.append(conditions_failed(self._client, self.claims_bucket))
            return not found[0]

        if _learnt(("companion", *self._server, self.claims_bucket), check, bool):
            return
        failed = found[0]
        if failed:
            raise ConfigError(
                f"Máy chủ S3 không tôn trọng điều kiện ghi ({failed}) trên bucket {self.claims_bucket}:"
                " Kho không thể giữ sổ đăng ký liên tục, không trùng số và nhật ký kiểm toán an toàn"
                " trên bucket này. Dùng máy chủ S3 hỗ trợ ghi có điều kiện (If-None-Match, If-Match)"
                " và một bucket đi kèm không bật phiên bản (versioning).",
                code="S3_CONDITIONS_IGNORED",
                bucket=self.claims_bucket,
                failed=failed,
            )

    replaces_conditionally = True
    """Pointers (:data:`POINTERS`, the only keys replaced conditionally) live in the companion
    unversioned bucket, where ``If-Match`` and ``If-None-Match: *`` are honoured (Ceph RGW; AWS
    S3 and MinIO on any bucket): :meth:`put_if_match` is one conditional PUT."""

    # -- pointers (the audit witness) -------------------------------------------------------------
    def _fetch(self, bucket: str, key: str) -> tuple[bytes, str, str]:
        """The bytes, ETag (unquoted) and version id (``""`` unversioned) of ``key`` in
        ``bucket``, one GET; :class:`NotFound` if absent. A claim of the companion bucket is
        read up to :data:`CLAIM_MAX_BYTES` (:meth:`_read_claim_body`)."""

        def run() -> tuple[bytes, str, str]:
            response = self._client.get_object(bucket, key)
            try:
                if bucket == self.claims_bucket and key.startswith(_CLAIMS_PREFIX):
                    data = self._read_claim_body(response, key)
                else:
                    data = response.read()
                etag = (response.headers.get("ETag") or "").strip('"')
                return data, etag, response.headers.get("x-amz-version-id") or ""
            finally:
                response.close()
                response.release_conn()

        return self._call(run, key)

    def _read_claim_body(self, response: urllib3.BaseHTTPResponse, name: str) -> bytes:
        """A claim's body, at most :data:`CLAIM_MAX_BYTES`; a longer one is refused with
        :class:`FormatInvalid` naming it (the rest is never read: the connection is dropped)."""
        data = response.read(CLAIM_MAX_BYTES + 1)
        if len(data) > CLAIM_MAX_BYTES:
            key = name[len(_CLAIMS_PREFIX) :]
            raise FormatInvalid(
                f"Yêu cầu giữ chỗ “{key}” ở bucket {self.claims_bucket} lớn hơn"
                f" {CLAIM_MAX_BYTES // 1024} KiB: Kho không ghi yêu cầu giữ chỗ nào lớn như vậy, không"
                " đọc nó. Người quản trị cần xem và xóa đối tượng này.",
                kind=formats.S3_CLAIM.name,
                key=key,
                bucket=self.claims_bucket,
                limit=CLAIM_MAX_BYTES,
            )
        return data

    def _read_pointer(self, key: str) -> tuple[bytes, str]:
        """A pointer's bytes and tag: ``"p <etag>"`` (``"p! <etag>"`` pending) from the
        companion bucket, one GET; while it has none, ``"d <etag> <version id>"`` from the data
        bucket (a store written before pointers moved), one GET more. The data bucket's
        :func:`moved_marker` there: the companion bucket is read once more (a move writes its
        copy before its marker, so a move that landed between our two GETs left the copy
        there), and only if it still has none the pointer is missing: :class:`NotFound`.
        Reads never write (nor create the companion bucket: one missing holds no copy)."""
        found = self._companion_copy(key)
        if found is not None:
            return found
        raw, etag, version_id = self._fetch(self.bucket, key)
        if is_moved_marker(raw):
            found = self._companion_copy(key)  # moved between the two GETs (r17)
            if found is not None:
                return found
            raise NotFound(
                f"Không tìm thấy đối tượng {key}: nó đã được chuyển sang bucket {self.claims_bucket}"
                " và không còn ở đó.",
                key=key,
                bucket=self.claims_bucket,
            )
        return raw, f"d {etag} {version_id}"

    def _companion_get(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and ETag of ``name`` in the companion bucket (one GET), ``None`` if it has
        none there. The companion bucket removed (by hand, or a cleanup that left a locked data
        bucket) holds nothing: read as one missing, so the marker rule still holds."""
        try:
            raw, etag, _ = self._fetch(self.claims_bucket, name)
        except NotFound:
            return None
        except StoreUnavailable as exc:
            if exc.details.get("s3_code") != "NoSuchBucket":
                raise
            return None
        return raw, etag

    def _companion_copy(self, key: str) -> tuple[bytes, str] | None:
        """The pointer's bytes and tag from the companion bucket (one GET), ``None`` if it has
        none there."""
        found = self._companion_get(_POINTERS_PREFIX + key)
        if found is None:
            return None
        raw, etag = found
        data, pending = pointer_from_envelope(raw)
        return data, f"{'p!' if pending else 'p'} {etag}"

    def _put_pointer(self, key: str, data: bytes, condition: dict[str, str], *, pending: bool) -> str | None:
        """One PUT of ``data``'s envelope into the companion bucket under ``condition``: its
        ETag, or ``None`` if the condition failed (nothing written)."""
        try:
            response = self._put_raw(
                self.claims_bucket, _POINTERS_PREFIX + key, pointer_envelope(data, pending=pending), condition
            )
        except S3Error as exc:
            if condition and _condition_failed(exc):
                if _server_fault(exc) and not self._pointer_changed(key, condition):
                    self._fail(exc, key)  # no other write won: a fault, not a lost race (r17)
                return None
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)
        return (response.headers.get("ETag") or "").strip('"')

    def _pointer_changed(self, key: str, condition: dict[str, str]) -> bool:
        """Whether the companion copy of ``key`` no longer meets ``condition`` (one GET): after
        RGW's ``500 UnknownError`` on a conditional PUT, a race was lost only if another write
        landed (every write has its own ETag); the same ETag (or still none, for ``If-None-Match:
        *``) is a server fault that must not be taken for a conflict, nor make the caller fall
        back to a PUT without condition."""
        found = self._companion_copy(key)
        if "If-None-Match" in condition:
            return found is not None
        return found is None or found[1].split(" ", 1)[1] != condition.get("If-Match")

    def _mark_moved(self, key: str, *, known: bytes | None = None) -> None:
        """Leave :func:`moved_marker` under ``key`` in the data bucket unless it is there
        (``known``: the data bucket's bytes as just read, saving the GET)."""
        if known is None:
            try:
                known, _, _ = self._fetch(self.bucket, key)
            except NotFound:
                known = b""
        if not is_moved_marker(known):
            self._call(lambda: self._put_raw(self.bucket, key, moved_marker(self.claims_bucket, key)), key)

    def _conflict(self, key: str) -> Conflict:
        return Conflict(f"Đối tượng {key} đã được ghi lại hoặc bị xóa trong lúc cập nhật.", key=key)

    def _pointer_info(self, key: str) -> ObjectInfo:
        data, _ = self._read_pointer(key)
        return ObjectInfo(key=key, size=len(data), version_id=None)

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The bytes and a tag of the version read (one GET). A pointer: see
        :meth:`_read_pointer`. Another key: ``"<ETag> <version id>"`` from the data bucket
        (nothing replaces it conditionally)."""
        check_key(key)
        if key in POINTERS:
            return self._read_pointer(key)
        data, etag, version_id = self._fetch(self.bucket, key)
        return data, f"{etag} {version_id}"

    def put_if_match(self, key: str, data: bytes, tag: str) -> ObjectInfo:
        """Replace the pointer ``key`` only while it is the version of ``tag``
        (:meth:`get_tagged`), else :class:`Conflict`, nothing written:

        - ``ABSENT``: one PUT ``If-None-Match: *`` (created only while there is none);
        - read from the companion bucket: one PUT ``If-Match: <ETag>`` (every write has its own
          ETag: :func:`pointer_envelope`); a pending copy first makes sure the data bucket's
          marker is there;
        - read from the data bucket (a store written before pointers moved): the move, once per
          store: the data bucket read again (it has no condition) and compared, the copy
          created ``If-None-Match: *`` (pending), the marker left in the data bucket, the copy
          replaced not pending.

        Only pointers (:data:`POINTERS`) are replaced conditionally."""
        check_key(key)
        if key not in POINTERS:
            raise ValueError(f"{key} is not a pointer: only pointers are replaced conditionally on S3")
        self._ensure_claims_bucket()
        if tag == ABSENT:
            if self._put_pointer(key, data, {"If-None-Match": "*"}, pending=False) is None:
                raise self._conflict(key)
            return ObjectInfo(key=key, size=len(data), version_id=None)
        place, _, rest = tag.partition(" ")
        if place == "d":
            try:
                raw, etag, version_id = self._fetch(self.bucket, key)
            except NotFound:
                raise self._conflict(key) from None
            if f"{etag} {version_id}" != rest:
                raise self._conflict(key)
            moved = self._put_pointer(key, data, {"If-None-Match": "*"}, pending=True)
            if moved is None:
                raise self._conflict(key)  # moved (or written) by another process meanwhile
            self._mark_moved(key, known=raw)
            self._put_pointer(key, data, {"If-Match": moved}, pending=False)  # (lost: another write)
            return ObjectInfo(key=key, size=len(data), version_id=None)
        if place not in ("p", "p!"):
            raise self._conflict(key)  # a tag of no pointer read: nothing it could match
        if place == "p!":
            self._mark_moved(key)
        if self._put_pointer(key, data, {"If-Match": rest}, pending=False) is None:
            raise self._conflict(key)
        return ObjectInfo(key=key, size=len(data), version_id=None)

    # -- duplicate guards: the claim is the guard (m43) ------------------------------------------
    def _writes_guard(self, key: str) -> bool:
        """Is ``key`` a guard written as its claim (:data:`GUARD_PREFIXES`, claims mode)?"""
        return key.startswith(GUARD_PREFIXES) and not self._create_conditionally()

    def _reads_guard(self, key: str) -> bool:
        """Does a read of ``key`` look in the companion bucket first? Every guard key unless the
        store is known to create conditionally (there guards stay in the data bucket); a store
        whose mode no write has asked yet (opened without ``create_bucket``) looks there too:
        reads never probe, as they never write."""
        return key.startswith(GUARD_PREFIXES) and self._conditional is not True

    def _guard_read(self, key: str) -> tuple[bytes, str] | None:
        """The guard ``key`` as its claim carries it: its bytes and the claim's ETag (one GET of
        the companion bucket). None when the companion bucket holds no guard there: no claim (nor
        companion bucket), or a claim of version 0 (a store written before m43, or a create of
        that layout: the guard, if any, is in the data bucket)."""
        found = self._companion_get(_CLAIMS_PREFIX + key)
        if found is None:
            return None
        raw, etag = found
        try:
            data = guard_from_claim(raw)
        except (FormatInvalid, FormatUnsupported) as exc:
            # Name the object: a claim someone wrote by hand in the companion bucket refuses
            # every create of its file and every backup of the store (review rv51), and the
            # operator has to find it to remove it.
            raise type(exc)(
                f"Khóa chống trùng “{key}” (bucket {self.claims_bucket}): {exc.message}",
                **{**exc.details, "key": key, "bucket": self.claims_bucket},
            ) from exc
        return None if data is None else (data, etag)

    def _create_guard(self, key: str, data: bytes) -> ObjectInfo:
        """``put_if_absent`` of a guard in the claims mode: one ``If-None-Match: *`` PUT of its
        claim carrying it (:func:`guard_claim`). Refused: the claim is read (one GET); one that
        carries its guard answers this thread's next :meth:`get_after_conflict` of the key. A
        claim of version 0 is an earlier layout's (a store written before m43): its guard is
        read in the data bucket, and a dead writer's claim without one is taken over as any
        claim (:meth:`_stale_claim_etag`), by a claim carrying this guard (``If-Match``)."""
        self._landed.pop(threading.get_ident(), None)
        ckey = _CLAIMS_PREFIX + key
        if self._earlier_guards():
            # A guard of the earlier layout with no claim over it (a companion bucket emptied by
            # hand, a store moved from a server that creates conditionally, one written before
            # m43): the claim's If-None-Match alone would be won over it and a second record of
            # the same file or số/ký hiệu stored (review rv51, open 9). One GET a guard, only on
            # a store that holds such guards; `kho store migrate-guards` moves them into claims.
            earlier = self._data_bucket_copy(key)
            if earlier is not None:
                found = self._guard_read(key)  # (a claim carrying a guard is read first, as get)
                self._landed[threading.get_ident()] = (key, earlier if found is None else found[0])
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
        writer = uuid.uuid4().hex
        taken = self._new_claim(key, guard_claim(data, writer))
        if taken is None:
            return ObjectInfo(key=key, size=len(data), version_id=None)
        found = self._guard_read(key)
        # (none: an earlier layout's guard is in the data bucket, or the claim was withdrawn)
        found_data = self._data_bucket_copy(key) if found is None else found[0]
        if found_data is not None:
            self._landed[threading.get_ident()] = (key, found_data)
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from taken
        stale_etag = self._call(lambda: self._stale_claim_etag(key), key)
        if stale_etag is None:
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from taken
        try:
            self._put_raw(self.claims_bucket, ckey, guard_claim(data, writer), {"If-Match": stale_etag})
        except S3Error as exc:
            if exc.code in ("PreconditionFailed", "NoSuchKey"):
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from exc
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)
        # (A slow writer of the earlier layout whose data lands now finds its claim no longer
        # its own and withdraws it, :meth:`_still_mine`; readers read this claim first anyway.)
        return ObjectInfo(key=key, size=len(data), version_id=None)

    def _earlier_guards(self) -> bool:
        """Does the data bucket hold any guard of the layout before m43 (under
        :data:`GUARD_PREFIXES`)? Learned once a store object (two listings of at most one key,
        at its first guard create) and then kept: Kho since m43 writes no guard there on a
        claims-mode store, so a store found without one stays without (only a Kho before m43
        writing the same store at once could add one, which m43's notes already rule out)."""
        if self._earlier is None:

            def run() -> bool:
                for prefix in GUARD_PREFIXES:
                    # (minio's public list_objects asks for pages of 1,000 keys; one is enough)
                    for _ in self._client._list_objects(self.bucket, prefix=prefix, max_keys=1):
                        return True
                return False

            self._earlier = self._call(run)
        return self._earlier

    def move_earlier_guards(self) -> tuple[int, tuple[str, ...]]:
        """Move every duplicate guard of the layout before m43 (in the data bucket, under
        :data:`GUARD_PREFIXES`) into its claim (version 1, :func:`guard_claim`), then remove its
        data-bucket copy (every version): the read of :meth:`_create_guard` is then no longer
        needed (review rv53). Returns how many were moved and the keys left for a person: a
        claim already carrying *another* guard (the two layouts name different records; both
        kept), or a claim that changed under the move. A conditional store (guards stay in the
        data bucket) moves nothing. The claim is written before the copy is removed, so at every
        moment one of them guards the key; run while writers of the same store run."""
        if self._create_conditionally():
            return 0, ()
        moved, kept = 0, []
        for prefix in GUARD_PREFIXES:
            for key in [info.key for info in self._list_data(prefix, None)]:
                data = self._data_bucket_copy(key)
                if data is None:
                    continue  # removed meanwhile (taken over, released)
                ckey = _CLAIMS_PREFIX + key
                found = self._companion_get(ckey)
                if found is None and self._new_claim(key, guard_claim(data, uuid.uuid4().hex)) is not None:
                    found = self._companion_get(ckey)  # a claim landed meanwhile: judged below
                if found is not None:
                    raw, etag = found
                    try:
                        carried = guard_from_claim(raw)
                    except (FormatInvalid, FormatUnsupported):
                        kept.append(key)  # (named by fsck's format check)
                        continue
                    if carried is None:  # the writer's stamp of the earlier layout: carry the guard
                        try:
                            self._put_raw(
                                self.claims_bucket,
                                ckey,
                                guard_claim(data, uuid.uuid4().hex),
                                {"If-Match": etag},
                            )
                        except S3Error as exc:
                            if exc.code not in ("PreconditionFailed", "NoSuchKey"):
                                self._fail(exc, key)
                            kept.append(key)
                            continue
                        except (MinioException, Urllib3Error, OSError) as exc:
                            self._fail(exc, key)
                    elif carried != data:
                        kept.append(key)
                        continue
                for version_id, _, _ in self._call(lambda k=key: self._versions(k), key):
                    self._call(
                        lambda k=key, v=version_id: self._client.remove_object(self.bucket, k, version_id=v),
                        key,
                    )
                moved += 1
        self._earlier = None  # (learned again at the next guard create)
        return moved, tuple(kept)

    def _data_bucket_copy(self, key: str) -> bytes | None:
        """The current bytes of ``key`` in the data bucket alone, None if it has none (one GET)."""
        try:
            return self._fetch(self.bucket, key)[0]
        except NotFound:
            return None

    def _list_guards(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        """The keys of the claims under ``prefix`` that may carry a guard (only those under
        :data:`GUARD_PREFIXES`), in key order, without reading them (the caller does)."""
        if self._conditional is True:
            return
        for guard_prefix in GUARD_PREFIXES:
            if not (guard_prefix.startswith(prefix) or prefix.startswith(guard_prefix)):
                continue
            under = _CLAIMS_PREFIX + max(prefix, guard_prefix, key=len)
            after = _CLAIMS_PREFIX + start_after if start_after else None
            objects = self._client.list_objects(
                self.claims_bucket, prefix=under, recursive=True, start_after=after
            )
            while True:
                try:
                    obj = next(objects)
                except StopIteration:
                    break
                except S3Error as exc:
                    if exc.code == "NoSuchBucket":
                        break
                    self._fail(exc)
                except (MinioException, Urllib3Error, OSError) as exc:
                    self._fail(exc)
                name = (obj.object_name or "")[len(_CLAIMS_PREFIX) :]
                if not obj.is_dir and (start_after is None or name > start_after):
                    yield ObjectInfo(key=name, size=obj.size or 0, version_id=None)

    def _with_guards(
        self, data: Iterator[ObjectInfo], prefix: str, start_after: str | None
    ) -> Iterator[ObjectInfo]:
        """The data bucket's listing ``data`` with the guards kept as claims merged in, in key
        order. A claim whose key the data bucket lists too is that key once (a store written
        before m43: its claim and its guard); one alone is read (one GET) and listed only if it
        carries its guard (a claim of version 0 without data is a dead writer's, no object) or
        is of a format this code cannot read (listed: reading it is refused with its code)."""
        claims = self._list_guards(prefix, start_after)
        tagged = heapq.merge(
            ((info.key, 0, info) for info in data), ((info.key, 1, info) for info in claims)
        )
        last: str | None = None
        for key, source, info in tagged:
            if key == last:
                continue
            if source == 1:
                try:
                    found = self._guard_read(key)
                except (FormatUnsupported, FormatInvalid):
                    found = None  # listed: its reader refuses it with its code (fsck reports it)
                else:
                    if found is None:
                        continue
                if found is not None:
                    info = ObjectInfo(key=key, size=len(found[0]), version_id=None)
            last = key
            yield info

    # -- writes ------------------------------------------------------------------------------
    def _put_raw(
        self, bucket: str, key: str, data: bytes, headers: dict[str, str] | None = None
    ) -> urllib3.BaseHTTPResponse:
        # One PUT whatever the size: atomic on every S3 server (no multipart left-overs).
        return self._client._execute("PUT", bucket, key, body=data, headers=dict(headers or {}))

    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        check_key(key)
        check_created(key)
        return self._create(key, data)

    def put_again(self, key: str, data: bytes) -> bool:
        """:meth:`ObjectStore.put_again`. Where creates are conditional, and for a key whose
        writers claim it, the create (``If-None-Match: *``, or the claim) finds the other
        writer's object. In the claims mode a key of a replaced-only family (the ingest jobs)
        is written by replaces that send no claim (m56), so nothing in the companion bucket can
        tell of one: its data is PUT and then its versions listed. Another version holding other
        bytes is another writer's, landed since the delete (the delete removed every older one),
        before or after this PUT: this PUT's version is removed by its id, so the other writer's
        object is current again whichever landed last, and the answer is False. A version with
        the same bytes (another run of the same rewrite) is no other writer's. A ``put`` that
        lands after the listing is newer than this write and replaces it. One PUT and one LIST
        where nothing else wrote the key."""
        check_key(key)
        if replaced_only(key) is None:  # (through put_if_absent: a wrapper of it sees the write)
            return super().put_again(key, data)
        if self._create_conditionally():
            try:
                self._create(key, data)
            except AlreadyExists:
                return False
            return True
        response = self._call(lambda: self._put_raw(self.bucket, key, data), key)
        mine = response.headers.get("x-amz-version-id")
        others = [v for v in self.list_versions(key) if v.version_id != mine]
        if mine is None or all(self.get(key, v.version_id) == data for v in others):
            return True  # (no version id: a bucket without versions keeps the last PUT alone)
        self._call(
            lambda: self._client.remove_object(self.bucket, key, version_id=mine), key, locked=True
        )
        return False

    def _create(self, key: str, data: bytes) -> ObjectInfo:
        if key in POINTERS:
            return self._create_pointer(key, data)
        if self._create_conditionally():
            try:
                response = self._put_raw(self.bucket, key, data, {"If-None-Match": "*"})
            except S3Error as exc:
                if exc.code == "PreconditionFailed":
                    raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from exc
                self._fail(exc, key)
            except (MinioException, Urllib3Error, OSError) as exc:
                self._fail(exc, key)
        elif key.startswith(GUARD_PREFIXES):
            return self._create_guard(key, data)
        else:
            mine = self._taken_ahead(key)
            if mine is None:
                sent = time.monotonic()
                mine = (self._claim(key), sent)
                then = self._then.pop((threading.get_ident(), key), None)
                if then is not None:
                    try:
                        then()  # (the caller's next step, beside this data PUT)
                    except BaseException:
                        # What the data waits for failed (m50: the record's marker and key):
                        # nothing of it was sent, the key is free again.
                        self._release_claim(key)
                        raise
            try:
                response = self._put_raw(self.bucket, key, data)
            except MinioException as exc:
                # The server answered with an error: nothing was written, free the key.
                self._release_claim(key)
                self._fail(exc, key)
            except (Urllib3Error, OSError) as exc:
                # The answer was lost: the data may be stored. The claim stays; a later
                # writer takes it over after claim_timeout_s only if the data is absent (a
                # dead writer's younger claim sooner, see DEAD_WRITER_SETTLE_S).
                self._fail(exc, key)
            if not self._still_mine(key, mine):
                self._withdraw_overwrite(key, response.headers.get("x-amz-version-id"))
        return ObjectInfo(key=key, size=len(data), version_id=response.headers.get("x-amz-version-id"))

    def claim_ahead(self, key: str) -> bool:
        """In the claims mode, the claim of :meth:`put_if_absent` made now (step 1 of the module
        docstring, the same request, a stale claim taken over as there); the create of ``key``
        by this object then sends the data only. Else (conditional creates, pointers) False:
        nothing to take apart."""
        check_key(key)
        check_created(key)
        if key in POINTERS or self._create_conditionally() or key.startswith(GUARD_PREFIXES):
            return False
        sent = time.monotonic()
        writer = self._claim(key)
        with self._ahead_lock:
            self._ahead[key] = (writer, sent)
        return True

    def when_claimed(self, key: str, then: Callable[[], None] | None) -> None:
        """(Per thread: another thread's create of the same key, e.g. another ``Repository`` on
        this store object, never calls it.)"""
        if then is None:
            self._then.pop((threading.get_ident(), key), None)
        else:
            self._then[(threading.get_ident(), key)] = then

    def _taken_ahead(self, key: str) -> tuple[str, float] | None:
        with self._ahead_lock:
            return self._ahead.pop(key, None)

    def release_ahead(self, key: str) -> None:
        """Withdraw the claim :meth:`claim_ahead` made on ``key`` if no create used it (one
        DELETE in the companion bucket, as a failed data PUT withdraws its claim); a claim
        another writer took over meanwhile (:meth:`_still_mine`) is theirs, left alone."""
        mine = self._taken_ahead(key)
        if mine is not None and self._still_mine(key, mine):
            self._release_claim(key)

    def _still_mine(self, key: str, mine: tuple[str, float]) -> bool:
        """Is the claim on ``key`` still this writer's (``mine``: its writer id and when it was
        sent)? Review rv47: a live writer paused between its claim and its data PUT (SIGSTOP, a
        suspended machine) for ``claim_timeout_s`` has its claim taken over as a dead writer's;
        resumed, its plain data PUT replaced the other writer's object (a register number given
        to two documents, an audit event replaced). A takeover needs the claim to be
        ``claim_timeout_s`` old by the server's clock and the data absent, so a claim whose data
        PUT answered within half of that (this host's clock; the margin covers clock rates) was
        never taken over before its data landed, nor after (the data is there): no request.
        Otherwise one GET of the claim: this writer's id, or none left (withdrawn by a taker whose
        data PUT failed: the data here is the only one), is mine. Unreadable: mine (the check
        cannot be made; the state is as before rv47)."""
        writer, sent = mine
        if time.monotonic() - sent < self.claim_timeout_s / 2:
            return True
        try:
            raw, _, _ = self._claim_read(key)
        except NotFound:
            return True
        except (MinioException, Urllib3Error, OSError):
            return True
        try:
            body = json.loads(raw)
        except ValueError:
            return True
        return not isinstance(body, dict) or body.get("writer") == writer

    def _withdraw_overwrite(self, key: str, version_id: str | None) -> NoReturn:
        """This writer's data PUT landed on ``key`` after another writer took its claim over
        (:meth:`_still_mine`): its version is removed (the versioned data bucket: the taker's
        object is current again, whichever PUT came last) and the create is refused as one that
        met another writer (``AlreadyExists``: the register takes the next number, the audit log
        reads the event there). Without a version id nothing can be undone; refused the same."""
        if version_id is not None:
            try:
                self._client.remove_object(self.bucket, key, version_id=version_id)
            except (MinioException, Urllib3Error, OSError) as exc:
                self._fail(exc, key)
        raise AlreadyExists(
            f"Đối tượng {key} đã được một lượt ghi khác tạo trong lúc lượt ghi này bị dừng.", key=key
        )

    def put_new(self, key: str, data: bytes) -> ObjectInfo:
        """One PUT: on a key no other writer can produce, a claim guards against nothing."""
        check_key(key)
        check_created(key)
        if key in POINTERS:  # (never written so; kept where it is read, as put_if_absent)
            return self._create_pointer(key, data)
        if self._create_conditionally():
            return self.put_if_absent(key, data)
        response = self._call(lambda: self._put_raw(self.bucket, key, data), key)
        return ObjectInfo(key=key, size=len(data), version_id=response.headers.get("x-amz-version-id"))

    def discard_new(self, made: ObjectInfo) -> None:
        """One DELETE of the version ``made`` names: :meth:`put_new` leaves no claim in the
        companion bucket (one PUT, or one ``If-None-Match: *`` PUT), so nothing is left there
        either. Without a version id (an unversioned bucket), :meth:`delete`. A version under
        retention or legal hold is refused by the server (``RetentionLocked``), as by
        :meth:`delete`."""
        check_key(made.key)
        version_id = made.version_id
        if version_id is None or made.key in POINTERS:
            self.delete(made.key)
            return
        self._call(
            lambda: self._client.remove_object(self.bucket, made.key, version_id=version_id),
            made.key,
            locked=True,
        )

    def _claim_body(self, writer: str | None = None) -> bytes:
        return json.dumps(
            {"writer": writer or uuid.uuid4().hex, "pid": os.getpid(), "host": this_host(), "at": time.time()}
        ).encode()

    def _landed_data(self, key: str) -> bytes | None:
        """The current bytes of ``key`` in the data bucket, None if it has none (one GET)."""
        try:
            return self.get(key)
        except NotFound:
            return None

    def get_after_conflict(self, key: str, timeout_s: float = 10.0) -> bytes:
        """As :meth:`ObjectStore.get_after_conflict`; where this thread's create of ``key`` has
        just found it taken and read its data (:meth:`_claim`), those bytes, with no request."""
        known = self._landed.pop(threading.get_ident(), None)
        if known is not None and known[0] == key:
            return known[1]
        return super().get_after_conflict(key, timeout_s)

    def _new_claim(self, key: str, body: bytes) -> S3Error | None:
        """One ``If-None-Match: *`` PUT of ``key``'s claim: None when this writer has it, the
        gateway's refusal when another writer's claim is there (any other failure raises)."""
        try:
            self._put_raw(self.claims_bucket, _CLAIMS_PREFIX + key, body, {"If-None-Match": "*"})
            return None
        except S3Error as exc:
            if exc.code != "PreconditionFailed":
                self._fail(exc, key)
            return exc
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)

    def _claim(self, key: str) -> str:
        """Win the right to create ``key`` (claims mode) or raise ``AlreadyExists``; the writer id
        the claim names (:meth:`_still_mine`)."""
        self._landed.pop(threading.get_ident(), None)  # (only the latest create's find answers)
        ckey = _CLAIMS_PREFIX + key
        writer = uuid.uuid4().hex
        taken = self._new_claim(key, self._claim_body(writer))
        if taken is None:
            return writer
        # Taken. Its data is read first (m40): where it has landed (nearly always: the winner
        # sends it right after its claim) the key is taken whatever the claim says (a claim
        # with its data is never stale), and those bytes are the answer of this thread's next
        # ``get_after_conflict`` of the key, which every caller that meets a taken key and
        # moves past it makes (a register number, an audit number, a guard): one GET where
        # the claim's GET and then the data's were two. Only a key without data has its claim
        # read for its age and writer, as before.
        landed = self._landed_data(key)
        if landed is not None:
            self._landed[threading.get_ident()] = (key, landed)
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from taken
        # A claim without data, older than the timeout, was left by a dead writer.
        stale_etag = self._call(lambda: self._stale_claim_etag(key), key)
        if stale_etag is None:
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from taken
        try:
            self._put_raw(self.claims_bucket, ckey, self._claim_body(writer), {"If-Match": stale_etag})
        except S3Error as exc:
            if exc.code in ("PreconditionFailed", "NoSuchKey"):
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from exc
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)
        # Review rv47: the writer taken for dead may be alive and slow; its data may have landed
        # after the look above and before this takeover (it then found its claim still its own,
        # :meth:`_still_mine`). Looked at again now that the claim is this writer's.
        if self.exists(key):
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
        return writer

    def _stale_claim_etag(self, key: str) -> str | None:
        """The ETag of the claim on ``key`` when a dead writer left it without data (the caller
        takes it over with ``If-Match``), else None: taken (or the claim withdrawn meanwhile:
        the caller retries).

        The claim is read first, body and all, in one GET: a claim younger than the client's
        read timeout (and than ``claim_timeout_s``) whose writer is not known to be dead is
        taken whether or not its data has landed yet, so that one request answers — the common
        case, another writer's create just done or under way. Earlier the data was asked first
        (HEAD), then, while another writer's PUT was still under way, the claim (HEAD) and its
        body (GET): three requests where one tells the same. Only a claim that may be stale
        costs the look at the data. (Since m40 :meth:`_claim` has read the data first and
        calls this only when it was absent: the look at the data here is for data that
        landed meanwhile.)"""
        try:
            raw, etag, age = self._claim_read(key)
        except NotFound:
            return None  # withdrawn meanwhile: let the caller retry
        if age < self.claim_timeout_s and (age >= self._read_timeout_s or not self._writer_gone_in(raw)):
            # (older than a request may take: its writer may have lost the answer of a data PUT
            # the server is still storing, then exited; only claim_timeout_s frees it)
            return None
        try:
            self._client.stat_object(self.bucket, key)
            return None  # the data is there
        except S3Error as exc:
            if exc.code not in _NOT_FOUND_CODES:
                raise
        if age >= self.claim_timeout_s:
            return etag
        # Its writer was killed: nothing more can come from it once the PUT it had sent has
        # landed, which the server does within DEAD_WRITER_SETTLE_S of the claim.
        time.sleep(max(0.0, DEAD_WRITER_SETTLE_S - age))
        if self.exists(key):
            return None
        try:
            again = self._client.stat_object(self.claims_bucket, _CLAIMS_PREFIX + key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES:
                return None
            raise
        return etag if again.etag is not None and again.etag.strip('"') == etag else None

    def _claim_read(self, key: str) -> tuple[bytes, str, float]:
        """The claim on ``key``: its body, ETag (unquoted) and age in seconds, one GET;
        :class:`NotFound` if absent. S3 errors other than absence are raised as they are (the
        caller runs under :meth:`_call`).

        The age is told by the server's clock alone: its ``Date`` on this answer minus the
        claim's ``Last-Modified`` (review rv43: this host's clock minus ``Last-Modified`` made a
        live writer's fresh claim look stale on a host whose clock runs ahead of the server's
        by more than ``claim_timeout_s``, and that host wrote over the number the writer was
        writing). Without ``Date``, this host's clock; without ``Last-Modified``, age 0: taken
        for just written, so never taken over on a guess."""
        try:
            response = self._client.get_object(self.claims_bucket, _CLAIMS_PREFIX + key)
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES:
                raise NotFound(f"Không có yêu cầu giữ chỗ cho {key}.", key=key) from exc
            raise
        try:
            raw = self._read_claim_body(response, _CLAIMS_PREFIX + key)
            etag = (response.headers.get("ETag") or "").strip('"')
            stamp = response.headers.get("Last-Modified")
            said = response.headers.get("Date")
        finally:
            response.close()
            response.release_conn()
        return raw, etag, claim_age(said, stamp, datetime.now(UTC))

    @staticmethod
    def _writer_gone_in(raw: bytes) -> bool:
        """Does the claim body ``raw`` name a writer process of this machine that is gone?"""
        try:
            body = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(body, dict):
            return False
        return writer_gone(body.get("pid"), body.get("host"), here=this_host(), alive=process_alive)

    def _release_claim(self, key: str) -> None:
        try:
            self._client.remove_object(self.claims_bucket, _CLAIMS_PREFIX + key)
        except (MinioException, Urllib3Error, OSError):
            pass  # left for the takeover after claim_timeout_s

    def _create_pointer(self, key: str, data: bytes) -> ObjectInfo:
        """``put_if_absent`` of a pointer (a restore into an empty store): refused while one is
        in the companion bucket or, not moved yet, in the data bucket; the copy is pending
        until the marker is left in the data bucket."""
        self._ensure_claims_bucket()
        try:
            below, _, _ = self._fetch(self.bucket, key)
        except NotFound:
            below = b""
        if below and not is_moved_marker(below):
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
        if self._put_pointer(key, data, {"If-None-Match": "*"}, pending=True) is None:
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
        self._mark_moved(key, known=below)
        return ObjectInfo(key=key, size=len(data), version_id=None)

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Replace ``key``. A pointer (:data:`POINTERS`): written to the companion bucket
        (pending), then the data bucket's marker made sure of; its earlier versions are not
        kept (nothing reads them: ``bench/NOTES-s2.md``).

        In the claims mode the data is sent after a claim of ``key`` (written whatever claim is
        there): what a later :meth:`put_if_absent` of the key finds taken, as ``If-None-Match``
        finds the data on a conditional store (a job re-created by ``kho ingest scrub`` after a
        pipeline replaced it before m56: ``replace_every_version``, r29). A key never created
        conditionally (:func:`~repository.storage.base.replaced_only`: derived objects, m53;
        ingest jobs, m56, written again by :meth:`put_again`) has nothing to be found by: its
        replace is the data PUT alone."""
        check_key(key)
        if key in POINTERS:
            self._ensure_claims_bucket()
            self._put_pointer(key, data, {}, pending=True)
            self._mark_moved(key)
            return ObjectInfo(key=key, size=len(data), version_id=None)
        if self._writes_guard(key):  # its claim carries it (m43); readers read that first
            claim = guard_claim(data, uuid.uuid4().hex)
            self._call(lambda: self._put_raw(self.claims_bucket, _CLAIMS_PREFIX + key, claim), key)
            return ObjectInfo(key=key, size=len(data), version_id=None)
        if self.object_lock:  # without object lock nothing can refuse the write: no HEAD
            self._check_not_locked(key, self._current_version(key))
        # (_create_conditionally first: the companion bucket is checked before any first write)
        if not self._create_conditionally() and replaced_only(key) is None:
            self._call(
                lambda: self._put_raw(self.claims_bucket, _CLAIMS_PREFIX + key, self._claim_body()),
                key,
            )
        response = self._call(lambda: self._put_raw(self.bucket, key, data), key)
        return ObjectInfo(key=key, size=len(data), version_id=response.headers.get("x-amz-version-id"))

    # -- reads -------------------------------------------------------------------------------
    def get_listed(self, info: ObjectInfo) -> bytes:
        """:meth:`get` of a key this store's :meth:`list` gave, without the GET when the listing's
        ETag is the MD5 of bytes this store object read of the key before (:attr:`_listed`, s26:
        every request read the same account version, unit versions and notifications again). The
        listing is the caller's, made for this read: any write since the bytes were kept (a new
        version of the key, by any process) gives the key another ETag, and it is read again. An
        MD5 equal for other bytes would take a second preimage. Pointers, guards, objects larger
        than :data:`LISTED_MAX_BYTES` and listings without an ETag are read as :meth:`get`."""
        key, etag = info.key, info.etag
        if etag is None or key in POINTERS or key.startswith(GUARD_PREFIXES) or info.size > LISTED_MAX_BYTES:
            return self.get(key)
        kept = self._listed.get(key)
        if kept is not None and kept[0] == etag:
            return kept[1]
        data = self.get(key)
        # Kept only when the bytes read are those the listing named: an object replaced between
        # the listing and the GET is not kept under the listing's ETag (nor an ETag that is no
        # MD5: multipart, server-side encryption).
        if hashlib.md5(data, usedforsecurity=False).hexdigest() == etag:
            if len(self._listed) >= LISTED_KEPT:
                self._listed.clear()
            self._listed[key] = (etag, data)
        return data

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes of ``key`` (of one of its versions). A pointer lives in the unversioned
        companion bucket: its current bytes only (``version_id`` of it: :class:`NotFound`)."""
        check_key(key)
        if key in POINTERS:
            if version_id is not None:
                raise NotFound(f"Không tìm thấy phiên bản {version_id} của đối tượng {key}.", key=key)
            return self._read_pointer(key)[0]
        if version_id is None and self._reads_guard(key):
            found = self._guard_read(key)
            if found is not None:
                return found[0]

        def run() -> bytes:
            response = self._client.get_object(self.bucket, key, version_id=version_id)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return run()
        except S3Error as exc:
            if version_id is not None and exc.code in ("InvalidArgument", "InvalidVersionId"):
                raise NotFound(
                    f"Không tìm thấy phiên bản {version_id} của đối tượng {key}.", key=key
                ) from exc
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        if key in POINTERS:
            return self._pointer_info(key)
        if self._reads_guard(key):
            found = self._guard_read(key)
            if found is not None:
                return ObjectInfo(key=key, size=len(found[0]), version_id=None)
        st = self._call(lambda: self._client.stat_object(self.bucket, key), key)
        return ObjectInfo(key=key, size=st.size or 0, version_id=st.version_id)

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """The data bucket's keys, but a pointer (:data:`POINTERS`) where it is read from (the
        companion bucket, or the data bucket before it moved), listed in its key's place."""
        pointers = []
        for key in sorted(POINTERS):
            if key.startswith(prefix) and (start_after is None or key > start_after):
                try:
                    pointers.append(self._pointer_info(key))
                except NotFound:
                    pass
        for info in self._with_guards(self._list_data(prefix, start_after), prefix, start_after):
            while pointers and pointers[0].key < info.key:
                yield pointers.pop(0)
            if info.key not in POINTERS:
                yield info
        yield from pointers

    def _list_data(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        objects = self._client.list_objects(
            self.bucket, prefix=prefix or None, recursive=True, start_after=start_after
        )
        while True:
            try:
                obj = next(objects)
            except StopIteration:
                return
            except (MinioException, Urllib3Error, OSError) as exc:
                self._fail(exc)
            name = obj.object_name or ""
            if name.startswith(_PROBE_PREFIX) or obj.is_dir:
                continue
            written = obj.last_modified.timestamp() if obj.last_modified is not None else None
            etag = (obj.etag or "").strip('"') or None
            yield ObjectInfo(
                key=name, size=obj.size or 0, version_id=obj.version_id, modified=written, etag=etag
            )

    def _versions(self, key: str) -> list[tuple[str, bool, str]]:
        """``(version_id, is_delete_marker, ETag)`` of ``key`` (the ETag unquoted, as
        :meth:`get_tagged` tags a read): the current one first (``IsLatest``: a version, or a
        delete marker another S3 client's plain delete left), then the others in the listing's
        order. Not the listing's order alone: minio parses a page's versions apart from its
        delete markers and yields the markers after them, so a marker on top came last and the
        newest *version* was taken for the current one (review rv61: ``delete_if_current``
        removed a key deleted since the read, and refused ``ABSENT`` under a marker)."""
        current, rest = [], []
        for obj in self._client.list_objects(self.bucket, prefix=key, include_version=True):
            if obj.object_name == key and obj.version_id is not None:
                entry = (obj.version_id, bool(obj.is_delete_marker), (obj.etag or "").strip('"'))
                (current if (obj.is_latest or "").lower() == "true" else rest).append(entry)
        return current + rest

    def list_versions(self, key: str) -> list[ObjectInfo]:
        check_key(key)
        if key in POINTERS:  # unversioned: the current version only
            try:
                return [self._pointer_info(key)]
            except NotFound:
                return []
        if self._reads_guard(key):
            found = self._guard_read(key)
            if found is not None:  # the claim: unversioned, its current version only
                return [ObjectInfo(key=key, size=len(found[0]), version_id=None)]

        def run() -> list[ObjectInfo]:
            out = []
            for obj in self._client.list_objects(self.bucket, prefix=key, include_version=True):
                if obj.object_name == key and not obj.is_delete_marker:
                    out.append(ObjectInfo(key=key, size=obj.size or 0, version_id=obj.version_id))
            out.reverse()  # S3 lists the newest first
            return out

        return self._call(run, key)

    def check_versions_kept(self) -> None:
        """:meth:`ObjectStore.check_versions_kept`: the data bucket's versioning asked (one
        GET ``?versioning``); anything but ``Enabled`` is refused. A bucket Kho opens with
        ``create_bucket`` is made versioned; one suspended since (an operator, a tool, anyone
        allowed ``PutBucketVersioning``) is found here, not at the next start."""
        status = self._call(lambda: self._client.get_bucket_versioning(self.bucket).status)
        if status != ENABLED:
            raise StoreVersioningOff(
                f"Bucket S3 “{self.bucket}” không giữ mọi phiên bản đối tượng (versioning:"
                f" {status or 'Off'}): mỗi lần ghi thay thế phiên bản “null”, nên không thể viết lại"
                " lượt tiếp nhận mà chắc chắn không xóa nhầm bản của tiến trình khác. Bật lại"
                " versioning (Enabled) cho bucket rồi chạy lại.",
                bucket=self.bucket,
                status=status or "Off",
            )

    def list_hidden(self, prefix: str) -> Iterator[str]:
        """:meth:`ObjectStore.list_hidden`: one listing of every version under ``prefix``
        (``ListObjectVersions``, pages of 1,000 entries), the keys whose latest entry is a delete
        marker and that keep at least one version under it. A key made only of markers holds
        nothing to read: not given."""

        def run() -> list[str]:
            latest_marker: set[str] = set()
            kept: set[str] = set()
            for obj in self._client.list_objects(
                self.bucket, prefix=prefix or None, recursive=True, include_version=True
            ):
                name = obj.object_name or ""
                if name.startswith(_PROBE_PREFIX) or obj.is_dir or name in POINTERS:
                    continue
                if obj.is_delete_marker:
                    if (obj.is_latest or "").lower() == "true":
                        latest_marker.add(name)
                else:
                    kept.add(name)
            return sorted(latest_marker & kept)

        yield from self._call(run)

    def age(self, key: str) -> float:
        """:meth:`ObjectStore.age`: one HEAD; the server's ``Date`` on it against the object's
        ``Last-Modified`` (:func:`claim_age`: whole seconds; this host's clock where the server
        sends no ``Date``)."""
        check_key(key)
        found = self._call(lambda: self._client.stat_object(self.bucket, key), key)
        headers = found.metadata or {}
        return claim_age(headers.get("Date"), headers.get("Last-Modified"), datetime.now(UTC))

    def first_age(self, key: str) -> float:
        """:meth:`ObjectStore.first_age`: :meth:`age` (one HEAD: the server's ``Date``) plus how
        much older than the current version the oldest version of ``key`` above its newest delete
        marker is (one versions LIST: their ``Last-Modified``, the server's too; versions under a
        marker another client's plain DELETE left belong to an earlier object)."""
        age = self.age(key)

        def run() -> list[tuple[datetime, bool]]:
            return [
                (obj.last_modified, bool(obj.is_delete_marker))
                for obj in self._client.list_objects(self.bucket, prefix=key, include_version=True)
                if obj.object_name == key and obj.last_modified is not None
            ]

        listed = self._call(run, key)
        marker = max((at for at, is_marker in listed if is_marker), default=None)
        stamps = [at for at, is_marker in listed if not is_marker and (marker is None or at > marker)]
        return age + (max(stamps) - min(stamps)).total_seconds() if stamps else age

    def _current_id(self, key: str) -> str | None:
        """The version id of ``key``'s current version (one HEAD of the data bucket): ``null``
        where it is answered without one (versioning suspended or off), None where there is none
        (absent, or a delete marker on top)."""

        def run() -> str | None:
            try:
                return self._client.stat_object(self.bucket, key).version_id or "null"
            except S3Error as exc:
                if exc.code in _NOT_FOUND_CODES:
                    return None
                raise

        return self._call(run, key)

    def _current_version(self, key: str) -> str | None:
        try:
            return self.stat(key).version_id
        except NotFound:
            return None

    # -- delete ------------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """Remove ``key`` (every version). A pointer: removed from the companion bucket, and the
        data bucket's marker made sure of (its older copy there never read again)."""
        check_key(key)
        if key in POINTERS:
            self._ensure_claims_bucket()
            self._call(lambda: self._client.remove_object(self.claims_bucket, _POINTERS_PREFIX + key), key)
            self._mark_moved(key)
            return
        self._remove_versions(key, self._call(lambda: self._versions(key), key))

    def delete_if_current(self, key: str, tag: str) -> bool:
        """:meth:`ObjectStore.delete_if_current`: the key's versions listed; unless the newest
        is the version ``tag`` names (:meth:`get_tagged`: ``"<ETag> <version id>"``; ABSENT:
        none, or a delete marker), False and nothing removed. Else the listed versions are
        removed, the one read last (a reader meanwhile sees it or nothing), then the key's
        claim (claims mode). A PUT landing after the listing is not in it: it stays, current
        (the scrub's :meth:`put_again` then finds it). One LIST more than nothing: the
        :meth:`delete` lists them too (m57)."""
        check_key(key)
        if key in POINTERS:
            raise ValueError(f"{key} is a pointer: it is not deleted conditionally")
        versions = self._call(lambda: self._versions(key), key)
        newest = versions[0] if versions else None
        current = ABSENT if newest is None or newest[1] else f"{newest[2]} {newest[0]}"
        if current != tag:
            return False
        self._remove_versions(key, versions[::-1])
        return True

    def delete_older_version(self, key: str, version_id: str) -> None:
        """:meth:`ObjectStore.delete_older_version`: one DELETE of that version id (no marker
        is made, the current version stays current: the caller listed this one as older). S3
        answers a version already gone with success. A version under retention or legal hold is
        refused by the server (``RetentionLocked``). An empty ``version_id`` is refused
        (``ValueError``): sent, it was a plain DELETE, a delete marker over the current version.

        The current version is asked first (one HEAD) and refused if it is the one named
        (:class:`VersionIsCurrent`, review rv64: the DELETE removed it and the version under it
        became current; the local folder never removed it). A current object answered without a
        version id is the one ``null`` version of a bucket whose versioning is suspended or off.
        A key whose newest entry is a delete marker has no current version: every version under
        it is older. A version listed as older stays older (a PUT only adds newer ones), unless
        every newer one is removed between the HEAD and the DELETE: a removal the caller asked
        for as of its listing."""
        check_key(key)
        if key in POINTERS:
            raise ValueError(f"{key} is a pointer: it keeps no older version")
        if not version_id:  # minio leaves an empty versionId out: a plain DELETE (review rv62)
            raise ValueError(f"{key}: no version id, no older version named")
        if version_id == self._current_id(key):
            raise version_is_current(key, version_id)
        self._call(
            lambda: self._client.remove_object(self.bucket, key, version_id=version_id),
            key,
            locked=True,
        )

    def _remove_versions(self, key: str, versions: list[tuple[str, bool, str]]) -> None:
        """Remove the listed ``versions`` of ``key`` in their order (:meth:`_versions`), then
        its claim in the claims mode. Every version is checked first: a refusal (retention,
        legal hold) comes before anything is removed."""
        for version_id, marker, _ in versions:
            if not marker:
                self._check_not_locked(key, version_id)
        for version_id, _, _ in versions:
            self._call(
                lambda v=version_id: self._client.remove_object(self.bucket, key, version_id=v),
                key,
                locked=True,
            )
        if not self._create_conditionally():
            self._call(lambda: self._client.remove_object(self.claims_bucket, _CLAIMS_PREFIX + key), key)

    def _check_not_locked(self, key: str, version_id: str | None) -> None:
        if not self.object_lock or version_id is None:
            return
        if self._legal_hold(key, version_id):
            raise RetentionLocked(f"Đối tượng {key} đang bị phong tỏa (legal hold).", key=key)
        retention = self._retention(key, version_id)
        if retention is not None and retention.until > datetime.now(UTC):
            raise RetentionLocked(
                f"Đối tượng {key} đang trong thời hạn lưu giữ bắt buộc đến {retention.until.isoformat()}.",
                key=key,
            )

    # -- retention / legal hold ----------------------------------------------------------------
    def _require_lock(self) -> None:
        if not self.object_lock:
            raise NotImplementedError(f"bucket {self.bucket} was opened without object_lock: no retention")

    def set_retention(self, key: str, retention: Retention) -> None:
        check_key(key)
        self._require_lock()
        until = retention.until
        if until.tzinfo is None:
            raise ValueError("retention.until must be timezone-aware")
        self._call(
            lambda: self._client.set_object_retention(
                self.bucket, key, MinioRetention(retention.mode, until.astimezone(UTC))
            ),
            key,
            locked=True,
        )

    def _retention(self, key: str, version_id: str | None = None) -> Retention | None:
        query = {"retention": ""}
        if version_id:
            query["versionId"] = version_id
        try:
            response = self._client._execute("GET", self.bucket, key, query_params=query)
        except S3Error as exc:
            if exc.code in _NO_LOCK_CODES:
                return None
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)
        mode = _xml_text(response.data, "Mode")
        until = _xml_text(response.data, "RetainUntilDate")
        if mode not in ("GOVERNANCE", "COMPLIANCE") or until is None:
            return None
        return Retention(mode=mode, until=_parse_s3_date(until))

    def get_retention(self, key: str, version_id: str | None = None) -> Retention | None:
        check_key(key)
        self._require_lock()
        return self._retention(key, version_id)

    def set_legal_hold(self, key: str, on: bool) -> None:
        check_key(key)
        self._require_lock()
        client = self._client
        fn = client.enable_object_legal_hold if on else client.disable_object_legal_hold
        self._call(lambda: fn(self.bucket, key), key)

    def _legal_hold(self, key: str, version_id: str | None = None) -> bool:
        try:
            return bool(self._client.is_object_legal_hold_enabled(self.bucket, key, version_id=version_id))
        except S3Error as exc:
            if exc.code in _NO_LOCK_CODES:
                return False
            self._fail(exc, key)
        except (MinioException, Urllib3Error, OSError) as exc:
            self._fail(exc, key)

    def get_legal_hold(self, key: str) -> bool:
        check_key(key)
        self._require_lock()
        return self._legal_hold(key)
