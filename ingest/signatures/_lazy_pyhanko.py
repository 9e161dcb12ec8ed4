"""Import pyHanko's validation parts without its signing stack.

``pyhanko/sign/__init__.py`` imports the signers, which import the timestamp client and with it
``aiohttp`` (0.2-0.3 s, half of ``kho verify``'s start-up), although verification never signs.
Importing this module registers the packages ``pyhanko.sign`` and ``pyhanko.sign.signers``
without running their ``__init__``: their submodules (``validation``, ``diff_analysis``,
``fields``, ``signers.pdf_byterange``, ...) import as usual, and the first attribute asked of
such a package itself (``from pyhanko.sign import PdfSigner``, ``signers.PdfSigner``) runs the
real ``__init__`` then, so signing code works unchanged and gets the same objects.

What the signing stack does besides signing must still happen: its modules register ASN.1
types with asn1crypto as a side effect of being imported (``adobe_revocation_info_archival``
from ``asn1crypto.pdf``, the CAdES and qualified-certificate attributes and extensions, the
ISO 32004 PDF MAC types). Parsing a CMS signature depends on those tables: without them the
revocation archive in a signature's signed attributes reads as an unknown attribute, and one
corpus document (dss-2236) reported "no revocation data embedded" where stock pyHanko finds it.
So the modules that register them (light: no aiohttp) are imported here, and
``tests/signatures/test_sig_lazy_import.py`` checks that every asn1crypto table is the same as
after importing the whole of ``pyhanko.sign``.

Two more modules are imported by pyHanko's reading and validation code only to be used when
writing or decrypting, and cost more than anything verification does with them
(``kho verify``'s start-up, measured 2026-12-01): ``cryptography``'s PKCS#12 module (which
imports the whole of ``cryptography.x509``, whose name parser compiles large regular
expressions: the single most expensive import left, ~15-40 ms) is used by
``pdf_utils.crypt.pubkey`` only to open a PKCS#12 file of a decryption key; ``tzlocal`` (with
``zoneinfo`` and ``sysconfig``) by ``pdf_utils.metadata.info`` only to stamp "now" when
writing. They are deferred as the two packages are: bound by name as before, and run at
their first attribute access, by whatever code really uses them. (Not with
:class:`importlib.util.LazyLoader`: a second ``import tzlocal`` reads the module's
``__spec__``, which loads a LazyLoader module at once.)

``pyhanko.sign.signers`` is deferred too because ``pyhanko.pdf_utils.crypt.pdfmac`` (imported
when an encrypted document is opened) imports ``pyhanko.sign.signers.pdf_byterange``: with only
``pyhanko.sign`` deferred, that ran the signers' ``__init__`` in the middle of importing pdfmac,
and their modules' ``from pyhanko.sign import attributes`` then ran ``pyhanko.sign``'s real
``__init__`` while the signers were half-initialised (a circular ImportError).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DEFERRED = ("pyhanko.sign", "pyhanko.sign.signers", "pyhanko.pdf_utils.crypt", "pyhanko_certvalidator")
"""Packages whose ``__init__`` runs on first attribute access (in this order: parent first).
``pyhanko.pdf_utils.crypt`` and ``pyhanko_certvalidator`` only so that their registrations
below cost nothing else: their ``__init__`` imports the reader's encryption handlers and the
whole path validator (~0.1-0.27 s of CPU), which a process that only loads a trust store (a
bulk import's parent and workers) does not use; the first module that does use them (pyHanko's
reader, its validation) runs the real ``__init__``."""

REGISTRATIONS = (
    "asn1crypto.pdf",
    "asn1crypto.tsp",
    "pyhanko.sign.ades.cades_asn1",
    "pyhanko.sign.ades.qualified_asn1",
    "pyhanko.pdf_utils.crypt._iso32004_asn1",
    "pyhanko_certvalidator.asn1_types",
)
"""Modules the signing stack imports that register ASN.1 types with asn1crypto: all of them,
so that the tables are stock pyHanko's as soon as this package is imported, whatever of
pyHanko a process goes on to import (``asn1crypto.tsp``: the timestamp content types and
signing-certificate attributes; ``pyhanko_certvalidator.asn1_types``: four X.509 extensions
and the ML-DSA algorithms, which change what a trust anchor's full parse accepts)."""

LAZY = ("cryptography.hazmat.primitives.serialization.pkcs12", "tzlocal")
"""Modules whose body runs at their first attribute access, as :data:`DEFERRED`."""


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - pyHanko is a dependency
        return
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(attr: str) -> object:
        # A submodule (``from pyhanko.sign import fields``, ``from . import constants``) is
        # left to the import system: asking for it must not run the package's __init__, which
        # may import the very module being imported (a circular ImportError). Nor do probes
        # for other dunder names (inspect, pickle, copy).
        if (attr.startswith("__") and attr != "__all__") or _is_submodule(module, attr):
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        # Runs once: the real __init__ fills the module (and replaces nothing already imported).
        # Removed first, so that lookups made while it runs see a plain (partial) package.
        module.__dict__.pop("__getattr__", None)
        loader.exec_module(module)
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = module
    parent_name, _, child = name.rpartition(".")
    if parent_name:
        parent: ModuleType = sys.modules.get(parent_name) or importlib.import_module(parent_name)
        setattr(parent, child, module)


def _is_submodule(package: ModuleType, attr: str) -> bool:
    for folder in getattr(package, "__path__", ()):
        base = Path(folder) / attr
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def register() -> None:
    """Put the deferred packages and modules into ``sys.modules`` (nothing for one already
    imported), then import the ASN.1 registrations."""
    for name in DEFERRED:
        _defer(name)
    for name in LAZY:
        _defer(name)
    for name in REGISTRATIONS:
        importlib.import_module(name)


register()
