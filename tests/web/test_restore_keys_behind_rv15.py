"""Review rv15 of u11's backup time limit. A scheduled backup copies the store to each
destination, then the key store (``run_backup``); u11's soft/hard limit stops it wherever it is.
Stopped after a store copy's manifest and before the key copy, the store copy is whole and
listed, and ``kho restore`` took the newest store copy with the newest key copy, an older one:
the documents registered between the two had their records restored and no key (the run was
audited BACKUP_TIMEOUT, "không được dùng để khôi phục"). A store copy newer than the key copy is
now refused (``RESTORE_KEYS_BEHIND``) before anything is written, naming the copy to use."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from kho_people import People
from kho_testing import incoming

from kho.config import Settings
from repository.storage.local import LocalStore
from retention.backup import backup, backups, manifest_hashes, read_manifest, store_hashes
from retention.operations import manifest_sealer
from web.cli import main


def test_a_store_copy_newer_than_the_key_copy_is_not_restored(
    people: People, env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    data = Path(env["KHO_DATA_DIR"])
    media, keys = (f"file://{tmp_path / name}" for name in ("usb", "keys-backup"))
    clerk = people.actor("van_thu")
    people.kho.repo.create_document("den", incoming(code_number="91"), None, None, clerk)
    made = runner.invoke(main, ["backup", "--to", media, "--keys-to", keys])
    assert made.exit_code == 0, made.output
    [whole] = backups(LocalStore(tmp_path / "usb"), "store")
    late = people.kho.repo.create_document("den", incoming(code_number="92"), None, None, clerk)
    # What the next run leaves when its time limit stops it after the store copy: that copy
    # whole (its manifest written, sealed), the key copy not made.
    cut = backup(
        people.kho.repo.store, LocalStore(tmp_path / "usb"), sealer=manifest_sealer(Settings.from_env())
    )
    key_copy = read_manifest(LocalStore(tmp_path / "keys-backup"), label="keys")
    assert set(store_hashes(LocalStore(data / "keys"))) - set(manifest_hashes(key_copy))  # 92's key
    before = _records(data)

    refused = runner.invoke(main, ["restore", "--from", media, "--keys-from", keys, "--force"])
    printed = refused.output + (refused.stderr if refused.stderr_bytes is not None else "")
    assert refused.exit_code != 0, printed
    assert (
        "RESTORE_KEYS_BEHIND" in printed
        and whole in printed
        and cut.backup_id in printed
        and f"--id {whole}" in printed
    ), printed
    assert _records(data) == before  # nothing restored (the refusal itself may be audited)
    assert people.kho.repo.get(late.record_id, actor=clerk).record_id == late.record_id

    chosen = runner.invoke(main, ["restore", "--from", media, "--keys-from", keys, "--force", "--id", whole])
    assert chosen.exit_code == 0, chosen.output


def _records(data: Path) -> dict[str, str]:
    return {k: v for k, v in store_hashes(LocalStore(data / "store")).items() if not k.startswith("audit/")}
