"""Start-up of the ``kho`` command: what one short process does not need to redo every time.

Two measured costs of importing Kho and pyHanko in a fresh interpreter, neither of which is
Kho's or pyHanko's code running (``kho verify``, one small PDF, 2026-12-01: imports ≈ 0.37-0.50 s
of CPU, ~740 functions generated for ~130 dataclasses):

* **Compiling the methods of every dataclass.** :mod:`dataclasses` writes each class's
  ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` ... as source text and
  ``exec``\\ s it, compiling it again in every process: 0.14 s, 28% of ``kho verify``'s import
  time. :func:`cache_dataclass_code` keeps the compiled code of those texts in a per-user file
  (like the ``.pyc`` files of modules), so a later process runs the same code without compiling
  it. The text is the key, so a class that changes gets new code; the file is per Python
  version (the format of code objects), written whole and renamed into place, and only read
  when it belongs to this user and nobody else can write it. Nothing else changes: the very same
  text is executed with the very same globals, names and flags as :mod:`dataclasses` would.
* **The cyclic garbage collector running during imports, and over them ever after.**
  Importing allocates hundreds of thousands of objects that all stay alive (modules, classes,
  functions), and the collector walks them again and again for nothing: during the imports (8%
  of the import time in one A/B at load 3; not distinguishable from noise in another at load
  12), and at every full collection after, the last one when the interpreter exits (a full
  collection after ``kho verify``'s imports: 29 ms; its exit, with the child, went from
  0.11-0.16 s to 0.06-0.09 s of CPU). :func:`imports` pauses it around a block of imports and,
  in the ``kho`` program only (:func:`program`), then freezes what exists (:func:`gc.freeze`:
  the permanent generation, never walked again; garbage cycles made while importing stay, a
  bounded one-time cost). Not in the tests' runner or a library caller, whose later garbage
  must stay collectable.

Only the ``kho`` program installs these (``web.cli``; ``kho serve`` and ``kho worker`` too, where
it only shortens their start), never the library, the tests' CLI runner, or a server or worker
started otherwise. ``KHO_CODE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import gc
import marshal
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

ENV_SWITCH = "KHO_CODE_CACHE"
"""``0`` turns the compiled-code cache off."""

MAX_ENTRIES = 5_000
"""A file that grew past this (many versions of many classes) is started afresh."""

_FILENAME = "<string>"  # what dataclasses' own exec() of a text compiles it as


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/kho`` (``~/.cache/kho``); None when neither names an absolute folder
    (an account without a home: no cache rather than one relative to the working folder)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kho" if os.path.isabs(base) else None


def cache_file(directory: Path | None = None) -> Path | None:
    """The file of this Python version (code objects are not portable between versions)."""
    folder = directory or cache_dir()
    if folder is None:
        return None
    return folder / f"dataclass-code.{sys.implementation.cache_tag or 'python'}.marshal"


class CodeCache:
    """Compiled code of source texts, loaded from and saved to one file.

    The file maps a 128-bit BLAKE2b digest of each text to its code, marshalled on its own:
    reading the file copies bytes, and only the code a process uses is unmarshalled (a
    command uses a part of the classes other commands made).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._blobs: dict[bytes, bytes] | None = None
        self.added = 0

    @property
    def blobs(self) -> dict[bytes, bytes]:
        """The file's entries, read at the first class made (``kho --help`` makes none)."""
        if self._blobs is None:
            self._blobs = _load(self.path)
        return self._blobs

    def code(self, source: str) -> CodeType:
        import hashlib  # (a process that makes no class needs none of this)

        key = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        blob = self.blobs.get(key)
        if blob is not None:
            try:
                found = marshal.loads(blob)
            except (EOFError, ValueError, TypeError):
                found = None
            if isinstance(found, CodeType):
                return found
        # As exec(source) in dataclasses compiles it: no __future__ flags of this module.
        code = compile(source, _FILENAME, "exec", dont_inherit=True)
        self.blobs[key] = marshal.dumps(code)
        self.added += 1
        return code

    def exec(self, source: Any, globals_: Any = None, locals_: Any = None, /) -> None:
        """``exec`` for :mod:`dataclasses`: a text runs from its cached code, anything else
        (a code object) as the builtin does it."""
        if isinstance(source, str):
            source = self.code(source)
        exec(source, globals_, locals_)  # the text dataclasses itself generated

    def save(self) -> bool:
        """Write the file if this process compiled something new (atomically; False when the
        folder cannot be written, which only costs the next process the compile)."""
        if not self.added:
            return False
        import tempfile  # (only a process that compiled something writes)

        blobs = self.blobs if len(self.blobs) <= MAX_ENTRIES else {}
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".dataclass-code-")
            try:
                with os.fdopen(fd, "wb") as out:
                    marshal.dump(blobs, out)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, ValueError):
            return False
        self.added = 0
        return True


def _load(path: Path) -> dict[bytes, bytes]:
    """The file's entries; empty when it is missing, unreadable, not this user's or writable by
    others (code is never loaded from a file someone else could have written), or damaged."""
    try:
        with path.open("rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return {}
            folder = os.stat(path.parent)
            if folder.st_uid != os.geteuid() or folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return {}
            data = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, bytes) and isinstance(v, bytes)}


_installed: CodeCache | None = None
_program = False


def program() -> None:
    """This process is the ``kho`` program (its entry point): install the code cache, and
    freeze what :func:`imports` imported."""
    global _program
    _program = True
    cache_dataclass_code()


def cache_dataclass_code(path: Path | None = None) -> CodeCache | None:
    """Make :mod:`dataclasses` take compiled code from the cache (once per process; saved at
    exit). None when ``KHO_CODE_CACHE=0`` or when another ``exec`` is already in place."""
    global _installed
    if _installed is not None:
        return _installed
    path = path or cache_file()
    if path is None or os.environ.get(ENV_SWITCH, "1") == "0" or "exec" in vars(dataclasses):
        return None
    cache = CodeCache(path)
    # dataclasses calls exec() by its global name: a module global named exec is found
    # before the builtin, and only dataclasses' own calls see it.
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    atexit.register(cache.save)
    _installed = cache
    return cache


def uninstall() -> None:
    """Back to the builtin ``exec`` (tests)."""
    global _installed
    if _installed is not None:
        vars(dataclasses).pop("exec", None)
        atexit.unregister(_installed.save)
        _installed = None


@contextlib.contextmanager
def imports() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block of imports (it is turned back on after,
    if it was on): what is imported stays alive, so collecting during it finds nothing. In the
    ``kho`` program (:func:`program`) what exists then is frozen: later collections, the one at
    exit included, do not walk it again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _program:
            gc.freeze()
        if was_enabled:
            gc.enable()
