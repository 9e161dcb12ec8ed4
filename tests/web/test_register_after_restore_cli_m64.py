"""m64: after ``kho restore`` of a backup cut (its log gives numbers its register does not hold),
the next document takes the number past them, and ``kho restore``, ``kho register list`` and
``kho fsck`` (text and ``--json``) tell the văn thư, in Vietnamese, why those numbers are
missing; the ``backup:restore`` event names them. fsck stays clean (exit 0): a note, not a fault."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People
from kho_testing import AGENCY, CLERK, incoming

from kho.config import Settings
from repository.audit import EventDraft
from repository.records import new_record_id
from repository.registers import register_prefix
from repository.service import open_repository
from web.cli import main

SAID = "số đã cấp trước khi sao lưu, văn bản không có trong bản sao"


def test_kho_restore_register_list_and_fsck_say_why_numbers_are_missing(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> None:
    runner = CliRunner()
    usb, keys = tmp_path / "usb", tmp_path / "keys-backup"
    monkeypatch.setenv("KHO_BACKUP_URLS", usb.as_uri())
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", keys.as_uri())
    data = Path(env["KHO_DATA_DIR"])
    repo = open_repository(Settings.from_env())
    made = [repo.create_document("den", incoming(code_number=f"{n}"), None, None, CLERK) for n in (1, 2)]
    assert made[1].registration is not None
    year = made[1].registration.year
    ghosts = [new_record_id(), new_record_id()]
    for number, ghost in zip((3, 4), ghosts, strict=True):  # the cut: the log's events, no entry
        details = {"series": "den", "year": year, "number": number, "organ_id": AGENCY}
        assign = EventDraft("vanthu", "register:assign", record_id=ghost, version=1, details=details)
        repo.audit.append_many([assign])
    backed = runner.invoke(main, ["backup", "--json"])
    assert backed.exit_code == 0, backed.output

    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri()])
    assert done.exit_code == 0, done.output
    assert SAID in done.stderr and "03–04" in done.stderr and "sổ tiếp tục từ số 05" in done.stderr
    restored = open_repository(Settings.from_env())
    event = next(e for e in restored.audit.events() if e.action == "backup:restore")
    prefix = register_prefix(AGENCY, year, "den")
    assert event.details["numbers_lost_in_backup"] == [{"register": prefix, "numbers": [3, 4], "next": 5}]
    taken = restored.create_document("den", incoming(code_number="9"), None, None, CLERK)
    assert taken.registration is not None and taken.registration.number == 5  # before m64: 03

    login = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    listed = runner.invoke(main, ["register", "list", "--series", "den", "--year", str(year)])
    assert listed.exit_code == 0, listed.output
    assert "Ghi chú:" in listed.output and SAID in listed.output and "03–04" in listed.output
    assert all(ghost in listed.output for ghost in ghosts)

    checked = runner.invoke(main, ["fsck"])
    assert checked.exit_code == 0, checked.output
    assert "Kho nhất quán." in checked.output
    assert f"Ghi chú [register-numbers-lost-in-backup] {prefix}:" in checked.output and SAID in checked.output
    as_json = json.loads(runner.invoke(main, ["fsck", "--json"]).stdout)
    assert as_json["clean"] and as_json["issues"] == []
    [note] = as_json["notes"]
    assert note["kind"] == "register-numbers-lost-in-backup" and note["details"]["numbers"] == [3, 4]
    assert [r["record_id"] for r in note["details"]["records"]] == ghosts
