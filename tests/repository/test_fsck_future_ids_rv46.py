"""Review rv46, attack on fsck's in-flight grace (rv44's open list): a record id's first 12 hex
digits are the milliseconds of the clock that minted it, and fsck leaves a creation's objects
alone while the id is younger than the grace plus the clock skew a live writer may have
(:data:`~kho.process.CLOCK_SKEW_SECONDS`). An id dated *ahead* of this clock counted as young
whatever the date: a writer of the store (no seal key, no host witness) who leaves a marker, a
key or an original under an id dated in 2100 had them never reported nor cleaned by ``kho fsck``
(``uncommitted``, ``key-orphan``) — while a claim dated that far ahead is already read as forged
(r33). Now an id dated further ahead than the skew is past the grace, as such a claim is; a
creation of a live writer (an id of now, and one dated ahead within the skew) is still left
alone. The states are written with the repository's own objects, as a creation that stopped
leaves them (``test_marker_not_first_m24``). Local folder and the real S3 gateway."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from kho_testing import BACKENDS, CLERK, incoming, make_store, new_repository, pdf_bytes

from kho.process import CLOCK_SKEW_SECONDS
from repository.fsck import fsck
from repository.records import Record, Repository, content_key
from repository.registers import register_prefix
from repository.storage.group import NewObject, write_group

YEAR_2100_MS = 4_102_444_800_000


def _id_at(millis: int) -> str:
    return f"{millis:012x}{os.urandom(6).hex()}"


def _stopped_creation(repo: Repository, earlier: Record, record_id: str, *, key_only: bool = False) -> None:
    """A creation's first step under ``record_id``: marker, key and original, or the key alone."""
    reg = earlier.registration
    assert reg is not None
    content = pdf_bytes(record_id)
    key_object = repo.keys.new_object(record_id)
    key = content_key(record_id, hashlib.sha256(content).hexdigest())
    objects = [key_object]
    if not key_only:
        objects += [
            repo._marker_object(record_id, "den", register_prefix(reg.organ_id, reg.year, reg.series)),
            NewObject(repo.store, key, repo.keys.seal(record_id, content, key), fresh=True),
        ]
    write_group(objects)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_id_dated_past_the_clock_skew_is_not_in_flight_for_ever(backend: str, tmp_path: Path) -> None:
    store, keys = make_store(backend, tmp_path, "rv46f"), make_store(backend, tmp_path, "rv46fk")
    repo = new_repository(store, keys)
    earlier = repo.create_document("den", incoming(code_number="4601"), pdf_bytes("a"), "a.pdf", CLERK)
    now_ms = int(time.time() * 1000)
    forged, forged_key = _id_at(YEAR_2100_MS), _id_at(YEAR_2100_MS + 1)
    live, live_ahead = _id_at(now_ms), _id_at(now_ms + int(CLOCK_SKEW_SECONDS * 1000) // 2)
    _stopped_creation(repo, earlier, forged)
    _stopped_creation(repo, earlier, forged_key, key_only=True)
    _stopped_creation(repo, earlier, live)
    _stopped_creation(repo, earlier, live_ahead)
    found = fsck(new_repository(store, keys))  # the default grace: writers may be live
    kinds = {rid: sorted(i.kind for i in found.issues if rid in i.subject) for rid in (forged, forged_key)}
    assert kinds == {forged: ["uncommitted"], forged_key: ["key-orphan"]}, found.issues
    assert not [i for i in found.issues if live in i.subject or live_ahead in i.subject], found.issues
    fsck(new_repository(store, keys), repair=True)
    assert not keys.exists(f"keys/{forged}") and not keys.exists(f"keys/{forged_key}")
    assert keys.exists(f"keys/{live}") and keys.exists(f"keys/{live_ahead}")  # a live writer's: kept
    assert next(iter(store.list(f"records/{forged}/")), None) is None
