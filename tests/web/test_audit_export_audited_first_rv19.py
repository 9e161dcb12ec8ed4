"""``kho audit export`` writes the whole log to a folder: audited before a byte is written
(review rv19). On main the files came first and the ``audit:export`` event after, so a log
that refuses acts (a cut tail) let a kiểm toán viên carry a full copy away with no event, as
would a process killed between the two writes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import incoming, pdf_bytes

from repository.audit import EVENTS_PREFIX, WITNESS_KEY
from web.cli import main


def _login_auditor(runner: CliRunner, people: People) -> None:
    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output


def test_the_export_holds_its_own_event(people: People, tmp_path: Path) -> None:
    runner = CliRunner()
    _login_auditor(runner, people)
    out = tmp_path / "export"
    done = runner.invoke(main, ["audit", "export", str(out)])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    last = rows[-1]["event"]
    assert (last["action"], last["actor"]) == ("audit:export", people.usernames["kiem_toan"])
    assert last["details"]["directory"] == str(out.absolute())


def test_a_log_that_refuses_acts_refuses_the_export_and_writes_nothing(
    people: People, tmp_path: Path
) -> None:
    kho = people.kho
    clerk = people.actor("van_thu")
    for n in (1, 2):
        kho.repo.create_document("den", incoming(code_number=str(n)), pdf_bytes(f"x{n}"), "cv.pdf", clerk)
    runner = CliRunner()
    _login_auditor(runner, people)
    last = [info.key for info in kho.repo.store.list(EVENTS_PREFIX)][-1]
    kho.repo.store.delete(last)  # a cut tail, its witness deleted: every act is refused
    kho.repo.store.delete(WITNESS_KEY)
    out = tmp_path / "export"
    refused = runner.invoke(main, ["audit", "export", str(out)])
    assert refused.exit_code != 0 and "AUDIT_CHAIN_BROKEN" in refused.output, refused.output
    assert not (out / "events.jsonl").exists()
    assert runner.invoke(main, ["audit", "verify", "--json"]).exit_code == 1  # the findings, still
