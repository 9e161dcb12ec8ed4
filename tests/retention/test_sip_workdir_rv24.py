"""rv24 (rv17's open item): an import killed by SIGKILL (the OOM killer, a container stop) left
its extraction in ``/tmp/kho-sip-*``, up to 2 GiB each, where nothing of Kho looked again. The
working folder is now under the installation's ``<data>/tmp``, names its owner, and the next
import removes the folders whose owner is gone, never one whose owner still runs. Real
processes, a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kho_people import People
from kho_sip import good_package, wait_for_marker, zipped

from web.context import Kho

STALLED_IMPORT = """
import sys, time
from pathlib import Path
from retention.sip_import import PackageChecks, check_package

archive, work_root, marker = (Path(a) for a in sys.argv[1:4])

def stall(data):
    marker.write_text("verifying")  # everything is unpacked: the slowest step is under way
    time.sleep(600)

check_package(archive, checks=PackageChecks(verify=stall, work_root=work_root))
"""


def _stalled_import(archive: Path, work_root: Path, marker: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", STALLED_IMPORT, str(archive), str(work_root), str(marker)])


def _wait_for(marker: Path, process: subprocess.Popen[bytes]) -> None:
    wait_for_marker(marker, process, what="the import (stalled in its signature check)")


def _folders(work_root: Path) -> dict[int, Path]:
    """The import working folders under ``work_root`` by their owner's process id (a folder
    being made or removed this instant, its owner file not there, is not counted)."""
    found = {}
    for folder in work_root.glob("kho-sip-*"):
        try:
            found[json.loads((folder / "owner.json").read_text())["pid"]] = folder
        except (OSError, ValueError):
            continue
    return found


def test_a_killed_import_s_folder_is_swept_by_the_next_and_a_running_one_is_kept(
    kho: Kho, people: People, tmp_path: Path
) -> None:
    archive = zipped(good_package(kho, people, tmp_path, docs=2), tmp_path / "package.zip")
    work_root = kho.work_root
    assert work_root.is_relative_to(kho.settings.data_dir)
    killed = _stalled_import(archive, work_root, tmp_path / "killed.marker")
    running = _stalled_import(archive, work_root, tmp_path / "running.marker")
    try:
        _wait_for(tmp_path / "killed.marker", killed)
        _wait_for(tmp_path / "running.marker", running)
        folders = _folders(work_root)
        assert set(folders) == {killed.pid, running.pid}
        unpacked = sum(1 for p in folders[killed.pid].rglob("*.pdf"))
        assert unpacked == 2  # the killed import's documents are on disk

        os.kill(killed.pid, signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL
        assert folders[killed.pid].is_dir()  # no finally ran: it is left behind

        with ThreadPoolExecutor(1) as pool:  # the next import, through the installation's door
            importing = pool.submit(kho.import_package, archive, actor=people.actor("luu_tru"))
            seen_own = False
            while not importing.done():
                seen_own = seen_own or os.getpid() in _folders(work_root)
                time.sleep(0.01)
            done = importing.result()

        assert done["files"] > 0
        assert seen_own  # it unpacked under <data>/tmp, beside the others
        assert not folders[killed.pid].exists()  # swept by the next import
        assert _folders(work_root) == {running.pid: folders[running.pid]}  # the next import's own is gone too
        assert sum(1 for p in folders[running.pid].rglob("*.pdf")) == 2  # a running import keeps its files
    finally:
        for process in (killed, running):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def test_a_folder_whose_owner_cannot_be_asked_is_kept_and_an_unowned_old_one_is_swept(tmp_path: Path) -> None:
    """Another machine's (or pid namespace's) folder may belong to a running import: kept. A
    folder killed before its owner file was written is removed once older than the grace."""
    from kho.process import this_host
    from kho.scratch import UNOWNED_GRACE_SECONDS, sweep, working_folder

    elsewhere, unowned_old, unowned_new, dead = (tmp_path / f"kho-sip-{n}" for n in ("a", "b", "c", "d"))
    for folder in (elsewhere, unowned_old, unowned_new, dead):
        folder.mkdir()
    (elsewhere / "owner.json").write_text(
        json.dumps({"pid": 1, "host": "other/boot/ns", "at": "2020-01-01T00:00:00Z"})
    )
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    (dead / "owner.json").write_text(
        json.dumps({"pid": int(gone.stdout), "host": this_host(), "at": "2020-01-01T00:00:00Z"})
    )
    old = time.time() - UNOWNED_GRACE_SECONDS - 60
    os.utime(unowned_old, (old, old))

    assert sorted(sweep(tmp_path, "kho-sip-")) == [unowned_old, dead]

    assert elsewhere.is_dir() and unowned_new.is_dir()
    with working_folder(tmp_path, "kho-sip-") as mine:
        assert mine.parent.parent == tmp_path and (mine.parent / "owner.json").is_file()
        assert sweep(tmp_path, "kho-sip-") == []  # this process's own folder is never swept
    assert not mine.parent.exists()
