"""rv32: a restore refuses another installation's backup, also without a signing key.

The history check of ``kho restore`` compared the copy's log with the signed checkpoints outside
the store only; an installation without ``KHO_AUDIT_SIGNING_KEY`` has none, so the backup of
another installation (another agency even; sealed with the same master key, as a staging copy
cloned from production is) replaced the live store with ``--force`` and the numbers and records
of another history took the place of this one's. Now the copy's log is of this installation's
history or refused (``RESTORE_HISTORY_BEHIND``, nothing written): its first event must be the
live store's first event (when the live store still has a log) and, where it reaches the
position this installation's processes noted last outside the store (``written-head.state``),
it must hold that very event. ``--accept-older-history "lý do"`` stays the operator's way
through. Real ``kho`` processes, local folders."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from kho_people import make_people
from kho_retention import kho_env
from kho_testing import CLERK, incoming
from kho_worker import ROOT

from kho.config import Settings
from repository.service import open_repository
from web.context import Kho

MASTER = base64.b64encode(bytes(range(32))).decode()  # one master key for both: the worst case


def _installation(tmp_path: Path, name: str, agency: str, documents: int) -> dict[str, str]:
    env = {
        **os.environ,
        **kho_env(tmp_path / name),
        "KHO_AGENCY_ID": agency,
        "KHO_MASTER_KEY": MASTER,
        "KHO_BACKUP_URLS": str(tmp_path / f"{name}-usb"),
        "KHO_BACKUP_KEYS_URL": str(tmp_path / f"{name}-keys"),
        "KHO_TOKEN_FILE": str(tmp_path / f"{name}-token.json"),
    }
    env.pop("KHO_AUDIT_SIGNING_KEY", None)  # no signed checkpoints: the written head only
    kho = Kho(Settings.from_env(env), follow_index=False)
    make_people(kho)
    for n in range(documents):
        kho.repo.create_document("den", incoming(code_number=f"{n + 1}"), None, None, CLERK)
    kho.close()
    return env


def _kho(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "web.cli", *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _restore(env: dict[str, str], source: dict[str, str], *more: str) -> subprocess.CompletedProcess[str]:
    return _kho(
        env,
        "restore",
        "--from",
        source["KHO_BACKUP_URLS"],
        "--keys-from",
        source["KHO_BACKUP_KEYS_URL"],
        *more,
    )


def _store_files(env: dict[str, str]) -> dict[str, bytes]:
    root = Path(env["KHO_DATA_DIR"]) / "store" / "objects"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_another_installations_backup_is_refused_over_the_live_store(tmp_path: Path) -> None:
    here = _installation(tmp_path, "here", "000.00.18.H40", 1)
    there = _installation(tmp_path, "there", "000.00.18.H41", 1)
    assert _kho(there, "backup").returncode == 0
    before = _store_files(here)
    assert before

    done = _restore(here, there, "--force")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Lỗi [RESTORE_HISTORY_BEHIND]" in done.stderr and "Traceback" not in done.stderr
    assert _store_files(here) == before  # nothing written
    assert open_repository(Settings.from_env(here)).agency_id == "000.00.18.H40"

    # its own backup restores as before
    assert _kho(here, "backup").returncode == 0
    own = _restore(here, here, "--force")
    assert own.returncode == 0, own.stdout + own.stderr


def test_another_installations_longer_backup_is_refused_onto_an_empty_store(tmp_path: Path) -> None:
    """The live store lost (its folder emptied), the checkpoint folder outside it kept: the
    copy's event at the noted position is not this installation's."""
    here = _installation(tmp_path, "here", "000.00.18.H40", 1)
    there = _installation(tmp_path, "there", "000.00.18.H40", 6)
    assert _kho(there, "backup").returncode == 0
    store = Path(here["KHO_DATA_DIR"]) / "store"
    for path in sorted(store.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()

    done = _restore(here, there, "--force")  # (the process opening the store writes to it)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Lỗi [RESTORE_HISTORY_BEHIND]" in done.stderr and "Traceback" not in done.stderr
    assert _store_files(here) == {}

    reason = "Bản sao của hệ thống dự phòng, đã xác minh"
    accepted = _restore(here, there, "--force", "--accept-older-history", reason)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
