"""Review r20 of branch v1 (no look past an act's own events after a conditional witness replace;
the companion bucket checked to honour ``If-None-Match``/``If-Match`` when the store opens).

Real local folders and the real Ceph gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from kho_buckets import new_bucket, track
from kho_testing import make_store, s3_options

from kho.errors import ConfigError
from repository.audit import WITNESS_KEY, AuditLog, EventDraft, read_witness
from repository.storage.s3 import S3Store


@pytest.mark.parametrize("backend", ["local", pytest.param("s3", marks=pytest.mark.s3)])
def test_fsck_restore_of_the_witness_moves_on_past_events_written_meanwhile(
    backend: str, tmp_path: Path
) -> None:
    """``kho fsck --repair`` restores a witness lost to a kill at the newest event its check saw;
    events a writer (dead since) appended between that check and the restore are witnessed too:
    the restore keeps its look past its own event although its replace is conditional (v1's
    commit d441e46, which had no test: without it the witness stays at the event fsck saw)."""
    store = make_store(backend, tmp_path, "r20restore")
    log = AuditLog(store)
    first = log.append("w", "a:0")
    later = log.append_many([EventDraft("w", "a:1"), EventDraft("w", "a:2")])  # "meanwhile"
    store.delete(WITNESS_KEY)  # as lost to a kill (the log's first act)
    AuditLog(store).restore_witness(first.seq, first.hash)
    assert read_witness(store)["seq"] == later[-1].seq
    assert AuditLog(store).verify().ok


@pytest.mark.s3
@pytest.mark.parametrize("write", ["audit-act", "put-new"])
def test_a_lazily_opened_store_writes_nothing_before_its_companion_bucket_is_checked(
    tmp_path: Path, write: str
) -> None:
    """Opened with ``create_bucket=False`` where creates are conditional in the data bucket
    (``conditional_create=True``, or a server whose data bucket honours ``If-None-Match``), v1
    checked the companion bucket only at the first pointer write: the act's events (or a
    record's object) were already stored when the witness replace was refused. Refused before
    any write now, as the claims mode already was."""
    other = make_store("s3", tmp_path, "r20ver")  # a versioned bucket: ignores If-None-Match
    assert isinstance(other, S3Store)
    options = s3_options()
    assert options is not None
    bucket = new_bucket("r20lazy", options)
    S3Store(bucket, **options, claims_bucket=track(f"{bucket}-c2", options))  # made, good companion
    store = S3Store(
        bucket, **options, claims_bucket=other.bucket, create_bucket=False, conditional_create=True
    )
    with pytest.raises(ConfigError) as caught:
        if write == "audit-act":
            AuditLog(store).append("w", "x:0")
        else:
            store.put_new("originals/r20/x.bin", b"x")
    assert caught.value.code == "S3_CONDITIONS_IGNORED"
    written = other._client.list_objects(bucket, recursive=True, include_version=True)
    assert [o.object_name for o in written] == []
