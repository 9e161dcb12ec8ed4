"""Start-up of the ``kho`` command: the cyclic garbage collector and a command's imports.

Importing Kho and pyHanko allocates hundreds of thousands of objects that all stay alive
(modules, classes, functions), and the collector walks them again and again for nothing: during
the imports (8% of the import time in one A/B at load 3; not distinguishable from noise in
another at load 12), and at every full collection after, the last one when the interpreter exits
(a full collection after ``kho verify``'s imports: 29 ms; its exit, with the child, went from
0.11-0.16 s to 0.06-0.09 s of CPU). :func:`imports` pauses it around a block of imports and, in
the ``kho`` program only (:func:`program`), then freezes what exists (:func:`gc.freeze`: the
permanent generation, never walked again; garbage cycles made while importing stay, a bounded
one-time cost). Not in the tests' runner or a library caller, whose later garbage must stay
collectable.

Only the ``kho`` program calls :func:`program` (``web.cli``; ``kho serve`` and ``kho worker``
too, where it only shortens their start), never the library, the tests' CLI runner, or a server
or worker started otherwise. Only public :mod:`gc` functions are used; no module is patched.

:func:`leave` ends the program after a command that writes nothing but its standard output and
error (``kho verify`` run in this process): the exit handlers run and the streams are flushed as
at any exit, but the interpreter's finalization, which tears down every module it imported one
object at a time, is skipped (after a ``kho verify``: 10.8 M instructions, ~15 ms of CPU at
load 8, measured in round 7 of issue 14). It runs the handlers with ``atexit._run_exitfuncs``
(what the interpreter's own exit runs; not a documented function: where it is missing, the
normal exit is taken); nothing is patched.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from typing import NoReturn

_program = False


def program() -> None:
    """This process is the ``kho`` program (its entry point): freeze what :func:`imports`
    imported."""
    global _program
    _program = True


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


def leave(code: object) -> NoReturn:
    """End the ``kho`` program with ``code`` (a :class:`SystemExit`'s: None, a status or a
    message) as the interpreter would, without its finalization: only in the program
    (:func:`program`), only with no other thread (whose end the interpreter would wait for), and
    only for a command whose only output is its standard streams (the process's other open
    files are not flushed). Otherwise, or when the standard streams cannot be flushed (a closed
    pipe), the normal exit (``SystemExit``) does it all, reporting what it always reports."""
    import atexit
    import threading

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if not _program or threading.active_count() != 1 or run_exit_handlers is None:
        raise SystemExit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # a message: the interpreter's own exit prints it (kho verify exits with statuses)
        raise SystemExit(code)
    run_exit_handlers()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # (None: the descriptor was closed when the program started)
                stream.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(status)
