"""s19 (rv43's open items): a claim left by a writer killed on another machine between its claim
of a key and the key's data (S3 claims mode: the companion bucket) is met by

* an audit append: it failed with the plain ``NotFound`` of ``get_after_conflict`` after 10 s
  (the API answered 404 ``NOT_FOUND``, the CLI ``NOT_FOUND``, ingest did not retry). Now it is
  refused ``CLAIM_PENDING`` (409, retried by ingest), as the register's allocation is, and once
  the claim is stale (``claim_timeout_s``) the number is taken over: the chain goes on from the
  event before it, no hole, and the log verifies;
  (The API's answer: ``tests/web/test_dead_claim_log_s19.py``.)
* a register allocation: it waited its 10 s inside the registers' one process lock, so every
  other thread of the process waited to allocate in any series. Now the lock is per series.

Real Ceph S3 (claims mode), real HTTP through the Flask test client."""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from kho_claims import chained_at, next_event_key, plant_dead_claim
from kho_people import create_person
from kho_testing import AGENCY, AUDITOR, CLERK, ManualClock, incoming, make_store, new_repository, pdf_bytes

from kho.errors import Conflict
from kho.timeutil import to_iso_utc, utcnow
from repository import formats
from repository.accounts import ADMINS_GUARD, AccountService, Role
from repository.audit import AuditLog, parse_object
from repository.ledger import append_tombstone, verify_ledger
from repository.ledger import entry_key as ledger_entry_key
from repository.registers import RegisterEntry, Registers, entry_key

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.mark.s3
def test_an_audit_append_meeting_a_dead_claim_is_refused_with_a_code_then_takes_it_over(
    tmp_path: Path,
) -> None:
    store, keys = make_store("s3", tmp_path, "s19aud"), make_store("s3", tmp_path, "s19audk")
    repo = new_repository(store, keys)
    repo.create_document("den", incoming(), pdf_bytes("one"), "qd.pdf", CLERK)
    key = next_event_key(store)
    plant_dead_claim(store, key)

    with pytest.raises(Conflict) as refused:
        repo.audit_verify(actor=AUDITOR)  # an act whose one write is its event
    assert refused.value.code == "CLAIM_PENDING" and refused.value.http_status == 409
    message = str(refused.value)
    assert unicodedata.is_normalized("NFC", message) and "thử lại sau ít phút" in message
    assert not store.exists(key)
    assert repo.audit.verify().ok  # nothing lost meanwhile

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]  # the claim is stale now
    repo.audit_verify(actor=AUDITOR)
    assert parse_object(store.get(key))[0].action == "audit:verify"  # the number is used
    chained_at(store, key)
    report = new_repository(store, keys).audit.verify()
    assert report.ok, report.findings


def _number_guard(tmp_path: Path, metadata: dict[str, Any]) -> str:
    """The (số, ký hiệu, cơ quan, năm) guard key a creation of ``metadata`` takes: read from a
    scratch local store (the key depends on the document, not on the store)."""
    scratch = make_store("local", tmp_path, "scratch")
    new_repository(scratch, make_store("local", tmp_path, "scratchk")).create_document(
        "den", metadata, pdf_bytes("scratch"), "x.pdf", CLERK
    )
    (key,) = [info.key for info in scratch.list("claims/skh/")]
    return key


@pytest.mark.s3
def test_a_dead_claim_on_a_duplicate_guard_is_refused_then_taken_over_once_stale(tmp_path: Path) -> None:
    store, keys = make_store("s3", tmp_path, "s19grd"), make_store("s3", tmp_path, "s19grdk")
    repo = new_repository(store, keys)
    metadata = incoming(code_number="2")
    plant_dead_claim(store, _number_guard(tmp_path, metadata))

    with pytest.raises(Conflict) as refused:
        repo.create_document("den", metadata, pdf_bytes("guarded"), "b.pdf", CLERK)
    assert refused.value.code == "CLAIM_PENDING"
    assert "thử lại sau ít phút" in str(refused.value)

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    made = repo.create_document("den", metadata, pdf_bytes("guarded"), "b.pdf", CLERK)
    assert made.registration is not None and made.registration.number == 1
    assert new_repository(store, keys).audit.verify().ok


@pytest.mark.s3
def test_a_dead_claim_in_one_series_does_not_hold_allocations_in_another(tmp_path: Path) -> None:
    """The wait for a claimed number's entry (``get_after_conflict``, up to 10 s) was made under
    the registers' one process lock: another thread allocating in any other series waited for
    it. Here the wait of series A is held open until series B's allocation is done (60 s at
    most): with one lock for all series B cannot finish inside it."""
    store = make_store("s3", tmp_path, "s19lock")
    registers = Registers(store, floor=lambda prefix: 0)

    def entry(series: str) -> Any:
        return lambda n: RegisterEntry(AGENCY, 2026, series, n, f"rec-{series}-{n}", "c2VhbGVk")

    assert registers.allocate(AGENCY, 2026, "A", entry("A")).number == 1
    plant_dead_claim(store, entry_key(AGENCY, 2026, "A", 2))

    entered, other_done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    real = store.get_after_conflict

    def held_open(key: str, timeout_s: float = 10.0) -> bytes:
        entered.set()
        seen["b_done_inside_the_wait"] = other_done.wait(60)
        return real(key, timeout_s)

    store.get_after_conflict = held_open  # type: ignore[method-assign]

    def allocate_a() -> None:
        try:
            registers.allocate(AGENCY, 2026, "A", entry("A"))
        except Conflict as exc:
            seen["a"] = exc.code

    a = threading.Thread(target=allocate_a)
    a.start()
    assert entered.wait(120), "series A met the dead claim"
    b = registers.allocate(AGENCY, 2026, "B", entry("B"))
    other_done.set()
    a.join(180)
    assert not a.is_alive()
    assert b.number == 1
    assert seen["b_done_inside_the_wait"] is True  # B did not wait for A's wait
    assert seen["a"] == "CLAIM_PENDING"  # and A is still refused, not moved past number 2
    assert not store.exists(entry_key(AGENCY, 2026, "A", 3))


@pytest.mark.s3
def test_a_destruction_ledger_append_meeting_a_dead_claim_is_refused_then_takes_it_over(
    tmp_path: Path,
) -> None:
    """The destruction ledger is a hash chain of create-if-absent entries like the audit log:
    its append met a dead claim with the plain ``NotFound`` of ``get_after_conflict``."""
    store = make_store("s3", tmp_path, "s19led")
    now = utcnow()

    def row(record_id: str) -> bytes:
        data = {"record_id": record_id, "decision": "QĐ 12/QĐ-UBND", "destroyed_at": to_iso_utc(now),
                "destroyed_by": "luutru.hoang"}
        return formats.dumps(formats.DESTROYED.name, data)

    assert append_tombstone(store, row("r-one"), signing_key=None, lock_days=0, now=now) == 1
    plant_dead_claim(store, ledger_entry_key(2))
    with pytest.raises(Conflict) as refused:
        append_tombstone(store, row("r-two"), signing_key=None, lock_days=0, now=now)
    assert refused.value.code == "CLAIM_PENDING" and "thử lại sau ít phút" in str(refused.value)
    assert not store.exists(ledger_entry_key(2))

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    assert append_tombstone(store, row("r-two"), signing_key=None, lock_days=0, now=now) == 2
    report = verify_ledger(store, None)
    assert report.ok and set(report.tombstones) == {"r-one", "r-two"}, report


@pytest.mark.s3
def test_a_quan_tri_change_meeting_a_dead_claim_on_the_admins_guard_is_refused_then_goes_through(
    tmp_path: Path,
) -> None:
    """``claims/admins`` (one act taking the quản trị role away at a time) met a dead claim with
    the plain ``NotFound`` of ``get_after_conflict``."""
    store = make_store("s3", tmp_path, "s19adm")
    svc = AccountService(store, AuditLog(store), ManualClock(), hasher=CHEAP)
    _, first, _ = svc.bootstrap(AGENCY, "Ủy ban nhân dân tỉnh", "ubnd", "Quản Trị Viên")
    second, _ = create_person(
        svc, "Trần Quản Trị", AGENCY, [Role.QUAN_TRI], 0, None, first, password="Kho@2026-mới"
    )
    plant_dead_claim(store, ADMINS_GUARD)

    with pytest.raises(Conflict) as refused:
        svc.set_roles(second.username, [(AGENCY, Role.CHUYEN_VIEN)], svc.get(first.username))
    assert refused.value.code == "CLAIM_PENDING" and "thử lại sau ít phút" in str(refused.value)
    assert any(m.role is Role.QUAN_TRI for m in svc.get(second.username).memberships)  # not changed

    store.claim_timeout_s = 0.0  # type: ignore[attr-defined]
    svc.set_roles(second.username, [(AGENCY, Role.CHUYEN_VIEN)], svc.get(first.username))
    assert not any(m.role is Role.QUAN_TRI for m in svc.get(second.username).memberships)
    assert not store.exists(ADMINS_GUARD)  # given back
    assert AuditLog(store).verify().ok
