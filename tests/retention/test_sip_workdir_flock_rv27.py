"""rv27 (rv24's open item): a working folder's owner was judged alive by its pid, host, boot and
pid namespace. A folder made in another pid namespace (a web container and a worker container
sharing ``<data>``) could not be asked about and was kept for ever; a folder whose owner's pid
was reused by another process since was judged alive. The owner now holds a ``flock`` on the
folder while it works, and the kernel answers: a free lock is a gone owner. Real processes, a
real pid namespace (``unshare``), a real SIGKILL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kho_sip import wait_for_marker

from kho.process import this_host
from kho.scratch import OWNER, sweep, working_folder
from web.context import Kho

HOLD_FOLDER = """
import sys, time
from pathlib import Path
from kho.process import this_host
from kho.scratch import working_folder

with working_folder(Path(sys.argv[1]), "kho-sip-") as work:
    (work / "001_cv0.pdf").write_bytes(b"%PDF-1.7 " * 1000)
    Path(sys.argv[2]).write_text("ready")
    time.sleep(600)
"""


def _holder(root: Path, marker: Path, *prefix: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([*prefix, sys.executable, "-c", HOLD_FOLDER, str(root), str(marker)], env=env)


def _wait(marker: Path, process: subprocess.Popen[bytes]) -> None:
    wait_for_marker(marker, process, what="the folder's owner")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def _only_folder(root: Path) -> Path:
    (folder,) = root.glob("kho-sip-*")
    return folder


def test_a_folder_of_a_killed_owner_in_another_pid_namespace_is_swept(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    root.mkdir()
    # unshare's child (the owner) runs in a new pid namespace and is killed when unshare is.
    owner = _holder(root, tmp_path / "ready", "unshare", "--pid", "--fork", "--kill-child")
    try:
        _wait(tmp_path / "ready", owner)
        folder = _only_folder(root)
        assert json.loads((folder / OWNER).read_text())["host"] != this_host()  # another namespace's
        assert sweep(root, "kho-sip-") == []  # alive there: kept
        owner.kill()
        owner.wait(timeout=30)
        assert (folder / "work" / "001_cv0.pdf").is_file()  # no finally ran
        assert _swept_once_gone(root) == [folder]  # the kernel says the owner is gone
        assert not folder.exists()
    finally:
        _kill(owner)


def _swept_once_gone(root: Path) -> list[Path]:
    """Sweep until something is swept (the killed owner's child dies a moment after its parent)."""
    deadline = time.monotonic() + 10
    while not (swept := sweep(root, "kho-sip-")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return swept


def test_a_folder_whose_owner_pid_was_reused_is_swept_and_a_living_owner_s_kept(tmp_path: Path) -> None:
    root = tmp_path / "tmp"
    root.mkdir()
    killed = _holder(root, tmp_path / "killed")
    reuser = subprocess.Popen(["sleep", "600"])
    try:
        _wait(tmp_path / "killed", killed)
        folder = _only_folder(root)
        killed.kill()
        killed.wait(timeout=30)
        # The killed owner's pid now names another running process of this machine and
        # namespace (a reused pid): the owner file says "alive", the lock says "gone".
        owner = json.loads((folder / OWNER).read_text())
        assert owner["host"] == this_host()
        (folder / OWNER).write_text(json.dumps({**owner, "pid": reuser.pid}))
        assert sweep(root, "kho-sip-") == [folder]
        assert not folder.exists()
    finally:
        _kill(killed)
        _kill(reuser)
    living = _holder(root, tmp_path / "living")
    try:
        _wait(tmp_path / "living", living)
        kept = _only_folder(root)
        assert (kept / "owner.lock").is_file()
        assert sweep(root, "kho-sip-") == []  # its owner holds its lock: kept
        with working_folder(root, "kho-sip-") as mine:  # a new act sweeps too, never the living one
            assert kept.is_dir() and mine.is_dir()
    finally:
        _kill(living)
    assert sweep(root, "kho-sip-") == [kept]


def test_the_web_application_sweeps_a_killed_upload_s_folder_when_it_starts(kho: Kho, tmp_path: Path) -> None:
    """rv24 swept a killed upload's folder only when the next upload came: the web application
    now sweeps every kind of working folder when it starts (a restarted container after an OOM
    kill), and every import does too."""
    from web.app import create_app

    root = kho.work_root
    root.mkdir(parents=True, exist_ok=True)
    upload = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLD_FOLDER.replace('"kho-sip-"', '"kho-upload-"'),
            str(root),
            str(tmp_path / "up"),
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        _wait(tmp_path / "up", upload)
        (folder,) = root.glob("kho-upload-*")
        upload.kill()
        upload.wait(timeout=30)
        assert folder.is_dir()
        create_app(kho.settings, kho=kho)
        assert not folder.exists()
    finally:
        _kill(upload)
