"""A record read through its listing (s28, issue #14): no GET of a version this process holds.

``Repository._load`` listed a record's versions and then sent a GET of the newest one at every
read (every search hit, every document page), also when this process had read those exact bytes
before. Now the newest is read with :meth:`ObjectStore.get_listed`: on S3 the bytes kept under
the listing's ETag answer, and any change of the object gives it another ETag. The guards below
write behind a warm repository, as another process or someone with the store's credentials can
(a second ``Repository`` on new store objects of the same buckets, or the raw gateway / folder),
and check that its next read gives what a repository that never read the record gives (a cold
one, opened now): a version rewritten in place (same size), rolled back to older bytes, deleted,
a new version written by another process, a record destroyed. On both backends.

Counts are of the HTTP requests this process sends to the real Ceph gateway."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from kho_counting import named_requests
from kho_testing import BACKENDS, CLERK, incoming, new_repository, store_url
from minio import Minio

from kho.errors import KhoError
from repository import keys as keys_module
from repository.records import Actor, Repository, version_key
from repository.storage import open_store

ARCHIVIST = Actor(user="system:retention", source="test", system=True)
DECISION = "Quyết định số 12/QĐ-UBND ngày 20/11/2026"

Opener = Callable[[], Repository]


class Site:
    """Two buckets (or folders) and a way to open a repository on them, as a new process does;
    ``raw``: writes to the data store that go around Kho (the gateway itself, the folder)."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.data = store_url(backend, tmp_path, "store")
        self.keys = store_url(backend, tmp_path, "keys")

    def open(self) -> Repository:
        data, keys = self.data, self.keys
        return new_repository(open_store(data[0], **data[1]), open_store(keys[0], **keys[1]))

    def put_raw(self, key: str, data: bytes) -> str | None:
        """Write ``data`` over ``key`` behind Kho; the S3 version id written (None: local)."""
        url = self.data[0]
        if self.backend == "local":
            (Path(urlsplit(url).path) / "objects" / key).write_bytes(data)
            return None
        written = self._client().put_object(urlsplit(url).netloc, key, io.BytesIO(data), len(data))
        return str(written.version_id)

    def remove_raw(self, key: str, version_id: str | None = None) -> None:
        """Remove ``key`` (on S3 one version of it, when given) behind Kho."""
        url = self.data[0]
        if self.backend == "local":
            (Path(urlsplit(url).path) / "objects" / key).unlink()
            return
        self._client().remove_object(urlsplit(url).netloc, key, version_id=version_id)

    def _client(self) -> Minio:
        options: dict[str, Any] = self.data[1]
        return Minio(
            str(options["endpoint"]),
            access_key=str(options["access_key"]),
            secret_key=str(options["secret_key"]),
            secure=False,
        )


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Site:
    return Site(request.param, tmp_path)


def _outcome(repo: Repository, record_id: str) -> tuple[Any, ...]:
    """What a read of the record's newest version gives: its version, state and trích yếu, or
    the error's code (a read never ends in anything else)."""
    try:
        record = repo._load(record_id)
    except KhoError as exc:
        return ("error", exc.code)
    subject = record.metadata.subject if record.metadata is not None else None
    return ("record", record.version, record.state, subject)


def _warm(site: Site) -> tuple[Repository, str]:
    """A repository that has read a record once (its version's bytes kept, on S3)."""
    warm = site.open()
    record_id = warm.create_document("den", incoming(code_number="2801"), None, None, CLERK).record_id
    warm._load(record_id)
    warm._load(record_id)
    return warm, record_id


def _same_as_cold(site: Site, warm: Repository, record_id: str) -> tuple[Any, ...]:
    """The warm repository's next read, which must be a cold one's (a process that never read
    the record: what a GET of the object reads)."""
    got = _outcome(warm, record_id)
    assert got == _outcome(site.open(), record_id)
    return got


@pytest.mark.s3
def test_a_record_read_again_sends_its_listing_and_no_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site("s3", tmp_path)
    warm, record_id = _warm(site)
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)  # (the key's recheck: one HEAD, counted)
    named = named_requests(monkeypatch)
    record = warm._load(record_id)
    assert record.record_id == record_id and record.version == 1
    bucket = urlsplit(site.data[0]).netloc
    listed = f"GET {bucket}/prefix=records%2F{record_id}%2Fv"
    assert named.seen.count(listed) == 1, named.seen
    # one GET of records/<id>/v000001 before s28
    assert not [s for s in named.seen if s.startswith(f"GET {bucket}/records/")], named.seen
    # the page's other read of the newest version (opened), from its one listing: no GET either
    named.seen.clear()
    latest, _, _, versions = warm.opened(record_id, actor=CLERK)
    assert (latest.version, versions) == (1, [1])
    assert named.seen.count(listed) == 1, named.seen
    assert not [s for s in named.seen if s.startswith(f"GET {bucket}/records/")], named.seen


def test_a_version_tampered_in_place_with_the_same_size_is_refused_at_the_next_read(site: Site) -> None:
    warm, record_id = _warm(site)
    key = version_key(record_id, 1)
    sealed = warm.store.get(key)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])  # one bit of the ciphertext's tag: same size
    site.put_raw(key, tampered)
    assert _same_as_cold(site, warm, record_id) == ("error", "INTEGRITY_FAILED")


def test_a_version_put_back_to_its_own_bytes_reads_again(site: Site) -> None:
    """Tampered, then rolled back to the genuine bytes (on S3: the tampered version removed, the
    older version current again): read as the store holds it at each read."""
    warm, record_id = _warm(site)
    key = version_key(record_id, 1)
    sealed = warm.store.get(key)
    written = site.put_raw(key, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    assert _same_as_cold(site, warm, record_id) == ("error", "INTEGRITY_FAILED")
    if written is None:
        site.put_raw(key, sealed)
    else:
        site.remove_raw(key, written)
    assert _same_as_cold(site, warm, record_id)[:2] == ("record", 1)


def test_a_newest_version_replaced_by_the_older_one_is_refused_at_the_next_read(site: Site) -> None:
    """A rollback of the record's content: version 1's sealed bytes put over version 2 (each
    version is sealed to its own key name)."""
    warm, record_id = _warm(site)
    warm.update_metadata(record_id, {"subject": "Về việc sửa trích yếu s28"}, expected_version=1, actor=CLERK)
    assert _outcome(warm, record_id) == ("record", 2, "active", "Về việc sửa trích yếu s28")
    site.put_raw(version_key(record_id, 2), warm.store.get(version_key(record_id, 1)))
    assert _same_as_cold(site, warm, record_id) == ("error", "INTEGRITY_FAILED")


def test_a_newest_version_deleted_reads_the_one_before(site: Site) -> None:
    warm, record_id = _warm(site)
    warm.update_metadata(record_id, {"subject": "Về việc sửa trích yếu s28"}, expected_version=1, actor=CLERK)
    assert _outcome(warm, record_id)[:2] == ("record", 2)
    site.remove_raw(version_key(record_id, 2))
    assert _same_as_cold(site, warm, record_id)[:2] == ("record", 1)


def test_a_version_written_by_another_process_is_read_at_the_next_read(site: Site) -> None:
    warm, record_id = _warm(site)
    site.open().update_metadata(
        record_id, {"subject": "Về việc sửa trích yếu s28"}, expected_version=1, actor=CLERK
    )
    assert _same_as_cold(site, warm, record_id) == ("record", 2, "active", "Về việc sửa trích yếu s28")


def test_a_record_destroyed_by_another_process_is_its_tombstone_at_the_next_read(site: Site) -> None:
    warm, record_id = _warm(site)
    site.open().destroy(record_id, decision=DECISION, actor=ARCHIVIST)
    time.sleep(keys_module.KEY_RECHECK_SECONDS + 0.1)  # (another process's cached key: u7's window)
    assert _same_as_cold(site, warm, record_id) == ("record", 1, "destroyed", "[Đã hủy]")
