"""``kho backup``, ``kho backup verify``, ``kho restore``: a restore drill from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kho_people import PASSWORD, People

from kho.errors import KhoError
from repository.storage.local import LocalStore
from retention.backup import store_hashes
from web.cli import main


def test_backup_wipe_restore_from_the_cli(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> None:
    runner = CliRunner()
    data = Path(env["KHO_DATA_DIR"])
    media, second, keys = (f"file://{tmp_path / name}" for name in ("usb", "second", "keys-backup"))

    refused = runner.invoke(main, ["backup", "--to", media])
    assert refused.exit_code == 2 and "BACKUP_TARGET_MISSING" in refused.output
    made = runner.invoke(main, ["backup", "--to", media, "--to", second, "--keys-to", keys, "--json"])
    assert made.exit_code == 0, made.output
    results = json.loads(made.output.splitlines()[-1])
    assert [r["label"] for r in results] == ["store", "store", "keys"]
    before = store_hashes(LocalStore(data / "store"))
    assert runner.invoke(main, ["backup", "verify", "--from", media]).exit_code == 0
    assert runner.invoke(main, ["backup", "verify", "--from", keys, "--label", "keys"]).exit_code == 0
    assert (
        runner.invoke(main, ["backup", "shred-keys", "--from", keys]).exit_code == 0
    )  # nothing destroyed yet

    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", second, "--keys-from", keys])
    assert done.exit_code == 0, done.output
    after = store_hashes(LocalStore(data / "store"))
    changed = {k for k in after if after[k] != before.get(k)}
    # Only the restore's own audit event (and the witness that follows it) are new.
    assert all(k.startswith("audit/") for k in changed) and len(changed) == 2
    assert runner.invoke(main, ["fsck", "--deep"]).exit_code == 0
    monkeypatch.setenv("KHO_CAPACITY_WARN_PERCENT", "1")
    status = runner.invoke(main, ["status", "--json"])
    assert status.exit_code in (0, 1) and json.loads(status.output.splitlines()[-1])[0]["name"] == "store"
    fixity = runner.invoke(main, ["fixity", "--all", "--from", media])
    assert fixity.exit_code == 0 and "hỏng 0" in fixity.output, fixity.output
    login = runner.invoke(
        main, ["login", people.usernames["kiem_toan"], "--password-stdin"], input=PASSWORD + "\n"
    )
    assert login.exit_code == 0
    checked = runner.invoke(main, ["audit", "verify", "--json"])
    assert json.loads(checked.output)["ok"] is True, checked.output
    again = runner.invoke(main, ["restore", "--from", second, "--keys-from", keys])
    assert again.exit_code == 2 and "BACKUP_INVALID" in again.output


@pytest.mark.s3
def test_restore_drill_with_the_demo_data_from_the_second_s3_server(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audit_signing_key: Path
) -> None:
    """The drill CI runs: demo data → backup (movable folder and a write-once bucket of the
    backup account on S3) → wipe → restore from S3 → every object bit-identical, fsck --deep and
    the anchored audit verify clean."""

    from kho_buckets import new_bucket
    from kho_testing import backup_s3_options

    from kho.config import Settings
    from repository.anchor import verify_anchored
    from repository.service import open_repository
    from repository.storage import open_store
    from retention.backup import manifest_hashes, read_manifest

    options = backup_s3_options()
    runner = CliRunner()
    monkeypatch.setenv("KHO_BACKUP_S3_ENDPOINT", options["endpoint"])
    monkeypatch.setenv("KHO_BACKUP_S3_ACCESS_KEY", options["access_key"])
    monkeypatch.setenv("KHO_BACKUP_S3_SECRET_KEY", options["secret_key"])
    monkeypatch.setenv("KHO_S3_SECURE", "false")
    monkeypatch.setenv("KHO_BACKUP_LOCK_DAYS", "1")
    demo = runner.invoke(main, ["demo"])
    assert demo.exit_code == 0, demo.output
    data = Path(env["KHO_DATA_DIR"])
    s3 = f"s3://{new_bucket('drill', options)}"
    media, keys = f"file://{tmp_path / 'usb'}", f"file://{tmp_path / 'keys-backup'}"
    made = runner.invoke(main, ["backup", "--to", media, "--to", s3, "--keys-to", keys, "--json"])
    assert made.exit_code == 0, made.output
    results = json.loads(made.output.splitlines()[-1])
    assert [(r["label"], r["lock_days"]) for r in results] == [("store", 1), ("store", 1), ("keys", 0)]
    before = store_hashes(LocalStore(data / "store"))
    keys_before = store_hashes(LocalStore(data / "keys"))
    assert sum(k.startswith("records/") for k in before) > 5
    assert runner.invoke(main, ["backup", "verify", "--from", s3]).exit_code == 0

    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    done = runner.invoke(main, ["restore", "--from", s3, "--keys-from", keys])
    assert done.exit_code == 0, done.output
    after = store_hashes(LocalStore(data / "store"))
    # The S3 copy is the store as it was (only the audit events of the copies made after it
    # differ), and the restore gives it back bit for bit; new are only the restore's own audit
    # events and the witness that follows them.
    copied = manifest_hashes(read_manifest(open_store(s3, **options), label="store"))
    assert {k for k in copied if before.get(k) != copied[k]} <= {"audit/witness.json"}
    assert {k for k in copied if after.get(k) != copied[k]} == {"audit/witness.json"}
    assert all(k.startswith("audit/events/") for k in set(after) - set(copied))
    assert store_hashes(LocalStore(data / "keys")) == keys_before
    assert runner.invoke(main, ["fsck", "--deep"]).exit_code == 0
    repo = open_repository(Settings.from_env())
    assert verify_anchored(repo.audit, repo.anchor).ok


@pytest.mark.parametrize(
    "argv",
    [
        ["backup", "--to", "", "--keys-to", "{keys}"],
        ["backup", "--to", "usb", "--keys-to", "{keys}"],
        ["backup", "--to", "http://usb.example", "--keys-to", "{keys}"],
        ["backup", "--to", "{usb}", "--keys-to", "file://keys"],
        ["restore", "--from", "", "--keys-from", "{keys}"],
        ["restore", "--from", "{usb}", "--keys-from", "{keys}", "--id", "../../etc/passwd"],
        ["restore", "--from", "{usb}", "--keys-from", "{keys}", "--keys-id", "a/../../b"],
        ["backup", "verify", "--from", "{usb}", "--id", "../x"],
        ["backup", "verify", "--from", "usb"],
        ["backup", "shred-keys", "--from", ""],
        ["fixity", "--all", "--from", "usb"],
    ],
)
def test_a_bad_place_or_backup_id_is_a_clear_error_and_writes_nothing_where_the_command_runs(
    argv: list[str], people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty or relative place (or another scheme) used to be the current folder of the
    process: ``kho backup --to ''`` copied the whole store there. A backup id with a path in it
    ended in a traceback. Each is now refused with its code and a Vietnamese message."""
    runner = CliRunner()
    usb, keys = (tmp_path / "usb").as_uri(), (tmp_path / "keys-backup").as_uri()
    made = runner.invoke(main, ["backup", "--to", usb, "--keys-to", keys])
    assert made.exit_code == 0, made.output
    cwd = tmp_path / "where-the-operator-stands"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    refused = runner.invoke(main, [a.format(usb=usb, keys=keys) for a in argv])
    assert refused.exit_code == 2, (refused.output, refused.exception)
    assert "CONFIG_INVALID" in refused.output or "BACKUP_INVALID" in refused.output, refused.output
    assert "không hợp lệ" in refused.output
    assert list(cwd.iterdir()) == []  # nothing copied or made where the command ran


def test_a_restore_whose_key_backup_is_not_there_writes_nothing(
    people: People, env: dict[str, str], tmp_path: Path
) -> None:
    """The store's copy used to be written before the key backup was looked up: a wrong
    ``--keys-id`` (or a key destination with no backup) left a restored store without its keys."""
    runner = CliRunner()
    data = Path(env["KHO_DATA_DIR"])
    usb, keys = (tmp_path / "usb").as_uri(), (tmp_path / "keys-backup").as_uri()
    assert runner.invoke(main, ["backup", "--to", usb, "--keys-to", keys]).exit_code == 0
    for name in ("store", "keys", "index"):
        shutil.rmtree(data / name, ignore_errors=True)
    wrong_id = ["--keys-from", keys, "--keys-id", "20200101T000000000000Z-keys"]
    for extra in (wrong_id, ["--keys-from", (tmp_path / "empty").as_uri()]):
        refused = runner.invoke(main, ["restore", "--from", usb, *extra])
        assert refused.exit_code == 2 and "BACKUP_INVALID" in refused.output, refused.output
        assert not list(LocalStore(data / "store").list("")), extra  # nothing restored


def test_a_fixity_failure_reaches_the_quan_tri_and_the_archivist(
    people: People, env: dict[str, str], tmp_path: Path
) -> None:
    """A damaged original was only a line in the ``fixity:check`` event: nobody was told. Now
    each active quản trị and lưu trữ viên gets a notification, and ``fixity:alert`` says who."""
    from kho_testing import CLERK, incoming

    from kho.config import Settings
    from repository.records import content_key
    from repository.service import open_accounts, open_repository

    repo = open_repository(Settings.from_env())
    record = repo.create_document("den", incoming(), b"%PDF-1.4\n" + b"z" * 500, "a.pdf", CLERK)
    runner = CliRunner()
    clean = runner.invoke(main, ["fixity", "--all"])
    assert clean.exit_code == 0, clean.output
    accounts = open_accounts(repo, Settings.from_env())
    told = ("quan_tri", "luu_tru")

    def fixity_notes(who: str) -> list[Any]:
        return [n for n in accounts.notifications(people.usernames[who]) if n.kind == "fixity"]

    assert all(fixity_notes(who) == [] for who in told)  # nothing to say

    key = content_key(record.record_id, record.files[0].sha256)
    path = Path(env["KHO_DATA_DIR"]) / "store" / "objects" / key
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x01]))  # same length, one bit
    damaged = runner.invoke(main, ["fixity", "--all"])
    assert damaged.exit_code == 1 and "CHƯA SỬA ĐƯỢC" in damaged.output, damaged.output
    for who in told:
        notes = fixity_notes(who)
        assert len(notes) == 1 and key in notes[0].message, notes
    assert fixity_notes("chuyen_vien") == []
    alert = [e for e in repo.audit.events() if e.action == "fixity:alert"]
    assert len(alert) == 1
    assert set(alert[0].details["notified"]) == {people.usernames[who] for who in told}
    assert alert[0].details["unrepaired"] == [key]


@pytest.mark.parametrize(
    "to, keys_to",
    [
        ("{usb}", "{usb}/"),
        ("{usb}", "{usb}/keys"),
        ("{usb}/store-copy", "{usb}"),
        ("{data}/store", "{keys}"),
        ("{usb}", "{data}/keys/backup"),
        ("s3://kho-copy", "s3://kho-copy/"),
    ],
)
def test_keys_and_content_never_share_a_medium_however_the_place_is_spelt(
    to: str, keys_to: str, people: People, env: dict[str, str], tmp_path: Path
) -> None:
    """The rule compared the two URLs as strings: ``file:///usb`` and ``file:///usb/`` (or a
    folder inside it) put the keys beside the content they open; a copy could also be made
    inside the running store it copies."""
    places = {"usb": (tmp_path / "usb").as_uri(), "keys": (tmp_path / "keys-backup").as_uri(),
              "data": Path(env["KHO_DATA_DIR"]).resolve().as_uri()}
    runner = CliRunner()
    argv = ["backup", "--to", to.format(**places), "--keys-to", keys_to.format(**places)]
    refused = runner.invoke(main, argv)
    assert refused.exit_code == 2 and "BACKUP_TARGET_MISSING" in refused.output, refused.output
    assert not (tmp_path / "usb").exists() and not (tmp_path / "keys-backup").exists()


def test_a_scheduled_backup_that_fails_reaches_the_quan_tri_and_the_archivist(
    people: People, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly backup refused (here: no key-store destination) was a log line and a
    ``backup:failed`` event: nobody was told that there was no copy. Now every active quản trị
    and lưu trữ viên gets a notification, and the event says who."""
    from kho.config import Settings
    from repository.service import open_accounts, open_repository
    from retention.tasks import scheduled_backup

    monkeypatch.setenv("KHO_BACKUP_URLS", (tmp_path / "usb").as_uri())
    monkeypatch.delenv("KHO_BACKUP_KEYS_URL", raising=False)
    assert scheduled_backup() == {"ok": False, "code": "BACKUP_TARGET_MISSING"}
    repo = open_repository(Settings.from_env())
    accounts = open_accounts(repo, Settings.from_env())
    told = {people.usernames[who] for who in ("quan_tri", "luu_tru")}
    for username in told:
        notes = [n for n in accounts.notifications(username) if n.kind == "backup"]
        assert len(notes) == 1 and "BACKUP_TARGET_MISSING" in notes[0].message, notes
    assert not [n for n in accounts.notifications(people.usernames["van_thu"]) if n.kind == "backup"]
    failed = [e for e in repo.audit.events() if e.action == "backup:failed"]
    assert len(failed) == 1 and set(failed[0].details["notified"]) == told


def test_a_bucket_of_the_same_name_on_the_second_backup_server_is_another_place(tmp_path: Path) -> None:
    """The running store's bucket name is one place only on its own server: a copy to the same
    name on the second server (KHO_BACKUP_S3_ENDPOINT) is allowed, on the store's server not."""
    from kho.config import Settings
    from retention.operations import backup_targets

    base = {"KHO_DATA_DIR": str(tmp_path / "kho"), "KHO_STORE_URL": "s3://kho-records",
            "KHO_S3_ENDPOINT": "127.0.0.1:7480"}
    keys = (tmp_path / "keys").as_uri()
    second = Settings.from_env({**base, "KHO_BACKUP_S3_ENDPOINT": "127.0.0.1:7481"})
    assert backup_targets(second, ["s3://kho-records"], keys) == (("s3://kho-records",), keys)
    same = Settings.from_env(base)
    with pytest.raises(KhoError) as refused:
        backup_targets(same, ["s3://kho-records/"], keys)
    assert refused.value.code == "BACKUP_TARGET_MISSING"
