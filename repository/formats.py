"""Versions of stored formats (ARCHITECTURE invariant 10): stamp on write, upcast on read.

Every JSON object Kho stores carries the version of its format under :data:`FORMAT_KEY`
(``format_version``; not ``format``, which text.json already uses for the document's file
format). Writers call :func:`stamp`; readers call :func:`upcast`, which brings an object of any
older version to the current one through a chain of pure functions, version n → n + 1.

An object without the key was written before formats were versioned and is version 0 (its
kind's ``unversioned`` value; ``signatures.json`` has always carried ``schema_version`` 1).
Units, accounts, tokens and notifications carried ``"format": 1`` before they used this key;
that stamp is their version 0 (:func:`legacy_stamp`).
An object of a version newer than this code knows raises :class:`FormatUnsupported`
(``FORMAT_UNSUPPORTED``): never guess at a newer format.

Changing a stored format: add an upcaster ``v_n → v_n+1`` to the kind's chain (its ``current``
follows), keep the fixtures of the old format in ``tests/fixtures/formats/`` and add new ones.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from kho import jsontext
from kho.errors import FormatInvalid, FormatUnsupported
from kho.timeutil import parse_iso, to_iso_utc

FORMAT_KEY = "format_version"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One kind of stored object and the upcasters of its format."""

    name: str
    label: str
    """Vietnamese, for messages (“phiên bản văn bản, hồ sơ”)."""
    upcasters: tuple[Upcaster, ...] = ()
    """``upcasters[i]`` takes version ``unversioned + i`` to the next one."""
    key: str = FORMAT_KEY
    unversioned: int = 0
    """The version of an object that does not carry ``key``."""

    @property
    def current(self) -> int:
        return self.unversioned + len(self.upcasters)


def _same(data: dict[str, Any]) -> dict[str, Any]:
    """An upcaster for a version step that only added the format key."""
    return data


def _record_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 records may keep their grants in ``extra`` (before grants were fields)."""
    extra = dict(data.get("extra") or {})
    out = dict(data)
    for name in ("grant_users", "grant_units"):
        moved = extra.pop(name, ())
        if name not in out:
            out[name] = list(moved)
    out["extra"] = extra
    out.setdefault("files", [])
    out.setdefault("documents", [])
    out.setdefault("state", "active")
    out.setdefault("note", None)
    return out


def legacy_stamp(key: str, version: int, label: str) -> Upcaster:
    """An upcaster v0 → v1 for objects that carried a stamp of their own, ``{key: version}``,
    before :data:`FORMAT_KEY` (accounts and units wrote ``"format": 1``): it drops that stamp;
    any other value under ``key`` is a format this code never wrote, refused like a newer one."""

    def step(data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        found = out.pop(key, version)
        if found != version or isinstance(found, bool):
            raise FormatUnsupported(
                f"{label.capitalize()} mang dấu định dạng cũ “{key}” = {found!r} mà phần mềm Kho này"
                " không đọc được. Hãy nâng cấp Kho trước khi đọc dữ liệu này.",
                version=repr(found),
                key=key,
            )
        return out

    return step


KINDS: dict[str, Kind] = {}


def define(kind: Kind) -> Kind:
    """Register a kind of stored object (once, at import time of the module that owns it)."""
    if kind.name in KINDS and KINDS[kind.name] != kind:
        raise ValueError(f"stored format kind {kind.name!r} is defined twice")
    KINDS[kind.name] = kind
    return kind


RECORD = define(Kind("record", "phiên bản văn bản, hồ sơ", (_record_v0_to_v1,)))
REGISTER_ENTRY = define(Kind("register-entry", "mục sổ đăng ký", (_same,)))
REGISTER_FLOOR = define(Kind("register-floor", "mốc số đã cấp của sổ đăng ký sau khôi phục", unversioned=1))
"""``registers-floor/<organ>/<year>/<series>.json`` (m64): written by a restore whose copy's
audit log gives numbers of a register past its newest entry (a backup cut taken while records
were written): the register's next number starts past them, and the numbers and the records the
log gave them to are kept to say why they are missing (:class:`repository.registers.RegisterFloor`).
Stamped from the start (version 1)."""
REGISTER_RESTORING = define(Kind("register-restoring", "dấu đang khôi phục kho", unversioned=1))
"""``registers-restoring.json`` (m69): written by a restore before it removes or writes anything
and removed as its last step; while it is there (sealed) no register number is given. Never in a
backup. Stamped from the start (version 1)."""
AUDIT_EVENT = define(Kind("audit-event", "sự kiện nhật ký kiểm toán", (_same, _same)))
"""The event hash covers the body as written: upcasters of this kind must change no field.
Version 2 (review rv20) may carry ``seal``, inside the hashed body: written by a Kho with a seal
key (:meth:`repository.seals.Sealer.event_verdict`); a Kho without one writes version 2 with no
seal."""
AUDIT_BATCH = define(Kind("audit-batch", "lô sự kiện nhật ký kiểm toán", unversioned=1))
"""Several consecutive audit events of one act in one object (group commit, issue 14):
``{"format_version": 1, "events": [<audit event>, ...]}`` at the key of its first event. Each
event inside keeps its own format version, hash and link; stamped from the start (version 1).
Written by default (``KHO_AUDIT_GROUP_COMMIT=true``); a log holds batches and single events
side by side (stores written before, or with the setting off)."""
WITNESS = define(Kind("witness", "bản ghi chứng của nhật ký kiểm toán", (_same,)))
def _checkpoint_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 says from which event on the log is sealed (``sealed_since``); a checkpoint of
    version 1 does not say (None: the store's own events decide, as before)."""
    return {"sealed_since": None, **data}


AUDIT_CHECKPOINT = define(
    Kind("audit-checkpoint", "điểm mốc đã ký của nhật ký kiểm toán", (_checkpoint_v1_to_v2,), unversioned=1)
)
"""Written stamped from the start (version 1). The signature covers the body as written, format
version included: readers verify the stored bytes, never an upcast copy. A checkpoint signed for
an auditor's acknowledgement (``kho audit acknowledge``) also carries ``acknowledges``
(``{"seq", "hash"}`` of the ``audit:acknowledge`` event it vouches for), an optional field under
the signature: readers that do not know it ignore it and still verify the signature.
Version 2 (review rv22) also signs ``sealed_since``: the position of the first event whose seal
checked when it was signed (None: no sealed event), so that a log rewritten from its start
without seals is told by every reader between checkpoints (:meth:`repository.audit.AuditLog.sealed_floor`)."""
AUDIT_ACKNOWLEDGEMENT = define(
    Kind("audit-acknowledgement", "quyết định chấp nhận của kiểm toán viên", unversioned=1)
)
"""The details of an ``audit:acknowledge`` event (:mod:`repository.acknowledge`): the findings
the auditor acknowledged (``kind``, ``seq``, ``message``), their ``digest``, the ``reason``, what
the ``witness`` said, the ``head`` the event was chained after, the signed ``checkpoints`` the
findings contradicted and how the auditor was authenticated (``login``: ``user``, ``method``,
``source``, and as the case may be ``via`` (the web form), ``way_out``, ``locked`` and
``password_expired`` (``kho audit acknowledge --locked-out``: the only auditor, kept out by wrong
passwords, the idle days or the password's age while the log refused); readers take ``login``
as a mapping and need none of the optional keys). Stamped from the start (version 1); the event
hash covers it as written."""
FSCK_ACKNOWLEDGEMENT = define(
    Kind("fsck-acknowledgement", "quyết định chấp nhận phát hiện của kiểm tra kho", unversioned=1)
)
"""The details of an ``fsck:acknowledge`` event (m65, :mod:`repository.acknowledge`): the
finding a person accepted (``kind``, ``subject``, its ``facts``: the finding's details as fsck
gave them, and its ``message``), the ``digest`` of kind, subject and facts, and the ``reason``.
Stamped from the start (version 1); the event hash covers it as written."""


def _job_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 jobs keep no document description in their summary and, once the record
    exists, no file name but a neutral one (:func:`repository.ingest_jobs.scrubbed`): a job of
    version 1 is read under the same rule, whatever it still holds in the store."""
    from repository.ingest_jobs import scrubbed

    return scrubbed(data)


JOB = define(Kind("job", "trạng thái lượt tiếp nhận", (_same, _job_v1_to_v2)))
CATALOG_MARKER = define(Kind("catalog-marker", "mục danh mục bản ghi", (_same,)))
"""``catalog/records/<id>``: ``kind`` and the ``register`` (prefix) the record is numbered in, or
None. A confirmation's marker may also carry ``from_number`` (m9), an optional field of version
1: no entry of the record in that register is numbered below it, so the roll-forward lists the
register from there; a reader that does not know it reads the whole register, as before.
Since review rv50 every marker also carries ``writer`` (``host``, ``pid``: the process that wrote
it), an optional field of version 1 too: ``kho fsck --repair`` keeps an uncommitted record past
the in-flight grace while that process still runs on this machine; a marker without it (older
ones) is judged by the grace alone, as before."""
DESTROYED = define(Kind("destroyed", "mục “đã hủy” của bản ghi", unversioned=1))
"""The minimal row a destroyed record keeps (register entry, who, when, decision); stamped from
the start (version 1)."""
def _manifest_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 manifests say until when the backup is write-once (``lock_until``, None: not
    locked) and, per object, the effective lock-until of its blob (``lock_until``, or absent)."""
    return {**data, "lock_until": data.get("lock_until")}


def _manifest_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 names the installation the backup was made of (``installation``); a manifest
    of version 3 or before was written before installations had an identity: None
    ("pre-identity", restored as before)."""
    return {**data, "installation": None}


BACKUP_MANIFEST = define(
    Kind(
        "backup-manifest",
        "bản kê của một bản sao lưu",
        (_manifest_v1_to_v2, _same, _manifest_v3_to_v4),
        unversioned=1,
    )
)
"""Kept in a backup destination (:mod:`retention.backup`), not in the store; stamped from the start.
Version 3 is the first a Kho with ``KHO_MASTER_KEY`` writes sealed (:mod:`repository.seals`).
Version 4 (review rv39) carries ``installation``: the id of the installation whose store (or key
store) it copies (:mod:`repository.installation`), None when that store had none. A version-4
manifest without the field is read as naming a blank id, another installation's, never as
pre-identity (:func:`repository.installation.restore_identity`)."""
INSTALLATION = define(Kind("installation", "mã định danh của cài đặt (installation.json)", unversioned=1))
"""``installation.json`` at the root of a records store (:mod:`repository.installation`): the
random id (UUID4) of the installation the store belongs to, named by every backup manifest it
makes (format 4) so that a restore tells its own backups from another installation's (review
rv39). Stamped from the start (version 1)."""
DESTRUCTION_TOMBSTONE = define(
    Kind("destruction-tombstone", "mục của sổ tiêu hủy (ngoài kho)", unversioned=1)
)
"""An entry of the destruction ledger kept at each backup destination (:mod:`repository.ledger`);
stamped from the start (version 1). The chain hash and the signature cover the bytes as written."""


def _plan_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps every person who saved a draft version (``drafters``), none of whom may
    approve the plan; version 1 kept the last one only (``drafted_by``): unknown (None), the
    service reads them from the plan's stored versions."""
    return {"drafters": None, **data}


FILE_PLAN = define(Kind("file-plan", "phiên bản danh mục hồ sơ", (_plan_v1_to_v2,), unversioned=1))
"""A version of a year's Danh mục hồ sơ (:mod:`retention.fileplan`); stamped from the start;
version 2 adds ``drafters``."""
RETENTION_SCHEDULE = define(Kind("retention-schedule", "phiên bản bảng thời hạn bảo quản", unversioned=1))
"""A version of the retention schedule table (:mod:`retention.schedule`); stamped from the start."""
SUBMISSION = define(Kind("submission", "trạng thái nộp lưu của hồ sơ", unversioned=1))
"""The nộp lưu workflow of a hồ sơ, kept in its ``extra["submission"]``; stamped from the start."""
def _hold_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps the units the placer placed the hold from (``by_units``), which decide
    who may lift it (:func:`repository.policy.may_release_hold`); unknown (None) before."""
    return {"by_units": None, **data}


def _hold_order_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps the placer's units (``placed_by_units``), as :func:`_hold_v1_to_v2`."""
    return {"placed_by_units": None, **data}


LEGAL_HOLD = define(Kind("legal-hold", "phong tỏa (legal hold)", (_hold_v1_to_v2,), unversioned=1))
"""``holds/<record id>/<hold id>``: one hold (or a recall freeze) on one record or hồ sơ;
stamped from the start (version 1); version 2 adds ``by_units``."""
DESTRUCTION_CASE = define(Kind("destruction-case", "hồ sơ hủy tài liệu", unversioned=1))
"""A destruction case (:mod:`retention.destruction`), one object per workflow version."""
HOLD_ORDER = define(Kind("hold-order", "lệnh phong tỏa", (_hold_order_v1_to_v2,), unversioned=1))
"""A hold order over one or many records (:mod:`retention.holds`), one object per version;
version 2 adds ``placed_by_units``."""
TRANSFER_RECEIPT = define(Kind("transfer-receipt", "biên nhận gói tin nộp lưu lịch sử", unversioned=1))
SIP_IMPORT = define(Kind("sip-import", "lượt nhận gói tin từ cơ quan khác", unversioned=1))
"""One accepted version of an imported package (:mod:`retention.sip_replay`): its OBJID, each
listed file's SHA-256, who accepted it and when; a corrected re-send is the next version."""
SIP_CONTENT = define(Kind("sip-content", "dấu nội dung của gói tin đã nhận", unversioned=1))
"""Which accepted package first brought a set of documents (:mod:`retention.sip_replay`)."""
def _recall_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 names the run that holds the recall (``run``: ``at``, ``host``, ``pid``, or
    None once it finished or stopped); a version 1 object (before u7, or u7's recalls of a văn
    bản đi) names none: released, a later run may take it over."""
    return {"run": None, **data}


RECALL = define(Kind("recall", "lệnh thu hồi văn bản", (_recall_v1_to_v2,), unversioned=1))
"""``retention/recalls/<recall id>/v<n>``: one version of a recall. Ids are derived from the
record and the recall's rank (:meth:`retention.recall.Recalls._recall_id`); before u7 (văn bản
đến) and u8 (văn bản đi) they were random. Version 2 adds ``run``."""
AGENCY = define(Kind("agency", "mục danh mục cơ quan", (_same,)))
SAVED_SEARCH = define(Kind("saved-search", "câu tìm kiếm đã lưu", unversioned=1))
"""A person's saved search (:mod:`repository.saved_searches`); stamped from the start (version 1)."""


def _claim_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 names the writer's process (``host``: host name and boot id, ``pid``), so a
    guard whose writer is known dead is taken over at once; older guards name none."""
    return {**data, "host": data.get("host"), "pid": data.get("pid")}


def _claim_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 names the ``decision`` a destruction claim belongs to (None on every other
    guard, and on a destruction claim written before m7). A version-2 claim written by m7's code
    may carry it already: it is kept."""
    return {**data, "decision": data.get("decision")}


CLAIM = define(Kind("claim", "khóa chống trùng", (_same, _claim_v1_to_v2, _claim_v2_to_v3)))
S3_POINTER = define(Kind("s3-pointer", "con trỏ lưu ở bucket phụ của kho S3", unversioned=1))
"""A mutable pointer of an S3 store (the audit witness) as kept in the companion unversioned
bucket (``<bucket>-claims``, ``pointers/<key>``; :mod:`repository.storage.s3`): the pointer's
bytes (``data``, base64), a random ``write`` id (so that every write has its own ETag, the
condition of the next replace) and ``pending`` (written by a plain ``put`` or the move out of
the data bucket: the data bucket's marker :data:`S3_POINTER_MOVED` may not be written yet).
Stamped from the start (version 1)."""
S3_CLAIM = define(Kind("s3-claim", "yêu cầu giữ chỗ ở bucket phụ của kho S3", (_same,)))
"""A claim in the companion bucket of an S3 store in the claims mode (``<bucket>-claims``,
``claims/<key>``; :mod:`repository.storage.s3`): the writer's stamp (``writer`` id, ``pid``,
``host``, ``at`` in seconds since the epoch), what stale claims are judged by. Version 0 (no
format key; before m43): the stamp alone, the key's object in the data bucket. Version 1 (m43):
a duplicate guard's claim (:data:`repository.storage.s3.GUARD_PREFIXES`) carries the guard
itself too (``guard``, base64): the claim *is* the guard, nothing is written in the data bucket."""
S3_POINTER_MOVED = define(
    Kind("s3-pointer-moved", "dấu con trỏ của kho S3 đã chuyển sang bucket phụ", unversioned=1)
)
"""Left in an S3 store's *data* bucket under a pointer's key (``audit/witness.json``) once the
pointer lives in the companion bucket (:data:`S3_POINTER`): ``moved_to`` names the bucket and
key. With this marker the pointer missing from its new place is missing (a deleted witness),
never the older copy in the data bucket. Stamped from the start (version 1)."""
SIGNATURE_AGENCIES = define(Kind("signature-agencies", "tên cơ quan trên chữ ký số", unversioned=1))
"""``extra.signature_agencies`` of a record (a10): the agencies named by the trusted signatures of
its PDF, each with the certificate field its names came from, ``{"format_version": 1,
"agencies": [{"kind": "seal" | "personal", "cn", "o", "ou"}]}``
(``ingest.pipeline.signing_agencies``; read by ``repository.registration.PdfIdentity``). The
flat ``signature_organisations`` list written before (a9) lost which field a name came from and
is never read as the sender: such a record is read again from its ``signatures.json``. Stamped
from the start (version 1)."""
DERIVED_TEXT = define(Kind("derived-text", "văn bản trích xuất (text.json)", (_same,)))
DERIVED_METADATA = define(Kind("derived-metadata", "siêu dữ liệu gợi ý (metadata.json)", (_same,)))
DERIVED_SIGNATURES = define(
    Kind(
        "derived-signatures",
        "kết quả kiểm tra chữ ký số (signatures.json)",
        key="schema_version",
        unversioned=1,
    )
)


def _account_kind(name: str, label: str, *later: Upcaster) -> Kind:
    """Units, accounts, tokens, notifications: written with ``"format": 1`` before they used
    :data:`FORMAT_KEY`; that stamp reads as version 0."""
    return define(Kind(name, label, (legacy_stamp("format", 1, label), *later)))


UNIT = _account_kind("unit", "phiên bản đơn vị", _same, _same)
"""Version 2 carries ``audit``: the events of the change it made, written with it in one act
(``AccountService._write_audited``); ``kho fsck --repair`` appends them from there if the writer
died between the two. Versions before it carry none.

Version 3 carries ``seal``, as an account's version 5 (:mod:`repository.seals`); a Kho that reads
version 2 refuses it."""
UNIT_CODE = _account_kind("unit-code", "khóa tên viết tắt đơn vị")
ACCOUNT = define(
    Kind(
        "account",
        "phiên bản tài khoản",
        (
            legacy_stamp("format", 1, "phiên bản tài khoản"),
            *(_same,) * 9,
        ),
    )
)
"""Version 2 may carry ``reset``: a password reset in two halves (``AccountService.reset_password``),
whose password hash is only the second half. A Kho that reads version 1 would ignore ``reset``
and let the second half alone log in; it refuses version 2 instead.

Version 3: ``reset.new_account`` (false when absent, as in version 2) marks the two halves of a
new account's initial password (``AccountService.create_account``), confirmed like a reset. A
Kho that reads version 2 would take such an account for one with a pending reset, which is
safe (the same two halves), but would list it as a reset; it refuses version 3 instead.

Version 4 carries ``audit``, as a unit's version 2 does (:data:`UNIT`); a Kho that reads
version 3 refuses it.

Version 5 carries ``seal`` when the Kho that wrote it had a seal key (``KHO_MASTER_KEY``): an
HMAC over the version as stored and its key (:mod:`repository.seals`), which a Kho with the key
checks on every read and a writer of the store cannot make. A Kho that reads version 4 would
ignore the seal; it refuses version 5 instead, so that a rolled-back Kho never builds on it.

Version 6 may carry the lock instants of NOTES-a18 (``lock_until``, ``failures_since``,
``last_failed_at``, ``sessions_valid_from``; absent means none, as in version 5). A Kho that reads
version 5 would ignore them and, writing the next version, drop them: a successful login there
would end a run of wrong passwords (so a guesser's session would survive the next lock), and an
admin lock's ``sessions_valid_from`` would be lost (so its unlock would revive the old tokens).
It refuses version 6 instead (review rv10).

Version 7 may carry ``lock_ended_at``, when the newest lock for wrong passwords ended (its expiry
or a quản trị's unlock; absent means none, as in version 6): a lock whose run begins within one
lock period of it is a re-lock and spares no session (review a20). A Kho that reads version 6
would drop it from the next version it writes, so a thief's re-lock there would spare their own
session again; it refuses version 7 instead.

Version 8 may carry ``device_key``, ``untrusted_failures``, ``untrusted_failed_at`` and
``untrusted_lock_until`` (review a21: wrong passwords from browsers without a device token lock
only such browsers; absent means none, as in version 7). A Kho that reads version 7 would ignore
them: it would count such wrong passwords towards the account's lock again (so an outsider could
keep the owner out, NOTES-rv12), and, writing the next version, drop the device key (every
trusted browser untrusted) and an untrusted lock in force; it refuses version 8 instead.

Version 9 may carry ``known_networks``, ``network_failures``, ``network_failed_at`` and
``network_lock_until`` (review a22: a new browser on a network the account logged in from has
its own budget of wrong passwords, so an outsider elsewhere cannot lock it; absent means none, as
in version 8). A Kho that reads version 8 would count such wrong passwords towards the lock of
every new browser again and drop a lock in force; it refuses version 9 instead.

Version 10 may carry ``ended_tokens`` (review a30): the tokens the account's acts ended (revoke,
logout, idle end, password change or reset, lock, sign-out everywhere), ``{first 16 hex of the
digest: expires_at}``, absent means none, as in version 9 (whose tokens are judged by their own
objects and revocation objects, as before). Every request with a token reads the account, so a
token named there stays refused when a writer of the store puts back its object as issued and
deletes its revocation. A Kho that reads version 9 would ignore the list and, writing the next
version, drop it (reviving such tokens); it refuses version 10 instead."""
TOKEN_LEGACY_DAYS = 365
"""How long a token written before version 4 (which carries no ``expires_at``) lives after its
``created_at``: the longest lifetime a version-4 token may be given (review a28)."""


def _token_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 4 carries ``expires_at``, ``scope`` and, once revoked, ``revoked_at`` and
    ``revoked_by`` (the token object is rewritten, sealed, when it is revoked: review a28). A
    token of an older format did everything its account may and never expired: it reads as
    ``read-write``, expiring :data:`TOKEN_LEGACY_DAYS` after it was issued."""
    out = dict(data)
    out.setdefault("scope", "read-write")
    if "expires_at" not in out:
        out["expires_at"] = to_iso_utc(parse_iso(out["created_at"]) + timedelta(days=TOKEN_LEGACY_DAYS))
    out.setdefault("revoked_at", None)
    out.setdefault("revoked_by", None)
    return out


TOKEN = _account_kind("token", "mã truy cập (token)", _same, _same, _token_v3_to_v4)
"""Version 2 carries ``audit`` (the ``account:token-issue`` event), as :data:`UNIT`.

Version 3 carries ``seal``, as an account's version 5 (:mod:`repository.seals`); with a seal key
configured, a token without a seal that checks is refused, whatever its format.

Version 4 (review a28) carries ``expires_at`` and ``scope`` (``read`` or ``read-write``), and a
revoked token's object is rewritten (sealed) with ``revoked_at`` and ``revoked_by``: a revocation
that deleting one file cannot undo (:func:`_token_v3_to_v4` for older ones). A Kho that reads
version 3 would ignore the expiry, the scope and the revocation; it refuses version 4 instead."""
TOKEN_REVOCATION = _account_kind("token-revocation", "bản thu hồi mã truy cập", _same)
"""Version 2 of a revocation by ``AccountService.revoke_token`` carries ``audit`` (its
``account:token-revoke`` event), as :data:`UNIT`; the revocations of a password change or reset
carry none (their count is in the change's ``account:password`` event)."""
TOKEN_INDEX = _account_kind("token-index", "mục danh sách mã truy cập của tài khoản")
NOTIFICATION = _account_kind("notification", "thông báo cho cán bộ", _same)
"""Version 2 carries ``record_id`` (the record the message names by reference, not by title);
version 1 has none."""

WORKFLOW_STEP = define(Kind("workflow-step", "bước xử lý văn bản", unversioned=1))
"""One immutable step of a document's handling (:mod:`repository.workflow`); stamped from the
start (version 1)."""

WORKFLOW_SEEN = define(Kind("workflow-seen", "dấu đã xem thông báo xử lý văn bản", unversioned=1))
"""A person opened a document's handling having seen its steps up to ``seq`` (so a rebuilt work
index keeps their notices seen); one immutable object per person, document and step; stamped
from the start (version 1)."""

WORKFLOW_WITHHELD = define(
    Kind("workflow-withheld", "phân phối của bước xử lý bị giữ lại do phong tỏa", unversioned=1)
)
"""The distribution of one committed handling step that a legal hold refused (placed after the
step was committed): the people and units not given sight, which no later roll-forward or
reindex gives, before or after the release; one immutable object per step, written
create-if-absent; stamped from the start (version 1)."""

DERIVED_DESTRUCTION_DOSSIER = define(
    Kind("derived-destruction-dossier", "hồ sơ hủy tài liệu đã lưu (destruction-dossier.json)", (_same,))
)
"""The destruction dossier kept beside the hồ sơ a destruction case made
(:mod:`retention.destruction`): written with a bare ``json.dumps`` before m9 (version 0)."""

DERIVED_KINDS: dict[str, str] = {
    "text.json": DERIVED_TEXT.name,
    "metadata.json": DERIVED_METADATA.name,
    "signatures.json": DERIVED_SIGNATURES.name,
    "destruction-dossier.json": DERIVED_DESTRUCTION_DOSSIER.name,
}
"""Derived objects stored beside an original, by file name."""


def _kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown stored format kind {name!r}") from None


def stamp(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the current format version of ``kind`` (a new dict)."""
    k = _kind(kind)
    return {**data, k.key: k.current}


def version_of(kind: str, data: Mapping[str, Any]) -> int:
    """The format version ``data`` was written in (:class:`FormatInvalid` if it is not one)."""
    k = _kind(kind)
    version = data.get(k.key, k.unversioned)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FormatInvalid(
            f"{k.label.capitalize()} mang phiên bản định dạng không hợp lệ ({version!r}).",
            kind=kind,
            version=repr(version),
        )
    return version


def downgrades(versions: Sequence[int]) -> list[int]:
    """The positions in ``versions`` — the stored format versions of one object's versions, oldest
    first — whose format is older than that of an earlier version: a downgrade. No Kho writes
    one: a Kho writes the current format of its release, and one rolled back to an older release
    refuses to read a version newer than it knows (:class:`FormatUnsupported`), so it never
    writes the next version of an object it cannot read. Only a hand in the store does (the
    old format of an account carries no ``audit``: an unaudited change that fsck would not
    tell from one made before the format existed)."""
    out: list[int] = []
    highest = -1
    for position, version in enumerate(versions):
        if version < highest:
            out.append(position)
        highest = max(highest, version)
    return out


def upcast(kind: str, data: Any) -> dict[str, Any]:
    """``data`` brought to the current format of ``kind`` (a new dict, stamped); pure."""
    k = _kind(kind)
    if not isinstance(data, Mapping):
        raise FormatInvalid(
            f"{k.label.capitalize()} không phải là một đối tượng JSON.", kind=kind
        )
    version = version_of(kind, data)
    if version > k.current:
        raise FormatUnsupported(
            f"{k.label.capitalize()} được ghi theo định dạng phiên bản {version}, mới hơn phiên bản"
            f" {k.current} mà phần mềm Kho này đọc được. Hãy nâng cấp Kho trước khi đọc dữ liệu này.",
            kind=kind,
            version=version,
            supported=k.current,
        )
    out = dict(data)
    for step in k.upcasters[max(0, version - k.unversioned) :]:
        out = step(out)
    out[k.key] = k.current
    return out


def parse(kind: str, raw: bytes | str) -> Any:
    """Stored JSON as it was written, not upcast (:class:`FormatInvalid` for bytes that are not
    JSON): for a reader that needs the stored format (:func:`version_of`) as well as
    :func:`upcast`'s data, from one parse."""
    try:
        return jsontext.loads(raw)
    except (ValueError, RecursionError) as exc:  # nested too deep to parse: not a stored object
        raise FormatInvalid(
            f"{_kind(kind).label.capitalize()} không phải là JSON hợp lệ.", kind=kind
        ) from exc


def loads(kind: str, raw: bytes | str) -> dict[str, Any]:
    """Parse stored JSON and upcast it (:class:`FormatInvalid` for bytes that are not JSON)."""
    return upcast(kind, parse(kind, raw))


def dumps(kind: str, data: Mapping[str, Any], **options: Any) -> bytes:
    """Stamp and serialise (``options`` go to :func:`json.dumps`)."""
    return json.dumps(stamp(kind, data), **options).encode()


def unstamped(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without its format key (for constructors that take only their fields)."""
    k = _kind(kind)
    return {name: value for name, value in data.items() if name != k.key}


def derived_kind(name: str) -> str | None:
    """The format kind of a derived object by its file name (None: not a JSON kind Kho knows)."""
    return DERIVED_KINDS.get(name)


def dump_derived(data: Mapping[str, Any], name: str) -> bytes:
    """The stored bytes of a derived object (``text.json`` …), stamped when Kho knows its kind."""
    kind = derived_kind(name)
    body = stamp(kind, data) if kind is not None else dict(data)
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def load_derived(raw: bytes, name: str) -> dict[str, Any]:
    """A derived object read back, upcast when Kho knows its kind."""
    kind = derived_kind(name)
    if kind is None:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise FormatInvalid(f"Dữ liệu dẫn xuất “{name}” không phải là một đối tượng JSON.", name=name)
        return data
    return loads(kind, raw)


_ATOMS = frozenset({str, int, float, bool, type(None), bytes})
"""Types whose ``copy.deepcopy`` is the value itself (``copy._deepcopy_atomic``): exactly these
types, not their subclasses (which deepcopy copies)."""
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(obj: Any) -> tuple[str, ...] | None:
    """The field names of a dataclass instance, in order (kept per class), or None for anything
    else: the walk of :func:`as_dict` and of metadata's ``_jsonable``."""
    kind = type(obj)
    names = _FIELD_NAMES.get(kind)
    if names is None and hasattr(kind, "__dataclass_fields__"):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(obj))
    return names


def as_dict(obj: Any) -> Any:
    """:func:`dataclasses.asdict` of ``obj``, equal in every value and type (the stored bytes of
    an audit event, a register entry, a record's metadata are made from it: hashed, sealed),
    without its cost: ``asdict`` deep-copies every leaf value, and for a string or a number the
    copy is the value itself. Other leaves (a date, an enum) are still deep-copied; nested
    dataclasses, lists, tuples, named tuples and dicts are rebuilt as ``asdict`` rebuilds them.
    ``tests/repository/test_as_dict.py`` holds the two equal."""
    kind = type(obj)
    if kind in _ATOMS:
        return obj
    names = field_names(obj)
    if names is not None:
        return {name: as_dict(getattr(obj, name)) for name in names}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return kind(*[as_dict(v) for v in obj])
    if isinstance(obj, list | tuple):
        return kind(as_dict(v) for v in obj)
    if isinstance(obj, dict):
        return kind((as_dict(k), as_dict(v)) for k, v in obj.items())
    return copy.deepcopy(obj)
