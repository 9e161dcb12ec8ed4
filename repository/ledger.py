"""The destruction ledger: tombstones of destroyed records kept outside the store.

A record is destroyed by destroying its key (crypto-shredding). A backup of the key store made
before the destruction still holds the key, and a backup of the store made before it holds no
"đã hủy" row: restored together inside the key-backup period, they would bring the record back.
So, at destruction, a **tombstone** (record id, decision, who, when, and the "đã hủy" row itself)
is appended to a ledger at every backup destination, where a writer of the store cannot reach:

- ``ledger/destroyed/<seq:012d>.json``: entry ``seq`` (0 is the genesis entry that marks the
  ledger as present), hash-chained (``prev`` is the SHA-256 of the previous entry's stored bytes)
  and, when an audit signing key is configured (``KHO_AUDIT_SIGNING_KEY``), signed with it
  (Ed25519 over the canonical JSON of the entry without its signature); written create-if-absent
  and, where the destination has object lock, under COMPLIANCE retention (write-once);
- ``ledger/records/<record id>``: which entry tombstones a record (so appending is idempotent).

``kho restore`` reads every ledger it can reach (:func:`read_ledger`, :func:`check_ledger`) and
destroys again every tombstoned record before anything is indexed or served, whatever the age of
the copy restored. The checks are pure functions of the stored bytes and the public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kho.errors import AlreadyExists, FormatInvalid, KhoError, NotFound
from kho.os_reasons import errno_name
from kho.timeutil import to_iso_utc
from repository import formats
from repository.storage.base import ObjectStore, Retention

LEDGER_PREFIX = "ledger/destroyed/"
INDEX_PREFIX = "ledger/records/"
TOMBSTONE = formats.DESTRUCTION_TOMBSTONE


class LedgerUnavailable(KhoError):
    """No destruction ledger could be written (a destruction then waits, so no restore can undo it)."""

    code = "LEDGER_UNAVAILABLE"
    http_status = 503


def entry_key(seq: int) -> str:
    return f"{LEDGER_PREFIX}{seq:012d}.json"


def index_key(record_id: str) -> str:
    return f"{INDEX_PREFIX}{record_id}"


def _payload(body: Mapping[str, Any]) -> bytes:
    """What the signature covers: the entry without its signature, canonical JSON."""
    return json.dumps(
        {k: v for k, v in body.items() if k != "signature"}, ensure_ascii=False, sort_keys=True
    ).encode()


def _serialise(body: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(body), ensure_ascii=False, sort_keys=True).encode()


@dataclass(frozen=True)
class Tombstone:
    seq: int
    record_id: str
    decision: str
    destroyed_at: str
    destroyed_by: str
    row: bytes
    """The stored bytes of the record's "đã hủy" row (``catalog/destroyed/<id>``)."""


@dataclass(frozen=True)
class LedgerProblem:
    key: str
    kind: str
    """``unreadable``, ``changed``, ``removed``, ``inserted``, ``unsigned``, ``bad-signature``."""
    message: str


@dataclass(frozen=True)
class LedgerReport:
    present: bool
    """The ledger's genesis entry is there (a destination that never had a ledger is not one)."""
    entries: int
    tombstones: Mapping[str, Tombstone] = field(default_factory=dict)
    """Trusted tombstones by record id: signed with the key when one is known, else those the
    unbroken chain from the genesis vouches for."""
    problems: tuple[LedgerProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.present and not self.problems


def make_entry(
    seq: int,
    prev: bytes | None,
    fields: Mapping[str, Any],
    signing_key: Ed25519PrivateKey | None,
) -> bytes:
    """The stored bytes of ledger entry ``seq`` after the entry whose bytes are ``prev`` (pure)."""
    body: dict[str, Any] = formats.stamp(
        TOMBSTONE.name,
        {**fields, "seq": seq, "prev": hashlib.sha256(prev).hexdigest() if prev is not None else ""},
    )
    body["signature"] = (
        base64.b64encode(signing_key.sign(_payload(body))).decode() if signing_key is not None else None
    )
    return _serialise(body)


def tombstone_fields(row: bytes) -> dict[str, Any]:
    """The fields of the tombstone of the "đã hủy" row ``row`` (its stored bytes)."""
    data = formats.loads(formats.DESTROYED.name, row)
    return {
        "kind": "tombstone",
        "record_id": data["record_id"],
        "decision": data["decision"],
        "destroyed_at": data["destroyed_at"],
        "destroyed_by": data["destroyed_by"],
        "row": row.decode(),
        "row_sha256": hashlib.sha256(row).hexdigest(),
    }


def check_ledger(
    entries: Sequence[tuple[str, bytes]], public_key: Ed25519PublicKey | None
) -> LedgerReport:
    """Check a ledger's entries (key, stored bytes; in key order) and name every problem (pure).

    Entry ``n`` must sit at ``entry_key(n)``, name ``prev`` = SHA-256 of entry ``n-1`` and, when
    ``public_key`` is known, carry a valid signature. A changed entry breaks its own signature and
    the next entry's ``prev``; a removed one leaves a gap; an inserted one a duplicate number."""
    problems: list[LedgerProblem] = []
    trusted: dict[str, Tombstone] = {}
    present = bool(entries) and entries[0][0] == entry_key(0)
    if entries and not present:
        problems.append(LedgerProblem(entry_key(0), "removed", "Thiếu mục khởi đầu của sổ tiêu hủy."))
    prev: bytes | None = None
    broken = 0 if not present else None
    """Without a key, trust ends at the first entry the chain does not vouch for."""
    candidates: list[tuple[Tombstone, bool]] = []
    expected = 0
    first_signed = _first_signed(entries)
    """Entries before it were written before a signing key was configured (legacy, unsigned):
    the chain vouches for them. From it on, every entry must be signed."""

    def break_at(seq: int) -> None:
        nonlocal broken
        broken = seq if broken is None else min(broken, seq)
    for key, raw in entries:
        try:
            body = formats.loads(TOMBSTONE.name, raw)
            seq = int(body["seq"])
        except (FormatInvalid, KhoError, KeyError, TypeError, ValueError):
            problems.append(LedgerProblem(key, "unreadable", f"Mục “{key}” của sổ tiêu hủy không đọc được."))
            break_at(expected)
            prev, expected = raw, expected + 1
            continue
        if key != entry_key(seq):
            problems.append(LedgerProblem(key, "changed", f"Mục “{key}” mang số thứ tự {seq} của mục khác."))
            break_at(min(seq, expected))
        if seq > expected:
            problems.append(
                LedgerProblem(key, "removed", f"Sổ tiêu hủy thiếu {seq - expected} mục trước “{key}”.")
            )
            break_at(expected)
        elif seq < expected:
            problems.append(LedgerProblem(key, "inserted", f"Mục “{key}” bị chèn vào sổ tiêu hủy."))
            break_at(seq)
        want = hashlib.sha256(prev).hexdigest() if prev is not None else ""
        if seq > 0 and body.get("prev") != want:
            problems.append(LedgerProblem(
                key, "changed", f"Mục trước “{key}” đã bị thay đổi (mã băm nối chuỗi không khớp).",
            ))
            break_at(seq - 1)
        signed_ok = False
        if public_key is not None:
            signature = body.get("signature")
            if not signature and seq < first_signed:
                pass  # legacy entry: trusted on the chain, like a ledger without a key
            elif not signature:
                problems.append(
                    LedgerProblem(key, "unsigned", f"Mục “{key}” của sổ tiêu hủy không có chữ ký.")
                )
            else:
                try:
                    public_key.verify(base64.b64decode(signature), _payload(json.loads(raw)))
                    signed_ok = True
                except (InvalidSignature, ValueError, TypeError):
                    problems.append(LedgerProblem(
                        key, "bad-signature", f"Chữ ký của mục “{key}” trong sổ tiêu hủy không hợp lệ.",
                    ))
        if body.get("kind") == "tombstone":
            row = str(body.get("row", "")).encode()
            if hashlib.sha256(row).hexdigest() != body.get("row_sha256"):
                problems.append(LedgerProblem(key, "changed", f"Mục “{key}” mang dòng “đã hủy” bị sửa."))
            else:
                candidates.append((Tombstone(
                    seq=seq, record_id=body["record_id"], decision=body["decision"],
                    destroyed_at=body["destroyed_at"], destroyed_by=body["destroyed_by"], row=row,
                ), signed_ok))
        prev, expected = raw, max(expected, seq) + 1
    for stone, signed_ok in candidates:
        vouched = broken is None or stone.seq < broken
        if signed_ok or (vouched and (public_key is None or stone.seq < first_signed)):
            trusted.setdefault(stone.record_id, stone)
    return LedgerReport(present, len(entries), trusted, tuple(problems))


def _first_signed(entries: Sequence[tuple[str, bytes]]) -> int:
    """The number of the first entry that carries a signature (a large number if none does)."""
    for position, (_key, raw) in enumerate(entries):
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("signature"):
            return int(body.get("seq", position)) if isinstance(body.get("seq"), int) else position
    return 1 << 62


def read_ledger(store: ObjectStore) -> list[tuple[str, bytes]]:
    """Every entry of the ledger in ``store`` (key, stored bytes), in order."""
    out: list[tuple[str, bytes]] = []
    for info in store.list(LEDGER_PREFIX):
        try:
            out.append((info.key, store.get(info.key)))
        except NotFound:
            continue
    return out


def verify_ledger(store: ObjectStore, public_key: Ed25519PublicKey | None) -> LedgerReport:
    """:func:`check_ledger` on the ledger in ``store``, plus its index: a record the index says
    is tombstoned at an entry the ledger no longer has names a cut tail."""
    entries = read_ledger(store)
    report = check_ledger(entries, public_key)
    have = {key for key, _ in entries}
    cut: list[LedgerProblem] = []
    for info in store.list(INDEX_PREFIX):
        try:
            seq = int(store.get(info.key))
        except (NotFound, ValueError):
            continue
        if entry_key(seq) not in have:
            record_id = info.key.removeprefix(INDEX_PREFIX)
            cut.append(LedgerProblem(
                entry_key(seq), "removed",
                f"Mục “{entry_key(seq)}” (tiêu hủy bản ghi {record_id}) đã bị xóa khỏi sổ tiêu hủy.",
            ))
    if not cut:
        return report
    return LedgerReport(report.present, report.entries, report.tombstones, report.problems + tuple(cut))


def _lock(store: ObjectStore, key: str, lock_days: int, now: datetime) -> None:
    if lock_days > 0 and store.supports_retention:
        store.set_retention(key, Retention(mode="COMPLIANCE", until=now + timedelta(days=lock_days)))


def ensure_genesis(
    store: ObjectStore, *, signing_key: Ed25519PrivateKey | None, lock_days: int, now: datetime
) -> None:
    """Start the ledger in ``store`` if it has none (idempotent)."""
    if store.exists(entry_key(0)):
        return
    try:
        store.put_if_absent(
            entry_key(0), make_entry(0, None, {"kind": "genesis", "created_at": to_iso_utc(now)}, signing_key)
        )
    except AlreadyExists:
        return
    _lock(store, entry_key(0), lock_days, now)


def append_tombstone(
    store: ObjectStore,
    row: bytes,
    *,
    signing_key: Ed25519PrivateKey | None,
    lock_days: int,
    now: datetime,
) -> int:
    """Append the tombstone of the "đã hủy" row ``row`` to the ledger in ``store`` (once per
    record; concurrent appenders are arbitrated by create-if-absent). Returns its number."""
    fields = tombstone_fields(row)
    record_id = fields["record_id"]
    try:
        return int(store.get(index_key(record_id)))
    except (NotFound, ValueError):
        pass
    ensure_genesis(store, signing_key=signing_key, lock_days=lock_days, now=now)
    keys = [info.key for info in store.list(LEDGER_PREFIX)]
    head = keys[-1]
    seq = int(head.removeprefix(LEDGER_PREFIX).removesuffix(".json")) + 1
    prev = store.get(head)
    while True:
        body = make_entry(seq, prev, fields, signing_key)
        try:
            store.put_if_absent(entry_key(seq), body)
            break
        except AlreadyExists:
            # A number claimed by a writer that did not write it (S3 claims mode, killed on
            # another machine): refused with a code until the claim is stale and taken over, as
            # the audit log does (review s19; was a plain NotFound after 10 s).
            prev = store.get_landed(
                entry_key(seq),
                f"Sổ tiêu hủy đang bị giữ ở mục số {seq} bởi một lượt ghi chưa hoàn tất (có thể lượt"
                " ghi đó đã dừng ở máy khác); mục của bản ghi này chưa được ghi vào sổ. Hãy thử lại"
                " sau ít phút.",
            )
            seq += 1
    _lock(store, entry_key(seq), lock_days, now)
    try:
        store.put_if_absent(index_key(record_id), str(seq).encode())
    except AlreadyExists:
        pass
    return seq


@dataclass
class DestructionLedger:
    """The ledgers a destruction writes to: one per backup destination, opened when needed."""

    places: Sequence[tuple[str, Callable[[], ObjectStore]]]
    """(name, opener) of each destination."""
    signing_key: Callable[[], Ed25519PrivateKey | None] = lambda: None
    lock_days: int = 0
    outside: Sequence[tuple[str, Callable[[], ObjectStore]]] = ()
    """(name, opener) of the ledger outside the store and the backups (the checkpoint folder):
    written too, but it does not stand in for a backup destination (a restore on another
    machine may not have it), so a destruction that reached only it still waits."""

    def record(self, row: bytes, *, now: datetime) -> dict[str, str]:
        """Append the tombstone of ``row`` to every ledger; which were written (name → entry or
        the error). :class:`LedgerUnavailable` when no backup destination's could be: the
        destruction must wait (and the ledger outside is not written, so no tombstone names a
        record whose key is still there)."""
        key = self.signing_key()
        done: dict[str, str] = {}

        def append(places: Sequence[tuple[str, Callable[[], ObjectStore]]]) -> None:
            for name, opener in places:
                try:
                    seq = append_tombstone(opener(), row, signing_key=key, lock_days=self.lock_days, now=now)
                    done[name] = entry_key(seq)
                except KhoError as exc:
                    done[name] = f"error: {exc.code}"
                except OSError as exc:  # a folder that cannot even be opened
                    done[name] = f"error: {errno_name(exc)}"  # machine form, as a KhoError's code

        append(self.places)
        if self.places and all(v.startswith("error:") for v in done.values()):
            raise LedgerUnavailable(
                "Không ghi được sổ tiêu hủy ở nơi sao lưu nào: chưa hủy bản ghi (để không bản sao lưu cũ"
                " nào khôi phục lại được nó). Kiểm tra nơi sao lưu rồi hủy lại.",
                places=list(done),
            )
        append(self.outside)
        return done
