"""Sealing the accounts and units written before seals, without laundering forgeries (review r22).

With ``KHO_MASTER_KEY``, Kho refuses an account or unit version of a format before seals
(:attr:`repository.seals.Verdict.UNSEALED`): a writer of the store who lacks the key could write
one (a new quản trị, the next version of an account untouched since the upgrade). The upgrade
path: the operator sets ``KHO_ALLOW_UNSEALED`` for the window, runs ``kho account seal``
(:func:`seal_unsealed`), then removes the setting. This writes a sealed next version of every
account and unit whose newest version is unsealed *only* when the audit log vouches for that
version, by the check ``kho fsck`` makes for ``unaudited`` (:func:`vouched`):

- the chain verifies (with its checkpoints): a log that has been cut or changed vouches for nothing;
- a version of a format that carries its events (:data:`EVENTS_CARRIED_SINCE`) carries some, and
  each one is in the log naming that version (``details.object``), by the same actor;
- a version of a format before events is an account's first version whose ``account:create``
  is in the log (fsck step 12); any other is refused (no event names it: a quản trị checks it by
  hand during the window and changes it, which writes a sealed version);
- the version is no downgrade (:meth:`AccountService._downgraded_from`) and was never written
  over in place (Kho creates each version once: a second store version of the key is a hand in
  the store).

The same for a version of a sealed format with no seal at all and no sealed version before it:
what this release writes when run without a key, before the operator sets one (the read path
refuses it as ``ACCOUNT_SEAL_INVALID``/``UNIT_SEAL_INVALID``; the upgrade window does not read it).

Every version sealed is audited (``account:seal`` / ``unit:seal``, by the operator or the quản
trị who runs it); every refusal is reported with its reason. What the log cannot vouch for: the
bytes of a version it names (events carry no digest of the object); a version rewritten in place
with its store versions deleted passes. Run it right after the upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from kho import logs
from kho.errors import KhoError, NotFound
from repository import formats
from repository.accounts import (
    EVENTS_CARRIED_SINCE,
    STORED_EVENTS,
    AccountService,
    account_key,
    carries_no_events,
    unit_key,
)
from repository.audit import EVENTS_PREFIX, listed_seq, parse_object, sealed_events
from repository.seals import SEAL_FIELD, Sealer, Verdict

if TYPE_CHECKING:
    from repository.records import Repository


@dataclass(frozen=True)
class Sealed:
    """One unsealed newest version: ``sealed_as`` the key of the sealed version written, or
    None with ``code`` and ``reason`` (Vietnamese) when it was refused."""

    key: str
    sealed_as: str | None = None
    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Log:
    """What the audit log says of accounts and units: per object (``details.object``) the
    (actor, action) pairs of its events, and the accounts whose ``account:create`` it holds."""

    named: dict[str, frozenset[tuple[str, str]]]
    created: frozenset[str]


def _read_log(repo: Repository) -> _Log:
    """The events that vouch: those whose seal checks and the legacy ones before the first sealed
    event (:func:`repository.audit.sealed_events`). A forged event a writer of the store appended
    after sealed ones is a ``seal`` finding of verify; once an auditor acknowledges that finding
    the chain is ok, and on rv20 the forged ``account:create`` then vouched for a forged account
    version, which this command sealed (review rv21)."""
    named: dict[str, set[tuple[str, str]]] = {}
    created: set[str] = set()
    sealing = [False]
    floor = repo.audit.sealed_floor()  # sealed from there on, a signed checkpoint says (rv22)
    for info in repo.store.list(EVENTS_PREFIX):
        if listed_seq(info.key) is None:
            continue  # not an event key (verify names it): it vouches for nothing
        try:
            events = parse_object(repo.store.get(info.key))
        except (KhoError, ValueError, TypeError):
            continue  # the chain check (verify) reports it
        for event in sealed_events(repo.audit.sealer, events, sealing, floor):
            details = event.details or {}
            if isinstance(details.get("object"), str):
                named.setdefault(details["object"], set()).add((event.actor, event.action))
            if event.action == "account:create" and isinstance(details.get("username"), str):
                created.add(details["username"])
    return _Log({k: frozenset(v) for k, v in named.items()}, frozenset(created))


def vouched(key: str, kind: formats.Kind, stored: dict, written_in: int, log: _Log) -> str | None:
    """None when the audit log vouches for the version stored at ``key``; else why not."""
    since = EVENTS_CARRIED_SINCE[kind.name]
    if written_in >= since:
        if carries_no_events(kind.name, written_in, stored):
            return "không mang sự kiện nhật ký như mọi phiên bản Kho ghi theo định dạng của nó"
        carried = {
            (str(item.get("actor")), str(item.get("action")))
            for item in stored.get(STORED_EVENTS) or ()
            if isinstance(item, dict)
        }
        missing = sorted(action for _, action in carried - log.named.get(key, frozenset()))
        if missing:
            return f"nhật ký kiểm toán không có sự kiện của nó ({', '.join(missing)})"
        return None
    name = key.split("/")[1]
    if kind is formats.ACCOUNT and key == account_key(name, 1):
        if name in log.created:
            return None
        return "nhật ký kiểm toán không có sự kiện tạo lập nó (account:create)"
    return (
        "định dạng cũ không mang sự kiện nhật ký và không sự kiện nào nêu nó: quản trị kiểm tra rồi"
        " sửa nó trong thời gian nâng cấp"
    )


def _sealed_before(repo: Repository, kind: formats.Kind, keys: list[str], key: str) -> bool:
    """Whether a version of the object before ``key`` carries a seal: then an unsealed ``key`` of a
    sealed format was not written by a Kho without a key before the key was set."""
    for earlier in keys[: keys.index(key)]:
        try:
            stored = formats.parse(kind.name, repo.store.get(earlier))
            if isinstance(stored, dict) and SEAL_FIELD in stored:
                return True
        except (KhoError, ValueError, TypeError):
            continue
    return False


def _built_on_unvouched(
    repo: Repository, kind: formats.Kind, keys: list[str], newest: str, log: _Log
) -> Sealed | None:
    """A sealed newest version built on an unsealed one the log does not vouch for: in the upgrade
    window, a change (a login) of a forged unsealed version writes a sealed version from it, which
    this command would otherwise skip as sealed. Reads the versions before ``newest`` back to the
    newest unsealed one (reported, not sealed: a quản trị checks the account by hand)."""
    for earlier in reversed(keys[: keys.index(newest)]):
        try:
            stored = formats.parse(kind.name, repo.store.get(earlier))
            written_in = formats.version_of(kind.name, stored)
        except NotFound:
            continue
        except (KhoError, ValueError, TypeError):
            return Sealed(earlier, code="FORMAT_INVALID", reason="không đọc được")
        if isinstance(stored, dict) and SEAL_FIELD in stored:
            continue
        reason = vouched(earlier, kind, stored, written_in, log)
        if reason is None:
            return None
        return Sealed(
            earlier,
            code="BUILT_ON_UNAUDITED",
            reason=f"phiên bản đã niêm phong {newest} được ghi tiếp từ phiên bản chưa niêm phong này,"
            f" mà {reason}",
        )
    return None


def seal_unsealed(
    repo: Repository, accounts: AccountService, actor: str, source: str | None
) -> tuple[Sealed, ...]:
    """Seal every account and unit whose newest version is unsealed and vouched for by the log
    (:func:`vouched`); report those refused. Nothing is sealed while the chain has an open finding."""
    if not accounts.sealer.active:
        raise KhoError(
            "Chưa đặt KHO_MASTER_KEY: Kho không niêm phong tài khoản và đơn vị.", code="SEAL_KEY_MISSING"
        )
    from repository.anchor import verify_anchored

    chain = verify_anchored(repo.audit, repo.anchor)
    if not chain.ok:
        raise KhoError(
            "Chuỗi nhật ký kiểm toán có phát hiện chưa được xử lý (“kho audit verify”): nhật ký không"
            " thể làm chứng cho phiên bản nào, nên Kho không niêm phong gì.",
            code="AUDIT_CHAIN_BROKEN",
        )
    log = _read_log(repo)
    strict = Sealer(accounts.sealer.key)  # the verdict outside the upgrade window
    out: list[Sealed] = []
    for prefix, kind, key_of in (
        ("accounts/", formats.ACCOUNT, account_key),
        ("units/", formats.UNIT, unit_key),
    ):
        versions: dict[str, list[str]] = {}
        for info in repo.store.list(prefix):
            versions.setdefault(info.key.split("/")[1], []).append(info.key)
        for name, keys in sorted(versions.items()):
            found = accounts._newest_readable(keys)
            if found is None:
                continue
            key, raw = found
            try:
                stored = formats.parse(kind.name, raw)
                written_in = formats.version_of(kind.name, stored)
            except (KhoError, ValueError, TypeError) as exc:
                out.append(Sealed(key, code="FORMAT_INVALID", reason=str(exc)))
                continue
            verdict = strict.verdict(kind.name, key, stored, written_in)
            no_seal = verdict is Verdict.BROKEN and SEAL_FIELD not in stored
            if no_seal and not _sealed_before(repo, kind, keys, key):
                verdict = Verdict.UNSEALED  # written by this release run without a key: as an old format
            if verdict is Verdict.SEALED:
                built_on = _built_on_unvouched(repo, kind, keys, key, log)
                if built_on is not None:
                    out.append(built_on)
                continue
            if verdict is not Verdict.UNSEALED:
                continue  # a broken seal (kho fsck: seal): not this command's
            number = int(key.rsplit("/v", 1)[1])
            reason = vouched(key, kind, stored, written_in, log)
            code = "UNAUDITED"
            if reason is None:
                try:
                    in_place = len(repo.store.list_versions(key))
                except NotFound:
                    in_place = 1
                if in_place > 1:
                    code, reason = "OVERWRITTEN", "đã bị ghi đè tại chỗ (Kho chỉ tạo mỗi phiên bản một lần)"
            if reason is None:
                version_key = partial(key_of, name)
                before = accounts._downgraded_from(version_key, number, written_in, raw)
                if formats.downgrades([before, written_in]):
                    code, reason = "DOWNGRADED", f"định dạng {written_in} sau định dạng {before} (hạ cấp)"
            if reason is not None:
                logs.warn(__name__, "%s: not sealed (%s)", key, code)
                out.append(Sealed(key, code=code, reason=reason))
                continue
            try:
                out.append(Sealed(key, sealed_as=accounts.write_sealed(key, actor, source)))
            except KhoError as exc:
                out.append(Sealed(key, code=exc.code, reason=exc.message))
    return tuple(out)
