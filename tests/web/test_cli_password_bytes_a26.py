"""A password read from standard input that is not UTF-8 text (review a26).

``kho login USER --password-stdin`` (and ``kho account password``, ``kho audit acknowledge``) read
the password with ``sys.stdin.readline()``: bytes that are not UTF-8 (a file in another encoding, a
key file piped by mistake) raised ``UnicodeDecodeError`` — a traceback instead of the refusal every
other bad input gets — and under the C locale, where Python reads stdin with ``surrogateescape``,
the password reached the hasher as a string no UTF-8 can carry. Both are now refused with a stable
code and a Vietnamese message, exit 2, nothing checked. The real program in a subprocess, on the
test installation (real store)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kho_people import People

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
@pytest.mark.parametrize("password", [b"\xff\xfeKho@2026\n", b"Kho@2026-c\xe1\xbb\n", b"\xed\xa0\x80\n"])
def test_a_password_that_is_not_utf8_text_is_refused_plainly(
    people: People, locale: str, password: bytes
) -> None:
    env = {**os.environ, "LC_ALL": locale, "KHO_TOKEN": ""}
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "login", people.usernames["van_thu"], "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=password,
        capture_output=True,
        timeout=120,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-800:]  # before: UnicodeDecodeError / UnicodeEncodeError
    assert done.returncode == 2, stderr[-800:]
    assert "Lỗi [PASSWORD_NOT_TEXT]" in stderr
