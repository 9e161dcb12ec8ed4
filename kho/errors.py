"""Errors that carry a stable machine code and a Vietnamese message for people.

Every error raised across a package boundary is a :class:`KhoError`. ``code`` is stable
(API clients and tests match on it); ``message`` is Vietnamese and meant for a person;
``details`` carries structured data (field names, limits, ids). Always chain the cause:
``raise StoreUnavailable(...) from exc``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any


class KhoError(Exception):
    """Base of every Kho error."""

    code: str = "KHO_ERROR"
    http_status: int = 422
    """A request Kho refuses is the caller's to fix (422) unless a subclass says otherwise;
    failures of Kho or its services carry 5xx in their own classes."""

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        # NFC whatever a caller's text brought in (a name typed as "Hoa" + U+0300): a message
        # for people is one form on every page, API answer and command.
        message = unicodedata.normalize("NFC", message)
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole (code, message, details and a subclass's own fields), without calling
        ``__init__`` again: an error raised in a worker process (bulk import, the signature
        pool) reaches the parent as it was. Exception's default pickling calls ``cls(*args)``,
        which a subclass with other arguments (``ValidationFailed(errors)``) cannot take: the
        pool's result thread died on it and the parent waited for ever."""
        return (_rebuilt, (type(self), self.args, self.__dict__))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            data["details"] = self.details
        return data

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def _rebuilt(cls: type[KhoError], args: tuple[Any, ...], state: dict[str, Any]) -> KhoError:
    """A :class:`KhoError` from its pickled parts (:meth:`KhoError.__reduce__`)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(KhoError):
    code = "CONFIG_INVALID"
    http_status = 500


class NotFound(KhoError):
    code = "NOT_FOUND"
    http_status = 404


class AlreadyExists(KhoError):
    """A create-if-absent write found the key taken."""

    code = "ALREADY_EXISTS"
    http_status = 409


class Conflict(KhoError):
    """A concurrent update won the race; re-read and try again."""

    code = "VERSION_CONFLICT"
    http_status = 409


class Duplicate(KhoError):
    code = "DUPLICATE_DOCUMENT"
    http_status = 409


class StoreUnavailable(KhoError):
    code = "STORE_UNAVAILABLE"
    http_status = 503


class StoreRestoring(KhoError):
    """A restore is writing the store (m69: its sealed marker is there): no register number is
    given until it ends, nothing written."""

    code = "STORE_RESTORING"
    http_status = 503


class StoreFull(KhoError):
    code = "STORE_FULL"
    http_status = 507


class IntegrityError(KhoError):
    """Stored bytes no longer match their recorded digest (fixity failure)."""

    code = "INTEGRITY_FAILED"
    http_status = 500


class RetentionLocked(KhoError):
    code = "RETENTION_LOCKED"
    http_status = 409


class LegalHold(KhoError):
    """A legal hold (phong tỏa) or a recall freeze blocks the change or the destruction."""

    code = "LEGAL_HOLD"
    http_status = 409


class KeyDestroyed(KhoError):
    code = "KEY_DESTROYED"
    http_status = 410


class BadFile(KhoError):
    code = "FILE_INVALID"
    http_status = 422


class BodyTooLarge(KhoError):
    """A JSON request body beyond what any JSON route needs (the upload limit is for files)."""

    code = "BODY_TOO_LARGE"
    http_status = 413


class PermissionDenied(KhoError):
    code = "PERMISSION_DENIED"
    http_status = 403


class CrossSiteRefused(KhoError):
    """An audited GET (a download, an export, a print copy, a page view that is recorded) sent
    by a browser from another site (``Sec-Fetch-Site: cross-site``), refused before it acts
    (:mod:`web.cross_site`)."""

    code = "CROSS_SITE_REFUSED"
    http_status = 403


@dataclass(frozen=True)
class FieldError:
    """One invalid metadata field."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class _Errors:
    """The invalid fields of one validation, in the order they were found."""

    items: tuple[FieldError, ...] = field(default_factory=tuple)


class ValidationFailed(KhoError):
    """Metadata failed validation; ``errors`` lists every invalid field."""

    code = "VALIDATION_FAILED"
    http_status = 422

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0].message if self.errors else "Dữ liệu không hợp lệ."
        more = f" (và {len(self.errors) - 1} lỗi khác)" if len(self.errors) > 1 else ""
        super().__init__(first + more, errors=[e.__dict__ for e in self.errors])
        if len(self.errors) == 1:
            # A single error keeps its own, more precise code.
            self.code = self.errors[0].code


# --- accounts (repository/accounts.py) -------------------------------------------------------


class AccountNotFound(NotFound):
    code = "ACCOUNT_NOT_FOUND"


class UnitNotFound(NotFound):
    code = "UNIT_NOT_FOUND"


class UnitTampered(KhoError):
    """The newest version of a unit has no seal that checks (:mod:`repository.seals`), or is in
    an older format than a sealed version before it: written by a hand in the store (a unit moved
    under another gives that unit's heads and quản trị sight and rights over it). The unit tree
    is the access policy's input, so nothing that needs it is done until an operator has looked
    (``kho fsck``: ``seal`` / ``downgraded``). Code ``UNIT_SEAL_INVALID`` or ``UNIT_DOWNGRADED``;
    ``UNIT_UNSEALED``: a format before seals outside the upgrade window (``kho account seal``)."""

    code = "UNIT_SEAL_INVALID"
    http_status = 503


class LoginFailed(KhoError):
    """Unknown account or wrong password: one code for both, so the answer does not tell which
    account names exist."""

    code = "LOGIN_FAILED"
    http_status = 401


class AccountLocked(KhoError):
    """The account is locked (``details["reason"]``); a quản trị must unlock it."""

    code = "ACCOUNT_LOCKED"
    http_status = 403


class PasswordResetExpired(KhoError):
    """The one-time password of a reset was right, but it is no longer valid (or the reset was
    never confirmed by a second person): a new reset is needed."""

    code = "PASSWORD_RESET_EXPIRED"
    http_status = 403


class PasswordNotConfirmed(PasswordResetExpired):
    """The password was right, but nobody but the one who gave it out has ever held it: the
    whole first password of an account made by one quản trị alone, before a new account's first
    password needed two people, and never changed by its person (a possible puppet of its
    creator). A two-person reset is needed, as for an expired one."""

    code = "PASSWORD_NOT_CONFIRMED"


class AccountDowngraded(KhoError):
    """The newest version of an account was written in an older stored format than the version
    before it: no Kho writes that (only a hand in the store, to slip in a change with no audit
    event). Nothing is done with the account — no login, no token, no change built on it — until
    an operator has looked (``kho fsck`` reports it as ``downgraded``). Code ``ACCOUNT_UNAUDITED``
    for the same refusal of a newest version in a current format without the audit events every
    such version carries (``unaudited``)."""

    code = "ACCOUNT_DOWNGRADED"
    http_status = 403


class PasswordChangeRequired(KhoError):
    """The password was right but must be changed before anything else (first login).

    The login itself succeeded: ``account`` is the authenticated account, so the caller can offer
    the password change (and nothing else). It is deliberately not in ``details``: ``to_dict``
    must never carry a password hash.
    """

    code = "PASSWORD_CHANGE_REQUIRED"
    http_status = 403

    def __init__(self, message: str, *, account: Any = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.account = account


class PasswordExpired(PasswordChangeRequired):
    """The password is older than the regulation allows (3 months); same handling as above."""

    code = "PASSWORD_EXPIRED"


class TokenInvalid(KhoError):
    """An API token that is unknown, revoked, malformed or of a deleted account."""

    code = "TOKEN_INVALID"
    http_status = 401


class TokenExpired(TokenInvalid):
    """A personal access token past its ``expires_at`` (review a28): the person makes a new one."""

    code = "TOKEN_EXPIRED"
    http_status = 401


class TokenReadOnly(PermissionDenied):
    """A ``read`` token used for a request that writes (review a28,
    :func:`repository.policy.token_permits`)."""

    code = "TOKEN_READ_ONLY"
    http_status = 403


class LoginRateLimited(KhoError):
    """Too many failed logins or password changes for one name from one address in the window
    (the pages' and the API's one limiter, ``web.pages.common.LoginLimiter``)."""

    code = "LOGIN_RATE_LIMITED"
    http_status = 429


class SessionExpired(TokenInvalid):
    """A page session or API token unused for longer than its idle timeout
    (``KHO_SESSION_IDLE_MINUTES`` / ``KHO_TOKEN_IDLE_MINUTES``): the person logs in again."""

    code = "SESSION_EXPIRED"
    http_status = 401


class IdentifierInvalid(NotFound):
    """An id in a path that cannot name anything Kho stores (``..``, NUL, non-ASCII, wrong form)."""

    code = "ID_INVALID"


class SignatureRejected(KhoError):
    """The document's signature check FAILED and nobody gave an override reason."""

    code = "SIGNATURE_FAILED"


class MetadataMismatch(KhoError):
    """A văn bản đến's typed sender, số/ký hiệu or date contradicts its own PDF
    (``details["mismatches"]``: each field, what was typed, what the PDF says), no reason given."""

    code = "METADATA_MISMATCH"
    http_status = 409


class FormatUnsupported(KhoError):
    """A stored object was written in a format version newer than this code knows."""

    code = "FORMAT_UNSUPPORTED"
    http_status = 500


class FormatInvalid(KhoError):
    """A stored object is not an object of its kind (not JSON, no valid format version)."""

    code = "FORMAT_INVALID"
    http_status = 500


class ClaimNotAFile(KhoError):
    """A claim or duplicate guard of the local store (``objects/claims/…``) whose path is not a
    regular file Kho wrote: a directory, a symbolic link (dangling, or leading anywhere, in or
    out of the store), a FIFO, a socket, a device, a file that cannot be read, or a file below a
    linked folder. Never followed, never waited for, never overwritten: the create that meets it
    is refused at once, and ``kho fsck`` lists it for a person (``guard-not-a-file``,
    ``claim-not-a-file``; review rv55). ``details``: ``key``, ``found``."""

    code = "CLAIM_NOT_A_FILE"
    http_status = 409


class KeyNeverCreated(KhoError):
    """A conditional create (``put_if_absent``, ``put_new``, ``stage``, ``claim_ahead``) of a key
    whose family is declared replaced only (:data:`repository.storage.base.REPLACED_ONLY`): such a
    key is written with ``put`` alone, and an S3 store in the claims mode sends its replace
    without a claim, so a create of it could not see it taken. A fault of the program, never of
    the caller's input (m53). ``details``: ``key``, ``family``."""

    code = "KEY_NEVER_CREATED"
    http_status = 500


class VersionIsCurrent(KhoError):
    """``ObjectStore.delete_older_version`` named the *current* version of a key: refused on
    every backend, nothing removed (review rv64: S3 removed it, and the version under it became
    the current one; the local folder ignored it). Its callers remove versions they listed as
    older; a current one named is a fault of the program or a race it lost, never a removal to
    make. ``details``: ``key``, ``version_id``."""

    code = "VERSION_IS_CURRENT"
    http_status = 409


class StoreVersioningOff(ConfigError):
    """The store's data bucket does not keep every version (S3 versioning suspended or never
    enabled): every PUT there replaces the one ``null`` version, so a version id no longer names
    exactly the bytes read, and a rewrite that removes "the version it read" may remove another
    writer's (review rv64). ``kho ingest scrub`` and ``kho fsck --repair`` refuse to rewrite jobs
    there; ``kho fsck`` names it. ``details``: ``bucket``, ``status``."""

    code = "STORE_VERSIONING_OFF"


class RegisterSeriesUnknown(NotFound):
    """A register (sổ) name that names no series."""

    code = "REGISTER_SERIES_UNKNOWN"


class RegisterSeriesAmbiguous(KhoError):
    """A name that stands for several series (``di``: văn bản đi are numbered in several)."""

    code = "REGISTER_SERIES_AMBIGUOUS"
    http_status = 422


class AuditKeyMissing(KhoError):
    """No audit signing key (``KHO_AUDIT_SIGNING_KEY``) or it cannot be read."""

    code = "AUDIT_KEY_MISSING"
    http_status = 500


class AuditChainBroken(KhoError):
    """The end of the audit log is not what its witness says (the witness is missing from a log
    of more than one act, or names an event that is not there or differs): events were cut from
    the end. Appending now would chain after the cut and hide it, so nothing is appended until an
    auditor has looked (``kho audit verify``, ``kho fsck``)."""

    code = "AUDIT_CHAIN_BROKEN"
    http_status = 503


class AuditHistoryBehind(AuditChainBroken):
    """The store is behind the history anchored outside it (the newest signed checkpoint, or the
    head ``kho restore`` restored, no longer in the log with its hash): an older copy of the store
    was put back, or its object versions rolled back. Writing now would re-issue register numbers
    and hide the acts lost, so nothing is written until an auditor or the operator has looked
    (:mod:`repository.rollback`)."""

    code = "AUDIT_HISTORY_BEHIND"
    http_status = 503


class AuditSealKeyMissing(KhoError):
    """A process without ``KHO_MASTER_KEY`` would append to an audit log whose events are sealed:
    its events would carry no seal, every ``verify`` would name them and the readers that act on
    events would ignore them (a genuine ``hold:place`` among them would not hold). Refused before
    anything is written; the operator gives the process the installation's key (review rv22)."""

    code = "AUDIT_SEAL_KEY_MISSING"
    http_status = 503


AUDIT_SEAL_KEY_MISSING_MESSAGE = (
    "Nhật ký kiểm toán của kho đã được niêm phong (seal) bằng khóa chủ, nhưng tiến trình này chạy"
    " không có KHO_MASTER_KEY: không ghi sự kiện chưa niêm phong vào nhật ký. Hãy chạy lại tiến trình"
    " (web, worker, beat, lệnh kho) với cùng KHO_MASTER_KEY như các tiến trình khác của kho."
)


class AuditSealBroken(AuditChainBroken):
    """``kho audit checkpoint`` refuses to sign a log in which ``verify`` names an event whose
    seal is due and missing or does not check (``details["seq"]``: the first), and no auditor has
    acknowledged it: a checkpoint signed over a forged event would vouch for it (review rv22)."""

    code = "AUDIT_SEAL_BROKEN"


class AcknowledgeRefused(KhoError):
    """``kho audit acknowledge`` (and its web form) refuses the auditor's decision: the findings
    changed since the auditor looked (``FINDINGS_CHANGED``), there is nothing to acknowledge
    (``NOTHING_TO_ACKNOWLEDGE``), no readable event is left to chain the decision after
    (``NOTHING_TO_CHAIN_AFTER``), or the reason is missing or too long (``REASON_INVALID``,
    :class:`AcknowledgeReasonInvalid`)."""

    code = "FINDINGS_CHANGED"
    http_status = 409


class AcknowledgeReasonInvalid(AcknowledgeRefused):
    """The reason of an acknowledgement is missing or longer than allowed: the caller's to fix."""

    code = "REASON_INVALID"
    http_status = 422


class FsckAcknowledgeRefused(KhoError):
    """``kho fsck-acknowledge`` refuses a person's decision on a finding of ``kho fsck`` (m65):
    the finding changed since the person looked (``FSCK_FINDING_CHANGED``: another record took
    the number, its facts are not those of the digest given) or is already acknowledged with
    these facts (``FSCK_ALREADY_ACKNOWLEDGED``)."""

    code = "FSCK_FINDING_CHANGED"
    http_status = 409


class FsckKindInvalid(KhoError):
    """The kind named is none of ``kho fsck``'s (``FSCK_KIND_UNKNOWN``), or one a person may not
    acknowledge (``FSCK_KIND_NOT_ACKNOWLEDGEABLE``: repaired by ``--repair``, the auditor's, or
    evidence of lost or changed data): the caller's to fix."""

    code = "FSCK_KIND_UNKNOWN"
    http_status = 422


class FsckFindingNotFound(NotFound):
    """No current finding of ``kho fsck`` has the kind and subject named."""

    code = "FSCK_FINDING_NOT_FOUND"


class AcknowledgeKeyMissing(AuditKeyMissing):
    """``kho audit acknowledge`` without the checkpoint signing key: the auditor's decision must
    be signed outside the store, so it is refused (the caller's setup to fix, not a failure)."""

    http_status = 409


class KeyUnwrapFailed(KhoError):
    """A record key does not unwrap with the configured master key (wrong ``KHO_MASTER_KEY``),
    which is a configuration problem, not damaged data."""

    code = "MASTER_KEY_MISMATCH"
    http_status = 500


class MasterKeyWrong(KeyUnwrapFailed):
    """A record key did not unwrap and neither do other records' keys: the master key this
    process runs with is wrong, or missing where the keys are wrapped. The configuration's
    error (the same code), not a damaged record: no fixity finding (:meth:`web.context.Kho.refusal`)."""

    http_status = 503


MASTER_KEY_WRONG_MESSAGE = (
    "KHO_MASTER_KEY đang cấu hình không mở được khóa mã hóa của văn bản/hồ sơ nào: thiếu hoặc sai khóa"
    " chủ (lỗi cấu hình, dữ liệu lưu trữ không hỏng). Hãy chạy lại với đúng KHO_MASTER_KEY của kho."
)


class RecordUnreadable(KhoError):
    """What a person is told when a record or its original cannot be opened (its key garbled or
    not unwrapping, its sealed bytes changed): nothing they can fix, nothing Kho crashed on.
    The cause (``MASTER_KEY_MISMATCH``, ``INTEGRITY_FAILED``) is chained and reported as a
    fixity finding to the operators (:meth:`web.context.Kho.refusal`)."""

    code = "RECORD_UNREADABLE"
    http_status = 503


UNREADABLE_CAUSES = frozenset({"MASTER_KEY_MISMATCH", "INTEGRITY_FAILED"})
"""Codes of the errors answered as :class:`RecordUnreadable` when they name a record."""

UNREADABLE_MESSAGE = (
    "Bản gốc không mở được: khóa mã hóa hoặc dữ liệu lưu trữ của văn bản/hồ sơ này bị hỏng. Dữ liệu đã"
    " lưu không bị thay đổi; quản trị hệ thống và lưu trữ viên đã được báo để khôi phục từ bản sao lưu."
)


class BackupError(KhoError):
    """A backup that cannot be made, verified or restored as asked."""

    code = "BACKUP_INVALID"
    http_status = 500


class RestoreHistoryBehind(BackupError):
    """A restore refused before anything is written: the audit log the backup holds disagrees
    with the signed checkpoints outside the store (an older copy, or an edited one). Given only
    with an explicit, audited override and its reason (disaster recovery where nothing newer
    exists)."""

    code = "RESTORE_HISTORY_BEHIND"
    http_status = 409


class RestoreOtherInstallation(BackupError):
    """A restore refused before anything is written: the backup names another installation than
    the target store's, and the target holds more than set-up (records, registers, catalogue
    rows, "đã hủy" rows, holds …). Agencies set up from one image share a master key, so a seal
    alone cannot tell their backups apart (review rv39). Given only with an explicit, audited
    override and its reason (``--from-another-installation``)."""

    code = "RESTORE_OTHER_INSTALLATION"
    http_status = 409


class InstallationInvalid(KhoError):
    """The store's ``installation.json`` is blank or malformed: not read as "no identity yet"
    (which would let any backup in), refused until a person looks at it."""

    code = "INSTALLATION_INVALID"
    http_status = 500


class BackupRunning(BackupError):
    """Another backup run of this installation (``kho backup`` or the scheduled task) holds the
    backup lock: two runs at once would interleave their store and key copies, so that a key copy
    begun before a store copy ended seems to cover it (``RESTORE_KEYS_BEHIND``, rv15)."""

    code = "BACKUP_RUNNING"
    http_status = 409


class RestoreBusy(BackupError):
    """A restore refused at once: a backup, another restore or a fixity run holds the lock. A
    store replaced while it is copied, repaired from a copy or replaced again mixes two states
    (and a repair could bring back an original the restore destroyed again)."""

    code = "RESTORE_BUSY"
    http_status = 409


class FixityRunning(KhoError):
    """A fixity run refused at once: another fixity run or a restore holds the fixity lock (two
    runs would repair the same originals; a repair during a restore writes into the store being
    replaced)."""

    code = "FIXITY_RUNNING"
    http_status = 409


# --- handling incoming documents (repository/workflow.py, repository/handling.py) ----------------


class WorkflowRefused(KhoError):
    """A handling step that the rules of the flow refuse (deadline in the past, extension asked
    too late, completion without an answer, …); ``code`` names the rule."""

    code = "WORKFLOW_REFUSED"
    http_status = 422


class WorkflowConflict(Conflict):
    """Another step was recorded on the document since the person loaded it (two leaders
    directing at once): nothing was written; reload and decide again."""

    code = "WORKFLOW_CONFLICT"
    http_status = 409
