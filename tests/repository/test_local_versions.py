"""Local store version archive: one lookup per version, earlier archive names still read."""

from __future__ import annotations

import os
from pathlib import Path

from repository.storage.local import LocalStore


def test_many_puts_keep_every_version_once_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", fsync=False)
    key = "audit/witness.json"
    ids = [store.put_if_absent(key, b"0").version_id]
    for i in range(1, 60):
        ids.append(store.put(key, str(i).encode()).version_id)
    versions = store.list_versions(key)
    assert [v.version_id for v in versions] == ids
    assert store.get(key, version_id=ids[0]) == b"0"
    assert store.get(key, version_id=ids[30]) == b"30"
    assert len(list((tmp_path / "store" / "versions" / key).iterdir())) == 59


def test_archive_written_under_an_earlier_name_is_still_found(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store", fsync=False)
    key = "records/x/head.json"
    first = store.put_if_absent(key, b"first").version_id
    store.put(key, b"second")
    vdir = tmp_path / "store" / "versions" / key
    (archived,) = list(vdir.iterdir())
    os.rename(archived, vdir / f"{12345:020d}_{first}")  # the name an older release gave it
    assert store.get(key, version_id=first) == b"first"
    assert store.list_versions(key)[0].version_id == first
