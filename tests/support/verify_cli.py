"""``kho verify`` as a program, for the tests and the start-up bench: one run, and the socket
of a warm verification agent (:mod:`kho.verify_agent`) once it listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def run_kho_verify(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``python -m web.cli verify ARGS`` with the default trust list and a data folder of its
    own under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k != "KHO_TRUST_DIR"}
    env["KHO_DATA_DIR"] = str(tmp_path / "kho")
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "verify", *args],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )


def agent_socket(agent_dir: Path, timeout: float) -> Path | None:
    """The socket of a verify agent listening in ``agent_dir`` within ``timeout`` seconds,
    or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in agent_dir.glob("*.sock"):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
                return path
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.2)
    return None
