"""``kho restore`` obeys the destruction ledgers: a copy older than a destruction, restored
inside the key-backup period, does not bring the record back; without any ledger the restore is
refused unless the operator says ``--without-ledger`` (and the audit event says so)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import CLERK, incoming

from kho.config import Settings
from kho.errors import KeyDestroyed, NotFound
from repository.ledger import LEDGER_PREFIX, index_key
from repository.records import DESTROYED_PLACEHOLDER
from repository.service import open_repository
from repository.storage.local import LocalStore
from web.cli import main, operator_actor


def test_restoring_a_copy_older_than_a_destruction_keeps_the_record_destroyed(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> None:
    runner = CliRunner()
    usb, second, keys = (tmp_path / name for name in ("usb", "second", "keys-backup"))
    monkeypatch.setenv("KHO_BACKUP_URLS", f"{usb.as_uri()},{second.as_uri()}")
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", keys.as_uri())
    data = Path(env["KHO_DATA_DIR"])

    repo = open_repository(Settings.from_env())
    ids = [
        repo.create_document(
            "den", incoming(code_number=f"{n}"), b"%PDF-1.4\n" + bytes([n]) * 400, f"cv{n}.pdf", CLERK
        ).record_id
        for n in (1, 2)
    ]
    made = runner.invoke(main, ["backup", "--json"])  # the nightly copy, before the destruction
    assert made.exit_code == 0, made.output
    for place in (usb, second, keys):  # every destination now carries a ledger (its genesis)
        assert LocalStore(place).exists(f"{LEDGER_PREFIX}000000000000.json")

    open_repository(Settings.from_env()).destroy(ids[0], decision="QĐ 12/QĐ-UBND", actor=operator_actor())
    for place in (usb, second, keys):
        assert LocalStore(place).exists(index_key(ids[0]))
    checked = runner.invoke(main, ["backup", "verify", "--from", usb.as_uri()])
    assert checked.exit_code == 0 and "Sổ tiêu hủy: 2 mục, nguyên vẹn." in checked.output, checked.output

    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri()])
    assert done.exit_code == 0, done.output
    assert "Đã hủy lại 1 bản ghi theo sổ tiêu hủy." in done.output

    restored = open_repository(Settings.from_env())
    assert not restored.keys.exists(ids[0])
    with pytest.raises((KeyDestroyed, NotFound)):
        restored.read_content(ids[0], actor=CLERK)
    row = next(r for r in restored.register("den", 2026, actor=operator_actor()) if r.record_id == ids[0])
    assert row.state == "destroyed" and row.metadata is not None
    assert row.metadata.subject == DESTROYED_PLACEHOLDER  # the "đã hủy" row of the register
    assert restored.read_content(ids[1], actor=CLERK)
    event = next(e for e in restored.audit.events() if e.action == "backup:restore")
    assert event.details["redestroyed_from_ledger"] == [ids[0]]
    assert set(event.details["ledgers_read"]) == {usb.as_uri(), second.as_uri(), keys.as_uri()}
    assert event.details["without_ledger"] is False and event.details["ledger_problems"] == []
    fsck = runner.invoke(main, ["fsck", "--deep"])
    assert fsck.exit_code == 0 and "Kho nhất quán." in fsck.output, fsck.output
    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    audit = runner.invoke(main, ["audit", "verify", "--json"])
    assert json.loads(audit.output)["ok"] is True, audit.output

    # A tampered ledger entry is named by backup verify.
    entry = usb / "objects" / LEDGER_PREFIX / "000000000001.json"
    body = json.loads(entry.read_bytes())
    entry.write_bytes(json.dumps({**body, "decision": "QĐ giả"}, ensure_ascii=False).encode())
    tampered = runner.invoke(main, ["backup", "verify", "--from", usb.as_uri()])
    assert tampered.exit_code == 1 and "bad-signature" in tampered.output, tampered.output


def test_a_restore_without_any_ledger_is_refused_unless_said(
    people: People, env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    usb, keys = tmp_path / "usb", tmp_path / "keys-backup"
    made = runner.invoke(main, ["backup", "--to", usb.as_uri(), "--keys-to", keys.as_uri()])
    assert made.exit_code == 0, made.output
    for place in (usb, keys):  # the ledgers are gone (or the media holding them is away)
        shutil.rmtree(place / "objects" / "ledger")
    data = Path(env["KHO_DATA_DIR"])
    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)

    refused = runner.invoke(main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri()])
    assert refused.exit_code == 2 and "RESTORE_LEDGER_UNREACHABLE" in refused.output, refused.output
    assert "sổ tiêu hủy" in refused.output
    assert not list(LocalStore(data / "store").list("records/"))  # nothing restored

    forced = runner.invoke(
        main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri(), "--without-ledger"]
    )
    assert forced.exit_code == 0, forced.output
    assert "CẢNH BÁO" in forced.output
    repo = open_repository(Settings.from_env())
    event = next(e for e in repo.audit.events() if e.action == "backup:restore")
    assert event.details["without_ledger"] is True and event.details["ledgers_read"] == []
