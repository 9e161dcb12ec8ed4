"""Reading a file named by a folder import: the file collected, and nothing else.

A folder import reads its files long after it listed them (a batch of thousands; a queued
job). Whoever can write to the folder (an agency's share, a USB stick) could meanwhile replace
a file by a symbolic link to any file this process may read (a key, a password file), by a
folder turned into a link, or by a FIFO that would hang the reader. :func:`read_source` opens
without following a final link, without blocking, and only a regular file, and where the
caller knows the file's device and inode from the listing, only that file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kho.errors import KhoError

Identity = tuple[int, int]
"""A file's device and inode, from :func:`identity` when the folder is listed."""


def identity(path: Path) -> Identity:
    st = os.lstat(path)
    return st.st_dev, st.st_ino


def read_source(path: Path, expected: Identity | None = None) -> bytes:
    """The bytes of ``path``; :class:`KhoError` ``SOURCE_SYMLINK`` (a link), ``SOURCE_CHANGED``
    (not a regular file, or not the file listed as ``expected``), ``SOURCE_UNREADABLE``."""
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
        with os.fdopen(os.dup(fd), "rb") as source:
            return source.read()
    except OSError as exc:
        raise _unreadable(exc) from exc
    finally:
        os.close(fd)


def symlink_refused(path: Path) -> KhoError:
    """A symbolic link found in a folder is refused, not followed: a folder from elsewhere could
    otherwise make Kho read and store any file this process can read, as the agency's."""
    try:
        target = os.readlink(path)[:200]
    except OSError:
        target = "?"
    return KhoError(
        f"Tệp là liên kết tượng trưng (symlink) tới “{target}”: Kho không đi theo liên kết trong "
        "thư mục tiếp nhận; hãy chép chính tệp đó vào thư mục.",
        code="SOURCE_SYMLINK",
    )


def _unreadable(exc: OSError) -> KhoError:
    return KhoError(f"Không đọc được tệp: {exc.strerror or exc}.", code="SOURCE_UNREADABLE")
