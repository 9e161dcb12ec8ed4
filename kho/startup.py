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
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

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
