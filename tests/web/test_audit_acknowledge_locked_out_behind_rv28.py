"""rv28 (rv23's open item 4): the locked-out auditor's way out after a store was rolled back.

A store put back to an older copy refuses every write with ``AUDIT_HISTORY_BEHIND`` (rv23): its
witness is consistent, so ``kho audit acknowledge --locked-out`` judged that "the log accepts
events" (``AUDIT_LOG_ACCEPTS``) and the only kiểm toán viên, locked out by five wrong passwords
(which still count and lock), had no way to acknowledge: nobody could. Now the refusal the writers
get counts as the log refusing; every other safeguard of the way out is unchanged (tested)."""

from __future__ import annotations

from pathlib import Path

from audit_tamper import snapshot
from click.testing import CliRunner, Result
from kho_people import PASSWORD, People
from kho_testing import incoming

from kho.config import Settings
from repository.accounts import LockReason, Status
from repository.anchor import make_checkpoint
from repository.audit import ACKNOWLEDGE_ACTION, AuditLog
from web.cli import main
from web.context import Kho

REASON = "Kho bị chép đè bằng bản cũ; đã đối chiếu với bản sao lưu, tiếp tục từ bản này."
WRONG = "doan-mat-khau-2026"


def _acknowledge(runner: CliRunner, user: str, password: str, *extra: str) -> Result:
    return runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", REASON, "--user", user, "--password-stdin", *extra],
        input=password + "\n",
    )


def _rolled_back(kho: Kho, people: People, tmp_path: Path) -> None:
    clerk = people.actor("van_thu")
    kho.repo.create_document("den", incoming(code_number="1"), None, None, clerk)
    put_back = snapshot(kho.repo.store, tmp_path / "old-copy")
    kho.repo.create_document("den", incoming(code_number="2"), None, None, clerk)
    make_checkpoint(kho.repo.store, kho.repo.anchor, sealer=kho.repo.audit.sealer)
    put_back()


def test_the_locked_out_auditor_acknowledges_a_rolled_back_store(
    audit_signing_key: Path, kho: Kho, people: People, tmp_path: Path
) -> None:
    auditor = people.usernames["kiem_toan"]
    _rolled_back(kho, people, tmp_path)
    runner = CliRunner()
    for _ in range(5):  # the attacker's guesses: counted and locking, as while any refusal
        guess = _acknowledge(runner, auditor, WRONG)
        assert guess.exit_code == 2 and "Lỗi [LOGIN_FAILED]" in guess.output, guess.output
    fresh = Kho(Settings.from_env(), follow_index=False)
    account = fresh.accounts.get(auditor)
    assert account.status is Status.LOCKED and account.lock_reason is LockReason.FAILED_LOGINS
    stuck = _acknowledge(runner, auditor, PASSWORD)
    assert stuck.exit_code == 2 and "Lỗi [ACCOUNT_LOCKED]" in stuck.output, stuck.output

    # the same safeguards: a wrong password is still LOGIN_FAILED, another role is refused
    wrong = _acknowledge(runner, auditor, WRONG, "--locked-out", "--findings", "0" * 64)
    assert wrong.exit_code == 2 and "Lỗi [LOGIN_FAILED]" in wrong.output, wrong.output
    shown = _acknowledge(runner, auditor, PASSWORD, "--locked-out")
    assert shown.exit_code == 1, shown.output  # the findings, nothing written
    assert "AUDIT_LOG_ACCEPTS" not in shown.output
    digest = shown.output.split("Mã tóm tắt các phát hiện: ")[1][:64]
    done = _acknowledge(runner, auditor, PASSWORD, "--locked-out", "--findings", digest)
    assert done.exit_code == 0, done.output
    (event,) = [e for e in AuditLog(kho.repo.store).events() if e.action == ACKNOWLEDGE_ACTION]
    assert event.actor == auditor and event.details["login"]["locked"] == "failed_logins"
    # the log takes events again: a fresh process registers
    again = Kho(Settings.from_env(), follow_index=False)
    record = again.repo.create_document("den", incoming(code_number="3"), None, None, people.actor("van_thu"))
    assert record.registration is not None


def test_the_way_out_still_answers_accepts_when_nothing_refuses(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    """No rollback, the log consistent: the locked auditor is told AUDIT_LOG_ACCEPTS (a quản trị
    unlocks the ordinary, audited way), as before."""
    auditor = people.usernames["kiem_toan"]
    kho.repo.create_document("den", incoming(code_number="1"), None, None, people.actor("van_thu"))
    make_checkpoint(kho.repo.store, kho.repo.anchor, sealer=kho.repo.audit.sealer)
    runner = CliRunner()
    for _ in range(5):
        _acknowledge(runner, auditor, WRONG)
    refused = _acknowledge(runner, auditor, PASSWORD, "--locked-out", "--findings", "0" * 64)
    assert refused.exit_code == 2 and "Lỗi [AUDIT_LOG_ACCEPTS]" in refused.output, refused.output
