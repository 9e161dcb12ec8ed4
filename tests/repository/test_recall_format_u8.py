"""The recall format's ``run`` field (u7) came with no version bump (u8 bumps it to 2): objects
of both versions are read by Kho's readers, by fsck's format check (which did not open recalls
at all) and after a backup and restore; a version newer than this code is named by fsck."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kho_testing import BACKENDS, make_store, new_repository

from kho.errors import FormatUnsupported
from repository import formats
from repository.fsck import check_formats
from repository.records import Repository
from repository.storage.local import LocalStore
from retention.backup import backup, restore, store_hashes
from retention.workflow import Versions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
OLD = "1122334455667788"  # tests/fixtures/formats/v0/recall/recall.json: version 1, no run
NEW = "5f0c2a9e7d31b486"


def _recalls(repo: Repository) -> Versions:
    return Versions(repo.store, "recalls", formats.RECALL.name, "lệnh thu hồi")


def _both(repo: Repository) -> None:
    """A recall written by the code before (version 1, the stored fixture's bytes) and one
    written now."""
    old = (FIXTURES / "v0" / "recall" / "recall.json").read_bytes()
    repo.store.put_if_absent(f"retention/recalls/{OLD}/v000001", old)
    new = json.loads((FIXTURES / "v2" / "recall" / "recall.json").read_text())
    new.pop(formats.FORMAT_KEY)
    new.pop("version")
    _recalls(repo).write(NEW, new, expected=0)


def _read_both(repo: Repository) -> None:
    recalls = _recalls(repo)
    old, new = recalls.latest(OLD), recalls.latest(NEW)
    assert (old["state"], old["run"], old["direction"]) == ("recorded", None, "di")
    assert new["run"] == {"at": "2027-03-02T03:00:00.000000Z", "host": "kho-web-1", "pid": 4242}
    stored = json.loads(repo.store.get(f"retention/recalls/{NEW}/v000001"))
    assert stored[formats.FORMAT_KEY] == 2 == formats.RECALL.current


@pytest.mark.parametrize("backend", BACKENDS)
def test_recalls_of_both_versions_are_read_and_checked_by_fsck(backend: str, tmp_path: Path) -> None:
    repo = new_repository(make_store(backend, tmp_path, "store"), make_store(backend, tmp_path, "keys"))
    _both(repo)
    _read_both(repo)
    assert [i for i in check_formats(repo) if "recalls" in i.subject] == []
    newer = {**json.loads((FIXTURES / "v2" / "recall" / "recall.json").read_text()), formats.FORMAT_KEY: 3}
    repo.store.put_if_absent("retention/recalls/0000aaaa0000bbbb/v000001", json.dumps(newer).encode())
    with pytest.raises(FormatUnsupported):
        _recalls(repo).latest("0000aaaa0000bbbb")
    [issue] = [i for i in check_formats(repo) if "recalls" in i.subject]
    assert (issue.kind, issue.subject) == ("format", "retention/recalls/0000aaaa0000bbbb/v000001")
    assert formats.RECALL.label in issue.message and "FORMAT_UNSUPPORTED" in issue.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_recalls_of_both_versions_survive_a_backup_and_restore(backend: str, tmp_path: Path) -> None:
    repo = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    _both(repo)
    before = store_hashes(repo.store)
    target = make_store(backend, tmp_path, "backup")
    backup(repo.store, target, label="store")
    shutil.rmtree(tmp_path / "store")
    fresh = new_repository(LocalStore(tmp_path / "store"), LocalStore(tmp_path / "keys"))
    restore(target, fresh.store, label="store")
    assert store_hashes(fresh.store) == before
    _read_both(fresh)
    assert [i for i in check_formats(fresh) if "recalls" in i.subject] == []
