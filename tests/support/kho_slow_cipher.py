"""Imported by a test worker's main process before it forks its pool process
(``prefork_worker(preload=...)``): pycryptodome's declaration of its GHASH functions
(``Crypto.Cipher._mode_gcm``, which minio imports when an S3 store is first opened) is held
:data:`HELD_SECONDS` once cffi has taken them and before pycryptodome notes them as declared.

That is the window where u14 saw a Celery soft time limit land under load (cffi parses the
declarations in Python): the import is interrupted there, and importing the module again in the
same process fails for real (cffi: "multiple declarations of function ghash_clmul…"). Nothing is
faked: the declaration is made, only later than usual, as on a loaded machine.

What minio imports from other packages is imported here too (not minio, nor pycryptodome's
ciphers): a pool process that first opens an S3 store then reaches the held declaration within
a fraction of a second, so a soft limit of a few seconds lands in it even on a loaded machine."""

from __future__ import annotations

import configparser  # noqa: F401
import email.utils  # noqa: F401
import http.client  # noqa: F401
import mimetypes  # noqa: F401
import os
import tarfile  # noqa: F401
import time
import xml.etree.ElementTree  # noqa: F401
from typing import Any

import argon2  # noqa: F401
import certifi  # noqa: F401
import urllib3  # noqa: F401
from Crypto.Random import get_random_bytes  # noqa: F401
from Crypto.Util import _cpu_features, _raw_api, number  # noqa: F401

HELD_SECONDS = 10.0

_MAIN_PROCESS = os.getpid()
"""The worker's main process, which imports this before it forks: its own imports (before any
task, so under no time limit) are not held."""

_declare = _raw_api.ffi.cdef


def _declare_slowly(csource: str, *args: Any, **kwargs: Any) -> None:
    _declare(csource, *args, **kwargs)
    if "ghash_clmul" in csource and os.getpid() != _MAIN_PROCESS:
        time.sleep(HELD_SECONDS)


_raw_api.ffi.cdef = _declare_slowly
