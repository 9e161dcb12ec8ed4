"""Object storage behind one small interface, with two backends.

* :class:`~repository.storage.local.LocalStore` — a folder (embedded default);
* :class:`~repository.storage.s3.S3Store` — any S3 server through the ``minio`` client
  (MinIO in production, Ceph RGW in the tests).

Both pass ``tests/contract/test_object_store.py``. The store never rewrites an object in
place: :meth:`ObjectStore.put_if_absent` is the way to create, and every higher-level
invariant (immutable originals, gapless registers, the audit chain, version conflicts) is
built on it. :meth:`ObjectStore.put_new` creates a key no other writer can race for (under a
record id its writer has just made): the same on a local folder, one PUT without a claim on
S3 servers that need claims.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repository.storage.base import ObjectInfo, ObjectStore, Retention

if TYPE_CHECKING:
    from repository.storage.overlap import OverlapPolicy

__all__ = ["ObjectInfo", "ObjectStore", "Retention", "open_store"]


def open_store(url: str, **options: object) -> ObjectStore:
    """Open a store from a URL: ``file:///path`` / a plain path, or ``s3://bucket``.

    S3 options (``endpoint``, ``access_key``, ``secret_key``, ``secure``, ``region``,
    ``object_lock``) come from the configuration.
    """
    if url.startswith("s3://"):
        from repository.storage.s3 import S3Store

        s3_options = {k: v for k, v in options.items() if k not in _LOCAL_ONLY and v not in (None, "")}
        return S3Store.from_url(url, **s3_options)  # type: ignore[arg-type]
    from repository.storage.local import LocalStore

    path = url.removeprefix("file://")
    if not path.startswith("/") or "://" in path:
        # An empty or relative place is the current folder of whichever process opens it (a
        # backup "--to ''" copied the whole store there); another scheme became a folder named
        # after it. Neither is what anyone meant.
        from kho.errors import ConfigError

        raise ConfigError(
            f"Địa chỉ kho hoặc nơi sao lưu “{url}” không hợp lệ: dùng file:///đường/dẫn/tuyệt/đối"
            " hoặc s3://tên-bucket.",
            url=url,
        )
    return LocalStore(path, fsync=bool(options.get("fsync", True)), overlap=_overlap(options))


_LOCAL_ONLY = frozenset({"fsync", "overlap_sync_seconds", "overlap_idle_cores"})
"""The options of a local folder only (``Settings.store_options``): an S3 store takes none."""


def _overlap(options: dict[str, object]) -> OverlapPolicy | None:
    """The overlap thresholds among ``options`` (None: the store's default)."""
    from repository.storage.overlap import OverlapPolicy

    sync, idle = options.get("overlap_sync_seconds"), options.get("overlap_idle_cores")
    if not isinstance(sync, float | int) or not isinstance(idle, float | int):
        return None
    return OverlapPolicy(sync_seconds=float(sync), idle_cores=float(idle))
