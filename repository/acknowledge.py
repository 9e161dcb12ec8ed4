"""An auditor's way out of a refused audit log: ``kho audit acknowledge``.

After a cut of the log's tail, a deleted or forged witness, or two first acts whose writers were
both killed before their witness write, every audited action is refused (``AUDIT_CHAIN_BROKEN``)
and no rule can tell an accident from an attack. An auditor decides. The decision is

1. one event ``audit:acknowledge`` chained after the last readable event (the log's real end, as
   found by listing, not as the witness says), carrying the findings the auditor looked at
   (kind, position, message), their digest, the reason, what the witness said and how the
   auditor was authenticated (details: :data:`repository.formats.AUDIT_ACKNOWLEDGEMENT`); the
   witness is then written at it, so appends go on;
2. signed outside the store: a checkpoint (:func:`repository.anchor.make_checkpoint`) that names
   the event (``acknowledges``: its position and hash) with the checkpoint key the store does not
   hold.

An ``audit:acknowledge`` event that no valid signed checkpoint names is itself a finding
(``acknowledgement``) and covers nothing: one who can only write the store can chain such an
event (and a witness) but not sign it. A finding is covered by a valid acknowledgement when the
acknowledgement recorded it (same kind, position and message) and it lies before the
acknowledgement's event; a checkpoint the acknowledged findings contradicted stays contradicted
but acknowledged. What the witness says is about the log's end at the time of the check and is
never covered. Acknowledged findings stay listed (``Finding.acknowledged``: who, when, why,
which event); the recorded ones no longer found (the witness, now written) are listed too.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kho.errors import (
    AcknowledgeKeyMissing,
    AcknowledgeReasonInvalid,
    AcknowledgeRefused,
    AlreadyExists,
    AuditKeyMissing,
    FormatInvalid,
    FormatUnsupported,
    NotFound,
)
from repository import audit_offline as offline
from repository import formats
from repository.audit import (
    ACKNOWLEDGE_ACTION,
    AuditEvent,
    AuditLog,
    EventDraft,
    Finding,
    VerifyReport,
    fingerprint,
    read_witness,
    refuse_unsealed_writer,
)
from repository.rollback import note_written
from repository.seals import SEAL_FIELD
from repository.vocabulary import TextKind, blank, has_hidden_characters, typed_text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from repository.anchor import Anchor

REASON_MAX = 2000
"""Characters of an acknowledgement's reason at most."""
FORGED = "acknowledgement"
"""The kind of the finding about an ``audit:acknowledge`` event no signed checkpoint names."""


def findings_digest(findings: Iterable[Finding]) -> str:
    """The digest of the open (unacknowledged) findings an auditor looks at: what
    ``kho audit verify`` prints and ``kho audit acknowledge --findings`` must repeat. It covers
    each finding's ``seen`` (the stored event it is about): an edit after the auditor looked
    changes it."""
    listed = [[f.kind, f.seq, f.message, f.seen] for f in findings if f.acknowledged is None]
    canonical = json.dumps(listed, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


Named = tuple[str, int, str, str | None]
"""A finding as an acknowledgement records it: kind, position, message and ``seen``."""


def named(finding: Finding) -> Named:
    return (finding.kind, finding.seq, finding.message, finding.seen)


@dataclass(frozen=True)
class Acknowledgement:
    """A valid (signed) acknowledgement found in the log."""

    seq: int
    hash: str
    actor: str
    at: str
    reason: str
    findings: frozenset[Named]
    listed: tuple[Named, ...]
    checkpoints: frozenset[int]
    """Numbers of the signed checkpoints the acknowledged findings contradicted."""

    def mark(self) -> dict[str, Any]:
        return {"by": self.actor, "at": self.at, "reason": self.reason, "event": self.seq}


def acknowledged_heads(
    checkpoints: Iterable[Mapping[str, Any]], key: Ed25519PublicKey | None
) -> set[tuple[int, str]]:
    """(position, hash) of every ``audit:acknowledge`` event a checkpoint signed with ``key``
    names."""
    heads: set[tuple[int, str]] = set()
    if key is None:
        return heads
    for cp in checkpoints:
        named = cp.get("acknowledges")
        if not isinstance(named, Mapping) or not offline.signature_valid(cp, key):
            continue
        try:
            heads.add((int(named["seq"]), str(named["hash"])))
        except (KeyError, TypeError, ValueError):
            continue
    return heads


def judge(
    events: Iterable[tuple[int, Mapping[str, Any]]],
    checkpoints: Iterable[Mapping[str, Any]],
    key: Ed25519PublicKey | None,
) -> tuple[list[Acknowledgement], list[Finding]]:
    """The valid acknowledgements among the stored ``audit:acknowledge`` events (position, raw
    event), and a finding for each of the others: unsigned, changed, moved or unreadable."""
    heads = acknowledged_heads(checkpoints, key)
    valid: list[Acknowledgement] = []
    forged: list[Finding] = []
    for position, raw in events:
        stored = str(raw.get("hash"))
        signed = (
            raw.get("seq") == position
            and offline.event_hash(raw) == stored
            and (position, stored) in heads
        )
        parsed = _parsed(position, raw) if signed else None
        if parsed is None:
            forged.append(
                Finding(
                    position,
                    FORGED,
                    f"Sự kiện #{position} ghi một quyết định chấp nhận của kiểm toán viên mà không điểm"
                    " mốc đã ký nào xác nhận (hoặc đã bị sửa): không có giá trị, có thể bị giả mạo.",
                    seen=fingerprint(raw),
                )
            )
            continue
        valid.append(parsed)
    return valid, forged


def _parsed(position: int, raw: Mapping[str, Any]) -> Acknowledgement | None:
    try:
        details = formats.upcast(formats.AUDIT_ACKNOWLEDGEMENT.name, raw.get("details"))
        listed = tuple(
            (str(f["kind"]), int(f["seq"]), str(f["message"]), _seen(f.get("seen")))
            for f in details["findings"]
        )
        return Acknowledgement(
            seq=position,
            hash=str(raw["hash"]),
            actor=str(raw["actor"]),
            at=str(raw["at"]),
            reason=str(details["reason"]),
            findings=frozenset(listed),
            listed=listed,
            checkpoints=frozenset(int(n) for n in details.get("checkpoints", ())),
        )
    except (FormatInvalid, FormatUnsupported, KeyError, TypeError, ValueError):
        return None


def _seen(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("seen")
    return value


def acknowledged_checkpoints(acks: Iterable[Acknowledgement]) -> dict[int, Acknowledgement]:
    """Checkpoint number → the acknowledgement that accepted its contradiction."""
    out: dict[int, Acknowledgement] = {}
    for ack in acks:
        for number in ack.checkpoints:
            out.setdefault(number, ack)
    return out


def mark_chain(findings: Sequence[Finding], acks: Sequence[Acknowledgement]) -> list[Finding]:
    """The chain's findings, each marked with the first acknowledgement that recorded it and
    comes after it; then every recorded finding no longer found (listed, acknowledged). A finding
    is the one recorded only with the same ``seen``: the event it is about, as the auditor saw it
    (an unsigned ``audit:acknowledge`` is such a finding too, and stays covering nothing)."""
    out: list[Finding] = []
    seen: set[Named] = set()
    for finding in findings:
        key = named(finding)
        if finding.acknowledged is not None:  # a checkpoint's, marked by its acknowledgement
            seen.add(key)
            out.append(finding)
            continue
        ack = next((a for a in acks if finding.seq < a.seq and key in a.findings), None)
        if ack is not None:
            seen.add(key)
            finding = replace(finding, acknowledged=ack.mark())
        out.append(finding)
    return out + historical(acks, seen)


def historical(acks: Sequence[Acknowledgement], seen: set[Named]) -> list[Finding]:
    out = []
    for ack in acks:
        for kind, seq, message, event in ack.listed:
            if (kind, seq, message, event) not in seen:
                seen.add((kind, seq, message, event))
                out.append(Finding(seq, kind, message, acknowledged=ack.mark(), seen=event))
    return out


# -- the act ----------------------------------------------------------------------------------------
def clean_reason(reason: str) -> str:
    """The reason of an acknowledgement: typed text on one line, as :func:`fsck_reason`'s (no
    control or direction character, no line break: ``kho audit verify`` prints it after the
    finding it acknowledges, where a line break would print lines that read as Kho's own, u35;
    ``FIELD_CONTROL_CHARS``), NFC, not blank and at most :data:`REASON_MAX` characters
    (``REASON_INVALID``)."""
    if has_hidden_characters(reason or "", line_breaks=True):
        # Raises typed_text's own refusal (FIELD_CONTROL_CHARS, its one message); the length is
        # this rule's (REASON_INVALID below), so typed_text's limit is set out of the way.
        typed_text(reason, "reason", "Lý do chấp nhận", line_breaks=False, kind=TextKind.DOCUMENT)
    text = unicodedata.normalize("NFC", reason or "").strip()
    if blank(text):
        raise AcknowledgeReasonInvalid(
            "Phải ghi lý do chấp nhận (--reason): vì sao các phát hiện này không phải là tấn công."
        )
    if len(text) > REASON_MAX:
        raise AcknowledgeReasonInvalid(
            f"Lý do chấp nhận dài {len(text)} ký tự, tối đa {REASON_MAX}.", limit=REASON_MAX
        )
    return text


def acknowledge(
    log: AuditLog,
    anchor: Anchor | None,
    *,
    actor: str,
    source: str | None,
    digest: str,
    reason: str,
    login: Mapping[str, Any],
    out: Sequence[Any] = (),
) -> tuple[Any, dict[str, Any], VerifyReport]:
    """Record and sign an auditor's acknowledgement of the findings they looked at (module
    docstring). Returns the event, the checkpoint that signs it and the report acknowledged.

    Refused, writing nothing: no signing key (``AUDIT_KEY_MISSING``), no reason
    (``REASON_INVALID``), nothing open to acknowledge (``NOTHING_TO_ACKNOWLEDGE``), the open
    findings are not those of ``digest`` (``FINDINGS_CHANGED``), no readable event to chain after
    (``NOTHING_TO_CHAIN_AFTER``)."""
    from repository.anchor import Anchor, chain_hashes, chain_positions, make_checkpoint, verify_anchored

    anchor = anchor or Anchor()
    try:
        anchor.private_key()
    except AuditKeyMissing as exc:
        raise AcknowledgeKeyMissing(
            "Không ghi được quyết định chấp nhận: quyết định phải được ký ngoài kho bằng khóa ký điểm mốc."
            " Cấu hình KHO_AUDIT_SIGNING_KEY (tạo khóa bằng “kho audit keygen TỆP”) rồi chạy lại. "
            + exc.message
        ) from exc
    text = clean_reason(reason)
    report = verify_anchored(log, anchor)
    opened = report.open_findings
    if not opened:
        raise AcknowledgeRefused(
            "Nhật ký không có phát hiện nào chưa được chấp nhận: không có gì để chấp nhận.",
            code="NOTHING_TO_ACKNOWLEDGE",
        )
    current = findings_digest(opened)
    if digest.strip().lower() != current:
        raise AcknowledgeRefused(
            "Các phát hiện đã thay đổi từ lúc kiểm toán viên xem (mã tóm tắt không khớp): xem lại bằng"
            f" “kho audit verify” rồi chấp nhận với mã mới {current}.",
            code="FINDINGS_CHANGED",
            findings=current,
        )
    positions = chain_positions(log.store)
    readable = [(p, raw) for p, raw in positions if raw is not None and isinstance(raw.get("hash"), str)]
    if not readable:
        raise AcknowledgeRefused(
            "Nhật ký không còn sự kiện nào đọc được: không thể chấp nhận toàn bộ chuỗi; phải khôi phục"
            " nhật ký từ bản sao lưu.",
            code="NOTHING_TO_CHAIN_AFTER",
        )
    last, last_raw = readable[-1]
    refuse_unsealed_writer(log.sealer, last_raw.get(SEAL_FIELD))  # nothing unsealed after a seal
    seq = max(p for p, _ in positions) + 1
    key = anchor.public_key()
    hashes = chain_hashes(positions)
    from repository.anchor import reachable_checkpoints

    contradicted = sorted(
        int(cp["number"])
        for cp in reachable_checkpoints(log.store, anchor)
        if key is not None
        and offline.signature_valid(cp, key)
        and int(cp.get("seq", -1)) >= 0
        and hashes.get(int(cp["seq"])) != cp.get("head")
    )
    details = formats.stamp(
        formats.AUDIT_ACKNOWLEDGEMENT.name,
        {
            "findings": [
                {"kind": f.kind, "seq": f.seq, "message": f.message, "seen": f.seen} for f in opened
            ],
            "digest": current,
            "reason": text,
            "witness": _witness_said(log),
            "head": {"seq": last, "hash": last_raw["hash"]},
            "checkpoints": contradicted,
            "login": dict(login),
        },
    )
    draft = EventDraft(actor, ACKNOWLEDGE_ACTION, source=source, details=details)
    try:
        event = log.write_after_end(seq, str(last_raw["hash"]), draft)
    except AlreadyExists as exc:
        raise AcknowledgeRefused(
            f"Sự kiện #{seq} vừa được ghi trong lúc chấp nhận: các phát hiện đã thay đổi, xem lại.",
            code="FINDINGS_CHANGED",
        ) from exc
    cp = make_checkpoint(
        log.store,
        anchor,
        sealer=log.sealer,
        out=out,
        acknowledging=(event.seq, event.hash, frozenset(contradicted)),
    )
    if anchor.checkpoint_dir is not None:  # the head noted outside the store moves to the decision
        note_written(anchor.checkpoint_dir, event.seq, event.hash, event.at, moved=True)
    return event, cp, verify_anchored(log, anchor)


def _witness_said(log: AuditLog) -> dict[str, Any]:
    try:
        witness = read_witness(log.store)
    except NotFound:
        return {"state": "missing"}
    except (FormatInvalid, FormatUnsupported):
        return {"state": "unreadable"}
    return {"state": "present", "seq": witness.get("seq"), "hash": witness.get("hash")}


# -- a person's decision on a finding kho fsck cannot repair (m65) ------------------------------
# The same mechanism for the store's findings: one event records the decision (who, when, why),
# the exact finding it is about is recorded in it (kind, subject, facts and their digest), and
# the finding stays listed, marked with the decision (``Issue.acknowledged``: by, at, reason,
# event; the mark of :meth:`Acknowledgement.mark`), covered only while it is the finding recorded.
# Unlike the auditor's, it is not signed outside the store: it unlocks nothing (the log goes on
# taking events, fsck repairs what it repairs either way), it only stops ``kho fsck`` failing on a
# finding a person decided on. It counts only when its seal checks (fsck's rule for the events
# its repairs act on, :func:`repository.audit.sealed_events`): one who can write the store but
# holds no ``KHO_MASTER_KEY`` cannot make fsck accept a finding.
FSCK_ACKNOWLEDGE_ACTION = "fsck:acknowledge"
"""A person's decision on a finding of ``kho fsck`` that cannot be repaired."""

FSCK_ACKNOWLEDGEABLE: Mapping[str, str] = {
    "register-number-reused": "một số của sổ đăng ký được cấp cho hơn một văn bản",
    "register-assign-orphan": "sự kiện cấp số (trước m61, không ghi mã cơ quan) cho văn bản kho không có",
}
"""The kinds of finding a person may acknowledge, and what each is (Vietnamese): those whose
state is lawful and final once a person has decided (both documents exist and are legal
documents; the log cannot be changed), never one that is repaired, the auditor's (the chain's),
or evidence of data lost or changed (bench/NOTES-m65.md says why, kind by kind)."""


def finding_digest(kind: str, subject: str, facts: Mapping[str, Any]) -> str:
    """The digest that names one finding of fsck exactly: its kind, subject and facts (the
    records sharing the number, the events, the register entry). Another record taking the
    number changes it."""
    canonical = json.dumps(
        {"kind": kind, "subject": subject, "facts": facts},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class FsckAcknowledgement:
    """An ``fsck:acknowledge`` event as fsck reads it."""

    seq: int
    actor: str
    at: str
    reason: str
    kind: str
    subject: str
    digest: str

    def mark(self) -> dict[str, Any]:
        return {"by": self.actor, "at": self.at, "reason": self.reason, "event": self.seq}


def fsck_acknowledgement(event: AuditEvent) -> FsckAcknowledgement | None:
    """The decision an ``fsck:acknowledge`` event records; None for another event, or one whose
    details do not load or whose digest is not that of the facts it records."""
    if event.action != FSCK_ACKNOWLEDGE_ACTION:
        return None
    try:
        details = formats.upcast(formats.FSCK_ACKNOWLEDGEMENT.name, dict(event.details or {}))
        kind, subject, facts = details["kind"], details["subject"], details["facts"]
        digest, reason = details["digest"], details["reason"]
        if not (isinstance(kind, str) and isinstance(subject, str) and isinstance(facts, Mapping)):
            return None
        if not isinstance(reason, str) or digest != finding_digest(kind, subject, facts):
            return None
    except (FormatInvalid, FormatUnsupported, KeyError, TypeError, ValueError):
        return None
    return FsckAcknowledgement(event.seq, event.actor, event.at, reason, kind, subject, digest)


def fsck_reason(reason: str | None) -> str:
    """The reason of a decision on a finding of fsck: typed text on one line (no control or
    direction characters: fsck prints it to another person's terminal), at most
    :attr:`~repository.vocabulary.TextKind.NOTE` characters, NFC, not blank (``REASON_INVALID``)."""
    text = typed_text(reason or "", "reason", "Lý do chấp nhận", line_breaks=False, kind=TextKind.NOTE)
    if blank(text):
        raise AcknowledgeReasonInvalid(
            "Phải ghi lý do chấp nhận (--reason): người có thẩm quyền đã quyết định thế nào về phát"
            " hiện này (ví dụ văn bản nào giữ số, căn cứ quyết định)."
        )
    return text


def fsck_details(
    kind: str, subject: str, facts: Mapping[str, Any], message: str, reason: str
) -> dict[str, Any]:
    """The details of the ``fsck:acknowledge`` event of a decision (stamped)."""
    return formats.stamp(
        formats.FSCK_ACKNOWLEDGEMENT.name,
        {
            "kind": kind,
            "subject": subject,
            "facts": dict(facts),
            "digest": finding_digest(kind, subject, facts),
            "message": message,
            "reason": reason,
        },
    )
