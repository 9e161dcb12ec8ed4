"""The way out when an attacker locks the only kiểm toán viên while the audit log refuses (x1).

Wrong passwords count and lock also while the log refuses (the lock is required): five of them
at the acknowledge command lock the only auditor, and then nobody can acknowledge, unlock or
recover (every one of those is an audited change the log refuses). ``kho audit acknowledge
--locked-out`` on the server lets that one auditor's acknowledgement through with their right
password, records it in the acknowledgement event (``login.locked``), and leaves the account
locked for a quản trị to unlock once the log takes events again. Each other case is refused
with its code."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result
from kho_people import PASSWORD, People, create_person
from kho_testing import incoming, pdf_bytes

from repository.accounts import LockReason, Status
from repository.audit import ACKNOWLEDGE_ACTION, EVENTS_PREFIX, WITNESS_KEY, AuditLog
from repository.fsck import fsck
from repository.policy import Role
from web.cli import main
from web.context import Kho

REASON = "Phần cuối nhật ký mất do sự cố đĩa; đã đối chiếu với bản sao lưu, không có can thiệp."
WRONG = "doan-mat-khau-2026"


def _locked_up(kho: Kho, people: People) -> None:
    for n in (1, 2):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"l{n}"), "cv.pdf", people.actor("van_thu")
        )
    store = kho.repo.store
    store.delete([info.key for info in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)


def _acknowledge(runner: CliRunner, user: str, password: str, *extra: str) -> Result:
    return runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", REASON, "--user", user, "--password-stdin", *extra],
        input=password + "\n",
    )


def _digest(result: Result) -> str:
    found = re.search(r"Mã tóm tắt các phát hiện: ([0-9a-f]{64})", result.output)
    assert found, result.output
    return found.group(1)


def _lock_out(runner: CliRunner, user: str) -> None:
    """The attacker: five wrong passwords at the acknowledge command (no login can be recorded)."""
    for _ in range(5):
        guess = _acknowledge(runner, user, WRONG)
        assert guess.exit_code == 2 and "Lỗi [LOGIN_FAILED]" in guess.output, guess.output


def test_the_only_auditor_locked_out_during_the_refusal_acknowledges_from_the_server(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    auditor = people.usernames["kiem_toan"]
    _locked_up(kho, people)
    runner = CliRunner()
    _lock_out(runner, auditor)
    account = kho.accounts.get(auditor)
    assert account.status is Status.LOCKED and account.lock_reason is LockReason.FAILED_LOGINS
    # The lock-out: the auditor's right password no longer gets through, and the quản trị's
    # unlock is an audited change the log refuses.
    stuck = _acknowledge(runner, auditor, PASSWORD)
    assert stuck.exit_code == 2 and "Lỗi [ACCOUNT_LOCKED]" in stuck.output, stuck.output
    admin = kho.accounts.get(people.usernames["quan_tri"])
    unlock = runner.invoke(main, ["login", admin.username, "--password-stdin"], input=PASSWORD)
    assert unlock.exit_code == 2 and "AUDIT_CHAIN_BROKEN" in unlock.output

    shown = _acknowledge(runner, auditor, PASSWORD, "--locked-out")
    assert shown.exit_code == 1, shown.output  # a preview writes nothing
    assert not kho.repo.store.exists(WITNESS_KEY)
    done = _acknowledge(runner, auditor, PASSWORD, "--locked-out", "--findings", _digest(shown))
    assert done.exit_code == 0, done.output
    (event,) = [e for e in AuditLog(kho.repo.store).events() if e.action == ACKNOWLEDGE_ACTION]
    assert event.actor == auditor
    assert event.details["login"] == {
        "user": auditor,
        "method": "password",
        "source": "cli",
        "locked": "failed_logins",
        "way_out": "operator",
    }
    assert kho.accounts.get(auditor).status is Status.LOCKED  # a quản trị unlocks, on the record

    # The log takes events again: fsck --repair appends the counted failures and the lock,
    # then the quản trị's ordinary unlock works and is audited.
    # (grace_seconds=0: the commands are over, no writer is between its two writes)
    repaired = [i for i in fsck(kho.repo, repair=True, grace_seconds=0).issues if i.kind == "unaudited"]
    assert repaired and all(i.repaired for i in repaired)
    events = list(AuditLog(kho.repo.store).events())
    failed = [
        e for e in events if e.action == "account:login-failed" and e.details.get("recorded_actor") == auditor
    ]
    assert sorted(e.details["failed_logins"] for e in failed) == [1, 2, 3, 4, 5]
    assert [e.details["username"] for e in events if e.action == "account:lock"] == [auditor]
    unlocked = kho.accounts.unlock(auditor, admin)
    assert unlocked.status is Status.ACTIVE
    last = [e for e in AuditLog(kho.repo.store).events() if e.action == "account:unlock"][-1]
    assert (last.actor, last.details["username"]) == (admin.username, auditor)


def test_the_way_out_is_refused_in_every_other_case(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    auditor, clerk = people.usernames["kiem_toan"], people.usernames["van_thu"]
    admin = kho.accounts.get(people.usernames["quan_tri"])
    runner = CliRunner()

    def refused(user: str, password: str = PASSWORD) -> str:
        result = _acknowledge(runner, user, password, "--locked-out", "--findings", "0" * 64)
        assert result.exit_code == 2, result.output
        code = re.search(r"Lỗi \[([A-Z_]+)\]", result.output)
        assert code, result.output
        return code.group(1)

    # The log takes events: a quản trị unlocks.
    kho.accounts.lock(clerk, "admin", admin)
    _lock_out(runner, auditor)
    assert refused(auditor) == "AUDIT_LOG_ACCEPTS"
    kho.accounts.unlock(auditor, admin)
    _locked_up(kho, people)
    assert refused(auditor) == "ACCOUNT_NOT_LOCKED"  # the ordinary command works
    _lock_out(runner, auditor)
    assert refused(auditor, WRONG) == "LOGIN_FAILED"  # the right password is still needed
    assert refused("khong-co-ai") == "LOGIN_FAILED"
    assert refused(clerk) == "RECOVERY_LOCK_REASON"  # locked by a quản trị, not by guesses
    _lock_out(runner, people.usernames["lanh_dao"])
    assert refused(people.usernames["lanh_dao"]) == "RECOVERY_NOT_AUDITOR"
    assert not kho.repo.store.exists(WITNESS_KEY)  # nothing was written by any of them


def test_a_second_active_auditor_makes_the_way_out_unneeded(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    admin = kho.accounts.get(people.usernames["quan_tri"])
    unit = kho.accounts.get(people.usernames["kiem_toan"]).memberships[0].unit
    create_person(kho.accounts, "Đỗ Văn Soát", unit, [Role.KIEM_TOAN], 0, None, admin)
    _locked_up(kho, people)
    runner = CliRunner()
    _lock_out(runner, people.usernames["kiem_toan"])
    result = _acknowledge(
        runner, people.usernames["kiem_toan"], PASSWORD, "--locked-out", "--findings", "0" * 64
    )
    assert result.exit_code == 2 and "Lỗi [RECOVERY_NOT_NEEDED]" in result.output, result.output


def test_a_new_auditor_nobody_confirmed_yet_is_not_another_auditor(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    """A new account whose person has not set their own password (g1, r13's ``never_used``:
    awaiting its second person here) is nobody yet: it does not make the way out unneeded (the
    preview is shown, not ``RECOVERY_NOT_NEEDED``)."""
    admin = kho.accounts.get(people.usernames["quan_tri"])
    unit = kho.accounts.get(people.usernames["kiem_toan"]).memberships[0].unit
    pending, _ = kho.accounts.create_account("Đỗ Văn Soát", unit, [Role.KIEM_TOAN], 0, None, admin)
    assert pending.awaiting_confirmation
    _locked_up(kho, people)
    runner = CliRunner()
    _lock_out(runner, people.usernames["kiem_toan"])
    shown = _acknowledge(runner, people.usernames["kiem_toan"], PASSWORD, "--locked-out")
    assert shown.exit_code == 1 and "RECOVERY_NOT_NEEDED" not in shown.output, shown.output


def test_only_the_cli_reaches_the_way_out() -> None:
    web = Path(__file__).resolve().parents[2] / "web"
    callers = sorted(
        p.relative_to(web).as_posix()
        for p in web.rglob("*.py")
        if "authenticate_locked_auditor(" in p.read_text(encoding="utf-8")
    )
    assert callers == ["cli.py"]
