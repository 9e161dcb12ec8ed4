"""Seals on the stored objects that grant power: accounts, units and API tokens (review z3), and
on the backup manifests that say what a restore writes back (review a3/m6).

Anyone who can write the store (its S3 credential, its folder) could otherwise write the next
version of an account with the quản trị role and clearance Tuyệt mật, or a token for the quản
trị, in the current format and with made-up events: Kho used it at the next login or request,
and only ``kho fsck`` (later) said ``unaudited``. A seal is an HMAC-SHA256 over the object as
stored (every field but the seal, its format version included), its kind and its key, with a key
derived from ``KHO_MASTER_KEY``: a secret of the application's processes that the store does
not hold (it wraps the record keys, which live in the key store). A writer without it cannot
make a seal that checks, nor move a sealed object to another key (another account, another
version number, another token).

The rule (:func:`verdict`), in one place for the read path and fsck:

- no seal key configured: nothing is sealed and nothing is checked (an insider who holds the
  store can then forge these objects; ``kho fsck`` still reports those with no event in the log);
- a seal key configured: an object of a format that carries a seal (:data:`SEALED_SINCE`) must
  carry one that checks; a token of an older format is refused too (it has no history that
  could tell a forged one from one issued before the upgrade: re-issue it); an account or unit
  version of an older format is refused too (:attr:`Verdict.UNSEALED`): a writer of the store
  could otherwise write a brand-new account, or the next version of one untouched since the
  upgrade, in that format (review r22). Only in the upgrade window, when the operator says so
  (``KHO_ALLOW_UNSEALED``, :attr:`Sealer.allow_unsealed`), is it read as before
  (:attr:`Verdict.LEGACY`; the downgrade check of :class:`repository.accounts.AccountService`
  refuses it after a sealed version) until ``kho account seal`` has sealed every one whose events
  the audit log holds (:mod:`repository.sealing`).

Audit events (review rv19, open item 0) are sealed too, with their own rule
(:meth:`Sealer.event_verdict`): an event a Kho with a seal key writes (format 2 of
``audit-event``) carries an HMAC over its body (every field but its hash and its seal: its
``seq``, ``prev`` and format version included) inside the hashed body, so the chain and the
signed checkpoints cover the seal. A writer of the store can still compute a hash and a ``prev``;
it cannot make a seal. After the first event whose seal checks, an event with no seal or with a
seal that does not check is a ``seal`` finding of ``kho audit verify`` (and ``kho fsck``), and
the readers that act on events ignore it. The events before the first sealed one are legacy
(written before the key was configured): nothing tells a forged one among them from a genuine one
(the chain and the checkpoints still do). No seal key configured: events are written unsealed and
nothing is checked, as before. The upgrade window (``KHO_ALLOW_UNSEALED``) plays no part: an
event's place in the log tells a legacy event from a late one.

What a seal cannot tell: an older, genuinely sealed version brought back by deleting the ones
after it (a rollback), or a deleted revocation. A token's end is stated, sealed, in its
account's version since review a30 (``ended_tokens``, which every request with a token reads), so
putting back a token's files as issued and deleting its revocation revives nothing. A rollback of
the account itself is refused since review s18 (``ACCOUNT_ROLLED_BACK``): the audit log, anchored
outside the store, names every account version written (``details.object``), and its by-record
index (a local file) keeps the highest per account, which every account read compares with the
newest stored version. Units are not checked so (a unit rollback is found by ``kho fsck``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kho.errors import KhoError
from repository import formats
from repository.storage.base import ObjectStore

SEAL_FIELD = "seal"
"""The field of a sealed object that holds its seal (hex of the HMAC-SHA256)."""

SEALED_SINCE: dict[str, int] = {
    formats.ACCOUNT.name: 5,
    formats.UNIT.name: 3,
    formats.TOKEN.name: 3,
    formats.BACKUP_MANIFEST.name: 3,
    formats.REGISTER_FLOOR.name: 1,
    formats.REGISTER_RESTORING.name: 1,
}
"""The first format version of these kinds that a Kho with a seal key writes sealed."""

WITH_HISTORY = frozenset({formats.ACCOUNT.name, formats.UNIT.name, formats.BACKUP_MANIFEST.name})
"""Kinds an unsealed object of a format before seals may be one Kho wrote before the upgrade:
account and unit versions (unless a sealed version came before it: a downgrade, refused by the
reader) and backup manifests (read in the upgrade window only, like those; a new backup is
sealed). A token has no history: unsealed, it is refused."""

EVENT_KIND = formats.AUDIT_EVENT.name
EVENT_SEALED_SINCE = 2
"""The first format version of ``audit-event`` that carries a seal (when a key is configured);
its rule is :meth:`Sealer.event_verdict`, not :meth:`Sealer.verdict`."""

_INFO = b"kho/object-seal/v1"


class Verdict(StrEnum):
    SEALED = "sealed"
    """The seal checks."""
    LEGACY = "legacy"
    """An account or unit version of a format before seals, in the upgrade window
    (``KHO_ALLOW_UNSEALED``): read as before (its downgrade check)."""
    UNSEALED = "unsealed"
    """An account or unit version of a format before seals, outside the upgrade window: refused
    until ``kho account seal`` seals it (after checking it against the audit log)."""
    UNCHECKED = "unchecked"
    """No seal key configured: nothing is checked."""
    BROKEN = "broken"
    """A seal is due and missing, or does not check: refused."""


def derive_key(master_key: bytes) -> bytes:
    """The seal key, derived from the master key (HKDF-SHA256, its own ``info``): the master key
    itself is used only to wrap record keys."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(master_key)


CHECKPOINT_NAME_KIND = "checkpoint-name"
CHECKPOINT_TAG_LENGTH = 32
"""Hex digits of a checkpoint name's tag (128 bits)."""


def _message(kind: str, key: str, body: Mapping[str, Any]) -> bytes:
    fields = {name: value for name, value in body.items() if name != SEAL_FIELD}
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # surrogatepass: JSON may spell a lone surrogate ("\ud800"), which strict UTF-8 refuses; a
    # forged body holding one must get a seal that does not check, not a UnicodeEncodeError
    # (review rv21). Bytes of every other string are unchanged, so no seal changes.
    return f"{kind}\n{key}\n".encode() + canonical.encode("utf-8", "surrogatepass")


def _matches(seal: object, expected: str) -> bool:
    """Whether a stored ``seal`` is ``expected``, in constant time. A seal that is not an ASCII
    string (a writer of the store makes it up) does not match: ``hmac.compare_digest`` raises
    ``TypeError`` on non-ASCII strings (review rv21)."""
    return isinstance(seal, str) and seal.isascii() and hmac.compare_digest(seal, expected)


@dataclass(frozen=True)
class Sealer:
    """Seals and checks objects with the key derived from ``KHO_MASTER_KEY`` (None: no key)."""

    key: bytes | None = None
    allow_unsealed: bool = False
    """The upgrade window (``KHO_ALLOW_UNSEALED``): read account and unit versions of a format
    before seals (:attr:`Verdict.LEGACY`) instead of refusing them (:attr:`Verdict.UNSEALED`)."""

    @classmethod
    def from_master_key(cls, master_key: bytes | None, *, allow_unsealed: bool = False) -> Sealer:
        return cls(derive_key(master_key) if master_key else None, allow_unsealed)

    @property
    def active(self) -> bool:
        return self.key is not None

    def _mac(self, kind: str, key: str, body: Mapping[str, Any]) -> str:
        assert self.key is not None
        return hmac.new(self.key, _message(kind, key, body), hashlib.sha256).hexdigest()

    def checkpoint_tag(self, number: int) -> str | None:
        """The tag in the store name of checkpoint ``number`` (:func:`repository.anchor.checkpoint_key`),
        None without a key: a reader with the key tells a name a writer of Kho gave from one a
        writer of the store planted without reading it (review rv32; a kind no seal uses)."""
        if self.key is None:
            return None
        return self._mac(CHECKPOINT_NAME_KIND, f"{number:012d}", {})[:CHECKPOINT_TAG_LENGTH]

    def seal(self, kind: str, key: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` (stamped with its format version) with its seal, when a key is configured
        and ``kind`` is sealed; else ``body`` unchanged (a new dict)."""
        out = {name: value for name, value in body.items() if name != SEAL_FIELD}
        if self.key is not None and kind in SEALED_SINCE:
            out[SEAL_FIELD] = self._mac(kind, key, out)
        return out

    def verdict(self, kind: str, key: str, stored: Mapping[str, Any], written_in: int) -> Verdict:
        """What the seal of ``stored`` (as stored at ``key``, in format ``written_in``) says."""
        if self.key is None:
            return Verdict.UNCHECKED
        since = SEALED_SINCE[kind]
        seal = stored.get(SEAL_FIELD)
        if written_in < since and seal is None:
            if kind not in WITH_HISTORY:
                return Verdict.BROKEN
            return Verdict.LEGACY if self.allow_unsealed else Verdict.UNSEALED
        if not _matches(seal, self._mac(kind, key, stored)):
            return Verdict.BROKEN
        return Verdict.SEALED

    def seal_event(self, body: Mapping[str, Any]) -> str | None:
        """The seal of an audit event's ``body`` (every field but its hash; its ``seq`` binds the
        position), or None with no seal key."""
        if self.key is None:
            return None
        return self._mac(EVENT_KIND, str(body["seq"]), body)

    def event_verdict(self, body: Mapping[str, Any], *, after_sealed: bool) -> Verdict:
        """What the seal of an audit event says (``body``: the event as stored, its hash left
        out). ``after_sealed``: an event whose seal checks comes before it in the log.

        - no seal key: :attr:`Verdict.UNCHECKED`;
        - a seal that checks: :attr:`Verdict.SEALED`;
        - a seal that does not check (forged, or copied from another event or position), or no
          seal after a sealed event: :attr:`Verdict.BROKEN`;
        - no seal and no sealed event before it: :attr:`Verdict.LEGACY` (written before the key
          was configured, or forged there: the seal cannot tell)."""
        if self.key is None:
            return Verdict.UNCHECKED
        seal = body.get(SEAL_FIELD)
        if seal is None:
            return Verdict.BROKEN if after_sealed else Verdict.LEGACY
        seq = body.get("seq")
        if not isinstance(seq, int) or not _matches(seal, self._mac(EVENT_KIND, str(seq), body)):
            return Verdict.BROKEN
        return Verdict.SEALED


def master_key_fits_seals(store: ObjectStore, master_key: bytes | None, *, tries: int = 3) -> bool | None:
    """Whether ``master_key`` is the key this installation seals with, told by its sealed
    accounts (every installation in use has one; review r29: with 1–3 records, another record
    key cannot tell a wrong ``KHO_MASTER_KEY`` from one damaged key). True: a sealed account
    checks with it. False: accounts carry seals while no master key is configured (a missing
    key), or up to ``tries`` of them and none checks (a wrong key). None: no sealed account to
    tell by (the installation never sealed: it had no master key). Reads one LIST page and up to
    ``tries`` GETs."""
    sealer = Sealer.from_master_key(master_key)
    broken = 0
    for info in store.list("accounts/"):
        try:
            raw = formats.parse(formats.ACCOUNT.name, store.get(info.key))
        except (KhoError, ValueError, TypeError):
            continue  # (gone meanwhile, or unreadable: fsck names it)
        if not isinstance(raw, Mapping) or not isinstance(raw.get(SEAL_FIELD), str):
            continue
        if not sealer.active:
            return False
        written_in = formats.version_of(formats.ACCOUNT.name, raw)
        if sealer.verdict(formats.ACCOUNT.name, info.key, raw, written_in) is Verdict.SEALED:
            return True
        broken += 1
        if broken >= tries:
            break
    return False if broken else None
