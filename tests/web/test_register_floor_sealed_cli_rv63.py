"""rv63: with KHO_MASTER_KEY, ``kho restore`` seals the register floors it writes, and a floor
whose seal does not check (planted by a writer of the store without the key) is not taken as a
restore's: ``kho register list`` shows no "given before the backup" note for it, and ``kho fsck``
names it (``register-floor-unexplained``, exit 1) and the numbers it names are a ``register-gap``
again. Before rv63 the planted floor's note was shown and fsck stayed clean."""

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
from repository.registers import floor_key
from repository.service import open_repository
from web.cli import main

pytestmark = pytest.mark.sealed

SAID = "số đã cấp trước khi sao lưu, văn bản không có trong bản sao"


def test_kho_restore_seals_its_floor_and_a_floor_without_its_seal_is_named(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> None:
    runner = CliRunner()
    usb, keys = tmp_path / "usb", tmp_path / "keys-backup"
    monkeypatch.setenv("KHO_BACKUP_URLS", usb.as_uri())
    monkeypatch.setenv("KHO_BACKUP_KEYS_URL", keys.as_uri())
    data = Path(env["KHO_DATA_DIR"])
    repo = open_repository(Settings.from_env())
    assert repo.audit.sealer.active
    made = [repo.create_document("den", incoming(code_number=f"{n}"), None, None, CLERK) for n in (1, 2)]
    assert made[1].registration is not None
    year = made[1].registration.year
    details = {"series": "den", "year": year, "number": 3, "organ_id": AGENCY}
    repo.audit.append_many([EventDraft("vanthu", "register:assign", record_id=new_record_id(), version=1,
                                       details=details)])
    backed = runner.invoke(main, ["backup", "--json"])
    assert backed.exit_code == 0, backed.output
    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", usb.as_uri(), "--keys-from", keys.as_uri()])
    assert done.exit_code == 0, done.output

    restored = open_repository(Settings.from_env())
    key = floor_key(AGENCY, year, "den")
    stored = json.loads(restored.store.get(key))
    assert isinstance(stored.get("seal"), str)  # kho restore sealed it (its sealer is the installation's)
    login = runner.invoke(
        main, ["login", people.usernames["van_thu"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0, login.output
    listed = runner.invoke(main, ["register", "list", "--series", "den", "--year", str(year)])
    assert listed.exit_code == 0 and SAID in listed.output, listed.output
    checked = runner.invoke(main, ["fsck"])
    assert checked.exit_code == 0, checked.output

    # A writer of the store without the key rewrites it (the seal dropped): no longer a restore's.
    restored.store.put(key, json.dumps({k: v for k, v in stored.items() if k != "seal"}).encode())
    listed = runner.invoke(main, ["register", "list", "--series", "den", "--year", str(year)])
    assert listed.exit_code == 0, listed.output
    assert SAID not in listed.output and "Ghi chú:" not in listed.output
    as_json = json.loads(runner.invoke(main, ["fsck", "--json"]).stdout)
    kinds = {i["kind"]: i for i in as_json["issues"]}
    assert kinds["register-floor-unexplained"]["subject"] == key
    assert "register-gap" not in kinds  # 03 is past the newest entry (02): no gap, the floor only
    assert runner.invoke(main, ["fsck"]).exit_code == 1
