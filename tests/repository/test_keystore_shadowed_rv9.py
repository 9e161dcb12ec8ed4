"""Review rv9 of u9's key-store start-up refusal (``KEYSTORE_MISSING``).

u9 took a key-store folder holding an ``objects`` folder for a key store. A mount point on which
Kho ran once before its disk was first mounted (an installation step, a ``kho`` command run
before ``/etc/fstab`` mounted the disk) holds the empty ``objects``, ``versions``, ``meta`` and
``tmp`` folders that run made, hidden under the disk while it is mounted: when the disk is not
mounted, u9 let Kho start on them, every record read as destroyed and new records' keys went to
the wrong disk, the very split u9 meant to prevent. A key store that has held one key is never
empty again (the local store leaves a key's folder when the key is destroyed), so an empty
``objects`` folder while the content store holds records is refused too; a Kho with accounts and
no record yet, or whose only key was destroyed, still starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kho_people import make_people
from kho_retention import kho_env, s3_env
from kho_testing import incoming, pdf_bytes

from kho.config import Settings
from kho.errors import StoreUnavailable
from web.context import Kho

LAYOUT = ("objects", "versions", "meta", "tmp")
"""The folders a local store makes at its root (``LocalStore.__init__``)."""


def _env(tmp_path: Path, where: str) -> dict[str, str]:
    if where == "local":
        return kho_env(tmp_path)
    # Records on S3, keys in a local folder (a mounted disk).
    return {**s3_env(tmp_path), "KHO_KEYSTORE_URL": f"file://{tmp_path / 'kho' / 'keys'}"}


def _kho_with_a_record(env: dict[str, str]) -> str:
    kho = Kho(Settings.from_env(env), follow_index=False)
    try:
        people = make_people(kho)
        doc = kho.repo.create_document(
            "den", incoming(code_number="921"), pdf_bytes("rv9"), "cv.pdf", people.actor("van_thu")
        )
    finally:
        kho.close()
    return doc.record_id


@pytest.mark.parametrize("where", ["local", "s3"])
def test_an_unmounted_key_disk_over_the_folders_of_an_earlier_start_is_refused(
    tmp_path: Path, where: str
) -> None:
    env = _env(tmp_path, where)
    keys = tmp_path / "kho" / "keys"
    record_id = _kho_with_a_record(env)
    real = keys.with_name("keys-disk")
    keys.rename(real)
    for sub in LAYOUT:  # what a start before the disk was mounted left under the mount point
        (keys / sub).mkdir(parents=True)
    settings = Settings.from_env(env)

    with pytest.raises(StoreUnavailable) as refused:
        Kho(settings, follow_index=False)
    assert refused.value.details["reason"] == "KEYSTORE_MISSING"
    assert str(keys) in refused.value.message
    assert sorted(p.name for p in keys.iterdir()) == sorted(LAYOUT)
    assert all(not any((keys / sub).iterdir()) for sub in LAYOUT)  # nothing written there

    shutil.rmtree(keys)
    real.rename(keys)  # the disk mounted again
    kho = Kho(settings, follow_index=False)
    try:
        assert kho.repo.keys.exists(record_id)
    finally:
        kho.close()


def test_a_kho_with_accounts_and_no_record_yet_still_starts(tmp_path: Path) -> None:
    env = kho_env(tmp_path)
    kho = Kho(Settings.from_env(env), follow_index=False)
    make_people(kho)  # accounts, units and their audit events; no record, no key
    kho.close()
    assert not any((tmp_path / "kho" / "keys" / "objects").iterdir())
    Kho(Settings.from_env(env), follow_index=False).close()


def test_a_kho_whose_only_key_was_destroyed_still_starts(tmp_path: Path) -> None:
    env = kho_env(tmp_path)
    record_id = _kho_with_a_record(env)
    kho = Kho(Settings.from_env(env), follow_index=False)
    kho.repo.keys.destroy(record_id)  # crypto-shredding: the record's key is gone
    kho.close()
    Kho(Settings.from_env(env), follow_index=False).close()


def test_the_way_out_the_refusal_names_lets_an_operator_start_on_a_new_key_store(tmp_path: Path) -> None:
    """Keys restored to a new place on purpose: the folder the message names, made by hand."""
    env = kho_env(tmp_path)
    _kho_with_a_record(env)
    keys = tmp_path / "kho" / "keys"
    shutil.rmtree(keys)
    with pytest.raises(StoreUnavailable) as refused:
        Kho(Settings.from_env(env), follow_index=False)
    named = keys / "objects" / "keys"
    assert f"“{named}”" in refused.value.message
    named.mkdir(parents=True)
    Kho(Settings.from_env(env), follow_index=False).close()
