"""Review r14 of x1: the only kiểm toán viên whose password aged past 3 months while the audit log
refused acknowledges from the server (``kho audit acknowledge --locked-out``), on the record.

x1 refuses every audited change while the log refuses, the password change too, so the ordinary
command (``PASSWORD_EXPIRED``) and the change that would lift it are both closed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.audit import ACKNOWLEDGE_ACTION, EVENTS_PREFIX, WITNESS_KEY, AuditLog, EventDraft
from web.cli import main
from web.context import Kho

REASON = "Phần cuối nhật ký mất do sự cố đĩa; đã đối chiếu với bản sao lưu, không có can thiệp."


def _acknowledge(runner: CliRunner, user: str, *extra: str) -> Result:
    return runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", REASON, "--user", user, "--password-stdin", *extra],
        input=PASSWORD + "\n",
    )


def test_the_only_auditor_with_an_expired_password_acknowledges_with_the_way_out(
    audit_signing_key: Path, kho: Kho, people: People
) -> None:
    auditor = people.usernames["kiem_toan"]
    old = kho.accounts.get(auditor).password_changed_at - timedelta(days=100)
    # The password's age, as time would make it (a version written the ordinary way; with an
    # event, as every version Kho writes: one with none is refused as unaudited since r18).
    aged = [EventDraft("test", "account:test-password-age")]
    kho.accounts._update(auditor, "test", lambda _: {"password_changed_at": old}, lambda _b, _a: aged)
    clerk = people.actor("van_thu")
    kho.repo.create_document("den", incoming(code_number="1"), pdf_bytes("e1"), "cv.pdf", clerk)
    store = kho.repo.store
    store.delete([info.key for info in store.list(EVENTS_PREFIX)][-1])
    store.delete(WITNESS_KEY)
    runner = CliRunner()
    ordinary = _acknowledge(runner, auditor)
    assert ordinary.exit_code == 2 and "PASSWORD_EXPIRED" in ordinary.output, ordinary.output
    shown = _acknowledge(runner, auditor, "--locked-out")
    assert shown.exit_code == 1, shown.output
    found = re.search(r"Mã tóm tắt các phát hiện: ([0-9a-f]{64})", shown.output)
    assert found, shown.output
    done = _acknowledge(runner, auditor, "--locked-out", "--findings", found.group(1))
    assert done.exit_code == 0, done.output
    (event,) = [e for e in AuditLog(store).events() if e.action == ACKNOWLEDGE_ACTION]
    assert event.details["login"] == {
        "user": auditor,
        "method": "password",
        "source": "cli",
        "way_out": "operator",
        "password_expired": True,
    }
    assert kho.accounts.get(auditor).password_changed_at == old  # the person changes it now, audited
