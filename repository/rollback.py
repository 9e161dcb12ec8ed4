"""A store rolled back behind its anchored history: refused before a process's first write.

Whoever can write the store can put an older copy of it back (a folder copied over, S3 object
versions rolled back), its witness and its checkpoints included: the log is then consistent
and a fresh process would append to the past, re-issuing the register numbers given after the
copy was taken, until a checkpoint, a backup or an auditor's verify names it (review rv19, open
item 1). History is anchored outside the store (ARCHITECTURE invariant 11), so before the first
write of a process (its first audited act, its first register number) :class:`HistoryGuard`
compares the log with the newest head the anchor knows:

- the newest signed checkpoint (by number) in the folder outside the store
  (``KHO_AUDIT_CHECKPOINT_DIR``) and, when a key to check signatures is configured, in the store
  (a checkpoint under object lock outlives a rollback of the objects' versions; only names
  numbered above the folder's newest are read); without a key, only the folder's (the store's
  cannot be told from a store writer's);
- the note ``kho restore`` leaves in that folder (:data:`RESTORED_HEAD`) when it restores a copy:
  the head it restored supersedes the checkpoints numbered up to ``through``.

The log must hold the event at that head's position with that hash; otherwise
:class:`kho.errors.AuditHistoryBehind` (``AUDIT_HISTORY_BEHIND``), and nothing is written.
A new store, an installation without checkpoints, and a checkpoint of an empty log pass. One
check per process that passes (the folder read, a listing of the store's checkpoints, one read of
the event at that head; a checkpoint object is read only when numbered above the folder's newest);
an auditor's acknowledgement (``kho audit acknowledge``, which writes past the end on its own
path) signs a newer checkpoint, after which the check passes again.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kho.errors import AuditChainBroken, AuditHistoryBehind, KhoError
from kho.timeutil import to_iso_utc, utcnow
from repository import audit_offline as offline
from repository.audit import EVENTS_PREFIX, NO_SEAL_KEY, checked_witness, key_seq, listed_seq, raw_holding
from repository.seals import Sealer
from repository.storage.base import ObjectStore
from repository.storage.group import start_after_fork

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from repository.anchor import Anchor

RESTORED_HEAD = "restored-head.state"
"""In the checkpoint folder: ``{"seq", "hash", "through", "at", "backup_id"}`` written by
``kho restore``: the head of the log it restored, which supersedes every checkpoint numbered up
to ``through`` (not ``*.json``: it is not a checkpoint)."""


WRITTEN_HEAD = "written-head.state"
"""In the checkpoint folder: ``{"seq", "hash", "at"}``, the newest event a process of this
installation wrote, noted after its appends (:meth:`HistoryGuard.noted`): a store put back to a
state *after* the newest checkpoint but before that event is refused too (review rv23, open 1).
``kho restore`` and ``kho audit acknowledge`` write it with the head they leave."""

WRITTEN_SOURCE = "ghi chú ngoài kho về sự kiện mới nhất đã ghi"


@dataclass(frozen=True)
class KnownHead:
    """The newest head of the log the anchor outside the store knows."""

    seq: int
    """Position of the head event (−1: an empty log)."""
    hash: str
    """Its hash."""
    source: str
    """Where it comes from, for people (Vietnamese)."""


def _number(cp: Mapping[str, Any]) -> int:
    return int(cp["number"])


_RESTORED_FIELDS = ("seq", "hash", "through", "at", "backup_id")


def _restored_payload(note: Mapping[str, Any]) -> bytes:
    """What the audit signing key signs of a restore's note (:data:`RESTORED_HEAD`)."""
    fields = {name: note.get(name) for name in _RESTORED_FIELDS}
    return b"kho-restored-head\n" + json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()


def restored_head(folder: Path | None, key: Ed25519PublicKey | None = None) -> dict[str, Any] | None:
    """The note of the last ``kho restore`` in the folder, None without one (or unreadable).
    ``key``: the audit key checkpoints are checked with; with one, a note counts only when
    ``kho restore`` signed it with that key (review rv32): the note supersedes signed
    checkpoints, so a note planted by whoever reaches the folder (by default beside the local
    store, in the data folder) would make a store put back behind them writable again."""
    if folder is None:
        return None
    try:
        note = json.loads((folder / RESTORED_HEAD).read_text(encoding="utf-8"))
        if isinstance(note, dict) and isinstance(note.get("hash"), str):
            int(note["seq"]), int(note["through"])
            if key is not None and not _restored_signed(note, key):
                return None
            return note
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        pass
    return None


def _restored_signed(note: Mapping[str, Any], key: Ed25519PublicKey) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(str(note.get("signature", "")), validate=True), _restored_payload(note))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def written_head(folder: Path | None) -> KnownHead | None:
    """The head last noted in the folder (:data:`WRITTEN_HEAD`), None without one (or unreadable:
    a torn note anchors nothing, as before this note existed)."""
    if folder is None:
        return None
    try:
        note = json.loads((folder / WRITTEN_HEAD).read_text(encoding="utf-8"))
        if isinstance(note, dict) and isinstance(note.get("hash"), str):
            return KnownHead(int(note["seq"]), note["hash"], WRITTEN_SOURCE)
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        pass
    return None


def note_written(folder: Path, seq: int, digest: str, at: str, *, moved: bool = False) -> bool:
    """Write :data:`WRITTEN_HEAD` for the event at ``seq`` written at ``at`` (a temporary file
    renamed over it: a reader sees the old note or the new one). ``moved``: ``kho restore`` or
    ``kho audit acknowledge`` set the log's head there on purpose, lower maybe; a process's note
    of an event written before that (``at`` earlier: its timer, late) is then not written (False).
    Not synced: after a power cut the note may be older, never wrong."""
    target = folder / WRITTEN_HEAD
    floor = "" if moved else _moved_at(target)
    if at < floor:
        return False
    body = json.dumps({"seq": seq, "hash": digest, "at": at, "moved_at": at if moved else floor})
    temp = folder / f"{WRITTEN_HEAD}.{os.getpid()}.tmp"
    try:
        temp.write_text(body, encoding="utf-8")
    except FileNotFoundError:  # the folder is made by the first checkpoint; not there yet
        folder.mkdir(parents=True, exist_ok=True)
        temp.write_text(body, encoding="utf-8")
    temp.replace(target)
    return True


def _moved_at(note: Path) -> str:
    try:
        said = json.loads(note.read_text(encoding="utf-8")).get("moved_at", "")
    except (OSError, ValueError, AttributeError, RecursionError):
        return ""
    return said if isinstance(said, str) else ""


def newest_checkpoint(
    store: ObjectStore, anchor: Anchor, sealer: Sealer = NO_SEAL_KEY
) -> dict[str, Any] | None:
    """The checkpoint with the highest number the anchor vouches for: the folder's (signature
    checked with a key) and, with a key, the store's (``sealer``: the log's, whose key tells
    the store names a writer of Kho gave, :func:`repository.anchor.newest_store_checkpoint`)."""
    from repository.anchor import newest_folder_checkpoint, newest_store_checkpoint

    try:
        key = anchor.public_key()
    except KhoError:  # a key configured but unreadable: the folder outside the store still counts
        key = None
    folder = newest_folder_checkpoint(anchor.checkpoint_dir, key)
    if key is None:
        return folder
    stored = newest_store_checkpoint(
        store, key, above=_number(folder) if folder is not None else 0, sealer=sealer
    )
    return stored or folder


def known_head(store: ObjectStore, anchor: Anchor | None, sealer: Sealer = NO_SEAL_KEY) -> KnownHead | None:
    """The newest head the anchor knows (module docstring), None when it knows none."""
    if anchor is None:
        return None
    return _newer(_signed_head(store, anchor, sealer), written_head(anchor.checkpoint_dir))


def _newer(signed: KnownHead | None, written: KnownHead | None) -> KnownHead | None:
    """The head to check the log against: the written head when it is past the signed one (the
    log holding it holds every event before it: the hash chain), else the signed head."""
    if written is not None and (signed is None or written.seq > signed.seq):
        return written
    return signed


def _signed_head(store: ObjectStore, anchor: Anchor, sealer: Sealer = NO_SEAL_KEY) -> KnownHead | None:
    newest = newest_checkpoint(store, anchor, sealer)
    try:
        key = anchor.public_key()
    except KhoError:  # unreadable: no note can be checked, none counts
        return _checkpoint_head(newest)
    note = restored_head(anchor.checkpoint_dir, key)
    if note is not None and (newest is None or int(note["through"]) >= _number(newest)):
        return KnownHead(int(note["seq"]), str(note["hash"]), "lần khôi phục gần nhất (kho restore)")
    return _checkpoint_head(newest)


def _checkpoint_head(newest: Mapping[str, Any] | None) -> KnownHead | None:
    if newest is None:
        return None
    return KnownHead(int(newest["seq"]), str(newest["head"]), f"điểm mốc ký số số {_number(newest)}")


def behind(store: ObjectStore, known: KnownHead) -> str | None:
    """What the log lacks of ``known`` (Vietnamese), None when it holds that event with that hash."""
    if known.seq < 0:
        return None
    try:
        held = raw_holding(store, known.seq)
    except (KhoError, ValueError, RecursionError):
        held = None
    if held is None:
        return f"nhật ký kiểm toán trong kho không còn sự kiện #{known.seq}"
    raw = held[1][known.seq - held[0]]
    if not isinstance(raw, dict) or raw.get("hash") != known.hash or offline.event_hash(raw) != known.hash:
        return f"sự kiện #{known.seq} trong kho khác với sự kiện đã được ký"
    return None


def refuse_if_behind(store: ObjectStore, anchor: Anchor | None, sealer: Sealer = NO_SEAL_KEY) -> None:
    """:class:`AuditHistoryBehind` when the log is behind the head the anchor knows: the newest
    of the signed head and the written head checked (the log holding it holds every event before
    it); when that is lacking, the signed head is named if it lacks too (the stronger proof), and
    a log behind the written head alone whose end was cut is refused as a cut first."""
    if anchor is None:
        return
    signed = _signed_head(store, anchor, sealer)
    written = written_head(anchor.checkpoint_dir)
    known = _newer(signed, written)
    if known is None:
        return
    lack = behind(store, known)
    if lack is None:
        return
    if known is written:
        lack_signed = behind(store, signed) if signed is not None else None
        if lack_signed is not None and signed is not None:
            known, lack = signed, lack_signed
        else:
            # a log whose end was cut (its witness names what is gone) is refused as a cut
            # (AUDIT_CHAIN_BROKEN, which an auditor acknowledges), as before this note existed
            checked_witness(store)
    raise AuditHistoryBehind(
        f"Kho lưu trữ đang ở trạng thái cũ hơn lịch sử đã được neo ngoài kho: {known.source} ghi nhận"
        f" sự kiện #{known.seq}, nhưng {lack}. Kho có thể đã bị chép đè bằng một bản cũ hoặc bị quay"
        " lui phiên bản; ghi tiếp sẽ cấp lại các số đăng ký đã cấp. Không ghi gì. Kiểm toán viên"
        " kiểm tra bằng “kho audit verify”; quản trị khôi phục đúng bản bằng “kho restore”.",
        seq=known.seq,
        source=known.source,
    )


def log_head(store: ObjectStore) -> tuple[int, str]:
    """The position and hash of the newest event of the log (−1 and the genesis hash for an
    empty one): the event its witness names, checked, or the newest listed without a witness."""
    try:
        end = checked_witness(store)
    except AuditChainBroken:  # a cut end: the newest listed event (verify names the cut)
        end = None
    if end is not None:
        seq, first, items = end.seq, end.first, end.items
    else:
        keys = [i.key for i in store.list(EVENTS_PREFIX) if listed_seq(i.key) is not None]
        if not keys:
            return -1, offline.GENESIS
        held = raw_holding(store, key_seq(keys[-1]))
        if held is None:
            return -1, offline.GENESIS
        first, items = held
        seq = first + len(items) - 1
    return seq, str(items[seq - first]["hash"])


def note_restored(
    store: ObjectStore, anchor: Anchor | None, *, backup_id: str, sealer: Sealer = NO_SEAL_KEY
) -> dict[str, Any] | None:
    """After ``kho restore`` replaced the store: write the head of the restored log to the folder
    outside the store (:data:`RESTORED_HEAD`), superseding the checkpoints known now, so that
    processes started after the restore write to the restored log (the restore is the
    operator's decision, audited by its ``backup:restore`` event). None without a folder."""
    if anchor is None or anchor.checkpoint_dir is None:
        return None
    newest = newest_checkpoint(store, anchor, sealer)
    seq, digest = log_head(store)
    note: dict[str, Any] = {
        "seq": seq,
        "hash": digest,
        "through": _number(newest) if newest is not None else 0,
        "at": to_iso_utc(utcnow()),
        "backup_id": backup_id,
    }
    if anchor.signing_key is not None:  # readers with the key count only a signed note
        note["signature"] = base64.b64encode(anchor.private_key().sign(_restored_payload(note))).decode()
    anchor.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    temp = anchor.checkpoint_dir / (RESTORED_HEAD + ".tmp")
    temp.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    temp.replace(anchor.checkpoint_dir / RESTORED_HEAD)
    note_written(anchor.checkpoint_dir, seq, digest, note["at"], moved=True)  # supersedes the old log's
    return note


NOTE_EVERY = 0.5
"""Default :attr:`HistoryGuard.note_every` (seconds): a note costs ≈ 150 µs CPU (a small file
written and renamed), as much as 10 % of an act; a busy process notes twice a second, the head
of the last half second by a timer."""


class HistoryGuard:
    """:func:`refuse_if_behind` once per process that passes (module docstring); a refusal is
    checked again at the next write (the operator may have restored meanwhile)."""

    def __init__(
        self,
        store: ObjectStore,
        anchor: Callable[[], Anchor | None],
        *,
        note_every: float = NOTE_EVERY,
        sealer: Sealer = NO_SEAL_KEY,
    ) -> None:
        self.store = store
        self.anchor = anchor
        self.sealer = sealer
        """The log's: its key tells the checkpoint names a writer of Kho gave in the store."""
        self.note_every = note_every
        """Seconds between two notes of the written head (:meth:`noted`); 0: after every append."""
        self._passed = False
        self._lock = threading.Lock()
        self._noted_at = -float("inf")
        self._noted_seq = -1
        self._pending: tuple[int, str, str] | None = None
        self._timer: threading.Timer | None = None
        self._note_lock = threading.Lock()
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        self._lock = threading.Lock()  # the parent's check holds for the child (same store)
        self._note_lock = threading.Lock()
        self._timer = None  # the parent's timer thread is not in the child; its head is noted
        if self._pending is not None:  # by the child's next act
            self._noted_at = -float("inf")

    def check(self) -> None:
        if self._passed:
            return
        with self._lock:
            if not self._passed:
                refuse_if_behind(self.store, self.anchor(), self.sealer)
                self._passed = True

    def noted(self, seq: int, digest: str, at: str) -> None:
        """After an append: note its head in the folder outside the store (:data:`WRITTEN_HEAD`),
        at most once per :attr:`note_every` seconds; a head within that time is noted when it
        ends, by a timer (one daemon thread at a time), so no act stays unnoted longer. Never
        raises: the act is written already; a folder that cannot be written is logged."""
        with self._note_lock:
            if seq <= self._noted_seq or (self._pending is not None and seq <= self._pending[0]):
                return
            wait = self._noted_at + self.note_every - time.monotonic()
            if wait > 0:
                self._pending = (seq, digest, at)
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._note(seq, digest, at)

    def _flush(self) -> None:
        with self._note_lock:
            self._timer = None
            pending, self._pending = self._pending, None
            if pending is not None and pending[0] > self._noted_seq:
                self._note(*pending)

    def close(self) -> None:
        """Note the pending head now and stop the timer: after this nothing is written in the
        folder by this guard (its owner ends; the folder may be removed next — a timer firing
        then wrote into a folder being removed)."""
        with self._note_lock:
            timer, self._timer = self._timer, None
            pending, self._pending = self._pending, None
            if timer is not None:
                timer.cancel()  # a _flush already waiting on the lock finds nothing pending
            if pending is not None and pending[0] > self._noted_seq:
                self._note(*pending)

    def _note(self, seq: int, digest: str, at: str) -> None:
        anchor = self.anchor()
        folder = anchor.checkpoint_dir if anchor is not None else None
        if folder is None:
            return
        try:
            note_written(folder, seq, digest, at)
        except OSError as exc:
            import logging  # here only: a command's start-up imports no logging (test_cli_startup)

            logging.getLogger(__name__).warning("written head not noted in %s: %s", folder, exc)
            return
        self._noted_at, self._noted_seq = time.monotonic(), seq
