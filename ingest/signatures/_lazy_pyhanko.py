"""Import pyHanko's validation parts without its signing stack.

``pyhanko/sign/__init__.py`` imports the signers, which import the timestamp client and with it
``aiohttp`` (0.2–0.3 s, half of ``kho verify``'s start-up), although verification never signs.
Importing this module registers the ``pyhanko.sign`` package without running its ``__init__``:
its submodules (``validation``, ``diff_analysis``, ``fields``, ``ades``) import as usual, and
the first attribute asked of the package itself (``from pyhanko.sign import signers``,
``pyhanko.sign.PdfSigner``) runs the real ``__init__`` then, so signing code works unchanged.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

PACKAGE = "pyhanko.sign"


def register() -> None:
    """Put a deferred ``pyhanko.sign`` into ``sys.modules`` (nothing if it is already there)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None:  # pragma: no cover - pyHanko is a dependency
        return
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> object:
        # Runs once: the real __init__ fills the module (and replaces nothing already imported).
        module.__dict__.pop("__getattr__", None)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = module
    parent: ModuleType | None = sys.modules.get("pyhanko")
    if parent is None:
        import pyhanko as parent
    parent.sign = module  # type: ignore[attr-defined]


register()
