"""rv5: a restore that has replaced the store is audited even when a later step fails: the key
store's restore, or the index that cannot be rebuilt (Elasticsearch down, the index disk full).
The ``backup:restore`` event was appended only after every step: a failing one left the
rolled-back store with no event, and so no record of the reason given with
``--accept-older-history``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from kho_backups import RolledBack, newest_copies_removed, wipe
from kho_people import People

import ingest.indexing
import retention.backup
from kho.config import Settings
from kho.errors import BackupError, StoreUnavailable
from repository.audit import AuditLog
from repository.service import open_repository
from repository.storage import open_store
from web.cli import main


@pytest.fixture
def copies(
    people: People,
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    audit_signing_key: Path,
) -> RolledBack:
    """Two copies with a registration between them, the newest removed by their holder."""
    return newest_copies_removed(tmp_path, monkeypatch)


def test_a_restore_whose_reindex_fails_is_still_audited_with_its_reason(
    copies: RolledBack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wipe(env)
    rebuilt: list[int] = []

    def index_down(*args: object, **kwargs: object) -> object:
        rebuilt.append(1)
        raise StoreUnavailable("Không kết nối được chỉ mục tìm kiếm.", code="SEARCH_INDEX_UNAVAILABLE")

    monkeypatch.setattr(ingest.indexing, "reindex_all", index_down)
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = CliRunner().invoke(main, ["restore", "--from", copies.store_url, "--keys-from",
                                     copies.keys_url, "--accept-older-history", reason])
    assert done.exit_code != 0 and "SEARCH_INDEX_UNAVAILABLE" in done.output, done.output
    assert rebuilt  # the store and keys were restored; the index failed after them
    restored = open_repository(Settings.from_env())
    events = [e for e in restored.audit.events() if e.action == "backup:restore"]
    assert len(events) == 1, [e.action for e in restored.audit.events()][-5:]
    assert events[0].details["history_override"] == reason
    assert events[0].details["history_findings"]
    assert events[0].details["indexed"] is None
    assert events[0].details["failed_step"] == "index"
    assert events[0].details["error"] == "SEARCH_INDEX_UNAVAILABLE"


def test_a_restore_whose_key_store_fails_after_the_store_is_still_audited(
    copies: RolledBack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wipe(env)
    real_restore = retention.backup.restore
    labels: list[str | None] = []

    def keys_fail(*args: object, **kwargs: object) -> object:
        labels.append(kwargs.get("label"))  # type: ignore[arg-type]
        if kwargs.get("label") == "keys":
            raise BackupError("Thiếu bản sao của khóa; không khôi phục.", code="BACKUP_INVALID")
        return real_restore(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retention.backup, "restore", keys_fail)
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = CliRunner().invoke(main, ["restore", "--from", copies.store_url, "--keys-from",
                                     copies.keys_url, "--accept-older-history", reason])
    assert done.exit_code != 0 and "BACKUP_INVALID" in done.output, done.output
    assert labels == ["store", "keys"]
    settings = Settings.from_env()
    # The keys were not restored: the repository refuses to start on a key store that is not
    # there (u9/rv9, KEYSTORE_MISSING) instead of making an empty one; the restore's event is
    # read from the restored store's audit log, which needs no key.
    with pytest.raises(StoreUnavailable) as refused:
        open_repository(settings)
    assert refused.value.details["reason"] == "KEYSTORE_MISSING"
    audit = AuditLog(open_store(settings.store_url, **settings.store_options()))
    events = [e for e in audit.events() if e.action == "backup:restore"]
    assert len(events) == 1, [e.action for e in audit.events()][-5:]
    assert events[0].details["history_override"] == reason
    assert events[0].details["failed_step"] == "keys"
    assert events[0].details["error"] == "BACKUP_INVALID"
    assert events[0].details["indexed"] is None


def test_a_restore_interrupted_during_its_reindex_is_still_audited(
    copies: RolledBack, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the index of a large store is rebuilt, after the store was replaced."""
    wipe(env)

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest.indexing, "reindex_all", interrupted)
    reason = "Cháy phòng máy, không còn bản sao nào mới hơn"
    done = CliRunner().invoke(main, ["restore", "--from", copies.store_url, "--keys-from",
                                     copies.keys_url, "--accept-older-history", reason])
    assert done.exit_code != 0, done.output  # (click: "Aborted!")
    restored = open_repository(Settings.from_env())
    events = [e for e in restored.audit.events() if e.action == "backup:restore"]
    assert len(events) == 1 and events[0].details["history_override"] == reason
    assert events[0].details["failed_step"] == "index"
    assert events[0].details["error"] == "KeyboardInterrupt"
