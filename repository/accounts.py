"""Units (đơn vị), accounts, API tokens and rights-change notifications, kept in the object store.

Store layout (every object is JSON stamped with its format version, :mod:`repository.formats`,
one kind per line below, and is written with create-if-absent; nothing here is ever
rewritten but a token's object, once, when it is revoked: :meth:`AccountService._mark_revoked`)::

    units/<unit_id>/v<000001>                   versions of a unit                      unit
    catalog/unit-codes/<code>                   one unit per account-name code          unit-code
    accounts/<username>/v<000001>               versions of an account (every change,   account
                                                every login)
    notifications/<username>/<seq>.json         "your rights changed" messages          notification
    tokens/<sha256>.json                        an API token: only the SHA-256 of its   token
                                                secret
    tokens/<sha256>.revoked.json                its revocation                          token-revocation
    token-index/<username>/<sha256>.json        which tokens an account has             token-index
    token-seen/<sha256>/<slot>                  a token was used in that time slot      (empty)
                                                (:meth:`AccountService.resolve_token`)

Objects written before they carried ``format_version`` have ``"format": 1``; they read as
version 0 and are upcast (:func:`repository.formats.legacy_stamp`).

A concurrent second update of the same version gets :class:`Conflict` (like records); the
login path re-reads and retries, so two simultaneous logins both count.

Every audited change here (an account's next version, a unit, a token, a revocation) is written
with its audit events in one act (:meth:`AccountService._write_audited`): after the log has
accepted the act, and carrying its events (``audit``), so a log that refuses the event refuses the
change, and ``kho fsck --repair`` appends the events of a writer that died between the two.

Admin operations take the acting :class:`Account`, re-read it (it must still be active) and ask
the access policy (:func:`repository.policy.manages_accounts_of`, :func:`repository.policy.may_lock`)
with the unit tree: a quản trị administers the units at and below the units where they hold the
role; a lãnh đạo locks the account of a person leaving a unit they lead. Every refusal is audited
(``access:denied``, details ``{"action", "target"}``) before :class:`PermissionDenied` is raised.

Authentication outcomes (:meth:`AccountService.authenticate`):

* unknown, deleted account or wrong password → :class:`LoginFailed` (401), same answer, also
  for the wrong password that locks the account, after the same number of hash checks
  (:data:`LOGIN_VERIFICATIONS`), so that neither the answer nor its time tells an outsider that
  a name exists;
* while a lock applies to the attempt (the account's, or the new-browser lock of the attempt's
  place) the password is not checked at all (the same hash work is burnt) and nothing is
  counted: the answer is :class:`AccountLocked` (403) with the reason, whatever the password,
  to an attempt that carries a valid device token of the account or comes from one of its known
  networks or through a door with no browser (the CLI on the server), and the unknown name's
  :class:`LoginFailed` to anyone else (:meth:`AccountService._refuse_if_locked`, review a23:
  the answer never depends on the password, so a lock is no password oracle); a login
  after 90 days without one locks the account (reason ``idle``); the N-th consecutive wrong
  password locks it (reason ``failed_logins``) until ``lock_until`` (``KHO_LOGIN_LOCK_HOURS``
  later, QCVN 12:2026/BCA 3.6.2.1.9.3), which the answer tells; the sessions opened before the
  first wrong password of that run keep working (:meth:`AccountService.survives_lock`);
* right password but a change is due → :class:`PasswordChangeRequired` / :class:`PasswordExpired`
  (403) with ``.account`` attached: the login counted (failures reset, last login set), and the
  caller may let the person call :meth:`AccountService.change_password` and nothing else. An
  exception rather than a flag on the result, so that a caller that forgets to look cannot let
  the person in.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from dataclasses import field as dataclasses_field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

from kho import logs
from kho.errors import (
    AccountDowngraded,
    AccountLocked,
    AccountNotFound,
    AlreadyExists,
    AuditChainBroken,
    Conflict,
    FieldError,
    FormatInvalid,
    KhoError,
    LoginFailed,
    NotFound,
    PasswordChangeRequired,
    PasswordExpired,
    PasswordNotConfirmed,
    PasswordResetExpired,
    PermissionDenied,
    SessionExpired,
    TokenExpired,
    TokenInvalid,
    UnitNotFound,
    UnitTampered,
    ValidationFailed,
)
from kho.scoped import RequestView
from kho.textkey import describe, lookalike_characters
from kho.timeutil import parse_iso, to_iso_utc, vn_display
from repository import formats, passwords
from repository.audit import AuditLog, EventDraft, object_named
from repository.networks import network_of
from repository.policy import (
    LEAVING,
    Action,
    Decision,
    Principal,
    RightsChange,
    Role,
    TokenScope,
    acts_on_accounts,
    grants_clearance,
    leaves_an_admin,
    manages_accounts_of,
    manages_rights_of,
    may_confirm_reset,
    may_lock,
    moves_unit,
    operator_clears,
    raises_over_a_handed_out_password,
)
from repository.seals import Sealer, Verdict
from repository.storage.base import ObjectInfo, ObjectStore
from repository.vocabulary import Secrecy, blank, has_hidden_characters, is_organ_id, nfc, refuse_line_breaks

if TYPE_CHECKING:
    from argon2 import PasswordHasher

OPERATOR = "operator"
"""The actor of an operator command (:func:`web.cli.operator_actor`): direct store access,
no account."""

LOGIN_RETRIES = 20
"""Re-reads of an account after losing a write race (each lost race means another writer won)."""

STORED_EVENTS = "audit"
"""The field of an account or unit version that carries the audit events of the change it
made (actor, action, source, details), written with it in one act
(:meth:`AccountService._write_audited`); ``kho fsck --repair`` appends them from there when the
process died between the two writes (:func:`pending_events`)."""

UNSEALED_MESSAGE = (
    "Phiên bản mới nhất của {what} được ghi theo định dạng trước khi Kho niêm phong (không mang dấu"
    " xác thực của KHO_MASTER_KEY): có thể do phiên bản Kho trước khi nâng cấp ghi, cũng có thể do ai"
    " đó ghi thẳng vào kho lưu trữ, nên Kho từ chối dùng nó. Người vận hành: đặt tạm"
    " KHO_ALLOW_UNSEALED=true, chạy “kho account seal” (chỉ niêm phong phiên bản có sự kiện trong nhật"
    " ký kiểm toán), rồi bỏ KHO_ALLOW_UNSEALED."
)
"""The answer to an account or unit version of a format before seals, read with a master key
outside the upgrade window (``ACCOUNT_UNSEALED``, ``UNIT_UNSEALED``): what the operator does."""

EVENTS_CARRIED_SINCE: dict[str, int] = {
    formats.ACCOUNT.name: 4,
    formats.UNIT.name: 2,
    formats.TOKEN.name: 2,
}
"""The first format version of these kinds in which every object Kho writes carries
:data:`STORED_EVENTS` (:meth:`AccountService._write_audited` always writes the field). One of
that format or later without it was written by no Kho: a change slipped into the store with no
audit event (``kho fsck``: ``unaudited``, not repairable). Token revocations are not here: those
of a password change or reset carry none."""


def carries_no_events(kind: str, written_in: int, raw: Mapping[str, Any]) -> bool:
    """Whether a stored object of ``kind`` (as stored: ``raw``, in format ``written_in``) lacks the
    events every object of its format carries (:data:`EVENTS_CARRIED_SINCE`): the field left out,
    or not a list of at least one event. Every change Kho writes has at least one event
    (:meth:`AccountService._write_audited` refuses none), so an empty list is a change with no
    event, as a missing field is (review r18)."""
    since = EVENTS_CARRIED_SINCE.get(kind)
    if since is None or written_in < since:
        return False
    carried = raw.get(STORED_EVENTS)
    return not isinstance(carried, list) or not carried


RESTORABLE_ACTIONS = ("account:", "unit:")
"""The actions of the events :meth:`AccountService._write_audited` stores with an object: the
only ones ``kho fsck --repair`` appends from an object (any other, an ``audit:acknowledge`` or a
record's event, came from someone who wrote the store, not from Kho)."""

EventsOf = Callable[["Account", "Account"], list[EventDraft]]
"""The audit events of an account change, from the version before and the version written."""


class Status(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    DELETED = "deleted"


class LockReason(StrEnum):
    FAILED_LOGINS = "failed_logins"
    IDLE = "idle"
    LEFT = LEAVING
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return _LOCK_LABELS[self]


_LOCK_LABELS = {
    LockReason.FAILED_LOGINS: "nhập sai mật khẩu quá số lần quy định",
    LockReason.IDLE: f"không đăng nhập trong {passwords.IDLE_LOCK_DAYS} ngày liên tục",
    LockReason.LEFT: "cán bộ đã chuyển công tác, nghỉ hưu hoặc thôi việc",
    LockReason.ADMIN: "quản trị hệ thống khóa tài khoản",
}


_LOCK_TIMES = (
    "lock_until",
    "failures_since",
    "last_failed_at",
    "sessions_valid_from",
    "lock_ended_at",
    "untrusted_lock_until",
    "untrusted_failed_at",
    "network_lock_until",
    "network_failed_at",
)
"""The optional instants of an account version about locks and the sessions they end."""


def _time(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def _iso(moment: datetime | None) -> str | None:
    return to_iso_utc(moment) if moment is not None else None


@dataclass(frozen=True)
class Membership:
    """One role of a person in one unit."""

    unit: str
    role: Role

    def to_dict(self) -> dict[str, str]:
        return {"unit": self.unit, "role": self.role.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Membership:
        return cls(unit=data["unit"], role=Role(data["role"]))


@dataclass(frozen=True)
class Unit:
    """An đơn vị of the agency; the agency itself is the root (``parent_id`` None)."""

    unit_id: str
    """Mã định danh (QĐ 20/2020/QĐ-TTg style: ``000.01.18.H40``)."""
    name: str
    parent_id: str | None
    code: str
    """Short lower-case code used in account names (``vpub``)."""
    version: int = 1
    created_at: datetime | None = None
    actor: str = ""

    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "unit_id": self.unit_id,
            "name": self.name,
            "parent_id": self.parent_id,
            "code": self.code,
            "version": self.version,
            "created_at": _iso(self.created_at),
            "actor": self.actor,
        }
        return formats.stamp(formats.UNIT.name, fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unit:
        data = formats.upcast(formats.UNIT.name, data)
        return cls(
            unit_id=data["unit_id"],
            name=data["name"],
            parent_id=data.get("parent_id"),
            code=data["code"],
            version=int(data["version"]),
            created_at=_time(data.get("created_at")),
            actor=data.get("actor", ""),
        )


RESET_HALF_LENGTH = 16
"""Characters of each half of the one-time password of a reset."""

RESET_VALID = timedelta(hours=24)
"""How long the one-time password of a reset works once the reset is confirmed."""


@dataclass(frozen=True)
class PendingReset:
    """A password reset in two halves (split knowledge): the quản trị who reset the account
    (``by``) received the first half, the person who confirmed it (``confirmed_by``, someone
    else) the second. Only the person, given both, can log in, once, within
    :data:`RESET_VALID` of the confirmation, and must then set their own password."""

    by: str
    at: datetime
    first_hash: str
    """Argon2 hash of the first half (the second half's hash is the account's password hash)."""
    confirmed_by: str = ""
    confirmed_at: datetime | None = None
    new_account: bool = False
    """The initial password of a new account (``by`` created it), not a reset: the same two
    halves and the same confirmation (:meth:`AccountService.create_account`)."""

    @property
    def awaiting(self) -> bool:
        """Not yet confirmed: no password works for the account."""
        return self.confirmed_at is None

    def usable(self, now: datetime) -> bool:
        return self.confirmed_at is not None and now <= self.confirmed_at + RESET_VALID

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "at": _iso(self.at),
            "first_hash": self.first_hash,
            "confirmed_by": self.confirmed_by,
            "confirmed_at": _iso(self.confirmed_at),
            "new_account": self.new_account,
        }

    def public_dict(self) -> dict[str, Any]:
        data = self.to_dict()
        del data["first_hash"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingReset:
        return cls(
            by=data["by"],
            at=parse_iso(data["at"]),
            first_hash=data["first_hash"],
            confirmed_by=data.get("confirmed_by", ""),
            confirmed_at=_time(data.get("confirmed_at")),
            new_account=bool(data.get("new_account", False)),
        )


@dataclass(frozen=True)
class Account:
    """One version of a person's account."""

    username: str
    full_name: str
    email: str | None
    memberships: tuple[Membership, ...]
    clearance: int
    """Highest secrecy level the person may read: 0 Thường, 1 Mật, 2 Tối mật, 3 Tuyệt mật."""
    password_hash: str
    password_changed_at: datetime
    must_change_password: bool
    failed_logins: int
    last_login_at: datetime | None
    created_at: datetime
    status: Status = Status.ACTIVE
    lock_reason: LockReason | None = None
    version: int = 1
    unlocked_at: datetime | None = None
    """Last unlock by a quản trị (the 90 idle days count from it too)."""
    changed_at: datetime | None = None
    """When this version was written."""
    changed_by: str = ""
    reset: PendingReset | None = None
    """A password reset by a quản trị not yet followed by the person's own change
    (:meth:`AccountService.reset_password`)."""
    lock_until: datetime | None = None
    """When a lock for wrong passwords ends by itself (QCVN 12:2026/BCA 3.6.2.1.9.3,
    ``KHO_LOGIN_LOCK_HOURS``); None for every other lock, which only a quản trị lifts."""
    failures_since: datetime | None = None
    """The first wrong password of the present run of failures: sessions opened before it
    survive a lock for wrong passwords (:meth:`AccountService.survives_lock`)."""
    last_failed_at: datetime | None = None
    """The newest wrong password (a login clears ``failures_since`` only after a quiet lock period)."""
    sessions_valid_from: datetime | None = None
    """A lock by a quản trị or a lãnh đạo ended every session and token opened up to this: they
    are refused as locked while it lasts (``ACCOUNT_LOCKED``, which says why) and as invalid
    after the unlock, which revokes them; none comes back (:meth:`AccountService.lock`)."""
    lock_ended_at: datetime | None = None
    """When the newest lock for wrong passwords ended (its expiry, or a quản trị's unlock): a run
    of wrong passwords that begins within one lock period of it locks as a re-lock, which spares
    no session (:meth:`AccountService.survives_lock`, review a20)."""
    device_key: str | None = None
    """The secret (hex) that signs this account's device tokens (:func:`device_token`): a browser
    that logged in to the account holds one, and its wrong passwords count towards the account's
    lock; a browser without one only towards :attr:`untrusted_lock_until` (review a21). A new key
    (or none) after a password change, a reset, a recovery or a quản trị's
    :meth:`AccountService.forget_devices` makes every device token given out before worthless.
    Never shown (:meth:`public_dict`)."""
    untrusted_failures: int = 0
    """Wrong passwords in a row from browsers without a device token of this account."""
    untrusted_failed_at: datetime | None = None
    """The newest of them (a run ends after a quiet lock period)."""
    untrusted_lock_until: datetime | None = None
    """Until when a login from a browser without a device token is refused (``ACCOUNT_LOCKED``):
    the ``max_failed``-th wrong password from such browsers sets it. The account stays active,
    its sessions live on, and a browser holding a device token logs in (review a21).
    From a network of :attr:`known_networks` :attr:`network_lock_until` holds instead."""
    known_networks: tuple[str, ...] = ()
    """The client blocks (:func:`repository.networks.address_block`) of the newest web logins
    with the right password, newest first, at most :data:`KNOWN_NETWORKS` (review a22). A new
    browser there (the owner's new computer at the office, an API script that keeps no device)
    has a budget of its own: an outsider elsewhere locks only new browsers elsewhere."""
    network_failures: int = 0
    """Wrong passwords in a row from new browsers on :attr:`known_networks`."""
    network_failed_at: datetime | None = None
    """The newest of them."""
    network_lock_until: datetime | None = None
    """Until when a login from a new browser on a known network is refused (as
    :attr:`untrusted_lock_until` elsewhere)."""
    ended_tokens: tuple[tuple[str, datetime], ...] = ()
    """The tokens of this account that were ended (revoked by their owner or a quản trị, logout,
    idle end, password change or reset, lock, sign-out everywhere), each as the first
    :data:`ENDED_DIGEST_CHARS` hex characters of its digest with its ``expires_at``, sorted
    (review a30). Every request with a token reads this version anyway: a token named here is
    refused, whatever its own object and its revocation object say, so a writer of the store who
    puts back a token's object as issued and deletes its revocation revives nothing. An entry
    is dropped once its token has expired (refused as expired then: its ``expires_at`` is sealed
    in every copy of its object). Rule: :func:`ended_tokens_with`, :func:`token_ended_in`."""

    @property
    def units(self) -> frozenset[str]:
        return frozenset(m.unit for m in self.memberships)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(m.role for m in self.memberships)

    def has_role(self, role: Role, unit: str | None = None) -> bool:
        return any(m.role is role and (unit is None or m.unit == unit) for m in self.memberships)

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE

    @property
    def awaiting_confirmation(self) -> bool:
        """A new account whose initial password no second person has confirmed yet: nobody can
        log in to it (:meth:`AccountService.create_account`)."""
        return self.reset is not None and self.reset.new_account and self.reset.awaiting

    @property
    def never_used(self) -> bool:
        """A new account whose person has not yet set their own password: awaiting its second
        person, confirmed (the halves may go unused) or expired (only a quản trị can reset it).
        Nobody is known to be behind it, so it is not "another quản trị" (``LAST_ADMIN``,
        :meth:`AccountService.recover`)."""
        return self.reset is not None and self.reset.new_account

    @property
    def password_given_out(self) -> bool:
        """No reset and a change still required: the password is one given out whole (an
        account's initial password, or a reset's, under the one-person rule before the
        two-person resets of t2 and first passwords of g1; the operator's ``kho account init``),
        or the person's own, to be changed after the operator's ``recover``. Who set it decides
        (:func:`password_unconfirmed`)."""
        return self.reset is None and self.must_change_password

    def someone_behind(self, now: datetime) -> bool:
        """Whether a person can be counted on to act through this account (as "another quản
        trị" or "another kiểm toán viên"): active, used by its person (not :attr:`never_used`),
        and not held by a reset whose one-time password expired unused (after a confirmed
        reset the password is only that one; once it expires nobody logs in until a quản trị
        resets it again). A reset still awaiting its confirmation counts: a second person
        confirms it without a quản trị."""
        reset = self.reset
        expired = reset is not None and reset.confirmed_at is not None and not reset.usable(now)
        return self.active and not self.never_used and not expired

    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "username": self.username,
            "full_name": self.full_name,
            "email": self.email,
            "memberships": [m.to_dict() for m in self.memberships],
            "clearance": self.clearance,
            "password_hash": self.password_hash,
            "password_changed_at": _iso(self.password_changed_at),
            "must_change_password": self.must_change_password,
            "failed_logins": self.failed_logins,
            "last_login_at": _iso(self.last_login_at),
            "created_at": _iso(self.created_at),
            "status": self.status.value,
            "lock_reason": self.lock_reason.value if self.lock_reason else None,
            "version": self.version,
            "unlocked_at": _iso(self.unlocked_at),
            "changed_at": _iso(self.changed_at),
            "changed_by": self.changed_by,
        }
        if self.reset is not None:
            fields["reset"] = self.reset.to_dict()
        for name in _LOCK_TIMES:  # written only once set: older versions read the same
            if (value := getattr(self, name)) is not None:
                fields[name] = _iso(value)
        if self.device_key is not None:
            fields["device_key"] = self.device_key
        if self.untrusted_failures:
            fields["untrusted_failures"] = self.untrusted_failures
        if self.known_networks:
            fields["known_networks"] = list(self.known_networks)
        if self.network_failures:
            fields["network_failures"] = self.network_failures
        if self.ended_tokens:
            fields["ended_tokens"] = {digest: _iso(until) for digest, until in self.ended_tokens}
        return formats.stamp(formats.ACCOUNT.name, fields)

    def public_dict(self) -> dict[str, Any]:
        """What may be shown or sent anywhere: everything but the password hash."""
        data = self.to_dict()
        del data["password_hash"]
        data.pop("device_key", None)
        data.pop("known_networks", None)  # where the person works from: not for every reader
        data.pop("ended_tokens", None)  # (its tokens are listed with ``revoked``)
        if "reset" in data:
            data["reset"] = self.reset.public_dict() if self.reset is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        data = formats.upcast(formats.ACCOUNT.name, data)
        created = parse_iso(data["created_at"])
        return cls(
            username=data["username"],
            full_name=data["full_name"],
            email=data.get("email"),
            memberships=tuple(Membership.from_dict(m) for m in data.get("memberships", ())),
            clearance=int(data["clearance"]),
            password_hash=data["password_hash"],
            password_changed_at=_time(data.get("password_changed_at")) or created,
            must_change_password=bool(data["must_change_password"]),
            failed_logins=int(data.get("failed_logins", 0)),
            last_login_at=_time(data.get("last_login_at")),
            created_at=created,
            status=Status(data.get("status", "active")),
            lock_reason=LockReason(data["lock_reason"]) if data.get("lock_reason") else None,
            version=int(data["version"]),
            unlocked_at=_time(data.get("unlocked_at")),
            changed_at=_time(data.get("changed_at")),
            changed_by=data.get("changed_by", ""),
            reset=PendingReset.from_dict(data["reset"]) if data.get("reset") else None,
            **{name: _time(data.get(name)) for name in _LOCK_TIMES},
            device_key=data.get("device_key"),
            untrusted_failures=int(data.get("untrusted_failures", 0)),
            known_networks=tuple(str(n) for n in data.get("known_networks", ())),
            network_failures=int(data.get("network_failures", 0)),
            ended_tokens=tuple(
                sorted((str(d), parse_iso(str(u))) for d, u in dict(data.get("ended_tokens") or {}).items())
            ),
        )

    def __repr__(self) -> str:  # never print the hash in logs or tracebacks
        return f"Account({self.username!r}, v{self.version}, {self.status.value})"


BOOTSTRAP_CREATOR = "system"
"""Who an account made by the operator's ``kho account init`` (:meth:`AccountService.bootstrap`)
names as its creator: its whole initial password goes to the operator, who holds the store
anyway."""


def password_unconfirmed(account: Account, set_by: str) -> bool:
    """THE rule for an account whose password was given out whole by one person alone under the
    old rule (an account made before the two-person first password, g1, or reset before the
    two-person reset, t2) and never changed by its person since (review r13 item 11): ``set_by``
    (who wrote the version that set the password) holds it and could log in as the account (a
    puppet). No login, password change or token for it (``PASSWORD_NOT_CONFIRMED``) until the
    two-person reset (:meth:`AccountService.reset_password` + :meth:`AccountService.confirm_reset`)
    gives its person a password nobody else holds. Not such an account: one made by ``kho
    account init`` (``set_by`` the operator's ``system``), one made or reset under the two-person
    rules (it carries ``reset``), one whose person set the password (``set_by`` the person; also
    after the operator's ``recover``, which keeps the person's own password)."""
    return account.password_given_out and set_by not in (account.username, BOOTSTRAP_CREATOR)


@dataclass(frozen=True)
class Notification:
    notification_id: str
    username: str
    at: datetime
    kind: str
    message: str
    actor: str
    record_id: str | None = None
    """The record or hồ sơ it is about (format 2). Its title is not stored with the message:
    :data:`RECORD_REFERENCE` stands in it, resolved when read under the access policy
    (:meth:`shown`; ``web.context.Kho.notifications``)."""

    def shown(self, title: str | None) -> Notification:
        """The message as a reader gets it: :data:`RECORD_REFERENCE` replaced by the record's
        ``title`` when they may see it, or by a neutral phrase when they may not (or it is gone)."""
        if RECORD_REFERENCE not in self.message:
            return self
        named = f"“{title}”" if title else RECORD_HIDDEN
        return replace(self, message=self.message.replace(RECORD_REFERENCE, named))

    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "notification_id": self.notification_id,
            "username": self.username,
            "at": _iso(self.at),
            "kind": self.kind,
            "message": self.message,
            "actor": self.actor,
            "record_id": self.record_id,
        }
        return formats.stamp(formats.NOTIFICATION.name, fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        data = formats.upcast(formats.NOTIFICATION.name, data)
        return cls(
            notification_id=data["notification_id"],
            username=data["username"],
            at=parse_iso(data["at"]),
            kind=data["kind"],
            message=data["message"],
            actor=data["actor"],
            record_id=data.get("record_id"),
        )


RECORD_REFERENCE = "{hồ sơ}"
"""Where a notification's message names its record (:attr:`Notification.record_id`): resolved at
read time, so that no title sits in a notification object, nor in any backup of it."""
RECORD_HIDDEN = "(bạn không có quyền xem tên hồ sơ này)"


TOKEN_DAYS_DEFAULT = 90
"""How many days a personal access token lives when its issuer says nothing (review a28)."""
TOKEN_DAYS_MAX = formats.TOKEN_LEGACY_DAYS
"""The longest lifetime a token may be given, in days (and that of a token of a format before
expiry: :func:`repository.formats._token_v3_to_v4`)."""


@dataclass(frozen=True)
class TokenTerms:
    """How long a token lives and what it may do, as checked (:func:`token_terms`)."""

    days: int
    scope: TokenScope


def token_terms(days: object = None, scope: object = None) -> TokenTerms:
    """The terms of a new token from what its issuer typed (API body, CLI option): ``days`` a
    whole number from 1 to :data:`TOKEN_DAYS_MAX` (absent: :data:`TOKEN_DAYS_DEFAULT`), ``scope``
    ``read`` or ``read-write`` (absent: ``read-write``). :class:`ValidationFailed` with
    ``TOKEN_LIFETIME_INVALID`` / ``TOKEN_SCOPE_INVALID`` (422) otherwise. Pure."""
    errors: list[FieldError] = []
    lifetime = TOKEN_DAYS_DEFAULT
    if days is not None and days != "":
        text = days.strip() if isinstance(days, str) else days
        if isinstance(text, str) and text.isascii() and text.isdigit():
            # Python's int() refuses a text of over 4,300 digits (ValueError: a 500 before rv41):
            # anything of more than 9 digits after its leading zeros is past the limit anyway.
            digits = text.lstrip("0") or "0"
            text = int(digits) if len(digits) <= 9 else TOKEN_DAYS_MAX + 1
        if isinstance(text, bool) or not isinstance(text, int) or not 1 <= text <= TOKEN_DAYS_MAX:
            message = (
                f"Thời hạn của mã truy cập phải là số ngày nguyên từ 1 đến {TOKEN_DAYS_MAX}"
                f" (mặc định {TOKEN_DAYS_DEFAULT}); nhận được “{str(days)[:40]}”."
            )
            errors.append(FieldError("days", "TOKEN_LIFETIME_INVALID", message))
        else:
            lifetime = text
    chosen = TokenScope.READ_WRITE
    if scope is not None and scope != "":
        try:
            chosen = TokenScope(scope.strip().lower() if isinstance(scope, str) else scope)
        except (ValueError, TypeError):
            message = (
                "Phạm vi của mã truy cập phải là “read” (chỉ đọc) hoặc “read-write” (đọc và ghi);"
                f" nhận được “{str(scope)[:40]}”."
            )
            errors.append(FieldError("scope", "TOKEN_SCOPE_INVALID", message))
    if errors:
        raise ValidationFailed(errors)
    return TokenTerms(lifetime, chosen)


@dataclass(frozen=True)
class Token:
    """An API token as stored: never its secret, only the SHA-256 of it.

    A revocation (format 4, review a28) rewrites the token's object, sealed, with
    ``revoked_at``/``revoked_by``, and also writes ``tokens/<sha256>.revoked.json`` as before:
    either one refuses the token, so a writer of the store who deletes one file (the revocation,
    or the token, which then is unknown) cannot bring it back."""

    digest: str
    username: str
    name: str
    created_at: datetime
    created_by: str
    revoked: bool = False
    expires_at: datetime | None = None
    """None only for a :class:`Token` built in memory before its terms: a stored one has one
    (those of a format before expiry read as :data:`TOKEN_DAYS_MAX` days after issue)."""
    scope: TokenScope = TokenScope.READ_WRITE
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def expired(self, now: datetime) -> bool:
        """Whether the token has reached its ``expires_at``."""
        return self.expires_at is not None and now >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "digest": self.digest,
            "username": self.username,
            "name": self.name,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "revoked": self.revoked_at is not None,
            "expires_at": _iso(self.expires_at),
            "scope": str(self.scope),
            "revoked_at": _iso(self.revoked_at),
            "revoked_by": self.revoked_by,
        }
        return formats.stamp(formats.TOKEN.name, fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, revoked: bool = False) -> Token:
        data = formats.upcast(formats.TOKEN.name, data)
        revoked_at = parse_iso(data["revoked_at"]) if data.get("revoked_at") else None
        try:
            scope = TokenScope(data.get("scope"))
        except ValueError:
            scope = TokenScope.READ  # (only a hand in the store writes another: the least power)
        return cls(
            digest=data["digest"],
            username=data["username"],
            name=data["name"],
            created_at=parse_iso(data["created_at"]),
            created_by=data.get("created_by", ""),
            revoked=revoked or revoked_at is not None or bool(data.get("revoked", False)),
            expires_at=parse_iso(data["expires_at"]) if data.get("expires_at") else None,
            scope=scope,
            revoked_at=revoked_at,
            revoked_by=data.get("revoked_by"),
        )


# --- keys ------------------------------------------------------------------------------------


def _written_in(raw: bytes) -> int:
    """The stored format version of an account version's bytes (already read once as an account)."""
    try:
        return formats.version_of(formats.ACCOUNT.name, json.loads(raw))
    except (ValueError, TypeError, FormatInvalid):
        return -1


NO_DOWNGRADE_REMEMBERED = 10_000
"""How many old-format newest account versions a process remembers as checked (not downgrades)."""

MARKED_SLOTS_KEPT = 10_000
"""How many tokens' current use slots a process remembers (:meth:`AccountService._check_idle`)."""


def account_key(username: str, version: int) -> str:
    return f"accounts/{username}/v{version:06d}"


def unit_key(unit_id: str, version: int) -> str:
    return f"units/{unit_id}/v{version:06d}"


def token_key(digest: str) -> str:
    return f"tokens/{digest}.json"


def token_revoked_key(digest: str) -> str:
    return f"tokens/{digest}.revoked.json"


ENDED_DIGEST_CHARS = 16
"""How many hex characters of an ended token's digest :attr:`Account.ended_tokens` keeps (64
bits: a collision would only refuse another token of the same account; a writer of the store
cannot choose the digest of a token Kho issued)."""


def token_end_of(token: Token) -> datetime:
    """Until when an ended ``token`` must stay named in its account: its ``expires_at`` (one
    built in memory without terms: :data:`TOKEN_DAYS_MAX` days after its issue)."""
    return token.expires_at or token.created_at + timedelta(days=TOKEN_DAYS_MAX)


def ended_tokens_with(
    ended: Iterable[tuple[str, datetime]], adding: Iterable[tuple[str, datetime]], now: datetime
) -> tuple[tuple[str, datetime], ...]:
    """THE rule of :attr:`Account.ended_tokens`: ``ended`` and the tokens ``adding`` (digest,
    expires_at), each digest cut to :data:`ENDED_DIGEST_CHARS`, less those expired at ``now``
    (refused as expired anyway), sorted. Pure."""
    kept: dict[str, datetime] = {}
    for digest, until in (*ended, *adding):
        short = digest[:ENDED_DIGEST_CHARS]
        if until > now:
            kept[short] = max(until, kept.get(short, until))
    return tuple(sorted(kept.items()))


def token_ended_in(account: Account, digest: str) -> bool:
    """Whether ``account``'s version names the token of ``digest`` as ended. Pure."""
    short = digest[:ENDED_DIGEST_CHARS]
    return any(d == short for d, _ in account.ended_tokens)


def token_ended(account: Account | None, token: Token) -> bool:
    """THE rule of whether ``token`` is ended (revoked) as far as its own files and its account
    say: its object or revocation object says so (:attr:`Token.revoked`), or ``account`` (its
    holder's newest version, None when unread) names it in :attr:`Account.ended_tokens`. The
    request path (:meth:`AccountService.token_holder`) refuses what it says, and the listing
    (:meth:`AccountService.tokens_of`) shows it as revoked (review s18: a replayed token listed
    as live although refused). Pure."""
    return token.revoked or (account is not None and token_ended_in(account, token.digest))


_KEPT_LOCKS = frozenset({LockReason.ADMIN.value, LockReason.LEFT.value, LockReason.IDLE.value})
"""The locks an accepted rollback keeps from a lost version (:func:`kept_from_lost`): those only a
quản trị lifts. A lock for wrong passwords ends by itself and the new password asked covers it; a
lock of logins from new browsers is not the account's status."""


def kept_from_lost(stored: Account, lost: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """What an accepted rollback (:meth:`AccountService.accept_rollback`) keeps of the versions
    the audit log names and the store lost, from their trusted events (``lost``: action and
    details, in version order), as changes to the stored version ``stored`` (review rv44). Only
    what narrows the account: a deletion (final: the account stays deleted), a lock only a quản
    trị lifts that no later lost event lifted, and the roles and clearance the last such events
    left, as far as ``stored`` also has them. Before, the stored version came back as it was —
    a deleted or locked account active again, a role removed given back. Pure."""
    if any(action == "account:delete" for action, _ in lost):
        return {"status": Status.DELETED}
    changes: dict[str, Any] = {}
    status = [
        (action, details)
        for action, details in lost
        if (action == "account:lock" and details.get("reason") in _KEPT_LOCKS)
        or (action == "account:unlock" and details.get("previous_reason") != UNTRUSTED_LOCK)
    ]
    if status and status[-1][0] == "account:lock":
        reason = LockReason(status[-1][1]["reason"])
        changes |= {"status": Status.LOCKED, "lock_reason": reason, "lock_until": None}
    roles = [details.get("after") for action, details in lost if action == "account:roles"]
    if roles:
        left = {(m.get("unit"), m.get("role")) for m in roles[-1] or () if isinstance(m, Mapping)}
        memberships = tuple(m for m in stored.memberships if (m.unit, m.role.value) in left)
        if memberships != stored.memberships:
            changes["memberships"] = memberships
    cleared = [details.get("after") for action, details in lost if action == "account:clearance"]
    if cleared and isinstance(cleared[-1], int) and cleared[-1] < stored.clearance:
        changes["clearance"] = cleared[-1]
    return changes


UNIT_STATE_UNCHANGED = frozenset({"unit:seal"})
"""The unit actions whose version holds the same name and parent as the version before it."""


def unit_kept_from_lost(
    stored: Unit, lost: Sequence[tuple[int, str, Mapping[str, Any]]], named: int
) -> dict[str, Any] | None:
    """What an accepted unit rollback (:meth:`AccountService.accept_unit_rollback`) keeps of the
    versions the audit log names and the store lost (review s21, as :func:`kept_from_lost` for
    accounts): the name and the parent the newest lost version had, from the trusted events
    (``lost``: version, action and details) naming versions after ``stored`` up to ``named``. A
    writer of the store must not undo a move (the parent decides who leads and administers the
    unit) or a rename by deleting versions. Each lost version's state is read from its events: a
    ``unit:update`` sets it (``after``), a ``unit:rollback-accept`` that names it sets it, a
    ``unit:seal`` keeps the one before. A version with none of these (no trusted event, an accept
    written before s21) leaves the state unknown until a later version sets it. Changes to
    ``stored`` (``name``, ``parent_id``; empty: nothing to change), or None when the newest
    lost version's state is not known (the accept must then be refused). Units have no closing
    (no status): the state is the name and the parent. Pure."""
    by_version: dict[int, list[tuple[str, Mapping[str, Any]]]] = {}
    for version, action, details in lost:
        by_version.setdefault(version, []).append((action, details))
    state: tuple[str, str | None] | None = (stored.name, stored.parent_id)
    for version in range(stored.version + 1, named + 1):
        events = by_version.get(version, [])
        told = [_unit_state(action, details) for action, details in events]
        set_to = [t for t in told if t is not None]
        if set_to:
            state = set_to[-1]
        elif not events or any(action not in UNIT_STATE_UNCHANGED for action, _ in events):
            state = None
    if state is None:
        return None
    name, parent = state
    if stored.parent_id is None:  # the root stays the root
        parent = None
    changes: dict[str, Any] = {}
    if name != stored.name:
        changes["name"] = name
    if parent != stored.parent_id:
        changes["parent_id"] = parent
    return changes


def _unit_state(action: str, details: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The name and parent a unit version had, from one of its events (None: not said)."""
    said: Any = details.get("after") if action == "unit:update" else None
    if action == "unit:rollback-accept" and "name" in details and "parent_id" in details:
        said = details
    if not isinstance(said, Mapping):
        return None
    name, parent = said.get("name"), said.get("parent_id")
    if not isinstance(name, str) or blank(name) or not (parent is None or isinstance(parent, str)):
        return None
    return name, parent


ENDED_RECORDED = "account:token-end-record"
"""The audit action of naming, in its account, tokens ended before the account named the tokens
it ends (a Kho before a30; review s18): :meth:`AccountService.record_ended`."""


WEB_SESSION = "web-session"
"""The name of the token a page login issues (its idle timeout is the pages')."""

UNTRUSTED_LOCK = "untrusted_browser"
"""``details.reason`` of ``ACCOUNT_LOCKED`` (and of its ``account:lock`` event) when only logins
from browsers without a device token are locked (:meth:`AccountService._record_untrusted_failure`)."""

KNOWN_NETWORKS = 8
"""How many client blocks an account remembers (:attr:`Account.known_networks`)."""


@dataclass(frozen=True)
class NewBrowserPlace:
    """Which budget a wrong password from a new browser (no valid device token) counts towards:
    the fields of :class:`Account` holding its run and its lock (review a22)."""

    failures: str
    """The field counting the run."""
    failed_at: str
    """The field holding the newest wrong password of the run."""
    lock_until: str
    """The field holding until when such logins are refused."""
    known_network: bool
    """Whether the place is a network the account logged in from (the audit events say so)."""


ELSEWHERE = NewBrowserPlace("untrusted_failures", "untrusted_failed_at", "untrusted_lock_until", False)
KNOWN_NETWORK = NewBrowserPlace("network_failures", "network_failed_at", "network_lock_until", True)


def new_browser_place(account: Account, source: str | None) -> NewBrowserPlace:
    """:data:`KNOWN_NETWORK` when ``source`` is in one of the account's known networks, else
    :data:`ELSEWHERE`: an outsider's wrong passwords from elsewhere lock only new browsers
    elsewhere; the owner's new computer on the office network still logs in (review a22)."""
    network = network_of(source)
    return KNOWN_NETWORK if network is not None and network in account.known_networks else ELSEWHERE


def remembered_networks(account: Account, source: str | None) -> tuple[str, ...]:
    """:attr:`Account.known_networks` after a login with the right password from ``source``."""
    network = network_of(source)
    if network is None or account.known_networks[:1] == (network,):
        return account.known_networks
    return (network, *(n for n in account.known_networks if n != network))[:KNOWN_NETWORKS]


IDLE_SLOTS = 10
"""An idle timeout is kept in slots of a tenth of it: a token's use is written once per slot."""


def token_seen_prefix(digest: str) -> str:
    return f"token-seen/{digest}/"


def idle_slot_seconds(idle: timedelta) -> int:
    return max(1, int(idle.total_seconds()) // IDLE_SLOTS)


def _dump(kind: formats.Kind, data: Mapping[str, Any]) -> bytes:
    """The stored bytes of an object of ``kind``, stamped with its format version."""
    return formats.dumps(kind.name, data, ensure_ascii=False, sort_keys=True)


def _draft(actor: str, action: str, source: str | None, details: dict[str, Any]) -> EventDraft:
    return EventDraft(actor, action, source=source, details=details)


def pending_events(data: Mapping[str, Any]) -> list[EventDraft]:
    """The audit events an account or unit version (read, upcast) carries: those of the change
    it made (:data:`STORED_EVENTS`); none in versions written before they carried them."""
    out = []
    for item in data.get(STORED_EVENTS) or ():
        out.append(
            EventDraft(
                str(item["actor"]),
                str(item["action"]),
                source=item.get("source"),
                details=dict(item.get("details") or {}),
            )
        )
    return out


@dataclass(frozen=True)
class WayOut:
    """What let the only kiểm toán viên through ``kho audit acknowledge --locked-out``
    (:meth:`AccountService.authenticate_locked_auditor`): the account as it is, and what kept
    it out; the acknowledgement event records it (:meth:`login`)."""

    account: Account
    locked: str | None
    """The lock passed (``failed_logins``, ``idle``), if any."""
    password_expired: bool
    """Whether the password was older than the regulation allows."""

    def login(self) -> dict[str, object]:
        """The keys of the acknowledgement's ``login`` that say how the auditor got through."""
        out: dict[str, object] = {"way_out": "operator"}
        if self.locked is not None:
            out["locked"] = self.locked
        if self.password_expired:
            out["password_expired"] = True
        return out


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _audit_name(text: str) -> str:
    """An attempted account name as it may appear in the audit log: only if it looks like an
    account name (people sometimes type their password in the name field)."""
    return text if passwords.is_username(text) else "(không hợp lệ)"


LOGIN_VERIFICATIONS = 1
"""Hash checks in every login by a wrong password, whatever the name (unknown, deleted, locked,
active, a reset pending: its second half is checked only once the first half matched). Only the
holder of a whole one-time password pays a second check."""


def _login_failed() -> LoginFailed:
    """The one answer to a wrong password and to a name without an account."""
    return LoginFailed("Tên đăng nhập hoặc mật khẩu không đúng.")


NAME_MAX = 200
"""Characters in a person's full name or a unit's name (shown in every list, page and export)."""


def name_errors(name: str, field: str, code: str, label: str) -> list[FieldError]:
    """What is wrong with a full name or a unit name as typed, before it is stored and shown to
    everyone: a hidden character (control, line break, bidirectional override: U+202E before
    "abc" shows "cba"), a character that makes it look like another name
    (:func:`~kho.textkey.lookalike_characters`: "Khuе" with a Cyrillic е, a zero-width space,
    full-width letters) or more than :data:`NAME_MAX` characters."""
    if has_hidden_characters(name, line_breaks=True):
        message = f"{label} chứa ký tự điều khiển, xuống dòng hoặc ký tự đảo chiều văn bản."
        return [FieldError(field, code, message)]
    odd = lookalike_characters(name)
    if odd:
        message = (
            f"{label} có ký tự ẩn hoặc ký tự trông giống chữ tiếng Việt nhưng thuộc bảng chữ khác"
            f" ({describe(odd)}): hai tên trông như nhau sẽ là hai tên khác nhau. Hãy gõ lại bằng"
            " chữ tiếng Việt."
        )
        return [FieldError(field, code, message)]
    length = len(nfc(name).strip())
    if length > NAME_MAX:
        return [FieldError(field, code, f"{label} dài {length} ký tự, vượt quá {NAME_MAX} ký tự.")]
    return []


EMAIL_MAX = 254
"""RFC 5321's longest forward path an address can use."""
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def email_errors(email: str | None) -> list[FieldError]:
    """What is wrong with an account's e-mail address as typed (none: no address). Kho mails
    this person's work to it (:class:`kho.mail.Mailer`): one plain address ``tên@miền``, nothing
    else. A line break in it made every later mail to the person fail after the step that sent
    it was written (the step answered 500), and "a@x, b@y" or "Tên <a@x>" were mailed as typed,
    the first to two mailboxes (review rv54)."""
    text = (email or "").strip()
    if not text:
        return []
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        return [FieldError(
            "email", "EMAIL_INVALID",
            "Thư điện tử phải là một địa chỉ dạng tên@miền (ví dụ van.thu@ubnd.gov.vn), không dấu,"
            f" không khoảng trắng, dấu phẩy hay xuống dòng, dài tối đa {EMAIL_MAX} ký tự.",
        )]
    return []


def vouched_by(account: Account | None) -> int:
    """The clearance ``account`` vouches for as the first person of a two-person act: the one it
    holds if it is active, else none (a quản trị who has left, or been locked, vouches for
    nothing)."""
    return account.clearance if account is not None and account.active else 0


# --- the service -----------------------------------------------------------------------------


def next_notification_number(store: ObjectStore, prefix: str) -> int:
    """The number after the last notification under ``prefix`` (``notifications/<user>/``): a
    person's notifications are numbered in the order they are written."""
    last = None
    for info in store.list(prefix):
        last = info.key
    return int(last[len(prefix) :].split(".")[0]) + 1 if last else 1


DEVICE_TOKEN_DAYS = 180
"""How long a device token (:func:`device_token`) stays valid after the login that gave it."""
DEVICE_COOKIE = "kho_device_"
"""The page cookie of a device token: this prefix and the account's name (one per account)."""
_DEVICE_VERSION = "1"


def _new_device_key() -> str:
    """A fresh per-account device key. ``secrets`` (with ``random``) is imported here, where a
    key is made, not at import: logged-in ``kho`` commands that make none stay light
    (tests/web/test_cli_startup.py)."""
    import secrets

    return secrets.token_hex(32)


def _device_mac(key: str, username: str, issued: int) -> str:
    message = f"kho-device|{_DEVICE_VERSION}|{username}|{issued}".encode()
    return hmac.new(bytes.fromhex(key), message, hashlib.sha256).hexdigest()


def device_token(account: Account, now: datetime) -> str | None:
    """A device token for a browser (or API client) that has just logged in to ``account``:
    ``1.<issued unix seconds>.<HMAC-SHA256 under the account's device key of the name and the
    instant>``; None when the account has no device key."""
    if account.device_key is None:
        return None
    issued = int(now.timestamp())
    return f"{_DEVICE_VERSION}.{issued}.{_device_mac(account.device_key, account.username, issued)}"


Device = str | tuple[str, ...] | None
"""What a login door was shown of a client's device tokens for an account (:func:`device_trusted`):
the API's one ``device`` string, every cookie of that name a browser sent (a tuple, possibly
empty), or None for a door with no browser (the CLI, a logged-in person confirming an act)."""

_DEVICE_TOKEN = re.compile(re.escape(_DEVICE_VERSION) + r"\.([0-9]{1,12})\.([0-9a-f]{64})")
"""The exact form :func:`device_token` gives out (ASCII digits only: ``"²".isdigit()`` is true
and ``int("²")`` raises, review rv16)."""


def device_trusted(account: Account, token: str | tuple[str, ...], now: datetime) -> bool:
    """Whether ``token`` (or one of the tokens, when a browser sent several cookies of the name)
    is a device token of ``account`` that is still valid: exactly the form Kho gives out, signed
    with the account's present device key (so not one of another account, nor one given out
    before a password change, a reset or a revocation), issued at most :data:`DEVICE_TOKEN_DAYS`
    ago and not in the future. Anything else (forged, truncated, expired) is not.

    Every cookie counts, not the first (review rv16): someone who can set a cookie for Kho's host
    in the owner's browser (a sibling subdomain's ``Domain`` cookie, a longer ``Path``, sent
    first) would otherwise shadow the owner's real token and make the known browser a new one.
    The request's header size bounds how many there are; each costs one HMAC."""
    key = account.device_key
    tokens = (token,) if isinstance(token, str) else token
    return key is not None and any(_one_trusted(key, account.username, one, now) for one in tokens)


def _one_trusted(key: str, username: str, token: str, now: datetime) -> bool:
    found = _DEVICE_TOKEN.fullmatch(token)
    if found is None:
        return False
    issued = int(found.group(1))
    age = now.timestamp() - issued
    if not -300 <= age <= DEVICE_TOKEN_DAYS * 86400:
        return False
    return hmac.compare_digest(found.group(2), _device_mac(key, username, issued))


@dataclass
class _OneView:
    """What one account operation has already read of the store (:meth:`AccountService._one_view`):
    the unit tree and the acting people as stored when it began. An operation decides with one
    snapshot of them instead of listing them again for each check (s27: an account's creation or
    confirmation listed ``units/`` up to three times and the actor's versions twice). Never used
    by a read that a write builds on (:meth:`AccountService._update`, the re-read after a token's
    write): those list the store every time."""

    units: list[Unit] | None = None
    actors: dict[str, Account] = dataclasses_field(default_factory=dict)


_VIEW: RequestView[_OneView] = RequestView("kho_account_view", _OneView)
"""The view of the operation running in this thread or task (``get()`` None: outside any)."""


class AccountService:
    def __init__(
        self,
        store: ObjectStore,
        audit: AuditLog,
        clock: Callable[[], datetime],
        max_failed: int = passwords.DEFAULT_MAX_FAILED,
        *,
        hasher: PasswordHasher | None = None,
        make_hasher: Callable[[], PasswordHasher] = passwords.default_hasher,
        session_idle: timedelta = timedelta(minutes=30),
        token_idle: timedelta = timedelta(minutes=30),
        master_key: bytes | None = None,
        allow_unsealed: bool = False,
        lock_duration: timedelta = timedelta(hours=passwords.DEFAULT_LOCK_HOURS),
    ) -> None:
        """``hasher`` hashes and checks passwords; without one, ``make_hasher`` makes it when a
        password is first hashed or checked (argon2 is not imported by the commands that only
        read with a token). ``master_key`` (``KHO_MASTER_KEY``): accounts, units and tokens are
        sealed with a key derived from it, and refused on read when their seal does not check
        (:mod:`repository.seals`); without it nothing is sealed or checked. ``allow_unsealed``
        (``KHO_ALLOW_UNSEALED``, the upgrade window only): account and unit versions written
        before seals are read instead of refused."""
        if max_failed < 1:
            raise ValueError("max_failed must be at least 1")
        self.store = store
        self.audit = audit
        self.clock = clock
        self.max_failed = max_failed
        self.lock_duration = lock_duration
        """A lock for wrong passwords ends by itself this long after it (``KHO_LOGIN_LOCK_HOURS``)."""
        self.session_idle = session_idle
        """A page session (a :data:`WEB_SESSION` token) unused this long ends."""
        self.token_idle = token_idle
        """Any other token unused this long ends."""
        self._hasher = hasher
        self._make_hasher = make_hasher
        self.sealer = Sealer.from_master_key(master_key, allow_unsealed=allow_unsealed)
        self._sealed: dict[str, str] = {}
        """Newest versions whose seal checked (key → digest of its bytes): every request reads
        the unit tree and a token's account again (:meth:`_seal_of`)."""
        self._marked_slots: dict[str, tuple[int, int]] = {}
        """Tokens (digest) whose use marker of the current slot (its length, its number) this
        process listed or wrote (:meth:`_check_idle`): until the slot ends, a request with the
        token is known not to be idle and its use known stored, so the marker listing is not
        made again. Markers are only ever added inside a token's idle window (pruning removes
        those before it), so the listing could only have said the same. The token's other checks
        (revocation, its account's lock, end of sessions) read the store at every request."""
        self._no_downgrade: dict[str, str] = {}
        """Newest account versions of an old format found not to be downgrades (key → digest of
        its bytes): that check reads every version before it, once per process
        (:meth:`_downgraded_from`)."""

    @property
    def hasher(self) -> PasswordHasher:
        if self._hasher is None:
            self._hasher = self._make_hasher()
        return self._hasher

    # -- authorisation ---------------------------------------------------------------------
    def principal_of(self, account: Account) -> Principal:
        """The policy's view of an account: its (unit, role) pairs, clearance, and every unit
        below a unit it leads."""
        roles = frozenset((m.unit, m.role) for m in account.memberships)
        led: set[str] = set()
        archive: set[str] = set()
        for unit, role in roles:
            if role is Role.LANH_DAO:
                led |= self.units_below(unit)
            if role is Role.LUU_TRU:
                archive |= self.units_below(unit)
        return Principal(
            user=account.username,
            roles=roles,
            clearance=account.clearance,
            led_units=frozenset(led),
            archive_units=frozenset(archive),
        )

    def _deny(
        self, actor: str, message: str, *, action: str, target: str, source: str | None, code: str = ""
    ) -> NoReturn:
        """Audit a refused operation (like :meth:`repository.records.Repository.authorize`),
        then refuse it."""
        self.audit.append(
            actor,
            "access:denied",
            source=source,
            at=self.clock(),
            details={"action": action, "target": target},
        )
        raise PermissionDenied(message, code=code or "PERMISSION_DENIED", actor=actor, target=target)

    @contextmanager
    def _one_view(self) -> Iterator[None]:
        """One snapshot of the unit tree and of the acting people for the operation inside (the
        outermost one's, when nested): each is read from the store at its first use in it, as
        before, and not again. A lock, a role changed or a unit moved by anyone still counts
        from the next operation (each opens its own view); nothing is kept past it."""
        with _VIEW.scope():
            yield

    def _current_actor(self, actor: Account, *, action: str, target: str, source: str | None) -> Account:
        """The actor as stored now (an Account object held since login may be stale: roles
        removed, account locked), which must be active. Within one operation
        (:meth:`_one_view`) the actor is read once."""
        view = _VIEW.get()
        current = view.actors.get(actor.username) if view is not None else None
        if current is None:
            current = self._read(actor.username)
            if view is not None and current is not None:
                view.actors[actor.username] = current
        return self._check_actor(current, actor, action=action, target=target, source=source)

    def _check_actor(
        self, current: Account | None, actor: Account, *, action: str, target: str, source: str | None
    ) -> Account:
        """``current`` (the actor as stored now) must be active: refused and audited otherwise."""
        if current is not None and current.status is Status.LOCKED:
            # A session that outlived a lock for wrong passwords (:meth:`survives_lock`) reads and
            # works on records, but administers nothing until the lock ends: the answer is the
            # lock, with when it ends (refused and audited as any other refusal here).
            self._deny(
                actor.username,
                self._locked_error(current).message,
                action=action,
                target=target,
                source=source,
                code="ACCOUNT_LOCKED",
            )
        if current is None or not current.active:
            self._deny(
                actor.username,
                "Tài khoản thực hiện thao tác không còn hoạt động.",
                action=action,
                target=target,
                source=source,
            )
        return current

    def _require(
        self,
        actor: Account,
        decide: Callable[[Principal], Decision],
        *,
        action: str,
        target: str,
        source: str | None,
    ) -> None:
        """Ask the policy about the actor as stored now; audit and refuse what it refuses. The
        principal and the decision see one unit tree (:meth:`_one_view`)."""
        with self._one_view():
            current = self._current_actor(actor, action=action, target=target, source=source)
            decision = decide(self.principal_of(current))
        if not decision:
            self._deny(
                current.username,
                decision.message,
                action=action,
                target=target,
                source=source,
                code=decision.code,
            )

    def _target(
        self,
        username: str,
        actor: Account,
        needs: Action | None,
        *,
        action: str,
        source: str | None,
    ) -> Account:
        """The account ``username`` that ``actor`` acts on. On someone else's account the
        actor must first hold a role for the act at all (``needs``; None: only the person
        themself): refused (audited) *before* the name is looked up, so that a person without
        the role learns nothing of which accounts exist. Then :class:`AccountNotFound`."""
        name = username.strip().lower()
        if name != actor.username:
            if needs is None:
                self._deny(
                    actor.username,
                    "Chỉ chính người dùng mới thực hiện được thao tác này với tài khoản của mình.",
                    action=action,
                    target=name,
                    source=source,
                )
            self._require(
                actor, lambda p: acts_on_accounts(p, needs), action=action, target=name, source=source
            )
        return self.get(name)

    def _require_admin(
        self, actor: Account, units: Iterable[str], *, action: str, target: str, source: str | None
    ) -> None:
        """The actor is a quản trị of every unit in ``units`` (at it or an ancestor of it)."""
        wanted = frozenset(units)
        self._require(
            actor,
            lambda p: manages_accounts_of(p, self.units_below, wanted),
            action=action,
            target=target,
            source=source,
        )

    @contextmanager
    def _admins_guard(self, given_up: Iterable[str]) -> Iterator[None]:
        """Held by an act that takes the quản trị role from ``given_up`` units (roles changed,
        one's own account locked or deleted) from its LAST_ADMIN check to its write: one such act
        at a time (``claims/admins``, create-if-absent for a fresh token; a crashed holder's
        claim is taken over as a record's guard is). Two quản trị removing each other's role at
        once each saw the other still there and both were written: no quản trị left (review a6).
        The second now waits its turn: 409 ``ADMINS_CHANGING``, or, after the first, the check
        sees it. Nothing is taken when no unit is given up."""
        if not frozenset(given_up):
            yield
            return
        from kho.process import process_alive, this_host
        from kho.timeutil import utcnow
        from repository.records import claim_body, claim_is_stale, new_record_id, take_over_guard

        body = claim_body(new_record_id(), utcnow())
        try:
            self.store.put_if_absent(ADMINS_GUARD, body)
        except AlreadyExists:
            # (a claim whose writer died before its guard landed, S3 claims mode: CLAIM_PENDING
            # until it is stale and the next put takes it over; review s19, was a NotFound)
            raw = self.store.get_landed(
                ADMINS_GUARD,
                "Một thay đổi quyền quản trị khác đang bị giữ bởi một lượt ghi chưa hoàn tất (có thể"
                " lượt ghi đó đã dừng ở máy khác). Hãy thử lại sau ít phút.",
            )
            holder = formats.loads(formats.CLAIM.name, raw)
            stale = claim_is_stale(holder, now=utcnow(), host=this_host(), alive=process_alive)
            if not (stale and take_over_guard(self.store, ADMINS_GUARD, raw, body, now=utcnow())):
                raise Conflict(
                    "Một thay đổi quyền quản trị khác đang được thực hiện: hãy tải lại và thử lại.",
                    code="ADMINS_CHANGING",
                ) from None
        try:
            yield
        finally:
            try:
                if self.store.get(ADMINS_GUARD) == body:
                    self.store.delete(ADMINS_GUARD)
            except NotFound:
                pass

    def _require_rights_admin(
        self,
        actor: Account,
        target: Account,
        units: Iterable[str],
        change: RightsChange,
        *,
        action: str,
        source: str | None,
    ) -> None:
        """The actor is a quản trị of every unit in ``units``, and raises no right of their own
        (:func:`~repository.policy.manages_rights_of`); a quản trị role given up leaves each of
        its units managed by someone else (:func:`~repository.policy.leaves_an_admin`)."""
        wanted = frozenset(units)

        self._require(
            actor,
            lambda p: manages_rights_of(p, self.units_below, target.username, wanted, change),
            action=action,
            target=target.username,
            source=source,
        )
        self._require_another_admin(
            target, actor, action=action, source=source, given_up=change.admin_units_given_up
        )

    def _require_another_admin(
        self,
        target: Account,
        actor: Account,
        *,
        action: str,
        source: str | None,
        given_up: frozenset[str] | None = None,
    ) -> None:
        """The units where ``target`` gives up the quản trị role (``given_up``; by default all
        of them: the account is locked or deleted) stay managed by another active account
        (:func:`~repository.policy.leaves_an_admin`, ``LAST_ADMIN``): nobody leaves the
        installation with no one to manage its accounts."""
        if given_up is None:
            given_up = _admin_units(target)
        if not given_up or target.status is not Status.ACTIVE:
            return
        units = given_up
        # A new account nobody has used yet, or one whose reset expired unused, has nobody
        # behind it (review r13: only a quản trị can then reset it).
        now = self.clock()
        others = [
            self.principal_of(a)
            for a in self.accounts()
            if a.username != target.username and self._someone_behind(a, now)
        ]
        self._require(
            actor,
            lambda _: leaves_an_admin(units, others, self.units_below),
            action=action,
            target=target.username,
            source=source,
        )

    # -- units -----------------------------------------------------------------------------
    def create_unit(
        self,
        unit_id: str,
        name: str,
        code: str,
        parent_id: str | None,
        actor: Account | None,
        source: str | None = None,
    ) -> Unit:
        """A new unit. The root (``parent_id`` None) can be created only while there is none,
        by a local operator (``actor`` None); other units by a quản trị of the parent."""
        errors: list[FieldError] = []
        if not is_organ_id(unit_id):
            errors.append(
                FieldError("unit_id", "UNIT_ID_INVALID", f"Mã định danh đơn vị “{unit_id}” sai định dạng.")
            )
        if blank(nfc(name)):
            errors.append(FieldError("name", "UNIT_NAME_REQUIRED", "Tên đơn vị không được để trống."))
        errors += name_errors(name, "name", "UNIT_NAME_INVALID", "Tên đơn vị")
        folded = passwords.unit_code_of(code) if code.strip() else ""
        if not folded:
            errors.append(
                FieldError("code", "UNIT_CODE_INVALID", "Tên viết tắt của đơn vị không được để trống.")
            )
        if errors:
            raise ValidationFailed(errors)
        if parent_id is None:
            if any(u.parent_id is None for u in self.units()):
                raise ValidationFailed(
                    [FieldError("parent_id", "UNIT_ROOT_EXISTS", "Cơ quan (đơn vị gốc) đã có.")]
                )
            if actor is not None:
                self._require_admin(actor, [], action="unit:create", target=unit_id, source=source)
        else:
            self.get_unit(parent_id)
            if actor is None:
                self._deny(
                    "system",
                    "Cần tài khoản quản trị để tạo đơn vị.",
                    action="unit:create",
                    target=unit_id,
                    source=source,
                )
            self._require_admin(actor, [parent_id], action="unit:create", target=unit_id, source=source)
        now = self.clock()
        who = actor.username if actor else "system"
        unit = Unit(unit_id, nfc(name).strip(), parent_id, folded, 1, now, who)
        code_key = f"catalog/unit-codes/{folded}"

        def claim_code() -> None:
            try:
                self.store.put_if_absent(code_key, _dump(formats.UNIT_CODE, {"unit_id": unit_id}))
            except AlreadyExists:
                taken = f"Tên viết tắt “{folded}” đã dùng cho đơn vị khác."
                raise ValidationFailed([FieldError("code", "UNIT_CODE_TAKEN", taken)]) from None

        details = {"unit_id": unit_id, "code": folded, "parent_id": parent_id}
        created = _draft(who, "unit:create", source, details)
        try:
            self._write_audited(
                unit_key(unit_id, 1), formats.UNIT, unit.to_dict(), [created], now, also=claim_code
            )
        except AlreadyExists:
            self.store.delete(code_key)
            raise ValidationFailed(
                [FieldError("unit_id", "UNIT_EXISTS", f"Đơn vị “{unit_id}” đã có.")]
            ) from None
        return unit

    def update_unit(
        self,
        unit_id: str,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        actor: Account,
        source: str | None = None,
    ) -> Unit:
        """Rename a unit or move it under another parent (a new version of the unit). The
        actor is quản trị of the unit and of its new parent; a unit never moves below itself
        and the root stays the root. Audited as ``unit:update``."""
        current = self.get_unit(unit_id)
        new_name = nfc(name).strip() if name is not None else current.name
        new_parent = parent_id if parent_id is not None else current.parent_id
        errors: list[FieldError] = []
        if blank(new_name):
            errors.append(FieldError("name", "UNIT_NAME_REQUIRED", "Tên đơn vị không được để trống."))
        if name is not None and new_name != current.name:  # a kept name is not judged again
            errors += name_errors(name, "name", "UNIT_NAME_INVALID", "Tên đơn vị")
        if current.parent_id is None and new_parent is not None:
            errors.append(
                FieldError("parent_id", "UNIT_ROOT_FIXED", "Cơ quan (đơn vị gốc) không đặt dưới đơn vị khác.")
            )
        elif new_parent is not None and new_parent != current.parent_id:
            self.get_unit(new_parent)
            if new_parent in self.units_below(unit_id):
                errors.append(
                    FieldError(
                        "parent_id",
                        "UNIT_PARENT_CYCLE",
                        "Không đặt đơn vị dưới chính nó hoặc đơn vị cấp dưới.",
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        if new_parent is not None and new_parent != current.parent_id:
            self._require(
                actor,
                lambda p: moves_unit(p, self.units_below, unit_id, new_parent),
                action="unit:update",
                target=unit_id,
                source=source,
            )
        else:
            self._require_admin(actor, [unit_id], action="unit:update", target=unit_id, source=source)
        if (new_name, new_parent) == (current.name, current.parent_id):
            return current
        now = self.clock()
        unit = replace(
            current, name=new_name, parent_id=new_parent, version=current.version + 1, created_at=now,
            actor=actor.username,
        )
        details = {
            "unit_id": unit_id,
            "before": {"name": current.name, "parent_id": current.parent_id},
            "after": {"name": new_name, "parent_id": new_parent},
        }
        updated = _draft(actor.username, "unit:update", source, details)
        try:
            self._write_audited(unit_key(unit_id, unit.version), formats.UNIT, unit.to_dict(), [updated], now)
        except AlreadyExists:
            raise Conflict(
                f"Đơn vị “{unit_id}” vừa được người khác sửa: hãy tải lại và thử lại.", unit_id=unit_id
            ) from None
        return unit

    def _latest(self, prefix: str) -> tuple[int, bytes] | None:
        found = self._newest_listed(list(self.store.list(prefix)))
        return (int(found[0].rsplit("/v", 1)[1]), found[1]) if found is not None else None

    def _newest_listed(self, listed: Sequence[ObjectInfo]) -> tuple[str, bytes] | None:
        """:meth:`_newest_readable` of the versions ``listed`` (one object's, in order), each read
        with :meth:`ObjectStore.get_listed`: on S3 no GET of a version whose bytes this process
        read before under the ETag listed (s26: every request with a token or a page session read
        the same account version again, and the unit tree's versions). The listing is made anew
        by every caller: a version written by any process (a lock, a role changed, an end of
        sessions) is the newest one listed, and read, at the next request. Whatever the bytes
        came from, the caller checks them as before (format, seal, the rollback check)."""
        for info in reversed(listed):
            try:
                return info.key, self.store.get_listed(info)
            except NotFound:
                continue
        return None

    def _newest_readable(self, keys: list[str]) -> tuple[str, bytes] | None:
        """The newest of ``keys`` (versions of one object, in order) that can be read, with its
        bytes. A listing may name a version whose create-if-absent is still in flight (the S3
        gateway lists it before a GET finds it, under concurrent writers): that is not yet a
        version, and the one before it is the newest (a write from it then meets the one in
        flight and retries, as any lost race)."""
        for key in reversed(keys):
            try:
                return key, self.store.get(key)
            except NotFound:
                continue
        return None

    def get_unit(self, unit_id: str) -> Unit:
        if not is_organ_id(unit_id):
            raise UnitNotFound(f"Không có đơn vị “{unit_id}”.", unit_id=unit_id)
        named = self.audit.newest_named(f"units/{unit_id}", catch_up=False)  # before the listing
        found = self._latest(f"units/{unit_id}/v")
        if found is None:
            if named is not None:  # the log names it, the store has no version of it (review s21)
                raise self._unit_gone(unit_id, named)
            raise UnitNotFound(f"Không có đơn vị “{unit_id}”.", unit_id=unit_id)
        return self._unit(unit_key(unit_id, found[0]), found[1], named=named)

    def units(self) -> list[Unit]:
        """Every unit, its newest version: the one place the unit tree is read (the access
        policy's ``units_below``, the unit lists). A unit whose newest stored version is below the
        highest the audit log names is refused (``UNIT_ROLLED_BACK``, :meth:`_unit_rolled_back`):
        the log's word is read (one local query, the index as it is) before the store is listed.
        Within one operation (:meth:`_one_view`) the tree is read once."""
        view = _VIEW.get()
        if view is not None:
            if view.units is None:
                view.units = self._read_units()
            return list(view.units)
        return self._read_units()

    def _read_units(self) -> list[Unit]:
        named = self.audit.named_under("units/")
        versions: dict[str, list[ObjectInfo]] = {}
        for info in self.store.list("units/"):
            versions.setdefault(info.key.split("/")[1], []).append(info)  # in order: newest last
        found = [self._newest_listed(listed) for listed in versions.values()]
        stored = {f[0].rsplit("/v", 1)[0] for f in found if f is not None}
        for obj, number in sorted((named or {}).items()):
            if obj not in stored:  # named, so stored before its event: it was there (review s21)
                raise self._unit_gone(obj.split("/")[1], number)
        return [
            self._unit(*f, named=(named or {}).get(f[0].rsplit("/v", 1)[0])) for f in found if f is not None
        ]

    @staticmethod
    def _unit_gone(unit_id: str, named: int) -> UnitTampered:
        """The refusal of a unit the audit log names (up to version ``named``) and of which the
        store holds no version at all (review s21): deleted whole, its sub-units would lose their
        parent and its accounts their unit without a word. Same code as a unit with its newest
        versions deleted (``UNIT_ROLLED_BACK``, stored ``version`` 0); the way out is a restore of
        its versions from a backup (``kho unit accept-rollback`` has nothing to write on)."""
        logs.warn(__name__, "unit %s: no version stored, the audit log names version %d; refused",
                  unit_id, named)
        return UnitTampered(
            f"Đơn vị “{unit_id}” không còn phiên bản nào trong kho lưu trữ, nhưng nhật ký kiểm toán đã"
            f" ghi nhận đến phiên bản {named}: mọi phiên bản của đơn vị đã bị xóa khỏi kho lưu trữ. Cây"
            " đơn vị quyết định quyền truy cập nên Kho tạm dừng các thao tác cần đến nó. Hãy báo người"
            " vận hành hệ thống khôi phục các phiên bản bị xóa từ bản sao lưu.",
            code="UNIT_ROLLED_BACK",
            unit_id=unit_id,
            key=None,
            version=0,
            named_version=named,
        )

    @staticmethod
    def _unit_rolled_back(key: str, named: int | None) -> UnitTampered | None:
        """The refusal of the unit whose newest stored version is at ``key`` when an event of the
        audit log names a later version ``named`` of it (review s20, as an account's
        :meth:`_rolled_back`): that version was written and is gone from the store, which brings
        back the unit as it was before (a rename, a move under another parent, a closing undone)
        and changes who sees what. ``named`` must be read before the store is listed (Kho stores
        a version before its events). None: no check, or not rolled back."""
        unit_id, number = key.split("/")[1], int(key.rsplit("/v", 1)[1])
        if named is None or named <= number:
            return None
        logs.warn(
            __name__, "unit %s: newest stored version %d, the audit log names version %d; refused",
            unit_id, number, named,
        )
        return UnitTampered(
            f"Dữ liệu của đơn vị “{unit_id}” trong kho lưu trữ cũ hơn phiên bản mà nhật ký kiểm toán đã"
            f" ghi nhận (phiên bản {number}, nhật ký ghi đến phiên bản {named}): phiên bản mới hơn đã bị"
            " xóa khỏi kho lưu trữ. Cây đơn vị quyết định quyền truy cập nên Kho tạm dừng các thao tác"
            " cần đến nó. Hãy báo người vận hành hệ thống khôi phục phiên bản bị xóa từ bản sao lưu,"
            " hoặc chấp nhận phiên bản cũ kèm lý do (“kho unit accept-rollback”).",
            code="UNIT_ROLLED_BACK",
            unit_id=unit_id,
            key=key,
            version=number,
            named_version=named,
        )

    def _seal_of(
        self, kind: str, key: str, stored: Mapping[str, Any], written_in: int, raw: bytes
    ) -> Verdict:
        """:meth:`Sealer.verdict` of the object stored at ``key`` (its bytes ``raw``, parsed:
        ``stored``), a seal that checked remembered by the digest of the bytes (~2 µs, the check
        ~20 µs: its canonical JSON)."""
        digest = hashlib.sha256(raw).hexdigest()
        if self._sealed.get(key) == digest:
            return Verdict.SEALED
        verdict = self.sealer.verdict(kind, key, stored, written_in)
        if verdict is Verdict.SEALED:
            if len(self._sealed) >= NO_DOWNGRADE_REMEMBERED:
                self._sealed.clear()
            self._sealed[key] = digest
        return verdict

    def _unit(self, key: str, raw: bytes, *, named: int | None = None) -> Unit:
        """The unit version stored at ``key`` (the newest), refused (:class:`UnitTampered`) when
        its seal is due and does not check, or when it is of a format before seals after a
        sealed version (:mod:`repository.seals`): the unit tree is the access policy's input
        (who leads, who administers which unit), so a version slipped into the store must not
        move a unit. The downgrade check reads the versions before it once per process, only for
        a unit untouched since the upgrade (as an account's, :meth:`_downgraded_from`). Last,
        ``named`` (the highest version the audit log names, read before the listing): a version
        below it is refused as ``UNIT_ROLLED_BACK`` (:meth:`_unit_rolled_back`)."""
        stored = formats.parse(formats.UNIT.name, raw)
        unit = Unit.from_dict(stored)
        written_in = formats.version_of(formats.UNIT.name, stored)
        seal = self._seal_of(formats.UNIT.name, key, stored, written_in, raw)
        code = {Verdict.BROKEN: "UNIT_SEAL_INVALID", Verdict.UNSEALED: "UNIT_UNSEALED"}.get(seal)
        if seal is Verdict.LEGACY:
            unit_id, number = key.split("/")[1], int(key.rsplit("/v", 1)[1])
            before = self._downgraded_from(lambda n: unit_key(unit_id, n), number, written_in, raw)
            code = "UNIT_DOWNGRADED" if formats.downgrades([before, written_in]) else None
        if code is None:
            rolled_back = self._unit_rolled_back(key, named)
            if rolled_back is not None:
                raise rolled_back
            return unit
        logs.warn(__name__, "unit %s: %s (format %d); refused", key, code, written_in)
        if code == "UNIT_UNSEALED":
            raise UnitTampered(UNSEALED_MESSAGE.format(what=f"đơn vị “{unit.unit_id}”"), code=code,
                               unit_id=unit.unit_id, key=key)
        raise UnitTampered(
            f"Phiên bản mới nhất của đơn vị “{unit.unit_id}” không mang dấu xác thực hợp lệ của Kho"
            " (có thể đã bị ghi thẳng vào kho lưu trữ). Cây đơn vị quyết định quyền truy cập nên Kho"
            " tạm dừng các thao tác cần đến nó. Hãy báo người vận hành hệ thống chạy “kho fsck” và"
            " kiểm tra.",
            code=code,
            unit_id=unit.unit_id,
            key=key,
        )

    def units_below(self, unit_id: str) -> frozenset[str]:
        """``unit_id`` and every unit under it (empty if there is no such unit)."""
        children: dict[str | None, list[str]] = {}
        known: set[str] = set()
        for unit in self.units():
            children.setdefault(unit.parent_id, []).append(unit.unit_id)
            known.add(unit.unit_id)
        if unit_id not in known:
            return frozenset()
        out: set[str] = set()
        stack = [unit_id]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.add(current)
            stack.extend(children.get(current, ()))
        return frozenset(out)

    # -- accounts: reading and writing -----------------------------------------------------
    def _read(self, username: str, *, fresh: bool = False) -> Account | None:
        """The newest version of an account (None: no such account). Refused
        (:class:`AccountDowngraded`) when it was written in an older stored format than the version
        before it (:func:`formats.downgrades`): every login, token and change reads the account
        here, and none may build on a version slipped in by a hand in the store. One LIST and
        one GET more, only for an account whose newest version is not of the current format
        (untouched since an upgrade). Two downgraded versions in a row pass here; ``kho fsck``
        finds every one.

        ``fresh``: the audit log's index is caught up first (one GET of the witness), so that the
        rollback check of :meth:`_checked` also knows the versions other hosts wrote: the token
        and login paths, which decide with what they read."""
        name = username.strip().lower()
        if not passwords.is_username(name):
            return None
        named = self._named_version(name, fresh=fresh)  # (before the listing: see _rolled_back)
        found = self._latest(f"accounts/{name}/v")
        if found is None:
            return None
        return self._checked(name, *found, named=named)

    def _named_version(self, name: str, *, fresh: bool) -> int | None:
        """The highest version of account ``name`` an event of the audit log names, from its
        by-record index (:meth:`AuditLog.newest_named`; a local file: no store read, one witness
        GET when ``fresh``); None when none is or the index cannot answer."""
        return self.audit.newest_named(f"accounts/{name}", catch_up=fresh)

    @staticmethod
    def _rolled_back(name: str, number: int, named: int | None) -> AccountDowngraded | None:
        """The refusal of account ``name`` whose newest stored version is ``number`` when an event
        of the audit log names a later version ``named`` of it (review s18): that version was
        written and is gone from the store — its newest version(s) deleted, which brings back its
        ended tokens, a lock lifted, an old password, and which no seal can tell (a30 "the
        remaining replay"). The log is the freshness source outside the store writer's reach (its
        chain anchored by signed checkpoints). ``named`` must be read *before* the store is
        listed: Kho stores a version before its events, so whatever the log named then is stored
        by the time of the listing, and a version written by another request between the two
        reads cannot be taken for a deletion. None: no check (the index could not answer; ``kho
        fsck`` still reports the deleted version)."""
        if named is None or named <= number:
            return None
        logs.warn(
            __name__, "account %s: newest stored version %d, the audit log names version %d; refused",
            name, number, named,
        )
        return AccountDowngraded(
            f"Tài khoản “{name}” trong kho lưu trữ cũ hơn phiên bản mà nhật ký kiểm toán đã ghi nhận"
            f" (phiên bản {number}, nhật ký ghi đến phiên bản {named}): phiên bản mới hơn đã bị xóa"
            " khỏi kho lưu trữ. Tài khoản tạm không dùng được. Hãy báo người vận hành hệ thống chạy"
            " “kho fsck” và khôi phục phiên bản bị xóa từ bản sao lưu.",
            code="ACCOUNT_ROLLED_BACK",
            username=name,
            version=number,
            named_version=named,
        )

    def _checked(self, name: str, number: int, raw: bytes, *, named: int | None = None) -> Account:
        """Version ``number`` of account ``name`` (its bytes ``raw``: the newest), refused
        (:class:`AccountDowngraded`) when Kho may not act on it: the one rule of :meth:`_read` and
        of the listings (:meth:`accounts`), so that a forged version neither logs in nor counts
        (as "another quản trị remains", an archivist to notify) — review r22."""
        stored = formats.parse(formats.ACCOUNT.name, raw)  # parsed once: data and stored format
        account = Account.from_dict(formats.upcast(formats.ACCOUNT.name, stored))
        written_in = formats.version_of(formats.ACCOUNT.name, stored)
        seal = self._seal_of(formats.ACCOUNT.name, account_key(name, number), stored, written_in, raw)
        if seal is Verdict.UNSEALED:
            logs.warn(
                __name__, "account %s: version %d is not sealed (format %d); refused",
                name, number, written_in,
            )
            raise AccountDowngraded(
                UNSEALED_MESSAGE.format(what=f"tài khoản “{name}”"),
                code="ACCOUNT_UNSEALED",
                username=name,
                version=number,
            )
        if seal is Verdict.BROKEN:
            logs.warn(
                __name__, "account %s: version %d has no valid seal (format %d); refused",
                name, number, written_in,
            )
            raise AccountDowngraded(
                f"Phiên bản mới nhất của tài khoản “{name}” không mang dấu xác thực hợp lệ của Kho (có thể"
                " đã bị ghi thẳng vào kho lưu trữ): tài khoản tạm không dùng được. Hãy báo người vận"
                " hành hệ thống chạy “kho fsck” và kiểm tra.",
                code="ACCOUNT_SEAL_INVALID",
                username=name,
                version=number,
            )
        if carries_no_events(formats.ACCOUNT.name, written_in, stored):
            logs.warn(
                __name__,
                "account %s: version %d carries no audit events (format %d); refused",
                name,
                number,
                written_in,
            )
            raise AccountDowngraded(
                f"Phiên bản mới nhất của tài khoản “{name}” không mang sự kiện nhật ký như mọi phiên bản"
                " Kho ghi theo định dạng của nó (có thể đã bị ghi thẳng vào kho lưu trữ): tài khoản tạm"
                " không dùng được. Hãy báo người vận hành hệ thống chạy “kho fsck” và kiểm tra.",
                code="ACCOUNT_UNAUDITED",
                username=name,
                version=number,
            )
        if written_in < formats.ACCOUNT.current:
            before = self._downgraded_from(lambda n: account_key(name, n), number, written_in, raw)
            if formats.downgrades([before, written_in]):
                logs.warn(
                    __name__,
                    "account %s: version %d written in format %d after format %d (downgraded); refused",
                    name,
                    number,
                    written_in,
                    before,
                )
                raise AccountDowngraded(
                    f"Phiên bản mới nhất của tài khoản “{name}” được ghi theo định dạng cũ hơn phiên bản"
                    " trước nó (có thể đã bị sửa thẳng trong kho lưu trữ): tài khoản tạm không dùng được."
                    " Hãy báo người vận hành hệ thống chạy “kho fsck” và kiểm tra.",
                    username=name,
                    version=number,
                )
        if (rolled_back := self._rolled_back(name, number, named)) is not None:
            raise rolled_back
        return account

    def _downgraded_from(self, key_of: Callable[[int], str], number: int, written_in: int, raw: bytes) -> int:
        """The highest stored format of what came before version ``number`` (``key_of``: the key
        of a version of the account or unit, by number; that version was written in
        ``written_in``): every earlier store version of its key (written over in
        place) and every version numbered before it, read newest first up to the first of a
        format above ``written_in`` (a downgrade); -1 when there is none. Not only the version
        right before: two forged versions in a row would pass (review r18). One LIST and one
        GET per version, only for an account whose newest version is of an old format, once per
        process and version (:attr:`_no_downgrade`)."""
        key = key_of(number)
        digest = hashlib.sha256(raw).hexdigest()
        if self._no_downgrade.get(key) == digest:
            return -1
        highest = -1
        try:
            in_place = self.store.list_versions(key)[:-1]  # the last is the one read
        except NotFound:
            in_place = []
        earlier = [(key, info.version_id) for info in in_place]
        earlier += [(key_of(n), None) for n in range(number - 1, 0, -1)]
        for item, version_id in earlier:
            try:
                highest = max(highest, _written_in(self.store.get(item, version_id)))
            except NotFound:
                continue
            if highest > written_in:
                return highest
        if len(self._no_downgrade) >= NO_DOWNGRADE_REMEMBERED:
            self._no_downgrade.clear()
        self._no_downgrade[key] = digest
        return highest

    def write_sealed(self, key: str, actor: str, source: str | None) -> str:
        """Write the next version of the account or unit whose newest version is the unsealed one
        at ``key``, sealed, with an ``account:seal`` / ``unit:seal`` event by ``actor``; returns
        its key. Only :func:`repository.sealing.seal_unsealed` calls it, after checking that
        version against the audit log: this does not check (review r22).
        :class:`Conflict` when ``key`` is no longer the newest version."""
        now = self.clock()
        prefix, number = key.rsplit("/v", 1)
        name = prefix.split("/")[1]
        raw = self.store.get(key)
        if key.startswith("accounts/"):
            stored = formats.parse(formats.ACCOUNT.name, raw)
            current = Account.from_dict(formats.upcast(formats.ACCOUNT.name, stored))
            new = replace(current, version=current.version + 1, changed_at=now, changed_by=actor)
            next_key, kind, body = account_key(name, new.version), formats.ACCOUNT, new.to_dict()
            details: dict[str, Any] = {"username": name}
        else:
            stored = formats.parse(formats.UNIT.name, raw)
            unit = Unit.from_dict(stored)
            new_unit = replace(unit, version=unit.version + 1, created_at=now, actor=actor)
            next_key, kind, body = unit_key(name, new_unit.version), formats.UNIT, new_unit.to_dict()
            details = {"unit_id": name}
        details |= {"sealed": key, "format": formats.version_of(kind.name, stored)}
        action = "account:seal" if kind is formats.ACCOUNT else "unit:seal"
        try:
            self._write_audited(next_key, kind, body, [_draft(actor, action, source, details)], now)
        except AlreadyExists:
            raise Conflict(
                f"“{key}” vừa có phiên bản mới hơn: hãy chạy lại lệnh.", key=key, version=int(number)
            ) from None
        return next_key

    def get(self, username: str) -> Account:
        account = self._read(username)
        if account is None:
            raise AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
        return account

    def accounts(self) -> list[Account]:
        versions: dict[str, list[ObjectInfo]] = {}
        for info in self.store.list("accounts/"):
            versions.setdefault(info.key.split("/")[1], []).append(info)
        out: list[Account] = []
        for listed in versions.values():
            found = self._newest_listed(listed)
            if found is None:
                continue
            try:
                # (No rollback check here: the log's word would be read after the listing, so a
                # version written meanwhile would hide a genuine account; see _rolled_back.)
                out.append(self._checked(found[0].split("/")[1], int(found[0].rsplit("/v", 1)[1]), found[1]))
            except AccountDowngraded:
                continue  # logged by _checked; fsck names it: it neither logs in nor counts
        return out

    def managed_by(self, actor: Account, everyone: Iterable[Account] | None = None) -> list[Account]:
        """The accounts ``actor`` manages (:func:`~repository.policy.manages_accounts_of`: a quản
        trị of each of the account's units, at it or above), of ``everyone`` (default: every
        account): what the accounts list shows them (review a25: a phòng's quản trị listed the
        whole agency — who holds Tuyệt mật, locks, e-mails, pending resets — although they may
        act on none of it)."""
        principal = self.principal_of(actor)
        units_below = functools.cache(self.units_below)
        return [
            a
            for a in (self.accounts() if everyone is None else everyone)
            if manages_accounts_of(principal, units_below, a.units)
        ]

    def _write_audited(
        self,
        key: str,
        kind: formats.Kind,
        body: Mapping[str, Any],
        drafts: list[EventDraft],
        at: datetime | None,
        *,
        also: Callable[[], object] | None = None,
        then: Callable[[], object] | None = None,
        refused: list[AuditChainBroken] | None = None,
    ) -> None:
        """Create ``key`` (an account's or a unit's next version, a token) together with the audit
        events of the change it makes: the one write path of every audited change here. The
        events name the object (``details.object``) and the object carries them
        (:data:`STORED_EVENTS`); the object is written (after ``also``: the act's other writes
        before it, a password change's token revocations; ``then``: those after it, a token's
        index entry) under the log's lock once the log has accepted
        the act (:meth:`AuditLog.append_many` ``before``), and the events right after it. So a
        log that refuses the act (``AUDIT_CHAIN_BROKEN``) refuses the change too: nothing is
        written. :class:`AlreadyExists` (someone wrote ``key`` first): nothing is appended.

        ``refused``: a lock (wrong passwords, the idle days) takes effect also while the log
        refuses, as the regulation requires; the object is then written with its events in it,
        the refusal is added to ``refused`` instead of raised, and ``kho fsck --repair`` appends
        the events once the log takes events again (after ``kho audit acknowledge``)."""
        if not drafts:  # an object with no event is one no Kho writes (carries_no_events)
            raise ValueError(f"{key}: an audited change needs at least one event")
        events = [replace(d, details={**(d.details or {}), "object": key}) for d in drafts]
        stored = [
            {"actor": e.actor, "action": e.action, "source": e.source, "details": e.details} for e in events
        ]
        sealed = self.sealer.seal(kind.name, key, formats.stamp(kind.name, {**body, STORED_EVENTS: stored}))
        data = json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode()
        written: list[str] = []

        def write() -> None:
            if also is not None:
                also()
            self.store.put_if_absent(key, data)
            written.append(key)
            if then is not None:
                then()

        try:
            self.audit.append_many(events, at=at, before=write)
        except AuditChainBroken as exc:
            if refused is None or written:
                raise
            self.store.put_if_absent(key, data)
            refused.append(exc)

    def _save(
        self,
        current: Account,
        actor: str,
        events: EventsOf,
        *,
        also: Callable[[], object] | None = None,
        refused: list[AuditChainBroken] | None = None,
        **changes: Any,
    ) -> Account:
        """The next version of ``current`` with the audit events of the change
        (:meth:`_write_audited`); :class:`Conflict` if someone wrote it first."""
        new = replace(
            current, version=current.version + 1, changed_at=self.clock(), changed_by=actor, **changes
        )
        try:
            self._write_audited(
                account_key(new.username, new.version),
                formats.ACCOUNT,
                new.to_dict(),
                events(current, new),
                new.changed_at,
                also=also,
                refused=refused,
            )
        except AlreadyExists:
            raise Conflict(
                f"Tài khoản “{current.username}” vừa được thay đổi. Hãy tải lại và thử lại.",
                username=current.username,
                current_version=current.version + 1,
            ) from None
        return new

    def _update(
        self,
        username: str,
        actor: str,
        change: Callable[[Account], dict[str, Any]],
        events: EventsOf,
        *,
        also: Callable[[], object] | None = None,
        refused: list[AuditChainBroken] | None = None,
        ends: Sequence[Token] = (),
    ) -> tuple[Account, Account]:
        """Apply ``change`` (current → fields) to the newest version with its audit ``events``
        (before, after → events) in one act, retrying on a race; ``also`` and ``refused``: see
        :meth:`_write_audited`. An empty change writes nothing and records nothing.

        ``ends``: the tokens the act ends (read after ``change``, which may fill the list): the
        new version names them in :attr:`Account.ended_tokens` (review a30), so the act's ending
        is stated, sealed, in the version every request with a token reads.

        Returns ``(before, after)``."""
        for attempt in range(LOGIN_RETRIES):
            current = self.get(username)
            changes = change(current)
            if not changes:
                return current, current
            if ends:
                changes["ended_tokens"] = ended_tokens_with(
                    changes.get("ended_tokens", current.ended_tokens),
                    [(t.digest, token_end_of(t)) for t in ends],
                    self.clock(),
                )
            try:
                return current, self._save(current, actor, events, also=also, refused=refused, **changes)
            except Conflict:
                if attempt == LOGIN_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- accounts: creation ----------------------------------------------------------------
    def _memberships(
        self, items: Iterable[Membership | tuple[str, Role | str]], known: Mapping[str, Unit] | None = None
    ) -> tuple[Membership, ...]:
        """The memberships of ``items``, each role and unit checked; ``known``: units the
        operation has just read (not read again)."""
        out: list[Membership] = []
        errors: list[FieldError] = []
        for item in items:
            unit, role = (item.unit, item.role) if isinstance(item, Membership) else item
            try:
                membership = Membership(unit, Role(role))
            except ValueError:
                errors.append(FieldError("roles", "ROLE_INVALID", f"Vai trò “{role}” không có."))
                continue
            if membership not in out:
                out.append(membership)
        for unit in sorted({m.unit for m in out}):
            if known is not None and unit in known:
                continue
            try:
                self.get_unit(unit)
            except UnitNotFound as exc:
                errors.append(FieldError("unit_id", "UNIT_NOT_FOUND", exc.message))
        if errors:
            raise ValidationFailed(errors)
        return tuple(out)

    @staticmethod
    def _clearance(value: int) -> int:
        try:
            return int(Secrecy(int(value)))
        except (ValueError, TypeError):
            raise ValidationFailed(
                [
                    FieldError(
                        "clearance",
                        "CLEARANCE_INVALID",
                        "Mức được tiếp cận bí mật phải là 0 (Thường), 1 (Mật), 2 (Tối mật)"
                        " hoặc 3 (Tuyệt mật).",
                    )
                ]
            ) from None

    def _new_account(
        self,
        full_name: str,
        unit: Unit,
        memberships: tuple[Membership, ...],
        clearance: int,
        email: str | None,
        actor: str,
        *,
        split: bool,
    ) -> tuple[Account, str]:
        """A new account and what is handed out: with ``split`` (created by a person) the first
        half of its initial password, the account waiting for a second person's confirmation
        (:class:`PendingReset` with ``new_account``); without (the operator's ``bootstrap``)
        the whole initial password."""
        errors = name_errors(full_name, "full_name", "FULL_NAME_INVALID", "Họ và tên")
        errors += email_errors(email)
        if errors:
            raise ValidationFailed(errors)
        full_name = " ".join(nfc(full_name).split())
        now = self.clock()
        pending: PendingReset | None = None
        if split:
            initial = passwords.generate_password(RESET_HALF_LENGTH)
            pending = PendingReset(
                by=actor,
                at=now,
                first_hash=passwords.hash_password(initial, self.hasher),
                new_account=True,
            )
            # Never given out: no password works until the second person confirms.
            password_hash = passwords.hash_password(passwords.generate_password(), self.hasher)
        else:
            initial = passwords.generate_password()
            password_hash = passwords.hash_password(initial, self.hasher)
        for _ in range(LOGIN_RETRIES):
            username = passwords.propose_username(
                full_name, unit.code, lambda name: self.store.exists(account_key(name, 1))
            )
            account = Account(
                username=username,
                full_name=full_name,
                email=(email or "").strip() or None,
                memberships=memberships,
                clearance=clearance,
                password_hash=password_hash,
                password_changed_at=now,
                must_change_password=True,
                failed_logins=0,
                last_login_at=None,
                created_at=now,
                version=1,
                changed_at=now,
                changed_by=actor,
                reset=pending,
            )
            details = {
                "username": username,
                "memberships": [m.to_dict() for m in memberships],
                "clearance": clearance,
                "initial_password": "first-half" if split else "whole",
            }
            created = _draft(actor, "account:create", None, details)
            try:
                key = account_key(username, 1)
                self._write_audited(key, formats.ACCOUNT, account.to_dict(), [created], now)
            except AlreadyExists:
                continue  # a namesake was created at the same moment: take the next number
            return account, initial
        raise Conflict("Không tạo được tên tài khoản, hãy thử lại.")

    def bootstrap(
        self, unit_id: str, name: str, code: str, admin_full_name: str, email: str | None = None
    ) -> tuple[Unit, Account, str]:
        """First start (a local operator with direct store access): the agency's root unit and
        its first quản trị. Refused once any account exists."""
        if any(True for _ in self.store.list("accounts/")):
            self._deny(
                "system",
                "Hệ thống đã có tài khoản: hãy đăng nhập bằng tài khoản quản trị.",
                action="account:bootstrap",
                target=unit_id,
                source=None,
            )
        roots = [u for u in self.units() if u.parent_id is None]
        unit = roots[0] if roots else self.create_unit(unit_id, name, code, None, None)
        account, initial = self._new_account(
            admin_full_name, unit, (Membership(unit.unit_id, Role.QUAN_TRI),), 0, email, "system", split=False
        )
        return unit, account, initial

    def create_account(
        self,
        full_name: str,
        unit_id: str,
        roles: Iterable[Role | str],
        clearance: int,
        email: str | None,
        actor: Account,
        source: str | None = None,
    ) -> tuple[Account, str]:
        """A new account for a person of ``unit_id`` with ``roles`` there; returns it and the
        *first half* of its initial password. Two-person rule, as for a reset
        (:meth:`reset_password`): no password works for the account until a second person (another
        quản trị of its unit or the unit's lãnh đạo, never the creator:
        :func:`~repository.policy.may_confirm_reset`) confirms it (:meth:`confirm_reset`) and
        receives the second half; the person logs in once with both halves within
        :data:`RESET_VALID` of the confirmation and must set their own password. So a quản trị
        alone cannot make an account they can log in as (a "puppet": a content role they may not
        hold, or a second quản trị/lãnh đạo to confirm their own resets)."""
        # The unit is read once and handed down (s27: it was read again for the memberships and
        # for the notification's words): it decides no race, the account's put_if_absent does.
        unit = self.get_unit(unit_id)
        self._require_admin(actor, [unit_id], action="account:create", target=unit_id, source=source)
        memberships = self._memberships(((unit_id, r) for r in roles), {unit_id: unit})
        if not memberships:
            raise ValidationFailed([FieldError("roles", "ROLES_REQUIRED", "Cần ít nhất một vai trò.")])
        account, initial = self._new_account(
            full_name, unit, memberships, self._clearance(clearance), email, actor.username, split=True
        )
        self._notify(
            account.username,
            "rights",
            f"Tài khoản của bạn đã được tạo với vai trò: {_describe(memberships, self, {unit_id: unit})}.",
            actor.username,
        )
        return account, initial

    # -- authentication --------------------------------------------------------------------
    def authenticate(
        self, username: str, password: str, source: str | None = None, device: Device = None
    ) -> Account:
        """Log a person in (see the module docstring for every outcome).

        ``device``: what a web door (page, API) was shown of the browser's device token for
        this account, ``""`` for none (:func:`device_trusted`, review a21); a browser without a
        valid one is *untrusted*: its wrong passwords count only towards
        :attr:`Account.untrusted_lock_until`, never the account's lock. None: a door with no
        browser (the CLI on the server's shell, a logged-in person confirming an act), whose
        wrong passwords count towards the account's lock as before. After a login the account
        has a device key, and :func:`device_token` gives the browser its token."""
        account = self._read_to_log_in(username, password, source, log_may_refuse=False)
        if account is None or account.status is Status.DELETED:
            self._refuse_unknown(username, password, source)
        new_hash = self._check_login(account, password, source, device)
        now = self.clock()
        untrusted = device is not None and not device_trusted(account, device, now)

        def success(current: Account) -> dict[str, Any]:
            if current.status is not Status.ACTIVE or self._new_browsers_locked(current, device, now, source):
                return {}
            changes: dict[str, Any] = {"failed_logins": 0, "last_login_at": now}
            if current.device_key is None:
                changes["device_key"] = _new_device_key()
            place = new_browser_place(current, source)
            if untrusted and getattr(current, place.failures):
                changes[place.failures] = 0  # the right password from a new browser
            known = remembered_networks(current, source)
            if device is not None and known != current.known_networks:
                changes["known_networks"] = known  # a web door's login: its network is known
            if current.failures_since is not None and (
                current.last_failed_at is None or now - current.last_failed_at >= self.lock_duration
            ):
                changes["failures_since"] = None  # no guess for a whole lock period: the run is over
            if new_hash is not None and current.password_hash == account.password_hash:
                changes["password_hash"] = new_hash
            return changes

        def login(_: Account, after: Account) -> list[EventDraft]:
            due = self._password_due(after, now)
            details = {"password_change_due": due.code} if due else {}
            return [_draft(after.username, "account:login", source, details)]

        seen, account = self._update(account.username, account.username, success, login)
        if account.status is not Status.ACTIVE:  # locked (or deleted) meanwhile by someone else
            self._refuse_locked(account, source, device=device)
        if self._new_browsers_locked(seen, device, now, source):  # new browsers locked meanwhile
            self._refuse_locked(seen, source, device=device, untrusted=True)
        due = self._password_due(account, now)
        if due is not None:
            raise due
        return account

    def authenticate_unrecorded(
        self, username: str, password: str, source: str | None = None, device: Device = None
    ) -> Account:
        """Check a person's password like :meth:`authenticate` but record no ``account:login``:
        for the one act that must work while the audit log refuses every event (``kho audit
        acknowledge``), which records the login inside its own event. A wrong password still
        counts towards the lock; while the log refuses, its ``account:login-failed`` (and the
        lock's event) stay in the account's version until ``kho fsck --repair`` appends them
        (:meth:`_record_failure`), and the answer is a plain :class:`LoginFailed`. ``device``: as
        for :meth:`authenticate` (the page's form is a door without a session)."""
        account = self._read_to_log_in(username, password, source)
        if account is None or account.status is Status.DELETED:
            self._burn_login(password)
            raise _login_failed()
        self._refuse_if_locked(account, password, source, device, audit_may_refuse=True)
        ok, _ = self._check_password(account, password, source)
        try:
            self._count_wrong(account, ok, source, device, audit_may_refuse=True)
        except AuditChainBroken:
            raise _login_failed() from None
        now = self.clock()
        # Nothing is written here to check again at (:meth:`authenticate`): read the account
        # anew after the slow password check, so that a lock written meanwhile (five wrong
        # passwords sent beside this one) holds for this act too (review rv16).
        fresh = self._read(account.username) or account
        if fresh.status is not Status.ACTIVE:
            self._refuse_locked(fresh, source, device=device, audit_may_refuse=True)
        if self._new_browsers_locked(fresh, device, now, source):
            self._refuse_locked(fresh, source, device=device, audit_may_refuse=True, untrusted=True)
        due = self._password_due(account, now)
        if due is not None:
            raise due
        return account

    def authenticate_locked_auditor(
        self, username: str, password: str, source: str | None = "cli"
    ) -> WayOut:
        """The way out of a lock-out of the only kiểm toán viên while the audit log refuses:
        nobody can then acknowledge the log's findings (``kho audit acknowledge`` needs a kiểm
        toán viên's password), and nothing that keeps the auditor out can be lifted, because
        lifting it is an audited change the log refuses (:meth:`unlock`, :meth:`change_password`,
        :meth:`recover`). What keeps them out: a lock by wrong passwords (which still count while
        the log refuses, :meth:`_record_failure`: an attacker's five guesses), the 90 idle days
        (stored or due at this login) and a password older than 3 months. Auditors log in
        rarely, so the last two need no attacker (review r14).

        Only ``kho audit acknowledge --locked-out`` on the server calls this (a test keeps it
        that way), and it writes nothing: it returns the account as it is, with what kept it out
        (:class:`WayOut`), for that one act, which records it in its own event (``login``).
        Its rule, each refusal with its code (audited when the log takes the event, which it
        does not in the case this is for):

        * the right password; a wrong one gets ``LOGIN_FAILED`` and counts towards the lock as
          at every login when the account is open (else this would be a guessing path around
          the lock);
        * something above keeps the account out (``ACCOUNT_NOT_LOCKED`` 409: the ordinary
          command works); a lock someone chose (``left``, ``admin``) is not lifted by this
          (``RECOVERY_LOCK_REASON`` 403), nor is a password a quản trị reset or issued
          (``PASSWORD_CHANGE_REQUIRED``: the one-time password is not the person's alone);
        * it holds the kiểm toán viên role (``RECOVERY_NOT_AUDITOR``) and no other kiểm toán viên
          could acknowledge (active, not idle, no password change due; else
          ``RECOVERY_NOT_NEEDED``: that auditor acknowledges);
        * the log refuses events now (:func:`repository.audit.checked_witness`, or the store is
          behind its anchored history: the log's ``before_write`` check), else
          ``AUDIT_LOG_ACCEPTS`` (409): a quản trị unlocks, the person changes the password.

        The account stays as it is: once the acknowledgement is written the log takes events
        again, and a quản trị unlocks it (the person changes the password) the ordinary,
        audited way."""
        from repository.audit import checked_witness

        action = "audit:acknowledge"
        account = self._read_to_log_in(username, password, source)
        if account is None or account.status is Status.DELETED:
            self._burn_login(password)
            raise _login_failed()
        ok, _ = self._check_password(account, password, source)
        if not ok:
            if account.status is Status.ACTIVE:  # a guess at an open account counts here too
                try:
                    self._record_failure(account.username, source)
                except AuditChainBroken:
                    raise _login_failed() from None
            raise _login_failed()
        now = self.clock()
        locked = self._kept_out_by(account, now)
        due = self._password_due(account, now)
        expired = isinstance(due, PasswordExpired)
        if account.status is Status.LOCKED and locked is None:
            self._deny_unrecorded(
                f"Tài khoản “{account.username}” bị khóa vì lý do khác"
                f" ({(account.lock_reason or LockReason.ADMIN).label}): chỉ quản trị mở khóa được.",
                account.username,
                action,
                source,
                "RECOVERY_LOCK_REASON",
            )
        if locked is None and not expired:
            if due is not None:
                raise due
            raise Conflict(
                f"Tài khoản “{account.username}” không bị khóa: chạy lệnh không kèm --locked-out.",
                code="ACCOUNT_NOT_LOCKED",
                username=account.username,
            )
        if not account.has_role(Role.KIEM_TOAN):
            self._deny_unrecorded(
                f"Tài khoản “{account.username}” không phải kiểm toán viên.",
                account.username,
                action,
                source,
                "RECOVERY_NOT_AUDITOR",
            )
        if any(  # (as for LAST_ADMIN: someone must be behind the other account)
            a.username != account.username
            and a.has_role(Role.KIEM_TOAN)
            and a.someone_behind(now)
            and self._may_log_in(a, now)
            for a in self.accounts()
        ):
            self._deny_unrecorded(
                "Không cần: còn kiểm toán viên khác đang hoạt động; người đó chấp nhận các phát hiện.",
                account.username,
                action,
                source,
                "RECOVERY_NOT_NEEDED",
            )
        try:
            checked_witness(self.store)
            if self.audit.before_write is not None:
                # a store put back behind its anchored history refuses too (AUDIT_HISTORY_BEHIND,
                # repository.rollback) though its witness is consistent (review rv23, open 4)
                self.audit.before_write()
        except AuditChainBroken:
            pass
        else:
            raise Conflict(
                "Nhật ký kiểm toán đang nhận sự kiện: quản trị mở khóa tài khoản (kho account unlock)"
                " hoặc người dùng đổi mật khẩu như thường lệ.",
                code="AUDIT_LOG_ACCEPTS",
                username=account.username,
            )
        if due is not None and not expired:  # a reset or first password: not theirs alone
            raise due
        return WayOut(account, locked, expired)

    def _kept_out_by(self, account: Account, now: datetime) -> str | None:
        """The lock that keeps ``account`` out and that the way out may pass: ``failed_logins``
        or ``idle`` (stored, or due at this login); None when it is open or locked otherwise."""
        if account.status is Status.LOCKED:
            reason = account.lock_reason
            return reason.value if reason in (LockReason.FAILED_LOGINS, LockReason.IDLE) else None
        if account.status is Status.ACTIVE and passwords.idle_locked(
            account.last_login_at, account.created_at, now, unlocked_at=account.unlocked_at
        ):
            return LockReason.IDLE.value
        return None

    def _may_log_in(self, account: Account, now: datetime) -> bool:
        """Whether ``account`` gets past a login's rules with its password: active, not idle,
        no password change due."""
        return (
            account.active
            and self._kept_out_by(account, now) is None
            and self._password_due(account, now) is None
        )

    def _deny_unrecorded(
        self, message: str, target: str, action: str, source: str | None, code: str
    ) -> NoReturn:
        """:meth:`_deny` by the operator, the refusal standing also when the log refuses its event."""
        try:
            self._deny(OPERATOR, message, action=action, target=target, source=source, code=code)
        except AuditChainBroken:
            raise PermissionDenied(message, code=code, actor=OPERATOR, target=target) from None

    def _someone_behind(self, account: Account, now: datetime) -> bool:
        """:meth:`Account.someone_behind`, and not an account whose login is refused as
        :meth:`password_unconfirmed` (nobody can act through it until it is reset), nor one
        rolled back in the store (review rv44): :meth:`accounts` lists its older version without
        the check (s18), and ``LAST_ADMIN`` counted that version — an active quản trị refused
        everywhere — as the quản trị left. Read from the index as it is, after the listing: a
        version written meanwhile may make a genuine account look rolled back: ``LAST_ADMIN``
        then refuses (a retry answers), and the operator's way out is let through (operator only)."""
        if not account.someone_behind(now) or self.password_unconfirmed(account):
            return False
        named = self._named_version(account.username, fresh=False)
        return named is None or named <= account.version

    def _others_behind(self, username: str) -> list[Principal]:
        """The policy's view of every account but ``username`` that a person can be counted on
        to act through (:meth:`_someone_behind`): who else could do what an operator is asked."""
        now = self.clock()
        return [
            self.principal_of(a)
            for a in self.accounts()
            if a.username != username and self._someone_behind(a, now)
        ]

    def _password_set_by(self, account: Account) -> str:
        """Who wrote the version that set the account's current password: walking back over the
        versions that kept its ``password_changed_at`` (logins, locks, role changes, a recovery)
        to the first with it — for a never-used account made under the old rule its first
        version, written by its creator. One GET per version walked; none for a first version.
        A version that cannot be read names nobody, which is neither the person nor the operator."""
        current = account
        while current.version > 1:
            key = account_key(account.username, current.version - 1)
            try:
                before = Account.from_dict(formats.loads(formats.ACCOUNT.name, self.store.get(key)))
            except (NotFound, FormatInvalid):
                return ""
            if before.password_changed_at != account.password_changed_at:
                break
            current = before
        return current.changed_by

    def password_unconfirmed(self, account: Account) -> bool:
        """:func:`password_unconfirmed` for ``account``, walking its versions only when its fields
        allow it (a password given out and not yet changed: rare)."""
        return account.password_given_out and password_unconfirmed(account, self._password_set_by(account))

    def _unconfirmed_error(self, account: Account) -> PasswordNotConfirmed:
        return PasswordNotConfirmed(
            "Mật khẩu của tài khoản này do một người cấp một mình (theo quy định cũ, trước khi cần hai"
            " người) và chưa được người dùng đổi, nên không dùng được để đăng nhập hay cấp mã truy"
            " cập. Hãy đề nghị quản trị cấp lại mật khẩu; một quản trị khác hoặc lãnh đạo đơn vị"
            " xác nhận (chờ đặt lại mật khẩu hai người).",
            username=account.username,
        )

    def _refuse_unconfirmed(self, account: Account, source: str | None) -> NoReturn:
        """Refuse the right password of an account :meth:`password_unconfirmed`: audited
        (an auditor sees who tries a possible puppet), the refusal standing also when the log
        refuses the event."""
        self._audit_refused_login(account.username, source, {"reason": "password-not-confirmed"})
        raise self._unconfirmed_error(account)

    def _check_password(
        self, account: Account, password: str, source: str | None = None
    ) -> tuple[bool, str | None]:
        """:func:`passwords.verify_password` for the account: ``(matches, new_hash)``. While a
        reset is pending (:class:`PendingReset`) the password is the one-time password, the two
        halves one after the other, each checked against its own hash; it matches only once the
        reset is confirmed and while it is valid (:class:`PasswordResetExpired` when both halves
        are right but it is not).

        A wrong password costs :data:`LOGIN_VERIFICATIONS` hash checks, reset pending or not, so
        that the time taken does not tell an outsider whether a reset is pending: the second half
        is checked only when the first half matched (someone who holds it already knows).

        The right password of an account :meth:`password_unconfirmed` (a possible puppet: its
        password given out whole by one person under the old rule) is refused here, for every login, password
        change and way out that checks a password: :class:`PasswordNotConfirmed`."""
        reset = account.reset
        if reset is None:
            ok, new_hash = passwords.verify_password(account.password_hash, password, self.hasher)
            if ok and self.password_unconfirmed(account):
                self._refuse_unconfirmed(account, source)
            return ok, new_hash
        first, second = password[:RESET_HALF_LENGTH], password[RESET_HALF_LENGTH:]
        first_ok, _ = passwords.verify_password(reset.first_hash, first, self.hasher)
        if not first_ok:
            return False, None
        second_ok, _ = passwords.verify_password(account.password_hash, second, self.hasher)
        if not second_ok:
            return False, None
        if not reset.usable(self.clock()):
            raise PasswordResetExpired(
                "Mật khẩu dùng một lần đã hết hạn (hiệu lực"
                f" {int(RESET_VALID.total_seconds() // 3600)} giờ sau khi được xác nhận). Hãy đề nghị"
                " quản trị cấp lại mật khẩu.",
                username=account.username,
            )
        return True, None

    def _password_due(self, account: Account, now: datetime) -> PasswordChangeRequired | None:
        if account.must_change_password:
            return PasswordChangeRequired(
                "Bạn phải đổi mật khẩu trước khi sử dụng hệ thống (lần đăng nhập đầu tiên hoặc mật khẩu"
                " do quản trị cấp lại).",
                account=account,
                username=account.username,
            )
        if passwords.password_expired(account.password_changed_at, now):
            expired = passwords.password_expires_at(account.password_changed_at)
            return PasswordExpired(
                f"Mật khẩu đã hết hạn từ {vn_display(expired)} (phải đổi ít nhất"
                f" {passwords.PASSWORD_MAX_AGE_MONTHS:02d} tháng một lần). Hãy đổi mật khẩu.",
                account=account,
                username=account.username,
            )
        return None

    def _locked_error(self, account: Account) -> AccountLocked:
        reason = account.lock_reason or LockReason.ADMIN
        if reason is LockReason.FAILED_LOGINS and account.lock_until is not None:
            return AccountLocked(
                f"Tài khoản “{account.username}” đang bị khóa ({reason.label}). Tài khoản tự động mở"
                f" khóa lúc {vn_display(account.lock_until)}; quản trị hệ thống có thể mở khóa sớm hơn.",
                username=account.username,
                reason=reason.value,
                until=_iso(account.lock_until),
            )
        return AccountLocked(
            f"Tài khoản “{account.username}” đang bị khóa ({reason.label}). Hãy liên hệ quản trị hệ"
            " thống để mở khóa.",
            username=account.username,
            reason=reason.value,
        )

    def _expire_lock(self, account: Account, now: datetime, source: str | None) -> Account:
        """The account as it is once a lock for wrong passwords whose time is over has ended
        (QCVN 12:2026/BCA 3.6.2.1.9.3): written as the system's audited ``account:unlock``
        (reason ``lock-expired``), by whichever request first meets it (a login, a token). A lock
        someone chose, or one written before locks had an end (no ``lock_until``), stays. While
        the audit log refuses the event the lock stays too (the stricter state)."""
        if not (
            account.status is Status.LOCKED
            and account.lock_reason is LockReason.FAILED_LOGINS
            and account.lock_until is not None
            and now >= account.lock_until
        ):
            return account

        ending: list[Token] = []

        def end(current: Account) -> dict[str, Any]:
            ending.clear()
            if current.status is not Status.LOCKED or current.lock_until != account.lock_until:
                return {}  # unlocked, or locked again, meanwhile
            ending.extend(self._ended_by_lock(current))
            return {
                "status": Status.ACTIVE,
                "lock_reason": None,
                "lock_until": None,
                "failed_logins": 0,
                "failures_since": None,
                "last_failed_at": None,
                "lock_ended_at": now,  # a run beginning within a lock period re-locks
            }

        def ended(_: Account, after: Account) -> list[EventDraft]:
            details = {
                "username": after.username,
                "previous_reason": LockReason.FAILED_LOGINS.value,
                "reason": "lock-expired",
                "note": "hết thời gian khóa",
                "locked_until": _iso(account.lock_until),
            } | ({"sessions_ended": len(ending)} if ending else {})
            return [_draft("system", "account:unlock", source, details)]

        try:
            before, after = self._update(
                account.username,
                "system",
                end,
                ended,
                ends=ending,
                also=lambda: self._revoke(ending, "system", now),
            )
        except AuditChainBroken:
            return account
        if before.version != after.version:
            self._notify(
                after.username, "unlock", "Tài khoản của bạn đã tự động mở khóa (hết thời gian khóa).",
                "system",
            )
        return after

    def _ended_by_lock(self, account: Account) -> list[Token]:
        """The live tokens of ``account`` that its present lock ended, to revoke in the act that
        lifts it (an expiry, an unlock): those opened up to a chosen lock (``sessions_valid_from``),
        and under a lock for wrong passwords those opened after the first wrong password of the
        run (``failures_since``). The lock's own act revokes the latter, but a token issued by a
        second process between its listing and its write escapes it (review rv10): refused while
        the lock lasts (:meth:`survives_lock`), it would come back when the lock ends. No token
        opens while the account is locked (a login is refused, and a token issued meanwhile is
        revoked when its issuer finds the lock), so no later token is caught."""
        valid_from = account.sessions_valid_from
        locked_by_run = account.status is Status.LOCKED and account.lock_reason is LockReason.FAILED_LOGINS
        run = account.failures_since if locked_by_run else None
        return [
            t
            for t in self._tokens_to_revoke(account.username)
            if (valid_from is not None and t.created_at <= valid_from)
            or (run is not None and t.created_at > run)
        ]

    def survives_lock(self, account: Account, token: Token) -> bool:
        """Whether ``token`` still acts for ``account`` while it is locked: only under a lock for
        wrong passwords, only a token opened before (or at) the first wrong password of the run
        that locked it (``failures_since``), and never under a re-lock (below).

        Why: anyone who knows a name can lock it with five guesses (QCVN 3.6.2.1.9.2 wants the
        lock); if the lock also ended the person's sessions, an outsider could log the director
        out of the session at their desk at will. A session opened before the first guess
        cannot be the guesser's: it was opened with the password before anyone guessed. A
        session opened after it may be the guesser's, who found the password on the 4th try;
        those end with the lock (revoked in its act, :meth:`_record_failure`). A successful
        login does not end the run (it resets the count only): a guesser who got in and then
        failed on purpose to lock the owner out keeps nothing, because the run began before
        their session. The run ends only after a whole lock period without a wrong password
        (a login then clears it), at an unlock or when the lock expires. A lock someone chose
        (``admin``, ``left``) or the 90 idle days keeps every token out.

        **Re-lock (review a20).** Someone who holds the password (a thief) opens a session, then
        sends five wrong passwords: their session predates the run, so by the rule above it
        survives, and the owner, whose right password now gets ``ACCOUNT_LOCKED``, cannot get
        in or change the password; after each expiry the thief logs in and locks again. So a lock
        spares sessions only once in a row: a run that begins within one lock period
        (``KHO_LOGIN_LOCK_HOURS``) after the previous lock for wrong passwords ended
        (``lock_ended_at``: its expiry or a quản trị's unlock) locks as a *re-lock*. A re-lock
        spares no session: like a lock a quản trị chose, it ends every session and token opened
        up to it for good (``sessions_valid_from``, revoked in its act), the person and every
        quản trị who manages the account are notified, and its ``account:lock`` event says
        ``relock: true``. The thief therefore keeps a session through one lock period at most,
        and none while they keep the account locked; the owner gets the account back through a
        quản trị's password reset (which ends every token and gives the password to the owner
        only) or by changing the password in a quiet moment. The cost: an outsider who re-locks
        right after an expiry also ends the owner's desk session (the second time only), which
        the quản trị sees in the alert. A session that survives a lock still administers
        nothing until the lock ends (:meth:`_current_actor`): it may be the thief's."""
        return (
            account.lock_reason is LockReason.FAILED_LOGINS
            and account.failures_since is not None
            and token.created_at <= account.failures_since
            and (account.sessions_valid_from is None or token.created_at > account.sessions_valid_from)
        )

    def relocks(self, account: Account, run_began: datetime) -> bool:
        """Whether a run of wrong passwords that began at ``run_began`` locks ``account`` as a
        re-lock (:meth:`survives_lock`): within one lock period after its previous lock for wrong
        passwords ended."""
        ended = account.lock_ended_at
        return ended is not None and run_began < ended + self.lock_duration

    def _alert_admins(self, account: Account, message: str) -> None:
        """Notify every active quản trị who manages ``account`` (not the account itself)."""
        for admin in self.accounts():
            if admin.username == account.username or not admin.active or Role.QUAN_TRI not in admin.roles:
                continue
            if manages_accounts_of(self.principal_of(admin), self.units_below, account.units):
                self._notify(admin.username, "lock", message, "system")

    def _read_to_log_in(
        self, username: str, password: str, source: str | None, *, log_may_refuse: bool = True
    ) -> Account | None:
        """:meth:`_read` for a path that checks a password before anything else (logins, the
        password change, the locked-out auditor's way out). An account refused as downgraded or
        unaudited (:class:`AccountDowngraded`) answers there as a wrong password does, after the
        same hash work: the refusal comes before any password check, so its own answer would tell
        anyone which names exist and were tampered with (review r18). The refusal is logged (by
        :meth:`_read`) and audited as an ``account:login-failed`` with its reason, for the
        operator and the auditor; a quản trị reading the account (:meth:`get`) gets it plainly.
        ``log_may_refuse``: as a wrong password's event on that path — False where a wrong
        password's refused event answers :class:`AuditChainBroken` (a login, a password change),
        True where it answers :class:`LoginFailed` (the unrecorded logins); otherwise, while the
        log refuses, the answer would tell the refused account from every other (review r19)."""
        try:
            return self._read(username, fresh=True)
        except AccountDowngraded as refused:
            self._burn_login(password)
            reasons = {
                "ACCOUNT_UNAUDITED": "unaudited",
                "ACCOUNT_SEAL_INVALID": "seal",
                "ACCOUNT_UNSEALED": "unsealed",
                "ACCOUNT_ROLLED_BACK": "rolled-back",
            }
            reason = reasons.get(refused.code, "downgraded")
            self._audit_refused_login(
                _audit_name(username.strip().lower()),
                source,
                {"reason": reason},
                log_may_refuse=log_may_refuse,
            )
            raise _login_failed() from refused

    def _burn_login(self, password: str) -> None:
        """Spend the hash checks of a login (:data:`LOGIN_VERIFICATIONS`) for a name that has no
        account, so that time does not tell which names exist."""
        for _ in range(LOGIN_VERIFICATIONS):
            passwords.burn_verify(password, self.hasher)

    def _check_login(
        self, account: Account, password: str, source: str | None, device: Device = None
    ) -> str | None:
        """The password check of a login (and of a password change) for an account that is not
        deleted; returns the rehash to store, if any. A lock whose time is over ends first
        (:meth:`_expire_lock`); a login after 90 days without one locks the account, whatever
        the password; then :meth:`_refuse_if_locked` decides the attempt before any password
        check. A wrong password gets :class:`LoginFailed`, after the same hash checks as an
        unknown name."""
        now = self.clock()
        account = self._expire_lock(account, now, source)
        if account.status is Status.ACTIVE and self._idle(account, now):
            self._burn_login(password)  # before the write: the hash work of every attempt first
            account = self._system_lock(account.username, LockReason.IDLE, source)
            self._refuse_locked(account, source, device=device)
        self._refuse_if_locked(account, password, source, device)
        ok, new_hash = self._check_password(account, password, source)
        self._count_wrong(account, ok, source, device)
        return new_hash

    def _idle(self, account: Account, now: datetime) -> bool:
        """Whether 90 days without a login keep ``account`` out (:func:`passwords.idle_locked`)."""
        return passwords.idle_locked(
            account.last_login_at, account.created_at, now, unlocked_at=account.unlocked_at
        )

    def _refuse_if_locked(
        self,
        account: Account,
        password: str,
        source: str | None,
        device: Device,
        *,
        audit_may_refuse: bool = False,
    ) -> None:
        """The one rule of a login attempt under a lock, for every door that checks a password
        (login page, ``/api/login``, the password page and ``/api/password``, the auditor's
        acknowledgement form, the CLI; review a23): while the account is not active, 90 days
        without a login keep it out, or the new-browser lock of the attempt's place holds
        (:meth:`_new_browsers_locked`), the password is **not checked** — the same hash work is
        burnt (:meth:`_burn_login`) so that time tells nothing — nothing is counted, and the
        attempt is refused by :meth:`_refuse_locked`, whose answer depends on who asks, never
        on the password. Before a22's known networks, only the right password learned of a lock
        and every guess was still verified: one guess per address past the limiter told the
        right password apart (a22's lock oracle). Returns when no lock applies."""
        now = self.clock()
        # The account's own lock, when there is one, is the reason given (it is the stronger).
        active = account.status is Status.ACTIVE
        untrusted = active and self._new_browsers_locked(account, device, now, source)
        if active and not untrusted and not self._idle(account, now):
            return
        self._burn_login(password)
        self._refuse_locked(
            account, source, device=device, audit_may_refuse=audit_may_refuse, untrusted=untrusted
        )

    def _count_wrong(
        self,
        account: Account,
        ok: bool,
        source: str | None,
        device: Device,
        *,
        audit_may_refuse: bool = False,
    ) -> None:
        """After the password check of an attempt no lock applied to (:meth:`_refuse_if_locked`):
        from a browser without a valid device token (``device`` given, :func:`device_trusted`),
        count a wrong password towards the new-browser lock only; otherwise towards the
        account's lock (:meth:`_record_failure`). Returns only for the right password."""
        now = self.clock()
        if ok:
            return
        if device is not None and not device_trusted(account, device, now):
            self._record_untrusted_failure(account.username, source, device)
        else:
            self._record_failure(account.username, source, device)

    @staticmethod
    def _new_browsers_locked(account: Account, device: Device, now: datetime, source: str | None) -> bool:
        """Whether a login from ``device`` is refused by the new-browser lock: a door with a
        browser (``device`` not None) and no valid device token of ``account`` while such logins
        are locked (:meth:`_record_untrusted_failure`). Checked before the password and again
        where a login or a password change is written (review rv16): a right guess under way
        when the fifth wrong one locked new browsers is refused too, as the account's own lock
        refuses one (:meth:`authenticate`). The lock of ``source``'s place
        (:func:`new_browser_place`, review a22)."""
        if device is None:
            return False
        until = getattr(account, new_browser_place(account, source).lock_until)
        return until is not None and now < until and not device_trusted(account, device, now)

    def _untrusted_locked_error(self, account: Account, source: str | None) -> AccountLocked:
        until = getattr(account, new_browser_place(account, source).lock_until) or self.clock()
        return AccountLocked(
            f"Tài khoản “{account.username}” đang tạm khóa đăng nhập từ trình duyệt hoặc thiết bị mới"
            f" (nhập sai mật khẩu {self.max_failed} lần từ nơi chưa từng đăng nhập) đến"
            f" {vn_display(until)}. Hãy đăng nhập từ trình duyệt bạn đã đăng nhập trước đây, hoặc liên"
            " hệ quản trị hệ thống.",
            username=account.username,
            reason=UNTRUSTED_LOCK,
            until=_iso(until),
        )

    def _record_untrusted_failure(self, username: str, source: str | None, device: Device) -> NoReturn:
        """Count a wrong password from a browser without a device token of the account (review
        a21). The ``max_failed``-th in a row locks logins from such browsers for one lock period
        (:attr:`Account.untrusted_lock_until`): the guesser is stopped as by the account's lock,
        but the owner's sessions live on and a browser that logged in before still logs in (with
        its own budget, :meth:`_record_failure`), so an outsider cannot keep the owner out. The
        person is told at each such lock; every quản trị who manages the account when one follows
        within a lock period after the previous one ended (someone keeps at it)."""
        now = self.clock()

        def fail(current: Account) -> dict[str, Any]:
            # Locked meanwhile (a wrong password sent beside this one): not counted, refused below
            # as the right password in flight is (:meth:`authenticate`), review a26.
            if current.status is not Status.ACTIVE or self._new_browsers_locked(current, device, now, source):
                return {}
            place = new_browser_place(current, source)
            last, until = getattr(current, place.failed_at), getattr(current, place.lock_until)
            quiet = last is None or now - last >= self.lock_duration
            ended = last is not None and until is not None and last < until <= now  # a new run after a lock
            count = 1 if quiet or ended else getattr(current, place.failures) + 1
            changes: dict[str, Any] = {
                place.failures: count,
                place.failed_at: now,
                # The run of wrong passwords begins here too (a18): a session opened after it may
                # be the guesser's, and ends if the account's own lock follows (:meth:`survives_lock`).
                "failures_since": current.failures_since or now,
                "last_failed_at": now,
            }
            if passwords.locks_after_failure(count, self.max_failed):
                changes[place.lock_until] = now + self.lock_duration
            return changes

        def again(before: Account) -> bool:
            until = getattr(before, new_browser_place(before, source).lock_until)
            return until is not None and now < until + self.lock_duration

        def failed(before: Account, after: Account) -> list[EventDraft]:
            place = new_browser_place(before, source)
            known = {"known_network": True} if place.known_network else {}
            events = [
                _draft(
                    after.username,
                    "account:login-failed",
                    source,
                    {
                        "reason": "wrong-password",
                        "untrusted": True,
                        "untrusted_failures": getattr(after, place.failures),
                    }
                    | known,
                )
            ]
            if getattr(after, place.lock_until) != getattr(before, place.lock_until):
                details = {
                    "username": after.username,
                    "reason": UNTRUSTED_LOCK,
                    "until": _iso(getattr(after, place.lock_until)),
                } | known | ({"relock": True} if again(before) else {})
                events.append(_draft("system", "account:lock", source, details))
            return events

        refused: list[AuditChainBroken] = []
        before, after = self._update(username, username, fail, failed, refused=refused)
        if before.status is not Status.ACTIVE:
            self._refuse_locked(before, source, device=device)
        if self._new_browsers_locked(before, device, now, source):  # the answer of the right password
            self._refuse_locked(before, source, device=device, untrusted=True)
        place = new_browser_place(before, source)
        if getattr(after, place.lock_until) != getattr(before, place.lock_until):
            until = vn_display(getattr(after, place.lock_until) or now)
            self._notify(
                username,
                "lock",
                f"Có người nhập sai mật khẩu tài khoản của bạn {self.max_failed} lần từ trình duyệt hoặc"
                f" thiết bị chưa từng đăng nhập: đăng nhập từ nơi mới bị tạm khóa đến {until}. Các phiên"
                " làm việc của bạn vẫn tiếp tục, và trình duyệt bạn đã đăng nhập trước đây vẫn đăng nhập"
                " được. Nếu không phải bạn, hãy báo quản trị hệ thống.",
                "system",
            )
            if again(before):
                self._alert_admins(
                    after,
                    f"Tài khoản “{username}” lại bị nhập sai mật khẩu {self.max_failed} lần từ trình duyệt"
                    f" hoặc thiết bị chưa từng đăng nhập, ngay sau lần tạm khóa trước: đăng nhập từ nơi mới"
                    f" bị tạm khóa đến {until}; người dùng vẫn đăng nhập được từ trình duyệt quen. Có thể"
                    " có người đang dò mật khẩu: hãy kiểm tra nhật ký và liên hệ người dùng.",
                )
        if refused:
            raise refused[0]
        raise _login_failed()

    def _refuse_unknown(
        self, username: str, password: str, source: str | None, *, during: str | None = None
    ) -> NoReturn:
        """Refuse a login (or a password change, ``during``) for a name with no active account:
        the same hash work and answer as a wrong password, and an ``account:login-failed``
        (``unknown-account``) in the log, so guessing names is seen by the auditor."""
        self._burn_login(password)
        details: dict[str, Any] = {"reason": "unknown-account"}
        if during is not None:
            details["during"] = during
        self.audit.append(
            _audit_name(username.strip().lower()),
            "account:login-failed",
            source=source,
            at=self.clock(),
            details=details,
        )
        raise _login_failed()

    def _audit_refused_login(
        self, who: str, source: str | None, details: dict[str, Any], *, log_may_refuse: bool = True
    ) -> None:
        """Append the ``account:login-failed`` of a refused login. ``log_may_refuse``: the refusal
        stands when the audit log refuses the event (the answer is the same either way)."""
        try:
            self.audit.append(who, "account:login-failed", source=source, at=self.clock(), details=details)
        except AuditChainBroken:
            if not log_may_refuse:
                raise

    def _refuse_locked(
        self,
        account: Account,
        source: str | None,
        *,
        device: Device,
        audit_may_refuse: bool = False,
        untrusted: bool = False,
    ) -> NoReturn:
        """Refuse a login attempt a lock applies to (:meth:`_refuse_if_locked`, or a lock
        written while the attempt was under way): :class:`AccountLocked` with the reason to an
        attempt :meth:`_told_of_lock`, to anyone else the answer for an unknown name; never
        depending on the password (review a23). Nothing is counted; the attempt is audited
        (``audit_may_refuse``: the answer stands when the audit log refuses the event, for
        :meth:`authenticate_unrecorded`). ``untrusted``: a login from a browser without a device
        token while such logins are locked (:meth:`_record_untrusted_failure`), refused alike;
        the account, its sessions and its trusted browsers are untouched. An active account kept
        out by 90 days without a login and not locked for it (a door that writes nothing,
        :meth:`authenticate_unrecorded`) is refused as locked for ``idle``."""
        if account.status is Status.ACTIVE and not untrusted and self._idle(account, self.clock()):
            account = replace(account, status=Status.LOCKED, lock_reason=LockReason.IDLE, lock_until=None)
        if untrusted or account.status is Status.LOCKED:
            reason = UNTRUSTED_LOCK if untrusted else (account.lock_reason or LockReason.ADMIN).value
            self._audit_refused_login(
                account.username,
                source,
                {"reason": "locked", "lock_reason": reason},
                log_may_refuse=audit_may_refuse,
            )
            if self._told_of_lock(account, device, source):
                if untrusted:
                    raise self._untrusted_locked_error(account, source)
                raise self._locked_error(account)
        raise _login_failed()

    def _told_of_lock(self, account: Account, device: Device, source: str | None) -> bool:
        """Whether a refused attempt is told of the lock (:class:`AccountLocked`, review a23):
        it carries a valid device token of the account, comes from one of its known networks
        (:func:`new_browser_place`), or comes through a door with no browser (``device`` None:
        the CLI, which runs on the server with the store's credentials and so could read the
        account anyway, and a logged-in person confirming an act). Those callers learn only that
        the name exists and is locked (the password is not checked), and the owner at a known
        place reads why they are kept out; a stranger's browser gets the unknown name's answer."""
        if device is None or new_browser_place(account, source).known_network:
            return True
        return device_trusted(account, device, self.clock())

    def _system_lock(self, username: str, reason: LockReason, source: str | None) -> Account:
        def lock(current: Account) -> dict[str, Any]:
            if current.status is not Status.ACTIVE:
                return {}
            return {"status": Status.LOCKED, "lock_reason": reason}

        def locked(_: Account, after: Account) -> list[EventDraft]:
            details = {"username": after.username, "reason": reason.value}
            return [_draft("system", "account:lock", source, details)]

        refused: list[AuditChainBroken] = []  # a lock holds also while the log refuses
        before, after = self._update(username, "system", lock, locked, refused=refused)
        if before.status is Status.ACTIVE:
            self._notify(username, "lock", f"Tài khoản của bạn đã bị khóa: {reason.label}.", "system")
        if refused:
            raise refused[0]
        return after

    def _record_failure(self, username: str, source: str | None, device: Device = None) -> NoReturn:
        """Count a wrong password; the ``max_failed``-th in a row locks the account (as a
        re-lock within one lock period of the previous lock's end, :meth:`survives_lock`)."""

        now = self.clock()
        ending: list[Token] = []

        def relock(after: Account) -> bool:
            return after.failures_since is not None and self.relocks(after, after.failures_since)

        def fail(current: Account) -> dict[str, Any]:
            ending.clear()
            if current.status is not Status.ACTIVE:
                return {}
            count = current.failed_logins + 1
            since = current.failures_since or now
            changes: dict[str, Any] = {"failed_logins": count, "failures_since": since, "last_failed_at": now}
            if passwords.locks_after_failure(count, self.max_failed):
                changes |= {
                    "status": Status.LOCKED,
                    "lock_reason": LockReason.FAILED_LOGINS,
                    "lock_until": now + self.lock_duration,
                }
                if self.relocks(current, since):  # spares no session (:meth:`survives_lock`)
                    changes["sessions_valid_from"] = max(now, current.sessions_valid_from or now)
                    ending.extend(self._tokens_to_revoke(username))
                else:
                    ending.extend(t for t in self._tokens_to_revoke(username) if t.created_at > since)
            return changes

        def failed(_: Account, after: Account) -> list[EventDraft]:
            events = [
                _draft(
                    after.username,
                    "account:login-failed",
                    source,
                    {"reason": "wrong-password", "failed_logins": after.failed_logins},
                )
            ]
            if after.status is Status.LOCKED:
                details = (
                    {
                        "username": after.username,
                        "reason": LockReason.FAILED_LOGINS.value,
                        "until": _iso(after.lock_until),
                        "failures_since": _iso(after.failures_since),
                    }
                    | ({"sessions_ended": len(ending)} if ending else {})
                    | ({"relock": True, "previous_lock_ended": _iso(after.lock_ended_at)}
                       if relock(after) else {})
                )
                events.append(_draft("system", "account:lock", source, details))
            return events

        # The count and the lock hold also while the audit log refuses (the lock is required
        # by regulation): the version then carries its events, appended by ``kho fsck --repair``
        # once the log takes events again (:meth:`_write_audited`).
        refused: list[AuditChainBroken] = []
        before, after = self._update(
            username, username, fail, failed, ends=ending, also=lambda: self._revoke(ending, "system", now),
            refused=refused,
        )
        if before.status is not Status.ACTIVE:  # locked (or deleted) meanwhile: no further count
            self._refuse_locked(before, source, device=device)
        if after.status is Status.LOCKED and relock(after):
            self._notify(
                username,
                "lock",
                f"Tài khoản của bạn lại bị khóa ({LockReason.FAILED_LOGINS.label}) ngay sau lần khóa trước:"
                " mọi phiên làm việc và mã truy cập đã kết thúc. Nếu không phải bạn nhập sai, có thể người"
                " khác đã biết mật khẩu: hãy báo quản trị hệ thống để cấp lại mật khẩu.",
                "system",
            )
            self._alert_admins(
                after,
                f"Tài khoản “{username}” bị khóa lại do nhập sai mật khẩu ngay sau khi vừa mở khóa (lần khóa"
                " trước kết thúc lúc " + vn_display(after.lock_ended_at or now) + "): có thể người khác"
                " đã biết mật khẩu. Mọi phiên làm việc của tài khoản đã kết thúc; hãy liên hệ người dùng"
                " và cấp lại mật khẩu nếu cần.",
            )
        elif after.status is Status.LOCKED:
            self._notify(
                username, "lock", f"Tài khoản của bạn đã bị khóa: {LockReason.FAILED_LOGINS.label}.", "system"
            )
        if refused:
            raise refused[0]
        # The wrong password that locks the account gets the answer of every wrong password:
        # the person learns of the lock from the notification, or at the next right password.
        raise _login_failed()

    def change_password(
        self,
        username: str,
        old: str,
        new: str,
        source: str | None = None,
        *,
        keep: str | None = None,
        device: Device = None,
    ) -> Account:
        """The person changes their own password (checks the old one like a login does).

        Every other token of the account ends with it (web sessions, API logins, personal
        tokens): a person changes their password when they fear it is known, and a session
        stolen with it must not outlive the change. ``keep``: the SHA-256 (:func:`token_digest`)
        of the token the change is made through, which stays valid so that the person stays
        logged in. The count is in the ``account:password`` event."""
        account = self._read_to_log_in(username, old, source, log_may_refuse=False)
        if account is None or account.status is Status.DELETED:
            self._refuse_unknown(username, old, source, during="account:password")
        self._check_login(account, old, source, device)
        passwords.require_strong(new, account.username)
        if new == old:
            raise ValidationFailed(
                [FieldError("password", "PASSWORD_REUSED", "Mật khẩu mới phải khác mật khẩu cũ.")]
            )
        now = self.clock()
        new_hash = passwords.hash_password(new, self.hasher)
        # The tokens end before the new hash is written, as in a reset: a failure between the
        # two leaves the old password with no stolen session, never the new one with it. Both
        # are written once the log has accepted the act (:meth:`_write_audited`).
        ending = self._tokens_to_revoke(account.username, keep=keep)

        def change(current: Account) -> dict[str, Any]:
            # Only over the password that was checked: a reset (or another change) written
            # since is not undone by a change sent with the password it ended (review a6).
            if current.password_hash != account.password_hash or current.reset != account.reset:
                raise Conflict(
                    "Mật khẩu của tài khoản vừa được thay đổi hoặc cấp lại: mật khẩu mới chưa được"
                    " lưu. Hãy đăng nhập lại bằng mật khẩu hiện hành.",
                    code="PASSWORD_CHANGED_MEANWHILE",
                    username=account.username,
                )
            if self._new_browsers_locked(current, device, now, source):  # locked meanwhile: refused below
                return {}
            return {
                "password_hash": new_hash,
                "password_changed_at": now,
                "must_change_password": False,
                "failed_logins": 0,
                "reset": None,
                # Every device token given out under the old password ends (a thief's browser
                # too); the person's browser gets a new one at its next login.
                "device_key": _new_device_key(),
                "known_networks": (),  # a thief's network is not the owner's any more
            }

        seen, after = self._update(
            account.username,
            account.username,
            change,
            lambda _, a: [_draft(a.username, "account:password", source, {"tokens_revoked": len(ending)})],
            ends=ending, also=lambda: self._revoke(ending, account.username, now),
        )
        if self._new_browsers_locked(seen, device, now, source):  # nothing written: locked meanwhile
            self._refuse_locked(seen, source, device=device, untrusted=True)
        self._revoke_late(account.username, account.username, source, keep=keep)
        return after

    def reset_password(self, username: str, actor: Account, source: str | None = None) -> tuple[Account, str]:
        """A quản trị resets the password of a person who lost it; returns the *first half* of
        the one-time password. Two-person rule: the second half is given by someone else, who
        confirms the reset (:meth:`confirm_reset`); the person logs in once with both halves
        (first then second, no space), within :data:`RESET_VALID` of the confirmation, and must
        set their own password. Until then no password works (the old one ends here). So the
        quản trị who reset, holding one half, cannot log in as the person."""
        target = self._target(
            username, actor, Action.ACCOUNT_MANAGE, action="account:password", source=source
        )
        self._require_admin(
            actor, target.units, action="account:password", target=target.username, source=source
        )
        first = passwords.generate_password(RESET_HALF_LENGTH)
        unusable = passwords.generate_password()  # never given out: no password works until confirmed
        new_hash = passwords.hash_password(unusable, self.hasher)
        first_hash = passwords.hash_password(first, self.hasher)
        # An account nobody has yet logged in to with their own password stays a *new* account
        # (so listed to the confirmer): a reset must not pass a creator's account off as routine.
        new_account = (
            target.reset is not None and target.reset.new_account
        ) or self.password_unconfirmed(target)
        pending = PendingReset(
            by=actor.username, at=self.clock(), first_hash=first_hash, new_account=new_account
        )
        now = pending.at
        # A reset is what a quản trị does when a password is lost or known to someone else: every
        # token issued before it (web sessions, API logins, personal tokens) ends first, or whoever
        # holds one would be let in again once the person has set their new password.
        ending = self._tokens_to_revoke(target.username)
        _, after = self._update(
            username,
            actor.username,
            lambda _: {
                "password_hash": new_hash,
                "password_changed_at": now,
                "must_change_password": True,
                "reset": pending,
                "device_key": None,  # no browser trusted under the lost password stays trusted
                "known_networks": (),
            },
            lambda _, a: [
                _draft(
                    actor.username,
                    "account:password",
                    source,
                    {"username": a.username, "reset": True, "tokens_revoked": len(ending)},
                )
            ],
            ends=ending, also=lambda: self._revoke(ending, actor.username, now),
        )
        self._revoke_late(target.username, actor.username, source)
        return after, first

    def confirm_reset(self, username: str, actor: Account, source: str | None = None) -> tuple[Account, str]:
        """The second person of a reset (:meth:`reset_password`) or of a new account's initial
        password (:meth:`create_account`): another quản trị of the person's units or the head of
        their unit, never the one who reset or created it nor the person
        (:func:`~repository.policy.may_confirm_reset`). Returns the *second half* of the
        one-time password, valid for :data:`RESET_VALID` from now. ``PASSWORD_RESET_NOT_PENDING``
        (409) when there is nothing unconfirmed. Audited ``account:password-confirm`` (with
        ``reset_by``) or ``account:create-confirm`` (with ``created_by``).

        Its two checks of the actor see one view of the actor and the unit tree (:meth:`_one_view`,
        s27); the write reads the account afresh (:meth:`_update`)."""
        with self._one_view():
            return self._confirm_reset(username, actor, source)

    def _confirm_reset(self, username: str, actor: Account, source: str | None) -> tuple[Account, str]:
        target = self._target(
            username, actor, Action.ACCOUNT_LOCK, action="account:password-confirm", source=source
        )
        pending = self._awaiting_confirmation(target)
        action = _confirm_action(pending)
        vouched = self.vouched_clearance(pending.by)
        self._require(
            actor,
            lambda p: may_confirm_reset(
                p,
                self.units_below,
                target.username,
                target.units,
                pending.by,
                clearance=target.clearance,
                vouched=vouched,
            ),
            action=action,
            target=target.username,
            source=source,
        )
        return self._confirm(target, pending, actor.username, source)

    def _password_outstanding(self, account: Account) -> bool:
        """Whether someone other than the person may hold the account's password: a one-time
        password (new account, reset) not yet replaced, or one given alone under the old rule."""
        return account.reset is not None or self.password_unconfirmed(account)

    def vouched_clearance(self, username: str) -> int:
        """The clearance the first person of a two-person act (who created the account or reset
        its password) vouches for at its confirmation (:func:`~repository.policy.grants_clearance`):
        :func:`vouched_by` their account as stored now."""
        return vouched_by(self._read(username))

    def confirm_by_operator(self, username: str, source: str | None = "cli") -> tuple[Account, str]:
        """The operator (direct store access, who could write any account object anyway)
        confirms a pending new account or reset and receives the second half: for an
        installation where nobody else may confirm yet (the first quản trị creating the first
        lãnh đạo or second quản trị). Audited under :data:`OPERATOR`."""
        target = self.get(username)
        return self._confirm(target, self._awaiting_confirmation(target), OPERATOR, source)

    def _awaiting_confirmation(self, target: Account) -> PendingReset:
        pending = target.reset
        if pending is None or not pending.awaiting:
            raise Conflict(
                "Tài khoản không có yêu cầu cấp lại mật khẩu đang chờ xác nhận, cũng không phải tài khoản mới"
                " chờ xác nhận.",
                code="PASSWORD_RESET_NOT_PENDING",
                username=target.username,
            )
        return pending

    def _confirm(
        self, target: Account, pending: PendingReset, actor: str, source: str | None
    ) -> tuple[Account, str]:
        """Store the confirmation of ``pending`` by ``actor`` (already decided) and return the
        second half."""
        second = passwords.generate_password(RESET_HALF_LENGTH)
        second_hash = passwords.hash_password(second, self.hasher)
        now = self.clock()

        def confirm(current: Account) -> dict[str, Any]:
            if current.reset != pending:
                return {}  # confirmed, reset again or changed meanwhile: nothing to do here
            return {
                "password_hash": second_hash,
                "reset": replace(pending, confirmed_by=actor, confirmed_at=now),
            }

        def confirmed(_: Account, a: Account) -> list[EventDraft]:
            by = "created_by" if pending.new_account else "reset_by"
            return [_draft(actor, _confirm_action(pending), source, {"username": a.username, by: pending.by})]

        _, after = self._update(target.username, actor, confirm, confirmed)
        done = after.reset
        if done is None or done.confirmed_by != actor or done.confirmed_at != now:
            raise Conflict(
                "Yêu cầu cấp mật khẩu vừa thay đổi. Hãy tải lại và thử lại.",
                code="PASSWORD_RESET_NOT_PENDING",
                username=target.username,
            )
        return after, second

    def _tokens_to_revoke(self, username: str, *, keep: str | None = None) -> list[Token]:
        """Every token of ``username`` not yet revoked, but the one whose digest is ``keep``."""
        return [t for t in self.tokens_of(username) if not t.revoked and t.digest != keep]

    def _revoke(self, tokens: Iterable[Token], actor: str, now: datetime) -> None:
        """Revoke ``tokens`` (one revoked meanwhile by someone else stays so): part of the act
        that ends them (:meth:`_write_audited` ``also``), counted in its event."""
        for token in tokens:
            try:
                self.store.put_if_absent(
                    token_revoked_key(token.digest),
                    _dump(
                        formats.TOKEN_REVOCATION, {"digest": token.digest, "at": _iso(now), "actor": actor}
                    ),
                )
            except AlreadyExists:
                pass
            self._mark_revoked(token.digest, now, actor)

    def _mark_revoked(self, digest: str, at: datetime, actor: str) -> None:
        """Rewrite the token's own object, sealed, with ``revoked_at``/``revoked_by`` (format 4,
        review a28), after its revocation object is written: the revocation is then stated in
        the very object every request reads, so deleting ``tokens/<sha256>.revoked.json``
        revives nothing, and deleting the token's object leaves an unknown token. Nothing when
        it is gone, already says so, or carries a seal that does not check (refused anyway).
        The store keeps the replaced version (:meth:`ObjectStore.put`)."""
        key = token_key(digest)
        try:
            stored = formats.parse(formats.TOKEN.name, self.store.get(key))
            written_in = formats.version_of(formats.TOKEN.name, stored)
        except (NotFound, FormatInvalid):
            return
        if self.sealer.verdict(formats.TOKEN.name, key, stored, written_in) is Verdict.BROKEN:
            return
        data = formats.upcast(formats.TOKEN.name, stored)
        if data.get("revoked_at"):
            return
        data.update(revoked=True, revoked_at=_iso(at), revoked_by=actor)
        sealed = self.sealer.seal(formats.TOKEN.name, key, formats.stamp(formats.TOKEN.name, data))
        self.store.put(key, json.dumps(sealed, ensure_ascii=False, sort_keys=True).encode())

    def _revoke_audited(self, username: str, digest: str, actor: str, source: str | None, **why: Any) -> None:
        """Revoke one token as its own audited act (``account:token-revoke``); nothing when it is
        revoked already."""
        now = self.clock()
        try:
            until = token_end_of(self._token(digest))
        except NotFound:
            until = now + timedelta(days=TOKEN_DAYS_MAX)  # (its object deleted: refused anyway)
        details = {"username": username, "token": digest[:12], **why}
        self._end_token(username, digest, until, actor, source, now, details)

    def _end_token(
        self,
        username: str,
        digest: str,
        until: datetime,
        actor: str,
        source: str | None,
        now: datetime,
        details: dict[str, Any],
    ) -> None:
        """End one token as its own audited act (``account:token-revoke``): the account's next
        version names it in :attr:`Account.ended_tokens` (review a30: the positive, sealed
        statement every request reads) and carries the event; its revocation object is written
        with it (``also``) and its own object marked after (:meth:`_mark_revoked`), as before.
        No new version (and no event) when the account names it already."""
        revocation = _dump(formats.TOKEN_REVOCATION, {"digest": digest, "at": _iso(now), "actor": actor})

        def write_revocation() -> None:
            try:
                self.store.put_if_absent(token_revoked_key(digest), revocation)
            except AlreadyExists:
                pass  # revoked already (or by a concurrent end of the same token)

        def end(current: Account) -> dict[str, Any]:
            if current.status is Status.DELETED or token_ended_in(current, digest):
                return {}
            return {"ended_tokens": ended_tokens_with(current.ended_tokens, [(digest, until)], now)}

        try:
            self._update(
                username,
                actor,
                end,
                lambda _, a: [_draft(actor, "account:token-revoke", source, details)],
                also=write_revocation,
            )
        except AccountNotFound:
            pass  # no account any more: its tokens are refused with it
        write_revocation()
        self._mark_revoked(digest, now, actor)

    def _revoke_late(self, username: str, actor: str, source: str | None, *, keep: str | None = None) -> None:
        """After a password change or reset is written: revoke the tokens issued since its list
        was taken (a login checked with the old password whose session was written meanwhile,
        review a6). A login checked after the write sees the new password and is not among them:
        its token is written after this second list."""
        for token in self._tokens_to_revoke(username, keep=keep):
            self._revoke_audited(username, token.digest, actor, source, reason="password-changed")

    # -- rights ----------------------------------------------------------------------------
    def set_roles(
        self,
        username: str,
        memberships: Iterable[Membership | tuple[str, Role | str]],
        actor: Account,
        source: str | None = None,
    ) -> Account:
        target = self._target(username, actor, Action.ACCOUNT_MANAGE, action="account:roles", source=source)
        wanted = self._memberships(memberships)
        change = RightsChange(
            roles_before=frozenset((m.unit, m.role) for m in target.memberships),
            roles_after=frozenset((m.unit, m.role) for m in wanted),
            clearance_before=target.clearance,
            clearance_after=target.clearance,
        )
        units = target.units | {m.unit for m in wanted}

        def roles(b: Account, a: Account) -> list[EventDraft]:
            details = {
                "username": a.username,
                "before": [m.to_dict() for m in b.memberships],
                "after": [m.to_dict() for m in a.memberships],
            }
            return [_draft(actor.username, "account:roles", source, details)]

        def change_roles(current: Account) -> dict[str, Any]:
            if set(current.memberships) != set(target.memberships):  # decided on what was read
                raise Conflict(
                    f"Vai trò của tài khoản “{target.username}” vừa được người khác thay đổi: hãy"
                    " tải lại và thử lại.",
                    code="ROLES_CHANGED_MEANWHILE",
                    username=target.username,
                )
            return {"memberships": wanted} if set(current.memberships) != set(wanted) else {}

        with self._admins_guard(change.admin_units_given_up):
            self._require_rights_admin(actor, target, units, change, action="account:roles", source=source)
            before, after = self._update(username, actor.username, change_roles, roles)
        if set(before.memberships) == set(after.memberships):
            return after
        self._notify(
            after.username,
            "rights",
            f"Vai trò của bạn đã thay đổi: {_describe(before.memberships, self)} → "
            f"{_describe(after.memberships, self)}.",
            actor.username,
        )
        return after

    def set_clearance(
        self, username: str, clearance: int, actor: Account, source: str | None = None
    ) -> Account:
        target = self._target(
            username, actor, Action.ACCOUNT_MANAGE, action="account:clearance", source=source
        )
        level = self._clearance(clearance)
        roles = frozenset((m.unit, m.role) for m in target.memberships)
        change = RightsChange(roles, roles, target.clearance, level)
        self._require_rights_admin(
            actor, target, target.units, change, action="account:clearance", source=source
        )
        self._require(
            actor,
            lambda _: raises_over_a_handed_out_password(
                target.clearance, level, outstanding=self._password_outstanding(target)
            ),
            action="account:clearance",
            target=target.username,
            source=source,
        )

        def cleared(b: Account, a: Account) -> list[EventDraft]:
            details = {"username": a.username, "before": b.clearance, "after": a.clearance}
            return [_draft(actor.username, "account:clearance", source, details)]

        before, after = self._update(
            username, actor.username, lambda c: {"clearance": level} if c.clearance != level else {}, cleared
        )
        if before.clearance == after.clearance:
            return after
        self._notify(
            after.username,
            "rights",
            f"Mức được tiếp cận thông tin mật của bạn đã thay đổi: {Secrecy(before.clearance).label}"
            f" → {Secrecy(after.clearance).label}.",
            actor.username,
        )
        return after

    def clear_by_operator(
        self, username: str, clearance: int, reason: str, source: str | None = "cli"
    ) -> Account:
        """The operator (``kho account clearance USER LEVEL --operator --reason "Quyết định số …"``,
        on the server's shell, never from a page or the API) raises the clearance of the first
        quản trị or lãnh đạo, by the head's decision named in ``reason``
        (:func:`~repository.policy.operator_clears`; review a25). Audited ``account:clearance``
        by ``operator`` with the reason; refusals ``access:denied``. The person is told."""
        action = "account:clearance"
        level = self._clearance(clearance)
        refuse_line_breaks(reason, "reason", "Lý do")
        why = " ".join(nfc(reason).split())
        if blank(why):
            raise ValidationFailed(
                [
                    FieldError(
                        "reason",
                        "CLEARANCE_REASON_REQUIRED",
                        "Phải ghi căn cứ (quyết định của người đứng đầu cho tiếp cận bí mật nhà nước).",
                    )
                ]
            )
        target = self._read(username)
        if target is None or target.status is Status.DELETED:
            raise AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
        if not target.active or target.awaiting_confirmation:
            self._deny(
                OPERATOR,
                f"Tài khoản “{target.username}” không hoạt động hoặc đang chờ xác nhận mật khẩu: chưa cấp"
                " mức tiếp cận thông tin mật được.",
                action=action,
                target=target.username,
                source=source,
                code="CLEARANCE_OPERATOR_INACTIVE",
            )
        others = self._others_behind(target.username)
        decision = operator_clears(
            self.principal_of(target), target.units, level, others, self.units_below
        ) and raises_over_a_handed_out_password(
            target.clearance, level, outstanding=self._password_outstanding(target)
        )
        if not decision:
            self._deny(
                OPERATOR,
                decision.message,
                action=action,
                target=target.username,
                source=source,
                code=decision.code,
            )
        details = {"username": target.username, "before": target.clearance, "after": level, "reason": why}
        before, after = self._update(
            target.username,
            OPERATOR,
            lambda c: {"clearance": level} if c.clearance == target.clearance and c.active else {},
            lambda _, a: [_draft(OPERATOR, action, source, details)],
        )
        if before.version == after.version:  # changed meanwhile
            raise Conflict(
                f"Tài khoản “{target.username}” vừa được thay đổi. Hãy kiểm tra lại rồi thử lại.",
                username=target.username,
            )
        self._notify(
            after.username,
            "rights",
            f"Mức được tiếp cận thông tin mật của bạn đã thay đổi: {Secrecy(before.clearance).label}"
            f" → {Secrecy(after.clearance).label} (người vận hành, theo {why}).",
            OPERATOR,
        )
        return after

    def lock(
        self, username: str, reason: LockReason | str, actor: Account, source: str | None = None
    ) -> Account:
        """Lock an account: reason ``left`` by a quản trị or the head (lãnh đạo) of the person's
        unit (Điều 7 k4 a); ``admin`` by a quản trị only. Such a lock never ends by itself, and it
        ends every session and token of the account for good (``sessions_valid_from``): someone
        chose to stop the person, so an unlock gives back the account, not the sessions (which a
        lock and an unlock within the idle timeout used to revive; NOTES-a16 "Found, not fixed" 3)."""
        try:
            why = LockReason(reason)
        except ValueError:
            why = None
        if why is None or why not in (LockReason.LEFT, LockReason.ADMIN):
            raise ValidationFailed(
                [FieldError("reason", "LOCK_REASON_INVALID", "Lý do khóa phải là “left” hoặc “admin”.")]
            )
        target = self._target(username, actor, Action.ACCOUNT_LOCK, action="account:lock", source=source)
        units, asked = target.units, why.value
        self._require(
            actor,
            lambda p: may_lock(p, self.units_below, units, asked),
            action="account:lock",
            target=target.username,
            source=source,
        )
        own = actor.username == target.username
        with self._admins_guard(_admin_units(target) if own else ()):
            if own:
                # Only one's own lock can leave the units with no quản trị by choice; the head of a
                # unit must still lock the account of a last quản trị who has left (or gone rogue).
                self._require_another_admin(target, actor, action="account:lock", source=source)
            if target.status is Status.DELETED:
                raise AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
            now = self.clock()
            ending: list[Token] = []

            def lock(c: Account) -> dict[str, Any]:
                ending[:] = [t for t in self._tokens_to_revoke(username) if t.created_at <= now]
                if c.status is Status.DELETED:
                    return {}
                return {
                    "status": Status.LOCKED, "lock_reason": why,
                    "lock_until": None, "sessions_valid_from": now,
                }

            _, after = self._update(
                username,
                actor.username,
                lock,
                # (no ``ends``: ``sessions_valid_from`` is this lock's sealed statement, and while
                # the lock lasts its tokens are refused as locked, which says why)
                events=lambda _, a: [
                    _draft(
                        actor.username,
                        "account:lock",
                        source,
                        {"username": a.username, "reason": why.value}
                        | ({"sessions_ended": len(ending)} if ending else {}),
                    )
                ],
            )
        self._notify(after.username, "lock", f"Tài khoản của bạn đã bị khóa: {why.label}.", actor.username)
        return after

    def unlock(self, username: str, actor: Account, source: str | None = None) -> Account:
        """A quản trị unlocks: failures reset, the 90 idle days start again. An active account
        whose logins from new browsers are locked (:meth:`_record_untrusted_failure`) has that
        lock lifted (review a21: the person on a new computer, with the quản trị's word)."""
        target = self._target(username, actor, Action.ACCOUNT_MANAGE, action="account:unlock", source=source)
        self._require_admin(
            actor, target.units, action="account:unlock", target=target.username, source=source
        )
        now = self.clock()
        in_force = [
            place
            for place in (ELSEWHERE, KNOWN_NETWORK)
            if (until := getattr(target, place.lock_until)) is not None and now < until
        ]
        if target.status is Status.ACTIVE and in_force:
            _, lifted = self._update(
                username,
                actor.username,
                lambda c: {
                    field: value
                    for place in (ELSEWHERE, KNOWN_NETWORK)
                    if getattr(c, place.lock_until) is not None
                    for field, value in ((place.lock_until, None), (place.failures, 0))
                },
                lambda _, a: [
                    _draft(
                        actor.username,
                        "account:unlock",
                        source,
                        {"username": a.username, "previous_reason": UNTRUSTED_LOCK},
                    )
                ],
            )
            return lifted
        if target.status is not Status.LOCKED:
            return target
        if target.lock_reason is LockReason.LEFT:
            # Reopening the account of a person who left gives them back its clearance: the same
            # decision as granting it (review a24).
            self._require(
                actor,
                lambda p: grants_clearance(p, target.clearance),
                action="account:unlock",
                target=target.username,
                source=source,
            )
        # Tokens a chosen lock ended are refused by their time (``sessions_valid_from``); they
        # are revoked here too, in the unlock's act, so that lists show them ended; and so are the
        # tokens of a wrong-password run that escaped its lock (:meth:`_ended_by_lock`).
        stale: list[Token] = []

        def lift(c: Account) -> dict[str, Any]:
            stale[:] = self._ended_by_lock(c) if c.status is Status.LOCKED else []
            return (
                {
                    "status": Status.ACTIVE,
                    "lock_reason": None,
                    "failed_logins": 0,
                    "unlocked_at": now,
                    "lock_until": None,
                    "failures_since": None,
                    "last_failed_at": None,
                }
                | ({"lock_ended_at": now} if c.lock_reason is LockReason.FAILED_LOGINS else {})
                if c.status is Status.LOCKED
                else {}
            )

        before, after = self._update(
            username,
            actor.username,
            lift,
            lambda b, a: [
                _draft(
                    actor.username,
                    "account:unlock",
                    source,
                    {"username": a.username, "previous_reason": b.lock_reason and b.lock_reason.value}
                    | ({"sessions_ended": len(stale)} if stale else {}),
                )
            ],
            ends=stale, also=lambda: self._revoke(stale, actor.username, now),
        )
        if before.version == after.version:  # unlocked (or deleted) meanwhile by someone else
            return after
        self._notify(after.username, "unlock", "Tài khoản của bạn đã được mở khóa.", actor.username)
        return after

    def forget_devices(self, username: str, actor: Account, source: str | None = None) -> Account:
        """A quản trị makes every browser of the account untrusted (review a21): a new device key,
        so every device token given out before is refused (:func:`device_trusted`); sessions are
        not ended (lock the account or reset the password for that). Audited as
        ``account:devices-forget``."""
        action = "account:devices-forget"
        target = self._target(username, actor, Action.ACCOUNT_MANAGE, action=action, source=source)
        self._require_admin(actor, target.units, action=action, target=target.username, source=source)
        _, after = self._update(
            target.username,
            actor.username,
            lambda _: {"device_key": _new_device_key(), "known_networks": ()},
            lambda _, a: [_draft(actor.username, action, source, {"username": a.username})],
        )
        return after

    def sign_out_everywhere(self, actor: Account, keep: str | None, source: str | None = None) -> Account:
        """The person ends every session and API token of their own account but the one whose
        digest is ``keep`` (the browser they press it in), and makes every browser untrusted (a
        new device key, as :meth:`forget_devices`): "Đăng xuất khỏi mọi trình duyệt", review
        a22, for a person who fears a browser or a token left somewhere. Audited as
        ``account:sign-out-everywhere`` with the number of tokens ended."""
        action = "account:sign-out-everywhere"
        current = self._current_actor(actor, action=action, target=actor.username, source=source)
        now = self.clock()
        listed = self.tokens_of(current.username)
        ending = [t for t in listed if not t.revoked and t.digest != keep]
        _, after = self._update(
            current.username,
            current.username,
            lambda _: {"device_key": _new_device_key(), "known_networks": ()},
            lambda _, a: [_draft(a.username, action, source, {"tokens_revoked": len(ending)})],
            ends=ending, also=lambda: self._revoke(ending, current.username, now),
        )
        # A login checked before this write may have written its token after the list above was
        # taken and looked at the account before this write (so it saw the old device key):
        # list again, now that the write is done, and end what was not listed (review a25, as
        # :meth:`_revoke_late` after a password change). A login that reads the account after
        # this write refuses its own token (:meth:`issue_token`); one checked after it is a new
        # login, not revoked here unless its token is already listed.
        seen = {t.digest for t in listed} | {keep}
        for token in self.tokens_of(current.username, besides=seen):
            if not token.revoked:
                self._revoke_audited(
                    current.username, token.digest, current.username, source, reason="signed-out-everywhere"
                )
        return after

    def recover(self, username: str, reason: str, source: str | None = "cli") -> Account:
        """Operator recovery (``kho account recover``, on the server's shell; never reachable
        from the web or the API): unlock an account locked by wrong passwords when nobody else
        can. Anyone who knows a username can lock it with wrong passwords, and only a quản trị
        unlocks, so five guesses at the only quản trị's name would lock the agency out of its
        accounts for good.

        The rule: the account is locked for ``failed_logins`` (a lock someone chose — ``left``,
        ``admin`` — or the 90 idle days is not the operator's to undo), and it is a quản trị
        whose units no other active account manages as quản trị (:func:`leaves_an_admin`, the
        ``LAST_ADMIN`` rule seen from the other side). Any other account is unlocked by that
        quản trị once recovered, through the ordinary, audited :meth:`unlock`; so the operator
        can give back exactly the access that was lost, and no more.

        Because someone may have been guessing the password, every token of the account ends
        and the person must change their password at the next login. The lock ends as at a
        quản trị's :meth:`unlock` (``lock_ended_at``): a run of wrong passwords beginning within
        one lock period after it is a re-lock (:meth:`survives_lock`). Audited as
        ``account:unlock`` by ``operator`` with the reason; refusals as ``access:denied``."""
        action = "account:unlock"
        refuse_line_breaks(reason, "reason", "Lý do")
        why = " ".join(nfc(reason).split())
        if blank(why):
            raise ValidationFailed(
                [FieldError("reason", "RECOVERY_REASON_REQUIRED", "Phải ghi lý do khôi phục tài khoản.")]
            )
        target = self._read(username)
        if target is None or target.status is Status.DELETED:
            raise AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
        if target.status is not Status.LOCKED:
            raise Conflict(
                f"Tài khoản “{target.username}” không bị khóa.",
                code="ACCOUNT_NOT_LOCKED",
                username=target.username,
            )
        if target.lock_reason is not LockReason.FAILED_LOGINS:
            self._deny(
                OPERATOR,
                f"Tài khoản “{target.username}” bị khóa vì lý do khác ("
                f"{(target.lock_reason or LockReason.ADMIN).label}): chỉ quản trị của đơn vị mở khóa được.",
                action=action,
                target=target.username,
                source=source,
                code="RECOVERY_LOCK_REASON",
            )
        admin_units = frozenset(m.unit for m in target.memberships if m.role is Role.QUAN_TRI)
        if not admin_units:
            self._deny(
                OPERATOR,
                f"Tài khoản “{target.username}” không phải quản trị: quản trị của đơn vị mở khóa"
                " (kho account unlock); nếu quản trị cũng bị khóa, hãy khôi phục tài khoản quản trị trước.",
                action=action,
                target=target.username,
                source=source,
                code="RECOVERY_NOT_ADMIN",
            )
        # A new account nobody has used yet, or one whose reset expired unused, has nobody
        # behind it (review r13: only a quản trị can then reset it).
        others = self._others_behind(target.username)
        if leaves_an_admin(admin_units, others, self.units_below):
            self._deny(
                OPERATOR,
                f"Không cần khôi phục: còn quản trị khác đang hoạt động quản lý đơn vị của"
                f" “{target.username}”; người đó mở khóa (kho account unlock).",
                action=action,
                target=target.username,
                source=source,
                code="RECOVERY_NOT_NEEDED",
            )
        now = self.clock()
        # The tokens end before the account opens, as in a reset: a failure between the two
        # leaves the account locked with no token, never open with an old one.
        ending = self._tokens_to_revoke(target.username)
        recovered = {
            "username": target.username,
            "previous_reason": LockReason.FAILED_LOGINS.value,
            "recovery": True,
            "reason": why,
            "tokens_revoked": len(ending),
        }
        before, after = self._update(
            target.username,
            OPERATOR,
            lambda c: (
                {
                    "status": Status.ACTIVE,
                    "lock_reason": None,
                    "failed_logins": 0,
                    "unlocked_at": now,
                    "must_change_password": True,
                    # As :meth:`unlock` of a wrong-password lock: the run is over, and a run that
                    # begins within one lock period of this end re-locks (:meth:`survives_lock`).
                    "lock_until": None,
                    "failures_since": None,
                    "last_failed_at": None,
                    "lock_ended_at": now,
                    "device_key": None,  # whoever guessed may hold a trusted browser
                    "known_networks": (),
                }
                if c.status is Status.LOCKED and c.lock_reason is LockReason.FAILED_LOGINS
                else {}
            ),
            lambda _, a: [_draft(OPERATOR, action, source, recovered)],
            ends=ending, also=lambda: self._revoke(ending, OPERATOR, now),
        )
        if before.version == after.version:  # changed meanwhile (unlocked, deleted, locked by hand)
            raise Conflict(
                f"Tài khoản “{target.username}” vừa được thay đổi. Hãy kiểm tra lại rồi thử lại.",
                username=target.username,
            )
        self._notify(
            after.username,
            "unlock",
            "Tài khoản của bạn đã được người vận hành hệ thống mở khóa (khôi phục) sau nhiều lần nhập sai"
            " mật khẩu; bạn phải đổi mật khẩu khi đăng nhập.",
            OPERATOR,
        )
        return after

    def accept_rollback(self, username: str, reason: str, source: str | None = "cli") -> Account:
        """Operator (``kho account accept-rollback``, on the server's shell; never reachable from
        the web or the API): take the newest stored version of an account refused as
        ``ACCOUNT_ROLLED_BACK`` (its later versions are gone from the store and no backup holds
        them) as its state again, review s18. What the lost versions said is not known — ended
        tokens, a lock, a password change — so the version written (numbered after the highest the
        audit log names, never reusing a lost number) ends every session and token issued before
        it (``sessions_valid_from``) and leaves no password of the account usable: the stored
        password may be one its person gave up (a lost change), so the version is marked to
        require a new password, and since the version that set the stored password is one of the
        lost ones (:meth:`_password_set_by` names nobody), :func:`password_unconfirmed` holds: no
        login, change or token (``PASSWORD_NOT_CONFIRMED``) until a quản trị's two-person reset
        (review rv46; the operator's command says so). Audited as
        ``account:rollback-accept`` by ``operator`` with the reason and both version numbers.
        Refused with ``ACCOUNT_NOT_ROLLED_BACK`` for an account that is not."""
        refuse_line_breaks(reason, "reason", "Lý do")
        why = " ".join(nfc(reason).split())
        if blank(why):
            raise ValidationFailed(
                [FieldError("reason", "ROLLBACK_REASON_REQUIRED", "Phải ghi lý do chấp nhận phiên bản cũ.")]
            )
        name = username.strip().lower()
        named = self._named_version(name, fresh=True) if passwords.is_username(name) else None
        found = self._latest(f"accounts/{name}/v") if passwords.is_username(name) else None
        if found is None:
            raise AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
        number, raw = found
        try:
            self._checked(name, number, raw, named=named)
        except AccountDowngraded as refused:
            if refused.code != "ACCOUNT_ROLLED_BACK":
                raise
            named = int(refused.details["named_version"])
        else:
            raise Conflict(
                f"Tài khoản “{name}” không bị khôi phục về phiên bản cũ: không có gì để chấp nhận.",
                code="ACCOUNT_NOT_ROLLED_BACK",
                username=name,
            )
        # Every other check of :meth:`_checked` passed (the rollback is its last): the version
        # is genuine; it is written on as if it were the newest version the log names.
        parsed = formats.parse(formats.ACCOUNT.name, raw)
        stored = Account.from_dict(formats.upcast(formats.ACCOUNT.name, parsed))
        now = self.clock()
        lost = self._lost_events(f"accounts/{name}", number, named)
        kept = kept_from_lost(stored, [(action, details) for _, action, details in lost])
        details = {"username": name, "reason": why, "stored_version": number, "named_version": named}
        details["kept_status"] = str(kept.get("status", stored.status))
        return self._save(
            replace(stored, version=named),
            OPERATOR,
            lambda _, a: [_draft(OPERATOR, "account:rollback-accept", source, details)],
            **({"sessions_valid_from": max(now, stored.sessions_valid_from or now)}
               | {"must_change_password": True} | kept),
        )

    def _lost_events(self, obj: str, stored: int, named: int) -> list[tuple[int, str, Mapping[str, Any]]]:
        """The version, action and details of each trusted event (:meth:`AuditLog.trusted`) naming
        a version of ``obj`` (``accounts/<name>``, ``units/<id>``) above ``stored`` up to
        ``named``: the versions the store lost, in version order (one scan of the log: an
        operator's step, rare)."""
        found: list[tuple[int, int, str, Mapping[str, Any]]] = []
        for event in self.audit.events():
            pair = object_named(event)
            if pair is None or pair[0] != obj or not stored < pair[1] <= named:
                continue
            if self.audit.trusted(event):
                found.append((pair[1], event.seq, event.action, event.details or {}))
        found.sort(key=lambda f: f[:2])
        return [(version, action, details) for version, _, action, details in found]

    def accept_unit_rollback(self, unit_id: str, reason: str, source: str | None = "cli") -> Unit:
        """Operator (``kho unit accept-rollback``, on the server's shell; never reachable from the
        web or the API): take the newest stored version of a unit refused as ``UNIT_ROLLED_BACK``
        (its later versions are gone from the store and no backup holds them) as its state again,
        review s20. It is written on as version *named + 1* (never reusing a lost number), so the
        unit tree works again as it is now stored; a quản trị then checks its name and parent.
        The name and parent the newest lost version had are kept (:func:`unit_kept_from_lost`,
        from the lost versions' trusted events, review s21): a move or a rename is not undone;
        ``UNIT_ROLLBACK_STATE_UNKNOWN`` when the events do not say them. Audited as
        ``unit:rollback-accept`` by ``operator`` with the reason, both version numbers and the name
        and parent written. ``UNIT_NOT_ROLLED_BACK`` for a unit that is not;
        ``ROLLBACK_REASON_REQUIRED`` without a reason; ``UNIT_ROLLBACK_NOTHING_STORED`` for a unit
        of which no version is stored (restore it from a backup)."""
        refuse_line_breaks(reason, "reason", "Lý do")
        why = " ".join(nfc(reason).split())
        if blank(why):
            raise ValidationFailed(
                [FieldError("reason", "ROLLBACK_REASON_REQUIRED", "Phải ghi lý do chấp nhận phiên bản cũ.")]
            )
        unit_id = unit_id.strip()
        named = self.audit.newest_named(f"units/{unit_id}", catch_up=True) if is_organ_id(unit_id) else None
        found = self._latest(f"units/{unit_id}/v") if is_organ_id(unit_id) else None
        if found is None and named is not None:
            raise Conflict(
                f"Đơn vị “{unit_id}” không còn phiên bản nào trong kho lưu trữ (nhật ký kiểm toán ghi đến"
                f" phiên bản {named}): không có phiên bản cũ nào để chấp nhận. Hãy khôi phục các phiên bản"
                " của đơn vị từ bản sao lưu.",
                code="UNIT_ROLLBACK_NOTHING_STORED",
                unit_id=unit_id,
                named_version=named,
            )
        if found is None:
            raise UnitNotFound(f"Không có đơn vị “{unit_id}”.", unit_id=unit_id)
        number, raw = found
        try:
            stored = self._unit(unit_key(unit_id, number), raw, named=named)
        except UnitTampered as refused:
            if refused.code != "UNIT_ROLLED_BACK":
                raise
            named = int(refused.details["named_version"])
            stored = Unit.from_dict(formats.parse(formats.UNIT.name, raw))  # every other check passed
        else:
            raise Conflict(
                f"Đơn vị “{unit_id}” không bị khôi phục về phiên bản cũ: không có gì để chấp nhận.",
                code="UNIT_NOT_ROLLED_BACK",
                unit_id=unit_id,
            )
        kept = unit_kept_from_lost(stored, self._lost_events(f"units/{unit_id}", number, named), named)
        if kept is None:
            raise Conflict(
                f"Nhật ký kiểm toán không cho biết tên và đơn vị cấp trên của đơn vị “{unit_id}” ở phiên"
                f" bản {named} (phiên bản đã mất khỏi kho lưu trữ): không chấp nhận phiên bản cũ vì có thể"
                " hoàn tác việc chuyển đơn vị. Hãy khôi phục các phiên bản bị xóa từ bản sao lưu.",
                code="UNIT_ROLLBACK_STATE_UNKNOWN",
                unit_id=unit_id,
                stored_version=number,
                named_version=named,
            )
        self._refuse_kept_cycle(unit_id, kept.get("parent_id"))
        now = self.clock()
        unit = replace(stored, version=named + 1, created_at=now, actor=OPERATOR, **kept)
        details = {
            "unit_id": unit_id, "reason": why, "stored_version": number, "named_version": named,
            "name": unit.name, "parent_id": unit.parent_id,
        }
        accepted = _draft(OPERATOR, "unit:rollback-accept", source, details)
        try:
            key = unit_key(unit_id, unit.version)
            self._write_audited(key, formats.UNIT, unit.to_dict(), [accepted], now)
        except AlreadyExists:
            raise Conflict(
                f"Đơn vị “{unit_id}” vừa được ghi thêm một phiên bản: hãy chạy lại lệnh.", unit_id=unit_id
            ) from None
        return unit

    def _refuse_kept_cycle(self, unit_id: str, parent: str | None) -> None:
        """Refuse (``UNIT_PARENT_CYCLE``) an accepted rollback that would put ``unit_id`` under
        ``parent`` (kept from a lost move) while ``parent`` is stored below ``unit_id``: when the
        parent's own later versions are lost too, its rollback is accepted first (review s21).
        Walks the stored parents (one LIST and one GET each, an operator's step); what it reads
        only ever refuses, so no check of theirs is needed here."""
        seen: set[str] = set()
        while parent is not None and parent not in seen:
            if parent == unit_id:
                raise Conflict(
                    f"Không chấp nhận phiên bản cũ của đơn vị “{unit_id}”: đơn vị cấp trên mà nhật ký kiểm"
                    " toán ghi nhận đang nằm dưới chính đơn vị này trong kho lưu trữ. Hãy chấp nhận (hoặc"
                    " khôi phục) phiên bản của đơn vị cấp trên trước, rồi chạy lại lệnh.",
                    code="UNIT_PARENT_CYCLE",
                    unit_id=unit_id,
                )
            seen.add(parent)
            found = self._latest(f"units/{parent}/v") if is_organ_id(parent) else None
            parent = Unit.from_dict(formats.parse(formats.UNIT.name, found[1])).parent_id if found else None

    def delete(self, username: str, actor: Account, source: str | None = None) -> Account:
        """Thu hồi: the account stops working (its tokens too); its versions stay for the audit
        trail and its name is never given to anyone else."""
        target = self._target(username, actor, Action.ACCOUNT_MANAGE, action="account:delete", source=source)
        self._require_admin(
            actor, target.units, action="account:delete", target=target.username, source=source
        )
        own = actor.username == target.username
        with self._admins_guard(_admin_units(target) if own else ()):
            if own:  # as for lock: one's own account only
                self._require_another_admin(target, actor, action="account:delete", source=source)
            if target.status is Status.DELETED:
                return target
            _, after = self._update(
                username,
                actor.username,
                lambda c: {"status": Status.DELETED} if c.status is not Status.DELETED else {},
                lambda _, a: [_draft(actor.username, "account:delete", source, {"username": a.username})],
            )
        return after

    # -- notifications ---------------------------------------------------------------------
    def _notify(
        self, username: str, kind: str, message: str, actor: str, record_id: str | None = None
    ) -> Notification:
        """Store a message for the person; ids are a per-person sequence (``000001``), so the
        list is in the order things happened even within one clock tick."""
        now = self.clock()
        prefix = f"notifications/{username}/"
        seq = next_notification_number(self.store, prefix)
        while True:
            note = Notification(f"{seq:06d}", username, now, kind, nfc(message), actor, record_id)
            try:
                self.store.put_if_absent(
                    f"{prefix}{note.notification_id}.json", _dump(formats.NOTIFICATION, note.to_dict())
                )
            except AlreadyExists:
                seq += 1  # another writer took this number
                continue
            return note

    def notify(
        self, username: str, kind: str, message: str, actor: str = "system", *, record_id: str | None = None
    ) -> Notification:
        """Leave a message for a person (Kho's own processes: retention alerts, …); about
        ``record_id``, named in ``message`` by :data:`RECORD_REFERENCE` only."""
        return self._notify(username.strip().lower(), kind, message, actor, record_id)

    def notifications(self, username: str) -> list[Notification]:
        name = username.strip().lower()
        if not passwords.is_username(name):
            return []
        return [
            Notification.from_dict(formats.loads(formats.NOTIFICATION.name, self.store.get_listed(info)))
            for info in self.store.list(f"notifications/{name}/")
        ]

    # -- API tokens ------------------------------------------------------------------------
    def issue_token(
        self,
        username: str,
        name: str,
        actor: Account,
        source: str | None = None,
        *,
        days: object = None,
        scope: object = None,
    ) -> str:
        """A new API token for the person themself; the secret is returned once and never stored.

        Nobody issues a token for someone else, a quản trị included: whoever held it would act
        as that person (a quản trị would read content the policy keeps from them). A quản trị
        lists and revokes tokens instead.

        ``days`` and ``scope`` as typed (:func:`token_terms`: 1 to 365 days, default 90;
        ``read`` or ``read-write``, the default): checked before anything else."""
        terms = token_terms(days, scope)
        target = self._target(username, actor, None, action="account:token-issue", source=source)
        action, about = "account:token-issue", target.username
        if actor.username != target.username:
            self._deny(
                actor.username,
                "Chỉ chính người dùng mới tạo được mã truy cập của mình; quản trị chỉ thu hồi được.",
                action=action,
                target=about,
                source=source,
            )
        # The target is the actor, just read as stored now (s27: it was read again here).
        self._check_actor(target, actor, action=action, target=about, source=source)
        if target.awaiting_confirmation:
            # Nobody has logged in to it (no password works yet): a token would be a way round
            # the second person's confirmation.
            self._deny(
                actor.username,
                "Tài khoản đang chờ người thứ hai xác nhận mật khẩu; chưa cấp được mã truy cập.",
                action=action,
                target=about,
                source=source,
                code="PASSWORD_NOT_CONFIRMED",
            )
        if self.password_unconfirmed(target):
            self._deny(
                actor.username,
                self._unconfirmed_error(target).message,
                action=action,
                target=about,
                source=source,
                code="PASSWORD_NOT_CONFIRMED",
            )
        if not target.active:
            raise (
                self._locked_error(target)
                if target.status is Status.LOCKED
                else AccountNotFound(f"Không có tài khoản “{username}”.", username=username)
            )
        import secrets  # (with random: only where a token is issued)

        secret = secrets.token_urlsafe(32)
        digest = token_digest(secret)
        now = self.clock()
        token = Token(
            digest,
            target.username,
            nfc(name).strip() or "token",
            now,
            actor.username,
            expires_at=now + timedelta(days=terms.days),
            scope=terms.scope,
        )
        issued = _draft(
            actor.username,
            "account:token-issue",
            source,
            {
                "username": target.username,
                "name": token.name,
                "token": digest[:12],
                "days": terms.days,
                "scope": str(terms.scope),
            },
        )
        self._write_audited(
            token_key(digest),
            formats.TOKEN,
            token.to_dict(),
            [issued],
            token.created_at,
            then=lambda: self.store.put_if_absent(
                f"token-index/{target.username}/{digest}.json", _dump(formats.TOKEN_INDEX, {"digest": digest})
            ),
        )
        # Written, then the password looked at again: a change or reset written since the login
        # was checked ends this token too (the change looks for tokens after its write:
        # _revoke_late), so a session of the old password never outlives the change (review a6).
        current = self._read(target.username)
        if current is None or current.password_hash != actor.password_hash:
            self._revoke_audited(target.username, digest, actor.username, source, reason="password-changed")
            raise Conflict(
                "Mật khẩu của tài khoản vừa được thay đổi hoặc cấp lại: phiên này không được cấp."
                " Hãy đăng nhập lại bằng mật khẩu hiện hành.",
                code="PASSWORD_CHANGED_MEANWHILE",
                username=target.username,
            )
        if current.status is Status.LOCKED:  # locked since it was checked: no token comes out of it
            self._revoke_audited(target.username, digest, actor.username, source, reason="account-locked")
            raise self._locked_error(current)
        if current.device_key != actor.device_key:
            # Every browser was forgotten since the login was checked: a sign-out everywhere
            # (or a quản trị's forget) came between the check and this token's write, and its
            # list of tokens to end could not hold this one (review a25; the other order is
            # :meth:`sign_out_everywhere`'s second list).
            self._revoke_audited(
                target.username, digest, actor.username, source, reason="signed-out-everywhere"
            )
            raise Conflict(
                "Tài khoản vừa được đăng xuất khỏi mọi trình duyệt (hoặc quản trị vừa cho quên mọi trình"
                " duyệt của tài khoản): phiên này không được cấp. Hãy đăng nhập lại.",
                code="SIGNED_OUT_MEANWHILE",
                username=target.username,
            )
        return secret

    def _token(self, digest: str) -> Token:
        data = formats.loads(formats.TOKEN.name, self.store.get(token_key(digest)))
        return Token.from_dict(data, revoked=self.store.exists(token_revoked_key(digest)))

    def _sealed_token(self, digest: str) -> Token:
        """:meth:`_token` for a request that acts with it: :class:`TokenInvalid` when its seal
        does not check (:mod:`repository.seals`; with a seal key, an unsealed token of a format
        before seals too: it has no history to tell it from one slipped into the store)."""
        key = token_key(digest)
        stored = formats.parse(formats.TOKEN.name, self.store.get(key))
        written_in = formats.version_of(formats.TOKEN.name, stored)
        if self.sealer.verdict(formats.TOKEN.name, key, stored, written_in) is Verdict.BROKEN:
            logs.warn(__name__, "token %s: no valid seal (format %d); refused", digest[:12], written_in)
            raise TokenInvalid(
                "Mã truy cập (token) không mang dấu xác thực hợp lệ của Kho (cấp trước khi Kho niêm"
                " phong mã truy cập, hoặc bị ghi thẳng vào kho lưu trữ): hãy tạo mã truy cập mới.",
                code="TOKEN_SEAL_INVALID",
            )
        data = formats.upcast(formats.TOKEN.name, stored)
        return Token.from_dict(data, revoked=self.store.exists(token_revoked_key(digest)))

    def resolve_token(self, secret: str) -> Account:
        """The account a token stands for (:meth:`token_holder` without the token)."""
        return self.token_holder(secret)[0]

    def token_holder(self, secret: str) -> tuple[Account, Token]:
        """The account a token stands for, and the token (its scope: the caller asks
        :func:`repository.policy.token_permits` before acting): :class:`TokenInvalid` (401) if
        the token is unknown, revoked or its account deleted; :class:`AccountLocked` (403) if the
        account is locked (or idle for 90 days, which locks it: using a token is not a login, so
        a token-only user must still log in at least every 90 days);
        :class:`PasswordChangeRequired` (403) while the initial password has not been changed.
        An expired password does not stop a token by itself (the 90-day login rule bounds it).
        :class:`TokenExpired` (401, ``TOKEN_EXPIRED``) once its ``expires_at`` is reached (review a28).

        Locks (NOTES-a18): a lock for wrong passwords whose time is over ends here
        (:meth:`_expire_lock`); while it lasts, a token opened before the guessing began still
        works (:meth:`survives_lock`). A token opened up to a lock someone chose stays refused
        after the unlock (``sessions_valid_from``)."""
        invalid = TokenInvalid("Mã truy cập (token) không hợp lệ hoặc đã bị thu hồi.")
        if not isinstance(secret, str) or not _TOKEN_RE.match(secret):
            raise invalid
        try:
            token = self._sealed_token(token_digest(secret))
        except NotFound:
            raise invalid from None
        if token.revoked:
            if token.revoked_at is None:  # only its revocation object says so: say it in the token
                self._mark_revoked_as_recorded(token.digest)
            self._record_ended_when_presented(token)
            raise invalid
        account = self._read(token.username, fresh=True)
        if account is None or account.status is Status.DELETED:
            raise invalid
        if token_ended(account, token):  # (its own objects may have been put back)
            logs.warn(__name__, "token %s: ended in its account, not in its objects", token.digest[:12])
            raise invalid
        now = self.clock()
        run = account.failures_since if account.lock_reason is LockReason.FAILED_LOGINS else None
        account = self._expire_lock(account, now, None)
        if account.status is Status.ACTIVE and run is not None and token.created_at > run:
            raise invalid  # opened during the run that locked it: this expiry has just ended it
        if account.status is Status.ACTIVE and passwords.idle_locked(
            account.last_login_at, account.created_at, now, unlocked_at=account.unlocked_at
        ):
            account = self._system_lock(account.username, LockReason.IDLE, None)
        if account.status is Status.LOCKED and not self.survives_lock(account, token):
            raise self._locked_error(account)  # (while locked, the lock is the answer: it says why)
        if account.sessions_valid_from is not None and token.created_at <= account.sessions_valid_from:
            raise invalid  # ended by a lock that a quản trị chose: an unlock does not revive it
        if self.password_unconfirmed(account):
            raise self._unconfirmed_error(account)
        if account.must_change_password:
            # A token must not get round the first-login change (Điều 6 k4 a).
            raise PasswordChangeRequired(
                "Bạn phải đăng nhập và đổi mật khẩu trước khi dùng mã truy cập.",
                account=account,
                username=account.username,
            )
        if token.expired(now):  # (after the account's own checks: a 90-day idle lock still falls)
            expires = token.expires_at or now
            raise TokenExpired(
                f"Mã truy cập (token) đã hết hạn lúc {vn_display(expires)}. Hãy tạo mã truy cập mới.",
                expires_at=to_iso_utc(expires),
            )
        self._check_idle(token, now)
        return account, token

    def _record_ended_when_presented(self, token: Token) -> None:
        """A revoked token presented whose account does not name it (revoked by a Kho before a30,
        review s18): name it now (:meth:`record_ended`), so that from here on the account refuses
        it even when its revocation object is deleted and its object put back as issued. Best
        effort: the token is refused anyway; ``kho account record-ended-tokens`` names the ones
        nobody presents. One account read per refused revoked token, one write the first time."""
        try:
            account = self._read(token.username)
            if account is None or account.status is Status.DELETED or token_ended_in(account, token.digest):
                return
            self.record_ended(token.username, [token], "system", None, found_by="request")
        except KhoError as exc:
            logs.warn(__name__, "token %s: not named in its account (%s)", token.digest[:12], exc.code)

    def record_ended(
        self, username: str, tokens: Sequence[Token], actor: str, source: str | None, *, found_by: str
    ) -> list[str]:
        """Name ``tokens`` (ended already: revoked by their files, or named by the audit log) in
        ``username``'s account (:attr:`Account.ended_tokens`), those not named yet, in one audited
        write (``account:token-end-record``, ``details.tokens``: the 12-hex prefixes written,
        ``found_by``: ``request``, ``upgrade`` or ``audit-log``). Idempotent: nothing written (no
        event) when the account names them all or is deleted; a concurrent end or write of the
        same account is retried on (:meth:`_update`), never lost. Returns the digests named."""
        named: list[str] = []

        def add(current: Account) -> dict[str, Any]:
            named.clear()
            if current.status is Status.DELETED:
                return {}
            now = self.clock()
            fresh = [
                (t.digest, token_end_of(t))
                for t in tokens
                if not token_ended_in(current, t.digest) and token_end_of(t) > now
            ]
            if not fresh:
                return {}
            named.extend(sorted({d for d, _ in fresh}))
            return {"ended_tokens": ended_tokens_with(current.ended_tokens, fresh, now)}

        def events(_: Account, after: Account) -> list[EventDraft]:
            details = {
                "username": after.username,
                "tokens": [d[:12] for d in named],
                "found_by": found_by,
                "reason": "ended-before-upgrade",
            }
            return [_draft(actor, ENDED_RECORDED, source, details)]

        try:
            self._update(username, actor, add, events)
        except AccountNotFound:
            return []
        return list(named)

    def _mark_revoked_as_recorded(self, digest: str) -> None:
        """:meth:`_mark_revoked` with the time and actor of the token's revocation object: a
        revocation whose writer died before it marked the token (best effort: the revocation
        object refuses the token meanwhile)."""
        try:
            data = formats.loads(formats.TOKEN_REVOCATION.name, self.store.get(token_revoked_key(digest)))
            at, actor = parse_iso(str(data["at"])), str(data.get("actor") or "")
            self._mark_revoked(digest, at, actor)
        except (KhoError, KeyError, ValueError) as exc:
            logs.warn(__name__, "token %s: revocation not copied into it (%s)", digest[:12], exc)

    def idle_timeout(self, token: Token) -> timedelta:
        return self.session_idle if token.name == WEB_SESSION else self.token_idle

    def _check_idle(self, token: Token, now: datetime) -> None:
        """:class:`SessionExpired` if ``token`` was not used within its idle timeout (the first
        refusal also revokes it, audited); otherwise its use now is written (once per slot).

        Uses are kept as empty objects named by slot (a tenth of the timeout), created if
        absent: one LIST per request (but none after this process listed or wrote the current
        slot's marker: :attr:`_marked_slots`), one small write per slot, nothing rewritten. A slot counts
        from its start, so a session may end up to one slot early, never late. A use is written
        only after this check passed, so an expired token cannot be revived by any request."""
        idle = self.idle_timeout(token)
        slot = idle_slot_seconds(idle)
        prefix = token_seen_prefix(token.digest)
        now_s = int(now.timestamp())
        marked = (slot, now_s // slot)
        if self._marked_slots.get(token.digest) == marked:
            return  # this process saw the use of this slot stored: the LIST would show it (s26)
        first_live = -(-(now_s - int(idle.total_seconds())) // slot)  # ceil: slot start >= now - idle
        seen = {
            info.key.removeprefix(prefix)
            for info in self.store.list(prefix, start_after=f"{prefix}{first_live - 1:012d}")
        }
        if not seen and now - token.created_at > idle:
            self._end_idle(token, now, idle)
        current = f"{now_s // slot:012d}"
        if current not in seen:
            try:
                self.store.put_if_absent(prefix + current, b"")
            except AlreadyExists:
                self._mark_slot(token.digest, marked)
                return  # another request of the same slot (and its pruning)
            self._mark_slot(token.digest, marked)
            self._prune_seen(prefix, f"{prefix}{first_live:012d}")
        else:
            self._mark_slot(token.digest, marked)

    def _mark_slot(self, digest: str, marked: tuple[int, int]) -> None:
        """Remember that the use marker of slot ``marked`` (its length in seconds, its number) of
        token ``digest`` is stored (:attr:`_marked_slots`)."""
        if len(self._marked_slots) >= MARKED_SLOTS_KEPT:
            self._marked_slots.clear()
        self._marked_slots[digest] = marked

    def _prune_seen(self, prefix: str, live_from: str) -> None:
        """Delete a token's use markers of slots before ``live_from`` (out of its idle window: no
        check reads them again), once per new slot: a token keeps at most the markers of one
        window rather than ten per window for ever. Best effort: a marker left is only an empty
        object, which the next new slot tries again."""
        for info in self.store.list(prefix):
            if info.key >= live_from:
                break
            try:
                self.store.delete(info.key)
            except KhoError as exc:
                logs.warn(__name__, "token use marker %s not deleted: %s", info.key, exc.code)
                return

    def _end_idle(self, token: Token, now: datetime, idle: timedelta) -> NoReturn:
        minutes = max(1, int(idle.total_seconds()) // 60)
        details = {"username": token.username, "token": token.digest[:12], "reason": "idle"}
        self._end_token(token.username, token.digest, token_end_of(token), token.username, None, now, details)
        raise SessionExpired(
            f"Phiên làm việc đã hết hạn vì không thao tác trong {minutes} phút. Vui lòng đăng nhập lại.",
            minutes=minutes,
        )

    def revoke_token(self, username: str, digest: str, actor: Account, source: str | None = None) -> None:
        """Revoke one token of ``username`` (by its digest, as :meth:`tokens_of` lists it)."""
        target = self._target(
            username, actor, Action.ACCOUNT_MANAGE, action="account:token-revoke", source=source
        )
        if actor.username != target.username:
            self._require_admin(
                actor, target.units, action="account:token-revoke", target=target.username, source=source
            )
        try:
            token = self._token(digest) if re.fullmatch(r"[0-9a-f]{64}", digest) else None
        except NotFound:
            token = None
        if token is None or token.username != target.username:
            raise NotFound("Không có mã truy cập này.", code="TOKEN_NOT_FOUND")
        self._revoke_audited(target.username, digest, actor.username, source)

    def list_tokens(self, username: str, actor: Account, source: str | None = None) -> list[Token]:
        """The tokens of ``username`` as the person or a quản trị of their units may see them
        (digest, name, dates, revoked — a secret is never stored)."""
        target = self._target(
            username, actor, Action.ACCOUNT_MANAGE, action="account:token-list", source=source
        )
        action, about = "account:token-list", target.username
        if actor.username != target.username:
            self._require_admin(actor, target.units, action=action, target=about, source=source)
        else:
            self._current_actor(actor, action=action, target=about, source=source)
        return sorted(self.tokens_of(target.username), key=lambda t: (t.created_at, t.digest))

    def tokens_of(self, username: str, *, besides: Iterable[str | None] = ()) -> list[Token]:
        """Every token of ``username`` but those whose digest is in ``besides`` (not read)."""
        name = username.strip().lower()
        if not passwords.is_username(name):
            return []
        skip = frozenset(besides)
        out = []
        account: Account | None = None
        read = False
        for info in self.store.list(f"token-index/{name}/"):
            digest = info.key.rsplit("/", 1)[1].removesuffix(".json")
            if digest in skip:
                continue
            try:
                token = self._token(digest)
                if not token.revoked and not read:  # read once, for the first live-looking token
                    account, read = self._read(name), True
                # One rule with the request path (:func:`token_ended`): a token whose files were
                # put back lists as revoked, as the account refuses it (review s18).
                out.append(replace(token, revoked=True) if token_ended(account, token) else token)
            except NotFound:
                # Its object deleted by a hand in the store: an unknown token, refused by
                # :meth:`resolve_token` (``kho fsck``: ``object-missing``); nothing to list or end.
                logs.warn(__name__, "token %s of %s: its object is missing; skipped", digest[:12], name)
        return out


ADMINS_GUARD = "claims/admins"
"""Held (format ``claim``) by the one act at a time that takes the quản trị role away
(:meth:`AccountService._admins_guard`)."""


def _admin_units(account: Account) -> frozenset[str]:
    """The units where ``account`` is quản trị."""
    return frozenset(m.unit for m in account.memberships if m.role is Role.QUAN_TRI)


def _confirm_action(pending: PendingReset) -> str:
    """The audit action of confirming ``pending``: a new account's, or a reset's."""
    return "account:create-confirm" if pending.new_account else "account:password-confirm"


def _describe(
    memberships: Iterable[Membership], service: AccountService, known: Mapping[str, Unit] | None = None
) -> str:
    """``văn thư (Văn phòng), lãnh đạo (Phòng Tổng hợp)`` for a notification; ``known``: units
    the operation has just read (not read again)."""
    parts = []
    for m in memberships:
        if known is not None and m.unit in known:
            parts.append(f"{m.role.label} ({known[m.unit].name})")
            continue
        try:
            unit_name = service.get_unit(m.unit).name
        except UnitNotFound:
            unit_name = m.unit
        parts.append(f"{m.role.label} ({unit_name})")
    return ", ".join(parts) or "không có vai trò"
