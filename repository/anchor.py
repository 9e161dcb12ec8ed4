"""Signed checkpoints that anchor the audit chain outside the store (ARCHITECTURE invariant 11).

The chain's witness lives in the store, so anyone who can write the store can rewrite the log
consistently (drop events, renumber, rehash, lower the witness). A checkpoint records the head
of the chain (its newest sequence number and hash, a few sampled hashes behind it, the event
count and the newest number of every register) signed with an Ed25519 key the store does not
hold (``KHO_AUDIT_SIGNING_KEY``, a PEM file). Each checkpoint is written

- to the store as ``audit/checkpoints/<n>.json`` (create-if-absent, under COMPLIANCE retention
  where the backend has object lock, so not even its owner can rewrite it before it expires);
- to a folder outside the store (``KHO_AUDIT_CHECKPOINT_DIR``) that backups and auditors copy;
- to any file the operator names (``kho audit checkpoint --out``), for an auditor to keep.

:func:`verify_anchored` checks the chain against every checkpoint it can reach; the comparison
itself is :func:`repository.audit_offline.check_checkpoints`, which auditors also run offline.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kho import jsontext
from kho.errors import (
    AUDIT_SEAL_KEY_MISSING_MESSAGE,
    AlreadyExists,
    AuditChainBroken,
    AuditKeyMissing,
    AuditSealBroken,
    AuditSealKeyMissing,
    KhoError,
)
from kho.sentences import clause, sentences
from kho.timeutil import to_iso_utc, utcnow
from repository import audit_offline as offline
from repository import formats
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    EVENTS_PREFIX,
    NO_SEAL_KEY,
    AuditEvent,
    AuditLog,
    Finding,
    VerifyReport,
    checked_witness,
    listed_seq,
    parse_json,
    raw_events,
    seal_finding,
)
from repository.seals import CHECKPOINT_TAG_LENGTH, SEAL_FIELD, Sealer, Verdict
from repository.storage.base import ObjectStore, Retention

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# ``cryptography`` is imported where a key is read, made or used: every command opens an Anchor,
# few sign or check a checkpoint.

CHECKPOINTS_PREFIX = "audit/checkpoints/"


def checkpoint_key(number: int, tag: str | None = None) -> str:
    """The store name of checkpoint ``number``: ``<number>-<tag>.json`` when it is written with
    the seal key (:meth:`repository.seals.Sealer.checkpoint_tag`, review rv32), else
    ``<number>.json`` — the only name before rv32, still read as it was (a name's tag is a
    reader's shortcut, the signature is what vouches for a checkpoint)."""
    return f"{CHECKPOINTS_PREFIX}{number:012d}{'' if tag is None else '-' + tag}.json"


@dataclass(frozen=True)
class Anchor:
    """Where the signing key and the checkpoints outside the store are."""

    signing_key: Path | None = None
    public_key_file: Path | None = None
    checkpoint_dir: Path | None = None
    retention_days: int = 0
    """COMPLIANCE retention of each checkpoint in the store (0 = none)."""
    tsa_url: str = ""
    """RFC 3161 time-stamping authority that stamps every checkpoint (empty = none)."""
    trust_dir: Path | None = None
    """Trust anchors the TSA's certificate must chain to (``KHO_TRUST_DIR``)."""

    def private_key(self) -> Ed25519PrivateKey:
        if self.signing_key is None:
            raise AuditKeyMissing(
                "Chưa cấu hình khóa ký điểm mốc nhật ký (KHO_AUDIT_SIGNING_KEY); tạo bằng"
                " “kho audit keygen TỆP”."
            )
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(self.signing_key.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise AuditKeyMissing(
                f"Không đọc được khóa ký điểm mốc “{self.signing_key}”.", path=str(self.signing_key)
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyMissing(
                f"“{self.signing_key}” không phải khóa Ed25519.", path=str(self.signing_key)
            )
        return key

    def public_key(self) -> Ed25519PublicKey | None:
        """The key checkpoints are checked with: the public key file, else the signing key's."""
        if self.public_key_file is not None:
            try:
                return offline.load_public_key(self.public_key_file)
            except (OSError, ValueError) as exc:
                raise AuditKeyMissing(
                    f"Không đọc được khóa công khai “{self.public_key_file}”.", path=str(self.public_key_file)
                ) from exc
        if self.signing_key is not None:
            return self.private_key().public_key()
        return None


def public_pem(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 signing key (mode 0600, refusing to overwrite) and its public key
    beside it (``<path>.pub``); returns the public key's path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(public_pem(key.public_key()))
    return public


# -- reading the chain and the checkpoints ---------------------------------------------------------
def chain_positions(store: ObjectStore) -> list[tuple[int, dict[str, Any] | None]]:
    """Every stored event by the position its key names, parsed (None if it does not parse)."""
    positions: list[tuple[int, dict[str, Any] | None]] = []
    for info in store.list(EVENTS_PREFIX):
        position = listed_seq(info.key)
        if position is None:  # not an event key: the chain's own check names it
            continue
        try:
            items = raw_events(parse_json(store.get(info.key)))  # a batch holds several
        except (ValueError, KhoError):
            positions.append((position, None))
            continue
        for offset, raw in enumerate(items):
            positions.append((position + offset, raw if isinstance(raw, dict) else None))
    return positions


def chain_hashes(positions: Iterable[tuple[int, Mapping[str, Any] | None]]) -> dict[int, str]:
    return {p: offline.event_hash(raw) for p, raw in positions if raw is not None}


def register_heads(store: ObjectStore) -> dict[str, int]:
    """The newest number of every register (``registers/<organ>/<year>/<series>/`` → number)."""
    heads: dict[str, int] = {}
    for info in store.list("registers/"):
        prefix, name = info.key.rsplit("/", 1)
        try:
            number = int(name.split(".")[0])
        except ValueError:
            continue
        heads[prefix + "/"] = max(heads.get(prefix + "/", 0), number)
    return heads


def stored_checkpoints(store: ObjectStore) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The checkpoints in the store, and a finding for each one that does not load or has a
    shape Kho never signs (:func:`repository.audit_offline.checkpoint_problem`)."""
    found: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for info in store.list(CHECKPOINTS_PREFIX):
        shown = info.key.encode("unicode_escape").decode("ascii")[:200]
        try:
            cp = formats.parse(formats.AUDIT_CHECKPOINT.name, store.get(info.key))
            # A newer format is refused; the checkpoint is kept as stored (its signature covers
            # the bytes as written, format version included: never an upcast copy).
            formats.upcast(formats.AUDIT_CHECKPOINT.name, cp)
        except (KhoError, ValueError) as exc:
            findings.append(Finding(-1, "checkpoint", f"Điểm mốc “{shown}” không đọc được: {exc}"))
            continue
        problem = offline.checkpoint_problem(cp)
        if problem is None:
            found.append(cp)
        else:
            findings.append(Finding(-1, "checkpoint", f"Điểm mốc “{shown}” bị bỏ qua: {problem}."))
    return found, findings


def folder_checkpoints(folder: Path | None) -> list[dict[str, Any]]:
    return folder_checkpoints_checked(folder)[0]


def folder_checkpoints_checked(folder: Path | None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The checkpoints of the folder outside the store, and a finding for each file there that
    does not parse or has a shape Kho never signs."""
    if folder is None or not folder.is_dir():
        return [], []
    loaded = [offline._loaded(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    sound, malformed = offline.well_formed(loaded, f"thư mục “{folder}”")
    return sound, _converted(malformed)


def latest_register_heads(store: ObjectStore, anchor: Anchor | None = None) -> dict[str, int]:
    """The newest number each register had at any checkpoint (store and folder copies whose
    signature holds when a key is configured): numbers at or below it were issued."""
    cps, _ = stored_checkpoints(store)
    cps += folder_checkpoints(anchor.checkpoint_dir if anchor else None)
    key = anchor.public_key() if anchor else None
    heads: dict[str, int] = {}
    for cp in cps:
        if key is not None and not offline.signature_valid(cp, key):
            continue
        for prefix, number in dict(cp.get("registers", {})).items():
            heads[prefix] = max(heads.get(prefix, 0), int(number))
    return heads


CHECKPOINT_TRIES = 16
"""Checkpoints of one place read at most, newest number first, for the newest one whose signature
holds: a store writer's planted names must not make each process read thousands of objects. With
the seal key, names whose tag checks have a budget of their own (:func:`_signed_newest`)."""

_TAG_DIGITS = frozenset("0123456789abcdef")


def _numbered(names: Iterable[str], prefix: str) -> list[tuple[int, str, str | None]]:
    """``(number, name, tag)`` of the names that are ``<prefix><digits>.json`` (tag None) or
    ``<prefix><digits>-<tag>.json`` (:func:`checkpoint_key`), newest number first."""
    numbered = []
    for name in names:
        stem = name[len(prefix) :].removesuffix(".json") if name.startswith(prefix) else ""
        digits, dash, tag = stem.partition("-")
        tagged = len(tag) == CHECKPOINT_TAG_LENGTH and set(tag) <= _TAG_DIGITS
        if digits.isdigit() and len(digits) <= 12 and name.endswith(".json") and (not dash or tagged):
            numbered.append((int(digits), name, tag if dash else None))
    return sorted(numbered, reverse=True)


def _signed_newest(
    numbered: list[tuple[int, str, str | None]],
    read: Callable[[str], Any],
    key: Ed25519PublicKey | None,
    above: int,
    sealer: Sealer = NO_SEAL_KEY,
) -> dict[str, Any] | None:
    """The first of ``numbered`` above ``above`` that reads, has a shape Kho signs and, with a
    key, a signature that holds; at most :data:`CHECKPOINT_TRIES` read. With the seal key
    (``sealer``), a tagged name whose tag does not check is skipped unread (a store writer
    cannot make one that does), and the names whose tag checks are read on a budget of their
    own: planted names, untagged or tagged, no longer hide a newer checkpoint a writer of Kho
    put in the store with the key (review rv23 open 6, rv28). A checkpoint read under a name
    that is not its number (an older one copied or renamed over a higher name, review rv32) is
    not the newest: skipped."""
    untagged_left = tagged_left = CHECKPOINT_TRIES
    for number, name, tag in numbered:
        if number <= above or (untagged_left <= 0 and tagged_left <= 0):
            break
        if tag is not None and sealer.active:
            expected = sealer.checkpoint_tag(number)
            if expected is None or not hmac.compare_digest(tag, expected):
                continue  # not a name a writer with the key gave: not read
            if tagged_left <= 0:
                continue
            tagged_left -= 1
        else:
            if untagged_left <= 0:
                continue
            untagged_left -= 1
        cp = read(name)
        if (
            cp is not None
            and offline.checkpoint_problem(cp) is None
            and int(cp["number"]) == number  # a signed checkpoint under another's name: moved
            and number > above
            and (key is None or offline.signature_valid(cp, key))
        ):
            return cp
    return None


def newest_folder_checkpoint(folder: Path | None, key: Ed25519PublicKey | None) -> dict[str, Any] | None:
    """The newest checkpoint file of the folder outside the store whose shape Kho signs (and whose
    signature holds, with a key)."""
    if folder is None or not folder.is_dir():
        return None

    def read(name: str) -> Any:
        try:
            return offline._loaded((folder / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None

    return _signed_newest(_numbered((p.name for p in folder.glob("*.json")), ""), read, key, 0)


def newest_store_checkpoint(
    store: ObjectStore, key: Ed25519PublicKey, *, above: int = 0, sealer: Sealer = NO_SEAL_KEY
) -> dict[str, Any] | None:
    """The store's newest checkpoint numbered above ``above`` whose signature holds, as stored (its
    signature covers the bytes as written: never an upcast copy; a newer format is refused): only
    names numbered above ``above`` are read, so none when the folder outside the store has the
    newest already (the usual case). ``sealer``: the log's, whose key tells the names a writer of
    Kho gave (:func:`_signed_newest`)."""

    def read(name: str) -> Any:
        try:
            cp = formats.parse(formats.AUDIT_CHECKPOINT.name, store.get(name))
            formats.upcast(formats.AUDIT_CHECKPOINT.name, cp)
        except (KhoError, ValueError, RecursionError):
            return None
        return cp

    names = (info.key for info in store.list(CHECKPOINTS_PREFIX))
    return _signed_newest(_numbered(names, CHECKPOINTS_PREFIX), read, key, above, sealer)


def signed_sealed_since(
    store: ObjectStore, anchor: Anchor | None, sealer: Sealer = NO_SEAL_KEY
) -> int | None:
    """The position from which the log is sealed, as the newest checkpoint whose signature holds
    says it (``sealed_since``, format 2): that of the folder outside the store (which a writer of
    the store cannot touch) and that of the store, the lower when both say one; None without a
    key to check them with or when neither says one. One listing of each place and, as a rule,
    one read: what a process asks once (:meth:`repository.audit.AuditLog.sealed_floor`)."""
    key = anchor.public_key() if anchor is not None else None
    if anchor is None or key is None:
        return None
    newest = (
        newest_folder_checkpoint(anchor.checkpoint_dir, key),
        newest_store_checkpoint(store, key, sealer=sealer),
    )
    said = [cp["sealed_since"] for cp in newest if cp is not None and cp.get("sealed_since") is not None]
    return min(said, default=None)


def _seals_to_sign(
    positions: Sequence[tuple[int, Mapping[str, Any] | None]],
    sealer: Sealer,
    floor: int | None,
    acks: Sequence[Any],
    acknowledging: int | None,
) -> int | None:
    """The ``sealed_since`` a new checkpoint signs, after the seal check ``verify`` makes
    (:meth:`repository.audit.AuditLog.verify_parts`, review rv20/rv22). Refused:

    - :class:`AuditSealKeyMissing` for a process without the seal key when an event carries a
      seal or a signed checkpoint says the log is sealed (``floor``): it cannot tell a forged
      event from a genuine one, so it signs nothing;
    - :class:`AuditSealBroken` when an event is unsealed after a sealed one (or at or after
      ``floor``) or badly sealed, and no auditor's valid acknowledgement (``acks``; or the one
      being signed, at ``acknowledging``: it covers what was open before it) covers it: a
      checkpoint signed now would vouch for the forgery (the auditor investigates first).

    The value signed: the first position whose seal checks, or ``floor`` when lower (a signed
    claim is never moved up); None when neither."""
    if not sealer.active:
        if floor is not None or any(raw is not None and SEAL_FIELD in raw for _, raw in positions):
            raise AuditSealKeyMissing(AUDIT_SEAL_KEY_MISSING_MESSAGE)
        return None
    from repository import acknowledge

    first: int | None = None
    broken: list[Finding] = []
    for position, raw in positions:
        if raw is None:
            continue  # unreadable: the chain check names it
        by_floor = first is None and floor is not None and position >= floor
        # The event as stored, its hash left out, is the body its seal covers (what
        # ``event_check`` judges, without building the event: one HMAC per event).
        body = {name: value for name, value in raw.items() if name != "hash"}
        verdict = sealer.event_verdict(body, after_sealed=first is not None or by_floor)
        if verdict is Verdict.SEALED and first is None:
            first = position
        elif verdict is Verdict.BROKEN and (acknowledging is None or position >= acknowledging):
            try:
                event = AuditEvent.from_raw(raw)
            except (KhoError, TypeError, ValueError):
                continue  # not an event: the chain check names it (unreadable)
            broken.append(seal_finding(position, event, floor=floor if by_floor else None))
    still = [f for f in acknowledge.mark_chain(broken, acks) if f.acknowledged is None]
    if still:
        seq = still[0].seq
        raise AuditSealBroken(
            f"Không ký điểm mốc mới: sự kiện #{seq} của nhật ký kiểm toán không mang dấu niêm phong"
            " (seal) hợp lệ — có thể bị giả mạo bởi người ghi trực tiếp vào kho — và chưa được kiểm"
            " toán viên chấp nhận. Điểm mốc không ký xác nhận một sự kiện giả mạo: cần kiểm toán viên"
            " kiểm tra (kho audit verify) trước.",
            seq=seq,
            events=[f.seq for f in still],
        )
    return min((p for p in (first, floor) if p is not None), default=None)


# -- writing a checkpoint --------------------------------------------------------------------------
def make_checkpoint(
    store: ObjectStore,
    anchor: Anchor,
    *,
    sealer: Sealer = NO_SEAL_KEY,
    out: Sequence[Path] = (),
    acknowledging: tuple[int, str, frozenset[int]] | None = None,
) -> dict[str, Any]:
    """Sign the current head of the chain and publish the checkpoint (store, folder, ``out``).

    ``sealer``: the log's (:attr:`repository.audit.AuditLog.sealer`). Refused when an event's
    seal is due and missing or does not check and no auditor acknowledged it
    (``AUDIT_SEAL_BROKEN``, naming the first), and without a seal key when the log is sealed
    (``AUDIT_SEAL_KEY_MISSING``): :func:`_seals_to_sign`. The checkpoint signs ``sealed_since``.

    Refused (:class:`AuditChainBroken`) when the log's end is not what its witness says, as an
    append is, and when a checkpoint signed before no longer matches the chain (events it vouched
    for cut or rewritten, the witness lowered with them): a checkpoint signed then would anchor
    the shortened history, and an auditor who keeps only the newest one would take it as whole.
    A checkpoint whose contradiction an auditor acknowledged (a valid ``audit:acknowledge``, or
    the one being signed: ``acknowledging`` = its event's position, hash and the checkpoints it
    accepts, written into the checkpoint as ``acknowledges``) no longer refuses."""
    from repository import acknowledge

    key = anchor.private_key()
    checked_witness(store)
    positions = chain_positions(store)
    hashes = chain_hashes(positions)
    public = key.public_key()
    reachable = reachable_checkpoints(store, anchor)
    signed = [cp for cp in reachable if offline.signature_valid(cp, public)]
    events = [(p, raw) for p, raw in positions if raw is not None and raw.get("action") == ACKNOWLEDGE_ACTION]
    acks, _ = acknowledge.judge(events, acknowledging_checkpoints(anchor, (), signed), public)
    excused = set(acknowledge.acknowledged_checkpoints(acks))
    if acknowledging is not None:
        excused |= acknowledging[2]
    _refuse_if_contradicted([cp for cp in signed if cp.get("number") not in excused], hashes, public)
    floor = signed_sealed_since(store, anchor, sealer)
    sealed_since = _seals_to_sign(
        positions, sealer, floor, acks, acknowledging[0] if acknowledging is not None else None
    )
    seq = max(hashes, default=-1)
    body: dict[str, Any] = {
        "seq": seq,
        "head": hashes.get(seq, offline.GENESIS),
        "events": len(positions),
        "samples": {str(p): hashes[p] for p in offline.sample_points(seq) if p in hashes},
        "registers": register_heads(store),
        "at": to_iso_utc(utcnow()),
        "key_id": offline.key_id(key.public_key()),
        "sealed_since": sealed_since,
    }
    if anchor.tsa_url:
        body["tsa"] = anchor.tsa_url  # signed: removing the token later is seen
    if acknowledging is not None:
        body["acknowledges"] = {"seq": acknowledging[0], "hash": acknowledging[1]}
    # Numbered past every signed checkpoint of the store and every checkpoint outside it (a
    # key since rotated included): a number deleted from the store is not used again, and no
    # copy outside is ever written over. Not past a number an unsigned file in the store claims
    # (its name or its body): a store writer's ``999…9.json`` would push every later number past
    # what a key can hold (review rv19); the keys the store holds are only stepped over.
    outside = folder_checkpoints(anchor.checkpoint_dir)
    taken = {n for n, _, _ in _numbered((i.key for i in store.list(CHECKPOINTS_PREFIX)), CHECKPOINTS_PREFIX)}
    number = max([cp["number"] for cp in signed] + [cp["number"] for cp in outside], default=0) + 1
    while number in taken or (
        anchor.checkpoint_dir is not None and (anchor.checkpoint_dir / f"{number:012d}.json").exists()
    ):
        number += 1
    while True:
        cp = formats.stamp(formats.AUDIT_CHECKPOINT.name, {**body, "number": number})
        cp["signature"] = base64.b64encode(key.sign(offline.signing_payload(cp))).decode()
        if anchor.tsa_url:  # before anything is written: a failed stamp leaves nothing behind
            from repository import timestamp  # (asn1crypto, pyHanko: only with a TSA)

            cp = timestamp.stamp(cp, anchor.tsa_url)
        data = json.dumps(cp, ensure_ascii=False, sort_keys=True, indent=1).encode()
        name = checkpoint_key(number, sealer.checkpoint_tag(number))  # tagged with the seal key
        try:
            store.put_if_absent(name, data)
            break
        except AlreadyExists:
            number += 1
    if anchor.retention_days and store.supports_retention:
        until = utcnow() + timedelta(days=anchor.retention_days)
        store.set_retention(name, Retention(mode="COMPLIANCE", until=until))
    targets = list(out)
    if anchor.checkpoint_dir is not None:
        anchor.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        targets.append(anchor.checkpoint_dir / f"{number:012d}.json")
    for target in targets:
        target.write_bytes(data)
    return cp


def reachable_checkpoints(store: ObjectStore, anchor: Anchor | None) -> list[dict[str, Any]]:
    """The checkpoints in the store that load and those in the folder outside it."""
    stored, _ = stored_checkpoints(store)
    return [*stored, *folder_checkpoints(anchor.checkpoint_dir if anchor else None)]


def newest_signed_checkpoint(store: ObjectStore, anchor: Anchor | None) -> dict[str, Any] | None:
    """The newest checkpoint (the store's, the folder's outside it) whose signature holds with the
    configured key; None without a key or without such a checkpoint. What is cited to an auditor
    as "signed" (the audit export's header) must be checked first: one who can write the store
    writes a file there with a higher number and the head of a rewritten chain (review z3)."""
    key = anchor.public_key() if anchor is not None else None
    if key is None:
        return None
    signed = [cp for cp in reachable_checkpoints(store, anchor) if offline.signature_valid(cp, key)]
    return max(signed, key=lambda cp: int(cp.get("number") or 0), default=None)


def _refuse_if_contradicted(
    signed: Sequence[Mapping[str, Any]], hashes: Mapping[int, str], key: Ed25519PublicKey
) -> None:
    """:class:`AuditChainBroken` when one of the checkpoints signed with this key (the
    store's, the folder's; those an auditor acknowledged left out) disagrees with the chain.
    Checkpoints that do not load or carry another signature are left to ``verify`` (a forged
    file in the store does not stop the signing)."""
    findings = offline.check_checkpoints(hashes, signed, key)
    if findings:
        raise AuditChainBroken(
            sentences(
                "Không ký điểm mốc mới: chuỗi nhật ký kiểm toán không còn khớp với điểm mốc đã ký"
                f" trước ({clause(findings[0].message)})",
                "Cần kiểm toán viên kiểm tra (kho audit verify, kho fsck)",
            )
        )


# -- verifying -------------------------------------------------------------------------------------
def _converted(findings: Iterable[offline.Finding]) -> list[Finding]:
    return [Finding(f.seq, f.kind, f.message) for f in findings]


def verify_anchored(
    log: AuditLog,
    anchor: Anchor | None,
    extra: Sequence[Mapping[str, Any]] = (),
    public_key: Ed25519PublicKey | None = None,
    *,
    incremental: bool = False,
    written_head: bool = True,
) -> VerifyReport:
    """The chain's own check plus every checkpoint reachable: the store's, the folder's and
    ``extra`` (files an auditor kept). A checkpoint an outside copy holds but the store lost is
    named too.

    ``incremental``: start from the newest checkpoint a previous verification found the chain
    to match (:data:`VERIFIED_STATE` in the checkpoint folder, outside the store) and read only
    the events after it, plus the event at the head of every checkpoint. A consistent rewrite
    (events changed and rehashed), a cut or a reorder before that point changes a signed head
    and is still found; an in-place edit of one old event that leaves its stored hash stale is
    left to the full walk (``kho audit verify --full``, and fsck). Anything unusual falls back
    to the full walk, which names the findings. After an acknowledgement the mark carries the
    acknowledged findings the full walk listed, and the quick report lists them
    (:data:`VERIFIED_STATE`). ``written_head``: also compare with the head this installation's
    processes noted outside the store (:func:`written_head_findings`); False for a log that is not
    the installation's store (a backup copy, older than that head by nature)."""
    noted = written_head_findings(log.store, anchor) if written_head else []
    if incremental and anchor is not None and anchor.checkpoint_dir is not None and not noted:
        quick = _verify_from_mark(log, anchor, extra, public_key)
        if quick is not None:
            return quick
    report = _verify_full(log, anchor, extra, public_key, noted)
    if not report.open_findings and anchor is not None and anchor.checkpoint_dir is not None:
        _save_mark(log, anchor, extra, public_key, report)
    return report


VERIFIED_STATE = "verified-head.state"
"""In the checkpoint folder: ``{"seq", "hash"}`` of the newest checkpoint head the chain was last
verified against in full or from an earlier mark (not ``*.json``: it is not a checkpoint). After
an acknowledgement also ``acknowledged`` (the findings the full walk listed, every one
acknowledged, as :func:`_finding_dict` writes them) and ``acknowledgements`` (``{"seq", "hash"}``
of the valid ``audit:acknowledge`` events that cover them, all at or before the mark): the quick
check checks those events again and lists those findings (:func:`_verify_from_mark`)."""


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "seq": finding.seq,
        "kind": finding.kind,
        "message": finding.message,
        "acknowledged": finding.acknowledged,
        "seen": finding.seen,
    }


def _mark_findings(mark: Mapping[str, Any]) -> tuple[tuple[Finding, ...], list[tuple[int, str]]]:
    """The acknowledged findings a mark lists and the acknowledgements that cover them
    (:class:`KeyError`, :class:`TypeError` or :class:`ValueError` when malformed)."""
    findings = tuple(
        Finding(
            int(f["seq"]),
            str(f["kind"]),
            str(f["message"]),
            acknowledged=dict(f["acknowledged"]),
            seen=None if f.get("seen") is None else str(f["seen"]),
        )
        for f in mark.get("acknowledged", ())
    )
    acks = [(int(a["seq"]), str(a["hash"])) for a in mark.get("acknowledgements", ())]
    if bool(findings) != bool(acks):
        raise ValueError("acknowledged findings without their acknowledgements")
    return findings, acks


def _valid_acknowledgements(
    store: ObjectStore, positions: Iterable[int], cps: Sequence[Mapping[str, Any]], key: Ed25519PublicKey
) -> list[Any] | None:
    """The ``audit:acknowledge`` events at ``positions``, each judged valid as the full walk
    judges it (its hash recomputes, a signed checkpoint names it); None if one is not."""
    from repository import acknowledge

    raws = [(position, _event_raw(store, position)) for position in positions]
    if any(raw is None or raw.get("action") != ACKNOWLEDGE_ACTION for _, raw in raws):
        return None
    acks, forged = acknowledge.judge([(p, raw) for p, raw in raws if raw is not None], cps, key)
    return None if forged else acks


def _outside(anchor: Anchor | None, extra: Sequence[Any]) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The checkpoints outside the store (the folder's, then the auditor's files), and a finding
    for each one of a shape Kho never signs (left out of every comparison)."""
    folder, findings = folder_checkpoints_checked(anchor.checkpoint_dir if anchor else None)
    kept, malformed = offline.well_formed(extra, "các tệp điểm mốc được đưa vào")
    return [*folder, *kept], [*findings, *_converted(malformed)]


def acknowledging_checkpoints(
    anchor: Anchor | None,
    extra: Sequence[Mapping[str, Any]],
    everywhere: Sequence[Mapping[str, Any]],
    outside: Sequence[Mapping[str, Any]] | None = None,
) -> Sequence[Mapping[str, Any]]:
    """The checkpoints that may make an ``audit:acknowledge`` event count (review a25, rv23 §3,
    rv19 open 3). Two installations sharing one signing key (a staging copy restored from
    production) sign each other's checkpoints: one who writes production's store could cut its
    tail, copy in staging's acknowledgement event (chained after the same prefix) and its signed
    checkpoint, and have the cut "acknowledged". So where a place outside the store is configured
    (the checkpoint folder, or the auditor's ``--checkpoint`` files) only the checkpoints found
    there count for an acknowledgement: staging's are in staging's folder, never in production's.
    Without one, ``everywhere`` (the store's too), as before: one key per installation (README)."""
    if (anchor is None or anchor.checkpoint_dir is None) and not extra:
        return everywhere
    return outside if outside is not None else _outside(anchor, extra)[0]


def _reachable(
    log: AuditLog, anchor: Anchor, extra: Sequence[Mapping[str, Any]], key: Ed25519PublicKey | None = None
) -> tuple[list[Mapping[str, Any]], list[Finding]]:
    """The checkpoints reachable (each once), and the findings about them that the quick check
    leaves to the full walk: a checkpoint in the store that does not load, one deleted from it."""
    stored, findings = stored_checkpoints(log.store)
    outside, malformed = _outside(anchor, extra)
    findings += malformed
    unique: dict[tuple[Any, Any], Mapping[str, Any]] = {}
    for cp in [*stored, *outside]:
        unique.setdefault((cp.get("number"), cp.get("signature")), cp)
    return list(unique.values()), [*findings, *deleted_checkpoints(stored, outside, key)]


def _save_mark(
    log: AuditLog,
    anchor: Anchor,
    extra: Sequence[Mapping[str, Any]],
    public_key: Ed25519PublicKey | None,
    report: VerifyReport | None = None,
) -> None:
    """Save the newest signed head as the quick check's mark, after a full walk (``report``)
    with no open finding. Its findings (every one acknowledged) are saved with the mark when
    every acknowledgement that covers them lies at or before the mark (else no mark), with the
    difference between the positions and the events the walk counted (removed events)."""
    acknowledged = report.findings if report is not None else ()
    key = public_key or anchor.public_key()
    cps, _ = _reachable(log, anchor, extra)
    good = [cp for cp in cps if key is not None and offline.signature_valid(cp, key) and int(cp["seq"]) >= 0]
    if not good or anchor.checkpoint_dir is None or key is None:
        return
    newest = max(good, key=lambda cp: int(cp["seq"]))
    mark: dict[str, Any] = {"seq": int(newest["seq"]), "hash": newest["head"]}
    if acknowledged:
        positions = sorted({int(f.acknowledged["event"]) for f in acknowledged if f.acknowledged})
        acks = _valid_acknowledgements(
            log.store, positions, acknowledging_checkpoints(anchor, extra, cps), key
        )
        if acks is None or not positions or positions[-1] > mark["seq"]:
            return
        if report is None or report.last_seq is None:
            return
        mark["acknowledged"] = [_finding_dict(f) for f in acknowledged]
        mark["acknowledgements"] = [{"seq": a.seq, "hash": a.hash} for a in acks]
        mark["uncounted"] = report.last_seq + 1 - report.events
    anchor.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state = json.dumps(mark, ensure_ascii=False)
    (anchor.checkpoint_dir / VERIFIED_STATE).write_text(state, encoding="utf-8")


def _event_raw(store: ObjectStore, seq: int) -> dict[str, Any] | None:
    from repository.audit import raw_holding

    try:
        held = raw_holding(store, seq)
    except (KhoError, ValueError):
        return None
    if held is None:
        return None
    raw = held[1][seq - held[0]]
    return raw if isinstance(raw, dict) else None


def _verify_from_mark(
    log: AuditLog, anchor: Anchor, extra: Sequence[Mapping[str, Any]], public_key: Ed25519PublicKey | None
) -> VerifyReport | None:
    """The incremental check; None whenever it cannot vouch for the chain (then: full walk)."""
    from repository.audit import EVENTS_PREFIX as EVENTS
    from repository.audit import event_key, listed_seq, raw_events, raw_holding, read_witness

    try:
        mark = json.loads((anchor.checkpoint_dir / VERIFIED_STATE).read_text(encoding="utf-8"))  # type: ignore[operator]
        start, start_hash = int(mark["seq"]), str(mark["hash"])
        acknowledged, named = _mark_findings(mark)
        uncounted = int(mark.get("uncounted", 0))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    key = public_key or anchor.public_key()
    cps, findings = _reachable(log, anchor, extra, key)
    if key is None or findings or any(not offline.signature_valid(cp, key) for cp in cps):
        return None
    if not any(int(cp["seq"]) == start and cp["head"] == start_hash for cp in cps):
        return None  # the mark is not a signed head: do not trust it
    # After an acknowledgement: the acknowledgements the mark names are still there, unchanged
    # and signed (an edit or removal reopens what they cover: the full walk says so); the
    # checkpoints they accepted stay contradicted and are not checked here (the full walk lists
    # their findings as acknowledged; the mark lists them as it saw them).
    acks = (
        _valid_acknowledgements(
            log.store, [p for p, _ in named], acknowledging_checkpoints(anchor, extra, cps), key
        )
        if named
        else []
    )
    if acks is None or [(a.seq, a.hash) for a in acks] != named or any(p > start for p, _ in named):
        return None
    from repository.acknowledge import acknowledged_checkpoints

    accepted = set(acknowledged_checkpoints(acks))
    stamped, cps = cps, [cp for cp in cps if cp.get("number") not in accepted]
    first = _event_raw(log.store, start)
    if first is None or offline.event_hash(first) != start_hash or first.get("hash") != start_hash:
        return None
    hashes = {start: start_hash}
    expected, prev = start + 1, start_hash
    try:
        held = raw_holding(log.store, start)
    except (KhoError, ValueError):
        return None
    if held is None:
        return None
    # The events after the mark: the rest of the object holding it (a batch), then every
    # object after it, batches expanded.
    pending = [(held[0] + n, raw) for n, raw in enumerate(held[1]) if held[0] + n > start]
    objects = log.store.list(EVENTS, start_after=event_key(held[0]))
    while True:
        for position, raw in pending:
            if (
                position != expected or not isinstance(raw, dict) or raw.get("seq") != position
                or raw.get("prev") != prev or offline.event_hash(raw) != raw.get("hash")
                or raw.get("action") == ACKNOWLEDGE_ACTION  # judged (and listed) by the full walk
            ):
                return None
            hashes[position] = prev = str(raw["hash"])
            expected += 1
        info = next(objects, None)
        if info is None:
            break
        first = listed_seq(info.key)
        if first is None:  # not an event key: the full walk names it
            return None
        try:
            items = raw_events(jsontext.loads(log.store.get(info.key)))
        except (KhoError, ValueError):
            return None
        pending = [(first + n, raw) for n, raw in enumerate(items)]
    last = expected - 1
    try:
        witness = read_witness(log.store)
        if int(witness["seq"]) > last or hashes.get(int(witness["seq"])) != witness["hash"]:
            return None  # past the chain, not an event read here, or not its hash: the full walk
    except (KhoError, KeyError, ValueError, TypeError):
        return None
    for cp in cps:
        seq = int(cp["seq"])
        if 0 <= seq < start:
            raw = _event_raw(log.store, seq)
            if raw is None or offline.event_hash(raw) != cp["head"]:
                return None
            hashes[seq] = str(cp["head"])
    if offline.check_checkpoints(hashes, cps, key) or timestamp_findings(stamped, anchor):
        return None
    newest = max(cps, key=lambda cp: int(cp["seq"]), default=None)
    if newest is not None and int(newest["seq"]) > start:
        moved = {**mark, "seq": int(newest["seq"]), "hash": newest["head"]}
        (anchor.checkpoint_dir / VERIFIED_STATE).write_text(  # type: ignore[operator]
            json.dumps(moved, ensure_ascii=False), encoding="utf-8"
        )
    return VerifyReport(events=last + 1 - uncounted, findings=acknowledged, last_seq=last, last_hash=prev)


def written_head_findings(store: ObjectStore, anchor: Anchor | None) -> list[Finding]:
    """A ``truncated`` finding when the log lacks the head the processes of this installation
    noted outside the store (:data:`repository.rollback.WRITTEN_HEAD`): the store was put back
    to a state after the newest checkpoint (review rv23, open 1). An auditor acknowledges it as
    any cut; the acknowledgement moves the note. One or two reads of the event at that head."""
    from repository.rollback import behind, written_head

    head = written_head(anchor.checkpoint_dir if anchor is not None else None)
    lack = behind(store, head) if head is not None else None
    if head is None or lack is None:
        return []
    return [
        Finding(
            head.seq,
            "truncated",
            f"Ghi chú ngoài kho ghi nhận sự kiện #{head.seq} đã được ghi, nhưng {lack}: kho có thể đã bị"
            " chép đè bằng một bản cũ hơn (sau điểm mốc ký số mới nhất).",
        )
    ]


def _verify_full(
    log: AuditLog,
    anchor: Anchor | None,
    extra: Sequence[Mapping[str, Any]] = (),
    public_key: Ed25519PublicKey | None = None,
    noted: Sequence[Finding] = (),
) -> VerifyReport:
    from repository import acknowledge

    chain, about_witness, ack_events = log.verify_parts()
    stored, findings = stored_checkpoints(log.store)
    outside, malformed = _outside(anchor, extra)
    findings += malformed
    if not stored and not outside:  # nothing signed: no acknowledgement is valid
        _, forged = acknowledge.judge(ack_events, (), None)
        return VerifyReport(
            chain.events,
            (*chain.findings, *findings, *about_witness, *forged),
            chain.last_seq,
            chain.last_hash,
        )
    key = public_key or (anchor.public_key() if anchor else None)
    unique: dict[tuple[Any, Any], Mapping[str, Any]] = {}
    for cp in [*stored, *outside]:
        unique.setdefault((cp.get("number"), cp.get("signature")), cp)
    findings += deleted_checkpoints(stored, outside, key)
    hashes = chain_hashes(chain_positions(log.store))
    checkpoints = list(unique.values())
    acks, forged = acknowledge.judge(
        ack_events, acknowledging_checkpoints(anchor, extra, checkpoints, outside), key
    )
    # A checkpoint whose contradiction an auditor acknowledged is still checked, and its
    # finding listed as acknowledged; the others (the acknowledging one among them) as ever.
    accepted = acknowledge.acknowledged_checkpoints(acks)
    old = [
        cp for cp in checkpoints
        if cp.get("number") in accepted and key is not None and offline.signature_valid(cp, key)
    ]
    rest = [cp for cp in checkpoints if not any(cp is o for o in old)]
    findings += _converted(offline.check_checkpoints(hashes, rest, key))
    for cp in old:
        mark = accepted[int(cp["number"])].mark()
        findings += [
            Finding(f.seq, f.kind, f.message, acknowledged=mark)
            for f in offline.check_checkpoints(hashes, [cp], key)
        ]
    findings += timestamp_findings(checkpoints, anchor)
    if not findings and not chain.findings:  # else they name what is wrong already
        findings += noted
    # An unsigned acknowledgement is a finding a later valid one may acknowledge (it still
    # covers nothing); what the witness says never is.
    marked = acknowledge.mark_chain([*chain.findings, *findings, *forged], acks)
    return VerifyReport(
        events=chain.events,
        findings=(*marked, *about_witness),
        last_seq=chain.last_seq,
        last_hash=chain.last_hash,
    )


def deleted_checkpoints(
    stored: Sequence[Mapping[str, Any]], outside: Sequence[Mapping[str, Any]], key: Ed25519PublicKey | None
) -> list[Finding]:
    """A ``checkpoint`` finding for each checkpoint deleted from the store: a signed copy outside
    holds it, or its number is missing below the store's newest. The full walk lists them; the
    quick check (:func:`_verify_from_mark`) leaves any to the full walk."""
    findings: list[Finding] = []
    in_store = {cp["number"] for cp in stored}
    for cp in outside:
        if cp["number"] not in in_store and key is not None and offline.signature_valid(cp, key):
            findings.append(
                Finding(
                    -1,
                    "checkpoint",
                    f"Điểm mốc #{cp['number']} ({cp.get('at')}) không còn trong kho (đã bị xóa).",
                )
            )
    # Gaps below the newest checkpoint whose signature holds (any, without a key), as ranges:
    # a forged number (``999999999999``) names no gap, and no gap is walked number by number.
    vouched = [cp["number"] for cp in stored if key is None or offline.signature_valid(cp, key)]
    newest = max(vouched, default=0)
    present = sorted({n for n in in_store | {cp["number"] for cp in outside} if n <= newest})
    before = 0
    for number in present:
        if number > before + 1:
            gap = f"#{before + 1}" if number == before + 2 else f"#{before + 1}–#{number - 1}"
            findings.append(Finding(-1, "checkpoint", f"Điểm mốc {gap} không còn trong kho (đã bị xóa)."))
        before = number
    return findings


def timestamp_findings(checkpoints: Sequence[Mapping[str, Any]], anchor: Anchor | None) -> list[Finding]:
    """A ``timestamp`` finding for each checkpoint whose RFC 3161 token does not hold (changed
    after it was stamped, a forged or untrusted TSA), and for unstamped checkpoints made while
    a TSA was configured (a stamp removed)."""
    from repository import timestamp  # (asn1crypto: only when checkpoints are checked)

    anchors = timestamp.load_anchors(anchor.trust_dir if anchor else None)
    found: list[Finding] = []
    for cp in sorted(checkpoints, key=lambda c: int(c.get("number") or 0)):
        check = timestamp.check_checkpoint(cp, anchors)
        if check is None:
            if cp.get("tsa"):  # signed as stamped by a TSA: the token was removed
                found.append(Finding(-1, "timestamp", f"Điểm mốc #{cp.get('number')} mất dấu thời gian."))
            continue
        if not check.ok:
            found.append(
                Finding(-1, "timestamp", f"Dấu thời gian của điểm mốc #{cp.get('number')}: {check.problem}.")
            )
    return found


# -- export ----------------------------------------------------------------------------------------
def export(log: AuditLog, anchor: Anchor | None, directory: Path) -> tuple[int, int]:
    """Write the log (``events.jsonl``), every checkpoint, the public key and the standalone
    verifier into ``directory``; returns (events, checkpoints)."""
    directory.mkdir(parents=True, exist_ok=True)
    positions = chain_positions(log.store)
    with (directory / offline.EVENTS_FILE).open("w", encoding="utf-8") as out:
        for position, raw in positions:
            out.write(json.dumps({"position": position, "event": raw}, ensure_ascii=False) + "\n")
    stored, _ = stored_checkpoints(log.store)
    outside = folder_checkpoints(anchor.checkpoint_dir if anchor else None)
    unique = {cp.get("number"): cp for cp in [*outside, *stored]}
    folder = directory / offline.CHECKPOINTS_DIR
    folder.mkdir(exist_ok=True)
    for number, cp in unique.items():
        (folder / f"{int(number):012d}.json").write_text(
            json.dumps(cp, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8"
        )
    key = anchor.public_key() if anchor else None
    if key is not None:
        (directory / offline.PUBLIC_KEY_FILE).write_bytes(public_pem(key))
    import shutil  # (only here: every command that opens the repository imports this module)

    shutil.copyfile(offline.__file__, directory / "verify_audit.py")
    (directory / "VERIFY.md").write_text(VERIFY_PROCEDURE, encoding="utf-8")
    return len(positions), len(unique)


VERIFY_PROCEDURE = """\
# Kiểm tra nhật ký kiểm toán ngoại tuyến (offline)

1. Use the public key and the checkpoint files you received and kept yourself, not only the
   ones in this folder (whoever handed over the export could have replaced them).
2. On any machine with Python 3.9+ and `pip install cryptography`:

       python3 verify_audit.py . --public-key YOUR-public-key.pem --checkpoint YOUR-checkpoint.json

3. Exit status 0 and `OK: ...`: every event links to the one before it, every hash matches, and
   the chain agrees with every checkpoint. Otherwise each line names a finding:
   `changed`, `removed`, `inserted`, `moved`, `unreadable` (the chain itself), `truncated`
   (events a checkpoint signed are missing at the end), `rewritten` (the chain no longer matches a
   signed checkpoint from the named event on), `checkpoint` (a forged or unverifiable checkpoint).

What is checked (see the docstring of verify_audit.py): each event's hash is SHA-256 of its
canonical JSON (sorted keys, no spaces, UTF-8) without the `hash` field; `prev` is the hash of
the event before (64 zeros for the first); each checkpoint's Ed25519 signature covers its canonical
JSON without `signature`, and its `head` must equal the hash of the event at `seq`.
"""
