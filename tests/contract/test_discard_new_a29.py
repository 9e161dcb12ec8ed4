"""``ObjectStore.discard_new``: removing what one ``put_new`` made, in one request (a29).

The login limiter (``web.pages.common.LoginLimiter``) now writes a claim for every attempt and
removes it again on every right password and every refusal: with :meth:`ObjectStore.delete` that
was three requests to the S3 gateway (list the key's versions, remove each, remove the companion
claim), on every login. ``discard_new`` removes the one version ``put_new`` made."""

from __future__ import annotations

from typing import Any

import pytest

from kho.errors import RetentionLocked
from repository.storage.base import ObjectStore


def _count_requests(store: ObjectStore) -> list[int]:
    """Requests the S3 store sends from now on (none counted on the local folder)."""
    sent = [0]
    client = getattr(store, "_client", None)
    if client is not None:
        real = client._http.urlopen

        def urlopen(*args: Any, **kwargs: Any) -> Any:
            sent[0] += 1
            return real(*args, **kwargs)

        client._http.urlopen = urlopen
    return sent


def test_discard_new_removes_the_one_version_put_new_made(store: ObjectStore, ns: str) -> None:
    claim = store.put_new(ns + "claims/001-a", b"")
    kept = store.put_new(ns + "claims/001-b", b"")
    sent = _count_requests(store)

    store.discard_new(claim)

    assert sent[0] == (1 if hasattr(store, "_client") else 0)
    assert not store.exists(claim.key)
    assert store.list_versions(claim.key) == []  # nothing left in the key's history either
    assert [info.key for info in store.list(ns + "claims/")] == [kept.key]
    store.discard_new(claim)  # discarding again is not an error
    assert [info.key for info in store.list(ns + "claims/")] == [kept.key]


def test_discard_new_is_refused_under_a_legal_hold(store: ObjectStore, ns: str) -> None:
    made = store.put_new(ns + "held/claim", b"")
    if store.supports_retention:
        store.set_legal_hold(made.key, True)
        with pytest.raises(RetentionLocked):
            store.discard_new(made)
        assert store.exists(made.key)
        store.set_legal_hold(made.key, False)
    store.discard_new(made)
    assert not store.exists(made.key)
