"""``kho audit acknowledge`` from the command line: the auditor authenticates inside the command
(every login is refused while the log is broken), passes the digest ``kho audit verify`` printed
and a reason; afterwards logins, appends, ``kho audit checkpoint`` and ``kho fsck --repair`` work
and ``kho audit verify`` lists the findings as acknowledged. Refusals carry stable codes and
exit 2, like the other audit commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from repository.storage.base import ObjectStore
from web.cli import main
from web.context import Kho

REASON = "Bản ghi chứng bị xóa nhầm khi dọn thư mục; đã đối chiếu bản sao lưu, không có can thiệp."


def _cut(store: ObjectStore) -> None:
    last = [info.key for info in store.list(EVENTS_PREFIX)][-1]
    store.delete(last)
    store.delete(WITNESS_KEY)


def _locked_up(kho: Kho, people: People) -> None:
    for n in (1, 2, 3):
        kho.repo.create_document(
            "den", incoming(code_number=str(n)), pdf_bytes(f"a{n}"), "cv.pdf", people.actor("van_thu")
        )
    _cut(kho.repo.store)


def _digest(runner: CliRunner, people: People) -> str:
    """What the auditor sees first: the command without ``--findings`` authenticates them (no
    login of theirs can be recorded now), lists the findings and their digest, writes nothing."""
    shown = runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", REASON, "--user", people.usernames["kiem_toan"],
         "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )
    assert shown.exit_code == 1, shown.output
    return str(json.loads(shown.stdout)["findings_digest"])


def _acknowledge(runner: CliRunner, people: People, who: str, digest: str, *extra: str) -> object:
    return runner.invoke(
        main,
        ["audit", "acknowledge", "--findings", digest, "--reason", REASON,
         "--user", people.usernames[who], "--password-stdin", *extra],
        input=PASSWORD + "\n",
    )


def test_the_auditor_acknowledges_from_the_cli_and_the_agency_works_again(
    audit_signing_key: Path, kho: Kho, people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _locked_up(kho, people)
    runner = CliRunner()
    login = runner.invoke(main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD)
    assert login.exit_code == 2 and "AUDIT_CHAIN_BROKEN" in login.output
    shown = runner.invoke(
        main,
        ["audit", "acknowledge", "--reason", REASON, "--user", people.usernames["kiem_toan"],
         "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert shown.exit_code == 1 and "Mã tóm tắt các phát hiện:" in shown.output, shown.output
    assert not kho.repo.store.exists(WITNESS_KEY)  # nothing written
    kept = tmp_path / "kept-checkpoint.json"
    done = _acknowledge(runner, people, "kiem_toan", _digest(runner, people), "--out", str(kept))
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert "Đã ghi quyết định chấp nhận" in done.output  # type: ignore[attr-defined]
    assert json.loads(kept.read_text(encoding="utf-8"))["acknowledges"]["seq"] >= 0
    monkeypatch.setenv("KHO_TOKEN", people.tokens["kiem_toan"])
    verified = runner.invoke(main, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "Đã được kiểm toán viên chấp nhận" in verified.output
    assert people.usernames["kiem_toan"] in verified.output and REASON in verified.output
    as_json = json.loads(runner.invoke(main, ["audit", "verify", "--json"]).stdout)
    assert as_json["ok"] and all(f["acknowledged"] for f in as_json["findings"])
    monkeypatch.delenv("KHO_TOKEN")
    login = runner.invoke(main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD)
    assert login.exit_code == 0, login.output
    assert runner.invoke(main, ["audit", "checkpoint"]).exit_code == 0
    repaired = runner.invoke(main, ["fsck", "--repair"])
    assert "AUDIT_CHAIN_BROKEN" not in repaired.output, repaired.output
    assert repaired.exit_code == 0, repaired.output


def test_the_cli_refuses_a_non_auditor_and_a_missing_key(kho: Kho, people: People) -> None:
    _locked_up(kho, people)
    runner = CliRunner()
    digest = "0" * 64  # refused before the digest is compared
    no_key = _acknowledge(runner, people, "kiem_toan", digest)
    assert no_key.exit_code == 2 and "Lỗi [AUDIT_KEY_MISSING]" in no_key.output  # type: ignore[attr-defined]
    assert "KHO_AUDIT_SIGNING_KEY" in no_key.output  # type: ignore[attr-defined]
    clerk = _acknowledge(runner, people, "van_thu", digest)
    assert clerk.exit_code == 2 and "Lỗi [PERMISSION_DENIED]" in clerk.output  # type: ignore[attr-defined]
    assert not kho.repo.store.exists(WITNESS_KEY)


def test_a_stale_digest_is_refused_with_its_code(audit_signing_key: Path, kho: Kho, people: People) -> None:
    _locked_up(kho, people)
    runner = CliRunner()
    stale = _acknowledge(runner, people, "kiem_toan", "0" * 64)
    assert stale.exit_code == 2 and "Lỗi [FINDINGS_CHANGED]" in stale.output  # type: ignore[attr-defined]
    wrong = runner.invoke(
        main,
        ["audit", "acknowledge", "--findings", _digest(runner, people), "--reason", REASON,
         "--user", people.usernames["kiem_toan"], "--password-stdin"],
        input="sai-mat-khau\n",
    )
    assert wrong.exit_code == 2 and "Lỗi [LOGIN_FAILED]" in wrong.output
    assert not kho.repo.store.exists(WITNESS_KEY)
