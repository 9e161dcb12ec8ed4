"""What Python's zipfile can read, shared by every reader of zip containers from outside (SIP
packages, Office documents): one list of methods and one list of errors for damaged entries."""

from __future__ import annotations

import lzma
import zipfile
import zlib

READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
"""Compression methods zipfile reads; any other (Deflate64 = 9, AES = 99) raises
NotImplementedError when the entry is opened, so it is refused before."""

DAMAGED_ENTRY_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError, RuntimeError, NotImplementedError,
)
"""What reading a damaged or unreadable entry raises, by method (bz2 raises OSError, a password
RuntimeError)."""
