"""Verify an exported audit log against its signed checkpoints, with nothing of Kho installed.

This file depends only on the Python standard library and ``cryptography``; ``kho audit export``
copies it beside the log as ``verify_audit.py``. An auditor runs::

    python3 verify_audit.py EXPORT_DIR [--public-key public-key.pem] [--checkpoint FILE ...]

using the public key and checkpoint files they kept themselves (not the ones in the export, which
whoever handed over the export could have replaced). Exit status 0: the chain is intact and agrees
with every checkpoint; 1: findings are printed, one per line.

Event seals (``seal``, :mod:`repository.seals`) are HMACs under a key derived from the
installation's ``KHO_MASTER_KEY``, which an export never holds: this check covers them by the
hash and the checkpoints like every other field, but cannot tell whether one is genuine. It says
so on every run; ``kho audit verify`` on the Kho server checks them.

Kho uses the same functions for ``kho audit verify``: :func:`check_checkpoints` compares a chain
with signed checkpoints, :func:`sample_points` and :func:`signing_payload` define what a
checkpoint holds and what is signed. All of them are pure.

A checkpoint (``audit/checkpoints/<n>.json``) is a JSON object: ``number``, ``seq`` (newest event
covered, -1 for an empty log), ``head`` (that event's hash), ``events`` (events in the log then),
``samples`` (hashes of the events at ``seq``, ``seq - 1``, ``seq - 3``, ``seq - 7`` … and 0, so a
cut or rewrite is placed to within a power of two), ``registers`` (newest number of each register),
``at``, ``key_id`` and ``signature`` (Ed25519, base64, over every other field as canonical JSON).
From format 2 also ``sealed_since``: the position of the first event whose seal checked when the
checkpoint was signed (None: none).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ``cryptography`` is imported by the functions that check signatures (Kho opens this module in
# every command that opens the repository, most of which never check a checkpoint).

GENESIS = "0" * 64
EVENTS_FILE = "events.jsonl"
CHECKPOINTS_DIR = "checkpoints"
PUBLIC_KEY_FILE = "public-key.pem"


@dataclass(frozen=True)
class Finding:
    seq: int
    kind: str
    """``changed`` | ``removed`` | ``inserted`` | ``moved`` | ``unreadable`` | ``truncated`` |
    ``rewritten`` | ``checkpoint`` (a checkpoint that is forged, unverifiable or missing) |
    ``seal`` (no seal where a signed checkpoint says the log is sealed)."""
    message: str


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(raw: Mapping[str, Any]) -> str:
    """The hash of a stored event: SHA-256 of its canonical JSON without the ``hash`` field."""
    return hashlib.sha256(canonical({k: v for k, v in raw.items() if k != "hash"})).hexdigest()


def sample_points(seq: int) -> list[int]:
    """The sequence numbers whose hashes a checkpoint at ``seq`` keeps: ``seq``, ``seq - 1``,
    ``seq - 3``, ``seq - 7`` … and 0 (about log2(seq) points)."""
    if seq < 0:
        return []
    points, step = [seq], 1
    while seq - step > 0:
        points.append(seq - step)
        step = step * 2 + 1
    if points[-1] != 0:
        points.append(0)
    return points


def signing_payload(checkpoint: Mapping[str, Any]) -> bytes:
    """What the signature covers: every field but the signature and the RFC 3161 time-stamp
    (added after signing; its imprint covers the signed checkpoint), canonical JSON."""
    return canonical({k: v for k, v in checkpoint.items() if k not in ("signature", "timestamp")})


MAX_NUMBER = 10**12
"""Checkpoint numbers and event positions are below this: their keys carry 12 digits."""


def _int_in(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value < MAX_NUMBER


def checkpoint_problem(cp: Any) -> str | None:
    """Why a loaded checkpoint has a shape Kho never signs (Vietnamese), or None.

    Checked before any field is used: one who writes the store (or hands over an export) can put
    any JSON under ``audit/checkpoints/``, and a number that is not an integer, or one with a
    thousand digits, must be named, not stop or exhaust the verification (review rv19)."""
    if not isinstance(cp, dict):
        return "không phải một đối tượng JSON"
    if not _int_in(cp.get("number"), 1):
        return "số thứ tự không phải số nguyên dương hợp lệ"
    if not _int_in(cp.get("seq"), -1):
        return "số sự kiện (seq) không phải số nguyên hợp lệ"
    if not isinstance(cp.get("head"), str) or not isinstance(cp.get("signature"), str):
        return "thiếu mã băm đầu chuỗi hoặc chữ ký"
    if "events" in cp and not _int_in(cp["events"], 0):
        return "số sự kiện đếm được không hợp lệ"
    samples = cp.get("samples", {})
    if not isinstance(samples, dict) or not all(
        isinstance(k, str) and k.isascii() and k.isdigit() and int(k) < MAX_NUMBER and isinstance(v, str)
        for k, v in samples.items()
    ):
        return "các mã băm mẫu (samples) không hợp lệ"
    registers = cp.get("registers", {})
    if not isinstance(registers, dict) or not all(
        isinstance(k, str) and _int_in(v, 0) for k, v in registers.items()
    ):
        return "đầu sổ đăng ký (registers) không hợp lệ"
    acknowledges = cp.get("acknowledges")
    if acknowledges is not None and not (
        isinstance(acknowledges, dict)
        and _int_in(acknowledges.get("seq"), 0)
        and isinstance(acknowledges.get("hash"), str)
    ):
        return "trường acknowledges không hợp lệ"
    sealed_since = cp.get("sealed_since")
    if sealed_since is not None and not _int_in(sealed_since, 0):
        return "trường sealed_since không hợp lệ"
    return None


def well_formed(checkpoints: Iterable[Any], where: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The checkpoints of a sound shape, and a ``checkpoint`` finding for each other one
    (``where``: whence they came, for the message), which is left out of every comparison."""
    good: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for cp in checkpoints:
        problem = checkpoint_problem(cp)
        if problem is None:
            good.append(cp)
        else:
            findings.append(Finding(-1, "checkpoint", f"Điểm mốc trong {where} bị bỏ qua: {problem}."))
    return good, findings


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_valid(checkpoint: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(base64.b64decode(str(checkpoint.get("signature", ""))), signing_payload(checkpoint))
    except (InvalidSignature, ValueError):
        return False
    return checkpoint.get("key_id") == key_id(public_key)


def check_chain(positions: Iterable[tuple[int, Mapping[str, Any] | None]]) -> list[Finding]:
    """Walk the chain (position = the sequence number of the object's key; ``None`` = the object
    does not parse) and name every changed, removed, inserted, moved or unreadable event."""
    findings: list[Finding] = []
    expected, prev = 0, GENESIS
    for position, raw in positions:
        if position > expected:
            gap = f"#{expected}" + (f"–#{position - 1}" if position - 1 > expected else "")
            findings.append(Finding(expected, "removed", f"Sự kiện {gap} đã bị xóa."))
        if raw is None:
            findings.append(Finding(position, "unreadable", f"Sự kiện #{position} không đọc được (hỏng)."))
            expected, prev = position + 1, ""
            continue
        if raw.get("seq") != position:
            findings.append(
                Finding(position, "moved", f"Sự kiện ở vị trí #{position} mang số #{raw.get('seq')}.")
            )
        if event_hash(raw) != raw.get("hash"):
            findings.append(Finding(position, "changed", f"Nội dung sự kiện #{position} đã bị sửa."))
        if prev and position == expected and raw.get("prev") != prev:
            findings.append(
                Finding(position - 1, "inserted", f"Chuỗi bị đứt trước sự kiện #{position}.")
            )
        expected, prev = position + 1, str(raw.get("hash"))
    return findings


def check_checkpoints(
    hashes: Mapping[int, str],
    checkpoints: Sequence[Mapping[str, Any]],
    public_key: Ed25519PublicKey | None,
) -> list[Finding]:
    """Compare a chain (position → recomputed hash of the event stored there) with signed
    checkpoints: a checkpoint whose head is missing or different names the cut or rewrite.

    A forged or unverifiable checkpoint is named and otherwise ignored; one that holds vouches
    for every event up to its head (the chain links do the rest)."""
    sound, findings = well_formed(checkpoints, "danh sách được kiểm tra")
    end = max(hashes, default=-1)
    vouched = -1
    unique = {(c["number"], c["signature"]): c for c in sound}  # copies count once
    for cp in sorted(unique.values(), key=lambda c: (c["number"], c["seq"])):
        number = cp.get("number")
        if public_key is None:
            findings.append(
                Finding(-1, "checkpoint", f"Không có khóa công khai để kiểm tra điểm mốc #{number}.")
            )
            continue
        if not signature_valid(cp, public_key):
            findings.append(
                Finding(
                    -1,
                    "checkpoint",
                    f"Điểm mốc #{number} có chữ ký không hợp lệ (bị giả mạo hoặc ký bằng khóa khác): bỏ qua.",
                )
            )
            continue
        seq, head = int(cp["seq"]), str(cp["head"])
        if seq < 0:
            continue
        if hashes.get(seq) == head:
            vouched = max(vouched, seq)
            continue
        samples = {int(k): v for k, v in dict(cp.get("samples", {})).items()}
        good = [p for p, h in samples.items() if hashes.get(p) == h]
        bad = [p for p, h in samples.items() if p <= end and hashes.get(p) != h]
        since = max([vouched, *good])
        when = f"điểm mốc #{number} ({cp.get('at')})"
        if seq > end and not bad:
            findings.append(
                Finding(
                    end + 1,
                    "truncated",
                    f"{when.capitalize()} ghi nhận chuỗi đến sự kiện #{seq}; chuỗi hiện chỉ đến #{end}:"
                    f" các sự kiện #{end + 1}–#{seq} ở cuối đã bị cắt.",
                )
            )
            continue
        counted = int(cp.get("events", seq + 1))
        now = sum(1 for p in hashes if p <= seq)
        fewer = f" Điểm mốc đếm {counted} sự kiện đến #{seq}, nay còn {now}." if now != counted else ""
        findings.append(
            Finding(
                since + 1,
                "rewritten",
                f"Chuỗi đã bị viết lại so với {when}: khớp đến sự kiện #{since}, từ #{since + 1} đến"
                f" #{seq} không khớp bản đã ký (sự kiện bị sửa, xóa, chèn hoặc đảo rồi băm lại).{fewer}",
            )
        )
    return findings


def unsealed_after_floor(
    positions: Iterable[tuple[int, Mapping[str, Any] | None]],
    checkpoints: Sequence[Any],
    public_key: Ed25519PublicKey,
) -> list[Finding]:
    """A ``seal`` finding for each event at or after the ``sealed_since`` a checkpoint signed with
    ``public_key`` states (format 2; the lowest) that carries no seal at all (review rv22). This
    check has no seal key, so a seal that is there is not judged (see :func:`seals_note`); but an
    event with none where the log was sealed was not written by Kho."""
    floors = [
        cp["sealed_since"]
        for cp in checkpoints
        if checkpoint_problem(cp) is None
        and cp.get("sealed_since") is not None
        and signature_valid(cp, public_key)
    ]
    if not floors:
        return []
    floor = min(floors)
    return [
        Finding(
            position,
            "seal",
            f"Sự kiện #{position} không mang dấu niêm phong (seal) dù điểm mốc đã ký xác nhận nhật ký"
            f" được niêm phong từ sự kiện #{floor}: nó không do Kho ghi.",
        )
        for position, raw in positions
        if raw is not None and position >= floor and "seal" not in raw
    ]


# -- the standalone procedure ------------------------------------------------------------------
def load_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _loaded(text: str) -> Any:
    """Parsed JSON, or None for text that is not JSON or is nested too deep to parse."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def read_export(directory: Path) -> tuple[list[tuple[int, dict[str, Any] | None]], list[Any]]:
    """The events (position, parsed event or None) and the checkpoints of an export folder (a
    file that does not parse is None: the comparison names it)."""
    positions: list[tuple[int, dict[str, Any] | None]] = []
    for line in (directory / EVENTS_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            event = row.get("event")
            positions.append((int(row["position"]), event if isinstance(event, dict) else None))
    checkpoints = [
        _loaded(p.read_text(encoding="utf-8")) for p in sorted((directory / CHECKPOINTS_DIR).glob("*.json"))
    ]
    return positions, checkpoints


def verify_export(
    directory: Path, public_key: Ed25519PublicKey, extra_checkpoints: Sequence[Mapping[str, Any]] = ()
) -> list[Finding]:
    positions, checkpoints = read_export(directory)
    hashes = {p: event_hash(raw) for p, raw in positions if raw is not None}
    every = [*checkpoints, *extra_checkpoints]
    return (
        check_chain(positions)
        + check_checkpoints(hashes, every, public_key)
        + unsealed_after_floor(positions, every, public_key)
    )


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Verify an exported Kho audit log offline.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--public-key", type=Path, help="the public key you kept (default: the export's)")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[], help="a checkpoint you kept")
    args = parser.parse_args(argv)
    key = load_public_key(args.public_key or args.directory / PUBLIC_KEY_FILE)
    extra = [_loaded(p.read_text(encoding="utf-8")) for p in args.checkpoint]
    findings = verify_export(args.directory, key, extra)
    positions, checkpoints = read_export(args.directory)
    for finding in findings:
        print(f"[{finding.kind}] #{finding.seq}: {finding.message}")
    if not findings:
        print(f"OK: {len(positions)} events, {len(checkpoints) + len(extra)} checkpoints agree.")
    print(seals_note(positions))
    return 1 if findings else 0


def seals_note(positions: Iterable[tuple[int, Mapping[str, Any] | None]]) -> str:
    """What this check says of event seals: it cannot check them (they are HMACs under a key
    derived from the installation's ``KHO_MASTER_KEY``, which an export never holds)."""
    sealed = sum(1 for _, raw in positions if raw is not None and "seal" in raw)
    return (
        f"Lưu ý: {sealed} sự kiện mang dấu niêm phong (seal). Bản kiểm tra ngoại tuyến này không có"
        " khóa bí mật của Kho nên không kiểm tra được dấu niêm phong: một sự kiện giả mạo được nối"
        " vào cuối nhật ký sau điểm mốc đã ký cuối cùng chỉ được phát hiện bằng “kho audit verify”"
        " trên máy chủ Kho."
    )


if __name__ == "__main__":
    sys.exit(main())
