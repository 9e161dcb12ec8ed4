"""Per-record encryption keys, kept apart from the content they protect.

Every record has its own 256-bit data key (AES-256-GCM). Keys live in a separate key store
(another folder or bucket, ``KHO_KEYSTORE_URL``); when a master key is configured
(``KHO_MASTER_KEY``) each data key is stored wrapped by it (AES key wrap, RFC 3394).
Destroying a record's key makes every copy of its content unreadable — backups included —
which is how destruction reaches media Kho cannot rewrite (crypto-shredding).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from kho.errors import AlreadyExists, IntegrityError, KeyDestroyed, KeyUnwrapFailed, NotFound
from repository.storage.base import ObjectStore
from repository.storage.group import NewObject, start_after_fork

_MAGIC = b"KHO1"
_NONCE = 12
KEY_RECHECK_SECONDS = 1.0
"""How long a cached key, once seen in the key store, opens a record's objects without asking
the store again (:meth:`KeyRing.open`): the longest another process may go on reading a record
after its key was destroyed. A page opens several objects of one record within it, so it costs
one existence check (a ``stat``, or one ``HEAD`` on S3) per record a second, not one per object."""


@functools.cache
def _aesgcm() -> Any:
    """AES-GCM, imported on first use (a function-level import on every seal/open would cost
    ~1.7 µs each): a command that reads only unencrypted objects (accounts) starts without
    loading OpenSSL's bindings."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM


class KeyRing:
    """Creates, caches, uses and destroys per-record data keys."""

    def __init__(self, store: ObjectStore, master_key: bytes | None = None, cache_size: int = 4096):
        if master_key is not None and len(master_key) not in (16, 24, 32):
            raise ValueError("master key must be 16, 24 or 32 bytes")
        self.store = store
        self.master_key = master_key
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._confirmed: dict[str, float] = {}
        """When (``time.monotonic``) each cached key was last seen in the store by :meth:`open`."""
        self._lock = threading.Lock()
        start_after_fork(self)

    def _start_after_fork(self) -> None:
        """In the child of a ``fork`` (``storage.group.start_after_fork``): a new lock (one held
        by another thread of the parent at the fork would be held for ever here)."""
        self._lock = threading.Lock()

    @staticmethod
    def _key_name(record_id: str) -> str:
        return f"keys/{record_id}"

    def create(self, record_id: str, *, fresh: bool = False) -> bytes:
        """A new key for ``record_id`` (idempotent: an existing key is returned as is).

        ``fresh``: the caller has just made ``record_id`` and holds the only copy of it, so no
        other writer can race for its key (one write without a guard on S3 servers that need
        one for create-if-absent)."""
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        key = _aesgcm().generate_key(bit_length=256)
        blob = aes_key_wrap(self.master_key, key) if self.master_key else key
        put = self.store.put_new if fresh else self.store.put_if_absent
        try:
            put(self._key_name(record_id), blob)
        except AlreadyExists:
            return self.get(record_id)
        self._remember(record_id, key)
        return key

    def new_object(self, record_id: str) -> NewObject:
        """A new key for a ``record_id`` its caller has just made, as an object for the caller
        to write with others (``storage.group.write_group``); sealing with it works at once.
        Nothing sealed with it may become visible before the key is durable."""
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        key = _aesgcm().generate_key(bit_length=256)
        blob = aes_key_wrap(self.master_key, key) if self.master_key else key
        # Cached before it is durable, and harmless: the id is new and known only to the caller,
        # whose record commits (and so becomes readable) only after the key's write succeeded;
        # a failed group is never committed, and a retry makes a new id and a new key.
        self._remember(record_id, key)
        return NewObject(self.store, self._key_name(record_id), blob, fresh=True)

    def get(self, record_id: str) -> bytes:
        with self._lock:
            key = self._cache.get(record_id)
            if key is not None:
                self._cache.move_to_end(record_id)
                return key
        try:
            blob = self.store.get(self._key_name(record_id))
        except NotFound as exc:
            raise KeyDestroyed(
                "Khóa mã hóa của hồ sơ/văn bản này không còn (đã bị hủy hoặc chưa từng tồn tại);"
                " nội dung không thể đọc được.",
                record_id=record_id,
            ) from exc
        key = self._unwrap(record_id, blob)
        self._remember(record_id, key)
        with self._lock:  # just read from the store: as good as the check open makes
            self._confirmed[record_id] = time.monotonic()
        return key

    def _unwrap(self, record_id: str, blob: bytes) -> bytes:
        """The data key in ``blob``; :class:`KeyUnwrapFailed` when it does not unwrap with the
        configured master key (or is wrapped while none is configured). One such key is a
        damaged key blob; every key failing is a wrong ``KHO_MASTER_KEY`` (fsck tells them apart)."""
        if self.master_key is None:
            if len(blob) != 32:
                raise KeyUnwrapFailed(
                    "Khóa của bản ghi được bọc bằng khóa chủ nhưng KHO_MASTER_KEY chưa được cấu hình"
                    " (hoặc khóa bị hỏng).",
                    record_id=record_id,
                )
            return blob
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

        try:
            return aes_key_unwrap(self.master_key, blob)
        except (InvalidUnwrap, ValueError) as exc:
            raise KeyUnwrapFailed(
                "Không mở được khóa của bản ghi bằng KHO_MASTER_KEY đang cấu hình (sai khóa chủ,"
                " hoặc khóa của bản ghi này bị hỏng).",
                record_id=record_id,
            ) from exc

    def master_key_opens_another(self, record_id: str, tries: int = 3) -> bool | None:
        """Whether the configured master key opens a key other than ``record_id``'s, which did
        not unwrap: True (the master key is right: that one key is damaged), False (``tries`` other
        keys fail too: the master key is wrong, or missing where the keys are wrapped, a
        configuration error), None (fewer other keys than ``tries``: cannot tell them apart). A
        key this process already opened answers True with no store request; otherwise one LIST
        page and up to ``tries`` GETs."""
        with self._lock:
            if any(other != record_id for other in self._cache):
                return True
        tried = 0
        for info in self.store.list("keys/"):
            other = info.key.removeprefix("keys/")
            if other == record_id or info.key != self._key_name(other):
                continue
            try:
                self._unwrap(other, self.store.get(info.key))
                return True
            except KeyUnwrapFailed:
                tried += 1
            except NotFound:
                continue
            if tried >= tries:
                break
        return False if tried >= tries else None  # (fewer keys than that: cannot tell)

    def destroy(self, record_id: str) -> None:
        with self._lock:
            self._cache.pop(record_id, None)
            self._confirmed.pop(record_id, None)
        self.store.delete(self._key_name(record_id))

    def exists(self, record_id: str) -> bool:
        return self.store.exists(self._key_name(record_id))

    def record_ids(self) -> Iterator[str]:
        """The record ids that have a key in the key store (``kho fsck``: a key no record names):
        the names of the objects right under ``keys/`` (an object nested deeper, which Kho never
        writes, names no record: review rv43)."""
        for info in self.store.list("keys/"):
            name = info.key.removeprefix("keys/")
            if name and "/" not in name:
                yield name

    def _remember(self, record_id: str, key: bytes) -> None:
        with self._lock:
            self._cache[record_id] = key
            self._cache.move_to_end(record_id)
            while len(self._cache) > self._cache_size:
                gone, _ = self._cache.popitem(last=False)
                self._confirmed.pop(gone, None)

    def _readable_key(self, record_id: str) -> bytes:
        """The key that opens ``record_id``'s sealed objects, for reading them. A key this process
        cached is used only while the store still holds it: another process (a gunicorn or Celery
        worker beside this one) may have destroyed it, and a destroyed record must not be read
        from a cache (review u7: a process that had read a record went on reading its original
        after another process shredded it). The store is asked at most once every
        :data:`KEY_RECHECK_SECONDS` per record; a key gone raises :class:`KeyDestroyed`."""
        key = self.get(record_id)
        now = time.monotonic()
        with self._lock:
            seen = self._confirmed.get(record_id)
        if seen is not None and now - seen < KEY_RECHECK_SECONDS:
            return key
        if not self.store.exists(self._key_name(record_id)):
            with self._lock:
                self._cache.pop(record_id, None)
                self._confirmed.pop(record_id, None)
            raise KeyDestroyed(
                "Khóa mã hóa của hồ sơ/văn bản này không còn (đã bị hủy hoặc chưa từng tồn tại);"
                " nội dung không thể đọc được.",
                record_id=record_id,
            )
        with self._lock:
            if record_id in self._cache:
                self._confirmed[record_id] = now
        return key

    # -- sealing ---------------------------------------------------------------------------
    def seal(self, record_id: str, plaintext: bytes, context: str) -> bytes:
        """Encrypt ``plaintext`` with the record's key; ``context`` (the object key) is bound
        as associated data, so a sealed object moved to another key fails to open."""
        nonce = os.urandom(_NONCE)
        aad = f"{record_id}|{context}".encode()
        return _MAGIC + nonce + _aesgcm()(self._sealing_key(record_id)).encrypt(nonce, plaintext, aad)

    def _sealing_key(self, record_id: str) -> bytes:
        """The key that seals a new object of ``record_id``: checked as :meth:`_readable_key`
        checks it, so a process that cached a key does not go on writing objects of a record
        another process destroyed (review rv7: a worker's derived text, written after the
        destruction had removed the record's). A key this process made itself
        (:meth:`new_object`, :meth:`create`) and has not yet seen in the store is used as is: it
        may not be durable yet (its record's write group is in flight), and its record is new."""
        with self._lock:
            made_here = record_id in self._cache and record_id not in self._confirmed
        return self.get(record_id) if made_here else self._readable_key(record_id)

    def open(self, record_id: str, sealed: bytes, context: str) -> bytes:
        if not sealed.startswith(_MAGIC):
            raise IntegrityError(
                "Dữ liệu lưu trữ bị hỏng (sai định dạng mã hóa).", record_id=record_id, key=context
            )
        nonce = sealed[len(_MAGIC) : len(_MAGIC) + _NONCE]
        aad = f"{record_id}|{context}".encode()
        # The key is fetched outside the ``try``: a key store that cannot be reached (the key's
        # first read, or the recheck of a cached one) is STORE_UNAVAILABLE, not damaged data.
        key = self._readable_key(record_id)
        try:
            return _aesgcm()(key).decrypt(nonce, sealed[len(_MAGIC) + _NONCE :], aad)
        except Exception as exc:  # cryptography raises InvalidTag
            raise IntegrityError(
                "Dữ liệu lưu trữ đã bị thay đổi hoặc hỏng (không xác thực được bản mã).",
                record_id=record_id,
                key=context,
            ) from exc
