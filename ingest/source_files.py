"""Reading a file named by a folder import: the file collected, and nothing else.

A folder import reads its files long after it listed them (a batch of thousands; a queued
job). Whoever can write to the folder (an agency's share, a USB stick) could meanwhile replace
a file by a symbolic link to any file this process may read (a key, a password file), by a
folder turned into a link, or by a FIFO that would hang the reader. :func:`read_source` opens
without following a final link, without blocking, and only a regular file, and where the
caller knows the file's device and inode from the listing, only that file; and never more
than the largest original Kho accepts (a sparse or ever-growing file would otherwise be read
whole into memory before the size rule refused it, and take the import down with it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kho.errors import BadFile, KhoError
from kho.files import LINK, is_utf8, kind, printable
from kho.os_reasons import errno_name, os_reason
from repository.originals import DEFAULT_MAX_BYTES

Identity = tuple[int, int]
"""A file's device and inode, from :func:`identity` when the folder is listed."""


def identity(path: Path) -> Identity:
    st = os.lstat(path)
    return st.st_dev, st.st_ino


def read_source(
    path: Path, expected: Identity | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """The bytes of ``path``; :class:`KhoError` ``SOURCE_SYMLINK`` (a link), ``SOURCE_CHANGED``
    (not a regular file, or not the file listed as ``expected``), ``SOURCE_UNREADABLE``,
    ``FILE_TOO_LARGE`` (more than ``max_bytes``: at most ``max_bytes + 1`` bytes are read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise symlink_refused(path) from exc
        raise _unreadable(exc) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (
            expected is not None and (st.st_dev, st.st_ino) != expected
        ):
            raise KhoError(
                "Tệp đã bị thay thế (hoặc thư mục chứa nó đã bị đổi) sau khi Kho quét thư mục "
                "tiếp nhận: không đọc; hãy kiểm tra thư mục rồi nhập lại.",
                code="SOURCE_CHANGED",
            )
        if st.st_size > max_bytes:
            raise _too_large(path, st.st_size, max_bytes)
        with os.fdopen(os.dup(fd), "rb") as source:
            # One byte more than its size shows a file still growing; only then is it read on,
            # up to one byte past the limit (a read of max_bytes + 1 at once would allocate it).
            data = source.read(st.st_size + 1)
            if len(data) > st.st_size:
                data += source.read(max_bytes + 1 - len(data))
        if len(data) > max_bytes:
            raise _too_large(path, len(data), max_bytes)
        return data
    except OSError as exc:
        raise _unreadable(exc) from exc
    finally:
        os.close(fd)


def source_refused(path: Path) -> KhoError | None:
    """Why a listed path is not read, or None, by the rule of :func:`kho.files.kind`: a link
    (``SOURCE_SYMLINK``), a name that is not UTF-8 (``SOURCE_NAME_NOT_UTF8``), a FIFO, device
    or socket (``SOURCE_NOT_FILE``), gone (``SOURCE_UNREADABLE``). The same check for every
    path, named on the command line or found in a folder; nothing is opened."""
    if kind(path) == LINK:
        return symlink_refused(path)
    return name_refused(path) or not_regular_refused(path)


def name_refused(path: Path) -> KhoError | None:
    """A path that is not UTF-8 text (a folder copied from an old machine in TCVN3 or
    Windows-1258) cannot be a record's file name or a job's source: it is refused, not read,
    with its code, and the rest of the folder goes on."""
    if not is_utf8(str(path)):
        return KhoError(
            f"Tên tệp hoặc thư mục “{printable(path)}” không phải văn bản UTF-8 (có thể được đặt "
            "theo bảng mã cũ như TCVN3, Windows-1258): Kho không đọc; hãy đổi tên sang Unicode "
            "(chẳng hạn bằng convmv) rồi nhập lại.",
            code="SOURCE_NAME_NOT_UTF8",
        )
    return None


def symlink_refused(path: Path) -> KhoError:
    """A symbolic link found in a folder is refused, not followed: a folder from elsewhere could
    otherwise make Kho read and store any file this process can read, as the agency's."""
    try:
        target = printable(os.readlink(path))[:200]
    except OSError:
        target = "?"
    return KhoError(
        f"Tệp là liên kết tượng trưng (symlink) tới “{target}”: Kho không đi theo liên kết trong "
        "thư mục tiếp nhận; hãy chép chính tệp đó vào thư mục.",
        code="SOURCE_SYMLINK",
    )


def not_regular_refused(path: Path) -> KhoError | None:
    """A path named for import that is not a regular file (a FIFO, which would hang the reader;
    a device; a socket) is refused before it is read, with its own code: it was not replaced
    after a scan (``SOURCE_CHANGED``), it never was a file."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return _unreadable(exc)
    if stat.S_ISREG(mode):
        return None
    return KhoError(
        f"“{printable(path.name)}” không phải tệp thông thường (ống dẫn FIFO, thiết bị hoặc socket):"
        " Kho chỉ nhập tệp, không đọc nó.",
        code="SOURCE_NOT_FILE",
    )


def _too_large(path: Path, size: int, max_bytes: int) -> BadFile:
    name = printable(path.name)
    return BadFile(
        f"Tệp “{name}” có dung lượng {size / 1048576:.1f} MB, vượt giới hạn"
        f" {max_bytes / 1048576:.0f} MB: không đọc.",
        code="FILE_TOO_LARGE",
        size=size,
        limit=max_bytes,
    )


def _unreadable(exc: OSError) -> KhoError:
    return KhoError(
        f"Không đọc được tệp: {os_reason(exc)}.", code="SOURCE_UNREADABLE", errno=errno_name(exc)
    )
