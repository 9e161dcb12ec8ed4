"""m30: ``kho backup`` gives the key copy what the records copies hold: the key of a young record
none of them holds anything of (its writer in flight, or started after them) is left out, and
the audit event of the key copy says how many."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from click.testing import CliRunner
from kho_people import People

from repository.storage.local import LocalStore
from retention.backup import read_manifest
from web.cli import main


def test_kho_backup_leaves_out_the_key_of_a_record_no_records_copy_holds(
    people: People, env: dict[str, str], tmp_path: Path
) -> None:
    data = Path(env["KHO_DATA_DIR"])
    keys = LocalStore(data / "keys")
    young = f"{int(time.time() * 1000):012x}{os.urandom(6).hex()}"  # a creation in its first step
    keys.put(f"keys/{young}", os.urandom(32))
    held = {info.key for info in keys.list("keys/")} - {f"keys/{young}"}
    media, second, key_place = (tmp_path / name for name in ("usb", "second", "keys-backup"))
    places = ["--to", media.as_uri(), "--to", second.as_uri(), "--keys-to", key_place.as_uri()]
    made = CliRunner().invoke(main, ["backup", *places, "--json"])
    assert made.exit_code == 0, made.output
    results = json.loads(made.output.splitlines()[-1])
    left_out = [(r["label"], r.get("keys_left_out")) for r in results]
    assert left_out == [("store", None), ("store", None), ("keys", 1)]
    copied = {entry["key"] for entry in read_manifest(LocalStore(key_place))["objects"]}
    assert f"keys/{young}" not in copied
    assert held <= copied
