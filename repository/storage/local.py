"""Object storage in a local folder: the embedded default.

Layout under ``root``::

    objects/<key>                 current version of each object
    versions/<key>/<version-id>   earlier versions (kept when an object is deleted)
    meta/<key>.retention.json     retention / legal hold
    tmp/                          writes in flight (left-overs are removed by ``kho fsck``)

Create-if-absent is a hard link from a fully written, fsync'ed temp file: ``link(2)`` fails with
``EEXIST`` when the key is taken, so no reader ever sees a half-written object and two writers
can never both win. A name is durable once its directory is fsync'd (POSIX): every write that
returns has synced the directory it linked or renamed into, and the parent of every directory
it made, through the store's :class:`~repository.storage.durability.Durability` (a group of
objects syncs each distinct directory once, after its links: ``storage.group``).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import stat
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kho.errors import (
    AlreadyExists,
    ClaimNotAFile,
    Conflict,
    FormatInvalid,
    KhoError,
    NotFound,
    RetentionLocked,
    StoreFull,
    StoreUnavailable,
)
from kho.os_reasons import errno_name, os_reason
from kho.timeutil import parse_iso, utcnow
from repository.storage.base import (
    ABSENT,
    CLAIM_MAX_BYTES,
    POINTERS,
    ObjectInfo,
    ObjectStore,
    PreparedPut,
    Retention,
    Staged,
    check_created,
    replaced_only,
    version_is_current,
)
from repository.storage.durability import Durability, NoDurability
from repository.storage.group import beside
from repository.storage.overlap import PROCESS_IDLE_CORES, OverlapMode, OverlapPolicy, decide

if TYPE_CHECKING:
    from concurrent.futures import Future

_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=/")
_PART = r"(?!\.\.?(?:/|\Z))[A-Za-z0-9=_.-]+"
_KEY = re.compile(rf"{_PART}(?:/{_PART})*")
"""A key as :func:`check_key` accepts it: one or more names of :data:`_SAFE`'s characters,
joined by ``/``, none ``.`` or ``..`` (so no empty name, no leading or trailing ``/``)."""


_NOT_THERE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})
"""A ``stat``'s errors that mean "no file there" (as :meth:`pathlib.Path.is_file` reads them)."""


def check_key(key: str) -> None:
    """Refuse keys that are not plain relative ASCII paths (no empty, ``.`` or ``..`` name, no
    leading or trailing ``/``, only :data:`_SAFE`'s characters): one match of :data:`_KEY`
    (m37: main's five tests built a set of the key's characters and split it, ~11 a record;
    ``tests/repository/test_local_paths_m37.py`` holds the two equal on every key of a
    generated set)."""
    if _KEY.fullmatch(key) is None:
        raise ValueError(f"invalid object key: {key!r}")


DEFAULT_OVERLAP = OverlapPolicy()
"""The overlap thresholds of a store opened without them (:mod:`.overlap`; the configured ones
come from ``KHO_OVERLAP_SYNC_MS`` and ``KHO_OVERLAP_IDLE_CORES`` through ``open_store``). A test
pins the mode by replacing it (:data:`.overlap.ALWAYS`, :data:`.overlap.NEVER`) before it
opens its stores."""

SYNC_AVERAGE_WEIGHT = 0.2
"""The weight of the latest sync in the moving average of the store's fsyncs (:meth:`LocalStore._timed`)."""

TEMP_NAME_DRAWS = 100
"""Names a write draws for its temp file before giving up (64 random bits each: a second draw
is already a sign that the random source repeats)."""


class LocalStore(ObjectStore):
    name = "local"
    supports_retention = True

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        fsync: bool = True,
        durability: Durability | None = None,
        overlap: OverlapPolicy | None = None,
        idle_cores: Callable[[], float | None] | None = None,
    ) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self._objects_prefix = os.path.join(self._root, "objects", "")
        self._temp_prefix = os.path.join(self._root, "tmp", "tmp")
        """Built once, as strings: a record's creation joins a key or a temp name to them ~20
        times, and joins strings where a ``Path`` would be parsed, hashed and formatted again
        (m37, issue 14: pathlib was ~1,500 of a stored record's ~4,000 Python calls)."""
        self.fsync = fsync
        self._sync_seconds = 0.0
        """Moving average of this store's fsyncs (:meth:`overlaps_syncs`); 0 until one ran."""
        self.overlap = overlap if overlap is not None else DEFAULT_OVERLAP
        """When a group's syncs go to threads (:meth:`overlaps_syncs`)."""
        self._idle_cores = idle_cores if idle_cores is not None else PROCESS_IDLE_CORES
        """The cores idle besides the writer's (:class:`.overlap.IdleCores`; a test gives its own)."""
        self._mode = OverlapMode()
        """The mode :meth:`overlaps_syncs` last answered (its hysteresis)."""
        self.durability = durability if durability is not None else Durability() if fsync else NoDurability()
        """Every fsync of this store, of a file or of a directory, goes through it."""
        self._plain_syncs = type(self.durability) in (Durability, NoDurability)
        """The durability is this package's own: it takes a path as a string. Any other (a
        test's recorder) is given a ``Path``, as before."""
        try:
            made: set[str] = {self._root}  # the four entries, also when another process made them
            for sub in ("objects", "versions", "meta", "tmp"):
                made |= self._make_dirs(os.path.join(self._root, sub))
            self._sync_dirs(made)
        except OSError as exc:
            raise StoreUnavailable(
                f"Không mở được kho lưu trữ tại thư mục {self.root}: {os_reason(exc)}.",
                path=str(self.root),
                errno=errno_name(exc),
            ) from exc
        self._dirs_made: set[str] = {
            os.path.join(self._root, sub) for sub in ("objects", "versions", "meta", "tmp")
        }
        """Directories known durable: their entry and every ancestor's synced (:meth:`_settle`).
        Known to have existed, not to exist now: a link or rename into one removed behind the
        store meets ``ENOENT`` and makes it again (:meth:`_link_new`,
        :meth:`_LocalPreparedPut._remake_folder`)."""
        self._temp_versions: dict[str, str] = {}
        """The version id of each temp file :meth:`_write_temp` made, from its ``fstat`` before
        its close, until its writer takes it (:meth:`_written_temp`)."""
        self._fstat_agrees: bool | None = None
        """Whether a linked file's version id from its temp file's ``fstat`` was found equal to
        a ``stat`` of the linked name (None: not compared yet; :meth:`_linked_version`)."""

    # -- helpers ---------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / "objects" / key

    def _file(self, key: str) -> str:
        """:meth:`_path` as a string (the write path's: no ``Path`` built per key)."""
        check_key(key)
        return self._objects_prefix + key

    def _os_error(self, exc: OSError, key: str) -> Exception:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return StoreFull("Kho lưu trữ đã đầy, không ghi được dữ liệu.", key=key)
        return StoreUnavailable(
            f"Không truy cập được kho lưu trữ ({os_reason(exc)}).", key=key, errno=errno_name(exc)
        )

    def _write_temp(self, data: bytes, *, sync: bool = True) -> str:
        """``data`` in a new file of ``tmp/``, fsync'd unless ``sync`` is False (the caller
        syncs it beside other work)."""
        fd, name = self._new_temp()
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if sync:
                began = time.perf_counter()
                self.durability.file(fd, name if self._plain_syncs else Path(name))  # type: ignore[arg-type]
                self._timed(began)
            self._temp_versions[name] = _version(os.fstat(fd))  # the link keeps inode and mtime
        except BaseException:
            os.close(fd)
            os.unlink(name)
            raise
        os.close(fd)
        return name

    def _written_temp(self, data: bytes, *, sync: bool = True) -> tuple[str, str | None]:
        """:meth:`_write_temp` (through the method, which a test may replace) and the temp file's
        version id (None where a replacement made the file)."""
        tmp = self._write_temp(data) if sync else self._write_temp(data, sync=False)  # (as before)
        return tmp, self._temp_versions.pop(tmp, None)

    def _linked_version(self, version: str | None, path: str) -> str:
        """The version id of ``path``, just linked or renamed from a temp file whose version id
        was ``version``: that one, without a ``stat`` of ``path`` (a link or rename changes
        neither the inode nor the modification time), once one ``stat`` of this store found
        them equal; otherwise (a file system whose times move on close, a file replaced in
        between: never trusted again) the ``stat``'s, as before."""
        if version is not None and self._fstat_agrees:
            return version
        found = self._version_of(path)
        if version is not None and self._fstat_agrees is None:
            self._fstat_agrees = found == version
        return found

    def _new_temp(self) -> tuple[int, str]:
        """A new file in ``tmp/``, created exclusively (``O_EXCL``, not through a symlink),
        readable by this user only: what :func:`tempfile.mkstemp` makes, without importing
        :mod:`tempfile` (with :mod:`shutil` and :mod:`random`) into every command that writes
        an audit event."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for _ in range(TEMP_NAME_DRAWS):
            name = self._temp_prefix + os.urandom(8).hex()
            try:
                return os.open(name, flags, 0o600), name
            except FileExistsError:
                continue
        # Only a random source that repeats gets here: an error the caller maps to
        # STORE_UNAVAILABLE, not a writer spinning for ever (mkstemp stopped too).
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(name))

    @staticmethod
    def _make_dirs(directory: str) -> set[str]:
        """Make ``directory`` and its missing ancestors; the directories whose entries that
        changed and must be synced: the parent of each one made (also of one a racing writer
        made first, once this one found it missing: its entry may not be durable yet).

        ``mkdir`` first, from ``directory`` up (m37): one system call where the parent is there
        (a record's new folder), where main ``stat``-ed the directory and each ancestor up to
        one found, then made them. What is found there already (``EEXIST``) is not checked to
        be a directory: a file there fails the link or rename into it (``ENOTDIR``), as before."""
        missing: list[str] = []
        here = directory
        while True:
            try:
                os.mkdir(here)
            except FileExistsError:
                break
            except FileNotFoundError:
                up = _parent(here)
                if up == here:
                    raise
                missing.append(here)
                here = up
                continue
            return {_parent(here)} if not missing else LocalStore._make_below(here, missing)
        return LocalStore._make_below(None, missing) if missing else set()

    @staticmethod
    def _make_below(made: str | None, missing: list[str]) -> set[str]:
        """Make ``missing`` (listed deepest first) from the top down, below ``made`` (made here)
        or an ancestor found there; the parents of those and of ``made``."""
        changed = set() if made is None else {_parent(made)}
        for below in reversed(missing):
            try:
                os.mkdir(below)
            except FileExistsError:
                pass
            changed.add(_parent(below))
        return changed

    def _ensure_parent(self, path: str) -> set[str]:
        """Make ``path``'s directory; the directories to sync once ``path`` is linked or renamed
        into it: its directory, the parent of each directory made, and the parent of it and of
        each ancestor not yet known durable (made here, or found made by another thread or
        process whose sync of its entry may not have happened yet). Known durable
        (:meth:`_settle`) only after those syncs succeeded."""
        parent = _parent(path)
        if parent in self._dirs_made:
            return {parent}
        changed = self._make_dirs(parent)
        changed.add(parent)
        self._not_durable_above(parent, changed)
        return changed

    def _not_durable_above(self, directory: str, changed: set[str]) -> None:
        """Add to ``changed`` the parent of ``directory`` and of each ancestor not known durable."""
        here = directory
        while here not in self._dirs_made and here != self._root:
            up = _parent(here)
            if up == here:
                break
            changed.add(up)
            here = up

    def _prepare_directory(self, directory: str) -> set[str]:
        """Make ``directory`` (again, if it was removed); the directories to sync once a name is
        linked or renamed into it: it, the parent of each directory made, and the parent of it
        and of each ancestor not known durable — also one found already there, which a writer
        that crashed before its sync may have made (its entry not durable in its parent)."""
        changed = self._make_dirs(directory)
        changed.add(directory)
        self._not_durable_above(directory, changed)
        return changed

    def _settle(self, directory: str) -> None:
        """``directory`` and its ancestors are durable (the syncs :meth:`_ensure_parent` named
        succeeded): later writes into it sync only it."""
        here = directory
        while here not in self._dirs_made and here != self._root:
            self._dirs_made.add(here)
            up = _parent(here)
            if up == here:
                break
            here = up

    def _sync_dirs(self, directories: Collection[str]) -> None:
        """Sync each of ``directories`` in the order of their ``Path`` objects (component by
        component: a parent before its children), as main did."""
        plain = self._plain_syncs
        for directory in sorted(directories, key=_components) if len(directories) > 1 else directories:
            began = time.perf_counter()
            self.durability.directory(directory if plain else Path(directory))  # type: ignore[arg-type]
            self._timed(began)

    def _timed(self, began: float) -> None:
        """Count a sync that began at ``began`` in the moving average (a race between threads
        loses a sample, no more)."""
        self._sync_seconds += (time.perf_counter() - began - self._sync_seconds) * SYNC_AVERAGE_WEIGHT

    def overlaps_syncs(self) -> bool:
        """While this store's fsyncs are slow or a core is idle besides the writer's
        (:func:`.overlap.decide`, with :attr:`overlap`'s thresholds and their hysteresis)."""
        if not self.fsync or not self._unwrapped():
            return False
        policy = self.overlap
        idle = self._idle_cores() if policy.idle_cores > 0 else None
        self._mode = mode = decide(policy, self._sync_seconds, idle, self._mode)
        return mode.overlaps

    def sync_directories(self, directories: set[str]) -> None:
        try:
            self._sync_dirs(directories)
        except OSError as exc:
            raise self._os_error(exc, min(directories)) from exc

    def _parent_of(self, tmp: str, key: str, path: str) -> set[str]:
        """:meth:`_ensure_parent` for a link of ``tmp`` (given up if the directory cannot be made)."""
        try:
            return self._ensure_parent(path)
        except OSError as exc:
            _unlink(tmp)
            raise self._os_error(exc, key) from exc

    # -- contract --------------------------------------------------------------------------
    def put_if_absent(self, key: str, data: bytes) -> ObjectInfo:
        check_created(key)
        return self._create(key, data)

    def put_again(self, key: str, data: bytes) -> bool:
        """:meth:`ObjectStore.put_again`: the create's ``link(2)``, which finds another
        writer's ``put`` made since the delete (a rename into place) and leaves it; through
        :meth:`put_if_absent` for a key that may be created (a wrapper of it sees the write)."""
        if replaced_only(key) is None:
            return super().put_again(key, data)
        try:
            self._create(key, data)
        except AlreadyExists:
            return False
        return True

    def _create(self, key: str, data: bytes) -> ObjectInfo:
        path = self._file(key)
        if os.path.exists(path):
            raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key)
        try:
            tmp, version = self._written_temp(data)
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        directories = self._parent_of(tmp, key, path)
        info = self._link_new(tmp, key, path, len(data), version)
        self.sync_directories(directories)
        self._settle(_parent(path))
        return info

    def _link_new(self, tmp: str, key: str, path: str, size: int, version: str | None) -> ObjectInfo:
        """Make a durable temp file visible at ``key`` unless the key is taken (the temp file
        goes either way). The caller has made the directory (:meth:`_parent_of`) and syncs it."""
        try:
            if key.startswith("claims/"):
                self._claim_folder_inside(key)
            try:
                os.link(tmp, path)
            except FileExistsError as exc:
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from exc
            except FileNotFoundError:
                # The parent was removed under us (a concurrent delete); recreate and retry.
                self._forget_above(_parent(path))
                remade = self._ensure_parent(path)
                os.link(tmp, path)
                self._sync_dirs(remade)  # the directories made again: the caller's may be others
                self._settle(_parent(path))
        except OSError as exc:
            if isinstance(exc, FileExistsError):
                raise AlreadyExists(f"Đối tượng {key} đã tồn tại.", key=key) from exc
            raise self._os_error(exc, key) from exc
        finally:
            _unlink(tmp)
        return ObjectInfo(key=key, size=size, version_id=self._linked_version(version, path))

    def _forget_above(self, directory: str) -> None:
        """``directory`` was found removed: it and each ancestor that is gone too are no longer
        known durable (made again, the entry of each in its parent is synced again)."""
        here = directory
        while here != self._root and here in self._dirs_made and not os.path.isdir(here):
            self._dirs_made.discard(here)
            here = _parent(here)
        self._dirs_made.discard(directory)

    def _own(self, name: str) -> bool:
        """Neither this class nor this instance replaces the store's own method ``name`` (a
        test's dying or counting wrapper must see every write made through it: where one does,
        the writes go through the wrapped methods, not a faster path beside them)."""
        return getattr(type(self), name) is _ORIGINALS[name] and name not in vars(self)

    def _unwrapped(self) -> bool:
        """Neither this class nor this instance replaces the create methods (then a group goes
        through them)."""
        own = vars(self)
        return (
            type(self).put_if_absent is _PUT_IF_ABSENT
            and type(self).put_new is _PUT_NEW
            and "put_if_absent" not in own
            and "put_new" not in own
        )  # (_own of both, in one call: asked ~26 times a record)

    def stage(self, key: str, data: bytes, *, fresh: bool = False) -> Staged:
        """A temp file written and fsync'd (in the caller's thread: a group stages its objects
        in threads where :meth:`overlaps_syncs`); :meth:`_LocalStaged.publish` links it."""
        if not self._unwrapped():
            return super().stage(key, data, fresh=fresh)
        check_created(key)
        path = self._file(key)
        try:
            tmp, version = self._written_temp(data)
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        return _LocalStaged(self, key, path, tmp, len(data), version)

    @staticmethod
    def _version_of(path: str | Path) -> str:
        return _version(os.stat(path))

    def get(self, key: str, version_id: str | None = None) -> bytes:
        path = self._path(key)
        try:
            if version_id is not None:
                if path.exists() and self._version_of(path) == version_id:
                    return path.read_bytes()
                archived = self._archived(key, version_id)
                if archived is None:
                    raise FileNotFoundError(version_id)
                return archived.read_bytes()
            if key.startswith("claims/"):
                return self._claim_bytes(path, key)
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise self._absent(key) from exc
        except IsADirectoryError as exc:
            raise NotFound(f"Không tìm thấy đối tượng {key}.", key=key) from exc
        except OSError as exc:
            raise self._os_error(exc, key) from exc

    def _claim_bytes(self, path: Path, key: str) -> bytes:
        """A claim or guard file, at most :data:`CLAIM_MAX_BYTES`; a longer one (not Kho's) is
        refused with :class:`FormatInvalid` naming it, the rest never read. A path that is not a
        regular file of the store (:func:`_claim_fd`) is :class:`ClaimNotAFile` at once: a FIFO
        was opened for ever, and a directory or a dangling link read as "not written yet", so
        every create of its key waited ``get_after_conflict``'s 10 s for ``CLAIM_PENDING``
        (review rv55)."""
        with os.fdopen(self._claim_fd(path, key), "rb") as f:
            data = f.read(CLAIM_MAX_BYTES + 1)
        if len(data) > CLAIM_MAX_BYTES:
            raise FormatInvalid(
                f"Yêu cầu giữ chỗ “{key}” lớn hơn {CLAIM_MAX_BYTES // 1024} KiB: Kho không ghi yêu cầu giữ"
                " chỗ hay khóa chống trùng nào lớn như vậy, không đọc nó. Người quản trị cần xem và xóa"
                " tệp này.",
                key=key,
                limit=CLAIM_MAX_BYTES,
            )
        return data

    def _claim_folder_inside(self, key: str) -> None:
        """Refuse (:class:`ClaimNotAFile`) a claim whose folder below ``objects/`` is reached
        through a symbolic link (``lstat`` of each folder of the key, 2 for a guard, ~3 µs each):
        a create would link its file out of the store, a read would read one from there. A
        folder not made yet is none."""
        here = self._objects_prefix.rstrip(os.sep)
        for name in key.split("/")[:-1]:
            here = os.path.join(here, name)
            try:
                mode = os.lstat(here).st_mode
            except (FileNotFoundError, NotADirectoryError):
                return
            except OSError:
                return  # (the open or link that follows meets it and says so)
            if stat.S_ISLNK(mode):
                raise claim_not_a_file(key, "nằm trong một thư mục là liên kết tượng trưng")

    def _claim_fd(self, path: Path, key: str) -> int:
        """``key``'s file opened for reading only if it is a regular file reached without a
        symbolic link below ``objects/`` (``O_NOFOLLOW`` on the name, its folder's real path
        compared; ``O_NONBLOCK``: a FIFO is not waited on). ``FileNotFoundError`` when there is
        nothing at the path; anything else there is :class:`ClaimNotAFile`."""
        self._claim_folder_inside(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise claim_not_a_file(key, "là một tệp không đọc được (không có quyền đọc)") from exc
            try:
                found = os.lstat(path)
            except OSError:
                raise exc from None
            if stat.S_ISREG(found.st_mode):
                raise
            raise claim_not_a_file(key, _what(found.st_mode)) from exc
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            os.close(fd)
            raise claim_not_a_file(key, _what(found.st_mode))
        return fd

    def odd_claims(self) -> list[tuple[str, str]]:
        """Every path under ``objects/claims/`` that no claim of the store can be, with what it is
        (Vietnamese): a symbolic link, a FIFO, a socket, a device, a file that cannot be read,
        a directory where a duplicate guard's file belongs (``claims/sha256/<x>``,
        ``claims/skh/<x>``). Not listed by :meth:`list`, never read through: ``kho fsck`` names
        them for a person (review rv55)."""
        found: list[tuple[str, str]] = []
        top = os.path.join(self._root, "objects", "claims")
        try:
            mode = os.lstat(top).st_mode
        except FileNotFoundError:
            return found
        if not stat.S_ISDIR(mode):
            return [("claims", _what(mode))]

        def walk(directory: str, folder: str) -> None:
            try:
                entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
            except OSError:
                return
            for entry in entries:
                key = folder + entry.name
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except FileNotFoundError:
                    continue
                if stat.S_ISDIR(mode):
                    if folder in _GUARD_FOLDERS:
                        found.append((key, _what(mode)))
                    else:
                        walk(entry.path, key + "/")
                elif not stat.S_ISREG(mode):
                    found.append((key, _what(mode)))
                elif not os.access(entry.path, os.R_OK):
                    found.append((key, "là một tệp không đọc được (không có quyền đọc)"))

        walk(top, "claims/")
        return found

    def _absent(self, key: str) -> KhoError:
        """What a missing file of ``key`` means: ``NotFound`` when the store is there and the
        object is not; ``STORE_UNAVAILABLE`` when the store's own folder is gone (a mount that
        vanished, a disk not mounted), where a key store answering "no such key" would read as
        a destroyed record and fixity as damage (review rv7)."""
        if (self.root / "objects").is_dir():
            return NotFound(f"Không tìm thấy đối tượng {key}.", key=key)
        return StoreUnavailable(f"Không truy cập được kho lưu trữ: thư mục {self.root} không còn.", key=key)

    def stat(self, key: str) -> ObjectInfo:
        """The object's size and version (:meth:`_absent` when there is no such file; any other
        error of the file system is the store's, not the object's absence)."""
        path = self._path(key)
        try:
            found = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise self._absent(key) from exc
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        if not stat.S_ISREG(found.st_mode):
            raise NotFound(f"Không tìm thấy đối tượng {key}.", key=key)
        return ObjectInfo(key=key, size=found.st_size, version_id=self._version_of(path))

    def list(self, prefix: str, start_after: str | None = None) -> Iterator[ObjectInfo]:
        base = os.path.join(self._root, "objects")
        # Walk only the deepest directory that the prefix names completely.
        head, _, _ = prefix.rpartition("/")
        top = os.path.join(base, head) if head else base
        if not os.path.isdir(top):
            return
        yield from self._walk(top, base, prefix, start_after)

    def _walk(
        self, directory: str, base: str, prefix: str, start_after: str | None
    ) -> Iterator[ObjectInfo]:
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return
        # Keys sort as strings: a directory "a" holds keys "a/..." which sort after "a-..." but
        # before "a0"; sort children by their key form to keep the global order. The key of a
        # child is the folder's key and its name (one join per name: a shard folder of the
        # audit log holds 100,000 names).
        folder = "" if directory == base else os.path.relpath(directory, base) + "/"
        items: list[tuple[str, os.DirEntry[str]]] = []
        if not folder:
            entries = [e for e in entries if e.name != "claims" or not e.is_symlink()]
        elif folder.startswith("claims/"):
            # (review rv55) Under claims/ a link is never followed and only regular files are
            # keys: the rest is no claim (LocalStore.odd_claims names it for kho fsck).
            entries = [e for e in entries if not e.is_symlink() and (e.is_dir() or e.is_file())]
            if folder.startswith(_GUARD_FOLDERS):
                entries = [e for e in entries if not e.is_dir()]
        for entry in entries:
            rel = folder + entry.name
            items.append((rel + "/" if entry.is_dir() else rel, entry))
        items.sort(key=lambda item: item[0])
        for rel, entry in items:
            if entry.is_dir():
                if not (rel.startswith(prefix) or prefix.startswith(rel)):
                    continue
                if start_after is not None and rel < start_after and not start_after.startswith(rel):
                    continue
                yield from self._walk(entry.path, base, prefix, start_after)
            else:
                if not rel.startswith(prefix):
                    continue
                if start_after is not None and rel <= start_after:
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                yield ObjectInfo(
                    key=rel,
                    size=st.st_size,
                    version_id=f"{st.st_ino:x}-{st.st_mtime_ns:x}",
                    modified=st.st_mtime,
                )

    def list_versions(self, key: str) -> list[ObjectInfo]:
        """The archives of ``key`` oldest first, then its current file. An entry of its
        ``versions/`` folder that is not an archive this store wrote (a name without
        ``<nanoseconds>_``, not a regular file) is not a version, and one removed while listed (a
        ``delete_older_version`` or a scrub's removal beside this listing, a dangling link) is
        gone: skipped, not an ``IndexError`` / ``FileNotFoundError`` (review rv62: since m62/m63
        every ingest's job write, every scrub and every fsck lists each job's versions, and one
        such entry stopped them with a traceback)."""
        path = self._path(key)
        out: list[ObjectInfo] = []
        vdir = self.root / "versions" / key
        try:
            names = sorted(os.listdir(vdir))  # "<nanoseconds>_<version id>": oldest first
        except OSError as exc:
            if exc.errno not in _NOT_THERE:
                raise
            names = []
        for name in names:
            _, sep, version_id = name.partition("_")
            if not sep or not version_id:
                continue
            try:
                st = os.stat(vdir / name)
            except OSError as exc:
                if exc.errno in _NOT_THERE:
                    continue
                raise
            if stat.S_ISREG(st.st_mode):
                out.append(ObjectInfo(key=key, size=st.st_size, version_id=version_id))
        try:
            st = os.stat(path)
        except OSError as exc:  # (as ``Path.is_file`` before: no file there)
            if exc.errno in _NOT_THERE:
                return out
            raise
        if stat.S_ISREG(st.st_mode):
            out.append(ObjectInfo(key=key, size=st.st_size, version_id=_version(st)))
        return out

    def list_hidden(self, prefix: str) -> Iterator[str]:
        """:meth:`ObjectStore.list_hidden`: the folders under ``versions/`` holding an archive
        (a regular file named ``<nanoseconds>_<version id>``) whose key has no regular file
        under ``objects/`` (removed by hand; the store's own delete removes the archives
        first). One walk of the ``versions/`` folders the prefix names."""
        base = os.path.join(self._root, "versions")
        head, _, _ = prefix.rpartition("/")
        top = os.path.join(base, head) if head else base
        found: list[str] = []
        for folder, _dirs, names in os.walk(top):
            key = os.path.relpath(folder, base)
            if _KEY.fullmatch(key) is None or not key.startswith(prefix):
                continue  # (the folder itself, or a name Kho never makes: not a key's archives)
            if not any(_is_archive(folder, n) for n in names):
                continue
            try:
                current = os.stat(self._file(key))
            except OSError as exc:
                if exc.errno not in _NOT_THERE:
                    raise self._os_error(exc, key) from exc
                found.append(key)
                continue
            if not stat.S_ISREG(current.st_mode):
                found.append(key)
        yield from sorted(found)

    def age(self, key: str) -> float:
        """:meth:`ObjectStore.age`: this machine's clock against the file's modification time."""
        try:
            written = self._path(key).stat().st_mtime
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise self._absent(key) from exc
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        return max(0.0, time.time() - written)

    def first_age(self, key: str) -> float:
        """:meth:`ObjectStore.first_age`: :meth:`age`, or older: the write time its oldest
        archive carries in its name (``<nanoseconds>_<version id>``, :meth:`_archive_name`)."""
        age = self.age(key)
        try:
            names = os.listdir(self.root / "versions" / key)
        except OSError:
            return age
        parts = (name.partition("_") for name in names)
        stamps = [int(ns) for ns, sep, vid in parts if sep and vid and ns.isdigit()]
        return max(age, time.time() - min(stamps) / 1e9) if stamps else age

    @staticmethod
    def _archive_name(version_id: str) -> str:
        """``<mtime ns, 20 digits>_<version id>``: a function of the version (its id carries
        the write time), so archiving is one create-if-absent and finding one is one lookup;
        names sort oldest first."""
        _, _, mtime = version_id.partition("-")
        try:
            written = int(mtime, 16)
        except ValueError:
            written = 0
        return f"{written:020d}_{version_id}"

    def _archived(self, key: str, version_id: str) -> Path | None:
        vdir = self.root / "versions" / key
        direct = vdir / self._archive_name(version_id)
        if direct.is_file():
            return direct
        if not vdir.is_dir():
            return None
        # archives written before names were derived from the version
        return next((p for p in vdir.iterdir() if p.name.partition("_")[2] == version_id), None)

    def delete(self, key: str) -> None:
        self._check_deletable(key)
        try:
            self._sync_dirs(self._remove(key))
        except OSError as exc:
            raise self._os_error(exc, key) from exc

    def delete_if_current(self, key: str, tag: str) -> bool:
        """:meth:`ObjectStore.delete_if_current`: the current file compared with ``tag``
        (:meth:`get_tagged`) and removed with the key's versions under the exclusive ``flock``
        of the key's folder, which every ``put`` of this store takes for its rename
        (:meth:`_LocalPreparedPut.commit`): no put lands between the compare and the removal,
        one after it lands on an absent key (and :meth:`put_again`'s link finds it). A ``put``
        that archived the version read (a link: a new change time, part of the tag) and has not
        renamed yet is seen as a change: False, and its write lands after. Nothing is moved
        aside: a crash leaves the file there or removed (its older versions maybe left), as one
        of :meth:`delete` does; the caller's staged copy finishes it (m57)."""
        path = self._file(key)
        folder = _parent(path)
        self._check_deletable(key)

        def remake() -> None:  # the folder is gone: made again, empty (nothing current)
            self._make_dirs(folder)

        try:
            with _exclusive(folder, remake):
                if not _matches(self._current_tag(path), tag):
                    return False
                removed = self._remove(key)
            self._sync_dirs(removed)
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        return True

    def delete_older_version(self, key: str, version_id: str) -> None:
        """:meth:`ObjectStore.delete_older_version`: the archive file of that version in
        ``versions/<key>/`` unlinked and its folder synced. The current file (``objects/``) is
        never touched, whatever ``version_id`` says: a ``put`` that archived the current version
        and has not renamed yet holds an archive with the current one's id, whose removal only
        takes the copy the ``put`` keeps of the version it replaces. The current file's own id
        is refused (:class:`VersionIsCurrent`, as on S3: review rv64), nothing removed."""
        if not version_id:  # (as S3, where it would be a plain delete: review rv62)
            raise ValueError(f"{key}: no version id, no older version named")
        self._check_deletable(key)
        try:
            current = self._version_of(self._file(key))
        except (FileNotFoundError, NotADirectoryError):
            current = None
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        if version_id == current:
            raise version_is_current(key, version_id)
        try:
            archived = self._archived(key, version_id)
            if archived is None:
                return
            try:
                archived.unlink()
            except FileNotFoundError:
                return
            self._sync_dirs({str(archived.parent)})
        except OSError as exc:
            raise self._os_error(exc, key) from exc

    def _remove(self, key: str) -> set[str]:
        """Remove ``key``'s file, its versions and its retention; the directories that lost a
        name (gone for good, a destroyed record's objects: the caller syncs them)."""
        path = self._file(key)
        vdir = os.path.join(self._root, "versions", key)
        meta = os.path.join(self._root, "meta", f"{key}.retention.json")
        removed = {_parent(p) for p in (path, vdir, meta) if os.path.exists(p)}
        import shutil  # (only here: the other commands' imports stay without it)

        _unlink(path)
        shutil.rmtree(vdir, ignore_errors=True)
        _unlink(meta)
        return removed

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Replace ``key``, keeping the previous version readable by its version id."""
        return self._prepare_put(key, data, None).commit()

    @property
    def replaces_conditionally(self) -> bool:  # type: ignore[override]
        """True, unless ``put`` is replaced (by a subclass or on the instance) and
        ``put_if_match`` is not: a test's wrapper that must see every write of a pointer (the
        caller then reads again and puts)."""
        return self._own("put") or not self._own("put_if_match")

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The bytes and a tag of the file read: its inode, modification and change time,
        taken from the open file (the version of exactly these bytes; every ``put`` makes a new
        file). The change time is set by the kernel whenever the file gets or loses a name and
        cannot be set back (``utime`` sets the other two): the very file put back where it was
        (a hard link kept elsewhere) is another tag. :meth:`put_if_match` archives the version
        it replaces by a copy, not a link (a pointer's not at all), so no writer of this store
        touches the current version's inode: only an outsider's link changes its tag."""
        path = self._file(key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
                st = os.fstat(handle.fileno())
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise NotFound(f"Không tìm thấy đối tượng {key}.", key=key) from exc
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        return data, _tag(st)

    def put_if_match(self, key: str, data: bytes, tag: str) -> ObjectInfo:
        """Replace ``key`` only if it is still the version ``tag`` (:meth:`get_tagged`;
        :data:`.base.ABSENT`: only while there is none).

        The new file is written and fsync'd first; then, under an exclusive ``flock`` of the
        key's directory, which every ``put`` of this store takes too, the current version is
        compared with ``tag`` and the new file renamed over it. Against other processes and
        threads writing through a store (any ``put`` or ``put_if_match``) this is one atomic
        step. One who writes the folder directly does not take the lock: against them the
        window is the compare and the rename (a ``stat``, microseconds) instead of whatever the
        caller did since its read; what they change before the compare is seen."""
        return self._prepare_put(key, data, tag).commit()

    def prepare_put(self, key: str, data: bytes, tag: str | None = None) -> PreparedPut:
        """The old version archived (its directory syncing beside the caller) and the new one's
        temp file written and fsync'd; :meth:`_LocalPreparedPut.commit` compares ``tag`` (if
        any) under the directory's lock, replaces and syncs."""
        if not (self._own("put") and self._own("put_if_match")):
            return super().prepare_put(key, data, tag)  # a test's wrapper must see the put
        return self._prepare_put(key, data, tag)

    def _prepare_put(self, key: str, data: bytes, tag: str | None) -> _LocalPreparedPut:
        """``put`` (``tag`` None) or ``put_if_match``, up to its commit."""
        path = self._file(key)
        self._check_deletable(key)
        try:
            directories = self._ensure_parent(path)
            # The old version is archived (its directory synced: kept before it is replaced)
            # while the new one's temp file is written and fsync'd; both before the replace.
            # A conditional replace compares first and archives a copy (the current file's
            # change time is part of its tag: a link would change it under other writers).
            if tag is None:
                archiving = self._archive_current(key, path)
            else:
                archiving = self._archive_copy(key, path, tag)
            try:
                tmp, version = self._written_temp(data)
            except BaseException as exc:
                if archiving is not None:
                    try:
                        archiving.result()
                    except OSError as sync_error:
                        raise exc from sync_error  # the write's error, not the sync's, goes on
                raise
        except OSError as exc:
            raise self._os_error(exc, key) from exc
        return _LocalPreparedPut(self, key, path, tmp, directories, archiving, len(data), tag, version)

    def _archive_copy(self, key: str, path: str, tag: str) -> _Syncs | None:
        """:meth:`_archive_current` for :meth:`put_if_match`: :class:`Conflict` unless ``key``
        is still the version ``tag`` (or absent, :data:`.base.ABSENT`); then, unless ``key`` is
        a pointer (:data:`.base.POINTERS`: the audit witness, which S3 keeps unversioned too; an
        archive of it was one more file, its fsync and its directory's sync per audited act, and
        one file more in ``versions/`` for good), a copy of it (a new
        file) renamed into ``versions/`` under its version id, unless the copy there has these
        bytes already, and the copy's fsync and its directory's sync started beside the caller,
        together (the replace waits for both; until then the version is still at ``key``, so a
        copy torn by a crash before its sync is found unequal and written again here)."""
        try:
            with open(path, "rb") as handle:
                data: bytes | None = handle.read()
                st: os.stat_result | None = os.fstat(handle.fileno())
        except FileNotFoundError:
            data = st = None
        if not _matches(None if st is None else _tag(st), tag):
            raise _conflict(key)
        if data is None or st is None or key in POINTERS:
            return None  # a pointer keeps no older version (as in S3's unversioned companion bucket)
        vdir = os.path.join(self._root, "versions", key)
        archive = os.path.join(vdir, self._archive_name(_version(st)))
        archived = self._prepare_directory(vdir)
        try:
            with open(archive, "rb") as kept_file:
                kept: bytes | None = kept_file.read()
        except FileNotFoundError:
            kept = None
        if kept != data:
            copy, _ = self._written_temp(data, sync=False)  # its fsync runs beside the caller, below
            try:
                os.replace(copy, archive)
            finally:
                _unlink(copy)  # (renamed: gone already)
        if not self.fsync:
            return None
        return _Syncs(beside(self._sync_file, archive), beside(self._sync_and_settle, archived, vdir))

    def _sync_file(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            self.durability.file(fd, path if self._plain_syncs else Path(path))  # type: ignore[arg-type]
        finally:
            os.close(fd)

    def _current_tag(self, path: str) -> str | None:
        try:
            return _tag(os.stat(path))
        except FileNotFoundError:
            return None

    def _archive_current(self, key: str, path: str) -> Future[None] | None:
        """Link the current version of ``key`` (if any) into ``versions/``; the sync of the
        directories that made, started beside the caller (None: nothing to wait for, the sync
        done already or not needed; see :func:`.group.beside`)."""
        if not os.path.exists(path):
            return None
        vdir = os.path.join(self._root, "versions", key)
        archived = self._prepare_directory(vdir)
        old = self._version_of(path)
        archive = os.path.join(vdir, self._archive_name(old))
        try:
            os.link(path, archive)
        except (FileNotFoundError, FileExistsError):
            return None  # archived already, or replaced meanwhile by a put that archived it
        if self._version_of(archive) != old:
            os.unlink(archive)  # a concurrent put replaced it in between (and archived it)
            return None
        if not self.fsync:
            return None  # nothing to sync (KHO_FSYNC=false): no thread either
        return beside(self._sync_and_settle, archived, vdir)

    def _sync_and_settle(self, directories: set[str], directory: str) -> None:
        self._sync_dirs(directories)
        self._settle(directory)

    # -- retention -------------------------------------------------------------------------
    def _meta_path(self, key: str) -> Path:
        check_key(key)
        return self.root / "meta" / f"{key}.retention.json"

    def _read_meta(self, key: str) -> dict[str, object]:
        check_key(key)
        try:  # (a string path: asked at every put, where there is seldom any)
            with open(os.path.join(self._root, "meta", f"{key}.retention.json"), "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return {}

    def _write_meta(self, key: str, meta: dict[str, object]) -> None:
        if not self._path(key).is_file():
            raise NotFound(f"Không tìm thấy đối tượng {key}.", key=key)
        path = self._meta_path(key)
        try:
            directories = self._prepare_directory(str(path.parent))
            tmp, _ = self._written_temp(json.dumps(meta).encode())
            os.replace(tmp, path)
            self._sync_and_settle(directories, str(path.parent))
        except OSError as exc:
            raise self._os_error(exc, key) from exc

    def _check_deletable(self, key: str) -> None:
        meta = self._read_meta(key)
        if meta.get("legal_hold"):
            raise RetentionLocked(f"Đối tượng {key} đang bị phong tỏa (legal hold).", key=key)
        until = meta.get("until")
        if isinstance(until, str) and parse_iso(until) > utcnow():
            raise RetentionLocked(
                f"Đối tượng {key} đang trong thời hạn lưu giữ bắt buộc đến {until}.", key=key
            )

    def set_retention(self, key: str, retention: Retention) -> None:
        meta = self._read_meta(key)
        current = meta.get("until")
        if (
            isinstance(current, str)
            and meta.get("mode") == "COMPLIANCE"
            and parse_iso(current) > retention.until
        ):
            raise RetentionLocked(f"Không được rút ngắn thời hạn lưu giữ COMPLIANCE của {key}.", key=key)
        meta.update(mode=retention.mode, until=retention.until.isoformat())
        self._write_meta(key, meta)

    def get_retention(self, key: str, version_id: str | None = None) -> Retention | None:
        meta = self._read_meta(key)
        until = meta.get("until")
        if not isinstance(until, str):
            return None
        mode = meta.get("mode")
        assert mode in ("GOVERNANCE", "COMPLIANCE")
        return Retention(mode=mode, until=datetime.fromisoformat(until))

    def set_legal_hold(self, key: str, on: bool) -> None:
        meta = self._read_meta(key)
        meta["legal_hold"] = on
        self._write_meta(key, meta)

    def get_legal_hold(self, key: str) -> bool:
        return bool(self._read_meta(key).get("legal_hold"))

    # -- maintenance -----------------------------------------------------------------------
    def stale_temp_files(self, older_than_s: float = 60.0) -> list[Path]:
        """Temp files left by writers that died (``kho fsck`` removes them)."""
        now = time.time()
        out = []
        for entry in (self.root / "tmp").iterdir():
            try:
                if now - entry.stat().st_mtime > older_than_s:
                    out.append(entry)
            except FileNotFoundError:
                continue
        return out


_ORIGINALS = {
    "put_if_absent": LocalStore.put_if_absent,
    "put_new": ObjectStore.put_new,
    "put": LocalStore.put,
    "put_if_match": LocalStore.put_if_match,
}
"""The write methods :meth:`LocalStore._own` checks, as this module defines them."""
_PUT_IF_ABSENT, _PUT_NEW = _ORIGINALS["put_if_absent"], _ORIGINALS["put_new"]


class _Syncs:
    """Syncs started beside the caller (:func:`.group.beside`; None: done already), waited for
    together: :meth:`result` raises the first one's error once all ended."""

    def __init__(self, *running: Future[None] | None) -> None:
        self._running = [f for f in running if f is not None]

    def result(self) -> None:
        first: BaseException | None = None
        for future in self._running:
            try:
                future.result()
            except BaseException as error:  # raised below, once all ended
                first = first or error
        if first is not None:
            raise first


_GUARD_FOLDERS = ("claims/sha256/", "claims/skh/")
"""Folders of duplicate guards: every entry of them is a guard's file, none a folder."""

_KINDS = (
    (stat.S_ISDIR, "là một thư mục"),
    (stat.S_ISLNK, "là một liên kết tượng trưng"),
    (stat.S_ISFIFO, "là một ống FIFO"),
    (stat.S_ISSOCK, "là một socket"),
    (stat.S_ISCHR, "là một thiết bị"),
    (stat.S_ISBLK, "là một thiết bị"),
)


def _what(mode: int) -> str:
    """What a path of ``mode`` that is no claim file is, for people (Vietnamese)."""
    return next((what for test, what in _KINDS if test(mode)), "không phải tệp thường")


def claim_not_a_file(key: str, found: str) -> ClaimNotAFile:
    """The refusal of a claim path that is not a regular file of the store (review rv55)."""
    if key.startswith(_GUARD_FOLDERS):
        what = f"Khóa chống trùng “{key}” của kho"
    else:
        what = f"Yêu cầu giữ chỗ “{key}” của kho"
    return ClaimNotAFile(
        f"{what} {found}, không phải tệp Kho đã ghi: Kho không đọc qua nó, không chờ và không ghi đè"
        " nó, nên không lưu được nội dung mà nó giữ chỗ. Người quản trị cần xem (kho fsck) và xử lý"
        " bằng tay.",
        key=key,
        found=found,
    )


def _unlink(path: str) -> None:
    """Remove ``path`` if it is there (a temp file given up, or gone already: linked, renamed)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _parent(path: str) -> str:
    """:func:`os.path.dirname` of a path this store built (normalised, no trailing ``/``), in
    one string method where the directory has a name (~25 calls a record)."""
    head = path.rpartition("/")[0]
    return head if head else os.path.dirname(path)


def _components(path: str) -> list[str]:
    """The sort key of a directory: its components, as a ``PurePosixPath`` compares them."""
    return path.split("/")


def _is_archive(folder: str, name: str) -> bool:
    """Whether ``name`` in ``folder`` is an archived version (``<nanoseconds>_<version id>``,
    a regular file: :meth:`LocalStore.list_versions`'s rule)."""
    written, sep, version_id = name.partition("_")
    return bool(sep and version_id and written.isdigit()) and os.path.isfile(os.path.join(folder, name))


def _version(st: os.stat_result) -> str:
    """A version id (:attr:`ObjectInfo.version_id`): inode and modification time."""
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}"


def _tag(st: os.stat_result) -> str:
    """A version as :meth:`LocalStore.put_if_match` compares it: inode, modification time,
    change time."""
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_ctime_ns:x}"


def _matches(current: str | None, tag: str) -> bool:
    """Whether the version found (its :func:`_tag`; None: no file) is the one ``tag`` names
    (:data:`.base.ABSENT`: none)."""
    return current == (None if tag == ABSENT else tag)


def _conflict(key: str) -> Conflict:
    return Conflict(f"Đối tượng {key} đã được ghi lại hoặc bị xóa trong lúc cập nhật.", key=key)


@contextmanager
def _exclusive(directory: str, remake: Callable[[], None] | None = None) -> Iterator[None]:
    """An exclusive ``flock`` of ``directory`` (no file made: the directory itself is locked),
    released when the block ends; one per open, so threads of one process exclude each other.
    ``remake``: called once if ``directory`` is not there (removed behind the store), before
    it is opened again."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        if remake is None:
            raise
        remake()
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class _LocalPreparedPut(PreparedPut):
    """A put whose old version is archived and whose temp file is durable; :meth:`commit`
    waits for the archive's directory sync, renames the temp file into place and syncs the
    directories (``key``'s, and the parents of those made)."""

    def __init__(
        self,
        store: LocalStore,
        key: str,
        path: str,
        tmp: str,
        directories: set[str],
        archiving: Future[None] | _Syncs | None,
        size: int,
        tag: str | None,
        version: str | None,
    ) -> None:
        super().__init__(store, key, b"", tag)
        self._local, self._path, self._tmp, self._size = store, path, tmp, size
        self._version = version
        self._directories, self._archiving = directories, archiving
        self._settled = False  # the temp file is gone (renamed or given up)

    def _archived(self) -> None:
        if self._archiving is not None:
            archiving, self._archiving = self._archiving, None
            archiving.result()

    def commit(self) -> ObjectInfo:
        local = self._local
        try:
            try:
                self._archived()
                with _exclusive(_parent(self._path), self._remake_folder):
                    # (every put makes a new file, every new name of it a new change time:
                    # a rewrite, or the file put back, is seen)
                    if self.tag is not None and not _matches(local._current_tag(self._path), self.tag):
                        raise _conflict(self.key)
                    os.replace(self._tmp, self._path)
            finally:
                self.discard()  # renamed: the name is gone already (unlink finds nothing)
            local._sync_dirs(self._directories)
            local._settle(_parent(self._path))
        except OSError as exc:
            raise local._os_error(exc, self.key) from exc
        version_id = local._linked_version(self._version, self._path)
        return ObjectInfo(key=self.key, size=self._size, version_id=version_id)

    def _remake_folder(self) -> None:
        """The key's folder was removed behind the store (after :meth:`LocalStore._ensure_parent`
        found it known): made again, and the directories whose entries that changed synced
        after the replace with the others, as for a put into a new folder."""
        local, folder = self._local, _parent(self._path)
        local._forget_above(folder)
        self._directories = self._directories | local._ensure_parent(self._path)

    def discard(self) -> None:
        if self._settled:
            return
        self._settled = True
        _unlink(self._tmp)
        try:
            self._archived()  # the archive's sync ends before the put is given up
        except OSError:
            pass  # nothing replaced: the old version stays current


class _LocalStaged(Staged):
    ordered = True

    def __init__(
        self, store: LocalStore, key: str, path: str, tmp: str, size: int, version: str | None
    ) -> None:
        super().__init__(store, key, b"", fresh=False)
        self._local, self._path, self._tmp, self._size = store, path, tmp, size
        self._version = version
        self._settled = False  # the temp file is gone (published or discarded): its name may be reused
        self._unsynced: frozenset[str] = frozenset()

    def publish(self) -> ObjectInfo:
        """The link; its directory is synced by the group, once for all its objects there. A
        key taken already is found by the link itself (``EEXIST``: no ``stat`` before it)."""
        try:
            directories = self._local._parent_of(self._tmp, self.key, self._path)
            info = self._local._link_new(self._tmp, self.key, self._path, self._size, self._version)
        finally:
            self._settled = True  # the temp file is gone either way
        if self._local.fsync:
            self._unsynced = frozenset(directories)
        else:
            self._local._settle(_parent(self._path))  # nothing to sync (KHO_FSYNC=false): no thread
        return info

    def unsynced_directories(self) -> frozenset[str]:
        return self._unsynced

    def synced(self) -> None:
        self._unsynced = frozenset()  # a later sync of the group has nothing left to do for it
        self._local._settle(_parent(self._path))

    def discard(self) -> None:
        if not self._settled:
            self._settled = True
            _unlink(self._tmp)
