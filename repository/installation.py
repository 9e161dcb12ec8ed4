"""The identity of an installation, and the rule that keeps a restore from silently replacing a
store with another installation's backup (review rv39).

Agencies set up from one image share ``KHO_MASTER_KEY``, so the seal of a backup manifest
(:mod:`repository.seals`) cannot tell one agency's backup from another's: ``kho restore
--force`` of a neighbour's backup replaced the target's records and audit history. Each store
now has a random id (UUID4) in ``installation.json`` (format :data:`repository.formats.INSTALLATION`,
version 1), made by ``kho account init`` (first set-up) or, for a store made before, at its
first backup (audited ``installation:identity``); every backup manifest names it (manifest
format 4), and :func:`restore_identity` decides whether a backup may replace the target.

Only the operations that need the id read it (backup, restore, fsck): nothing on a record's
write path does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kho.errors import (
    AlreadyExists,
    BackupError,
    FormatInvalid,
    InstallationInvalid,
    NotFound,
    RestoreOtherInstallation,
)
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.storage.base import ObjectStore
from repository.vocabulary import blank

INSTALLATION_KEY = "installation.json"
IDENTITY_ACTION = "installation:identity"
"""The audit action of an id given to a store (``details.why``: ``init``, ``backup``,
``as-new-installation``)."""


@dataclass(frozen=True)
class Installation:
    installation_id: str
    """A UUID in its canonical text form (lower-case, hyphenated)."""
    created_at: str

    def to_bytes(self) -> bytes:
        body = formats.stamp(
            formats.INSTALLATION.name,
            {"installation": self.installation_id, "created_at": self.created_at},
        )
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def is_installation_id(value: Any) -> bool:
    """Whether ``value`` is an installation id as Kho writes it (pure): a UUID in canonical text
    form. Blank, padded, upper-case or braced text is not."""
    if not isinstance(value, str) or blank(value):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _invalid(why: str, **details: Any) -> InstallationInvalid:
    return InstallationInvalid(
        f"Tệp định danh cài đặt “{INSTALLATION_KEY}” của kho không hợp lệ ({why}). Kho không coi đó là"
        " “chưa có định danh” (như vậy mọi bản sao lưu đều được nhận): chưa sao lưu hay khôi phục gì."
        " Hãy kiểm tra tệp này (ai đã sửa, khi nào: “kho audit verify”) trước khi làm tiếp.",
        key=INSTALLATION_KEY,
        **details,
    )


def parse_installation(raw: bytes) -> Installation:
    """``installation.json`` as stored (pure): :class:`InstallationInvalid` for anything but a
    JSON object of a known format naming a canonical UUID; ``FORMAT_UNSUPPORTED`` for a newer
    format."""
    try:
        data = formats.loads(formats.INSTALLATION.name, raw)
    except FormatInvalid as exc:
        raise _invalid("không phải JSON của định dạng đã biết") from exc
    found = data.get("installation")
    if not is_installation_id(found):
        shown = found[:60] if isinstance(found, str) else repr(found)[:60]
        raise _invalid("mã định danh trống hoặc sai dạng", found=shown)
    created = data.get("created_at")
    return Installation(found, created if isinstance(created, str) else "")


def read_installation(store: ObjectStore) -> Installation | None:
    """The store's identity; None when it has none yet (a store made before identities)."""
    try:
        raw = store.get(INSTALLATION_KEY)
    except NotFound:
        return None
    return parse_installation(raw)


def _new() -> Installation:
    return Installation(str(uuid.uuid4()), to_iso_utc(utcnow()))


def _audited(audit: Any, actor: Any, made: Installation, why: str, previous: str | None) -> None:
    audit.append(
        actor.user, IDENTITY_ACTION, source=actor.source,
        details={"installation": made.installation_id, "previous": previous, "why": why},
    )


def ensure_installation(store: ObjectStore, audit: Any, actor: Any, *, why: str) -> Installation:
    """The store's identity, given now (create-if-absent, then audited ``installation:identity``)
    when it has none. A blank or malformed one is refused (:class:`InstallationInvalid`), never
    replaced: whoever blanked it must not get a fresh identity for it."""
    found = read_installation(store)
    if found is not None:
        return found
    made = _new()
    try:
        store.put_if_absent(INSTALLATION_KEY, made.to_bytes())
    except AlreadyExists:  # another process gave it one meanwhile: that one stands
        found = read_installation(store)
        if found is None:
            raise
        return found
    _audited(audit, actor, made, why, None)
    return made


def renew_installation(store: ObjectStore, audit: Any, actor: Any, *, previous: str | None) -> Installation:
    """Give the store a fresh identity (``kho restore --as-new-installation``: a clone made from
    another installation's backup is a new installation, not that one), audited with the
    previous id."""
    made = _new()
    store.put(INSTALLATION_KEY, made.to_bytes())
    _audited(audit, actor, made, "as-new-installation", previous)
    return made


# -- the restore rule ------------------------------------------------------------------------------
SETUP_KEYS = frozenset({INSTALLATION_KEY})
SETUP_PREFIXES = (
    "accounts/",
    "units/",
    "catalog/unit-codes/",
    "tokens/",
    "token-index/",
    "notifications/",
    "login-failures/",
    "audit/",
    ".kho-probe/",
)
"""What a store holds after set-up alone (``kho account init``, accounts made, people logging
in): accounts, units and their code guards, tokens, notifications, failed-login counts, the
audit log of those acts, leftover S3 probes. An **allow-list**: any other key (a record, a
register entry, a catalogue row, a "đã hủy" row, a hold, a plan, a saved search, a key no
release knows yet) is use, so a kind of data added later cannot be overlooked the way a
deny-list of record prefixes was."""


def beyond_setup(keys: Iterable[str]) -> str | None:
    """The first key of ``keys`` that is not set-up (:data:`SETUP_PREFIXES`), None when all are
    (pure; stops at the first, so a store in use costs one listing page)."""
    for key in keys:
        if key not in SETUP_KEYS and not key.startswith(SETUP_PREFIXES):
            return key
    return None


class IdentityVerdict(StrEnum):
    SAME = "same"
    """The backup names the target's own installation."""
    PRE_IDENTITY = "pre-identity"
    """A manifest written before identities (format 3 or before) or of a store that had none:
    restored as before."""
    FRESH_TARGET = "fresh-target"
    """The target holds set-up only (disaster recovery into a fresh installation)."""
    DELIBERATE = "deliberate"
    """Another installation's backup over a store in use, taken with a reason."""


@dataclass(frozen=True)
class RestoreIdentity:
    verdict: IdentityVerdict
    backup: str | None
    """The id the manifest names (None: pre-identity)."""
    target: str | None
    """The target's id (None: it has none, or an invalid one taken with a reason)."""
    in_use: str | None
    """A key of the target beyond set-up (None: set-up only)."""
    reason: str | None

    def details(self) -> dict[str, Any]:
        """What the restore's audit event keeps of it."""
        return {"verdict": str(self.verdict), "backup": self.backup, "target": self.target,
                "in_use": self.in_use, "reason": self.reason}


def manifest_installation(manifest: Any) -> str | None:
    """The installation a manifest (upcast) names: None for pre-identity (format 3 and before,
    or a store that had no id), the text it holds otherwise; a format-4 manifest without the
    field, or with a value that is not text, names "" (blank: another installation's)."""
    value = manifest.get("installation", "") if isinstance(manifest, dict) else ""
    if value is None or isinstance(value, str):
        return value
    return ""


def restore_identity(
    *,
    backup: str | None,
    target: str | None,
    in_use: str | None,
    reason: str | None,
    target_invalid: InstallationInvalid | None = None,
    backup_id: str = "",
) -> RestoreIdentity:
    """Whether a backup naming ``backup`` may replace a store whose id is ``target`` and which
    holds ``in_use`` (a key beyond set-up, or None) (pure):

    - a ``reason`` given (``--from-another-installation``) that is blank, or only invisible
      characters, is refused ``RESTORE_REASON_REQUIRED``;
    - a target whose ``installation.json`` is invalid (``target_invalid``) is refused with that
      error unless a reason is given;
    - a pre-identity backup (None) is restored as before;
    - the target's own backup is restored; a blank id in a manifest is never the target's, and a
      store in use without an id is another installation than any backup naming one;
    - another installation's backup is taken by a target holding set-up only, or with a reason;
      otherwise refused ``RESTORE_OTHER_INSTALLATION``."""
    if reason is not None and blank(reason):
        raise BackupError(
            "Cần nêu lý do khôi phục bản sao lưu của một cài đặt khác (--from-another-installation"
            " \"lý do\"): lý do không được để trống hay chỉ gồm khoảng trắng, ký tự vô hình.",
            code="RESTORE_REASON_REQUIRED",
        )
    if target_invalid is not None:
        if reason is None:
            raise target_invalid
        return RestoreIdentity(IdentityVerdict.DELIBERATE, backup, None, in_use, reason)
    if backup is None:
        return RestoreIdentity(IdentityVerdict.PRE_IDENTITY, None, target, in_use, reason)
    if target is not None and is_installation_id(backup) and backup == target:
        return RestoreIdentity(IdentityVerdict.SAME, backup, target, in_use, reason)
    if in_use is None:
        return RestoreIdentity(IdentityVerdict.FRESH_TARGET, backup, target, in_use, reason)
    if reason is not None:
        return RestoreIdentity(IdentityVerdict.DELIBERATE, backup, target, in_use, reason)
    theirs = f"mã {backup}" if not blank(backup) else "mã trống"
    ours = f"mã {target}" if target is not None else "chưa có mã định danh"
    raise RestoreOtherInstallation(
        f"Bản sao lưu “{backup_id}” là của một cài đặt khác ({theirs}), không phải của kho này"
        f" ({ours}), mà kho này đang được dùng (có “{in_use}”): khôi phục sẽ thay hồ sơ, văn bản và"
        " nhật ký kiểm toán của kho này bằng của nơi khác. Chưa khôi phục gì. Hãy chọn bản sao lưu"
        " của chính kho này; chỉ khi chắc chắn muốn thay, dùng --from-another-installation \"lý do\""
        " (lý do và hai mã được ghi vào nhật ký), thêm --as-new-installation để kho được khôi phục"
        " mang mã định danh mới.",
        backup_id=backup_id,
        backup_installation=backup,
        target_installation=target,
        in_use=in_use,
    )
