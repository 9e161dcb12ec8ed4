"""Imported by a test worker's main process before it forks its pool process
(``prefork_worker(preload=...)``): in the pool process, pycryptodome's declaration of its GHASH
functions (``Crypto.Cipher._mode_gcm``, which minio imports when an S3 store is first opened)
is held — once cffi has taken them and before pycryptodome notes them as declared — until the
task's soft time limit interrupts it (at most :data:`HELD_SECONDS`).

That is the window where u14 saw a Celery soft time limit land under load (cffi parses the
declarations in Python): the import is interrupted there, and importing the module again in the
same process fails for real (cffi: "multiple declarations of function ghash_clmul…"). Nothing is
faked: the declaration is made, then the process waits, as on a loaded machine. The worker's
main process, which imports this before any task (under no time limit), is not held.

What minio imports from other packages is imported here too (not minio, nor pycryptodome's
ciphers), so the pool process reaches the held declaration quickly."""

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

HELD_SECONDS = 100.0

_MAIN_PROCESS = os.getpid()

_declare = _raw_api.ffi.cdef


def _declare_slowly(csource: str, *args: Any, **kwargs: Any) -> None:
    _declare(csource, *args, **kwargs)
    if "ghash_clmul" in csource and os.getpid() != _MAIN_PROCESS:
        time.sleep(HELD_SECONDS)


_raw_api.ffi.cdef = _declare_slowly
