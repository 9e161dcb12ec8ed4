"""A claim left by a writer killed on another machine between its claim of a key and the key's
data (S3 claims mode), and the audit log's next key and chain around it (s19's tests)."""

from __future__ import annotations

import json
from typing import Any

from repository.audit import EVENTS_PREFIX, event_key, key_seq, parse_object
from repository.storage.base import ObjectStore


def plant_dead_claim(store: ObjectStore, key: str) -> None:
    """The state a writer on another machine leaves when killed after its claim of ``key`` was
    stored and before the PUT of its data was sent (as rv43's register test plants it)."""
    assert store.create_mode == "claims", "needs an S3 server that claims in a companion bucket"  # type: ignore[attr-defined]
    body = json.dumps({"writer": "w", "pid": 4242, "host": "another-machine", "at": 0}).encode()
    store._put_raw(store.claims_bucket, "claims/" + key, body, {"If-None-Match": "*"})  # type: ignore[attr-defined]


def claim_held(store: ObjectStore, name: str) -> bool:
    """Whether the companion bucket holds ``name`` (``claims/<key>``, a pointer's place) on an S3
    store in the claims mode."""
    from minio.error import S3Error

    try:
        store._client.stat_object(store.claims_bucket, name)  # type: ignore[attr-defined]
    except S3Error as exc:
        if exc.code == "NoSuchKey":
            return False
        raise
    return True


def next_event_key(store: ObjectStore) -> str:
    """The key the log's next append writes (after the newest object)."""
    newest = None
    for info in store.list(EVENTS_PREFIX):
        newest = info.key
    assert newest is not None
    return event_key(key_seq(newest) + len(parse_object(store.get(newest))))


def chained_at(store: ObjectStore, key: str) -> None:
    """The object at ``key`` is chained after the object before it (no hole)."""
    seq = key_seq(key)
    before = [info.key for info in store.list(EVENTS_PREFIX) if key_seq(info.key) < seq][-1]
    previous = parse_object(store.get(before))
    assert key_seq(before) + len(previous) == seq
    assert parse_object(store.get(key))[0].prev == previous[-1].hash


Outcome = tuple[int, str, str]


def store_same_files(args: tuple[str, dict[str, Any], str, dict[str, Any], int]) -> list[Outcome]:
    """Worker of m43's two-writers test (importable by spawned processes): stores files
    ``0 .. count - 1`` (the same bytes in every worker), each ``(n, "made" | "duplicate",
    record id)`` — a duplicate names the record that holds the file."""
    from kho_testing import CLERK, new_repository, pdf_bytes

    from kho.errors import Duplicate
    from repository.storage import open_store

    url, options, key_url, key_options, count = args
    repo = new_repository(open_store(url, **options), open_store(key_url, **key_options))
    out = []
    for n in range(count):
        try:
            made = repo.create_intake("den", pdf_bytes(f"same file {n}"), f"f{n}.pdf", CLERK)
            out.append((n, "made", made.record_id))
        except Duplicate as exc:
            out.append((n, "duplicate", str(exc.details.get("existing_record_id"))))
    return out


def store_same_documents(
    args: tuple[str, dict[str, Any], str, dict[str, Any], int],
) -> list[tuple[int, str, str, int]]:
    """Worker of rv51's three-writers test (importable by spawned processes): stores documents
    ``0 .. count - 1`` — the same bytes and the same số/ký hiệu in every worker — each ``(n,
    "made" | code of the refusal, record id made or named, register number or 0)``."""
    from kho_testing import CLERK, incoming, new_repository, pdf_bytes

    from kho.errors import KhoError
    from repository.storage import open_store

    url, options, key_url, key_options, count = args
    repo = new_repository(open_store(url, **options), open_store(key_url, **key_options))
    out = []
    for n in range(count):
        try:
            made = repo.create_document(
                "den", incoming(code_number=str(100 + n)), pdf_bytes(f"same doc {n}"), f"d{n}.pdf", CLERK
            )
            number = made.registration.number if made.registration else 0
            out.append((n, "made", made.record_id, number))
        except KhoError as exc:
            out.append((n, exc.code, str(exc.details.get("existing_record_id")), 0))
    return out


def assert_every_create_refused(store: ObjectStore, key: str, family: str) -> None:
    """Every conditional create of ``key`` (a key of a replaced-only ``family``: m53, m56) is
    refused with ``KEY_NEVER_CREATED`` naming the key and its family, and nothing is written."""
    import pytest

    from kho.errors import KeyNeverCreated
    from repository.storage.s3 import S3Store

    creates: list[Any] = [store.put_if_absent, store.put_new, lambda k, d: store.stage(k, d).publish()]
    if isinstance(store, S3Store):
        creates.append(lambda k, d: store.claim_ahead(k))
    for create in creates:
        with pytest.raises(KeyNeverCreated) as refused:
            create(key, b"{}")
        assert refused.value.code == "KEY_NEVER_CREATED"
        assert refused.value.details == {"key": key, "family": family}
    assert not store.exists(key)
