"""Review rv46: a small file named on the command line (``kho plan draft FILE``) whose name holds a
bidi override or bytes that are not UTF-8 is refused with its name shown by the one rule for names
shown to people (:func:`kho.files.printable`: ``\\u202e``, ``\\xff``). Before, the refusals of
:func:`kho.files.read_small_file` and :func:`kho.files.file_error` printed ``str(path)``: the
override itself (the rest of the line reversed on the terminal: "ong<U+202E>nosj.json" reads as
"ongnosj.json" backwards) and a lone surrogate (``\\udcff``). A real ``kho`` process; FIFOs, so
nothing is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "shown", "raw"),
    [
        (b"ong\xe2\x80\xaenosj.json", "\\u202e", "\u202e"),
        (b"ong\xff.json", "\\xff", "\\udcff"),
    ],
    ids=["bidi-override", "not-utf8"],
)
def test_a_small_file_name_is_shown_printable(tmp_path: Path, name: bytes, shown: str, raw: str) -> None:
    source = os.path.join(os.fsencode(tmp_path), name)
    os.mkfifo(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHO_")}
    env.update(KHO_DATA_DIR=str(tmp_path / "data"), KHO_AGENCY_ID="000.00.18.H40", KHO_TOKEN="")
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"web.cli", b"plan", b"draft", source],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )
    err = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == 2 and "Lỗi [BODY_INVALID]:" in err, err[-500:]
    assert "Traceback" not in err
    assert shown in err and raw not in err, err[-500:]
