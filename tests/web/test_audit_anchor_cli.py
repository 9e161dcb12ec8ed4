"""``kho audit keygen | checkpoint | verify --checkpoint | export``: the anchored audit from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People, create_person

from repository.anchor import CHECKPOINTS_PREFIX
from repository.audit_offline import main as verify_offline
from web.cli import main


def test_checkpoint_verify_and_export(
    people: People, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    key = tmp_path / "offstore" / "audit.key"
    key.parent.mkdir()
    made = runner.invoke(main, ["audit", "keygen", str(key)])
    assert made.exit_code == 0, made.output
    assert runner.invoke(main, ["audit", "keygen", str(key)]).exit_code == 2  # never overwritten
    monkeypatch.setenv("KHO_AUDIT_SIGNING_KEY", str(key))

    kept = tmp_path / "auditor-copy.json"
    done = runner.invoke(main, ["audit", "checkpoint", "--out", str(kept), "--json"])
    assert done.exit_code == 0, done.output
    cp = json.loads(done.output.splitlines()[-1])
    assert cp["number"] == 1 and json.loads(kept.read_text())["head"] == cp["head"]
    assert list(people.kho.repo.store.list(CHECKPOINTS_PREFIX))

    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    checked = runner.invoke(main, ["audit", "verify", "--checkpoint", str(kept), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["ok"] is True

    out = tmp_path / "export"
    exported = runner.invoke(main, ["audit", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert verify_offline([str(out), "--public-key", str(key) + ".pub", "--checkpoint", str(kept)]) == 0


def test_the_raw_export_is_refused_to_an_auditor_below_a_records_clearance(
    people: People, tmp_path: Path
) -> None:
    """``kho audit export`` writes every event whole (for the offline check): an auditor from
    whom the events of a Mật record are withheld in the listing gets AUDIT_EXPORT_WITHHELD and
    no file, and checks the chain with ``kho audit verify`` instead."""
    from kho_testing import incoming, pdf_bytes

    kho = people.kho
    secret = kho.repo.create_document(
        "den", incoming(secrecy=2), pdf_bytes("mat"), "mat.pdf", people.actor("van_thu")
    )
    assert kho.repo._load(secret.record_id).secrecy == 2
    accounts = kho.accounts
    admin = accounts.get(people.usernames["quan_tri"])
    low, _ = create_person(accounts, "Đinh Văn Soát", "000.00.18.H40", ["kiem_toan"], 0, None, admin)
    runner = CliRunner()
    login = runner.invoke(main, ["login", low.username, "--password-stdin"], input=PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    out = tmp_path / "export"
    refused = runner.invoke(main, ["audit", "export", str(out)])
    assert refused.exit_code != 0 and "AUDIT_EXPORT_WITHHELD" in refused.output, refused.output
    assert not (out / "events.jsonl").exists()
    assert runner.invoke(main, ["audit", "verify", "--json"]).exit_code == 0
